"""The seat API through gunicorn: check-out -> heartbeat -> check-in cycles over HTTP beside the
same services called in process, and heartbeats with 10,000 API leases held.

    createdb -h 127.0.0.1 -U postgres iwp_bench_api
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/iwp_bench_api .venv/bin/python bench/api.py \\
        [--leases 10000] [--seconds 15] [--workers 3] [--paced-workers 2,3,4] [--clients 16]

A script, not a test. It migrates, seeds once (a server with a license signed by a freshly
generated key trusted through IWP_LICENSE_PUBLIC_KEYS, one organization of 10,000 + 64 users with
Concurrent memberships; later runs reuse it), holds the API leases (kept from the last run and
renewed through lease_heartbeat; the missing ones taken in one statement that also counts them in
the pool row, or through client_seats_take with --take-with-service, which at 10,000 takes
minutes: each check-out counts the organization's seats held), creates an API key
(api_key_create), starts gunicorn on 127.0.0.1 with production settings (DEBUG=0, as the Procfile
runs it) and prints three tables:

1. cycles/s over HTTP (each client connection its own user) beside the same services called in
   as many processes as gunicorn has workers (client_checkout / lease_heartbeat /
   lease_release, as api/api.py calls them), and the ratio;
2. heartbeats/s and latency on random leases: as fast as the client connections go, then paced
   at the goal's 300/s (p95 under 50 ms) through 2, 3 and 4 workers; a paced heartbeat's latency
   counts from when it was due;
3. where one heartbeat request's time goes, one request at a time.

REDIS_URL (e.g. redis://127.0.0.1:6379/11) is passed on to gunicorn: the rate limiter's cache is
then shared by the workers, as in production; unset, each worker counts in its own memory. The
client runs on the same machine, as processes of threads (http.client), and the output says how
many, and how much CPU other processes took meanwhile. The default run takes about 2.5 minutes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iwp_licensing.settings")
os.environ.setdefault("DEBUG", "0")  # production settings: no query log in the services
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("EMAIL_URL", "dummymail://")
# High enough never to throttle the bench (a per-second window keeps the limiter's list short).
os.environ.setdefault("IWP_API_RATE_LIMIT", "100000/s")

import django  # noqa: E402

SERVER_ID = "BENCH-API"
ORG_NAME = "Bench API"
CYCLE_USERS = 64  # users of the check-out cycles, apart from those holding leases
GOAL_RATE, GOAL_P95_MS = 300, 50


# -- seeding ----------------------------------------------------------------------------------


def seed(leases: int):
    """The server, its license (installed again, larger, when the pool is too small for
    ``leases``), the organization and its users; returns (server, organization)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.conf import settings
    from django.db import connection, transaction

    from licenses.licensefile import public_key_b64
    from licenses.models import Entitlement
    from organizations.models import Membership, Organization, Server, User
    from tests.factories import install_license

    capacity = max(leases, 10_000) + CYCLE_USERS
    licensed = Entitlement.objects.filter(
        license_file__server__server_id=SERVER_ID,
        license_file__replaced_at__isnull=True,
        license_type="agent",
        method="concurrent",
    ).values_list("quantity", flat=True)
    if not licensed or licensed[0] < capacity:
        key = Ed25519PrivateKey.generate()
        settings.IWP_LICENSE_PUBLIC_KEYS = [public_key_b64(key.public_key())]
        install_license(
            key,
            server_id=SERVER_ID,
            entitlements=["server", "organization=1", f"agent:concurrent={capacity}"],
            serial=f"BENCH-API-{time.time_ns()}",
        )
    server = Server.objects.get(server_id=SERVER_ID)
    org, _ = Organization.objects.get_or_create(server=server, name=ORG_NAME)
    wanted = [f"api{i:05d}" for i in range(leases)] + [f"cyc{i:03d}" for i in range(CYCLE_USERS)]
    have = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    missing = [name for name in wanted if name not in have]
    if missing:
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            # Seeded rows are not changes anyone made: the audit trail's triggers stay off.
            cursor.execute("SET LOCAL session_replication_role = replica")
            users = User.objects.bulk_create(
                [User(username=n, password="!", license_method="concurrent") for n in missing],
                batch_size=2000,
            )
            Membership.objects.bulk_create(
                [Membership(user=u, organization=org, role="agent") for u in users],
                batch_size=2000,
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"seeded {len(missing):,} users in {time.perf_counter() - t0:.1f} s")
    return server, org


