from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from licenses.admin_base import ScaledModelAdmin

from . import services
from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ScaledModelAdmin):
    """The outbox: what was queued, to whom, and whether it went out. Read-only
    but for 'send now'."""

    list_display = [
        "created_at",
        "subject",
        "recipients",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "created_at"]
    search_fields = ["subject", "dedupe_key", "to"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["send_now"]

    @admin.display(description=_("recipients"))
    def recipients(self, obj):
        return ", ".join(obj.to)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Try to send the selected messages now"), permissions=["view"])
    def send_now(self, request, queryset):
        sent = services.outbox_deliver_many(message_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("%d message sent.", "%d messages sent.", sent) % sent,
            messages.SUCCESS if sent else messages.WARNING,
        )
