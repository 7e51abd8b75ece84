"""The default scenario reproduces what the Saint-Amand-les-Eaux pilot was seen to handle.

Préfecture du Nord, May 2021: more than 79 appointments in the first four weeks and 40 more booked for
the next two, about 20 requests a week. `demand.uptake` is calibrated to that; with 10 replications the
standard error of the weekly figure is about 0.5, so +-2 is a 4-sigma band around the target.
"""

from __future__ import annotations

from sim.cli import load_config
from sim.study.experiment import run_experiment

PILOT_REQUESTS_PER_WEEK = 20.0


def test_default_scenario_sees_the_pilots_weekly_requests() -> None:
    res = run_experiment(load_config([]), keep_requests=False)
    s = res.summary
    assert s["replications"] == 10 and s["weeks"] == 13 and s["sites"] == 15
    assert abs(s["seen_per_week"] - PILOT_REQUESTS_PER_WEEK) < 2.0, s["seen_per_week"]
    # a mature network's rate would be about 154 needs a week in the canton (brief)
    mature = run_experiment(load_config(["demand=mature", "experiment.replications=3"]), keep_requests=False)
    assert 140 < mature.summary["requests"] / 13 < 170
