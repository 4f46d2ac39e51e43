"""What is licensed (license files and their entitlements) and what is used (seats)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
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


class LicenseFileQuerySet(models.QuerySet):
    def installed(self):
        """The license file currently in force on each server (one per server at most)."""
        return self.filter(replaced_at__isnull=True)


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


class Entitlement(models.Model):
    """One line of a license file: a license type, its method, quantity and validity (inclusive dates)."""

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
            "Enforcement refuses beyond quantity × (1 + overage); the audit reports anything beyond quantity."
        ),
    )
    starts_on = models.DateField(_("valid from"))
    expires_on = models.DateField(
        _("expires on"), help_text=_("Last day the entitlement is valid.")
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

    @property
    def capacity(self):
        """Seats enforcement allows: the quantity plus its overage allowance, rounded down."""
        if self.quantity is None:
            return None
        return self.quantity * (100 + self.overage_percent) // 100


class ReleaseReason(models.TextChoices):
    LOGOUT = "logout", _("Logged out")
    IDLE = "idle", _("Idle session ended")
    SUPERSEDED = "superseded", _("Superseded by a newer login")
    ADMIN = "admin", _("Released by an administrator")
    METHOD_CHANGE = "method_change", _("User's license method changed")
    UNASSIGNED = "unassigned", _("Unassigned")
    ROLE_CHANGE = "role_change", _("User's role changed")


class SeatQuerySet(models.QuerySet):
    def active(self):
        return self.filter(released_at__isnull=True)


class SeatAssignment(models.Model):
    """An Assignable seat given to a user or a station; held until released, logged in or not."""

    server = models.ForeignKey(
        "organizations.Server", on_delete=models.PROTECT, related_name="+", verbose_name=_("server")
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="seat_assignments",
        verbose_name=_("organization"),
    )
    license_type = models.CharField(
        _("license"), max_length=30, choices=[(t.value, t.label) for t in ACCESS_TYPES]
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="seat_assignments",
        verbose_name=_("user"),
    )
    station = models.ForeignKey(
        "organizations.Station",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="seat_assignments",
        verbose_name=_("station"),
    )
    assigned_at = models.DateTimeField(_("assigned"), auto_now_add=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("released by"),
    )
    release_reason = models.CharField(
        _("release reason"), max_length=20, choices=ReleaseReason.choices, blank=True
    )

    objects = SeatQuerySet.as_manager()

    class Meta:
        verbose_name = _("seat assignment (Assignable)")
        verbose_name_plural = _("seat assignments (Assignable)")
        ordering = ["-assigned_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, station__isnull=True)
                | Q(user__isnull=True, station__isnull=False),
                name="seatassignment_user_xor_station",
            ),
            models.UniqueConstraint(
                fields=["server", "user"],
                condition=Q(released_at__isnull=True, user__isnull=False),
                name="seatassignment_one_active_per_user_and_server",
            ),
            models.UniqueConstraint(
                fields=["station", "license_type"],
                condition=Q(released_at__isnull=True, station__isnull=False),
                name="seatassignment_one_active_per_station_and_license",
            ),
        ]
        indexes = [
            models.Index(
                fields=["server", "license_type"],
                condition=Q(released_at__isnull=True),
                name="seatassignment_active_pool",
            ),
            models.Index(
                fields=["organization", "license_type"], name="seatassignment_org_license"
            ),
        ]

    def __str__(self):
        return f"{self.get_license_type_display()} → {self.user or self.station}"


class SeatLease(models.Model):
    """A Concurrent seat held by a logged-in user; released at logout, when idle, or by an administrator."""

    server = models.ForeignKey(
        "organizations.Server", on_delete=models.PROTECT, related_name="+", verbose_name=_("server")
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="seat_leases",
        verbose_name=_("organization"),
    )
    license_type = models.CharField(
        _("license"), max_length=30, choices=[(t.value, t.label) for t in ACCESS_TYPES]
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="seat_leases",
        verbose_name=_("user"),
    )
    session_key = models.CharField(_("session"), max_length=40, blank=True)
    acquired_at = models.DateTimeField(_("since"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"))
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("released by"),
    )
    release_reason = models.CharField(
        _("release reason"), max_length=20, choices=ReleaseReason.choices, blank=True
    )

    objects = SeatQuerySet.as_manager()

    class Meta:
        verbose_name = _("seat lease (Concurrent)")
        verbose_name_plural = _("seat leases (Concurrent)")
        ordering = ["-acquired_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["server", "user"],
                condition=Q(released_at__isnull=True),
                name="seatlease_one_active_per_user_and_server",
            ),
        ]
        indexes = [
            models.Index(
                fields=["server", "license_type"],
                condition=Q(released_at__isnull=True),
                name="seatlease_active_pool",
            ),
            models.Index(
                fields=["last_seen_at"],
                condition=Q(released_at__isnull=True),
                name="seatlease_active_last_seen",
            ),
            # Logout finds the seat by its session: without this it walks every active lease.
            models.Index(
                fields=["session_key"],
                condition=Q(released_at__isnull=True),
                name="seatlease_active_session",
            ),
            models.Index(fields=["organization", "license_type"], name="seatlease_org_license"),
        ]

    def __str__(self):
        return f"{self.get_license_type_display()} → {self.user}"


class SeatDenial(models.Model):
    """A seat refused because none was free: who, which license, which server, when."""

    server = models.ForeignKey(
        "organizations.Server", on_delete=models.CASCADE, related_name="+", verbose_name=_("server")
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="seat_denials",
        verbose_name=_("organization"),
    )
    license_type = models.CharField(_("license"), max_length=30, choices=LicenseType.choices)
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="seat_denials",
        verbose_name=_("user"),
    )
    message = models.CharField(_("message"), max_length=300)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("seat denial")
        verbose_name_plural = _("seat denials")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["server", "created_at"])]

    def __str__(self):
        return f"{self.user} refused {self.get_license_type_display()} at {self.created_at:%Y-%m-%d %H:%M}"


class DailySeatUsage(models.Model):
    """Per day, server, organization (empty: the whole server), license and method: licensed, in use, peak, denials."""

    day = models.DateField(_("day"))
    server = models.ForeignKey(
        "organizations.Server", on_delete=models.CASCADE, related_name="+", verbose_name=_("server")
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="daily_usage",
        verbose_name=_("organization"),
    )
    license_type = models.CharField(_("license"), max_length=30, choices=LicenseType.choices)
    method = models.CharField(
        _("method"), max_length=20, choices=Method.choices, blank=True, default=""
    )
    licensed = models.PositiveIntegerField(_("licensed"), default=0)
    in_use = models.PositiveIntegerField(_("in use"), default=0)
    peak = models.PositiveIntegerField(_("peak"), default=0)
    denials = models.PositiveIntegerField(_("denials"), default=0)

    class Meta:
        verbose_name = _("daily seat usage")
        verbose_name_plural = _("daily seat usage")
        ordering = ["-day", "server", "organization", "license_type", "method"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "server", "organization", "license_type", "method"],
                name="dailyseatusage_one_row_per_key",
                nulls_distinct=False,
            ),
        ]
        indexes = [models.Index(fields=["organization", "day"])]

    def __str__(self):
        return f"{self.day} {self.server_id}/{self.organization_id or '*'} {self.license_type}/{self.method}: peak {self.peak}"


class SeatPool(models.Model):
    """The seats of one license and method on one server, as a counter PostgreSQL decides on.

    Every seat taken increments ``in_use`` with one conditional UPDATE (``WHERE in_use < capacity``)
    in the same transaction as the SeatAssignment/SeatLease insert; every release decrements it in
    the transaction that releases the seat. Two racers for the last seat cannot both win, and the
    CHECK keeps it from going negative. The seats tables remain the record; the pool only decides.
    """

    server = models.ForeignKey(
        "organizations.Server", on_delete=models.CASCADE, related_name="+", verbose_name=_("server")
    )
    license_type = models.CharField(
        _("license"), max_length=30, choices=[(t.value, t.label) for t in ACCESS_TYPES]
    )
    method = models.CharField(
        _("method"),
        max_length=20,
        choices=[
            (Method.ASSIGNABLE.value, Method.ASSIGNABLE.label),
            (Method.CONCURRENT.value, Method.CONCURRENT.label),
        ],
    )
    in_use = models.PositiveIntegerField(_("in use"), default=0)

    class Meta:
        verbose_name = _("seat pool")
        verbose_name_plural = _("seat pools")
        ordering = ["server", "license_type", "method"]
        constraints = [
            models.UniqueConstraint(
                fields=["server", "license_type", "method"],
                name="seatpool_one_per_license_and_method",
            ),
            models.CheckConstraint(condition=Q(in_use__gte=0), name="seatpool_in_use_not_negative"),
        ]

    def __str__(self):
        return f"{self.server_id} {self.license_type}/{self.method}: {self.in_use} in use"
