"""Rota planning that minimises driving: which sites each agent visits on which day, and in which order.

The problem, over one cycle of k weeks (the shortest in which every site gets a whole number of visits):
each working day of the cycle, each agent drives one tour from the base and back, holding at most one
visit per slot of the daily pattern (a slot is one session of an itinerant agent, or a whole day at one
stop for a bus), in slot order. A tour must fit the working day (its sessions plus its driving) and each
drive between two slots must fit the break between them. A site with p visits a cycle of T working days
gets at most one visit in any T // p consecutive days, so its visits are spread over the cycle.
The objective is the total driving time.

The method is exact for the sizes met here: every tour of up to one site per slot is enumerated with its
best order (all permutations, vectorised), tours that break the working day are dropped, and a
set-partitioning integer programme picks the tours (and, when a site has several visits a cycle, their
days) with HiGHS (`scipy.optimize.milp`). The lower bound reported is HiGHS's dual bound, which equals the
plan's driving when the plan is proven optimal. On large instances (more than `MAX_TOURS` tours) only
tours among each site's nearest neighbours are kept: the plan is then a heuristic and no bound is given.
`naive_plan` (sites in file order, days filled in turn) is the yardstick for the saving.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from sim.build.rota_builder import build_rota, cycle_weeks
from sim.core.errors import InputError
from sim.core.rota import Rota, day_plan, from_rows
from sim.core.territory import Territory, TravelTimes
from sim.core.units import DAY_MIN, WEEKDAYS

MAX_TOURS = 60_000
"""Above this many candidate tours, tours of two or more sites are drawn from each site's nearest neighbours."""
TIME_LIMIT_S = 20.0
"""Safety limit for the integer programme; the pilots solve to optimality in well under a second."""


@dataclass(frozen=True)
class DayPattern:
    """The slots of a working day, in time order; each slot's sessions (start, end minutes) are at one site."""

    slots: tuple[tuple[tuple[float, float], ...], ...]

    @classmethod
    def per_session(cls, sessions: list[tuple[float, float]]) -> "DayPattern":
        """Itinerant agent: each session of the day may be at a different site."""
        return cls(tuple((s,) for s in sorted(sessions)))

    @classmethod
    def whole_day(cls, sessions: list[tuple[float, float]]) -> "DayPattern":
        """Bus: one stop a day, holding every session of the day."""
        return cls((tuple(sorted(sessions)),))

    @property
    def size(self) -> int:
        """Visits an agent can make in a day."""
        return len(self.slots)

    def session_min(self, visits: int) -> float:
        """Minutes of sessions in a day of `visits` visits (the first slots are used)."""
        return float(sum(e - s for slot in self.slots[:visits] for s, e in slot))

    def break_min(self, j: int) -> float:
        """Minutes between the end of slot j and the start of slot j + 1."""
        return self.slots[j + 1][0][0] - self.slots[j][-1][1]


@dataclass(frozen=True)
class Tour:
    """One agent's day: the sites visited in slot order, and the driving from the base and back."""

    sites: tuple[int, ...]
    drive_min: float
    km: float


@dataclass(frozen=True)
class CyclePlan:
    """One cycle of a rota: the tour of each agent on each day of the cycle that has one."""

    weeks: int
    working_days: tuple[int, ...]
    agents: int
    tours: tuple[tuple[int, int, Tour], ...]  # (day of the cycle, agent, tour), sorted
    lower_bound_min: float | None = None  # proven lower bound on driving minutes a cycle

    @property
    def drive_min(self) -> float:
        """Driving minutes over the cycle."""
        return float(sum(t.drive_min for _, _, t in self.tours))

    @property
    def km(self) -> float:
        """Kilometres over the cycle."""
        return float(sum(t.km for _, _, t in self.tours))


@dataclass(frozen=True)
class TourSet:
    """Candidate tours: member sites in slot order (-1 padded), driving minutes and km."""

    sites: np.ndarray  # (n, P) int
    drive_min: np.ndarray
    km: np.ndarray
    complete: bool  # every feasible tour is there (so the solver's bound is a true bound)

    def __len__(self) -> int:
        return len(self.drive_min)

    def tour(self, i: int) -> Tour:
        """Tour i as a `Tour`."""
        return Tour(tuple(int(s) for s in self.sites[i] if s >= 0), float(self.drive_min[i]), float(self.km[i]))


