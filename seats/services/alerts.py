"""Utilisation alerts: a pool, or an organization's capped share of one, reaching a threshold of
its seats (IWP_ALERT_THRESHOLDS) is recorded the first time it happens on a day, logged at
WARNING on ``iwp_licensing.alerts``, and told to the apps above (compliance mails it) in the same
transaction.

Checked after every take, beside the day's peak (pools.daily_peak_raise), from the seats in use
and the capacity the take statement returned. What this process recorded today and the
organizations' caps are kept per process, so that a check-out below every threshold, or at a
threshold already recorded, runs no query at all. PostgreSQL's unique constraint, not the cache,
is what makes an alert once per day: another process's cache does not know this one's.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from licenses.models import license_label

from .. import sql
from ..models import PoolShare, ThresholdAlert
from ..signals import threshold_alerts_recorded

logger = logging.getLogger("iwp_licensing.alerts")

# How long this process trusts the caps it read (a cap set in this process is seen at once).
CAPS_SECONDS = 60.0


def thresholds_reached(
    *, in_use: int, capacity: int, thresholds: list[int] | None = None
) -> list[int]:
    """The thresholds (percent, lowest first) that ``in_use`` of ``capacity`` seats has reached;
    none for a pool of no seats."""
    if thresholds is None:
        thresholds = settings.IWP_ALERT_THRESHOLDS
    if capacity <= 0:
        return []
    return [t for t in thresholds if in_use * 100 >= t * capacity]


def pool_alerts_raise(
    *,
    day: date,
    server_id: int,
    license_type: str,
    method: str,
    server_in_use: int,
    capacity: int | None,
    organization_in_use: dict[int, int],
    now: datetime | None = None,
) -> None:
    """Record the thresholds the pool (``server_in_use`` of ``capacity`` seats) and each of
    ``organization_in_use`` that has a cap in it have reached, those not recorded yet today.

    Called after the take's commit. No query unless a threshold is reached that this process has
    not recorded today (and, once a minute, one for the caps when organizations are given).
    """
    if not settings.IWP_ALERT_THRESHOLDS:
        return
    shares = [(None, server_in_use, capacity)] if capacity is not None else []
    if organization_in_use:
        caps = _caps_of(server_id, license_type, method)
        shares += [
            (org, n, caps[org]) for org, n in sorted(organization_in_use.items()) if org in caps
        ]
    for organization_id, in_use, of in shares:
        reached = thresholds_reached(in_use=in_use, capacity=of)
        if not reached:
            continue
        key = (server_id, organization_id, license_type, method)
        known_day, known = _recorded.get(key, (None, 0))
        if known_day == day and known >= reached[-1]:
            continue  # this process recorded these today
        _record(
            key,
            day=day,
            now=now or timezone.now(),
            in_use=in_use,
            capacity=of,
            thresholds=reached,
        )


def _record(
    key: tuple, *, day: date, now: datetime, in_use: int, capacity: int, thresholds: list[int]
) -> None:
    server_id, organization_id, license_type, method = key
    try:
        with transaction.atomic():
            rows = sql.execute(
                sql.THRESHOLD_ALERT_INSERT,
                {
                    "day": day,
                    "server": server_id,
                    "organization": organization_id,
                    "license": license_type,
                    "method": method,
                    "thresholds": thresholds,
                    "in_use": in_use,
                    "capacity": capacity,
                    "now": now,
                },
            )
            if rows:
                threshold_alerts_recorded.send(
                    sender=ThresholdAlert, alert_ids=[row[0] for row in rows]
                )
            transaction.on_commit(
                lambda: _committed(
                    key, day=day, in_use=in_use, capacity=capacity, top=thresholds[-1], rows=rows
                )
            )
    except Exception:  # the check-out took its seat: an alert that failed is tried at the next
        logger.exception(
            "Utilisation alert not recorded; the next check-out at this level tries again",
            extra={"event": "threshold_alert_failed", "day": day.isoformat()},
        )


def _committed(key: tuple, *, day: date, in_use: int, capacity: int, top: int, rows) -> None:
    """After the commit: remember the thresholds recorded, and log the new ones."""
    known_day, known = _recorded.get(key, (None, 0))
    _recorded[key] = (day, max(top, known if known_day == day else 0))
    for row in rows:
        _log(key, day=day, in_use=in_use, capacity=capacity, row=row)


def _log(key: tuple, *, day: date, in_use: int, capacity: int, row) -> None:
    _server_id, _organization_id, license_type, method = key
    _pk, threshold, server_name, organization_name = row
    whose = f", organization {organization_name} (cap {capacity})" if organization_name else ""
    logger.warning(
        f"{license_label(license_type, method)} on server {server_name}{whose} reached "
        f"{threshold}%: {in_use} of {capacity} seats in use",
        extra={
            "event": "threshold_reached",
            "day": day.isoformat(),
            "server": server_name,
            "organization": organization_name or "-",
            "license": license_type,
            "method": method,
            "threshold": threshold,
            "in_use": in_use,
            "capacity": capacity,
        },
    )


def _caps_of(server_id: int, license_type: str, method: str) -> dict[int, int]:
    """The caps of the organizations with one in the pool (organization id -> cap), as this
    process last read them: every cap of every pool in one query, at most CAPS_SECONDS old."""
    if time.monotonic() - _caps_read[0] > CAPS_SECONDS:
        caps: dict[tuple, dict[int, int]] = {}
        for server, lt, m, organization, cap in PoolShare.objects.filter(
            cap__isnull=False, organization__is_active=True
        ).values_list(
            "organization__server_id", "license_type", "method", "organization_id", "cap"
        ):
            caps.setdefault((server, lt, m), {})[organization] = cap
        _caps.clear()
        _caps.update(caps)
        _caps_read[0] = time.monotonic()
    return _caps.get((server_id, license_type, method), {})


def caps_forget() -> None:
    """Read the caps again at the next check-out (one was set in this process)."""
    _caps_read[0] = float("-inf")


# Per process: (day, highest threshold) recorded per (server, organization or None, license,
# method) — a lower bound of what is stored, so skipping at or below it is safe — and the caps.
_recorded: dict[tuple, tuple[date, int]] = {}
_caps: dict[tuple, dict[int, int]] = {}
_caps_read = [float("-inf")]
