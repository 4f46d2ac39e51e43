"""Reads for the portal. Each function runs a fixed number of queries, whatever the
organization's size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from compliance.models import ComplianceEvent
from licenses.models import ACCESS_TYPES, LicenseType, Method, license_label
from licenses.selectors import EntitlementStatus, today
from organizations.models import Membership, Organization, Station, User
from seats.models import DailySeatUsage, PoolShare, SeatAssignment, SeatLease
from seats.rules import members_license
from seats.selectors import denials_on, license_status_with_usage, seats_in_use
from seats.services.alerts import thresholds_reached

from .badges import POOL_BADGES, THRESHOLD, Badge, pool_state, threshold_badge, usage_badges

ACCESS_METHODS = (Method.ASSIGNABLE.value, Method.CONCURRENT.value)
HISTORY_RANGES = (30, 90, 365)


@dataclass
class UsageRow:
    """One license and method for one organization, beside the server-wide count it draws from."""

    license_type: str
    method: str
    status: EntitlementStatus | None  # the server's entitlement, None when the server has none
    configured: int = (
        0  # this organization: Assignable seats assigned / Concurrent users configured
    )
    in_use: int = 0  # this organization: seats held now
    peak_today: int = 0
    denials_today: int = 0
    reserve: int = 0  # this organization's share of the pool (seats.PoolShare): 0 = none
    cap: int | None = None  # None = no cap

    @property
    def share_text(self) -> str:
        """“reserve 2 · cap 5”, or empty when the organization has no share of the pool."""
        parts = [f"reserve {self.reserve}"] if self.reserve else []
        if self.cap is not None:
            parts.append(f"cap {self.cap}")
        return " · ".join(parts)

    @property
    def label(self) -> str:
        return license_label(self.license_type, self.method)

    @property
    def licensed(self) -> int:
        return (self.status.licensed or 0) if self.status else 0

    @property
    def server_in_use(self) -> int:
        return (self.status.in_use or 0) if self.status else 0

    @property
    def available(self) -> int:
        return max(self.licensed - self.server_in_use, 0)

    @property
    def server_found(self) -> int:
        """The server's most in use today: what the audit judges the day by."""
        return (self.status.found or 0) if self.status else 0

    @property
    def exceeded(self) -> bool:
        """Over the count today on the server, as the audit judges it."""
        return self.status.exceeded if self.status else False

    @property
    def usage_state(self) -> str | None:
        return self.status.usage_state if self.status else None

    @property
    def state(self) -> str:
        return self.status.state if self.status else "missing"

    @property
    def pool_state(self) -> str | None:
        """exceeded, overage (within the allowance), full (no seat free now) or None."""
        return pool_state(
            usage_state=self.usage_state, licensed=self.licensed, available=self.available
        )

    @property
    def capacity(self) -> int:
        """The seats the server's pool allows: its count plus any overage allowance."""
        return (self.status.capacity or 0) if self.status else 0

    @property
    def utilisation(self) -> int | None:
        """The server's seats in use, in whole percent of its capacity (rounded down, as the alert
        thresholds are judged; None: no seats)."""
        return self.server_in_use * 100 // self.capacity if self.capacity else None

    @property
    def cap_utilisation(self) -> int | None:
        """This organization's seats in use, in percent of its cap (None: no cap, or 0)."""
        return self.in_use * 100 // self.cap if self.cap else None

    @property
    def threshold_badges(self) -> list[Badge]:
        """The highest alert threshold the pool has reached now (unless its pool badge, full or
        over the count, says more), and the highest this organization has reached of its cap."""
        badges = []
        reached = thresholds_reached(in_use=self.server_in_use, capacity=self.capacity)
        if reached and not self.pool_state:
            badges.append(
                threshold_badge(threshold=reached[-1], in_use=self.server_in_use, of=self.capacity)
            )
        if self.cap:
            reached = thresholds_reached(in_use=self.in_use, capacity=self.cap)
            if reached:
                badges.append(
                    threshold_badge(
                        threshold=reached[-1], in_use=self.in_use, of=self.cap, cap=True
                    )
                )
        return badges

    @property
    def badges(self) -> list[Badge]:
        entitlement = self.status.entitlement if self.status else None
        return usage_badges(
            pool=self.pool_state,
            state=self.state,
            starts_on=entitlement.starts_on if entitlement else None,
            expires_on=entitlement.expires_on if entitlement else None,
            thresholds=self.threshold_badges,
        )

    @property
    def short_label(self) -> str:
        return {"supervisor": "Supervisor access", "agent": "Agent access"}.get(
            self.license_type, self.label
        )

    @property
    def code(self) -> str:
        return {"supervisor": "IWP_Supervisor", "agent": "IWP_Agent"}.get(self.license_type, "")

    @property
    def is_concurrent(self) -> bool:
        return self.method == Method.CONCURRENT


