from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.models import AuditRun, AuditTrigger, ComplianceEvent, ExpiryWarning
from compliance.selectors import exceeded_message
from compliance.services import compliance_audit_catch_up, compliance_audit_run
from licenses.models import LicenseType, Method
from notifications.models import OutboxMessage

from .. import factories
from .conftest import concurrent_peak, hold_assignable, organizations

ENTITLEMENTS = [
    "server",
    "organization=2",
    "agent:assignable=1",
    "agent:concurrent=2",
    "supervisor:assignable=1",
    "supervisor:concurrent=5",
]


def over_license(licensed_server, server_id="CIC-AUDIT-01"):
    """Organizations 3 of 2, Agent Assignable 2 of 1 (a user and a station), Agent Concurrent peak 5
    of 2; Supervisor Assignable 1 of 1 and Supervisor Concurrent 3 of 5 are within their counts."""
    server = licensed_server(server_id=server_id, entitlements=ENTITLEMENTS)
    orgs = organizations(server, 3)
    hold_assignable(server, orgs[0], LicenseType.AGENT, 1, stations=1)
    hold_assignable(server, orgs[1], LicenseType.SUPERVISOR, 1)
    today = timezone.localdate()
    concurrent_peak(server, today, LicenseType.AGENT, 5)
    concurrent_peak(server, today, LicenseType.SUPERVISOR, 3)
    return server


@pytest.mark.django_db
def test_each_exceeded_license_is_recorded_once_in_the_source_message_form(licensed_server, admins):
    server = over_license(licensed_server)
    today = timezone.localdate()

    run = compliance_audit_run(day=today)

    events = {(e.license_type, e.method): e for e in ComplianceEvent.objects.all()}
    assert set(events) == {
        (LicenseType.ORGANIZATION, ""),
        (LicenseType.AGENT, Method.ASSIGNABLE),
        (LicenseType.AGENT, Method.CONCURRENT),
    }
    agent = events[(LicenseType.AGENT, Method.CONCURRENT)]
    assert (agent.server, agent.day, agent.licensed_count, agent.found_count) == (
        server,
        today,
        2,
        5,
    )
    assert agent.message == (
        "Total agent users have exceeded the total agent user license count, "
        "licenses: [2] agent user: [5] (server CIC-AUDIT-01, Concurrent)"
    )
    assert events[(LicenseType.ORGANIZATION, "")].message.startswith(
        "Total organizations have exceeded the total organization license count, "
        "licenses: [2] organization: [3]"
    )
    assert (run.licenses_checked, run.exceeded_found, run.events_recorded) == (5, 3, 3)
    assert run.finished_at is not None

    again = compliance_audit_run(day=today)
    assert ComplianceEvent.objects.count() == 3
    assert (again.exceeded_found, again.events_recorded, again.mail) == (3, 0, None)
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_supervisor_message_uses_the_source_enterprise_user_wording():
    assert exceeded_message(
        server_id="S1", license_type="supervisor", method="assignable", licensed=4, found=6
    ) == (
        "Total enterprise users have exceeded the total enterprise user license count, "
        "licenses: [4] enterprise user: [6] (server S1, Assignable)"
    )


@pytest.mark.django_db
def test_license_within_its_counts_records_nothing_and_sends_nothing(licensed_server, admins):
    server = licensed_server(server_id="CIC-OK", entitlements=ENTITLEMENTS)
    organizations(server, 2)
    concurrent_peak(server, timezone.localdate(), LicenseType.AGENT, 2)

    run = compliance_audit_run(day=timezone.localdate())

    assert run.exceeded_found == 0
    assert ComplianceEvent.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_current_concurrent_seats_count_when_no_peak_was_recorded(licensed_server, admins):
    from seats.models import SeatLease

    server = licensed_server(
        server_id="CIC-LIVE", entitlements=["server", "organization=5", "agent:concurrent=1"]
    )
    [org] = organizations(server, 1)
    for _ in range(2):
        SeatLease.objects.create(
            server=server,
            organization=org,
            license_type=LicenseType.AGENT,
            user=factories.UserFactory(license_method="concurrent"),
            last_seen_at=timezone.now(),
        )
    compliance_audit_run(day=timezone.localdate())
    event = ComplianceEvent.objects.get()
    assert (event.license_type, event.method, event.licensed_count, event.found_count) == (
        "agent",
        "concurrent",
        1,
        2,
    )


@pytest.mark.django_db
def test_expired_entitlement_counts_as_zero(licensed_server, admins):
    today = timezone.localdate()
    server = licensed_server(
        server_id="CIC-EXP",
        entitlements=["server", "organization=5"],
        expires_on=today + timedelta(days=3),
    )
    organizations(server, 2)

    compliance_audit_run(day=today + timedelta(days=3))
    assert ComplianceEvent.objects.count() == 0

    compliance_audit_run(day=today + timedelta(days=4))
    event = ComplianceEvent.objects.get()
    assert (event.licensed_count, event.found_count) == (0, 2)
    assert "licenses: [0] organization: [2]" in event.message


