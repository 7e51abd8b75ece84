"""Where to hold the sessions: the K sites that put the most people within reach, or the fewest that put a share
of them within reach, solved exactly as integer programmes.

`best` is the maximal covering location problem (Church and ReVelle 1974): choose K candidate sites to maximise
the population of the communes that have a chosen site within the citizens' reach; among the optimal choices
it takes the one of least population-weighted travel time to the nearest chosen site (the p-median objective,
an uncovered commune counting the whole reach), so that a tie is never settled by the order of the candidates.
`cover` finds the fewest sites whose best choice reaches a share of the population (partial set covering).
Both are mixed-integer programmes solved by HiGHS through `scipy.optimize.milp`, to proven optimality unless
the time limit stops it first (the gap is then reported). Only pairs within reach enter the programmes, so
their size grows with the reachable pairs, not communes x candidates.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from sim.config import parse_site_choice
from sim.core.errors import InputError
from sim.core.territory import Reach, Territory, TravelModel, reach

TIME_LIMIT_S = 60.0
"""Default time limit of each integer programme; past it the best choice found is kept and its gap reported."""


@dataclass(frozen=True)
class Siting:
    """A choice of sites among the candidates, with what it achieves and how surely it is the best."""

    chosen: np.ndarray  # indices of the chosen candidates, ascending
    covered_population: float  # population of the communes with a chosen site within reach
    total_population: float
    weighted_minutes: float  # population x minutes to the nearest chosen site (an uncovered commune: the reach)
    gap: float  # relative optimality gap of the covering (0: proven optimal)
    seconds: float  # solver time
    tie_break: str = "exact"  # how ties were broken: exact | local search | none

    @property
    def share(self) -> float:
        """Share of the population within reach of a chosen site."""
        return self.covered_population / self.total_population if self.total_population > 0 else 0.0


@dataclass(frozen=True)
class _Pairs:
    """The reachable (commune, candidate) pairs, with the population and minutes of each."""

    commune: np.ndarray
    site: np.ndarray
    minutes: np.ndarray
    population: np.ndarray  # per commune
    n_sites: int
    reach_min: float

    @classmethod
    def of(cls, population: np.ndarray, reach: Reach, n_sites: int, reach_min: float) -> _Pairs:
        ok = reach.sites >= 0
        commune = np.nonzero(ok)[0]
        return cls(commune, reach.sites[ok].astype(np.int64), reach.travel_min[ok], np.asarray(population, float),
                   n_sites, float(reach_min))

    def incidence(self) -> sparse.csr_matrix:
        """Communes x candidates, 1 where the candidate is within the commune's reach."""
        return sparse.csr_matrix((np.ones(len(self.site)), (self.commune, self.site)),
                                 shape=(len(self.population), self.n_sites))

    def evaluate(self, chosen: np.ndarray) -> tuple[float, float]:
        """(covered population, weighted minutes) of a choice, computed directly."""
        open_ = np.zeros(self.n_sites, bool)
        open_[chosen] = True
        best = np.full(len(self.population), self.reach_min)
        np.minimum.at(best, self.commune[open_[self.site]], self.minutes[open_[self.site]])
        covered = np.zeros(len(self.population), bool)
        covered[self.commune[open_[self.site]]] = True
        return float(self.population[covered].sum()), float((self.population * best).sum())


def reach_of_points(commune_lat: np.ndarray, commune_lon: np.ndarray, site_lat: np.ndarray, site_lon: np.ndarray,
                    travel: TravelModel, reach_min: float) -> Reach:
    """Each commune's candidate sites within `reach_min` by the travel model, as the simulation computes them."""
    n, m = len(commune_lat), len(site_lat)
    points = Territory(
        name="candidates", commune_insee=np.arange(n).astype(str), commune_name=np.arange(n).astype(str),
        population=np.zeros(n), commune_lat=np.asarray(commune_lat, float), commune_lon=np.asarray(commune_lon, float),
        site_id=np.arange(m).astype(str), site_name=np.arange(m).astype(str), site_commune=np.zeros(m, int),
        site_venue=np.full(m, "mairie"), site_lat=np.asarray(site_lat, float), site_lon=np.asarray(site_lon, float),
        base_name="", base_lat=0.0, base_lon=0.0)
    return reach(points, travel, reach_min)


