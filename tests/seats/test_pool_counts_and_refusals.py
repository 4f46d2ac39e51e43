"""What seats/services/pools.py tells: a pool's seats in use as committed, read for the one
server, license and method asked; and the refusal's figures, which every seat path carries on
(the admin's bulk assignment, a membership change, the seat API's check-out)."""

import pytest

from licenses.exceptions import LicenseLimitReached
from seats.services.assignments import seat_assign_bulk
from seats.services.login import client_seats_take
from seats.services.pools import pool_in_use, refusal

from .seat_helpers import member, setup_server

pytestmark = pytest.mark.django_db


def test_a_pools_count_is_the_one_of_its_server_license_and_method(licensed_server):
    entitlements = ["agent:assignable=3", "supervisor:assignable=3", "agent:concurrent=3"]
    one, north = setup_server(licensed_server, entitlements, server_id="CIC-ONE")
    two, south = setup_server(licensed_server, entitlements, server_id="CIC-TWO")
    seat_assign_bulk(
        users=[member(north, f"n{i}", method="assigned") for i in range(2)]
        + [member(north, "boss", method="assigned", role="supervisor")]
        + [member(south, "s0", method="assigned")]
    )
    client_seats_take(user=member(south, "bob"), server_id=two.pk, client_id="pc-1")

    def count(server, license_type, method):
        return pool_in_use(server_id=server.pk, license_type=license_type, method=method)

    assert count(one, "agent", "assignable") == 2
    assert count(one, "supervisor", "assignable") == 1
    assert count(one, "agent", "concurrent") == 0
    assert count(two, "agent", "assignable") == 1
    assert count(two, "agent", "concurrent") == 1


def test_a_refused_check_out_carries_the_pools_server_license_method_and_figures(
    licensed_server,
):
    server, organization = setup_server(licensed_server, ["agent:concurrent=1"])
    client_seats_take(user=member(organization, "ann"), server_id=server.pk, client_id="a")
    with pytest.raises(LicenseLimitReached) as refused:
        client_seats_take(user=member(organization, "bob"), server_id=server.pk, client_id="b")
    full = refused.value
    assert full.message == (
        "No Agent access (IWP_Agent) Concurrent seat is free on server CIC-SEATS: 1 of 1 in use. "
        "Try again when someone logs out."
    )
    assert (full.server_id, full.license_type, full.method, full.code) == (
        "CIC-SEATS",
        "agent",
        "concurrent",
        "pool_full",
    )
    assert (full.in_use, full.capacity) == (1, 1)


def test_a_refusal_without_advice_ends_with_its_count():
    one = refusal(
        server_name="CIC-SEATS", license_type="agent", method="assignable", in_use=2, capacity=2
    )
    assert one.message == (
        "No Agent access (IWP_Agent) Assignable seat is free on server CIC-SEATS: 2 of 2 in use."
    )
