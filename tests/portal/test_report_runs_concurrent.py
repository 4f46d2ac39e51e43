"""Beat firing twice at once (or two workers picking the same report) still makes one run and one mail."""

import threading

import pytest
from django.db import connection

from portal.models import ReportRun
from portal.services import scheduled_report_create
from portal.tasks import run_scheduled_reports

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_runs_of_the_same_report_make_one_run_and_one_mail(org, supervisor):
    from notifications.models import OutboxMessage

    scheduled_report_create(organization=org, name="Daily seats", frequency="daily", recipients="ops@example.com",
                            acting_user=supervisor)
    barrier = threading.Barrier(4)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(run_scheduled_reports())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == [0, 0, 0, 1]
    assert ReportRun.objects.count() == 1
    assert OutboxMessage.objects.filter(dedupe_key__startswith="portal-report-run:").count() == 1
