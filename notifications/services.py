"""Writes to the outbox: enqueue a message, deliver one. Delivery happens after commit."""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from .models import OutboxMessage, OutboxStatus

logger = logging.getLogger("iwp_licensing.notifications")


def _encode_attachment(filename: str, content: bytes | str, mimetype: str) -> list[str]:
    raw = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    return [filename, base64.b64encode(raw).decode("ascii"), mimetype]


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after ``attempts`` failures: base × 2^(attempts-1), capped."""
    base = settings.IWP_OUTBOX_RETRY_BASE_SECONDS
    return timedelta(
        seconds=min(base * 2 ** max(attempts - 1, 0), settings.IWP_OUTBOX_RETRY_MAX_SECONDS)
    )


def outbox_enqueue(
    *,
    subject: str,
    body: str,
    to: list[str],
    attachments: Iterable[tuple[str, bytes | str, str]] = (),
    dedupe_key: str,
) -> OutboxMessage:
    """Queue one e-mail inside the caller's transaction; it is delivered after that
    transaction commits.

    An existing ``dedupe_key`` returns the existing row unchanged and queues nothing.
    """
    with transaction.atomic():
        message, created = OutboxMessage.objects.get_or_create(
            dedupe_key=dedupe_key,
            defaults={
                "subject": subject[:300],
                "body": body,
                "to": list(to),
                "attachments": [_encode_attachment(*a) for a in attachments],
                "next_attempt_at": timezone.now(),
            },
        )
        if created:
            transaction.on_commit(lambda: _schedule_delivery(message))
    return message


# How long handing a message to the worker queue may take before it is left to the sweep.
QUEUE_TIMEOUT_SECONDS = 0.25
QUEUE_UNAVAILABLE = "Not queued: the worker queue is unavailable; the outbox sweep sends it"


def _schedule_delivery(message: OutboxMessage) -> None:
    """Hand ``message`` to the worker queue, or give up within QUEUE_TIMEOUT_SECONDS.

    This runs on the request's path (after its commit), so it never waits for a broker that is
    down or hung: one connection attempt with short socket timeouts and no retry, where Celery's
    defaults retry for seconds (and wait without limit on a broker that never answers). A message
    not queued stays in the outbox, due now, for the every-minute sweep; its ``last_error``, in
    the database and on the instance the caller holds, says why (see outbox_not_queued).
    """
    from .tasks import deliver_outbox_message

    app = deliver_outbox_message.app
    try:
        with app.connection_for_write(
            connect_timeout=QUEUE_TIMEOUT_SECONDS,
            transport_options={
                "max_retries": 0,
                "socket_connect_timeout": QUEUE_TIMEOUT_SECONDS,
                "socket_timeout": QUEUE_TIMEOUT_SECONDS,
            },
        ) as connection:
            deliver_outbox_message.apply_async((message.pk,), connection=connection, retry=False)
    except Exception as exc:  # any broker failure: the sweep delivers it later
        message.last_error = f"{QUEUE_UNAVAILABLE} ({type(exc).__name__}: {exc})"[:2000]
        OutboxMessage.objects.filter(pk=message.pk, attempts=0).exclude(
            status=OutboxStatus.SENT
        ).update(last_error=message.last_error)
        logger.warning("Outbox message %s not queued; the sweep sends it: %s", message.pk, exc)


def outbox_not_queued(*, message: OutboxMessage) -> bool:
    """Whether ``message`` could not be handed to the worker queue when it was written: it
    waits in the outbox for the sweep."""
    return message.last_error.startswith(QUEUE_UNAVAILABLE)


def outbox_deliver(*, message_id: int) -> bool | None:
    """Send one message if it is not sent yet. True: sent now; None: nothing to do; False:
    failed (retry later).

    The row is locked (SKIP LOCKED) for the whole send, and marked sent in the same
    transaction, so two workers delivering the same message send it once.
    """
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id)
            .exclude(status=OutboxStatus.SENT)
            .first()
        )
        if message is None:
            return None
        now = timezone.now()
        message.attempts += 1
        message.last_attempt_at = now
        try:
            _send(message)
        except Exception as exc:  # any SMTP/network failure: record it and back off
            message.status = OutboxStatus.RETRYING
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            message.next_attempt_at = now + retry_delay(message.attempts)
            message.save(
                update_fields=[
                    "attempts",
                    "last_attempt_at",
                    "status",
                    "last_error",
                    "next_attempt_at",
                ]
            )
            logger.warning(
                "Outbox message %s not delivered (attempt %s): %s",
                message.pk,
                message.attempts,
                message.last_error,
            )
            return False
        message.status = OutboxStatus.SENT
        message.sent_at = now
        message.next_attempt_at = None
        message.last_error = ""
        message.save(
            update_fields=[
                "attempts",
                "last_attempt_at",
                "status",
                "sent_at",
                "next_attempt_at",
                "last_error",
            ]
        )
        return True


def _send(message: OutboxMessage) -> None:
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=message.to,
        # The same Message-ID on every attempt: a receiving server can drop a duplicate should a
        # send succeed but its commit fail.
        headers={
            "Message-ID": (
                f"<outbox-{message.pk}-"
                f"{hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:20]}@iwp-licensing>"
            ),
            "X-IWP-Dedupe-Key": message.dedupe_key,
        },
        connection=get_connection(fail_silently=False, timeout=settings.IWP_OUTBOX_SMTP_TIMEOUT),
    )
    for filename, content_b64, mimetype in message.attachments:
        email.attach(filename, base64.b64decode(content_b64), mimetype)
    email.send(fail_silently=False)


def outbox_due_ids(*, limit: int = 100) -> list[int]:
    """Ids of undelivered messages whose next attempt is due, oldest first."""
    return list(
        OutboxMessage.objects.exclude(status=OutboxStatus.SENT)
        .filter(next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def outbox_deliver_many(*, message_ids) -> int:
    """Try each message once; returns how many were sent."""
    return sum(1 for pk in message_ids if outbox_deliver(message_id=pk))


def outbox_sweep(*, limit: int = 100) -> int:
    """Try every due, undelivered message once; returns how many were sent."""
    return outbox_deliver_many(message_ids=outbox_due_ids(limit=limit))
