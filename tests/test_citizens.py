"""Session choice (earliest day, then nearest site), the horizon, and appointment booking."""

from __future__ import annotations

import numpy as np

from sim.citizens import SessionFinder, arrival_offsets, book_appointments
from sim.rota import Rota
from sim.territory import Reach


def _rota(sites, starts, ends, agents=None) -> Rota:
    n = len(sites)
    return Rota(agent_names=("a",), session_site=np.array(sites, np.int32), session_start=np.array(starts, float),
                session_end=np.array(ends, float), row_agent=np.zeros(n, np.int32), row_session=np.arange(n, dtype=np.int32))


# commune 0 reaches site 1 (5 min) then site 0 (15 min); commune 1 reaches only site 0
REACH = Reach(sites=np.array([[1, 0], [0, -1]], np.int32), travel_min=np.array([[5.0, 15.0], [3.0, np.inf]]))


def test_earliest_day_then_nearest_site() -> None:
    # day 0: site 0 at 09:00, site 1 at 14:00; day 1: site 1 at 09:00
    rota = _rota([0, 1, 1], [540, 840, 1980], [690, 990, 2130])
    f = SessionFinder.build(rota, REACH)
    got = f.next_session(np.array([0, 0, 1, 0]), np.array([0.0, 600.0, 600.0, 900.0]), 10 * 1440.0)
    # commune 0 at midnight: same day, nearer site 1 (afternoon) wins over site 0 (morning)
    # commune 0 at 10:00: site 1 at 14:00; commune 1 at 10:00: site 0 has nothing later -> none
    assert got.tolist() == [1, 1, -1, 2]


def test_horizon_limits_the_wait() -> None:
    rota = _rota([1], [10 * 1440.0], [10 * 1440.0 + 150])
    f = SessionFinder.build(rota, REACH)
    assert f.next_session(np.array([0]), np.array([0.0]), 7 * 1440.0).tolist() == [-1]
    assert f.next_session(np.array([0]), np.array([0.0]), 10 * 1440.0).tolist() == [0]


def test_full_session_sends_bookers_to_the_next_one() -> None:
    rota = _rota([1, 1], [540, 1980], [600, 2040])  # 60 min: two 30-min slots each
    f = SessionFinder.build(rota, REACH)
    commune = np.zeros(3, np.int32)
    need = np.array([0.0, 1.0, 2.0])
    sess, slot = book_appointments(f, rota, commune, need, np.zeros(3, np.int32), 30.0, 5 * 1440.0)
    assert sess.tolist() == [0, 0, 1] and slot.tolist() == [540, 570, 1980]


def test_front_loaded_offsets_have_the_beta_mean() -> None:
    u = np.random.default_rng(0).random(100_000)
    off = arrival_offsets(u, np.full(u.size, 150.0), "front_loaded", 3.0)
    assert off.min() >= 0 and off.max() <= 150
    assert off.mean() == np.float64(off.mean()) and abs(off.mean() - 150 / 4) < 0.5  # Beta(1,3) mean 1/4
    assert abs(arrival_offsets(u, np.full(u.size, 150.0), "uniform", 3.0).mean() - 75) < 0.5
