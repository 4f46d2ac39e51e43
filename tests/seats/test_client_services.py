"""The seats services the seat API calls, checked where they live (the API's own tests reach them
over HTTP): a client's check-out with its station, a heartbeat, and the refusal of several seats
that an Assignable bulk assignment shows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from licenses.exceptions import LicenseLimitReached
from seats.models import ReleaseReason, SeatLease, StationOccupancy
from seats.services.assignments import seat_assign, seat_assign_bulk
from seats.services.leases import lease_release
from seats.services.leases.release import lease_heartbeat
from seats.services.login import client_seats_take
from seats.services.pools import refusal
from seats.services.stations import StationInUse
from tests.factories import MembershipFactory, StationFactory

from .seat_helpers import member, pool_in_use, setup_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(licensed_server):
    server, north = setup_server(licensed_server, ["agent:concurrent=2", "agent:assignable=4"])
    return server, north


def test_a_client_checks_out_with_its_station_and_asking_again_takes_nothing_more(world, settings):
    settings.IWP_API_LEASE_SECONDS = 600
    server, north = world
    bob = member(north, "bob")
    desk = StationFactory(organization=north, name="Desk-1")
    before = timezone.now()
    seats = client_seats_take(user=bob, server_id=server.pk, client_id="pc-1", station=desk)
    [lease] = seats.leases
    assert (lease.source, lease.client_id) == ("api", "pc-1")
    assert (
        before + timedelta(seconds=600)
        <= lease.expires_at
        <= timezone.now() + timedelta(seconds=600)
    )
    assert seats.occupancy.station == desk and seats.occupancy.user == bob
    again = client_seats_take(user=bob, server_id=server.pk, client_id="pc-1", station=None)
    assert [s.pk for s in again.leases] == [lease.pk]
    assert pool_in_use(server, "agent", "concurrent") == 1


def test_a_client_refused_its_station_holds_no_seat(world):
    server, north = world
    desk = StationFactory(organization=north, name="Desk-1")
    client_seats_take(user=member(north, "ann"), server_id=server.pk, client_id="a", station=desk)
    bob = member(north, "bob")
    with pytest.raises(StationInUse):
        client_seats_take(user=bob, server_id=server.pk, client_id="b", station=desk)
    assert not SeatLease.objects.filter(user=bob).exists()  # refused before a seat was taken
    assert pool_in_use(server, "agent", "concurrent") == 1
    assert StationOccupancy.objects.get(ended_at__isnull=True).user.username == "ann"


def test_a_heartbeat_moves_only_a_held_api_lease_of_its_own_server(world, licensed_server):
    server, north = world
    [lease] = client_seats_take(
        user=member(north, "bob"), server_id=server.pk, client_id="c"
    ).leases
    later = timezone.now() + timedelta(seconds=200)
    expires = lease_heartbeat(lease_id=lease.pk, server_id=server.pk, now=later)
    assert expires == later + timedelta(seconds=600)
    lease.refresh_from_db()
    assert (lease.expires_at, lease.last_seen_at) == (expires, later)

    other, _ = setup_server(licensed_server, ["agent:concurrent=1"], server_id="CIC-OTHER")
    assert lease_heartbeat(lease_id=lease.pk, server_id=other.pk, now=later) is None
    lease_release(leases=[lease.pk], reason=ReleaseReason.CHECKED_IN)
    assert lease_heartbeat(lease_id=lease.pk, server_id=server.pk) is None
    lease.refresh_from_db()
    assert lease.expires_at == expires  # a released lease is not renewed


def test_several_seats_refused_say_how_many_are_missing_and_carry_the_pool(world):
    server, north = world
    users = [member(north, f"a{i}", method="assigned") for i in range(5)]
    with pytest.raises(LicenseLimitReached) as short:
        seat_assign_bulk(users=users)
    assert short.value.message == (
        "Not enough Agent access (IWP_Agent) Assignable seats on server CIC-SEATS: 5 needed, "
        "4 free (0 of 4 in use), 1 seat missing. Nothing was assigned."
    )
    assert (short.value.server_id, short.value.license_type, short.value.method) == (
        "CIC-SEATS",
        "agent",
        "assignable",
    )
    assert (short.value.in_use, short.value.capacity) == (0, 4)
    # Over the count (a smaller license installed): nothing free, every seat asked is missing.
    over = refusal(
        server_name="CIC-SEATS",
        license_type="agent",
        method="assignable",
        in_use=5,
        capacity=4,
        wanted=2,
    )
    assert over.message == (
        "Not enough Agent access (IWP_Agent) Assignable seats on server CIC-SEATS: 2 needed, "
        "0 free (5 of 4 in use), 3 seats missing."
    )


def test_an_assigned_client_checks_out_with_its_stations_seat_on_the_keys_server_only(
    world, licensed_server
):
    server, north = world
    alice = member(north, "alice", method="assigned")
    other, south = setup_server(licensed_server, ["agent:assignable=1"], server_id="CIC-OTHER")
    MembershipFactory(user=alice, organization=south)  # no seat of hers there
    desk = StationFactory(organization=north, name="Desk-1")
    [seat] = seat_assign(station=desk)
    seats = client_seats_take(user=alice, server_id=server.pk, client_id="a", station=desk)
    assert (seats.leases, seats.assigned) == ([], [seat])


def test_checking_a_seat_in_frees_the_station_the_client_took_with_it(world):
    server, north = world
    desk = StationFactory(organization=north, name="Desk-1")
    bob, cat = member(north, "bob"), member(north, "cat")
    [lease] = client_seats_take(user=bob, server_id=server.pk, client_id="b", station=desk).leases
    lease_release(leases=[lease], reason=ReleaseReason.CHECKED_IN)  # the API's check-in
    seats = client_seats_take(user=cat, server_id=server.pk, client_id="c", station=desk)
    assert StationOccupancy.objects.get(ended_at__isnull=True) == seats.occupancy
    assert seats.occupancy.user == cat


def test_a_client_refused_another_station_keeps_its_seat_and_its_old_station(world):
    """The same client asking again at a station someone else holds is refused before anything
    is taken: it keeps the seat and the station it had."""
    server, north = world
    desk_1 = StationFactory(organization=north, name="Desk-1")
    desk_2 = StationFactory(organization=north, name="Desk-2")
    bob, ann = member(north, "bob"), member(north, "ann")
    [lease] = client_seats_take(user=bob, server_id=server.pk, client_id="b", station=desk_1).leases
    client_seats_take(user=ann, server_id=server.pk, client_id="a", station=desk_2)
    with pytest.raises(StationInUse):
        client_seats_take(user=bob, server_id=server.pk, client_id="b", station=desk_2)
    lease.refresh_from_db()
    assert lease.released_at is None
    assert pool_in_use(server, "agent", "concurrent") == 2
    assert sorted(
        StationOccupancy.objects.filter(ended_at__isnull=True).values_list(
            "user__username", "station__name"
        )
    ) == [("ann", "Desk-2"), ("bob", "Desk-1")]


def test_an_assigned_users_check_out_at_a_station_in_use_gets_their_seat(world):
    """The station rule binds a Concurrent user's lease (docs/api.md): an Assigned user's
    check-out takes no lease and no station, so someone at the station does not refuse it."""
    server, north = world
    desk = StationFactory(organization=north, name="Desk-1")
    client_seats_take(user=member(north, "ann"), server_id=server.pk, client_id="a", station=desk)
    bob = member(north, "bob", method="assigned")
    [seat] = seat_assign(user=bob)
    taken = client_seats_take(user=bob, server_id=server.pk, client_id="b", station=desk)
    assert (taken.leases, taken.assigned, taken.occupancy) == ([], [seat], None)
    assert StationOccupancy.objects.get(ended_at__isnull=True).user.username == "ann"
