"""The supervisor and agent portal. Views stay thin: scoping and gating in scoping.py,
reads in selectors.py."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.generic import TemplateView, View

from compliance.renewal import renewal_for_organization
from compliance.services import alert_mail_choose
from licenses.models import LicenseType
from organizations.models import Membership
from portal.features import Feature, feature_refusal
from seats.views import STATION_SESSION_KEY

from . import exports, selectors
from .charts import usage_chart_svg
from .forms import ProfileForm, ScheduledReportForm
from .models import ReportRun, ScheduledReport
from .params import search_text
from .scoping import GateCache, PortalFeatureMixin, nav_links, portal_memberships, render_refusal
from .services import (
    INVITATION_WITHDRAWN,
    invitation_accept,
    invitation_from_token,
    scheduled_report_create,
    scheduled_report_delete,
    scheduled_report_update,
)

PAGE_SIZE = 50


@login_required
def index(request):
    """Supervisors: seat usage of each organization they supervise. Agents: their own license."""
    memberships = list(portal_memberships(request.user))
    if not memberships:
        return render(request, "portal/index.html", {"usage": [], "own": [], "refusals": []})
    gates = GateCache(request)
    contexts = [(m, gates.for_membership(m)) for m in memberships]
    unlicensed = {
        m.organization.server_id: m.organization.server
        for m, ctx in contexts
        if LicenseType.SERVER not in ctx.valid_licenses
    }
    if len(unlicensed) == len({m.organization.server_id for m in memberships}):
        return render(
            request, "portal/unlicensed.html", {"servers": list(unlicensed.values())}, status=503
        )

    usage_orgs, own_orgs, refusals, wallboards, navs = [], [], [], [], {}
    for m, ctx in contexts:
        if LicenseType.SERVER not in ctx.valid_licenses:
            continue  # listed once on the page as an unlicensed server
        feature = (
            Feature.SEAT_USAGE if m.role in Membership.SUPERVISOR_ROLES else Feature.AGENT_PAGE
        )
        refusal = feature_refusal(feature, ctx)
        if refusal is None:
            (usage_orgs if feature == Feature.SEAT_USAGE else own_orgs).append(m.organization)
            navs[m.organization.pk] = nav_links(m.organization, ctx, Feature.SEAT_USAGE)
            continue
        wallboard_refusal = feature_refusal(Feature.WALLBOARD, ctx)
        if wallboard_refusal is None:
            wallboards.append(m.organization)
        # On a Marquee-only server the wallboard is the only feature: say why it is
        # refused, if it is.
        refused = wallboard_refusal if ctx.marquee_only or ctx.wallboard_org else refusal
        if refused is not None:
            refusals.append((m.organization, refused))
    if len(wallboards) == 1 and not (usage_orgs or own_orgs or refusals):
        # A Marquee-only server offers only the wallboard: go straight there.
        return redirect("portal:wallboard", wallboards[0].pk)
    if not (usage_orgs or own_orgs or wallboards):
        return render_refusal(request, [r for _o, r in refusals])
    usage = selectors.seat_usage(organizations=usage_orgs) if usage_orgs else []
    for u in usage:
        u.nav = navs[u.organization.pk]
    own = (
        selectors.own_licenses(
            user=request.user,
            organizations=own_orgs,
            station_id=request.session.get(STATION_SESSION_KEY),
        )
        if own_orgs
        else []
    )
    return render(
        request,
        "portal/index.html",
        {
            "usage": usage,
            "own": own,
            "refusals": refusals,
            "wallboards": wallboards,
            "unlicensed": list(unlicensed.values()),
            "idle_minutes": _idle_minutes(),
            "now": timezone.now(),
        },
    )


def _idle_minutes() -> int:
    return settings.IWP_CONCURRENT_IDLE_MINUTES


class OrganizationUsageView(PortalFeatureMixin, TemplateView):
    """Seat usage of one organization (the same table as /portal/, for one organization)."""

    feature = Feature.SEAT_USAGE
    template_name = "portal/index.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        usage = selectors.seat_usage(organizations=[self.organization])
        usage[0].nav = context["nav"]
        context.update(usage=usage, own=[], refusals=[], now=timezone.now())
        return context


def _holder_filters(request) -> tuple[str, str, str]:
    """The holders page's filters (search, view, users shown), read the same way by the page
    and by its CSV export."""
    q = search_text(request)
    view = request.GET.get("view", "users")
    view = view if view in selectors.HOLDER_VIEWS else "users"
    show = request.GET.get("show", "all")
    show = show if show in selectors.HOLDER_FILTERS else "all"
    return q, view, show


class HoldersView(PortalFeatureMixin, TemplateView):
    """Who holds what: users with their seats, stations with theirs, and who is logged in now."""

    feature = Feature.SEAT_HOLDERS
    template_name = "portal/holders.html"
    VIEWS = selectors.HOLDER_VIEWS

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        q, view, show = _holder_filters(self.request)
        qs = selectors.holders(organization=self.organization, view=view, search=q, show=show)
        page = Paginator(qs, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            page=page,
            q=q,
            view=view,
            show=show,
            views=self.VIEWS,
            filters=selectors.HOLDER_FILTERS,
            now=timezone.now(),
            idle_minutes=_idle_minutes(),
            can_export=feature_refusal(Feature.EXPORTS, self.gate) is None,
        )
        return context


def _days(request) -> int:
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    return days if days in selectors.HISTORY_RANGES else 30


class HistoryView(PortalFeatureMixin, TemplateView):
    """A chart per license of daily in use and peak against the licensed count, with denials."""

    feature = Feature.USAGE_HISTORY
    template_name = "portal/history.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        days = _days(self.request)
        start, end, series = selectors.usage_history(organization=self.organization, days=days)
        # The renewal forecast continues each chart (unless Renewal is withheld): history ends
        # yesterday, the projection starts today.
        forecast = feature_refusal(Feature.RENEWAL, self.gate) is None
        lines = (
            {
                (line.license_type, line.method): line
                for line in renewal_for_organization(organization=self.organization)
            }
            if forecast
            else {}
        )
        for s in series:
            s.renewal = lines.get((s.license_type, s.method))
            s.svg = usage_chart_svg(
                points=s.points,
                start=start,
                end=end,
                title=f"{s.label}, {start} – {end}",
                projection=s.renewal.projected_points if s.renewal else None,
            )
        context.update(
            forecast=forecast,
            days=days,
            ranges=selectors.HISTORY_RANGES,
            start=start,
            end=end,
            series=series,
            can_export=feature_refusal(Feature.EXPORTS, self.gate) is None,
        )
        return context


def _stream_csv(rows, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        exports.csv_lines(rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = exports.content_disposition(filename)
    return response


class SeatListCsvView(PortalFeatureMixin, View):
    """The holders page as CSV: the same view and filters (the page's link carries them)."""

    feature = Feature.EXPORTS

    def get(self, request, org_id):
        q, view, show = _holder_filters(request)
        what = "seats" if view == "users" else f"seats-{view}"
        return _stream_csv(
            selectors.holder_rows(organization=self.organization, view=view, search=q, show=show),
            exports.export_filename(self.organization, what, timezone.localdate().isoformat()),
        )


class HistoryCsvView(PortalFeatureMixin, View):
    feature = Feature.EXPORTS

    def get(self, request, org_id):
        start, end = selectors.history_period(days=_days(request))  # complete days, as the chart
        return _stream_csv(
            selectors.usage_history_csv_rows(organization=self.organization, start=start, end=end),
            exports.export_filename(self.organization, "seat-history", start, end),
        )


class ComplianceView(PortalFeatureMixin, TemplateView):
    feature = Feature.COMPLIANCE
    template_name = "portal/compliance.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        events = selectors.compliance_events(organization=self.organization)
        context["page"] = Paginator(events, PAGE_SIZE).get_page(self.request.GET.get("page"))
        return context


class WallboardView(PortalFeatureMixin, TemplateView):
    """Full screen, large figures; refreshes its numbers from wallboard.json without reloading."""

    feature = Feature.WALLBOARD
    template_name = "portal/wallboard.html"
    refresh_seconds = 15

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            figures=selectors.wallboard_figures(organization=self.organization),
            refresh_seconds=self.refresh_seconds,
            now=timezone.now(),
        )
        return context