def _keep_bounds(n: int, keep: Sequence[int]) -> Bounds:
    """0-1 bounds on the candidates, the kept ones fixed at 1."""
    low = np.zeros(n)
    low[list(keep)] = 1.0
    return Bounds(low, np.ones(n))


def _solve(c: np.ndarray, integrality: np.ndarray, bounds: Bounds, constraints: list, time_limit_s: float, what: str):
    """Run HiGHS; the solution and its relative gap, or InputError if it found none."""
    result = milp(c, integrality=integrality, bounds=bounds, constraints=constraints,
                  options={"time_limit": time_limit_s, "mip_rel_gap": 0.0, "disp": False})
    if result.x is None:
        raise InputError("--sites", f"{what}: the solver found no solution ({result.message.strip()})")
    gap = float(getattr(result, "mip_gap", 0.0) or 0.0)
    return result.x, gap


def _covering_model(pairs: _Pairs, keep: Sequence[int]) -> tuple[np.ndarray, LinearConstraint, Bounds, np.ndarray]:
    """Variables x (candidates, binary) then y (communes with a candidate in reach, covered in [0, 1]), y <= B x.

    Returns (those communes, the link constraint, the bounds with the kept candidates fixed, the integrality)."""
    n = pairs.n_sites
    reached = np.unique(pairs.commune)  # communes with no candidate in reach stay uncovered whatever the choice
    link = LinearConstraint(sparse.hstack([-pairs.incidence()[reached], sparse.identity(len(reached))]).tocsr(), -np.inf, 0.0)
    keep_b = _keep_bounds(n, keep)
    bounds = Bounds(np.concatenate([keep_b.lb, np.zeros(len(reached))]), np.concatenate([keep_b.ub, np.ones(len(reached))]))
    return reached, link, bounds, np.concatenate([np.ones(n), np.zeros(len(reached))])


def _max_cover(pairs: _Pairs, k: int, keep: Sequence[int], time_limit_s: float) -> tuple[np.ndarray, float, float]:
    """A choice of K sites putting the most population within reach: (chosen, that population, the gap)."""
    n = pairs.n_sites
    reached, link, bounds, integrality = _covering_model(pairs, keep)
    c = np.concatenate([np.zeros(n), -pairs.population[reached]])
    count = LinearConstraint(sparse.csr_matrix(np.concatenate([np.ones(n), np.zeros(len(reached))])[None, :]), k, k)
    x, gap = _solve(c, integrality, bounds, [link, count], time_limit_s, f"best:{k}")
    chosen = np.flatnonzero(x[:n] > 0.5)
    return chosen, pairs.evaluate(chosen)[0], gap


def _least_travel(pairs: _Pairs, k: int, keep: Sequence[int], covered: float, time_limit_s: float) -> np.ndarray | None:
    """Among the choices of K sites covering at least `covered`, one of least population-weighted travel time;
    None if the solver found none within the time limit."""
    n, p = pairs.n_sites, len(pairs.site)
    w = pairs.population[pairs.commune]
    # variables: x (candidates, binary), z (pairs, share of the commune assigned to the candidate)
    c = np.concatenate([np.zeros(n), w * (pairs.minutes - pairs.reach_min)])
    rows = np.arange(p)
    assign = sparse.csr_matrix((np.ones(p), (pairs.commune, rows)), shape=(len(pairs.population), p))
    used = np.unique(pairs.commune)
    at_most_once = LinearConstraint(sparse.hstack([sparse.csr_matrix((len(used), n)), assign[used]]).tocsr(), -np.inf, 1.0)
    only_open = LinearConstraint(sparse.hstack([-sparse.csr_matrix((np.ones(p), (rows, pairs.site)), shape=(p, n)),
                                                sparse.identity(p)]).tocsr(), -np.inf, 0.0)  # z_ij <= x_j
    count = LinearConstraint(sparse.hstack([sparse.csr_matrix(np.ones((1, n))), sparse.csr_matrix((1, p))]), k, k)
    cover = LinearConstraint(sparse.csr_matrix(np.concatenate([np.zeros(n), w])[None, :]), covered - 0.5, np.inf)
    keep_b = _keep_bounds(n, keep)
    bounds = Bounds(np.concatenate([keep_b.lb, np.zeros(p)]), np.concatenate([keep_b.ub, np.ones(p)]))
    result = milp(c, integrality=np.concatenate([np.ones(n), np.zeros(p)]), bounds=bounds,
                  constraints=[at_most_once, only_open, count, cover],
                  options={"time_limit": time_limit_s, "mip_rel_gap": 0.0, "disp": False})
    if result.x is None:
        return None
    return np.flatnonzero(result.x[:n] > 0.5), result.status == 0


