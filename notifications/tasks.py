"""Celery tasks for the outbox: deliver one message after commit, and a periodic sweep."""

from celery import shared_task

from . import services


@shared_task(bind=True, max_retries=8, acks_late=True)
def deliver_outbox_message(self, message_id: int):
    """Send one outbox message; on failure retry with exponential backoff (the sweep also retries)."""
    result = services.outbox_deliver(message_id=message_id)
    if result is False and not self.request.is_eager and self.request.retries < self.max_retries:
        delay = services.retry_delay(self.request.retries + 1).total_seconds()
        raise self.retry(countdown=delay)
    return result


@shared_task
def sweep_outbox():
    """Retry every undelivered message whose next attempt is due. Scheduled every minute."""
    return services.outbox_sweep()
