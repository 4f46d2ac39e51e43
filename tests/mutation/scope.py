"""A pytest plugin for `make mutation`: each mutant runs against its own app's tests only.

mutmut runs, for a mutant, the tests that called the mutated function while it collected its
statistics. Most of those are far from the rule: a portal page calls the seat rules too, and would
make a mutant of seats/ look caught by a test that was never about seats. So a mutant of
`<app>.…` keeps only the tests under `tests/<app>/`; one no test there calls is reported as "no
tests", which is what it is: no test of that app checks it.
"""

import os

from mutmut.mutation.trampoline import get_mutant_under_test


def pytest_collection_modifyitems(config, items):
    mutant = get_mutant_under_test() or os.environ.get("MUTANT_UNDER_TEST", "")
    if "__mutmut_" not in mutant:  # mutmut's own runs: statistics, listing, the clean run
        return
    app = mutant.split(".", 1)[0]
    keep = [item for item in items if item.nodeid.startswith(f"tests/{app}/")]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep
