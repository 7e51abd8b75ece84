"""Same numbers everywhere: each run's summary.json is bit-identical to the one computed in process, under the
basic, joblib, submitit-local and SLURM launchers and whatever the order of the runs; an infeasible point fails
alone under every launcher.

The SLURM test needs the single-node cluster (`.ci/slurm/slurm-single-node.sh up`); without it, it skips with
the reason, or fails when SIM_REQUIRE_SLURM=1 (as .ci/run sets).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from conftest import ROOT
from sim.cli import load_config
from sim.study.experiment import run_experiment
from sim.study.outputs import write_json

SETTINGS = ["experiment.weeks=2", "experiment.replications=2", "frequency.visits_per_site_per_week=1",
            "output.print_table=false", "output.figures=false", "output.report=false", "output.requests=false"]
FEASIBLE = (2, 3)  # agents; 1 agent cannot visit 15 sites once a week


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[int, bytes]:
    """summary.json of each feasible point, computed in process without Hydra."""
    out = {}
    for agents in FEASIBLE:
        path = tmp_path_factory.mktemp("reference") / "summary.json"
        write_json(path, run_experiment(load_config([*SETTINGS, f"staffing.agents={agents}"])).summary)
        out[agents] = path.read_bytes()
    return out


def launch(sweep_dir: Path, agents: str, *launcher: str) -> dict[int, bytes]:
    """Sweep staffing.agents over `agents` with a launcher; check the table; {agents: summary.json bytes}."""
    cmd = [sys.executable, "-m", "sim", "-m", *launcher, f"staffing.agents={agents}", *SETTINGS,
           f"hydra.sweep.dir={sweep_dir}"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{' '.join(launcher) or 'basic'}:\n{r.stdout}\n{r.stderr}"
    table = pd.read_parquet(sweep_dir / "sweep.parquet").set_index("staffing.agents")
    assert table.loc[1, "status"] == "failed" and "1 agent" in table.loc[1, "error"]
    assert list(table.loc[list(FEASIBLE), "status"]) == ["ok", "ok"]
    found = {}
    for run in sweep_dir.glob("*/summary.json"):
        overrides = OmegaConf.load(run.parent / ".hydra" / "overrides.yaml")
        found[int(next(o for o in overrides if o.startswith("staffing.agents=")).split("=")[1])] = run.read_bytes()
    return found


def test_same_summary_in_process_and_under_basic_joblib_and_local_launchers_in_any_order(
        tmp_path: Path, reference: dict[int, bytes]) -> None:
    assert launch(tmp_path / "basic", "1,2,3") == reference
    assert launch(tmp_path / "joblib", "3,1,2", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2") == reference
    assert launch(tmp_path / "local", "2,1,3", "hydra/launcher=local", "hydra.launcher.timeout_min=5") == reference


@pytest.mark.slurm
def test_same_summary_on_slurm(tmp_path: Path, reference: dict[int, bytes], slurm: None) -> None:
    sweep_dir = tmp_path / "slurm"
    assert launch(sweep_dir, "3,1,2", "hydra/launcher=slurm", "hydra.launcher.timeout_min=5") == reference
    scripts = list((sweep_dir / ".submitit").rglob("*_submission.sh"))
    assert scripts and "#SBATCH" in scripts[0].read_text(), "the runs must have been submitted with sbatch"
