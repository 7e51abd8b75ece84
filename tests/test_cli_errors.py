"""Bad input: one line naming the field and the problem, exit code 2, and no output left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from sim.__main__ import main


def _assert_refused(args: list[str], out: Path, expect: str, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI entry point, in process: same code path as `python -m sim`, without interpreter start-up."""
    monkeypatch.setattr("sys.argv", ["sim", *args, f"hydra.run.dir={out}"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and expect in lines[0], lines[0]
    assert not out.exists()


@pytest.mark.parametrize("args,expect", [
    (["demand.uptake=abc"], "error: demand.uptake: wrong type"),
    (["scenario=nowhere"], "error: scenario: unknown choice 'nowhere'"),
])
def test_bad_input_from_a_real_process(tmp_path: Path, args: list[str], expect: str) -> None:
    out = tmp_path / "out"
    r = run_cli(*args, f"hydra.run.dir={out}")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and r.stderr.startswith(expect), r.stderr
    assert "Traceback" not in r.stderr and not out.exists()


@pytest.mark.parametrize("args,expect", [
    (["demand.foo=1"], "demand.foo: unknown config key"),
    (["foo=1"], "foo: unknown config key"),
    (["demand.uptake=abc"], "demand.uptake: wrong type"),
    (["staffing.agents=1.5"], "staffing.agents: wrong type"),
    (["demand.rate_per_1000_per_day=-1"], "demand.rate_per_1000_per_day: must be > 0"),
    (["demand.rate_per_1000_per_day=0"], "demand.rate_per_1000_per_day: must be > 0"),
    (["mmc.service_rate_per_hour=0", "scenario=mmc"], "mmc.service_rate_per_hour: must be > 0"),
    (["citizens.p_return=1.5"], "citizens.p_return: must be a share in [0, 1]"),
    (["service.referred_share=-0.1"], "service.referred_share: must be a share in [0, 1]"),
    (["demand.operator_share.caf=0.5"], "demand.operator_share: shares must add up to 1"),
    (["scenario=nowhere"], "scenario: unknown choice 'nowhere'"),
    (["scenario.name=nowhere"], "scenario: unknown scenario 'nowhere'"),
    (["frequency.visits_per_site_per_week=3"], "short by 35 a week"),
    (["staffing.workday_max_h=4"], "staffing.workday_max_h: tours within the 4 h working day need 7.5 agent-days a week but 1 agent(s) x 5 days give 5 (short by 2.5 a week)"),
    (["frequency.sessions=[09:00-08:00]"], "frequency.sessions[0]: ends before it starts"),
    (["experiment.replications=0"], "experiment.replications: must be >= 1"),
])
def test_bad_config(tmp_path: Path, args: list[str], expect: str, capsys, monkeypatch) -> None:
    _assert_refused(args, tmp_path / "out", expect, capsys, monkeypatch)


def test_site_in_unknown_commune(tmp_path: Path, saint_amand_copy: Path, capsys, monkeypatch) -> None:
    sites = saint_amand_copy / "sites.csv"
    sites.write_text(sites.read_text().replace("59114-mairie,Mairie de Bruille-Saint-Amand,59114", "59114-mairie,Mairie de Bruille-Saint-Amand,99999"))
    _assert_refused([f"scenario.data_dir={saint_amand_copy}"], tmp_path / "out", "sites.csv:2:insee: site '59114-mairie' is in unknown commune '99999'", capsys, monkeypatch)


@pytest.mark.parametrize("content,expect", [
    ('insee,name,population,lat,lon\n59001,"Unclosed,12,50.1,3.2\n', "communes.csv"),
    ("insee,name,population,lat\n59001,A,12,50.1\n", "missing column(s) lon"),
    ("insee,name,population,lat,lon\n59001,A,lots,50.1,3.2\n", "communes.csv:2:population: not a number: 'lots'"),
    ("insee,name,population,lat,lon\n59001,A,12,95.0,3.2\n", "communes.csv:2:lat: outside [-90, 90]"),
])
def test_malformed_communes_csv(tmp_path: Path, saint_amand_copy: Path, content: str, expect: str, capsys, monkeypatch) -> None:
    (saint_amand_copy / "communes.csv").write_text(content)
    _assert_refused([f"scenario.data_dir={saint_amand_copy}"], tmp_path / "out", expect, capsys, monkeypatch)


def test_rota_with_an_agent_in_two_places(tmp_path: Path, capsys, monkeypatch) -> None:
    rota = tmp_path / "rota.csv"
    rota.write_text("agent,weekday,site_id,start,end\n"
                    "ana,mon,59526-mairie,09:00,11:30\n"
                    "ana,mon,59491-mairie,11:00,12:00\n")
    _assert_refused([f"scenario.rota_file={rota}"], tmp_path / "out", "rota: agent ana is needed at 59526-mairie and 59491-mairie at once", capsys, monkeypatch)


def test_rota_without_time_to_drive_between_two_sessions(tmp_path: Path, capsys, monkeypatch) -> None:
    rota = tmp_path / "rota.csv"
    rota.write_text("agent,weekday,site_id,start,end\n"
                    "ana,mon,59526-mairie,09:00,11:30\n"
                    "ana,mon,59491-mairie,11:35,12:30\n")  # about 10 km apart: 12 min of driving
    _assert_refused([f"scenario.rota_file={rota}"], tmp_path / "out",
                    "rota: agent ana on day 0 (mon) has 5 min from 59526-mairie (ends 11:30) to 59491-mairie "
                    "(starts 11:35) but the drive takes 12 min: 7 min missing", capsys, monkeypatch)


def test_rota_naming_an_unknown_site(tmp_path: Path, capsys, monkeypatch) -> None:
    rota = tmp_path / "rota.yaml"
    rota.write_text("- {agent: ana, weekday: tue, site_id: nowhere, start: '09:00', end: '11:30'}\n")
    _assert_refused([f"scenario.rota_file={rota}"], tmp_path / "out", "rota.yaml:2:site_id: unknown site 'nowhere'", capsys, monkeypatch)


def test_rota_longer_than_the_working_day(tmp_path: Path, capsys, monkeypatch) -> None:
    rota = tmp_path / "rota.csv"
    rota.write_text("agent,weekday,site_id,start,end\nana,mon,59526-mairie,08:00,16:00\n")
    _assert_refused([f"scenario.rota_file={rota}"], tmp_path / "out", "staffing.workday_max_h: agent ana on day 0 (mon)", capsys, monkeypatch)


def test_good_explicit_rota_runs(tmp_path: Path) -> None:
    rota = tmp_path / "rota.csv"
    rota.write_text("agent,week,weekday,site_id,start,end\n"
                    "ana,1,mon,59526-mairie,09:00,11:30\nana,1,mon,59491-mairie,14:00,16:30\n"
                    "ana,2,thu,59632-mairie,09:00,11:30\n")
    r = run_cli(f"scenario.rota_file={rota}", "experiment.replications=2", f"hydra.run.dir={tmp_path / 'out'}")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "summary.json").is_file()


def test_scenario_whose_data_is_not_built_yet(tmp_path: Path, capsys, monkeypatch) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "regenerate.py").write_text("# builds the data\n")
    _assert_refused([f"scenario.data_dir={folder}"], tmp_path / "out", "the data of 'saint_amand' is not built yet: run python", capsys, monkeypatch)