def api_key(server) -> str:
    from api.services import api_key_create

    _key, raw = api_key_create(server=server, name=f"bench {time.time_ns()}", acting_user=None)
    return raw


def release_cyclers(server) -> int:
    """Give back seats the cycle users hold (a run stopped halfway), in one statement."""
    from seats.models import ReleaseReason, SeatLease
    from seats.services.leases import lease_release

    ids = list(
        SeatLease.objects.active()
        .filter(server=server, user__username__startswith="cyc")
        .values_list("pk", flat=True)
    )
    if ids:
        lease_release(leases=ids, reason=ReleaseReason.ADMIN, end_sessions=False)
    return len(ids)


# Bulk check-out of the users named ``%(names)s`` who hold no seat on the server, as the take
# statement of seats/sql.py does it one at a time: the leases and the pool's count in one
# statement, so the pool row's in_use stays the count of its seats held (the audit trail's
# triggers record each lease, as for any writer).
TAKE_SQL = """
WITH todo AS (
  SELECT u.id FROM organizations_user u
  WHERE u.username = ANY(%(names)s) AND NOT EXISTS (
    SELECT 1 FROM seats_seatlease l
    WHERE l.server_id = %(server)s AND l.user_id = u.id AND l.released_at IS NULL)
), lease AS (
  INSERT INTO seats_seatlease (server_id, organization_id, license_type, user_id, session_key,
                               source, client_id, acquired_at, last_seen_at, expires_at,
                               release_reason)
  SELECT %(server)s, %(organization)s, 'agent', id, 'api:' || md5(random()::text), 'api',
         'desk-' || id, %(now)s, %(now)s, %(expires)s, ''
  FROM todo
  RETURNING 1
)
UPDATE seats_seatpool SET in_use = in_use + (SELECT count(*) FROM lease)
WHERE server_id = %(server)s AND license_type = 'agent' AND method = 'concurrent'
RETURNING in_use
"""


def take_worker(server_pk, usernames, out):
    from django.db import connection

    from organizations.models import User
    from seats.services.login import client_seats_take

    for user in User.objects.filter(username__in=usernames):
        client_seats_take(user=user, server_id=server_pk, client_id=f"desk-{user.pk}")
    connection.close()
    out.put(None)


def renew_worker(server_pk, lease_ids, out):
    from django.db import connection

    from seats.services.leases import lease_heartbeat

    renewed = sum(lease_heartbeat(lease_id=i, server_id=server_pk) is not None for i in lease_ids)
    connection.close()
    out.put(renewed)


def in_processes(target, chunks, *args):
    """Run ``target(*args, chunk, queue)`` in a forked process per chunk; what each put."""
    from django.db import connections

    connections.close_all()
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, chunk, out)) for chunk in chunks]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return results


