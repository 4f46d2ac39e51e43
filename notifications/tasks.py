"""Celery tasks for the outbox: deliver one message after commit, and a periodic sweep."""

from celery import shared_task

from . import services


@shared_task(name="notifications.tasks.deliver_outbox_message", acks_late=True)
def deliver_outbox_message(message_id: int):
    """Send one outbox message now. A failure is recorded on the message with its next
    attempt's time, and sweep_outbox retries it then: one retry mechanism, so the backoff is
    the message's own."""
    return services.outbox_deliver(message_id=message_id)


@shared_task(name="notifications.tasks.sweep_outbox")
def sweep_outbox():
    """Retry every undelivered message whose next attempt is due. Scheduled every minute."""
    return services.outbox_sweep()