@dataclass
class OrganizationUsage:
    organization: Organization
    rows: list[UsageRow] = field(default_factory=list)
    organizations_licensed: int | None = None
    organizations_in_use: int | None = None
    flags: list[EntitlementStatus] = field(default_factory=list)

    @property
    def exceeded(self) -> list[UsageRow]:
        return [r for r in self.rows if r.exceeded]

    @property
    def expiry_notes(self) -> list[dict]:
        """Expiring or expired licenses grouped by date: one line per date, not per license."""
        notes: dict[date, dict] = {}
        for r in self.rows:
            if r.state in ("expiring", "expired"):
                e = r.status.entitlement
                note = notes.setdefault(
                    e.expires_on,
                    {
                        "day": e.expires_on,
                        "days_left": r.status.days_left,
                        "expired": r.state == "expired",
                        "labels": [],
                    },
                )
                note["labels"].append(r.label)
        result = sorted(notes.values(), key=lambda n: n["day"])
        for n in result:
            n["all"] = len(n["labels"]) == len(self.rows)
        return result

    @property
    def unlicensed(self) -> list[UsageRow]:
        return [r for r in self.rows if r.state == "missing"]


def seat_usage(
    *, organizations: list[Organization], day: date | None = None
) -> list[OrganizationUsage]:
    """For each organization, each access license and method: licensed, configured, in use,
    available, today's peak and denials. A fixed number of queries, for any number of
    organizations and users."""
    day = day or today()
    org_ids = [o.pk for o in organizations]
    servers = {o.server_id: o.server for o in organizations}
    # The seats held on these servers, counted once: the servers' license status and the
    # organizations' own figures read the same result.
    held = seats_in_use(server_ids=list(servers))
    statuses = {
        s.server.pk: s
        for s in license_status_with_usage(servers=list(servers.values()), day=day, seats=held)
    }
    in_use = {(org, lt, m): n for (_, org, lt, m), n in held.items() if org in org_ids}

    # Concurrent users configured per organization, by the access license they need.
    configured: dict[tuple, int] = defaultdict(int)
    for org_id, _, license_type in members_license(
        organization_ids=org_ids, license_method=User.LicenseMethod.CONCURRENT
    ):
        configured[(org_id, license_type, Method.CONCURRENT.value)] += 1

    peaks = {
        (r.organization_id, r.license_type, r.method): r.peak
        for r in DailySeatUsage.objects.filter(day=day, organization_id__in=org_ids)
    }
    shares = {
        (s.organization_id, s.license_type, s.method): s
        for s in PoolShare.objects.filter(organization_id__in=org_ids)
    }
    denials = {
        (org, license_type, method): n
        for (_s, org, license_type, method), n in denials_on(day, organization_ids=org_ids).items()
    }

    result = []
    for org in organizations:
        status = statuses.get(org.server_id)
        by_key = {
            (r.entitlement.license_type, r.entitlement.method): r
            for r in (status.rows if status else [])
        }
        usage = OrganizationUsage(organization=org)
        org_row = by_key.get((LicenseType.ORGANIZATION.value, ""))
        if org_row:
            usage.organizations_licensed, usage.organizations_in_use = (
                org_row.licensed,
                org_row.in_use,
            )
        usage.flags = [r for r in (status.rows if status else []) if r.entitlement.quantity is None]
        for lt in ACCESS_TYPES:
            for method in ACCESS_METHODS:
                key = (org.pk, lt.value, method)
                ent = by_key.get((lt.value, method))
                held = in_use.get(key, 0)
                conf = held if method == Method.ASSIGNABLE else configured.get(key, 0)
                if ent is None and not held and not conf:
                    continue
                usage.rows.append(
                    UsageRow(
                        license_type=lt.value,
                        method=method,
                        status=ent,
                        configured=conf,
                        in_use=held,
                        peak_today=max(peaks.get(key, 0), held)
                        if method == Method.CONCURRENT
                        else held,
                        denials_today=denials.get(key, 0),
                        reserve=shares[key].reserve if key in shares else 0,
                        cap=shares[key].cap if key in shares else None,
                    )
                )
        result.append(usage)
    return result


