"""The organization administrator's pages, /portal/org/<id>/manage/...: the organization's users,
stations and Concurrent sessions, and what may be done to them.

Thin, like views.py: the organization and the gate (feature MANAGE, organization admins only) in
scoping.py, each URL's user, station or seat looked up within the organization before the method
is dispatched (another organization's id is a 404), the rules in services/members.py and the
seat services, whose refusals are shown as they word them. Every destructive action (unassign,
release, remove) asks first, on a page of its own: it works without JavaScript.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.generic import TemplateView, View

from licenses.exceptions import LicenseLimitReached
from licenses.models import ACCESS_TYPES, LicenseType, license_label
from organizations.models import Membership, Station, User
from portal.features import Feature
from seats.models import SeatAssignment, SeatLease
from seats.services.assignments import seat_assign, seat_release
from seats.services.stations import station_create

from . import selectors
from .forms import MemberInviteForm, MethodForm, RoleForm, StationForm, StationSeatForm
from .params import search_text, site_url
from .scoping import PortalFeatureMixin
from .services import invitation_refusal
from .services.members import (
    member_invitation_send,
    member_invite,
    member_method_change,
    member_refusal,
    member_remove,
    member_role_change,
    member_seat_assign,
    member_seats_unassign,
    session_release,
)

PAGE_SIZE = 50
STATION_TYPES = sorted(ACCESS_TYPES, key=lambda t: t != LicenseType.AGENT)  # stations: agents first
SECTIONS = (
    ("users", "Users", "portal:manage_users"),
    ("stations", "Stations", "portal:manage_stations"),
    ("sessions", "Logged in now", "portal:manage_sessions"),
)


def _refused(request, exc: Exception) -> None:
    """A service's refusal, as it words it."""
    text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text)


class ManageMixin(PortalFeatureMixin):
    feature = Feature.MANAGE
    section = "users"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            section=self.section,
            sections=[
                (key, label, reverse(name, args=[self.organization.pk]))
                for key, label, name in SECTIONS
            ],
        )
        return context

    def section_url(self, section: str | None = None) -> str:
        name = dict((key, name) for key, _label, name in SECTIONS)[section or self.section]
        return reverse(name, args=[self.organization.pk])


# Lists ----------------------------------------------------------------------------------------


class ManageUsersView(ManageMixin, TemplateView):
    """The organization's users: role, method, seat held, and what may be done to each."""

    template_name = "portal/manage_users.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        q = search_text(self.request)
        show = self.request.GET.get("show", "all")
        show = show if show in selectors.HOLDER_FILTERS else "all"
        members = selectors.managed_members(organization=self.organization, search=q, show=show)
        page = Paginator(members, PAGE_SIZE).get_page(self.request.GET.get("page"))
        for m in page:
            m.refusal = member_refusal(membership=m, acting_user=self.request.user)
        context.update(
            page=page, q=q, show=show, filters=selectors.HOLDER_FILTERS, now=timezone.now()
        )
        return context


class ManageStationsView(ManageMixin, TemplateView):
    """The organization's stations, the Assignable seats each holds, assign and release."""

    template_name = "portal/manage_stations.html"
    section = "stations"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        q = search_text(self.request)
        stations = selectors.station_holders(organization=self.organization, search=q)
        page = Paginator(stations, PAGE_SIZE).get_page(self.request.GET.get("page"))
        for s in page:
            held = {a.license_type for a in s.active_seats}
            s.offers = [(t.value, t.value.capitalize(), t.value in held) for t in STATION_TYPES]
        context.update(page=page, q=q)
        return context


class ManageSessionsView(ManageMixin, TemplateView):
    """Who holds a Concurrent seat of the organization now, and since when: a stuck session's
    seat can be released."""

    template_name = "portal/manage_sessions.html"
    section = "sessions"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        q = search_text(self.request)
        sessions = selectors.concurrent_sessions(organization=self.organization, search=q)
        context.update(
            page=Paginator(sessions, PAGE_SIZE).get_page(self.request.GET.get("page")),
            q=q,
            now=timezone.now(),
        )
        return context