def tour_cost(sites: tuple[int, ...] | list[int], travel: TravelTimes) -> tuple[float, float]:
    """(minutes, km) of driving base -> sites in order -> base."""
    base = travel.minutes.shape[0] - 1
    path = [base, *sites, base]
    return (float(sum(travel.minutes[a, b] for a, b in zip(path, path[1:]))),
            float(sum(travel.km[a, b] for a, b in zip(path, path[1:]))))


def _combinations(n_sites: int, size: int, neighbours: np.ndarray | None) -> np.ndarray:
    """Sorted site subsets of `size`: all, or each site with `size - 1` of its nearest neighbours."""
    if neighbours is None or size == 1:
        return np.array(list(itertools.combinations(range(n_sites), size)), dtype=np.int64).reshape(-1, size)
    rows = [sorted((a, *rest)) for a in range(n_sites) for rest in itertools.combinations(neighbours[a], size - 1)]
    return np.unique(np.array(rows, dtype=np.int64).reshape(-1, size), axis=0)


def enumerate_tours(travel: TravelTimes, pattern: DayPattern, workday_max_min: float) -> TourSet:
    """Every tour of 1..P distinct sites in its least-driving feasible order (within the working day and breaks)."""
    m, km = travel.minutes, travel.km
    base = m.shape[0] - 1
    n_sites = base
    sizes = range(1, min(pattern.size, n_sites) + 1)
    count = sum(math.comb(n_sites, s) for s in sizes)
    neighbours = None
    if count > MAX_TOURS:
        k = n_sites - 1
        while k > 1 and sum(n_sites * math.comb(k, s - 1) for s in sizes) > MAX_TOURS:
            k -= 1
        both_ways = m[:n_sites, :n_sites] + m[:n_sites, :n_sites].T
        np.fill_diagonal(both_ways, np.inf)
        neighbours = np.argsort(both_ways, axis=1, kind="stable")[:, :k]
    members, drives, kms = [], [], []
    for size in sizes:
        combos = _combinations(n_sites, size, neighbours)
        best = np.full(len(combos), np.inf)
        best_km = np.zeros(len(combos))
        best_order = combos.copy()
        session = pattern.session_min(size)
        for perm in itertools.permutations(range(size)):
            order = combos[:, perm]
            drive = m[base, order[:, 0]] + m[order[:, -1], base]
            dist = km[base, order[:, 0]] + km[order[:, -1], base]
            ok = np.ones(len(combos), dtype=bool)
            for j in range(size - 1):
                leg = m[order[:, j], order[:, j + 1]]
                drive = drive + leg
                dist = dist + km[order[:, j], order[:, j + 1]]
                ok &= leg <= pattern.break_min(j) + 1e-9
            ok &= session + drive <= workday_max_min + 1e-9
            better = ok & (drive < best - 1e-9)
            best[better], best_km[better], best_order[better] = drive[better], dist[better], order[better]
        keep = np.isfinite(best)
        padded = np.full((int(keep.sum()), pattern.size), -1, dtype=np.int64)
        padded[:, :size] = best_order[keep]
        members.append(padded)
        drives.append(best[keep])
        kms.append(best_km[keep])
    return TourSet(np.concatenate(members), np.concatenate(drives), np.concatenate(kms), complete=neighbours is None)


def visits_per_cycle(n_sites: int, visits_per_site_per_week: float) -> tuple[int, np.ndarray]:
    """(cycle weeks k, visits of each site per cycle) for a uniform weekly frequency."""
    k = cycle_weeks(visits_per_site_per_week)
    return k, np.full(n_sites, int(round(k * visits_per_site_per_week)), dtype=np.int64)


