"""Members of an organization: a new user made a member, a member's role changed with the seat
following it, a membership removed with the seats it no longer needs.

The admin's membership pages (the user page's memberships, *Memberships*) change a role through
``membership_change_role``; the portal's organization administrators
(portal/services/members.py) write members through these functions too, which record who acted.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from licenses.audit import acting_as
from licenses.exceptions import LicenseLimitReached
from licenses.models import Method, license_label
from organizations.models import Membership, Organization, User

from ..models import ReleaseReason, SeatAssignment, SeatLease
from ..rules import user_seat_requirements
from .assignments import seat_assign_bulk, seat_release
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
    user.full_clean()  # the username's characters and uniqueness, lengths
    membership = Membership(organization=organization, role=role)
    membership.full_clean(exclude=["user"])  # its user is given once saved
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


def _needed_on(user: User, server_id: int) -> str | None:
    """The access license ``user`` needs on the server (None: no active membership there)."""
    return next(
        (r.license_type for r in user_seat_requirements(user=user) if r.server_id == server_id),
        None,
    )


def _a(text: str) -> str:
    return f"{'an' if text[0] in 'AEIOUaeiou' else 'a'} {text}"


def _role_name(role: str) -> str:
    return _a(str(Membership.Role(role).label).lower())


def membership_change_role(
    *, membership: Membership, role: str, acting_user: User | None = None
) -> str:
    """Make the member ``role`` in the membership's organization. When that changes the access
    license the user needs on its server (seats/rules.py), their seat follows in the same
    transaction: an Assigned user's Assignable seat of the old license is exchanged for one of
    the new (LicenseLimitReached when none is free: the role stays as it was); a Concurrent
    user's seat of the old license is released, which signs that session out, and the next
    sign-in takes one of the new. Returns the sentence saying what changed."""
    if role not in Membership.Role.values:
        raise ValidationError({"role": f"“{role}” is not a role."})
    organization = membership.organization
    server_id = organization.server_id
    with transaction.atomic(), acting_as(acting_user):
        # The user's row lock: a login of theirs (which reads their memberships) takes turns.
        user = User.objects.select_for_update().get(pk=membership.user_id)
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        old = locked.role
        if old == role:
            return f"{user.username} is already {_role_name(role)} of {organization.name}."
        before = _needed_on(user, server_id)
        locked.role = role
        locked.save(update_fields=["role"])
        after = _needed_on(user, server_id)
        said = f"{user.username} is now {_role_name(role)} of {organization.name}"
        if before == after:
            follows = "; the seat they need is unchanged" if after else ""
        elif user.license_method == User.LicenseMethod.ASSIGNED:
            follows = _exchange_assigned(user, server_id, before, after, old, acting_user)
        else:
            follows = _release_concurrent(user, server_id, before, after, acting_user)
    membership.role = role
    return said + follows + "."


def _exchange_assigned(user, server_id, before, after, old_role, acting_user) -> str:
    # ``before`` and ``after`` are both licenses: they differ only when the membership changed
    # counts on the server (an active organization's), and then it needs one either way.
    held = SeatAssignment.objects.active().filter(
        user=user, server_id=server_id, license_type=before
    )
    new = license_label(after, Method.ASSIGNABLE)
    if not held.exists():
        return f"; they need {_a(new)} seat to sign in, and hold none yet"
    try:  # releases the seat of the old license (role change) and takes one of the new
        seat_assign_bulk(users=[user], acting_user=acting_user, server_ids=[server_id])
    except LicenseLimitReached as exc:
        raise LicenseLimitReached(
            f"{exc.message} {user.username} stays {_role_name(old_role)}.",
            server_id=exc.server_id,
            license_type=exc.license_type,
            method=exc.method,
            in_use=exc.in_use,
            capacity=exc.capacity,
            code=exc.code,
        ) from None
    return (
        f"; their {license_label(before, Method.ASSIGNABLE)} seat was exchanged for {_a(new)} seat"
    )


def _release_concurrent(user, server_id, before, after, acting_user) -> str:
    leases = list(
        SeatLease.objects.active()
        .filter(user=user, server_id=server_id, license_type=before)
        .values_list("pk", flat=True)
    )
    new = license_label(after, Method.CONCURRENT)  # a license, as in _exchange_assigned
    if not leases:
        return f"; they take {_a(new)} seat when they sign in"
    lease_release(leases=leases, reason=ReleaseReason.ROLE_CHANGE, acting_user=acting_user)
    return (
        f"; their {license_label(before, Method.CONCURRENT)} seat was released and their session "
        f"signed out: they take {_a(new)} seat when they sign in again"
    )


__all__ = ["member_create", "membership_change_role", "membership_remove"]
