"""The seat rules at their edges, as people meet them: two servers with different counts of one
license, an entitlement's first and last day, memberships that do not or do count, which
organization a seat counts for, and what the admin says."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from licenses.content import EntitlementSpec
from licenses.exceptions import LicenseLimitReached
from organizations.models import Membership
from seats.models import DailySeatUsage, SeatAssignment, SeatLease
from seats.services.assignments import seat_assign, seat_assign_bulk, user_change_method
from tests.factories import MembershipFactory, OrganizationFactory

from .seat_helpers import login, member, pool_in_use, setup_server

pytestmark = pytest.mark.django_db


def refusal_text(response):
    assert response.status_code == 200, "the login was not refused"
    return response.content.decode()


def test_each_server_counts_its_own_license_when_two_servers_have_different_counts(
    licensed_server,
):
    small, small_org = setup_server(licensed_server, ["agent:concurrent=1"], server_id="CIC-SMALL")
    large, large_org = setup_server(licensed_server, ["agent:concurrent=3"], server_id="CIC-LARGE")
    for name in ("s1", "s2"):
        member(small_org, name)
    for name in ("l1", "l2", "l3", "l4"):
        member(large_org, name)

    assert login(Client(), "s1").status_code == 302
    assert "server CIC-SMALL: 1 of 1 in use." in refusal_text(login(Client(), "s2"))
    for name in ("l1", "l2", "l3"):
        assert login(Client(), name).status_code == 302
    assert "server CIC-LARGE: 3 of 3 in use." in refusal_text(login(Client(), "l4"))
    assert (
        pool_in_use(small, "agent", "concurrent"),
        pool_in_use(large, "agent", "concurrent"),
    ) == (
        1,
        3,
    )


def test_assignable_seats_are_counted_per_server_when_two_servers_have_different_counts(
    licensed_server,
):
    _, small_org = setup_server(licensed_server, ["agent:assignable=1"], server_id="CIC-SMALL")
    _, large_org = setup_server(licensed_server, ["agent:assignable=2"], server_id="CIC-LARGE")
    seat_assign(user=member(small_org, "s1", method="assigned"))
    with pytest.raises(LicenseLimitReached) as refused:
        seat_assign(user=member(small_org, "s2", method="assigned"))
    assert "server CIC-SMALL: 1 of 1 in use." in str(refused.value)
    seat_assign(user=member(large_org, "l1", method="assigned"))
    seat_assign(user=member(large_org, "l2", method="assigned"))
    assert SeatAssignment.objects.active().count() == 3


def test_a_refusal_on_a_shared_pool_counts_the_server_it_is_on(licensed_server, vendor_key):
    """The refusal reads the pool of the server the user logs in to, not another server's."""
    _, busy_org = setup_server(licensed_server, ["agent:concurrent=1"], server_id="CIC-BUSY")
    _, idle_org = setup_server(licensed_server, ["agent:concurrent=5"], server_id="CIC-IDLE")
    member(busy_org, "b1"), member(busy_org, "b2"), member(idle_org, "i1")
    login(Client(), "b1")
    login(Client(), "i1")
    text = refusal_text(login(Client(), "b2"))
    assert "No Agent access (IWP_Agent) Concurrent seat is free on server CIC-BUSY: 1 of 1" in text


def _window_server(licensed_server, *, starts_on=None, expires_on=None):
    line = EntitlementSpec("agent", "concurrent", 2, starts_on=starts_on, expires_on=expires_on)
    return setup_server(licensed_server, [line], server_id="CIC-WINDOW")


def test_an_entitlement_that_starts_tomorrow_gives_no_seat_today_and_does_tomorrow(
    licensed_server,
):
    today = timezone.localdate()
    _, org = _window_server(licensed_server, starts_on=today + timedelta(days=1))
    member(org, "early")
    assert "CIC-WINDOW: 0 of 0 in use." in refusal_text(login(Client(), "early"))
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert login(Client(), "early").status_code == 302


def test_an_entitlement_that_expires_today_gives_seats_all_day_and_none_tomorrow(
    licensed_server,
):
    today = timezone.localdate()
    _, org = _window_server(licensed_server, expires_on=today)
    member(org, "last"), member(org, "after")
    assert login(Client(), "last").status_code == 302
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        text = refusal_text(login(Client(), "after"))
        # the day's idle session gave its seat back; none is licensed any more
        assert "CIC-WINDOW: 0 of 0 in use." in text