def _check_requests(visits: np.ndarray, agents: int, pattern: DayPattern, days: int, weeks: int,
                    tours: TourSet, travel: TravelTimes, territory: Territory, workday_max_min: float) -> None:
    """Refuse requests no plan can meet, saying by how much."""
    per_cycle = agents * days * pattern.size
    if visits.sum() > per_cycle:
        need, give = visits.sum() / weeks, per_cycle / weeks
        raise InputError(
            "frequency.visits_per_site_per_week",
            f"{len(visits)} sites need {need:g} visits a week but {agents} agent(s) x {days // weeks} days x "
            f"{pattern.size} visits a day give {give:g} (short by {need - give:g} a week)")
    busy = np.flatnonzero(visits > days)
    if len(busy):
        raise InputError("frequency.visits_per_site_per_week",
                         f"site {territory.site_id[busy[0]]} needs {visits[busy[0]]} visits in a cycle of {days} "
                         "working days; a site gets at most one visit a day")
    alone = set(tours.sites[tours.sites[:, 1:].max(axis=1, initial=-1) < 0, 0].tolist()) if len(tours) else set()
    for s in np.flatnonzero(visits > 0):
        if int(s) not in alone:
            work = pattern.session_min(1) + tour_cost([int(s)], travel)[0]
            raise InputError(
                "staffing.workday_max_h",
                f"a day at site {territory.site_id[s]} alone needs {work / 60:.2f} h of sessions and driving, more "
                f"than the {workday_max_min / 60:g} h working day by {(work - workday_max_min) / 60:.2f} h")


def _milp(cost: np.ndarray, constraints: list[LinearConstraint], upper: float = 1.0):
    """Solve a 0-1 (or bounded integer) programme with HiGHS; the scipy result."""
    return milp(c=cost, constraints=constraints, integrality=np.ones(len(cost)), bounds=Bounds(0, upper),
                options={"time_limit": TIME_LIMIT_S, "disp": False})


def _incidence(tours: TourSet, n_sites: int) -> sparse.csr_matrix:
    """Sites x tours: 1 where the tour visits the site."""
    rows, cols = np.nonzero(tours.sites.T >= 0)
    return sparse.csr_matrix((np.ones(len(rows)), (tours.sites.T[rows, cols], cols)), shape=(n_sites, len(tours)))


def _refuse_infeasible(tours: TourSet, cover: sparse.csr_matrix, visits: np.ndarray, agents: int, days: int,
                       weeks: int, workday_max_min: float) -> None:
    """Explain an infeasible plan: too few agent-days for tours within the working day, or the spacing."""
    active = visits > 0
    res = _milp(np.ones(len(tours)), [LinearConstraint(cover[active], visits[active], visits[active])],
                upper=float(visits.max()))
    if res.x is not None and res.fun > agents * days + 0.5:
        need, give = int(round(res.fun)), agents * days
        raise InputError(
            "staffing.workday_max_h",
            f"tours within the {workday_max_min / 60:g} h working day need {need / weeks:g} agent-days a week but "
            f"{agents} agent(s) x {days // weeks} days give {give / weeks:g} (short by {(need - give) / weeks:g} a week)")
    raise InputError("frequency.visits_per_site_per_week",
                     "no rota spreads every site's visits over the cycle (at most one visit in any "
                     "cycle days / visits consecutive days) within the working day")


def _angle(territory: Territory, tour: Tour) -> float:
    """Bearing of a tour's sites from the centre of all sites, to place neighbouring tours on the same weekday."""
    lat, lon = territory.site_lat, territory.site_lon
    sites = list(tour.sites)
    dy = lat[sites].mean() - lat.mean()
    dx = (lon[sites].mean() - lon.mean()) * math.cos(math.radians(lat.mean()))
    return math.atan2(dy, dx)


def _assign_agents(by_day: list[list[Tour]], agents: int) -> tuple[tuple[int, int, Tour], ...]:
    """Give each day's tours to distinct agents, the least-loaded first, so agents share the work evenly."""
    load = np.zeros(agents)
    out = []
    for t, tours in enumerate(by_day):
        free = sorted(range(agents), key=lambda a: (load[a], a))[: len(tours)]
        for a, tour in zip(sorted(free), tours):
            out.append((t, a, tour))
            load[a] += 1
    return tuple(sorted(out, key=lambda r: (r[0], r[1])))


