"""Sessions signed out by a seat's release (``sessions_end``): the station each was logged in at
is freed with the reason, an occupancy ended before keeps its own end, and sessions kept in the
cache (another session engine) are deleted once the release commits."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.utils import timezone

from seats.models import ReleaseReason, StationOccupancy
from seats.services.leases import lease_acquire, lease_release, sessions_end
from tests.factories import StationFactory

from .seat_helpers import member, setup_server

pytestmark = pytest.mark.django_db


def test_the_sessions_station_is_freed_with_the_reason_and_an_earlier_end_is_kept(
    licensed_server,
):
    _, organization = setup_server(licensed_server, ["agent:assignable=2"])
    bob = member(organization, "bob", method="assigned")
    desk, other = (StationFactory(organization=organization, name=n) for n in ("Desk", "Other"))
    start = timezone.now() - timedelta(hours=1)
    before = StationOccupancy.objects.create(
        station=other,
        user=bob,
        session_key="s1",
        since=start,
        last_seen_at=start,
        ended_at=start + timedelta(minutes=5),
        end_reason=ReleaseReason.IDLE,
    )
    held = StationOccupancy.objects.create(
        station=desk, user=bob, session_key="s1", since=start, last_seen_at=start
    )
    daves = StationOccupancy.objects.create(
        station=other,
        user=member(organization, "dave", method="assigned"),
        session_key="s2",
        since=start,
        last_seen_at=start,
    )
    now = timezone.now()

    sessions_end(["s1"], reason=ReleaseReason.ADMIN, now=now)

    held.refresh_from_db()
    assert (held.ended_at, held.end_reason) == (now, ReleaseReason.ADMIN)
    before.refresh_from_db()
    assert (before.ended_at, before.end_reason) == (
        start + timedelta(minutes=5),
        ReleaseReason.IDLE,
    )
    daves.refresh_from_db()
    assert daves.ended_at is None  # another session's station is left as it is


def test_a_cache_session_is_deleted_once_the_release_commits(
    settings, django_capture_on_commit_callbacks
):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended, kept = store(), store()
    ended.create(), kept.create()

    with django_capture_on_commit_callbacks(execute=True):
        sessions_end([ended.session_key], reason=ReleaseReason.ADMIN)
        assert store().exists(ended.session_key)  # not before the commit

    assert not store().exists(ended.session_key)
    assert store().exists(kept.session_key)


def test_a_seat_released_at_a_given_moment_frees_its_sessions_station_as_of_then(
    licensed_server,
):
    _, organization = setup_server(licensed_server, ["agent:concurrent=1"])
    bob = member(organization, "bob")
    [lease] = lease_acquire(user=bob, session_key="s1")
    start = timezone.now() - timedelta(minutes=10)
    held = StationOccupancy.objects.create(
        station=StationFactory(organization=organization, name="Desk"),
        user=bob,
        session_key="s1",
        since=start,
        last_seen_at=start,
    )
    then = start + timedelta(minutes=5)

    lease_release(leases=[lease], reason=ReleaseReason.ADMIN, now=then)

    held.refresh_from_db()
    assert (held.ended_at, held.end_reason) == (then, ReleaseReason.ADMIN)


def test_releasing_without_saying_which_seats_is_a_programming_error():
    with pytest.raises(ValueError, match="^lease_release needs a session_key, leases or a user$"):
        lease_release(reason=ReleaseReason.ADMIN)
