"""Portal pages at 10,000 users: time and query count of seat usage, who holds what and history.

A script, not a test. It builds (once) a server with an organization of 10 users and one of
10,000 users (a third logged in with a Concurrent seat, a third with an Assignable seat, 200
stations, 365 days of daily usage), then requests each page through Django's test client as
a supervisor and prints a table: queries per request and p50 / p95 latency.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/iwp_bench_portal SECRET_KEY=x DEBUG=0 \\
        .venv/bin/python bench/portal.py [--repeat 20]

The database is created and migrated if it does not exist; the data is reused on later runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iwp_licensing.settings")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

import django  # noqa: E402

django.setup()

from benchdb import ensure_database  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

SERVER_ID = "BENCH-PORTAL"
SIZES = {"Bench 10 users": 10, "Bench 10,000 users": 10_000}


def build() -> None:
    from licenses.licensefile import public_key_b64
    from organizations.models import Membership, Organization, Server, Station, User
    from seats.models import DailySeatUsage, SeatAssignment, SeatLease
    from tests.factories import install_license

    if Server.objects.filter(server_id=SERVER_ID).exists():
        return
    key = Ed25519PrivateKey.generate()
    settings.IWP_LICENSE_PUBLIC_KEYS = [public_key_b64(key.public_key())]
    server = install_license(
        key,
        server_id=SERVER_ID,
        entitlements=[
            "server",
            "organization=10",
            "supervisor:assignable=50",
            "agent:assignable=6000",
            "agent:concurrent=6000",
            "marquee",
            "scheduled_reports",
        ],
    ).server
    now, today = timezone.now(), timezone.localdate()
    for name, n in SIZES.items():
        org = Organization.objects.create(server=server, name=name)
        sup = User.objects.create_user(
            f"sup-{org.pk}", f"sup-{org.pk}@example.com", "bench-password"
        )
        Membership.objects.create(user=sup, organization=org, role="supervisor")
        SeatAssignment.objects.create(
            server=server, organization=org, license_type="supervisor", user=sup
        )
        users = User.objects.bulk_create(
            [
                User(
                    username=f"b{org.pk}-{i:05d}",
                    email=f"b{org.pk}-{i:05d}@example.com",
                    first_name="Agent",
                    last_name=f"{i:05d}",
                    license_method="concurrent" if i % 3 == 0 else "assigned",
                )
                for i in range(n)
            ],
            batch_size=2000,
        )
        Membership.objects.bulk_create(
            [Membership(user=u, organization=org, role="agent") for u in users], batch_size=2000
        )
        SeatLease.objects.bulk_create(
            [
                SeatLease(
                    server=server,
                    organization=org,
                    license_type="agent",
                    user=u,
                    last_seen_at=now - timedelta(minutes=i % 25),
                )
                for i, u in enumerate(users)
                if i % 3 == 0
            ],
            batch_size=2000,
        )
        SeatAssignment.objects.bulk_create(
            [
                SeatAssignment(server=server, organization=org, license_type="agent", user=u)
                for i, u in enumerate(users)
                if i % 3 == 1
            ],
            batch_size=2000,
        )
        stations = Station.objects.bulk_create(
            [Station(organization=org, name=f"Desk {i:04d}") for i in range(max(n // 50, 1))]
        )
        SeatAssignment.objects.bulk_create(
            [
                SeatAssignment(server=server, organization=org, license_type="agent", station=s)
                for s in stations
            ]
        )
        DailySeatUsage.objects.bulk_create(
            [
                DailySeatUsage(
                    day=today - timedelta(days=d),
                    server=server,
                    organization=org,
                    license_type=lt,
                    method=m,
                    licensed=6000 if lt == "agent" else 50,
                    in_use=n // 3,
                    peak=n // 3 + d % 17,
                    denials=d % 5,
                )
                for d in range(1, 366)
                for lt, m in (
                    ("agent", "assignable"),
                    ("agent", "concurrent"),
                    ("supervisor", "assignable"),
                )
            ]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(client: Client, url: str, repeat: int) -> tuple[int, float, float]:
    client.get(url)  # warm caches (permissions, session)
    times, counts = [], set()
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as q:
            start = time.perf_counter()
            response = client.get(url)
            if response.streaming:
                b"".join(response.streaming_content)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        counts.add(len(q))
    times.sort()
    return max(counts), statistics.median(times), times[min(int(len(times) * 0.95), len(times) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    setup_test_environment()
    ensure_database()
    started = time.perf_counter()
    build()
    print(f"data ready in {time.perf_counter() - started:.1f}s")

    from organizations.models import Organization, User

    pages = [
        ("seat usage", "/portal/org/{org}/"),
        ("who holds what (users, page 1)", "/portal/org/{org}/holders/"),
        ("who holds what (search '00042')", "/portal/org/{org}/holders/?q=00042"),
        (
            "who holds what (logged in, page 20)",
            "/portal/org/{org}/holders/?show=logged_in&page=20",
        ),
        ("who holds what (sessions)", "/portal/org/{org}/holders/?view=sessions"),
        ("history, 365 days", "/portal/org/{org}/history/?days=365"),
        ("history CSV, 365 days", "/portal/org/{org}/history.csv?days=365"),
        ("seat list CSV (streamed)", "/portal/org/{org}/seats.csv"),
        ("wallboard data", "/portal/org/{org}/wallboard.json"),
    ]
    results = {}
    for name in SIZES:
        org = Organization.objects.get(server__server_id=SERVER_ID, name=name)
        client = Client()
        client.force_login(User.objects.get(username=f"sup-{org.pk}"))
        for label, url in pages:
            results[(label, name)] = measure(client, url.format(org=org.pk), args.repeat)

    header = (
        "| page | queries (10 users) | queries (10,000 users) | p50 ms (10,000) | p95 ms (10,000) |"
    )
    print(header)
    print("|---|---:|---:|---:|---:|")
    small, large = SIZES
    for label, _url in pages:
        qs, _, _ = results[(label, small)]
        ql, p50, p95 = results[(label, large)]
        print(f"| {label} | {qs} | {ql} | {p50:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main()