# Who holds what -----------------------------------------------------------------------------------

HOLDER_FILTERS = {
    "all": "All users",
    "seated": "Holding a seat",
    "logged_in": "Logged in now",
    "unseated": "Without a seat",
}


def seat_holders(*, organization: Organization, search: str = "", show: str = "all") -> QuerySet:
    """The organization's members, each with their Assignable seat and their Concurrent
    seat on its server."""
    assignments = SeatAssignment.objects.active().filter(
        user_id=OuterRef("user_id"), server_id=organization.server_id
    )
    leases = SeatLease.objects.active().filter(
        user_id=OuterRef("user_id"), server_id=organization.server_id
    )
    qs = (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .annotate(
            assigned_license=Subquery(assignments.values("license_type")[:1]),
            assigned_at=Subquery(assignments.values("assigned_at")[:1]),
            lease_license=Subquery(leases.values("license_type")[:1]),
            lease_since=Subquery(leases.values("acquired_at")[:1]),
            lease_last_seen=Subquery(leases.values("last_seen_at")[:1]),
            lease_source=Subquery(leases.values("source")[:1]),
            lease_client=Subquery(leases.values("client_id")[:1]),
        )
        .order_by("user__username")
    )
    if search:
        qs = qs.filter(
            Q(user__username__icontains=search)
            | Q(user__first_name__icontains=search)
            | Q(user__last_name__icontains=search)
            | Q(user__email__icontains=search)
        )
    if show == "seated":
        qs = qs.filter(Q(Exists(assignments)) | Q(Exists(leases)))
    elif show == "logged_in":
        qs = qs.filter(Exists(leases))
    elif show == "unseated":
        qs = qs.filter(~Exists(assignments) & ~Exists(leases))
    return qs


def managed_members(*, organization: Organization, search: str = "", show: str = "all") -> QuerySet:
    """``seat_holders`` for an organization administrator: also whether each member belongs to
    another organization too (``elsewhere``) and the Concurrent seat held for this organization
    (``lease_id``), which they may release."""
    return seat_holders(organization=organization, search=search, show=show).annotate(
        elsewhere=Exists(
            Membership.objects.filter(user_id=OuterRef("user_id")).exclude(
                organization_id=organization.pk
            )
        ),
        lease_id=Subquery(
            SeatLease.objects.active()
            .filter(user_id=OuterRef("user_id"), organization_id=organization.pk)
            .values("pk")[:1]
        ),
    )


def station_holders(*, organization: Organization, search: str = "") -> QuerySet:
    """The organization's stations with their active Assignable seats (one query per
    page for the seats)."""
    qs = (
        Station.objects.filter(organization=organization)
        .prefetch_related(
            Prefetch(
                "seat_assignments",
                queryset=SeatAssignment.objects.active().order_by("license_type"),
                to_attr="active_seats",
            )
        )
        .order_by("name")
    )
    if search:
        qs = qs.filter(name__icontains=search)
    return qs


def concurrent_sessions(*, organization: Organization, search: str = "") -> QuerySet:
    """Users of the organization logged in now with a Concurrent seat, longest-held first."""
    qs = (
        SeatLease.objects.active()
        .filter(organization=organization)
        .select_related("user")
        .order_by("acquired_at")
    )
    if search:
        qs = qs.filter(Q(user__username__icontains=search) | Q(user__email__icontains=search))
    return qs


