"""The notebook API: `sim.run` composes configs like the CLI, `sim.load` reads a CLI run back, `run_grid`."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim import api
from sim.core.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"experiment.weeks": 2, "experiment.replications": 2}


@pytest.mark.parametrize("value, text", [
    (None, "null"), (True, "true"), (2, "2"), (0.5, "0.5"), ("weekly", "weekly"), ("/tmp/a-b/c", "/tmp/a-b/c"),
    ("a b", "'a b'"), ("it's", "'it\\'s'"), ("09:00-11:30", "09:00-11:30"), ("1e5", "'1e5'"), ("nan", "'nan'"),
    ("True", "'True'"), (["09:00-11:30", "14:00-16:30"], "[09:00-11:30,14:00-16:30]"),
    ({"caf": 0.5, "cnam": 0.5}, "{caf:0.5,cnam:0.5}"),
])
def test_override_value(value: object, text: str) -> None:
    assert api.override_value(value) == text


def test_overrides_from_a_list_a_dict_and_keywords() -> None:
    assert api.overrides_list(["seed=1"], staffing__agents=2) == ["seed=1", "staffing.agents=2"]
    assert api.overrides_list({"frequency": "weekly", "seed": 3}) == ["frequency=weekly", "seed=3"]


def test_run_gives_the_same_results_however_overrides_are_written() -> None:
    sessions = ["09:00-11:00", "14:00-16:30"]
    as_dict = sim.run({**SMALL, "frequency.sessions": sessions})
    as_list = sim.run(["experiment.weeks=2", "experiment.replications=2", "frequency.sessions=['09:00-11:00','14:00-16:30']"])
    as_keywords = sim.run(experiment__weeks=2, experiment__replications=2, frequency__sessions=sessions)
    assert as_dict.summary == as_list.summary == as_keywords.summary
    assert as_dict.config.frequency.sessions == sessions


def test_run_refuses_bad_input_with_the_field_named() -> None:
    with pytest.raises(InputError, match="staffing.agents"):
        sim.run(staffing__agents=0)
    with pytest.raises(InputError, match="unknown config key"):
        sim.run({"staffing.agentz": 2})


def test_load_reads_back_what_the_cli_wrote(tmp_path: Path) -> None:
    overrides = [f"{k}={v}" for k, v in SMALL.items()]
    done = subprocess.run([sys.executable, "-m", "sim", *overrides, "output.print_table=false", "output.figures=false",
                           "output.report=false", f"hydra.run.dir={tmp_path}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = sim.load(tmp_path)
    fresh = sim.run(overrides)
    assert loaded.summary == fresh.summary
    assert dataclasses.replace(loaded.config, output=fresh.config.output) == fresh.config
    pd.testing.assert_frame_equal(loaded.kpis, fresh.kpis, check_dtype=False, rtol=1e-9)
    pd.testing.assert_frame_equal(loaded.requests, fresh.requests)
    assert loaded.plot_weekly().axes


def test_load_refuses_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="summary.json"):
        sim.load(tmp_path)


def test_run_grid_has_one_row_per_point_and_lists_refused_points() -> None:
    table = api.run_grid({"staffing.agents": [1, 2], "frequency.visits_per_site_per_week": [0.5, 1.0]}, SMALL)
    assert len(table) == 4
    assert list(table.columns[:5]) == ["run", "staffing.agents", "frequency.visits_per_site_per_week", "status", "error"]
    refused = table[table["status"] == "failed"]
    assert refused[["staffing.agents", "frequency.visits_per_site_per_week"]].values.tolist() == [[1, 1.0]]
    assert "short by" in refused["error"].iloc[0]
    ok = table[table["status"] == "ok"]
    assert ok[["cost_per_served", "share_wait_le_20min_ci_low", "share_wait_le_20min_ci_high"]].notna().all().all()


def test_the_model_core_does_not_import_matplotlib() -> None:
    code = ("import sys, sim; sim.run(experiment__weeks=1, experiment__replications=1); "
            "print('matplotlib' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr
