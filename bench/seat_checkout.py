"""Seat check-out under contention: the service the login view uses, beside the
same work in raw SQL.

K Concurrent seats, N worker processes (separate connections) logging in and out for a fixed
time. The service path calls lease_acquire / lease_release (as SeatLoginView and SeatLogoutView
do); the raw path runs one conditional ``UPDATE seats_seatpool ... WHERE in_use < K`` plus the
INSERT of the lease (and the release UPDATEs) on the same tables, with the audit trail's triggers
off (``session_replication_role = replica``); the raw+audit path keeps the triggers on (an audit
record at take and at release, as for every writer) and adds a denial row when refused: the same
database work as the service, so its ratio is the cost of the service layer itself. The
service+shares path is the service with the users in three organizations that have reserves and
caps (seats.PoolShare), so every take goes through the shared pool's lock. A sampler process counts
the active seats (and each organization's) from its own connection throughout; the most ever held
must be <= K, and no organization above its cap.

Usage (PostgreSQL; the database is created and migrated if needed, and its seat data reset):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/iwp_bench \
        .venv/bin/python bench/seat_checkout.py [--seats 8] [--workers 32] [--seconds 10]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iwp_licensing.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/iwp_bench")

import django  # noqa: E402

SERVER_ID = "CIC-BENCH"


def setup(seats: int, workers: int):
    from benchdb import ensure_database
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.conf import settings

    from licenses.licensefile import public_key_b64
    from organizations.models import Membership, Organization, Server, User
    from seats.models import DailySeatUsage, PoolShare, SeatDenial, SeatLease, SeatPool
    from tests.factories import install_license

    ensure_database()
    SeatLease.objects.filter(server__server_id=SERVER_ID).delete()
    SeatDenial.objects.filter(server__server_id=SERVER_ID).delete()
    DailySeatUsage.objects.filter(server__server_id=SERVER_ID).delete()
    SeatPool.objects.filter(server__server_id=SERVER_ID).delete()
    key = Ed25519PrivateKey.generate()
    settings.IWP_LICENSE_PUBLIC_KEYS = [public_key_b64(key.public_key())]
    install_license(
        key,
        server_id=SERVER_ID,
        entitlements=["server", "organization=3", f"agent:concurrent={seats}"],
        serial=f"BENCH-{time.time_ns()}",
    )
    server = Server.objects.get(server_id=SERVER_ID)
    # Three organizations share the pool; the shares run gives them reserves and caps.
    orgs = [
        Organization.objects.get_or_create(server=server, name=name)[0]
        for name in ("Bench", "Bench B", "Bench C")
    ]
    PoolShare.objects.filter(organization__in=orgs).delete()
    users = []
    for i in range(workers):
        user, _ = User.objects.get_or_create(
            username=f"bench{i}", defaults={"license_method": "concurrent"}
        )
        Membership.objects.filter(user=user).exclude(organization=orgs[i % 3]).delete()
        Membership.objects.get_or_create(user=user, organization=orgs[i % 3])
        users.append(user.pk)
    vacuum()
    return server.pk, orgs[0].pk, users, [o.pk for o in orgs]


def shares_set(orgs, seats):
    """The shares run's reserves and caps: the first organization capped at a third of the seats,
    the second with a reserve of a quarter and a cap of half, the third with a reserve of a quarter.
    Returns {org pk: (reserve, cap)}."""
    from organizations.models import Organization
    from seats.services.shares import pool_share_set

    plan = {
        orgs[0]: (0, max(seats // 3, 1)),
        orgs[1]: (seats // 4, max(seats // 2, seats // 4)),
        orgs[2]: (seats // 4, None),
    }
    for pk, (reserve, cap) in plan.items():
        pool_share_set(
            organization=Organization.objects.get(pk=pk),
            license_type="agent",
            method="concurrent",
            reserve=reserve,
            cap=cap,
            acting_user=None,
        )
    return plan


def vacuum():
    """Start each path on clean tables: the reset above and the previous path leave dead rows
    and index entries."""
    from django.db import connection

    connection.close()
    with connection.cursor() as cur:  # autocommit: VACUUM cannot run in a transaction
        for table in (
            "seats_seatlease",
            "seats_seatpool",
            "seats_dailyseatusage",
            "seats_seatdenial",
            "seats_seatleaseevent",
            "pghistory_context",
        ):
            cur.execute(f"VACUUM ANALYZE {table}")
    connection.close()


def service_worker(user_id, seconds, start, out):
    from django.db import connection

    from licenses.exceptions import LicenseLimitReached
    from organizations.models import User
    from seats.services.leases import lease_acquire, lease_release

    user = User.objects.get(pk=user_id)
    lat, denied = [], 0
    start.wait()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        key = secrets.token_hex(16)
        t0 = time.perf_counter()
        try:
            lease_acquire(user=user, session_key=key)
        except LicenseLimitReached:
            denied += 1
            continue
        lat.append(time.perf_counter() - t0)
        lease_release(session_key=key, acting_user=user, end_sessions=False)
    connection.close()
    out.put((lat, denied))


DENIAL_SQL = (
    "INSERT INTO seats_seatdenial "
    "(server_id, organization_id, license_type, method, user_id, message, reason, created_at) "
    "VALUES (%s, %s, 'agent', 'concurrent', %s, 'no seat', 'pool_full', now())"
)


def raw_worker(user_id, seconds, start, out, server_id, org_id, seats, audited=False):
    """The minimal SQL; ``audited`` keeps the audit trail's triggers on (a record when the seat is
    taken and when it is released) and writes a denial when refused."""
    from django.db import connection

    lat, denied = [], 0
    with connection.cursor() as cur:
        if not audited:  # the audit trail's triggers off for this connection
            cur.execute("SET session_replication_role = replica")
        start.wait()
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            cur.execute("BEGIN")
            cur.execute(
                "UPDATE seats_seatpool SET in_use = in_use + 1 "
                "WHERE server_id = %s AND license_type = 'agent' "
                "AND method = 'concurrent' AND in_use < %s RETURNING in_use",
                [server_id, seats],
            )
            if cur.fetchone() is None:
                cur.execute("ROLLBACK")
                if audited:
                    cur.execute(DENIAL_SQL, [server_id, org_id, user_id])
                denied += 1
                continue
            cur.execute(
                "INSERT INTO seats_seatlease (server_id, organization_id, license_type, user_id, "
                "session_key, source, client_id, acquired_at, last_seen_at, release_reason) "
                "VALUES (%s, %s, 'agent', %s, '', 'browser', '', now(), now(), '') RETURNING id",
                [server_id, org_id, user_id],
            )
            lease_id = cur.fetchone()[0]
            cur.execute("COMMIT")
            lat.append(time.perf_counter() - t0)
            cur.execute("BEGIN")
            cur.execute(
                "UPDATE seats_seatlease SET released_at = now(), release_reason = 'logout' "
                "WHERE id = %s AND released_at IS NULL",
                [lease_id],
            )
            if cur.rowcount:
                cur.execute(
                    "UPDATE seats_seatpool SET in_use = in_use - 1 "
                    "WHERE server_id = %s AND license_type = 'agent' AND method = 'concurrent'",
                    [server_id],
                )
            cur.execute("COMMIT")
    connection.close()
    out.put((lat, denied))


def sampler(server_id, stop, out):
    from django.db import connection

    most = samples = 0
    most_by_org: dict[int, int] = {}
    with connection.cursor() as cur:
        while not stop.is_set():
            cur.execute(
                "SELECT organization_id, count(*) FROM seats_seatlease "
                "WHERE server_id = %s AND released_at IS NULL GROUP BY organization_id",
                [server_id],
            )
            held = dict(cur.fetchall())
            most = max(most, sum(held.values()))
            for org, n in held.items():
                most_by_org[org] = max(most_by_org.get(org, 0), n)
            samples += 1
            time.sleep(0.001)  # sample every millisecond without taking a core from the workers
    connection.close()
    out.put((most, samples, most_by_org))


def run(kind, users, seconds, server_id, org_id, seats):
    from django.db import connections

    connections.close_all()
    ctx = mp.get_context("fork")
    start, stop, out, sample_out = ctx.Event(), ctx.Event(), ctx.Queue(), ctx.Queue()
    if kind.startswith("service"):
        procs = [ctx.Process(target=service_worker, args=(u, seconds, start, out)) for u in users]
    else:
        audited = kind == "raw+audit"
        procs = [
            ctx.Process(
                target=raw_worker, args=(u, seconds, start, out, server_id, org_id, seats, audited)
            )
            for u in users
        ]
    watcher = ctx.Process(target=sampler, args=(server_id, stop, sample_out))
    watcher.start()
    for p in procs:
        p.start()
    time.sleep(1.0)
    start.set()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    stop.set()
    most, samples, most_by_org = sample_out.get()
    watcher.join()
    lat = sorted(x for r in results for x in r[0])
    denied = sum(r[1] for r in results)
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [0] * 99
    return {
        "rate": len(lat) / seconds,
        "p50": q[49] * 1000,
        "p95": q[94] * 1000,
        "most": most,
        "denied": denied,
        "samples": samples,
        "most_by_org": most_by_org,
    }


def main():
    # The summary is the docstring's first paragraph: it wraps over two lines.
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--seats", type=int, default=8)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    django.setup()
    server_id, org_id, users, orgs = setup(args.seats, args.workers)
    rows, plan = {}, {}
    for kind in ("service", "raw", "raw+audit", "service+shares"):
        vacuum()
        if kind == "service+shares":
            plan = shares_set(orgs, args.seats)
        rows[kind] = run(kind, users, args.seconds, server_id, org_id, args.seats)
        django.db.connections.close_all()
        from seats.models import SeatLease, SeatPool

        assert SeatLease.objects.filter(server_id=server_id, released_at__isnull=True).count() == 0
        assert (
            SeatPool.objects.get(
                server_id=server_id, license_type="agent", method="concurrent"
            ).in_use
            == 0
        )
    print(
        f"K={args.seats} seats, N={args.workers} worker processes, {args.seconds:g}s each, "
        f"PostgreSQL, {os.cpu_count()} cores"
    )
    print(
        f"{'path':<10}{'check-outs/s':>14}{'p50 ms':>9}{'p95 ms':>9}{'max held':>10}{'<= K':>6}"
        f"{'denials':>9}{'samples':>9}"
    )
    for kind, r in rows.items():
        ok = "yes" if r["most"] <= args.seats else "NO"
        kind = kind if len(kind) < 10 else kind.replace("service+", "svc+")
        print(
            f"{kind:<10}{r['rate']:>14.0f}{r['p50']:>9.2f}{r['p95']:>9.2f}{r['most']:>10}{ok:>6}"
            f"{r['denied']:>9}{r['samples']:>9}"
        )
    for path in ("service", "service+shares"):
        for base in ("raw", "raw+audit"):
            ratio = rows[path]["rate"] / rows[base]["rate"] if rows[base]["rate"] else 0
            print(f"{path} / {base} throughput: {ratio:.2f} (target >= 0.70)")
    held = rows["service+shares"]["most_by_org"]
    for n, (pk, (reserve, cap)) in enumerate(plan.items()):
        kept = "yes" if cap is None or held.get(pk, 0) <= cap else "NO"
        print(
            f"shares: organization {n + 1} reserve {reserve}, cap {cap if cap is not None else '-'}"
            f": most held {held.get(pk, 0)}, cap kept {kept}"
        )
    print(f"over-allocated seats: {max(0, max(r['most'] for r in rows.values()) - args.seats)}")


if __name__ == "__main__":
    main()