HOLDER_VIEWS = {"users": "Users", "stations": "Stations", "sessions": "Logged in now"}


def holders(*, organization: Organization, view: str, search: str = "", show: str = "all"):
    """The rows of the holders page for one ``view`` (users, stations or sessions) and its
    filters; the page paginates them, the CSV export streams them all."""
    if view == "stations":
        return station_holders(organization=organization, search=search)
    if view == "sessions":
        return concurrent_sessions(organization=organization, search=search)
    return seat_holders(organization=organization, search=search, show=show)


def holder_rows(
    *, organization: Organization, view: str, search: str = "", show: str = "all"
) -> Iterator[list]:
    """The holders page as CSV rows (header first): the same rows as on screen for the same
    ``view`` and filters, unpaginated; streamed with server-side cursors."""
    qs = holders(organization=organization, view=view, search=search, show=show)
    if view == "stations":
        yield ["station", "assignable seats", "since"]
        for s in qs.iterator(chunk_size=2000):
            yield [
                s.name,
                [a.license_type for a in s.active_seats],
                [a.assigned_at for a in s.active_seats],
            ]
    elif view == "sessions":
        yield [
            "username",
            "name",
            "e-mail",
            "concurrent seat",
            "taken by",
            "client",
            "logged in since",
            "last seen",
        ]
        for lease in qs.iterator(chunk_size=2000):
            yield [
                lease.user.username,
                lease.user.get_full_name(),
                lease.user.email,
                lease.license_type,
                lease.source,
                lease.client_id,
                lease.acquired_at,
                lease.last_seen_at,
            ]
    else:
        yield [
            "username",
            "name",
            "e-mail",
            "role",
            "method",
            "assignable seat",
            "assigned since",
            "concurrent seat",
            "logged in since",
            "last seen",
        ]
        for m in qs.iterator(chunk_size=2000):
            yield [
                m.user.username,
                m.user.get_full_name(),
                m.user.email,
                m.role,
                m.user.license_method,
                m.assigned_license,
                m.assigned_at,
                m.lease_license,
                m.lease_since,
                m.lease_last_seen,
            ]


# History ------------------------------------------------------------------------------------------

HISTORY_HEADER = ["day", "license", "method", "licensed", "in use", "peak", "denials"]


def usage_history_rows(*, organization: Organization, start: date, end: date) -> QuerySet:
    return (
        DailySeatUsage.objects.filter(organization=organization, day__gte=start, day__lte=end)
        .order_by("day", "license_type", "method")
        .values_list("day", "license_type", "method", "licensed", "in_use", "peak", "denials")
    )


def usage_history_csv_rows(*, organization: Organization, start: date, end: date):
    """The history export's rows, its header first (the download and scheduled reports)."""
    yield HISTORY_HEADER
    yield from usage_history_rows(organization=organization, start=start, end=end).iterator(
        chunk_size=2000
    )


@dataclass
class Series:
    license_type: str
    method: str
    points: list[tuple]  # (day, licensed, in_use, peak, denials)

    @property
    def label(self) -> str:
        return license_label(self.license_type, self.method)

    @property
    def total_denials(self) -> int:
        return sum(p[4] for p in self.points)

    @property
    def max_peak(self) -> int:
        return max((p[3] for p in self.points), default=0)


def history_period(*, days: int, end: date | None = None) -> tuple[date, date]:
    """The last ``days`` complete days: today is still running, its row is final only after the
    nightly snapshot."""
    end = end or today() - timedelta(days=1)
    return end - timedelta(days=days - 1), end


