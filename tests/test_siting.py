"""Site selection against brute force on small random instances, and its refusals."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim.build.siting import best, cover, coverage_curve, fewest, reach_of_points
from sim.core.errors import InputError
from sim.core.territory import TravelModel

REACH_MIN = 20.0
TRAVEL = TravelModel()


def instance(seed: int, communes: int = 9, candidates: int = 8, span_deg: float = 0.36):
    """Random communes and candidate sites in a square (0.36 degrees: about 40 km); populations 50..20,000."""
    rng = np.random.default_rng(seed)
    lat0, lon0 = 46.0, 2.0
    c = rng.uniform(0, span_deg, (communes, 2)) + (lat0, lon0)
    s = rng.uniform(0, span_deg, (candidates, 2)) + (lat0, lon0)
    population = rng.integers(50, 20_000, communes).astype(float)
    return population, reach_of_points(c[:, 0], c[:, 1], s[:, 0], s[:, 1], TRAVEL, REACH_MIN), candidates


def brute_force(population, reach, n, k, keep=()):
    """The lexicographic optimum of (covered population, -weighted minutes) over every choice of K sites."""
    best_key, best_choice = None, None
    for choice in itertools.combinations(range(n), k):
        if not set(keep) <= set(choice):
            continue
        minutes = np.full(len(population), REACH_MIN)
        for i in range(len(population)):
            for j, t in zip(reach.sites[i], reach.travel_min[i]):
                if j in choice:
                    minutes[i] = min(minutes[i], t)
        covered = population[[any(j in choice for j in reach.sites[i] if j >= 0) for i in range(len(population))]].sum()
        key = (covered, -(population * minutes).sum())
        if best_key is None or key > best_key:
            best_key, best_choice = key, choice
    return best_key[0], -best_key[1], best_choice


@pytest.mark.parametrize("seed", range(12))
def test_best_k_equals_brute_force(seed: int) -> None:
    population, reach, n = instance(seed)
    for k in (1, 2, 3, 5):
        got = best(population, reach, n, k, REACH_MIN)
        covered, minutes, _ = brute_force(population, reach, n, k)
        assert got.covered_population == covered
        assert got.weighted_minutes == pytest.approx(minutes, rel=1e-9)
        assert len(got.chosen) == k and got.gap <= 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_kept_sites_stay_and_the_rest_is_optimal(seed: int) -> None:
    population, reach, n = instance(seed)
    keep = [seed % n, (seed + 3) % n]
    got = best(population, reach, n, 3, REACH_MIN, keep=keep)
    covered, minutes, _ = brute_force(population, reach, n, 3, keep)
    assert set(keep) <= set(got.chosen.tolist())
    assert (got.covered_population, pytest.approx(minutes, rel=1e-9)) == (covered, minutes)


@pytest.mark.parametrize("seed", range(8))
def test_cover_uses_the_fewest_sites_possible(seed: int) -> None:
    population, reach, n = instance(seed)
    most = brute_force(population, reach, n, n)[0]
    for share in (0.5, 0.8, most / population.sum() - 1e-9):
        got = cover(population, reach, n, share, REACH_MIN)
        fewest_possible = next(k for k in range(1, n + 1) if brute_force(population, reach, n, k)[0] >= share * population.sum() - 0.5)
        assert len(got.chosen) == fewest_possible and got.share >= share - 1e-9


def test_the_coverage_curve_is_the_optimum_for_each_k() -> None:
    population, reach, n = instance(3)
    curve = coverage_curve(population, reach, n, REACH_MIN)
    assert curve == pytest.approx([brute_force(population, reach, n, k)[0] / population.sum() for k in range(1, n + 1)])
    assert np.all(np.diff(curve) >= -1e-12)


def test_an_unreachable_cover_is_one_clear_error() -> None:
    population, reach, n = instance(1, span_deg=1.5)
    most = brute_force(population, reach, n, n)[0] / population.sum()
    assert most < 1.0  # some commune is out of reach of every candidate
    with pytest.raises(InputError) as error:
        fewest(population, reach, n, 1.0, REACH_MIN)
    assert str(error.value) == (f"--sites: cover:100 cannot be reached: all {n} candidate sites put {most:.1%} of the "
                                f"population within 20 min")


@pytest.mark.parametrize("k", [0, 9, 50])
def test_k_outside_the_candidates_is_one_clear_error(k: int) -> None:
    population, reach, n = instance(2)
    with pytest.raises(InputError, match=rf"--sites: best:{k} needs between 1 and 8 sites \(8 candidates\)"):
        best(population, reach, n, k, REACH_MIN)


@pytest.mark.parametrize("seed", range(6))
def test_past_its_time_limit_fewest_falls_back_on_greedy_with_a_true_bound(seed: int) -> None:
    population, reach, n = instance(seed, communes=14, candidates=12)
    share = 0.9 * brute_force(population, reach, n, n)[0] / population.sum()  # 90% of what all the sites reach
    exact = fewest(population, reach, n, share, REACH_MIN)
    assert exact.method == "exact" and exact.lower == exact.sites and exact.gap == 0
    quick = fewest(population, reach, n, share, REACH_MIN, time_limit_s=0.0)
    assert quick.lower <= exact.sites <= quick.sites
    truth = next(k for k in range(1, n + 1) if brute_force(population, reach, n, k)[0] >= share * population.sum() - 0.5)
    assert exact.sites == truth
