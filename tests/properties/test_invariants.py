"""Invariants of any run, over randomly drawn configurations (hypothesis).

Every request ends in exactly one outcome consistent with its columns; no visit starts beyond the horizon
counted from the need; nobody is served outside an open session or before arriving; a desk never serves more citizens at once than it has agents; no agent is at
two sites at once; each drive between consecutive sessions takes at least its travel time.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import load_config
from sim.core.choice import RULES
from sim.core.ledger import NO_SESSION, NO_SLOT, OUTCOMES, REFERRED, SERVED
from sim.core.model import run_replication
from sim.build.scenario import build_scenario

configs = st.fixed_dictionaries({
    "staffing.agents": st.integers(1, 3),
    "frequency.visits_per_site_per_week": st.sampled_from([0.5, 1.0, 2.0]),
    "demand.uptake": st.floats(0.05, 1.0),
    "citizens.appointment_share": st.floats(0.0, 1.0),
    "citizens.patience_mean_min": st.floats(5.0, 120.0),
    "citizens.p_return": st.floats(0.0, 1.0),
    "citizens.max_travel_min": st.floats(5.0, 30.0),
    "citizens.horizon_days": st.floats(1.0, 21.0),
    "citizens.choice.walk_in": st.sampled_from(sorted(RULES)),
    "citizens.choice.booker": st.sampled_from(sorted(RULES)),
    "citizens.choice.weight_min_per_day": st.sampled_from([0.0, 3.0, 30.0]),
    "experiment.weeks": st.integers(1, 3),
    "seed": st.integers(0, 10_000),
})


def _scenario(params: dict):
    overrides = [f"{k}={v}" for k, v in params.items()]
    if params["frequency.visits_per_site_per_week"] * 15 > params["staffing.agents"] * 10:
        overrides.append("staffing.agents=3")
    cfg = load_config(overrides)
    return cfg, build_scenario(cfg)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_run_invariants(params: dict) -> None:
    cfg, sc = _scenario(params)
    log = run_replication(sc, cfg.seed, 0)
    rota = sc.rota
    out = log.outcome
    n = len(out)

    # exactly one outcome each, consistent with the columns
    assert out.shape == (n,) and ((out >= 0) & (out < len(OUTCOMES))).all()
    seen = (out == SERVED) | (out == REFERRED)
    assert np.isfinite(log.service_start_min[seen]).all() and np.isnan(log.service_start_min[~seen]).all()
    never = (out == NO_SESSION) | (out == NO_SLOT)
    assert ((log.session < 0) == never).all()
    assert (log.visits[never] == 0).all() and (log.visits[~never] >= 1).all()
    assert (log.plan.booker[out == NO_SLOT]).all() and (log.plan.wanted[out == NO_SLOT] >= 0).all()
    assert (log.plan.wanted[out == NO_SESSION] < 0).all()
    # the horizon counts from the need, over every visit
    horizon = sc.citizens.horizon_days * 1440.0
    went = log.session >= 0
    assert (rota.session_start[log.session[went]] <= log.plan.need_min[went] + horizon + 1e-9).all()

    # nobody served before arriving, before the desk opened, or after closing
    s = log.session[seen]
    start = log.service_start_min[seen]
    assert (start >= log.arrival_min[seen] - 1e-9).all()
    assert (start < rota.session_end[s]).all()
    first_open = np.full(rota.n_sessions, np.inf)
    np.minimum.at(first_open, rota.row_session, log.opened_min)
    assert (start >= first_open[s] - 1e-9).all()
    assert np.allclose(log.service_end_min[seen] - start, log.plan.service_min[seen])

    # a desk serves at most as many citizens at once as it has agents
    agents = rota.session_agents
    for sess in np.unique(s):
        mine = s == sess
        t = np.concatenate([start[mine], log.service_end_min[seen][mine]])
        step = np.concatenate([np.ones(mine.sum()), -np.ones(mine.sum())])
        order = np.lexsort((step, t))  # ends before starts at equal times
        assert np.cumsum(step[order]).max() <= agents[sess]

    # no agent at two sites at once; travel time respected between consecutive sessions
    for _, _, rows in rota.agent_days():
        opened, left = log.opened_min[rows], log.left_min[rows]
        assert (opened >= rota.session_start[rota.row_session[rows]] - 1e-9).all()
        assert (left >= opened - 1e-9).all()
        gaps = opened[1:] - left[:-1]
        assert (gaps >= sc.drive_before_min[rows[1:]] - 1e-9).all()
