"""License files (installed from signed files, never typed in) and their entitlements, read-only."""

import base64
import binascii

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .admin_base import ReadOnlyModelAdmin
from .licensefile import MAX_FILE_BYTES, LicenseFileError
from .models import Entitlement, LicenseFile
from .selectors import license_file_preview
from .services import license_file_import, license_file_verify


class EntitlementInline(admin.TabularInline):
    model = Entitlement
    fields = ["license_type", "method", "quantity", "overage_percent", "starts_on", "expires_on"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LicenseFileInstallForm(forms.Form):
    file = forms.FileField(
        label=_("License file"), help_text=_("The .lic file exactly as the vendor issued it.")
    )
    server = forms.CharField(
        label=_("For server"),
        required=False,
        help_text=_(
            "Optional: the server id the file must be issued for; "
            "a file for another server is refused."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("A license file is a few kilobytes; this one is over 1 MB.")
            )
        return upload.read(MAX_FILE_BYTES + 1)


class LicenseFileConfirmForm(forms.Form):
    """The previewed file, carried back as base64 (a browser would turn its line ends into CRLF
    and break the signature); the import verifies it again, so a changed copy is refused."""

    license = forms.CharField(widget=forms.HiddenInput, max_length=(MAX_FILE_BYTES + 3) * 4 // 3)
    server = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_license(self):
        try:
            return base64.b64decode(self.cleaned_data["license"], validate=True)
        except (binascii.Error, ValueError):
            raise forms.ValidationError(_("The previewed file was changed.")) from None


@admin.register(LicenseFile)
class LicenseFileAdmin(ReadOnlyModelAdmin):
    # Five columns that fit beside the filters at 1366 px: when and by whom share one, and the
    # issue date and signing key are on each file's page.
    list_display = ["serial", "server", "customer", "installed", "is_installed"]
    list_filter = [("replaced_at", admin.EmptyFieldListFilter), "server"]
    search_fields = ["serial", "customer", "server__server_id"]
    list_select_related = ["server", "installed_by"]
    readonly_fields = [
        "server",
        "serial",
        "customer",
        "issued_on",
        "key_id",
        "installed_at",
        "installed_by",
        "replaced_at",
        "content",
    ]
    inlines = [EntitlementInline]
    change_list_template = "admin/licenses/licensefile/change_list.html"

    @admin.display(boolean=True, description=_("current"))
    def is_installed(self, obj):
        return obj.is_installed

    @admin.display(description=_("installed"), ordering="installed_at")
    def installed(self, obj):
        moment = timezone.localtime(obj.installed_at)
        return format_html(
            '<time datetime="{}">{}</time><div class="quiet">{}</div>',
            moment.isoformat(),
            date_format(moment, "d M Y H:i"),
            _("by %(user)s") % {"user": obj.installed_by} if obj.installed_by else "",
        )

    def get_urls(self):
        return [
            path(
                "install/",
                self.admin_site.admin_view(self.install_view),
                name="licenses_licensefile_install",
            ),
            *super().get_urls(),
        ]

    def install_view(self, request):
        """Upload a signed license file, see what it would change, then install it or cancel.

        A refused file changes nothing and says why at upload. A verified one is shown beside
        the installed license (with today's use, each license it would leave exceeded marked)
        and carried in a hidden field; Install verifies it again and installs it.
        """
        if not request.user.has_perm("licenses.add_licensefile"):
            raise PermissionDenied
        if request.method == "POST" and "_cancel" in request.POST:
            self.message_user(request, _("Nothing was installed."), messages.INFO)
            return HttpResponseRedirect(reverse("admin:licenses_licensefile_changelist"))
        if request.method == "POST" and "_install" in request.POST:
            return self._install(request)
        initial = {"server": request.GET.get("server", "")}
        form = LicenseFileInstallForm(request.POST or None, request.FILES or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            text = form.cleaned_data["file"]
            expected = form.cleaned_data["server"] or None
            try:
                content, key_id = license_file_verify(text=text, expected_server_id=expected)
            except LicenseFileError as exc:
                form.add_error("file", exc.message)
            else:
                preview = license_file_preview(content=content, key_id=key_id)
                confirm = LicenseFileConfirmForm(
                    initial={"license": base64.b64encode(text).decode(), "server": expected or ""}
                )
                context = {
                    **self.admin_site.each_context(request),
                    "title": _("Install license %(serial)s?") % {"serial": content.serial},
                    "preview": preview,
                    "confirm": confirm,
                    "opts": self.model._meta,
                }
                return TemplateResponse(request, "admin/licenses/licensefile/preview.html", context)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Install a license file"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/licenses/licensefile/install.html", context)

    def _install(self, request):
        confirm = LicenseFileConfirmForm(request.POST)
        install_page = reverse("admin:licenses_licensefile_install")
        if not confirm.is_valid():
            self.message_user(
                request, _("The previewed file was changed; upload it again."), messages.ERROR
            )
            return HttpResponseRedirect(install_page)
        try:
            license_file = license_file_import(
                text=confirm.cleaned_data["license"],
                acting_user=request.user,
                expected_server_id=confirm.cleaned_data["server"] or None,
            )
        except LicenseFileError as exc:
            self.message_user(
                request,
                _("The license file was not installed: %(reason)s") % {"reason": exc.message},
                messages.ERROR,
            )
            return HttpResponseRedirect(install_page)
        self.message_user(
            request,
            _("License %(serial)s installed for server %(server)s.")
            % {"serial": license_file.serial, "server": license_file.server.server_id},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(
            reverse("admin:organizations_server_change", args=[license_file.server_id])
        )


@admin.register(Entitlement)
class EntitlementAdmin(ReadOnlyModelAdmin):
    list_display = [
        "license_type",
        "method",
        "quantity",
        "overage_percent",
        "starts_on",
        "expires_on",
        "license_file",
        "server",
    ]
    list_filter = [
        "license_type",
        "method",
        ("license_file__replaced_at", admin.EmptyFieldListFilter),
        "license_file__server",
    ]
    search_fields = ["license_file__serial", "license_file__server__server_id"]
    list_select_related = ["license_file__server"]

    @admin.display(description=_("server"), ordering="license_file__server__server_id")
    def server(self, obj):
        return obj.license_file.server.server_id
