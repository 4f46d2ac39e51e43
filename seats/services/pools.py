"""The pieces both seat methods share: the pool counter, releasing rows exactly once, the audit
records of bulk writes, and the live upkeep of DailySeatUsage's peak.

Only seats/services/assignments.py and seats/services/leases/ call these.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime

from auditlog.cid import get_cid
from auditlog.context import auditlog_value
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from licenses.exceptions import LicenseLimitReached
from licenses.models import LicenseType, Method
from licenses.selectors import entitlement_valid

from ..models import DailySeatUsage, SeatAssignment, SeatLease, SeatPool
from ..prepared import hot_cursor

SEAT_MODEL = {Method.ASSIGNABLE.value: SeatAssignment, Method.CONCURRENT.value: SeatLease}


def license_label(license_type: str, method: str) -> str:
    return f"{LicenseType(license_type).label} {Method(method).label}"


def capacity(*, server_id: int, license_type: str, method: str, day: date) -> int:
    """Seats enforcement allows on ``day``: the valid entitlement's quantity plus overage, 0 without one."""
    entitlement = entitlement_valid(
        server=server_id, license_type=license_type, method=method, day=day
    )
    return entitlement.capacity if entitlement else 0


def _pool_create(
    *, server_id: int, license_type: str, method: str, inserted_uncounted: int = 0
) -> None:
    """Create the pool row once, starting from the seats already held (concurrent creators: one wins).

    ``inserted_uncounted``: seats the caller's transaction has inserted and is about to take.
    """
    in_use = (
        SEAT_MODEL[method]
        .objects.active()
        .filter(server_id=server_id, license_type=license_type)
        .count()
    )
    in_use -= inserted_uncounted
    try:
        with transaction.atomic():
            SeatPool.objects.create(
                server_id=server_id, license_type=license_type, method=method, in_use=in_use
            )
    except IntegrityError:
        pass


def pool_take(
    *,
    server_id: int,
    license_type: str,
    method: str,
    seats: int,
    capacity: int,
    inserted_uncounted: int = 0,
) -> tuple[bool, int]:
    """Take ``seats`` seats if they fit under ``capacity``: one conditional UPDATE decides.

    Returns (taken, in use after). The row lock the UPDATE takes is held to the end of the
    caller's transaction, so racing takers of the last seat are serialized by PostgreSQL.
    """
    table = SeatPool._meta.db_table
    lookup = {"server_id": server_id, "license_type": license_type, "method": method}
    for _attempt in range(5):
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET in_use = in_use + %s "
                "WHERE server_id = %s AND license_type = %s AND method = %s AND in_use + %s <= %s RETURNING in_use",
                [seats, server_id, license_type, method, seats, capacity],
            )
            row = cursor.fetchone()
        if row is not None:
            return True, row[0]
        # Full, or the row was created after the UPDATE's snapshot: look without locking (a refusal
        # must not queue on the pool row lock behind the winners).
        current = SeatPool.objects.filter(**lookup).values_list("in_use", flat=True).first()
        if current is None:
            _pool_create(**lookup, inserted_uncounted=inserted_uncounted)
        elif current + seats > capacity:
            return False, current
    # Still undecided after racing creators: decide under the row lock.
    pool = SeatPool.objects.select_for_update().get(**lookup)
    if pool.in_use + seats > capacity:
        return False, pool.in_use
    SeatPool.objects.filter(pk=pool.pk).update(in_use=F("in_use") + seats)
    return True, pool.in_use + seats


def pool_give_back(released: Counter) -> None:
    """Return released seats to their pools; ``released`` counts seats per (server id, license, method)."""
    for (server_id, license_type, method), n in sorted(released.items()):
        SeatPool.objects.filter(
            server_id=server_id, license_type=license_type, method=method
        ).update(in_use=F("in_use") - n)


def refusal(
    *,
    server,
    license_type: str,
    method: str,
    in_use: int,
    capacity: int,
    wanted: int = 1,
    who: str = "",
) -> LicenseLimitReached:
    """The refusal every seat path raises: names the license, the server and "N of N in use"."""
    label = license_label(license_type, method)
    if wanted == 1:
        message = (
            f"No {label} seat is free on server {server.server_id}: {in_use} of {capacity} in use."
            + (f" {who}" if who else "")
        )
    else:
        missing = in_use + wanted - capacity
        message = (
            f"Not enough {label} seats on server {server.server_id}: {wanted} needed, {max(capacity - in_use, 0)} free "
            f"({in_use} of {capacity} in use), {missing} seat{'s' if missing != 1 else ''} missing."
        )
    return LicenseLimitReached(
        message,
        server_id=server.server_id,
        license_type=license_type,
        method=method,
        in_use=in_use,
        capacity=capacity,
    )


def current_actor(acting_user):
    if acting_user is not None and getattr(acting_user, "is_authenticated", False):
        return acting_user
    try:
        actor = auditlog_value.get().get("actor")
    except LookupError:
        return None
    return actor if getattr(actor, "is_authenticated", False) else None