def hold_leases(server, org, n: int, *, procs: int, service: bool) -> tuple[list[int], str]:
    """API leases held by the users api00000... (kept from the last run: renewed through
    lease_heartbeat; the missing ones taken through client_seats_take with ``service``, else in
    one statement); returns their ids and how they came."""
    from datetime import timedelta

    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from seats.models import ReleaseReason, SeatLease
    from seats.services.leases import lease_release
    from seats.services.pools import daily_peak_raise

    names = [f"api{i:05d}" for i in range(n)]
    held = SeatLease.objects.active().filter(server=server, source="api")
    extra = list(
        held.exclude(user__username__in=names)
        .exclude(user__username__startswith="cyc")
        .values_list("pk", flat=True)
    )
    if extra:  # an earlier run held more
        lease_release(leases=extra, reason=ReleaseReason.ADMIN, end_sessions=False)
    kept = list(held.filter(user__username__in=names).values_list("pk", flat=True))
    how = []
    t0 = time.perf_counter()
    if kept:
        in_processes(renew_worker, [kept[i::procs] for i in range(procs)], server.pk)
        how.append(f"{len(kept):,} kept from the last run, renewed through lease_heartbeat")
    missing = n - len(kept)
    if missing and service:
        todo = sorted(set(names) - set(held.values_list("user__username", flat=True)))
        in_processes(take_worker, [todo[i::procs] for i in range(procs)], server.pk)
        how.append(f"{missing:,} taken through client_seats_take")
    elif missing:
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                TAKE_SQL,
                {
                    "names": names,
                    "server": server.pk,
                    "organization": org.pk,
                    "now": now,
                    "expires": now + timedelta(seconds=settings.IWP_API_LEASE_SECONDS),
                },
            )
            [in_use] = cursor.fetchone()
        daily_peak_raise(
            day=timezone.localdate(),
            server_id=server.pk,
            license_type="agent",
            method="concurrent",
            server_in_use=in_use,
            capacity=None,  # set-up, not a check-out: no utilisation alerts
            organization_in_use={org.pk: in_use},
        )
        how.append(f"{missing:,} taken in one statement (see --take-with-service)")
    ids = list(held.filter(user__username__in=names).values_list("pk", flat=True))
    assert len(ids) == n, (len(ids), n)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE seats_seatlease")
    return ids, f"{'; '.join(how)} in {time.perf_counter() - t0:.1f} s"


# -- gunicorn ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn serving the project with production settings, on a free port."""

    def __init__(self, *, workers: int, threads: int, key: str):
        self.port = free_port()
        self.workers, self.threads = workers, threads
        env = {
            **os.environ,
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
        }
        cmd = [
            str(Path(sys.executable).parent / "gunicorn"),
            "iwp_licensing.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{self.port}",
            "--backlog",
            "256",
            "--access-logfile",  # as the Procfile runs it
            "-",
        ]
        if threads > 1:
            cmd += ["--threads", str(threads)]
        self.log = tempfile.NamedTemporaryFile("w+", prefix="bench-api-gunicorn-", suffix=".log")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while True:  # every worker booted, and one answering
            try:
                self.log.seek(0)
                if self.log.read().count("Booting worker") >= workers:
                    status, _ = request(self.port, key, "GET", "/api/v1/usage")
                    if status == 200:
                        break
                    raise RuntimeError(f"/api/v1/usage answered {status}")
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                raise RuntimeError(f"gunicorn did not start:\n{self.log.read()}")
            time.sleep(0.2)

    @property
    def label(self) -> str:
        kind = f"gthread x{self.threads}" if self.threads > 1 else "sync"
        return f"{self.workers} {kind}"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def request(port, key, method, path, body=None, conn=None):
    """One request; returns (status, parsed JSON or None). ``conn`` is kept alive when the server
    allows (http.client reopens it when the server closed it)."""
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {key}"}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    return response.status, (json.loads(payload) if payload else None)


# -- the machine ------------------------------------------------------------------------------


