"""The command, the beat schedule and the admin."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from compliance.models import AuditRun, AuditTrigger, ComplianceEvent
from organizations.models import User

from .test_audit import ENTITLEMENTS, over_license


@pytest.mark.django_db
def test_command_prints_each_exceeded_license_and_exits_zero(licensed_server, admins):
    over_license(licensed_server)
    out = StringIO()
    call_command("run_compliance_check", "--date", timezone.localdate().isoformat(), stdout=out)
    text = out.getvalue()
    assert "Total agent users have exceeded the total agent user license count, licenses: [2] agent user: [5]" in text
    assert "Total organizations have exceeded the total organization license count, licenses: [2] organization: [3]" in text
    assert "3 license(s) exceeded, 3 newly recorded, e-mail queued to licensing-admin@example.com." in text
    assert AuditRun.objects.get().trigger == AuditTrigger.COMMAND


@pytest.mark.django_db
def test_command_says_when_every_license_is_within_its_count(licensed_server):
    licensed_server(server_id="CIC-FINE", entitlements=ENTITLEMENTS)
    out = StringIO()
    call_command("run_compliance_check", "--date", "2026-01-15", stdout=out)
    assert "2026-01-15: all licenses are within their counts" in out.getvalue()


@pytest.mark.django_db
def test_command_refuses_a_malformed_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("run_compliance_check", "--date", "15/01/2026")


@pytest.mark.django_db
def test_beat_entries_exist_by_name_at_their_times(settings):
    audit = PeriodicTask.objects.get(name="compliance: daily audit")
    assert audit.task == "compliance.tasks.run_daily_audit" and audit.enabled
    assert (audit.crontab.minute, audit.crontab.hour, str(audit.crontab.timezone)) == ("0", "2", settings.TIME_ZONE)
    sweeper = PeriodicTask.objects.get(name="seats: release idle concurrent seats")
    assert sweeper.task == "seats.tasks.release_idle_leases"
    assert (sweeper.interval.every, sweeper.interval.period) == (1, "minutes")
    snapshot = PeriodicTask.objects.get(name="seats: daily usage snapshot")
    assert snapshot.task == "compliance.tasks.take_usage_snapshot"
    assert PeriodicTask.objects.get(name="notifications: retry undelivered e-mail").task == "notifications.tasks.sweep_outbox"


@pytest.mark.django_db
def test_beat_migration_keeps_an_administrators_change(settings):
    from importlib import import_module

    from django.apps import apps

    audit = PeriodicTask.objects.get(name="compliance: daily audit")
    audit.crontab.hour = "4"
    audit.crontab.save()
    import_module("compliance.migrations.0002_periodic_tasks").create_periodic_tasks(apps, None)
    assert PeriodicTask.objects.filter(name="compliance: daily audit").count() == 1
    assert PeriodicTask.objects.get(name="compliance: daily audit").crontab.hour == "4"


@pytest.fixture
def admin_client_logged_in(client):
    user = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_admin_run_the_audit_now_records_events_and_lists_them(licensed_server, admins, admin_client_logged_in, django_assert_max_num_queries):
    over_license(licensed_server)
    client = admin_client_logged_in
    changelist = reverse("admin:compliance_complianceevent_changelist")
    page = client.get(changelist)
    assert page.status_code == 200 and "Run the audit now" in page.text

    response = client.post(reverse("admin:compliance_complianceevent_run_audit"), follow=True)
    assert "3 exceeded, 3 newly recorded" in response.text
    assert ComplianceEvent.objects.count() == 3
    assert "licenses: [2] agent user: [5]" in response.text
    assert AuditRun.objects.get().trigger == AuditTrigger.ADMIN

    with django_assert_max_num_queries(15):
        filtered = client.get(changelist, {"license_type": "agent"})
    assert filtered.text.count("Total agent users have exceeded") == 2
    assert "Total organizations have exceeded" not in filtered.text
    assert client.get(reverse("admin:compliance_complianceevent_add")).status_code == 403

    outbox = client.get(reverse("admin:notifications_outboxmessage_changelist"))
    assert "3 license(s) exceeded" in outbox.text and "Waiting to be sent" in outbox.text