def _spread(territory: Territory, tours: list[Tour], days: int, weeks: int) -> list[list[Tour]]:
    """Place a cycle's tours on its days: as evenly as possible, tours in bearing order on the same weekday of
    successive weeks, so that each area is served in every week of the cycle."""
    n = len(tours)
    total = days * weeks
    counts = np.diff((np.arange(total + 1) * n) // total)
    slots = [w * days + d for d in range(days) for w in range(weeks) for _ in range(counts[w * days + d])]
    order = sorted(range(n), key=lambda i: (_angle(territory, tours[i]), tours[i].sites))
    by_day: list[list[Tour]] = [[] for _ in range(total)]
    for i, t in zip(order, slots):
        by_day[t].append(tours[i])
    return by_day


def optimal_plan(territory: Territory, travel: TravelTimes, agents: int, visits: np.ndarray, weeks: int,
                 working_days: list[int], pattern: DayPattern, workday_max_min: float) -> CyclePlan:
    """The cycle plan of least driving for `visits[s]` visits of site s per cycle of `weeks` weeks."""
    days = sorted(working_days)
    total = weeks * len(days)
    tours = enumerate_tours(travel, pattern, workday_max_min)
    _check_requests(visits, agents, pattern, total, weeks, tours, travel, territory, workday_max_min)
    usable = np.all((tours.sites < 0) | (visits[np.maximum(tours.sites, 0)] > 0), axis=1)
    tours = TourSet(tours.sites[usable], tours.drive_min[usable], tours.km[usable], tours.complete)
    cover = _incidence(tours, territory.n_sites)
    active = visits > 0
    n = len(tours)
    if visits.max() <= 1:
        res = _milp(tours.drive_min, [LinearConstraint(cover[active], 1, 1),
                                      LinearConstraint(np.ones((1, n)), 0, agents * total)])
        if res.x is None:
            _refuse_infeasible(tours, cover, visits, agents, total, weeks, workday_max_min)
        chosen = [tours.tour(i) for i in np.flatnonzero(res.x > 0.5)]
        by_day = _spread(territory, chosen, len(days), weeks)
    else:
        # variable r * total + t: tour r on cycle day t
        constraints = [LinearConstraint(sparse.kron(cover[active], np.ones((1, total))), visits[active], visits[active]),
                       LinearConstraint(sparse.kron(np.ones((1, n)), sparse.identity(total)), 0, agents)]
        # every constraint is the same under a shift of the cycle's days: the first site is visited on day 0
        first = int(np.flatnonzero(active)[0])
        constraints.append(LinearConstraint(sparse.kron(cover[first], sparse.eye(1, total)), 1, 1))
        for s in np.flatnonzero(active):
            gap = max(total // int(visits[s]), 1)
            window = sparse.csr_matrix(sum(np.roll(np.eye(total), -j, axis=1) for j in range(gap)))
            constraints.append(LinearConstraint(sparse.kron(cover[s], window), 0, 1))
        res = _milp(np.repeat(tours.drive_min, total), constraints)
        if res.x is None:
            _refuse_infeasible(tours, cover, visits, agents, total, weeks, workday_max_min)
        x = res.x.reshape(n, total) > 0.5
        by_day = [[tours.tour(r) for r in np.flatnonzero(x[:, t])] for t in range(total)]
    bound = float(res.mip_dual_bound) if tours.complete and res.mip_dual_bound is not None else None
    return CyclePlan(weeks, tuple(days), agents, _assign_agents(by_day, agents), bound)


def naive_plan(travel: TravelTimes, agents: int, visits: np.ndarray, weeks: int, working_days: list[int],
               pattern: DayPattern) -> CyclePlan:
    """The yardstick: visits in site-file order, each agent-day filled in turn (day by day, agent by agent)."""
    sequence = [s for rep in range(int(visits.max(initial=0))) for s in range(len(visits)) if visits[s] > rep]
    days = sorted(working_days)
    out = []
    for i, start in enumerate(range(0, len(sequence), pattern.size)):
        sites = tuple(sequence[start:start + pattern.size])
        out.append((i // agents, i % agents, Tour(sites, *tour_cost(sites, travel))))
    return CyclePlan(weeks, tuple(days), agents, tuple(out))


def plan_to_rota(plan: CyclePlan, pattern: DayPattern, agent_names: tuple[str, ...], weeks: int, crew: int = 1) -> Rota:
    """Repeat a cycle plan over `weeks` weeks; each plan agent is a crew of `crew` named agents (a bus's staff)."""
    days = plan.working_days
    agent, site, start, end = [], [], [], []
    for rep in range(math.ceil(weeks / plan.weeks)):
        for t, a, tour in plan.tours:
            day = (rep * plan.weeks + t // len(days)) * 7 + days[t % len(days)]
            if day >= weeks * 7:
                continue
            for j, s in enumerate(tour.sites):
                for t0, t1 in pattern.slots[j]:
                    for c in range(crew):
                        agent.append(a * crew + c)
                        site.append(s)
                        start.append(day * DAY_MIN + t0)
                        end.append(day * DAY_MIN + t1)
    return from_rows(agent_names, np.array(agent, dtype=np.int32), np.array(site, dtype=np.int32),
                      np.array(start, dtype=float), np.array(end, dtype=float))


def plan_rota(territory: Territory, travel: TravelTimes, agents: int, visits_per_site_per_week: float,
              sessions: list[tuple[float, float]], working_days: list[int], weeks: int,
              workday_max_min: float) -> Rota:
    """The least-driving rota of itinerant agents over `weeks` weeks (the drop-in for `rota.build_rota`)."""
    k, visits = visits_per_cycle(territory.n_sites, visits_per_site_per_week)
    pattern = DayPattern.per_session(sessions)
    plan = optimal_plan(territory, travel, agents, visits, k, working_days, pattern, workday_max_min)
    return plan_to_rota(plan, pattern, tuple(f"agent{a + 1}" for a in range(agents)), weeks)


@dataclass(frozen=True)
class PlanComparison:
    """Driving of the naive order, the simple builder and the planned rota, and the lower bound, a week."""

    weeks: int  # cycle length
    naive: CyclePlan
    planned: CyclePlan
    simple_drive_min: float  # sim.rota.build_rota over one cycle
    simple_km: float
    km_per_min: float | None  # km per driving minute when the two are proportional (the travel formula)

    def table(self) -> pd.DataFrame:
        """One row per rota: km and driving hours a week, and the saving against the naive order."""
        rows = {"naive order": (self.naive.drive_min, self.naive.km),
                "simple builder": (self.simple_drive_min, self.simple_km),
                "planned": (self.planned.drive_min, self.planned.km)}
        bound = self.planned.lower_bound_min
        if bound is not None:
            rows["lower bound"] = (bound, bound * self.km_per_min if self.km_per_min else float("nan"))
        out = pd.DataFrame([{"rota": name, "km_per_week": km / self.weeks, "driving_h_per_week": m / 60 / self.weeks,
                             "saving_vs_naive": 1 - m / self.naive.drive_min if self.naive.drive_min else 0.0}
                            for name, (m, km) in rows.items()]).set_index("rota")
        return out


def compare_plans(territory: Territory, travel: TravelTimes, agents: int, visits_per_site_per_week: float,
                  sessions: list[tuple[float, float]], working_days: list[int], workday_max_min: float) -> PlanComparison:
    """Plan one cycle three ways (naive order, simple builder, planner) for the same requests."""
    k, visits = visits_per_cycle(territory.n_sites, visits_per_site_per_week)
    pattern = DayPattern.per_session(sessions)
    planned = optimal_plan(territory, travel, agents, visits, k, working_days, pattern, workday_max_min)
    naive = naive_plan(travel, agents, visits, k, working_days, pattern)
    simple = build_rota(territory, travel, agents, visits_per_site_per_week, sorted(sessions), working_days, k)
    before_min, before_km, after_min, after_km = day_plan(simple, travel)
    ratio = travel.km / np.where(travel.minutes > 0, travel.minutes, np.nan)
    finite = ratio[np.isfinite(ratio)]
    km_per_min = float(finite[0]) if len(finite) and np.allclose(finite, finite[0]) else None
    return PlanComparison(k, naive, planned, float(before_min.sum() + after_min.sum()),
                          float(before_km.sum() + after_km.sum()), km_per_min)


def describe(plan: CyclePlan, territory: Territory) -> str:
    """The cycle plan as text: one line per agent-day with its sites (by name) and driving."""
    days = plan.working_days
    lines = []
    for t, a, tour in plan.tours:
        week, day = t // len(days) + 1, WEEKDAYS[days[t % len(days)]]
        sites = " -> ".join(str(territory.site_name[s]) for s in tour.sites)
        lines.append(f"week {week} {day} agent{a + 1}: {sites}  ({tour.km:.1f} km, {tour.drive_min:.0f} min)")
    return "\n".join(lines)
