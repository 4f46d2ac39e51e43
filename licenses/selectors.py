"""Reads about the license itself: which entitlement is valid, Marquee-only, license status."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from organizations.models import Organization, Server

from .content import LicenseContent
from .keys import demo_key_id, is_demo_signed_in_production
from .models import (
    COUNTED_TYPES,
    Entitlement,
    LicenseFile,
    LicenseType,
    Method,
    UsageState,
    is_exceeded,
    license_label,
    usage_state,
)
from .signals import reserves_now, usage_now


def today() -> date:
    return timezone.localdate()


def entitlement_valid(
    *, server: Server | int, license_type: str, method: str = "", day: date | None = None
) -> Entitlement | None:
    """The installed entitlement of that license and method valid on ``day`` (today), or None.

    ``server`` is a Server or its primary key.
    """
    return (
        Entitlement.objects.valid_on(day or today())
        .filter(license_file__server=server, license_type=license_type, method=method)
        .first()
    )


def day_span(day: date) -> tuple[datetime, datetime]:
    """The start of ``day`` and of the next, in TIME_ZONE: the day the audit and the daily figures
    mean."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def organizations_active_during(*, start: datetime, end: datetime) -> dict[int, int]:
    """Per server pk, the organizations active at any time between ``start`` and ``end``: the
    Organization license's use in that span, from the organizations' audit trail (active when it
    began, or made active within it). One query."""
    events = apps.get_model("organizations", "OrganizationEvent").objects.filter(
        pgh_obj_id=OuterRef("pk")
    )
    active_at_start = (
        events.filter(pgh_created_at__lt=start)
        .order_by("-pgh_created_at", "-pgh_id")
        .values("is_active")[:1]
    )
    made_active = events.filter(pgh_created_at__gte=start, pgh_created_at__lt=end, is_active=True)
    rows = (
        Organization.objects.filter(created_at__lt=end, is_wallboard=False)
        # Without a change recorded before the span (older than the trail), its state now.
        .annotate(was_active=Coalesce(Subquery(active_at_start), F("is_active")))
        .filter(Q(was_active=True) | Exists(made_active))
        .values_list("server_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return dict(rows)


def marquee_only(license_types) -> bool:
    """Marquee but no Organization license among ``license_types``: the system offers
    only the wallboard."""
    return LicenseType.MARQUEE in license_types and LicenseType.ORGANIZATION not in license_types


def server_is_marquee_only(*, server: Server, day: date | None = None) -> bool:
    """Marquee but no Organization license: the system offers only the wallboard."""
    return marquee_only(
        set(
            Entitlement.objects.valid_on(day or today())
            .filter(license_file__server=server)
            .values_list("license_type", flat=True)
        )
    )


@dataclass
class EntitlementStatus:
    entitlement: Entitlement
    in_use: int | None
    state: str  # "valid", "expiring", "expired", "not_started"
    days_left: int
    peak_today: int | None = None  # the server's most in use today, where recorded

    @property
    def label(self) -> str:
        return license_label(self.entitlement.license_type, self.entitlement.method)

    @property
    def in_force(self) -> bool:
        """Valid on the day (expiring soon or not)."""
        return self.state in ("valid", "expiring")

    @property
    def licensed(self) -> int | None:
        return (
            self.entitlement.quantity
            if self.in_force
            else 0
            if self.entitlement.is_counted
            else None
        )

    @property
    def available(self) -> int | None:
        if self.licensed is None:
            return None
        return max(self.licensed - (self.in_use or 0), 0)

    @property
    def found(self) -> int | None:
        """The most in use on the day: what the audit judges the day by (the day's peak, when it
        is higher than what is in use now)."""
        if self.in_use is None:
            return None
        return max(self.in_use, self.peak_today or 0)

    @property
    def capacity(self) -> int | None:
        """What enforcement allows: the count plus its overage allowance (0 when not in force)."""
        if self.licensed is None:
            return None
        return self.entitlement.capacity if self.in_force else 0

    @property
    def exceeded(self) -> bool:
        """Over the count on the day, as the audit judges it (within the allowance or not)."""
        return is_exceeded(licensed=self.licensed, in_use=self.found)

    @property
    def usage_state(self) -> UsageState | None:
        if self.licensed is None or self.in_use is None:
            return None
        return usage_state(licensed=self.licensed, capacity=self.capacity, found=self.found)


@dataclass
class ServerLicenseStatus:
    server: Server
    license_file: LicenseFile | None
    rows: list[EntitlementStatus] = field(default_factory=list)

    @property
    def licensed(self) -> bool:
        return any(
            r.entitlement.license_type == LicenseType.SERVER and r.in_force for r in self.rows
        )

    @property
    def marquee_only(self) -> bool:
        return marquee_only({r.entitlement.license_type for r in self.rows if r.in_force})

    @property
    def signed_with_demo_key(self) -> bool:
        """Its license is signed by the public demo key and this is production: anybody could
        have signed it."""
        return self.license_file is not None and is_demo_signed_in_production(
            self.license_file.key_id
        )


def license_files_signed_with_demo_key():
    """Installed license files signed by the public demo key, where that key is refused (DEBUG
    off): they were installed while it was trusted, and anybody could have signed them."""
    if settings.DEBUG:
        return LicenseFile.objects.none()
    return (
        LicenseFile.objects.installed()
        .filter(key_id=demo_key_id())
        .select_related("server")
        .order_by("server__server_id")
    )


def license_status(
    *,
    servers=None,
    day: date | None = None,
    usage: Mapping[tuple[int, str, str], int] | None = None,
    peaks: Mapping[tuple[int, str, str], int] | None = None,
) -> list[ServerLicenseStatus]:
    """Per server: each entitlement of its installed license, its expiry state and, given ``usage``
    (seats in use keyed (server pk, license type, method), as seats' ``usage_by_server`` counts
    them), licensed / in use / available, and given ``peaks`` (the day's most in use, same keys)
    the state the audit would judge the day by. Without ``usage``, in use is 0.
    """
    day = day or today()
    server_list = list(servers if servers is not None else Server.objects.all())
    ids = [s.pk for s in server_list]
    files = {f.server_id: f for f in LicenseFile.objects.installed().filter(server_id__in=ids)}
    server_of_file = {f.pk: f.server_id for f in files.values()}
    ents = defaultdict(list)
    for e in Entitlement.objects.filter(license_file_id__in=server_of_file).order_by(
        "license_type", "method"
    ):
        ents[server_of_file[e.license_file_id]].append(e)
    usage = usage or {}
    result = []
    for server in server_list:
        status = ServerLicenseStatus(server=server, license_file=files.get(server.pk))
        for e in ents.get(server.pk, []):
            if e.starts_on > day:
                state = "not_started"
            elif e.expires_on < day:
                state = "expired"
            elif e.expires_on <= day + timedelta(
                days=max(settings.IWP_EXPIRY_WARNING_DAYS, default=30)
            ):
                state = "expiring"
            else:
                state = "valid"
            in_use = usage.get((server.pk, e.license_type, e.method), 0) if e.is_counted else None
            peak = (
                (peaks or {}).get((server.pk, e.license_type, e.method)) if e.is_counted else None
            )
            status.rows.append(
                EntitlementStatus(e, in_use, state, (e.expires_on - day).days, peak_today=peak)
            )
        result.append(status)
    return result


# The lines a preview compares, in the order every page lists them.
PREVIEW_LINES = (
    (LicenseType.SERVER, Method.NONE),
    (LicenseType.ORGANIZATION, Method.NONE),
    (LicenseType.SUPERVISOR, Method.ASSIGNABLE),
    (LicenseType.SUPERVISOR, Method.CONCURRENT),
    (LicenseType.AGENT, Method.ASSIGNABLE),
    (LicenseType.AGENT, Method.CONCURRENT),
    (LicenseType.MARQUEE, Method.NONE),
    (LicenseType.SCHEDULED_REPORTS, Method.NONE),
)


@dataclass(frozen=True)
class LineTerms:
    """One license line as a file grants it (quantity None for a flag)."""

    quantity: int | None
    overage_percent: int
    starts_on: date
    expires_on: date


@dataclass
class PreviewLine:
    """One license and method: what the installed file grants, what the new one would, and what
    is in use now (None for a flag, or when no usage was given)."""

    license_type: str
    method: str
    current: LineTerms | None
    new: LineTerms | None
    in_use: int | None
    day: date
    reserved: int = 0  # seats the server's organizations hold in reserve in this pool

    @property
    def label(self) -> str:
        return license_label(self.license_type, self.method)

    @property
    def new_licensed(self) -> int | None:
        """What the new file licenses on the day: its quantity while the line is valid, else 0
        (None for a flag)."""
        if self.license_type not in COUNTED_TYPES:
            return None
        if self.new is None or not (self.new.starts_on <= self.day <= self.new.expires_on):
            return 0
        return self.new.quantity

    @property
    def exceeded(self) -> bool:
        """Today's use is beyond what the new file licenses (the audit would report it)."""
        return self.in_use is not None and is_exceeded(
            licensed=self.new_licensed, in_use=self.in_use
        )

    @property
    def new_capacity(self) -> int | None:
        """What the new file lets be held on the day: the count plus its overage allowance."""
        if self.new_licensed is None:
            return None
        return self.new_licensed * (100 + (self.new.overage_percent if self.new else 0)) // 100

    @property
    def reserves_broken(self) -> bool:
        """The organizations' reserves in this pool would add up to more than the new file
        allows: some reserved seats could not be had."""
        return self.new_capacity is not None and self.reserved > self.new_capacity

    @property
    def changed(self) -> bool:
        return self.current != self.new


@dataclass
class LicensePreview:
    """What installing a verified license file would change on its server."""

    content: LicenseContent
    key_id: str
    server: Server | None  # None: the file names a server that is not here yet
    current_file: LicenseFile | None
    lines: list[PreviewLine]
    usage_known: bool

    @property
    def exceeded(self) -> list[PreviewLine]:
        return [line for line in self.lines if line.exceeded]

    @property
    def reserves_broken(self) -> list[PreviewLine]:
        return [line for line in self.lines if line.reserves_broken]


_ASK_SEATS = object()


def license_file_preview(
    *,
    content: LicenseContent,
    key_id: str = "",
    usage: Mapping[tuple[int, str, str], int] | None | object = _ASK_SEATS,
    day: date | None = None,
) -> LicensePreview:
    """The installed license of the server ``content`` names beside ``content``, per license and
    method. Given ``usage`` (keyed (server pk, license type, method), as seats'
    ``usage_by_server`` counts it), each counted line has its use now and is marked exceeded when
    the new file would license less. By default it asks the apps above (``usage_now``: seats
    answers); with ``usage=None`` or no answer, in use is unknown (None). Three queries and the
    answer's.
    """
    day = day or today()
    server = Server.objects.filter(server_id=content.server_id).first()
    if usage is _ASK_SEATS:
        usage = usage_now(server_ids=[server.pk] if server else [])
    reserves = reserves_now(server_ids=[server.pk]) if server else {}
    current_file = LicenseFile.objects.installed().filter(server=server).first() if server else None
    current = {
        (e.license_type, e.method): LineTerms(
            e.quantity, e.overage_percent, e.starts_on, e.expires_on
        )
        for e in (current_file.entitlements.all() if current_file else [])
    }
    new = {
        (e.license_type, e.method): LineTerms(
            e.quantity,
            e.overage_percent,
            e.starts_on or content.starts_on,
            e.expires_on or content.expires_on,
        )
        for e in content.entitlements
    }
    lines = []
    for license_type, method in PREVIEW_LINES:
        key = (license_type.value, method.value)
        in_use = None
        if usage is not None and license_type in COUNTED_TYPES:
            in_use = usage.get((server.pk, *key), 0) if server else 0
        reserved = reserves.get((server.pk, *key), 0) if server else 0
        lines.append(
            PreviewLine(*key, current.get(key), new.get(key), in_use, day, reserved=reserved)
        )
    return LicensePreview(content, key_id, server, current_file, lines, usage is not None)
