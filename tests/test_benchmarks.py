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


def test_marginal_sweep_and_command_cases_measure_what_they_say(monkeypatch: pytest.MonkeyPatch) -> None:
    r = cases.marginal(repeat=1, customers=2_000)
    assert 0 < r["baseline_s_per_request"] < 1e-3 and 0 < r["marginal_s_per_request"] < 1e-2
    assert "x the minimal SimPy M/M/c" in bench.report_marginal(r)[0]
    s = cases.sweep(points=2)
    assert s["wall_seconds"] > s["point_seconds"] > 0 and s["grid_seconds"] > 0
    assert s["hydra_sweeper_seconds"] > 0 and s["one_point_seconds"] > 0
    assert len(bench.report_sweep(s)) == 3
    c = cases.command(repeat=1)
    assert {"imports", "check", "simulate", "kpis", "outputs", "figures", "report"} <= set(c["phases"])
    assert c["wall_seconds"] >= sum(c["phases"].values()) > 0
    assert bench.report_command(c)[1].startswith("    phases (s): imports")


def test_territory_case_on_a_generated_departement(tmp_path: Path) -> None:
    folder = tmp_path / "ain"
    done = subprocess.run([sys.executable, str(bench.REGENERATE), "--out-dir", str(folder), "--share", "0.001"],
                          check=True, capture_output=True, text=True)
    communes = (folder / "communes.csv").read_text().splitlines()[1:]
    assert {line[:2] for line in communes} == {"01"}  # the first département alone: Ain
    assert f"{len(communes):,} communes" in done.stdout
    r = cases.territory(folder, weeks=1, outputs=True)
    assert r["communes"] == len(communes) and r["agents"] >= 2 * r["sites"] > 0 and r["requests"] > 0
    assert r["outputs_seconds"] > 0 and r["simulate_seconds"] > 0 and "of the run" in bench.report_national(r)[0]
    lines = bench.report_territories([("Ain", r | {"startup_mb": r["peak_mb"] / 2})], "title")
    assert lines[2].split()[0] == "Ain"


@pytest.mark.slow
def test_benchmarks_meet_their_goals() -> None:
    r = bench.run(slow=True)
    assert r["mmc"]["end_to_end_s_per_request"] <= 1.5 * r["mmc"]["baseline_s_per_request"]
    assert r["marginal"]["marginal_s_per_request"] <= 3 * r["marginal"]["baseline_s_per_request"]
    assert r["command"]["wall_seconds"] < 2.75
    assert r["default"]["seconds"] < 30
    national = r["national"]
    assert national["build_seconds"] + national["run_seconds"] <= 600 and national["peak_mb"] <= 4096
    assert national["kpis_seconds"] + national["outputs_seconds"] < 0.1 * national["run_seconds"]
