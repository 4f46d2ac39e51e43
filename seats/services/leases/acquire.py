"""Taking Concurrent seats at login, all or none, and recording the refusals.

Two ways in. A user who needs one seat and holds none takes it with one statement that is its
own transaction (``_acquire_alone``): the pool row is locked only while PostgreSQL runs it. Every
other login (several servers, a seat to pass on, idle seats to reclaim, a pool without its row
yet) takes the long way: one transaction under the user's row lock (``_acquire_one``).
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import date, datetime
from typing import NamedTuple

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from licenses.audit import acting_as
from licenses.exceptions import LicenseLimitReached
from licenses.models import Method
from organizations.models import Server, User

from ...models import ReleaseReason, SeatDenial, SeatLease
from ...prepared import hot_cursor
from ...rules import SeatRequirement, user_seat_requirements
from ..pools import (
    audit_context,
    capacity,
    daily_usage_raise_peak,
    organization_in_use,
    pool_take,
    refusal,
)
from .release import _release, idle_cutoff

CONCURRENT = Method.CONCURRENT.value


_CAPACITY_SQL = """COALESCE((
    SELECT e.quantity * (100 + e.overage_percent) / 100
    FROM licenses_entitlement e JOIN licenses_licensefile f ON f.id = e.license_file_id
    WHERE f.server_id = %(server)s AND f.replaced_at IS NULL AND e.license_type = %(license)s
      AND e.method = 'concurrent' AND e.starts_on <= %(day)s AND e.expires_on >= %(day)s
    LIMIT 1), 0)"""

_ACQUIRE_SQL = """
WITH take AS (
  UPDATE seats_seatpool p SET in_use = p.in_use + 1
  WHERE p.server_id = %(server)s AND p.license_type = %(license)s AND p.method = 'concurrent'
    AND p.in_use + 1 <= {capacity}
  RETURNING p.in_use
), lease AS (
  INSERT INTO seats_seatlease (server_id, organization_id, license_type, user_id, session_key, acquired_at,
                               last_seen_at, release_reason)
  SELECT %(server)s, %(org)s, %(license)s, %(user)s, %(session)s, %(now)s, %(now)s, '' FROM take
  RETURNING id
), log AS (
  INSERT INTO auditlog_logentry (content_type_id, object_pk, object_id, object_repr, action, changes, changes_text,
                                 actor_id, actor_email, cid, remote_addr, timestamp)
  SELECT %(ct)s, lease.id::text, lease.id, %(repr)s, %(action)s, %(changes)s::jsonb, '', %(actor)s::integer, %(actor_email)s,
         %(cid)s, %(remote_addr)s::inet, %(now)s FROM lease
)
SELECT (SELECT in_use FROM take), (SELECT id FROM lease), (
    SELECT count(*) FROM seats_seatlease l
    WHERE l.server_id = %(server)s AND l.license_type = %(license)s AND l.released_at IS NULL
      AND l.organization_id = %(org)s),
  -- when refused: the pool as it stands, the capacity and the server's name, for the message
  (SELECT in_use FROM seats_seatpool WHERE server_id = %(server)s AND license_type = %(license)s AND method = 'concurrent'),
  {capacity},
  (SELECT server_id FROM organizations_server WHERE id = %(server)s)
