"""Outgoing mail kept in the database until it is delivered (a transactional outbox)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    RETRYING = "retrying", _("Failed, will retry")
    SENT = "sent", _("Sent")


class OutboxMessage(models.Model):
    """One e-mail to send, written in the same transaction as what it reports.

    ``dedupe_key`` is unique: enqueuing the same key twice returns the first row, so a job
    that runs twice produces one mail. Delivery locks the row, so workers trying at once send it
    once; a worker that dies after the SMTP server took it and before its commit sends it again
    on the next try, with the same Message-ID (at least once, de-duplicated by Message-ID).
    """

    dedupe_key = models.CharField(_("dedupe key"), max_length=200, unique=True)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    to = models.JSONField(_("recipients"), default=list)
    attachments = models.JSONField(
        _("attachments"),
        default=list,
        blank=True,
        help_text=_("[filename, base64 content, MIME type] triples."),
    )
    status = models.CharField(
        _("state"), max_length=20, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mail (outbox)")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=OutboxStatus.SENT, sent_at__isnull=False)
                | (~Q(status=OutboxStatus.SENT) & Q(sent_at__isnull=True)),
                name="outboxmessage_sent_at_matches_status",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=~Q(status=OutboxStatus.SENT),
                name="outbox_undelivered",
            ),
        ]

    def __str__(self):
        return f"{self.subject} → {', '.join(self.to)} ({self.get_status_display()})"

    @property
    def is_sent(self) -> bool:
        return self.status == OutboxStatus.SENT
