from django.contrib.admin.apps import AdminConfig


class IWPAdminConfig(AdminConfig):
    """The Django admin, with a home page that shows every server's license status."""

    default_site = "iwp_licensing.admin_site.IWPAdminSite"