def _cpu_seconds() -> dict[int, tuple[int, float, str]]:
    """pid -> (parent pid, CPU seconds used, command) of every process (Linux /proc)."""
    hz, out = os.sysconf("SC_CLK_TCK"), {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                name, rest = f.read().rsplit(")", 1)
        except OSError:
            continue
        fields = rest.split()
        out[int(pid)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / hz, name)
    return out


class Others:
    """CPU seconds used meanwhile by processes that are not the bench's, its gunicorn or the
    database and Redis serving it: other work on the machine, which the figures then include."""

    def __init__(self):
        self.start = _cpu_seconds() if os.path.isdir("/proc") else {}

    def seconds(self) -> float:
        if not self.start:
            return 0.0
        now, mine = _cpu_seconds(), {os.getpid()}
        for _ in range(4):  # children, grandchildren (gunicorn's workers)...
            mine |= {pid for pid, (ppid, _, _) in now.items() if ppid in mine}
        used = 0.0
        for pid, (_ppid, cpu, name) in now.items():
            if pid in mine or name.endswith(("(postgres", "(redis-server")):
                continue
            used += cpu - self.start.get(pid, (0, 0.0, ""))[1]
        return used


# -- the clients ------------------------------------------------------------------------------


class Tally:
    """What one client thread saw: latencies, errors by kind, responses that closed their
    connection, and when its last response came."""

    def __init__(self):
        self.lat, self.errors, self.closed, self.last = [], {}, 0, 0.0

    def error(self, what):
        self.errors[what] = self.errors.get(what, 0) + 1

    def merge(self, other):
        self.lat += other.lat
        self.closed += other.closed
        self.last = max(self.last, other.last)
        for k, v in other.errors.items():
            self.errors[k] = self.errors.get(k, 0) + v


def until(t):
    while (left := t - time.perf_counter()) > 0:
        time.sleep(left)


def cycle_thread(port, key, username, *, start, end, tally):
    """Check out, heartbeat, check in, back to back, as ``username``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    until(start)
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        status, seat = request(
            port, key, "POST", "/api/v1/leases", {"username": username, "client_id": "c"}, conn
        )
        if status != 201:
            tally.error(f"check-out {status}")
            continue
        path = f"/api/v1/leases/{seat['id']}"
        if (status := request(port, key, "POST", f"{path}/heartbeat", None, conn)[0]) != 200:
            tally.error(f"heartbeat {status}")
        if (status := request(port, key, "DELETE", path, None, conn)[0]) != 204:
            tally.error(f"check-in {status}")
            continue
        tally.lat.append(time.perf_counter() - t0)
    tally.last = time.perf_counter()


def heartbeat_thread(port, key, lease_ids, interval, *, start, end, tally):
    """Heartbeats on random leases: back to back (``interval`` None), or one due every
    ``interval`` seconds from a random phase, its latency counted from when it was due (a late
    send is not hidden: no coordinated omission)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {key}"}
    due = start + (random.random() * interval if interval else 0)
    while due < end:
        until(due)
        t0 = due if interval else time.perf_counter()
        conn.request(
            "POST", f"/api/v1/leases/{random.choice(lease_ids)}/heartbeat", headers=headers
        )
        response = conn.getresponse()
        response.read()
        tally.lat.append(time.perf_counter() - t0)
        if response.status != 200:
            tally.error(f"heartbeat {response.status}")
        tally.closed += response.will_close  # sync workers close after every response
        due = due + interval if interval else time.perf_counter()
    tally.last = time.perf_counter()


def client_process(target, jobs, start, end, out):
    """One client process: a thread per job, their tallies merged."""
    tallies = [Tally() for _ in jobs]
    threads = [
        threading.Thread(target=target, args=job, kwargs={"start": start, "end": end, "tally": t})
        for job, t in zip(jobs, tallies, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    merged = Tally()
    for t in tallies:
        merged.merge(t)
    out.put(merged)


def run_clients(target, jobs, *, procs: int, seconds: float) -> dict:
    """Spread ``jobs`` (each a thread's arguments) over ``procs`` processes and run them for
    ``seconds``; the rate counts until the last response came."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    start = time.perf_counter() + 1.0  # every process forked and every thread waiting
    end = start + seconds
    workers = [
        ctx.Process(target=client_process, args=(target, jobs[i::procs], start, end, out))
        for i in range(procs)
    ]
    for p in workers:
        p.start()
    tally = Tally()
    for _ in workers:
        tally.merge(out.get())
    for p in workers:
        p.join()
    return figures(tally, max(tally.last, end) - start)


def figures(tally: Tally, seconds: float) -> dict:
    lat = sorted(tally.lat)
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [0.0] * 99
    return {
        "rate": len(lat) / seconds,
        "p50": q[49] * 1000,
        "p95": q[94] * 1000,
        "p99": q[98] * 1000,
        "errors": tally.errors,
        "closed": tally.closed,
    }


# -- in process -------------------------------------------------------------------------------


def inprocess_cycle_worker(server_pk, start, end, username, out):
    """The cycle of cycle_thread through the services, as api/api.py calls them."""
    import pghistory
    from django.db import connection

    from organizations.models import Server
    from seats.models import ReleaseReason
    from seats.services.clients import client_checkout
    from seats.services.leases import lease_heartbeat, lease_release

    server = Server.objects.get(pk=server_pk)
    tally = Tally()
    until(start)
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        with pghistory.context(api_key="bench"):
            lease = client_checkout(server=server, username=username, client_id="c").seat
        if lease_heartbeat(lease_id=lease.pk, server_id=server_pk) is None:
            tally.error("heartbeat")
        with pghistory.context(api_key="bench"):
            lease_release(leases=[lease], reason=ReleaseReason.CHECKED_IN)
        tally.lat.append(time.perf_counter() - t0)
    tally.last = time.perf_counter()
    connection.close()
    out.put(tally)


def run_inprocess_cycles(server, *, procs: int, seconds: float) -> dict:
    start = time.perf_counter() + 1.0
    end = start + seconds
    users = [f"cyc{i:03d}" for i in range(procs)]
    tally = Tally()
    for t in in_processes(inprocess_cycle_worker, users, server.pk, start, end):
        tally.merge(t)
    return figures(tally, max(tally.last, end) - start)


def heartbeat_breakdown(server, key, lease_ids, port, n=1000):
    """Median microseconds of each step of a heartbeat request, one at a time, and the queries
    one request runs."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from api.services import api_key_authenticate
    from api.throttling import KeyRateThrottle
    from seats.services.leases import lease_heartbeat

    client = Client(SERVER_NAME="127.0.0.1")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    class Request:
        auth = api_key_authenticate(key)

    def beat_path(i):
        return f"/api/v1/leases/{lease_ids[i % len(lease_ids)]}/heartbeat"

    throttle = KeyRateThrottle(os.environ["IWP_API_RATE_LIMIT"])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    steps = {
        "API key lookup (api_key_authenticate)": lambda i: api_key_authenticate(key),
        "rate limiter (KeyRateThrottle.allow_request)": lambda i: throttle.allow_request(Request),
        "the UPDATE (lease_heartbeat)": lambda i: lease_heartbeat(
            lease_id=lease_ids[i % len(lease_ids)], server_id=server.pk
        ),
        "whole request in process (Django test client)": lambda i: client.post(
            beat_path(i), **auth
        ),
        "whole request through gunicorn (one connection)": lambda i: request(
            port, key, "POST", beat_path(i), None, conn
        ),
    }
    assert client.post(beat_path(0), **auth).status_code == 200
    rows = []
    for name, step in steps.items():
        for i in range(50):  # warm up
            step(i)
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            step(i)
            times.append(time.perf_counter() - t0)
        rows.append((name, statistics.median(times) * 1e6))
    with CaptureQueriesContext(connection) as ctx:
        client.post(beat_path(0), **auth)
    return rows, [q["sql"] for q in ctx.captured_queries]


def server_cpu(gunicorn) -> dict[int, tuple[str, float]]:
    """pid -> (kind, CPU seconds used so far) of gunicorn's workers and of the PostgreSQL
    backends of this database (but this process's own)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        backends = {pid for (pid,) in cursor.fetchall()}
    procs = _cpu_seconds()
    used = {pid: ("db", procs[pid][1]) for pid in backends if pid in procs}
    used.update(
        {pid: ("worker", cpu) for pid, (ppid, cpu, _) in procs.items() if ppid == gunicorn.proc.pid}
    )
    return used


def cpu_used(before: dict, after: dict, kind: str) -> float:
    """CPU seconds ``kind`` processes used between two server_cpu readings (a connection
    reopened meanwhile, past CONN_MAX_AGE, is a new backend: counted from 0)."""
    return sum(cpu - before.get(pid, (k, 0.0))[1] for pid, (k, cpu) in after.items() if k == kind)


def lease_updates() -> tuple[int, int]:
    """Rows of seats_seatlease updated so far, and how many of those updates were HOT."""
    from django.db import connection

    connection.close()  # this process's own statistics are sent when its backend exits
    time.sleep(0.5)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
            "WHERE relname = 'seats_seatlease'"
        )
        return cursor.fetchone()


# -- main -------------------------------------------------------------------------------------


def row(label, r, width=40):
    errors = sum(r["errors"].values())
    return (
        f"{label:<{width}}{r['rate']:>9.1f}{r['p50']:>9.2f}{r['p95']:>9.2f}{r['p99']:>9.2f}"
        f"{errors:>8}"
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leases", type=int, default=10_000, help="API leases held")
    parser.add_argument("--seconds", type=float, default=15, help="length of each timed run")
    parser.add_argument(
        "--workers", type=int, default=3, help="gunicorn workers (the Procfile's default)"
    )
    parser.add_argument(
        "--paced-workers",
        default="2,3,4",
        help="gunicorn worker counts to pace heartbeats at the goal's rate through",
    )
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads (gthread if >1)")
    parser.add_argument("--clients", type=int, default=16, help="client connections")
    parser.add_argument("--client-procs", type=int, default=2, help="client processes")
    parser.add_argument(
        "--take-with-service",
        action="store_true",
        help="take missing leases through client_seats_take (slow at 10,000: see above)",
    )
    args = parser.parse_args()
    django.setup()
    from benchdb import ensure_database
    from django.conf import settings

    from api.models import ApiKey
    from api.services import api_key_revoke

    cores = os.cpu_count()
    load = os.getloadavg()[0]
    ensure_database()
    server, org = seed(args.leases)
    key = api_key(server)
    release_cyclers(server)
    lease_ids, how = hold_leases(
        server, org, args.leases, procs=cores, service=args.take_with_service
    )

    def beats(port, interval, seconds=args.seconds):
        jobs = [(port, key, lease_ids, interval) for _ in range(args.clients)]
        return run_clients(heartbeat_thread, jobs, procs=args.client_procs, seconds=seconds)

    def start(workers):
        """gunicorn, each of its workers through its first requests (URLs, the API's module)."""
        server = Gunicorn(workers=workers, threads=args.threads, key=key)
        beats(server.port, None, seconds=2)
        return server

    gunicorn = start(args.workers)
    others, timed = Others(), time.perf_counter()
    updates_before = lease_updates()
    paced = {}
    try:
        # 1. Cycles over HTTP, then the same services in as many processes as gunicorn has.
        cyclers = min(args.clients, CYCLE_USERS)
        jobs = [(gunicorn.port, key, f"cyc{i:03d}") for i in range(cyclers)]
        http_cycles = run_clients(cycle_thread, jobs, procs=args.client_procs, seconds=args.seconds)
        local_cycles = run_inprocess_cycles(server, procs=args.workers, seconds=args.seconds)
        # 2. Heartbeats on random leases: as fast as they go, then at the goal's rate.
        cpu_before = server_cpu(gunicorn)
        flat_out = beats(gunicorn.port, None)
        cpu_after = server_cpu(gunicorn)
        worker_cpu, db_cpu = (cpu_used(cpu_before, cpu_after, k) for k in ("worker", "db"))
        beats_done = flat_out["rate"] * args.seconds
        # 3. Where a heartbeat's time goes.
        steps, queries = heartbeat_breakdown(server, key, lease_ids, gunicorn.port)
        for workers in map(int, args.paced_workers.split(",")):
            if workers == args.workers:
                paced[gunicorn.label] = beats(gunicorn.port, args.clients / GOAL_RATE)
                continue
            other = start(workers)
            try:
                paced[other.label] = beats(other.port, args.clients / GOAL_RATE)
            finally:
                other.stop()
        others_cpu, timed = others.seconds(), time.perf_counter() - timed
    finally:
        gunicorn.stop()
        time.sleep(1)  # a backend's statistics reach pg_stat_user_tables when it exits
        updated, hot = (a - b for a, b in zip(lease_updates(), updates_before, strict=True))
        api_key_revoke(key=ApiKey.objects.get(prefix=key.split("_")[1]), acting_user=None)

    cache = "Redis" if settings.REDIS_URL else "local memory, per worker (REDIS_URL unset)"
    print()
    print(
        f"Seat API through gunicorn ({gunicorn.label} workers unless named), PostgreSQL, "
        f"{cores} cores; load average {load:.1f} at start"
    )
    print(
        f"client: {args.client_procs} processes of threads, {args.clients} connections in all "
        "(http.client, kept alive when the server allows), on the same machine"
    )
    print(f"rate limiter: {settings.IWP_API_RATE_LIMIT} per key, cache: {cache}")
    print(f"{len(lease_ids):,} API leases held throughout ({how}); {args.seconds:g} s per run")
    print(
        f"rows of seats_seatlease updated during the runs: {updated:,}, of which HOT "
        f"(no index entry written): {hot:,} ({hot / max(updated, 1):.0%})"
    )
    print(
        f"other processes on the machine used {others_cpu:.1f} CPU-s of the "
        f"{cores * timed:.0f} there were during the runs"
    )
    print()
    print("1. check-out -> heartbeat -> check-in")
    print(f"{'path':<56}{'cycles/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    print(row(f"HTTP, {cyclers} connections (a user each)", http_cycles, 56))
    print(row(f"in process, {args.workers} processes (the services only)", local_cycles, 56))
    ratio = http_cycles["rate"] / local_cycles["rate"] if local_cycles["rate"] else 0
    print(f"HTTP / in process: {ratio:.2f}")
    print()
    print("2. heartbeats on random leases")
    print(
        f"{'gunicorn':<16}{'load':<40}{'beats/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'goal':>6}"
    )
    print(f"{gunicorn.label:<16}" + row(f"as fast as {args.clients} connections go", flat_out))
    for label, r in paced.items():
        met = r["rate"] >= GOAL_RATE * 0.98 and r["p95"] < GOAL_P95_MS and not r["errors"]
        print(f"{label:<16}" + row(f"paced at {GOAL_RATE}/s", r) + f"{'met' if met else 'no':>6}")
    print(f"goal: >= {GOAL_RATE} heartbeats/s with p95 < {GOAL_P95_MS} ms")
    print(
        f"CPU per heartbeat, flat out: gunicorn workers {worker_cpu / beats_done * 1e3:.2f} ms, "
        f"PostgreSQL {db_cpu / beats_done * 1e3:.2f} ms (from /proc)"
    )
    if flat_out["closed"]:
        print(f"{flat_out['closed']:,} responses closed their connection (sync workers keep none)")
    for r in (http_cycles, local_cycles, flat_out, *paced.values()):
        if r["errors"]:
            print(f"errors: {r['errors']}")
    print()
    print(f"3. one heartbeat request at a time ({gunicorn.label} workers; median of 1,000)")
    print(f"{'step':<56}{'us':>8}")
    for name, us in steps:
        print(f"{name:<56}{us:>8.0f}")
    print(f"queries per heartbeat request: {len(queries)}")
    for q in queries:
        print(f"  {' '.join(q.split())[:100]}")


if __name__ == "__main__":
    main()
