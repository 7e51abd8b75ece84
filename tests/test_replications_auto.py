"""`experiment.replications=auto`: replications until the KPIs are precise enough, numbers as a fixed run's."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from conftest import run_cli
from sim.cli import load_config
from sim.core.errors import InputError
from sim.study.experiment import run_experiment
from sim.study.replications import PrecisionRule, look_ahead_for, relative_precision

AUTO = ["experiment.replications=auto", "experiment.weeks=2", "experiment.auto_precision=0.1",
        "experiment.auto_kpis=[share_wait_le_20min,cost_per_served]",
        "experiment.min_replications=3", "experiment.auto_look_ahead=2", "experiment.max_replications=30"]


def test_relative_precision_is_the_t_interval_half_width_over_the_mean() -> None:
    assert relative_precision([1.0, 3.0]) == pytest.approx(12.7062047 * math.sqrt(2) / math.sqrt(2) / 2.0)
    assert relative_precision([2.0, 2.0, 2.0]) == 0.0
    assert relative_precision([1.0]) == math.inf
    assert relative_precision([-1.0, 1.0]) == math.inf  # mean 0 with spread: no relative precision
    assert relative_precision([1.0, math.nan, 2.0]) == math.inf


def test_rule_needs_the_precision_to_hold_over_the_look_ahead() -> None:
    rule = PrecisionRule(["x"], target=0.05, min_replications=3, max_replications=50, look_ahead=2)
    for value in (10.0, 10.1, 9.9):  # within 5% from n = 3
        rule.add({"x": value})
    assert rule.candidate == 3 and not rule.done()
    rule.add({"x": 10.0})
    assert not rule.done()
    rule.add({"x": 10.05})
    assert rule.done() and rule.needed == 3 and rule.count == 5
    wobbly = PrecisionRule(["x"], target=0.05, min_replications=2, max_replications=6, look_ahead=1)
    for value in (10.0, 10.1, 20.0, 0.0, 10.0, 10.0):  # met at 2, broken at 3: the candidate resets
        wobbly.add({"x": value})
    assert wobbly.done() and wobbly.needed is None and wobbly.count == 6
    assert wobbly.report()["needed"] is None
    assert look_ahead_for(100, 5) == 5 and look_ahead_for(400, 5) == 20


def test_auto_stops_when_precise_and_gives_the_numbers_of_as_many_fixed_replications() -> None:
    auto = run_experiment(load_config(AUTO))
    n = auto.summary["replications"]
    report = auto.summary["replications_auto"]
    assert report["needed"] is not None and n == report["needed"] + 2
    assert max(report["precision"].values()) <= 0.1
    fixed = run_experiment(load_config(["experiment.weeks=2", f"experiment.replications={n}"]))
    assert {k: v for k, v in auto.summary.items() if k != "replications_auto"} == fixed.summary
    parallel = run_experiment(load_config([*AUTO, "experiment.n_jobs=2"]))
    assert parallel.summary == auto.summary


def test_auto_reports_the_cap_when_the_precision_is_out_of_reach() -> None:
    capped = run_experiment(load_config([*AUTO, "experiment.auto_precision=0.0001", "experiment.max_replications=4"]))
    assert capped.summary["replications"] == 4 and capped.summary["replications_auto"]["needed"] is None


def test_auto_from_the_command_line_writes_how_many_it_took(tmp_path: Path) -> None:
    r = run_cli(*AUTO, "output.figures=false", "output.report=false", f"hydra.run.dir={tmp_path}")
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["replications"] == summary["replications_auto"]["needed"] + 2


@pytest.mark.parametrize("args,expect", [
    (["experiment.replications=-1"], "experiment.replications: must be >= 1 or 'auto', got -1"),
    (["experiment.replications=abc"], "experiment.replications: must be >= 1 or 'auto', got 'abc'"),
    (["experiment.replications=2.5"], "experiment.replications: wrong type"),
    (["experiment.auto_kpis=[waiting]"], "experiment.auto_kpis[0]: unknown KPI 'waiting'"),
    (["experiment.auto_kpis=[]"], "experiment.auto_kpis: needs at least one KPI"),
    (["experiment.min_replications=1"], "experiment.min_replications: must be >= 2"),
    (["experiment.max_replications=2"], "experiment.max_replications: must be >= experiment.min_replications (3)"),
    (["experiment.auto_precision=0"], "experiment.auto_precision: must be > 0"),
])
def test_bad_replication_settings_are_refused(args: list[str], expect: str) -> None:
    with pytest.raises(InputError) as info:
        load_config(args)
    assert str(info.value).startswith(expect)


def test_auto_kpi_missing_from_the_scenario_is_named() -> None:
    with pytest.raises(InputError, match="experiment.auto_kpis: cost_per_served is not computed for scenario kind 'mmc'"):
        run_experiment(load_config(["scenario=mmc", "mmc.hours=200", "mmc.warmup_hours=10", "experiment.replications=auto"]))
