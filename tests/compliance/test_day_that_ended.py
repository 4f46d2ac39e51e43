"""The scheduled audit judges the day that ended, on the whole day, from history; the clock moves
with time-machine and the audit runs through its real Celery task."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from compliance.models import AuditRun, AuditTrigger, ComplianceEvent
from compliance.tasks import run_daily_audit
from seats.models import SeatLease

from ..notifications.smtp import body_of
from ..seats.seat_helpers import login, member, setup_server

pytestmark = pytest.mark.django_db

AGENTS = "agent:concurrent=3+100%"  # 3 licensed; logins are refused only beyond 6


def at(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def work_day(organization, day, agents, *, start_hour=9):
    """``agents`` Concurrent agents log in together on ``day`` and log out at the end of it."""
    clients = []
    with time_machine.travel(at(day, start_hour), tick=False):
        for i in range(agents):
            client = Client()
            name = f"agent{i}"
            if not organization.memberships.filter(user__username=name).exists():
                member(organization, name)
            assert login(client, name).status_code == 302, f"{name} was refused on {day}"
            clients.append(client)
    with time_machine.travel(at(day, 17), tick=False):
        for client in clients:
            assert client.post("/accounts/logout/").status_code == 302


def test_a_day_used_beyond_its_count_is_reported_the_next_night_once_with_log_and_mail(
    licensed_server,
    admins,
    smtp_server,
    eager_celery,
    compliance_log,
    django_capture_on_commit_callbacks,
):
    day = timezone.localdate() - timedelta(days=5)
    with time_machine.travel(at(day, 8), tick=False):
        server, organization = setup_server(licensed_server, [AGENTS])
    work_day(organization, day, 5)  # 5 of 3, within the overage allowance: no one refused
    assert not SeatLease.objects.active().exists()  # nothing is held any more

    with time_machine.travel(at(day + timedelta(days=1), 2), tick=False):
        for _ in range(2):  # beat firing twice changes nothing
            with django_capture_on_commit_callbacks(execute=True):
                run_daily_audit.apply().get()

    [event] = ComplianceEvent.objects.all()
    assert (event.day, event.license_type, event.method) == (day, "agent", "concurrent")
    assert (event.licensed_count, event.found_count) == (3, 5)
    assert event.message.startswith(
        "Total agent users have exceeded the total agent user license count, "
        "licenses: [3] agent user: [5]"
    )
    errors = [r for r in compliance_log if r.levelname == "ERROR"]
    assert [r.getMessage() for r in errors] == [event.message]
    assert (errors[0].licensed, errors[0].found) == (3, 5)
    [mail] = smtp_server.messages
    assert f"1 license(s) exceeded on {day:%Y-%m-%d}" in mail["message"]["Subject"]
    assert event.message in body_of(mail["message"])
    assert [r.day for r in AuditRun.objects.all()] == [day]


def test_a_catch_up_judges_each_missed_day_on_what_was_held_that_day(licensed_server, admins):
    first = timezone.localdate() - timedelta(days=6)
    with time_machine.travel(at(first, 8), tick=False):
        server, organization = setup_server(licensed_server, [AGENTS])
        AuditRun.objects.create(
            day=first - timedelta(days=1), trigger=AuditTrigger.SCHEDULE, finished_at=timezone.now()
        )
    held = {first: 2, first + timedelta(days=1): 4, first + timedelta(days=2): 6}
    for day, agents in held.items():
        work_day(organization, day, agents)

    # Beat was down: it comes back three nights later, long after the seats were given back.
    with time_machine.travel(at(first + timedelta(days=3), 2), tick=False):
        run_daily_audit.apply().get()

    assert sorted((r.day, r.trigger) for r in AuditRun.objects.filter(day__gte=first)) == [
        (first, AuditTrigger.CATCH_UP),
        (first + timedelta(days=1), AuditTrigger.CATCH_UP),
        (first + timedelta(days=2), AuditTrigger.SCHEDULE),
    ]
    assert sorted(
        (e.day, e.licensed_count, e.found_count) for e in ComplianceEvent.objects.all()
    ) == [(first + timedelta(days=1), 3, 4), (first + timedelta(days=2), 3, 6)]


def test_the_command_refuses_a_day_that_has_not_begun(licensed_server):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(CommandError, match=f"--date {tomorrow:%Y-%m-%d} is in the future"):
        call_command("run_compliance_check", "--date", tomorrow.isoformat())
    assert not AuditRun.objects.exists()
