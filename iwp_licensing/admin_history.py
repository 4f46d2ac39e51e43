"""The audit trail's page in the admin: pghistory's events, in words an administrator reads."""

from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
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
        # Six columns that fit beside the filters at 1366 px: the address and the URL share one.
        return ["when", "what", "obj", "changes", "user", "where"]

    @admin.display(description=_("when"), ordering="pgh_created_at")
    def when(self, event):
        moment = timezone.localtime(event.pgh_created_at)
        return format_html(
            '<time datetime="{}" title="{}">{}</time>',
            moment.isoformat(),
            date_format(moment, "DATETIME_FORMAT"),
            date_format(moment, "d M Y H:i"),
        )

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

    @admin.display(description=_("from"))
    def where(self, event):
        """The request's URL, and the client's address under it."""
        context = event.pgh_context or {}
        if not (event.url or context.get("remote_addr")):
            return "—"
        return format_html(
            '<div>{}</div><div class="quiet">{}</div>',
            event.url or "",
            context.get("remote_addr") or "",
        )
