"""Scheduled reports, the wallboard and the agent's own page."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from organizations.models import User
from portal.models import ReportRun, ScheduledReport
from portal.services import (
    report_period,
    report_run_create,
    scheduled_report_create,
    scheduled_reports_run_due,
)
from seats.models import DailySeatUsage
from seats.services.stations import station_occupy
from seats.views import STATION_SESSION_KEY
from tests.factories import StationFactory

from .conftest import assign_seat, lease_seat, queries

pytestmark = pytest.mark.django_db


# Scheduled reports


def test_beat_entry_for_scheduled_reports_exists_once_by_name():
    task = PeriodicTask.objects.get(name="Portal: run due scheduled reports")
    assert task.task == "portal.run_scheduled_reports" and task.enabled and task.crontab


@pytest.mark.parametrize(
    "frequency,today,period",
    [
        ("daily", date(2026, 3, 4), (date(2026, 3, 3), date(2026, 3, 3))),
        (
            "weekly",
            date(2026, 3, 4),
            (date(2026, 2, 23), date(2026, 3, 1)),
        ),  # Wednesday: last Monday–Sunday
        ("monthly", date(2026, 3, 4), (date(2026, 2, 1), date(2026, 2, 28))),
        ("monthly", date(2026, 1, 1), (date(2025, 12, 1), date(2025, 12, 31))),
    ],
)
def test_report_covers_the_last_complete_period(frequency, today, period):
    assert report_period(frequency=frequency, today=today) == period


def test_supervisor_configures_a_report_in_the_portal(client, org, supervisor):
    client.force_login(supervisor)
    response = client.post(
        f"/portal/org/{org.pk}/reports/",
        {
            "name": "Weekly seats",
            "frequency": "weekly",
            "recipients": "ops@example.com,\nlead@example.com",
        },
    )
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert (
        "Scheduled report “Weekly seats” saved: sent weekly to ops@example.com, lead@example.com."
        in html
    )
    report = ScheduledReport.objects.get(organization=org)
    assert (
        report.recipient_list == ["ops@example.com", "lead@example.com"]
        and report.created_by == supervisor
    )


def test_report_form_refuses_a_bad_address_and_saves_nothing(client, org, supervisor):
    client.force_login(supervisor)
    response = client.post(
        f"/portal/org/{org.pk}/reports/",
        {"name": "Weekly", "frequency": "weekly", "recipients": "ops@example.com, not-an-address"},
    )
    assert response.status_code == 400
    assert "“not-an-address” is not an e-mail address." in response.content.decode()
    assert not ScheduledReport.objects.exists()


def test_report_form_needs_the_csrf_token(org, supervisor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    response = client.post(
        f"/portal/org/{org.pk}/reports/",
        {"name": "X", "frequency": "daily", "recipients": "a@example.com"},
    )
    assert response.status_code == 403
    assert not ScheduledReport.objects.exists()


def test_supervisor_edits_pauses_and_deletes_a_report(client, org, supervisor):
    report = scheduled_report_create(
        organization=org,
        name="Daily",
        frequency="daily",
        recipients="a@example.com",
        acting_user=supervisor,
    )
    client.force_login(supervisor)
    url = f"/portal/org/{org.pk}/reports/{report.pk}/"
    assert (
        client.post(
            url, {"name": "Daily seats", "frequency": "daily", "recipients": "b@example.com"}
        ).status_code
        == 302
    )
    report.refresh_from_db()
    assert (report.name, report.is_active, report.recipients) == (
        "Daily seats",
        False,
        "b@example.com",
    )
    # Deleting asks first: the edit page's old delete button only leads to the question.
    response = client.post(url, {"delete": "1"})
    assert response.status_code == 302 and response.url == f"{url}delete/"
    assert ScheduledReport.objects.exists()
    question = client.get(f"{url}delete/").content.decode()
    assert "Delete the scheduled report “Daily seats”?" in question
    assert ScheduledReport.objects.exists()
    assert client.post(f"{url}delete/").status_code == 302
    assert not ScheduledReport.objects.exists()


def test_due_reports_run_once_per_period_and_are_mailed_through_the_outbox(org, supervisor):
    from notifications.models import OutboxMessage

    yesterday = timezone.localdate() - timedelta(days=1)
    DailySeatUsage.objects.create(
        day=yesterday,
        server=org.server,
        organization=org,
        license_type="agent",
        method="concurrent",
        licensed=3,
        in_use=2,
        peak=3,
        denials=1,
    )
    scheduled_report_create(
        organization=org,
        name="Daily seats",
        frequency="daily",
        recipients="ops@example.com",
        acting_user=supervisor,
    )
    assert scheduled_reports_run_due() == 1
    assert scheduled_reports_run_due() == 0  # beat firing again in the same period changes nothing
    run = ReportRun.objects.get()
    assert (run.period_start, run.period_end, run.row_count) == (yesterday, yesterday, 1)
    assert run.content.splitlines()[1] == f"{yesterday},agent,concurrent,3,2,3,1"
    message = OutboxMessage.objects.get()
    assert message.to == ["ops@example.com"] and "Daily seats" in message.subject
    assert message.dedupe_key == f"portal-report-run:{run.pk}"


def test_paused_reports_do_not_run(org, supervisor):
    report = scheduled_report_create(
        organization=org,
        name="Daily",
        frequency="daily",
        recipients="a@example.com",
        acting_user=supervisor,
    )
    report.is_active = False
    report.save()
    assert scheduled_reports_run_due() == 0


def test_runs_are_kept_and_downloadable(client, org, supervisor):
    report = scheduled_report_create(
        organization=org,
        name="Daily",
        frequency="daily",
        recipients="a@example.com",
        acting_user=supervisor,
    )
    run, created = report_run_create(report=report)
    assert created
    client.force_login(supervisor)
    html = client.get(f"/portal/org/{org.pk}/reports/").content.decode()
    assert f"/portal/org/{org.pk}/runs/{run.pk}/download/" in html
    response = client.get(f"/portal/org/{org.pk}/runs/{run.pk}/download/")
    assert response["Content-Disposition"] == f'attachment; filename="{run.filename}"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response.content.decode("utf-8-sig").startswith(
        "day,license,method,licensed,in use,peak,denials"
    )


def test_reports_page_query_count_does_not_grow_with_runs(client, org, supervisor):
    report = scheduled_report_create(
        organization=org,
        name="Daily",
        frequency="daily",
        recipients="a@example.com",
        acting_user=supervisor,
    )
    client.force_login(supervisor)
    today = timezone.localdate()
    for i in range(2):
        report_run_create(report=report, today=today - timedelta(days=i))
    small = queries(client, f"/portal/org/{org.pk}/reports/")
    for i in range(2, 60):
        report_run_create(report=report, today=today - timedelta(days=i))
    assert queries(client, f"/portal/org/{org.pk}/reports/") == small


# Wallboard


def test_wallboard_shows_large_figures_and_serves_them_for_refresh(
    client, org, supervisor, make_member
):
    make_member(org, role="agent", method=User.LicenseMethod.CONCURRENT)
    client.force_login(supervisor)
    html = client.get(f"/portal/org/{org.pk}/wallboard/").content.decode()
    assert (
        'data-key="agent-concurrent"' in html and 'http-equiv="refresh"' in html
    )  # refreshes without JS too
    data = client.get(f"/portal/org/{org.pk}/wallboard.json").json()
    figure = next(f for f in data["figures"] if f["key"] == "agent-concurrent")
    assert (figure["in_use"], figure["licensed"]) == (1, 3)


def test_wallboard_query_count_does_not_grow_with_users(client, org, supervisor, populate):
    client.force_login(supervisor)
    populate(org, 10)
    small = queries(client, f"/portal/org/{org.pk}/wallboard.json")
    populate(org, 300, prefix="more")
    assert queries(client, f"/portal/org/{org.pk}/wallboard.json") == small


# Agents


def test_concurrent_agent_sees_their_seat_since_when_and_the_idle_timeout(
    client, org, make_member, settings
):
    settings.IWP_CONCURRENT_IDLE_MINUTES = 25
    agent = make_member(org, role="agent", method=User.LicenseMethod.CONCURRENT)
    client.force_login(agent)
    html = client.get("/portal/").content.decode()
    assert "My license" in html and "Concurrent" in html and "Agent access (IWP_Agent)" in html
    assert "25 minutes" in html and "Held since" in html
    assert "Who holds what" not in html


def test_assigned_agent_sees_their_assigned_seat(client, org, make_member):
    client.force_login(make_member(org, role="agent"))
    html = client.get("/portal/me/").content.decode()
    assert "Assigned" in html and "Assigned since" in html


def test_assigned_agent_at_a_station_sees_the_stations_seat(client, org, make_member):
    agent = make_member(org, role="agent", seat=False)
    station = StationFactory(organization=org, name="Desk 3")
    assign_seat(station=station, organization=org, license_type="agent")
    client.force_login(agent)
    session = client.session
    session[STATION_SESSION_KEY] = station.pk
    session.save()
    station_occupy(station=station, user=agent, session_key=session.session_key)
    html = client.get("/portal/").content.decode()
    assert "Seat (your station" in html and "station Desk 3" in html


def test_concurrent_agent_without_a_seat_is_told_which_license(client, org, make_member):
    agent = make_member(org, role="agent", method=User.LicenseMethod.CONCURRENT, seat=False)
    client.force_login(agent)
    response = client.get("/portal/me/")
    assert response.status_code == 403
    assert "you hold no Agent access (IWP_Agent) seat" in response.content.decode()
    lease_seat(user=agent, organization=org, license_type="agent")
    assert client.get("/portal/me/").status_code == 200
