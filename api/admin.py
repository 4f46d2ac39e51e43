"""API keys in the admin: create one (its key is shown once), see when each was last used,
revoke."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from licenses.admin_base import AuditedModelAdmin

from .models import ApiKey
from .services import api_key_create, api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(AuditedModelAdmin):
    list_display = ["name", "server", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["server", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "server__server_id"]
    list_select_related = ["server", "created_by"]
    autocomplete_fields = ["server"]
    actions = ["revoke"]
    fields = ["server", "name"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "server",
            "name",
            "prefix",
            "created_at",
            "created_by",
            "last_used_at",
            "revoked_at",
        ]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) if obj else self.fields

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the key's history stays

    def save_model(self, request, obj, form, change):
        if change:
            return  # a key is never edited: revoke it and create another
        key, raw = api_key_create(
            server=form.cleaned_data["server"],
            name=form.cleaned_data["name"],
            acting_user=request.user,
        )
        obj.pk, obj.prefix, obj._raw_key = key.pk, key.prefix, raw

    def response_add(self, request, obj, post_url_continue=None):
        return TemplateResponse(
            request,
            "admin/api/apikey/created.html",
            {**self.admin_site.each_context(request), "key": obj, "raw_key": obj._raw_key},
        )

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        revoked = [
            k
            for k in queryset.select_related("server")
            if api_key_revoke(key=k, acting_user=request.user)
        ]
        self.message_user(
            request,
            _("%(n)d key(s) revoked: their clients are refused from now on.") % {"n": len(revoked)},
            messages.SUCCESS,
        )
