"""Needs: Poisson counts, operator mix, weekday profile; service times per operator."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from sim.config import DEFAULT_OPERATOR_SHARE
from sim.core.demand import OPERATORS
from sim.core.demand import adoption_ramp, daily_rate, day_weights, generate_needs, service_times


def test_needs_match_rates_profile_and_shares() -> None:
    share = np.array([DEFAULT_OPERATOR_SHARE[o] for o in OPERATORS])
    rate = daily_rate(np.array([58017.0, 20000.0]), 0.53, 1.0, share)
    profile = np.array([1, 1, 1, 1, 1, 0, 0.0])
    rng = np.random.default_rng(1)
    days = 7 * 52
    weights = np.resize(profile, days)[None, None, :] * np.ones((1, len(OPERATORS), 1))
    needs = generate_needs(rate, weights, np.zeros(2, np.int8), rng)
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


def _year(start: date, monthly: np.ndarray, ramp: np.ndarray | None = None, groups=(0,)):
    """A year of needs for two communes from `start`, on the real calendar."""
    from sim.core.calendar import open_days

    days = 7 * 52
    share = np.array([DEFAULT_OPERATOR_SHARE[o] for o in OPERATORS])
    rate = daily_rate(np.array([58017.0, 20000.0]), 0.53, 1.0, share)
    weights = day_weights(open_days(start, days), start, [1, 1, 1, 1, 1, 0, 0], monthly,
                          np.ones(days) if ramp is None else ramp)
    group = np.array(groups * 2, np.int8)[:2]
    return rate, weights, group, generate_needs(rate, weights, group, np.random.default_rng(7))


def test_needs_per_month_follow_the_operator_profile_and_skip_holidays() -> None:
    """A monthly weight x3 for DGFiP in May: expected counts per month from the weights, within 4 sd."""
    start = date(2021, 1, 4)  # a Monday
    monthly = np.ones((len(OPERATORS), 12))
    dgfip = OPERATORS.index("dgfip")
    monthly[dgfip, 4] = 3.0
    monthly[dgfip] /= monthly[dgfip].mean()
    rate, weights, group, needs = _year(start, monthly)
    day = (needs.time_min // 1440).astype(int)
    dates = [start + timedelta(days=int(d)) for d in day]
    for op in (dgfip, OPERATORS.index("caf")):
        mine = needs.operator == op
        got = np.bincount([dates[i].month - 1 for i in np.flatnonzero(mine)], minlength=12)
        months = np.array([(start + timedelta(days=d)).month - 1 for d in range(weights.shape[2])])
        want = np.array([rate[:, op].sum() * weights[0, op, months == m].sum() for m in range(12)])
        assert np.all(np.abs(got - want) < 4 * np.sqrt(want) + 1), (OPERATORS[op], got, want.round())
    may_share = (np.array([d.month for d in np.array(dates)[needs.operator == dgfip]]) == 5).mean()
    assert 0.17 < may_share < 0.23  # weight 3 x 12/14 over May's 19 working days: about 0.20 of DGFiP's year
    holidays = {date(2021, 1, 1), date(2021, 4, 5), date(2021, 5, 13), date(2021, 5, 24), date(2021, 7, 14),
                date(2021, 11, 1), date(2021, 11, 11)}
    assert not holidays & set(dates)


def test_alsace_moselle_communes_have_no_need_on_good_friday_or_saint_stephen() -> None:
    start = date(2021, 1, 4)
    rate, weights, group, needs = _year(start, np.ones((len(OPERATORS), 12)), groups=(1,))
    dates = {start + timedelta(days=int(d)) for d in needs.time_min // 1440}
    assert date(2021, 4, 2) not in dates  # Good Friday, a working day elsewhere
    _, _, _, elsewhere = _year(start, np.ones((len(OPERATORS), 12)))
    assert date(2021, 4, 2) in {start + timedelta(days=int(d)) for d in elsewhere.time_min // 1440}


def test_the_adoption_ramp_rises_logistically_to_the_mature_uptake() -> None:
    ramp = adoption_ramp(730, 0.2, 1.0, 12)
    assert ramp[0] == pytest.approx(1 + 4 * 0.01, rel=0.01)  # 1% of the way on day 0
    assert ramp[int(6 * 30.44)] == pytest.approx(3.0, rel=0.01)  # halfway at 6 months: uptake 0.6 = 3 x 0.2
    assert ramp[int(12 * 30.44)] == pytest.approx(1 + 4 * 0.99, rel=0.01)
    assert np.all(np.diff(ramp) > 0) and np.all(adoption_ramp(10, 0.2, None, 0) == 1)
    start = date(2021, 1, 4)
    rate, weights, group, needs = _year(start, np.ones((len(OPERATORS), 12)), ramp=adoption_ramp(364, 0.25, 1.0, 6))
    day = (needs.time_min // 1440).astype(int)
    first, last = (day < 91).sum(), (day >= 273).sum()
    assert last > 2.5 * first  # a service four times more used at the end of its first year
