"""Rows that migrations create are in every test, transactional ones too (migration_data.py)."""

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

BEAT_ENTRIES = {
    "compliance: daily audit",
    "seats: release idle concurrent seats",
    "seats: daily usage snapshot",
    "notifications: retry undelivered e-mail",
    "Portal: run due scheduled reports",
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", [1, 2])
def test_a_transactional_test_finds_the_beat_entries_after_another_ones_flush(run):
    assert set(PeriodicTask.objects.values_list("name", flat=True)) >= BEAT_ENTRIES
    # The next test starts after this one's flush; a new entry of its own must not stay either.
    PeriodicTask.objects.create(
        name=f"left by run {run}", task="x", interval=IntervalSchedule.objects.first()
    )
    assert not PeriodicTask.objects.filter(name=f"left by run {3 - run}").exists()
