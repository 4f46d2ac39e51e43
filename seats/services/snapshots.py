"""The daily usage snapshot: licensed and in-use seats per server, organization,
license and method."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from licenses.models import ACCESS_TYPES, COUNTED_TYPES, Entitlement
from licenses.selectors import day_span
from organizations.models import Organization
from seats.models import DailySeatUsage
from seats.selectors import denials_on, seats_in_use, usage_by_server

_KEY_FIELDS = ["day", "server", "organization", "license_type", "method"]


def usage_snapshot_take(*, day: date) -> int:
    """Upsert ``DailySeatUsage`` for ``day``: ``licensed``, and ``in_use`` as held at the end of
    ``day`` (now, for today), from the seats' history; ``peak`` = GREATEST(peak, in_use).

    One row per server, license and method (organization empty: the whole server) and per active
    organization and access license/method (``licensed`` there is the server's count, which its
    organizations share), and ``denials``: the day's SeatDenial rows. The live ``peak`` is kept by
    login; this only raises it. Idempotent; a fixed number of queries. Returns the
    number of rows written.
    """
    licensed: dict[tuple[int, str, str], int] = {}
    for server_id, license_type, method, quantity in (
        Entitlement.objects.valid_on(day)
        .filter(license_type__in=COUNTED_TYPES)
        .values_list("license_file__server_id", "license_type", "method", "quantity")
    ):
        licensed[(server_id, license_type, method)] = quantity

    # A day missed while beat was down is taken from what was held then, never from now.
    _start, end = day_span(day)
    at = min(timezone.now(), end)
    org_use = seats_in_use(at=at)
    server_use = usage_by_server(seats=org_use)

    denied: dict[tuple, int] = defaultdict(int)
    for (server_id, organization_id, license_type, method), n in denials_on(day).items():
        denied[(server_id, organization_id, license_type, method)] += n
        denied[(server_id, None, license_type, method)] += n

    rows: dict[tuple, DailySeatUsage] = {}

    def put(server_id, organization_id, license_type, method, licensed_count, in_use):
        key = (server_id, organization_id, license_type, method)
        rows[key] = DailySeatUsage(
            day=day,
            server_id=server_id,
            organization_id=organization_id,
            license_type=license_type,
            method=method,
            licensed=licensed_count,
            in_use=in_use,
            peak=in_use,
            denials=denied.get(key, 0),
        )

    for key in licensed.keys() | {k for k, n in server_use.items() if n}:
        put(key[0], None, key[1], key[2], licensed.get(key, 0), server_use.get(key, 0))
    access_keys_by_server = defaultdict(set)
    for server_id, license_type, method in licensed:
        if license_type in ACCESS_TYPES:
            access_keys_by_server[server_id].add((license_type, method))
    for org_id, server_id in Organization.objects.active().values_list("id", "server_id"):
        for license_type, method in access_keys_by_server.get(server_id, ()):
            put(
                server_id,
                org_id,
                license_type,
                method,
                licensed[(server_id, license_type, method)],
                0,
            )
    for (server_id, org_id, license_type, method), n in org_use.items():
        put(
            server_id,
            org_id,
            license_type,
            method,
            licensed.get((server_id, license_type, method), 0),
            n,
        )
    for server_id, org_id, license_type, method in (
        denied.keys() - rows.keys()
    ):  # refused where nothing is licensed
        put(
            server_id,
            org_id,
            license_type,
            method,
            licensed.get((server_id, license_type, method), 0),
            0,
        )

    with transaction.atomic(durable=True):
        # Seats released since an earlier snapshot today leave no row behind: start the
        # day's counts from zero.
        DailySeatUsage.objects.filter(day=day).update(in_use=0, denials=0)
        DailySeatUsage.objects.bulk_create(
            rows.values(),
            batch_size=5000,
            update_conflicts=True,
            unique_fields=_KEY_FIELDS,
            update_fields=["licensed", "in_use", "denials"],
        )
        DailySeatUsage.objects.filter(day=day, peak__lt=F("in_use")).update(peak=F("in_use"))
    return len(rows)
