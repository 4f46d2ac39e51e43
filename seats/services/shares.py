"""Fair sharing of a pool between the organizations of a server: reserves and caps (PoolShare).

A reserve is seats only its organization may take; a cap is the most seats an organization may
hold. Both are decided on the pool row, which counts the seats each organization holds
(``SeatPool.organization_in_use``, kept by every take and release): a Concurrent check-out is one
statement whatever the pool (seats/sql.py ``lease_take_sql``), and PostgreSQL re-checks a waiting
take's conditions on the row its racer committed. An Assignable assignment, which may take seats
for several organizations at once, checks each under the pool row's lock (pool_lock), then takes.
``SeatPool.shared`` says whether a pool has shares at all.
"""

from __future__ import annotations

import json
from datetime import date

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from licenses.audit import acting_as
from licenses.exceptions import LicenseLimitReached
from licenses.models import Entitlement, Method, license_label
from organizations.models import Organization, User

from .. import sql
from ..models import PoolShare, SeatPool
from .alerts import caps_forget
from .pools import refusal


def pool_lock(*, server_id: int, license_type: str, method: str) -> None:
    """Hold the pool row to the end of the caller's transaction."""
    sql.execute(sql.pool_lock_sql(method), {"server": server_id, "license": license_type})


def share_refusal(
    *,
    server_id: int,
    license_type: str,
    method: str,
    organization_id: int,
    day: date,
    seats: int = 1,
    pending: dict[int, int] | None = None,
) -> LicenseLimitReached | None:
    """The refusal of ``seats`` seats of a shared pool for the organization, or None when they
    fit its cap, the pool and the other organizations' unused reserves. Exact under pool_lock;
    without it, it names the reason of a refusal the take statement has just made.

    ``pending``: seats taken for organizations earlier in the same transaction, not yet written.
    ``day``: the take's day, whose entitlement in force gives the pool's capacity (every caller
    has it already, as the take statement decided on it).
    """
    pending = pending or {}
    in_use, capacity, cap, held, others_unused = sql.execute(
        sql.share_check_sql(method),
        {
            "server": server_id,
            "license": license_type,
            "organization": organization_id,
            "pending": json.dumps({str(k): v for k, v in pending.items()}),
            "day": day,
        },
    )[0]
    in_use += sum(pending.values())
    fits_cap = cap is None or held + seats <= cap
    if fits_cap and in_use + seats + others_unused <= capacity:
        return None
    organization = Organization.objects.select_related("server").get(pk=organization_id)
    server_name, label = organization.server.server_id, license_label(license_type, method)
    if in_use + seats > capacity:
        return refusal(
            server_name=server_name,
            license_type=license_type,
            method=method,
            in_use=in_use,
            capacity=capacity,
            wanted=seats,
            advice="Try again when someone logs out." if method == Method.CONCURRENT else "",
        )
    if not fits_cap:
        return LicenseLimitReached(
            f"{organization.name} is at its cap of {cap} {label} seats on server {server_name}: "
            f"{held} of {cap} in use"
            + (f", {seats} more asked for" if seats > 1 else "")
            + ". Try again when one of its seats is given back, or ask an administrator to "
            "raise the cap.",
            server_id=server_name,
            license_type=license_type,
            method=method,
            in_use=held,
            capacity=cap,
            code="cap_reached",
        )
    free = capacity - in_use
    return LicenseLimitReached(
        f"No {label} seat is free for {organization.name} on server {server_name}: "
        f"{in_use} of {capacity} in use, and the {free} free "
        f"seat{'s are' if free != 1 else ' is'} held in reserve for other organizations "
        f"({others_unused} reserved and unused).",
        server_id=server_name,
        license_type=license_type,
        method=method,
        in_use=in_use,
        capacity=capacity,
        code="reserved_elsewhere",
    )


def pool_share_check(
    *,
    organization: Organization,
    license_type: str,
    method: str,
    reserve: int,
    cap: int | None,
) -> None:
    """Raise ValueError, naming the pool and what to do, when the share cannot be set: a reserve
    larger than the cap, or reserves adding up to more than the pool's capacity today."""
    if reserve < 0 or (cap is not None and cap < 0):
        raise ValueError("A reserve and a cap are whole numbers of seats, 0 or more.")
    if cap is not None and reserve > cap:
        raise ValueError(
            f"The reserve ({reserve}) of {organization.name} cannot be larger than its cap ({cap})."
        )
    if not reserve:
        return
    server_id = organization.server_id
    entitlement = (
        Entitlement.objects.valid_on(timezone.localdate())
        .filter(license_file__server_id=server_id, license_type=license_type, method=method)
        .first()
    )
    capacity = entitlement.capacity if entitlement is not None else 0
    others = (
        PoolShare.objects.filter(
            organization__server_id=server_id,
            organization__is_active=True,
            license_type=license_type,
            method=method,
        )
        .exclude(organization=organization)
        .aggregate(total=Sum("reserve"))["total"]
        or 0
    )
    if others + reserve > capacity:
        raise ValueError(
            f"The reserves of the {license_label(license_type, method)} pool on server "
            f"{organization.server.server_id} would add up to {others + reserve}, more than its "
            f"{capacity} seats (other organizations reserve {others}). Lower a reserve or "
            "license more seats."
        )


def pool_share_set(
    *,
    organization: Organization,
    license_type: str,
    method: str,
    reserve: int = 0,
    cap: int | None = None,
    acting_user: User | None,
) -> PoolShare | None:
    """Set (or, with no reserve and no cap, remove) an organization's share of a pool.

    Refused with ValueError (pool_share_check) naming the pool. The pool row is locked meanwhile,
    so two administrators cannot together over-reserve it.
    """
    server_id = organization.server_id
    with transaction.atomic(), acting_as(acting_user):
        pool_lock(server_id=server_id, license_type=license_type, method=method)
        pool_share_check(
            organization=organization,
            license_type=license_type,
            method=method,
            reserve=reserve,
            cap=cap,
        )
        if not reserve and cap is None:
            PoolShare.objects.filter(
                organization=organization, license_type=license_type, method=method
            ).delete()
            share = None
        else:
            share, _ = PoolShare.objects.update_or_create(
                organization=organization,
                license_type=license_type,
                method=method,
                defaults={"reserve": reserve, "cap": cap},
            )
        shared = PoolShare.objects.filter(
            organization__server_id=server_id, license_type=license_type, method=method
        ).exists()
        SeatPool.objects.filter(
            server_id=server_id, license_type=license_type, method=method
        ).update(shared=shared)
        transaction.on_commit(caps_forget)  # this process's alerts use the new cap at once
    return share