def usage_history(
    *, organization: Organization, days: int, end: date | None = None
) -> tuple[date, date, list[Series]]:
    """Daily licensed / in use / peak / denials per license and method over
    ``history_period``. One query."""
    start, end = history_period(days=days, end=end)
    series: dict[tuple, list] = defaultdict(list)
    for day, lt, method, licensed, in_use, peak, denials in usage_history_rows(
        organization=organization, start=start, end=end
    ):
        series[(lt, method)].append((day, licensed, in_use, peak, denials))
    order = {
        (lt.value, m): i
        for i, (lt, m) in enumerate((lt, m) for lt in LicenseType for m in ("",) + ACCESS_METHODS)
    }
    return (
        start,
        end,
        [
            Series(lt, m, pts)
            for (lt, m), pts in sorted(series.items(), key=lambda kv: order.get(kv[0], 99))
        ],
    )


# Compliance ---------------------------------------------------------------------------------------


def compliance_events(*, organization: Organization) -> QuerySet:
    """The compliance events of the organization's server about the counted licenses (they
    are server-wide)."""
    return ComplianceEvent.objects.filter(server_id=organization.server_id).order_by(
        "-day", "license_type"
    )


# The agent's own license --------------------------------------------------------------------------


@dataclass
class OwnLicense:
    organization: Organization
    method: str
    assignment: SeatAssignment | None
    station_assignment: SeatAssignment | None
    lease: SeatLease | None


def own_licenses(
    *, user: User, organizations: list[Organization], station_id: int | None = None
) -> list[OwnLicense]:
    """Per organization: the user's method, their seat (or their station's) and since
    when. Three queries."""
    server_ids = {o.server_id for o in organizations}
    assignments = {
        a.server_id: a
        for a in SeatAssignment.objects.active().filter(user=user, server_id__in=server_ids)
    }
    leases = {
        lease.server_id: lease
        for lease in SeatLease.objects.active().filter(user=user, server_id__in=server_ids)
    }
    station_seats = {}
    if station_id:
        for a in (
            SeatAssignment.objects.active().filter(station_id=station_id).select_related("station")
        ):
            station_seats.setdefault(a.server_id, a)
    return [
        OwnLicense(
            o,
            user.license_method,
            assignments.get(o.server_id),
            station_seats.get(o.server_id),
            leases.get(o.server_id),
        )
        for o in organizations
    ]


# Wallboard ----------------------------------------------------------------------------------------


def wallboard_figures(*, organization: Organization) -> list[dict]:
    """Large live figures: per access license and method, seats in use by the
    organization / licensed."""
    usage = seat_usage(organizations=[organization])[0]
    figures = []
    for r in usage.rows:
        state = r.pool_state or ""
        badge = POOL_BADGES[state] if state else None
        thresholds = r.threshold_badges
        if badge is None and thresholds:  # no pool badge: the alert threshold reached
            state, badge = THRESHOLD, thresholds[0]
        figures.append(
            {
                "key": f"{r.license_type}-{r.method}",
                "label": f"{r.short_label} · {Method(r.method).label}",
                "in_use": r.in_use,
                "licensed": r.licensed,
                "server_in_use": r.server_in_use,
                "available": r.available,
                "utilisation": "" if r.utilisation is None else f"{r.utilisation}%",
                "exceeded": r.exceeded,
                "state": r.usage_state,
                "pool_state": state,
                "pool_label": badge.text if badge else "",
                "pool_icon": badge.icon if badge else "",
                "denials_today": r.denials_today,
                "share": r.share_text,
                "cap_utilisation": "" if r.cap_utilisation is None else f"{r.cap_utilisation}%",
            }
        )
    return figures


def invitation_status(invitation, *, now=None) -> str:
    """What became of an invitation, in words (reads ``invitation.user``; no query when it is
    selected with it)."""
    now = now or timezone.now()
    if invitation.accepted_at is not None:
        return f"Password chosen {timezone.localtime(invitation.accepted_at):%Y-%m-%d %H:%M}"
    if invitation.withdrawn_at is not None:
        return f"Withdrawn {timezone.localtime(invitation.withdrawn_at):%Y-%m-%d %H:%M}"
    if invitation.user.has_usable_password():
        return "Not used: the user has a password"
    if invitation.expires_at <= now:
        return f"Expired {timezone.localtime(invitation.expires_at):%Y-%m-%d %H:%M}"
    return f"Waiting, link works until {timezone.localtime(invitation.expires_at):%Y-%m-%d %H:%M}"
