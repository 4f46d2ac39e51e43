"""Which access license a user needs, written once.

A user needs the Supervisor access license if any of their memberships (on that server) is
supervisor or organization admin, otherwise the Agent access license. Memberships of inactive
organizations do not count: an inactive organization uses no license.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from organizations.models import Membership, User

from .models import LicenseType, Method


def required_license(roles: Iterable[str]) -> LicenseType:
    """Supervisor access if any role is supervisor or organization admin, otherwise Agent access."""
    return LicenseType.SUPERVISOR if any(r in Membership.SUPERVISOR_ROLES for r in roles) else LicenseType.AGENT


def seat_method(user: User) -> Method:
    """The seat method of every seat ``user`` holds: Assignable for Assigned users, Concurrent for Concurrent users."""
    return Method.CONCURRENT if user.license_method == User.LicenseMethod.CONCURRENT else Method.ASSIGNABLE


@dataclass(frozen=True)
class SeatRequirement:
    """The seat one user needs on one server, and the organization it is counted for."""

    user_id: int
    server_id: int
    organization_id: int
    license_type: str


def seat_requirements(*, user_ids: Iterable[int], server_id: int | None = None) -> dict[int, list[SeatRequirement]]:
    """Per user id, one requirement per server the user has active memberships on (one query).

    The seat is counted for the organization whose membership decided the license (the first by
    name among the supervisor memberships, or among all memberships when none is a supervisor).
    """
    qs = Membership.objects.filter(user_id__in=list(user_ids), organization__is_active=True)
    if server_id is not None:
        qs = qs.filter(organization__server_id=server_id)
    rows = qs.order_by("user_id", "organization__server_id", "organization__name", "organization_id").values_list(
        "user_id", "organization__server_id", "organization_id", "role"
    )
    grouped: dict[tuple[int, int], list[tuple[int, str]]] = {}
    for user_id, srv, org, role in rows:
        grouped.setdefault((user_id, srv), []).append((org, role))
    result: dict[int, list[SeatRequirement]] = {}
    for (user_id, srv), memberships in grouped.items():
        license_type = required_license(role for _, role in memberships)
        deciding = [org for org, role in memberships if role in Membership.SUPERVISOR_ROLES] or [org for org, _ in memberships]
        result.setdefault(user_id, []).append(SeatRequirement(user_id, srv, deciding[0], license_type.value))
    return result


def user_seat_requirements(*, user: User, server_id: int | None = None) -> list[SeatRequirement]:
    return seat_requirements(user_ids=[user.pk], server_id=server_id).get(user.pk, [])
