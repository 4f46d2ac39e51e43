"""Admin for seats in use: assignments, leases (who holds each Concurrent seat since when),
denials, daily usage.

Declarative and read-only: seats change only through the services (assign/release on the user
and station pages, the release action below), never by editing a row.

These tables reach millions of rows: each list orders by an indexed column and is sortable by
that column only (sorting by a user's or an organization's name would sort every row), and
filters by date in the sidebar rather than with Django's date drill-down, which reads every
row's date to offer its years and months.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from licenses.admin_base import ReadOnlyModelAdmin

from ..models import (
    DailySeatUsage,
    ReleaseReason,
    SeatAssignment,
    SeatDenial,
    SeatLease,
    SeatPool,
    StationOccupancy,
    ThresholdAlert,
)
from ..services.assignments import seat_release
from ..services.leases import lease_release


class ActiveFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("Held now")), ("released", _("Released"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(released_at__isnull=True)
        if self.value() == "released":
            return queryset.filter(released_at__isnull=False)
        return queryset


class SeatReleaseMixin:
    """The one write these pages offer: release the selected seats through the service,
    exactly once each."""

    def has_release_permission(self, request):
        return request.user.has_perm(f"seats.change_{self.model._meta.model_name}")


@admin.register(SeatAssignment)
class SeatAssignmentAdmin(SeatReleaseMixin, ReadOnlyModelAdmin):
    list_display = [
        "license_type",
        "user",
        "station",
        "organization",
        "server",
        "assigned_at",
        "assigned_by",
        "released_at",
        "release_reason",
    ]
    list_filter = [
        ActiveFilter,
        "license_type",
        "release_reason",
        "server",
        ("assigned_at", admin.DateFieldListFilter),
    ]
    search_fields = ["user__username", "station__name", "organization__name", "server__server_id"]
    # A station is shown with its organization's name.
    list_select_related = ["user", "station__organization", "organization", "server", "assigned_by"]
    sortable_by = ["assigned_at"]
    actions = ["release_selected"]

    @admin.action(description=_("Release the selected seats"), permissions=["release"])
    def release_selected(self, request, queryset):
        released = seat_release(
            assignments=list(queryset.filter(released_at__isnull=True)), acting_user=request.user
        )
        self.message_user(
            request,
            ngettext("%d seat released.", "%d seats released.", len(released)) % len(released),
            messages.SUCCESS,
        )


@admin.register(SeatLease)
class SeatLeaseAdmin(SeatReleaseMixin, ReadOnlyModelAdmin):
    """Who holds each Concurrent seat and since when; an administrator can release one
    (the session ends)."""

    list_display = [
        "user",
        "license_type",
        "organization",
        "server",
        "source",
        "client_id",
        "acquired_at",
        "last_seen_at",
        "released_at",
        "release_reason",
        "released_by",
    ]
    list_filter = [
        ActiveFilter,
        "license_type",
        "source",
        "release_reason",
        "server",
        ("acquired_at", admin.DateFieldListFilter),
    ]
    search_fields = ["user__username", "organization__name", "server__server_id"]
    list_select_related = ["user", "organization", "server", "released_by"]
    sortable_by = ["acquired_at"]
    exclude = ["session_key"]
    actions = ["release_selected"]

    @admin.action(
        description=_("Release the selected seats (signs their sessions out)"),
        permissions=["release"],
    )
    def release_selected(self, request, queryset):
        released = lease_release(
            leases=list(queryset.filter(released_at__isnull=True)),
            reason=ReleaseReason.ADMIN,
            acting_user=request.user,
        )
        self.message_user(
            request,
            ngettext("%d seat released.", "%d seats released.", len(released)) % len(released),
            messages.SUCCESS,
        )


@admin.register(SeatDenial)
class SeatDenialAdmin(ReadOnlyModelAdmin):
    list_display = [
        "created_at",
        "user",
        "license_type",
        "method",
        "organization",
        "server",
        "message",
    ]
    list_filter = ["license_type", "method", "server", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["user__username", "organization__name", "server__server_id"]
    list_select_related = ["user", "organization", "server"]
    sortable_by = ["created_at"]


@admin.register(DailySeatUsage)
class DailySeatUsageAdmin(ReadOnlyModelAdmin):
    list_display = [
        "day",
        "server",
        "organization",
        "license_type",
        "method",
        "licensed",
        "in_use",
        "peak",
        "denials",
    ]
    list_filter = [
        "license_type",
        "method",
        "server",
        ("organization", admin.EmptyFieldListFilter),
        ("day", admin.DateFieldListFilter),
    ]
    search_fields = ["server__server_id", "organization__name"]
    list_select_related = ["server", "organization"]
    # The model's order sorts by the server's and organization's names, a join of every row; the
    # unique constraint's index gives the days, newest first, and each day's few rows are sorted.
    ordering = ["-day", "server_id", "organization_id", "license_type", "method"]
    sortable_by = ["day"]


@admin.register(ThresholdAlert)
class ThresholdAlertAdmin(ReadOnlyModelAdmin):
    """Each utilisation threshold a pool, or an organization against its cap, reached on a day:
    recorded and mailed once (IWP_ALERT_THRESHOLDS)."""

    list_display = [
        "day",
        "created_at",
        "server",
        "license_type",
        "method",
        "organization",
        "threshold_reached",
        "in_use",
        "capacity",
    ]
    list_filter = [
        ("day", admin.DateFieldListFilter),
        "server",
        "threshold",
        "license_type",
        "method",
        # Only the organizations that have an alert (a server may have a thousand), and "-":
        # the whole pool's alerts.
        ("organization", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["server__server_id", "organization__name"]
    list_select_related = ["server", "organization"]
    ordering = ["-created_at", "-id"]
    sortable_by = ["created_at"]

    @admin.display(description=_("threshold"), ordering="threshold")
    def threshold_reached(self, obj):
        return f"{obj.threshold}%"


@admin.register(SeatPool)
class SeatPoolAdmin(ReadOnlyModelAdmin):
    list_display = ["server", "license_type", "method", "in_use"]
    list_filter = ["license_type", "method"]
    list_select_related = ["server"]


@admin.register(StationOccupancy)
class StationOccupancyAdmin(ReadOnlyModelAdmin):
    """Who is logged in at which station, since when (one person at a time)."""

    list_display = ["station", "user", "since", "last_seen_at", "ended_at", "end_reason"]
    list_filter = [("ended_at", admin.EmptyFieldListFilter), "end_reason"]
    search_fields = ["station__name", "user__username"]
    list_select_related = ["station__organization", "user"]
    sortable_by = ["since"]
