"""The audit's e-mail through a real SMTP server (aiosmtpd): once, complete, and not lost while
the server is down."""

import pytest
from django.utils import timezone

from compliance.models import AuditRun, ComplianceEvent
from compliance.services import compliance_audit_run
from notifications.models import OutboxMessage, OutboxStatus
from notifications.services import outbox_sweep
from tests.concurrency import race

from ..notifications.smtp import body_of
from .test_audit import over_license


@pytest.mark.django_db
def test_mail_arrives_once_listing_every_exceeded_license(
    licensed_server, admins, smtp_server, eager_celery, django_capture_on_commit_callbacks
):
    over_license(licensed_server)
    today = timezone.localdate()

    with django_capture_on_commit_callbacks(execute=True):
        compliance_audit_run(day=today)
    with django_capture_on_commit_callbacks(execute=True):
        compliance_audit_run(day=today)
    outbox_sweep()

    [mail] = smtp_server.messages
    assert mail["rcpt"] == admins
    assert (
        mail["message"]["Subject"] == f"[IWP Licensing] 3 license(s) exceeded on {today:%Y-%m-%d}"
    )
    body = body_of(mail["message"])
    listed = [line for line in body.splitlines() if line.startswith("- ")]
    assert sorted(listed) == sorted(f"- {e.message}" for e in ComplianceEvent.objects.all())
    assert body.splitlines() == [
        f"The compliance audit of {today:%Y-%m-%d} found 3 license(s) exceeded:",
        "",
        *listed,
        "",
        "Each is recorded once as a compliance event "
        "(admin: Compliance audit > Compliance events).",
    ]
    assert "licenses: [2] agent user: [5] (server CIC-AUDIT-01, Concurrent)" in body


@pytest.mark.django_db
def test_mail_server_down_the_audit_completes_and_the_mail_goes_out_once_when_it_returns(
    licensed_server, admins, smtp_down, eager_celery, django_capture_on_commit_callbacks
):
    over_license(licensed_server)

    with django_capture_on_commit_callbacks(execute=True):
        run = compliance_audit_run(day=timezone.localdate())

    run.refresh_from_db()
    assert run.finished_at is not None and ComplianceEvent.objects.count() == 3
    outbox = OutboxMessage.objects.get()
    assert outbox.status == OutboxStatus.RETRYING and outbox.attempts == 1 and outbox.last_error

    smtp_down.start()
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert outbox_sweep() == 1
    assert outbox_sweep() == 0
    assert len(smtp_down.messages) == 1
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


@pytest.mark.django_db(transaction=True)
def test_two_audits_at_once_record_one_set_of_events_and_one_mail(
    licensed_server, admins, smtp_server
):
    over_license(licensed_server)
    today = timezone.localdate()
    results = race(3, lambda i: compliance_audit_run(day=today))
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert AuditRun.objects.filter(finished_at__isnull=False).count() == 3
    assert ComplianceEvent.objects.count() == 3
    assert OutboxMessage.objects.count() == 1
    outbox_sweep()
    assert len(smtp_server.messages) == 1
