"""Joblib launcher against Hydra's basic launcher on the same sweep of 8 runs, measured in one go.

Each run simulates a year (52 weeks) 50 times (about 5 s on one core), a modest sweep point. Both sweeps
run `python -m sim` as a user would (interpreter start, pre-check, Hydra, every run, the sweep
table), one after the other on the same machine; the ratio of their wall times is the speed-up of running
the sweep's points on every core. The two sweep tables must be identical: parallel runs change no number.
Other work on the machine steals cores from the joblib sweep, so the cores actually free are probed before
and after (two CPU-bound processes at once against one alone) and reported beside the ratio.

    python -m benchmarks.bench_sweep                   # prints both times and the ratio
    python -m pytest benchmarks/bench_sweep.py -m slow  # the same, asserting a ratio >= 1.7 on >= 2 cores
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GRID = ["staffing.agents=2,3", "frequency.visits_per_site_per_week=0.5,1", "seed=0,1"]  # 8 runs, all feasible
QUIET = ["output.print_table=false", "output.figures=false", "output.report=false", "output.requests=false"]


SPIN = "import time; t = time.perf_counter(); sum(range(15_000_000)); print(time.perf_counter() - t)"


def free_cores() -> float:
    """How many cores two CPU-bound processes get at once (2.0 on an idle machine with 2 cores or more)."""
    def spin(n: int) -> float:
        procs = [subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE, text=True) for _ in range(n)]
        return max(float(p.communicate()[0]) for p in procs)

    return 2 * spin(1) / spin(2)


def sweep_seconds(sweep_dir: Path, weeks: int, replications: int, *launcher: str) -> float:
    """Wall time of the whole sweep command with a launcher (none: the basic one)."""
    cmd = [sys.executable, "-m", "sim", "-m", *launcher, *GRID, f"experiment.weeks={weeks}",
           f"experiment.replications={replications}", *QUIET, f"hydra.sweep.dir={sweep_dir}"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"sweep failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return elapsed


def measure(workdir: Path, weeks: int = 52, replications: int = 50) -> dict[str, float]:
    """Seconds of the basic and joblib sweeps, their ratio, free cores before and after; raises if the tables differ."""
    before = free_cores()
    basic = sweep_seconds(workdir / "basic", weeks, replications)
    joblib = sweep_seconds(workdir / "joblib", weeks, replications, "hydra/launcher=joblib")
    after = free_cores()
    same = (workdir / "basic" / "sweep.csv").read_bytes() == (workdir / "joblib" / "sweep.csv").read_bytes()
    if not same:
        raise AssertionError("the joblib sweep's table differs from the basic one's")
    return {"runs": 8, "cores": os.cpu_count() or 1, "free_cores": min(before, after), "basic_s": basic,
            "joblib_s": joblib, "ratio": basic / joblib}


@pytest.mark.slow
def test_joblib_sweep_is_at_least_1_7x_faster_than_basic_on_2_cores(tmp_path: Path) -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("needs at least 2 cores")
    result = measure(tmp_path)
    print(f"basic {result['basic_s']:.1f} s, joblib {result['joblib_s']:.1f} s, ratio {result['ratio']:.2f}")
    if result["free_cores"] < 1.8:
        pytest.skip(f"other work held the cores: two processes got {result['free_cores']:.2f} of them")
    assert result["ratio"] >= 1.7, result


def main() -> None:
    """Run both sweeps in a temporary folder and print the times and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=52, help="weeks per replication (default 52)")
    parser.add_argument("--replications", type=int, default=50, help="replications per run (default 50)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = measure(Path(tmp), args.weeks, args.replications)
    print(f"{r['runs']} runs of {args.replications} x {args.weeks} weeks on {r['cores']} cores "
          f"({r['free_cores']:.2f} free): basic {r['basic_s']:.1f} s, joblib {r['joblib_s']:.1f} s, ratio {r['ratio']:.2f}")


if __name__ == "__main__":
    main()