""".replace("{capacity}", _CAPACITY_SQL)


def _acquire_in_one_statement(
    *, user: User, req: SeatRequirement, session_key: str, now: datetime, day: date, actor=None
) -> SeatLease | LicenseLimitReached | None:
    """PostgreSQL, one statement: read the capacity, take the seat from the pool, insert the lease and
    its audit record, and count the organization's seats. When the pool is full, the refusal to
    raise (naming the server and "N of N in use"); None when the pool has no row yet (the caller
    then takes the long way, which creates it)."""
    lease = SeatLease(
        server_id=req.server_id,
        organization_id=req.organization_id,
        license_type=req.license_type,
        user=user,
        session_key=session_key,
        acquired_at=now,
        last_seen_at=now,
    )
    audit = audit_context(actor)  # without an actor given: the one of the auditlog context
    changes = {
        "server": ["None", str(req.server_id)],
        "organization": ["None", str(req.organization_id)],
        "license_type": ["None", req.license_type],
        "user": ["None", str(user.pk)],
        "acquired_at": ["None", str(now)],
    }
    with hot_cursor() as cursor:
        cursor.execute(
            _ACQUIRE_SQL,
            {
                "server": req.server_id,
                "license": req.license_type,
                "org": req.organization_id,
                "day": day,
                "user": user.pk,
                "session": session_key,
                "now": now,
                "ct": ContentType.objects.get_for_model(SeatLease).pk,
                "repr": str(lease),
                "action": LogEntry.Action.CREATE,
                "changes": json.dumps(changes),
                "actor": audit["actor_id"],
                "actor_email": audit["actor_email"],
                "cid": audit["cid"],
                "remote_addr": audit["remote_addr"],
            },
        )
        in_use, lease.pk, org_before, pool_in_use, cap, server_name = cursor.fetchone()
    if lease.pk is None:
        if pool_in_use is None or pool_in_use + 1 <= cap:
            # No pool row yet (the long way creates it), or the UPDATE waited for a racer's commit and
            # saw a fuller pool than this statement's snapshot: the long way reads it again, and retries.
            return None
        return _full(
            req=req,
            server=Server(pk=req.server_id, server_id=server_name),
            in_use=pool_in_use,
            capacity=cap,
        )
    return _with_peaks(lease, req=req, day=day, in_use=in_use, organization_in_use=org_before + 1)


def _take_portable(
    *, user: User, req: SeatRequirement, session_key: str, now: datetime, day: date
) -> SeatLease | LicenseLimitReached:
    """Any database: the capacity, the pool's conditional UPDATE (which creates the pool row if
    missing), then the lease through the ORM (auditlog records it). The refusal when full."""
    cap = capacity(
        server_id=req.server_id, license_type=req.license_type, method=CONCURRENT, day=day
    )
    taken, in_use = pool_take(
        server_id=req.server_id,
        license_type=req.license_type,
        method=CONCURRENT,
        seats=1,
        capacity=cap,
    )
    if not taken:
        return _full(
            req=req, server=Server.objects.get(pk=req.server_id), in_use=in_use, capacity=cap
        )
    org_in_use = (
        organization_in_use(
            method=CONCURRENT, license_type=req.license_type, organization_ids=[req.organization_id]
        ).get(req.organization_id, 0)
        + 1
    )
    lease = SeatLease.objects.create(
        server_id=req.server_id,
        organization_id=req.organization_id,
        license_type=req.license_type,
        user=user,
        session_key=session_key,
        last_seen_at=now,
    )
    return _with_peaks(lease, req=req, day=day, in_use=in_use, organization_in_use=org_in_use)


def _take(
    *, user: User, req: SeatRequirement, session_key: str, now: datetime, day: date
) -> SeatLease | LicenseLimitReached:
    """Take one seat inside the caller's transaction: the lease, or the refusal to raise."""
    if connection.vendor == "postgresql":
        result = _acquire_in_one_statement(
            user=user, req=req, session_key=session_key, now=now, day=day
        )
        if result is not None:
            return result
    return _take_portable(user=user, req=req, session_key=session_key, now=now, day=day)


def _full(
    *, req: SeatRequirement, server: Server, in_use: int, capacity: int
) -> LicenseLimitReached:
    """The refusal of a login when the pool is full: names the license, the server and "N of N in use"."""
    return refusal(
        server=server,
        license_type=req.license_type,
        method=CONCURRENT,
        in_use=in_use,
        capacity=capacity,
        who="Try again when someone logs out.",
    )


def _with_peaks(
    lease: SeatLease, *, req: SeatRequirement, day: date, in_use: int, organization_in_use: int
) -> SeatLease:
    """Counted at the take, written after the commit (the usage rows are not locked while the pool row is)."""
    lease._peaks = dict(
        day=day,
        server_id=req.server_id,
        license_type=req.license_type,
        method=CONCURRENT,
        server_in_use=in_use,
        organization_in_use={req.organization_id: organization_in_use},
    )
    return lease


def _acquire_one(
    *,
    user: User,
    req: SeatRequirement,
    existing: tuple[int, str] | None,
    session_key: str,
    now: datetime,
    day: date,
) -> SeatLease:
    """Inside the caller's transaction, holding the user's row lock: take (or supersede) the seat on one server."""
    if existing is not None and existing[1] == req.license_type:
        if settings.IWP_ALLOW_PARALLEL_SESSIONS:
            return SeatLease.objects.get(pk=existing[0])  # both sessions share the one seat
        # The same seat passes to the new session: the pool count does not change. (If an
        # administrator released it meanwhile, the pool has it back: take one the normal way.)
        if _release(
            SeatLease.objects.filter(pk=existing[0]),
            reason=ReleaseReason.SUPERSEDED,
            now=now,
            give_back=False,
        ):
            return SeatLease.objects.create(
                server_id=req.server_id,
                organization_id=req.organization_id,
                license_type=req.license_type,
                user=user,
                session_key=session_key,
                last_seen_at=now,
            )
    elif (
        existing is not None
    ):  # the user's role changed since: their old seat is of the wrong license
        _release(
            SeatLease.objects.filter(pk=existing[0]), reason=ReleaseReason.ROLE_CHANGE, now=now
        )
    lease = _take(user=user, req=req, session_key=session_key, now=now, day=day)
    if isinstance(lease, LicenseLimitReached):
        # Correctness never waits for the sweeper: reclaim this pool's idle seats, then try once more.
        cutoff = idle_cutoff(now)
        idle = SeatLease.objects.active().filter(
            server_id=req.server_id, license_type=req.license_type, last_seen_at__lt=cutoff
        )
        idle_sql = (
            "SELECT id FROM seats_seatlease WHERE server_id = %s AND license_type = %s AND released_at IS NULL "
            "AND last_seen_at < %s",
            [req.server_id, req.license_type, cutoff],
        )
        if _release(idle, reason=ReleaseReason.IDLE, now=now, ids_sql=idle_sql):
            lease = _take(user=user, req=req, session_key=session_key, now=now, day=day)
        if isinstance(lease, LicenseLimitReached):
            raise lease
    return lease


