"""Login throttling (django-axes) on the portal's and the admin's login pages: five wrong passwords
for one username from one address lock that pair for 15 minutes, before any password is hashed
and before any seat is taken; other users and addresses are not locked; an administrator lifts
the lock. The MD5 hasher of tests/conftest.py keeps these fast."""

import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.management import call_command
from django.test import Client, RequestFactory

from iwp_licensing.login_throttle import client_address
from seats.models import SeatLease
from tests.factories import UserFactory
from tests.seats.seat_helpers import PASSWORD, member, setup_server

pytestmark = pytest.mark.django_db

PORTAL, ADMIN = "/accounts/login/", "/admin/login/"
# Today (the test license is valid from today), at 10:00 UTC.
START = datetime.combine(datetime.now(UTC).date(), time(10, 0), tzinfo=UTC)
LOCKED = "Too many failed logins for this account from your address. Try again after {}."


@pytest.fixture(autouse=True)
def _utc(settings):
    settings.TIME_ZONE = "UTC"


@pytest.fixture
def org(licensed_server):
    return setup_server(licensed_server, ["agent:concurrent=2"])


@pytest.fixture
def hashes(monkeypatch):
    """How many passwords were hashed (checked or set)."""
    calls = []
    encode = MD5PasswordHasher.encode

    def counting(self, password, salt):
        calls.append(password)
        return encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    return calls


def post(client, url, username, password=PASSWORD):
    return client.post(url, {"username": username, "password": password})


def fail(client, url, username, times=5):
    return [post(client, url, username, "wrong password").status_code for _ in range(times)]


def test_five_wrong_passwords_lock_the_portal_login_and_the_right_one_is_refused_with_the_time(
    client, org, hashes
):
    _, organization = org
    bob = member(organization, "bob")
    with time_machine.travel(START, tick=False):
        assert fail(client, PORTAL, "bob", times=4) == [200] * 4
        assert fail(client, PORTAL, "bob", times=1) == [429]
    hashes.clear()
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        response = post(client, PORTAL, "bob")
    assert response.status_code == 429
    assert LOCKED.format("10:15") in response.content.decode()
    assert hashes == []  # refused before the password was looked at
    assert not SeatLease.objects.filter(user=bob).exists()
    assert "_auth_user_id" not in client.session


def test_five_wrong_passwords_lock_the_admin_login(client, hashes):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    with time_machine.travel(START, tick=False):
        assert fail(client, ADMIN, "root") == [200] * 4 + [429]
        hashes.clear()
        response = post(client, ADMIN, "root")
    assert response.status_code == 429
    assert LOCKED.format("10:15") in response.content.decode()
    assert hashes == []
    assert client.get("/admin/").status_code == 302  # still logged out


def test_attempts_while_locked_do_not_move_the_time_named(client, org):
    _, organization = org
    member(organization, "bob")
    with time_machine.travel(START, tick=False):
        fail(client, PORTAL, "bob")
    with time_machine.travel(START + timedelta(minutes=10), tick=False):
        assert fail(client, PORTAL, "bob", times=3) == [429] * 3
        assert LOCKED.format("10:15") in post(client, PORTAL, "bob").content.decode()


def test_the_lock_ends_after_the_lockout_minutes(client, org):
    _, organization = org
    bob = member(organization, "bob")
    with time_machine.travel(START, tick=False):
        fail(client, PORTAL, "bob")
    with time_machine.travel(START + timedelta(minutes=15, seconds=1), tick=False):
        assert post(client, PORTAL, "bob").status_code == 302
    assert SeatLease.objects.active().filter(user=bob).count() == 1


def test_another_user_from_the_same_address_is_not_locked(client, org):
    _, organization = org
    member(organization, "bob")
    carol = member(organization, "carol")
    fail(client, PORTAL, "bob")
    assert post(client, PORTAL, "carol").status_code == 302
    assert SeatLease.objects.active().filter(user=carol).count() == 1


def test_the_same_user_from_another_address_is_not_locked(org):
    _, organization = org
    member(organization, "bob")
    fail(Client(REMOTE_ADDR="198.51.100.1"), PORTAL, "bob")
    assert post(Client(REMOTE_ADDR="198.51.100.2"), PORTAL, "bob").status_code == 302


def test_a_successful_login_forgets_the_earlier_failures(org):
    _, organization = org
    member(organization, "bob")
    client = Client()
    fail(client, PORTAL, "bob", times=4)
    assert post(client, PORTAL, "bob").status_code == 302
    client.post("/accounts/logout/")
    assert fail(client, PORTAL, "bob", times=4) == [200] * 4


def test_an_administrator_sees_and_clears_the_lock_in_the_admin(admin_client, org):
    _, organization = org
    member(organization, "bob")
    fail(Client(REMOTE_ADDR="198.51.100.1"), PORTAL, "bob")
    changelist = admin_client.get("/admin/axes/accessattempt/?locked_out=yes")
    assert changelist.status_code == 200
    assert "198.51.100.1" in changelist.content.decode()
    attempt = AccessAttempt.objects.get(username="bob")
    deleted = admin_client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert deleted.status_code == 302
    assert post(Client(REMOTE_ADDR="198.51.100.1"), PORTAL, "bob").status_code == 302


def test_the_admin_index_lists_the_access_attempts(admin_client):
    assert "/admin/axes/accessattempt/" in admin_client.get("/admin/").content.decode()


def test_axes_reset_unlocks(client, org):
    _, organization = org
    member(organization, "bob")
    fail(client, PORTAL, "bob")
    call_command("axes_reset_username", "bob", stdout=open(os.devnull, "w"))
    assert post(client, PORTAL, "bob").status_code == 302


def test_x_forwarded_for_is_ignored_unless_told_how_many_proxies_append_to_it(org, settings):
    """Anyone can send X-Forwarded-For: by default the lock follows the connection's address,
    so a made-up header does not escape it."""
    _, organization = org
    member(organization, "bob")
    for n in range(5):
        Client(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").post(
            PORTAL, {"username": "bob", "password": "wrong password"}
        )
    assert post(Client(REMOTE_ADDR="10.0.0.9"), PORTAL, "bob").status_code == 429

    settings.IWP_PROXY_COUNT = 1  # now the proxy at 10.0.0.9 appends the client's address
    behind_proxy = Client(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert post(behind_proxy, PORTAL, "bob").status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.7", "10.0.0.9"),
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # what the client sent stays left
        (2, "6.6.6.6, 198.51.100.7, 10.0.0.8", "198.51.100.7"),
        (2, "198.51.100.7", "10.0.0.9"),  # fewer than told: not through the proxies
        (1, "not-an-address", "10.0.0.9"),
        (1, "", "10.0.0.9"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address(settings, proxies, forwarded, expected):
    settings.IWP_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_limit_and_minutes_come_from_the_environment():
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "DEBUG": "1",
        "IWP_LOGIN_FAILURE_LIMIT": "3",
        "IWP_LOGIN_LOCKOUT_MINUTES": "60",
    }
    shown = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings as s; "
            "print(s.AXES_FAILURE_LIMIT, int(s.AXES_COOLOFF_TIME.total_seconds()))",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-1].split() == ["3", "3600"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_an_overlong_username_is_a_failed_login_not_an_error(client, url):
    response = client.post(url, {"username": "x" * 5000, "password": "wrong"})
    assert response.status_code == 200  # the login form again, with its error
