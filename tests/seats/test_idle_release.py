"""The sweep (``lease_release_idle``) at a given moment: a seat API lease whose heartbeat is
overdue then, and a login's seat that never got its session, released as of that moment with
their reason; and ``lease_touch``, which keeps a session's seats from looking idle."""

from datetime import timedelta

import pytest
from django.utils import timezone

from seats.models import ReleaseReason, SeatLease
from seats.services.leases import lease_acquire, lease_release, lease_release_idle, lease_touch

from .seat_helpers import member, pool_in_use, setup_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def north(licensed_server):
    return setup_server(licensed_server, ["agent:concurrent=3"])


def test_a_heartbeat_overdue_at_the_sweeps_moment_is_released_then_as_missed(north, settings):
    """The lease expires after the real now but before the sweep's ``now``."""
    settings.IWP_API_LEASE_SECONDS = 600
    server, organization = north
    bob = member(organization, "bob")
    [lease] = lease_acquire(user=bob, server_id=server.pk, client_id="pc-1")
    later = timezone.now() + timedelta(seconds=601)

    released = lease_release_idle(now=later, pool=(server.pk, "agent"))

    assert [s.pk for s in released] == [lease.pk]
    lease.refresh_from_db()
    assert (lease.released_at, lease.release_reason) == (later, ReleaseReason.HEARTBEAT_MISSED)
    assert pool_in_use(server, "agent", "concurrent") == 0


def test_a_login_without_its_session_is_released_as_of_the_sweeps_moment(north):
    server, organization = north
    bob = member(organization, "bob")
    [lease] = lease_acquire(user=bob)  # the login took it; its session never came
    later = timezone.now() + timedelta(minutes=1, seconds=1)

    released = lease_release_idle(now=later)

    assert [s.pk for s in released] == [lease.pk]
    lease.refresh_from_db()
    assert (lease.released_at, lease.release_reason) == (later, ReleaseReason.LOGIN_FAILED)


def test_touching_marks_only_the_given_held_seats_and_counts_them(north):
    """The count is what the middleware compares with the session's seats: a released one is
    neither touched nor counted (the session is then signed out)."""
    server, organization = north
    bob, carol, dave = (member(organization, name) for name in ("bob", "carol", "dave"))
    bobs, carols, daves = (
        lease_acquire(user=u, session_key=u.username)[0] for u in (bob, carol, dave)
    )
    lease_release(leases=[daves], end_sessions=False)
    later = timezone.now() + timedelta(minutes=5)

    assert lease_touch(lease_ids=[bobs.pk, daves.pk], now=later) == 1

    seen = dict(SeatLease.objects.values_list("pk", "last_seen_at"))
    assert seen[bobs.pk] == later
    assert seen[carols.pk] < later and seen[daves.pk] < later
    assert lease_touch(lease_ids=[], now=later) == 0
