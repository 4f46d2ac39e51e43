"""A membership removed (seats/services/members.py ``membership_remove``): the seats the user held
on that server are released by whoever removed it, unless another active organization of the
same server still needs them; another server's seats and other users' seats are untouched."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session

from organizations.models import Membership, User
from seats.models import ReleaseReason, SeatAssignment, SeatLease
from seats.services.assignments import seat_assign
from seats.services.leases import lease_acquire
from seats.services.members import membership_remove
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.history import history

from .seat_helpers import member, pool_in_use, setup_server

pytestmark = pytest.mark.django_db

ENTITLEMENTS = ["agent:concurrent=3", "agent:assignable=3"]


@pytest.fixture
def servers(licensed_server):
    """Northwind on CIC-SEATS, Eastwind on CIC-OTHER."""
    server, northwind = setup_server(licensed_server, ENTITLEMENTS)
    other, eastwind = setup_server(licensed_server, ENTITLEMENTS, server_id="CIC-OTHER")
    eastwind.name = "Eastwind"
    eastwind.save()
    return server, northwind, other, eastwind


@pytest.fixture
def root():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def session():
    store = SessionStore()
    store.create()
    return store.session_key


def take(user, server):
    """A Concurrent seat of ``user`` on ``server`` only, held by a session of its own."""
    [lease] = lease_acquire(user=user, session_key=session(), server_id=server.pk)
    return lease


def test_a_concurrent_members_seat_on_the_server_is_released_by_the_administrator_who_removed_them(
    servers, root
):
    """Their session there is signed out; their seat on another server (another organization's
    membership, another session) and another member's seat on the server stay held."""
    server, northwind, other, eastwind = servers
    carol = member(northwind, "carol")
    MembershipFactory(user=carol, organization=eastwind)
    dave = member(northwind, "dave")
    here, there, daves = take(carol, server), take(carol, other), take(dave, server)
    membership = Membership.objects.get(user=carol, organization=northwind)
    removed_pk = membership.pk

    released = membership_remove(membership=membership, acting_user=root)

    assert [(s.pk, s.server_id, s.user_id) for s in released] == [(here.pk, server.pk, carol.pk)]
    here.refresh_from_db()
    assert (here.release_reason, here.released_by) == (ReleaseReason.ADMIN, root)
    assert not Session.objects.filter(session_key=here.session_key).exists()
    assert set(SeatLease.objects.active().values_list("pk", flat=True)) == {there.pk, daves.pk}
    assert Session.objects.filter(session_key=there.session_key).exists()
    assert pool_in_use(server, "agent", "concurrent") == 1
    assert pool_in_use(other, "agent", "concurrent") == 1
    assert not Membership.objects.filter(pk=removed_pk).exists()
    assert [(e.label, e.actor) for e in history(Membership(pk=removed_pk))][-1] == (
        "delete",
        "root",
    )


def test_an_assigned_members_seat_on_the_server_is_unassigned_by_the_administrator(servers, root):
    """Their Assignable seat on another server (Eastwind's membership) stays assigned."""
    server, northwind, other, eastwind = servers
    gina = member(northwind, "gina", method="assigned")
    MembershipFactory(user=gina, organization=eastwind)
    seat_assign(user=gina)
    here = SeatAssignment.objects.get(user=gina, server=server)
    there = SeatAssignment.objects.get(user=gina, server=other)

    released = membership_remove(
        membership=Membership.objects.get(user=gina, organization=northwind), acting_user=root
    )

    assert [(s.pk, s.server_id) for s in released] == [(here.pk, server.pk)]
    here.refresh_from_db()
    assert (here.release_reason, here.released_by) == (ReleaseReason.UNASSIGNED, root)
    assert list(SeatAssignment.objects.active().values_list("pk", flat=True)) == [there.pk]
    assert pool_in_use(server, "agent", "assignable") == 0
    assert pool_in_use(other, "agent", "assignable") == 1


def test_another_active_organization_on_the_server_keeps_the_seat_an_inactive_one_does_not(
    servers,
):
    server, northwind, _, _ = servers
    sister = OrganizationFactory(server=server, name="Sister")
    dormant = OrganizationFactory(server=server, name="Dormant")
    erin = member(northwind, "erin")
    MembershipFactory(user=erin, organization=sister)
    frank = member(northwind, "frank")
    MembershipFactory(user=frank, organization=dormant)
    erins, franks = take(erin, server), take(frank, server)
    dormant.is_active = False
    dormant.save()

    kept = membership_remove(membership=Membership.objects.get(user=erin, organization=northwind))
    gone = membership_remove(membership=Membership.objects.get(user=frank, organization=northwind))

    assert kept == []
    assert [s.pk for s in gone] == [franks.pk]
    assert list(SeatLease.objects.active().values_list("pk", flat=True)) == [erins.pk]


def test_a_member_holding_both_kinds_of_seat_has_both_released_and_returned(servers, root):
    """An Assignable seat kept from before their method became Concurrent, and the Concurrent
    seat of their session: the caller (the admin's message counts them) gets both."""
    server, northwind, _, _ = servers
    hank = member(northwind, "hank", method="assigned")
    [assignment] = seat_assign(user=hank)
    User.objects.filter(pk=hank.pk).update(license_method=User.LicenseMethod.CONCURRENT)
    hank.refresh_from_db()
    lease = take(hank, server)

    released = membership_remove(
        membership=Membership.objects.get(user=hank, organization=northwind), acting_user=root
    )

    assert sorted((type(s).__name__, s.pk) for s in released) == [
        ("SeatAssignment", assignment.pk),
        ("SeatLease", lease.pk),
    ]
    assert pool_in_use(server, "agent", "assignable") == 0
    assert pool_in_use(server, "agent", "concurrent") == 0