def test_a_member_only_of_an_inactive_organization_logs_in_without_a_seat(licensed_server):
    server, active = setup_server(licensed_server, ["agent:concurrent=1"])
    closed = OrganizationFactory(server=server, name="Closed", is_active=False)
    member(active, "holder")
    member(closed, "former")
    login(Client(), "holder")  # the only seat

    assert login(Client(), "former").status_code == 302
    assert not SeatLease.objects.filter(user__username="former").exists()
    assert pool_in_use(server, "agent", "concurrent") == 1


def test_an_inactive_organizations_supervisor_role_does_not_make_an_agent_a_supervisor(
    licensed_server,
):
    server, active = setup_server(
        licensed_server, ["agent:concurrent=1", "supervisor:concurrent=1"]
    )
    closed = OrganizationFactory(server=server, name="Aardvark (closed)", is_active=False)
    agent = member(active, "agent")
    MembershipFactory(user=agent, organization=closed, role=Membership.Role.SUPERVISOR)
    login(Client(), "agent")
    lease = SeatLease.objects.active().get(user=agent)
    assert (lease.license_type, lease.organization) == ("agent", active)


def test_a_seat_counts_for_the_organization_whose_membership_decided_the_license(
    licensed_server,
):
    """On one server, a supervisor in one organization and an agent in another needs Supervisor
    access, counted where they supervise; with agent memberships only, it counts for the first
    organization by name. One seat per server."""
    one, alpha = setup_server(
        licensed_server, ["agent:concurrent=2", "supervisor:concurrent=2"], server_id="CIC-ONE"
    )
    zulu = OrganizationFactory(server=one, name="Zulu")
    two, bravo = setup_server(
        licensed_server, ["agent:concurrent=2", "supervisor:concurrent=2"], server_id="CIC-TWO"
    )
    able = OrganizationFactory(server=two, name="Able")
    user = member(alpha, "multi")  # agent in Northwind (CIC-ONE)
    MembershipFactory(user=user, organization=zulu, role=Membership.Role.SUPERVISOR)
    MembershipFactory(user=user, organization=bravo, role=Membership.Role.AGENT)
    MembershipFactory(user=user, organization=able, role=Membership.Role.AGENT)

    assert login(Client(), "multi").status_code == 302
    held = {
        (lease.server.server_id, lease.license_type, lease.organization.name)
        for lease in SeatLease.objects.active().select_related("server", "organization")
    }
    assert held == {("CIC-ONE", "supervisor", "Zulu"), ("CIC-TWO", "agent", "Able")}


def test_an_assigned_seat_counts_for_the_supervised_organization_too(licensed_server):
    server, north = setup_server(licensed_server, ["supervisor:assignable=1"])
    aaa = OrganizationFactory(server=server, name="Aaa")
    user = member(north, "sup", method="assigned", role=Membership.Role.SUPERVISOR)
    MembershipFactory(user=user, organization=aaa, role=Membership.Role.AGENT)
    [seat] = seat_assign(user=user)
    assert (seat.license_type, seat.organization) == ("supervisor", north)


def test_bulk_assigning_only_concurrent_users_assigns_nothing_and_names_each(licensed_server):
    _, org = setup_server(licensed_server, ["agent:assignable=2"])
    users = [member(org, "c1"), member(org, "c2")]
    result = seat_assign_bulk(users=users)
    assert result.assigned == []
    assert result.summary() == (
        "0 seats assigned; c1 skipped: a Concurrent user takes a seat when logging in; "
        "c2 skipped: a Concurrent user takes a seat when logging in."
    )


def test_bulk_summary_counts_assigned_already_held_and_skipped(licensed_server):
    server, org = setup_server(licensed_server, ["agent:assignable=3"])
    closed = OrganizationFactory(server=server, name="Closed", is_active=False)
    held = member(org, "held", method="assigned")
    seat_assign(user=held)
    new = member(org, "new", method="assigned")
    orphan = member(closed, "orphan", method="assigned")
    result = seat_assign_bulk(users=[held, new, orphan, member(org, "conc")])
    assert result.summary() == (
        "1 seat assigned; 1 already held one; orphan skipped: no membership in an active "
        "organization; conc skipped: a Concurrent user takes a seat when logging in."
    )
    assert pool_in_use(server, "agent", "assignable") == 2


def test_switching_a_user_to_the_method_they_have_says_so_and_changes_nothing(licensed_server):
    _, org = setup_server(licensed_server, ["agent:assignable=1", "agent:concurrent=1"])
    assigned = member(org, "asg", method="assigned")
    seat_assign(user=assigned)
    concurrent = member(org, "conc")
    assert user_change_method(user=assigned, method="assigned") == (
        "asg is already an Assigned user."
    )
    assert user_change_method(user=concurrent, method="concurrent") == (
        "conc is already a Concurrent user."
    )
    assert SeatAssignment.objects.active().filter(user=assigned).count() == 1


def test_each_organizations_daily_peak_is_its_own_and_the_server_has_the_sum(licensed_server):
    server, north = setup_server(licensed_server, ["agent:concurrent=5"])
    south = OrganizationFactory(server=server, name="South")
    for name in ("n1", "n2"):
        member(north, name)
    member(south, "s1")
    for name in ("n1", "n2", "s1"):
        assert login(Client(), name).status_code == 302
    peaks = {
        row.organization_id: row.peak
        for row in DailySeatUsage.objects.filter(
            day=timezone.localdate(), license_type="agent", method="concurrent"
        )
    }
    assert peaks == {None: 3, north.pk: 2, south.pk: 1}


def test_overage_is_rounded_down_and_the_seat_at_capacity_is_the_last(licensed_server):
    """3 +50% is 4.5 seats: 4 can log in, the fifth is refused at 4 of 4."""
    server, org = setup_server(licensed_server, ["agent:concurrent=3+50%"])
    for i in range(5):
        member(org, f"a{i}")
    for i in range(4):
        assert login(Client(), f"a{i}").status_code == 302
    assert "CIC-SEATS: 4 of 4 in use." in refusal_text(login(Client(), "a4"))


def test_the_refusal_reads_as_its_message(licensed_server):
    _, org = setup_server(licensed_server, ["agent:assignable=0"])
    with pytest.raises(LicenseLimitReached) as refused:
        seat_assign(user=member(org, "nobody", method="assigned"))
    assert str(refused.value) == refused.value.message
    assert str(refused.value).startswith(
        "No Agent access (IWP_Agent) Assignable seat is free on server CIC-SEATS: 0 of 0 in use."
    )


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_admin_releases_the_selected_assignments_once_and_says_how_many(
    admin_client, licensed_server
):
    server, org = setup_server(licensed_server, ["agent:assignable=3"])
    seats = [seat_assign(user=member(org, f"u{i}", method="assigned"))[0] for i in range(3)]
    response = admin_client.post(
        "/admin/seats/seatassignment/",
        {"action": "release_selected", "_selected_action": [s.pk for s in seats[:2]]},
        follow=True,
    )
    assert messages_of(response) == ["2 seats released."]
    assert pool_in_use(server, "agent", "assignable") == 1
    assert set(SeatAssignment.objects.active().values_list("user__username", flat=True)) == {"u2"}
    response = admin_client.post(
        "/admin/seats/seatassignment/",
        {"action": "release_selected", "_selected_action": [s.pk for s in seats]},
        follow=True,
    )
    assert messages_of(response) == ["1 seat released."]
    assert pool_in_use(server, "agent", "assignable") == 0


def test_releasing_every_seat_of_a_user_names_the_administrator(licensed_server):
    from seats.models import ReleaseReason
    from seats.services.assignments import user_seats_release
    from tests.factories import UserFactory

    _, org = setup_server(licensed_server, ["agent:assignable=1", "agent:concurrent=1"])
    admin = UserFactory(username="root-admin", is_staff=True)
    assigned = member(org, "asg", method="assigned")
    seat_assign(user=assigned)
    concurrent = member(org, "conc")
    assert login(Client(), "conc").status_code == 302

    user_seats_release(user=assigned, acting_user=admin)
    user_seats_release(user=concurrent, acting_user=admin)

    seat = SeatAssignment.objects.get(user=assigned)
    lease = SeatLease.objects.get(user=concurrent)
    assert (seat.released_by, seat.release_reason) == (admin, ReleaseReason.UNASSIGNED)
    assert (lease.released_by, lease.release_reason) == (admin, ReleaseReason.ADMIN)


def test_a_station_is_touched_and_left_only_by_the_session_at_it(licensed_server):
    from datetime import timedelta as td

    from seats.models import StationOccupancy
    from seats.services.stations import station_leave, station_occupy, station_touch
    from tests.factories import StationFactory

    _, org = setup_server(licensed_server, ["agent:concurrent=2"])
    one, two = StationFactory(organization=org), StationFactory(organization=org)
    a = station_occupy(station=one, user=member(org, "a"), session_key="session-a")
    b = station_occupy(station=two, user=member(org, "b"), session_key="session-b")
    later = timezone.now() + td(minutes=5)

    assert station_touch(session_key="", now=later) == 0
    assert station_touch(session_key="session-a", now=later) == 1
    a.refresh_from_db(), b.refresh_from_db()
    assert a.last_seen_at == later and b.last_seen_at < later

    assert station_leave(session_key="", reason="logout") == 0
    assert station_leave(session_key="session-a", reason="logout") == 1
    held = {o.station_id: o.end_reason for o in StationOccupancy.objects.all()}
    assert held == {one.pk: "logout", two.pk: ""}
    assert station_touch(session_key="session-a", now=later) == 0  # left: no longer held
    assert station_leave(occupancy=b, reason="admin") == 1
    assert StationOccupancy.objects.get(pk=b.pk).ended_at is not None


