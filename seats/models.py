"""What is used: seat pools, assignments (Assignable), leases (Concurrent),
denials and daily usage."""

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from licenses.models import ACCESS_TYPES, LicenseType, Method

# The access licenses a seat is of, and the two ways seats are given.
ACCESS_LICENSE_CHOICES = [(t.value, t.label) for t in ACCESS_TYPES]
SEAT_METHOD_CHOICES = [
    (Method.ASSIGNABLE.value, Method.ASSIGNABLE.label),
    (Method.CONCURRENT.value, Method.CONCURRENT.label),
]


class ReleaseReason(models.TextChoices):
    LOGOUT = "logout", _("Logged out")
    IDLE = "idle", _("Idle session ended")
    SUPERSEDED = "superseded", _("Superseded by a newer login")
    ADMIN = "admin", _("Released by an administrator")
    METHOD_CHANGE = "method_change", _("User's license method changed")
    UNASSIGNED = "unassigned", _("Unassigned")
    ROLE_CHANGE = "role_change", _("User's role changed")
    LOGIN_FAILED = "login_failed", _("The login did not complete")
    CHECKED_IN = "checked_in", _("Checked in by its client")
    HEARTBEAT_MISSED = "heartbeat_missed", _("Heartbeat missed")


class LeaseSource(models.TextChoices):
    """Where a Concurrent seat was taken: the site's login page, or a client of the seat API."""

    BROWSER = "browser", _("Browser login")
    API = "api", _("Seat API")


class SeatQuerySet(models.QuerySet):
    def active(self):
        return self.filter(released_at__isnull=True)