def _swaps(pairs: _Pairs, chosen: np.ndarray, keep: Sequence[int], covered: float) -> np.ndarray:
    """Local search: swap a chosen site for a nearby candidate while the weighted travel time falls and the
    coverage stays at least `covered` (first improvement, until no swap improves)."""
    incidence = pairs.incidence().tocsc()
    near = (incidence.T @ incidence).tocsr()  # candidates sharing a commune's reach
    current = set(int(j) for j in chosen)
    _, best_minutes = pairs.evaluate(np.array(sorted(current)))
    improved = True
    while improved:
        improved = False
        for out in sorted(current - set(keep)):
            for into in near.indices[near.indptr[out]:near.indptr[out + 1]]:
                if into in current:
                    continue
                trial = np.array(sorted((current - {out}) | {int(into)}))
                got, minutes = pairs.evaluate(trial)
                if got >= covered - 0.5 and minutes < best_minutes - 1e-9:
                    current, best_minutes, improved = set(trial.tolist()), minutes, True
                    break
            if improved:
                break
    return np.array(sorted(current))


def best(population: np.ndarray, reach: Reach, n_sites: int, k: int, reach_min: float, keep: Sequence[int] = (),
         time_limit_s: float = TIME_LIMIT_S, tie_break: bool = True) -> Siting:
    """The K candidates that put the most population within reach; ties broken by least weighted travel time.

    `reach` holds each commune's candidates within `reach_min` (sim.core.territory.reach); `keep` are
    candidates that must be chosen. Raises InputError when K is not between len(keep) and the candidates."""
    keep = sorted(set(int(j) for j in keep))
    if not max(len(keep), 1) <= k <= n_sites:
        raise InputError("--sites", f"best:{k} needs between {max(len(keep), 1)} and {n_sites} sites "
                                    f"({n_sites} candidates{f', {len(keep)} kept' if keep else ''})")
    pairs = _Pairs.of(population, reach, n_sites, reach_min)
    start = time.perf_counter()
    chosen, covered, gap = _max_cover(pairs, k, keep, time_limit_s)
    how = "none"
    if tie_break:
        exact = _least_travel(pairs, k, keep, covered, time_limit_s)
        how = "exact" if exact is not None and exact[1] else "local search"
        if how != "exact":  # the solver stopped at its time limit: improve on what it has by swaps
            chosen = _swaps(pairs, chosen if exact is None else exact[0], keep, covered)
        else:
            chosen = exact[0]
    got, minutes = pairs.evaluate(chosen)
    return Siting(chosen, got, float(pairs.population.sum()), minutes, gap, time.perf_counter() - start, how)


@dataclass(frozen=True)
class Fewest:
    """The fewest sites that put a share of the population within reach, and how sure that count is."""

    sites: int  # the count found (proven fewest when lower == sites)
    lower: int  # a proven lower bound on the fewest (the solver's dual bound)
    method: str  # exact | greedy (the solver found nothing better within its time limit)
    seconds: float

    @property
    def gap(self) -> float:
        """Relative gap between the count and its lower bound (0: proven fewest)."""
        return (self.sites - self.lower) / self.sites if self.sites else 0.0


