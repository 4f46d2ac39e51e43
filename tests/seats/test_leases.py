"""Concurrent seats through the real login and logout pages: taken, refused,
superseded, released once."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from licenses.models import Entitlement
from seats.models import DailySeatUsage, ReleaseReason, SeatDenial, SeatLease, SeatPool
from seats.services.leases import lease_release, lease_release_idle
from seats.services.snapshots import usage_snapshot_take
from seats.tasks import release_idle_leases
from tests.factories import MembershipFactory, install_license
from tests.history import history

from .seat_helpers import login, member, pool_in_use, setup_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(licensed_server):
    return setup_server(
        licensed_server, ["agent:concurrent=2", "supervisor:concurrent=1", "agent:assignable=2"]
    )


def test_login_takes_a_concurrent_seat_and_logout_gives_it_back(client, org):
    server, organization = org
    bob = member(organization, "bob")
    response = login(client, "bob")
    assert response.status_code == 302
    lease = SeatLease.objects.active().get(user=bob)
    assert lease.session_key == client.session.session_key
    assert (lease.license_type, lease.organization) == ("agent", organization)
    assert pool_in_use(server, "agent", "concurrent") == 1

    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    lease.refresh_from_db()
    assert lease.released_at is not None and lease.release_reason == ReleaseReason.LOGOUT
    assert lease.released_by == bob
    assert pool_in_use(server, "agent", "concurrent") == 0
    assert client.get("/portal/").status_code == 302  # logged out


def test_supervisor_role_takes_a_supervisor_seat(client, org):
    server, organization = org
    sam = member(organization, "sam", role="supervisor")
    login(client, "sam")
    assert SeatLease.objects.active().get(user=sam).license_type == "supervisor"


def test_login_beyond_the_concurrent_count_is_refused_names_license_server_and_count_and_creates_no_session(  # noqa: E501
    org,
):
    server, organization = org
    for name in ("a1", "a2", "a3"):
        member(organization, name)
    login(Client(), "a1"), login(Client(), "a2")
    sessions_before = Session.objects.count()
    refused = Client()
    response = login(refused, "a3")
    assert response.status_code == 200
    text = response.content.decode()
    assert (
        "No Agent access (IWP_Agent) Concurrent seat is free on server CIC-SEATS: 2 of 2 in use."
        in text
    )
    assert Session.objects.count() == sessions_before
    assert "sessionid" not in refused.cookies
    assert SeatLease.objects.active().count() == 2
    denial = SeatDenial.objects.get()
    assert (denial.user.username, denial.license_type, denial.method, denial.server) == (
        "a3",
        "agent",
        "concurrent",
        server,
    )
    today = timezone.localdate()
    usage_snapshot_take(day=today)  # the day's figures, as the nightly snapshot keeps them
    rows = {
        r.organization_id: (r.peak, r.denials)
        for r in DailySeatUsage.objects.filter(day=today, license_type="agent", method="concurrent")
    }
    assert rows == {None: (2, 1), organization.pk: (2, 1)}


def test_a_second_login_signs_the_first_session_out_and_keeps_one_seat(org):
    server, organization = org
    bob = member(organization, "bob")
    first, second = Client(), Client()
    login(first, "bob")
    first_key = first.session.session_key
    login(second, "bob")
    assert SeatLease.objects.active().filter(user=bob).count() == 1
    assert pool_in_use(server, "agent", "concurrent") == 1
    old = SeatLease.objects.get(session_key=first_key)
    assert old.release_reason == ReleaseReason.SUPERSEDED
    assert "_auth_user_id" not in Session.objects.get(session_key=first_key).get_decoded()
    assert first.get("/portal/").status_code == 302  # signed out
    assert SeatLease.objects.active().get(user=bob).session_key == second.session.session_key
    # The first browser is told why, once.
    at = timezone.localtime(old.released_at)
    page = first.get("/accounts/login/").content.decode()
    assert f"You were signed out because you signed in on another device at {at:%H:%M}." in page
    assert "signed in on another device" not in first.get("/accounts/login/").content.decode()


def test_parallel_sessions_setting_lets_both_sessions_share_one_seat(org, settings):
    settings.IWP_ALLOW_PARALLEL_SESSIONS = True
    server, organization = org
    bob = member(organization, "bob")
    first, second = Client(), Client()
    login(first, "bob"), login(second, "bob")
    assert SeatLease.objects.filter(user=bob).count() == 1
    assert pool_in_use(server, "agent", "concurrent") == 1
    assert Session.objects.count() == 2


def test_idle_seat_is_released_by_the_beat_task_and_its_session_ended(org):
    server, organization = org
    bob = member(organization, "bob")
    client = Client()
    login(client, "bob")
    key = client.session.session_key
    SeatLease.objects.filter(user=bob).update(last_seen_at=timezone.now() - timedelta(minutes=31))
    assert release_idle_leases.apply().get() == 1
    assert release_idle_leases.apply().get() == 0  # safe to run twice: released once
    lease = SeatLease.objects.get(user=bob)
    assert lease.release_reason == ReleaseReason.IDLE
    assert not Session.objects.filter(session_key=key).exists()
    assert pool_in_use(server, "agent", "concurrent") == 0


def test_login_reclaims_an_idle_seat_itself_when_the_pool_is_full(org):
    server, organization = org
    for name in ("a1", "a2", "a3"):
        member(organization, name)
    login(Client(), "a1"), login(Client(), "a2")
    SeatLease.objects.filter(user__username="a1").update(
        last_seen_at=timezone.now() - timedelta(minutes=45)
    )
    assert login(Client(), "a3").status_code == 302
    assert SeatLease.objects.get(user__username="a1").release_reason == ReleaseReason.IDLE
    assert sorted(SeatLease.objects.active().values_list("user__username", flat=True)) == [
        "a2",
        "a3",
    ]
    assert pool_in_use(server, "agent", "concurrent") == 2


def test_administrator_release_frees_the_seat_exactly_once_and_names_the_administrator(
    org, admin_user
):
    server, organization = org
    member(organization, "bob")
    client = Client()
    login(client, "bob")
    lease = SeatLease.objects.active().get()
    assert (
        len(lease_release(leases=[lease], reason=ReleaseReason.ADMIN, acting_user=admin_user)) == 1
    )
    assert lease_release(leases=[lease], reason=ReleaseReason.ADMIN, acting_user=admin_user) == []
    assert lease_release_idle() == []
    assert pool_in_use(server, "agent", "concurrent") == 0
    lease.refresh_from_db()
    assert (lease.release_reason, lease.released_by) == (ReleaseReason.ADMIN, admin_user)
    entries = history(lease)
    assert [(e.label, e.actor) for e in entries] == [("insert", "bob"), ("update", "admin")]
    assert entries[-1].changes["release_reason"] == ["", "admin"]
    assert client.get("/portal/").status_code == 302  # the released session is signed out


def test_smaller_license_is_accepted_but_no_new_seat_until_usage_is_below_it(org, vendor_key):
    server, organization = org
    for name in ("a1", "a2", "a3"):
        member(organization, name)
    c1, c2 = Client(), Client()
    login(c1, "a1"), login(c2, "a2")
    install_license(
        vendor_key,
        server_id=server.server_id,
        entitlements=["server", "organization=5", "agent:concurrent=1"],
    )
    assert SeatLease.objects.active().count() == 2  # held seats are kept
    assert "2 of 1 in use" in login(Client(), "a3").content.decode()
    c1.post("/accounts/logout/")
    assert "1 of 1 in use" in login(Client(), "a3").content.decode()
    c2.post("/accounts/logout/")
    assert login(Client(), "a3").status_code == 302


def test_last_seen_is_touched_at_most_once_a_minute(org, django_assert_max_num_queries):
    server, organization = org
    bob = member(organization, "bob")
    client = Client()
    login(client, "bob")
    session = client.session
    session["iwp_lease_touched"] = 0
    session.save()
    client.get("/accounts/login/")
    first = SeatLease.objects.get(user=bob).last_seen_at
    client.get("/accounts/login/")
    assert SeatLease.objects.get(user=bob).last_seen_at == first
    assert client.session["iwp_lease_touched"] > 0


def test_idle_sweep_runs_a_constant_number_of_queries(
    licensed_server, settings, django_assert_max_num_queries
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    server, organization = setup_server(licensed_server, ["agent:concurrent=30"])
    for size in (2, 20):
        for i in range(size):
            member(organization, f"s{size}-{i}")
            login(Client(), f"s{size}-{i}")
        SeatLease.objects.active().update(last_seen_at=timezone.now() - timedelta(hours=2))
        # idle sessions, missed heartbeats and orphaned logins: three releases, however many
        with django_assert_max_num_queries(12):
            assert len(lease_release_idle()) == size
    assert pool_in_use(server, "agent", "concurrent") == 0
    assert Session.objects.count() == 0


def test_the_audit_trail_names_who_took_and_gave_back_the_seat_and_from_which_address(org):
    server, organization = org
    bob = member(organization, "bob")
    client = Client(REMOTE_ADDR="203.0.113.7")
    assert login(client, "bob").status_code == 302
    assert client.post("/accounts/logout/").status_code == 302
    lease = SeatLease.objects.get(user=bob)
    taken, given_back = history(lease)
    assert (taken.label, taken.actor, taken.remote_addr) == ("insert", "bob", "203.0.113.7")
    assert (given_back.label, given_back.actor, given_back.remote_addr) == (
        "update",
        "bob",
        "203.0.113.7",
    )
    assert given_back.changes["release_reason"] == ["", "logout"]


def test_a_session_ended_by_a_release_gives_back_its_seats_on_every_server(
    licensed_server, admin_user
):
    """A user on two servers holds a seat on each; when one is taken back, the session
    ends and frees both."""
    first, north = setup_server(licensed_server, ["agent:concurrent=2"], server_id="CIC-NORTH")
    second, south = setup_server(licensed_server, ["agent:concurrent=2"], server_id="CIC-SOUTH")
    bob = member(north, "bob")
    MembershipFactory(user=bob, organization=south)
    client = Client()
    assert login(client, "bob").status_code == 302
    on_first = SeatLease.objects.active().get(server=first)
    assert SeatLease.objects.active().filter(user=bob).count() == 2

    lease_release(leases=[on_first], reason=ReleaseReason.ADMIN, acting_user=admin_user)

    assert SeatLease.objects.active().filter(user=bob).count() == 0
    assert (
        pool_in_use(first, "agent", "concurrent") == 0 == pool_in_use(second, "agent", "concurrent")
    )
    assert set(SeatLease.objects.filter(user=bob).values_list("release_reason", flat=True)) == {
        ReleaseReason.ADMIN
    }
    assert client.get("/portal/").status_code == 302  # the session is signed out


def test_installing_a_license_creates_its_seat_pools_before_any_login(licensed_server):
    server, _ = setup_server(licensed_server, ["agent:concurrent=3"])
    pools = SeatPool.objects.filter(server=server).values_list("license_type", "method", "in_use")
    assert sorted(pools) == [
        ("agent", "assignable", 0),
        ("agent", "concurrent", 0),
        ("supervisor", "assignable", 0),
        ("supervisor", "concurrent", 0),
    ]


def test_the_largest_license_accepted_is_enforced(licensed_server):
    """10,000,000 seats (the maximum per entitlement) + 1000%: 110,000,000, computed in bigint."""
    server, organization = setup_server(licensed_server, ["agent:concurrent=10000000+1000%"])
    assert Entitlement.objects.get(license_type="agent").capacity == 110_000_000
    member(organization, "bob")
    assert login(Client(), "bob").status_code == 302
    assert pool_in_use(server, "agent", "concurrent") == 1
