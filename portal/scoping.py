"""Tenant scoping and feature gating for every portal view, written once.

``portal_memberships`` is the one queryset through which the portal reaches an organization;
``PortalFeatureMixin`` resolves the URL's organization through it (another organization's id
is a 404, never a 403), applies the feature table of seats/features.py, and hands views
``self.organization`` and ``self.scoped(queryset)`` for anything below the organization.
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Q
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from organizations.models import Membership
from portal.features import (
    FEATURES,
    SUPERVISOR_NAV,
    Audience,
    Feature,
    GateContext,
    Refusal,
    feature_refusal,
    gate_context,
    membership_context,
)
from seats.views import STATION_SESSION_KEY

NAV_URLS = {
    Feature.SEAT_USAGE: "portal:organization",
    Feature.SEAT_HOLDERS: "portal:holders",
    Feature.USAGE_HISTORY: "portal:history",
    Feature.RENEWAL: "portal:renewal",
    Feature.COMPLIANCE: "portal:compliance",
    Feature.SCHEDULED_REPORTS: "portal:reports",
    Feature.WALLBOARD: "portal:wallboard",
    Feature.MANAGE: "portal:manage_users",
}


def portal_memberships(user, *, audience: Audience = Audience.MEMBER):
    """The memberships through which ``user`` reaches organizations in the portal (active
    organizations only)."""
    qs = Membership.objects.filter(user=user, organization__is_active=True).select_related(
        "organization__server"
    )
    if audience in (Audience.SUPERVISOR, Audience.ORG_ADMIN):
        # A supervisor reaches an organization-admin page to be told it is not theirs.
        # Every member of a wallboard organization watches its wallboard, whatever their role.
        qs = qs.filter(Q(role__in=Membership.SUPERVISOR_ROLES) | Q(organization__is_wallboard=True))
    return qs.order_by("organization__name")


class GateCache:
    """Gate contexts per server for one request: the licenses and seats are per server, the role
    per organization."""

    def __init__(self, request):
        self.request = request
        self._by_server: dict[int, GateContext] = {}

    def for_membership(self, membership: Membership) -> GateContext:
        org = membership.organization
        if org.server_id not in self._by_server:
            self._by_server[org.server_id] = gate_context(
                user=self.request.user,
                server=org.server,
                station_id=self.request.session.get(STATION_SESSION_KEY),
            )
        return membership_context(self._by_server[org.server_id], membership)


def render_refusal(request, refusals: list[Refusal], **context):
    """The page a refused feature shows: which license (or withheld) is missing, 503 when the
    server is unlicensed."""
    status = 503 if any(r.status == 503 for r in refusals) else 403
    return render(request, "portal/refused.html", {"refusals": refusals, **context}, status=status)


def nav_links(organization, ctx: GateContext, current: Feature | None = None) -> list[dict]:
    return [
        {
            "label": FEATURES[f].label,
            "url": reverse(NAV_URLS[f], args=[organization.pk]),
            "current": f == current,
        }
        for f in SUPERVISOR_NAV
        if feature_refusal(f, ctx) is None
    ]


class PortalFeatureMixin(LoginRequiredMixin):
    """Every organization-scoped portal view: resolve ``org_id`` through the user's memberships,
    then gate ``feature``."""

    feature: Feature

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        rule = FEATURES[self.feature]
        membership = (
            portal_memberships(request.user, audience=rule.audience)
            .filter(organization_id=kwargs["org_id"])
            .first()
        )
        if membership is None:
            raise Http404("No such organization.")
        self.membership = membership
        self.organization = membership.organization
        self.gate = GateCache(request).for_membership(membership)
        refusal = feature_refusal(self.feature, self.gate)
        if refusal is not None:
            return render_refusal(request, [refusal], organization=self.organization)
        self.resolve(**kwargs)
        return super().dispatch(request, *args, **kwargs)

    def resolve(self, **kwargs):
        """Load the URL's objects below the organization (through ``scoped``) before the method
        is dispatched: another organization's id is a 404 whatever the method."""

    def scoped(self, queryset, field: str = "organization"):
        """Narrow any queryset to this organization: how views reach reports, runs and seats."""
        return queryset.filter(**{field: self.organization})

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            organization=self.organization,
            feature=self.feature,
            nav=nav_links(self.organization, self.gate, self.feature),
        )
        return context
