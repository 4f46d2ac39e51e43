"""Reads for the compliance audit. Each function runs a fixed number of queries, whatever the
data size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db.models import F, Max

from licenses.models import COUNTED_TYPES, Entitlement, LicenseType, Method, is_exceeded
from licenses.selectors import day_span, organizations_active_during
from organizations.models import Membership, PortalFeature, Server
from seats.models import DailySeatUsage
from seats.selectors import seat_peaks

from .models import AuditRun, ComplianceEvent, ComplianceRecipient, ExpiryWarning

# How the source system names each counted license in its message.
_SOURCE_NAMES = {
    LicenseType.ORGANIZATION: ("organizations", "organization"),
    LicenseType.AGENT: ("agent users", "agent user"),
    LicenseType.SUPERVISOR: ("enterprise users", "enterprise user"),
}


def exceeded_message(
    *, server_id: str, license_type: str, method: str, licensed: int, found: int
) -> str:
    """The source's event text, then the server and method, e.g.
    ``Total agent users have exceeded the total agent user license count, licenses: [50]
    agent user: [53] (server CIC-01, Concurrent)``.
    """
    plural, singular = _SOURCE_NAMES[LicenseType(license_type)]
    text = (
        f"Total {plural} have exceeded the total {singular} license count, "
        f"licenses: [{licensed}] {singular}: [{found}]"
    )
    where = f"server {server_id}" + (f", {Method(method).label}" if method else "")
    return f"{text} ({where})"


@dataclass(frozen=True)
class Finding:
    """The count licensed and the count found for one counted license of one server on one day."""

    server: Server
    license_type: str
    method: str
    licensed: int
    found: int

    @property
    def exceeded(self) -> bool:
        return is_exceeded(licensed=self.licensed, in_use=self.found)

    @property
    def message(self) -> str:
        return exceeded_message(
            server_id=self.server.server_id,
            license_type=self.license_type,
            method=self.method,
            licensed=self.licensed,
            found=self.found,
        )


def entitlements_in_force(*, day: date) -> list[Entitlement]:
    """The entitlements in force on ``day``, with their file and server, in server order.
    One query."""
    return list(
        Entitlement.objects.valid_on(day)
        .select_related("license_file__server")
        .order_by("license_file__server__server_id", "license_type", "method")
    )


def exceeded_recorded(*, day: date) -> set[tuple[int, str, str]]:
    """(server pk, license, method) of each license already recorded exceeded on ``day``."""
    return set(
        ComplianceEvent.objects.filter(day=day).values_list("server_id", "license_type", "method")
    )


def warnings_recorded(*, entitlements) -> set[tuple[int, int]]:
    """(entitlement pk, threshold) of each expiry warning already recorded for ``entitlements``."""
    if not entitlements:
        return set()
    return set(
        ExpiryWarning.objects.filter(entitlement__in=entitlements).values_list(
            "entitlement_id", "threshold_days"
        )
    )


def audit_findings(*, day: date, entitlements: list[Entitlement] | None = None) -> list[Finding]:
    """Every counted license in force or in use, per server, judged on the whole of ``day`` from
    history, never from now. Three queries, and one more unless the entitlements in force
    (``entitlements_in_force``) are given.

    Licensed: the quantity of the entitlement valid on ``day`` (none valid counts as zero; the
    overage allowance only relaxes enforcement, the audit reports anything beyond the quantity).
    Found: the most seats of each pool held at one time that day (Assignable and Concurrent,
    from the seats' history), the organizations active at any time that day (from their audit
    trail), or the day's recorded high-water mark in ``DailySeatUsage`` where that is higher.
    """
    licensed: dict[tuple[int, str, str], int] = {}
    servers: dict[int, Server] = {}
    if entitlements is None:
        entitlements = entitlements_in_force(day=day)
    for e in entitlements:
        if e.license_type not in COUNTED_TYPES:
            continue
        server = e.license_file.server
        servers[server.pk] = server
        licensed[(server.pk, e.license_type, e.method)] = e.quantity

    start, end = day_span(day)
    found: dict[tuple[int, str, str], int] = {
        (server_id, LicenseType.ORGANIZATION.value, ""): n
        for server_id, n in organizations_active_during(start=start, end=end).items()
    }
    found.update(seat_peaks(start=start, end=end))
    # The day's figures recorded as it went (and any imported history), where higher.
    recorded = DailySeatUsage.objects.filter(
        day=day, organization__isnull=True, license_type__in=COUNTED_TYPES
    ).values_list("server_id", "license_type", "method", "peak", "in_use")
    for server_id, license_type, method, peak, in_use in recorded:
        key = (server_id, license_type, method)
        found[key] = max(found.get(key, 0), peak, in_use)
    found = {k: n for k, n in found.items() if n}

    missing = {k[0] for k in found} - servers.keys()
    if missing:
        servers.update(Server.objects.in_bulk(missing))
    keys = sorted(
        licensed.keys() | found.keys(), key=lambda k: (servers[k[0]].server_id, k[1], k[2])
    )
    return [
        Finding(servers[k[0]], k[1], k[2], licensed.get(k, 0), found.get(k, 0))
        for k in keys
        if k[0] in servers
    ]


def warning_threshold(*, days_left: int, thresholds: list[int] | None = None) -> int | None:
    """The tightest threshold that ``days_left`` has reached (30, 7, 1 by default), or None."""
    reached = [t for t in (thresholds or settings.IWP_EXPIRY_WARNING_DAYS) if days_left <= t]
    return min(reached) if reached and days_left >= 0 else None


def expiring_entitlements(
    *, day: date, entitlements: list[Entitlement] | None = None
) -> list[tuple[Entitlement, int]]:
    """Entitlements in force on ``day`` that have reached a warning threshold, with the tightest
    one reached. One query, none when the entitlements in force are given."""
    thresholds = list(settings.IWP_EXPIRY_WARNING_DAYS)
    if not thresholds:
        return []
    if entitlements is None:
        entitlements = entitlements_in_force(day=day)
    result = []
    for e in entitlements:
        threshold = warning_threshold(days_left=(e.expires_on - day).days, thresholds=thresholds)
        if threshold is not None:
            result.append((e, threshold))
    return result


def compliance_recipients() -> list[str]:
    """Active recipients kept in the admin; with none, the addresses in the ADMINS setting.
    One query."""
    emails = list(
        ComplianceRecipient.objects.filter(is_active=True).values_list("email", flat=True)
    )
    return emails or [addr for _name, addr in settings.ADMINS]


def alert_subscribers(*, organization_id: int) -> list[str]:
    """The addresses of the organization's administrators and supervisors who chose to receive
    utilisation alerts (their portal profile) and may see its seat usage. One query."""
    return sorted(
        set(
            Membership.objects.filter(
                organization_id=organization_id,
                role__in=Membership.SUPERVISOR_ROLES,
                user__is_active=True,
                user__threshold_alert_mail=True,
            )
            .exclude(user__email="")
            .exclude(withheld_features__contains=[PortalFeature.SEAT_USAGE])
            .values_list("user__email", flat=True)
        )
    )


def last_completed_audit_day() -> date | None:
    """The latest day the audit judged whole: a run that finished after that day had ended (a run
    during the day, from the command or the admin, judges only the day so far). None if none."""
    return AuditRun.objects.filter(
        finished_at__isnull=False, started_at__date__gt=F("day")
    ).aggregate(d=Max("day"))["d"]
