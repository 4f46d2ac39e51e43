"""Celery tasks of the compliance audit and the daily usage snapshot. Thin: each calls one service."""

from datetime import date

from celery import shared_task
from django.utils import timezone

from seats.services.snapshots import usage_snapshot_take

from . import services
from .models import AuditTrigger


@shared_task(acks_late=True)
def run_daily_audit() -> list[int]:
    """The scheduled audit (02:00): every day missed since the last completed audit, then today."""
    return [run.pk for run in services.compliance_audit_catch_up(trigger=AuditTrigger.SCHEDULE)]


@shared_task(acks_late=True)
def take_usage_snapshot(day: str | None = None) -> int:
    """The daily usage snapshot (DailySeatUsage) for ``day`` (ISO date), today by default."""
    return usage_snapshot_take(day=date.fromisoformat(day) if day else timezone.localdate())
