"""Faults on the real single-node SLURM cluster (.ci/slurm/): a job preempted, a job whose process is killed by
a signal, a job cancelled, a second sweep on a folder in use, and a job that hits its time limit. Each time,
the sweep goes on, says which runs are incomplete, and a resumed (or requeued) sweep ends with the table of an
uninterrupted sweep, byte for byte.

Needs the cluster (`.ci/slurm/slurm-single-node.sh up`); without it these skip with the reason, or fail when
SIM_REQUIRE_SLURM=1 (as .ci/run sets). About three minutes: SLURM checks time limits every 30 s and a requeued
job waits cred_expire (15 s on the CI cluster) before it starts again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from conftest import checkpoints_of, one_error_line, run, start, sweep_cmd, wait_for

pytestmark = pytest.mark.slurm

SLURM = ["hydra/launcher=slurm", "hydra.launcher.timeout_min=5"]
POINTS = ["seed=0,1,2", "experiment.weeks=520", "experiment.replications=100"]  # about 8 s a run


def array_job(sweep_dir: Path) -> str:
    """The SLURM array job id of a sweep, from its job folders `.submitit/<id>_<index>/`."""
    found: list[str] = []

    def submitted() -> bool:
        folder = sweep_dir / ".submitit"
        found[:] = sorted(p.name.split("_")[0] for p in folder.glob("*_*") if p.is_dir()) if folder.is_dir() else []
        return bool(found)

    wait_for(submitted)
    return found[0]


def kill_process_of(task: str) -> None:
    """SIGKILL the Python process of a running SLURM job step (as the kernel's OOM killer would)."""
    job = subprocess.run(["squeue", "-h", "-r", "-j", task, "-o", "%A"], capture_output=True, text=True).stdout.strip()
    pids = subprocess.run(["scontrol", "listpids", job], capture_output=True, text=True).stdout.splitlines()[1:]
    step = [int(line.split()[0]) for line in pids if line.split()[2] == "0"]
    assert step, pids
    for pid in step:
        os.kill(pid, signal.SIGKILL)


def test_preempted_killed_and_cancelled_jobs_and_a_second_sweep(tmp_path: Path, slurm: None) -> None:
    reference = start(sweep_cmd(tmp_path / "reference", *POINTS))  # the uninterrupted sweep, meanwhile
    out = tmp_path / "sweep"
    sweep = start(sweep_cmd(out, *POINTS, *SLURM))
    job = array_job(out)
    subprocess.run(["scancel", f"{job}_2"], check=True)  # pending behind the two others: cancelled before it runs
    wait_for(lambda: checkpoints_of(out / "0") >= 2, sweep)
    subprocess.run(["scancel", "--signal=USR2", f"{job}_0"], check=True)  # what SLURM sends a preempted job
    wait_for(lambda: checkpoints_of(out / "1") >= 2, sweep)
    kill_process_of(f"{job}_1")

    second = run(sweep_cmd(out, *POINTS, *SLURM))
    assert second.returncode == 2
    assert one_error_line(second.stderr).startswith(f"error: hydra.sweep.dir: {out} is in use by another sweep")

    stdout, stderr = sweep.communicate(timeout=600)
    assert sweep.returncode == 1, stderr
    assert f"error: run {out / '1'}: slurm job {job}_1 ended FAILED" in stderr, stderr
    assert f"error: run {out / '2'}: slurm job {job}_2 vanished from the queue" in stderr, stderr
    assert "error: 2 run(s) incomplete" in stderr
    table = pd.read_csv(out / "sweep.csv")
    assert list(table["status"]) == ["ok", "incomplete", "incomplete"]
    log = next((out / ".submitit").glob(f"{job}_0/*_log.out")).read_text()
    assert "Requeued" in log, log  # preempted, requeued, finished from its kept replications:
    assert json.loads((out / "0" / "run.json").read_text())["replications_from_checkpoints"] >= 2

    resumed = run(sweep_cmd(out, *POINTS, *SLURM))
    assert resumed.returncode == 0, resumed.stderr
    assert reference.wait(timeout=600) == 0, reference.communicate()
    assert (out / "sweep.csv").read_bytes() == (tmp_path / "reference" / "sweep.csv").read_bytes()
    for run_dir in ("0", "1", "2"):
        assert (out / run_dir / "summary.json").read_bytes() == (tmp_path / "reference" / run_dir / "summary.json").read_bytes()


def test_a_job_past_its_time_limit_is_requeued_and_finishes_with_the_same_numbers(tmp_path: Path, slurm: None) -> None:
    point = ["seed=3", "experiment.weeks=520", "experiment.replications=800"]  # about 65 s: more than the first slot
    reference = start(sweep_cmd(tmp_path / "reference", *point))
    out = tmp_path / "sweep"
    r = run([*sweep_cmd(out, *point), "hydra/launcher=slurm", "hydra.launcher.timeout_min=2",
             "hydra.launcher.signal_delay_s=60"], timeout_s=600)
    assert r.returncode == 0, r.stderr
    log = next((out / ".submitit").glob("*/*_log.out")).read_text()
    assert "this job is timed-out" in log and "Requeued" in log, log
    record = json.loads((out / "0" / "run.json").read_text())
    assert 0 < record["replications_from_checkpoints"] <= 800  # all of them when the limit fell as it wrote the outputs
    assert reference.wait(timeout=600) == 0, reference.communicate()
    assert (out / "sweep.csv").read_bytes() == (tmp_path / "reference" / "sweep.csv").read_bytes()
    assert (out / "0" / "summary.json").read_bytes() == (tmp_path / "reference" / "0" / "summary.json").read_bytes()
