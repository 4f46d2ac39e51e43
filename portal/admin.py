"""Scheduled reports in the admin: administrators see every organization's
reports and their runs."""

from django.contrib import admin

from licenses.admin_base import ScaledModelAdmin

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
class ScheduledReportAdmin(ScaledModelAdmin):
    list_display = ["name", "organization", "frequency", "is_active", "created_by", "created_at"]
    list_filter = ["frequency", "is_active", "organization__server"]
    search_fields = ["name", "organization__name", "recipients"]
    list_select_related = ["organization", "created_by"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["created_by", "created_at"]
    inlines = [ReportRunInline]
