"""Reserves and caps per organization and pool, in the admin: listed per server, set through the
service that checks them against the pool (seats/services/shares.py)."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from licenses.admin_base import AuditedModelAdmin

from ..models import PoolShare
from ..selectors import seats_in_use
from ..services.shares import pool_share_check, pool_share_set


class PoolShareForm(forms.ModelForm):
    class Meta:
        model = PoolShare
        fields = ["organization", "license_type", "method", "reserve", "cap"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            pool_share_check(
                organization=cleaned["organization"],
                license_type=cleaned["license_type"],
                method=cleaned["method"],
                reserve=cleaned.get("reserve") or 0,
                cap=cleaned.get("cap"),
            )
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return cleaned


@admin.register(PoolShare)
class PoolShareAdmin(AuditedModelAdmin):
    form = PoolShareForm
    list_display = ["organization", "server", "license_type", "method", "reserve", "cap", "held"]
    list_filter = ["organization__server", "license_type", "method"]
    search_fields = ["organization__name", "organization__server__server_id"]
    list_select_related = ["organization__server"]
    autocomplete_fields = ["organization"]

    @admin.display(description=_("server"), ordering="organization__server__server_id")
    def server(self, obj):
        return obj.organization.server.server_id

    @admin.display(description=_("held now"))
    def held(self, obj):
        return self._held.get(
            (obj.organization.server_id, obj.organization_id, obj.license_type, obj.method), 0
        )

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # The page's organizations' seats in use, in one query.
        self._held = seats_in_use(
            organization_ids={s.organization_id for s in changelist.result_list}
        )
        return changelist

    def save_model(self, request, obj, form, change):
        try:
            saved = pool_share_set(
                organization=obj.organization,
                license_type=obj.license_type,
                method=obj.method,
                reserve=obj.reserve,
                cap=obj.cap,
                acting_user=request.user,
            )
        except ValueError as exc:  # another administrator changed the pool meanwhile
            self.message_user(request, str(exc), messages.ERROR)
            return
        if saved is not None:
            obj.pk = saved.pk

    def delete_model(self, request, obj):
        pool_share_set(
            organization=obj.organization,
            license_type=obj.license_type,
            method=obj.method,
            acting_user=request.user,
        )
