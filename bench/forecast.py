"""Backtest of the renewal forecast: forecast the last 30 days from the 90 before, beside a naive
forecast (last week repeated).

A script, not a test. No database: the series are the demo's year (``portal/demo.py``'s
``demo_daily_peaks`` with ``seed_demo``'s license and organizations, the server-wide peak of each
access license) and a generated year with a trend and a weekly pattern (three noise seeds). Each
model of ``compliance/forecast.py`` projects the 30 days after a 90-day window; the table prints
per series the MAPE of the daily projection and the peak error (the top of the projection's band
over the 30 days against the highest actual day; for the naive forecast, its highest day). A
second table does the same 90 days ahead, where a trend's damping shows.

    .venv/bin/python bench/forecast.py

Exit status 1 when the chosen model's mean MAPE does not beat the naive forecast's.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iwp_licensing.settings")
os.environ.setdefault("DEBUG", "1")  # settings only: the bench opens no database
os.environ.setdefault("DATABASE_URL", "postgres://unused@127.0.0.1:5432/unused")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from compliance.forecast import CHOSEN, Model, mape, peak_error, project  # noqa: E402
from licenses.licensefile import parse_entitlement_spec  # noqa: E402
from portal.demo import DEMO_HISTORY_DAYS, demo_daily_peaks  # noqa: E402
from portal.management.commands.seed_demo import MAIN_LICENSE, ORGANIZATIONS  # noqa: E402

TRAIN, TEST, LONG_TEST = 90, 30, 90
TODAY = date(2026, 12, 1)  # a fixed calendar: the same weekdays on every run
MODELS = [
    Model.NAIVE,
    Model.AUTO,
    Model.HOLT_WINTERS,
    Model.HOLT_WINTERS_UNDAMPED,
    Model.SEASONAL_LEVEL,
]


def demo_series() -> dict[str, np.ndarray]:
    """The demo's year, as seed_demo writes it: one random stream over its access licenses in
    the order of the database (license, method), organizations by name, sized by members."""
    rng = random.Random(7)
    weights = [len(ORGANIZATIONS[name]["users"]) + 1 for name in sorted(ORGANIZATIONS)]
    lines = sorted(
        (e for e in map(parse_entitlement_spec, MAIN_LICENSE) if e.method),
        key=lambda e: (e.license_type, e.method),
    )
    series = {}
    for e in lines:
        days = demo_daily_peaks(
            quantity=e.quantity,
            capacity=e.quantity * (100 + e.overage_percent) // 100,
            method=e.method,
            weights=weights,
            days=DEMO_HISTORY_DAYS,
            today=TODAY,
            rng=rng,
        )
        series[f"demo {e.license_type} {e.method}"] = np.array([sum(p) for _d, p, _u, _x in days])
    return series


def generated_year(seed: int) -> np.ndarray:
    """A year of a growing contact center: 60 seats at the start, +0.08 a day (about half
    again by the end), Monday to Friday busy, weekends at a third, daily noise of ±3 seats."""
    rng = np.random.default_rng(seed)
    t = np.arange(365)
    weekly = np.array([1.0, 1.05, 1.0, 0.95, 0.9, 0.45, 0.35])  # Monday .. Sunday
    offset = TODAY.weekday()  # day 364 is the day before TODAY
    season = weekly[(t - 365 + offset) % 7]
    return np.maximum(0, np.round((60 + 0.08 * t) * season + rng.normal(0, 3, 365)))


def backtest(series: dict[str, np.ndarray], test: int) -> dict[Model, list[tuple]]:
    results: dict[Model, list[tuple]] = {m: [] for m in MODELS}
    print(
        f"\nForecast the last {test} days from the {TRAIN} before "
        "(MAPE %, peak error % of the highest actual day)"
    )
    header = f"{'series':<30}" + "".join(f"{m.value:>26}" for m in MODELS)
    print(header)
    print("-" * len(header))
    for name, y in series.items():
        train, actual = y[-(TRAIN + test) : -test], y[-test:]
        cells = []
        for m in MODELS:
            started = time.perf_counter()
            p = project(train.tolist(), horizon=test, model=m)
            ms = (time.perf_counter() - started) * 1000
            # The yardstick as it is: its highest day is last week's (no band).
            top = max(p.mean) if m == Model.NAIVE else p.highest
            err, peak = mape(p.mean, actual), peak_error(top, actual)
            results[m].append((err, peak, ms))
            cells.append(f"{err:6.1f} {peak:+6.1f} {ms:5.0f}ms")
        print(f"{name:<30}" + "".join(f"{c:>26}" for c in cells))
    print("-" * len(header))
    means = [
        f"{statistics.mean(r[0] for r in results[m]):6.1f} "
        f"{statistics.mean(abs(r[1]) for r in results[m]):6.1f}|"
        for m in MODELS
    ]
    print(f"{'mean (MAPE, |peak error|)':<30}" + "".join(f"{c:>26}" for c in means))
    return results


def main() -> int:
    series = demo_series()
    for seed in (1, 2, 3):
        series[f"generated year (seed {seed})"] = generated_year(seed)
    short = backtest(series, TEST)
    backtest(series, LONG_TEST)

    chosen = statistics.mean(r[0] for r in short[CHOSEN])
    naive = statistics.mean(r[0] for r in short[Model.NAIVE])
    verdict = "beats" if chosen < naive else "DOES NOT beat"
    print(
        f"\nChosen model ({CHOSEN.value}): mean MAPE {chosen:.1f}% {verdict} "
        f"the naive forecast's {naive:.1f}% over the last {TEST} days."
    )
    return 0 if chosen < naive else 1


if __name__ == "__main__":
    sys.exit(main())
