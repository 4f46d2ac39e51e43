"""API keys of the seat API: each belongs to one server, is shown once, and is kept hashed."""

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), exclude=["last_used_at"])
class ApiKey(models.Model):
    """A key a server's desktop and device clients send as ``Authorization: Bearer <key>``.

    The key is ``iwp_<prefix>_<secret>``: the prefix finds the row and is shown in the admin;
    only the SHA-256 of the whole key is stored (the secret is 256 random bits, so a slow hash
    adds nothing). Revoked keys are refused at once.
    """

    server = models.ForeignKey(
        "organizations.Server",
        on_delete=models.PROTECT,
        related_name="api_keys",
        verbose_name=_("server"),
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("What uses it, e.g. “Agent desktops, floor 2”.")
    )
    prefix = models.CharField(_("prefix"), max_length=12, unique=True, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["server__server_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["server", "name"],
                condition=Q(revoked_at__isnull=True),
                name="apikey_unique_active_name_per_server",
                violation_error_message=_("This server has an active key of that name already."),
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…, {self.server})"
