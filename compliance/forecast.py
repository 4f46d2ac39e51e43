"""Projecting a license's daily peaks ahead: the arithmetic of the renewal forecast.

Pure functions over a list of daily peaks (no database, no Django), so ``bench/forecast.py``
backtests exactly what the pages and the mail show. The model is Holt-Winters with a weekly
season, in statsmodels' state-space form (``ETSModel``: additive error, trend and season), which
gives the prediction interval the chart draws as a band; docs/forecast.md says why this one and
what the backtest found.

Short or degenerate histories get a plain fallback instead of a model fitted to noise, and say so
(``Projection.note``): the pages print it beside the figures.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

SEASON = 7  # contact centers are busy on weekdays and quiet at weekends
# Fewer days than four weekly cycles: too few to tell a trend from a busy week.
MIN_MODEL_DAYS = 4 * SEASON
INTERVAL = 0.80  # the band: where 80% of the days are expected to fall
_Z = 1.2816  # the normal quantile of (1 + INTERVAL) / 2
LONGEST_HORIZON = 3 * 366  # a license running longer is projected this far, no further


class Model(StrEnum):
    """How a projection was made."""

    # Per license, whichever of Holt-Winters and the last week repeated forecast the last
    # VALIDATION_DAYS of its own history better (the simpler where it does as well): the pages'.
    AUTO = "auto"
    HOLT_WINTERS = "holt_winters"  # trend (damped) and weekly season: ETS(A,Ad,A)
    HOLT_WINTERS_UNDAMPED = "holt_winters_undamped"  # trend not damped: only compared
    SEASONAL_LEVEL = "seasonal_level"  # weekly season, no trend (ETS A,N,A): only compared
    NAIVE = "naive"  # last week repeated: the benchmark's yardstick
    FLAT = "flat"  # the highest peak seen, held: too little history for anything else


# The one the pages use; bench/forecast.py compares the others with it.
CHOSEN = Model.AUTO
# How much of a license's own history AUTO holds out to choose its model, and by how much
# Holt-Winters must beat the last week repeated there to be chosen (a tenth of its error: on
# a near tie the simpler forecast is the safer one).
VALIDATION_DAYS = 4 * SEASON
CHOICE_MARGIN = 0.9


@dataclass(frozen=True)
class Projection:
    """Daily peaks projected for ``len(mean)`` days after the last day of history, with the
    band the interval gives (``lower``/``upper``), how it was made and, when it is not to be
    trusted, why (``note``)."""

    mean: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    model: Model
    history_days: int
    note: str = ""

    @property
    def trusted(self) -> bool:
        return not self.note

    @property
    def peak(self) -> float:
        """The projected peak at the end: the top of the band over the last week projected.

        A peak is the busiest day, not an average one: the mean line runs below the days that
        matter, so the figure is the band's upper edge, on the busiest weekday of that week."""
        return max(self.upper[-SEASON:], default=0.0)

    @property
    def highest(self) -> float:
        """The top of the band over the whole projection (the backtest's peak)."""
        return max(self.upper, default=0.0)


def whole(value: float) -> int:
    """Seats are whole: round up, ignoring floating-point dust (10.0000001 is 10)."""
    return max(math.ceil(round(value, 6)), 0)


def project(values: Sequence[float], *, horizon: int, model: Model = CHOSEN) -> Projection:
    """Project ``values`` (one peak per day, oldest first, ending yesterday) ``horizon`` days
    ahead with ``model``, falling back as the history requires:

    - no history, or fewer than ``MIN_MODEL_DAYS`` days: the highest peak seen, held flat;
    - the same peak every day (all zeros included): that peak, with no band;
    - a model that fails to fit: the last week repeated.
    """
    horizon = max(1, min(horizon, LONGEST_HORIZON))
    y = np.asarray(values, dtype=float)
    n = len(y)
    if n == 0:
        return _flat(0.0, horizon, 0, "No daily usage is recorded yet: nothing to project.")
    if model != Model.NAIVE and n < MIN_MODEL_DAYS:
        return _flat(
            float(y.max()),
            horizon,
            n,
            f"Only {n} day{'s' if n != 1 else ''} of history (a trend needs {MIN_MODEL_DAYS}): "
            "the projection holds the highest peak seen.",
        )
    if np.ptp(y) == 0:
        return _flat(float(y[0]), horizon, n, "")
    if model == Model.NAIVE or n < SEASON:
        return _naive(y, horizon)
    try:
        if model == Model.AUTO:
            model = _choose(y)
            if model == Model.NAIVE:
                return _naive(y, horizon)
        return _ets(y, horizon, model)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
        fallback = _naive(y, horizon)
        return Projection(
            fallback.mean,
            fallback.lower,
            fallback.upper,
            Model.NAIVE,
            n,
            f"The model could not be fitted ({exc.__class__.__name__}): the last week is repeated.",
        )


def _flat(value: float, horizon: int, n: int, note: str) -> Projection:
    line = (value,) * horizon
    return Projection(line, line, line, Model.FLAT, n, note)


def _choose(y: np.ndarray) -> Model:
    """Holt-Winters, unless the last week repeated forecasts the last ``VALIDATION_DAYS`` of
    ``y`` from the days before about as well (within ``CHOICE_MARGIN``; it does on small pools
    that sit at their count)."""
    if len(y) < VALIDATION_DAYS + MIN_MODEL_DAYS:
        return Model.HOLT_WINTERS
    train, held_out = y[:-VALIDATION_DAYS], y[-VALIDATION_DAYS:]
    if np.ptp(train) == 0:
        return Model.NAIVE
    model = _ets(train, VALIDATION_DAYS, Model.HOLT_WINTERS)
    naive = _naive(train, VALIDATION_DAYS)
    better = mape(model.mean, held_out) < CHOICE_MARGIN * mape(naive.mean, held_out)
    return Model.HOLT_WINTERS if better else Model.NAIVE


def _naive(y: np.ndarray, horizon: int) -> Projection:
    """Last week repeated (a shorter history: all of it, repeated). Its band: a day's own noise
    around its weekday, from how much each day differed from the same weekday a week before
    (that difference carries two days' noise, hence the square root of two)."""
    week = y[-SEASON:]
    mean = np.array([float(week[i % len(week)]) for i in range(horizon)])
    spread = 0.0
    if len(y) > SEASON + 1:
        spread = _Z * float(np.std(y[SEASON:] - y[:-SEASON], ddof=1)) / math.sqrt(2)
    return Projection(
        tuple(mean.tolist()),
        tuple(np.clip(mean - spread, 0, None).tolist()),
        tuple((mean + spread).tolist()),
        Model.NAIVE,
        len(y),
    )


def _ets(y: np.ndarray, horizon: int, model: Model) -> Projection:
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    trend = None if model == Model.SEASONAL_LEVEL else "add"
    with warnings.catch_warnings():
        # Convergence chatter from the optimizer on short or jumpy series: the fit is still
        # the best it found, and the backtest is what judges it.
        warnings.simplefilter("ignore")
        fitted = ETSModel(
            pd.Series(y),
            error="add",
            trend=trend,
            damped_trend=model == Model.HOLT_WINTERS,
            seasonal="add",
            seasonal_periods=SEASON,
        ).fit(disp=False)
        frame = fitted.get_prediction(start=len(y), end=len(y) + horizon - 1).summary_frame(
            alpha=1 - INTERVAL
        )
    mean = frame["mean"].to_numpy()
    lower = frame["pi_lower"].to_numpy()
    upper = frame["pi_upper"].to_numpy()
    if not (np.isfinite(mean).all() and np.isfinite(upper).all()):
        raise FloatingPointError("the fit gave no finite projection")
    # Seats in use are never negative.
    return Projection(
        tuple(np.clip(mean, 0, None).tolist()),
        tuple(np.clip(lower, 0, None).tolist()),
        tuple(np.clip(upper, 0, None).tolist()),
        model,
        len(y),
    )


def recommended_count(*, projected_peak: int, headroom_percent: int) -> int:
    """The count to buy at renewal: the projected peak plus the headroom, rounded up to a seat
    (integers only: 10 seats + 10% is 11, never 12 from a float's dust)."""
    return -(-projected_peak * (100 + headroom_percent) // 100)


# The backtest's measures (bench/forecast.py, tests) ------------------------------------------


def mape(forecast: Sequence[float], actual: Sequence[float]) -> float:
    """Mean absolute percentage error in %, over the days with any use (a zero day has no
    percentage)."""
    f, a = np.asarray(forecast, dtype=float), np.asarray(actual, dtype=float)
    used = a > 0
    if not used.any():
        return 0.0
    return float(np.mean(np.abs(f[used] - a[used]) / a[used]) * 100)


def peak_error(projected_peak: float, actual: Sequence[float]) -> float:
    """The projected peak against the highest actual day, in % (positive: projected too high)."""
    top = float(np.max(actual))
    if top == 0:
        return 0.0 if projected_peak == 0 else math.inf
    return (projected_peak - top) / top * 100
