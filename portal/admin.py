"""The portal in the admin: scheduled reports and their runs, invitations, and on each user's
page the portal features their memberships give and their invitation."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.forms import AdminUserCreationForm
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.results import RowResult

from licenses.admin_base import ReadOnlyModelAdmin, ScaledModelAdmin
from organizations.models import User
from seats.admin.tenancy import UserAdmin

from .features import features_of_user
from .models import Invitation, ReportRun, ScheduledReport
from .params import site_url
from .selectors import invitation_status
from .services import invitation_refusal, invitation_send, invitations_send


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


class InvitingUserCreationForm(AdminUserCreationForm):
    """Django's add-user form, with the invitation for a user created without a password."""

    send_invitation = forms.BooleanField(
        label=_("E-mail an invitation to choose a password"),
        required=False,
        initial=True,
        help_text=_(
            "When password-based authentication is disabled: the user is mailed a link to choose "
            "their password. It works once and expires; it can be sent again."
        ),
    )

    def clean(self):
        cleaned = super().clean()
        if (
            not cleaned.get("set_usable_password", True)
            and cleaned.get("send_invitation")
            and not cleaned.get("email")
        ):
            self.add_error(
                "email",
                _(
                    "Enter the e-mail address the invitation goes to, or untick "
                    "“E-mail an invitation”."
                ),
            )
        return cleaned


admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    """The user admin of seats/admin/tenancy.py, with what the portal gives the user and the
    invitation to choose a password (on create, as an action, after a CSV import)."""

    add_form = InvitingUserCreationForm
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "email",
                    "license_method",
                    "usable_password",
                    "password1",
                    "password2",
                    "send_invitation",
                ],
            },
        ),
    ]
    actions = [*UserAdmin.actions, "send_invitations"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:
            return fieldsets
        portal = (_("Portal"), {"fields": ["portal_features", "invitation"]})
        return [*fieldsets[:3], portal, *fieldsets[3:]]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "portal_features", "invitation"]

    def get_urls(self):
        return [
            path(
                "<path:object_id>/invite/",
                self.admin_site.admin_view(self.invite_view),
                name="organizations_user_invite",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("portal features"))
    def portal_features(self, obj):
        return render_to_string(
            "admin/organizations/user/portal_features.html",
            {"memberships": features_of_user(user=obj)},
        )

    @admin.display(description=_("invitation"))
    def invitation(self, obj):
        latest = obj.invitations.order_by("-sent_at", "-pk").first()
        return render_to_string(
            "admin/organizations/user/invitation.html",
            {
                "latest": latest,
                "status": invitation_status(latest) if latest else None,
                "refusal": invitation_refusal(obj),
                "invite_url": reverse("admin:organizations_user_invite", args=[obj.pk]),
            },
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change or obj.has_usable_password() or not form.cleaned_data.get("send_invitation"):
            return
        sent = invitation_send(user=obj, acting_user=request.user, site_url=site_url(request))
        self.message_user(
            request,
            _("Invitation e-mailed to %(email)s; its link works until %(until)s.")
            % {
                "email": sent.email,
                "until": f"{timezone.localtime(sent.expires_at):%Y-%m-%d %H:%M}",
            },
            messages.SUCCESS,
        )

    def invite_view(self, request, object_id):
        user, refused = self._guard(request, object_id)
        if refused:
            return refused
        self._say(
            request,
            invitations_send(users=[user], acting_user=request.user, site_url=site_url(request)),
        )
        return self._back(user)

    @admin.action(
        description=_("E-mail an invitation to choose a password (or send it again)"),
        permissions=["change"],
    )
    def send_invitations(self, request, queryset):
        self._say(
            request,
            invitations_send(
                users=list(queryset), acting_user=request.user, site_url=site_url(request)
            ),
        )

    def import_written(self, result, request):
        """After a confirmed CSV import: invite the new users, who have no password."""
        new = [
            r.object_id for r in result.valid_rows() if r.import_type == RowResult.IMPORT_TYPE_NEW
        ]
        if new:
            users = User.objects.filter(pk__in=new).order_by("username")
            self._say(
                request,
                invitations_send(users=users, acting_user=request.user, site_url=site_url(request)),
            )

    def _say(self, request, result):
        level = messages.SUCCESS if result.sent and not result.refused else messages.WARNING
        self.message_user(request, result.summary(), level)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyModelAdmin):
    list_display = ["user", "email", "sent_at", "expires_at", "status", "sent_by"]
    list_filter = ["sent_at", "expires_at"]
    search_fields = ["user__username", "email"]
    list_select_related = ["user", "sent_by"]
    date_hierarchy = "sent_at"

    @admin.display(description=_("status"))
    def status(self, obj):
        return invitation_status(obj)
