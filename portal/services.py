"""Writes of the portal: scheduled reports and their runs."""

from __future__ import annotations

import calendar
import logging
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from licenses.audit import acting_as
from organizations.models import Organization, User

from .exports import csv_lines, export_filename
from .models import ReportRun, ScheduledReport
from .selectors import usage_history_csv_rows

logger = logging.getLogger(__name__)


def _clean_recipients(recipients: str) -> str:
    addresses = [a.strip() for a in recipients.replace("\n", ",").split(",") if a.strip()]
    if not addresses:
        raise ValidationError({"recipients": "Give at least one e-mail address."})
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                {"recipients": f"“{address}” is not an e-mail address."}
            ) from None
    return "\n".join(addresses)


def scheduled_report_create(
    *,
    organization: Organization,
    name: str,
    frequency: str,
    recipients: str,
    acting_user: User | None,
) -> ScheduledReport:
    with transaction.atomic(), acting_as(acting_user):
        report = ScheduledReport(
            organization=organization,
            name=name,
            frequency=frequency,
            recipients=_clean_recipients(recipients),
            created_by=acting_user,
        )
        report.full_clean()
        report.save()
    return report


def scheduled_report_update(
    *,
    report: ScheduledReport,
    name: str,
    frequency: str,
    recipients: str,
    is_active: bool,
    acting_user: User | None,
) -> ScheduledReport:
    with transaction.atomic(), acting_as(acting_user):
        report.name, report.frequency, report.is_active = name, frequency, is_active
        report.recipients = _clean_recipients(recipients)
        report.full_clean()
        report.save()
    return report


def scheduled_report_delete(*, report: ScheduledReport, acting_user: User | None) -> None:
    with transaction.atomic(), acting_as(acting_user):
        report.delete()


def report_period(*, frequency: str, today: date) -> tuple[date, date]:
    """The last complete period before ``today``: yesterday, last week (Mon–Sun) or last month."""
    if frequency == ScheduledReport.Frequency.DAILY:
        day = today - timedelta(days=1)
        return day, day
    if frequency == ScheduledReport.Frequency.WEEKLY:
        monday = today - timedelta(days=today.weekday() + 7)
        return monday, monday + timedelta(days=6)
    last_month_end = today.replace(day=1) - timedelta(days=1)
    return last_month_end.replace(day=1), last_month_end.replace(
        day=calendar.monthrange(last_month_end.year, last_month_end.month)[1]
    )


def report_csv(*, organization: Organization, start: date, end: date) -> tuple[str, int]:
    """The report's CSV, written as every download is (``csv_lines``), and its row count."""
    lines = list(usage_history_csv_rows(organization=organization, start=start, end=end))
    return "".join(csv_lines(lines)), len(lines) - 1  # the header is no row


def _enqueue_mail(run: ReportRun) -> None:
    """Queue the run's CSV in the mail outbox, in the run's transaction: it retries a failed
    delivery, never sends twice."""
    report = run.report
    subject = (
        f"{report.name}: seat usage of {report.organization.name}, "
        f"{run.period_start} – {run.period_end}"
    )
    body = (
        f"The {report.get_frequency_display().lower()} seat-usage report "
        f"of {report.organization.name} "
        f"for {run.period_start} to {run.period_end} is attached ({run.row_count} rows).\n"
    )
    from notifications.services import outbox_enqueue

    outbox_enqueue(
        subject=subject,
        body=body,
        to=run.recipients.split("\n"),
        attachments=[(run.filename, run.content, "text/csv")],
        dedupe_key=f"portal-report-run:{run.pk}",
    )


def report_run_create(
    *, report: ScheduledReport, today: date | None = None
) -> tuple[ReportRun, bool]:
    """Run ``report`` for its last complete period, once: a second call for the same period
    returns the first run."""
    today = today or timezone.localdate()
    start, end = report_period(frequency=report.frequency, today=today)
    existing = ReportRun.objects.filter(report=report, period_start=start).first()
    if existing:
        return existing, False
    content, rows = report_csv(organization=report.organization, start=start, end=end)
    filename = export_filename(
        report.organization, slugify(report.name, allow_unicode=True) or "report", start, end
    )
    try:
        with transaction.atomic():
            run = ReportRun.objects.create(
                report=report,
                period_start=start,
                period_end=end,
                filename=filename,
                content=content,
                row_count=rows,
                recipients="\n".join(report.recipient_list),
            )
            _enqueue_mail(run)
    except IntegrityError:  # a concurrent run of the same period won
        return ReportRun.objects.get(report=report, period_start=start), False
    logger.info("Scheduled report %s ran for %s – %s (%d rows)", report.pk, start, end, rows)
    return run, True


def scheduled_reports_run_due(*, today: date | None = None) -> int:
    """Run every active report whose last complete period has no run yet; returns how many ran."""
    ran = 0
    for report in (
        ScheduledReport.objects.filter(is_active=True).select_related("organization").iterator()
    ):
        _run, created = report_run_create(report=report, today=today)
        ran += created
    return ran
