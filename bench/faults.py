"""Fault runs: logins, logouts and mail over real HTTP while the pieces under them fail.

Starts its own stack under var/faults/ (never the machine's PostgreSQL or Redis): an embedded
PostgreSQL (iwp_licensing/devdb.py), a redis-server, an SMTP server (aiosmtpd, in this process),
a Celery worker (``--pool solo``) and gunicorn (3 sync workers, DEBUG=0). It installs a license
signed by a key it generates, with fewer Concurrent seats than users, and runs each scenario while
every user logs in and out over HTTP:

  (a) baseline      nothing fails
  (b) web kill      gunicorn's workers are SIGKILLed three times; gunicorn starts new ones
  (c) postgres      PostgreSQL is stopped as a crash would stop it, and started 3 s later
  (d) redis         Redis (the Celery broker) is stopped while an audit mail is queued, then started
  (e) smtp          the SMTP server is stopped while the audit mails, then started again

After each: seat pools against the seats held (every pool's ``in_use`` must equal its active
leases or assignments), every mail the outbox marked sent against what the SMTP server received
(by Message-ID), and the HTTP 5xx seen. docs/reliability.md says what the product promises.

    make faults
    .venv/bin/python bench/faults.py [--users 16] [--seats 8] [--seconds 6]

Bounded: about two to three minutes, every wait has a deadline, and whatever it started is
stopped when it ends, fails or is interrupted (Ctrl-C). Logs stay in var/faults/ until the next
run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from email import message_from_bytes, policy
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
WORK = ROOT / "var" / "faults"
SERVER_ID = "FAULTS-01"
MAIL_SERVERS = [f"FAULTS-MAIL-{i}" for i in range(1, 6)]  # one new exceeded license per mail
PASSWORD = "faults-only-password"  # the users live in a throwaway database
ADMIN_MAIL = "faults-admin@example.com"
DATABASE = "iwp_faults"
HTTP_TIMEOUT = 30  # gunicorn's own worker timeout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, *, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


# --- The SMTP server ------------------------------------------------------------------------


class Smtp:
    """aiosmtpd on a fixed port, stopped and started again on it; counts arrivals by Message-ID."""

    def __init__(self, port: int):
        self.port = port
        self.arrived: list[tuple[str, str]] = []  # (Message-ID, X-IWP-Dedupe-Key)
        self.lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.arrived.append((str(msg["Message-ID"]), str(msg["X-IWP-Dedupe-Key"])))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def by_key(self) -> dict[str, Counter]:
        """Per dedupe key, how often each Message-ID arrived."""
        with self.lock:
            arrived = list(self.arrived)
        counts: dict[str, Counter] = {}
        for message_id, key in arrived:
            counts.setdefault(key, Counter())[message_id] += 1
        return counts


# --- The stack: PostgreSQL, Redis, SMTP, Celery, gunicorn -----------------------------------


class Stack:
    def __init__(self):
        from iwp_licensing import devdb

        self.devdb = devdb
        self.pg_user = devdb.SYSTEM_USER if os.geteuid() == 0 else None
        self.pg_dir = WORK / "postgres"
        self.pg_port = 0
        self.pg_running = False
        self.redis_port = free_port()
        self.web_port = free_port()
        self.smtp = Smtp(free_port())
        self.public_keys = ""
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, object] = {}

    # PostgreSQL: devdb starts it the first time (initdb, a free port); later starts reuse
    # the port, so that the running processes find it again.
    def pg_start(self) -> None:
        if not self.pg_port:
            self.pg_port, _owned = self.devdb.server_start(datadir=self.pg_dir, user=self.pg_user)
            self.devdb.database_create(url=self.pg_server, name=DATABASE)
        else:
            options = f"-h 127.0.0.1 -p {self.pg_port} -k ''"
            log = self.pg_dir / "server.log"
            start = ("start", "-w", "-D", self.pg_dir, "-l", log, "-o", options)
            self.devdb._pg("pg_ctl", *start, user=self.pg_user)
        self.pg_running = True

    def pg_crash(self) -> None:
        """Stopped as a crash stops it: no checkpoint, open transactions lost to recovery."""
        stop = ("stop", "-w", "-m", "immediate", "-D", self.pg_dir)
        self.devdb._pg("pg_ctl", *stop, user=self.pg_user, check=False)
        self.pg_running = False

    def pg_stop(self) -> None:
        if self.pg_running or (self.pg_dir / "postmaster.pid").exists():
            self.devdb.server_stop(datadir=self.pg_dir, user=self.pg_user)
        self.pg_running = False

    def pg_ready_at(self) -> dt.datetime | None:
        """When PostgreSQL last said it accepts connections, from its log (local time, ms)."""
        log = (self.pg_dir / "server.log").read_text(errors="replace")
        ready = re.findall(r"^(\S+ \S+) \S+ \[\d+\] LOG:  database system is ready", log, re.M)
        return dt.datetime.strptime(ready[-1], "%Y-%m-%d %H:%M:%S.%f") if ready else None

    @property
    def pg_server(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.pg_port}"

    @property
    def database_url(self) -> str:
        return f"{self.pg_server}/{DATABASE}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def env(self) -> dict[str, str]:
        # Nothing of the caller's Django or Celery settings (an eager CELERY_TASK_ALWAYS_EAGER
        # would bypass the broker): these processes see only what follows.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
        env.update(
            DEBUG="0",
            SECRET_KEY="faults-only-secret-key-" + "x" * 40,
            IWP_TRUST_DEMO_KEY="0",
            ALLOWED_HOSTS="127.0.0.1",
            # Plain HTTP on loopback: no redirect to HTTPS, and then settings leave the session
            # and CSRF cookies without the Secure flag (SESSION_COOKIE_SECURE follows it).
            SECURE_SSL_REDIRECT="0",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            EMAIL_URL=f"smtp://127.0.0.1:{self.smtp.port}",
            ADMINS=ADMIN_MAIL,
            IWP_LICENSE_PUBLIC_KEYS=self.public_keys,
            # A failed mail is due again after 1 s instead of 30 s, so the run stays short.
            IWP_OUTBOX_RETRY_BASE_SECONDS="1",
            IWP_OUTBOX_SMTP_TIMEOUT="5",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        return env

    def run(self, *args: str, timeout: float = 120) -> str:
        """A management command or a child of this script, to its end; its output."""
        done = subprocess.run(
            [str(BIN / "python"), *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        log = self.logs.get(name) or open(WORK / f"{name}.log", "a")  # noqa: SIM115
        self.logs[name] = log
        # Its own session: a Ctrl-C reaches this script only, which stops everything in order.
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def log_text(self, name: str, offset: int = 0) -> str:
        path = WORK / f"{name}.log"
        if not path.exists():
            return ""
        with open(path, errors="replace") as f:
            f.seek(offset)
            return f.read()

    def log_size(self, name: str) -> int:
        path = WORK / f"{name}.log"
        return path.stat().st_size if path.exists() else 0

    def redis_start(self) -> None:
        (WORK / "redis").mkdir(exist_ok=True)
        options = f"--port {self.redis_port} --bind 127.0.0.1 --appendonly no".split()
        self.spawn("redis", ["redis-server", *options, "--save", "", "--dir", str(WORK / "redis")])
        if not wait_for(lambda: answers(self.redis_port), timeout=10):
            raise RuntimeError("redis-server did not start: see var/faults/redis.log")

    def web_start(self) -> None:
        options = f"--bind 127.0.0.1:{self.web_port} --workers 3 --worker-class sync"
        options += " --timeout 30 --graceful-timeout 5 --access-logfile -"
        self.spawn("gunicorn", [str(BIN / "gunicorn"), "iwp_licensing.wsgi", *options.split()])

        def up():
            try:
                return Http(self.web_port).request("GET", "/accounts/login/").status == 200
            except OSError:
                return False

        if not wait_for(up, timeout=30, interval=0.5):
            raise RuntimeError("gunicorn did not answer: see var/faults/gunicorn.log")

    def web_workers(self) -> list[int]:
        master = self.procs["gunicorn"].pid
        workers = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == master:  # the parent's pid
                    workers.append(int(entry))
        return workers

    def worker_start(self) -> None:
        options = (
            "--pool solo --loglevel INFO --without-gossip --without-mingle --without-heartbeat"
        )
        command = [str(BIN / "celery"), "-A", "iwp_licensing", "worker", *options.split()]
        self.spawn("celery", [*command, "--hostname", f"faults-{os.getpid()}@%h"])
        if not wait_for(lambda: " ready." in self.log_text("celery"), timeout=40, interval=0.5):
            raise RuntimeError("the Celery worker did not start: see var/faults/celery.log")

    def sweep(self) -> None:
        """What beat sends every minute: the outbox sweep, by task name, through the broker."""
        from celery import Celery

        app = Celery("faults", broker=self.redis_url)
        try:
            app.send_task("notifications.tasks.sweep_outbox")
        finally:
            app.close()

    def stop(self, name: str, *, timeout: float = 15) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: it and its workers
            proc.wait()
        if name == "gunicorn":  # workers outliving a killed master
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop_all(self) -> None:
        for name in ("gunicorn", "celery", "redis"):
            try:
                self.stop(name)
            except Exception as exc:  # keep stopping the rest
                print(f"stopping {name}: {exc}", file=sys.stderr)
        try:
            self.smtp.stop()
        except Exception as exc:
            print(f"stopping the SMTP server: {exc}", file=sys.stderr)
        self.pg_stop()
        for log in self.logs.values():
            log.close()


# --- HTTP clients ---------------------------------------------------------------------------


class Http:
    """One browser: its cookies, one connection per request (gunicorn's sync workers close it)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
        try:
            head = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
            head.update(headers or {})
            body = None
            if form is not None:
                body = urlencode(form)
                head["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=head)
            response = conn.getresponse()
            response.text = response.read().decode("utf-8", "replace")
            for header in response.msg.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    if morsel.value == "" or morsel["max-age"] == "0":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return response
        finally:
            conn.close()


class Tally:
    def __init__(self):
        self.counts = Counter()
        self.slowest = 0.0  # seconds, the slowest answer (or failure) of a request
        self.gave_up: set[str] = set()  # users whose logout never succeeded
        self.lock = threading.Lock()

    def add(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] += n

    def took(self, seconds: float) -> None:
        with self.lock:
            self.slowest = max(self.slowest, seconds)


def client(username: str, port: int, stop: threading.Event, settle_by: list, tally: Tally):
    """Log in, look at the portal, log out, again, until ``stop``; then make sure of the logout."""
    web = Http(port)

    def call(method, path, **kwargs):
        started = time.monotonic()
        try:
            response = web.request(method, path, **kwargs)
        except TimeoutError:
            tally.add(f"timed out ({HTTP_TIMEOUT} s)")  # queued behind busy workers, or stuck
            return None
        except (OSError, http.client.HTTPException):
            tally.add("dropped")  # the connection died: a killed worker, a reset
            return None
        finally:
            tally.took(time.monotonic() - started)
        if response.status >= 500:
            tally.add("5xx")
        return response

    def logout() -> bool:
        # Until it succeeds (the seat is held until this session logs out), or the settle
        # deadline passes after at least one try.
        while True:
            token = web.cookies.get("csrftoken", "")
            response = call("POST", "/accounts/logout/", headers={"X-CSRFToken": token})
            if response is not None and response.status == 302:
                return True
            if settle_by[0] and time.monotonic() > settle_by[0]:
                tally.add("logout abandoned")
                tally.gave_up.add(username)
                return False
            tally.add("logout retried")
            time.sleep(0.5)

    while not stop.is_set():
        web.cookies.clear()
        page = call("GET", "/accounts/login/")
        token = (
            re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text) if page else None
        )
        if token is None:
            stop.wait(0.3)
            continue
        form = {"csrfmiddlewaretoken": token[1], "username": username, "password": PASSWORD}
        response = call("POST", "/accounts/login/", form=form)
        if response is None or response.status >= 500:
            stop.wait(0.3)  # did the seat get taken? This user's next login finds out
            continue
        if response.status == 302 and response.getheader("Location", "").startswith("/portal/"):
            tally.add("ok")
            portal = call("GET", "/portal/")
            if portal is not None and portal.status == 302:
                tally.add("portal sent back to login")
            stop.wait(random.uniform(0.2, 0.8))
            logout()
        elif response.status == 200 and "errorlist" in response.text:
            tally.add("refused" if "in use" in response.text else "login error")
            stop.wait(random.uniform(0.1, 0.3))
        else:
            tally.add(f"login HTTP {response.status}")
            stop.wait(0.3)


# --- Checks ---------------------------------------------------------------------------------


def db(stack: Stack):
    import psycopg

    return psycopg.connect(stack.database_url, autocommit=True, connect_timeout=5)


POOLS_SQL = """
SELECT s.server_id, p.license_type, p.method, p.in_use,
  CASE p.method
    WHEN 'concurrent' THEN (SELECT count(*) FROM seats_seatlease l
      WHERE l.server_id = p.server_id AND l.license_type = p.license_type
        AND l.released_at IS NULL)
    ELSE (SELECT count(*) FROM seats_seatassignment a
      WHERE a.server_id = p.server_id AND a.license_type = p.license_type
        AND a.released_at IS NULL)
  END
FROM seats_seatpool p JOIN organizations_server s ON s.id = p.server_id
ORDER BY 1, 2, 3
"""

# Seats still held, and whether the session holding each exists: once every client has logged
# out, each row is a seat that outlived its login.
HELD_SQL = """
SELECT l.id, u.username, l.session_key,
  EXISTS (SELECT 1 FROM django_session s WHERE s.session_key = l.session_key)
FROM seats_seatlease l JOIN organizations_user u ON u.id = l.user_id
WHERE l.released_at IS NULL
ORDER BY l.id
"""


def pools_check(stack: Stack) -> tuple[str, list[str]]:
    with db(stack) as conn:
        rows = conn.execute(POOLS_SQL).fetchall()
    bad = [f"{s} {lic}/{m}: in_use {n}, held {h}" for s, lic, m, n, h in rows if n != h]
    return (f"yes ({len(rows)} pools)" if not bad else f"NO ({len(bad)} of {len(rows)})"), bad


def outbox_rows(stack: Stack, after_id: int) -> list[tuple]:
    with db(stack) as conn:
        return conn.execute(
            "SELECT id, dedupe_key, status, attempts, last_error FROM notifications_outboxmessage"
            " WHERE id > %s ORDER BY id",
            [after_id],
        ).fetchall()


def max_outbox_id(stack: Stack) -> int:
    with db(stack) as conn:
        return conn.execute(
            "SELECT coalesce(max(id), 0) FROM notifications_outboxmessage"
        ).fetchone()[0]


def mail_check(stack: Stack, after_id: int) -> tuple[str, list[str]]:
    """Each mail the outbox marked sent must have arrived once; duplicates are counted as extra
    arrivals of one Message-ID (or of one message under several Message-IDs)."""
    rows = outbox_rows(stack, after_id)
    if not rows:
        return "—", []
    arrived = stack.smtp.by_key()
    sent = [r for r in rows if r[2] == "sent"]
    got = dup = 0
    notes = []
    for pk, key, _status, _attempts, _error in sent:
        ids = arrived.get(key, Counter())
        got += 1 if ids else 0
        dup += sum(ids.values()) - 1 if ids else 0
        if not ids:
            notes.append(f"outbox {pk} marked sent, never arrived")
        if len(ids) > 1:
            notes.append(f"outbox {pk} arrived under {len(ids)} Message-IDs")
    for pk, _key, status, attempts, error in rows:
        if status != "sent":
            notes.append(f"outbox {pk} still {status} after {attempts} attempt(s): {error[:80]}")
    return f"{len(sent)}/{got}/{dup}", notes


# The start of a line gunicorn or Django logs (not a traceback's): a Django record, an access-log
# line, a gunicorn record.
LOG_RECORD = re.compile(r"\d{4}-\d\d-\d\d |127\.0\.0\.1 - |\[\d{4}-")


def server_error_times(log: str) -> list[dt.datetime]:
    """When Django logged each 500 (local time, ms)."""
    times = re.findall(r"^(\S+ \S+) ERROR django\.request Internal Server Error", log, re.M)
    return [dt.datetime.strptime(t, "%Y-%m-%d %H:%M:%S,%f") for t in times]


def final_errors(log: str) -> Counter:
    """The exception each logged traceback ended in, not those it was raised while handling."""
    found = Counter()
    lines = log.splitlines()
    for i, line in enumerate(lines):
        error = re.match(r"(?:[\w.]+\.)?(\w+(?:Error|Exception))(?::|$)", line)
        if error is None:
            continue
        j = i + 1  # past the message's further lines, to a blank line or the next log record
        while j < len(lines) and lines[j] and not LOG_RECORD.match(lines[j]):
            j += 1
        chained = lines[j + 1 : j + 2] if j < len(lines) and lines[j] == "" else []
        if chained and chained[0].startswith(("During handling", "The above exception")):
            continue
        found[error[1]] += 1
    return found


def trigger_mail(stack: Stack, server_id: str) -> str:
    """Over a license on ``server_id``, then the audit of today: one new outbox mail."""
    out = stack.run(str(Path(__file__)), "--child", "mail", server_id, timeout=60)
    return out.strip().splitlines()[-1] if out.strip() else ""


# --- Scenarios ------------------------------------------------------------------------------


class Scenario:
    def __init__(self, stack: Stack, args):
        self.stack = stack
        self.args = args
        self.t0 = 0.0
        self.notes: list[str] = []
        self.ready_at: dt.datetime | None = None  # PostgreSQL's own log: ready again
        self.mail_servers = iter(MAIL_SERVERS)

    def at(self, seconds: float) -> None:
        time.sleep(max(0.0, self.t0 + seconds - time.monotonic()))

    def mail(self) -> float:
        """Run the audit with a new exceeded license; how long the command took."""
        started = time.monotonic()
        try:
            trigger_mail(self.stack, next(self.mail_servers))
        except Exception as exc:
            self.notes.append(f"audit run failed: {str(exc).strip().splitlines()[-1][:100]}")
        return time.monotonic() - started

    def run(self, name: str, fault, seconds: float) -> list[str]:
        stack, args = self.stack, self.args
        self.notes, self.ready_at = [], None
        since = dt.datetime.now(dt.UTC)
        outbox_from = max_outbox_id(stack)
        web_log, worker_log = stack.log_size("gunicorn"), stack.log_size("celery")
        tally, stop, settle_by = Tally(), threading.Event(), [0.0]
        users = [f"faults{i:02d}" for i in range(args.users)]
        threads = [
            threading.Thread(
                target=client, args=(u, stack.web_port, stop, settle_by, tally), daemon=True
            )
            for u in users
        ]
        self.t0 = time.monotonic()
        for t in threads:
            t.start()
        try:
            fault(self)
            self.at(seconds)
        except BaseException:  # Ctrl-C or a failure: the clients give up at once
            settle_by[0] = time.monotonic()
            stop.set()
            raise
        settle_by[0] = time.monotonic() + 30  # each client logs out, retrying until then
        stop.set()
        for t in threads:
            t.join(timeout=max(0.1, settle_by[0] + HTTP_TIMEOUT + 5 - time.monotonic()))
        if any(t.is_alive() for t in threads):
            self.notes.append("clients still running after the settle deadline")

        # Settle: the outbox delivers (the sweep standing in for beat), nothing else is helped.
        sweeps = []

        def delivered():
            rows = outbox_rows(stack, outbox_from)
            if any(r[2] != "sent" for r in rows):
                stack.sweep()
                sweeps.append(1)
                return False
            return True

        if not wait_for(delivered, timeout=30, interval=2):
            self.notes.append("mail not delivered within 30 s")
        if sweeps:
            self.notes.append(
                f"outbox sweep sent {len(sweeps)}x (as beat would) before all was sent"
            )
        time.sleep(0.5)  # a duplicate, were one on its way, arrives now

        pools, bad = pools_check(stack)
        self.notes.extend(bad)
        mails, mail_notes = mail_check(stack, outbox_from)
        self.notes.extend(mail_notes)
        with db(stack) as conn:
            held = conn.execute(HELD_SQL).fetchall()
            reclaimed = conn.execute(
                "SELECT count(*) FROM seats_seatlease WHERE release_reason = 'superseded'"
                " AND released_at >= %s",
                [since],
            ).fetchone()[0]
        c, web_text = tally.counts, stack.log_text("gunicorn", web_log)
        # A client that gave up logging out still holds its seat, as a closed browser would.
        outlived = [row for row in held if row[1] not in tally.gave_up]
        if outlived:
            self.notes.append(
                f"{len(outlived)} seat(s) held after their user logged out: "
                + ", ".join(
                    f"lease {pk} {user} ({'session' if live else 'no session'} {key[:8] or '-'})"
                    for pk, user, key, live in outlived[:4]
                )
            )
        if tally.gave_up:
            self.notes.append(
                f"{len(tally.gave_up)} client(s) gave up logging out; {len(held) - len(outlived)}"
                " of their seats still held"
            )
        if reclaimed:
            self.notes.append(
                f"{reclaimed} seat(s) a lost login took, passed on at that user's next login"
            )
        if self.ready_at is not None:  # a request that failed once PostgreSQL was back
            # Django logs a 500 when the request ends, a little after its failed connection:
            # 1 s of grace.
            after = self.ready_at + dt.timedelta(seconds=1)
            late = [t for t in server_error_times(web_text) if t > after]
            self.notes.append(f"{len(late)} 5xx logged 1 s or more after PostgreSQL was ready")
        timed_out = f"timed out ({HTTP_TIMEOUT} s)"
        for what in ("dropped", timed_out, "logout retried", "login error"):
            if c[what]:
                self.notes.append(f"{c[what]} {what}")
        for what, n in sorted(c.items()):
            if what.startswith(("login HTTP", "portal sent")):
                self.notes.append(f"{n} {what}")
        errors = final_errors(web_text)
        if errors:
            self.notes.append(
                "server errors: " + ", ".join(f"{e} x{n}" for e, n in errors.most_common(4))
            )
        if "Connection to broker lost" in stack.log_text("celery", worker_log):
            self.notes.append("worker lost the broker and reconnected")
        self.notes.append(f"slowest request {tally.slowest:.1f} s")
        return [name, str(c["ok"]), str(c["refused"]), str(c["5xx"]), pools, mails, self.notes]


def baseline(s: Scenario) -> None:
    s.at(1)
    s.notes.append(f"audit run took {s.mail():.1f} s")


def web_kill(s: Scenario) -> None:
    killed = []
    for when in (2, 4, 6):
        s.at(when)
        for pid in s.stack.web_workers():
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    alive = wait_for(lambda: len(s.stack.web_workers()) == 3, timeout=15)
    s.notes.append(f"{len(killed)} workers SIGKILLed" + ("" if alive else ", not all respawned"))


def postgres_crash(s: Scenario) -> None:
    s.at(2)
    down = time.monotonic()
    s.stack.pg_crash()
    s.at(5)
    s.stack.pg_start()  # returns once it accepts connections again, after crash recovery
    s.ready_at = s.stack.pg_ready_at()
    s.notes.append(
        f"PostgreSQL down {time.monotonic() - down:.1f} s (immediate stop; pg_ctl start 3 s"
        " later, then crash recovery)"
    )
    s.mail()  # the worker's connection died with the server: does it deliver?


def redis_stop(s: Scenario) -> None:
    s.at(1.5)
    down = time.monotonic()
    s.stack.stop("redis")
    s.at(2)
    took = s.mail()  # queued while the broker is away: the task cannot be sent, the outbox keeps it
    s.notes.append(f"audit with the broker down took {took:.1f} s")
    s.at(5)
    s.stack.redis_start()
    s.notes.append(f"Redis down {time.monotonic() - down:.1f} s (no persistence: its queue lost)")


def smtp_stop(s: Scenario) -> None:
    s.at(0.5)
    s.stack.smtp.stop()
    since = max_outbox_id(s.stack)
    s.mail()
    failed = wait_for(
        lambda: any(r[2] == "retrying" for r in outbox_rows(s.stack, since)), timeout=15
    )
    rows = outbox_rows(s.stack, since)
    s.notes.append(
        "1st delivery failed: " + (rows[0][4].split(":")[0] if failed and rows else "not seen")
    )
    s.stack.smtp.start()
    s.notes.append(f"SMTP down {time.monotonic() - s.t0 - 0.5:.1f} s")


SCENARIOS = [
    ("(a) baseline", baseline, 1.0),
    ("(b) gunicorn workers SIGKILLed", web_kill, 1.3),
    ("(c) PostgreSQL stopped, restarted", postgres_crash, 2.0),
    ("(d) Redis stopped, restarted", redis_stop, 1.3),
    ("(e) SMTP stopped, restarted", smtp_stop, 1.0),
]


def table(rows: list[list]) -> str:
    header = ["scenario", "logins ok", "refused", "5xx", "pool == leases", "mails s/a/dup", "notes"]
    cells = [header] + [[*r[:6], "; ".join(r[6]) or "—"] for r in rows]
    widths = [max(len(str(c[i])) for c in cells) for i in range(6)]
    lines = []
    for i, c in enumerate(cells):
        lines.append(" | ".join(str(v).ljust(w) for v, w in zip(c[:6], widths, strict=True)))
        lines[-1] += " | " + c[6]
        if i == 0:
            lines.append("-+-".join("-" * w for w in widths) + "-+-" + "-" * 5)
    return "\n".join(lines)


# --- Children: Django in a process of its own -----------------------------------------------


def child(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iwp_licensing.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from organizations.models import Organization, Server

    what = argv[0]
    if what == "setup":
        from django.contrib.auth.hashers import make_password

        from licenses.services import organization_create
        from organizations.models import Membership, User

        users, seats = int(argv[1]), int(argv[2])
        licenses = [(SERVER_ID, ["server", "organization=1", f"agent:concurrent={seats}"])]
        licenses += [(sid, ["server", "organization=1"]) for sid in MAIL_SERVERS]
        for server_id, specs in licenses:
            path = WORK / f"{server_id}.license"
            entitlements = [arg for spec in specs for arg in ("--entitlement", spec)]
            call_command(
                "issue_license",
                *["--key", str(WORK / "vendor.pem"), "--server-id", server_id],
                *["--customer", "Faults", "--out", str(path), *entitlements],
                stdout=open(os.devnull, "w"),  # noqa: SIM115
            )
            call_command("import_license", str(path), stdout=open(os.devnull, "w"))  # noqa: SIM115
            organization_create(server=Server.objects.get(server_id=server_id), name=server_id)
        organization = Organization.objects.get(name=SERVER_ID)
        hashed = make_password(PASSWORD)
        people = User.objects.bulk_create(
            User(username=f"faults{i:02d}", password=hashed, license_method="concurrent")
            for i in range(users)
        )
        Membership.objects.bulk_create(
            Membership(user=u, organization=organization) for u in people
        )
    elif what == "mail":
        server = Server.objects.get(server_id=argv[1])
        # One organization over the count, written directly as a downsized license leaves it
        # (the admin would refuse it).
        Organization.objects.create(server=server, name=f"{argv[1]} over")
        call_command("run_compliance_check", date=timezone.localdate().isoformat())


# --- Main -----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=16, help="clients, one user each")
    parser.add_argument("--seats", type=int, default=8, help="Concurrent seats in the license")
    parser.add_argument(
        "--seconds", type=float, default=6, help="length of the baseline; the others 1 to 2x"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    started = time.monotonic()
    stack = Stack()
    if (stack.pg_dir / "postmaster.pid").exists():  # left by a run that was killed
        stack.pg_stop()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    rows = []
    try:
        print("Starting PostgreSQL, Redis, SMTP, the worker and gunicorn under var/faults/ ...")
        stack.pg_start()
        stack.run("manage.py", "migrate", "--no-input")
        out = stack.run("manage.py", "generate_license_key", "--out", str(WORK / "vendor.pem"))
        stack.public_keys = re.search(r"IWP_LICENSE_PUBLIC_KEYS=(\S+)", out)[1]
        stack.run(str(Path(__file__)), "--child", "setup", str(args.users), str(args.seats))
        stack.redis_start()
        stack.smtp.start()
        stack.worker_start()
        stack.web_start()
        print(
            f"Ready in {time.monotonic() - started:.0f} s: {args.users} users, "
            f"{args.seats} Concurrent seats, gunicorn on 127.0.0.1:{stack.web_port}"
        )
        scenario = Scenario(stack, args)
        for name, fault, length in SCENARIOS:
            print(f"  {name} ...", flush=True)
            try:
                rows.append(scenario.run(name, fault, args.seconds * length))
            except Exception as exc:
                rows.append([name, "-", "-", "-", "-", "-", [f"script error: {exc!r}"[:200]]])
        print()
        print(table(rows))
        print(f"\n{time.monotonic() - started:.0f} s in all; logs in var/faults/")
    except KeyboardInterrupt:
        print("\nInterrupted: stopping what was started.", file=sys.stderr)
        if rows:
            print(table(rows))
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
