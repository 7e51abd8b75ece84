"""Comparing variants on common random numbers: paired differences, the table, the one-command experiment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import run_cli
from sim.__main__ import main
from sim.cli import variant_configs
from sim.study.compare import COMPARED, compare, format_comparison, paired_differences
from sim.core.errors import InputError

SMALL = ["experiment.weeks=3", "experiment.replications=3"]


def test_paired_differences_are_the_t_interval_of_per_replication_differences() -> None:
    ref = pd.DataFrame({"replication": [0, 1, 2, 3], "metric": "x", "value": [10.0, 12.0, 9.0, 11.0]})
    other = ref.assign(value=[11.0, 14.0, 9.5, 12.5])  # differences 1, 2, 0.5, 1.5
    d = paired_differences(ref, other).loc["x"]
    diffs = np.array([1.0, 2.0, 0.5, 1.5])
    half = stats.t.ppf(0.975, 3) * diffs.std(ddof=1) / 2
    assert d["diff"] == pytest.approx(1.25) and d["pairs"] == 4
    assert (d["diff_ci_low"], d["diff_ci_high"]) == pytest.approx((1.25 - half, 1.25 + half))


def test_variants_share_their_needs_and_an_identical_variant_differs_by_exactly_zero() -> None:
    configs = variant_configs(SMALL, {"pilot": [], "same": ["seed=0"], "weekly": ["frequency=weekly", "staffing=two_agents"]})
    comparison = compare(configs, "pilot")
    needs = [r.per_replication.set_index(["replication", "metric"]).loc[(slice(None), "requests"), "value"]
             for r in comparison.results.values()]
    assert needs[0].equals(needs[1]) and needs[0].equals(needs[2])  # common random numbers
    table = comparison.table.set_index(["variant", "metric"])
    same = table.loc["same"]
    assert (same["diff"].abs() < 1e-12).all() and (same["pairs"] == 3).all()
    assert table.loc["pilot", "diff"].isna().all()  # the reference has no difference with itself
    weekly = table.loc[("weekly", "access_delay_days_mean")]
    assert weekly["diff_ci_high"] < 0  # visiting every site weekly shortens the wait for a session
    assert set(comparison.table["metric"]) == set(COMPARED)
    text = format_comparison(comparison)
    assert "pilot" in text and "weekly" in text and "  difference" in text


def test_a_bad_variant_is_named_in_the_error() -> None:
    with pytest.raises(InputError, match=r"experiment.variants.bad: delivery.model: must be one of"):
        variant_configs(SMALL, {"bad": ["delivery.model=boat"]})


def test_the_comparison_command_prints_and_writes_its_table(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = run_cli("experiment=pilots_vs_alternatives", *SMALL, "output.figures=false", "output.report=false",
                "output.requests=false", f"hydra.run.dir={out}")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("pilots_vs_alternatives on saint_amand: 3 replication(s)")
    table = pd.read_csv(out / "comparison.csv")
    assert list(table["variant"].unique()) == ["itinerant", "itinerant_simple_rota", "fixed_site", "bus"]
    assert table[table["variant"] != "itinerant"]["diff"].notna().all()
    for variant in table["variant"].unique():
        assert (out / variant / "summary.json").is_file() and not (out / variant / "requests.parquet").exists()
    fixed = table.set_index(["variant", "metric"]).loc[("fixed_site", "km_driven")]
    assert fixed["mean"] == 0 and fixed["diff"] < 0


def test_a_bad_variant_on_the_command_line_is_one_line_exit_2_and_nothing_written(tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "out"
    monkeypatch.setattr("sys.argv", ["sim", "experiment=pilots_vs_alternatives", '+experiment.variants.bad=["delivery.model=boat"]',
                                     f"hydra.run.dir={out}"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: experiment.variants.bad: delivery.model: must be one of bus, fixed, itinerant, got 'boat'"]
    assert not out.exists()
