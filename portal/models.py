"""Scheduled seat-usage reports and their runs."""

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ScheduledReport(models.Model):
    """A seat-usage report of one organization, e-mailed as CSV daily, weekly or
    monthly by Celery beat."""

    class Frequency(models.TextChoices):
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly")

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        related_name="scheduled_reports",
        verbose_name=_("organization"),
    )
    name = models.CharField(_("name"), max_length=200)
    frequency = models.CharField(
        _("frequency"), max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    recipients = models.TextField(
        _("recipients"), help_text=_("E-mail addresses, one per line or separated by commas.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("scheduled report")
        verbose_name_plural = _("scheduled reports")
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="scheduledreport_unique_name_per_org"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_frequency_display()}, {self.organization})"

    @property
    def recipient_list(self) -> list[str]:
        return [a.strip() for a in self.recipients.replace("\n", ",").split(",") if a.strip()]


class ReportRun(models.Model):
    """One run of a scheduled report for one period: the CSV is kept here and can be downloaded."""

    report = models.ForeignKey(
        ScheduledReport, on_delete=models.CASCADE, related_name="runs", verbose_name=_("report")
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    filename = models.CharField(_("file name"), max_length=200)
    content = models.TextField(_("CSV content"))
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    recipients = models.TextField(_("sent to"), blank=True)
    created_at = models.DateTimeField(_("run at"), auto_now_add=True)

    class Meta:
        verbose_name = _("report run")
        verbose_name_plural = _("report runs")
        ordering = ["-period_start", "-created_at"]
        constraints = [
            # One run per report and period, however often beat fires: a run is safe to repeat.
            models.UniqueConstraint(
                fields=["report", "period_start"], name="reportrun_one_per_period"
            ),
            models.CheckConstraint(
                condition=Q(period_start__lte=models.F("period_end")),
                name="reportrun_period_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.report.name}: {self.period_start} – {self.period_end}"


class InvitationQuerySet(models.QuerySet):
    def latest_per_user(self):
        """Each user's most recent invitation (a resend supersedes the earlier ones)."""
        return self.order_by("user_id", "-sent_at").distinct("user_id")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Invitation(models.Model):
    """An e-mail inviting a user created without a password to choose one.

    Its link works until ``expires_at``, once, and only while it is the user's latest invitation,
    the user still has no password and it is not withdrawn (the user was removed from their last
    organization before choosing one). Sending again writes a new invitation.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("user"),
    )
    email = models.EmailField(_("sent to"))
    sent_at = models.DateTimeField(_("sent"))
    expires_at = models.DateTimeField(_("expires"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    accepted_at = models.DateTimeField(_("password chosen"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withdrawn by"),
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["user", "-sent_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("sent_at")),
                name="invitation_expires_after_sent",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(withdrawn_at__isnull=True),
                name="invitation_not_accepted_and_withdrawn",
            ),
        ]

    def __str__(self):
        return f"Invitation of {self.user} ({self.sent_at:%Y-%m-%d})"
