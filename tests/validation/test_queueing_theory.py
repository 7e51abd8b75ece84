"""The model's desk against exact queueing theory, through the `scenario=mmc` path of the same code.

Erlang C (M/M/c) checks the share who wait and the mean wait; Erlang A (M/M/c+M) checks the share who
abandon and the mean wait of all arrivals. Each case runs R independent replications; the tolerance is
the 99.9% t-interval half-width of the replication means (so a correct model fails a given check about
once in a thousand seeds), plus nothing else: it is never widened to pass.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.cli import load_config
from sim.study.experiment import run_experiment
from sim.core.theory import erlang_a, erlang_c

REPS = 10
CONFIDENCE = 0.999


def _run(lam: float, mu: float, c: int, theta: float, hours: float) -> dict[str, np.ndarray]:
    cfg = load_config([
        "scenario=mmc", f"mmc.arrival_rate_per_hour={lam}", f"mmc.service_rate_per_hour={mu}",
        f"mmc.servers={c}", f"mmc.patience_rate_per_hour={theta}", f"mmc.hours={hours}",
        f"mmc.warmup_hours={hours / 20}", f"experiment.replications={REPS}", "seed=11",
    ])
    res = run_experiment(cfg, keep_requests=False)
    k = res.kpis[(res.kpis["scope"] == "overall")]
    return {
        row.metric: (row.mean, row.ci_low, row.ci_high, row.n) for row in k.itertuples()
    }


def _within(sim: tuple, theory: float, name: str) -> None:
    mean, lo, hi, n = sim
    half95 = (hi - lo) / 2
    se = half95 / stats.t.ppf(0.975, n - 1)
    tol = stats.t.ppf(1 - (1 - CONFIDENCE) / 2, n - 1) * se
    assert abs(mean - theory) <= tol, f"{name}: simulated {mean:.5g} vs theory {theory:.5g}, tolerance {tol:.3g}"


ERLANG_C_CASES = [  # (arrival /h, service /h, servers, hours): loads 0.5, 0.9, 0.95
    (1.0, 2.0, 1, 4000.0),
    (4.5, 1.0, 5, 3000.0),
    (19.0, 2.0, 10, 1500.0),
]


@pytest.mark.parametrize("lam,mu,c,hours", ERLANG_C_CASES)
def test_mmc_matches_erlang_c(lam: float, mu: float, c: int, hours: float) -> None:
    theory = erlang_c(lam, mu, c)
    got = _run(lam, mu, c, 0.0, hours)
    _within(got["p_wait"], theory.p_wait, "p_wait")
    _within(got["queue_wait_all_min_mean"], theory.mean_wait * 60.0, "mean wait (min)")
    assert got["abandon_share"][0] == 0.0


ERLANG_A_CASES = [  # (arrival /h, service /h, servers, patience /h, hours): loads 0.83, 1.0, 1.2
    (10.0, 2.0, 6, 1.0, 1000.0),
    (10.0, 2.0, 5, 1.0, 1000.0),
    (3.0, 1.0, 2, 0.5, 2000.0),
]


@pytest.mark.parametrize("lam,mu,c,theta,hours", ERLANG_A_CASES)
def test_mmc_with_impatience_matches_erlang_a(lam: float, mu: float, c: int, theta: float, hours: float) -> None:
    theory = erlang_a(lam, mu, c, theta)
    got = _run(lam, mu, c, theta, hours)
    _within(got["abandon_share"], theory.p_abandon, "abandon share")
    _within(got["queue_wait_all_min_mean"], theory.mean_wait_all * 60.0, "mean wait of all arrivals (min)")
    _within(got["queue_wait_min_mean"], theory.mean_wait_served * 60.0, "mean wait of the served (min)")
    _within(got["p_wait"], theory.p_wait, "p_wait")
