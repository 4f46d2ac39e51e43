"""The audit through the real broker (Redis, or without REDIS_URL the filesystem one) and a real
Celery worker process."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from importlib import import_module
from pathlib import Path

import pytest
import time_machine
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from compliance.models import AuditRun, ComplianceEvent
from compliance.tasks import run_daily_audit
from iwp_licensing.celery import app as celery_app
from notifications.models import OutboxMessage, OutboxStatus
from notifications.services import outbox_enqueue, outbox_sweep

from .test_audit import over_license

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(predicate, timeout=30.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@pytest.fixture
def celery_worker(smtp_server, tmp_path):
    """``celery -A iwp_licensing worker`` (two processes) on the test database and this
    test's SMTP server."""
    yield from _worker(smtp_server, tmp_path, "--concurrency", "2")


def _worker(smtp_server, tmp_path, *pool):
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,  # empty: the filesystem broker under var/, as here
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}",
        "ADMINS": "licensing-admin@example.com",
        "CONN_MAX_AGE": "0",
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "test-only-secret-key"),
    }
    celery_app.control.purge()
    log = open(tmp_path / "worker.log", "w+")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "iwp_licensing",
            "worker",
            *pool,
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"h4-test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        assert _wait_for(
            lambda: bool(celery_app.control.ping(timeout=0.5)) or worker.poll() is not None,
            timeout=30,
        )
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_scheduled_audit_runs_through_the_broker_and_mails_once(
    licensed_server, smtp_server, celery_worker
):
    # Yesterday, the licenses were used beyond their counts; the scheduled audit judges the day
    # that ended.
    yesterday = timezone.localdate() - timedelta(days=1)
    with time_machine.travel(timezone.now() - timedelta(days=1), tick=False):
        over_license(licensed_server)
    connection.close()  # the worker must see committed rows; this test holds no transaction open

    # Twice at once, on two worker processes: one set of events, one e-mail. The first is sent
    # the way beat sends it: by the task name stored in the periodic task row.
    # An earlier transactional test's flush empties every table, migration data included: put the
    # rows back the way the data migration creates them.
    import_module("compliance.migrations.0002_periodic_tasks").create_periodic_tasks(
        django_apps, None
    )
    entry = PeriodicTask.objects.get(name="compliance: daily audit")
    assert entry.enabled and entry.task == run_daily_audit.name
    celery_app.send_task(entry.task, args=json.loads(entry.args), kwargs=json.loads(entry.kwargs))
    run_daily_audit.delay()

    # The second audit finds the day judged already, or judges it again and records nothing new.
    assert _wait_for(lambda: AuditRun.objects.filter(finished_at__isnull=False).exists())
    assert _wait_for(lambda: ComplianceEvent.objects.count() == 3)
    assert _wait_for(lambda: len(smtp_server.messages) >= 1)
    time.sleep(1.0)  # a second mail, if there were one, would have arrived by now
    [mail] = smtp_server.messages
    assert mail["rcpt"] == ["licensing-admin@example.com"]
    assert "3 license(s) exceeded" in mail["message"]["Subject"]
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT
    assert {r.day for r in AuditRun.objects.all()} == {yesterday}
    assert {e.day for e in ComplianceEvent.objects.all()} == {yesterday}


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_the_mail_server_took_the_mail_sends_it_again_with_its_message_id(
    smtp_server, tmp_path
):
    """The promise is at least once: a worker that dies after the SMTP server took a message and
    before it recorded so sends it again on the next try, with the same Message-ID, which the
    receiving side uses to drop the copy."""
    worker_gen = _worker(smtp_server, tmp_path, "--pool", "solo")
    worker = next(worker_gen)
    received = smtp_server.handler.handle_DATA

    async def take_it_then_kill_the_worker(server, session, envelope):
        reply = await received(server, session, envelope)
        if len(smtp_server.messages) == 1:
            os.kill(worker.pid, signal.SIGKILL)  # before it hears back, or commits
        return reply

    smtp_server.handler.handle_DATA = take_it_then_kill_the_worker
    try:
        with transaction.atomic():
            message = outbox_enqueue(
                subject="Compliance", body="x", to=["ops@example.com"], dedupe_key="kill-test"
            )
        assert _wait_for(lambda: worker.poll() is not None, timeout=30)
        message.refresh_from_db()
        assert message.status != OutboxStatus.SENT  # the kill came before the commit
        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
        smtp_server.email_settings(settings)
        assert outbox_sweep() == 1  # the every-minute sweep's try
    finally:
        smtp_server.handler.handle_DATA = received
        for _ in worker_gen:
            pass
    first, second = smtp_server.messages
    assert first["message"]["Message-ID"] == second["message"]["Message-ID"]
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
