"""Beat firing twice at once (or two workers picking the same report) still makes one
run and one mail."""

import pytest

from portal.models import ReportRun
from portal.services import scheduled_report_create
from portal.tasks import run_scheduled_reports
from tests.concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_runs_of_the_same_report_make_one_run_and_one_mail(org, supervisor):
    from notifications.models import OutboxMessage

    scheduled_report_create(
        organization=org,
        name="Daily seats",
        frequency="daily",
        recipients="ops@example.com",
        acting_user=supervisor,
    )
    results = race(4, lambda i: run_scheduled_reports())
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors
    assert sorted(results) == [0, 0, 0, 1]
    assert ReportRun.objects.count() == 1
    assert OutboxMessage.objects.filter(dedupe_key__startswith="portal-report-run:").count() == 1
