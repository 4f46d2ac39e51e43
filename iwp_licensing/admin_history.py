"""The audit trail's page in the admin: pghistory's events, in words an administrator reads."""

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from pghistory.admin import EventsAdmin

LABELS = {"insert": _("created"), "update": _("changed"), "delete": _("deleted")}


class HistoryAdmin(EventsAdmin):
    """Every recorded change: when, what happened to which object, before and after, who and
    from where. An object's "History" button opens this page filtered to that object."""

    list_per_page = 50
    # Each count runs pghistory's query over every event table; one per page is enough.
    show_full_result_count = False

    def get_list_display(self, request):
        return ["when", "what", "obj", "changes", "user", "remote_addr", "url"]

    @admin.display(description=_("when"), ordering="pgh_created_at")
    def when(self, event):
        return event.pgh_created_at

    @admin.display(description=_("what"), ordering="pgh_label")
    def what(self, event):
        return LABELS.get(event.pgh_label, event.pgh_label)

    @admin.display(description=_("object"))
    def obj(self, event):
        model = event.pgh_obj_model.rsplit(".", 1)[-1]
        return f"{model} {event.pgh_obj_id}"

    @admin.display(description=_("before → after"))
    def changes(self, event):
        diff = event.pgh_diff or {}
        return format_html_join(
            "", "<div><b>{}</b>: {} → {}</div>", ((k, v[0], v[1]) for k, v in diff.items())
        )

    @admin.display(description=_("address"))
    def remote_addr(self, event):
        return (event.pgh_context or {}).get("remote_addr") or "—"
