"""Benchmark: the compliance audit at 1,000 organizations and 1,000,000 users beside a raw SQL
GROUP BY.

    createdb -h 127.0.0.1 -U postgres iwp_bench_audit
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/iwp_bench_audit DEBUG=1 \
        .venv/bin/python bench/audit.py

Seeds (once; COPY in batches with a progress bar) 10 servers x 100 organizations x 1,000 users,
their memberships, Assignable seats (users and a station per organization), Concurrent seats
held now and the day's Concurrent peaks, then runs the audit and the raw SQL several times and
prints a table. Pass --users / --orgs for other sizes (the database must be empty to reseed).
"""

import argparse
import logging
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iwp_licensing.settings")
os.environ.setdefault("EMAIL_URL", "dummymail://")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from tqdm import tqdm  # noqa: E402

from compliance.services import compliance_audit_run  # noqa: E402
from iwp_licensing.celery import app as celery_app  # noqa: E402
from licenses.selectors import day_span  # noqa: E402
from organizations.models import Organization, Server  # noqa: E402
from seats.sql import SEATS_PEAK_SQL  # noqa: E402

SERVERS = 10
BATCH = 50_000

# The audit's counts in SQL alone: the organizations active that day, the most seats held at once
# that day (the statement of seats/sql.py), the day's recorded peaks, against the quantities.
RAW_SQL = """
WITH peaks AS ({peaks}), usage AS (
    SELECT server_id, 'organization'::text AS lt, ''::text AS m, count(*) AS n
      FROM organizations_organization WHERE is_active AND created_at < %(end)s
     GROUP BY server_id
    UNION ALL
    SELECT * FROM peaks
    UNION ALL
    SELECT server_id, license_type, method, greatest(peak, in_use)
      FROM seats_dailyseatusage WHERE day = %(day)s AND organization_id IS NULL
), found AS (
    SELECT server_id, lt, m, max(n) AS n FROM usage GROUP BY server_id, lt, m
), licensed AS (
    SELECT f.server_id, e.license_type AS lt, e.method AS m, e.quantity AS n
      FROM licenses_entitlement e JOIN licenses_licensefile f ON f.id = e.license_file_id
     WHERE f.replaced_at IS NULL AND e.starts_on <= %(day)s AND e.expires_on >= %(day)s
       AND e.license_type IN ('organization', 'supervisor', 'agent')
)
SELECT coalesce(l.server_id, u.server_id), coalesce(l.lt, u.lt), coalesce(l.m, u.m),
       coalesce(l.n, 0) AS licensed, coalesce(u.n, 0) AS found
  FROM licensed l FULL OUTER JOIN found u ON u.server_id = l.server_id AND u.lt = l.lt AND u.m = l.m
 WHERE coalesce(u.n, 0) > coalesce(l.n, 0)
""".replace("{peaks}", SEATS_PEAK_SQL)


def copy_rows(table, columns, rows, total, desc):
    with (
        connection.cursor() as cursor,
        tqdm(total=total, desc=desc, unit="row", unit_scale=True) as bar,
    ):
        # Seeded rows are not changes anyone made: the audit trail's triggers stay off for them.
        cursor.execute("SET session_replication_role = replica")
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for i, row in enumerate(rows, 1):
                copy.write_row(row)
                if i % BATCH == 0:
                    bar.update(BATCH)
            bar.update(total - bar.n)
        cursor.execute("SET session_replication_role = DEFAULT")


def next_id(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
        return cursor.fetchone()[0]


def reset_sequences(*tables):
    with connection.cursor() as cursor:
        for t in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), coalesce(max(id), 1)) FROM {t}"
            )


