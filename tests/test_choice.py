"""Session choice (rules earliest, nearest, cost, logit), the horizon, and exact booking of appointment slots.

The vectorised `choose` and `book` are checked against plain references that look at every session one by
one: `choose` against the cheapest reachable session, `book` against booking one citizen after the other.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.core.choice import (
    RULES,
    SessionIndex,
    appointment_slots,
    arrival_offsets,
    book,
    choose,
    make_rule,
    site_taste,
)
from sim.core.rota import from_rows
from sim.core.units import DAY_MIN
from sim.core.streams import keyed_uniform, request_keys
from sim.core.territory import Reach

# commune 0 reaches site 1 (5 min) then site 0 (15 min); commune 1 reaches only site 0
REACH = Reach(sites=np.array([[1, 0], [0, -1]], np.int32), travel_min=np.array([[5.0, 15.0], [3.0, np.inf]]))


def _rota(sites, starts, ends, agents: int = 1):
    n = len(sites)
    return from_rows(tuple(f"a{k}" for k in range(agents)), np.repeat(np.arange(agents), n).astype(np.int32),
                      np.tile(np.array(sites, np.int32), agents), np.tile(np.array(starts, float), agents),
                      np.tile(np.array(ends, float), agents))


def _pick(rule: str, rota, commune, t, horizon=10 * DAY_MIN, w=3.0, keys=None):
    index = SessionIndex.build(rota, REACH)
    t = np.asarray(t, dtype=float)
    return choose(index, make_rule(rule, weight_min_per_day=w, logit_scale_min=5.0), np.asarray(commune), t, t + horizon, keys).tolist()


# day 0: site 0 at 09:00, site 1 at 14:00; day 1: site 1 at 09:00; day 3: site 1 at 09:00
ROTA = _rota([0, 1, 1, 1], [540, 840, 1980, 4860], [690, 990, 2130, 5010])


def test_earliest_day_then_nearest_site() -> None:
    got = _pick("earliest", ROTA, [0, 0, 1, 0], [0.0, 600.0, 600.0, 900.0])
    # commune 0 at midnight: same day, nearer site 1 (afternoon) wins over site 0 (morning)
    # commune 0 at 10:00: site 1 at 14:00; commune 1 at 10:00: site 0 has nothing later -> none
    assert got == [1, 1, -1, 2]


def test_nearest_goes_to_the_nearest_site_with_a_session_in_the_horizon() -> None:
    # commune 0 at 15:00 on day 0: site 1 (5 min) next on day 1; site 0 has no later session
    assert _pick("nearest", ROTA, [0], [900.0]) == [2]
    # a horizon of 12 h misses site 1's next session: nothing else within reach
    assert _pick("nearest", ROTA, [0], [900.0], horizon=720.0) == [-1]
    # the nearest site wins even when a farther one opens sooner: site 0 opens day 0 at 09:00
    assert _pick("nearest", ROTA, [0], [0.0]) == [1]


def test_cost_trades_travel_minutes_against_days_of_delay() -> None:
    rota = _rota([0, 1], [540.0, 3 * DAY_MIN + 540.0], [690.0, 3 * DAY_MIN + 690.0])
    # from midnight: site 0 costs 15 + w * 0.375 days, site 1 costs 5 + w * 3.375 days
    assert _pick("cost", rota, [0], [0.0], w=10 / 3.0 - 0.01) == [1]  # 10 minutes are worth more than 3 days
    assert _pick("cost", rota, [0], [0.0], w=10 / 3.0 + 0.01) == [0]
    assert _pick("cost", rota, [0], [0.0], w=0.0) == _pick("nearest", rota, [0], [0.0])


def test_logit_shares_match_the_multinomial_logit() -> None:
    rota = _rota([0, 1], [540.0, 3 * DAY_MIN + 540.0], [690.0, 3 * DAY_MIN + 690.0])
    n, w, scale = 40_000, 3.0, 5.0
    keys = request_keys(np.random.default_rng(5), n)
    got = np.array(_pick("logit", rota, np.zeros(n, np.int32), np.zeros(n), w=w, keys=keys))
    cost = np.array([15 + w * 540 / DAY_MIN, 5 + w * (3 * DAY_MIN + 540) / DAY_MIN])
    p0 = 1.0 / (1.0 + np.exp(-(cost[1] - cost[0]) / scale))
    share0 = np.mean(got == 0)
    # binomial standard error of the share with n draws; 4 of them: a correct rule fails once in 15,000 seeds
    assert abs(share0 - p0) < 4 * np.sqrt(p0 * (1 - p0) / n), (share0, p0)
    assert set(got.tolist()) == {0, 1}


def test_horizon_limits_the_wait() -> None:
    rota = _rota([1], [10 * DAY_MIN], [10 * DAY_MIN + 150])
    for rule in RULES:
        keys = np.ones(1, np.uint64)
        assert _pick(rule, rota, [0], [0.0], horizon=7 * DAY_MIN, keys=keys) == [-1]
        assert _pick(rule, rota, [0], [0.0], horizon=10 * DAY_MIN, keys=keys) == [0]


def _book(rota, commune, need, rule="earliest", slot=30.0, horizon=5 * DAY_MIN):
    first, times = appointment_slots(rota, slot)
    need = np.asarray(need, dtype=float)
    sess, rank = book(SessionIndex.build(rota, REACH), make_rule(rule, weight_min_per_day=3.0), np.asarray(commune, np.int32),
                      need, need + horizon, np.diff(first), np.ones(len(need), np.uint64))
    slot_time = np.where(sess >= 0, times[np.minimum(first[np.maximum(sess, 0)] + rank, len(times) - 1)], np.nan)
    return sess.tolist(), slot_time.tolist()


def test_full_session_sends_bookers_to_the_next_one() -> None:
    rota = _rota([1, 1], [540, 1980], [600, 2040])  # 60 min: two 30-min slots each
    assert _book(rota, [0, 0, 0], [0.0, 1.0, 2.0]) == ([0, 0, 1], [540, 570, 1980])


def test_overflow_takes_a_same_day_session_at_another_reachable_site() -> None:
    # day 0: site 0 (15 min) 09:00-09:30 and site 1 (5 min) 14:00-14:30, one slot each; day 1: site 1 again.
    # Both bookers take the earliest day, then the nearest site: the first gets site 1 at 14:00; the second
    # must get site 0 at 09:00 the same day, although it starts before the full session, not day 1.
    rota = _rota([0, 1, 1], [540, 840, 1980], [570, 870, 2010])
    sess, slots = _book(rota, [0, 0], [0.0, 1.0])
    assert sess == [1, 0] and slots == [840, 540]


def test_bookings_are_handed_out_in_need_order() -> None:
    # one slot at site 1 on each of days 1, 2 and 3. A (need at 00:00) and B (00:01) both ask for day 1;
    # C's need arises on day 1 after that session began, so C asks for day 2. A gets day 1; B, whose need
    # came before C's, must get day 2 and C day 3, not C day 2 because C asked first and B day 3.
    rota = _rota([1, 1, 1], [1980, 3420, 4860], [2010, 3450, 4890])
    sess, slots = _book(rota, [0, 0, 0], [0.0, 1.0, DAY_MIN + 600.0])
    assert sess == [0, 1, 2] and slots == [1980, 3420, 4860]


def test_no_free_slot_within_the_horizon_means_no_booking() -> None:
    rota = _rota([1], [540], [570])
    assert _book(rota, [0, 0], [0.0, 1.0])[0] == [0, -1]


def test_merged_desk_offers_the_slots_of_each_agents_hours() -> None:
    # agent a0 09:00-10:00 and agent a1 09:30-10:30 at one site: one session 09:00-10:30, slots in time order
    rota = from_rows(("a0", "a1"), np.array([0, 1], np.int32), np.zeros(2, np.int32), np.array([540.0, 570.0]),
                      np.array([600.0, 630.0]))
    assert rota.n_sessions == 1 and rota.session_start.tolist() == [540] and rota.session_end.tolist() == [630]
    first, times = appointment_slots(rota, 30.0)
    assert first.tolist() == [0, 4] and times.tolist() == [540, 570, 570, 600]


def test_front_loaded_offsets_have_the_beta_mean() -> None:
    u = np.random.default_rng(0).random(100_000)
    off = arrival_offsets(u, np.full(u.size, 150.0), "front_loaded", 3.0)
    assert off.min() >= 0 and off.max() <= 150
    assert abs(off.mean() - 150 / 4) < 0.5  # Beta(1,3) mean 1/4; standard error 0.1
    assert abs(arrival_offsets(u, np.full(u.size, 150.0), "uniform", 3.0).mean() - 75) < 0.5


def test_keyed_uniforms_are_uniform_independent_and_fixed_by_key_and_counters() -> None:
    keys = request_keys(np.random.default_rng(1), 200_000)
    a, b = keyed_uniform(keys, 0, 0), keyed_uniform(keys, 1, 0)
    assert stats.kstest(a, "uniform").pvalue > 1e-4 and stats.kstest(b, "uniform").pvalue > 1e-4
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(len(keys))  # 4 standard errors of a zero correlation
    assert np.array_equal(keyed_uniform(keys[::-1], 0, 0), a[::-1])  # a pure function of (key, counters)
    taste = site_taste(keys, np.zeros(len(keys), np.int64))
    assert abs(taste.mean() - np.euler_gamma) < 4 * np.pi / np.sqrt(6) / np.sqrt(len(keys))  # Gumbel mean


# ------------------------------------------------------------------------------------------------
# Against plain references on random small cases
# ------------------------------------------------------------------------------------------------

@st.composite
def cases(draw):
    n_sites = draw(st.integers(1, 4))
    n_communes = draw(st.integers(1, 3))
    sites, travel = [], []
    for _ in range(n_communes):
        reach = draw(st.lists(st.integers(0, n_sites - 1), unique=True, max_size=n_sites))
        minutes = sorted(draw(st.lists(st.sampled_from([0.0, 2.0, 5.0, 5.0, 12.0, 19.5]), min_size=len(reach),
                                       max_size=len(reach))))
        sites.append(reach)
        travel.append(minutes)
    width = max(1, max(len(r) for r in sites))
    reach = Reach(sites=np.array([r + [-1] * (width - len(r)) for r in sites], np.int32).reshape(n_communes, width),
                  travel_min=np.array([m + [np.inf] * (width - len(m)) for m in travel]).reshape(n_communes, width))
    rows = draw(st.lists(st.tuples(st.integers(0, 1), st.integers(0, n_sites - 1), st.integers(0, 8 * 4),
                                   st.integers(0, 3)), min_size=1, max_size=14))
    agent = np.array([r[0] for r in rows], np.int32)
    start = np.array([r[2] * 360.0 for r in rows])  # on the quarter-day, over 8 days
    end = start + np.array([r[3] * 30.0 + 10.0 for r in rows])  # 0 to 3 slots of 30 min
    rota = from_rows(("a0", "a1"), agent, np.array([r[1] for r in rows], np.int32), start, end)
    n = draw(st.integers(1, 25))
    need = np.sort(np.array(draw(st.lists(st.floats(0, 8 * DAY_MIN), min_size=n, max_size=n))))
    commune = np.array(draw(st.lists(st.integers(0, n_communes - 1), min_size=n, max_size=n)), np.int32)
    horizon = draw(st.sampled_from([0.5, 2.0, 5.0])) * DAY_MIN
    rule = make_rule(draw(st.sampled_from(sorted(RULES))), weight_min_per_day=draw(st.sampled_from([0.0, 1.0, 3.0, 40.0])),
                     logit_scale_min=5.0)
    keys = request_keys(np.random.default_rng(draw(st.integers(0, 1000))), n)
    return reach, rota, commune, need, need + horizon, rule, keys


def _best(rule, reach, rota, commune: int, t: float, until: float, key, free) -> int:
    """The cheapest reachable session starting in [t, until] that `free` allows: (cost, nearer, earlier)."""
    best = None
    for j, site in enumerate(reach.sites[commune]):
        if site < 0:
            break
        for s in np.flatnonzero(rota.session_site == site):
            start = rota.session_start[s]
            if not (t <= start <= until) or not free(s):
                continue
            cost = rule.cost(np.array([reach.travel_min[commune, j]]), np.array([start]), np.array([t]))[0]
            if rule.taste_scale_min > 0:
                cost -= rule.taste_scale_min * site_taste(np.array([key]), np.array([site]))[0]
            if best is None or (cost, j, start) < best[0]:
                best = ((cost, j, start), int(s))
    return -1 if best is None else best[1]


@settings(max_examples=300, deadline=None)
@given(cases())
def test_choose_is_the_cheapest_reachable_session(case) -> None:
    reach, rota, commune, need, until, rule, keys = case
    got = choose(SessionIndex.build(rota, reach), rule, commune, need, until, keys)
    want = [_best(rule, reach, rota, c, t, u, k, lambda s: True) for c, t, u, k in zip(commune, need, until, keys)]
    assert got.tolist() == want


@settings(max_examples=300, deadline=None)
@given(cases())
def test_booking_equals_booking_one_citizen_after_the_other(case) -> None:
    reach, rota, commune, need, until, rule, keys = case
    first, _ = appointment_slots(rota, 30.0)
    capacity = np.diff(first)
    got, rank = book(SessionIndex.build(rota, reach), rule, commune, need, until, capacity, keys)
    booked = np.zeros(rota.n_sessions, dtype=np.int64)
    want, slot = [], []
    for c, t, u, k in zip(commune, need, until, keys):
        s = _best(rule, reach, rota, c, t, u, k, lambda s: booked[s] < capacity[s])
        want.append(s)
        if s >= 0:
            slot.append(int(booked[s]))
            booked[s] += 1
    assert got.tolist() == want
    assert rank[got >= 0].tolist() == slot


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_rule_is_selectable_in_config(rule: str) -> None:
    from sim.cli import load_config

    cfg = load_config([f"citizens.choice.walk_in={rule}", f"citizens.choice.booker={rule}"])
    assert cfg.citizens.choice.walk_in == rule == cfg.citizens.choice.booker


def test_a_rule_registered_elsewhere_runs_end_to_end() -> None:
    from dataclasses import dataclass
    from typing import ClassVar

    from sim.core.choice import Rule, register
    from sim.cli import load_config
    from sim.study.experiment import run_experiment

    @register
    @dataclass(frozen=True)
    class Farthest(Rule):
        """The farthest site within reach: a rule no one would pick, to show the seam."""

        name: ClassVar[str] = "farthest"

        def cost(self, travel_min, start_min, t_from):
            return -travel_min

    try:
        cfg = load_config(["citizens.choice.walk_in=farthest", "citizens.appointment_share=0",
                           "experiment.weeks=3", "experiment.replications=2"])
        far = run_experiment(cfg, keep_requests=False, progress=False).summary
        near = run_experiment(load_config(["citizens.appointment_share=0", "experiment.weeks=3",
                                           "experiment.replications=2"]), keep_requests=False, progress=False).summary
        assert far["requests"] == near["requests"] and far["own_site_share"] < 0.2 < 0.9 < near["own_site_share"]
    finally:
        del RULES["farthest"]