def _lock_user_and_find_leases(user: User) -> dict[int, tuple[int, str]]:
    """Lock the user's row (two logins of one user take turns), then read their active leases by server.

    Two statements on purpose: the read must take its snapshot after the lock is granted, to see
    the lease a login that held the lock just committed.
    """
    if (
        connection.vendor == "postgresql"
    ):  # the login hot path: plain SQL, no ORM compilation per call
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM organizations_user WHERE id = %s FOR NO KEY UPDATE", [user.pk]
            )
            cursor.execute(
                "SELECT id, server_id, license_type FROM seats_seatlease WHERE user_id = %s AND released_at IS NULL",
                [user.pk],
            )
            rows = cursor.fetchall()
    else:
        User.objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk").first()
        rows = (
            SeatLease.objects.active()
            .filter(user=user)
            .values_list("id", "server_id", "license_type")
        )
    return {server_id: (lease_id, license_type) for lease_id, server_id, license_type in rows}


def denial_record(
    *,
    user: User | None,
    server_id: int,
    organization_id: int | None,
    license_type: str,
    method: str,
    message: str,
) -> SeatDenial:
    """Record one refused seat: who, which license, which server, when.

    One INSERT and no shared counter: refusals come in bursts exactly when seats run out, and a
    counter row updated by each of them made every refused login queue on its lock. The day's
    totals per server and organization are counted from these rows (the usage snapshot, the portal).
    """
    return SeatDenial.objects.create(
        server_id=server_id,
        organization_id=organization_id,
        license_type=license_type,
        method=method,
        user=user,
        message=message[:300],
    )


_POOL_STATE_SQL = """
SELECT p.in_use, {capacity},
  EXISTS (SELECT 1 FROM seats_seatlease l WHERE l.server_id = %(server)s AND l.released_at IS NULL
          AND l.user_id = %(user)s),
  EXISTS (SELECT 1 FROM seats_seatlease l WHERE l.server_id = %(server)s AND l.released_at IS NULL
          AND l.license_type = %(license)s AND l.last_seen_at < %(cutoff)s),
  s.server_id
FROM seats_seatpool p JOIN organizations_server s ON s.id = p.server_id
WHERE p.server_id = %(server)s AND p.license_type = %(license)s AND p.method = 'concurrent'
""".replace("{capacity}", _CAPACITY_SQL)


class PoolState(NamedTuple):
    """A Concurrent pool as committed, read without a lock, for one login."""

    in_use: int
    capacity: int
    user_holds: bool  # the user already holds a seat on this server (a second login passes it on)
    idle_held: bool  # a seat of this pool is held by a session idle past the limit (reclaimable)
    server_name: str

    @property
    def full(self) -> bool:
        return self.in_use + 1 > self.capacity

    @property
    def refuses(self) -> bool:
        """Full, with no idle seat to reclaim and no seat of the user's to pass on: the login is refused."""
        return self.full and not self.idle_held and not self.user_holds


def _pool_state(*, user: User, req: SeatRequirement, now: datetime, day: date) -> PoolState | None:
    """PostgreSQL: the pool's committed state, or None (other databases, or no pool row yet)."""
    if connection.vendor != "postgresql":
        return None
    with hot_cursor() as cursor:
        cursor.execute(
            _POOL_STATE_SQL,
            {
                "server": req.server_id,
                "license": req.license_type,
                "day": day,
                "user": user.pk,
                "cutoff": idle_cutoff(now),
            },
        )
        row = cursor.fetchone()
    return PoolState(*row) if row is not None else None


def _refuse(*, user: User, req: SeatRequirement, state: PoolState) -> LicenseLimitReached:
    """The refusal of a full pool, recorded as a denial."""
    full = _full(
        req=req,
        server=Server(pk=req.server_id, server_id=state.server_name),
        in_use=state.in_use,
        capacity=state.capacity,
    )
    return _denied(user=user, req=req, refusal=full)


