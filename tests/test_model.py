"""Exact, hand-computed cases of the desk: FIFO order, reneging, closing, coming back, appointments."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conftest import one_desk, plan
from sim.model import GAVE_UP, RENEGED, SERVED, TURNED_AWAY, simulate

RNG = np.random.default_rng(0)


def test_fifo_single_agent_start_times() -> None:
    sc = one_desk([(0.0, np.inf)])
    log = simulate(sc, plan([0, 1, 2], [10, 5, 5]), RNG)
    assert log.service_start_min.tolist() == [0, 10, 15]
    assert log.service_end_min.tolist() == [10, 15, 20]
    assert (log.outcome == SERVED).all()


def test_two_agents_share_one_queue() -> None:
    sc = one_desk([(0.0, np.inf)], agents=2)
    log = simulate(sc, plan([0, 0, 1, 2], [10, 4, 3, 3]), RNG)
    # agent A: #0 0-10; agent B: #1 0-4, #2 4-7, #3 7-10
    assert log.service_start_min.tolist() == [0, 0, 4, 7]


def test_impatient_citizen_leaves_at_deadline_and_others_move_up() -> None:
    sc = one_desk([(0.0, np.inf)])
    log = simulate(sc, plan([0, 1, 2], [10, 5, 5], patience=[np.inf, 3, np.inf]), RNG)
    assert log.outcome.tolist() == [SERVED, RENEGED, SERVED]
    assert log.service_start_min[2] == 10


def test_closing_turns_away_and_service_in_progress_finishes() -> None:
    sc = one_desk([(0.0, 60.0)], p_return=0.0)
    log = simulate(sc, plan([0, 10, 20, 30], [25, 25, 25, 10]), RNG)
    assert log.service_start_min[:3].tolist() == [0, 25, 50]
    assert log.service_end_min[2] == 75  # started before closing, finished after
    assert log.outcome.tolist() == [SERVED, SERVED, SERVED, GAVE_UP]
    assert log.turned_away_visits.tolist() == [0, 0, 0, 1]
    assert log.left_min[0] == 75


def test_turned_away_citizen_comes_back_to_the_next_session() -> None:
    sc = one_desk([(0.0, 60.0), (1440.0, 1500.0)], p_return=1.0)
    log = simulate(sc, plan([0, 30], [70, 10]), RNG)
    assert log.outcome.tolist() == [SERVED, SERVED]
    assert log.visits.tolist() == [1, 2]
    assert log.session.tolist() == [0, 1]
    assert 1440 <= log.service_start_min[1] < 1500


def test_no_later_session_means_turned_away() -> None:
    sc = one_desk([(0.0, 60.0)], p_return=1.0)
    log = simulate(sc, plan([0, 30], [70, 10]), RNG)
    assert log.outcome.tolist() == [SERVED, TURNED_AWAY]


def test_appointment_goes_before_waiting_walk_ins() -> None:
    sc = one_desk([(0.0, np.inf)])
    log = simulate(sc, plan([0, 1, 5], [10, 5, 5], appointment=[False, False, True]), RNG)
    # at t=10 the appointment (arrived 5) is served before the walk-in who arrived at 1
    assert log.service_start_min.tolist() == [0, 15, 10]


def test_late_agent_opens_late_and_citizens_wait_for_them() -> None:
    sc = one_desk([(60.0, 120.0), (120.0, 180.0)])
    sc = dataclasses.replace(sc, drive_before_min=np.array([30.0, 20.0]))
    log = simulate(sc, plan([120.0], [10], session=[1]), RNG)
    assert log.opened_min.tolist() == [60.0, 140.0]  # left base at 30; 20 min drive after closing at 120
    assert log.service_start_min[0] == 140.0


@pytest.mark.parametrize("p_return", [0.0, 1.0])
def test_every_request_has_one_outcome(p_return: float) -> None:
    sc = one_desk([(0.0, 30.0), (1440.0, 1470.0)], p_return=p_return)
    log = simulate(sc, plan([0, 0, 0, 0], [20, 20, 20, 20]), RNG)
    assert len(log.outcome) == 4 and set(log.outcome.tolist()) <= set(range(6))
