"""The simple rota builder: sites along one tour, visits spread evenly over a repeating cycle of weeks.

`delivery.planner=simple`; the default planner (`sim.build.planner`) minimises driving instead. Also the
cycle length of a visit frequency, which both use.
"""

from __future__ import annotations

import itertools

import numpy as np

from sim.core.errors import InputError
from sim.core.rota import Rota, from_rows
from sim.core.territory import Territory, TravelTimes
from sim.core.units import DAY_MIN


def cycle_weeks(visits_per_site_per_week: float) -> int:
    """Smallest number of weeks in which every site gets a whole number of visits."""
    for k in range(1, 53):
        if abs(k * visits_per_site_per_week - round(k * visits_per_site_per_week)) < 1e-6:
            return k
    raise InputError(
        "frequency.visits_per_site_per_week",
        f"{visits_per_site_per_week} visits a week gives no whole number of visits within a year's cycle",
    )


def tour_order(travel: TravelTimes) -> np.ndarray:
    """Order sites along one closed tour from the base: nearest neighbour, then 2-opt improvement."""
    m = travel.minutes
    base = m.shape[0] - 1
    n = base
    unvisited = set(range(n))
    tour = [base]
    while unvisited:
        last = tour[-1]
        nxt = min(unvisited, key=lambda s: (m[last, s], s))
        tour.append(nxt)
        unvisited.remove(nxt)
    tour.append(base)
    path = np.array(tour)
    improved = n > 2
    while improved:
        improved = False
        for i in range(1, len(path) - 2):
            a, b = path[i - 1], path[i]
            c, d = path[i + 1 : -1], path[i + 2 :]
            delta = m[a, c] + m[b, d] - m[a, b] - m[c, d]
            j = int(np.argmin(delta))
            if delta[j] < -1e-9:
                path[i : i + j + 2] = path[i : i + j + 2][::-1]
                improved = True
    return path[1:-1]


def _best_day_order(sites: list[int], travel: TravelTimes) -> list[int]:
    """Order one agent's sites of a day to minimise driving from base and back (exhaustive for <= 6)."""
    base = travel.minutes.shape[0] - 1
    m = travel.minutes
    if len(sites) > 6 or len(sites) < 2:
        return sites
    best = min(
        itertools.permutations(sites),
        key=lambda p: (m[base, p[0]] + sum(m[a, b] for a, b in zip(p, p[1:])) + m[p[-1], base], p),
    )
    return list(best)


def build_rota(
    territory: Territory,
    travel: TravelTimes,
    agents: int,
    visits_per_site_per_week: float,
    pattern: list[tuple[float, float]],
    working_days: list[int],
    weeks: int,
) -> Rota:
    """A deterministic rota: sites ordered along one tour, visits spread evenly over a repeating cycle.

    Consecutive sites of the tour share a day and an agent, so each day's driving stays local; each
    agent's day is then ordered to minimise driving. Visits of a site are spaced evenly over the cycle.
    """
    n_sites = territory.n_sites
    k = cycle_weeks(visits_per_site_per_week)
    per_site = int(round(k * visits_per_site_per_week))
    days = sorted(working_days)
    per_day = agents * len(pattern)
    visits = n_sites * per_site
    capacity = per_day * len(days) * k
    if visits > capacity:
        need, give = visits / k, capacity / k
        raise InputError(
            "frequency.visits_per_site_per_week",
            f"{n_sites} sites x {visits_per_site_per_week:g} visits a week need {need:g} sessions a week but "
            f"{agents} agent(s) x {len(days)} days x {len(pattern)} sessions give {give:g} (short by {need - give:g} a week)",
        )
    sequence = np.tile(tour_order(travel), per_site)
    cycle_days = [(w, d) for w in range(k) for d in days]
    cuts = (np.arange(len(cycle_days) + 1) * visits) // len(cycle_days)
    rows: list[tuple[int, int, int, float, float]] = []  # (agent, cycle_day_index, site, start_tod, end_tod)
    for j, (lo, hi) in enumerate(zip(cuts[:-1], cuts[1:])):
        todays = list(sequence[lo:hi])
        shares = (np.arange(agents + 1) * len(todays)) // agents
        for a in range(agents):
            mine = _best_day_order([int(s) for s in todays[shares[a] : shares[a + 1]]], travel)
            for (start, end), site in zip(pattern, mine):
                rows.append((a, j, site, start, end))
    total_weeks = int(np.ceil(weeks / k)) * k
    agent, site, start, end = [], [], [], []
    for rep in range(total_weeks // k):
        for a, j, s, t0, t1 in rows:
            w, d = cycle_days[j]
            day = (rep * k + w) * 7 + d
            if day >= weeks * 7:
                continue
            agent.append(a)
            site.append(s)
            start.append(day * DAY_MIN + t0)
            end.append(day * DAY_MIN + t1)
    names = tuple(f"agent{a + 1}" for a in range(agents))
    return from_rows(names, np.array(agent, dtype=np.int32), np.array(site, dtype=np.int32), np.array(start), np.array(end))
