"""Giving Concurrent seats back: logout, the idle sweep, supersession, an administrator; touching a session's seats."""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from licenses.audit import acting_as
from organizations.models import User

from ...models import ReleaseReason, SeatLease
from ..pools import release_rows


def idle_cutoff(now: datetime) -> datetime:
    return now - timedelta(minutes=settings.IWP_CONCURRENT_IDLE_MINUTES)


def _sessions_in_database() -> bool:
    return hasattr(import_module(settings.SESSION_ENGINE).SessionStore, "get_model_class")


def sessions_end(session_keys) -> None:
    """Sign the given sessions out (after the commit that released their seats)."""
    keys = [k for k in set(session_keys) if k]
    if not keys:
        return
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if _sessions_in_database():  # one DELETE
        store.get_model_class().objects.filter(session_key__in=keys).delete()
    else:
        for key in keys:
            store(session_key=key).delete()


def _release(
    queryset,
    *,
    reason: str,
    acting_user=None,
    now=None,
    end_sessions: bool = True,
    give_back: bool = True,
    ids_sql=None,
) -> list[SeatLease]:
    released = release_rows(
        queryset,
        reason=reason,
        acting_user=acting_user,
        now=now,
        give_back=give_back,
        ids_sql=ids_sql,
    )
    if end_sessions and released:
        keys = {lease.session_key for lease in released if lease.session_key}
        # A session that ends gives back every seat it holds (a user on several servers holds one
        # on each), not only the one released here: otherwise those wait for the idle sweep.
        if keys:
            released += release_rows(
                SeatLease.objects.active().filter(session_key__in=keys),
                reason=reason,
                acting_user=acting_user,
                now=now,
            )
        if _sessions_in_database():
            sessions_end(keys)  # database sessions end in the same transaction as their seats
        else:
            transaction.on_commit(lambda: sessions_end(keys))
    return released


def lease_release(
    *,
    session_key: str | None = None,
    leases=None,
    user: User | None = None,
    reason: str = ReleaseReason.LOGOUT,
    acting_user=None,
    now: datetime | None = None,
    end_sessions: bool = True,
) -> list[SeatLease]:
    """Release Concurrent seats, each exactly once: those of a session, given leases, or all of a user.

    Records why (logout, administrator, method change...) and who; signs the holding sessions
    out unless the caller is ending that session itself.
    """
    if session_key is None and leases is None and user is None:
        raise ValueError("lease_release needs a session_key, leases or a user")
    ids_sql = None
    if (
        session_key is not None
        and leases is None
        and user is None
        and connection.vendor == "postgresql"
    ):
        # Logout, the hot path: the rows are named in plain SQL (no ORM compilation).
        ids_sql = (
            "SELECT id FROM seats_seatlease WHERE session_key = %s AND released_at IS NULL",
            [session_key],
        )
    if ids_sql is not None and not end_sessions:
        # One statement (seats, audit records, pools) that is its own transaction, so the pool row is
        # locked only while it runs; the actor is passed to it, no auditlog context to set up. The
        # queryset gives only the model.
        return _release(
            SeatLease.objects.none(),
            reason=reason,
            acting_user=acting_user,
            now=now,
            end_sessions=False,
            ids_sql=ids_sql,
        )
    qs = SeatLease.objects.active()
    if session_key is not None:
        qs = qs.filter(session_key=session_key)
    if leases is not None:
        qs = qs.filter(pk__in=[getattr(lease, "pk", lease) for lease in leases])
    if user is not None:
        qs = qs.filter(user=user)
    with transaction.atomic(), acting_as(acting_user):
        return _release(
            qs,
            reason=reason,
            acting_user=acting_user,
            now=now,
            end_sessions=end_sessions,
            ids_sql=ids_sql,
        )


def lease_release_idle(*, now: datetime | None = None) -> int:
    """Release every seat whose session has been idle longer than IWP_CONCURRENT_IDLE_MINUTES; end those sessions."""
    now = now or timezone.now()
    with transaction.atomic():
        idle = SeatLease.objects.active().filter(last_seen_at__lt=idle_cutoff(now))
        return len(_release(idle, reason=ReleaseReason.IDLE, now=now))


def lease_touch(*, lease_ids, now: datetime | None = None) -> int:
    """Mark the session's seats as used now; returns how many of them are still held."""
    if not lease_ids:
        return 0
    return SeatLease.objects.filter(pk__in=list(lease_ids), released_at__isnull=True).update(
        last_seen_at=now or timezone.now()
    )