# Inviting a user --------------------------------------------------------------------------------


class ManageInviteView(ManageMixin, TemplateView):
    """A new agent or supervisor of the organization, mailed an invitation to choose a password."""

    template_name = "portal/manage_invite.html"

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = form or MemberInviteForm()
        return context

    def post(self, request, org_id):
        form = MemberInviteForm(request.POST)
        if form.is_valid():
            try:
                invitation = member_invite(
                    organization=self.organization,
                    acting_user=request.user,
                    site_url=site_url(request),
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    f"{invitation.user.username} is now a member of {self.organization.name}. "
                    f"Invitation e-mailed to {invitation.email}; its link works until "
                    f"{timezone.localtime(invitation.expires_at):%Y-%m-%d %H:%M}.",
                )
                return redirect("portal:manage_user", self.organization.pk, invitation.user_id)
        return self.render_to_response(self.get_context_data(form=form), status=400)


# One user ---------------------------------------------------------------------------------------


class MemberMixin(ManageMixin):
    """A page or action about one member: ``user_id`` is a member of this organization or a 404."""

    def resolve(self, **kwargs):
        self.member = get_object_or_404(
            selectors.managed_members(organization=self.organization), user_id=kwargs["user_id"]
        )
        self.user = self.member.user

    def member_url(self) -> str:
        return reverse("portal:manage_user", args=[self.organization.pk, self.user.pk])

    def back(self, request):
        """Back to the list the action was taken from, or to the user's page."""
        from_list = request.POST.get("back", request.GET.get("back")) == "list"
        return redirect(self.section_url("users") if from_list else self.member_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            member=self.member,
            back=self.request.GET.get("back", ""),
            cancel_url=self.section_url("users")
            if self.request.GET.get("back") == "list"
            else self.member_url(),
        )
        return context


class ManageUserView(MemberMixin, TemplateView):
    """One member: role, method, seats, invitation; the actions on them."""

    template_name = "portal/manage_user.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        latest = self.user.invitations.order_by("-sent_at", "-pk").first()
        context.update(
            refusal=member_refusal(membership=self.member, acting_user=self.request.user),
            remove_refusal=member_refusal(
                membership=self.member, acting_user=self.request.user, removing=True
            ),
            invitation=latest,
            invitation_status=selectors.invitation_status(latest) if latest else "",
            invitation_refusal=invitation_refusal(self.user),
            is_assigned=self.user.license_method == User.LicenseMethod.ASSIGNED,
            supervising=self.member.role == Membership.Role.SUPERVISOR,
            now=timezone.now(),
        )
        return context


class MemberSeatAssignView(MemberMixin, View):
    def post(self, request, org_id, user_id):
        try:
            result = member_seat_assign(membership=self.member, acting_user=request.user)
        except (ValidationError, LicenseLimitReached) as exc:
            _refused(request, exc)
        else:
            level = messages.SUCCESS if result.assigned else messages.WARNING
            messages.add_message(request, level, f"{self.user}: {result.summary()}")
        return self.back(request)


class MemberSeatsUnassignView(MemberMixin, TemplateView):
    """Asks, then releases the member's Assignable seats."""

    template_name = "portal/manage_confirm.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        seats = list(SeatAssignment.objects.active().filter(user=self.user))
        context.update(
            question=f"Unassign {self.user.username}'s seat?",
            facts=[
                fact
                for a in seats
                for fact in (
                    ("Seat", a.get_license_type_display()),
                    ("Assigned since", f"{timezone.localtime(a.assigned_at):%d %b %Y}"),
                )
            ],
            refusal=member_refusal(membership=self.member, acting_user=self.request.user),
            consequence=(
                f"The seat goes back to server {self.organization.server.server_id}'s pool. "
                f"{self.user.username} cannot sign in until a seat is assigned to them or "
                "their station again."
                if seats
                else f"{self.user.username} holds no Assignable seat."
            ),
            confirm="Unassign the seat" if seats else "",
        )
        return context

    def post(self, request, org_id, user_id):
        try:
            released = member_seats_unassign(membership=self.member, acting_user=request.user)
        except ValidationError as exc:
            _refused(request, exc)
        else:
            messages.success(request, f"{self.user}: {len(released)} seat(s) released.")
        return self.back(request)


