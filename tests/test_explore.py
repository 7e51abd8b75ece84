"""The explorer without a browser: knobs become the overrides of the CLI, a run gives `sim.run`'s numbers, bad
values are refused before anything runs, a second Run while running is ignored, territories are found by name
or code and built once, and a sweep exports to one page with everything inline."""

from __future__ import annotations

import asyncio
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import panel as pn
import pytest

import sim
from sim.explore.app import Explorer
from sim.explore.export import sweep_page
from sim.cli import load_config
from sim.core.errors import InputError
from sim.explore.knobs import KNOBS, parse
from sim.explore.views import wait_figures
from sim.explore.places import Place, build, prepared_scenarios, search
from sim.study.outputs import csv_text


@pytest.fixture
def explorer(tmp_path: Path) -> Explorer:
    return Explorer(tmp_path / "scenarios")


BY_NAME = {k.name: k for k in KNOBS}


def run(e: Explorer) -> None:
    """Press Run and wait for it, as the page's event loop does."""
    asyncio.run(e.run())


def test_every_knob_has_a_label_a_help_and_a_widget(explorer: Explorer) -> None:
    assert {"delivery", "agents", "frequency.visits_per_site_per_week", "frequency.sessions",
            "staffing.workday_max_h", "citizens.appointment_share", "demand", "demand.uptake",
            "citizens.choice.walk_in", "citizens.choice.booker", "experiment.replications", "seed"} <= set(BY_NAME)
    shown = [o.object for o in explorer.view().select(pn.pane.Markdown)]
    for knob in KNOBS:
        assert knob.label and len(knob.help) > 20 and knob.help in shown
        label = explorer.widgets[knob.name].label
        assert label == (f"{knob.label} ({knob.unit})" if knob.unit else knob.label)


def test_untouched_knobs_give_the_default_command(explorer: Explorer) -> None:
    assert explorer.overrides() == ["scenario=saint_amand"]
    explorer.widgets["agents"].value = 2
    explorer.widgets["frequency.visits_per_site_per_week"].value = 1.0
    explorer.widgets["frequency.sessions"].value = "09:00-12:00"
    assert explorer.overrides() == ["scenario=saint_amand", "staffing.agents=2",
                                    "frequency.visits_per_site_per_week=1.0", "frequency.sessions=[09:00-12:00]"]


def test_the_staff_knob_follows_the_delivery_mode(explorer: Explorer) -> None:
    explorer.widgets["delivery"].value = "fixed"
    assert explorer.widgets["agents"].value == 2  # the fixed site's advisors
    assert explorer.widgets["frequency.sessions"].value == "09:00-12:00, 14:00-17:00"
    explorer.widgets["agents"].value = 3
    assert explorer.overrides() == ["scenario=saint_amand", "delivery=fixed", "delivery.fixed.advisors=3"]
    explorer.widgets["demand"].value = "mature"
    assert explorer.widgets["demand.uptake"].value == 1.0
    assert explorer.widgets["agents"].value == 3  # a changed knob keeps its value when a group changes
    assert explorer.overrides()[:3] == ["scenario=saint_amand", "delivery=fixed", "demand=mature"]


def test_a_prepared_scenario_brings_its_own_defaults(explorer: Explorer) -> None:
    assert prepared_scenarios()[0] == "saint_amand" and {"vigny", "agen"} <= set(prepared_scenarios())
    explorer.prepared.value = "agen"
    assert explorer.territory == ["scenario=agen"]
    assert explorer.widgets["frequency.visits_per_site_per_week"].value == 0.8
    assert explorer.overrides() == ["scenario=agen"]


def test_a_run_shows_the_numbers_of_sim_run(explorer: Explorer) -> None:
    explorer.widgets["agents"].value = 2
    explorer.widgets["experiment.replications"].value = 4
    run(explorer)
    expected = sim.run(["scenario=saint_amand", "staffing.agents=2", "experiment.replications=4"])
    assert explorer.results.summary == expected.summary
    assert csv_text(explorer.results.kpis) == csv_text(expected.kpis)
    assert explorer.command == "python -m sim scenario=saint_amand staffing.agents=2 experiment.replications=4"
    assert "seen within 20 min" in explorer.kpis.object and "Run 1" in explorer.kpis.object
    assert explorer._kpis_file().getvalue().decode() == csv_text(expected.kpis)
    assert explorer._command_file().getvalue().decode().endswith(explorer.command + "\n")
    report = explorer._report_file().getvalue().decode()
    assert report.startswith("<!DOCTYPE html>") and "data:image/png;base64" in report
    assert explorer.map.object is not None and len(explorer.waits.objects) == 2
    assert "Mairie de Saint-Amand-les-Eaux" in explorer.sites.object
    assert explorer.agent_week.object[:8] == b"\x89PNG\r\n\x1a\n"


