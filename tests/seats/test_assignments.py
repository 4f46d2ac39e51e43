"""Assignable seats: assigned to users and stations, all-or-nothing in bulk, released
exactly once, audited."""

import pytest
from django.test import Client

from licenses.exceptions import LicenseLimitReached
from organizations.models import User
from seats.models import DailySeatUsage, ReleaseReason, SeatAssignment, SeatLease
from seats.services.assignments import (
    seat_assign,
    seat_assign_bulk,
    seat_release,
    seat_release_bulk,
    user_change_method,
)
from tests.factories import StationFactory
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
