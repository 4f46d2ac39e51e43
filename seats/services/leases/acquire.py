"""Taking Concurrent seats at login, all or none, and recording the refusals."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from licenses.audit import acting_as, context_params
from licenses.exceptions import LicenseLimitReached
from licenses.models import Method
from organizations.models import Server, User

from ... import sql
from ...models import LeaseSource, ReleaseReason, SeatDenial, SeatLease
from ...rules import SeatRequirement, user_seat_requirements
from ..pools import daily_peak_raise, refusal
from ..pools import pool_in_use as pool_in_use_now
from ..shares import share_refusal
from .release import idle_cutoff, lease_release, lease_release_idle

CONCURRENT = Method.CONCURRENT.value


@dataclass(frozen=True)
class _Holder:
    """Who holds the seat taken: a browser session, or a seat API client (which must heartbeat
    before ``expires_at``)."""

    session_key: str = ""
    source: str = LeaseSource.BROWSER
    client_id: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True)
class _Taken:
    """A seat taken from its pool, and the seats in use after it and the pool's capacity (for the
    day's peak and the utilisation alerts)."""

    lease: SeatLease
    pool_in_use: int | None = None  # None: no seat was taken from the pool (one was passed on)
    organization_in_use: int = 0
    capacity: int | None = None


@dataclass(frozen=True)
class _Attempt:
    """What one take statement found: the seat taken, or the refusal, and what the rules need."""

    taken: _Taken | None
    refusal: LicenseLimitReached | None
    user_holds: bool  # the user holds a seat on this server already (another session)
    idle_held: bool  # seats of this pool are held by sessions idle past the limit

    @property
    def only_refusal(self) -> bool:
        """Full, and none of the rules can find a seat: none to pass on, none idle to reclaim."""
        return self.refusal is not None and not (self.user_holds or self.idle_held)


def lease_acquire(
    *,
    user: User,
    session_key: str = "",
    server_id: int | None = None,
    client_id: str = "",
    acting_user: User | None = None,
    now: datetime | None = None,
    day: date | None = None,
) -> list[SeatLease]:
    """Take the Concurrent seat a logging-in user needs on each of their servers: all or none.

    Assigned users, and users without an active organization, take none (returns []). When a
    server has no seat for them, raises LicenseLimitReached naming the license, the server and
    "N of N in use", records the refusal as a SeatDenial, and changes nothing else.

    A seat API check-out passes ``server_id`` (the API key's server: only that server's seat is
    taken) and ``client_id``: the lease then expires IWP_API_LEASE_SECONDS from now unless
    heartbeats move it, and the same client asking again gets the lease it holds.
    """
    if user.license_method != User.LicenseMethod.CONCURRENT:
        return []
    now = now or timezone.now()
    day = day or timezone.localdate()
    holder = (
        _Holder(
            session_key=f"api:{secrets.token_hex(16)}",  # ends its station's occupancy with it
            source=LeaseSource.API,
            client_id=client_id,
            expires_at=now + timedelta(seconds=settings.IWP_API_LEASE_SECONDS),
        )
        if client_id
        else _Holder(session_key=session_key)
    )

    def on_server(requirements):
        return [r for r in requirements if server_id is None or r.server_id == server_id]

    requirements = on_server(user_seat_requirements(user=user))
    if len(requirements) == 1:
        # The usual login (one server, no seat of the user's there) is one statement that is its
        # own transaction, so the pool row is locked only while PostgreSQL runs it: it takes the
        # seat, or refuses when the rules below could find none either.
        with acting_as(acting_user or user) as context:
            try:
                attempt = _take(requirements[0], holder=holder, context=context, now=now, day=day)
            except IntegrityError:  # the user's other login took a seat there at this moment
                attempt = None
        if attempt is not None and attempt.taken is not None:
            return _with_peaks([attempt.taken], day=day)
        if attempt is not None and attempt.only_refusal:
            denial_record(user=user, requirement=requirements[0], refused=attempt.refusal)
            raise attempt.refusal
    requirement = None
    try:
        with transaction.atomic(durable=True), acting_as(acting_user or user) as context:
            # Locks the user's row: two logins of one user take turns, the second sees the first.
            requirements = on_server(user_seat_requirements(user=user, lock=True))
            held = {lease.server_id: lease for lease in _leases_held(user)}
            taken = []
            for requirement in requirements:
                taken.append(
                    _seat_on_server(
                        user=user,
                        requirement=requirement,
                        held=held.get(requirement.server_id),
                        holder=holder,
                        context=context,
                        now=now,
                        day=day,
                    )
                )
    except LicenseLimitReached as refused:
        denial_record(user=user, requirement=requirement, refused=refused)
        raise
    return _with_peaks(taken, day=day)


