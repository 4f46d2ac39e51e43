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
    assert (
        "Total agent users have exceeded the total agent user license count, "
        "licenses: [2] agent user: [5]" in text
    )
    assert (
        "Total organizations have exceeded the total organization license count, "
        "licenses: [2] organization: [3]" in text
    )
    assert (
        "3 license(s) exceeded, 3 newly recorded, e-mail queued to licensing-admin@example.com."
        in text
    )
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
    assert (audit.crontab.minute, audit.crontab.hour, str(audit.crontab.timezone)) == (
        "0",
        "2",
        settings.TIME_ZONE,
    )
    sweeper = PeriodicTask.objects.get(name="seats: release idle concurrent seats")
    assert sweeper.task == "seats.tasks.release_idle_leases"
    assert (sweeper.interval.every, sweeper.interval.period) == (1, "minutes")
    snapshot = PeriodicTask.objects.get(name="seats: daily usage snapshot")
    assert snapshot.task == "seats.tasks.take_usage_snapshot"
    assert (
        PeriodicTask.objects.get(name="notifications: retry undelivered e-mail").task
        == "notifications.tasks.sweep_outbox"
    )
    renewal = PeriodicTask.objects.get(name="compliance: renewal forecasts")
    assert renewal.task == "compliance.tasks.warm_renewal_forecasts"
    assert (renewal.crontab.minute, renewal.crontab.hour) == ("0", "3")  # after the audit


@pytest.mark.django_db
def test_beat_migration_keeps_an_administrators_change():
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
def test_admin_run_the_audit_now_records_events_and_lists_them(
    licensed_server, admins, admin_client_logged_in, django_assert_max_num_queries
):
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


def _events(n_servers, day):
    from compliance.models import ComplianceEvent
    from organizations.models import Server

    for i in range(n_servers):
        server = Server.objects.create(server_id=f"CIC-LIST-{day}-{i:03d}")
        ComplianceEvent.objects.bulk_create(
            [
                ComplianceEvent(
                    server=server,
                    day=day,
                    license_type=lt,
                    method=m,
                    licensed_count=1,
                    found_count=2,
                    message=f"msg {i} {lt} {m}",
                )
                for lt, m in (
                    ("organization", ""),
                    ("agent", "assignable"),
                    ("agent", "concurrent"),
                )
            ]
        )


@pytest.mark.django_db
def test_admin_event_list_query_count_does_not_grow_with_events(
    admin_client_logged_in, django_assert_max_num_queries
):
    from datetime import date

    client = admin_client_logged_in
    url = reverse("admin:compliance_complianceevent_changelist")
    _events(2, date(2026, 1, 1))
    client.get(url)  # warm the session and content types
    with django_assert_max_num_queries(12) as small:
        assert client.get(url).status_code == 200
    _events(40, date(2026, 1, 2))
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get(url)
    assert "126 compliance events" in page.text


@pytest.mark.django_db
def test_beat_runs_a_missed_daily_audit_as_soon_as_it_is_back():
    """A 02:00 that passed while beat was down is due at once (the task then catches up
    every missed day)."""
    from datetime import timedelta

    from django_celery_beat.schedulers import ModelEntry

    audit = PeriodicTask.objects.get(name="compliance: daily audit")
    audit.last_run_at = timezone.now() - timedelta(days=3)
    audit.save()
    due, _next = ModelEntry(audit).is_due()
    assert due
