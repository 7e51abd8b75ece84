"""Site selection in the territory builder: canton 5802 against brute force, kept sites, refusals, and a
scenario built with the defaults that runs with the default staffing."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from conftest import QUIET, one_error_line, run_cli
from sim.build import opendata
from sim.build.siting import reach_of_points
from sim.build.territory_builder import COVERAGE, build_territory, select_territory
from sim.build_territory import main
from sim.core.territory import TravelModel

CANTON = "5802"  # Château-Chinon (Nièvre): 40 communes, too many sites for one agent with every town hall


@pytest.fixture(scope="module")
def canton():
    """Population and the covering sets (communes within 20 min of each candidate town hall) of canton 5802."""
    table = select_territory(canton=CANTON).communes
    where = opendata.location(table)
    lat, lon = where["lat"].to_numpy(float), where["lon"].to_numpy(float)
    reach = reach_of_points(lat, lon, lat, lon, TravelModel(), 20.0)
    population = table["population"].fillna(0).to_numpy(float)
    covers = np.zeros((len(table), len(table)), bool)  # candidate x commune
    for i, row in enumerate(reach.sites):
        covers[row[row >= 0], i] = True
    return table, population, covers


def most_covered(population: np.ndarray, covers: np.ndarray, k: int) -> float:
    """The most population any k candidates cover, by trying every choice."""
    return max(population[covers[list(c)].any(axis=0)].sum() for c in itertools.combinations(range(len(covers)), k))


def test_best_3_covers_as_much_as_the_true_optimum(tmp_path, canton) -> None:
    table, population, covers = canton
    folder = build_territory("c", canton=CANTON, sites="best:3", build_date="2026-12-01", out_dir=tmp_path / "c")
    sites = pd.read_csv(folder / "sites.csv", dtype={"insee": str})
    assert len(sites) == 3
    chosen = [table.index.get_loc(code) for code in sites["insee"]]
    got = population[covers[chosen].any(axis=0)].sum()
    assert got == most_covered(population, covers, 3)
    readme = (folder / "README.md").read_text()
    assert f"They put **{got / population.sum():.1%}** of the population within reach" in readme
    curve = pd.read_csv(folder / COVERAGE)
    assert curve.loc[curve["sites"] == 3, "population_share"].item() == pytest.approx(got / population.sum(), abs=1e-6)


def test_cover_90_uses_the_fewest_sites_possible(tmp_path, canton) -> None:
    _, population, covers = canton
    folder = build_territory("c", canton=CANTON, sites="cover:90", build_date="2026-12-01", out_dir=tmp_path / "c")
    fewest = next(k for k in range(1, 6) if most_covered(population, covers, k) >= 0.9 * population.sum())
    assert len(pd.read_csv(folder / "sites.csv")) == fewest


def test_kept_sites_stay(tmp_path) -> None:
    keep = tmp_path / "keep.csv"
    keep.write_text("name,insee,venue,lat,lon\nBureau de poste de Gouloux,58128,post_office,,\n")
    folder = build_territory("c", canton=CANTON, sites="best:3", keep_sites=keep, build_date="2026-12-01",
                             out_dir=tmp_path / "c")
    sites = pd.read_csv(folder / "sites.csv", dtype={"insee": str})
    assert len(sites) == 3 and "58128-post-office" in set(sites["site_id"])
    assert "1 kept by --keep-sites" in (folder / "README.md").read_text()


@pytest.mark.parametrize("sites,expect", [
    ("cover:100", "error: --sites: cover:100 cannot be reached: all 40 candidate sites put"),
    ("best:41", "error: --sites: best:41 needs between 1 and 40 sites (40 candidates)"),
    ("best:0", "error: --sites: best:0 needs between 1 and 40 sites"),
    ("cover:120", "error: --sites: cover:P needs a percentage of the population in (0, 100], got 120"),
    ("best:2.5", "error: --sites: expected all, none, top:N, best:K or cover:P, got 'best:2.5'"),
])
def test_impossible_choices_are_one_clear_line(tmp_path, capsys, sites, expect) -> None:
    args = ["c", "--canton", CANTON, "--sites", sites, "--out-dir", str(tmp_path / "c")]
    inputs = set()
    if sites == "cover:100":  # two post offices as the only candidates: some communes are out of their reach
        offices = tmp_path / "offices.csv"
        offices.write_text("name,insee,venue,lat,lon\nLa Poste de Gouloux,58128,post_office,,\n"
                           "La Poste d'Achun,58001,post_office,,\n")
        args += ["--no-town-halls", "--extra-sites", str(offices)]
        expect = "error: --sites: cover:100 cannot be reached: all 2 candidate sites put"
        inputs = {offices}
    assert main(args) == 2
    assert one_error_line(capsys.readouterr().err).startswith(expect)
    assert set(tmp_path.iterdir()) == inputs


def test_a_canton_built_with_the_defaults_runs_with_the_default_staffing(tmp_path) -> None:
    """Every town hall of canton 5802 would need 20 visits a week from one agent; the default build picks 20."""
    folder = build_territory("c5802", canton=CANTON, build_date="2026-12-01", out_dir=tmp_path / "c5802")
    assert len(pd.read_csv(folder / "sites.csv")) == 20
    r = run_cli(f"scenario.data_dir={folder}", "scenario.name=c5802", "experiment.replications=2", *QUIET,
                f"hydra.run.dir={tmp_path / 'run'}")
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["population_within_reach_share"] == 1.0 and summary["sites"] == 20


def test_a_scenario_can_choose_its_sites_at_run_time() -> None:
    """scenario.site_choice=best: as many sites as the scenario has, among them and every town hall, placed for
    the most people within reach then the least travel: never fewer people within reach, never more travel."""
    from sim.build.scenario import build_scenario
    from sim.cli import load_config

    own = build_scenario(load_config(["experiment.replications=1"]))
    chosen = build_scenario(load_config(["experiment.replications=1", "scenario.site_choice=best"]))
    assert chosen.territory.n_sites == own.territory.n_sites == 15

    def within_reach_and_minutes(scenario):
        t, r = scenario.territory, scenario.reach
        nearest = np.where(r.sites[:, 0] >= 0, r.travel_min[:, 0], 20.0)
        return t.population @ (r.sites[:, 0] >= 0), t.population @ nearest

    (own_people, own_minutes), (people, minutes) = within_reach_and_minutes(own), within_reach_and_minutes(chosen)
    assert people >= own_people and minutes <= own_minutes + 1e-6
    names = set(chosen.territory.site_name) - set(own.territory.site_name)
    assert all(n.startswith("Mairie d") for n in names), names
    fewest = build_scenario(load_config(["experiment.replications=1", "scenario.site_choice=cover:95"]))
    assert fewest.territory.n_sites == 1  # one town hall within 20 min of 95% of the canton


@pytest.mark.parametrize("args,expect", [
    (["--share", "120"], "error: --share: must be a percentage in (0, 100], got 120"),
    (["--max-travel-min", "0"], "error: --max-travel-min: must be in (0, 600] minutes, got 0"),
    (["--time-limit-s", "-1"], "error: --time-limit-s: must be in [0, 86400] seconds, got -1"),
])
def test_the_national_question_refuses_bad_input(args, expect, capsys) -> None:
    from sim import promise

    assert promise.main(args) == 2
    assert one_error_line(capsys.readouterr().err) == expect


@pytest.mark.slow
def test_the_national_question_in_under_ten_minutes(tmp_path, capsys) -> None:
    import time

    from sim import promise

    start = time.perf_counter()
    assert promise.main(["--time-limit-s", "60", "--figure", str(tmp_path / "promise.png")]) == 0
    elapsed = time.perf_counter() - start
    out = capsys.readouterr().out
    assert "greedy: 784 sites put 95.00% of the people within 20 min" in out
    assert "answer: at most 784 sites" in out and elapsed < 600, (elapsed, out)
    assert (tmp_path / "promise.png").read_bytes().startswith(b"\x89PNG")
