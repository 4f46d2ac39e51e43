from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from licenses.admin_base import ReadOnlyModelAdmin, ScaledModelAdmin
from licenses.models import license_label
from notifications.services import outbox_not_queued

from . import admin_renewal, services  # noqa: F401  (admin_renewal registers its page)
from .models import AuditRun, AuditTrigger, ComplianceEvent, ComplianceRecipient, ExpiryWarning


class RunAuditNowMixin:
    """A "Run the audit now" button on the change list (a POST to ``run-audit/``), shown to
    staff who can view."""

    change_list_template = "admin/compliance/change_list_with_audit.html"

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "run-audit/",
                self.admin_site.admin_view(self.run_audit_view),
                name=f"{opts.app_label}_{opts.model_name}_run_audit",
            ),
        ] + super().get_urls()

    def run_audit_view(self, request):
        opts = self.model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        if request.method != "POST" or not self.has_view_permission(request):
            return HttpResponseRedirect(changelist)
        day = timezone.localdate()
        run = services.compliance_audit_run(
            day=day, trigger=AuditTrigger.ADMIN, acting_user=request.user
        )
        self.message_user(
            request,
            _(
                "Audit of %(day)s: %(checked)d licenses checked, %(exceeded)d exceeded, "
                "%(new)d newly recorded, %(warnings)d new expiry warnings."
            )
            % {
                "day": day,
                "checked": run.licenses_checked,
                "exceeded": run.exceeded_found,
                "new": run.events_recorded,
                "warnings": run.warnings_recorded,
            },
            messages.WARNING if run.exceeded_found else messages.SUCCESS,
        )
        mails = [m for m in (run.mail, run.warning_mail) if m is not None]
        if any(outbox_not_queued(message=m) for m in mails):
            self.message_user(
                request,
                _(
                    "The audit ran; its e-mail waits in the outbox: the worker queue is "
                    "unavailable. It is sent once the queue is back."
                ),
                messages.WARNING,
            )
        return HttpResponseRedirect(changelist)

    def changelist_view(self, request, extra_context=None):
        opts = self.model._meta
        extra_context = {
            **(extra_context or {}),
            "run_audit_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_run_audit"),
        }
        return super().changelist_view(request, extra_context)


@admin.register(ComplianceEvent)
class ComplianceEventAdmin(RunAuditNowMixin, ReadOnlyModelAdmin):
    """Exceeded licenses as the audit recorded them: read-only, filterable by
    server, license and day."""

    # Fits beside the filters at 1366 px: the license and its method share a column, and the
    # message wraps (static/iwp/admin.css).
    list_display = ["day", "server", "license", "licensed_count", "found_count", "message"]
    list_filter = ["server", "license_type", "method", "day"]
    list_select_related = ["server"]
    search_fields = ["message", "server__server_id"]
    date_hierarchy = "day"
    readonly_fields = [f.name for f in ComplianceEvent._meta.fields]

    @admin.display(description=_("license"), ordering="license_type")
    def license(self, event):
        return license_label(event.license_type, event.method)


@admin.register(ExpiryWarning)
class ExpiryWarningAdmin(ReadOnlyModelAdmin):
    list_display = [
        "day",
        "server",
        "license_type",
        "method",
        "expires_on",
        "threshold_days",
        "message",
    ]
    list_filter = ["server", "license_type", "threshold_days", "day"]
    list_select_related = ["server"]
    date_hierarchy = "day"
    readonly_fields = [f.name for f in ExpiryWarning._meta.fields]


@admin.register(AuditRun)
class AuditRunAdmin(RunAuditNowMixin, ReadOnlyModelAdmin):
    list_display = [
        "started_at",
        "day",
        "trigger",
        "finished_at",
        "licenses_checked",
        "exceeded_found",
        "events_recorded",
        "warnings_recorded",
        "mail_state",
    ]
    list_filter = ["trigger", "day"]
    list_select_related = ["mail"]
    date_hierarchy = "day"
    readonly_fields = [f.name for f in AuditRun._meta.fields]

    @admin.display(description=_("e-mail"))
    def mail_state(self, obj):
        return obj.mail.get_status_display() if obj.mail else "—"


@admin.register(ComplianceRecipient)
class ComplianceRecipientAdmin(ScaledModelAdmin):
    """Who receives the audit's e-mail; with none active, the ADMINS setting."""

    list_display = ["email", "name", "is_active"]
    list_editable = ["is_active"]
    search_fields = ["email", "name"]
