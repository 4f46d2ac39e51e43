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
        path = Path(tempfile.gettempdir()) / f"iwp-mutation-{name}-slot{slot}.lock"
        handle = path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _slot_lock = handle
        return slot
    raise RuntimeError("no free mutation slot among 64")


def pytest_configure(config):
    if not _mutant():
        return
    from django.conf import settings

    slot = _claim_slot(settings.DATABASES["default"]["NAME"])
    if slot:
        os.environ["TOX_PARALLEL_ENV"] = f"slot{slot}"


def pytest_collection_modifyitems(config, items):
    mutant = _mutant()
    if not mutant:
        return
    app = mutant.split(".", 1)[0]
    keep = [item for item in items if item.nodeid.startswith(f"tests/{app}/")]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep
