"""An Assigned user's login: they, or the station they log in at, must hold an Assignable seat."""

from __future__ import annotations

from django.db.models import Q

from licenses.exceptions import LicenseMissing
from licenses.models import Method, license_label
from organizations.models import Server, Station, User

from ...models import SeatAssignment
from ...rules import user_seat_requirements


class NoSeatAssigned(LicenseMissing):
    """An Assigned user logs in without an Assignable seat of the license they need (theirs or
    their station's)."""


def station_for_login(*, user: User, name: str) -> Station | None:
    """The station named ``name`` in one of the user's organizations, or None."""
    return (
        Station.objects.filter(organization__memberships__user=user, name__iexact=name.strip())
        .select_related("organization__server")
        .first()
    )


def assigned_seat_check(
    *, user: User, station: Station | None = None, server_id: int | None = None
) -> list[SeatAssignment]:
    """The Assignable seats an Assigned user logs in with: theirs, or their station's, of
    the license they need (on ``server_id`` only, when given).

    Raises NoSeatAssigned, naming the license, the server and the station, when one is missing.
    """
    if user.license_method != User.LicenseMethod.ASSIGNED:
        return []
    requirements = [
        r
        for r in user_seat_requirements(user=user)
        if server_id is None or r.server_id == server_id
    ]
    if not requirements:
        return []
    holder = Q(user=user) | Q(station=station) if station is not None else Q(user=user)
    seats = SeatAssignment.objects.active().filter(
        holder, server_id__in=[r.server_id for r in requirements]
    )
    held = {(s.server_id, s.license_type): s for s in seats}
    found = []
    for req in requirements:
        seat = held.get((req.server_id, req.license_type))
        if seat is None:
            server = Server.objects.get(pk=req.server_id)
            where = f" or to station {station.name}" if station is not None else ""
            raise NoSeatAssigned(
                f"No {license_label(req.license_type, Method.ASSIGNABLE)} seat "
                f"is assigned to {user.get_username()}{where} "
                f"on server {server.server_id}. Ask an administrator to assign one"
                + ("" if station is not None else ", or log in at a station that has one")
                + ".",
                server_id=server.server_id,
                license_type=req.license_type,
            )
        found.append(seat)
    return found
