"""Writes of the portal: scheduled reports and their runs, and invitations to choose a password.
What an organization administrator does to their organization's members: ``members.py``."""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from licenses.audit import acting_as
from notifications.services import outbox_enqueue
from organizations.models import Organization, User

from ..exports import csv_lines, export_filename
from ..models import Invitation, ReportRun, ScheduledReport
from ..selectors import usage_history_csv_rows

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


# Invitations --------------------------------------------------------------------------------

INVITATION_SALT = "portal.invitation"


def invitation_token(invitation: Invitation) -> str:
    """The signed part of an invitation's link: the invitation's id, unforgeable without
    SECRET_KEY. Expiry and use are decided by the invitation row, not the token."""
    return signing.dumps(invitation.pk, salt=INVITATION_SALT)


def invitation_refusal(user: User) -> str | None:
    """Why ``user`` cannot be sent an invitation, or None."""
    if not user.is_active:
        return f"{user.username} is inactive: activate the account first."
    if user.has_usable_password():
        return (
            f"{user.username} already has a password: they sign in with it, or use "
            "“Forgot your password?” on the login page."
        )
    if not user.email:
        return f"{user.username} has no e-mail address: add one, then send the invitation."
    return None


def _invitation_mail(invitation: Invitation, link: str) -> tuple[str, str]:
    user = invitation.user
    organizations = ", ".join(
        user.memberships.order_by("organization__name").values_list("organization__name", flat=True)
    )
    expires = timezone.localtime(invitation.expires_at)
    subject = "Your IWP Licensing account: choose a password"
    body = (
        f"Hello {user.get_full_name() or user.username},\n\n"
        f"An account was created for you on the contact-center portal"
        f"{f' ({organizations})' if organizations else ''}.\n"
        f"Your username is: {user.username}\n\n"
        f"Choose your password here:\n{link}\n\n"
        f"The link works once, until {expires:%Y-%m-%d %H:%M} ({settings.TIME_ZONE}). "
        "If it has expired, ask your administrator to send a new invitation, or use "
        "“Forgot your password?” on the login page.\n"
    )
    return subject, body


def invitation_send(
    *, user: User, acting_user: User | None, site_url: str, now: datetime | None = None
) -> Invitation:
    """Invite ``user`` (created without a password) to choose one: a new invitation, valid for
    IWP_INVITATION_DAYS, mailed through the outbox after commit. Sending again supersedes the
    earlier link. Raises ValidationError naming the user when they cannot be invited."""
    refusal = invitation_refusal(user)
    if refusal:
        raise ValidationError(refusal)
    now = now or timezone.now()
    with transaction.atomic(), acting_as(acting_user):
        invitation = Invitation.objects.create(
            user=user,
            email=user.email,
            sent_at=now,
            expires_at=now + timedelta(days=settings.IWP_INVITATION_DAYS),
            sent_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        )
        path = reverse("invitation_accept", args=[invitation_token(invitation)])
        subject, body = _invitation_mail(invitation, site_url.rstrip("/") + path)
        outbox_enqueue(
            subject=subject, body=body, to=[user.email], dedupe_key=f"invitation:{invitation.pk}"
        )
    logger.info("Invitation %s sent to user %s", invitation.pk, user.pk)
    return invitation


@dataclass
class InvitationsSent:
    sent: list[User] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one sentence per user not invited

    def summary(self) -> str:
        said = (
            f"Invitation sent to {len(self.sent)} user(s): "
            + ", ".join(u.username for u in self.sent[:20])
            + (" …" if len(self.sent) > 20 else "")
            + "."
            if self.sent
            else "No invitation sent."
        )
        return " ".join([said, *self.refused[:20]])


def invitations_send(
    *, users, acting_user: User | None, site_url: str, now: datetime | None = None
) -> InvitationsSent:
    """Invite each of ``users`` who can be invited; say why for the others."""
    result = InvitationsSent()
    for user in users:
        try:
            invitation_send(user=user, acting_user=acting_user, site_url=site_url, now=now)
        except ValidationError as exc:
            result.refused.extend(exc.messages)
        else:
            result.sent.append(user)
    return result


def invitation_from_token(
    token: str, *, now: datetime | None = None
) -> tuple[Invitation | None, str]:
    """The invitation a link names when it still works, else None and why not."""
    try:
        pk = signing.loads(token, salt=INVITATION_SALT)
    except signing.BadSignature:
        return None, "This link is not a valid invitation. Check that it was copied whole."
    invitation = Invitation.objects.select_related("user").filter(pk=pk).first()
    if invitation is None:
        return None, "This invitation no longer exists. Ask your administrator for a new one."
    now = now or timezone.now()
    user = invitation.user
    if invitation.accepted_at is not None or user.has_usable_password():
        return None, "Your password is already chosen: sign in with it."
    if invitation.withdrawn_at is not None:
        return None, invitation_withdrawn_text(invitation)
    latest = Invitation.objects.filter(user=user).order_by("-sent_at", "-pk").first()
    if latest.pk != invitation.pk:
        return None, (
            "A newer invitation was sent to you after this one: use the link in the latest mail."
        )
    if invitation.expires_at <= now:
        expired = timezone.localtime(invitation.expires_at)
        return None, (
            f"This invitation expired on {expired:%Y-%m-%d %H:%M}. Ask your administrator to "
            "send a new one, or use “Forgot your password?” on the login page."
        )
    if not user.is_active:
        return None, "This account is inactive. Ask your administrator."
    return invitation, ""


INVITATION_WITHDRAWN = "This invitation was withdrawn"


def invitation_withdrawn_text(invitation: Invitation) -> str:
    """What the link's page says once the invitation is withdrawn (it starts with
    INVITATION_WITHDRAWN, the page's heading then)."""
    return (
        f"{INVITATION_WITHDRAWN} on "
        f"{timezone.localtime(invitation.withdrawn_at):%Y-%m-%d %H:%M}: the account it was for "
        "no longer belongs to any organization, so there is no password to choose. If you think "
        "this is a mistake, ask your administrator."
    )


def invitations_withdraw(
    *, user: User, acting_user: User | None, now: datetime | None = None
) -> int:
    """Withdraw ``user``'s pending invitations (neither used nor expired): their links stop
    working and say so. Returns how many were withdrawn."""
    now = now or timezone.now()
    with transaction.atomic(), acting_as(acting_user):
        pending = Invitation.objects.filter(
            user=user, accepted_at__isnull=True, withdrawn_at__isnull=True, expires_at__gt=now
        )
        withdrawn = pending.update(
            withdrawn_at=now,
            withdrawn_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        )
    if withdrawn:
        logger.info("%d invitation(s) of user %s withdrawn", withdrawn, user.pk)
    return withdrawn


def invitation_accept(
    *, invitation: Invitation, password: str, now: datetime | None = None
) -> User:
    """The invited user chose ``password``: set it and close the invitation, once."""
    with transaction.atomic(), acting_as(invitation.user):
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise ValidationError("This invitation was used already: sign in with your password.")
        if locked.withdrawn_at is not None:  # withdrawn while the form was open
            raise ValidationError(invitation_withdrawn_text(locked))
        user = locked.user
        user.set_password(password)
        user.save(update_fields=["password"])
        locked.accepted_at = now or timezone.now()
        locked.save(update_fields=["accepted_at"])
    return user
