"""The benchmarks' code paths at a tiny size, and (marked slow) the full benchmarks against their goals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import __main__ as bench
from benchmarks import cases

ROOT = Path(__file__).resolve().parents[1]


def test_mmc_case_times_baseline_and_model_on_the_same_queue() -> None:
    r = cases.mmc(customers=2_000, repeat=1)
    assert 1_500 < r["requests"] < 2_500  # Poisson count around the baseline's fixed number of customers
    for key in ("baseline_s_per_request", "simpy_s_per_request", "end_to_end_s_per_request"):
        assert 0 < r[key] < 1e-3
    assert len(bench.report_mmc(r)) == 4


def test_default_case_runs_the_default_configuration() -> None:
    r = cases.default(repeat=1)
    assert r["replications"] == 10 and r["weeks"] == 13 and r["requests"] > 0 and r["seconds"] > 0
    assert "default scenario" in bench.report_default(r)[0]


def test_territory_case_on_a_generated_departement(tmp_path: Path) -> None:
    folder = tmp_path / "ain"
    done = subprocess.run([sys.executable, str(bench.REGENERATE), "--out-dir", str(folder), "--share", "0.001"],
                          check=True, capture_output=True, text=True)
    communes = (folder / "communes.csv").read_text().splitlines()[1:]
    assert {line[:2] for line in communes} == {"01"}  # the first département alone: Ain
    assert f"{len(communes):,} communes" in done.stdout
    r = cases.territory(folder, weeks=1)
    assert r["communes"] == len(communes) and r["agents"] >= 2 * r["sites"] > 0 and r["requests"] > 0
    lines = bench.report_territories([("Ain", r | {"startup_mb": r["peak_mb"] / 2})], "title")
    assert lines[2].split()[0] == "Ain"


@pytest.mark.slow
def test_benchmarks_meet_their_goals() -> None:
    r = bench.run(slow=True)
    assert r["mmc"]["end_to_end_s_per_request"] <= 1.5 * r["mmc"]["baseline_s_per_request"]
    assert r["default"]["seconds"] < 30
    national = r["national"]
    assert national["build_seconds"] + national["run_seconds"] <= 600 and national["peak_mb"] <= 4096
