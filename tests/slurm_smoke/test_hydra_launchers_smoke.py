"""Smoke tests of the project's Hydra launcher configs (configs/hydra/launcher/).

A tiny app (app.py) whose config folder links to configs/hydra/launcher is swept
over x=1,2 with each launcher; every run must write result.json with x*x.

The SLURM test needs a reachable cluster with a partition `debug` (for CI:
`sudo .ci/slurm/slurm-single-node.sh up`); without one it is skipped with the reason
(or fails, when SIM_REQUIRE_SLURM=1 as in .ci/run).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
APP = HERE / "app.py"
CONF = HERE / "conf"
PARTITION = "debug"  # what configs/hydra/launcher/slurm.yaml asks for; the `slurm` fixture (conftest.py) checks it


def run_sweep(launcher: str, sweep_dir: Path, *extra: str, timeout_s: float = 300) -> float:
    """Run the 2-point sweep x=1,2 with `launcher`, check both results, return wall time (s)."""
    cmd = [sys.executable, str(APP), "-m", f"hydra/launcher={launcher}", "x=1,2",
           f"hydra.sweep.dir={sweep_dir}", *extra]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, f"sweep failed ({launcher}):\n{proc.stdout}\n{proc.stderr}"
    records = [json.loads((sweep_dir / str(i) / "result.json").read_text()) for i in (0, 1)]
    assert [r["x"] for r in records] == [1, 2]
    assert [r["result"] for r in records] == [1, 4]
    assert len({r["pid"] for r in records}) == 2, "each point must run in its own process"
    return elapsed


def test_launcher_configs_compose():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        slurm = compose("config", overrides=["hydra/launcher=slurm"], return_hydra_config=True)
        local = compose("config", overrides=["hydra/launcher=local"], return_hydra_config=True)
        with warnings.catch_warnings():
            # joblib.yaml shadows the plugin's own `joblib` config (see the comment in it)
            warnings.filterwarnings("ignore", message=r"(?s).*validated against ConfigStore schema")
            joblib = compose("config", overrides=["hydra/launcher=joblib"], return_hydra_config=True)
        basic = compose("config", return_hydra_config=True)

    sl = slurm.hydra.launcher
    assert sl._target_ == "hydra_plugins.sim_launchers.SlurmLauncher"  # submitit's, surviving lost jobs
    assert (sl.partition, sl.timeout_min, sl.cpus_per_task, sl.mem_gb, sl.tasks_per_node, sl.nodes) == (
        PARTITION, 60, 1, 1, 1, 1)
    assert local.hydra.launcher._target_ == "hydra_plugins.sim_launchers.LocalLauncher"
    assert joblib.hydra.launcher._target_.endswith("joblib_launcher.JoblibLauncher")
    assert (joblib.hydra.launcher.n_jobs, joblib.hydra.launcher.backend) == (-1, "loky")
    assert basic.hydra.launcher._target_.endswith("basic_launcher.BasicLauncher")


def test_sweep_joblib(tmp_path):
    run_sweep("joblib", tmp_path / "sweep")


def test_sweep_submitit_local(tmp_path):
    run_sweep("local", tmp_path / "sweep", "hydra.launcher.timeout_min=5")


@pytest.mark.slurm
def test_sweep_slurm(tmp_path, slurm):
    # The jobs run this interpreter and write into tmp_path: fine on a single-node
    # cluster; on a multi-node one both must be on a shared filesystem.
    elapsed = run_sweep("slurm", tmp_path / "sweep", "hydra.launcher.timeout_min=5")
    records = [json.loads((tmp_path / "sweep" / str(i) / "result.json").read_text()) for i in (0, 1)]
    assert all(r["slurm_job_id"] for r in records), "results must come from SLURM jobs"
    assert sorted(r["slurm_array_task_id"] for r in records) == ["0", "1"]
    print(f"SLURM sweep of 2 points: {elapsed:.1f} s from submission to results")