class MemberMethodView(MemberMixin, View):
    def post(self, request, org_id, user_id):
        form = MethodForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose Assigned or Concurrent.")
            return self.back(request)
        try:
            said = member_method_change(
                membership=self.member, method=form.cleaned_data["method"], acting_user=request.user
            )
        except ValidationError as exc:
            _refused(request, exc)
        else:
            messages.info(request, said)
        return self.back(request)


class MemberRoleView(MemberMixin, View):
    """Make the member an agent or a supervisor; the seat follows (services/members.py)."""

    def post(self, request, org_id, user_id):
        form = RoleForm(request.POST)
        if not form.is_valid():
            messages.error(
                request,
                "Choose Agent or Supervisor: an administrator makes organization administrators.",
            )
            return self.back(request)
        try:
            said = member_role_change(
                membership=self.member, role=form.cleaned_data["role"], acting_user=request.user
            )
        except (ValidationError, LicenseLimitReached) as exc:
            _refused(request, exc)
        else:
            messages.success(request, said)
        return self.back(request)


class MemberInvitationView(MemberMixin, View):
    def post(self, request, org_id, user_id):
        try:
            result = member_invitation_send(
                membership=self.member, acting_user=request.user, site_url=site_url(request)
            )
        except ValidationError as exc:
            _refused(request, exc)
        else:
            level = messages.SUCCESS if result.sent and not result.refused else messages.WARNING
            messages.add_message(request, level, result.summary())
        return self.back(request)


class MemberRemoveView(MemberMixin, TemplateView):
    """Asks, then removes the member from the organization."""

    template_name = "portal/manage_confirm.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        server = self.organization.server
        context.update(
            question=f"Remove {self.user.username} from {self.organization.name}?",
            facts=[
                ("Role", self.member.get_role_display()),
                ("Method", self.user.get_license_method_display()),
            ],
            refusal=member_refusal(
                membership=self.member, acting_user=self.request.user, removing=True
            ),
            consequence=(
                f"They will no longer see {self.organization.name} in the portal. The seats they "
                f"hold on server {server.server_id} are released unless they still need them "
                "there for another organization; a Concurrent user's session is signed out. "
                "Their account stays: an administrator can add them again."
                + (
                    " The invitation mailed to them stops working: it is withdrawn."
                    if not self.member.elsewhere and not self.user.has_usable_password()
                    else ""
                )
            ),
            confirm="Remove from the organization",
        )
        return context

    def post(self, request, org_id, user_id):
        try:
            released = member_remove(membership=self.member, acting_user=request.user)
        except ValidationError as exc:
            _refused(request, exc)
            return self.back(request)
        messages.success(
            request,
            f"{self.user.username} removed from {self.organization.name}; "
            f"{len(released)} seat(s) released.",
        )
        return redirect(self.section_url("users"))


# Stations and sessions --------------------------------------------------------------------------


class StationMixin(ManageMixin):
    section = "stations"

    def resolve(self, **kwargs):
        self.station = get_object_or_404(self.scoped(Station.objects), pk=kwargs["station_id"])

    def license_type(self, data) -> str:
        """The access license of the station's seat to assign or release (default: Agent, as
        seat_assign's)."""
        form = StationSeatForm({"license_type": data.get("license_type") or LicenseType.AGENT})
        if not form.is_valid():
            raise Http404("No such license.")
        return form.cleaned_data["license_type"]


