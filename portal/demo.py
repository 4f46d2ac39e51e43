"""Demo data for the portal: a year of daily seat usage and a scheduled report.

Called by ``seed_demo`` (and by the browser tests, so the screenshots show what the demo shows).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from licenses.models import ACCESS_TYPES, Entitlement
from organizations.models import Organization, Server, User
from seats.models import DailySeatUsage

from .models import ScheduledReport
from .services import report_run_create, scheduled_report_create

DEMO_HISTORY_DAYS = 365


def demo_daily_peaks(
    *,
    quantity: int,
    capacity: int,
    method: str,
    weights: list[float],
    days: int,
    today: date,
    rng: random.Random,
) -> list[tuple[date, list[int], list[int], list[int]]]:
    """The demo's figures for one license, per day before ``today``: each organization's peak,
    in use and denials (``weights``: how big each organization is).

    Weekdays are busy, weekends quiet, use grows by a quarter over the period; now and then a
    Concurrent pool runs full and logins are denied. No database: ``bench/forecast.py``
    backtests on the same figures.
    """
    share = [w * rng.uniform(0.9, 1.1) for w in weights]  # bigger tenants use more
    total_share = sum(share) or 1
    result = []
    for offset in range(days, 0, -1):
        day = today - timedelta(days=offset)
        busy = 0.3 if day.weekday() >= 5 else rng.uniform(0.7, 1.15)
        growth = 0.8 + 0.2 * (days - offset) / days
        peaks = [
            round(quantity * s / total_share * busy * growth * rng.uniform(0.9, 1.3)) for s in share
        ]
        denials = [0] * len(weights)
        # The pool is shared: past its capacity the biggest tenants are refused (Concurrent
        # logins are denied).
        while weights and sum(peaks) > capacity:
            i = max(range(len(weights)), key=lambda k: peaks[k])
            peaks[i] -= 1
            if method == "concurrent":
                denials[i] += rng.randint(1, 3)
        in_use = [round(p * rng.uniform(0.3, 0.8)) for p in peaks]
        result.append((day, peaks, in_use, denials))
    return result


def demo_usage_history(*, server: Server, days: int = DEMO_HISTORY_DAYS, seed: int = 7) -> int:
    """Plausible daily usage per organization and access license for the ``days`` days before
    today (``demo_daily_peaks``). Rows for the whole server (organization empty) are the sums.
    Returns the number of rows written.
    """
    rng = random.Random(seed)
    today = timezone.localdate()
    orgs = list(
        Organization.objects.filter(server=server, is_active=True)
        .annotate(members=Count("memberships"))
        .order_by("name")
    )
    ents = [
        e
        for e in Entitlement.objects.valid_on(today).filter(
            license_file__server=server, license_type__in=ACCESS_TYPES
        )
    ]
    rows = []
    for e in ents:
        for day, peaks, in_use, denials in demo_daily_peaks(
            quantity=e.quantity,
            capacity=e.capacity,
            method=e.method,
            weights=[o.members + 1 for o in orgs],
            days=days,
            today=today,
            rng=rng,
        ):
            for org, peak, used, denied in zip(orgs, peaks, in_use, denials, strict=False):
                rows.append(
                    DailySeatUsage(
                        day=day,
                        server=server,
                        organization=org,
                        license_type=e.license_type,
                        method=e.method,
                        licensed=e.quantity,
                        in_use=used,
                        peak=peak,
                        denials=denied,
                    )
                )
            rows.append(
                DailySeatUsage(
                    day=day,
                    server=server,
                    organization=None,
                    license_type=e.license_type,
                    method=e.method,
                    licensed=e.quantity,
                    in_use=sum(in_use),
                    peak=sum(peaks),
                    denials=sum(denials),
                )
            )
    DailySeatUsage.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def demo_portal_data(*, server: Server, acting_user: User | None = None) -> None:
    """Everything the portal demo needs on ``server``: history and a report (supervisors get
    the portal from their role)."""
    with transaction.atomic():
        demo_usage_history(server=server)
        first = Organization.objects.filter(server=server).order_by("name").first()
        if first and not first.scheduled_reports.exists():
            report = scheduled_report_create(
                organization=first,
                name="Weekly seat usage",
                frequency=ScheduledReport.Frequency.WEEKLY,
                recipients="contact-center-leads@example.com",
                acting_user=acting_user,
            )
            report_run_create(report=report)
