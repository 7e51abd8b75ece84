"""The explorer driven in a real browser (Debian's headless Chromium, through Selenium): the page's KPIs equal
`sim.run`'s with the same settings, a baseline is compared on common random numbers, a bad value is refused in
the page, a second click while running starts nothing, a new user builds a territory from its name, and an
exported sweep page works from a file URL. Screenshots go to tests/screenshots/.

Skipped when Chromium, its driver or Selenium is missing, except with SIM_REQUIRE_BROWSER=1 (set by .ci/run),
where that is a failure.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sim
from browser import Page, Server, available, driver
from sim.study.compare import LABELS, paired_differences
from sim.study.outputs import ROWS, csv_text

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    """One headless Chromium for the module, downloading into a folder of its own."""
    if not available():
        reason = "Debian's chromium and chromium-driver, and selenium, are needed (apt-get install chromium chromium-driver)"
        if os.environ.get("SIM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"SIM_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    downloads = tmp_path_factory.mktemp("downloads")
    b = driver(downloads)
    b.downloads = downloads
    yield b
    b.quit()


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory: pytest.TempPathFactory):
    """`python -m sim.explore`, building territories into a temporary folder."""
    folder = tmp_path_factory.mktemp("explore")
    s = Server("--scenarios-dir", str(folder / "scenarios"), log=folder / "server.log")
    s.scenarios = folder / "scenarios"
    yield s
    s.stop()


@pytest.fixture
def page(browser, server) -> Page:
    """A fresh session of the page."""
    for f in browser.downloads.iterdir():
        f.unlink()
    return Page(browser, server.url)


def cells(summary: dict) -> dict[str, list[str]]:
    """The headline table as the page (and the report) shows it: per CLI label, 'mean\\nlow to high', the CI
    clipped at zero and shares at 100%."""
    out = {}
    for key, label, fmt in ROWS:
        if summary.get(key) is None:
            continue
        low, high = summary["ci95"].get(key, (math.nan, math.nan))
        if low is None or math.isnan(low):
            out[label] = [fmt.format(summary[key])]
            continue
        high = min(high, 1.0) if "%" in fmt else high
        out[label] = [f"{fmt.format(summary[key])}\n{fmt.format(max(low, 0.0))} to {fmt.format(high)}"]
    return out


def run_and_wait(page: Page, number: int, timeout: float = 120) -> None:
    """Press Run and wait for run `number` to be on screen; if it does not come, say what the page says."""
    page.click("run")
    try:
        page.wait(lambda: f"Run {number} done" in page.text("status"), timeout, f"run {number}")
    except AssertionError:
        page.screenshot(f"failed_run_{number}")
        raise AssertionError(f"run {number} not done after {timeout} s; status: {page.text('status')!r}; "
                             f"message: {page.text('message')!r}") from None


def downloaded(page: Page, host: str, name: str) -> bytes:
    """Click a download button and return the file's bytes once the browser has written it."""
    page.tab("Take away")
    page.click(host)
    path = page.browser.downloads / name
    page.wait(lambda: path.is_file() and path.stat().st_size > 0, 60, f"the download of {name}")
    time.sleep(0.3)
    return path.read_bytes()


