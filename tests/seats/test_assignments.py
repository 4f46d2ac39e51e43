"""Assignable seats: assigned to users and stations, all-or-nothing in bulk, released
exactly once, audited."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from licenses.exceptions import LicenseLimitReached
from organizations.models import User
from seats.models import DailySeatUsage, ReleaseReason, SeatAssignment, SeatLease, ThresholdAlert
from seats.services.assignments import (
    seat_assign,
    seat_assign_bulk,
    seat_release,
    seat_release_bulk,
    user_change_method,
)
from tests.factories import MembershipFactory, OrganizationFactory, StationFactory, UserFactory
from tests.history import history

from .seat_helpers import login, member, pool_in_use, setup_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(licensed_server):
    return setup_server(
        licensed_server, ["agent:assignable=3", "supervisor:assignable=1", "agent:concurrent=2"]
    )


def test_assigning_a_user_takes_the_seat_their_role_needs_and_names_the_administrator(
    org, admin_user
):
    server, organization = org
    alice = member(organization, "alice", method="assigned")
    nina = member(organization, "nina", method="assigned", role="org_admin")
    seat_assign(user=alice, acting_user=admin_user)
    seat_assign(user=nina, acting_user=admin_user)
    seat_assign(user=alice, acting_user=admin_user)  # already held: no second seat
    assert {(a.user.username, a.license_type) for a in SeatAssignment.objects.active()} == {
        ("alice", "agent"),
        ("nina", "supervisor"),
    }
    assert pool_in_use(server, "agent", "assignable") == 1
    [entry] = history(SeatAssignment.objects.get(user=alice))
    assert (entry.label, entry.actor) == ("insert", "admin")
    assert (
        DailySeatUsage.objects.get(
            organization=None, license_type="supervisor", method="assignable"
        ).peak
        == 1
    )


def test_assigning_beyond_the_count_is_refused_with_license_server_and_count(org, admin_user):
    server, organization = org
    nina, sam = (
        member(organization, n, method="assigned", role="supervisor") for n in ("nina", "sam")
    )
    seat_assign(user=nina, acting_user=admin_user)
    with pytest.raises(LicenseLimitReached) as refused:
        seat_assign(user=sam, acting_user=admin_user)
    assert (
        "No Supervisor access (IWP_Supervisor) Assignable seat is free on server CIC-SEATS: "
        "1 of 1 in use." in str(refused.value)
    )
    assert SeatAssignment.objects.filter(user=sam).count() == 0


def test_bulk_assignment_is_all_or_nothing_and_says_how_many_seats_are_missing(
    org, admin_user, django_assert_max_num_queries
):
    server, organization = org
    users = [member(organization, f"agent{i}", method="assigned") for i in range(5)]
    with pytest.raises(LicenseLimitReached) as refused:
        seat_assign_bulk(users=users, acting_user=admin_user)
    assert "5 needed, 3 free (0 of 3 in use), 2 seats missing. Nothing was assigned." in str(
        refused.value
    )
    assert SeatAssignment.objects.count() == 0 and pool_in_use(server, "agent", "assignable") == 0
    result = seat_assign_bulk(users=users[:3], acting_user=admin_user)
    assert len(result.assigned) == 3 and pool_in_use(server, "agent", "assignable") == 3
    assert [[(e.label, e.actor) for e in history(seat)] for seat in result.assigned] == [
        [("insert", "admin")]
    ] * 3


def test_bulk_assignment_runs_a_constant_number_of_queries(
    licensed_server, admin_user, django_assert_max_num_queries
):
    server, organization = setup_server(licensed_server, ["agent:assignable=100"])
    small = [member(organization, f"s{i}", method="assigned") for i in range(2)]
    large = [member(organization, f"l{i}", method="assigned") for i in range(40)]
    with django_assert_max_num_queries(30):
        seat_assign_bulk(users=small, acting_user=admin_user)
    with django_assert_max_num_queries(30):
        seat_assign_bulk(users=large, acting_user=admin_user)
    with django_assert_max_num_queries(8):
        assert len(seat_release_bulk(users=large, acting_user=admin_user)) == 40
    assert pool_in_use(server, "agent", "assignable") == 2


def test_bulk_assignment_skips_concurrent_users_and_says_so(org, admin_user):
    server, organization = org
    alice = member(organization, "alice", method="assigned")
    bob = member(organization, "bob", method="concurrent")
    result = seat_assign_bulk(users=[alice, bob], acting_user=admin_user)
    assert [a.user for a in result.assigned] == [alice]
    assert "bob skipped: a Concurrent user takes a seat when logging in" in result.summary()


def test_station_seat_and_release_exactly_once(org, admin_user):
    server, organization = org
    desk = StationFactory(organization=organization, name="Desk-1")
    [seat] = seat_assign(station=desk, acting_user=admin_user)
    assert (seat.station, seat.license_type, seat.user) == (desk, "agent", None)
    assert len(seat_release(station=desk, acting_user=admin_user)) == 1
    assert seat_release(station=desk, acting_user=admin_user) == []
    seat.refresh_from_db()
    assert (seat.release_reason, seat.released_by) == (ReleaseReason.UNASSIGNED, admin_user)
    assert pool_in_use(server, "agent", "assignable") == 0
    assert [(e.label, e.actor) for e in history(seat)] == [("insert", "admin"), ("update", "admin")]
    assert history(seat)[1].changes["release_reason"] == ["", "unassigned"]


def test_assigned_user_logs_in_with_own_seat_or_station_seat_and_is_refused_without(
    org, admin_user
):
    server, organization = org
    alice = member(organization, "alice", method="assigned")
    dave = member(organization, "dave", method="assigned")
    desk = StationFactory(organization=organization, name="Desk-1")
    response = login(Client(), "alice")
    assert response.status_code == 200
    assert (
        "No Agent access (IWP_Agent) Assignable seat is assigned to alice on server CIC-SEATS"
        in response.content.decode()
    )
    seat_assign(user=alice, acting_user=admin_user)
    assert login(Client(), "alice").status_code == 302
    assert "or to station Desk-1" in login(Client(), "dave", station="Desk-1").content.decode()
    seat_assign(station=desk, acting_user=admin_user)
    client = Client()
    assert login(client, "dave", station="desk-1").status_code == 302
    assert client.session["iwp_station_id"] == desk.pk
    assert "no station named" in login(Client(), "dave", station="Nowhere").content.decode()
    assert SeatLease.objects.count() == 0 and dave.seat_assignments.count() == 0


def test_changing_the_method_releases_old_method_seats_in_the_same_transaction(org, admin_user):
    server, organization = org
    alice = member(organization, "alice", method="assigned")
    bob = member(organization, "bob", method="concurrent")
    seat_assign(user=alice, acting_user=admin_user)
    client = Client()
    login(client, "bob")
    said = user_change_method(
        user=alice, method=User.LicenseMethod.CONCURRENT, acting_user=admin_user
    )
    assert said == (
        "alice is now a Concurrent user; "
        "1 Assignable seat released (Agent access (IWP_Agent) on server CIC-SEATS)."
    )
    assert SeatAssignment.objects.get(user=alice).release_reason == ReleaseReason.METHOD_CHANGE
    said = user_change_method(user=bob, method=User.LicenseMethod.ASSIGNED, acting_user=admin_user)
    assert "bob is now an Assigned user; 1 Concurrent seat released" in said
    assert SeatLease.objects.get(user=bob).release_reason == ReleaseReason.METHOD_CHANGE
    assert client.get("/portal/").status_code == 302  # bob's session ended with his seat
    assert (
        pool_in_use(server, "agent", "assignable") == 0
        and pool_in_use(server, "agent", "concurrent") == 0
    )
    assert any(
        e.actor == "admin" and e.changes.get("license_method") == ["assigned", "concurrent"]
        for e in history(alice)
    )


def test_role_change_swaps_the_seat_for_the_right_license(org, admin_user):
    server, organization = org
    alice = member(organization, "alice", method="assigned")
    seat_assign(user=alice, acting_user=admin_user)
    alice.memberships.update(role="supervisor")
    seat_assign(user=alice, acting_user=admin_user)
    assert list(SeatAssignment.objects.active().values_list("license_type", flat=True)) == [
        "supervisor"
    ]
    assert (
        SeatAssignment.objects.get(license_type="agent").release_reason == ReleaseReason.ROLE_CHANGE
    )
    assert (
        pool_in_use(server, "agent", "assignable") == 0
        and pool_in_use(server, "supervisor", "assignable") == 1
    )


def test_a_bulk_assignment_raises_the_days_peak_of_the_server_and_of_each_organization(
    licensed_server, admin_user, alert_caches_fresh
):
    server, north = setup_server(licensed_server, ["agent:assignable=5"])
    south = OrganizationFactory(server=server, name="Southwind")
    users = [member(north, f"n{i}", method="assigned") for i in range(3)]
    users.append(member(south, "s0", method="assigned"))
    seat_assign_bulk(users=users, acting_user=admin_user)

    def peak(organization):
        return DailySeatUsage.objects.get(
            server=server, organization=organization, license_type="agent", method="assignable"
        ).peak

    assert (peak(None), peak(north), peak(south)) == (4, 3, 1)  # 4 of the 5 licensed
    # 4 of 5 is 80%: the pool's threshold alert is recorded, with the pool's capacity.
    assert list(
        ThresholdAlert.objects.filter(server=server).values_list(
            "organization", "threshold", "in_use", "capacity"
        )
    ) == [(None, 80, 4, 5)]


def test_a_refusal_over_two_pools_names_both_and_carries_the_first_pools_figures(
    licensed_server, admin_user
):
    server, organization = setup_server(
        licensed_server, ["agent:assignable=2", "supervisor:assignable=1"]
    )
    seat_assign(user=member(organization, "held", method="assigned"), acting_user=admin_user)
    agents = [member(organization, f"a{i}", method="assigned") for i in range(2)]
    supervisors = [
        member(organization, f"s{i}", method="assigned", role="supervisor") for i in range(2)
    ]
    with pytest.raises(LicenseLimitReached) as refused:
        seat_assign_bulk(users=agents + supervisors, acting_user=admin_user)
    assert refused.value.message == (
        "Not enough Agent access (IWP_Agent) Assignable seats on server CIC-SEATS: 2 needed, "
        "1 free (1 of 2 in use), 1 seat missing. "
        "Not enough Supervisor access (IWP_Supervisor) Assignable seats on server CIC-SEATS: "
        "2 needed, 1 free (0 of 1 in use), 1 seat missing. Nothing was assigned."
    )
    first = refused.value
    assert (first.server_id, first.license_type, first.method, first.code) == (
        "CIC-SEATS",
        "agent",
        "assignable",
        "pool_full",
    )
    assert (first.in_use, first.capacity) == (1, 2)
    assert SeatAssignment.objects.active().count() == 1


def test_seat_assign_needs_exactly_one_of_a_user_and_a_station(org):
    server, organization = org
    alice = member(organization, "alice", method="assigned")
    desk = StationFactory(organization=organization, name="Desk-1")
    for kwargs in ({}, {"user": alice, "station": desk}):
        with pytest.raises(ValueError, match="^seat_assign needs a user or a station$"):
            seat_assign(**kwargs)
    assert SeatAssignment.objects.count() == 0


def test_assigning_a_user_who_needs_no_assignable_seat_says_why(org, admin_user):
    server, organization = org
    bob = member(organization, "bob", method="concurrent")
    with pytest.raises(ValueError) as refused:
        seat_assign(user=bob, acting_user=admin_user)
    assert str(refused.value) == "bob: a Concurrent user takes a seat when logging in."
    carl = UserFactory(username="carl", license_method="assigned")  # a member of nothing
    result = seat_assign_bulk(users=[carl], acting_user=admin_user)
    assert result.summary() == (
        "0 seats assigned; carl skipped: no membership in an active organization."
    )


def test_assigning_a_seat_already_held_returns_it_and_the_summary_counts_it(org, admin_user):
    server, organization = org
    alice = member(organization, "alice", method="assigned")
    bea = member(organization, "bea", method="assigned")
    [seat] = seat_assign(user=alice, acting_user=admin_user)
    assert seat.assigned_by == admin_user
    assert seat_assign(user=alice, acting_user=admin_user) == [seat]
    result = seat_assign_bulk(users=[alice, bea], acting_user=admin_user)
    assert result.already == [alice] and [a.user for a in result.assigned] == [bea]
    assert result.summary() == "1 seat assigned; 1 already held one."
    assert SeatAssignment.objects.get(user=bea).assigned_by == admin_user
    assert pool_in_use(server, "agent", "assignable") == 2


def test_a_station_holds_one_seat_of_each_license_and_assigning_again_returns_it(org, admin_user):
    server, organization = org
    desk, booth = (StationFactory(organization=organization, name=n) for n in ("Desk-1", "Booth"))
    [seat] = seat_assign(station=desk, acting_user=admin_user)
    assert seat.assigned_by == admin_user
    assert seat_assign(station=desk, acting_user=admin_user) == [seat]
    [other] = seat_assign(station=booth, acting_user=admin_user)
    assert other != seat and other.station == booth
    [supervisor] = seat_assign(station=desk, license_type="supervisor", acting_user=admin_user)
    assert supervisor != seat and supervisor.license_type == "supervisor"
    assert pool_in_use(server, "agent", "assignable") == 2
    assert pool_in_use(server, "supervisor", "assignable") == 1


def test_a_user_on_two_servers_gets_the_seat_missing_on_the_second(licensed_server, admin_user):
    first, north = setup_server(licensed_server, ["agent:assignable=2"], server_id="CIC-ONE")
    second, south = setup_server(licensed_server, ["agent:assignable=2"], server_id="CIC-TWO")
    alice = member(north, "alice", method="assigned")
    MembershipFactory(user=alice, organization=south)
    seat_assign_bulk(users=[alice], acting_user=admin_user, server_ids=[first.pk])
    assert SeatAssignment.objects.active().get(user=alice).server == first

    result = seat_assign_bulk(users=[alice], acting_user=admin_user)
    assert [a.server for a in result.assigned] == [second]
    held = SeatAssignment.objects.active().filter(user=alice)
    assert sorted(held.values_list("server__server_id", flat=True)) == ["CIC-ONE", "CIC-TWO"]


def test_a_role_change_seat_swap_names_the_administrator_who_released_the_old_seat(org, admin_user):
    server, organization = org
    alice = member(organization, "alice", method="assigned")
    seat_assign(user=alice, acting_user=admin_user)
    alice.memberships.update(role="supervisor")
    seat_assign(user=alice, acting_user=admin_user)
    old = SeatAssignment.objects.get(license_type="agent")
    assert (old.release_reason, old.released_by) == (ReleaseReason.ROLE_CHANGE, admin_user)


def test_seat_release_takes_seats_or_their_ids_and_only_those_named(org, admin_user):
    server, organization = org
    alice, bea, cleo = (member(organization, n, method="assigned") for n in ("alice", "bea", "cl"))
    by_user = {u: seat_assign(user=u, acting_user=admin_user)[0] for u in (alice, bea, cleo)}
    assert seat_release(assignments=[by_user[alice]], acting_user=admin_user) == [by_user[alice]]
    assert [s.pk for s in seat_release(assignments=[by_user[bea].pk])] == [by_user[bea].pk]
    assert list(SeatAssignment.objects.active()) == [by_user[cleo]]
    with pytest.raises(ValueError, match="^seat_release needs assignments, a user or a station$"):
        seat_release(license_type="agent")
    assert pool_in_use(server, "agent", "assignable") == 1


def test_releasing_a_user_or_a_station_leaves_the_others_seats(org, admin_user):
    server, organization = org
    alice, bea = (member(organization, n, method="assigned") for n in ("alice", "bea"))
    desk = StationFactory(organization=organization, name="Desk-1")
    for user in (alice, bea):
        seat_assign(user=user, acting_user=admin_user)
    seat_assign(station=desk, acting_user=admin_user)
    seat_assign(station=desk, license_type="supervisor", acting_user=admin_user)

    assert [s.user_id for s in seat_release(user=alice)] == [alice.pk]
    [released] = seat_release(station=desk, license_type="supervisor")
    assert (released.station_id, released.license_type) == (desk.pk, "supervisor")
    assert [s.station_id for s in seat_release(station=desk)] == [desk.pk]
    assert [(a.user, a.station) for a in SeatAssignment.objects.active()] == [(bea, None)]


def test_a_bulk_release_names_the_administrator(org, admin_user):
    server, organization = org
    alice = member(organization, "alice", method="assigned")
    seat_assign(user=alice)
    [released] = seat_release_bulk(users=[alice], acting_user=admin_user)
    seat = SeatAssignment.objects.get(pk=released.pk)
    assert (seat.release_reason, seat.released_by) == (ReleaseReason.UNASSIGNED, admin_user)
    assert history(seat)[-1].actor == "admin"


def test_changing_the_method_says_so_when_nothing_changes_or_no_seat_was_held(org, admin_user):
    server, organization = org
    alice = member(organization, "alice", method="assigned")
    bob = member(organization, "bob", method="concurrent")
    assert (
        user_change_method(user=alice, method=User.LicenseMethod.ASSIGNED)
        == "alice is already an Assigned user."
    )
    assert (
        user_change_method(user=bob, method=User.LicenseMethod.CONCURRENT)
        == "bob is already a Concurrent user."
    )
    assert (
        user_change_method(user=bob, method=User.LicenseMethod.ASSIGNED, acting_user=admin_user)
        == "bob is now an Assigned user; 0 Concurrent seats released."
    )
    assert bob.license_method == User.LicenseMethod.ASSIGNED  # the caller's object too


def test_a_method_change_names_the_administrator_who_released_the_seats(org, admin_user):
    server, organization = org
    alice = member(organization, "alice", method="assigned")
    bob = member(organization, "bob", method="concurrent")
    seat_assign(user=alice)
    assert login(Client(), "bob").status_code == 302
    user_change_method(user=alice, method=User.LicenseMethod.CONCURRENT, acting_user=admin_user)
    user_change_method(user=bob, method=User.LicenseMethod.ASSIGNED, acting_user=admin_user)
    assert SeatAssignment.objects.get(user=alice).released_by == admin_user
    assert SeatLease.objects.get(user=bob).released_by == admin_user


def test_a_peak_the_server_already_reached_today_still_raises_the_new_organizations(
    licensed_server, admin_user, django_capture_on_commit_callbacks
):
    server, north = setup_server(licensed_server, ["agent:assignable=5"])
    south = OrganizationFactory(server=server, name="Southwind")
    alice = member(north, "alice", method="assigned")
    bea = member(south, "bea", method="assigned")
    with django_capture_on_commit_callbacks(execute=True):
        seat_assign(user=alice, acting_user=admin_user)
    seat_release(user=alice)
    with django_capture_on_commit_callbacks(execute=True):
        seat_assign(user=bea, acting_user=admin_user)  # the server at 1 again: known, skipped
    peaks = DailySeatUsage.objects.filter(server=server, license_type="agent")
    assert sorted(peaks.values_list("organization__name", "peak"), key=str) == [
        ("Northwind", 1),
        ("Southwind", 1),
        (None, 1),
    ]
    # Back to a level this process already wrote today: the usage rows are not touched again.
    seat_release(user=bea)
    with CaptureQueriesContext(connection) as queries:
        seat_assign(user=bea, acting_user=admin_user)
    assert not [q for q in queries if "seats_dailyseatusage" in q["sql"]]