def seed(*, orgs_total, users_total, day):
    # Users, organizations and Assignable seats are a month old; the Concurrent seats were taken
    # on the audited day, from 09:00.
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    now = start - timedelta(days=30)
    morning = start + timedelta(hours=9)
    per_server_orgs = orgs_total // SERVERS
    users_per_org = users_total // orgs_total
    servers = Server.objects.bulk_create(
        [Server(server_id=f"BENCH-{i:02d}", name=f"Bench server {i}") for i in range(SERVERS)]
    )
    from licenses.models import Entitlement, LicenseFile

    for s in servers:
        lf = LicenseFile.objects.create(
            server=s,
            serial=f"BENCH-{s.server_id}",
            customer="Bench",
            issued_on=day,
            key_id="bench",
            content="(bench)",
        )
        per_server_users = per_server_orgs * users_per_org
        Entitlement.objects.bulk_create(
            [
                Entitlement(
                    license_file=lf,
                    license_type="server",
                    starts_on=day - timedelta(days=1),
                    expires_on=day + timedelta(days=365),
                ),
                # Organizations and Agent Concurrent exceeded on every server; the rest within
                # their counts.
                Entitlement(
                    license_file=lf,
                    license_type="organization",
                    quantity=per_server_orgs - 5,
                    starts_on=day,
                    expires_on=day + timedelta(days=365),
                ),
                Entitlement(
                    license_file=lf,
                    license_type="agent",
                    method="assignable",
                    quantity=per_server_users,
                    starts_on=day,
                    expires_on=day + timedelta(days=365),
                ),
                Entitlement(
                    license_file=lf,
                    license_type="agent",
                    method="concurrent",
                    quantity=per_server_users // 20,
                    starts_on=day,
                    expires_on=day + timedelta(days=365),
                ),
                Entitlement(
                    license_file=lf,
                    license_type="supervisor",
                    method="assignable",
                    quantity=per_server_users,
                    starts_on=day,
                    expires_on=day + timedelta(days=365),
                ),
                Entitlement(
                    license_file=lf,
                    license_type="supervisor",
                    method="concurrent",
                    quantity=per_server_users,
                    starts_on=day,
                    expires_on=day + timedelta(days=365),
                ),
            ]
        )
    orgs = Organization.objects.bulk_create(
        [
            Organization(server=s, name=f"Org {s.server_id}-{j:03d}")
            for s in servers
            for j in range(per_server_orgs)
        ],
        batch_size=1000,
    )
    Organization.objects.filter(pk__in=[o.pk for o in orgs]).update(created_at=now)
    stations = []
    from organizations.models import Station

    stations = Station.objects.bulk_create(
        [Station(organization=o, name="Front desk") for o in orgs], batch_size=1000
    )

    first_user = next_id("organizations_user")

    # User i: org i // users_per_org; every 10th a supervisor; 30% Concurrent, a third of those
    # logged in now.
    def user_rows():
        for i in range(users_total):
            method = "concurrent" if i % 10 in (3, 6, 9) else "assigned"
            yield (
                first_user + i,
                "!",
                False,
                f"bench{i:07d}",
                "",
                "",
                "",
                False,
                True,
                now,
                method,
            )

    copy_rows(
        "organizations_user",
        [
            "id",
            "password",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
            "license_method",
        ],
        user_rows(),
        users_total,
        "users",
    )

    def role(i):
        return "supervisor" if i % 10 == 0 else "agent"

    def membership_rows():
        for i in range(users_total):
            yield (first_user + i, orgs[i // users_per_org].pk, role(i), now)

    copy_rows(
        "organizations_membership",
        ["user_id", "organization_id", "role", "created_at"],
        membership_rows(),
        users_total,
        "memberships",
    )

    def assignment_rows():
        for i in range(users_total):
            if i % 10 not in (3, 6, 9):
                org = orgs[i // users_per_org]
                yield (org.server_id, org.pk, role(i), first_user + i, None, now, "")
        for st, org in zip(stations, orgs, strict=False):
            yield (org.server_id, org.pk, "agent", None, st.pk, now, "")

    n_assign = sum(1 for i in range(users_total) if i % 10 not in (3, 6, 9)) + len(stations)
    copy_rows(
        "seats_seatassignment",
        [
            "server_id",
            "organization_id",
            "license_type",
            "user_id",
            "station_id",
            "assigned_at",
            "release_reason",
        ],
        assignment_rows(),
        n_assign,
        "assignable seats",
    )

    def lease_rows():
        for i in range(users_total):
            if i % 10 == 3:
                org = orgs[i // users_per_org]
                at = morning + timedelta(seconds=i % 3600)
                yield (org.server_id, org.pk, role(i), first_user + i, "", at, at, "")

    n_lease = sum(1 for i in range(users_total) if i % 10 == 3)
    copy_rows(
        "seats_seatlease",
        [
            "server_id",
            "organization_id",
            "license_type",
            "user_id",
            "session_key",
            "acquired_at",
            "last_seen_at",
            "release_reason",
        ],
        lease_rows(),
        n_lease,
        "concurrent seats",
    )
    from seats.models import DailySeatUsage

    per_server_users = per_server_orgs * users_per_org
    DailySeatUsage.objects.bulk_create(
        [
            DailySeatUsage(
                day=day,
                server=s,
                organization=None,
                license_type="agent",
                method="concurrent",
                peak=per_server_users // 8,
            )
            for s in servers
        ]
    )
    reset_sequences("organizations_user")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(fn, repeat):
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orgs", type=int, default=1_000)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    celery_app.conf.task_always_eager = (
        True  # the audit's mail goes to the dummy backend, in process
    )
    logging.getLogger("iwp_licensing.compliance").setLevel(
        logging.CRITICAL
    )  # keep the table readable
    call_command("migrate", verbosity=0)
    day = timezone.localdate() - timedelta(days=1)  # the day that ended, as the scheduled audit

    if not Server.objects.filter(server_id__startswith="BENCH-").exists():
        t0 = time.perf_counter()
        with transaction.atomic():
            seed(orgs_total=args.orgs, users_total=args.users, day=day)
        print(f"seeded in {time.perf_counter() - t0:.1f} s")
    from organizations.models import User
    from seats.models import SeatAssignment, SeatLease

    sizes = (
        Organization.objects.count(),
        User.objects.count(),
        SeatAssignment.objects.active().count(),
        SeatLease.objects.active().count(),
    )

    def raw():
        with connection.cursor() as cursor:
            start, end = day_span(day)
            cursor.execute(RAW_SQL, {"day": day, "start": start, "end": end})
            return cursor.fetchall()

    raw()  # warm the cache for both
    # The first run records the day's events and mail: start from a day nothing recorded yet.
    from compliance.models import ComplianceEvent, ExpiryWarning

    ComplianceEvent.objects.filter(day=day).delete()
    ExpiryWarning.objects.all().delete()
    with CaptureQueriesContext(connection) as ctx:
        first_start = time.perf_counter()
        run = compliance_audit_run(day=day)
        first = time.perf_counter() - first_start
    audit_queries = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        compliance_audit_run(day=day)
    rerun_queries = len(ctx.captured_queries)
    audit_times, _ = timed(lambda: compliance_audit_run(day=day), args.repeat)
    raw_times, rows = timed(raw, args.repeat)
    assert run.exceeded_found == len(rows), (run.exceeded_found, len(rows))

    audit_med, raw_med = statistics.median(audit_times), statistics.median(raw_times)
    print()
    print(
        f"organizations {sizes[0]:,}  users {sizes[1]:,}  "
        f"Assignable seats {sizes[2]:,}  Concurrent seats {sizes[3]:,}"
    )
    print(f"{'what':<44} {'queries':>8} {'median ms':>10} {'min ms':>8}")
    print(
        f"{'audit, first run (records events + mail)':<44} {audit_queries:>8} "
        f"{first * 1000:>10.1f} {first * 1000:>8.1f}"
    )
    print(
        f"{'audit, rerun (nothing new)':<44} {rerun_queries:>8} "
        f"{audit_med * 1000:>10.1f} {min(audit_times) * 1000:>8.1f}"
    )
    print(
        f"{'raw SQL GROUP BY, same counts':<44} {1:>8} "
        f"{raw_med * 1000:>10.1f} {min(raw_times) * 1000:>8.1f}"
    )
    print(
        f"exceeded licenses: {run.exceeded_found}; "
        f"audit / raw SQL (median): {audit_med / raw_med:.2f}x"
    )


if __name__ == "__main__":
    main()