def _denied(
    *, user: User, req: SeatRequirement, refusal: LicenseLimitReached
) -> LicenseLimitReached:
    """Record the refusal as a denial (who, which license, which server, when) and return it to raise."""
    denial_record(
        user=user,
        server_id=req.server_id,
        organization_id=req.organization_id,
        license_type=req.license_type,
        method=CONCURRENT,
        message=refusal.message,
    )
    return refusal


def _acquire_alone(
    *,
    user: User,
    req: SeatRequirement,
    state: PoolState | None,
    session_key: str,
    acting_user,
    now: datetime,
    day: date,
) -> SeatLease | None:
    """The login of a user who needs one seat and holds none: one statement that is its own transaction.

    The pool row is locked only while PostgreSQL runs that statement, never across a round trip to
    this process, so logins and logouts on a busy pool do not queue behind each other's commits.
    No user lock: the partial unique constraint refuses a second active seat of the same user, and
    that login (IntegrityError) takes the long way, which passes the seat on. Returns None for
    anything but a plain take (the long way decides); raises the refusal when the pool is full.
    """
    for _attempt in range(3):
        if state is None or state.user_holds or (state.full and state.idle_held):
            return None
        if state.full:
            raise _refuse(user=user, req=req, state=state)
        # Inside a caller's transaction (tests, admin actions), a savepoint keeps a refused INSERT from
        # breaking it; in autocommit (the login view) the statement commits on its own.
        in_transaction = transaction.atomic() if connection.in_atomic_block else nullcontext()
        try:
            with in_transaction:
                result = _acquire_in_one_statement(
                    user=user,
                    req=req,
                    session_key=session_key,
                    now=now,
                    day=day,
                    actor=acting_user or user,
                )
        except IntegrityError:
            return None  # the same user's other login inserted first
        if isinstance(result, SeatLease):
            daily_usage_raise_peak(**result._peaks)
            return result
        # A racer took the last free seat between the look and the take: look again.
        state = _pool_state(user=user, req=req, now=now, day=day)
    return None


def lease_acquire(
    *,
    user: User,
    session_key: str = "",
    acting_user=None,
    now: datetime | None = None,
    day: date | None = None,
) -> list[SeatLease]:
    """Take the Concurrent seat(s) a logging-in user needs, one per server; all or none.

    Raises LicenseLimitReached (naming the license, the server and "N of N in use") when a server
    has no free seat; the refusal is recorded as a SeatDenial and nothing else changes.
    Assigned users and users without memberships take no Concurrent seat: returns [].
    """
    if user.license_method != User.LicenseMethod.CONCURRENT:
        return []
    now = now or timezone.now()
    day = day or timezone.localdate()
    requirements = user_seat_requirements(user=user)
    if not requirements:
        return []
    # A full pool refuses here, from its committed count, without locks or a transaction: refusals
    # come in bursts exactly when seats run out, and must not cost what a login does.
    states = []
    for req in requirements:
        state = _pool_state(user=user, req=req, now=now, day=day)
        if state is not None and state.refuses:
            raise _refuse(user=user, req=req, state=state)
        states.append(state)
    if len(requirements) == 1:
        lease = _acquire_alone(
            user=user,
            req=requirements[0],
            state=states[0],
            session_key=session_key,
            acting_user=acting_user,
            now=now,
            day=day,
        )
        if lease is not None:
            return [lease]
    # The long way: several servers (all or none), a seat to pass on or reclaim, or a pool to create.
    for attempt in range(3):
        current = None
        try:
            with transaction.atomic(), acting_as(acting_user or user):
                # Two logins of one user at once take turns (the second supersedes the first).
                existing = _lock_user_and_find_leases(user)
                leases = []
                for current in sorted(requirements, key=lambda r: (r.server_id, r.license_type)):
                    leases.append(
                        _acquire_one(
                            user=user,
                            req=current,
                            existing=existing.get(current.server_id),
                            session_key=session_key,
                            now=now,
                            day=day,
                        )
                    )
            # Today's high-water mark: GREATEST() commutes, so writing it after the commit keeps it exact.
            # (daily_usage_raise_peak opens a transaction only when it writes: most logins don't.)
            for lease in leases:
                if getattr(lease, "_peaks", None):
                    daily_usage_raise_peak(**lease._peaks)
            return leases
        except LicenseLimitReached as exc:
            _denied(user=user, req=current, refusal=exc)
            raise
        except IntegrityError:
            # The same user logging in twice at once: the other login inserted first; now supersede it.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def lease_attach_session(*, leases, session_key: str) -> None:
    """Name the session that holds the leases (known only once the login has created it)."""
    SeatLease.objects.filter(
        pk__in=[lease.pk for lease in leases], released_at__isnull=True
    ).update(session_key=session_key)
