"""The seats a browser login takes before its session exists, and what becomes of them: they
are named for the session once it exists, or given back when the login fails after all."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import DatabaseError

from organizations.models import Station, User

from ..models import ReleaseReason, SeatAssignment, SeatLease, StationOccupancy
from .leases import assigned_seat_check, lease_acquire, lease_attach_session, lease_release
from .stations import (
    StationInUse,
    station_attach_session,
    station_check,
    station_leave,
    station_occupy,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginSeats:
    leases: list[SeatLease]
    occupancy: StationOccupancy | None = None
    assigned: list[SeatAssignment] = field(default_factory=list)


def login_seats_take(*, user: User, station: Station | None) -> LoginSeats:
    """The seats ``user`` logs in with: their Assignable seat (or their station's) checked, their
    Concurrent seats taken, the station taken. Raises the refusal (LicenseLimitReached,
    NoSeatAssigned, StationInUse) holding nothing, the user's other sessions left as they were."""
    assigned_seat_check(user=user, station=station)
    if station is not None:
        station_check(station=station, user=user)
    leases = lease_acquire(user=user)
    if station is None:
        return LoginSeats(leases)
    try:
        return LoginSeats(leases, station_occupy(station=station, user=user))
    except StationInUse:  # another login took the station since the check
        if leases:
            lease_release(leases=leases, acting_user=user, end_sessions=False)
        raise


def client_seats_take(
    *, user: User, server_id: int, client_id: str, station: Station | None = None
) -> LoginSeats:
    """A seat API client's check-out on one server, with the browser login's rules: an Assigned
    user's seat (or their station's) checked, a Concurrent user's seat taken (the same client
    asking again gets the one it holds), the station taken for as long as the lease lives.
    Raises the refusal holding nothing."""
    assigned = assigned_seat_check(user=user, station=station, server_id=server_id)
    if station is not None and user.license_method == User.LicenseMethod.CONCURRENT:
        station_check(station=station, user=user)  # the station its lease would take
    leases = lease_acquire(user=user, server_id=server_id, client_id=client_id)
    if station is None or not leases:
        return LoginSeats(leases, assigned=assigned)
    try:
        occupancy = station_occupy(station=station, user=user, session_key=leases[0].session_key)
    except StationInUse:  # another login took the station since the check
        # Its "session" (the lease's own key) ends with it: the station this client may hold
        # already (asking again, at another station) is left too.
        lease_release(leases=leases, acting_user=user)
        raise
    return LoginSeats(leases, occupancy)  # a Concurrent user: no Assignable seat


def login_seats_attach(*, seats: LoginSeats, session_key: str) -> None:
    if seats.leases:
        lease_attach_session(leases=seats.leases, session_key=session_key)
    if seats.occupancy is not None:
        station_attach_session(occupancy=seats.occupancy, session_key=session_key)


def login_seats_abandon(*, seats: LoginSeats, user: User) -> None:
    """The login failed after its seats were taken: give them back. With the connection gone this
    cannot run; the sweep gives back a seat that never got its session within a minute."""
    try:
        if seats.leases:
            lease_release(
                leases=seats.leases,
                reason=ReleaseReason.LOGIN_FAILED,
                acting_user=user,
                end_sessions=False,
            )
        if seats.occupancy is not None:
            station_leave(occupancy=seats.occupancy, reason=ReleaseReason.LOGIN_FAILED)
    except DatabaseError:
        logger.exception("Login of %s failed; its seat waits for the sweep", user)