def _cli_message(override: str) -> str:
    """The one line the CLI prints for a bad override (without its 'error: ')."""
    with pytest.raises(InputError) as refused:
        load_config(["scenario=saint_amand", override])
    return str(refused.value)


@pytest.mark.parametrize("knob, value, message", [
    ("agents", -1, "staffing.agents: must be >= 1, got -1"),
    ("citizens.appointment_share", 1.5, _cli_message("citizens.appointment_share=1.5")),
    ("demand.uptake", -0.1, _cli_message("demand.uptake=-0.1")),
    ("staffing.workday_max_h", 30.0, _cli_message("staffing.workday_max_h=30.0")),
    ("frequency.sessions", "9h-11h", "frequency.sessions: expected sessions like 09:00-11:30, 14:00-16:30, got '9h-11h'"),
    ("experiment.replications", None, "experiment.replications: enter a value (runs)"),
])
def test_a_bad_value_is_said_in_the_page_and_nothing_runs(explorer: Explorer, knob: str, value, message: str) -> None:
    explorer.widgets[knob].value = value
    run(explorer)
    assert explorer.message.visible and explorer.message.object == f"**error**: {html.escape(message)}"
    assert explorer.runs == 0 and explorer.results is None
    assert "Nothing was run" in explorer.status.object


def test_a_rota_the_agents_cannot_staff_is_said_in_the_page(explorer: Explorer) -> None:
    explorer.widgets["frequency.visits_per_site_per_week"].value = 3.0
    run(explorer)
    assert explorer.message.visible and "frequency.visits_per_site_per_week: 15 sites need 45 visits a week" \
        in explorer.message.object
    assert explorer.status.object == "Run 1 stopped: nothing to show."
    assert explorer.results is None and not explorer.running and not explorer.run_button.disabled


def test_a_second_run_while_running_is_ignored(explorer: Explorer) -> None:
    explorer.widgets["experiment.replications"].value = 30

    async def twice() -> None:
        first = asyncio.ensure_future(explorer.run())
        await asyncio.sleep(0)  # the first has started and is waiting on its replications
        assert explorer.running and explorer.run_button.disabled
        await explorer.run()  # returns at once
        await first

    asyncio.run(twice())
    assert explorer.runs == 1 and explorer.results.summary["replications"] == 30
    assert not explorer.run_button.disabled


def test_pin_and_compare_on_common_random_numbers(explorer: Explorer) -> None:
    explorer.widgets["experiment.replications"].value = 5
    run(explorer)
    explorer._on_pin(None)
    explorer.widgets["agents"].value = 2
    explorer.widgets["frequency.visits_per_site_per_week"].value = 1.0
    run(explorer)
    page = explorer.comparison.object
    assert "common random numbers" in page and "needs met within 7 days" in page
    row = re.search(r'<tr data-kpi="share_needs_met_within_7d">(.*?)</tr>', page).group(1)
    assert re.findall(r"<td>([^<]*)", row)[-1].startswith("+")  # weekly visits meet more needs
    assert "5 replications and this run" not in page
    explorer.widgets["seed"].value = 1
    run(explorer)
    assert "The seeds differ" in explorer.comparison.object
    explorer.widgets["seed"].value = 0
    explorer.widgets["experiment.replications"].value = 8
    run(explorer)
    assert "The baseline has 5 replications and this run 8" in explorer.comparison.object
    explorer.prepared.value = "vigny"  # another territory: the baseline goes
    assert explorer.baseline is None and "unpinned" in explorer.comparison.object


def test_the_waits_curve_meets_the_kpi_at_the_target(explorer: Explorer) -> None:
    explorer.widgets["experiment.replications"].value = 3
    run(explorer)
    queue = wait_figures(explorer.results)[0].renderers[0].data_source.data
    below = queue["y"][queue["x"] <= 20.0].max()  # the step curve at 20 min, within one of its 2,000 points
    assert abs(below - explorer.results.summary["share_wait_le_20min"]) < 1.5 / 2000 + 1e-12


