"""Celery tasks of seats. Thin: each calls one service. Their beat rows are created by name in
seats/migrations/0007_periodic_tasks.py."""

from datetime import date

from celery import shared_task
from django.utils import timezone

from .services.leases import lease_release_idle
from .services.snapshots import usage_snapshot_take


@shared_task(name="seats.tasks.release_idle_leases")
def release_idle_leases() -> int:
    """Release Concurrent seats idle longer than IWP_CONCURRENT_IDLE_MINUTES and end their
    sessions. Safe to run twice."""
    return len(lease_release_idle())


@shared_task(name="seats.tasks.take_usage_snapshot", acks_late=True)
def take_usage_snapshot(day: str | None = None) -> int:
    """The daily usage snapshot (DailySeatUsage) for ``day`` (ISO date), today by default."""
    return usage_snapshot_take(day=date.fromisoformat(day) if day else timezone.localdate())
