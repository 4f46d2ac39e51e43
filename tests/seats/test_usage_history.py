"""A day's use from the seats' history: the most held at one time, never what is held now."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from licenses.selectors import day_span
from seats.models import SeatLease
from seats.selectors import seat_peaks

from .seat_helpers import member, setup_server

pytestmark = pytest.mark.django_db


def at(day, hour):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def lease(organization, username, *, since, until=None):
    user = member(organization, username)
    with time_machine.travel(since, tick=False):
        seat = SeatLease.objects.create(
            server=organization.server,
            organization=organization,
            license_type="agent",
            user=user,
            last_seen_at=since,
        )
    if until is not None:
        SeatLease.objects.filter(pk=seat.pk).update(released_at=until, release_reason="logout")


def test_the_peak_counts_seats_held_through_the_day_and_the_most_taken_at_once_within_it(
    licensed_server,
):
    day = timezone.localdate() - timedelta(days=3)
    server, organization = setup_server(licensed_server, ["agent:concurrent=50"])
    before = day - timedelta(days=1)
    lease(organization, "all-day-1", since=at(before, 9))  # held through the day (and still)
    lease(organization, "all-day-2", since=at(before, 9), until=at(day + timedelta(days=1), 9))
    lease(organization, "gone-at-midnight", since=at(before, 9), until=at(day, 0))
    lease(organization, "yesterday-only", since=at(before, 9), until=at(before, 17))
    for i in range(3):
        lease(organization, f"morning-{i}", since=at(day, 10), until=at(day, 12))
    lease(organization, "afternoon", since=at(day, 12), until=at(day, 15))  # as two leave
    lease(organization, "tomorrow", since=at(day + timedelta(days=1), 9))

    start, end = day_span(day)
    assert seat_peaks(start=start, end=end) == {(server.pk, "agent", "concurrent"): 5}
    # The next day: two held at midnight; at 09:00 one leaves as another arrives.
    start, end = day_span(day + timedelta(days=1))
    assert seat_peaks(start=start, end=end) == {(server.pk, "agent", "concurrent"): 2}