def test_page_kpis_equal_the_cli(page: Page, tmp_path: Path) -> None:
    page.screenshot("explore_01_opened")
    page.set("knob-agents", "2")
    page.set("knob-frequency-visits_per_site_per_week", "1")
    run_and_wait(page, 1)
    page.screenshot("explore_02_kpis")
    overrides = ["scenario=saint_amand", "staffing.agents=2", "frequency.visits_per_site_per_week=1"]
    expected = sim.run(overrides)
    assert page.rows("kpis") == cells(expected.summary)
    assert page.rows("kpis")["seen within 20 min"][0].split("\n")[0].endswith("%")
    assert "python -m sim " + " ".join(overrides) in page.text("command")
    kpis = downloaded(page, "download-kpis", "kpis.csv")
    assert kpis.decode() == csv_text(expected.kpis)
    command = downloaded(page, "download-command", "command.sh").decode()
    assert command.splitlines()[-1] == "python -m sim " + " ".join(overrides)
    out = tmp_path / "cli"  # the command itself, as a user pastes it: the same kpis.csv, byte for byte
    words = shlex.split(command.splitlines()[-1])
    subprocess.run([sys.executable, *words[1:], f"hydra.run.dir={out}", "output.figures=false", "output.report=false"],
                   check=True, capture_output=True, cwd=tmp_path)
    assert (out / "kpis.csv").read_bytes() == kpis
    for tab, name in (("Map", "explore_03_map"), ("Waits", "explore_04_waits"), ("Sites", "explore_05_sites"),
                      ("Agent's week", "explore_06_agent_week")):
        page.tab(tab)
        page.screenshot(name)
    assert "Mairie de Saint-Amand-les-Eaux" in page.text("sites")


def test_a_bad_value_is_refused_in_the_page(page: Page) -> None:
    page.set("knob-agents", "-1")
    page.click("run")
    page.wait(lambda: "staffing.agents" in page.text("message"), 20, "the message")
    assert "staffing.agents: must be >= 1, got -1" in page.text("message")
    assert "Nothing was run" in page.text("status")
    assert "Run 1" not in page.text("kpis")
    page.screenshot("explore_07_bad_value")
    page.set("knob-agents", "1")
    page.set("knob-frequency-sessions", "9h-11h")
    page.click("run")
    page.wait(lambda: "frequency.sessions" in page.text("message"), 20, "the sessions message")
    page.set("knob-frequency-sessions", "09:00-11:30, 14:00-16:30")
    run_and_wait(page, 1)
    assert not page.find("message").is_displayed()


def test_a_second_click_while_running_starts_nothing(page: Page) -> None:
    page.set("knob-experiment-replications", "400")
    page.browser.execute_script(  # two clicks in one go, before the server has answered the first
        "const b = arguments[0]; b.click(); b.click();", page.find("run", "button"))
    page.wait(lambda: "Run 1: simulating" in page.text("status"), 20, "the run to start")
    assert not page.find("run", "button").is_enabled()
    page.wait(lambda: re.search(r"\.\.\. [1-9]\d* done", page.text("status")), 60, "progress while it runs")
    page.screenshot("explore_08_running")  # the page is updated while the replications run
    page.wait(lambda: "Run 1 done" in page.text("status"), 180, "the run to finish")
    assert page.text("status").startswith("Run 1 done: 400 replication(s)")
    time.sleep(1.0)  # a second click kept in a queue would start run 2 now
    assert page.text("status").startswith("Run 1 done")
    page.click("run")  # and the button works again
    page.wait(lambda: "Run 2 done" in page.text("status"), 180, "run 2")


def test_a_new_user_builds_a_territory_and_compares_one_and_two_agents(page: Page, server) -> None:
    page.click("territory-source", "button:nth-of-type(2)")
    page.set("query", "Bourganeuf")
    page.wait(lambda: "canton Bourganeuf (2305)" in page.text("found"), 30, "the matches")
    page.select("found", "canton Bourganeuf (2305)")
    page.screenshot("explore_09_search")
    page.click("build")
    page.wait(lambda: "scenario canton_2305" in page.text("territory-status"), 120, "the build")
    assert (server.scenarios / "canton_2305" / "communes.csv").is_file()
    run_and_wait(page, 1)
    page.click("pin")
    page.wait(lambda: "Baseline pinned" in page.text("compare"), 10, "the pin")
    page.set("knob-agents", "2")
    page.set("knob-frequency-visits_per_site_per_week", "1")
    run_and_wait(page, 2)
    page.tab("Compare")
    page.screenshot("explore_10_compare")
    data = ["scenario.name=canton_2305", f"scenario.data_dir={server.scenarios / 'canton_2305'}"]
    one, two = sim.run(data), sim.run(data + ["staffing.agents=2", "frequency.visits_per_site_per_week=1"])
    diff = paired_differences(one.per_replication, two.per_replication).loc["share_needs_met_within_7d"]
    label, fmt = LABELS["share_needs_met_within_7d"]
    signed = fmt.replace("{:", "{:+")
    row = page.rows("compare")[label]
    assert row[0].split("\n")[0] == fmt.format(one.summary["share_needs_met_within_7d"])
    assert row[1].split("\n")[0] == fmt.format(two.summary["share_needs_met_within_7d"])
    assert row[2] == f"{signed.format(diff['diff'])}\n{signed.format(diff['diff_ci_low'])} to {signed.format(diff['diff_ci_high'])}"
    assert diff["diff"] > 0  # weekly visits by two agents meet more needs within 7 days
    assert "common random numbers" in page.text("compare")
    report = downloaded(page, "download-report", "report.html").decode()
    assert report.startswith("<!DOCTYPE html>") and "canton_2305" in report and "data:image/png;base64" in report
    page.screenshot("explore_11_take_away")


