"""With the worker queue (the Celery broker) down, the admin's "Run the audit now" still answers
within a second: the audit is recorded, its e-mail waits in the outbox, the page says so, and
the outbox sweep sends it once the queue is back."""

import socket
import threading
import time
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import kombu.pools
import pytest
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditRun
from iwp_licensing.celery import app as celery_app
from notifications.models import OutboxMessage, OutboxStatus
from notifications.services import outbox_sweep
from organizations.models import User

from .test_audit import over_license

WAITS = "The audit ran; its e-mail waits in the outbox: the worker queue is unavailable"


def _closed_port() -> int:
    """A local port nothing listens on: bound, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _silent_port(hang_for: float = 5.0):
    """A local port that takes connections and never answers (a hung broker or a dropped
    network); after ``hang_for`` seconds it resets them, so code that waits without a
    timeout fails slowly instead of hanging the test run."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    reset = threading.Timer(hang_for, listener.close)
    reset.start()
    try:
        yield listener.getsockname()[1]
    finally:
        reset.cancel()
        listener.close()


def _drop_broker_connections():
    """Celery keeps its broker connections in pools made for the URL it saw first."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture(params=["refused", "silent"])
def broker_down(request, settings):
    """CELERY_BROKER_URL (and the Celery app's copy) points at a Redis that is not there: a
    closed port, or one that never answers."""
    with ExitStack() as stack:
        port = _closed_port() if request.param == "refused" else stack.enter_context(_silent_port())
        url = f"redis://127.0.0.1:{port}/0"
        saved = celery_app.conf.broker_url
        settings.CELERY_BROKER_URL = url
        celery_app.conf.broker_url = url
        _drop_broker_connections()
        try:
            yield url
        finally:
            celery_app.conf.broker_url = saved
            _drop_broker_connections()


@pytest.fixture
def staff_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-tests-only"))
    return client


def _expiring_soon(licensed_server):
    licensed_server(
        server_id="CIC-SOON",
        entitlements=["server", "organization=5"],
        expires_on=timezone.localdate() + timedelta(days=10),
    )


def _run_the_audit_now(client):
    url = reverse("admin:compliance_complianceevent_changelist")
    assert client.get(url).status_code == 200  # warm: URLs, templates, imports
    started = time.monotonic()
    response = client.post(reverse("admin:compliance_complianceevent_run_audit"))
    elapsed = time.monotonic() - started
    assert response.status_code == 302
    return elapsed, client.get(response["Location"]).text


@pytest.mark.django_db(transaction=True)
def test_run_the_audit_now_answers_within_a_second_with_the_broker_down(
    licensed_server, admins, staff_client, broker_down, smtp_server
):
    over_license(licensed_server)
    _expiring_soon(licensed_server)  # two e-mails from one run: each may not wait its own time

    elapsed, page = _run_the_audit_now(staff_client)

    assert elapsed < 1.0, f"the admin waited {elapsed:.1f} s on a broker that is down"
    assert WAITS in page
    assert "3 exceeded, 3 newly recorded" in page  # the audit itself ran and was recorded
    run = AuditRun.objects.get()
    mails = OutboxMessage.objects.filter(pk__in=[run.mail_id, run.warning_mail_id])
    assert len(mails) == 2
    for mail in mails:
        assert mail.status == OutboxStatus.PENDING and mail.sent_at is None and mail.attempts == 0
        assert "worker queue is unavailable" in mail.last_error
    assert smtp_server.messages == []

    # The every-minute sweep finds them due and delivers them.
    assert outbox_sweep() == 2
    assert {m["message"]["Subject"] for m in smtp_server.messages} == {m.subject for m in mails}
    assert not OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists()


@pytest.mark.django_db(transaction=True)
def test_run_the_audit_now_queues_the_mail_when_the_broker_is_up(
    licensed_server, admins, staff_client
):
    over_license(licensed_server)
    try:
        _elapsed, page = _run_the_audit_now(staff_client)
    finally:
        celery_app.control.purge()  # no worker here: leave no task in the test's broker

    assert "3 exceeded, 3 newly recorded" in page
    assert "worker queue" not in page
    mail = AuditRun.objects.get().mail
    assert mail.status == OutboxStatus.PENDING and mail.last_error == ""
