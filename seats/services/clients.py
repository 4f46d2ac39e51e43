"""A seat API client's check-out: who and which station the request names on the key's server,
whether the client is asking again for the seat it holds, and the seat, with the browser login's
rules (login.client_seats_take). The API view turns the result or the refusal into HTTP."""

from __future__ import annotations

from dataclasses import dataclass

from licenses.exceptions import LicenseLimitReached
from organizations.models import Server, User

from ..models import LeaseSource, SeatAssignment, SeatLease
from .leases import NoSeatAssigned, station_for_login
from .login import client_seats_take
from .stations import StationInUse


class ClientCheckoutRefused(Exception):
    """A check-out that took nothing. ``code`` says why, ``message`` says it to a person:

    - ``unknown_user``, ``unknown_station``: not a user or station of the server;
    - ``pool_full``, ``cap_reached``, ``reserved_elsewhere``: no Concurrent seat (the login's
      LicenseLimitReached, recorded as a denial);
    - ``no_seat_assigned``, ``station_in_use``: the login's refusals;
    - ``no_seat_required``: a member of the server's wallboard organization only.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ClientCheckout:
    user: User
    seat: SeatLease | SeatAssignment  # a Concurrent lease, or the Assignable seat held
    retry: bool  # the client held this lease already: nothing was taken


def client_checkout(
    *, server: Server, username: str, client_id: str, station_name: str | None = None
) -> ClientCheckout:
    """Check a seat out for the client ``client_id`` of ``username`` on ``server``: the user's
    Concurrent seat taken (or the one this client holds, again), or their Assignable seat (or
    their station's) checked. ``station_name`` is taken for as long as the lease lives.

    Raises ClientCheckoutRefused, holding nothing."""
    user = (
        User.objects.filter(
            username=username,
            is_active=True,
            memberships__organization__server=server,
            memberships__organization__is_active=True,
        )
        .distinct()
        .first()
    )
    if user is None:
        raise ClientCheckoutRefused(
            "unknown_user",
            f"No active user “{username}” is a member of an active organization on server "
            f"{server.server_id}.",
        )
    station = None
    if station_name:
        station = station_for_login(user=user, name=station_name)
        if station is None or station.organization.server_id != server.pk:
            raise ClientCheckoutRefused(
                "unknown_station",
                f"There is no station named “{station_name}” in the organizations of "
                f"{user.username} on server {server.server_id}.",
            )
    held_before = (
        SeatLease.objects.active()
        .filter(user=user, server=server, source=LeaseSource.API, client_id=client_id)
        .values_list("pk", flat=True)
        .first()
    )
    try:
        seats = client_seats_take(
            user=user, server_id=server.pk, client_id=client_id, station=station
        )
    except LicenseLimitReached as refused:
        raise ClientCheckoutRefused(refused.code, refused.message) from refused
    except NoSeatAssigned as refused:
        raise ClientCheckoutRefused("no_seat_assigned", refused.message) from refused
    except StationInUse as refused:
        raise ClientCheckoutRefused("station_in_use", refused.message) from refused
    if seats.leases:
        lease = seats.leases[0]
        return ClientCheckout(user, lease, retry=lease.pk == held_before)
    if seats.assigned:
        return ClientCheckout(user, seats.assigned[0], retry=False)
    raise ClientCheckoutRefused(
        "no_seat_required",
        f"{user.username} needs no seat on server {server.server_id} "
        "(a member of its wallboard organization only).",
    )
