"""The explorer's page: pick a territory, move the knobs, Run, read the KPIs, map, waits, sites and an agent's
week, pin a baseline and compare on common random numbers, take the report, `kpis.csv` and the command away.

One `Explorer` per browser session (or notebook cell). A run composes and validates its configuration as
`sim.run` does (`sim.cli.load_config`, then `sim.study.experiment.run_experiment`), so the page shows the
numbers of `python -m sim` with the same settings and seed; the replications run in a worker thread while
the page stays responsive, and the Run button is disabled (and a second click ignored) until they finish.
"""

from __future__ import annotations

import asyncio
import io
import shlex
import time
from html import escape
from pathlib import Path
from typing import Any

import panel as pn

from sim.api import Results
from sim.build.paths import scenario_dir
from sim.cli import load_config
from sim.config import Config, repo_root
from sim.core.errors import InputError
from sim.explore.views import comparison_html, kpi_table, site_table, territory_map, wait_figures
from sim.explore.knobs import GROUP_DEFAULTS, KNOBS, MODE_KEYS, Knob, overrides, value_of
from sim.explore.places import Place, build, prepared_scenarios, search
from sim.report.html import facts
from sim.study.experiment import run_experiment
from sim.study.outputs import csv_text

TITLE = "France Services en mobilité: explorer"
POLL_S = 0.1


def _widget(knob: Knob) -> Any:
    """The input of a knob: free numeric inputs (out-of-range values are the validation's to refuse, in words)."""
    label = f"{knob.label} ({knob.unit})" if knob.unit else knob.label
    common = {"label": label, "width": 280, "css_classes": [f"knob-{knob.name.replace('.', '-')}"]}
    if knob.kind in ("group", "choice"):
        return pn.widgets.Select(options=list(knob.options), **common)
    if knob.kind == "int":
        return pn.widgets.IntInput(**common)
    if knob.kind == "float":
        return pn.widgets.FloatInput(**common)
    return pn.widgets.TextInput(**common)