class Seat(models.Model):
    """What every seat records: the server and access license it counts against, and when, by whom
    and why it was released (empty while it is held)."""

    server = models.ForeignKey(
        "organizations.Server", on_delete=models.PROTECT, related_name="+", verbose_name=_("server")
    )
    license_type = models.CharField(_("license"), max_length=30, choices=ACCESS_LICENSE_CHOICES)
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
        abstract = True


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class SeatAssignment(Seat):
    """An Assignable seat given to a user or a station; held until released, logged in or not."""

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="seat_assignments",
        verbose_name=_("organization"),
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
            # The admin's list, newest first (the admin adds the pk to make the order total).
            models.Index(fields=["assigned_at", "id"], name="seatassignment_assigned_at"),
        ]

    def __str__(self):
        return f"{self.get_license_type_display()} → {self.user or self.station}"


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["last_seen_at", "session_key", "expires_at"],
)
class SeatLease(Seat):
    """A Concurrent seat held by a logged-in user (a browser session) or by a client of the seat
    API; released at logout or check-in, when idle or its heartbeat is missed, or by an
    administrator."""

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="seat_leases",
        verbose_name=_("organization"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="seat_leases",
        verbose_name=_("user"),
    )
    session_key = models.CharField(_("session"), max_length=40, blank=True)
    source = models.CharField(
        _("taken by"), max_length=10, choices=LeaseSource.choices, default=LeaseSource.BROWSER
    )
    client_id = models.CharField(
        _("client"),
        max_length=100,
        blank=True,
        help_text=_("The seat API client's own id (a desktop, a wallboard display)."),
    )
    acquired_at = models.DateTimeField(_("since"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"))
    expires_at = models.DateTimeField(
        _("expires"),
        null=True,
        blank=True,
        help_text=_("Seat API leases: released when no heartbeat moves this forward."),
    )

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
            models.CheckConstraint(
                condition=Q(source=LeaseSource.BROWSER, expires_at__isnull=True)
                | Q(source=LeaseSource.API, expires_at__isnull=False),
                name="seatlease_api_leases_expire",
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
            models.Index(
                fields=["expires_at"],
                condition=Q(released_at__isnull=True, expires_at__isnull=False),
                name="seatlease_active_expires",
            ),
            # Logout finds the seat by its session: without this it walks every active lease.
            models.Index(
                fields=["session_key"],
                condition=Q(released_at__isnull=True),
                name="seatlease_active_session",
            ),
            models.Index(fields=["organization", "license_type"], name="seatlease_org_license"),
            models.Index(fields=["acquired_at", "id"], name="seatlease_acquired_at"),
        ]

    def __str__(self):
        return f"{self.get_license_type_display()} → {self.user}"


class DenialReason(models.TextChoices):
    POOL_FULL = "pool_full", _("Pool full")
    CAP_REACHED = "cap_reached", _("Organization at its cap")
    RESERVED_ELSEWHERE = "reserved_elsewhere", _("Free seats reserved for other organizations")


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
    reason = models.CharField(
        _("reason"), max_length=20, choices=DenialReason.choices, default=DenialReason.POOL_FULL
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("seat denial")
        verbose_name_plural = _("seat denials")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["server", "created_at"])]

    def __str__(self):
        return (
            f"{self.user} refused {self.get_license_type_display()} "
            f"at {self.created_at:%Y-%m-%d %H:%M}"
        )


class DailySeatUsage(models.Model):
    """Per day, server, organization (empty: the whole server), license and method: licensed, in
    use, peak, denials."""

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
        return (
            f"{self.day} {self.server_id}/{self.organization_id or '*'} "
            f"{self.license_type}/{self.method}: peak {self.peak}"
        )


class SeatPool(models.Model):
    """The seats of one license and method on one server, as a counter PostgreSQL decides on.

    Every seat taken increments ``in_use`` with one conditional UPDATE (``WHERE in_use < capacity``)
    in the same transaction as the SeatAssignment/SeatLease insert; every release decrements it in
    the transaction that releases the seat. Two racers for the last seat cannot both win, and the
    CHECK keeps it from going negative. The seats tables remain the record; the pool only decides.

    ``organization_in_use`` splits the count per organization, written by the same statements: a
    take that waited for a racer's lock re-checks its conditions on the row the racer left
    (PostgreSQL's EvalPlanQual), so an organization's cap and the others' reserves are decided on
    current counts without a separate lock.
    """

    server = models.ForeignKey(
        "organizations.Server", on_delete=models.CASCADE, related_name="+", verbose_name=_("server")
    )
    license_type = models.CharField(_("license"), max_length=30, choices=ACCESS_LICENSE_CHOICES)
    method = models.CharField(
        _("method"),
        max_length=20,
        choices=SEAT_METHOD_CHOICES,
    )
    in_use = models.PositiveIntegerField(_("in use"), default=0)
    shared = models.BooleanField(
        _("shared"),
        default=False,
        help_text=_("Some organization has a reserve or a cap in this pool (see PoolShare)."),
    )
    organization_in_use = models.JSONField(
        _("in use per organization"),
        default=dict,
        blank=True,
        help_text=_(
            "Seats held per organization id, kept by the same statements as the count: a shared "
            "pool's caps and reserves are checked against these counts."
        ),
    )

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


class StationOccupancy(models.Model):
    """Who is logged in at a station: one person at a time, whoever holds the station's seat."""

    station = models.ForeignKey(
        "organizations.Station",
        on_delete=models.CASCADE,
        related_name="occupancies",
        verbose_name=_("station"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="station_occupancies",
        verbose_name=_("user"),
    )
    session_key = models.CharField(_("session"), max_length=40, blank=True)
    since = models.DateTimeField(_("since"))
    last_seen_at = models.DateTimeField(_("last seen"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(
        _("why it ended"), max_length=20, choices=ReleaseReason.choices, blank=True
    )

    class Meta:
        verbose_name = _("station occupancy")
        verbose_name_plural = _("station occupancies")
        ordering = ["-since"]
        constraints = [
            models.UniqueConstraint(
                fields=["station"],
                condition=Q(ended_at__isnull=True),
                name="stationoccupancy_one_person_per_station",
            ),
        ]
        indexes = [
            models.Index(
                fields=["session_key"],
                condition=Q(ended_at__isnull=True),
                name="stationoccupancy_session",
            ),
            models.Index(fields=["since", "id"], name="stationoccupancy_since"),
        ]

    def __str__(self):
        return f"{self.user} at {self.station}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PoolShare(models.Model):
    """One organization's share of one seat pool of its server: a reserve (seats only it may take)
    and a cap (the most it may hold). Both optional; enforced at every check-out
    (seats/services/shares.py), under the pool row's lock."""

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        related_name="pool_shares",
        verbose_name=_("organization"),
    )
    license_type = models.CharField(_("license"), max_length=30, choices=ACCESS_LICENSE_CHOICES)
    method = models.CharField(
        _("method"),
        max_length=20,
        choices=SEAT_METHOD_CHOICES,
    )
    reserve = models.PositiveIntegerField(
        _("reserve"), default=0, help_text=_("Seats of this pool only this organization may take.")
    )
    cap = models.PositiveIntegerField(
        _("cap"),
        null=True,
        blank=True,
        help_text=_("The most seats of this pool this organization may hold; empty: no cap."),
    )

    class Meta:
        verbose_name = _("pool share (reserve and cap)")
        verbose_name_plural = _("pool shares (reserves and caps)")
        ordering = ["organization__server__server_id", "license_type", "method", "organization"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "license_type", "method"],
                name="poolshare_one_per_organization_and_pool",
            ),
            models.CheckConstraint(
                condition=Q(cap__isnull=True) | Q(reserve__lte=models.F("cap")),
                name="poolshare_reserve_within_cap",
                violation_error_message=_("A reserve cannot be larger than the cap."),
            ),
        ]

    def __str__(self):
        cap = "no cap" if self.cap is None else f"cap {self.cap}"
        pool = f"{self.license_type}/{self.method}"
        return f"{self.organization}: {pool} reserve {self.reserve}, {cap}"


class ThresholdAlert(models.Model):
    """A pool's seats in use reached a utilisation threshold (IWP_ALERT_THRESHOLDS): recorded the
    first time on a day, for the whole pool (organization empty) or for an organization against
    its cap, and mailed then. The unique constraint is what makes it once: a second crossing the
    same day, in any process, inserts nothing."""

    day = models.DateField(_("day"))
    server = models.ForeignKey(
        "organizations.Server", on_delete=models.CASCADE, related_name="+", verbose_name=_("server")
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="threshold_alerts",
        verbose_name=_("organization"),
        help_text=_("Empty: the whole pool. Otherwise the organization's share, against its cap."),
    )
    license_type = models.CharField(_("license"), max_length=30, choices=ACCESS_LICENSE_CHOICES)
    method = models.CharField(_("method"), max_length=20, choices=SEAT_METHOD_CHOICES)
    threshold = models.PositiveSmallIntegerField(_("threshold (%)"))
    in_use = models.PositiveIntegerField(_("in use"))
    capacity = models.PositiveIntegerField(
        _("of"),
        help_text=_(
            "The seats the pool allows (its count plus any overage allowance), or the "
            "organization's cap."
        ),
    )
    created_at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("utilisation alert")
        verbose_name_plural = _("utilisation alerts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "server", "license_type", "method", "organization", "threshold"],
                name="thresholdalert_once_per_day_pool_and_threshold",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(threshold__gte=1, threshold__lte=100),
                name="thresholdalert_threshold_is_a_percent",
            ),
        ]
        indexes = [models.Index(fields=["created_at", "id"], name="thresholdalert_created_at")]

    def __str__(self):
        whose = f" ({self.organization})" if self.organization_id else ""
        return (
            f"{self.day} {self.get_license_type_display()} {self.get_method_display()}{whose}: "
            f"{self.threshold}% reached, {self.in_use} of {self.capacity}"
        )
