"""The base classes every model admin of the project uses."""

from auditlog.mixins import AuditlogHistoryAdminMixin
from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from .exceptions import LicenseLimitReached, LicenseMissing


class AuditedModelAdmin(AuditlogHistoryAdminMixin, admin.ModelAdmin):
    """A model admin with an "Audit log" link on every row (who changed what, before and after).

    A refusal from a service (a license used up or missing) raised while saving becomes an error
    message on the same page; the admin's transaction rolls back, so nothing is changed.
    """

    show_auditlog_history_link = True

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (LicenseLimitReached, LicenseMissing) as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ReadOnlyModelAdmin(AuditedModelAdmin):
    """History and records that come from signed files or from the system: viewable, never edited."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
