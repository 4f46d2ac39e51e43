"""Assignable seats: given to a user or a station by an administrator, held until released.

Every assignment takes its seats from the server's pool with one conditional UPDATE
(seats/sql.py), in the transaction that inserts the SeatAssignment rows: a selection
that does not fit is refused whole, saying how many seats are missing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from licenses.audit import acting_as
from licenses.exceptions import LicenseLimitReached
from licenses.models import LicenseType, Method
from organizations.models import Server, Station, User

from .. import sql
from ..models import ReleaseReason, SeatAssignment
from ..rules import seat_requirements
from ..selectors import seats_in_use
from .leases import lease_release
from .pools import (
    daily_peak_raise,
    pool_take,
    refusal,
    released_summary,
    seats_release,
)
from .shares import pool_lock, share_refusal

ASSIGNABLE = Method.ASSIGNABLE.value


@dataclass
class AssignResult:
    """What a (bulk) assignment did: seats given, users who already held theirs, users
    left out and why."""

    assigned: list[SeatAssignment] = field(default_factory=list)
    already: list[User] = field(default_factory=list)
    skipped: list[tuple[User, str]] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{len(self.assigned)} seat{'s' if len(self.assigned) != 1 else ''} assigned"]
        if self.already:
            parts.append(f"{len(self.already)} already held one")
        for user, why in self.skipped:
            parts.append(f"{user.get_username()} skipped: {why}")
        return "; ".join(parts) + "."


def _take(*, wanted: Counter, day: date) -> dict[tuple[int, str], tuple[int, int]]:
    """Take ``wanted`` seats per (server id, license, organization id) from the pools, in one
    order; all or nothing. A shared pool checks each organization's cap and the others' reserves
    under the pool's lock.

    Raises LicenseLimitReached listing every pool (or organization) that is short. Returns the
    seats in use per pool after the take, and the pool's capacity.
    """
    by_pool: dict[tuple[int, str], Counter] = defaultdict(Counter)
    for (server_id, license_type, organization_id), n in wanted.items():
        by_pool[(server_id, license_type)][organization_id] += n
    in_use_after = {}
    short, errors = [], []
    for (server_id, license_type), per_org in sorted(by_pool.items()):
        n = sum(per_org.values())
        taken, in_use, capacity, shared = pool_take(
            server_id=server_id, license_type=license_type, per_organization=per_org, day=day
        )
        if not taken and shared:
            pool_lock(server_id=server_id, license_type=license_type, method=ASSIGNABLE)
            pending: Counter = Counter()
            refused = []
            for organization_id, seats in sorted(per_org.items()):
                refusal_ = share_refusal(
                    server_id=server_id,
                    license_type=license_type,
                    method=ASSIGNABLE,
                    organization_id=organization_id,
                    seats=seats,
                    pending=dict(pending),
                    day=day,
                )
                if refusal_ is not None:
                    refused.append(refusal_)
                pending[organization_id] += seats
            if refused:
                errors.extend(refused)
                continue
            taken, in_use, capacity, _ = pool_take(
                server_id=server_id,
                license_type=license_type,
                per_organization=per_org,
                day=day,
                shared=True,
            )
        if taken:
            in_use_after[(server_id, license_type)] = (in_use, capacity)
        else:
            short.append((server_id, license_type, n, in_use, capacity))
    if short:
        servers = Server.objects.in_bulk([s[0] for s in short])
        errors += [
            refusal(
                server_name=servers[sid].server_id,
                license_type=lt,
                method=ASSIGNABLE,
                in_use=in_use,
                capacity=capacity,
                wanted=n,
            )
            for sid, lt, n, in_use, capacity in short
        ]
    if errors:
        first = errors[0]
        raise LicenseLimitReached(
            " ".join(e.message for e in errors) + " Nothing was assigned.",
            server_id=first.server_id,
            license_type=first.license_type,
            method=ASSIGNABLE,
            in_use=first.in_use,
            capacity=first.capacity,
            code=first.code,
        )
    return in_use_after


def _count_peaks(assignments: list[SeatAssignment], in_use_after: dict, day: date) -> list[dict]:
    """Inside the assigning transaction: the seats in use per server and organization after it."""
    orgs_by_pool = defaultdict(set)
    for a in assignments:
        orgs_by_pool[(a.server_id, a.license_type)].add(a.organization_id)
    held = seats_in_use(
        organization_ids={a.organization_id for a in assignments}, method=ASSIGNABLE
    )
    return [
        dict(
            day=day,
            server_id=server_id,
            license_type=license_type,
            method=ASSIGNABLE,
            server_in_use=in_use_after[(server_id, license_type)][0],
            capacity=in_use_after[(server_id, license_type)][1],
            organization_in_use={
                org: held.get((server_id, org, license_type, ASSIGNABLE), 0) for org in orgs
            },
        )
        for (server_id, license_type), orgs in sorted(orgs_by_pool.items())
    ]


def _write_peaks(peaks: list[dict]) -> None:
    """After the commit (GREATEST commutes): the usage rows are never locked while a pool row is."""
    for peak in peaks:
        daily_peak_raise(**peak)


def seat_assign_bulk(
    *,
    users,
    acting_user: User | None = None,
    server_ids: Collection[int] | None = None,
) -> AssignResult:
    """Give each Assigned user of ``users`` the Assignable seat they need on each of their servers
    (on ``server_ids`` only, when given).

    All or nothing: when the selection does not fit, nothing is assigned and LicenseLimitReached
    says how many seats are missing. Concurrent users and users without an active organization
    are skipped (and listed). A user holding a seat of the wrong license (their role changed)
    has it replaced. A constant number of queries, whatever the selection size.
    """
    day = timezone.localdate()
    users = list(users)
    result = AssignResult()
    by_id = {u.pk: u for u in users}
    with transaction.atomic(), acting_as(acting_user):
        actor = acting_user
        requirements = seat_requirements(
            user_ids=[u.pk for u in users if u.license_method == User.LicenseMethod.ASSIGNED]
        )
        if server_ids is not None:
            requirements = {
                uid: kept
                for uid, reqs in requirements.items()
                if (kept := [r for r in reqs if r.server_id in server_ids])
            }
        for user in users:
            if user.license_method != User.LicenseMethod.ASSIGNED:
                result.skipped.append((user, "a Concurrent user takes a seat when logging in"))
            elif user.pk not in requirements:
                result.skipped.append((user, "no membership in an active organization"))
        held = {
            (a.user_id, a.server_id): a
            for a in SeatAssignment.objects.active()
            .filter(user_id__in=list(requirements))
            .select_for_update()
        }
        to_create, wrong = [], []
        for reqs in requirements.values():
            for req in reqs:
                current = held.get((req.user_id, req.server_id))
                if current is not None and current.license_type == req.license_type:
                    continue
                if current is not None:
                    wrong.append(current.pk)
                to_create.append(req)
        creating = {r.user_id for r in to_create}
        result.already = [by_id[uid] for uid in requirements if uid not in creating]
        if wrong:
            _release(wrong, reason=ReleaseReason.ROLE_CHANGE, acting_user=actor)
        if not to_create:
            return result
        wanted = Counter(
            (req.server_id, req.license_type, req.organization_id) for req in to_create
        )
        in_use_after = _take(wanted=wanted, day=day)
        try:
            with transaction.atomic():
                created = SeatAssignment.objects.bulk_create(
                    SeatAssignment(
                        server_id=r.server_id,
                        organization_id=r.organization_id,
                        license_type=r.license_type,
                        user=by_id[r.user_id],
                        assigned_by=actor,
                    )
                    for r in to_create
                )
        except IntegrityError:
            raise LicenseLimitReached(
                "Another administrator assigned seats to some of these users at the same moment; "
                "nothing was assigned. Try again.",
                server_id="",
                license_type="",
                method=ASSIGNABLE,
            ) from None
        peaks = _count_peaks(created, in_use_after, day)
        result.assigned = created
    _write_peaks(peaks)
    return result


def seat_assign(
    *,
    user: User | None = None,
    station: Station | None = None,
    license_type: str | None = None,
    acting_user: User | None = None,
) -> list[SeatAssignment]:
    """Assign an Assignable seat to a user (the license their role needs) or to a station
    (``license_type``, default Agent).

    Raises LicenseLimitReached (license, server, "N of N in use") when none is free;
    nothing changes then.
    """
    if (user is None) == (station is None):
        raise ValueError("seat_assign needs a user or a station")
    if user is not None:
        result = seat_assign_bulk(users=[user], acting_user=acting_user)
        if result.skipped:
            raise ValueError(f"{user.get_username()}: {result.skipped[0][1]}.")
        return result.assigned or list(SeatAssignment.objects.active().filter(user=user))
    day = timezone.localdate()
    license_type = license_type or LicenseType.AGENT.value
    server_id = (
        Station.objects.filter(pk=station.pk)
        .values_list("organization__server_id", flat=True)
        .get()
    )
    with transaction.atomic(), acting_as(acting_user):
        actor = acting_user
        existing = (
            SeatAssignment.objects.active()
            .filter(station=station, license_type=license_type)
            .first()
        )
        if existing is not None:
            return [existing]
        in_use_after = _take(
            wanted=Counter({(server_id, license_type, station.organization_id): 1}), day=day
        )
        assignment = SeatAssignment.objects.create(
            server_id=server_id,
            organization_id=station.organization_id,
            license_type=license_type,
            station=station,
            assigned_by=actor,
        )
        peaks = _count_peaks([assignment], in_use_after, day)
    _write_peaks(peaks)
    return [assignment]


def seat_release(
    *,
    assignments=None,
    user: User | None = None,
    station: Station | None = None,
    license_type: str | None = None,
    reason: str = ReleaseReason.UNASSIGNED,
    acting_user: User | None = None,
) -> list[SeatAssignment]:
    """Release Assignable seats (given ones, or all of a user or a station, or only those of
    ``license_type``) exactly once each; returns those released."""
    qs = SeatAssignment.objects.active()
    if license_type:
        qs = qs.filter(license_type=license_type)
    if assignments is not None:
        qs = qs.filter(pk__in=[getattr(a, "pk", a) for a in assignments])
    if user is not None:
        qs = qs.filter(user=user)
    if station is not None:
        qs = qs.filter(station=station)
    if assignments is None and user is None and station is None:
        raise ValueError("seat_release needs assignments, a user or a station")
    with transaction.atomic():
        return _release(qs.values_list("pk", flat=True), reason=reason, acting_user=acting_user)


def user_seats_release(*, user: User, acting_user: User | None = None) -> list:
    """An administrator frees every seat ``user`` holds: Assignable ones (unassigned) and Concurrent
    ones (released by an administrator, which signs those sessions out), in one transaction."""
    with transaction.atomic():
        released = seat_release(user=user, acting_user=acting_user)
        return released + lease_release(
            user=user, reason=ReleaseReason.ADMIN, acting_user=acting_user
        )


def seat_release_bulk(*, users, acting_user: User | None = None) -> list[SeatAssignment]:
    """Release every Assignable seat of the selected users (one UPDATE)."""
    with transaction.atomic():
        return _release(
            SeatAssignment.objects.active()
            .filter(user__in=list(users))
            .values_list("pk", flat=True),
            reason=ReleaseReason.UNASSIGNED,
            acting_user=acting_user,
        )


def _release(ids, *, reason: str, acting_user: User | None) -> list[SeatAssignment]:
    return seats_release(
        SeatAssignment,
        where=sql.RELEASE_BY_IDS,
        params={"ids": list(ids)},
        reason=reason,
        acting_user=acting_user,
    )


def user_change_method(*, user: User, method: str, acting_user: User | None = None) -> str:
    """Make ``user`` an Assigned or Concurrent user, releasing their seats of the old method in
    the same transaction.

    Returns a sentence saying what changed, e.g.
    "bob is now an Assigned user; 1 Concurrent seat released."
    """
    with transaction.atomic(), acting_as(acting_user):
        locked = User.objects.select_for_update().get(pk=user.pk)
        old = locked.license_method
        article = "an" if method == User.LicenseMethod.ASSIGNED else "a"
        if old == method:
            return (
                f"{locked.get_username()} is already {article} "
                f"{locked.get_license_method_display()} user."
            )
        locked.license_method = method
        locked.save(update_fields=["license_method"])
        if old == User.LicenseMethod.ASSIGNED:
            released = seat_release(
                user=locked, reason=ReleaseReason.METHOD_CHANGE, acting_user=acting_user
            )
            kind = "Assignable"
        else:
            released = lease_release(
                user=locked, reason=ReleaseReason.METHOD_CHANGE, acting_user=acting_user
            )
            kind = "Concurrent"
    user.license_method = method
    label = locked.get_license_method_display()
    n = len(released)
    detail = released_summary(released)
    return (
        f"{locked.get_username()} is now {article} {label} user; "
        f"{n} {kind} seat{'s' if n != 1 else ''} released"
        + (f" ({detail})" if detail else "")
        + "."
    )


__all__ = [
    "AssignResult",
    "seat_assign",
    "seat_assign_bulk",
    "seat_release",
    "seat_release_bulk",
    "user_change_method",
    "user_seats_release",
]
