"""Which access license a user needs, and for which organization it counts, written once.

A user needs the Supervisor access license on a server if any of their memberships there is
supervisor or organization admin, otherwise the Agent access license. Memberships of inactive
organizations do not count: an inactive organization uses no license.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from licenses.models import LicenseType
from organizations.models import Membership, User

from . import sql


def required_license(roles: Iterable[str]) -> LicenseType:
    """Supervisor access if any role is supervisor or organization admin, otherwise Agent access."""
    if any(role in Membership.SUPERVISOR_ROLES for role in roles):
        return LicenseType.SUPERVISOR
    return LicenseType.AGENT


@dataclass(frozen=True)
class SeatRequirement:
    """The seat one user needs on one server, and the organization it is counted for."""

    user_id: int
    server_id: int
    organization_id: int
    license_type: str


def seat_requirements(
    *, user_ids: Iterable[int], lock: bool = False
) -> dict[int, list[SeatRequirement]]:
    """Per user id, one requirement per server the user has active memberships on (one query),
    in server order. ``lock``: also lock the users' rows, so two logins of one user take turns.

    The seat is counted for the organization whose membership decided the license: the first by
    name among the supervisor memberships, or among all memberships when none is a supervisor.
    """
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    statement = sql.MEMBERSHIPS_LOCKED_SQL if lock else sql.MEMBERSHIPS_SQL
    result: dict[int, list[SeatRequirement]] = {}
    for (user_id, server_id), memberships in _by_user_and_server(
        sql.execute(statement, {"users": user_ids})
    ).items():
        license_type = required_license(role for _, role in memberships)
        supervising = [o for o, role in memberships if role in Membership.SUPERVISOR_ROLES]
        counted_for = (supervising or [o for o, _ in memberships])[0]
        result.setdefault(user_id, []).append(
            SeatRequirement(user_id, server_id, counted_for, license_type.value)
        )
    return result


def members_license(*, organization_ids, license_method: str) -> list[tuple[int, int, str]]:
    """(organization, user, license the user needs there) for every membership in
    ``organization_ids`` of an active user of that license method (one query)."""
    rows = sql.execute(
        sql.MEMBERSHIPS_OF_MEMBERS_SQL,
        {"organizations": list(organization_ids), "method": license_method},
    )
    wanted = set(organization_ids)
    return [
        (organization_id, user_id, required_license(role for _, role in memberships).value)
        for (user_id, _), memberships in _by_user_and_server(rows).items()
        for organization_id, _ in memberships
        if organization_id in wanted
    ]


def _by_user_and_server(rows) -> dict[tuple[int, int], list[tuple[int, str]]]:
    grouped: dict[tuple[int, int], list[tuple[int, str]]] = {}
    for user_id, server_id, organization_id, role in rows:
        grouped.setdefault((user_id, server_id), []).append((organization_id, role))
    return grouped


def user_seat_requirements(*, user: User, lock: bool = False) -> list[SeatRequirement]:
    return seat_requirements(user_ids=[user.pk], lock=lock).get(user.pk, [])
