"""The corpus of bad inputs: each is refused with exit 2, one `error:` line naming the field, no traceback,
and no file left behind (not even an empty run or sweep folder).

Four doors: the command line of `python -m sim` (config overrides, launchers, sweeps), the scenario's data
files, the explicit rota and travel-matrix files, and the territory builder. The cases run in process through
the same entry points as the commands (`sim.__main__.main`, `sim.build_territory.main`); a few run as real
processes to check what a user's shell sees.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import tempfile
import typing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, one_error_line
from sim import build_territory
from sim.__main__ import main
from sim.config import BOUNDS, Config

SA = ROOT / "scenarios" / "saint_amand"


def files_under(folder: Path) -> set[Path]:
    """Every file and folder under `folder`."""
    return set(folder.rglob("*"))


def refused_in_process(argv: list[str], capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run `python -m sim argv` in process; check exit 2 and one line without traceback; return the line."""
    monkeypatch.setattr("sys.argv", ["sim", *argv])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    return one_error_line(err)


def check(line: str, field: str, problem: str) -> None:
    """The line names the field first (a file by its path), then the problem."""
    assert re.match(rf"error: (\S*/)?{re.escape(field)}", line), line
    assert problem in line, line


# (overrides, field named first in the line, words of the problem)
CONFIG_CASES = {
    "unknown top-level key": (["foo=1"], "foo", "unknown config key"),
    "unknown nested key": (["citizens.patience=3"], "citizens.patience", "unknown config key"),
    "unknown key in a dict of operators": (["service.median_min_by_operator.sncf=10"], "service.median_min_by_operator", "sncf"),
    "text for a number": (["demand.uptake=abc"], "demand.uptake", "wrong type"),
    "float for an int": (["staffing.agents=1.5"], "staffing.agents", "wrong type"),
    "list for a number": (["travel.speed_kmh=[1,2]"], "travel.speed_kmh", ""),
    "negative rate": (["demand.rate_per_1000_per_day=-1"], "demand.rate_per_1000_per_day", "must be > 0"),
    "zero rate": (["demand.rate_per_1000_per_day=0"], "demand.rate_per_1000_per_day", "must be > 0"),
    "infinite rate": (["demand.rate_per_1000_per_day=inf"], "demand.rate_per_1000_per_day", "finite"),
    "nan uptake": (["demand.uptake=nan"], "demand.uptake", "finite"),
    "share above 1": (["citizens.appointment_share=1.5"], "citizens.appointment_share", "[0, 1]"),
    "negative share": (["service.referred_share=-0.1"], "service.referred_share", "[0, 1]"),
    "operator shares not adding up": (["demand.operator_share.caf=0.5"], "demand.operator_share", "add up to 1"),
    "zero speed": (["travel.speed_kmh=0"], "travel.speed_kmh", "must be > 0"),
    "infinite speed": (["travel.speed_kmh=inf"], "travel.speed_kmh", "finite"),
    "negative detour": (["travel.detour_factor=-1.3"], "travel.detour_factor", ""),
    "detour below straight line": (["travel.detour_factor=0.5"], "travel.detour_factor", ""),
    "negative travel promise": (["citizens.max_travel_min=-20"], "citizens.max_travel_min", ""),
    "zero horizon": (["citizens.horizon_days=0"], "citizens.horizon_days", ""),
    "nan patience": (["citizens.patience_mean_min=nan"], "citizens.patience_mean_min", "finite"),
    "zero slot": (["citizens.slot_min=0"], "citizens.slot_min", ""),
    "overflowing service time": (["service.median_min=1e308"], "service.median_min", ""),
    "negative sigma": (["service.sigma=-0.5"], "service.sigma", ""),
    "unknown service distribution": (["service.distribution=gamma"], "service.distribution", "lognormal"),
    "unknown arrival profile": (["citizens.arrival_profile=late"], "citizens.arrival_profile", "front_loaded"),
    "unknown choice rule": (["citizens.choice.booker=random"], "citizens.choice.booker", "random"),
    "negative choice weight": (["citizens.choice.weight_min_per_day=-3"], "citizens.choice.weight_min_per_day", ""),
    "zero agents": (["staffing.agents=0"], "staffing.agents", ""),
    "negative hourly cost": (["staffing.cost_per_agent_hour=-35"], "staffing.cost_per_agent_hour", ""),
    "infinite km cost": (["staffing.cost_per_km=inf"], "staffing.cost_per_km", "finite"),
    "working day of 30 h": (["staffing.workday_max_h=30"], "staffing.workday_max_h", ""),
    "too many visits for one agent": (["frequency.visits_per_site_per_week=3"], "", "short by 35 a week"),
    "negative visits": (["frequency.visits_per_site_per_week=-1"], "frequency.visits_per_site_per_week", ""),
    "session ending before it starts": (["frequency.sessions=[09:00-08:00]"], "frequency.sessions[0]", "ends before it starts"),
    "malformed session": (["frequency.sessions=[9h-12h]"], "frequency.sessions[0]", ""),
    "weekday 7": (["frequency.working_days=[0,7]"], "frequency.working_days", ""),
    "negative weekday weight": (["demand.weekday_profile=[1,1,1,1,-1,0,0]"], "demand.weekday_profile", ""),
    "unknown delivery mode": (["delivery.model=drone"], "delivery.model", "drone"),
    "unknown planner": (["delivery.planner=magic"], "delivery.planner", "magic"),
    "fixed site in an unknown commune": (["delivery=fixed", "delivery.fixed.commune=99999"], "delivery.fixed.commune", "99999"),
    "bus cycle of 0 weeks": (["delivery=bus", "delivery.bus.cycle_weeks=0"], "delivery.bus.cycle_weeks", ""),
    "zero weeks": (["experiment.weeks=0"], "experiment.weeks", ""),
    "a thousand years": (["experiment.weeks=52000"], "experiment.weeks", ""),
    "zero replications": (["experiment.replications=0"], "experiment.replications", "must be >= 1"),
    "replications as words": (["experiment.replications=many"], "experiment.replications", ""),
    "unknown cluster backend": (["experiment.cluster.backend=kubernetes"], "experiment.cluster.backend", "kubernetes"),
    "no memory for a job": (["experiment.cluster.mem_gb=0"], "experiment.cluster.mem_gb", ""),
    "negative seed": (["seed=-1"], "seed", ""),
    "seed beyond the generator": (["seed=1e30"], "seed", ""),
    "unknown scenario group option": (["scenario=nowhere"], "scenario", "unknown choice 'nowhere'"),
    "unknown scenario name": (["scenario.name=nowhere"], "scenario", "unknown scenario 'nowhere'"),
    "unknown demand option": (["demand=huge"], "demand", "huge"),
    "zero servers in the queueing check": (["scenario=mmc", "mmc.servers=0"], "mmc.servers", ""),
    "zero service rate in the queueing check": (["scenario=mmc", "mmc.service_rate_per_hour=0"], "mmc.service_rate_per_hour", "must be > 0"),
    "unknown KPI to optimise": (["optimise.cost=happiness"], "optimise.cost", "happiness"),
    "missing travel matrix": (["scenario.travel_matrix=/nonexistent/times.csv"], "scenario.travel_matrix", "/nonexistent/times.csv"),
    "missing rota file": (["scenario.rota_file=/nonexistent/rota.csv"], "scenario.rota_file", "/nonexistent/rota.csv"),
    "missing data folder": (["scenario.data_dir=/nonexistent/data"], "scenario.data_dir", "/nonexistent/data"),
    "unknown launcher": (["hydra/launcher=nope"], "hydra/launcher", "nope"),
    "site choice of no site": (["scenario.site_choice=best:0"], "scenario.site_choice", "best:K (K >= 1 sites)"),
    "unknown site choice": (["scenario.site_choice=worst:3"], "scenario.site_choice", "worst:3"),
    "site choice covering nobody": (["scenario.site_choice=cover:0"], "scenario.site_choice", "(0, 100]"),
    "site choice with an explicit rota": (["scenario.site_choice=best", "scenario.rota_file=/tmp/rota.csv"],
                                          "scenario.site_choice", "cannot be combined with scenario.rota_file"),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_a_bad_setting_is_refused(case: str, tmp_path: Path, capsys, monkeypatch) -> None:
    overrides, field, problem = CONFIG_CASES[case]
    out = tmp_path / "run"
    check(refused_in_process([*overrides, f"hydra.run.dir={out}"], capsys, monkeypatch), field, problem)
    assert not files_under(tmp_path)


SWEEP_CASES = {
    "a bad value among the swept ones": (["staffing.agents=1,0"], "staffing.agents", ""),
    "an unknown swept key": (["staffing.agent=1,2"], "staffing.agent", "unknown config key"),
    "an unknown sweeper": (["hydra/sweeper=nope", "seed=0,1"], "hydra/sweeper", "nope"),
    "an unknown launcher": (["hydra/launcher=nope", "seed=0,1"], "hydra/launcher", "nope"),
    "an unknown named sweep": (["sweep=everything"], "sweep", "everything"),
}


@pytest.mark.parametrize("case", sorted(SWEEP_CASES))
def test_a_bad_sweep_is_refused_before_any_run(case: str, tmp_path: Path, capsys, monkeypatch) -> None:
    overrides, field, problem = SWEEP_CASES[case]
    line = refused_in_process(["-m", *overrides, f"hydra.sweep.dir={tmp_path / 'sweep'}"], capsys, monkeypatch)
    check(line, field, problem)
    assert not files_under(tmp_path)


def scenario_copy(tmp_path: Path) -> Path:
    """A writable copy of the default scenario's data files."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("communes.csv", "sites.csv", "scenario.yaml"):
        (folder / name).write_bytes((SA / name).read_bytes())
    return folder


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in a file by `new` (the case must change something)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# (file, text replaced, replacement, field, words of the problem)
DATA_CASES = {
    "population far above Paris": ("communes.csv", "59100,Bousignies,333", "59100,Bousignies,9000000", "communes.csv:2:population", ""),
    "negative population": ("communes.csv", "59100,Bousignies,333", "59100,Bousignies,-333", "communes.csv:2:population", ""),
    "infinite population": ("communes.csv", "59100,Bousignies,333", "59100,Bousignies,inf", "communes.csv:2:population", ""),
    "population in words": ("communes.csv", "59100,Bousignies,333", "59100,Bousignies,lots", "communes.csv:2:population", "not a number"),
    "latitude out of range": ("communes.csv", "50.434309", "95.0", "communes.csv:2:lat", "outside [-90, 90]"),
    "latitude not a number": ("communes.csv", "50.434309", "nan", "communes.csv:2:lat", ""),
    "duplicated commune": ("communes.csv", "59109,Brillon", "59100,Brillon", "communes.csv", "59100"),
    "commune table without lon": ("communes.csv", "insee,name,population,lat,lon", "insee,name,population,lat,long", "communes.csv", "lon"),
    "unclosed quote in communes": ("communes.csv", "59100,Bousignies", '59100,"Bousignies', "communes.csv", ""),
    "site in an unknown commune": ("sites.csv", "59114-mairie,Mairie de Bruille-Saint-Amand,59114", "59114-mairie,Mairie de Bruille-Saint-Amand,99999", "sites.csv:2:insee", "unknown commune '99999'"),
    "duplicated site": ("sites.csv", "59238-mairie,", "59114-mairie,", "sites.csv", "59114-mairie"),
    "site longitude infinite": ("sites.csv", "3.499018", "inf", "sites.csv:2:lon", ""),
    "sites without a name column": ("sites.csv", "site_id,name,", "site_id,label,", "sites.csv", "name"),
    "scenario.yaml not YAML": ("scenario.yaml", "", ":\n  - [unclosed\n", "scenario.yaml", ""),
}


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_a_bad_data_file_is_refused(case: str, tmp_path: Path, capsys, monkeypatch) -> None:
    name, old, new, field, problem = DATA_CASES[case]
    data = scenario_copy(tmp_path)
    if old:
        edit(data / name, old, new)
    else:
        (data / name).write_text(new, encoding="utf-8")
    before = files_under(tmp_path)
    line = refused_in_process([f"scenario.data_dir={data}", f"hydra.run.dir={tmp_path / 'run'}"], capsys, monkeypatch)
    check(line, field, problem)
    assert files_under(tmp_path) == before


def test_a_bad_data_file_stops_a_sweep_before_any_job(tmp_path: Path, capsys, monkeypatch) -> None:
    data = scenario_copy(tmp_path)
    edit(data / "communes.csv", "59100,Bousignies,333", "59100,Bousignies,-333")
    before = files_under(tmp_path)
    line = refused_in_process(["-m", "staffing.agents=1,2", f"scenario.data_dir={data}",
                               f"hydra.sweep.dir={tmp_path / 'sweep'}"], capsys, monkeypatch)
    check(line, "communes.csv:2:population", "")
    assert files_under(tmp_path) == before


MATRIX = "from,to,minutes,km\n59526-mairie,59491-mairie,12,10\n"
# (file name, content, field, words of the problem)
SIDE_FILE_CASES = {
    "matrix with negative minutes": ("times.csv", MATRIX.replace(",12,", ",-12,"), "times.csv:2:minutes", ""),
    "matrix with words for minutes": ("times.csv", MATRIX.replace(",12,", ",twelve,"), "times.csv:2:minutes", "not a number"),
    "matrix with infinite km": ("times.csv", MATRIX.replace(",10\n", ",inf\n"), "times.csv:2:km", ""),
    "matrix with an unknown site": ("times.csv", MATRIX.replace("59491-mairie", "nowhere"), "times.csv:2:to", "nowhere"),
    "matrix pairs that disagree": ("times.csv", MATRIX + "59526-mairie,59491-mairie,30,10\n", "times.csv", "59526-mairie"),
    "matrix without minutes": ("times.csv", "from,to,km\n59526-mairie,59491-mairie,10\n", "times.csv", "minutes"),
    "rota with an agent in two places": ("rota.csv", "agent,weekday,site_id,start,end\nana,mon,59526-mairie,09:00,11:30\n"
                                         "ana,mon,59491-mairie,11:00,12:00\n", "rota", "at once"),
    "rota at an unknown site": ("rota.csv", "agent,weekday,site_id,start,end\nana,tue,nowhere,09:00,11:30\n", "rota.csv:2:site_id", "unknown site 'nowhere'"),
    "rota on an unknown weekday": ("rota.csv", "agent,weekday,site_id,start,end\nana,someday,59526-mairie,09:00,11:30\n", "rota.csv:2:weekday", "someday"),
    "rota with a malformed time": ("rota.csv", "agent,weekday,site_id,start,end\nana,tue,59526-mairie,9h,11:30\n", "rota.csv:2:start", "9h"),
    "rota in week 0": ("rota.csv", "agent,week,weekday,site_id,start,end\nana,0,tue,59526-mairie,09:00,11:30\n", "rota.csv:2:week", ""),
    "rota without time to drive": ("rota.csv", "agent,weekday,site_id,start,end\nana,mon,59526-mairie,09:00,11:30\n"
                                   "ana,mon,59491-mairie,11:35,12:30\n", "rota", "7 min missing"),
    "rota longer than the working day": ("rota.csv", "agent,weekday,site_id,start,end\nana,mon,59526-mairie,08:00,16:00\n",
                                         "staffing.workday_max_h", "agent ana"),
    "rota YAML that is not a list": ("rota.yaml", "agent: ana\n", "rota.yaml", ""),
}


@pytest.mark.parametrize("case", sorted(SIDE_FILE_CASES))
def test_a_bad_rota_or_travel_matrix_is_refused(case: str, tmp_path: Path, capsys, monkeypatch) -> None:
    name, content, field, problem = SIDE_FILE_CASES[case]
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    setting = "scenario.travel_matrix" if name.startswith("times") else "scenario.rota_file"
    line = refused_in_process([f"{setting}={path}", f"hydra.run.dir={tmp_path / 'run'}"], capsys, monkeypatch)
    check(line, field, problem)
    assert files_under(tmp_path) == {path}


# (arguments after the scenario name, field, words of the problem)
BUILDER_CASES = {
    "unknown canton": (["--canton", "9999"], "--canton", "9999"),
    "unknown commune": (["--insee", "99999"], "--insee", "99999"),
    "empty commune code": (["--insee", "59526,"], "--insee", "empty code"),
    "no selection": ([], "", ""),
    "two selections": (["--canton", "5934", "--insee", "59526"], "", ""),
    "unknown site rule": (["--canton", "5934", "--sites", "best"], "--sites", "expected"),
    "negative radius": (["--insee", "59526", "--radius-km", "-5"], "--radius-km", ""),
    "bad build date": (["--canton", "5934", "--build-date", "today"], "--build-date", "YYYY-MM-DD"),
    "missing notes file": (["--canton", "5934", "--notes", "/nonexistent/notes.md"], "--notes", "/nonexistent/notes.md"),
    "missing extra sites file": (["--canton", "5934", "--extra-sites", "/nonexistent/sites.csv"], "--extra-sites", "/nonexistent/sites.csv"),
}


@pytest.mark.parametrize("case", sorted(BUILDER_CASES))
def test_a_bad_territory_build_is_refused(case: str, tmp_path: Path, capsys) -> None:
    args, field, problem = BUILDER_CASES[case]
    assert build_territory.main(["demo", *args, "--out-dir", str(tmp_path / "demo")]) == 2
    check(one_error_line(capsys.readouterr().err), field, problem)
    assert not files_under(tmp_path)


def test_the_builder_does_not_write_over_a_folder_it_did_not_make(tmp_path: Path, capsys) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("years of work")
    assert build_territory.main(["demo", "--insee", "59526", "--out-dir", str(precious), "--force"]) == 2
    check(one_error_line(capsys.readouterr().err), "--force", "is not a scenario folder")
    assert files_under(tmp_path) == {precious, precious / "chapter1.tex"}


@pytest.mark.parametrize("argv,field", [
    (["-m", "hydra/launcher=nope", "seed=0,1"], "hydra/launcher"),
    (["travel.speed_kmh=inf"], "travel.speed_kmh"),
    (["scenario.rota_file=/nonexistent/rota.csv"], "scenario.rota_file"),
])
def test_what_the_shell_sees(argv: list[str], field: str, tmp_path: Path) -> None:
    """A real process, from another folder: exit 2, one line, nothing written there."""
    r = subprocess.run([sys.executable, "-m", "sim", *argv], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert one_error_line(r.stderr).startswith(f"error: {field}")
    assert r.stdout == "" and not files_under(tmp_path)



def _numeric_paths(cls: type, prefix: str = "") -> list[str]:
    """The dotted path of every numeric field of the schema, `*` for any dict key or list index."""
    paths = []
    for f in dataclasses.fields(cls):
        path, kind = f"{prefix}{f.name}", typing.get_type_hints(cls)[f.name]
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if dataclasses.is_dataclass(kind):
            paths += _numeric_paths(kind, f"{path}.")
        elif kind in (int, float) or any(a in (int, float) for a in args) and typing.get_origin(kind) is typing.Union:
            paths.append(path)
        elif typing.get_origin(kind) is dict and (args[-1] in (int, float) or typing.get_args(args[-1])[:1] == (float,)):
            paths.append(f"{path}.*")
        elif typing.get_origin(kind) is list and args[0] in (int, float):
            paths.append(f"{path}[*]")
    return paths


NUMERIC = _numeric_paths(Config)


def test_every_numeric_setting_of_the_schema_has_a_bound() -> None:
    assert len(NUMERIC) > 40
    assert sorted(p for p in NUMERIC if p not in BOUNDS) == []
    assert sorted(p for p in BOUNDS if p not in NUMERIC) == [], "bounds of settings the schema does not have"


def _override(path: str, value: str) -> str:
    """A Hydra override setting `path` (with `*` standing for the first key or index) to `value`."""
    if path.endswith("[*]"):
        base = path[:-3]
        default = list(_default_of(base))
        return f"{base}=[{','.join([value, *map(str, default[1:])])}]"
    if path.endswith(".*"):
        return f"{path[:-2]}.{'caf' if 'operator' in path else 'x'}={value}"
    return f"{path}={value}"


def _default_of(path: str) -> object:
    node: object = Config()
    for part in path.split("."):
        node = getattr(node, part)
    return node


@st.composite
def bad_settings(draw: st.DrawFn) -> tuple[str, str]:
    """A numeric setting of the schema and a value outside what it accepts: non-finite, below its lower bound
    (or at an excluded one), above its upper bound, or fractional for a whole number."""
    path = draw(st.sampled_from(sorted(BOUNDS)))
    bound = BOUNDS[path]
    choices = [st.sampled_from(["inf", "-inf", "nan", "1e400"])]
    if bound.integer:
        low, high = int(bound.low), int(bound.high)
        choices += [st.integers(low - 10**6, low - 1).map(str), st.integers(high + 1, high + 10**6).map(str),
                    st.just(f"{low + 0.5}")]
    else:
        low, high = float(bound.low), float(bound.high)
        choices += [st.floats(low - 1e12, low, exclude_max=not bound.open_low).map(repr),
                    st.floats(high, high * 10 + 1e12, exclude_min=True).map(repr)]
    return path, draw(st.one_of(choices))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=bad_settings())
def test_any_bad_number_anywhere_is_refused_in_one_line_naming_it(bad: tuple[str, str], capsys, monkeypatch) -> None:
    path, value = bad
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        line = refused_in_process([_override(path, value), f"hydra.run.dir={out}"], capsys, monkeypatch)
        named = path.replace("[*]", "").replace(".*", "")
        assert line.startswith(f"error: {named}"), (path, value, line)
        assert not any(Path(folder).iterdir())
