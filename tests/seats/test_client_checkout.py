"""A seat API client's check-out as a service (seats/services/clients.py): who and which station
on the key's server, a client asking again, and refusals that take nothing."""

import pytest
from django.utils import timezone

from seats.models import SeatDenial, SeatLease, StationOccupancy
from seats.services.assignments import seat_assign
from seats.services.clients import ClientCheckoutRefused, client_checkout
from tests.factories import OrganizationFactory, StationFactory
from tests.seats.seat_helpers import member, pool_in_use, setup_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(licensed_server):
    server, org = setup_server(licensed_server, ["agent:concurrent=1", "agent:assignable=1"])
    other, other_org = setup_server(licensed_server, ["agent:concurrent=2"], server_id="CIC-B")
    return {"server": server, "org": org, "other": other, "other_org": other_org}


def refusal(**kwargs) -> ClientCheckoutRefused:
    with pytest.raises(ClientCheckoutRefused) as refused:
        client_checkout(**kwargs)
    return refused.value


def test_a_client_checks_a_seat_out_and_asking_again_takes_nothing(world):
    member(world["org"], "bob")
    first = client_checkout(server=world["server"], username="bob", client_id="desk-1")
    again = client_checkout(server=world["server"], username="bob", client_id="desk-1")
    assert isinstance(first.seat, SeatLease) and first.user.username == "bob"
    assert (first.retry, again.retry) == (False, True)
    assert again.seat.pk == first.seat.pk
    assert pool_in_use(world["server"], "agent", "concurrent") == 1


def test_a_user_of_another_server_is_unknown_here_and_nothing_is_taken(world):
    member(world["other_org"], "bob")
    refused = refusal(server=world["server"], username="bob", client_id="desk-1")
    assert refused.code == "unknown_user"
    assert str(refused) == (
        "No active user “bob” is a member of an active organization on server CIC-SEATS."
    )
    assert not SeatLease.objects.exists()


def test_a_station_of_another_server_is_unknown_and_nothing_is_taken(world):
    bob = member(world["org"], "bob")
    elsewhere = OrganizationFactory(server=world["other"], name="Elsewhere")
    bob.memberships.create(organization=elsewhere, role="agent")
    StationFactory(organization=elsewhere, name="Desk-9")
    refused = refusal(
        server=world["server"], username="bob", client_id="desk-1", station_name="Desk-9"
    )
    assert refused.code == "unknown_station"
    assert "no station named “Desk-9”" in refused.message and "CIC-SEATS" in refused.message
    assert pool_in_use(world["server"], "agent", "concurrent") == 0


def test_a_full_pool_refuses_with_the_login_message_and_records_the_denial(world):
    member(world["org"], "ann")
    member(world["org"], "bob")
    client_checkout(server=world["server"], username="ann", client_id="a")
    refused = refusal(server=world["server"], username="bob", client_id="b")
    assert refused.code == "pool_full"
    assert "1 of 1 in use" in refused.message
    assert SeatDenial.objects.get().user.username == "bob"
    assert pool_in_use(world["server"], "agent", "concurrent") == 1


def test_an_assigned_user_gets_their_seat_or_no_seat_assigned(world):
    alice = member(world["org"], "alice", method="assigned")
    assert refusal(server=world["server"], username="alice", client_id="a").code == (
        "no_seat_assigned"
    )
    [seat] = seat_assign(user=alice)
    held = client_checkout(server=world["server"], username="alice", client_id="a")
    assert (held.seat, held.retry) == (seat, False)


def test_a_station_in_use_is_refused_and_the_seat_given_back(world, licensed_server):
    server, org = setup_server(licensed_server, ["agent:concurrent=2"], server_id="CIC-C")
    member(org, "bob")
    member(org, "cat")
    StationFactory(organization=org, name="Desk-7")
    client_checkout(server=server, username="bob", client_id="b", station_name="Desk-7")
    refused = refusal(server=server, username="cat", client_id="c", station_name="Desk-7")
    assert refused.code == "station_in_use"
    assert pool_in_use(server, "agent", "concurrent") == 1


def test_a_member_of_the_wallboard_organization_only_needs_no_seat(world):
    lobby = OrganizationFactory(server=world["server"], name="Lobby", is_wallboard=True)
    member(lobby, "screen-1")
    refused = refusal(server=world["server"], username="screen-1", client_id="w")
    assert refused.code == "no_seat_required"
    assert "needs no seat on server CIC-SEATS" in refused.message
    assert not SeatLease.objects.exists()


