"""The seat API over real HTTP on pytest-django's live server: API clients and browser logins race
for the same seats, a silent client loses its seat through the real sweeper task, retries take
nothing, a revoked key is refused at once, and one server's key sees nothing of another's; the
Python client of docs/api.md runs against it."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.utils import timezone

from api.models import ApiKey
from api.services import api_key_create, api_key_revoke
from seats.models import ReleaseReason, SeatDenial, SeatLease
from seats.tasks import release_idle_leases
from tests.seats.seat_helpers import PASSWORD, member, pool_in_use, setup_server
from tests.seats.test_seat_races import FAST_HASHER, Sampler

pytestmark = pytest.mark.django_db(transaction=True)
CLIENT = Path(__file__).resolve().parents[2] / "docs" / "api_client.py"


@pytest.fixture
def seats8(licensed_server, settings):
    settings.PASSWORD_HASHERS = FAST_HASHER
    # The live server speaks plain HTTP: production's Secure cookies would never come back.
    settings.CSRF_COOKIE_SECURE = settings.SESSION_COOKIE_SECURE = False
    server, org = setup_server(licensed_server, ["agent:concurrent=8"])
    _key, raw = api_key_create(server=server, name="Desktops", acting_user=None)
    return server, org, raw


def api(live_server, key):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    base = f"{live_server.url}/api/v1"

    def call(method, path, **kwargs):
        return session.request(method, base + path, timeout=30, **kwargs)

    return call


def browser_login(live_server, username):
    """A browser's login: the page (for its CSRF cookie), then the form."""
    session = requests.Session()
    page = session.get(f"{live_server.url}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    def submit():
        return session.post(
            f"{live_server.url}/accounts/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{live_server.url}/accounts/login/"},
            allow_redirects=False,
            timeout=60,
        )

    return submit


def test_64_api_clients_and_16_browser_logins_never_hold_more_than_8_seats(live_server, seats8):
    server, org, key = seats8
    for i in range(64):
        member(org, f"api{i:02d}")
    for i in range(16):
        member(org, f"web{i:02d}")
    call = api(live_server, key)
    logins = [browser_login(live_server, f"web{i:02d}") for i in range(16)]  # pages loaded first
    sampler = Sampler(SeatLease)
    sampler.start()
    barrier = threading.Barrier(80)
    results = [None] * 80

    def run(i):
        barrier.wait()
        try:
            if i < 64:
                results[i] = call(
                    "post", "/leases", json={"username": f"api{i:02d}", "client_id": "d"}
                )
            else:
                results[i] = logins[i - 64]()
        except Exception as exc:  # noqa: BLE001  reported below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(80)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    sampler.stop.set()
    sampler.join()

    assert not [r for r in results if isinstance(r, Exception)]
    api_codes = [r.status_code for r in results[:64]]
    web_codes = [r.status_code for r in results[64:]]
    taken = api_codes.count(201) + web_codes.count(302)
    assert taken == 8, (api_codes, web_codes)
    assert api_codes.count(409) + web_codes.count(200) == 72
    assert all(
        r.json()["code"] == "pool_full" and "8 of 8 in use" in r.json()["detail"]
        for r in results[:64]
        if r.status_code == 409
    )
    assert SeatLease.objects.active().count() == 8 == pool_in_use(server, "agent", "concurrent")
    assert SeatDenial.objects.count() == 72
    assert sampler.samples > 0 and sampler.max_seen <= 8


def test_a_silent_client_loses_its_seat_to_the_next_through_the_sweeper(
    live_server, licensed_server, settings
):
    settings.PASSWORD_HASHERS = FAST_HASHER
    settings.IWP_API_LEASE_SECONDS = 2
    server, org = setup_server(licensed_server, ["agent:concurrent=1"])
    _k, key = api_key_create(server=server, name="Desktops", acting_user=None)
    member(org, "ann")
    member(org, "bob")
    call = api(live_server, key)
    ann = call("post", "/leases", json={"username": "ann", "client_id": "a"})
    assert ann.status_code == 201 and ann.json()["heartbeat_seconds"] == 1
    assert call("post", "/leases", json={"username": "bob", "client_id": "b"}).status_code == 409
    time.sleep(2.2)  # ann's client stopped sending heartbeats
    assert release_idle_leases.apply().get() == 1
    bob = call("post", "/leases", json={"username": "bob", "client_id": "b"})
    assert bob.status_code == 201
    gone = call("post", f"/leases/{ann.json()['id']}/heartbeat")
    assert gone.status_code == 410
    assert gone.json()["reason"] == ReleaseReason.HEARTBEAT_MISSED
    assert "Heartbeat missed" in gone.json()["detail"]


