"""Members of an organization: a new user made a member, a membership removed with the seats
it no longer needs.

The admin edits users and memberships through its forms; the portal's organization
administrators (portal/services/members.py) write them through these functions, which record
who acted.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from licenses.audit import acting_as
from organizations.models import Membership, Organization, User

from ..models import ReleaseReason, SeatAssignment, SeatLease
from .assignments import seat_release
from .leases import lease_release


def member_create(
    *,
    organization: Organization,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: str = Membership.Role.AGENT,
    license_method: str = User.LicenseMethod.ASSIGNED,
    acting_user: User | None = None,
) -> Membership:
    """A new user, without a password (they are invited to choose one), member of
    ``organization`` with ``role``. Raises ValidationError per field (the username taken,
    an e-mail address that is none...); nothing is written then."""
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        license_method=license_method,
    )
    user.set_unusable_password()
    user.full_clean(exclude=["password"])  # the username's characters and uniqueness, lengths
    membership = Membership(user=user, organization=organization, role=role)
    membership.full_clean(exclude=["user"])
    with transaction.atomic(), acting_as(acting_user):
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:  # taken between the check and the insert
            raise ValidationError(
                {"username": User._meta.get_field("username").error_messages["unique"]}
            ) from None
        membership.user = user
        membership.save()
    return membership


def membership_remove(*, membership: Membership, acting_user: User | None = None) -> list:
    """Remove ``membership``. When the user keeps no membership of an active organization on its
    server, the seats they hold there are released (Assignable ones unassigned, Concurrent ones
    released by an administrator, which signs those sessions out); a seat they still need there
    for another organization stays. Returns the seats released."""
    server_id = membership.organization.server_id
    with transaction.atomic(), acting_as(acting_user):
        # The user's row lock: a login of theirs (which reads their memberships) takes turns.
        user = User.objects.select_for_update().get(pk=membership.user_id)
        membership.delete()
        if Membership.objects.filter(
            user=user, organization__server_id=server_id, organization__is_active=True
        ).exists():
            return []
        released = []
        assigned = list(
            SeatAssignment.objects.active()
            .filter(user=user, server_id=server_id)
            .values_list("pk", flat=True)
        )
        if assigned:
            released += seat_release(assignments=assigned, acting_user=acting_user)
        leases = list(
            SeatLease.objects.active()
            .filter(user=user, server_id=server_id)
            .values_list("pk", flat=True)
        )
        if leases:
            released += lease_release(
                leases=leases, reason=ReleaseReason.ADMIN, acting_user=acting_user
            )
    return released


__all__ = ["member_create", "membership_remove"]
