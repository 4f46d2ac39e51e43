"""Seat assign/release on the user and station admin pages, and bulk actions on users.

Mixed into organizations/admin.py's UserAdmin and StationAdmin; every button and action calls
one service and shows its sentence (or its refusal) as the page message.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from licenses.exceptions import LicenseLimitReached
from organizations.models import User

from ..models import ACCESS_TYPES, SeatAssignment, SeatLease
from ..services.assignments import (
    seat_assign,
    seat_assign_bulk,
    seat_release,
    seat_release_bulk,
    user_change_method,
    user_seats_release,
)


def _seat_rows(seats):
    return format_html_join(
        "",
        "<li>{} on server {} since {} {}</li>",
        (
            (
                s.get_license_type_display(),
                s.server.server_id,
                f"{getattr(s, 'assigned_at', None) or s.acquired_at:%Y-%m-%d %H:%M}",
                extra,
            )
            for s, extra in seats
        ),
    )


def _button(url, label, name="_seat", value="1"):
    return format_html(
        '<button type="submit" class="button" formaction="{}" name="{}" value="{}">{}</button> ',
        url,
        name,
        value,
        label,
    )


class _SeatViewsMixin:
    seat_url_name: str

    def _seat_urls(self, assign_view, release_view):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "<path:object_id>/seat/assign/",
                self.admin_site.admin_view(assign_view),
                name="{}_{}_seat_assign".format(*info),
            ),
            path(
                "<path:object_id>/seat/release/",
                self.admin_site.admin_view(release_view),
                name="{}_{}_seat_release".format(*info),
            ),
        ]

    def get_urls(self):
        return [
            *self._seat_urls(self.seat_assign_view, self.seat_release_view),
            *super().get_urls(),
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "seats"] if obj else fields

    def _back(self, obj):
        info = self.model._meta.app_label, self.model._meta.model_name
        return HttpResponseRedirect(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))

    def _guard(self, request, object_id):
        if request.method != "POST":
            return None, HttpResponseNotAllowed(["POST"])
        try:  # an id that is no number is no object: 404, not a ValueError from the query
            pk = self.model._meta.pk.to_python(object_id)
        except ValidationError:
            raise Http404("No such object.") from None
        obj = get_object_or_404(self.model, pk=pk)
        if not self.has_change_permission(request, obj):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        return obj, None


class UserSeatAdminMixin(_SeatViewsMixin):
    """On the user page: the seats held, Assign/Release buttons; bulk assign/release actions; method
    changes release seats."""

    actions = ["assign_seats", "release_seats"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:
            return fieldsets
        return [*fieldsets[:2], (_("Seats"), {"fields": ["seats"]}), *fieldsets[2:]]

    @admin.display(description=_("seats held"))
    def seats(self, obj):
        assigned = SeatAssignment.objects.active().filter(user=obj).select_related("server")
        leases = SeatLease.objects.active().filter(user=obj).select_related("server")
        rows = [(s, "(Assignable)") for s in assigned] + [
            (s, "(Concurrent, logged in)") for s in leases
        ]
        assign_url = reverse("admin:organizations_user_seat_assign", args=[obj.pk])
        release_url = reverse("admin:organizations_user_seat_release", args=[obj.pk])
        body = (
            format_html("<ul>{}</ul>", _seat_rows(rows))
            if rows
            else format_html("<p>{}</p>", _("No seat."))
        )
        buttons = ""
        if obj.license_method == User.LicenseMethod.ASSIGNED:
            buttons = format_html(
                "{}{}",
                _button(assign_url, _("Assign seat")),
                _button(release_url, _("Release seats")) if assigned else "",
            )
        elif leases:
            buttons = _button(release_url, _("Release Concurrent seat (signs out)"))
        return format_html("{}{}", body, buttons)

    def seat_assign_view(self, request, object_id):
        user, refused = self._guard(request, object_id)
        if refused:
            return refused
        try:
            result = seat_assign_bulk(users=[user], acting_user=request.user)
        except LicenseLimitReached as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(
                request,
                f"{user}: {result.summary()}",
                messages.SUCCESS if result.assigned else messages.WARNING,
            )
        return self._back(user)

    def seat_release_view(self, request, object_id):
        user, refused = self._guard(request, object_id)
        if refused:
            return refused
        released = user_seats_release(user=user, acting_user=request.user)
        self.message_user(request, f"{user}: {len(released)} seat(s) released.", messages.SUCCESS)
        return self._back(user)

    @admin.action(
        description=_("Assign seats to the selected users (all or nothing)"), permissions=["change"]
    )
    def assign_seats(self, request, queryset):
        try:
            result = seat_assign_bulk(users=list(queryset), acting_user=request.user)
        except LicenseLimitReached as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(
                request, result.summary(), messages.SUCCESS if result.assigned else messages.WARNING
            )

    @admin.action(
        description=_("Release the Assignable seats of the selected users"), permissions=["change"]
    )
    def release_seats(self, request, queryset):
        released = seat_release_bulk(users=list(queryset), acting_user=request.user)
        self.message_user(request, f"{len(released)} seat(s) released.", messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        new_method = obj.license_method
        if change and "license_method" in form.changed_data:
            obj.license_method = form.initial.get("license_method", obj.license_method)
            super().save_model(request, obj, form, change)
            said = user_change_method(user=obj, method=new_method, acting_user=request.user)
            self.message_user(request, said, messages.INFO)
        else:
            super().save_model(request, obj, form, change)


class StationSeatAdminMixin(_SeatViewsMixin):
    """On the station page: its Assignable seats (one per access license), with
    Assign/Release buttons."""

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        return fields if obj is None or "seats" in fields else [*fields, "seats"]

    @admin.display(description=_("seats held"))
    def seats(self, obj):
        held = list(SeatAssignment.objects.active().filter(station=obj).select_related("server"))
        body = (
            format_html("<ul>{}</ul>", _seat_rows([(s, "") for s in held]))
            if held
            else format_html("<p>{}</p>", _("No seat."))
        )
        assign_url = reverse("admin:organizations_station_seat_assign", args=[obj.pk])
        release_url = reverse("admin:organizations_station_seat_release", args=[obj.pk])
        have = {s.license_type for s in held}
        buttons = [
            _button(
                assign_url,
                format_html("{} {}", _("Assign"), t.label),
                name="license_type",
                value=t.value,
            )
            for t in ACCESS_TYPES
            if t.value not in have
        ] + [
            _button(
                release_url,
                format_html("{} {}", _("Release"), t.label),
                name="license_type",
                value=t.value,
            )
            for t in ACCESS_TYPES
            if t.value in have
        ]
        return format_html("{}{}", body, format_html_join("", "{}", ((b,) for b in buttons)))

    def seat_assign_view(self, request, object_id):
        station, refused = self._guard(request, object_id)
        if refused:
            return refused
        try:
            seat_assign(
                station=station,
                license_type=request.POST.get("license_type") or None,
                acting_user=request.user,
            )
        except (LicenseLimitReached, ValueError) as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, f"{station.name}: seat assigned.", messages.SUCCESS)
        return self._back(station)

    def seat_release_view(self, request, object_id):
        station, refused = self._guard(request, object_id)
        if refused:
            return refused
        released = seat_release(
            station=station,
            license_type=request.POST.get("license_type") or None,
            acting_user=request.user,
        )
        self.message_user(
            request, f"{station.name}: {len(released)} seat(s) released.", messages.SUCCESS
        )
        return self._back(station)
