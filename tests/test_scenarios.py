"""Scenarios: a territory built from the open data runs by name, the pilots run from their configs, face validity."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from sim import build_territory
from sim.build import territory_builder
from sim.cli import load_config
from sim.core.errors import InputError
from sim.study.experiment import run_experiment
from sim.core.units import DAY_MIN
from sim.build.scenario import build_scenario

from conftest import NO_CALENDAR, ROOT
from sim.__main__ import main

SMALL = ["experiment.weeks=2", "experiment.replications=1"]


@pytest.mark.parametrize("selection", [
    ["--canton", "5934"],
    ["--epci", "200035970", "--sites", "top:10"],  # 33 communes: 10 sites fit one agent's fortnight
    ["--radius-km", "5", "--around", "47001"],
])
def test_a_built_territory_runs_from_its_folder(tmp_path: Path, selection: list[str]) -> None:
    folder = tmp_path / "built"
    assert build_territory.main(["built", *selection, "--out-dir", str(folder)]) == 0
    res = run_experiment(load_config(["scenario.name=built", f"scenario.data_dir={folder}", *SMALL]))
    assert res.summary["scenario"] == "built" and res.summary["requests"] > 0
    assert res.summary["sessions"] > 0 and res.summary["no_session"] < res.summary["requests"]


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and ".hydra" not in p.parts}


def _sim(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    """`python -m sim args` in process (the same code path without interpreter start-up): exit code, stdout, stderr."""
    monkeypatch.setattr("sys.argv", ["sim", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_build_then_run_by_name_in_two_commands_gives_the_default_outputs(tmp_path: Path, monkeypatch, capsys) -> None:
    name = f"test_{uuid.uuid4().hex[:8]}"
    try:
        built = subprocess.run([sys.executable, "-m", "sim.build_territory", name, "--radius-km", "6", "--around", "59526"],
                               cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert built.returncode == 0, built.stderr
        code, out, err = _sim([f"scenario.name={name}", *SMALL, f"hydra.run.dir={tmp_path / 'built'}"], monkeypatch, capsys)
        assert code == 0 and f"{name}: 1 replication(s)" in out, err
        code, _, err = _sim([*SMALL, f"hydra.run.dir={tmp_path / 'default'}"], monkeypatch, capsys)
        assert code == 0, err
        assert _files(tmp_path / "built") == _files(tmp_path / "default")
        code, _, err = _sim([f"scenario={name}"], monkeypatch, capsys)
        assert code == 2 and f"run it with scenario.name={name}" in err
    finally:
        shutil.rmtree(ROOT / "scenarios" / name, ignore_errors=True)


def test_an_unknown_scenario_name_is_one_line_and_exit_2(tmp_path: Path, monkeypatch, capsys) -> None:
    code, _, err = _sim(["scenario.name=nowhere", f"hydra.run.dir={tmp_path / 'out'}"], monkeypatch, capsys)
    assert code == 2
    assert err.strip().splitlines() == [f"error: scenario: unknown scenario 'nowhere' (no folder {ROOT / 'scenarios' / 'nowhere'})"]
    assert not (tmp_path / "out").exists()


def _sessions_per_week(rota, weeks: int = 4) -> float:
    return float((rota.session_start < weeks * 7 * DAY_MIN).sum() / weeks)


def test_the_vigny_pilot_holds_4_sessions_a_week_at_8_town_halls() -> None:
    s = build_scenario(load_config(["scenario=vigny", *NO_CALENDAR]))
    assert s.territory.n_communes == 33 and s.territory.population.sum() == 24_941
    assert s.territory.n_sites == 8 and (s.territory.site_venue == "mairie").all()
    assert s.rota.agent_names == ("agent1",) and _sessions_per_week(s.rota) == 4
    assert (s.reach.sites[:, 0] >= 0).all()  # every commune within reach of a site


def test_the_agen_pilot_follows_its_rota_file() -> None:
    s = build_scenario(load_config(["scenario=agen", *NO_CALENDAR]))
    assert s.territory.n_sites == 5 and s.territory.population.sum() == 73_607
    assert s.rota.agent_names == ("advisor",) and _sessions_per_week(s.rota) == 4
    weeks = s.rota.session_start // (7 * DAY_MIN)
    digital = np.char.startswith(s.territory.site_id[s.rota.session_site].astype(str), "47001-digital-centre")
    assert list(s.territory.site_id[s.rota.session_site[digital & (weeks < 2)]]) == [
        "47001-digital-centre", "47001-digital-centre-2"]  # Montanou, then Bartelé


def test_command_line_overrides_win_over_a_scenario_config() -> None:
    cfg = load_config(["scenario=vigny", "frequency.visits_per_site_per_week=1", "staffing=two_agents", *NO_CALENDAR])
    assert cfg.frequency.visits_per_site_per_week == 1 and cfg.staffing.agents == 2
    s = build_scenario(cfg)
    assert _sessions_per_week(s.rota) == 8
    planned = build_scenario(load_config(["scenario=agen", "scenario.rota_file=null", *NO_CALENDAR]))
    assert _sessions_per_week(planned.rota, weeks=5) == 4 and planned.rota.agent_names == ("agent1",)
    with pytest.raises(InputError, match="scenario.rota_file: file not found"):
        build_scenario(load_config(["scenario=agen", "scenario.rota_file=nowhere.csv"]))


@pytest.mark.parametrize("name", ["vigny", "agen"])
def test_committed_pilot_equals_a_fresh_regeneration(tmp_path: Path, name: str) -> None:
    spec = importlib.util.spec_from_file_location(f"regenerate_{name}", ROOT / "scenarios" / name / "regenerate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--out-dir", str(tmp_path / name)])
    for file in territory_builder.SCENARIO_FILES:
        assert (tmp_path / name / file).read_bytes() == (ROOT / "scenarios" / name / file).read_bytes(), file


def test_face_validity_a_fixed_site_for_an_average_catchment_sees_about_11_a_day(tmp_path: Path) -> None:
    """Sénat (2022): 11 visits a day per site; 66.5 M people / 2,840 sites is about 23,400 per site.

    Avranches (Manche) and the communes within 8 km hold 23,379 people, all within 20 minutes of its town
    hall. At the mature rate (uptake 1) the model's fixed site there sees the figure printed below.
    """
    folder = territory_builder.build_territory("avranches", radius_km=8, around="50025", out_dir=tmp_path / "avranches",
                                             build_date="2026-11-29")
    cfg = load_config(["scenario.name=avranches", f"scenario.data_dir={folder}", "delivery=fixed", "demand=mature",
                       "experiment.weeks=8", "experiment.replications=5", *NO_CALENDAR])  # per open day
    res = run_experiment(cfg, keep_requests=False)
    assert res.scenario.territory.population.sum() == 23_379 and res.summary["no_session"] == 0
    per_day = res.summary["seen_per_week"] / len(cfg.frequency.working_days)
    print(f"fixed site, 23,379 people, uptake 1: {per_day:.1f} seen a day (Sénat 2022: 11)")
    assert 10.0 <= per_day <= 13.5
