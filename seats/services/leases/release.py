"""Giving Concurrent seats back: logout, the idle sweep, supersession, an administrator; touching a
session's seats."""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from organizations.models import User

from ... import sql
from ...models import ReleaseReason, SeatLease, StationOccupancy
from ..pools import seats_release


def idle_cutoff(now: datetime) -> datetime:
    return now - timedelta(minutes=settings.IWP_CONCURRENT_IDLE_MINUTES)


def lease_release(
    *,
    session_key: str | None = None,
    leases=None,
    user: User | None = None,
    reason: str = ReleaseReason.LOGOUT,
    acting_user: User | None = None,
    now: datetime | None = None,
    end_sessions: bool = True,
    give_back: bool = True,
) -> list[SeatLease]:
    """Release Concurrent seats, each exactly once: those of a session, given leases, or all of a
    user's. Records why (logout, administrator, method change...) and who.

    ``end_sessions``: sign the holding sessions out (a logout ends its own session itself).
    ``give_back=False``: the seat is not returned to its pool, as it passes on to a newer session.
    """
    if session_key is not None:
        where, params = sql.RELEASE_BY_SESSION, {"session": session_key}
    elif leases is not None:
        where, params = sql.RELEASE_BY_IDS, {"ids": [getattr(x, "pk", x) for x in leases]}
    elif user is not None:
        where, params = sql.RELEASE_BY_USER, {"user": user.pk}
    else:
        raise ValueError("lease_release needs a session_key, leases or a user")
    return _release(
        where,
        params,
        reason=reason,
        acting_user=acting_user,
        now=now,
        end_sessions=end_sessions,
        give_back=give_back,
    )


# A login takes its seat, then creates its session and names it on the seat within moments.
LOGIN_GRACE = timedelta(minutes=1)


def lease_release_idle(
    *, now: datetime | None = None, pool: tuple[int, str] | None = None
) -> list[SeatLease]:
    """Release the seats whose session has been idle longer than IWP_CONCURRENT_IDLE_MINUTES (and
    end those sessions), and the seat API leases whose heartbeat is overdue; only those of
    ``pool`` (server id, license), when given. The sweep (every minute, without ``pool``) also
    gives back the seats of logins that never got their session."""
    now = now or timezone.now()
    params = {"cutoff": idle_cutoff(now)}  # %(now)s: seats_release gives it, as the release time
    scope = ""
    if pool is not None:
        params.update(server=pool[0], license=pool[1])
        scope = sql.IN_POOL
    released = _release(scope + sql.RELEASE_IDLE, params, reason=ReleaseReason.IDLE, now=now)
    released += _release(
        scope + sql.RELEASE_EXPIRED, params, reason=ReleaseReason.HEARTBEAT_MISSED, now=now
    )
    if pool is None:
        released += _release(
            sql.RELEASE_ORPHANED,
            {"cutoff": now - LOGIN_GRACE},
            reason=ReleaseReason.LOGIN_FAILED,
            now=now,
        )
    return released


def _release(
    where: str,
    params: dict,
    *,
    reason: str,
    acting_user: User | None = None,
    now: datetime | None = None,
    end_sessions: bool = True,
    give_back: bool = True,
) -> list[SeatLease]:
    def release(where, params, give_back=give_back):
        return seats_release(
            SeatLease,
            where=where,
            params=params,
            reason=reason,
            acting_user=acting_user,
            now=now,
            give_back=give_back,
        )

    if not end_sessions:  # one statement: a logout's pool row is locked only while it runs
        return release(where, params)
    with transaction.atomic():
        released = release(where, params)
        keys = {lease.session_key for lease in released if lease.session_key}
        if keys:
            # A session that ends gives back every seat it holds (a user on several servers
            # holds one on each), not only the one released here.
            released += release(sql.RELEASE_BY_SESSIONS, {"sessions": list(keys)}, give_back=True)
            sessions_end(keys, reason=reason, now=now)
    return released


# Where a session signed out by a newer login of its user keeps why and when, for its browser's
# next page (seats.middleware).
SIGNED_OUT_KEY = "iwp_signed_out"


def sessions_end(session_keys, *, reason: str, now: datetime | None = None) -> None:
    """Sign the given sessions out, and free the stations they were logged in at: database
    sessions in the caller's transaction, others (cache sessions) after it commits. A session
    superseded by a newer login of its user (one at a time) keeps, instead of its login, a note
    of when: its browser's next page says why it was signed out."""
    keys = [k for k in set(session_keys) if k]
    if not keys:
        return
    now = now or timezone.now()
    StationOccupancy.objects.filter(session_key__in=keys, ended_at__isnull=True).update(
        ended_at=now, end_reason=reason
    )
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if reason == ReleaseReason.SUPERSEDED:
        for key in keys:
            session = store(session_key=key)
            if session.exists(key):
                session.clear()  # no longer logged in
                session[SIGNED_OUT_KEY] = {"at": now.isoformat()}  # superseded: the only reason
                session.save()
    elif hasattr(store, "get_model_class"):  # one DELETE
        store.get_model_class().objects.filter(session_key__in=keys).delete()
    else:
        transaction.on_commit(lambda: [store(session_key=key).delete() for key in keys])


def lease_touch(*, lease_ids, now: datetime | None = None) -> int:
    """Mark the session's seats as used now; returns how many of them are still held."""
    if not lease_ids:
        return 0
    return SeatLease.objects.filter(pk__in=list(lease_ids), released_at__isnull=True).update(
        last_seen_at=now or timezone.now()
    )


def lease_heartbeat(*, lease_id: int, server_id: int, now: datetime | None = None):
    """A seat API client is alive: move its lease's expiry IWP_API_LEASE_SECONDS past ``now``.
    One UPDATE. Returns the new expiry, or None when ``lease_id`` is not a held API lease of the
    server (the caller then asks why: another server's, unknown, or released)."""
    now = now or timezone.now()
    rows = sql.execute(
        sql.LEASE_HEARTBEAT,
        {
            "id": lease_id,
            "server": server_id,
            "now": now,
            "expires": now + timedelta(seconds=settings.IWP_API_LEASE_SECONDS),
        },
    )
    return rows[0][0] if rows else None