def _stringify(value) -> str:
    return "None" if value is None else str(value)


def audit_bulk(objects, *, action: int, changes_of, acting_user=None) -> None:
    """One audit-trail record per object, written in one INSERT (bulk writes bypass auditlog's signals)."""
    objects = list(objects)
    if not objects:
        return
    actor = current_actor(acting_user)
    try:
        context = auditlog_value.get()
    except LookupError:
        context = {}
    content_type = ContentType.objects.get_for_model(type(objects[0]))
    cid = get_cid()
    LogEntry.objects.bulk_create(
        LogEntry(
            content_type=content_type,
            object_pk=str(obj.pk),
            object_id=obj.pk,
            object_repr=str(obj),
            action=action,
            changes={k: [_stringify(a), _stringify(b)] for k, (a, b) in changes_of(obj).items()},
            actor=actor,
            actor_email=getattr(actor, "email", None) if actor else None,
            remote_addr=context.get("remote_addr"),
            cid=cid,
        )
        for obj in objects
    )


def release_rows(
    queryset,
    *,
    reason: str,
    acting_user=None,
    now: datetime | None = None,
    give_back: bool = True,
    ids_sql: tuple[str, list] | None = None,
) -> list:
    """Release the active seats of ``queryset`` (SeatAssignment or SeatLease) exactly once each.

    One conditional UPDATE (``released_at IS NULL``) decides which rows this call releases; a
    racing release of the same seat gets nothing back and changes nothing. The pools get the
    seats back, and each release gets an audit record naming who did it. Returns the released rows.
    ``ids_sql`` (PostgreSQL only) is the same selection as plain SQL, for hot paths such as logout.
    """
    model = queryset.model
    method = Method.ASSIGNABLE.value if model is SeatAssignment else Method.CONCURRENT.value
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        return _release_rows_pg(
            queryset,
            method=method,
            reason=reason,
            acting_user=acting_user,
            now=now,
            give_back=give_back,
            ids_sql=ids_sql,
        )
    related = ["user", "station"] if model is SeatAssignment else ["user"]
    candidates = {
        obj.pk: obj for obj in queryset.filter(released_at__isnull=True).select_related(*related)
    }
    if not candidates:
        return []
    actor = current_actor(acting_user)
    table = model._meta.db_table
    ids = list(candidates)
    placeholders = ", ".join(["%s"] * len(ids))
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET released_at = %s, release_reason = %s, released_by_id = %s "
                f"WHERE id IN ({placeholders}) AND released_at IS NULL RETURNING id",
                [now, reason, actor.pk if actor else None, *ids],
            )
            released_ids = [row[0] for row in cursor.fetchall()]
        released = []
        for pk in released_ids:
            obj = candidates[pk]
            obj.released_at, obj.release_reason, obj.released_by = now, reason, actor
            released.append(obj)
        if give_back:
            pool_give_back(Counter((o.server_id, o.license_type, method) for o in released))
        _audit_released(released, actor)
    return released


def _audit_released(released, actor):
    audit_bulk(
        released,
        action=LogEntry.Action.UPDATE,
        acting_user=actor,
        changes_of=lambda o: {
            "released_at": (None, o.released_at),
            "release_reason": ("", o.release_reason),
            "released_by": (None, o.released_by_id),
        },
    )


def audit_context(acting_user=None) -> dict:
    """The actor and request details an audit record written by SQL carries (as auditlog's own would)."""
    actor = current_actor(acting_user)
    try:
        context = auditlog_value.get()
    except LookupError:
        context = {}
    return {
        "actor": actor,
        "actor_id": actor.pk if actor else None,
        "actor_email": getattr(actor, "email", None) if actor else None,
        "cid": get_cid(),
        "remote_addr": context.get("remote_addr"),
    }


