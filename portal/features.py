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
- a supervisor or organization-admin membership gives every supervisor feature the licenses
  allow; an administrator may withhold some on the membership (``withheld_features``);
- managing the organization's users and seats is for organization admins only (a supervisor is
  told so), with the Supervisor access license like every supervisor page, and can be withheld.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from licenses.models import ACCESS_TYPES, Entitlement, LicenseType, license_label
from licenses.selectors import marquee_only, today
from organizations.models import Membership, PortalFeature, User
from seats.models import SeatAssignment, SeatLease


class Feature(StrEnum):
    SEAT_USAGE = PortalFeature.SEAT_USAGE.value
    SEAT_HOLDERS = PortalFeature.SEAT_HOLDERS.value
    USAGE_HISTORY = PortalFeature.USAGE_HISTORY.value
    RENEWAL = PortalFeature.RENEWAL.value
    EXPORTS = PortalFeature.EXPORTS.value
    COMPLIANCE = PortalFeature.COMPLIANCE.value
    WALLBOARD = PortalFeature.WALLBOARD.value
    SCHEDULED_REPORTS = PortalFeature.SCHEDULED_REPORTS.value
    MANAGE = PortalFeature.MANAGE.value
    AGENT_PAGE = "agent_page"


class Audience(StrEnum):
    SUPERVISOR = "supervisor"  # a supervisor or organization-admin membership in the organization
    ORG_ADMIN = "org_admin"  # an organization-admin membership (a supervisor is told it is not)
    MEMBER = "member"  # any membership in the organization


@dataclass(frozen=True)
class FeatureRule:
    label: str
    licenses: tuple[
        str, ...
    ]  # license types the server needs besides Server; access types also need a seat
    audience: Audience
    on_marquee_only: bool = False  # offered on a Marquee-only server


SUPERVISOR = LicenseType.SUPERVISOR.value
AGENT = LicenseType.AGENT.value


FEATURES: dict[Feature, FeatureRule] = {
    Feature.SEAT_USAGE: FeatureRule(
        PortalFeature.SEAT_USAGE.label, (SUPERVISOR,), Audience.SUPERVISOR
    ),
    Feature.SEAT_HOLDERS: FeatureRule(
        PortalFeature.SEAT_HOLDERS.label, (SUPERVISOR,), Audience.SUPERVISOR
    ),
    Feature.USAGE_HISTORY: FeatureRule(
        PortalFeature.USAGE_HISTORY.label, (SUPERVISOR,), Audience.SUPERVISOR
    ),
    Feature.RENEWAL: FeatureRule(PortalFeature.RENEWAL.label, (SUPERVISOR,), Audience.SUPERVISOR),
    Feature.EXPORTS: FeatureRule(PortalFeature.EXPORTS.label, (SUPERVISOR,), Audience.SUPERVISOR),
    Feature.COMPLIANCE: FeatureRule(
        PortalFeature.COMPLIANCE.label, (SUPERVISOR,), Audience.SUPERVISOR
    ),
    Feature.SCHEDULED_REPORTS: FeatureRule(
        PortalFeature.SCHEDULED_REPORTS.label,
        (SUPERVISOR, LicenseType.SCHEDULED_REPORTS.value),
        Audience.SUPERVISOR,
    ),
    Feature.WALLBOARD: FeatureRule(
        PortalFeature.WALLBOARD.label,
        (LicenseType.MARQUEE.value,),
        Audience.SUPERVISOR,
        on_marquee_only=True,
    ),
    Feature.MANAGE: FeatureRule(PortalFeature.MANAGE.label, (SUPERVISOR,), Audience.ORG_ADMIN),
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
    Feature.RENEWAL,
    Feature.COMPLIANCE,
    Feature.SCHEDULED_REPORTS,
    Feature.WALLBOARD,
    Feature.MANAGE,
)


@dataclass(frozen=True)
class Refusal:
    """Why a feature is not offered: the missing license (or the withholding) and a
    sentence saying so."""

    license_type: str | None
    message: str
    status: int = 403


@dataclass
class GateContext:
    """What the gate needs to know about one user on one organization's server:
    three queries, once."""

    server_id: str
    valid_licenses: frozenset[str]
    held_seats: frozenset[str]  # access license types the user holds the required seat of
    method: str
    role: str | None = None  # the user's role in the organization (membership_context)
    wallboard_org: bool = False  # the server's wallboard organization: the wallboard, nothing else
    withheld: frozenset[str] = frozenset()  # features an administrator withheld on the membership
    organization_name: str = ""

    @property
    def marquee_only(self) -> bool:
        return marquee_only(self.valid_licenses)


