"""Servers, organizations, users and stations: the tenancy tree, with license
status and seat panels."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import OuterRef
from django.utils.translation import gettext_lazy as _

from licenses.admin_base import AuditedModelAdmin
from licenses.exceptions import LicenseLimitReached, LicenseMissing
from licenses.expressions import SubqueryCount
from licenses.selectors import license_status
from licenses.services import organization_check_room, organization_create, organization_update
from organizations.models import Membership, Organization, PortalFeature, Server, Station, User

from ..resources import UserImportResource
from ..selectors import license_status_with_usage
from ..services.members import membership_change_role, membership_remove
from ..services.stations import station_create, station_name_refusal
from .actions import StationSeatAdminMixin, UserSeatAdminMixin
from .csv_import import CSVImportMixin


@admin.register(Server)
class ServerAdmin(AuditedModelAdmin):
    list_display = ["server_id", "name", "organization_count", "created_at"]
    search_fields = ["server_id", "name"]
    readonly_fields = ["created_at"]
    change_form_template = "admin/organizations/server/change_form.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _organizations=SubqueryCount(
                    Organization.objects.filter(server=OuterRef("pk"), is_active=True)
                )
            )
        )

    @admin.display(description=_("active organizations"), ordering="_organizations")
    def organization_count(self, obj):
        return obj._organizations

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if object_id:
            server = self.get_object(request, object_id)
            if server is not None:
                extra_context["license_status"] = license_status_with_usage(servers=[server])
                extra_context["license_files"] = server.license_files.select_related(
                    "installed_by"
                )[:20]
        return super().changeform_view(request, object_id, form_url, extra_context)


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["server", "name", "is_active", "is_wallboard"]

    def clean(self):
        cleaned = super().clean()
        server = cleaned.get("server")
        becomes_active = cleaned.get("is_active") and (
            self.instance.pk is None or not self.instance.is_active
        )
        if server and becomes_active:
            is_wallboard = (
                self.instance.is_wallboard if self.instance.pk else cleaned.get("is_wallboard")
            )
            try:
                organization_check_room(server=server, is_wallboard=bool(is_wallboard))
            except (LicenseLimitReached, LicenseMissing) as exc:
                raise forms.ValidationError(str(exc)) from None
        return cleaned


@admin.register(Organization)
class OrganizationAdmin(AuditedModelAdmin):
    form = OrganizationForm
    list_display = ["name", "server", "is_active", "is_wallboard", "member_count", "created_at"]
    list_filter = ["is_active", "is_wallboard", "server"]
    search_fields = ["name", "server__server_id"]
    list_select_related = ["server"]
    autocomplete_fields = ["server"]
    readonly_fields = ["created_at"]
    change_list_template = "admin/organizations/organization/change_list.html"

    def get_queryset(self, request):
        # Counted for the page's rows only (a GROUP BY over every membership took seconds).
        return (
            super()
            .get_queryset(request)
            .annotate(
                _members=SubqueryCount(Membership.objects.filter(organization=OuterRef("pk")))
            )
        )

    # Not sortable: sorting by it would count the members of every organization.
    @admin.display(description=_("members"))
    def member_count(self, obj):
        return obj._members

    def get_readonly_fields(self, request, obj=None):
        # An organization stays on the server it was created on: its data and seats live there.
        return [*self.readonly_fields, "server", "is_wallboard"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            fields = {
                name: form.cleaned_data[name]
                for name in form.changed_data
                if name not in ("server", "is_wallboard")
            }
            saved = organization_update(organization=obj, acting_user=request.user, **fields)
        else:
            saved = organization_create(
                server=obj.server,
                name=obj.name,
                acting_user=request.user,
                is_active=obj.is_active,
                is_wallboard=obj.is_wallboard,
            )
        obj.pk, obj.created_at = saved.pk, saved.created_at

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "license_status": license_status(),
        }
        return super().changelist_view(request, extra_context)


class MembershipForm(forms.ModelForm):
    """A membership with its withheld portal features as checkboxes."""

    withheld_features = forms.TypedMultipleChoiceField(
        label=_("withheld portal features"),
        choices=PortalFeature.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=Membership._meta.get_field("withheld_features").help_text,
    )

    class Meta:
        model = Membership
        fields = ["user", "organization", "role", "withheld_features"]


def _role_changes(forms_) -> list[tuple[Membership, str]]:
    """The saved memberships whose role a form changes, each put back to its role: the role is
    changed by ``membership_change_role`` after the save, so that the seat follows it."""
    changes = []
    for form in forms_:
        if form.instance.pk and "role" in form.changed_data:
            changes.append((form.instance, form.instance.role))
            form.instance.role = form.initial["role"]
    return changes


def _change_roles(admin_, request, changes) -> None:
    for membership, role in changes:
        admin_.message_user(
            request,
            membership_change_role(membership=membership, role=role, acting_user=request.user),
        )


def _removed_message(request, membership: Membership, released: list) -> None:
    if released:
        messages.info(
            request,
            _(
                "%(user)s is no longer a member of %(organization)s: %(n)d seat(s) they held "
                "on server %(server)s released."
            )
            % {
                "user": membership.user,
                "organization": membership.organization.name,
                "n": len(released),
                "server": membership.organization.server.server_id,
            },
        )


class MembershipFormSet(forms.BaseInlineFormSet):
    """A membership deleted on the user's page goes through membership_remove: the seats the
    user no longer needs on that server are released with it."""

    admin_request = None

    def delete_existing(self, obj, commit=True):
        if commit:
            released = membership_remove(
                membership=obj, acting_user=getattr(self.admin_request, "user", None)
            )
            if self.admin_request is not None:
                _removed_message(self.admin_request, obj, released)


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    formset = MembershipFormSet
    extra = 0
    autocomplete_fields = ["organization"]
    fk_name = "user"


@admin.register(User)
class UserAdmin(UserSeatAdminMixin, CSVImportMixin, AuditedModelAdmin, DjangoUserAdmin):
    resource_classes = [UserImportResource]  # CSV import: organization, role, method and seat
    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "license_method",
        "is_staff",
        "is_active",
    ]
    list_filter = [
        "license_method",
        "is_staff",
        "is_active",
        "memberships__role",
        "memberships__organization__server",
    ]
    search_fields = ["username", "email", "first_name", "last_name"]
    # A million users: sorted by the unique username's index only; the search finds the rest.
    sortable_by = ["username"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets[:1],
        (_("Licensing"), {"fields": ["license_method", "threshold_alert_mail"]}),
        *DjangoUserAdmin.fieldsets[1:],
    ]
    # Each user's own choice, on their portal profile: shown here, not set for them.
    readonly_fields = ["threshold_alert_mail"]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["username", "license_method", "password1", "password2"],
            },
        ),
    ]
    inlines = [MembershipInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        deleted = set(formset.deleted_forms) if formset.can_delete else set()
        changes = _role_changes(f for f in formset.forms if f not in deleted)
        formset.admin_request = request
        super().save_formset(request, form, formset, change)
        _change_roles(self, request, changes)


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    form = MembershipForm
    list_display = ["user", "organization", "role", "withheld", "server", "created_at"]
    list_filter = ["role", "organization__server"]
    search_fields = ["user__username", "organization__name"]
    list_select_related = ["user", "organization__server"]
    # A million memberships: by organization then user (the default) or by user, both indexed.
    sortable_by = ["user"]
    autocomplete_fields = ["user", "organization"]

    @admin.display(description=_("server"), ordering="organization__server__server_id")
    def server(self, obj):
        return obj.organization.server.server_id

    def save_model(self, request, obj, form, change):
        changes = _role_changes([form]) if change else []
        super().save_model(request, obj, form, change)
        _change_roles(self, request, changes)

    def delete_model(self, request, obj):
        """Through membership_remove: the seats the user no longer needs there are released."""
        released = membership_remove(membership=obj, acting_user=request.user)
        _removed_message(request, obj, released)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("user", "organization__server"):
            self.delete_model(request, membership)

    @admin.display(description=_("withheld"))
    def withheld(self, obj):
        labels = dict(PortalFeature.choices)
        return ", ".join(str(labels[f]) for f in obj.withheld_features) or "—"


class StationForm(forms.ModelForm):
    """A station: a new one is refused a name its organization has in another case, as the
    portal's (``station_create`` saves it)."""

    class Meta:
        model = Station
        fields = ["organization", "name"]

    def clean(self):
        cleaned = super().clean()
        organization, name = cleaned.get("organization"), cleaned.get("name")
        if self.instance.pk is None and organization and name:
            refusal = station_name_refusal(organization=organization, name=name.strip())
            if refusal:
                self.add_error("name", refusal)
        return cleaned


@admin.register(Station)
class StationAdmin(StationSeatAdminMixin, AuditedModelAdmin):
    form = StationForm
    list_display = ["name", "organization", "server", "created_at"]
    list_filter = ["organization__server"]
    search_fields = ["name", "organization__name"]
    list_select_related = ["organization__server"]
    autocomplete_fields = ["organization"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        station = station_create(
            organization=obj.organization, name=obj.name, acting_user=request.user
        )
        obj.pk, obj.name, obj.created_at = station.pk, station.name, station.created_at

    @admin.display(description=_("server"), ordering="organization__server__server_id")
    def server(self, obj):
        return obj.organization.server.server_id