def test_sim_run_reports_each_replication() -> None:
    calls = []
    sim.run(["experiment.replications=3", "experiment.weeks=2"], on_replication=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_a_new_delivery_mode_gives_its_own_staff_and_sessions(explorer: Explorer) -> None:
    explorer.widgets["frequency.sessions"].value = "09:00-12:00"
    explorer.widgets["agents"].value = 2
    explorer.widgets["delivery"].value = "fixed"  # the fixed site's own advisors and hours, not the agents' ones
    assert explorer.widgets["agents"].value == 2 and explorer.widgets["frequency.sessions"].value == "09:00-12:00, 14:00-17:00"
    assert explorer.overrides() == ["scenario=saint_amand", "delivery=fixed"]
    explorer.widgets["delivery"].value = "itinerant"
    assert explorer.widgets["agents"].value == 1 and explorer.overrides() == ["scenario=saint_amand"]


def test_a_scenario_with_a_rota_file_says_so(explorer: Explorer) -> None:
    explorer.prepared.value = "agen"
    assert "rota comes from" in explorer.territory_status.object


def test_search_finds_a_territory_by_name_or_code() -> None:
    found = search("Bourganeuf")
    assert found[0] == Place("canton", "2305", "Bourganeuf") and Place("commune", "23030", "Bourganeuf") in found
    assert search("2305")[0].label == "canton Bourganeuf (2305)"
    assert any(p.code == "5934" for p in search("saint amand les eaux"))  # accents, case and hyphens ignored
    assert search("59")[0] == Place("departement", "59", "Nord")
    assert search("   ") == [] and search("zzzzqqq") == []


def test_a_territory_is_built_once(tmp_path: Path) -> None:
    place = Place("canton", "2305", "Bourganeuf")
    folder = build(place, tmp_path)
    assert folder == tmp_path / "canton_2305" and (folder / "communes.csv").is_file()
    stamp = (folder / "communes.csv").stat().st_mtime_ns
    assert build(place, tmp_path) == folder and (folder / "communes.csv").stat().st_mtime_ns == stamp
    result = sim.run(["scenario.name=canton_2305", f"scenario.data_dir={folder}", "experiment.replications=2"])
    assert result.summary["sites"] > 0


def test_the_explorer_builds_and_runs_a_searched_territory(explorer: Explorer, tmp_path: Path) -> None:
    explorer.query.value = "Bourganeuf"
    explorer._on_search()
    assert explorer.found.value == "canton Bourganeuf (2305)"
    asyncio.run(explorer._on_build(None))
    folder = tmp_path / "scenarios" / "canton_2305"
    assert explorer.territory == ["scenario.name=canton_2305", f"scenario.data_dir={folder}"]
    explorer.widgets["experiment.replications"].value = 3
    run(explorer)
    assert explorer.results.summary == sim.run(explorer.territory + ["experiment.replications=3"]).summary


def test_sessions_parse_as_the_config_wants() -> None:
    knob = BY_NAME["frequency.sessions"]
    assert parse(knob, " 09:00-11:30 ,14:00-16:30 ") == ["09:00-11:30", "14:00-16:30"]
    with pytest.raises(ValueError, match="frequency.sessions"):
        parse(knob, "")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweep") / "s"
    subprocess.run([sys.executable, "-m", "sim", "-m", "staffing.agents=1,2", "frequency.visits_per_site_per_week=0.5,1",
                    "experiment.weeks=4", "experiment.replications=2", "output.figures=false", "output.report=false",
                    "output.requests=false", f"hydra.sweep.dir={folder}"], check=True, capture_output=True)
    return folder


def test_a_sweep_page_holds_every_point_inline(sweep: Path) -> None:
    html = sweep_page(sweep)
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']?(https?:)?//", html)
    assert "staffing.agents = 1" in html and "frequency.visits_per_site_per_week = 0.5" in html
    for run in ("0", "2", "3"):
        summary = json.loads((sweep / run / "summary.json").read_text())
        assert f"{summary['share_needs_met_within_7d']:.1%}" in html
    assert "This set-up failed" in html  # one agent cannot hold weekly visits to 15 sites


def test_export_command(sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "page.html"
    done = subprocess.run([sys.executable, "-m", "sim.explore", "export", str(sweep), "-o", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == str(out) and out.stat().st_size > 100_000
    bad = subprocess.run([sys.executable, "-m", "sim.explore", "export", str(tmp_path / "nowhere")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and bad.stderr.startswith("error: SWEEP_DIR:")
    assert not (tmp_path / "nowhere").exists()


def test_serve_command_refuses_a_bad_port() -> None:
    done = subprocess.run([sys.executable, "-m", "sim.explore", "--port", "70000"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr == "error: --port: must be between 1 and 65535, got 70000\n"
    shown = subprocess.run([sys.executable, "-m", "sim.explore", "--help"], capture_output=True, text=True)
    assert shown.returncode == 0 and "--show" in shown.stdout and "export" in shown.stdout


def test_a_fault_during_a_run_is_said_in_the_page(explorer: Explorer, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("sim.explore.app.run_experiment", full)
    run(explorer)
    assert explorer.message.visible and "OSError: [Errno 28] No space left on device" in explorer.message.object
    assert "stopped" in explorer.status.object and not explorer.running and not explorer.run_button.disabled
