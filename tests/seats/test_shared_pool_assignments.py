"""A bulk assignment over a shared pool (an organization's cap or reserve in it) and another pool:
every pool is checked, the refusal names each that is short, and carries the first one's rule."""

import pytest

from licenses.exceptions import LicenseLimitReached
from seats.models import SeatAssignment
from seats.services.assignments import seat_assign_bulk
from seats.services.shares import pool_share_set

from .seat_helpers import member, pool_in_use, setup_server

pytestmark = pytest.mark.django_db


def test_a_cap_and_a_short_pool_are_both_named_and_the_cap_is_the_refusals_rule(
    licensed_server, admin_user
):
    server, north = setup_server(licensed_server, ["agent:assignable=6", "supervisor:assignable=1"])
    pool_share_set(
        organization=north,
        license_type="agent",
        method="assignable",
        reserve=0,
        cap=1,
        acting_user=None,
    )
    agents = [member(north, f"a{i}", method="assigned") for i in range(2)]
    supervisors = [member(north, f"s{i}", method="assigned", role="supervisor") for i in range(2)]
    with pytest.raises(LicenseLimitReached) as refused:
        seat_assign_bulk(users=agents + supervisors, acting_user=admin_user)
    assert refused.value.message == (
        "Northwind is at its cap of 1 Agent access (IWP_Agent) Assignable seats on server "
        "CIC-SEATS: 0 of 1 in use, 2 more asked for. Try again when one of its seats is given "
        "back, or ask an administrator to raise the cap. "
        "Not enough Supervisor access (IWP_Supervisor) Assignable seats on server CIC-SEATS: "
        "2 needed, 1 free (0 of 1 in use), 1 seat missing. Nothing was assigned."
    )
    capped = refused.value
    assert (capped.code, capped.license_type, capped.in_use, capped.capacity) == (
        "cap_reached",
        "agent",
        0,
        1,
    )
    assert not SeatAssignment.objects.exists()
    assert pool_in_use(server, "agent", "assignable") == 0
    assert pool_in_use(server, "supervisor", "assignable") == 0
