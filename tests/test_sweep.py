"""Sweeps: bad input refused up front, infeasible points listed as failed runs, the table, resume, optimiser, progress."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from conftest import ROOT
from sim.__main__ import main
from sim.cli import check
from sim.config import OptimiseConfig
from sim.core.errors import InputError
from sim.study.optimise import optimise, pareto_mask
from sim.study.progress import SweepProgress
from sim.study.runs import FAILED, RUN, complete_run, finish_run, run_status, start_run
from sim.sweep import SweepCallback, collect, write_table
from sim.sweep import main as sweep_main

SMALL = ["experiment.weeks=2", "experiment.replications=2", "output.print_table=false",
         "output.figures=false", "output.report=false", "output.requests=false"]


def sweep(sweep_dir: Path, *args: str, **popen: object) -> subprocess.CompletedProcess | subprocess.Popen:
    """Run `python -m sim -m <args>` into `sweep_dir` (basic launcher); wait for it unless Popen options are given."""
    cmd = [sys.executable, "-m", "sim", "-m", *args, *SMALL, f"hydra.sweep.dir={sweep_dir}"]
    if popen:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


# --- bad input: one line, exit 2, nothing run ---------------------------------------------------------------

@pytest.mark.parametrize("args,expect", [
    (["staffing.agentz=1,2"], "error: staffing.agentz: unknown config key"),
    (["staffing.agents=range(1,1)"], "error: staffing.agents: empty sweep range"),
    (["staffing.agents=1,two"], "error: staffing.agents: wrong type"),
    (["experiment.weeks=1,0"], "error: experiment.weeks: must be >= 1"),
    (["experiment.replications=3,abc"], "error: experiment.replications: must be >= 1 or 'auto'"),
    (["sweep=nowhere"], "error: sweep: unknown choice 'nowhere'"),
    (["sweep=optimise", "optimise.targets.share_wait_le_20min=high"], "error: optimise.targets.share_wait_le_20min: expected a target"),
    (["sweep=optimise", "+optimise.targets.waiting='<= 3'"], "error: optimise.targets.waiting: unknown KPI 'waiting'"),
])
def test_bad_sweep_input_is_one_line_and_exit_2_before_anything_runs(
        tmp_path: Path, args: list[str], expect: str, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "sweep"
    monkeypatch.setattr("sys.argv", ["sim", "-m", *args, f"hydra.sweep.dir={out}"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expect), lines
    assert not out.exists()


def test_check_covers_the_named_sweep_and_leaves_infeasible_points_to_the_runs() -> None:
    configs = check(["sweep=staffing_x_frequency"])  # the sweep config makes it a multirun by itself
    assert sorted(c.staffing.agents for c in configs) == [1, 2, 3]
    assert sorted(c.frequency.visits_per_site_per_week for c in configs) == [0.5, 1.0, 2.0]
    with pytest.raises(InputError, match="frequency.visits_per_site_per_week: .*1 agent"):
        check(["staffing.agents=1", "frequency.visits_per_site_per_week=2"])
    check(["staffing.agents=1,2", "frequency.visits_per_site_per_week=2"], multirun=True)
    with pytest.raises(InputError, match="staffing.agents: must be >= 1"):
        check(["sweep=staffing_x_frequency", "staffing.agents=0"])


# --- a real sweep: the table, failed runs, the collect command ------------------------------------------------

def test_infeasible_point_fails_alone_and_the_table_lists_every_run(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    r = sweep(out, "staffing.agents=1,2", "frequency.visits_per_site_per_week=1")
    assert r.returncode == 0, r.stderr
    assert "sweep: 2 runs, 1 ok, 1 failed" in r.stdout
    table = pd.read_parquet(out / "sweep.parquet")
    assert list(table["staffing.agents"]) == [1, 2]
    assert "frequency.visits_per_site_per_week" not in table  # set, not swept
    assert list(table["status"]) == ["failed", "ok"]
    assert table["error"][0].startswith("frequency.visits_per_site_per_week: ") and "1 agent" in table["error"][0]
    assert pd.isna(table["error"][1])
    assert json.loads((out / "0" / FAILED).read_text())["error"] == table["error"][0]
    summary = json.loads((out / "1" / "summary.json").read_text())
    for kpi in ("share_wait_le_20min", "access_delay_days_p90", "cost_per_served"):
        assert table[kpi][1] == summary[kpi]
        assert [table[f"{kpi}_ci_low"][1], table[f"{kpi}_ci_high"][1]] == summary["ci95"][kpi]
        assert pd.isna(table[kpi][0])
    csv = (out / "sweep.csv").read_bytes()
    (out / "sweep.parquet").unlink()
    (out / "sweep.csv").unlink()
    assert sweep_main(["collect", str(out)]) == 0
    assert (out / "sweep.csv").read_bytes() == csv
    pd.testing.assert_frame_equal(pd.read_parquet(out / "sweep.parquet"), table)


def test_the_default_sweeper_runs_the_jobs_of_hydras_basic_one_with_the_same_configurations(tmp_path: Path) -> None:
    args = ["staffing.agents=2,3", "delivery=itinerant", "seed=0,1"]
    ours, hydras = tmp_path / "once", tmp_path / "basic"
    for out, extra in ((ours, []), (hydras, ["hydra/sweeper=basic"])):
        r = sweep(out, *args, *extra)
        assert r.returncode == 0, r.stderr
    runs = sorted(p.name for p in hydras.iterdir() if p.is_dir())
    assert runs == sorted(p.name for p in ours.iterdir() if p.is_dir()) == ["0", "1", "2", "3"]
    for run in runs:
        for name in (".hydra/config.yaml", ".hydra/overrides.yaml", "summary.json", "kpis.csv"):
            assert (ours / run / name).read_bytes() == (hydras / run / name).read_bytes(), (run, name)
        mine, theirs = (OmegaConf.load(d / run / ".hydra" / "hydra.yaml").hydra for d in (ours, hydras))
        assert mine.job == theirs.job and mine.overrides.task == theirs.overrides.task
    assert (ours / "sweep.csv").read_bytes() == (hydras / "sweep.csv").read_bytes()


def test_collect_lists_incomplete_runs_and_refuses_a_folder_without_runs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for job, agents in enumerate((1, 2)):
        (tmp_path / str(job) / ".hydra").mkdir(parents=True)
        (tmp_path / str(job) / ".hydra" / "overrides.yaml").write_text(f"- staffing.agents={agents}\n")
    table = collect(tmp_path)
    assert list(table["staffing.agents"]) == [1, 2]
    assert list(table["status"]) == ["incomplete", "incomplete"]
    assert sweep_main(["collect", str(tmp_path / "0")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


# --- resume --------------------------------------------------------------------------------------------------

def test_killed_sweep_resumes_and_ends_with_the_table_of_an_uninterrupted_one(tmp_path: Path) -> None:
    args = ["staffing.agents=2,3", "frequency.visits_per_site_per_week=0.5,1", "seed=0,1"]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert sweep(whole, *args).returncode == 0
    proc = sweep(killed, *args, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list(killed.glob("*/summary.json"))) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, "the sweep ended before it could be killed"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    done = {p.parent.name: p.stat().st_mtime_ns for p in killed.glob("*/summary.json")}
    assert 2 <= len(done) < 8 and not (killed / "sweep.parquet").exists()

    r = sweep(killed, *args)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("complete, skipped") == len(done)
    assert {p.parent.name: p.stat().st_mtime_ns for p in killed.glob("*/summary.json") if p.parent.name in done} == done
    assert len(list(killed.glob("*/summary.json"))) == 8
    assert (killed / "sweep.csv").read_bytes() == (whole / "sweep.csv").read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(killed / "sweep.parquet"), pd.read_parquet(whole / "sweep.parquet"))


def test_a_run_counts_as_complete_only_with_every_output_as_written_for_the_same_config(tmp_path: Path) -> None:
    (tmp_path / "figures").mkdir()
    files = {"summary.json": b'{"cost_per_served": 1.0}', "kpis.csv": b"scope,key,metric,mean\n",
             "sessions.parquet": b"PAR1 sessions", "figures/map.png": b"png bytes"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    assert complete_run(tmp_path, "abc") is None  # no run.json: never finished
    finish_run(tmp_path, "abc")
    record = json.loads((tmp_path / RUN).read_text())
    assert record["config_sha256"] == "abc" and sorted(record["files"]) == sorted(files)
    assert complete_run(tmp_path, "abc") == {"cost_per_served": 1.0}
    assert complete_run(tmp_path, "other config") is None
    for name, data in files.items():  # one byte changed in any file, a file cut short or missing: not complete
        flipped = bytes([data[0] ^ 1]) + data[1:]
        for broken in (flipped, data[:-1], None):
            if broken is None:
                (tmp_path / name).unlink()
            else:
                (tmp_path / name).write_bytes(broken)
            assert complete_run(tmp_path, "abc") is None, (name, broken)
            assert run_status(tmp_path)[0] == "incomplete"
        (tmp_path / name).write_bytes(data)
    assert complete_run(tmp_path, "abc") == {"cost_per_served": 1.0}
    (tmp_path / ".kpis.csv.x1.tmp").write_text("torn")
    start_run(tmp_path)  # a new run into the folder forgets the old outcome and outputs first
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == []


# --- optimiser -----------------------------------------------------------------------------------------------

def grid() -> pd.DataFrame:
    """A sweep table by hand: cost rises with agents, service with agents and visits."""
    rows = [
        # agents, visits, status, cost, share within 20 min (CI), access delay p90
        (1, 0.5, "ok", 40.0, 0.75, 0.70, 0.80, 3.0),
        (1, 1.0, "failed", None, None, None, None, None),
        (2, 0.5, "ok", 45.0, 0.76, 0.71, 0.81, 3.0),
        (2, 1.0, "ok", 77.0, 0.91, 0.88, 0.94, 2.0),
        (3, 1.0, "ok", 86.0, 0.92, 0.91, 0.93, 8.0),
        (3, 2.0, "ok", 140.0, 0.95, 0.93, 0.97, 1.5),
    ]
    table = pd.DataFrame(rows, columns=["staffing.agents", "frequency.visits_per_site_per_week", "status", "cost_per_served",
                                        "share_wait_le_20min", "share_wait_le_20min_ci_low", "share_wait_le_20min_ci_high",
                                        "access_delay_days_p90"])
    table.insert(0, "run", [str(i) for i in range(len(rows))])
    table.insert(4, "error", None)
    table["access_delay_days_p90_ci_high"] = table["access_delay_days_p90"] + 0.5
    table["share_needs_met_within_7d"] = [0.7, None, 0.7, 0.92, 0.9, 0.97]
    table["share_needs_met_within_7d_ci_low"] = table["share_needs_met_within_7d"] - 0.01
    return table


def test_optimiser_picks_the_cheapest_run_meeting_every_target() -> None:
    opt = optimise(grid(), OptimiseConfig())
    assert opt.best["run"] == "3"  # run 4 serves better but misses the access delay; run 5 costs more
    assert list(opt.pareto["run"]) == ["0", "2", "3", "4", "5"]
    assert list(opt.pareto["meets_targets"]) == [False, False, True, False, True]
    assert list(opt.pareto["optimal"]) == [False, False, True, False, False]
    strict = optimise(grid(), OptimiseConfig(use_ci=True))  # run 3's CI reaches down to 0.88
    assert strict.best["run"] == "5"
    cheap = optimise(grid(), OptimiseConfig(targets={"share_wait_le_20min": ">= 0.7"}))
    assert cheap.best["run"] == "0"
    assert list(cheap.pareto["run"]) == ["0", "2", "3", "4", "5"]


def test_a_set_up_that_leaves_needs_unmet_cannot_pass() -> None:
    # an understaffed run whose few citizens reaching a desk are seen quickly, while most needs go unmet
    table = grid()
    table.loc[0, ["share_wait_le_20min", "share_needs_met_within_7d"]] = [0.95, 0.3]
    assert optimise(table, OptimiseConfig()).best["run"] == "3"
    assert optimise(table, OptimiseConfig(targets={"share_wait_le_20min": ">= 0.9"})).best["run"] == "0"


def test_pareto_front_drops_dominated_and_incomplete_runs() -> None:
    table = pd.DataFrame({"cost": [1.0, 2.0, 2.0, 3.0, None], "share": [0.5, 0.5, 0.8, 0.7, 0.99]})
    from sim.study.optimise import Target

    assert list(pareto_mask(table, "cost", [Target("share", ">=", 0.0)])) == [True, False, True, False, False]


def test_optimise_command_writes_pareto_and_says_unreachable_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    grid().to_parquet(tmp_path / "sweep.parquet")
    assert sweep_main(["optimise", str(tmp_path)]) == 0
    assert "staffing.agents=2 frequency.visits_per_site_per_week=1 (run 3)" in capsys.readouterr().out
    pareto = pd.read_csv(tmp_path / "pareto.csv")
    assert list(pareto.columns) == ["run", "staffing.agents", "frequency.visits_per_site_per_week", "cost_per_served",
                                    "share_wait_le_20min", "access_delay_days_p90", "share_needs_met_within_7d",
                                    "meets_targets", "optimal"]
    assert sweep_main(["optimise", str(tmp_path), "--target", "share_wait_le_20min>=0.99"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: optimise.targets: no run of 6 (5 complete) meets share_wait_le_20min >= 0.99; "
                   "best share_wait_le_20min 0.95"]
    assert sweep_main(["optimise", str(tmp_path), "--cost", "cost_per_visit"]) == 2
    assert capsys.readouterr().err.startswith("error: optimise.cost: no KPI 'cost_per_visit' in the sweep table")
    assert sweep_main(["optimise", str(tmp_path), "--target", "share_wait_le_20min=high"]) == 2
    assert capsys.readouterr().err.startswith("error: --target: expected KPI>=value")


def test_write_table_is_what_collect_returns(tmp_path: Path) -> None:
    (tmp_path / "0" / ".hydra").mkdir(parents=True)
    (tmp_path / "0" / ".hydra" / "overrides.yaml").write_text("- seed=3\n")
    (tmp_path / "0" / FAILED).write_text(json.dumps({"error": "rota: has no sessions"}))
    table = write_table(tmp_path)
    assert table.to_dict("records") == [{"run": "0", "seed": 3, "status": "failed", "error": "rota: has no sessions"}]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "sweep.parquet"), table)


# --- progress ------------------------------------------------------------------------------------------------

def test_progress_counts_runs_done_and_stays_quiet_off_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for job in range(3):
        (tmp_path / str(job) / ".hydra").mkdir(parents=True)
        (tmp_path / str(job) / ".hydra" / "overrides.yaml").write_text(f"- seed={job}\n")
    (tmp_path / "0" / RUN).write_text("{}")  # complete before the sweep started (resumed)
    progress = SweepProgress(tmp_path, total=3, poll_s=0.01)
    assert progress.bar.n == 1
    (tmp_path / "2" / FAILED).write_text("{}")
    deadline = time.monotonic() + 10
    while progress.bar.n < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    progress.close()
    assert progress.bar.n == 2
    callback = SweepCallback()  # under pytest stderr is not a terminal: no bar
    callback.on_multirun_start(OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}}))
    assert callback.progress is None
    callback.lock.release()
