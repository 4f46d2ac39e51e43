"""A pytest plugin for `make mutation`: each mutant runs against its own app's tests only, in
a test database of its own worker slot.

mutmut runs, for a mutant, the tests that called the mutated function while it collected its
statistics. Most of those are far from the rule: a portal page calls the seat rules too, and would
make a mutant of seats/ look caught by a test that was never about seats. So a mutant of
`<app>.…` keeps only the tests under `tests/<app>/`; one no test there calls is reported as "no
tests", which is what it is: no test of that app checks it.

With `MUTATION_CHILDREN=2` two mutants run at once, and two test sessions on one database would
flush each other's rows. Each mutant's session takes the first free slot (an exclusive lock on a
file, released when the process ends, however it ends) and slot N > 0 uses the test database
with `_slotN` appended (pytest-django's parallel suffix; `--reuse-db` keeps it between mutants).

Each mutant's session is a fork of mutmut's forkserver, so what every session needs is prepared
there once: the migration plan and its digest, and Faker's providers. A slot's database is
migrated by its first session; later sessions of the same migrations connect to it without
running `migrate` again (a file beside the slot's lock records the digest it was migrated to).
That, and `-p no:unraisableexception` (pyproject.toml: its `gc.collect()` at exit walks the whole
forked heap), take a session's fixed cost from about 2.5 s to under 1 s.
"""

import fcntl
import json
import os
import tempfile
import time
from pathlib import Path

from mutmut.mutation.trampoline import get_mutant_under_test

_slot_lock = None  # held open for the life of the process
_session = {}  # this mutant's session, for mutants/sessions.tsv
_costs: dict[str, float] = {}  # mutmut's own runs of every test: each test's whole cost
COSTS = "test-costs.json"  # in mutants/, where mutmut runs every session


def _mutant() -> str:
    mutant = get_mutant_under_test() or os.environ.get("MUTANT_UNDER_TEST", "")
    return mutant if "__mutmut_" in mutant else ""  # not mutmut's statistics or clean runs


def _app(mutant: str) -> str:
    return mutant.split(".", 1)[0]


def _claim_slot(name: str) -> int:
    global _slot_lock
    for slot in range(64):
        path = _state_file(f"{name}-slot{slot}.lock")
        handle = path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _slot_lock = handle
        return slot
    raise RuntimeError("no free mutation slot among 64")


def _state_file(name: str) -> Path:
    return Path(tempfile.gettempdir()) / f"iwp-mutation-{name}"


def _connect_to_migrated_database() -> None:
    """`create_test_db(keepdb=True)` without `migrate` when this slot's database was migrated to
    the same migrations by an earlier session (with `migrate` otherwise, as always)."""
    from django.conf import settings
    from django.db import OperationalError
    from django.db.backends.base.creation import BaseDatabaseCreation

    from tests.migration_data import plan_and_digest

    create = BaseDatabaseCreation.create_test_db
    digest = plan_and_digest()[1]

    def create_test_db(self, verbosity=1, autoclobber=False, serialize=True, keepdb=False):
        name = self._get_test_db_name()
        migrated = _state_file(f"{name}.migrated")
        if keepdb and migrated.exists() and migrated.read_text() == digest:
            self.connection.close()
            settings.DATABASES[self.connection.alias]["NAME"] = name
            self.connection.settings_dict["NAME"] = name
            try:
                self.connection.ensure_connection()
                return name
            except OperationalError:  # dropped since: create and migrate it again
                migrated.unlink()
        name = create(self, verbosity, autoclobber, serialize, keepdb)
        migrated.write_text(digest)
        return name

    BaseDatabaseCreation.create_test_db = create_test_db


def pytest_configure(config):
    from django.conf import settings

    if not _mutant():  # the forkserver's warm-up (and mutmut's other runs): prepare once
        import faker

        from tests.migration_data import plan_and_digest

        faker.Faker()
        plan_and_digest()
        return
    _session.update(started=time.monotonic(), selected=0, ran=0, failed="")
    # Not even collect the other apps' tests mutmut names (a licence-file mutant is called by
    # 750 tests, 315 of them in tests/licenses/): with none of this app's, collect them all as
    # before and deselect them below, so that mutmut hears "no tests".
    own = [arg for arg in config.args if arg.startswith(f"tests/{_app(_mutant())}/")]
    if own:
        config.args[:] = own
    slot = _claim_slot(settings.DATABASES["default"]["NAME"])
    if slot:
        os.environ["TOX_PARALLEL_ENV"] = f"slot{slot}"
    _connect_to_migrated_database()


def pytest_runtest_setup(item):
    """The statement builders of seats/sql.py are cached per process: without this, only the
    first test to run a statement would be recorded as calling the helpers it is built from,
    and a mutant of a helper would run against that one test (and in a mutant's session, the
    statement would come from whichever test built it first)."""
    from seats import sql

    for value in vars(sql).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


def pytest_collection_modifyitems(config, items):
    mutant = _mutant()
    if not mutant:
        return
    keep = [item for item in items if item.nodeid.startswith(f"tests/{_app(mutant)}/")]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep
    _session["selected"] = len(keep)
    # Cheapest first, by what a test costs in all (mutmut orders by the call alone, so a test
    # whose fixtures sign and install a license file looks as cheap as one that parses bytes).
    # Unknown tests keep mutmut's order, after the known ones.
    try:
        costs = json.loads(Path(COSTS).read_text())
    except (OSError, ValueError):
        return
    items.sort(key=lambda item: costs.get(item.nodeid, float("inf")))


def pytest_runtest_logreport(report):
    if not _session:  # mutmut's statistics and clean runs: every test, unmutated
        _costs[report.nodeid] = _costs.get(report.nodeid, 0.0) + report.duration
        return
    if report.when == "call":
        _session["ran"] += 1
    if report.failed and not _session["failed"]:
        _session["failed"] = report.nodeid


def pytest_sessionfinish(session, exitstatus):
    """One line per mutant in mutants/sessions.tsv (mutmut runs the session there): the mutant,
    its tests, how many ran before one failed (or all), the failing test, the session's seconds.
    Where a run's time goes, and which tests kill which mutants.

    After mutmut's statistics and clean runs (every test, no mutant): each test's setup, call and
    teardown in mutants/test-costs.json, the order of the mutants' sessions."""
    if not _session:
        if _costs:  # not the forkserver's collection
            Path(COSTS).write_text(json.dumps(_costs))
        return
    seconds = time.monotonic() - _session["started"]
    line = "\t".join(
        str(v)
        for v in (
            _mutant(),
            int(exitstatus),
            _session["selected"],
            _session["ran"],
            _session["failed"],
            f"{seconds:.2f}",
        )
    )
    with open("sessions.tsv", "a") as log:  # one short write per line: appends do not interleave
        log.write(line + "\n")