def greedy(pairs: _Pairs, keep: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Sites in greedy order (the kept ones first, then each time the one reaching the most people not yet
    within reach, evaluated lazily) and the population within reach after each: a fast upper bound."""
    by_site = pairs.incidence().T.tocsr()
    covered = np.zeros(len(pairs.population), bool)
    order, within, got = [], [], 0.0
    for j in keep:
        members = by_site.indices[by_site.indptr[j]:by_site.indptr[j + 1]]
        got += pairs.population[members][~covered[members]].sum()
        covered[members] = True
        order.append(int(j))
        within.append(got)
    gains = np.asarray(by_site @ pairs.population).ravel()
    kept = set(keep)
    heap = [(-g, j) for j, g in enumerate(gains) if j not in kept and g > 0]
    heapq.heapify(heap)
    while heap:
        _, j = heapq.heappop(heap)
        members = by_site.indices[by_site.indptr[j]:by_site.indptr[j + 1]]
        gain = pairs.population[members][~covered[members]].sum()
        if gain <= 0:
            continue
        if heap and gain < -heap[0][0] - 1e-9:
            heapq.heappush(heap, (-gain, j))  # stale: its gain fell since it was pushed
            continue
        covered[members] = True
        got += gain
        order.append(int(j))
        within.append(got)
    return np.array(order, dtype=np.int64), np.array(within)


def sites_to_reach(within: np.ndarray, target: float) -> int:
    """How many sites of a greedy order (`within`: population within reach after each) reach `target` people."""
    return int(np.searchsorted(within, target - 0.5)) + 1


def fewest(population: np.ndarray, reach: Reach, n_sites: int, share: float, reach_min: float,
           keep: Sequence[int] = (), time_limit_s: float = TIME_LIMIT_S) -> Fewest:
    """The fewest sites that put `share` of the population within reach: the integer programme, with the greedy
    count as the fallback when the solver finds nothing better within its time limit (its dual bound then
    says how far from the fewest the count can be).

    Raises InputError when even every candidate leaves more than 1 - share of the population out of reach."""
    start = time.perf_counter()
    keep = sorted(set(int(j) for j in keep))
    pairs = _Pairs.of(population, reach, n_sites, reach_min)
    total = float(pairs.population.sum())
    target = share * total
    most = float(pairs.population[np.unique(pairs.commune)].sum())
    if most < target - 0.5:
        raise InputError("--sites", f"cover:{share * 100:g} cannot be reached: all {n_sites} candidate sites put "
                                    f"{most / total:.1%} of the population within {reach_min:g} min")
    order, within = greedy(pairs, keep)
    upper = max(sites_to_reach(within, target), len(keep))
    n = n_sites
    reached, link, bounds, integrality = _covering_model(pairs, keep)
    c = np.concatenate([np.ones(n), np.zeros(len(reached))])
    enough = LinearConstraint(sparse.csr_matrix(np.concatenate([np.zeros(n), pairs.population[reached]])[None, :]),
                              target - 0.5, np.inf)
    at_most = LinearConstraint(sparse.csr_matrix(c[None, :]), 0, upper)  # no worse than the greedy count
    result = milp(c, integrality=integrality, bounds=bounds, constraints=[link, enough, at_most],
                  options={"time_limit": time_limit_s, "mip_rel_gap": 0.0, "disp": False})
    bound = getattr(result, "mip_dual_bound", None)
    lower = max(int(math.ceil(bound - 1e-6)) if bound is not None and np.isfinite(bound) else 1, len(keep), 1)
    if result.x is not None and round(result.x[:n].sum()) <= upper:
        sites = int(round(result.x[:n].sum()))
        exact = result.status == 0
        return Fewest(sites, sites if exact else min(lower, sites), "exact" if exact else "solver", time.perf_counter() - start)
    return Fewest(upper, min(lower, upper), "greedy", time.perf_counter() - start)


def cover(population: np.ndarray, reach: Reach, n_sites: int, share: float, reach_min: float,
          keep: Sequence[int] = (), time_limit_s: float = TIME_LIMIT_S, tie_break: bool = True) -> Siting:
    """The fewest sites that put `share` of the population within reach, the best choice of that many (`best`)."""
    start = time.perf_counter()
    count = fewest(population, reach, n_sites, share, reach_min, keep, time_limit_s)
    chosen = best(population, reach, n_sites, max(count.sites, len(set(keep)), 1), reach_min, keep, time_limit_s,
                  tie_break)
    return Siting(chosen.chosen, chosen.covered_population, chosen.total_population, chosen.weighted_minutes,
                  max(count.gap, chosen.gap), time.perf_counter() - start, chosen.tie_break)


def coverage_curve(population: np.ndarray, reach: Reach, n_sites: int, reach_min: float, keep: Sequence[int] = (),
                   time_limit_s: float = TIME_LIMIT_S, up_to: int | None = None) -> np.ndarray:
    """The most population share K sites can put within reach, for K = 1 .. `up_to` (default: the candidates;
    exact, no tie-break; nan below the number of kept sites)."""
    pairs = _Pairs.of(population, reach, n_sites, reach_min)
    total = float(pairs.population.sum())
    keep = sorted(set(int(j) for j in keep))
    shares = []
    most = float(pairs.population[np.unique(pairs.commune)].sum())
    for k in range(1, (n_sites if up_to is None else min(up_to, n_sites)) + 1):
        if k < len(keep):
            shares.append(math.nan)
            continue
        covered = most if shares and shares[-1] * total >= most - 0.5 else _max_cover(pairs, k, keep, time_limit_s)[1]
        shares.append(covered / total if total > 0 else 0.0)
    return np.array(shares)


def _town_hall(name: str) -> str:
    """'Mairie de Raismes', "Mairie d'Hasnon", 'Mairie du Quesnoy' (for Le Quesnoy), 'Mairie des Rues-des-Vignes'."""
    for article, of in (("Le ", "du "), ("Les ", "des "), ("La ", "de la "), ("L'", "de l'")):
        if name.startswith(article):
            return f"Mairie {of}{name[len(article):]}"
    return f"Mairie d'{name}" if name[:1].lower() in "aeiouyhéèêâîôû" else f"Mairie de {name}"


def choose_scenario_sites(territory: Territory, rule: str, travel: TravelModel, reach_min: float,
                          time_limit_s: float = TIME_LIMIT_S) -> tuple[Territory, Siting]:
    """The scenario's sites chosen by best:K (`best`: as many as it has) or cover:P among its own sites and the
    town hall of every commune that has none (at the commune's point in communes.csv), for citizens who travel
    up to `reach_min`."""
    kind, number = parse_site_choice(rule)
    t = territory
    has_hall = {(int(c), v) for c, v in zip(t.site_commune, t.site_venue)}
    new = np.array([i for i in range(t.n_communes) if (i, "mairie") not in has_hall], dtype=np.int64)
    ids = np.concatenate([t.site_id.astype(str), np.char.add(t.commune_insee[new].astype(str), "-mairie")])
    names = np.concatenate([t.site_name.astype(str), [_town_hall(str(n)) for n in t.commune_name[new]]])
    pool = dataclasses.replace(
        t, site_id=ids, site_name=names, site_commune=np.concatenate([t.site_commune, new]),
        site_venue=np.concatenate([t.site_venue.astype(str), np.full(len(new), "mairie")]),
        site_lat=np.concatenate([t.site_lat, t.commune_lat[new]]), site_lon=np.concatenate([t.site_lon, t.commune_lon[new]]))
    candidates = reach(pool, travel, reach_min)
    if kind == "best":
        siting = best(t.population, candidates, pool.n_sites, int(number) or t.n_sites, reach_min, time_limit_s=time_limit_s)
    else:
        siting = cover(t.population, candidates, pool.n_sites, number / 100.0, reach_min, time_limit_s=time_limit_s)
    keep = np.sort(siting.chosen)
    chosen = dataclasses.replace(pool, site_id=pool.site_id[keep], site_name=pool.site_name[keep],
                                 site_commune=pool.site_commune[keep], site_venue=pool.site_venue[keep],
                                 site_lat=pool.site_lat[keep], site_lon=pool.site_lon[keep])
    return chosen, siting
