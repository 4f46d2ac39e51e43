"""Reads for the renewal forecast: per license and method, the last 90 days' peak and denials,
the peak projected to the license's expiry (``forecast.project``) and the count to buy.

For a server (the admin, the expiry mail) or one organization (the portal). A fixed number of
queries whatever the number of servers, licenses and days; each projection is cached under a
digest of its input, so a day's history is fitted once, and a new day's row, a new license
file or another headroom simply makes a new key.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import cache

from licenses.models import ACCESS_TYPES, COUNTED_TYPES, Entitlement, LicenseType, license_label
from licenses.selectors import today
from organizations.models import Organization, Server
from seats.models import DailySeatUsage, PoolShare

from .forecast import CHOSEN, Projection, project, recommended_count, whole

HISTORY_DAYS = 90  # the peak, the denials and the model's fit all look this far back
MIN_HORIZON_DAYS = 90  # a license expiring sooner is still projected this far
CACHE_SECONDS = 24 * 3600
_CACHE_VERSION = 1

CSV_HEADER = [
    "server",
    "organization",
    "license",
    "method",
    "licensed today",
    "expires on",
    "peak last 90 days",
    "denials last 90 days",
    "projected peak at expiry",
    "recommended at renewal",
    "difference",
    "days of history",
    "model",
    "note",
]


@dataclass
class RenewalLine:
    """One license and method of a server, or of one organization on it."""

    server: Server
    organization: Organization | None
    license_type: str
    method: str
    quantity: int  # licensed today on the server (shared by its organizations); 0 when none
    expires_on: date | None  # of the entitlement in force; None when there is none
    # (day, licensed, in use, peak, denials) of the last HISTORY_DAYS days recorded, oldest first
    points: list[tuple[date, int, int, int, int]]
    projection_start: date  # the first projected day (the forecast's "today")
    horizon: int  # days projected: to the expiry, and at least MIN_HORIZON_DAYS
    headroom_percent: int
    projection: Projection | None = None  # filled by _project_all
    cap: int | None = None  # the organization's cap in the pool (seats.PoolShare), if any

    @property
    def label(self) -> str:
        return license_label(self.license_type, self.method)

    @property
    def key(self) -> str:
        return f"{self.license_type}-{self.method}" if self.method else self.license_type

    @property
    def history(self) -> list[tuple[date, int]]:
        """(day, peak): what is projected (a peak below the day's final in-use count is that)."""
        return [(p[0], max(p[2], p[3])) for p in self.points]

    @property
    def peak_90(self) -> int:
        return max((peak for _day, peak in self.history), default=0)

    @property
    def denials(self) -> int:
        return sum(p[4] for p in self.points)

    @property
    def projection_end(self) -> date:
        return self.projection_start + timedelta(days=len(self.projection.mean) - 1)

    @property
    def projected_peak(self) -> int:
        return whole(self.projection.peak)

    @property
    def recommended(self) -> int:
        return recommended_count(
            projected_peak=self.projected_peak, headroom_percent=self.headroom_percent
        )

    @property
    def difference(self) -> int:
        """How many more (positive) or fewer (negative) to buy than are licensed today."""
        return self.recommended - self.quantity

    @property
    def projected_points(self) -> list[tuple[date, float, float, float]]:
        """(day, mean, lower, upper) for each projected day: what the chart draws."""
        p = self.projection
        return [
            (self.projection_start + timedelta(days=i), p.mean[i], p.lower[i], p.upper[i])
            for i in range(len(p.mean))
        ]


def renewal_for_servers(*, servers: list[Server], day: date | None = None) -> dict[int, list]:
    """Per server pk, a ``RenewalLine`` per counted license in force on ``day`` (today) or used
    in the last HISTORY_DAYS days, from the server-wide daily peaks. Two queries."""
    day = day or today()
    ids = [s.pk for s in servers]
    entitlements = _entitlements(server_ids=ids, day=day, types=COUNTED_TYPES)
    rows = DailySeatUsage.objects.filter(
        server_id__in=ids, organization__isnull=True, license_type__in=COUNTED_TYPES
    )
    usage = _usage(rows=rows, day=day, owner="server_id")
    by_pk = {s.pk: s for s in servers}
    lines = {
        pk: _lines(
            server=by_pk[pk],
            organization=None,
            entitlements=entitlements.get(pk, {}),
            usage=usage.get(pk, {}),
            day=day,
        )
        for pk in ids
    }
    _project_all([line for server_lines in lines.values() for line in server_lines])
    return lines


def renewal_for_organization(*, organization: Organization, day: date | None = None) -> list:
    """A ``RenewalLine`` per access license of the organization's server (in force on ``day``,
    or used by the organization in the last HISTORY_DAYS days), from the organization's own
    daily peaks, with its cap where it has one. Three queries."""
    day = day or today()
    server = organization.server
    entitlements = _entitlements(server_ids=[server.pk], day=day, types=ACCESS_TYPES)
    rows = DailySeatUsage.objects.filter(organization=organization, license_type__in=ACCESS_TYPES)
    usage = _usage(rows=rows, day=day, owner="organization_id")
    caps = {
        (license_type, method): cap
        for license_type, method, cap in PoolShare.objects.filter(
            organization=organization, cap__isnull=False
        ).values_list("license_type", "method", "cap")
    }
    lines = _lines(
        server=server,
        organization=organization,
        entitlements=entitlements.get(server.pk, {}),
        usage=usage.get(organization.pk, {}),
        day=day,
    )
    for line in lines:
        line.cap = caps.get((line.license_type, line.method))
    _project_all(lines)
    return lines


def renewal_warm(*, day: date | None = None, batch: int = 100) -> tuple[int, int]:
    """Fit today's projections of every server and every organization ahead of the first page
    that needs them (a fit costs 0.1-1 s of CPU; a page then reads the cache). Run by beat after
    the daily audit. Returns (servers, organizations) projected."""
    day = day or today()
    servers = organizations = 0
    server_ids = list(Server.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(server_ids), batch):
        chunk = list(Server.objects.filter(pk__in=server_ids[start : start + batch]))
        servers += len(renewal_for_servers(servers=chunk, day=day))
    for organization in (
        Organization.objects.counted().select_related("server").order_by("pk").iterator()
    ):
        renewal_for_organization(organization=organization, day=day)
        organizations += 1
    return servers, organizations


def renewal_csv_rows(lines: list[RenewalLine]):
    """The renewal table as CSV rows, its header first (the admin's and the portal's export)."""
    yield CSV_HEADER
    for line in lines:
        yield [
            line.server.server_id,
            line.organization.name if line.organization else "",
            str(LicenseType(line.license_type).label),
            line.method,
            line.quantity,
            line.expires_on.isoformat() if line.expires_on else "",
            line.peak_90,
            line.denials,
            line.projected_peak,
            line.recommended,
            line.difference,
            line.projection.history_days,
            line.projection.model.value,
            line.projection.note,
        ]


# Internals ---------------------------------------------------------------------------------


def _entitlements(*, server_ids, day: date, types) -> dict[int, dict]:
    result: dict[int, dict] = defaultdict(dict)
    for e in (
        Entitlement.objects.valid_on(day)
        .filter(license_file__server_id__in=server_ids, license_type__in=types)
        .select_related("license_file")
    ):
        result[e.license_file.server_id][(e.license_type, e.method)] = e
    return result


def _usage(*, rows, day: date, owner: str) -> dict[int, dict]:
    """Per owner (server or organization pk) and (license, method): the (day, licensed, in use,
    peak, denials) rows of the last HISTORY_DAYS days before ``day``, oldest first."""
    start = day - timedelta(days=HISTORY_DAYS)
    result: dict[int, dict] = defaultdict(lambda: defaultdict(list))
    for owner_id, license_type, method, *point in (
        rows.filter(day__gte=start, day__lt=day)
        .order_by("day")
        .values_list(
            owner, "license_type", "method", "day", "licensed", "in_use", "peak", "denials"
        )
    ):
        result[owner_id][(license_type, method)].append(tuple(point))
    return result


def _order(key: tuple[str, str]) -> tuple[int, str]:
    return (list(LicenseType).index(LicenseType(key[0])), key[1])


def _lines(*, server, organization, entitlements: dict, usage: dict, day: date) -> list:
    headroom = settings.IWP_RENEWAL_HEADROOM_PERCENT
    lines = []
    for key in sorted(entitlements.keys() | usage.keys(), key=_order):
        e = entitlements.get(key)
        rows = usage.get(key, [])
        if e is None and not any(p[2] or p[3] for p in rows):
            continue  # neither licensed nor used: nothing to renew
        horizon = MIN_HORIZON_DAYS
        if e is not None:
            horizon = max(horizon, (e.expires_on - day).days + 1)
        lines.append(
            RenewalLine(
                server=server,
                organization=organization,
                license_type=key[0],
                method=key[1],
                quantity=(e.quantity or 0) if e else 0,
                expires_on=e.expires_on if e else None,
                points=rows,
                projection_start=day,
                horizon=horizon,
                headroom_percent=headroom,
            )
        )
    return lines


def _daily_values(history: list[tuple[date, int]], day: date) -> list[int]:
    """One peak per day from the first recorded day to the day before ``day``; a day without a
    row (beat was down) repeats the day before it, not zero."""
    if not history:
        return []
    peaks = dict(history)
    values, last = [], 0
    d = history[0][0]
    while d < day:
        last = peaks.get(d, last)
        values.append(last)
        d += timedelta(days=1)
    return values


def _project_all(lines: list[RenewalLine]) -> None:
    """Fill each line's projection, from the cache where the same input was projected before:
    one round trip to read, one to write what was missing."""
    inputs = {}
    for line in lines:
        values = _daily_values(line.history, line.projection_start)
        digest = hashlib.sha256(
            json.dumps([_CACHE_VERSION, CHOSEN.value, line.horizon, values]).encode()
        ).hexdigest()
        inputs[id(line)] = (f"iwp:renewal:{digest}", values, line.horizon)
    cached = cache.get_many([key for key, _v, _h in inputs.values()]) if inputs else {}
    fresh = {}
    for line in lines:
        key, values, horizon = inputs[id(line)]
        projection = cached.get(key) or fresh.get(key)
        if projection is None:
            projection = fresh[key] = project(values, horizon=horizon)
        line.projection = projection
    if fresh:
        cache.set_many(fresh, CACHE_SECONDS)