class ManageStationAddView(ManageMixin, TemplateView):
    """A new station of the organization, named as people type it when they sign in there."""

    template_name = "portal/manage_station_add.html"
    section = "stations"

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = form or StationForm()
        return context

    def post(self, request, org_id):
        form = StationForm(request.POST)
        if form.is_valid():
            try:
                station = station_create(
                    organization=self.organization,
                    name=form.cleaned_data["name"],
                    acting_user=request.user,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    f"Station {station.name} added to {self.organization.name}. "
                    "Assign it a seat below: Assigned users signing in there use it.",
                )
                # The list found by its name: the new station is on the page shown.
                return redirect(self.section_url() + "?" + urlencode({"q": station.name}))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class StationSeatAssignView(StationMixin, View):
    def post(self, request, org_id, station_id):
        try:
            seat_assign(
                station=self.station,
                license_type=self.license_type(request.POST),
                acting_user=request.user,
            )
        except (LicenseLimitReached, ValueError) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{self.station.name}: seat assigned.")
        return redirect(self.section_url())


class StationSeatReleaseView(StationMixin, TemplateView):
    """Asks, then releases one of the station's Assignable seats."""

    template_name = "portal/manage_confirm.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        license_type = self.license_type(self.request.GET)
        held = (
            SeatAssignment.objects.active()
            .filter(station=self.station, license_type=license_type)
            .first()
        )
        label = license_label(license_type)
        context.update(
            question=f"Release station {self.station.name}'s {label} seat?",
            facts=[
                ("Seat", label),
                ("Assigned since", f"{timezone.localtime(held.assigned_at):%d %b %Y}"),
            ]
            if held
            else [],
            consequence=(
                f"The seat goes back to server {self.organization.server.server_id}'s pool; "
                f"nobody signs in at {self.station.name} on its seat any more."
                if held
                else f"{self.station.name} holds no {label} seat."
            ),
            confirm="Release the seat" if held else "",
            hidden={"license_type": license_type},
            cancel_url=self.section_url(),
        )
        return context

    def post(self, request, org_id, station_id):
        released = seat_release(
            station=self.station,
            license_type=self.license_type(request.POST),
            acting_user=request.user,
        )
        messages.success(request, f"{self.station.name}: {len(released)} seat(s) released.")
        return redirect(self.section_url())


class SessionReleaseView(ManageMixin, TemplateView):
    """Asks, then releases a Concurrent seat held for the organization (a stuck session)."""

    template_name = "portal/manage_confirm.html"
    section = "sessions"

    def resolve(self, **kwargs):
        self.lease = get_object_or_404(
            self.scoped(SeatLease.objects).select_related("user"), pk=kwargs["lease_id"]
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        lease, user = self.lease, self.lease.user
        held = lease.released_at is None
        context.update(
            question=f"Release {user.username}'s Concurrent seat?",
            facts=[
                ("Seat", lease.get_license_type_display()),
                ("Taken by", lease.get_source_display()),
                ("Since", f"{timezone.localtime(lease.acquired_at):%d %b %Y %H:%M}"),
                ("Last seen", f"{timezone.localtime(lease.last_seen_at):%d %b %Y %H:%M}"),
            ],
            consequence=(
                f"{user.username}'s session is signed out and the seat goes back to the pool: "
                "use this for a session that is stuck. They can sign in again, taking a seat "
                "if one is free."
                if held
                else f"This seat was released already ({lease.get_release_reason_display()})."
            ),
            confirm="Release the seat" if held else "",
            cancel_url=self.section_url(),
        )
        return context

    def post(self, request, org_id, lease_id):
        if self.lease.released_at is not None:
            messages.info(request, f"{self.lease.user}'s seat was released already.")
            return redirect(self.section_url())
        try:
            session_release(lease=self.lease, acting_user=request.user)
        except ValidationError as exc:
            _refused(request, exc)
        else:
            messages.success(
                request,
                f"{self.lease.user}'s Concurrent seat released; their session is signed out.",
            )
        return redirect(self.section_url())
