"""Shared helpers: small hand-made scenarios and plans for exact checks."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sim.core.choice import SessionIndex
from sim.cli import load_config
from sim.core.plan import Plan
from sim.core.rota import from_rows
from sim.build.scenario import build_scenario
from sim.core.demand import OPERATORS
from sim.core.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]


def one_desk(sessions: list[tuple[float, float]], agents: int = 1, **citizens) -> Scenario:
    """One commune, one site, the given sessions (start, end) each staffed by `agents` agents."""
    return desk_rows([(a, s, e) for a in range(agents) for s, e in sessions], agents, **citizens)


def desk_rows(rows: list[tuple[int, float, float]], agents: int | None = None, **citizens) -> Scenario:
    """One commune, one site, the given rota rows (agent, start, end) grouped into sessions as a rota file's."""
    agents = agents or max(a for a, _, _ in rows) + 1
    cfg = load_config(["scenario=mmc", f"mmc.servers={agents}", "mmc.arrival_rate_per_hour=0.1"])
    base = build_scenario(cfg)
    agent, start, end = (np.array(x) for x in zip(*rows))
    rota = from_rows(tuple(f"agent{a + 1}" for a in range(agents)), agent.astype(np.int32),
                     np.zeros(len(rows), np.int32), start.astype(float), end.astype(float))
    zeros = np.zeros(len(rows))
    return dataclasses.replace(
        base, rota=rota, index=SessionIndex.build(rota, base.reach), drive_before_min=zeros, km_before=zeros,
        drive_after_min=zeros, km_after=zeros, citizens=dataclasses.replace(base.citizens, **citizens), queue=None,
        days=7, operators=OPERATORS,
    )


def plan(arrival: list[float], service: list[float], patience: list[float] | None = None,
         session: list[int] | None = None, appointment: list[bool] | None = None,
         need: list[float] | None = None) -> Plan:
    """A hand-written plan: needs arise at their arrival time (or at `need`)."""
    n = len(arrival)
    a = np.array(arrival, dtype=float)
    appt = np.array(appointment if appointment is not None else [False] * n)
    keys = np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    sess = np.array(session if session is not None else [0] * n, dtype=np.int32)
    return Plan(
        need_min=np.array(need, dtype=float) if need is not None else a.copy(), commune=np.zeros(n, np.int32),
        operator=np.zeros(n, np.int8), service_min=np.array(service, dtype=float), referred=np.zeros(n, dtype=bool),
        patience_min=np.array(patience if patience is not None else [np.inf] * n, dtype=float),
        booker=appt, session=sess, wanted=sess.copy(), arrival_min=a,
        choice_key=keys, return_key=keys ^ np.uint64(0xD1B54A32D192ED03),
    )


def slurm_unreachable_reason(partition: str = "debug", timeout_s: float = 5.0) -> str | None:
    """None if SLURM answers and `partition` is up, else a human-readable reason (.ci/slurm/README.md)."""
    for exe in ("sbatch", "sinfo"):
        if shutil.which(exe) is None:
            return f"SLURM client '{exe}' not on PATH"
    cmd = ["sinfo", "-h", "-p", partition, "-o", "%a %D %t"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return f"'{' '.join(cmd)}' did not answer within {timeout_s:.0f} s (slurmctld down?)"
    if proc.returncode != 0:
        return f"'{' '.join(cmd)}' failed: {(proc.stderr or proc.stdout).strip()[:200]}"
    lines = proc.stdout.split()
    if not lines:
        return f"SLURM has no partition '{partition}'"
    if lines[0] != "up":
        return f"SLURM partition '{partition}' is {lines[0]}"
    return None


@pytest.fixture(scope="session")
def slurm() -> None:
    """Skip unless SLURM answers; with SIM_REQUIRE_SLURM=1 (set by .ci/run) fail instead, so CI cannot skip silently."""
    reason = slurm_unreachable_reason()
    if reason and os.environ.get("SIM_REQUIRE_SLURM") == "1":
        pytest.fail(f"SIM_REQUIRE_SLURM=1 but no usable SLURM: {reason}")
    if reason:
        pytest.skip(f"no usable SLURM: {reason}")


NO_CALENDAR = ["experiment.start_date=2021-04-05", "experiment.holidays=false"]
"""A run on the week pattern alone (from a Monday, no public holiday): for tests of the rota's structure."""
QUIET = ["output.print_table=false", "output.figures=false", "output.report=false", "output.requests=false"]
"""Settings that make a run write only its tables and summary."""


def sweep_cmd(sweep_dir: Path, *args: str) -> list[str]:
    """The command of a quiet sweep into `sweep_dir`: `python -m sim -m <args>` (`args` may turn an output back on)."""
    return [sys.executable, "-m", "sim", "-m", *QUIET, *args, f"hydra.sweep.dir={sweep_dir}"]


def checkpoints_of(run_dir: Path) -> int:
    """How many finished replications a run of a sweep keeps while under way."""
    folder = run_dir / ".replications"
    return len(list(folder.glob("*.pkl"))) if folder.is_dir() else 0


def run(cmd: list[str], timeout_s: float = 300) -> subprocess.CompletedProcess:
    """Run a command from the repository root; capture its output."""
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s)


def start(cmd: list[str]) -> subprocess.Popen:
    """Start a command from the repository root in its own process group; capture its output."""
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for(condition, proc: subprocess.Popen | None = None, timeout_s: float = 120) -> None:
    """Poll until `condition()` holds; fail if `proc` ended first or the time is up."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert proc is None or proc.poll() is None, "the process ended too early:\n" + "".join(proc.communicate())
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def one_error_line(stderr: str) -> str:
    """The single `error:` line of a command's stderr, with no traceback."""
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("[")]  # [HYDRA] log lines
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in stderr, stderr
    return lines[0]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `python -m sim` with arguments; capture its output."""
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd or ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture
def saint_amand_copy(tmp_path: Path) -> Path:
    """A writable copy of the default scenario's data folder."""
    dst = tmp_path / "scenario"
    dst.mkdir()
    for f in ("communes.csv", "sites.csv", "scenario.yaml"):
        (dst / f).write_bytes((ROOT / "scenarios" / "saint_amand" / f).read_bytes())
    return dst