def test_an_inactive_user_or_a_member_only_of_an_inactive_organization_is_unknown(world):
    member(world["org"], "gone", is_active=False)
    closed = OrganizationFactory(server=world["server"], name="Closed", is_active=False)
    member(closed, "dora")
    for username in ("gone", "dora"):
        refused = refusal(server=world["server"], username=username, client_id="c")
        assert (refused.code, refused.message) == (
            "unknown_user",
            f"No active user “{username}” is a member of an active organization on server "
            "CIC-SEATS.",
        )
    assert not SeatLease.objects.exists()


def test_asking_again_is_a_retry_only_for_this_clients_lease_of_this_user_on_this_server(world):
    bob = member(world["org"], "bob")
    bob.memberships.create(organization=world["other_org"], role="agent")
    member(world["other_org"], "ann")
    here = client_checkout(server=world["server"], username="bob", client_id="c")
    # The key's server only: bob's membership on the other server takes nothing there.
    assert [(s.user.username, s.server_id) for s in SeatLease.objects.active()] == [
        ("bob", world["server"].pk)
    ]
    there = client_checkout(server=world["other"], username="bob", client_id="c")
    client_checkout(server=world["other"], username="ann", client_id="c")  # the same client id
    again_here = client_checkout(server=world["server"], username="bob", client_id="c")
    again_there = client_checkout(server=world["other"], username="bob", client_id="c")
    assert (again_here.seat.pk, again_here.retry) == (here.seat.pk, True)
    assert (again_there.seat.pk, again_there.retry) == (there.seat.pk, True)
    assert SeatLease.objects.active().count() == 3


def test_a_second_client_sharing_the_users_seat_is_not_told_it_held_it(world, settings):
    settings.IWP_ALLOW_PARALLEL_SESSIONS = True
    member(world["org"], "bob")
    first = client_checkout(server=world["server"], username="bob", client_id="desk-1")
    second = client_checkout(server=world["server"], username="bob", client_id="desk-2")
    assert second.seat.pk == first.seat.pk  # one seat, shared
    assert second.retry is False  # desk-2 did not hold it: the API answers 201


def test_the_login_refusals_keep_their_code_and_their_words(world, licensed_server):
    member(world["org"], "alice", method="assigned")
    no_seat = refusal(server=world["server"], username="alice", client_id="a")
    assert (no_seat.code, no_seat.message) == (
        "no_seat_assigned",
        "No Agent access (IWP_Agent) Assignable seat is assigned to alice on server CIC-SEATS. "
        "Ask an administrator to assign one, or log in at a station that has one.",
    )
    server, org = setup_server(licensed_server, ["agent:concurrent=2"], server_id="CIC-C")
    member(org, "bob")
    member(org, "cat")
    StationFactory(organization=org, name="Desk-7")
    client_checkout(server=server, username="bob", client_id="b", station_name="Desk-7")
    since = timezone.localtime(StationOccupancy.objects.get().since)
    in_use = refusal(server=server, username="cat", client_id="c", station_name="Desk-7")
    assert (in_use.code, in_use.message) == (
        "station_in_use",
        f"Station Desk-7 is in use: bob has been logged in there since {since:%H:%M} "
        f"({since:%Y-%m-%d}). One person at a time at a station: ask them to log out, or log in "
        "at another station.",
    )
    assert str(in_use) == in_use.message


def test_an_assigned_users_check_out_names_the_user_holding_the_seat(world):
    alice = member(world["org"], "alice", method="assigned")
    [seat] = seat_assign(user=alice)
    held = client_checkout(server=world["server"], username="alice", client_id="a")
    assert (held.user, held.seat, held.retry) == (alice, seat, False)


def test_a_wallboard_only_member_is_told_in_full_why_no_seat_is_taken(world):
    lobby = OrganizationFactory(server=world["server"], name="Lobby", is_wallboard=True)
    member(lobby, "screen-1")
    refused = refusal(server=world["server"], username="screen-1", client_id="w")
    assert refused.message == (
        "screen-1 needs no seat on server CIC-SEATS (a member of its wallboard organization only)."
    )
