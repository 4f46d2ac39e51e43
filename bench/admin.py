"""Benchmark: every admin change list, a search on each, and the admin home, at 1,000
organizations and 1,000,000 users.

    createdb -h 127.0.0.1 -U postgres iwp_bench_admin
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/iwp_bench_admin DEBUG=1 \\
        .venv/bin/python bench/admin.py [--repeat 7] [--only user]

Migrates, then seeds the database once with bench/audit.py's data (10 servers x 100
organizations x 1,000 users, their memberships, Assignable and Concurrent seats; --orgs /
--users for other sizes, the database must be empty to reseed; the same database as
bench/audit.py's may be reused). Then, through Django's test client logged in as a superuser,
requests each page --repeat times and prints its queries per request, median and p95 ms, and the
median time of its queries (SQL ms; the rest is Python: the admin's views and templates).
--only keeps the pages whose name contains the text.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iwp_licensing.settings")
os.environ.setdefault("EMAIL_URL", "dummymail://")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # no login line per page: keep the table readable

import django  # noqa: E402

django.setup()

from audit import seed  # noqa: E402  (bench/audit.py: the same data, seeded the same way)
from django.contrib import admin  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from organizations.models import Server, User  # noqa: E402

# What an administrator would type into each list's search box; any other list is searched
# for a username.
SEARCHES = {
    "organizations.user": "bench0004242",
    "organizations.organization": "BENCH-04-042",
    "organizations.server": "BENCH-04",
    "organizations.station": "Org BENCH-04-042",
    "organizations.membership": "bench0004242",
    "seats.seatassignment": "bench0004242",
    "seats.seatlease": "bench0004243",
    "seats.seatdenial": "bench0004242",
    "seats.dailyseatusage": "BENCH-04",
    "seats.stationoccupancy": "bench0004242",
    "licenses.licensefile": "BENCH-04",
    "licenses.entitlement": "BENCH-04",
}


def pages():
    """(name, url) of the admin home, every change list and a search of each searchable one."""
    yield "admin home", reverse("admin:index")
    for model, model_admin in sorted(
        admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower
    ):
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        yield opts.label_lower, url
        if model_admin.search_fields:
            term = SEARCHES.get(opts.label_lower, "bench0004242")
            yield f"{opts.label_lower} ?q={term}", f"{url}?{urlencode({'q': term})}"
    # The user picker of the membership and seat forms searches a million users too.
    query = {"app_label": "organizations", "model_name": "membership", "field_name": "user"}
    yield (
        "autocomplete user 'bench000424'",
        reverse("admin:autocomplete") + "?" + urlencode({**query, "term": "bench000424"}),
    )


def measure(client, url, repeat):
    """Queries per request, and the median and p95 of the request's time and of the time its
    queries took (as Django's debug cursor measures them: PostgreSQL and the round trips)."""
    response = client.get(url)  # warm: the session, permissions, PostgreSQL's caches
    assert response.status_code == 200, (url, response.status_code)
    times, sql_times, counts = [], [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        counts.append(len(ctx.captured_queries))
        sql_times.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
    times.sort()
    p95 = times[min(round(len(times) * 0.95), len(times)) - 1]
    return max(counts), statistics.median(times), p95, statistics.median(sql_times)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orgs", type=int, default=1_000)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if not Server.objects.filter(server_id__startswith="BENCH-").exists():
        t0 = time.perf_counter()
        with transaction.atomic():
            seed(
                orgs_total=args.orgs,
                users_total=args.users,
                day=timezone.localdate() - timedelta(days=1),
            )
        print(f"seeded in {time.perf_counter() - t0:.1f} s")

    superuser, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(superuser)

    from organizations.models import Organization

    print(
        f"organizations {Organization.objects.count():,}  users {User.objects.count():,}  "
        f"(median of {args.repeat} requests)"
    )
    print(f"{'page':<52} {'queries':>8} {'median ms':>10} {'p95 ms':>8} {'SQL ms':>7}")
    for name, url in pages():
        if args.only not in name:
            continue
        queries, median, p95, sql = measure(client, url, args.repeat)
        print(f"{name:<52} {queries:>8} {median:>10.1f} {p95:>8.1f} {sql:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
