"""An Assigned member's role changed so that they need the other access license
(membership_change_role): their Assignable seat of the old license is exchanged for one of the new
on that server only, in the name of whoever acted; with none held they are told which they need;
with none free the change is refused whole, with the pool's figures, and the role stays."""

import pytest

from licenses.exceptions import LicenseLimitReached
from organizations.models import Membership
from seats.models import ReleaseReason, SeatAssignment
from seats.services.assignments import seat_assign
from seats.services.members import membership_change_role
from tests.factories import MembershipFactory, UserFactory
from tests.history import history

from .seat_helpers import member, setup_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(licensed_server):
    server, north = setup_server(licensed_server, ["agent:assignable=3", "supervisor:assignable=1"])
    other, south = setup_server(licensed_server, ["agent:assignable=2"], server_id="CIC-OTHER")
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    return server, north, other, south, root


def seats_of(user):
    return sorted(
        SeatAssignment.objects.active()
        .filter(user=user)
        .values_list("server__server_id", "license_type")
    )


def make_supervisor(user, organization, root):
    return membership_change_role(
        membership=Membership.objects.get(user=user, organization=organization),
        role="supervisor",
        acting_user=root,
    )


def test_the_seat_is_exchanged_on_that_server_only_in_the_name_of_the_administrator(world):
    server, north, other, south, root = world
    bob = member(north, "bob", method="assigned")
    [old] = seat_assign(user=bob, acting_user=root)
    MembershipFactory(user=bob, organization=south)  # needs a seat there too, holds none yet

    said = make_supervisor(bob, north, root)

    assert said == (
        "bob is now a supervisor of Northwind; their Agent access (IWP_Agent) Assignable seat "
        "was exchanged for a Supervisor access (IWP_Supervisor) Assignable seat."
    )
    assert seats_of(bob) == [("CIC-SEATS", "supervisor")]
    new = SeatAssignment.objects.active().get(user=bob)
    assert [(e.label, e.actor) for e in history(new)] == [("insert", "root")]
    old.refresh_from_db()
    assert (old.released_by, old.release_reason) == (root, ReleaseReason.ROLE_CHANGE)


def test_holding_no_seat_they_are_told_which_they_need_and_no_one_elses_is_touched(world):
    server, north, other, south, root = world
    ann = member(north, "ann", method="assigned")
    seat_assign(user=ann, acting_user=root)  # an agent seat of the old license, but ann's
    bob = member(south, "bob", method="assigned")
    seat_assign(user=bob, acting_user=root)  # bob's only seat: on the other server
    MembershipFactory(user=bob, organization=north)

    said = make_supervisor(bob, north, root)

    assert said == (
        "bob is now a supervisor of Northwind; they need a Supervisor access (IWP_Supervisor) "
        "Assignable seat to sign in, and hold none yet."
    )
    assert seats_of(bob) == [("CIC-OTHER", "agent")]
    assert seats_of(ann) == [("CIC-SEATS", "agent")]


def test_with_no_seat_free_the_change_is_refused_whole_with_the_pools_figures(world):
    server, north, other, south, root = world
    nina = member(north, "nina", method="assigned", role=Membership.Role.SUPERVISOR)
    seat_assign(user=nina, acting_user=root)  # the only supervisor seat
    bob = member(north, "bob", method="assigned")
    seat_assign(user=bob, acting_user=root)

    with pytest.raises(LicenseLimitReached) as refused:
        make_supervisor(bob, north, root)

    exc = refused.value
    assert str(exc) == (
        "No Supervisor access (IWP_Supervisor) Assignable seat is free on server CIC-SEATS: "
        "1 of 1 in use. Nothing was assigned. bob stays an agent."
    )
    assert (exc.server_id, exc.license_type, exc.method, exc.in_use, exc.capacity, exc.code) == (
        "CIC-SEATS",
        "supervisor",
        "assignable",
        1,
        1,
        "pool_full",
    )
    assert Membership.objects.get(user=bob).role == Membership.Role.AGENT
    assert seats_of(bob) == [("CIC-SEATS", "agent")]


def test_a_change_refused_by_the_organizations_cap_says_so_and_carries_its_code(world):
    """The supervisor pool has a free seat, but Northwind's cap in it is reached: the refusal is
    the cap's (the seat API and the portal tell it apart by its code), and the role stays."""
    from seats.services.shares import pool_share_set

    server, north, other, south, root = world
    pool_share_set(
        organization=north,
        license_type="supervisor",
        method="assignable",
        reserve=0,
        cap=0,
        acting_user=None,
    )
    bob = member(north, "bob", method="assigned")
    seat_assign(user=bob, acting_user=root)

    with pytest.raises(LicenseLimitReached) as refused:
        make_supervisor(bob, north, root)

    assert (refused.value.code, refused.value.in_use, refused.value.capacity) == (
        "cap_reached",
        0,
        0,
    )
    assert str(refused.value).startswith("Northwind is at its cap of 0 Supervisor access")
    assert str(refused.value).endswith(" bob stays an agent.")
    assert Membership.objects.get(user=bob).role == Membership.Role.AGENT
    assert seats_of(bob) == [("CIC-SEATS", "agent")]
