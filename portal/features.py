"""Feature gating: one declared table of what each portal feature needs, and the one
check that applies it.

Every portal view names its feature; ``PortalFeatureMixin`` (portal/scoping.py) calls
``feature_refusal`` once per request. A refusal names the license that is missing.

Rules (issue 3, "Feature gating"):
- everything needs the Server license;
- supervisor features need the Supervisor access license: the server has a valid Supervisor
  entitlement (Assignable or Concurrent) and the user holds the seat their method requires
  (a Concurrent user: the seat taken at login; an Assigned user: a seat assigned to them or
  to the station they logged in at);
- the agent's own page needs the Agent access license, in the same sense;
- the wallboard needs Marquee; scheduled reports need Scheduled Reports (and Supervisor access);
- a Marquee-only server (Marquee, no Organization license) offers only the wallboard;
- each supervisor feature also needs a Django permission (defined on portal.ScheduledReport's
  Meta), so an administrator can give a supervisor some features and not others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from licenses.models import ACCESS_TYPES, Entitlement, LicenseType, license_label
from licenses.selectors import marquee_only, today
from organizations.models import Membership, User
from seats.models import SeatAssignment, SeatLease


class Feature(StrEnum):
    SEAT_USAGE = "seat_usage"
    SEAT_HOLDERS = "seat_holders"
    USAGE_HISTORY = "usage_history"
    EXPORTS = "exports"
    COMPLIANCE = "compliance"
    WALLBOARD = "wallboard"
    SCHEDULED_REPORTS = "scheduled_reports"
    AGENT_PAGE = "agent_page"


class Audience(StrEnum):
    SUPERVISOR = "supervisor"  # a supervisor or organization-admin membership in the organization
    MEMBER = "member"  # any membership in the organization


@dataclass(frozen=True)
class FeatureRule:
    label: str
    licenses: tuple[
        str, ...
    ]  # license types the server needs besides Server; access types also need a seat
    audience: Audience
    permission: str | None = None
    on_marquee_only: bool = False  # offered on a Marquee-only server


SUPERVISOR = LicenseType.SUPERVISOR.value
AGENT = LicenseType.AGENT.value

FEATURES: dict[Feature, FeatureRule] = {
    Feature.SEAT_USAGE: FeatureRule(
        _("Seat usage"), (SUPERVISOR,), Audience.SUPERVISOR, "portal.view_seat_usage"
    ),
    Feature.SEAT_HOLDERS: FeatureRule(
        _("Who holds what"), (SUPERVISOR,), Audience.SUPERVISOR, "portal.view_seat_holders"
    ),
    Feature.USAGE_HISTORY: FeatureRule(
        _("History"), (SUPERVISOR,), Audience.SUPERVISOR, "portal.view_usage_history"
    ),
    Feature.EXPORTS: FeatureRule(
        _("CSV exports"), (SUPERVISOR,), Audience.SUPERVISOR, "portal.export_seat_data"
    ),
    Feature.COMPLIANCE: FeatureRule(
        _("Compliance"), (SUPERVISOR,), Audience.SUPERVISOR, "portal.view_compliance"
    ),
    Feature.SCHEDULED_REPORTS: FeatureRule(
        _("Scheduled reports"),
        (SUPERVISOR, LicenseType.SCHEDULED_REPORTS.value),
        Audience.SUPERVISOR,
        "portal.use_scheduled_reports",
    ),
    Feature.WALLBOARD: FeatureRule(
        _("Wallboard"),
        (LicenseType.MARQUEE.value,),
        Audience.SUPERVISOR,
        "portal.view_wallboard",
        on_marquee_only=True,
    ),
    Feature.AGENT_PAGE: FeatureRule(_("My license"), (AGENT,), Audience.MEMBER),
}

# An access seat that also grants another: the Supervisor license covers everything an agent's does
# (a user who supervises one organization and is an agent in another holds one Supervisor seat).
SATISFIED_BY: dict[str, tuple[str, ...]] = {AGENT: (SUPERVISOR,)}

# The features listed in the portal's navigation, in order.
SUPERVISOR_NAV = (
    Feature.SEAT_USAGE,
    Feature.SEAT_HOLDERS,
    Feature.USAGE_HISTORY,
    Feature.COMPLIANCE,
    Feature.SCHEDULED_REPORTS,
    Feature.WALLBOARD,
)


@dataclass(frozen=True)
class Refusal:
    """Why a feature is not offered: the missing license (or permission) and a
    sentence saying so."""

    feature: Feature
    license_type: str | None
    message: str
    status: int = 403


@dataclass
class GateContext:
    """What the gate needs to know about one user on one organization's server:
    three queries, once."""

    user: User
    server_id: str
    valid_licenses: frozenset[str]
    held_seats: frozenset[str]  # access license types the user holds the required seat of
    role: str | None  # the user's role in the organization
    method: str
    wallboard_org: bool = False  # the server's wallboard organization: the wallboard, nothing else

    @property
    def marquee_only(self) -> bool:
        return marquee_only(self.valid_licenses)


def gate_context(
    *,
    user: User,
    organization,
    role: str | None,
    station_id: int | None = None,
    day: date | None = None,
) -> GateContext:
    """Load the server's valid licenses and the user's seats on it (fixed number of queries)."""
    server = organization.server
    valid = frozenset(
        Entitlement.objects.valid_on(day or today())
        .filter(license_file__server_id=server.pk)
        .values_list("license_type", flat=True)
    )
    if user.license_method == User.LicenseMethod.CONCURRENT:
        held = SeatLease.objects.active().filter(server_id=server.pk, user=user)
    else:
        # The user's own Assignable seat, or the seat of the station they logged in at.
        holder = Q(user=user)
        if station_id:
            holder |= Q(station_id=station_id)  # a station's seat is on its organization's server
        held = SeatAssignment.objects.active().filter(holder, server_id=server.pk)
    seats = frozenset(held.values_list("license_type", flat=True))
    return GateContext(
        user=user,
        server_id=server.server_id,
        valid_licenses=valid,
        held_seats=seats,
        role=role,
        method=user.license_method,
        wallboard_org=organization.is_wallboard,
    )


def feature_refusal(feature: Feature, ctx: GateContext) -> Refusal | None:
    """None when ``feature`` is offered to ``ctx.user``; otherwise the first missing requirement."""
    rule = FEATURES[feature]
    if LicenseType.SERVER not in ctx.valid_licenses:
        return Refusal(
            feature,
            LicenseType.SERVER,
            _(
                "Server %(server)s has no valid Server license, "
                "so the portal does not run for its organizations."
            )
            % {"server": ctx.server_id},
            status=503,
        )
    if ctx.wallboard_org:
        # Its members watch the wallboard: it needs Marquee, and no role, seat or permission.
        if not rule.on_marquee_only:
            return Refusal(
                feature,
                None,
                _(
                    "%(feature)s is not offered here: this is server %(server)s's wallboard "
                    "organization, whose members see the wallboard only."
                )
                % {"feature": rule.label, "server": ctx.server_id},
            )
        if LicenseType.MARQUEE not in ctx.valid_licenses:
            return Refusal(
                feature,
                LicenseType.MARQUEE,
                _("The wallboard needs the Marquee license: server %(server)s has no valid one.")
                % {"server": ctx.server_id},
            )
        return None
    if ctx.marquee_only and not rule.on_marquee_only:
        return Refusal(
            feature,
            LicenseType.ORGANIZATION,
            _(
                "%(feature)s needs the Organization license: "
                "server %(server)s has only a Marquee license, so only the wallboard is available."
            )
            % {"feature": rule.label, "server": ctx.server_id},
        )
    if rule.audience == Audience.SUPERVISOR and ctx.role not in Membership.SUPERVISOR_ROLES:
        return Refusal(
            feature,
            None,
            _("%(feature)s is for supervisors of this organization.") % {"feature": rule.label},
        )
    for license_type in rule.licenses:
        if any(
            s in ctx.valid_licenses and s in ctx.held_seats
            for s in SATISFIED_BY.get(license_type, ())
        ):
            continue
        if license_type not in ctx.valid_licenses:
            return Refusal(
                feature,
                license_type,
                _(
                    "%(feature)s needs the %(license)s license, "
                    "and server %(server)s has no valid one."
                )
                % {
                    "feature": rule.label,
                    "license": license_label(license_type),
                    "server": ctx.server_id,
                },
            )
        if license_type in ACCESS_TYPES and license_type not in ctx.held_seats:
            how = (
                _(
                    "a Concurrent user takes one when logging in, "
                    "and none was taken for this session"
                )
                if ctx.method == User.LicenseMethod.CONCURRENT
                else _("an administrator assigns one to you or to your station")
            )
            return Refusal(
                feature,
                license_type,
                _(
                    "%(feature)s needs the %(license)s license: "
                    "you hold no %(license)s seat on server %(server)s (%(how)s)."
                )
                % {
                    "feature": rule.label,
                    "license": license_label(license_type),
                    "server": ctx.server_id,
                    "how": how,
                },
            )
    if rule.permission and not ctx.user.has_perm(rule.permission):
        return Refusal(
            feature,
            None,
            _(
                "%(feature)s has not been given to you: "
                "an administrator grants it with the permission "
                "“%(perm)s” (or the group “Portal supervisors”)."
            )
            % {"feature": rule.label, "perm": rule.permission},
        )
    return None
