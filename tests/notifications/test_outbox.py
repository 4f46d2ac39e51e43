from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notifications.models import OutboxMessage, OutboxStatus
from notifications.services import outbox_deliver, outbox_enqueue, outbox_sweep
from notifications.tasks import deliver_outbox_message, sweep_outbox
from tests.concurrency import race

from .smtp import body_of


def enqueue(key="report:1", **kw):
    return outbox_enqueue(
        subject=kw.get("subject", "Weekly report"),
        body=kw.get("body", "Attached."),
        to=kw.get("to", ["ann@example.com", "bob@example.com"]),
        attachments=kw.get("attachments", [("report.csv", "a,b\n1,2\n", "text/csv")]),
        dedupe_key=key,
    )


@pytest.mark.django_db
def test_enqueued_message_is_delivered_after_commit_with_its_attachment(
    smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = enqueue()
    assert smtp_server.messages == []  # nothing leaves before commit
    assert len(callbacks) == 1

    assert deliver_outbox_message.apply(args=[message.pk]).get() is True

    [received] = smtp_server.messages
    assert sorted(received["rcpt"]) == ["ann@example.com", "bob@example.com"]
    assert received["message"]["Subject"] == "Weekly report"
    assert received["message"]["Message-ID"].startswith(f"<outbox-{message.pk}-")
    assert body_of(received["message"]).strip() == "Attached."
    [attachment] = list(received["message"].iter_attachments())
    assert attachment.get_filename() == "report.csv"
    assert attachment.get_content().splitlines() == ["a,b", "1,2"]
    message.refresh_from_db()
    assert (
        message.status == OutboxStatus.SENT
        and message.sent_at is not None
        and message.attempts == 1
    )


@pytest.mark.django_db
def test_same_dedupe_key_returns_the_existing_message_and_sends_once(
    smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = enqueue(key="k")
        second = enqueue(key="k", subject="Something else")
    assert second.pk == first.pk and second.subject == "Weekly report"
    assert OutboxMessage.objects.count() == 1
    assert len(callbacks) == 1

    assert outbox_deliver(message_id=first.pk) is True
    assert outbox_deliver(message_id=first.pk) is None
    assert outbox_sweep() == 0
    assert len(smtp_server.messages) == 1


@pytest.mark.django_db
def test_rolled_back_transaction_leaves_no_message(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                enqueue()
                raise RuntimeError("the report failed")
    assert OutboxMessage.objects.count() == 0
    assert callbacks == []


@pytest.mark.django_db
def test_mail_server_down_keeps_the_message_and_backs_off_until_it_returns(smtp_down, settings):
    settings.IWP_OUTBOX_RETRY_BASE_SECONDS = 30
    message = enqueue()

    assert deliver_outbox_message.apply(args=[message.pk]).get() is False
    message.refresh_from_db()
    assert message.status == OutboxStatus.RETRYING and message.attempts == 1
    assert "Connection" in message.last_error or "refused" in message.last_error.lower()
    first_wait = message.next_attempt_at - message.last_attempt_at
    assert first_wait == timedelta(seconds=30)

    # Not due yet: the sweep leaves it alone.
    assert outbox_sweep() == 0
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert outbox_sweep() == 0
    message.refresh_from_db()
    assert message.attempts == 2 and message.next_attempt_at - message.last_attempt_at == timedelta(
        seconds=60
    )

    smtp_down.start()
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert sweep_outbox.apply().get() == 1
    assert outbox_sweep() == 0
    assert len(smtp_down.messages) == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.attempts == 3


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_message_send_it_once(smtp_server):
    message = enqueue()
    results = race(4, lambda i: outbox_deliver(message_id=message.pk))
    assert results.count(True) == 1
    assert len(smtp_server.messages) == 1
