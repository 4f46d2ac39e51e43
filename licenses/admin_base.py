"""The base classes every model admin of the project uses."""

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from pghistory.models import Event

from .exceptions import LicenseLimitReached, LicenseMissing


def is_tracked(model) -> bool:
    """The audit trail's triggers record this model's changes (``@pghistory.track``)."""
    return any(
        getattr(related.related_model, "pgh_tracked_model", None) is model
        and issubclass(related.related_model, Event)
        for related in model._meta.related_objects
    )


class AuditedModelAdmin(admin.ModelAdmin):
    """A model admin whose "History" button shows the audit trail of the object: every change,
    whoever or whatever made it, with who, when, from where, before and after.

    A refusal from a service (a license used up or missing) raised while saving becomes an error
    message on the same page; the admin's transaction rolls back, so nothing is changed.
    """

    def history_view(self, request, object_id, extra_context=None):
        if not is_tracked(self.model):
            return super().history_view(request, object_id, extra_context)
        if self.get_object(request, object_id) is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        query = urlencode(
            {
                "obj": f"{self.opts.label}:{object_id}",
                "method": "tracks",  # the object's own changes
                "back": reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[object_id]
                ),
            }
        )
        return HttpResponseRedirect(
            reverse("admin:pghistory_middlewareevents_changelist") + "?" + query
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (LicenseLimitReached, LicenseMissing) as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ReadOnlyModelAdmin(AuditedModelAdmin):
    """History and records that come from signed files or from the system:
    viewable, never edited."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
