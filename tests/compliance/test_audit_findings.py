"""What the audit finds for a day, at its edges: a license in use but not licensed, the order it
reports in, which recorded figures count (the server's, not an organization's), the expiry
warnings' thresholds at exactly 30, 7 and 1 days, and which earlier runs count as having judged
a day whole."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from compliance.models import AuditRun, AuditTrigger
from compliance.selectors import (
    audit_findings,
    entitlements_in_force,
    exceeded_message,
    expiring_entitlements,
    last_completed_audit_day,
    warning_threshold,
)
from licenses.models import LicenseType, Method
from seats.models import DailySeatUsage

from .conftest import concurrent_peak, hold_assignable, organizations

pytestmark = pytest.mark.django_db


def judged(findings):
    return [(f.server.server_id, f.license_type, f.method, f.licensed, f.found) for f in findings]


def test_a_license_in_use_but_not_licensed_is_found_exceeded_against_zero(licensed_server):
    server = licensed_server(server_id="CIC-UNLICENSED", entitlements=["server", "organization=5"])
    [org] = organizations(server, 1)
    hold_assignable(server, org, LicenseType.SUPERVISOR, 2)

    findings = audit_findings(day=timezone.localdate())

    assert judged(findings) == [
        ("CIC-UNLICENSED", "organization", "", 5, 1),
        ("CIC-UNLICENSED", "supervisor", "assignable", 0, 2),
    ]
    assert [f.exceeded for f in findings] == [False, True]
    assert findings[1].message == (
        "Total enterprise users have exceeded the total enterprise user license count, "
        "licenses: [0] enterprise user: [2] (server CIC-UNLICENSED, Assignable)"
    )


def test_findings_are_in_server_license_and_method_order(licensed_server):
    today = timezone.localdate()
    licenses = ["server", "organization=1", "agent:assignable=1", "agent:concurrent=1"]
    second = licensed_server(server_id="CIC-B", entitlements=licenses)
    first = licensed_server(server_id="CIC-A", entitlements=licenses)
    for server in (second, first):
        [org] = organizations(server, 1)
        hold_assignable(server, org, LicenseType.SUPERVISOR, 1)
        concurrent_peak(server, today, LicenseType.AGENT, 1)

    assert [f[:3] for f in judged(audit_findings(day=today))] == [
        (server_id, license_type, method)
        for server_id in ("CIC-A", "CIC-B")
        for license_type, method in [
            ("agent", "assignable"),
            ("agent", "concurrent"),
            ("organization", ""),
            ("supervisor", "assignable"),
        ]
    ]


def test_only_the_servers_recorded_figures_count_not_an_organizations(licensed_server):
    """DailySeatUsage keeps a row per organization too; the audit judges the server's row: the
    higher of its peak and its final count."""
    today = timezone.localdate()
    server = licensed_server(
        server_id="CIC-ROWS",
        entitlements=["server", "agent:concurrent=10", "supervisor:concurrent=10"],
    )
    [org] = organizations(server, 1)
    for organization, license_type, peak, in_use in [
        (None, LicenseType.AGENT, 4, 6),  # ended the day above its recorded peak
        (org, LicenseType.AGENT, 12, 12),  # the organization's own row
        (org, LicenseType.SUPERVISOR, 11, 0),  # only an organization's row: not the server's
        (None, LicenseType.SUPERVISOR, 0, 0),  # the server's row: nobody that day
        (None, LicenseType.ORGANIZATION, 3, 1),  # three active at once earlier in the day
        (None, LicenseType.SERVER, 3, 3),  # not a counted license
    ]:
        DailySeatUsage.objects.create(
            day=today,
            server=server,
            organization=organization,
            license_type=license_type,
            method=""
            if license_type in (LicenseType.SERVER, LicenseType.ORGANIZATION)
            else "concurrent",
            peak=peak,
            in_use=in_use,
        )
    DailySeatUsage.objects.create(  # another day's row
        day=today - timedelta(days=1),
        server=server,
        organization=None,
        license_type=LicenseType.SUPERVISOR,
        method=Method.CONCURRENT,
        peak=15,
    )

    assert judged(audit_findings(day=today)) == [
        ("CIC-ROWS", "agent", "concurrent", 10, 6),
        ("CIC-ROWS", "organization", "", 0, 3),
        ("CIC-ROWS", "supervisor", "concurrent", 10, 0),
    ]


def test_a_recorded_figure_below_the_seats_history_does_not_lower_it(licensed_server):
    today = timezone.localdate()
    server = licensed_server(server_id="CIC-LOW", entitlements=["server", "agent:assignable=1"])
    [org] = organizations(server, 1)
    hold_assignable(server, org, LicenseType.AGENT, 3)
    DailySeatUsage.objects.create(
        day=today,
        server=server,
        organization=None,
        license_type=LicenseType.AGENT,
        method=Method.ASSIGNABLE,
        peak=2,
        in_use=1,
    )
    assert ("CIC-LOW", "agent", "assignable", 1, 3) in judged(audit_findings(day=today))


def test_the_organization_license_message_names_no_method():
    assert exceeded_message(
        server_id="S1", license_type="organization", method="", licensed=2, found=3
    ) == (
        "Total organizations have exceeded the total organization license count, "
        "licenses: [2] organization: [3] (server S1)"
    )


def test_entitlements_in_force_are_those_of_the_day_asked_in_server_order(licensed_server):
    today = timezone.localdate()
    licensed_server(
        server_id="CIC-NOW",
        entitlements=[
            "server",
            "supervisor:concurrent=1",
            "agent:concurrent=1",
            "agent:assignable=1",
        ],
    )
    licensed_server(
        server_id="CIC-ENDS", entitlements=["server", "agent:concurrent=2"], expires_on=today
    )

    def in_force(day):
        return [
            (e.license_file.server.server_id, e.license_type, e.method)
            for e in entitlements_in_force(day=day)
        ]

    now = [
        ("CIC-NOW", "agent", "assignable"),
        ("CIC-NOW", "agent", "concurrent"),
        ("CIC-NOW", "server", ""),
        ("CIC-NOW", "supervisor", "concurrent"),
    ]
    assert in_force(today) == [
        ("CIC-ENDS", "agent", "concurrent"),
        ("CIC-ENDS", "server", ""),
        *now,
    ]
    assert in_force(today + timedelta(days=1)) == now


@pytest.mark.parametrize(
    ("days_left", "threshold"),
    [(31, None), (30, 30), (8, 30), (7, 7), (2, 7), (1, 1), (0, 1), (-1, None)],
)
def test_the_tightest_threshold_reached_is_warned(days_left, threshold, settings):
    settings.IWP_EXPIRY_WARNING_DAYS = [30, 7, 1]
    assert warning_threshold(days_left=days_left) == threshold
    assert warning_threshold(days_left=days_left, thresholds=[1, 7, 30]) == threshold


def test_thresholds_given_replace_the_setting(settings):
    settings.IWP_EXPIRY_WARNING_DAYS = [30, 7, 1]
    assert warning_threshold(days_left=10, thresholds=[14]) == 14
    assert warning_threshold(days_left=20, thresholds=[14]) is None


def test_expiring_entitlements_are_warned_from_exactly_30_days_to_the_last_day(
    licensed_server, settings
):
    settings.IWP_EXPIRY_WARNING_DAYS = [30, 7, 1]
    today = timezone.localdate()
    licensed_server(
        server_id="CIC-EXPIRES",
        entitlements=["server", "agent:concurrent=1"],
        expires_on=today + timedelta(days=30),
    )

    def warned(days_before_expiry):
        day = today + timedelta(days=30 - days_before_expiry)
        return sorted((e.license_type, t) for e, t in expiring_entitlements(day=day))

    assert warned(31) == []
    assert warned(30) == [("agent", 30), ("server", 30)]
    assert warned(7) == [("agent", 7), ("server", 7)]
    assert warned(1) == [("agent", 1), ("server", 1)]
    assert warned(0) == [("agent", 1), ("server", 1)]
    assert warned(-1) == []  # expired: no longer in force

    in_force = entitlements_in_force(day=today)
    assert [t for _e, t in expiring_entitlements(day=today, entitlements=in_force)] == [30, 30]
    settings.IWP_EXPIRY_WARNING_DAYS = []
    assert expiring_entitlements(day=today) == []


def _run(day, started, *, finished=True):
    run = AuditRun.objects.create(
        day=day,
        trigger=AuditTrigger.SCHEDULE,
        finished_at=started + timedelta(minutes=1) if finished else None,
    )
    AuditRun.objects.filter(pk=run.pk).update(started_at=started)


def at(day, hour):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def test_the_last_day_judged_whole_is_that_of_a_finished_run_after_the_day(settings):
    today = timezone.localdate()
    days = [today - timedelta(days=n) for n in range(5)]
    assert last_completed_audit_day() is None

    _run(days[4], at(days[3], 2))  # the nightly run: judged whole
    _run(days[3], at(days[3], 15))  # a run during the day: judged only so far
    _run(days[2], at(days[1], 2), finished=False)  # never finished
    assert last_completed_audit_day() == days[4]

    _run(days[1], at(days[0], 2))
    _run(days[3], at(days[1], 2))
    assert last_completed_audit_day() == days[1]
