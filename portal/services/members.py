"""What an organization administrator does to their organization's members and stations in the
portal, through the services the admin uses: seat_assign_bulk, seat_release, user_change_method,
lease_release, invitation_send, invitations_withdraw, and seats' member_create,
membership_change_role and membership_remove. (Stations are created with seats' station_create.)

An organization administrator manages the organization's agents and supervisors: their role
(agent or supervisor), seats, method, invitation and membership. Not organization administrators
(themselves included: an administrator manages those in the admin), and not the role, seats,
method or invitation of a user who is also a member of another organization, which shares them
(such a user can be removed from this one). An organization administrator creates new users
only: adding an existing user would reach a user another organization manages, and tell whether
a username exists elsewhere.

Each function raises ValidationError with a sentence when it is not theirs to do; the seat
services' own refusals (LicenseLimitReached) pass through unchanged, with their messages.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from organizations.models import Membership, Organization, User
from seats.models import ReleaseReason, SeatAssignment, SeatLease
from seats.services.assignments import (
    AssignResult,
    seat_assign_bulk,
    seat_release,
    user_change_method,
)
from seats.services.leases import lease_release
from seats.services.members import member_create, membership_change_role, membership_remove

from ..models import Invitation
from . import InvitationsSent, invitation_send, invitations_send, invitations_withdraw

# The roles an organization administrator gives and takes away.
MANAGED_ROLES = (Membership.Role.AGENT, Membership.Role.SUPERVISOR)


def member_refusal(
    *, membership: Membership, acting_user: User, removing: bool = False
) -> str | None:
    """Why ``acting_user``, an organization administrator of the membership's organization, may
    not manage this member (``removing``: remove them from it), or None.

    Reads ``membership.elsewhere`` when the list annotated it (no query per row), else asks.
    """
    user = membership.user
    if user.pk == acting_user.pk:
        return "You cannot change your own membership, seats or method here: an administrator can."
    if membership.role not in MANAGED_ROLES:
        return (
            f"{user.username} is an organization administrator: an administrator manages "
            "their membership, seats and method."
        )
    if removing:
        return None
    elsewhere = getattr(membership, "elsewhere", None)
    if elsewhere is None:
        elsewhere = (
            Membership.objects.filter(user_id=user.pk)
            .exclude(organization_id=membership.organization_id)
            .exists()
        )
    if elsewhere:
        return (
            f"{user.username} is also a member of another organization, which shares their "
            "seats and method: an administrator manages them."
        )
    return None


def _check(membership: Membership, acting_user: User, *, removing: bool = False) -> None:
    refusal = member_refusal(membership=membership, acting_user=acting_user, removing=removing)
    if refusal:
        raise ValidationError(refusal)


def member_seat_assign(*, membership: Membership, acting_user: User) -> AssignResult:
    """Give an Assigned member the Assignable seat their role needs (as the admin's Assign seat
    button). Raises LicenseLimitReached when none is free."""
    _check(membership, acting_user)
    return seat_assign_bulk(users=[membership.user], acting_user=acting_user)


def member_seats_unassign(*, membership: Membership, acting_user: User) -> list[SeatAssignment]:
    """Release the member's Assignable seats."""
    _check(membership, acting_user)
    return seat_release(user=membership.user, acting_user=acting_user)


def member_method_change(*, membership: Membership, method: str, acting_user: User) -> str:
    """Make the member an Assigned or a Concurrent user, releasing their seats of the old method;
    returns the sentence saying what changed."""
    _check(membership, acting_user)
    return user_change_method(user=membership.user, method=method, acting_user=acting_user)


def member_role_change(*, membership: Membership, role: str, acting_user: User) -> str:
    """Make the member an agent or a supervisor; the seat follows when the license they need
    changes (seats' membership_change_role: LicenseLimitReached when the new license has no free
    Assignable seat, and the role stays). Returns the sentence saying what changed."""
    _check(membership, acting_user)
    if role not in MANAGED_ROLES:
        raise ValidationError(
            {
                "role": "An organization administrator makes members agents or supervisors; "
                "an administrator makes organization administrators."
            }
        )
    return membership_change_role(membership=membership, role=role, acting_user=acting_user)


def member_invitation_send(
    *, membership: Membership, acting_user: User, site_url: str
) -> InvitationsSent:
    """Send the member an invitation to choose a password again (the earlier link stops working)."""
    _check(membership, acting_user)
    return invitations_send(users=[membership.user], acting_user=acting_user, site_url=site_url)


def member_invite(
    *,
    organization: Organization,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: str,
    license_method: str,
    acting_user: User,
    site_url: str,
) -> Invitation:
    """A new user, member of ``organization`` as an agent or a supervisor, without a password,
    and the invitation mailed to choose one: all of it, or nothing (ValidationError per field)."""
    if role not in MANAGED_ROLES:
        raise ValidationError(
            {
                "role": "An organization administrator adds agents and supervisors; "
                "an administrator adds organization administrators."
            }
        )
    if not email:
        raise ValidationError({"email": "Enter the e-mail address the invitation goes to."})
    with transaction.atomic():
        membership = member_create(
            organization=organization,
            username=username,
            email=email,
            first_name=first_name,
            last_name=last_name,
            role=role,
            license_method=license_method,
            acting_user=acting_user,
        )
        return invitation_send(user=membership.user, acting_user=acting_user, site_url=site_url)


def member_remove(*, membership: Membership, acting_user: User) -> list:
    """Remove an agent or supervisor from the organization, releasing the seats they no longer
    need (seats.services.members.membership_remove). A user left with no organization has their
    pending invitations withdrawn: a link mailed before cannot make a password for an account
    nobody wants any more. Returns the seats released."""
    _check(membership, acting_user, removing=True)
    with transaction.atomic():
        released = membership_remove(membership=membership, acting_user=acting_user)
        if not Membership.objects.filter(user_id=membership.user_id).exists():
            invitations_withdraw(user=membership.user, acting_user=acting_user)
    return released


def session_release(*, lease: SeatLease, acting_user: User) -> list[SeatLease]:
    """Release a Concurrent seat held for the organization, as an administrator does for a stuck
    session: the session holding it is signed out."""
    if lease.user_id == acting_user.pk:
        raise ValidationError(
            "That is your own seat: log out to give it back, or your session ends it when idle."
        )
    return lease_release(leases=[lease], reason=ReleaseReason.ADMIN, acting_user=acting_user)


__all__ = [
    "MANAGED_ROLES",
    "member_invitation_send",
    "member_invite",
    "member_method_change",
    "member_refusal",
    "member_remove",
    "member_role_change",
    "member_seat_assign",
    "member_seats_unassign",
    "session_release",
]