class Explorer:
    """The page's state and layout: a territory, knob widgets, the last run and the pinned baseline."""

    def __init__(self, scenarios_dir: str | Path | None = None) -> None:
        self.scenarios_dir = Path(scenarios_dir) if scenarios_dir is not None else repo_root() / "scenarios"
        self.runs = 0  # runs started: a second click while running must not add one
        self.running = False
        self.building = False
        self.model = "itinerant"  # the delivery model of the composed configuration (its knobs' config keys)
        self.composed: Config | None = None  # the territory's configuration with the chosen groups
        self.results: Results | None = None
        self.baseline: Results | None = None
        self.baseline_label = ""
        self.command = ""
        self.territory: list[str] = ["scenario=saint_amand"]
        self.widgets = {k.name: _widget(k) for k in KNOBS}
        self.defaults: dict[str, Any] = {}
        self.matches: dict[str, Place] = {}
        self._build_widgets()
        self._reset_defaults(force=True)
        for name in GROUP_DEFAULTS:
            self.widgets[name].param.watch(self._on_group, "value")

    # ----- layout -----------------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.source = pn.widgets.RadioButtonGroup(options=["prepared scenario", "open data"], value="prepared scenario",
                                                  color="light", css_classes=["territory-source"])
        self.prepared = pn.widgets.Select(label="scenario", options=prepared_scenarios(), width=300,
                                          css_classes=["prepared"])
        self.query = pn.widgets.TextInput(label="commune, canton, EPCI or département (name or code)",
                                          placeholder="e.g. Bourganeuf or 2305", width=300, css_classes=["query"])
        self.search_button = pn.widgets.Button(label="Search", width=90, css_classes=["search"])
        self.found = pn.widgets.Select(label="matches", options=[], width=300, css_classes=["found"])
        self.build_button = pn.widgets.Button(label="Build", color="primary", width=90, css_classes=["build"],
                                              disabled=True)
        self.territory_status = pn.pane.Markdown("Territory: **saint_amand** (the 2021 pilot)",
                                                 css_classes=["territory-status"], width=280)
        self.run_button = pn.widgets.Button(label="Run", color="primary", width=120, css_classes=["run"])
        self.pin_button = pn.widgets.Button(label="Pin as baseline", width=140, css_classes=["pin"], disabled=True)
        self.unpin_button = pn.widgets.Button(label="Unpin", width=80, css_classes=["unpin"], disabled=True)
        self.progress = pn.indicators.Progress(value=0, max=1, width=240, visible=False, css_classes=["progress"],
                                               margin=(18, 10))
        self.message = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width",
                                     css_classes=["message"])
        self.status = pn.pane.Markdown("Press **Run** to simulate the set-up.", css_classes=["status"],
                                       sizing_mode="stretch_width")
        self.kpis = pn.pane.HTML("", css_classes=["kpis"], sizing_mode="stretch_width")
        self.comparison = pn.pane.HTML("<p>Pin a run as the baseline, change a knob and run again: the two are shown "
                                       "side by side with their paired differences.</p>", css_classes=["compare"],
                                       sizing_mode="stretch_width")
        self.map = pn.pane.Bokeh(None, sizing_mode="stretch_width", css_classes=["map"])
        self.waits = pn.Column(sizing_mode="stretch_width", css_classes=["waits"])
        self.sites = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["sites"])
        self.agent_week = pn.pane.PNG(None, sizing_mode="stretch_width", css_classes=["agent-week"])
        self.command_pane = pn.pane.Markdown("", css_classes=["command"], sizing_mode="stretch_width")
        self.downloads = [
            pn.widgets.FileDownload(callback=self._report_file, filename="report.html", label="report.html",
                                    color="success", disabled=True, css_classes=["download-report"]),
            pn.widgets.FileDownload(callback=self._kpis_file, filename="kpis.csv", label="kpis.csv",
                                    color="success", disabled=True, css_classes=["download-kpis"]),
            pn.widgets.FileDownload(callback=self._command_file, filename="command.sh", label="command.sh",
                                    color="success", disabled=True, css_classes=["download-command"]),
        ]
        self.open_data = pn.Column(self.query, pn.Row(self.search_button), self.found, self.build_button, visible=False)
        self.source.param.watch(self._on_source, "value")
        self.search_button.on_click(self._on_search)
        self.query.param.watch(self._on_search, "enter_pressed")
        self.found.param.watch(lambda e: setattr(self.build_button, "disabled", not e.new), "value")
        self.build_button.on_click(self._on_build)
        self.prepared.param.watch(self._on_prepared, "value")
        self.run_button.on_click(self.run)
        self.pin_button.on_click(self._on_pin)
        self.unpin_button.on_click(self._on_unpin)

    def view(self) -> pn.viewable.Viewable:
        """The whole page: the set-up on the left, the results in tabs on the right."""
        open_data = pn.Column(self.query, pn.Row(self.search_button), self.found, self.build_button,
                              visible=False)
        def on_source(event: Any) -> None:
            self.prepared.visible, open_data.visible = event.new == "prepared scenario", event.new == "open data"
            if event.new == "prepared scenario":  # back to the scenario the list shows
                self._on_prepared(None)

        self.source.param.watch(on_source, "value")
        knobs = [pn.Column(self.widgets[k.name], pn.pane.Markdown(k.help, styles={"font-size": "0.8em", "color": "#555"},
                                                                  width=280, margin=(-14, 10, 0, 10)), width=300)
                 for k in KNOBS]
        side = pn.Column(
            pn.pane.Markdown("### Territory"), pn.Row(pn.Column(self.source, self.prepared, self.open_data), self.territory_status),
            pn.pane.Markdown("### Set-up"), pn.GridBox(*knobs, ncols=2), width=620,
        )
        tabs = pn.Tabs(
            ("KPIs", pn.Column(self.kpis, sizing_mode="stretch_width")),
            ("Compare", self.comparison),
            ("Map", self.map),
            ("Waits", self.waits),
            ("Sites", self.sites),
            ("Agent's week", self.agent_week),
            ("Take away", pn.Column(pn.Row(*self.downloads), self.command_pane, sizing_mode="stretch_width")),
            dynamic=False, sizing_mode="stretch_width", css_classes=["results"],
        )
        header = pn.pane.Markdown(f"## {TITLE}\nThe simulator of `python -m sim`, in the browser: the same "
                                  "configuration, the same numbers.", sizing_mode="stretch_width")
        controls = pn.Column(pn.Row(self.run_button, self.pin_button, self.unpin_button, self.progress), self.message,
                             self.status, tabs, sizing_mode="stretch_width")
        return pn.Column(header, pn.Row(side, controls, sizing_mode="stretch_width"), sizing_mode="stretch_width")

    def servable(self) -> pn.viewable.Viewable:
        """The page, marked servable for `panel serve`."""
        return self.view().servable(title=TITLE)

    # ----- territory -------------------------------------------------------------------------------
    def _on_source(self, event: Any) -> None:
        self.prepared.visible, self.open_data.visible = event.new == "prepared scenario", event.new == "open data"
        if event.new == "prepared scenario":  # back to the scenario the list shows
            self._on_prepared(None)

    def _on_prepared(self, _event: Any) -> None:
        name = self.prepared.value
        self._set_territory([f"scenario={name}"], f"Territory: **{escape(name)}**")

    def _set_territory(self, territory: list[str], text: str) -> None:
        """Switch territory: its defaults for the knobs; a pinned baseline of another territory is let go."""
        if territory == self.territory:
            return
        old = self.territory
        self.territory = territory
        try:
            self._reset_defaults(force=True)
        except (InputError, ValueError) as exc:
            self.territory = old
            self._reset_defaults(force=True)
            self._show_error(str(exc))
            return
        rota_file = self.composed.scenario.rota_file
        if rota_file:
            text += (f". Its rota comes from `{escape(rota_file)}`: agents, visits, sessions and "
                     "working day do not change it.")
        self.territory_status.object = text
        self.message.visible = False
        if self.baseline is not None:
            self._on_unpin(None)
            self.comparison.object = "<p>The baseline was of another territory: unpinned.</p>"

    def _on_search(self, _event: Any = None) -> None:
        found = search(self.query.value_input or self.query.value or "")
        self.matches = {p.label: p for p in found}
        self.found.options = list(self.matches)
        self.found.value = next(iter(self.matches), None)
        self.build_button.disabled = not found
        if not found:
            self.territory_status.object = ("No commune, canton, EPCI or département matches "
                                            f"*{escape(self.query.value_input or self.query.value or '')}*.")

    async def _on_build(self, _event: Any) -> None:
        place = self.matches.get(self.found.value)
        if place is None or self.running:
            return
        self.building, self.build_button.disabled, self.run_button.disabled = True, True, True
        self.territory_status.object = f"Building **{escape(place.label)}** from the open data..."
        try:
            folder = await asyncio.get_running_loop().run_in_executor(None, build, place, self.scenarios_dir)
        except Exception as exc:  # bad input, or a fault of the machine (disk full): said in the page
            self._show_error(str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}")
            self.territory_status.object = f"Could not build {escape(place.label)}."
            return
        finally:
            self.building, self.build_button.disabled, self.run_button.disabled = False, False, False
        territory = [f"scenario.name={place.scenario_name}"]
        if folder.resolve() != (repo_root() / "scenarios" / place.scenario_name).resolve():
            territory.append(f"scenario.data_dir={folder}")
        self._set_territory(territory, f"Territory: **{escape(place.label)}**, scenario `{place.scenario_name}` "
                                       f"({escape(str(folder))})")

    # ----- knobs -----------------------------------------------------------------------------------
    def _groups(self) -> dict[str, str]:
        return {name: self.widgets[name].value or default for name, default in GROUP_DEFAULTS.items()}

    def _on_group(self, event: Any) -> None:
        """A delivery mode or demand chosen: its defaults; the knobs whose key depends on the mode start afresh."""
        try:
            self._reset_defaults(mode_changed=event.obj is self.widgets["delivery"])
        except (InputError, ValueError) as exc:
            self._show_error(str(exc))

    def _reset_defaults(self, force: bool = False, mode_changed: bool = False) -> None:
        """Compose the territory with the chosen groups; knobs the user has not changed (all with `force`, those of
        the delivery mode with `mode_changed`) take its values."""
        groups = self._groups()
        config = load_config(self.territory + [f"{k}={v}" for k, v in groups.items()])
        new = {k.name: value_of(config, k, groups) for k in KNOBS}
        old, self.defaults, self.model, self.composed = self.defaults, new, config.delivery.model, config
        for knob in KNOBS:
            widget = self.widgets[knob.name]
            if force or (knob.kind != "group" and (widget.value == old.get(knob.name)
                                                   or (mode_changed and knob.name in MODE_KEYS))):
                widget.value = new[knob.name]

    def overrides(self) -> list[str]:
        """The run's Hydra overrides: the territory, then each changed knob; ValueError for an unreadable value."""
        values = {name: w.value for name, w in self.widgets.items()}
        return self.territory + overrides(values, self.defaults, self.model)

    def config(self) -> tuple[list[str], Config]:
        """The overrides and the validated configuration; InputError or ValueError with a one-line message."""
        items = self.overrides()
        return items, load_config(items)

    # ----- run -------------------------------------------------------------------------------------
    def _show_error(self, text: str) -> None:
        self.message.object = f"**error**: {escape(text)}"
        self.message.visible = True

    async def run(self, _event: Any = None) -> None:
        """Run the set-up (the Run button): validate, simulate in a worker thread with progress, show; ignored while
        a run is under way."""
        if self.running or self.building:
            return
        try:
            items, config = self.config()
        except (InputError, ValueError) as exc:
            self._show_error(str(exc))
            self.status.object = "Nothing was run: correct the setting above."
            return
        self.running = True
        self.runs += 1
        self.message.visible = False
        self.run_button.disabled = True
        total = config.experiment.replications
        done = [0]
        self.progress.max, self.progress.value, self.progress.visible = int(total), 0, True
        self.status.object = f"Run {self.runs}: simulating {total} replication(s)..."
        started = time.perf_counter()

        def work() -> Results:
            return Results.of(run_experiment(config, progress=False,
                                             on_replication=lambda d, _t: done.__setitem__(0, d)))

        future = asyncio.get_running_loop().run_in_executor(None, work)
        try:
            while not future.done():
                if done[0] != self.progress.value:
                    self.progress.value = done[0]
                    self.status.object = f"Run {self.runs}: simulating {total} replication(s)... {done[0]} done"
                await asyncio.sleep(POLL_S)
            results = future.result()
            self.show(results, shlex.join(["python", "-m", "sim", *items]), started)
        except Exception as exc:  # a rota the agents cannot staff, or a fault: said in the page, which goes on
            self._show_error(str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}")
            self.status.object = f"Run {self.runs} stopped: nothing to show."
        finally:
            self.running = False
            self.run_button.disabled = False
            self.progress.visible = False

    def show(self, results: Results, command: str, started: float | None = None) -> None:
        """Put a run (and the command that reproduces it) on the page: KPIs, comparison, map, waits, sites, week,
        downloads. Everything is drawn before anything is replaced, so a failure leaves the previous run whole.
        The status says how long the replications took and (from `started`, a perf_counter) the whole run."""
        started = time.perf_counter() if started is None else started
        s = results.summary
        territory = results.config.scenario.kind == "territory"
        kpis = (f"<p class=\"facts\" id=\"facts\">Run {self.runs}: {escape(str(s['scenario']))}, {facts(s)}</p>"
                + kpi_table(s))
        comparison = (f"<p>Baseline: <code>{escape(self.baseline_label)}</code></p>"
                      + comparison_html(self.baseline, results)) if self.baseline is not None else None
        drawn = (territory_map(results) if territory else None, wait_figures(results),
                 site_table(results) if territory else "", self._agent_week_png(results) if territory else None)
        self.results, self.command = results, command
        self.kpis.object = kpis
        if comparison is not None:
            self.comparison.object = comparison
        self.map.object, self.waits.objects, self.sites.object, self.agent_week.object = drawn
        self.command_pane.object = (f"The command that reproduces this run (same settings, same seed, same "
                                    f"numbers):\n\n```bash\n{command}\n```")
        for widget in self.downloads:
            widget.disabled = False
        self.pin_button.disabled = False
        notes = "".join(f" Note: {escape(n)}" for n in results.scenario.notes)
        self.status.object = (f"Run {self.runs} done: {s['replications']} replication(s) in {results.elapsed_s:.2f} s "
                              f"(simulation {results.timings.get('simulate', 0.0):.2f} s), shown "
                              f"{time.perf_counter() - started:.2f} s after Run.{notes}")

    @staticmethod
    def _agent_week_png(results: Results) -> bytes:
        from sim.report.figures import render

        return render(results.plot_agent_week(), "png")

    # ----- compare ---------------------------------------------------------------------------------
    def _on_pin(self, _event: Any) -> None:
        if self.results is None:
            return
        self.baseline = self.results
        self.baseline_label = self.command
        self.unpin_button.disabled = False
        self.comparison.object = (f"<p id=\"pinned\">Baseline pinned: <code>{escape(self.command)}</code>. "
                                  "Change a knob and press Run.</p>")

    def _on_unpin(self, _event: Any) -> None:
        self.baseline = None
        self.unpin_button.disabled = True
        self.comparison.object = "<p>No baseline pinned.</p>"

    # ----- take away -------------------------------------------------------------------------------
    def report_text(self) -> str:
        """The self-contained HTML report of the last run (as `python -m sim` writes it)."""
        from sim.report import draw_figures
        from sim.report.html import report_html

        assert self.results is not None
        return report_html(self.results, draw_figures(self.results))

    def _report_file(self) -> io.BytesIO:
        return io.BytesIO(self.report_text().encode("utf-8"))

    def _kpis_file(self) -> io.BytesIO:
        assert self.results is not None
        return io.BytesIO(csv_text(self.results.kpis).encode("utf-8"))

    def _command_file(self) -> io.BytesIO:
        folder = scenario_dir(self.results.config) if self.results is not None else None
        return io.BytesIO(f"# reproduces the explorer's run (data: {folder})\n{self.command}\n".encode("utf-8"))


def app(scenarios_dir: str | Path | None = None) -> pn.viewable.Viewable:
    """A new page (one per browser session under `panel serve`, or one notebook cell)."""
    pn.extension(design="native", notifications=False)
    return Explorer(scenarios_dir).view()


if __name__.startswith("bokeh"):  # run as a script by `panel serve sim/explore/app.py`
    pn.extension(design="native", notifications=False)
    Explorer().servable()


