"""The robust recommendation: probabilities of meeting the targets under the uncertain assumptions, and the
cheapest set-up reaching the chosen probability."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from sim.core.errors import InputError
from sim.core.stats import wilson_interval
from sim.study.optimise import Target
from sim.study.robust import assumption_sample, robust


def test_probabilities_and_the_cheapest_robust_setup_on_a_known_model() -> None:
    """KPI = capacity - u with u uniform on [0, 1] (Latin hypercube: exactly one sample per tenth): a set-up of
    capacity c meets KPI >= 0 with probability min(c, 1); cost = 10 c."""
    def run(overrides: list[str]) -> dict:
        values = dict(o.split("=") for o in overrides)
        c, u = float(values["capacity"]), float(values["u"])
        return {"kpi": c - u, "cost": 10 * c}

    setups = {f"c{c}": [f"capacity={c}"] for c in (0.5, 0.7, 0.8, 1.2)}
    table = robust(run, setups, {"u": (0.0, 1.0)}, [Target("kpi", ">=", 0.0)], cost="cost", samples=10,
                   probability=0.8).set_index("setup")
    assert table["p_meets_targets"].to_dict() == {"c0.5": 0.5, "c0.7": 0.7, "c0.8": 0.8, "c1.2": 1.0}
    assert table["recommended"].to_dict() == {"c0.5": False, "c0.7": False, "c0.8": True, "c1.2": False}
    assert table.loc["c0.8", "cost_mean"] == pytest.approx(8.0)


def test_wilson_interval_and_bad_arguments() -> None:
    low, high = wilson_interval(0.7, 10)
    assert (round(low, 3), round(high, 3)) == (0.397, 0.892)
    with pytest.raises(InputError, match="--probability: must be in"):
        robust(lambda o: {}, {"a": []}, {"u": (0, 1)}, [], probability=1.5)
    with pytest.raises(InputError, match="--samples: must be >= 1"):
        assumption_sample({"u": (0, 1)}, 0)


def test_the_sweep_command_recommends_among_the_best_runs(tmp_path) -> None:
    sweep = tmp_path / "sweep"
    made = subprocess.run([sys.executable, "-m", "sim", "-m", "staffing.agents=1,2", "frequency.visits_per_site_per_week=1",
                           "experiment.replications=2", "experiment.weeks=3", "output.figures=false", "output.report=false",
                           "output.requests=false", "output.print_table=false", f"hydra.sweep.dir={sweep}"],
                          capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    r = subprocess.run([sys.executable, "-m", "sim.sweep", "robust", str(sweep), "--samples", "3", "--target",
                        "access_delay_days_p90<=30"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(sweep / "robust.csv")
    assert len(table) == 1 and table["recommended"].sum() == 1  # one agent cannot hold weekly visits: one run ok
    assert "recommended (cheapest meeting every target with probability >= 0.8): run 1" in r.stdout
    bad = subprocess.run([sys.executable, "-m", "sim.sweep", "robust", str(sweep), "--top", "0"], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip() == "error: --top: must be >= 1, got 0"