def test_a_login_that_fails_after_taking_its_seat_and_station_gives_both_back(
    licensed_server, monkeypatch
):
    from django.contrib.auth import views as auth_views

    from seats.models import ReleaseReason, StationOccupancy
    from tests.factories import StationFactory

    server, org = setup_server(licensed_server, ["agent:concurrent=1"])
    bob = member(org, "bob")
    StationFactory(organization=org, name="Desk-7")

    def session_store_down(*args, **kwargs):
        raise RuntimeError("the session could not be saved")

    monkeypatch.setattr(auth_views, "auth_login", session_store_down)
    with pytest.raises(RuntimeError):
        login(Client(), "bob", station="Desk-7")

    lease = SeatLease.objects.get(user=bob)
    assert lease.released_at is not None
    assert (lease.release_reason, lease.released_by) == (ReleaseReason.LOGIN_FAILED, bob)
    occupancy = StationOccupancy.objects.get()
    assert occupancy.ended_at is not None
    assert occupancy.end_reason == ReleaseReason.LOGIN_FAILED
    assert pool_in_use(server, "agent", "concurrent") == 0
    monkeypatch.undo()
    assert login(Client(), "bob", station="Desk-7").status_code == 302


def test_a_station_left_by_a_login_that_never_got_its_session_is_taken_over_once_idle(
    licensed_server,
):
    from datetime import timedelta as td

    from seats.models import ReleaseReason, StationOccupancy
    from seats.services.stations import StationInUse, station_occupy
    from tests.factories import StationFactory

    _, org = setup_server(licensed_server, ["agent:concurrent=2"])
    desk = StationFactory(organization=org, name="Desk-9")
    dead = station_occupy(station=desk, user=member(org, "dead"))  # its session never came
    with pytest.raises(StationInUse):
        station_occupy(station=desk, user=member(org, "early"))
    later = timezone.now() + td(minutes=31)
    taken = station_occupy(station=desk, user=member(org, "next"), now=later)

    dead.refresh_from_db()
    assert (dead.ended_at, dead.end_reason) == (later, ReleaseReason.IDLE)
    assert StationOccupancy.objects.filter(ended_at__isnull=True).get() == taken


def test_switching_a_user_on_two_servers_lists_each_seat_released(licensed_server):
    _, one = setup_server(licensed_server, ["agent:concurrent=1"], server_id="CIC-ONE")
    _, two = setup_server(licensed_server, ["agent:concurrent=1"], server_id="CIC-TWO")
    user = member(one, "bob")
    MembershipFactory(user=user, organization=two, role=Membership.Role.AGENT)
    assert login(Client(), "bob").status_code == 302
    assert user_change_method(user=user, method="assigned") == (
        "bob is now an Assigned user; 2 Concurrent seats released (Agent access (IWP_Agent) on "
        "server CIC-ONE, Agent access (IWP_Agent) on server CIC-TWO)."
    )


def test_a_member_of_several_organizations_counts_only_in_those_asked_for_with_the_servers_license(
    licensed_server,
):
    """The organizations' configured Concurrent users: Bob is an agent in Northwind and a
    supervisor in Southwind on one server, an agent on another. Asked about Northwind and the
    other server's organization, he counts in each, needing Supervisor access on the first
    server (his role there decides); Southwind, not asked about, is not listed."""
    from seats.rules import members_license

    server, north = setup_server(
        licensed_server, ["agent:concurrent=2", "supervisor:concurrent=2"], server_id="CIC-ONE"
    )
    south = OrganizationFactory(server=server, name="Southwind")
    _, far = setup_server(licensed_server, ["agent:concurrent=2"], server_id="CIC-FAR")
    bob = member(north, "bob")
    MembershipFactory(user=bob, organization=south, role=Membership.Role.SUPERVISOR)
    MembershipFactory(user=bob, organization=far, role=Membership.Role.AGENT)
    member(south, "ann")
    member(north, "asg", method="assigned")
    assert sorted(
        members_license(organization_ids=[north.pk, far.pk], license_method="concurrent")
    ) == [(north.pk, bob.pk, "supervisor"), (far.pk, bob.pk, "agent")]