def gate_context(
    *, user: User, server, station_id: int | None = None, day: date | None = None
) -> GateContext:
    """Load the server's valid licenses and the user's seats on it (fixed number of queries):
    the context of no membership yet (``membership_context`` adds one)."""
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
        server_id=server.server_id,
        valid_licenses=valid,
        held_seats=seats,
        method=user.license_method,
    )


def membership_context(ctx: GateContext, membership: Membership) -> GateContext:
    """``ctx`` (one user on one server) narrowed to one of their memberships on that server."""
    return dataclasses.replace(
        ctx,
        role=membership.role,
        wallboard_org=membership.organization.is_wallboard,
        withheld=frozenset(membership.withheld_features),
        organization_name=membership.organization.name,
    )


def feature_refusal(feature: Feature, ctx: GateContext) -> Refusal | None:
    """None when ``feature`` is offered to the user ``ctx`` was loaded for; otherwise the first
    missing requirement."""
    rule = FEATURES[feature]
    if LicenseType.SERVER not in ctx.valid_licenses:
        return Refusal(
            LicenseType.SERVER,
            _(
                "Server %(server)s has no valid Server license, "
                "so the portal does not run for its organizations."
            )
            % {"server": ctx.server_id},
            status=503,
        )
    if ctx.wallboard_org:
        # Its members watch the wallboard: it needs Marquee, and no role, seat or withholding.
        if not rule.on_marquee_only:
            return Refusal(
                None,
                _(
                    "%(feature)s is not offered here: this is server %(server)s's wallboard "
                    "organization, whose members see the wallboard only."
                )
                % {"feature": rule.label, "server": ctx.server_id},
            )
        if LicenseType.MARQUEE not in ctx.valid_licenses:
            return Refusal(
                LicenseType.MARQUEE,
                _("The wallboard needs the Marquee license: server %(server)s has no valid one.")
                % {"server": ctx.server_id},
            )
        return None
    if ctx.marquee_only and not rule.on_marquee_only:
        return Refusal(
            LicenseType.ORGANIZATION,
            _(
                "%(feature)s needs the Organization license: "
                "server %(server)s has only a Marquee license, so only the wallboard is available."
            )
            % {"feature": rule.label, "server": ctx.server_id},
        )
    if rule.audience == Audience.SUPERVISOR and ctx.role not in Membership.SUPERVISOR_ROLES:
        return Refusal(
            None,
            _("%(feature)s is for supervisors of this organization.") % {"feature": rule.label},
        )
    if rule.audience == Audience.ORG_ADMIN and ctx.role != Membership.Role.ORG_ADMIN:
        return Refusal(
            None,
            _("%(feature)s is for organization administrators of %(organization)s.")
            % {"feature": rule.label, "organization": ctx.organization_name},
        )
    for license_type in rule.licenses:
        if any(
            s in ctx.valid_licenses and s in ctx.held_seats
            for s in SATISFIED_BY.get(license_type, ())
        ):
            continue
        if license_type not in ctx.valid_licenses:
            return Refusal(
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
    if feature in ctx.withheld:
        return Refusal(
            None,
            _(
                "%(feature)s has been withheld from you in %(organization)s: "
                "an administrator gives it back on your membership."
            )
            % {"feature": rule.label, "organization": ctx.organization_name},
        )
    return None


@dataclass(frozen=True)
class MembershipFeatures:
    """What one membership gives in the portal: each feature, offered or the reason it is not."""

    membership: Membership
    features: list[tuple[str, Refusal | None]]


def features_of_user(*, user: User) -> list[MembershipFeatures]:
    """The portal features ``user`` has in each organization, as an administrator reads them.

    A Concurrent user is judged as when logged in with their seat taken (they hold none between
    sessions); an Assigned user by the seats assigned to them. Two queries per server.
    """
    memberships = list(
        user.memberships.filter(organization__is_active=True)
        .select_related("organization__server")
        .order_by("organization__name")
    )
    by_server: dict[int, GateContext] = {}
    result = []
    for membership in memberships:
        org = membership.organization
        if org.server_id not in by_server:
            ctx = gate_context(user=user, server=org.server)
            if user.license_method == User.LicenseMethod.CONCURRENT:
                ctx = dataclasses.replace(
                    ctx, held_seats=ctx.valid_licenses & frozenset(ACCESS_TYPES)
                )
            by_server[org.server_id] = ctx
        ctx = membership_context(by_server[org.server_id], membership)
        if membership.role in Membership.SUPERVISOR_ROLES or org.is_wallboard:
            features = tuple(
                f
                for f in (*SUPERVISOR_NAV, Feature.EXPORTS)
                if f != Feature.MANAGE or membership.role == Membership.Role.ORG_ADMIN
            )
        else:
            features = (Feature.AGENT_PAGE,)
        result.append(
            MembershipFeatures(
                membership, [(FEATURES[f].label, feature_refusal(f, ctx)) for f in features]
            )
        )
    return result
