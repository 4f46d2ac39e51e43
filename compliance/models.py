"""The daily compliance audit: its runs, the licenses it found exceeded, expiry
warnings, who is told."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from licenses.models import COUNTED_TYPES, LicenseType, Method
from organizations.models import Server


class AuditTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("Daily schedule")
    CATCH_UP = "catch_up", _("Catch-up of a missed day")
    COMMAND = "command", _("run_compliance_check command")
    ADMIN = "admin", _("Administrator (admin action)")


class AuditRun(models.Model):
    """One run of the audit for one day. A day may be audited several times; events
    are recorded once."""

    day = models.DateField(_("audited day"), db_index=True)
    trigger = models.CharField(_("trigger"), max_length=20, choices=AuditTrigger.choices)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    licenses_checked = models.PositiveIntegerField(_("licenses checked"), default=0)
    exceeded_found = models.PositiveIntegerField(_("exceeded licenses found"), default=0)
    events_recorded = models.PositiveIntegerField(_("new events"), default=0)
    warnings_recorded = models.PositiveIntegerField(_("new expiry warnings"), default=0)
    mail = models.ForeignKey(
        "notifications.OutboxMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("e-mail (exceeded licenses)"),
    )
    warning_mail = models.ForeignKey(
        "notifications.OutboxMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("e-mail (expiry warnings)"),
    )

    class Meta:
        verbose_name = _("audit run")
        verbose_name_plural = _("audit runs")
        ordering = ["-started_at"]
        indexes = [
            models.Index(
                fields=["day"],
                condition=Q(finished_at__isnull=False),
                name="auditrun_completed_day",
            )
        ]

    def __str__(self):
        return f"Audit of {self.day} ({self.get_trigger_display()})"

    def day_events(self):
        """Every license recorded exceeded on the audited day, by this run or an earlier one."""
        return (
            ComplianceEvent.objects.filter(day=self.day)
            .select_related("server")
            .order_by("server__server_id", "license_type", "method")
        )


class AuditRecord(models.Model):
    """What each record of the audit carries: the day it is about, the method of the license, the
    message it was logged and mailed with, and when it was recorded."""

    day = models.DateField(_("day"))
    method = models.CharField(
        _("method"), max_length=20, choices=Method.choices, blank=True, default=""
    )
    message = models.CharField(_("message"), max_length=400)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.message


class ComplianceEvent(AuditRecord):
    """One exceeded license on one server on one day: the count licensed, the count
    found, the message."""

    server = models.ForeignKey(
        "organizations.Server",
        on_delete=models.CASCADE,
        related_name="compliance_events",
        verbose_name=_("server"),
    )
    license_type = models.CharField(
        _("license"), max_length=30, choices=[(t.value, t.label) for t in COUNTED_TYPES]
    )
    licensed_count = models.PositiveIntegerField(_("licensed"))
    found_count = models.PositiveIntegerField(_("found"))
    run = models.ForeignKey(
        AuditRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("recorded by run"),
    )

    class Meta:
        verbose_name = _("compliance event")
        verbose_name_plural = _("compliance events")
        ordering = ["-day", "server__server_id", "license_type", "method"]
        constraints = [
            models.UniqueConstraint(
                fields=["server", "license_type", "method", "day"],
                name="complianceevent_one_per_license_and_day",
            ),
            models.CheckConstraint(
                condition=Q(found_count__gt=F("licensed_count")),
                name="complianceevent_found_exceeds_licensed",
            ),
        ]
        indexes = [models.Index(fields=["day"], name="complianceevent_day")]


class ExpiryWarning(AuditRecord):
    """An entitlement expiring within a warning threshold (30, 7, 1 days): one per
    entitlement and threshold."""

    server = models.ForeignKey(
        "organizations.Server",
        on_delete=models.CASCADE,
        related_name="expiry_warnings",
        verbose_name=_("server"),
    )
    entitlement = models.ForeignKey(
        "licenses.Entitlement",
        on_delete=models.CASCADE,
        related_name="expiry_warnings",
        verbose_name=_("entitlement"),
    )
    license_type = models.CharField(_("license"), max_length=30, choices=LicenseType.choices)
    expires_on = models.DateField(_("expires on"))
    threshold_days = models.PositiveSmallIntegerField(_("threshold (days)"))
    day = models.DateField(_("warned on"))
    run = models.ForeignKey(
        AuditRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="warnings",
        verbose_name=_("recorded by run"),
    )

    class Meta:
        verbose_name = _("expiry warning")
        verbose_name_plural = _("expiry warnings")
        ordering = ["-day", "server__server_id", "license_type", "method"]
        constraints = [
            models.UniqueConstraint(
                fields=["entitlement", "threshold_days"], name="expirywarning_one_per_threshold"
            ),
        ]


class ComplianceRecipient(models.Model):
    """Who receives the audit's e-mail. With none active, the ADMINS setting is used."""

    email = models.EmailField(_("e-mail address"), unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    is_active = models.BooleanField(_("receives mail"), default=True)

    class Meta:
        verbose_name = _("compliance mail recipient")
        verbose_name_plural = _("compliance mail recipients")
        ordering = ["email"]

    def __str__(self):
        return f"{self.name} <{self.email}>" if self.name else self.email


class ServerRenewal(Server):
    """A server as the admin's Renewal page sees it: per license, the peak projected to its
    expiry and the count to buy (compliance/renewal.py). No table of its own."""

    class Meta:
        proxy = True
        verbose_name = _("renewal forecast")
        verbose_name_plural = _("renewal forecasts")
        ordering = ["server_id"]