def _seat_on_server(
    *,
    user: User,
    requirement: SeatRequirement,
    held: SeatLease | None,
    holder: _Holder,
    context,
    now: datetime,
    day: date,
) -> _Taken:
    """The rules of a Concurrent login on one server, in order."""
    if (
        held is not None
        and holder.client_id
        and (held.source, held.client_id) == (holder.source, holder.client_id)
        and held.license_type == requirement.license_type
    ):
        return _Taken(held)  # the same API client asking again: the seat it holds
    if held is not None and (held.license_type, held.organization_id) == (
        requirement.license_type,
        requirement.organization_id,
    ):
        if settings.IWP_ALLOW_PARALLEL_SESSIONS:
            return _Taken(held)  # a second session of the user shares the one seat
        if lease_release(
            leases=[held],
            reason=ReleaseReason.SUPERSEDED,
            acting_user=user,
            now=now,
            give_back=False,
        ):  # supersede: the seat passes to the new session, the older one is signed out
            return _Taken(_lease_insert(requirement=requirement, holder=holder, now=now))
    elif held is not None:
        # The user's role or organization changed: the seat held is of the other license, or
        # counts for another organization (its cap, its reserve). Give it back, take afresh.
        lease_release(leases=[held], reason=ReleaseReason.ROLE_CHANGE, acting_user=user, now=now)
    attempt = _take(requirement, holder=holder, context=context, now=now, day=day)
    if attempt.taken is None and lease_release_idle(
        now=now, pool=(requirement.server_id, requirement.license_type)
    ):  # full, but idle sessions or silent API clients hold seats: reclaim them
        attempt = _take(requirement, holder=holder, context=context, now=now, day=day)
    if attempt.taken is None:
        raise attempt.refusal
    return attempt.taken


def _with_peaks(taken: list[_Taken], *, day: date) -> list[SeatLease]:
    """After the commit: raise the day's high-water marks of the pools seats were taken from, and
    record the utilisation thresholds they reached."""
    for t in taken:
        if t.pool_in_use is not None:
            daily_peak_raise(
                day=day,
                server_id=t.lease.server_id,
                license_type=t.lease.license_type,
                method=CONCURRENT,
                server_in_use=t.pool_in_use,
                capacity=t.capacity,
                organization_in_use={t.lease.organization_id: t.organization_in_use},
            )
    return [t.lease for t in taken]