class WallboardDataView(PortalFeatureMixin, View):
    feature = Feature.WALLBOARD

    def get(self, request, org_id):
        return JsonResponse(
            {
                "organization": self.organization.name,
                "updated": timezone.localtime().strftime("%H:%M:%S"),
                "figures": selectors.wallboard_figures(organization=self.organization),
            }
        )


class ReportListView(PortalFeatureMixin, TemplateView):
    """The organization's scheduled reports, their recent runs, and a form to add one."""

    feature = Feature.SCHEDULED_REPORTS
    template_name = "portal/reports.html"

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        reports = self.scoped(ScheduledReport.objects).order_by("name")
        runs = (
            self.scoped(ReportRun.objects, "report__organization")
            .select_related("report")
            .defer("content")
            .order_by("-created_at")
        )
        context.update(
            reports=reports,
            form=form or ScheduledReportForm(),
            runs=Paginator(runs, PAGE_SIZE).get_page(self.request.GET.get("page")),
        )
        return context

    def post(self, request, org_id):
        form = ScheduledReportForm(request.POST)
        if form.is_valid():
            try:
                report = scheduled_report_create(
                    organization=self.organization,
                    acting_user=request.user,
                    **form.service_kwargs(),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    f"Scheduled report “{report.name}” saved: "
                    f"sent {report.get_frequency_display().lower()} "
                    f"to {', '.join(report.recipient_list)}.",
                )
                return redirect("portal:reports", self.organization.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ReportEditView(PortalFeatureMixin, TemplateView):
    feature = Feature.SCHEDULED_REPORTS
    template_name = "portal/report_edit.html"

    def get_report(self):
        return get_object_or_404(self.scoped(ScheduledReport.objects), pk=self.kwargs["report_id"])

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        report = self.get_report()
        context.update(report=report, form=form or ScheduledReportForm(instance=report))
        return context

    def post(self, request, org_id, report_id):
        report = self.get_report()
        if "delete" in request.POST:
            # A delete button of an older page: deleting is only ever done after confirming.
            return redirect("portal:report_delete", self.organization.pk, report.pk)
        form = ScheduledReportForm(request.POST, instance=report)
        if form.is_valid():
            try:
                scheduled_report_update(
                    report=report,
                    acting_user=request.user,
                    is_active=form.cleaned_data["is_active"],
                    **form.service_kwargs(),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"Scheduled report “{report.name}” saved.")
                return redirect("portal:reports", self.organization.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ReportDeleteView(PortalFeatureMixin, TemplateView):
    """Deleting a scheduled report asks first: GET shows what goes (the report and its kept
    runs), only the POST of that page deletes. Works without JavaScript."""

    feature = Feature.SCHEDULED_REPORTS
    template_name = "portal/report_delete.html"

    def get_report(self):
        return get_object_or_404(self.scoped(ScheduledReport.objects), pk=self.kwargs["report_id"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = self.get_report()
        context.update(report=report, run_count=report.runs.count())
        return context

    def post(self, request, org_id, report_id):
        report = self.get_report()
        scheduled_report_delete(report=report, acting_user=request.user)
        messages.success(request, f"Scheduled report “{report.name}” deleted.")
        return redirect("portal:reports", self.organization.pk)


class ReportRunDownloadView(PortalFeatureMixin, View):
    feature = Feature.SCHEDULED_REPORTS

    def get(self, request, org_id, run_id):
        run = get_object_or_404(self.scoped(ReportRun.objects, "report__organization"), pk=run_id)
        content = run.content
        if not content.startswith(exports.CSV_BOM):  # a run stored before exports had one
            content = exports.CSV_BOM + content
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = exports.content_disposition(run.filename)
        return response


@login_required
def own_license(request):
    """An agent's own license on each of their organizations (also shown on /portal/)."""
    gates = GateCache(request)
    memberships = list(portal_memberships(request.user))
    orgs, refusals = [], []
    for m in memberships:
        refusal = feature_refusal(Feature.AGENT_PAGE, gates.for_membership(m))
        (refusals.append(refusal) if refusal else orgs.append(m.organization))
    if not orgs:
        if not refusals:
            return render(request, "portal/index.html", {"usage": [], "own": [], "refusals": []})
        return render_refusal(request, refusals)
    own = selectors.own_licenses(
        user=request.user, organizations=orgs, station_id=request.session.get(STATION_SESSION_KEY)
    )
    return render(
        request,
        "portal/index.html",
        {
            "usage": [],
            "own": own,
            "refusals": [],
            "idle_minutes": _idle_minutes(),
            "now": timezone.now(),
        },
    )


class ProfileView(LoginRequiredMixin, TemplateView):
    """The user's own settings: whether they receive utilisation alerts by e-mail (supervisors
    and organization administrators, for the organizations they supervise or administer)."""

    template_name = "portal/profile.html"

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        supervised = [
            m.organization
            for m in portal_memberships(user)
            if m.role in Membership.SUPERVISOR_ROLES
        ]
        context.update(
            form=form or ProfileForm(initial={"threshold_alert_mail": user.threshold_alert_mail}),
            supervised=supervised,
            thresholds=settings.IWP_ALERT_THRESHOLDS,
        )
        return context

    def post(self, request):
        form = ProfileForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        receive = form.cleaned_data["threshold_alert_mail"]
        if receive and not request.user.email:
            messages.error(
                request,
                "Your account has no e-mail address: ask an administrator to add one, then "
                "choose the alerts again.",
            )
            return redirect("portal:profile")
        alert_mail_choose(user=request.user, receive=receive, acting_user=request.user)
        messages.success(
            request,
            f"Saved: utilisation alerts are mailed to {request.user.email}."
            if receive
            else "Saved: you receive no utilisation alerts.",
        )
        return redirect("portal:profile")


class InvitationAcceptView(View):
    """The link in an invitation: choose a password (Django's SetPasswordForm and validators),
    then sign in on the login page, which takes the seat."""

    template_name = "registration/invitation_accept.html"

    def dispatch(self, request, token):
        self.invitation, self.why_not = invitation_from_token(token)
        return super().dispatch(request, token)

    def _render(self, request, form=None, status=200):
        return render(
            request,
            self.template_name,
            {
                "invitation": self.invitation,
                "why_not": self.why_not,
                "withdrawn": self.why_not.startswith(INVITATION_WITHDRAWN),
                "form": form,
            },
            status=status,
        )

    def get(self, request, token):
        if self.invitation is None:
            return self._render(request, status=410)
        return self._render(request, SetPasswordForm(self.invitation.user))

    def post(self, request, token):
        if self.invitation is None:
            return self._render(request, status=410)
        form = SetPasswordForm(self.invitation.user, request.POST)
        if not form.is_valid():
            return self._render(request, form)
        try:
            invitation_accept(
                invitation=self.invitation, password=form.cleaned_data["new_password1"]
            )
        except ValidationError as exc:
            self.invitation, self.why_not = None, exc.messages[0]
            return self._render(request, status=410)
        messages.success(
            request,
            f"Your password is saved, {self.invitation.user.username}. Sign in with it now.",
        )
        return redirect("login")
