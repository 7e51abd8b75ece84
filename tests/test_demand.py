"""Needs: Poisson counts, operator mix, weekday profile; service times per operator."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import DEFAULT_OPERATOR_SHARE
from sim.core.demand import OPERATORS
from sim.core.demand import daily_rate, generate_needs, service_times


def test_needs_match_rates_profile_and_shares() -> None:
    share = np.array([DEFAULT_OPERATOR_SHARE[o] for o in OPERATORS])
    rate = daily_rate(np.array([58017.0, 20000.0]), 0.53, 1.0, share)
    profile = np.array([1, 1, 1, 1, 1, 0, 0.0])
    rng = np.random.default_rng(1)
    days = 7 * 52
    needs = generate_needs(rate, profile, days, rng)
    expected = rate.sum() * 5 * 52
    # Poisson: sd = sqrt(mean) ~ 225; 4 sd band
    assert abs(len(needs) - expected) < 4 * np.sqrt(expected)
    assert (np.diff(needs.time_min) >= 0).all()
    dow = (needs.time_min // 1440 % 7).astype(int)
    assert set(dow.tolist()) <= {0, 1, 2, 3, 4}
    mix = np.bincount(needs.operator, minlength=len(OPERATORS)) / len(needs)
    assert np.abs(mix - share).max() < 0.01  # sd of a share here is below 0.0016
    pop_share = np.bincount(needs.commune) / len(needs)
    assert pop_share[0] == pytest.approx(58017 / 78017, abs=0.01)


def test_lognormal_service_median_per_operator() -> None:
    rng = np.random.default_rng(2)
    op = np.repeat(np.arange(2), 20000).astype(np.int8)
    t = service_times(op, np.array([20.0, 40.0]), 0.5, "lognormal", rng)
    assert np.median(t[op == 0]) == pytest.approx(20.0, rel=0.03)
    assert np.median(t[op == 1]) == pytest.approx(40.0, rel=0.03)
    e = service_times(op, np.array([20.0, 40.0]), 0.5, "exponential", rng)
    assert np.median(e[op == 0]) == pytest.approx(20.0, rel=0.05)