def test_retries_revocation_and_servers_over_http(live_server, seats8, licensed_server):
    server, org, key = seats8
    member(org, "bob")
    call = api(live_server, key)
    first = call("post", "/leases", json={"username": "bob", "client_id": "desk-9"})
    retries = [
        call("post", "/leases", json={"username": "bob", "client_id": "desk-9"}) for _ in range(3)
    ]
    assert first.status_code == 201 and {r.status_code for r in retries} == {200}
    assert {r.json()["id"] for r in retries} == {first.json()["id"]}
    assert pool_in_use(server, "agent", "concurrent") == 1

    other, _other_org = setup_server(licensed_server, ["agent:concurrent=2"], server_id="CIC-B")
    _k, other_key = api_key_create(server=other, name="B desktops", acting_user=None)
    stranger = api(live_server, other_key)
    lease = first.json()["id"]
    assert stranger("post", f"/leases/{lease}/heartbeat").status_code == 404
    assert stranger("delete", f"/leases/{lease}").status_code == 404
    assert stranger("get", "/usage").json()["server"] == "CIC-B"

    api_key_revoke(key=ApiKey.objects.get(server=server), acting_user=None)
    assert call("post", f"/leases/{lease}/heartbeat").status_code == 401  # at once
    assert SeatLease.objects.get(pk=lease).released_at is None


def test_the_documented_python_client_checks_out_heartbeats_and_checks_in_on_sigterm(
    live_server, seats8, settings
):
    settings.IWP_API_LEASE_SECONDS = 2
    server, org, key = seats8
    member(org, "carol")
    env = {
        **os.environ,
        "IWP_URL": live_server.url,
        "IWP_API_KEY": key,
        "IWP_USERNAME": "carol",
        "IWP_CLIENT_ID": "carol-desk",
    }
    client = subprocess.Popen(
        [sys.executable, str(CLIENT)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        first_line = client.stdout.readline()
        assert first_line.startswith("checked out lease"), first_line
        lease = SeatLease.objects.get(user__username="carol")
        deadline = lease.expires_at
        time.sleep(2.5)  # the lease would have expired without heartbeats
        lease.refresh_from_db()
        assert lease.released_at is None and lease.expires_at > deadline
        assert release_idle_leases.apply().get() == 0
    finally:
        client.send_signal(signal.SIGTERM)
        out, _ = client.communicate(timeout=20)
    assert client.returncode == 0, out
    lease.refresh_from_db()
    assert lease.release_reason == ReleaseReason.CHECKED_IN
    assert pool_in_use(server, "agent", "concurrent") == 0
    assert timezone.now() - lease.released_at < timedelta(seconds=30)


@pytest.fixture
def limit_of(settings):
    """The key limit lowered for one test (the throttle is built once, at import)."""
    from api.api import api as ninja_api

    throttle = ninja_api.throttle[0]
    saved = throttle.num_requests, throttle.duration

    def lower(num_requests, seconds):
        throttle.num_requests, throttle.duration = num_requests, seconds

    yield lower
    throttle.num_requests, throttle.duration = saved


def test_a_key_limited_to_n_gets_exactly_n_of_many_concurrent_requests(
    live_server, seats8, limit_of
):
    """django-ninja's own throttle read and wrote its count without a lock: concurrent requests
    overwrote each other's and more than the limit got through."""
    _server, _org, key = seats8
    limit_of(10, 60)
    call = api(live_server, key)
    start, answers = threading.Barrier(8), []

    def client():
        start.wait()
        for _ in range(5):
            answers.append(call("get", "/usage"))

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * 10 + [429] * 30
    for refused in (r for r in answers if r.status_code == 429):
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json() == {"detail": "Too many requests."}
    # Another key counts on its own.
    _k, other = api_key_create(server=seats8[0], name="Wallboards", acting_user=None)
    assert api(live_server, other)("get", "/usage").status_code == 200


def test_a_connection_postgresql_closed_is_replaced_before_the_next_request(live_server, seats8):
    """The health check reads the socket (iwp_licensing/postgresql/base.py) instead of asking
    SELECT 1 before each request: a connection the server ended is still found and replaced."""
    server, org, key = seats8
    member(org, "bob")
    call = api(live_server, key)
    lease = call("post", "/leases", json={"username": "bob", "client_id": "d"}).json()["id"]
    with connection.cursor() as cursor:  # every connection but this test's: the live server's
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1
    time.sleep(0.2)
    assert call("post", f"/leases/{lease}/heartbeat").status_code == 200
    assert call("get", "/usage").json()["pools"][0]["in_use"] == 1
