"""The admin site: its titles, and on its index page the license status of every server and
what needs an administrator."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class IWPAdminSite(admin.AdminSite):
    site_header = _("IWP Licensing")
    site_title = _("IWP Licensing")
    index_title = _("Licenses, servers and seats")
    index_template = "admin/iwp_index.html"

    def index(self, request, extra_context=None):
        from compliance.selectors import compliance_recipients
        from seats.selectors import license_status_with_usage, reserves_over_capacity

        extra_context = {
            **(extra_context or {}),
            "license_status": license_status_with_usage(),
            # The audit mails nobody: say so where administrators look.
            "no_compliance_recipients": not compliance_recipients(),
            # A smaller license left reserves that cannot all be had.
            "reserves_over_capacity": reserves_over_capacity(),
        }
        return super().index(request, extra_context)