def _take(
    requirement: SeatRequirement, *, holder: _Holder, context, now: datetime, day: date
) -> _Attempt:
    """One statement: a seat from the pool if it has room (within the organization's cap and
    around the others' reserves, in a shared pool) and the user holds none on the server, and the
    lease that holds it; otherwise the refusal, and whether a rule could still find one."""
    params = {
        "server": requirement.server_id,
        "organization": requirement.organization_id,
        "license": requirement.license_type,
        "user": requirement.user_id,
        "session": holder.session_key,
        "source": holder.source,
        "client": holder.client_id,
        "expires": holder.expires_at,
        "now": now,
        "day": day,
        "cutoff": idle_cutoff(now),
        **context_params(context),
    }
    rows = sql.execute(sql.lease_take_sql(), params)
    if not rows:  # no license was ever installed on the server: it has no pools
        server_name = Server.objects.values_list("server_id", flat=True).get(
            pk=requirement.server_id
        )
        return _refused(requirement, server_name, 0, 0, False, False)
    *row, shared = rows[0]
    if row[0] is None and shared and not row[6]:
        # Refused in a shared pool: by the pool, the organization's cap, or the others' reserves?
        refused = share_refusal(
            server_id=requirement.server_id,
            license_type=requirement.license_type,
            method=CONCURRENT,
            organization_id=requirement.organization_id,
            day=day,
        )
        if refused is not None:
            return _Attempt(None, refused, row[6], row[7])
    return _attempt(requirement, row, holder=holder, now=now)


def _attempt(requirement: SeatRequirement, row, *, holder: _Holder, now: datetime) -> _Attempt:
    lease_id, in_use_after, organization_after, pool_in_use, capacity, server_name = row[:6]
    user_holds, idle_held = row[6], row[7]
    if lease_id is not None:
        lease = _lease(requirement=requirement, holder=holder, now=now)
        lease.pk = lease_id
        return _Attempt(
            _Taken(lease, in_use_after, organization_after, capacity), None, False, False
        )
    return _refused(requirement, server_name, pool_in_use, capacity, user_holds, idle_held)


def _refused(
    requirement: SeatRequirement,
    server_name: str,
    pool_in_use: int,
    capacity: int,
    user_holds: bool,
    idle_held: bool,
) -> _Attempt:
    if pool_in_use + 1 <= capacity and not user_holds:
        # The UPDATE decided on a racer's commit that the count read beside it predates.
        pool_in_use = pool_in_use_now(
            server_id=requirement.server_id,
            license_type=requirement.license_type,
            method=CONCURRENT,
        )
    refused = refusal(
        server_name=server_name,
        license_type=requirement.license_type,
        method=CONCURRENT,
        in_use=pool_in_use,
        capacity=capacity,
        advice="Try again when someone logs out.",
    )
    return _Attempt(None, refused, user_holds, idle_held)


def _lease(*, requirement: SeatRequirement, holder: _Holder, now: datetime) -> SeatLease:
    return SeatLease(
        server_id=requirement.server_id,
        organization_id=requirement.organization_id,
        license_type=requirement.license_type,
        user_id=requirement.user_id,
        session_key=holder.session_key,
        source=holder.source,
        client_id=holder.client_id,
        acquired_at=now,
        last_seen_at=now,
        expires_at=holder.expires_at,
    )


def _lease_insert(*, requirement: SeatRequirement, holder: _Holder, now: datetime) -> SeatLease:
    """A lease for a seat already counted in its pool (passed on from an older session)."""
    lease = _lease(requirement=requirement, holder=holder, now=now)
    lease.save()
    return lease


def _leases_held(user: User) -> list[SeatLease]:
    return list(SeatLease.objects.active().filter(user=user))


def denial_record(
    *, user: User | None, requirement: SeatRequirement, refused: LicenseLimitReached
) -> SeatDenial:
    """Record one refused Concurrent seat: who, which license, which server, when.

    One INSERT and no shared counter: refusals come in bursts exactly when seats run out. The
    day's totals per server and organization are counted from these rows.
    """
    return SeatDenial.objects.create(
        server_id=requirement.server_id,
        organization_id=requirement.organization_id,
        license_type=requirement.license_type,
        method=CONCURRENT,
        user=user,
        message=refused.message[:300],
        reason=refused.code,
    )


def lease_attach_session(*, leases, session_key: str) -> None:
    """Name the session that holds the leases (known only once the login has created it)."""
    SeatLease.objects.filter(
        pk__in=[lease.pk for lease in leases], released_at__isnull=True
    ).update(session_key=session_key)
