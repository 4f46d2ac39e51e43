"""Reads about licenses and their use. Every function runs a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from organizations.models import Organization, Server

from .models import Entitlement, LicenseFile, LicenseType, Method, SeatAssignment, SeatLease


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


def marquee_only(license_types) -> bool:
    """Marquee but no Organization license among ``license_types``: the system offers only the wallboard."""
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


def usage_by_server(*, server_ids=None) -> dict[tuple[int, str, str], int]:
    """Seats in use now, keyed (server pk, license type, method); three GROUP BY queries in all.

    Organization: active organizations. Access licenses: active Assignable seats (users and
    stations) and active Concurrent seats.
    """
    usage: dict[tuple[int, str, str], int] = defaultdict(int)
    orgs = Organization.objects.active()
    assignments = SeatAssignment.objects.active()
    leases = SeatLease.objects.active()
    if server_ids is not None:
        orgs = orgs.filter(server_id__in=server_ids)
        assignments = assignments.filter(server_id__in=server_ids)
        leases = leases.filter(server_id__in=server_ids)
    for row in orgs.values("server_id").annotate(n=Count("id")).order_by():
        usage[(row["server_id"], LicenseType.ORGANIZATION.value, "")] = row["n"]
    for qs, method in ((assignments, Method.ASSIGNABLE.value), (leases, Method.CONCURRENT.value)):
        for row in qs.values("server_id", "license_type").annotate(n=Count("id")).order_by():
            usage[(row["server_id"], row["license_type"], method)] = row["n"]
    return usage


@dataclass
class EntitlementStatus:
    entitlement: Entitlement
    in_use: int | None
    state: str  # "valid", "expiring", "expired", "not_started"
    days_left: int

    @property
    def label(self) -> str:
        e = self.entitlement
        return e.get_license_type_display() + (f" — {e.get_method_display()}" if e.method else "")

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
    def exceeded(self) -> bool:
        return self.licensed is not None and (self.in_use or 0) > self.licensed


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
    def attention(self) -> list[EntitlementStatus]:
        return [r for r in self.rows if r.state in ("expiring", "expired") or r.exceeded]


def license_status(
    *, servers=None, day: date | None = None, with_usage: bool = True
) -> list[ServerLicenseStatus]:
    """Per server: each entitlement of its installed license, licensed / in use / available, and expiry state.

    ``with_usage=False`` skips counting the seats held (three GROUP BYs over every active seat) for
    pages that show only whether a server is licensed or Marquee-only.
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
    usage = usage_by_server(server_ids=ids) if with_usage else {}
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
            status.rows.append(EntitlementStatus(e, in_use, state, (e.expires_on - day).days))
        result.append(status)
    return result
