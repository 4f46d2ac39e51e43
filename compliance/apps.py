from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Compliance audit")

    def ready(self):
        from . import receivers  # noqa: F401  connects the signal receivers
