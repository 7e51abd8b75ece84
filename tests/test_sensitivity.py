"""Global sensitivity: Morris and Sobol against functions with known indices, and on the model with common random
numbers (a setting without effect on a KPI gets exactly 0)."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.study.sensitivity import design, indices, problem_of, sensitivity

ISHIGAMI = {"x1": (-np.pi, np.pi), "x2": (-np.pi, np.pi), "x3": (-np.pi, np.pi)}


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_the_ishigami_function() -> None:
    """Known: S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244 (Saltelli et al. 2010). With n = 4096 the
    bootstrap CIs are about +-0.03: the tolerance is 0.05."""
    problem = problem_of(ISHIGAMI)
    x = design(problem, "sobol", n=4096)
    table = indices(problem, x, {"y": ishigami(x)}, "sobol").set_index("parameter")
    assert table["S1"].to_numpy() == pytest.approx([0.314, 0.442, 0.0], abs=0.05)
    assert table["ST"].to_numpy() == pytest.approx([0.558, 0.442, 0.244], abs=0.05)


def test_morris_ranks_a_linear_function_by_its_slopes_and_gives_zero_to_a_dead_input() -> None:
    """y = 3 a - b + 0 c on [0, 1]^3: every elementary effect of a is 3, of b -1, of c 0 (exactly)."""
    problem = problem_of({"a": (0, 1), "b": (0, 1), "c": (0, 1)})
    x = design(problem, "morris", trajectories=20)
    y = 3 * x[:, 0] - x[:, 1]
    table = indices(problem, x, {"y": y}, "morris").set_index("parameter")
    assert table["mu_star"].to_numpy() == pytest.approx([3.0, 1.0, 0.0])
    assert table["sigma"].to_numpy() == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    assert table.loc["b", "mu"] == pytest.approx(-1.0)


def test_bad_bounds_and_methods_are_refused() -> None:
    with pytest.raises(sim.InputError, match="sensitivity.bounds.x: needs finite low < high"):
        problem_of({"x": (1.0, 1.0)})
    with pytest.raises(sim.InputError, match="sensitivity.method: must be one of morris, sobol"):
        design(problem_of({"x": (0, 1)}), "fast")


def test_on_the_model_cost_per_km_moves_the_cost_and_nothing_that_waits() -> None:
    table = sim.sensitivity({"demand.uptake": (0.1, 0.3), "staffing.cost_per_km": (0.2, 0.6),
                             "citizens.patience_mean_min": (30, 90)}, trajectories=3,
                            overrides=["experiment.replications=2", "experiment.weeks=3"])
    by = table.set_index(["parameter", "kpi"])["mu_star"]
    for kpi in ("share_wait_le_20min", "queue_wait_min_mean", "access_delay_days_mean", "share_needs_met_within_7d",
                "reneged"):
        assert by[("staffing.cost_per_km", kpi)] == 0.0, kpi
    assert by[("staffing.cost_per_km", "cost_per_served")] > 0
    assert by[("demand.uptake", "queue_wait_min_mean")] > 0 and by[("citizens.patience_mean_min", "reneged")] > 0
    assert len(table) == 3 * 6


def test_a_run_is_given_every_point_on_the_base_overrides() -> None:
    seen = []
    table = sensitivity(lambda o: seen.append(o) or {"k": float(len(o))}, {"x": (0, 1), "n": (1, 4)}, trajectories=2,
                        overrides=["seed=3"], kpis=("k",), integers=("n",))
    assert len(seen) == table.attrs["points"] == 2 * 3
    assert all(o[0] == "seed=3" and o[2].startswith("n=") and "." not in o[2] for o in seen)


def test_experiment_sensitivity_is_a_resumable_sweep_with_the_same_indices(tmp_path) -> None:
    """Two Morris trajectories of the named assumptions, as a sweep of 18 runs: the indices equal those of
    sim.sensitivity on the same settings; a range of points that does not fit the design is refused."""
    import subprocess
    import sys

    import pandas as pd

    from sim.config import SENSITIVITY_BOUNDS

    small = ["experiment.replications=2", "experiment.weeks=3"]
    cmd = [sys.executable, "-m", "sim", "experiment=sensitivity", "sensitivity.trajectories=2", *small,
           f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    wrong = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert wrong.returncode == 2 and "error: sensitivity.point: must be below 18" in wrong.stderr, wrong.stderr
    assert not (tmp_path / "sweep").exists()
    done = subprocess.run([*cmd, "sensitivity.point=range(0,18)"], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    swept = pd.read_csv(tmp_path / "sweep" / "sensitivity.csv").set_index(["parameter", "kpi"])
    direct = sim.sensitivity({k: tuple(v) for k, v in SENSITIVITY_BOUNDS.items()}, trajectories=2,
                             overrides=small).set_index(["parameter", "kpi"])
    assert swept["mu_star"].to_numpy() == pytest.approx(direct.loc[swept.index, "mu_star"].to_numpy(), rel=1e-5, abs=1e-9)
    assert (tmp_path / "sweep" / "sensitivity.png").read_bytes().startswith(b"\x89PNG")
