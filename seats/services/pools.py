"""What both seat methods share: the pools, the refusal, releasing seats exactly once, and the
day's high-water mark of seats in use.

A pool (server, access license, method) exists from the moment a license is installed on its
server; its ``in_use`` counter is what PostgreSQL decides on (seats/sql.py), and the seat rows
remain the record.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Greatest
from django.utils import timezone

from licenses.audit import acting_as, context_params
from licenses.exceptions import LicenseLimitReached
from licenses.models import ACCESS_TYPES, Method, license_label
from organizations.models import Server, User

from .. import sql
from ..models import DailySeatUsage, Seat, SeatAssignment, SeatLease, SeatPool
from .alerts import pool_alerts_raise


def pools_create(*, server_id: int) -> None:
    """Create the server's seat pools that do not exist yet (one per access license and method)."""
    SeatPool.objects.bulk_create(
        [
            SeatPool(server_id=server_id, license_type=license_type, method=method)
            for license_type in ACCESS_TYPES
            for method in (Method.ASSIGNABLE, Method.CONCURRENT)
        ],
        ignore_conflicts=True,
    )


def refusal(
    *,
    server_name: str,
    license_type: str,
    method: str,
    in_use: int,
    capacity: int,
    wanted: int = 1,
    advice: str = "",
) -> LicenseLimitReached:
    """The refusal every seat path raises: names the license, the server and "N of N in use"."""
    label = license_label(license_type, method)
    if wanted == 1:
        message = f"No {label} seat is free on server {server_name}: {in_use} of {capacity} in use."
    else:
        missing = in_use + wanted - capacity
        message = (
            f"Not enough {label} seats on server {server_name}: {wanted} needed, "
            f"{max(capacity - in_use, 0)} free ({in_use} of {capacity} in use), "
            f"{missing} seat{'s' if missing != 1 else ''} missing."
        )
    return LicenseLimitReached(
        f"{message} {advice}".strip(),
        server_id=server_name,
        license_type=license_type,
        method=method,
        in_use=in_use,
        capacity=capacity,
    )


def pool_take(
    *,
    server_id: int,
    license_type: str,
    per_organization: dict[int, int],
    day: date,
    shared: bool = False,
) -> tuple[bool, int, int, bool]:
    """Take Assignable seats (``per_organization``: organization id -> seats) if they all fit:
    one conditional UPDATE decides.

    Returns (taken, in use, capacity, shared). A shared pool (reserves, caps) is taken only with
    ``shared``, by a caller that holds its lock and checked its shares. The row lock the UPDATE
    takes is held to the end of the caller's transaction, so racing takers of the last seat are
    serialized by PostgreSQL.
    """
    seats = sum(per_organization.values())
    rows = sql.execute(
        sql.pool_take_sql(shared),
        {
            "server": server_id,
            "license": license_type,
            "seats": seats,
            "per_organization": json.dumps({str(k): n for k, n in per_organization.items()}),
            "day": day,
        },
    )
    if not rows:  # no license was ever installed on the server: it has no pools
        return False, 0, 0, False
    in_use, capacity, taken, is_shared = rows[0]
    if not taken and in_use + seats <= capacity and not is_shared:
        # The UPDATE decided on a racer's commit that the count read beside it predates.
        in_use = pool_in_use(
            server_id=server_id, license_type=license_type, method=Method.ASSIGNABLE
        )
    return taken, in_use, capacity, is_shared


def pool_in_use(*, server_id: int, license_type: str, method: str) -> int:
    """The pool's seats in use as last committed."""
    return (
        SeatPool.objects.filter(server_id=server_id, license_type=license_type, method=method)
        .values_list("in_use", flat=True)
        .get()
    )


def seats_release(
    model: type[Seat],
    *,
    where: str,
    params: dict,
    reason: str,
    acting_user: User | None = None,
    now: datetime | None = None,
    give_back: bool = True,
) -> list[Seat]:
    """Release the held seats of ``model`` that ``where`` (a condition of seats/sql.py) names, each
    exactly once, and give them back to their pools. Returns the seats this call released.

    One statement: a racing release of the same seat finds it released and changes nothing.
    """
    method = Method.ASSIGNABLE if model is SeatAssignment else Method.CONCURRENT
    now = now or timezone.now()
    with acting_as(acting_user) as context:
        rows = sql.execute(
            sql.release_sql(model._meta.db_table, method.value, where),
            {
                **params,
                **context_params(context),
                "now": now,
                "reason": reason,
                "actor": acting_user.pk if acting_user is not None else None,
                "give_back": give_back,
            },
        )
    released = []
    for pk, server_id, organization_id, license_type, user_id, holder in rows:
        seat = model(
            pk=pk,
            server_id=server_id,
            organization_id=organization_id,
            license_type=license_type,
            user_id=user_id,
            released_at=now,
            release_reason=reason,
            released_by=acting_user,
        )
        if model is SeatLease:
            seat.session_key = holder
        else:
            seat.station_id = holder
        released.append(seat)
    return released


def released_summary(released: list[Seat]) -> str:
    """E.g. "Agent access (IWP_Agent) on server CIC-01, Supervisor access (IWP_Supervisor) on
    server CIC-02" (one query for the servers' names)."""
    servers = Server.objects.in_bulk({s.server_id for s in released})
    return ", ".join(
        f"{s.get_license_type_display()} on server {servers[s.server_id].server_id}"
        for s in released
    )


# --- the day's high-water mark -------------------------------------------------------------


def _daily_peak_raise(
    *,
    day: date,
    server_id: int,
    organization_id: int | None,
    license_type: str,
    method: str,
    n: int,
) -> None:
    key = {
        "day": day,
        "server_id": server_id,
        "organization_id": organization_id,
        "license_type": license_type,
        "method": method,
    }
    if DailySeatUsage.objects.filter(**key).update(peak=Greatest("peak", Value(n))):
        return
    try:
        with transaction.atomic():
            DailySeatUsage.objects.create(**key, peak=n)
    except IntegrityError:  # created meanwhile by a racer: raise it
        DailySeatUsage.objects.filter(**key).update(peak=Greatest("peak", Value(n)))


def daily_peak_raise(
    *,
    day: date,
    server_id: int,
    license_type: str,
    method: str,
    server_in_use: int,
    capacity: int | None,
    organization_in_use: dict[int, int],
) -> None:
    """Raise the day's high-water mark of seats in use for the server and for each organization,
    and record the utilisation thresholds reached (of ``capacity``, the seats the pool allows;
    None: not known, only the organizations' caps are checked), see alerts.py.

    Written after the commit that took the seats (GREATEST commutes), so the usage rows are never
    locked while a pool row is; the server row first, then organizations in id order, so that
    concurrent writers take the row locks in one order.
    """
    for organization_id, n in [(None, server_in_use), *sorted(organization_in_use.items())]:
        key = (day, server_id, organization_id, license_type, method)
        if _peak_written.get(key, -1) >= n:
            continue  # this process already raised it at least this high today
        _daily_peak_raise(
            day=day,
            server_id=server_id,
            organization_id=organization_id,
            license_type=license_type,
            method=method,
            n=n,
        )
        transaction.on_commit(
            lambda key=key, n=n: _peak_written.__setitem__(key, max(n, _peak_written.get(key, -1)))
        )
    pool_alerts_raise(
        day=day,
        server_id=server_id,
        license_type=license_type,
        method=method,
        server_in_use=server_in_use,
        capacity=capacity,
        organization_in_use=organization_in_use,
    )


# Per process: the peaks this process has written (a lower bound of the stored peak, so skipping
# a lower one is safe).
_peak_written: dict[tuple, int] = {}
