"""Concurrent seats through the real login and logout pages: taken, refused,
superseded, released once."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from licenses.exceptions import LicenseLimitReached
from licenses.models import Entitlement
from seats.models import DailySeatUsage, ReleaseReason, SeatDenial, SeatLease, SeatPool
from seats.services.leases import (
    lease_acquire,
    lease_attach_session,
    lease_release,
    lease_release_idle,
)
from seats.services.snapshots import usage_snapshot_take
from seats.tasks import release_idle_leases
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    ServerFactory,
    install_license,
)
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


LEASE_FIELDS = (
    "pk",
    "server_id",
    "organization_id",
    "license_type",
    "user_id",
    "session_key",
    "source",
    "client_id",
    "acquired_at",
    "last_seen_at",
    "expires_at",
)


def fields(lease, names=LEASE_FIELDS):
    return {name: getattr(lease, name) for name in names}


def refused(**kwargs):
    with pytest.raises(LicenseLimitReached) as caught:
        lease_acquire(**kwargs)
    return caught.value


def test_a_full_pool_refuses_with_its_words_advice_and_figures_and_records_who_was_refused(org):
    server, organization = org
    for name in ("a1", "a2"):
        lease_acquire(user=member(organization, name))
    a3 = member(organization, "a3")
    refusal = refused(user=a3)
    assert refusal.message == (
        "No Agent access (IWP_Agent) Concurrent seat is free on server CIC-SEATS: 2 of 2 in use. "
        "Try again when someone logs out."
    )
    assert (
        refusal.code,
        refusal.server_id,
        refusal.license_type,
        refusal.method,
        refusal.in_use,
        refusal.capacity,
    ) == ("pool_full", "CIC-SEATS", "agent", "concurrent", 2, 2)
    denial = SeatDenial.objects.get()
    assert (
        denial.server,
        denial.organization,
        denial.license_type,
        denial.method,
        denial.user,
        denial.message,
        denial.reason,
    ) == (server, organization, "agent", "concurrent", a3, refusal.message, "pool_full")


def test_a_login_on_a_server_with_no_license_installed_is_refused_naming_the_server():
    bare = OrganizationFactory(server=ServerFactory(server_id="CIC-BARE"), name="Bare")
    bob = member(bare, "bob")
    refusal = refused(user=bob)
    assert refusal.message == (
        "No Agent access (IWP_Agent) Concurrent seat is free on server CIC-BARE: 0 of 0 in use. "
        "Try again when someone logs out."
    )
    assert (refusal.server_id, refusal.in_use, refusal.capacity) == ("CIC-BARE", 0, 0)
    assert SeatDenial.objects.get().user == bob
    assert not SeatLease.objects.exists()


def test_the_lease_a_login_or_a_seat_api_client_gets_back_is_the_one_stored(org, settings):
    """The lease returned to the login (and to the seat API, which answers with it) is the row
    written: its holder, its times, an API lease's expiry; a login without its session yet holds
    one with no session key (the sweep's mark of a login that never finished)."""
    server, organization = org
    now = timezone.now() - timedelta(seconds=5)
    [browser] = lease_acquire(user=member(organization, "bob"), session_key="session-1", now=now)
    assert fields(browser) == fields(SeatLease.objects.get(pk=browser.pk))
    assert (browser.session_key, browser.source, browser.acquired_at) == (
        "session-1",
        "browser",
        now,
    )
    [pending] = lease_acquire(user=member(organization, "sam", role="supervisor"), now=now)
    assert fields(pending) == fields(SeatLease.objects.get(pk=pending.pk))
    assert pending.session_key == ""
    [api] = lease_acquire(
        user=member(organization, "desk"), server_id=server.pk, client_id="desk-1", now=now
    )
    assert fields(api) == fields(SeatLease.objects.get(pk=api.pk))
    assert (api.source, api.client_id, api.last_seen_at) == ("api", "desk-1", now)
    assert api.expires_at == now + timedelta(seconds=settings.IWP_API_LEASE_SECONDS)
    assert api.session_key.startswith("api:")


def test_a_newer_login_takes_the_seat_over_at_its_own_time_in_the_users_name(org):
    server, organization = org
    bob = member(organization, "bob")
    [first] = lease_acquire(user=bob, session_key="first")
    later = timezone.now() + timedelta(minutes=1)
    [second] = lease_acquire(user=bob, session_key="second", now=later)
    first.refresh_from_db()
    assert (first.release_reason, first.released_by, first.released_at) == (
        ReleaseReason.SUPERSEDED,
        bob,
        later,
    )
    stored = SeatLease.objects.get(pk=second.pk)
    assert fields(second) == fields(stored)
    assert (stored.session_key, stored.released_at) == ("second", None)
    assert [(e.label, e.actor) for e in history(stored)] == [("insert", "bob")]
    assert pool_in_use(server, "agent", "concurrent") == 1


def test_a_user_whose_role_changed_gives_the_old_seat_back_and_takes_the_new_license(org):
    server, organization = org
    bob = member(organization, "bob")
    [agent_seat] = lease_acquire(user=bob, session_key="as-agent")
    bob.memberships.update(role="supervisor")
    later = timezone.now() + timedelta(minutes=1)
    [supervisor_seat] = lease_acquire(user=bob, session_key="as-supervisor", now=later)
    agent_seat.refresh_from_db()
    assert (agent_seat.release_reason, agent_seat.released_by, agent_seat.released_at) == (
        ReleaseReason.ROLE_CHANGE,
        bob,
        later,
    )
    assert SeatLease.objects.active().get(user=bob).license_type == "supervisor"
    assert supervisor_seat.license_type == "supervisor"
    assert (
        pool_in_use(server, "agent", "concurrent"),
        pool_in_use(server, "supervisor", "concurrent"),
    ) == (0, 1)


def test_a_login_reclaims_the_seats_idle_at_its_own_time_in_its_own_pool_only(org):
    """At ``now`` 31 minutes on, the agents' seats and the supervisor's have been idle past the
    limit: an agent's login, the agent pool being full, gives back the agent seats and leaves the
    supervisor's pool alone (the sweep's job)."""
    server, organization = org
    for name in ("a1", "a2"):
        lease_acquire(user=member(organization, name), session_key=name)
    lease_acquire(user=member(organization, "sam", role="supervisor"), session_key="sam")
    later = timezone.now() + timedelta(minutes=31)
    [taken] = lease_acquire(user=member(organization, "a3"), session_key="a3", now=later)
    assert sorted(SeatLease.objects.active().values_list("session_key", flat=True)) == [
        "a3",
        "sam",
    ]
    assert set(
        SeatLease.objects.filter(session_key__in=["a1", "a2"]).values_list(
            "release_reason", "released_at"
        )
    ) == {(ReleaseReason.IDLE, later)}
    assert (
        pool_in_use(server, "agent", "concurrent"),
        pool_in_use(server, "supervisor", "concurrent"),
    ) == (1, 1)


def test_a_user_on_two_servers_refused_on_one_holds_neither_and_is_recorded_as_refused(
    licensed_server,
):
    one, north = setup_server(licensed_server, ["agent:concurrent=2"], server_id="CIC-ONE")
    two, south = setup_server(licensed_server, ["agent:concurrent=1"], server_id="CIC-TWO")
    carol = member(north, "carol")
    MembershipFactory(user=carol, organization=south)
    taken = lease_acquire(user=carol, session_key="carol")  # a seat on each server
    assert [[(e.label, e.actor) for e in history(lease)] for lease in taken] == [
        [("insert", "carol")],
        [("insert", "carol")],
    ]
    today = timezone.localdate()
    peaks = DailySeatUsage.objects.filter(day=today, organization__isnull=True)
    assert sorted(peaks.values_list("server__server_id", "peak")) == [
        ("CIC-ONE", 1),
        ("CIC-TWO", 1),
    ]
    bob = member(north, "bob")
    MembershipFactory(user=bob, organization=south)
    refusal = refused(user=bob, session_key="bob")
    assert refusal.message == (
        "No Agent access (IWP_Agent) Concurrent seat is free on server CIC-TWO: 1 of 1 in use. "
        "Try again when someone logs out."
    )
    assert not SeatLease.objects.filter(user=bob).exists()
    assert pool_in_use(one, "agent", "concurrent") == 1
    denial = SeatDenial.objects.get()
    assert (denial.user, denial.server, denial.organization, denial.message) == (
        bob,
        two,
        south,
        refusal.message,
    )


def test_a_session_named_after_its_seat_was_released_leaves_the_released_seat_as_it_was(
    org, admin_user
):
    """A login's seat released (by an administrator, say) before the login named its session:
    the released lease is not rewritten."""
    server, organization = org
    [lease] = lease_acquire(user=member(organization, "bob"))
    lease_release(leases=[lease], reason=ReleaseReason.ADMIN, acting_user=admin_user)
    lease_attach_session(leases=[lease], session_key="too-late")
    stored = SeatLease.objects.get(pk=lease.pk)
    assert (stored.session_key, stored.release_reason) == ("", ReleaseReason.ADMIN)
    assert [e.label for e in history(stored)] == ["insert", "update"]