@pytest.mark.django_db
def test_exceeded_license_is_logged_at_error_with_structured_fields(
    licensed_server, admins, compliance_log, django_capture_on_commit_callbacks
):
    over_license(licensed_server)
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        run = compliance_audit_run(day=today)

    errors = [r for r in compliance_log if r.levelname == "ERROR"]
    assert len(errors) == 3
    organization = next(r for r in errors if r.license == "organization")
    assert organization.method == "-"  # the Organization license has no method
    agent = next(r for r in errors if r.license == "agent" and r.method == "concurrent")
    assert (agent.server, agent.licensed, agent.found, agent.event) == (
        "CIC-AUDIT-01",
        2,
        5,
        "license_exceeded",
    )
    assert agent.getMessage().startswith("Total agent users have exceeded")

    from compliance.log import StructuredFormatter

    line = StructuredFormatter("%(levelname)s %(message)s").format(agent)
    assert line.endswith(
        f"event=license_exceeded audit_run={run.pk} day={today:%Y-%m-%d} server=CIC-AUDIT-01 "
        "license=agent method=concurrent licensed=2 found=5"
    )
    assert '"server": "CIC-AUDIT-01"' in StructuredFormatter(json=True).format(agent)


@pytest.mark.django_db
def test_expiry_warning_once_per_threshold(licensed_server, admins, settings):
    settings.IWP_EXPIRY_WARNING_DAYS = [30, 7, 1]
    today = timezone.localdate()
    licensed_server(
        server_id="CIC-SOON",
        entitlements=["server", "organization=5"],
        expires_on=today + timedelta(days=10),
    )

    compliance_audit_run(day=today)  # 10 days left: the 30-day threshold
    compliance_audit_run(day=today + timedelta(days=1))  # 9 days left: nothing new
    compliance_audit_run(day=today + timedelta(days=3))  # 7 days left
    compliance_audit_run(day=today + timedelta(days=10))  # last valid day
    compliance_audit_run(day=today + timedelta(days=10))

    thresholds = sorted(
        ExpiryWarning.objects.filter(license_type="server").values_list("threshold_days", flat=True)
    )
    assert thresholds == [1, 7, 30]
    assert (
        ExpiryWarning.objects.count() == 6
    )  # server and organization entitlements, three thresholds each
    mails = OutboxMessage.objects.order_by("created_at")
    assert [m.subject for m in mails] == ["[IWP Licensing] 2 license(s) expire soon"] * 3
    assert "expires in 10 days: its last valid day is" in mails[0].body
    assert "expires today" in mails[2].body


@pytest.mark.django_db
def test_recipients_kept_in_the_admin_replace_the_admins_setting(licensed_server, admins):
    from compliance.models import ComplianceRecipient

    over_license(licensed_server)
    ComplianceRecipient.objects.create(email="ops@example.com")
    ComplianceRecipient.objects.create(email="former@example.com", is_active=False)
    run = compliance_audit_run(day=timezone.localdate())
    assert run.mail.to == ["ops@example.com"]


@pytest.mark.django_db
def test_missed_days_are_caught_up_once_each_and_today_waits_until_it_has_ended(
    licensed_server, admins
):
    today = timezone.localdate()
    with time_machine.travel(timezone.now() - timedelta(days=3), tick=False):
        over_license(licensed_server)  # held since three days ago
    AuditRun.objects.create(
        day=today - timedelta(days=3), trigger=AuditTrigger.SCHEDULE, finished_at=timezone.now()
    )

    runs = compliance_audit_catch_up(today=today)
    assert [(r.day, r.trigger) for r in runs] == [
        (today - timedelta(days=2), AuditTrigger.CATCH_UP),
        (today - timedelta(days=1), AuditTrigger.SCHEDULE),
    ]
    assert sorted({e.day for e in ComplianceEvent.objects.all()}) == [
        today - timedelta(days=d) for d in (2, 1)
    ]
    # A run during today (the command, the admin's button) does not count as judging today.
    compliance_audit_run(day=today)
    assert compliance_audit_catch_up(today=today) == []
    assert [r.day for r in compliance_audit_catch_up(today=today + timedelta(days=1))] == [today]


def _audit_queries(day):
    with CaptureQueriesContext(connection) as ctx:
        compliance_audit_run(day=day)
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_audit_query_count_does_not_grow_with_organizations_and_users(
    licensed_server, admins, django_assert_max_num_queries
):
    today = timezone.localdate()
    small = licensed_server(server_id="CIC-SMALL", entitlements=ENTITLEMENTS)
    orgs = organizations(small, 3)
    hold_assignable(small, orgs[0], LicenseType.AGENT, 2)
    concurrent_peak(small, today, LicenseType.AGENT, 5)
    small_count = _audit_queries(today)
    ComplianceEvent.objects.all().delete()
    OutboxMessage.objects.all().delete()

    for n in range(4):
        big = licensed_server(server_id=f"CIC-BIG-{n}", entitlements=ENTITLEMENTS)
        orgs = organizations(big, 8)
        for org in orgs:
            hold_assignable(big, org, LicenseType.AGENT, 3, stations=1)
            hold_assignable(big, org, LicenseType.SUPERVISOR, 2)
        concurrent_peak(big, today, LicenseType.AGENT, 50)
    assert ComplianceEvent.objects.count() == 0
    with django_assert_max_num_queries(small_count):
        run = compliance_audit_run(day=today)
    assert (
        run.events_recorded == 3 + 4 * 4
    )  # organizations, agent both methods, supervisor assignable
    assert small_count <= 25
