"""The score of each mutated module after `mutmut run` (`make mutation` prints it).

Killed: a test failed (or timed out) with the mutant in place. Survived: every test of the
module's app passed. No tests: no test of the module's app runs the mutated function
(tests/mutation/scope.py), which is not a kill either. Mutants judged equivalent (they cannot
change behaviour; each with its reason in tests/mutation/equivalent.py and docs/testing.md) are
left out of the score, which is killed / (checked - equivalent): a run stopped before the end
scores what it checked.
"""

import json
import sys
from collections import Counter
from pathlib import Path

from tests.mutation.equivalent import EQUIVALENT

KILLED = {1: "killed", 3: "killed", 36: "killed", 24: "killed", -24: "killed", 152: "killed"}
KILLED.update({255: "killed", 37: "killed"})
OTHER = {0: "survived", 5: "no tests", 33: "no tests", None: "not checked", 34: "skipped"}


def status(exit_code) -> str:
    return KILLED.get(exit_code) or OTHER.get(exit_code, "suspicious")


def results(root: Path = Path("mutants")) -> dict[str, dict[str, str]]:
    """Per source module, each mutant's status."""
    by_module = {}
    for meta in sorted(root.rglob("*.py.meta")):
        source = str(meta.relative_to(root))[: -len(".meta")]
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        by_module[source] = {name: status(code) for name, code in codes.items()}
    return by_module


def main() -> int:
    by_module = results()
    if not by_module:
        print("No mutation results under mutants/: run `make mutation` first.")
        return 1
    header = (
        "module",
        "mutants",
        "checked",
        "killed",
        "equivalent",
        "survived",
        "no tests",
        "score",
    )
    rows, lines = [], []
    totals = Counter()
    for module, statuses in by_module.items():
        count = Counter(statuses.values())
        equivalent = [m for m, s in statuses.items() if s != "killed" and m in EQUIVALENT]
        live = {m: s for m, s in statuses.items() if m not in equivalent}
        live_count = Counter(live.values())
        judged = len(live) - live_count["not checked"]
        score = f"{100 * live_count['killed'] / judged:.0f}%" if judged else "-"
        rows.append(
            (
                module,
                len(statuses),
                len(statuses) - count["not checked"],
                count["killed"],
                len(equivalent),
                live_count["survived"],
                live_count["no tests"],
                score,
            )
        )
        totals.update(
            mutants=len(statuses), killed=count["killed"], equivalent=len(equivalent), judged=judged
        )
        lines += [
            f"  {s:<9} {m}" for m, s in sorted(live.items()) if s not in {"killed", "not checked"}
        ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(
                str(v).ljust(w) if i == 0 else str(v).rjust(w)
                for i, (v, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    overall = 100 * totals["killed"] / totals["judged"] if totals["judged"] else 0
    print(
        f"\n{totals['mutants']} mutants, {totals['equivalent']} judged equivalent, "
        f"{totals['killed']} killed: {overall:.0f}% of the others."
    )
    if lines:
        print("\nNot killed and not judged equivalent (`mutmut show NAME` shows the change):")
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
