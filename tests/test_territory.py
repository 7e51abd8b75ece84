"""Distances, travel times, reach and the travel-matrix override."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.core.errors import InputError
from sim.core.territory import TravelModel, agent_travel, great_circle_km, load_territory, load_travel_matrix, reach

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def territory():
    return load_territory(ROOT / "scenarios" / "saint_amand", "saint_amand")


def test_great_circle_known_distances() -> None:
    # Paris (Notre-Dame) to Lyon (Bellecour): 391.5 km; one degree of latitude: 111.2 km
    assert great_circle_km(48.8530, 2.3499, 45.7578, 4.8320) == pytest.approx(391.5, abs=1.0)
    assert great_circle_km(45.0, 3.0, 46.0, 3.0) == pytest.approx(111.19, abs=0.01)


def test_travel_time_formula() -> None:
    tm = TravelModel(detour_factor=1.3, speed_kmh=50.0)
    minutes, km = tm.road(45.0, 3.0, 46.0, 3.0)
    assert km == pytest.approx(111.19 * 1.3, rel=1e-4)
    assert minutes == pytest.approx(111.19 * 1.3 / 50 * 60, rel=1e-4)


def test_territory_loads_the_canton(territory) -> None:
    assert territory.n_communes == 19 and territory.n_sites == 15
    assert territory.population.sum() == 58017


def test_reach_is_sorted_nearest_first_and_within_limit(territory) -> None:
    tm = TravelModel()
    r = reach(territory, tm, 20.0)
    valid = r.sites >= 0
    assert (r.travel_min[valid] <= 20.0).all()
    for row, ok in zip(r.travel_min, valid):
        assert (np.diff(row[ok]) >= 0).all() and ok[: ok.sum()].all()  # nearest first, padding at the end
    # a commune with a site reaches it at the town hall (distance 0) first
    amand = int(np.flatnonzero(territory.commune_insee == "59526")[0])
    assert territory.site_id[r.sites[amand, 0]] == "59526-mairie" and r.travel_min[amand, 0] == 0.0
    # brute force agrees
    for c in range(territory.n_communes):
        minutes, _ = tm.road(territory.commune_lat[c], territory.commune_lon[c], territory.site_lat, territory.site_lon)
        assert set(np.flatnonzero(minutes <= 20.0)) == set(r.sites[c][r.sites[c] >= 0])


def test_travel_matrix_overrides_pairs(territory, tmp_path: Path) -> None:
    f = tmp_path / "m.csv"
    f.write_text("from,to,minutes,km\nbase,59526-mairie,99,70\n59554,59526-mairie,45,30\n")
    tm = TravelModel(overrides=load_travel_matrix(f, territory))
    t = agent_travel(territory, tm)
    s = int(np.flatnonzero(territory.site_id == "59526-mairie")[0])
    assert t.minutes[-1, s] == 99 and t.km[-1, s] == 70 and t.minutes[s, -1] == 99  # reverse inferred
    r = reach(territory, tm, 50.0)
    assert s not in reach(territory, tm, 40.0).sites[int(np.flatnonzero(territory.commune_insee == "59554")[0])]
    c = int(np.flatnonzero(territory.commune_insee == "59554")[0])
    assert r.travel_min[c][r.sites[c] == s][0] == 45


def test_travel_matrix_naming_unknown_place(territory, tmp_path: Path) -> None:
    f = tmp_path / "m.csv"
    f.write_text("from,to,minutes\nbase,atlantis,10\n")
    with pytest.raises(InputError, match="m.csv:2:to: unknown commune or site 'atlantis'"):
        load_travel_matrix(f, territory)
