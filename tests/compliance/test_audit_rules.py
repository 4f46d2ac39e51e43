"""The audit's rules at their edges: one mail per new finding on a day, a warning when nobody
would get it, how far back a catch-up goes, and two audits that overlap in PostgreSQL."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from compliance.models import AuditRun, AuditTrigger, ComplianceEvent
from compliance.services import MAX_CATCH_UP_DAYS, compliance_audit_catch_up, compliance_audit_run
from licenses.models import LicenseType
from notifications.models import OutboxMessage

from .conftest import hold_assignable, organizations
from .test_audit import ENTITLEMENTS


@pytest.mark.django_db
def test_a_second_license_exceeded_later_the_same_day_gets_its_own_mail(licensed_server, admins):
    server = licensed_server(server_id="CIC-TWICE", entitlements=ENTITLEMENTS)
    [org] = organizations(server, 1)
    today = timezone.localdate()
    hold_assignable(server, org, LicenseType.AGENT, 2)  # 2 of 1
    first = compliance_audit_run(day=today).mail
    hold_assignable(server, org, LicenseType.SUPERVISOR, 2)  # 2 of 1, found by a later run
    second = compliance_audit_run(day=today).mail

    assert second is not None and second.pk != first.pk
    assert OutboxMessage.objects.count() == 2
    assert "[IWP Licensing] 1 license(s) exceeded" in second.subject
    agent, supervisor = (
        ComplianceEvent.objects.get(license_type=t).message
        for t in (LicenseType.AGENT, LicenseType.SUPERVISOR)
    )
    assert f"- {supervisor}" in second.body and agent not in second.body
    assert f"- {agent}" in first.body


@pytest.mark.django_db
def test_an_exceeded_license_with_nobody_to_mail_is_recorded_and_says_so_in_the_log(
    licensed_server, settings, compliance_log
):
    settings.ADMINS = []
    server = licensed_server(server_id="CIC-NOBODY", entitlements=ENTITLEMENTS)
    [org] = organizations(server, 1)
    hold_assignable(server, org, LicenseType.AGENT, 2)

    run = compliance_audit_run(day=timezone.localdate())

    assert (run.events_recorded, run.mail) == (1, None)
    assert OutboxMessage.objects.count() == 0
    warnings = [r.getMessage() for r in compliance_log if r.levelname == "WARNING"]
    assert warnings == ["No compliance mail recipients: add one in the admin or set ADMINS"]


@pytest.mark.django_db
def test_a_long_beat_outage_is_caught_up_for_its_last_31_days_only(licensed_server, admins):
    licensed_server(server_id="CIC-OUTAGE", entitlements=ENTITLEMENTS)
    today = timezone.localdate()
    AuditRun.objects.create(
        day=today - timedelta(days=100), trigger=AuditTrigger.SCHEDULE, finished_at=timezone.now()
    )

    runs = compliance_audit_catch_up(today=today)

    assert MAX_CATCH_UP_DAYS == 31
    assert [r.day for r in runs] == [today - timedelta(days=d) for d in range(31, 0, -1)]
    assert runs[-1].trigger == AuditTrigger.SCHEDULE
    assert {r.trigger for r in runs[:-1]} == {AuditTrigger.CATCH_UP}


@pytest.mark.django_db
def test_an_outage_shorter_than_the_bound_is_caught_up_from_the_day_after_the_last_audit(
    licensed_server, admins
):
    licensed_server(server_id="CIC-SHORT", entitlements=ENTITLEMENTS)
    today = timezone.localdate()
    AuditRun.objects.create(
        day=today - timedelta(days=31), trigger=AuditTrigger.SCHEDULE, finished_at=timezone.now()
    )
    runs = compliance_audit_catch_up(today=today)
    assert [r.day for r in runs] == [today - timedelta(days=d) for d in range(30, 0, -1)]


@pytest.mark.django_db(transaction=True)
def test_two_audits_held_at_the_same_point_record_one_set_of_events_and_one_mail(
    licensed_server, admins
):
    """Both audits are started while another connection holds the license table, so both reach
    PostgreSQL before either reads; they must still take turns, not both find the same news."""
    server = licensed_server(server_id="CIC-RACE", entitlements=ENTITLEMENTS)
    [org] = organizations(server, 1)
    hold_assignable(server, org, LicenseType.AGENT, 2)
    today = timezone.localdate()

    blocker = connections.create_connection("default")
    blocker.set_autocommit(False)
    with blocker.cursor() as cursor:
        cursor.execute("LOCK TABLE licenses_entitlement IN ACCESS EXCLUSIVE MODE")
    results = []

    def audit():
        try:
            results.append(compliance_audit_run(day=today))
        except Exception as exc:  # noqa: BLE001  an error is a result here
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=audit) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(1.5)  # both audits are now waiting inside PostgreSQL
    blocker.commit()
    blocker.close()
    for t in threads:
        t.join(30)

    assert [type(r) for r in results] == [AuditRun, AuditRun]
    assert ComplianceEvent.objects.count() == 1
    assert OutboxMessage.objects.count() == 1
    assert sorted(r.events_recorded for r in results) == [0, 1]
