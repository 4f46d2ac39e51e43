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
import os
import tempfile
from pathlib import Path

from mutmut.mutation.trampoline import get_mutant_under_test

_slot_lock = None  # held open for the life of the process


def _mutant() -> str:
    mutant = get_mutant_under_test() or os.environ.get("MUTANT_UNDER_TEST", "")
    return mutant if "__mutmut_" in mutant else ""  # not mutmut's statistics or clean runs


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
    app = mutant.split(".", 1)[0]
    keep = [item for item in items if item.nodeid.startswith(f"tests/{app}/")]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep
