"""The forecast on synthetic series: a trend with a weekly pattern is followed, a flat series
recommends its peak plus the headroom, and short or empty histories fall back and say so."""

import numpy as np
import pytest

from compliance.forecast import (
    MIN_MODEL_DAYS,
    Model,
    mape,
    peak_error,
    project,
    recommended_count,
    whole,
)

WEEK = np.array([1.0, 1.05, 1.0, 0.95, 0.9, 0.45, 0.35])  # Monday .. Sunday


def growing(days: int, *, start=40.0, per_day=0.25, noise=1.5, seed=3) -> np.ndarray:
    t = np.arange(days)
    rng = np.random.default_rng(seed)
    return np.round((start + per_day * t) * WEEK[t % 7] + rng.normal(0, noise, days))


def test_trend_and_weekly_pattern_the_projection_follows_the_trend():
    history = growing(120)
    p = project(history.tolist(), horizon=90)

    assert p.model == Model.HOLT_WINTERS and p.trusted
    assert len(p.mean) == len(p.upper) == 90
    last_week = history[-7:].max()  # about (40 + 0.25 * 119) * 1.05 = 73
    assert p.peak > last_week + 5  # still growing, 90 days on
    expected = (40 + 0.25 * (120 + 89)) * 1.05  # the busiest weekday at the end: about 97
    assert expected * 0.8 < p.peak < expected * 1.15
    # The weekly pattern carries on: weekends well below weekdays.
    days = (120 + np.arange(90)) % 7
    assert np.mean(np.array(p.mean)[days >= 5]) < 0.6 * np.mean(np.array(p.mean)[days < 5])
    assert all(lo <= m <= hi for lo, m, hi in zip(p.lower, p.mean, p.upper, strict=True))


def test_flat_series_recommends_the_peak_plus_headroom_rounded_up():
    p = project([10] * 60, horizon=120)

    assert p.trusted and p.model == Model.FLAT
    assert whole(p.peak) == 10
    assert recommended_count(projected_peak=whole(p.peak), headroom_percent=10) == 11
    assert recommended_count(projected_peak=whole(p.peak), headroom_percent=25) == 13  # 12.5
    assert recommended_count(projected_peak=whole(p.peak), headroom_percent=0) == 10


def test_all_zeros_project_zero_and_recommend_nothing():
    p = project([0] * 90, horizon=90)
    assert p.trusted and whole(p.peak) == 0
    assert recommended_count(projected_peak=0, headroom_percent=10) == 0


@pytest.mark.parametrize("days", [1, 5, MIN_MODEL_DAYS - 1])
def test_short_history_holds_the_highest_peak_and_says_it_is_too_short(days):
    p = project(([3, 7, 5, 4, 6, 2, 1] * 4)[:days], horizon=90)

    assert not p.trusted
    assert f"Only {days} day" in p.note and "highest peak seen" in p.note
    assert whole(p.peak) == max(([3, 7, 5, 4, 6, 2, 1] * 4)[:days])


def test_no_history_says_there_is_nothing_to_project():
    p = project([], horizon=90)
    assert not p.trusted and "No daily usage" in p.note and p.peak == 0


def test_a_pool_sitting_at_its_count_keeps_last_week():
    """Two seats every weekday, none at weekends: the last week repeated forecasts it exactly,
    and the model that would smooth it is not chosen."""
    history = [2, 2, 2, 2, 2, 0, 0] * 13
    p = project(history, horizon=90)
    assert p.model == Model.NAIVE and p.trusted
    assert list(p.mean[:7]) == [2, 2, 2, 2, 2, 0, 0]
    assert whole(p.peak) == 2


def test_measures():
    assert mape([11, 9, 5], [10, 10, 0]) == pytest.approx(10.0)  # the zero day is left out
    assert peak_error(110, [50, 100, 80]) == pytest.approx(10.0)
