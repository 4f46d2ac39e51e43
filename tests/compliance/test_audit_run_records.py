"""What one run of the audit records: its counts, the events and warnings it wrote linked to it,
its mails' dedupe keys (`compliance:exceeded:<day>:<hash>`), a mail for every new finding, a
fixed number of queries, and its own transaction."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.models import ComplianceEvent, ExpiryWarning
from compliance.services import compliance_audit_run
from licenses.models import LicenseType
from notifications.models import OutboxMessage

from .conftest import hold_assignable, organizations
from .test_audit import ENTITLEMENTS

pytestmark = pytest.mark.django_db


def exceeded_and_expiring(licensed_server, server_id="CIC-RUN", days_left=10):
    """Agent Assignable 2 of 1, and every entitlement expiring in ``days_left`` days."""
    server = licensed_server(
        server_id=server_id,
        entitlements=ENTITLEMENTS,
        expires_on=timezone.localdate() + timedelta(days=days_left),
    )
    [org] = organizations(server, 1)
    hold_assignable(server, org, LicenseType.AGENT, 2)
    return server


def test_a_run_records_its_counts_and_is_the_run_of_what_it_wrote(
    licensed_server, admins, settings
):
    settings.IWP_EXPIRY_WARNING_DAYS = [30, 7, 1]
    exceeded_and_expiring(licensed_server)
    today = timezone.localdate()

    run = compliance_audit_run(day=today)

    warnings = ExpiryWarning.objects.count()
    assert warnings == len(ENTITLEMENTS)
    assert (run.events_recorded, run.warnings_recorded) == (1, warnings)
    assert set(ComplianceEvent.objects.values_list("run", flat=True)) == {run.pk}
    assert set(ExpiryWarning.objects.values_list("run", flat=True)) == {run.pk}
    assert run.mail.dedupe_key.startswith(f"compliance:exceeded:{today:%Y-%m-%d}:")
    assert run.warning_mail.dedupe_key.startswith(f"compliance:expiry:{today:%Y-%m-%d}:")


def test_the_same_license_exceeded_the_next_day_is_mailed_again(licensed_server, admins):
    server = licensed_server(server_id="CIC-AGAIN", entitlements=ENTITLEMENTS)
    [org] = organizations(server, 1)
    hold_assignable(server, org, LicenseType.AGENT, 2)
    today = timezone.localdate()

    first = compliance_audit_run(day=today).mail
    second = compliance_audit_run(day=today + timedelta(days=1)).mail

    assert second is not None and second.pk != first.pk
    assert OutboxMessage.objects.count() == 2


def test_a_license_found_expiring_later_the_same_day_gets_its_own_warning_mail(
    licensed_server, admins
):
    today = timezone.localdate()
    licensed_server(
        server_id="CIC-FIRST", entitlements=["server"], expires_on=today + timedelta(days=10)
    )
    first = compliance_audit_run(day=today).warning_mail
    licensed_server(
        server_id="CIC-LATER", entitlements=["server"], expires_on=today + timedelta(days=10)
    )
    second = compliance_audit_run(day=today).warning_mail

    assert second is not None and second.pk != first.pk
    assert "(server CIC-LATER)" in second.body and "CIC-FIRST" not in second.body


def test_an_audit_that_finds_nothing_takes_eight_queries(licensed_server, admins):
    """The savepoint, the lock, the entitlements in force (read once for the findings and the
    expiry warnings), the findings (three), the run's row, the savepoint's release: the events
    already recorded are not read when nothing is exceeded."""
    licensed_server(server_id="CIC-CLEAN", entitlements=ENTITLEMENTS)
    with CaptureQueriesContext(connection) as ctx:
        compliance_audit_run(day=timezone.localdate())
    assert len(ctx.captured_queries) == 8, "\n".join(q["sql"][:90] for q in ctx.captured_queries)


def test_the_audit_runs_in_its_own_transaction_not_a_callers():
    """Its mail and log go out when it has committed, so it refuses to join a larger one."""
    with transaction.atomic(), pytest.raises(RuntimeError, match="durable"):
        compliance_audit_run(day=timezone.localdate())
