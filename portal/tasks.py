"""Celery tasks of the portal. Beat runs ``run_scheduled_reports`` (the row is created in
a data migration)."""

from celery import shared_task

from .services import scheduled_reports_run_due


@shared_task(name="portal.run_scheduled_reports")
def run_scheduled_reports() -> int:
    """Run the scheduled reports that are due; safe to run twice (one run per report and period)."""
    return scheduled_reports_run_due()
