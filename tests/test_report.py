"""Figures, sweep figures and the HTML report: drawn from the run's tables, written atomically, names escaped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim import api
from sim.study.experiment import Results
from sim.report import REPORT, RUN_FIGURES, write_figures_and_report, write_report
from sim.report.figures import render
from sim.report.sweep import cost_service_pareto, pareto_front, sweep_heatmap
from sim.study.optimise import swept_columns as swept_parameters

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"experiment.weeks": 3, "experiment.replications": 2}
EVIL = "<script>alert(1)</script> & $x$"


@pytest.fixture(scope="module")
def small() -> Results:
    return api.run(SMALL)


def test_every_figure_is_drawn_with_axis_labels(small: Results) -> None:
    for spec in RUN_FIGURES:
        fig = spec.draw(small)
        assert isinstance(fig, Figure)
        labelled = [ax for ax in fig.axes if ax.get_xlabel() or ax.get_ylabel()]
        assert labelled, f"{spec.name}: no axis label"


def test_queue_wait_ecdf_meets_the_target_at_the_kpi() -> None:
    one = api.run({"experiment.weeks": 3, "experiment.replications": 1})
    line = one.plot_waits().axes[0].lines[0]
    x, y = line.get_xdata(), line.get_ydata()
    at_target = y[np.flatnonzero(x <= 20.0)[-1]]
    assert at_target == pytest.approx(one.summary["share_wait_le_20min"])


def test_agent_week_and_map_take_a_week_and_an_agent() -> None:
    two = api.run({**SMALL, "staffing.agents": 2})
    assert "agent2, week 3" in two.plot_agent_week(agent="agent2", week=3).axes[0].get_title()
    assert "tours of week 2" in two.plot_map(week=2).axes[0].get_title()
    with pytest.raises(ValueError, match="no agent"):
        two.plot_agent_week(agent="nobody")


def test_figures_and_report_are_written(small: Results, tmp_path: Path) -> None:
    write_figures_and_report(small, tmp_path)
    for spec in RUN_FIGURES:
        assert (tmp_path / "figures" / f"{spec.name}.png").read_bytes().startswith(b"\x89PNG")
    assert not list((tmp_path / "figures").glob("*.svg"))  # vector figures only on request
    write_figures_and_report(small, tmp_path / "svg", report=False, svg=True)
    for spec in RUN_FIGURES:
        assert b"<svg" in (tmp_path / "svg" / "figures" / f"{spec.name}.svg").read_bytes()[:1000]
    page = (tmp_path / REPORT).read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == len(RUN_FIGURES)
    assert "seen within 20 min" in page and "Mairie de Saint-Amand-les-Eaux" in page
    assert "Cour des comptes 2024" in page and "rate_per_1000_per_day: 0.53" in page
    assert "needs met within 7 days (of all needs)" in page and "booker found no free slot" in page
    # the assumptions that drive reneging and the choice of a session are listed with what they do
    for path in ("citizens.arrival_profile", "citizens.front_loaded_shape", "citizens.patience_mean_min",
                 "citizens.choice.walk_in", "citizens.choice.booker", "citizens.choice.weight_min_per_day"):
        assert f"<code>{path}</code>" in page, path
    assert "strongest driver of leaving the queue" in page
    assert "<script" not in page.lower()
    assert not list(tmp_path.rglob(".*.tmp"))


def test_report_without_figure_files(small: Results, tmp_path: Path) -> None:
    write_figures_and_report(small, tmp_path, figures=False, report=True)
    assert (tmp_path / REPORT).is_file() and not (tmp_path / "figures").exists()


def test_figures_are_reproducible(small: Results) -> None:
    assert render(small.plot_weekly(), "svg") == render(small.plot_weekly(), "svg")
    assert render(small.plot_sites(), "png") == render(small.plot_sites(), "png")


def test_names_from_data_are_escaped(tmp_path: Path) -> None:
    data = tmp_path / "scenario"
    data.mkdir()
    for name in ("communes.csv", "scenario.yaml"):
        (data / name).write_bytes((ROOT / "scenarios" / "saint_amand" / name).read_bytes())
    sites = pd.read_csv(ROOT / "scenarios" / "saint_amand" / "sites.csv", dtype=str)
    sites.loc[sites["insee"] == "59526", "name"] = f"Mairie {EVIL}"
    sites.to_csv(data / "sites.csv", index=False)
    evil = api.run({**SMALL, "scenario.data_dir": str(data)})
    page = write_report(evil, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Mairie &lt;script&gt;alert(1)&lt;/script&gt; &amp; $x$" in page
    assert "<script" not in page.lower()


def test_queueing_theory_run_has_only_the_wait_figure(tmp_path: Path) -> None:
    mmc = api.run({"scenario": "mmc", "mmc.hours": 200, "mmc.warmup_hours": 20, "experiment.replications": 2})
    write_figures_and_report(mmc, tmp_path)
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["waits.png"]
    assert "Assumptions and sources" not in (tmp_path / REPORT).read_text(encoding="utf-8")


def test_cli_writes_figures_and_report_unless_turned_off(tmp_path: Path) -> None:
    small = [f"{k}={v}" for k, v in SMALL.items()] + ["output.print_table=false"]
    for name, flags in (("on", []), ("off", ["output.figures=false", "output.report=false"])):
        done = subprocess.run([sys.executable, "-m", "sim", *small, *flags, f"hydra.run.dir={tmp_path / name}"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "on" / "figures").glob("*.png"))) == len(RUN_FIGURES)
    assert (tmp_path / "on" / REPORT).is_file()
    assert not (tmp_path / "off" / "figures").exists() and not (tmp_path / "off" / REPORT).exists()


def test_pareto_front_keeps_runs_nobody_beats() -> None:
    cost = [10, 20, 15, 30, np.nan, 20]
    service = [0.5, 0.9, 0.6, 0.9, 0.99, 0.8]
    assert pareto_front(cost, service).tolist() == [True, True, True, False, False, False]


def sweep_frame() -> pd.DataFrame:
    """A synthetic sweep.parquet: 3 x 3 grid, one refused run, CIs around every KPI."""
    rows = []
    for agents in (1, 2, 3):
        for visits in (0.5, 1.0, 2.0):
            refused = agents * 10 < 15 * visits
            service = np.nan if refused else 1 - 0.3 / (agents * visits)
            cost = np.nan if refused else 40 * agents * visits
            rows.append({"staffing.agents": agents, "frequency.visits_per_site_per_week": visits,
                         "share_wait_le_20min": service, "share_wait_le_20min_ci_low": service - 0.02,
                         "share_wait_le_20min_ci_high": service + 0.02, "cost_per_served": cost,
                         "cost_per_served_ci_low": cost - 3, "cost_per_served_ci_high": cost + 3})
    return pd.DataFrame(rows)


def test_sweep_heatmap_and_pareto_on_a_sweep_table() -> None:
    table = sweep_frame()
    heat = sweep_heatmap(table, "frequency.visits_per_site_per_week", "staffing.agents", "share_wait_le_20min")
    cells = [t.get_text() for t in heat.axes[0].texts]
    assert len(cells) == 9 and "n/a" in cells and "85%" in cells
    assert heat.axes[0].get_ylabel() == "agents"
    pareto = cost_service_pareto(table)
    labels = [t.get_text() for t in pareto.axes[0].texts]
    assert "agents=1, visits_per_site_per_week=0.5" in labels
    as_table = table.assign(run="0", status="ok")[["run", "staffing.agents", "status", *table.columns[1:]]]
    assert swept_parameters(as_table) == ["staffing.agents"]
    with pytest.raises(ValueError, match="several runs"):
        sweep_heatmap(pd.concat([table, table]), "frequency.visits_per_site_per_week", "staffing.agents",
                      "cost_per_served")
