"""The seat API in process (Django's test client): check-out, heartbeat, check-in, usage; keys,
scoping, refusals, limits and the OpenAPI document."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone
from openapi_spec_validator import validate
from pghistory.models import Events

from api.api import api
from api.models import ApiKey
from api.services import api_key_authenticate, api_key_create, api_key_revoke
from seats.models import LeaseSource, ReleaseReason, SeatDenial, SeatLease
from seats.services.assignments import seat_assign
from seats.tasks import release_idle_leases
from tests.factories import StationFactory
from tests.history import history
from tests.seats.seat_helpers import login, member, pool_in_use, setup_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(licensed_server):
    server, org = setup_server(
        licensed_server, ["agent:concurrent=2", "supervisor:concurrent=1", "agent:assignable=2"]
    )
    _key, raw = api_key_create(server=server, name="Agent desktops", acting_user=None)
    return {"server": server, "org": org, "key": raw}


def call(method, path, key, payload=None, client=None):
    client = client or Client()
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    if payload is not None:
        kwargs.update(data=payload, content_type="application/json")
    return getattr(client, method)(f"/api/v1{path}", **kwargs)


def checkout(world, username, client_id="desk-1", **extra):
    return call(
        "post", "/leases", world["key"], {"username": username, "client_id": client_id, **extra}
    )


def test_a_concurrent_user_checks_a_seat_out_heartbeats_and_checks_in(world, settings):
    settings.IWP_API_LEASE_SECONDS = 600
    member(world["org"], "bob")
    taken = checkout(world, "bob")
    assert taken.status_code == 201
    body = taken.json()
    assert body["username"] == "bob" and body["server"] == "CIC-SEATS"
    assert body["organization"] == "Northwind"
    assert (body["license_type"], body["method"]) == ("agent", "concurrent")
    assert body["heartbeat_seconds"] == 300
    lease = SeatLease.objects.get(pk=body["id"])
    assert (lease.source, lease.client_id) == (LeaseSource.API, "desk-1")
    assert pool_in_use(world["server"], "agent", "concurrent") == 1

    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        beat = call("post", f"/leases/{lease.pk}/heartbeat", world["key"])
    assert beat.status_code == 200
    lease.refresh_from_db()
    assert lease.expires_at > timezone.now() + timedelta(minutes=14)

    assert call("delete", f"/leases/{lease.pk}", world["key"]).status_code == 204
    lease.refresh_from_db()
    assert lease.release_reason == ReleaseReason.CHECKED_IN
    assert pool_in_use(world["server"], "agent", "concurrent") == 0
    assert call("delete", f"/leases/{lease.pk}", world["key"]).status_code == 204  # idempotent
    gone = call("post", f"/leases/{lease.pk}/heartbeat", world["key"])
    assert gone.status_code == 410
    assert gone.json()["reason"] == "checked_in"
    assert "Checked in by its client" in gone.json()["detail"]


def test_asking_again_with_the_same_client_takes_no_second_seat(world):
    member(world["org"], "bob")
    first = checkout(world, "bob")
    again = checkout(world, "bob")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert pool_in_use(world["server"], "agent", "concurrent") == 1
    assert SeatLease.objects.active().count() == 1


def test_a_full_pool_is_refused_with_the_login_message_and_recorded(world):
    for name in ("ann", "bob", "cat"):
        member(world["org"], name)
    assert checkout(world, "ann", "a").status_code == 201
    assert checkout(world, "bob", "b").status_code == 201
    refused = checkout(world, "cat", "c")
    assert refused.status_code == 409
    assert refused.json() == {
        "code": "pool_full",
        "detail": "No Agent access (IWP_Agent) Concurrent seat is free on server CIC-SEATS: "
        "2 of 2 in use. Try again when someone logs out.",
    }
    assert SeatDenial.objects.get().user.username == "cat"


def test_browser_and_api_share_one_seat_per_user(world, client):
    member(world["org"], "bob")
    api_lease = checkout(world, "bob").json()["id"]
    assert login(client, "bob").status_code == 302  # the browser login supersedes the API seat
    assert pool_in_use(world["server"], "agent", "concurrent") == 1
    beat = call("post", f"/leases/{api_lease}/heartbeat", world["key"])
    assert beat.status_code == 410 and beat.json()["reason"] == ReleaseReason.SUPERSEDED


def test_an_assigned_user_gets_their_seat_or_a_409(world):
    alice = member(world["org"], "alice", method="assigned")
    refused = checkout(world, "alice")
    assert refused.status_code == 409 and refused.json()["code"] == "no_seat_assigned"
    [seat] = seat_assign(user=alice)
    held = checkout(world, "alice")
    assert held.status_code == 200
    assert (held.json()["id"], held.json()["method"]) == (seat.pk, "assignable")
    assert held.json()["expires_at"] is None


def test_a_station_in_use_is_refused_and_freed_with_the_lease(world):
    member(world["org"], "bob")
    member(world["org"], "cat")
    StationFactory(organization=world["org"], name="Desk-7")
    bob = checkout(world, "bob", "b", station="Desk-7")
    assert bob.status_code == 201
    refused = checkout(world, "cat", "c", station="Desk-7")
    assert refused.status_code == 409 and refused.json()["code"] == "station_in_use"
    assert pool_in_use(world["server"], "agent", "concurrent") == 1  # cat's seat given back
    call("delete", f"/leases/{bob.json()['id']}", world["key"])
    assert checkout(world, "cat", "c", station="Desk-7").status_code == 201


def test_a_client_that_stops_heartbeating_loses_its_seat_to_the_sweeper(world, settings):
    settings.IWP_API_LEASE_SECONDS = 60
    for name in ("ann", "bob", "cat"):
        member(world["org"], name)
    start = timezone.now()
    silent = checkout(world, "ann", "a").json()["id"]
    alive = checkout(world, "bob", "b").json()["id"]
    assert checkout(world, "cat", "c").status_code == 409
    with time_machine.travel(start + timedelta(seconds=40)):
        assert call("post", f"/leases/{alive}/heartbeat", world["key"]).status_code == 200
    with time_machine.travel(start + timedelta(seconds=61)):
        assert release_idle_leases.apply().get() == 1
        assert checkout(world, "cat", "c").status_code == 201
        gone = call("post", f"/leases/{silent}/heartbeat", world["key"])
    assert gone.status_code == 410 and gone.json()["reason"] == "heartbeat_missed"


def test_a_full_pool_reclaims_a_seat_whose_heartbeat_is_overdue(world, settings):
    settings.IWP_API_LEASE_SECONDS = 60
    for name in ("ann", "bob", "cat"):
        member(world["org"], name)
    checkout(world, "ann", "a")
    checkout(world, "bob", "b")
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert checkout(world, "cat", "c").status_code == 201
    assert pool_in_use(world["server"], "agent", "concurrent") == 1


def test_keys_are_refused_when_unknown_or_revoked(world):
    member(world["org"], "bob")
    assert call("get", "/usage", None).status_code == 401
    assert call("get", "/usage", "iwp_nothing_here").status_code == 401
    assert call("get", "/usage", world["key"] + "x").status_code == 401
    key = ApiKey.objects.get()
    api_key_revoke(key=key, acting_user=None)
    assert checkout(world, "bob").status_code == 401


def test_the_key_lookup_is_one_statement_that_brings_its_server(world, django_assert_num_queries):
    raw = world["key"]
    assert api_key_authenticate(raw).last_used_at is not None  # written once a minute
    with django_assert_num_queries(1):
        key = api_key_authenticate(raw)
        assert key.server.server_id == "CIC-SEATS"  # loaded with the key, no second query
    assert (key.prefix, key.name) == (raw.split("_")[1], "Agent desktops")
    wrong = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert api_key_authenticate(wrong) is None  # the right prefix, another secret
    api_key_revoke(key=key, acting_user=None)
    assert api_key_authenticate(raw) is None


def test_a_key_sees_nothing_of_another_server(world, licensed_server):
    member(world["org"], "bob")
    lease = checkout(world, "bob").json()["id"]
    other, other_org = setup_server(licensed_server, ["agent:concurrent=5"], server_id="CIC-OTHER")
    _k, other_key = api_key_create(server=other, name="Other", acting_user=None)
    assert call("post", f"/leases/{lease}/heartbeat", other_key).status_code == 404
    assert call("delete", f"/leases/{lease}", other_key).status_code == 404
    refused = call("post", "/leases", other_key, {"username": "bob", "client_id": "x"})
    assert refused.status_code == 404 and refused.json()["code"] == "unknown_user"
    assert SeatLease.objects.get(pk=lease).released_at is None


def test_validation_errors_name_the_field(world):
    response = call("post", "/leases", world["key"], {"client_id": "x"})
    assert response.status_code == 422
    assert any(e["loc"][-1] == "username" for e in response.json()["detail"])
    long = call("post", "/leases", world["key"], {"username": "bob", "client_id": "x" * 101})
    assert long.status_code == 422
    assert any(e["loc"][-1] == "client_id" for e in long.json()["detail"])
    for field in ("username", "client_id", "station"):
        nul = {"username": "bob", "client_id": "x", field: "bo\x00b"}
        refused = call("post", "/leases", world["key"], nul)
        assert refused.status_code == 422, field
        [error] = refused.json()["detail"]
        assert error["loc"][-1] == field and "NUL" in error["msg"]
    assert not SeatLease.objects.exists()


def test_requests_beyond_the_key_limit_get_429_with_retry_after(world):
    throttle = api.throttle[0]
    saved = throttle.num_requests, throttle.duration
    throttle.num_requests, throttle.duration = 3, 60
    try:
        codes = [call("get", "/usage", world["key"]).status_code for _ in range(4)]
        limited = call("get", "/usage", world["key"])
    finally:
        throttle.num_requests, throttle.duration = saved
    assert codes == [200, 200, 200, 429]
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1


def test_usage_lists_the_server_pools_with_today_s_peak_and_denials(world):
    for name in ("ann", "bob", "cat"):
        member(world["org"], name)
    checkout(world, "ann", "a")
    checkout(world, "bob", "b")
    checkout(world, "cat", "c")  # refused
    usage = call("get", "/usage", world["key"]).json()
    assert usage["server"] == "CIC-SEATS"
    pools = {(p["license_type"], p["method"]): p for p in usage["pools"]}
    concurrent = pools[("agent", "concurrent")]
    assert (concurrent["allowed"], concurrent["in_use"], concurrent["available"]) == (2, 2, 0)
    assert (concurrent["peak_today"], concurrent["denials_today"]) == (2, 1)
    assert pools[("agent", "assignable")]["in_use"] == 0


def test_a_heartbeat_is_one_update_after_the_key_lookup(world, django_assert_num_queries):
    member(world["org"], "bob")
    lease = checkout(world, "bob").json()["id"]
    client = Client()
    with django_assert_num_queries(2):  # the key, the heartbeat
        beat = call("post", f"/leases/{lease}/heartbeat", world["key"], client=client)
    assert beat.status_code == 200


def test_the_openapi_document_validates_and_lists_the_endpoints(world):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    validate(spec)
    assert {"/api/v1/leases", "/api/v1/leases/{lease_id}/heartbeat", "/api/v1/usage"} <= set(
        spec["paths"]
    )
    docs = Client().get("/api/v1/docs")
    assert docs.status_code == 200


def test_admin_creates_a_key_shown_once_and_revokes_it(world, admin_client):
    created = admin_client.post(
        "/admin/api/apikey/add/", {"server": world["server"].pk, "name": "Wallboards"}
    )
    assert created.status_code == 200
    raw = created.context["raw_key"]
    assert raw in created.content.decode()
    key = ApiKey.objects.get(name="Wallboards")
    assert raw.startswith(f"iwp_{key.prefix}_") and raw not in key.key_hash
    assert call("get", "/usage", raw).status_code == 200
    listing = admin_client.get("/admin/api/apikey/").content.decode()
    assert key.prefix in listing and raw not in listing
    admin_client.post(
        "/admin/api/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )
    assert call("get", "/usage", raw).status_code == 401


def test_the_client_in_docs_api_md_is_the_one_the_live_test_runs():
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs"
    embedded = (docs / "api.md").read_text().split("```python\n", 1)[1].split("```", 1)[0]
    assert embedded == (docs / "api_client.py").read_text()


def test_who_holds_what_shows_a_seat_taken_by_an_api_client(world, client):
    from seats.services.leases import lease_acquire

    supervisor = member(world["org"], "sam", role="supervisor")
    lease_acquire(user=supervisor)
    member(world["org"], "bob")
    checkout(world, "bob", "desk-0042")
    client.force_login(supervisor)
    page = client.get(f"/portal/org/{world['org'].pk}/holders/?view=sessions").content.decode()

    def row(username):
        rest = page[page.index(f'<span class="muted small">{username}</span>') :]
        return rest[: rest.index("</tr>")]

    assert "Seat API" in row("bob") and "desk-0042" in row("bob")
    assert "Browser login" in row("sam")


def test_api_answers_carry_security_headers_and_no_cookie_while_pages_keep_theirs(world, client):
    """The seat API passes the browser middleware by (iwp_licensing/browser_middleware.py)."""
    member(world["org"], "bob")
    assert login(client, "bob").status_code == 302  # a browser session, sent along below
    answer = call("get", "/usage", world["key"], client=client)
    assert answer.status_code == 200
    assert answer["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["X-Frame-Options"] == "DENY"
    assert answer["Referrer-Policy"] == "same-origin"
    assert not answer.cookies and "Cookie" not in answer.get("Vary", "")
    # The session does not stand in for a key.
    assert call("get", "/usage", None, client=client).status_code == 401

    docs = client.get("/api/v1/docs")  # a page: the site's policy, which lets its scripts run
    assert "script-src 'self'" in docs["Content-Security-Policy"]
    page = Client().get("/accounts/login/")
    assert "csrftoken" in page.cookies and "script-src 'self'" in page["Content-Security-Policy"]
    assert "Permissions-Policy" in page


def test_the_audit_of_an_api_check_out_names_the_key_the_url_and_the_address(world):
    member(world["org"], "bob")
    client = Client(REMOTE_ADDR="203.0.113.9")
    lease = checkout_with(client, world, "bob").json()["id"]
    call("delete", f"/leases/{lease}", world["key"], client=client)
    taken, given_back = history(SeatLease.objects.get(pk=lease))
    assert (taken.label, taken.remote_addr, taken.url) == (
        "insert",
        "203.0.113.9",
        "/api/v1/leases",
    )
    assert (given_back.remote_addr, given_back.url) == ("203.0.113.9", f"/api/v1/leases/{lease}")
    contexts = Events.objects.tracks(SeatLease.objects.get(pk=lease)).values_list(
        "pgh_context", flat=True
    )
    assert {c["api_key"] for c in contexts} == {ApiKey.objects.get().prefix}


def checkout_with(client, world, username):
    return call(
        "post", "/leases", world["key"], {"username": username, "client_id": "d"}, client=client
    )


def test_a_heartbeat_is_a_hot_update(world):
    """No index holds a column the heartbeat changes, so PostgreSQL writes no index entry."""
    member(world["org"], "bob")
    lease = checkout(world, "bob").json()["id"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
            " WHERE i.indrelid = 'seats_seatlease'::regclass"
            " AND (a.attnum = ANY(i.indkey) OR pg_get_expr(i.indpred, i.indrelid) LIKE"
            " '%%' || a.attname || '%%')"
        )
        indexed = {name for (name,) in cursor.fetchall()}
        assert not indexed & {"expires_at", "last_seen_at"}
        cursor.execute("SELECT pg_stat_get_xact_tuples_hot_updated('seats_seatlease'::regclass)")
        [(hot_before,)] = cursor.fetchall()
        assert call("post", f"/leases/{lease}/heartbeat", world["key"]).status_code == 200
        cursor.execute("SELECT pg_stat_get_xact_tuples_hot_updated('seats_seatlease'::regclass)")
        [(hot_after,)] = cursor.fetchall()
    assert hot_after == hot_before + 1
