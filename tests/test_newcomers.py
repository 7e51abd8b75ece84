"""What a newcomer meets first: the help of the commands, and a README that lists every file a run writes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, run_cli
from sim.usage import KNOBS

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_help_describes_the_tool_its_groups_and_main_settings_with_units() -> None:
    r = run_cli("--help")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    text = r.stdout
    assert "powered by Hydra" not in text and text.startswith("Simulates an itinerant France Services")
    for group in ("scenario", "delivery", "demand", "staffing", "frequency", "choice", "experiment", "sweep"):
        assert re.search(rf"^  {group}$", text, re.M), group
    assert re.search(r"^   \* saint_amand +The 2021 pilot in the canton of Saint-Amand-les-Eaux", text, re.M)
    for path, _ in KNOBS:
        assert re.search(rf"^  {re.escape(path)} +.+ \[.+\]$", text, re.M), path
    assert "min: farthest a citizen travels to a session [20.0]" in text
    assert "exit codes: 0 done, 2 bad input" in text


def test_hydra_help_is_still_there() -> None:
    r = run_cli("--hydra-help")
    assert r.returncode == 0 and "--multirun" in r.stdout


def test_planner_help_and_site_names() -> None:
    usage = subprocess.run([sys.executable, "-m", "sim.planner", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert usage.returncode == 0 and usage.stdout.startswith("usage: python -m sim.planner"), usage.stderr
    plan = subprocess.run([sys.executable, "-m", "sim.planner"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert plan.returncode == 0, plan.stderr
    tours = [line for line in plan.stdout.splitlines() if line.startswith("week ")]
    assert tours and all("Mairie" in line or "Bureau de poste" in line or "La Poste" in line for line in tours), tours
    assert "-mairie" not in plan.stdout  # names, not ids


def _written(folder: Path) -> set[str]:
    """The names of the files a command wrote; those inside a hidden folder or figures/ by that folder."""
    names = set()
    for path in (p for p in folder.rglob("*") if p.is_file()):
        parts = path.relative_to(folder).parts
        inside = [p for p in parts[:-1] if p.startswith(".") or p == "figures"]
        names.add(f"{inside[0]}/" if inside else parts[-1])
    return names


def test_every_file_a_run_or_a_sweep_writes_is_in_the_readme(tmp_path: Path) -> None:
    run = run_cli("experiment.weeks=2", "experiment.replications=2", "output.svg=true", f"hydra.run.dir={tmp_path / 'run'}")
    assert run.returncode == 0, run.stderr
    sweep = run_cli("-m", "seed=0,1", "experiment.weeks=1", "experiment.replications=2", "output.figures=false",
                    "output.report=false", f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert sweep.returncode == 0, sweep.stderr
    written = _written(tmp_path / "run") | _written(tmp_path / "sweep")
    assert {"summary.json", "kpis.csv", "run.json", "report.html", "figures/", ".hydra/", "sweep.csv", "sweep.parquet",
            "multirun.yaml", ".sweep.lock"} <= written, written
    missing = sorted(name for name in written if f"`{name.rstrip('/')}" not in README)
    assert not missing, f"written but not listed in README.md: {missing}"
