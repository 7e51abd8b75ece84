"""A run's replications as separate jobs (submitit): the same summary.json as replications in process.

`experiment.cluster.backend=submitit_local` runs the jobs as local processes through submitit (always
tested); `slurm` submits them to the single-node cluster that .ci/run brings up (skipped without it, a
failure with SIM_REQUIRE_SLURM=1).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from sim.cli import load_config
from sim.core.errors import InputError

SETTINGS = ["experiment.weeks=3", "experiment.replications=5", "output.print_table=false", "output.figures=false",
            "output.report=false", "output.requests=false"]


def run(out: Path, *cluster: str) -> bytes:
    done = subprocess.run([sys.executable, "-m", "sim", *SETTINGS, *cluster, f"hydra.run.dir={out}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return (out / "summary.json").read_bytes()


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return run(tmp_path_factory.mktemp("local") / "run")


def test_replications_as_local_jobs_give_the_local_summary(tmp_path: Path, local: bytes) -> None:
    assert run(tmp_path / "jobs", "experiment.cluster.backend=submitit_local",
               "experiment.cluster.replications_per_job=2") == local
    assert len(list((tmp_path / "jobs" / ".submitit").rglob("*_result.pkl"))) == 3  # 5 replications, 2 a job


@pytest.mark.slurm
def test_replications_on_slurm_give_the_local_summary(tmp_path: Path, local: bytes, slurm: None) -> None:
    assert run(tmp_path / "slurm", "experiment.cluster.backend=slurm", "experiment.cluster.partition=debug",
               "experiment.cluster.timeout_min=5", "experiment.cluster.mem_gb=1",
               "experiment.cluster.replications_per_job=2") == local
    scripts = list((tmp_path / "slurm" / ".submitit").rglob("*_submission.sh"))
    assert scripts and "#SBATCH" in scripts[0].read_text()


@pytest.mark.parametrize("override,message", [
    ("experiment.cluster.backend=moon", "experiment.cluster.backend: must be one of local, slurm, submitit_local"),
    ("experiment.cluster.replications_per_job=0", "experiment.cluster.replications_per_job: must be >= 1"),
    ("experiment.cluster.mem_gb=-1", "experiment.cluster.mem_gb: must be > 0"),
])
def test_bad_cluster_settings_are_refused(override: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_config([override])
