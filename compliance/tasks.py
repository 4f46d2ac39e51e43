"""Celery tasks of the compliance audit. Thin: each calls one service."""

from celery import shared_task

from . import renewal, services
from .models import AuditTrigger


@shared_task(name="compliance.tasks.run_daily_audit", acks_late=True)
def run_daily_audit() -> list[int]:
    """The scheduled audit (02:00 by default): the day that ended, after any days missed."""
    return [run.pk for run in services.compliance_audit_catch_up(trigger=AuditTrigger.SCHEDULE)]


@shared_task(name="compliance.tasks.warm_renewal_forecasts", acks_late=True)
def warm_renewal_forecasts() -> tuple[int, int]:
    """After the audit (03:00 by default): today's renewal projections of every server and
    organization, so the first Renewal page of the day reads them from the cache."""
    return renewal.renewal_warm()
