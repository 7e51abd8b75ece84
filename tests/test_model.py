"""Exact, hand-computed cases of the desk: FIFO order, reneging, closing, coming back, appointments, one queue
for agents sharing a site, the horizon and the waits over several visits, returns on common random numbers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conftest import desk_rows, one_desk, plan
from sim.core.ledger import GAVE_UP, RENEGED, SERVED, TURNED_AWAY
from sim.core.model import simulate
from sim.core.choice import SessionIndex
from sim.core.results import request_table
from sim.core.rota import from_rows

RNG = np.random.default_rng(0)


def test_fifo_single_agent_start_times() -> None:
    sc = one_desk([(0.0, np.inf)])
    log = simulate(sc, plan([0, 1, 2], [10, 5, 5]))
    assert log.service_start_min.tolist() == [0, 10, 15]
    assert log.service_end_min.tolist() == [10, 15, 20]
    assert (log.outcome == SERVED).all()


def test_two_agents_share_one_queue() -> None:
    sc = one_desk([(0.0, np.inf)], agents=2)
    log = simulate(sc, plan([0, 0, 1, 2], [10, 4, 3, 3]))
    # agent A: #0 0-10; agent B: #1 0-4, #2 4-7, #3 7-10
    assert log.service_start_min.tolist() == [0, 0, 4, 7]


def test_impatient_citizen_leaves_at_deadline_and_others_move_up() -> None:
    sc = one_desk([(0.0, np.inf)])
    log = simulate(sc, plan([0, 1, 2], [10, 5, 5], patience=[np.inf, 3, np.inf]))
    assert log.outcome.tolist() == [SERVED, RENEGED, SERVED]
    assert log.service_start_min[2] == 10


def test_closing_turns_away_and_service_in_progress_finishes() -> None:
    sc = one_desk([(0.0, 60.0)], p_return=0.0)
    log = simulate(sc, plan([0, 10, 20, 30], [25, 25, 25, 10]))
    assert log.service_start_min[:3].tolist() == [0, 25, 50]
    assert log.service_end_min[2] == 75  # started before closing, finished after
    assert log.outcome.tolist() == [SERVED, SERVED, SERVED, GAVE_UP]
    assert log.turned_away_visits.tolist() == [0, 0, 0, 1]
    assert log.left_min[0] == 75


def test_turned_away_citizen_comes_back_to_the_next_session() -> None:
    sc = one_desk([(0.0, 60.0), (1440.0, 1500.0)], p_return=1.0)
    log = simulate(sc, plan([0, 30], [70, 10]))
    assert log.outcome.tolist() == [SERVED, SERVED]
    assert log.visits.tolist() == [1, 2]
    assert log.session.tolist() == [0, 1]
    assert 1440 <= log.service_start_min[1] < 1500


def test_no_later_session_means_turned_away() -> None:
    sc = one_desk([(0.0, 60.0)], p_return=1.0)
    log = simulate(sc, plan([0, 30], [70, 10]))
    assert log.outcome.tolist() == [SERVED, TURNED_AWAY]


def test_appointment_goes_before_waiting_walk_ins() -> None:
    sc = one_desk([(0.0, np.inf)])
    log = simulate(sc, plan([0, 1, 5], [10, 5, 5], appointment=[False, False, True]))
    # at t=10 the appointment (arrived 5) is served before the walk-in who arrived at 1
    assert log.service_start_min.tolist() == [0, 15, 10]


def test_late_agent_opens_late_and_citizens_wait_for_them() -> None:
    sc = one_desk([(60.0, 120.0), (125.0, 180.0)])
    sc = dataclasses.replace(sc, drive_before_min=np.array([30.0, 20.0]))
    log = simulate(sc, plan([125.0], [10], session=[1]))
    assert log.opened_min.tolist() == [60.0, 140.0]  # left base at 30; 20 min drive after closing at 120
    assert log.service_start_min[0] == 140.0


@pytest.mark.parametrize("p_return", [0.0, 1.0])
def test_every_request_has_one_outcome(p_return: float) -> None:
    sc = one_desk([(0.0, 30.0), (1440.0, 1470.0)], p_return=p_return)
    log = simulate(sc, plan([0, 0, 0, 0], [20, 20, 20, 20]))
    assert len(log.outcome) == 4 and set(log.outcome.tolist()) <= set(range(6))


def test_agents_at_one_site_with_overlapping_hours_pull_from_one_queue() -> None:
    # agent 1 holds 00:00-01:00 and agent 2 00:30-01:30 at the same site: one desk, one queue
    sc = desk_rows([(0, 0.0, 60.0), (1, 30.0, 90.0)])
    assert sc.rota.n_sessions == 1
    log = simulate(sc, plan([0, 0, 0, 0], [25, 25, 25, 25]))
    # agent 1: #0 0-25, #1 25-50, #3 50-75 (still before its end at 60), then leaves; agent 2 opens at 30: #2
    assert log.service_start_min.tolist() == [0, 25, 30, 50]
    assert log.left_min.tolist() == [75, 90]  # agent 2 stays until the desk closes


def test_an_idle_agent_leaves_at_the_end_of_its_own_hours() -> None:
    sc = desk_rows([(0, 0.0, 60.0), (1, 0.0, 120.0)])
    log = simulate(sc, plan([100.0], [10]))
    assert log.left_min.tolist() == [60, 120] and log.service_start_min.tolist() == [100]


def test_queue_wait_is_kept_for_the_last_visit_and_over_all_visits() -> None:
    sc = one_desk([(0.0, 60.0), (1440.0, 1500.0)], p_return=1.0)
    log = simulate(sc, plan([0, 30], [70, 10]))
    table = request_table(sc, log, 0)
    assert log.earlier_wait_min.tolist() == [0, 30]  # waited 30 min before closing turned them away
    last = log.service_start_min[1] - log.arrival_min[1]
    assert table["queue_wait_min"].tolist() == [0, last]
    assert table["queue_wait_total_min"].tolist() == [0, 30 + last]


def test_the_horizon_counts_from_the_need_not_from_each_closing() -> None:
    # the agent is still serving #0 (30,000 min) when the day-20 session closes: #1 is turned away twice
    sessions = [(0.0, 60.0), (20 * 1440.0, 20 * 1440.0 + 60), (40 * 1440.0, 40 * 1440.0 + 60)]
    sc = one_desk(sessions, p_return=1.0, horizon_days=28.0)
    log = simulate(sc, plan([0, 30], [30_000, 10]))
    assert log.outcome[1] == TURNED_AWAY and log.visits[1] == 2  # day 40 is beyond need + 28 days
    log = simulate(one_desk(sessions, p_return=1.0, horizon_days=50.0), plan([0, 30], [30_000, 10]))
    assert log.visits[1] == 3


def test_return_decisions_are_the_requests_own_whatever_the_order_of_closings() -> None:
    # Twenty walk-ins at a session of site 1 and twenty at one of site 0, whose agents arrive after closing:
    # all are turned away and may come back (p 0.5) to site 0 on day 2. Lengthening the site-1 session swaps
    # the order in which the two close; each request's decisions must not change.
    def run(end_site1: float):
        base = desk_rows([(0, 0.0, 60.0)], p_return=0.5)
        rota = from_rows(("a", "b", "c"), np.array([0, 1, 2], np.int32), np.array([1, 0, 0], np.int32),
                          np.array([0.0, 0.0, 2880.0]), np.array([end_site1, 100.0, 3000.0]))
        drive = np.where(rota.row_agent < 2, 1000.0, 0.0)  # agents a and b open after their session closed
        sc = dataclasses.replace(base, rota=rota, index=SessionIndex.build(rota, base.reach), drive_before_min=drive,
                                 km_before=np.zeros(3), drive_after_min=np.zeros(3), km_after=np.zeros(3))
        assert rota.session_site.tolist() == [0, 1, 0]  # sessions by start, then site
        return simulate(sc, plan([0.0] * 40, [1.0] * 40, session=[1] * 20 + [0] * 20))

    a, b = run(60.0), run(120.0)
    assert 5 < (a.outcome == GAVE_UP).sum() < 35 and set(a.outcome.tolist()) == {SERVED, GAVE_UP}
    assert a.outcome.tolist() == b.outcome.tolist()
    back = a.visits == 2
    assert np.array_equal(a.arrival_min[back], b.arrival_min[back])
