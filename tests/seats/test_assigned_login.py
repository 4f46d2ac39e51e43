"""An Assigned user's login check (seats/services/leases/assigned.py): the station they name, found
in their own organizations whatever its case, and the Assignable seat they or it must hold, with
the refusal naming the license, the user, the station and the server."""

import pytest

from seats.services.assignments import seat_assign
from seats.services.leases import NoSeatAssigned, assigned_seat_check, station_for_login
from tests.factories import MembershipFactory, OrganizationFactory, StationFactory

from .seat_helpers import member, setup_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(licensed_server):
    return setup_server(licensed_server, ["agent:assignable=2", "supervisor:assignable=1"])


def test_the_station_is_found_whatever_its_case_in_the_users_organizations_only(world):
    server, north = world
    alice = member(north, "alice", method="assigned")
    desk = StationFactory(organization=north, name="Desk-1")
    StationFactory(organization=OrganizationFactory(server=server, name="South"), name="Desk-9")
    assert station_for_login(user=alice, name="  desk-1 ") == desk
    assert station_for_login(user=alice, name="Desk-9") is None  # not her organization's


def test_a_missing_seat_at_a_station_is_refused_naming_user_station_server_and_license(world):
    server, north = world
    alice = member(north, "alice", method="assigned", role="supervisor")
    desk = StationFactory(organization=north, name="Desk-1")
    seat_assign(station=desk)  # an Agent seat: alice needs Supervisor access
    with pytest.raises(NoSeatAssigned) as refused:
        assigned_seat_check(user=alice, station=desk)
    assert refused.value.message == (
        "No Supervisor access (IWP_Supervisor) Assignable seat is assigned to alice or to "
        "station Desk-1 on server CIC-SEATS. Ask an administrator to assign one."
    )
    assert (refused.value.server_id, refused.value.license_type) == ("CIC-SEATS", "supervisor")


def test_the_users_own_seat_or_the_stations_is_the_one_logged_in_with(world):
    server, north = world
    alice = member(north, "alice", method="assigned")
    desk = StationFactory(organization=north, name="Desk-1")
    [station_seat] = seat_assign(station=desk)
    assert assigned_seat_check(user=alice, station=desk) == [station_seat]
    [own] = seat_assign(user=alice)
    assert assigned_seat_check(user=alice) == [own]


def test_only_assigned_users_with_an_active_organization_need_a_seat(world, licensed_server):
    server, north = world
    assert assigned_seat_check(user=member(north, "bob")) == []  # Concurrent
    closed = OrganizationFactory(server=server, name="Closed", is_active=False)
    assert assigned_seat_check(user=member(closed, "dora", method="assigned")) == []
    other, south = setup_server(licensed_server, ["agent:assignable=1"], server_id="CIC-OTHER")
    alice = member(north, "alice", method="assigned")
    [here] = seat_assign(user=alice)
    MembershipFactory(user=alice, organization=south)  # no seat of hers there
    assert assigned_seat_check(user=alice, server_id=server.pk) == [here]
    with pytest.raises(NoSeatAssigned) as refused:
        assigned_seat_check(user=alice)
    assert refused.value.server_id == "CIC-OTHER"


def test_the_station_comes_with_its_server_in_one_query(world, django_assert_num_queries):
    """The login and the seat API then check the station's server without another query."""
    server, north = world
    alice = member(north, "alice", method="assigned")
    StationFactory(organization=north, name="Desk-1")
    with django_assert_num_queries(1):
        station = station_for_login(user=alice, name="desk-1")
        assert station.organization.server.server_id == server.server_id


def test_a_colleagues_seat_or_another_stations_is_not_the_users(licensed_server):
    """alice holds nothing: bob's own seat and Desk-1's do not let her in, without a station or at
    the bare Desk-2. Once she holds her own, it is hers at Desk-2 too."""
    server, north = setup_server(licensed_server, ["agent:assignable=4"])
    alice = member(north, "alice", method="assigned")
    seat_assign(user=member(north, "bob", method="assigned"))
    seat_assign(station=StationFactory(organization=north, name="Desk-1"))
    bare = StationFactory(organization=north, name="Desk-2")
    for station in (None, bare):
        with pytest.raises(NoSeatAssigned):
            assigned_seat_check(user=alice, station=station)
    [own] = seat_assign(user=alice)
    assert assigned_seat_check(user=alice, station=bare) == [own]
    assert assigned_seat_check(user=alice) == [own]