def _release_rows_pg(
    queryset, *, method, reason, acting_user, now, give_back, ids_sql=None
) -> list:
    """PostgreSQL, one statement: release the rows still held, write one audit record each, give the
    seats back to their pools, and return the holders' names."""
    from organizations.models import Organization, Station, User

    model = queryset.model
    audit = audit_context(acting_user)
    actor = audit["actor"]
    if ids_sql is not None:
        sub_sql, sub_params = ids_sql
    else:
        sub_sql, sub_params = (
            queryset.filter(released_at__isnull=True)
            .order_by()
            .values("pk")
            .query.sql_with_params()
        )
    is_assignment = model is SeatAssignment
    holder_cols = "user_id, station_id" if is_assignment else "user_id, session_key"
    joins = (
        " LEFT JOIN organizations_station s ON s.id = rel.station_id"
        " LEFT JOIN organizations_organization o ON o.id = s.organization_id"
        if is_assignment
        else ""
    )
    names = ", s.name AS station_name, o.name AS org_name" if is_assignment else ""
    holder = (
        "COALESCE(named.username, named.station_name || ' (' || named.org_name || ')')"
        if is_assignment
        else "named.username"
    )
    changes = {
        "released_at": ["None", str(now)],
        "release_reason": ["", str(reason)],
        "released_by": ["None", str(actor.pk) if actor else "None"],
    }
    sql = (
        f"WITH rel AS (UPDATE {model._meta.db_table} SET released_at = %s, release_reason = %s, released_by_id = %s "
        f"WHERE id IN ({sub_sql}) AND released_at IS NULL "
        f"RETURNING id, server_id, organization_id, license_type, {holder_cols}), "
        f"named AS (SELECT rel.*, u.username AS username{names} FROM rel "
        f"LEFT JOIN organizations_user u ON u.id = rel.user_id{joins}), "
        "log AS (INSERT INTO auditlog_logentry (content_type_id, object_pk, object_id, object_repr, action, changes, "
        "changes_text, actor_id, actor_email, cid, remote_addr, timestamp) "
        "SELECT %s, named.id::text, named.id, "
        f"(CASE named.license_type WHEN 'agent' THEN %s ELSE %s END) || ' → ' || COALESCE({holder}, ''), "
        "%s, %s::jsonb, '', %s::integer, %s, %s, %s::inet, %s FROM named), "
        "back AS (UPDATE seats_seatpool p SET in_use = p.in_use - c.n "
        "FROM (SELECT server_id, license_type, count(*) AS n FROM rel GROUP BY server_id, license_type) c "
        "WHERE %s AND p.server_id = c.server_id AND p.license_type = c.license_type AND p.method = %s) "
        "SELECT * FROM named ORDER BY id"
    )
    params = [
        now,
        reason,
        audit["actor_id"],
        *sub_params,
        ContentType.objects.get_for_model(model).pk,
        str(LicenseType.AGENT.label),
        str(LicenseType.SUPERVISOR.label),
        LogEntry.Action.UPDATE,
        json.dumps(changes),
        audit["actor_id"],
        audit["actor_email"],
        audit["cid"],
        audit["remote_addr"],
        now,
        give_back,
        method,
    ]
    # The hot path (logout) names its rows in plain SQL and runs prepared; a queryset's SQL, compiled
    # by the ORM for client-side binding, runs on Django's own cursor.
    with hot_cursor() if ids_sql is not None else connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    released = []
    for row in rows:
        pk, server_id, organization_id, license_type, user_id, extra, username = row[:7]
        obj = model(
            pk=pk,
            server_id=server_id,
            organization_id=organization_id,
            license_type=license_type,
            released_at=now,
            release_reason=reason,
            released_by=actor,
        )
        if user_id is not None:
            obj.user = User(pk=user_id, username=username)
        if is_assignment:
            if extra is not None:
                obj.station = Station(pk=extra, name=row[7], organization=Organization(name=row[8]))
        else:
            obj.session_key = extra
        released.append(obj)
    return released


def bump_daily_usage(
    *,
    day: date,
    server_id: int,
    organization_id: int | None,
    license_type: str,
    method: str,
    **updates,
) -> None:
    key = {"day": day, "server_id": server_id, "license_type": license_type, "method": method}
    key["organization_id"] = organization_id
    lookup = {**key}
    if organization_id is None:
        del lookup["organization_id"]
        lookup["organization__isnull"] = True
    expressions = {
        "peak": lambda v: Greatest("peak", Value(v)),
    }
    update = {field: expressions[field](value) for field, value in updates.items()}
    if DailySeatUsage.objects.filter(**lookup).update(**update):
        return
    try:
        with transaction.atomic():
            DailySeatUsage.objects.create(**key, **updates)
    except IntegrityError:  # created meanwhile by a racer: update it
        DailySeatUsage.objects.filter(**lookup).update(**update)


def daily_usage_raise_peak(
    *,
    day: date,
    server_id: int,
    license_type: str,
    method: str,
    server_in_use: int,
    organization_in_use: dict[int, int],
) -> None:
    """Raise today's high-water mark of seats in use for the server and for each organization given.

    The server row (organization empty) is updated first, then organizations in id order, so that
    concurrent writers take the row locks in one order.
    """
    for organization_id, n in [(None, server_in_use), *sorted(organization_in_use.items())]:
        key = (day, server_id, organization_id, license_type, method)
        if _peak_written.get(key, -1) >= n:
            continue  # this process already raised it at least this high today: GREATEST() would not change it
        with transaction.atomic():
            bump_daily_usage(
                day=day,
                server_id=server_id,
                organization_id=organization_id,
                license_type=license_type,
                method=method,
                peak=n,
            )
        transaction.on_commit(
            lambda key=key, n=n: _peak_written.__setitem__(key, max(n, _peak_written.get(key, -1)))
        )


# Per process: the peaks this process has committed (a lower bound of the stored peak, so skipping is safe).
_peak_written: dict[tuple, int] = {}


def organization_in_use(*, method: str, license_type: str, organization_ids) -> dict[int, int]:
    """Seats of that license and method held now per organization (one GROUP BY)."""
    from django.db.models import Count

    rows = (
        SEAT_MODEL[method]
        .objects.active()
        .filter(organization_id__in=list(organization_ids), license_type=license_type)
        .values("organization_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {r["organization_id"]: r["n"] for r in rows}
