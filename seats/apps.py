from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SeatsConfig(AppConfig):
    name = "seats"
    verbose_name = _("Seats")

    def ready(self):
        from . import receivers  # noqa: F401  connects the signal receivers