def test_an_exported_sweep_opens_from_a_file_and_its_sliders_change_the_kpis(browser, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    subprocess.run([sys.executable, "-m", "sim", "-m", "staffing.agents=1,2", "frequency.visits_per_site_per_week=0.5,1",
                    "experiment.weeks=6", "experiment.replications=3", "output.figures=false", "output.report=false",
                    "output.requests=false", f"hydra.sweep.dir={sweep}"], check=True, capture_output=True)
    page_file = tmp_path / "page.html"
    subprocess.run([sys.executable, "-m", "sim.explore", "export", str(sweep), "-o", str(page_file)], check=True)
    html = page_file.read_text()  # no script, style sheet or image fetched from elsewhere: everything inline
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']?(https?:)?//", html)
    from selenium.webdriver.common.keys import Keys

    page = Page(browser, page_file.as_uri(), ready="slider-1")
    point = "const p = deep('#point', document); return p ? p.innerText : null;"
    kpis = "const k = deep('#kpis', document); return k ? k.innerText : null;"
    handle = "const s = deep('.' + arguments[0], document); return s && deep('.noUi-handle', s.shadowRoot || s);"
    assert page.script(point) == "staffing.agents=1, frequency.visits_per_site_per_week=0.5"
    before = page.script(kpis)
    page.script(handle, "slider-1").send_keys(Keys.ARROW_RIGHT)
    page.wait(lambda: page.script(point).endswith("=1"), 10, "the frequency slider")
    # one agent cannot hold weekly visits to 15 sites: that point failed, and the page says so
    assert page.script(point) == "staffing.agents=1, frequency.visits_per_site_per_week=1"
    assert "failed" in page.script(kpis)
    model = "return Bokeh.documents[0].get_model_by_name(arguments[0]).data;"
    assert all(v is None or v != v for v in page.browser.execute_script(model, "communes")["delay"])  # no colours
    assert page.browser.execute_script(model, "chosen")["x"] == []  # and no point on the chart
    page.script(handle, "slider-0").send_keys(Keys.ARROW_RIGHT)
    page.wait(lambda: page.script(point).startswith("staffing.agents=2"), 10, "the agents slider")
    after = page.script(kpis)
    assert after != before
    expected = json.loads((sweep / "3" / "summary.json").read_text())
    assert page.script(point) == "staffing.agents=2, frequency.visits_per_site_per_week=1"
    label, fmt = LABELS["share_needs_met_within_7d"]
    assert f"{label}\t{fmt.format(expected['share_needs_met_within_7d'])}" in after
    page.screenshot("explore_12_exported_sweep")


def test_the_page_runs_under_panel_serve(browser, tmp_path: Path) -> None:
    s = Server("--allow-websocket-origin=*", log=tmp_path / "serve.log",
               command=[sys.executable, "-m", "panel", "serve", "sim/explore/app.py"])
    try:
        page = Page(browser, s.url + "app")
        run_and_wait(page, 1)
        assert page.rows("kpis") == cells(sim.run(["scenario=saint_amand"]).summary)
    finally:
        s.stop()
