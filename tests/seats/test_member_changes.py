"""A new member (member_create), and a Concurrent member's role changed so that they need the
other access license (membership_change_role): the seat they hold of the old license is released
by whoever acted, their session signed out, and the sentence says so; nobody else's seat, and no
seat of theirs on another server, is touched."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from organizations.models import Membership, User
from seats.models import ReleaseReason, SeatLease
from seats.services.login import client_seats_take
from seats.services.members import member_create, membership_change_role
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.history import history

from .seat_helpers import login, member, pool_in_use, setup_server

pytestmark = pytest.mark.django_db

RELEASED = (
    "bob is now a supervisor of Northwind; their Agent access (IWP_Agent) Concurrent seat was "
    "released and their session signed out: they take a Supervisor access (IWP_Supervisor) "
    "Concurrent seat when they sign in again."
)


@pytest.fixture
def world(licensed_server):
    server, north = setup_server(licensed_server, ["agent:concurrent=2", "supervisor:concurrent=1"])
    other, south = setup_server(licensed_server, ["agent:concurrent=1"], server_id="CIC-OTHER")
    return server, north, other, south


def test_the_seat_of_the_old_license_is_released_by_the_actor_and_the_session_signed_out(world):
    server, north, other, south = world
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    bob, ann = member(north, "bob"), member(north, "ann")
    browser = Client()
    assert login(browser, "bob").status_code == 302
    MembershipFactory(user=bob, organization=south)  # and a seat there, of another client
    other_seat = client_seats_take(user=bob, server_id=other.pk, client_id="o").leases[0]
    anns = client_seats_take(user=ann, server_id=server.pk, client_id="a").leases[0]
    bobs = SeatLease.objects.active().get(user=bob, server=server)

    said = membership_change_role(
        membership=Membership.objects.get(user=bob, organization=north),
        role="supervisor",
        acting_user=root,
    )
    assert said == RELEASED
    bobs.refresh_from_db()
    assert (bobs.release_reason, bobs.released_by) == (ReleaseReason.ROLE_CHANGE, root)
    assert browser.get("/portal/").status_code == 302  # signed out
    assert set(SeatLease.objects.active()) == {anns, other_seat}
    assert pool_in_use(server, "agent", "concurrent") == 1


def test_a_member_holding_no_seat_is_told_which_they_take_at_their_next_sign_in(world):
    server, north, _, _ = world
    bob = member(north, "bob")
    said = membership_change_role(
        membership=Membership.objects.get(user=bob), role="supervisor", acting_user=None
    )
    assert said == (
        "bob is now a supervisor of Northwind; they take a Supervisor access (IWP_Supervisor) "
        "Concurrent seat when they sign in."
    )
    assert not SeatLease.objects.exists()


def test_a_seat_already_of_the_new_license_is_kept(world):
    """bob took a Supervisor seat as a supervisor of Sister; that membership gone, he needs Agent
    access but still holds the Supervisor seat: becoming a supervisor of Northwind keeps it."""
    server, north, _, _ = world
    bob = member(north, "bob")
    sister = OrganizationFactory(server=server, name="Sister")
    MembershipFactory(user=bob, organization=sister, role="supervisor")
    [held] = client_seats_take(user=bob, server_id=server.pk, client_id="b").leases
    assert held.license_type == "supervisor"
    Membership.objects.filter(organization=sister).delete()
    said = membership_change_role(
        membership=Membership.objects.get(user=bob), role="supervisor", acting_user=None
    )
    assert said.endswith(
        "; they take a Supervisor access (IWP_Supervisor) Concurrent seat when they sign in."
    )
    assert list(SeatLease.objects.active()) == [held]


def test_a_new_member_is_a_user_without_a_password_made_by_the_actor(world):
    _, north, _, _ = world
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    made = member_create(
        organization=north,
        username="carol",
        email="carol@example.com",
        first_name="Carol",
        last_name="Jones",
        role="supervisor",
        acting_user=root,
    )
    carol = User.objects.get(username="carol")
    assert (made.user, made.organization, made.role) == (carol, north, "supervisor")
    assert (carol.email, carol.first_name, carol.last_name) == (
        "carol@example.com",
        "Carol",
        "Jones",
    )
    assert carol.license_method == User.LicenseMethod.ASSIGNED  # unless told otherwise
    assert not carol.has_usable_password()  # they are invited to choose one
    assert [(e.label, e.actor) for e in history(carol)] == [("insert", "root")]
    assert [(e.label, e.actor) for e in history(made)] == [("insert", "root")]
    dave = member_create(
        organization=north, username="dave", email="d@example.com", license_method="concurrent"
    )
    assert (dave.role, dave.user.license_method) == ("agent", "concurrent")
    assert (dave.user.first_name, dave.user.last_name) == ("", "")  # none given, none made up


def test_a_username_taken_between_the_check_and_the_insert_is_refused_on_its_field(
    world, monkeypatch
):
    """Another administrator creates the same username after this one's checks passed: the
    database's unique constraint decides, and the refusal is the same as the check's."""
    _, north, _, _ = world
    check = Membership.full_clean

    def taken_meanwhile(self, *args, **kwargs):
        check(self, *args, **kwargs)
        UserFactory(username="carol")

    monkeypatch.setattr(Membership, "full_clean", taken_meanwhile)
    with pytest.raises(ValidationError) as refused:
        member_create(organization=north, username="carol", email="c@example.com")
    assert refused.value.message_dict == {"username": ["A user with that username already exists."]}
    assert not Membership.objects.filter(user__username="carol").exists()


def test_a_role_change_is_made_by_the_actor_and_says_so_in_plain_words(world):
    """The sentence an organization admin reads, the membership's own audit trail, and the
    object the caller holds, which now has the new role."""
    server, north, _, _ = world
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    nina = member(north, "nina", role=Membership.Role.SUPERVISOR)
    membership = Membership.objects.get(user=nina)

    said = membership_change_role(membership=membership, role="agent", acting_user=root)

    assert said == (
        "nina is now an agent of Northwind; they take an Agent access (IWP_Agent) Concurrent "
        "seat when they sign in."
    )
    assert membership.role == "agent"
    assert [(e.label, e.actor) for e in history(membership)][-1] == ("update", "root")
    again = membership_change_role(membership=membership, role="agent", acting_user=root)
    assert again == "nina is already an agent of Northwind."


def test_an_unknown_role_is_refused_on_its_field(world):
    _, north, _, _ = world
    membership = Membership.objects.get(user=member(north, "nina"))
    with pytest.raises(ValidationError) as refused:
        membership_change_role(membership=membership, role="boss")
    assert refused.value.message_dict == {"role": ["“boss” is not a role."]}
    assert Membership.objects.get(pk=membership.pk).role == "agent"


def test_a_role_change_in_an_inactive_organization_changes_no_seat(world):
    """Its members need no seat there: before and after, nothing to say about seats."""
    _, north, _, _ = world
    bob = member(north, "bob")
    north.is_active = False
    north.save()
    said = membership_change_role(membership=Membership.objects.get(user=bob), role="supervisor")
    assert said == "bob is now a supervisor of Northwind."


def test_a_new_member_refused_per_field_writes_nothing(world):
    _, north, _, _ = world
    member(north, "bob")
    with pytest.raises(ValidationError) as taken:
        member_create(organization=north, username="bob", email="b2@example.com")
    assert taken.value.message_dict == {"username": ["A user with that username already exists."]}
    with pytest.raises(ValidationError) as bad:
        member_create(organization=north, username="eve", email="not an address", role="boss")
    assert set(bad.value.message_dict) == {"email"}
    with pytest.raises(ValidationError) as role:
        member_create(organization=north, username="eve", email="eve@example.com", role="boss")
    assert set(role.value.message_dict) == {"role"}
    assert not User.objects.filter(username="eve").exists()
    assert Membership.objects.count() == 1
