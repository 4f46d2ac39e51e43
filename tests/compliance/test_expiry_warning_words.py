"""The words of an expiry warning: its message, the mail the audit sends for it, and the log
record an operator's log search reads (each field by name)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from compliance.log import StructuredFormatter
from compliance.models import ExpiryWarning
from compliance.services import compliance_audit_run
from licenses.models import LicenseFile
from notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def last_day_tomorrow(licensed_server, settings):
    """Server CIC-LASTDAY, its license (a flag and a counted license with a method) valid one
    more day after today."""
    settings.IWP_EXPIRY_WARNING_DAYS = [30, 7, 1]
    today = timezone.localdate()
    server = licensed_server(
        server_id="CIC-LASTDAY",
        entitlements=["server", "agent:concurrent=8"],
        expires_on=today + timedelta(days=1),
    )
    serial = LicenseFile.objects.get(server=server).serial
    last = f"{today + timedelta(days=1):%Y-%m-%d}"
    return today, serial, last


def expected_messages(serial, last):
    return [
        f"Server of license file {serial} (server CIC-LASTDAY) expires in 1 day: "
        f"its last valid day is {last}",
        f"Agent access (IWP_Agent) / Concurrent × 8 of license file {serial} "
        f"(server CIC-LASTDAY) expires in 1 day: its last valid day is {last}",
    ]


def test_one_day_left_is_said_in_the_singular_in_the_warning_and_its_mail(
    last_day_tomorrow, admins
):
    today, serial, last = last_day_tomorrow

    compliance_audit_run(day=today)

    server_message, agent_message = expected_messages(serial, last)
    assert sorted(ExpiryWarning.objects.values_list("message", flat=True)) == sorted(
        [server_message, agent_message]
    )
    mail = OutboxMessage.objects.get()
    assert mail.subject == "[IWP Licensing] 2 license(s) expire soon"
    words, forecast = mail.body.split("Renewal forecast for server CIC-LASTDAY", 1)
    listed = [line for line in words.splitlines() if line.startswith("- ")]
    assert sorted(listed) == sorted([f"- {server_message}", f"- {agent_message}"])
    assert words == "\n".join(
        [
            f"The compliance audit of {today:%Y-%m-%d} found 2 license(s) about to expire:",
            "",
            *listed,
            "",
            "Install a renewed license file before then (admin: Licenses > License files).",
            "",
            "",
        ]
    )
    assert forecast.startswith(": the peak of the last 90 days")


def test_each_expiry_warning_is_logged_with_its_words_and_fields(
    last_day_tomorrow, admins, compliance_log, django_capture_on_commit_callbacks
):
    today, serial, last = last_day_tomorrow
    with django_capture_on_commit_callbacks(execute=True):
        run = compliance_audit_run(day=today)

    warnings = [r for r in compliance_log if r.levelname == "WARNING"]
    formatter = StructuredFormatter("%(levelname)s %(message)s")
    server_message, agent_message = expected_messages(serial, last)
    fields = f"event=license_expiring audit_run={run.pk} day={today:%Y-%m-%d} server=CIC-LASTDAY"
    assert sorted(formatter.format(r) for r in warnings) == sorted(
        [
            f"WARNING {server_message} {fields} license=server method=- expires_on={last} "
            "threshold_days=1",
            f"WARNING {agent_message} {fields} license=agent method=concurrent "
            f"expires_on={last} threshold_days=1",
        ]
    )
