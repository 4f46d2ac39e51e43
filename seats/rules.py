"""Which access license a user needs, written once.

A user needs the Supervisor access license if any of their memberships (on that server) is
supervisor or organization admin, otherwise the Agent access license. Memberships of inactive
organizations do not count: an inactive organization uses no license.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection

from organizations.models import Membership, User

from .models import LicenseType
from .prepared import hot_cursor


def required_license(roles: Iterable[str]) -> LicenseType:
    """Supervisor access if any role is supervisor or organization admin, otherwise Agent access."""
    return (
        LicenseType.SUPERVISOR
        if any(r in Membership.SUPERVISOR_ROLES for r in roles)
        else LicenseType.AGENT
    )


@dataclass(frozen=True)
class SeatRequirement:
    """The seat one user needs on one server, and the organization it is counted for."""

    user_id: int
    server_id: int
    organization_id: int
    license_type: str


def seat_requirements(
    *, user_ids: Iterable[int], server_id: int | None = None
) -> dict[int, list[SeatRequirement]]:
    """Per user id, one requirement per server the user has active memberships on (one query).

    The seat is counted for the organization whose membership decided the license (the first by
    name among the supervisor memberships, or among all memberships when none is a supervisor).
    """
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    # Plain SQL: every login runs this, and compiling the equivalent queryset cost more than the query.
    sql = (
        "SELECT m.user_id, o.server_id, o.id, m.role FROM organizations_membership m "
        "JOIN organizations_organization o ON o.id = m.organization_id "
        f"WHERE m.user_id IN ({', '.join(['%s'] * len(user_ids))}) AND o.is_active"
    )
    params = [*user_ids]
    if server_id is not None:
        sql += " AND o.server_id = %s"
        params.append(server_id)
    with hot_cursor() if len(user_ids) == 1 else connection.cursor() as cursor:  # one user: a login
        cursor.execute(sql + " ORDER BY m.user_id, o.server_id, o.name, o.id", params)
        rows = cursor.fetchall()
    grouped: dict[tuple[int, int], list[tuple[int, str]]] = {}
    for user_id, srv, org, role in rows:
        grouped.setdefault((user_id, srv), []).append((org, role))
    result: dict[int, list[SeatRequirement]] = {}
    for (user_id, srv), memberships in grouped.items():
        license_type = required_license(role for _, role in memberships)
        deciding = [org for org, role in memberships if role in Membership.SUPERVISOR_ROLES] or [
            org for org, _ in memberships
        ]
        result.setdefault(user_id, []).append(
            SeatRequirement(user_id, srv, deciding[0], license_type.value)
        )
    return result


def user_seat_requirements(*, user: User, server_id: int | None = None) -> list[SeatRequirement]:
    return seat_requirements(user_ids=[user.pk], server_id=server_id).get(user.pk, [])
