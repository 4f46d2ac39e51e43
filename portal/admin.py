"""The portal in the admin: scheduled reports and their runs, and on each user's page the portal
features their memberships give."""

from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from organizations.models import User
from seats.admin.tenancy import UserAdmin

from .features import features_of_user
from .models import ReportRun, ScheduledReport


class ReportRunInline(admin.TabularInline):
    model = ReportRun
    fields = ["period_start", "period_end", "row_count", "recipients", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ["-period_start"]

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super().get_queryset(request).defer("content")
        )  # the stored CSV: not shown here, can be large


@admin.register(ScheduledReport)
class ScheduledReportAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "frequency", "is_active", "created_by", "created_at"]
    list_filter = ["frequency", "is_active", "organization__server"]
    search_fields = ["name", "organization__name", "recipients"]
    list_select_related = ["organization", "created_by"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["created_by", "created_at"]
    inlines = [ReportRunInline]


admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    """The user admin of seats/admin/tenancy.py, with what the portal gives the user."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:
            return fieldsets
        return [*fieldsets[:3], (_("Portal"), {"fields": ["portal_features"]}), *fieldsets[3:]]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "portal_features"]

    @admin.display(description=_("portal features"))
    def portal_features(self, obj):
        return render_to_string(
            "admin/organizations/user/portal_features.html",
            {"memberships": features_of_user(user=obj)},
        )
