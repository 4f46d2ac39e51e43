"""The license itself: the files installed per server and their entitlements."""

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _


class LicenseType(models.TextChoices):
    SERVER = "server", _("Server")
    ORGANIZATION = "organization", _("Organization")
    SUPERVISOR = "supervisor", _("Supervisor access (IWP_Supervisor)")
    AGENT = "agent", _("Agent access (IWP_Agent)")
    MARQUEE = "marquee", _("Marquee")
    SCHEDULED_REPORTS = "scheduled_reports", _("Scheduled Reports")


COUNTED_TYPES = (LicenseType.ORGANIZATION, LicenseType.SUPERVISOR, LicenseType.AGENT)
ACCESS_TYPES = (LicenseType.SUPERVISOR, LicenseType.AGENT)
FLAG_TYPES = (LicenseType.SERVER, LicenseType.MARQUEE, LicenseType.SCHEDULED_REPORTS)


class Method(models.TextChoices):
    NONE = "", _("—")
    ASSIGNABLE = "assignable", _("Assignable")
    CONCURRENT = "concurrent", _("Concurrent")


def license_label(license_type: str, method: str = "") -> str:
    """How a license (and its method) is named on every page, message and mail:
    "Agent access (IWP_Agent) Concurrent"."""
    label = str(LicenseType(license_type).label)
    return f"{label} {Method(method).label}" if method else label


def is_exceeded(*, licensed: int | None, in_use: int | None) -> bool:
    """A counted license is exceeded when more are in use than it licenses. (Its overage allowance
    only lets enforcement go further; the audit and every page report use beyond the count.)"""
    return licensed is not None and (in_use or 0) > licensed


class UsageState(models.TextChoices):
    """How a counted license stands on a day, judged on the most in use that day (the audit's
    figure): within its count, at it, over the count but within the overage allowance (the audit
    reports the day), or beyond the allowance too."""

    WITHIN = "within", _("Within the count")
    FULL = "full", _("Full")
    OVERAGE = "overage", _("Over the count, within the allowance")
    EXCEEDED = "exceeded", _("Exceeded")


def usage_state(*, licensed: int, capacity: int, found: int) -> UsageState:
    if found > capacity:
        return UsageState.EXCEEDED
    if is_exceeded(licensed=licensed, in_use=found):
        return UsageState.OVERAGE
    return UsageState.FULL if found >= licensed else UsageState.WITHIN


class LicenseFileQuerySet(models.QuerySet):
    def installed(self):
        """The license file currently in force on each server (one per server at most)."""
        return self.filter(replaced_at__isnull=True)


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["content"]
)
class LicenseFile(models.Model):
    """A signed license file installed for one server. Replaced files are kept as history."""

    server = models.ForeignKey(
        "organizations.Server",
        on_delete=models.PROTECT,
        related_name="license_files",
        verbose_name=_("server"),
    )
    serial = models.CharField(_("serial"), max_length=100, unique=True)
    customer = models.CharField(_("customer"), max_length=200)
    issued_on = models.DateField(_("issued on"))
    key_id = models.CharField(_("signing key id"), max_length=64)
    content = models.TextField(_("file content"), help_text=_("The file exactly as it was signed."))
    installed_at = models.DateTimeField(_("installed"), auto_now_add=True)
    installed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("installed by"),
    )
    replaced_at = models.DateTimeField(_("replaced"), null=True, blank=True)

    objects = LicenseFileQuerySet.as_manager()

    class Meta:
        verbose_name = _("license file")
        verbose_name_plural = _("license files")
        ordering = ["server__server_id", "-installed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["server"],
                condition=Q(replaced_at__isnull=True),
                name="licensefile_one_installed_per_server",
            ),
        ]

    def __str__(self):
        return f"{self.serial} for {self.server.server_id}"

    @property
    def is_installed(self):
        return self.replaced_at is None


class EntitlementQuerySet(models.QuerySet):
    def installed(self):
        return self.filter(license_file__replaced_at__isnull=True)

    def valid_on(self, day):
        """Entitlements of installed license files whose validity includes ``day``."""
        return self.installed().filter(starts_on__lte=day, expires_on__gte=day)


# The history keeps what the file said; capacity is computed from it (and a generated column
# cannot be copied into the history table).
@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["capacity"]
)
class Entitlement(models.Model):
    """One line of a license file: a license type, its method, quantity and validity
    (inclusive dates)."""

    license_file = models.ForeignKey(
        LicenseFile,
        on_delete=models.CASCADE,
        related_name="entitlements",
        verbose_name=_("license file"),
    )
    license_type = models.CharField(_("license"), max_length=30, choices=LicenseType.choices)
    method = models.CharField(
        _("method"), max_length=20, choices=Method.choices, blank=True, default=""
    )
    quantity = models.PositiveIntegerField(
        _("quantity"), null=True, blank=True, help_text=_("Empty for flags.")
    )
    overage_percent = models.PositiveSmallIntegerField(
        _("overage allowance (%)"),
        default=0,
        help_text=_(
            "Enforcement refuses beyond quantity × (1 + overage); "
            "the audit reports anything beyond quantity."
        ),
    )
    starts_on = models.DateField(_("valid from"))
    expires_on = models.DateField(
        _("expires on"), help_text=_("Last day the entitlement is valid.")
    )
    # Seats enforcement allows: the quantity plus its overage allowance, rounded down. Computed by
    # PostgreSQL in bigint, so the ORM and the seat statements (seats/sql.py) read one definition.
    capacity = models.GeneratedField(
        expression=Cast("quantity", models.BigIntegerField()) * (100 + F("overage_percent")) / 100,
        output_field=models.BigIntegerField(_("capacity"), null=True),
        db_persist=True,
    )

    objects = EntitlementQuerySet.as_manager()

    class Meta:
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")
        ordering = ["license_file", "license_type", "method"]
        constraints = [
            models.UniqueConstraint(
                fields=["license_file", "license_type", "method"],
                name="entitlement_unique_line_per_file",
            ),
            models.CheckConstraint(
                condition=Q(starts_on__lte=models.F("expires_on")),
                name="entitlement_starts_before_expiry",
            ),
            models.CheckConstraint(
                condition=Q(overage_percent__lte=1000), name="entitlement_overage_at_most_1000pct"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        license_type__in=ACCESS_TYPES,
                        method__in=[Method.ASSIGNABLE, Method.CONCURRENT],
                        quantity__isnull=False,
                    )
                    | Q(license_type=LicenseType.ORGANIZATION, method="", quantity__isnull=False)
                    | Q(
                        license_type__in=FLAG_TYPES,
                        method="",
                        quantity__isnull=True,
                        overage_percent=0,
                    )
                ),
                name="entitlement_shape_matches_type",
            ),
        ]

    def __str__(self):
        label = self.get_license_type_display()
        if self.method:
            label += f" / {self.get_method_display()}"
        if self.quantity is not None:
            label += f" × {self.quantity}"
            if self.overage_percent:
                label += f" (+{self.overage_percent}%)"
        return label

    @property
    def is_counted(self):
        return self.quantity is not None
