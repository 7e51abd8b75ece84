"""The rota planner: feasible rotas, never more driving than the naive order, optimal on small cases, clear refusals."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from conftest import NO_CALENDAR
from sim.cli import load_config
from sim.core.errors import InputError
from sim.build.planner import (
    DayPattern,
    compare_plans,
    enumerate_tours,
    naive_plan,
    optimal_plan,
    plan_rota,
    plan_to_rota,
    tour_cost,
    visits_per_cycle,
)
from sim.core.rota import check_rota, day_plan
from sim.core.units import DAY_MIN
from sim.build.scenario import build_scenario
from sim.core.territory import Territory, TravelModel, agent_travel

PATTERN = [(540.0, 690.0), (840.0, 990.0)]  # 09:00-11:30, 14:00-16:30
DAYS = [0, 1, 2, 3, 4]
PILOTS = ["saint_amand", "vigny", "agen"]


def random_territory(rng: np.random.Generator, n_sites: int, spread_km: float = 25.0) -> Territory:
    """Sites scattered over a square around 45N 2E, the base at one corner of it."""
    lat = 45.0 + rng.random(n_sites) * spread_km / 111.0
    lon = 2.0 + rng.random(n_sites) * spread_km / 78.6
    ids = np.array([f"s{i}" for i in range(n_sites)])
    return Territory(
        name="random", commune_insee=ids, commune_name=ids, population=np.full(n_sites, 1000.0),
        commune_lat=lat, commune_lon=lon, site_id=ids, site_name=ids, site_commune=np.arange(n_sites, dtype=np.int32),
        site_venue=np.full(n_sites, "mairie"), site_lat=lat, site_lon=lon, base_name="base",
        base_lat=45.0 - rng.random() * 0.05, base_lon=2.0 - rng.random() * 0.05,
    )


def admissible(plan, pattern: DayPattern, visits: np.ndarray, workday_min: float) -> bool:
    """Whether a cycle plan keeps the working day, the breaks and the spacing of each site's visits."""
    total = len(plan.working_days) * plan.weeks
    for _, _, tour in plan.tours:
        if len(set(tour.sites)) < len(tour.sites) or pattern.session_min(len(tour.sites)) + tour.drive_min > workday_min:
            return False
    for s in np.flatnonzero(visits > 1):
        days = np.sort([t for t, _, tour in plan.tours if s in tour.sites])
        gaps = np.diff(np.append(days, days[0] + total))
        if len(days) != visits[s] or gaps.min() < total // visits[s]:
            return False
    return True


def assert_feasible(rota, travel, territory, workday_min: float, visits_per_week: float, weeks: int) -> None:
    """Working day, no agent in two places, every drive within the break, each site's visits spread evenly."""
    check_rota(rota, travel, workday_min, territory)
    start = rota.session_start[rota.row_session]
    end = rota.session_end[rota.row_session]
    before, _, _, _ = day_plan(rota, travel)
    for _, _, rows in rota.agent_days():
        for a, b in zip(rows[:-1], rows[1:]):
            assert end[a] + before[b] <= start[b] + 1e-6  # the drive fits the break: the agent opens on time
    assert len(set(zip(rota.session_site.tolist(), (rota.session_start // DAY_MIN).tolist()))) == rota.n_sessions
    counts = np.bincount(rota.session_site, minlength=territory.n_sites)
    assert (counts == round(visits_per_week * weeks)).all()


def test_pilots_are_planned_feasibly_fast_and_never_worse_than_the_naive_order() -> None:
    for name in PILOTS:
        cfg = load_config([f"scenario={name}", "scenario.rota_file=null"])
        scenario = build_scenario(cfg)
        f = cfg.frequency
        started = time.perf_counter()
        comparison = compare_plans(scenario.territory, scenario.travel, cfg.staffing.agents, f.visits_per_site_per_week,
                                   PATTERN, DAYS, cfg.staffing.workday_max_h * 60)
        assert time.perf_counter() - started < 2.0, name
        planned, naive = comparison.planned, comparison.naive
        assert planned.drive_min <= naive.drive_min + 1e-9, name
        assert planned.lower_bound_min is not None and planned.lower_bound_min <= planned.drive_min + 1e-6
        rota = plan_rota(scenario.territory, scenario.travel, cfg.staffing.agents, f.visits_per_site_per_week,
                         PATTERN, DAYS, 10, cfg.staffing.workday_max_h * 60)
        assert_feasible(rota, scenario.travel, scenario.territory, cfg.staffing.workday_max_h * 60,
                        f.visits_per_site_per_week, 10)


def test_the_default_scenario_drives_less_than_both_the_naive_order_and_the_simple_builder() -> None:
    cfg = load_config(NO_CALENDAR)  # the rota as planned, before the calendar closes days
    scenario = build_scenario(cfg)
    comparison = compare_plans(scenario.territory, scenario.travel, 1, 0.5, PATTERN, DAYS, 420.0)
    table = comparison.table()
    assert table.loc["planned", "km_per_week"] < 0.92 * table.loc["naive order", "km_per_week"]
    assert table.loc["planned", "km_per_week"] < 0.85 * table.loc["simple builder", "km_per_week"]
    assert table.loc["lower bound", "km_per_week"] == pytest.approx(table.loc["planned", "km_per_week"], rel=1e-4)
    # the scenario's own rota is the planned one, repeated over 13 weeks of demand and 4 of horizon
    rota = plan_rota(scenario.territory, scenario.travel, 1, 0.5, PATTERN, DAYS, 17, 420.0)
    assert np.array_equal(scenario.rota.session_site, rota.session_site)
    assert np.array_equal(scenario.rota.session_start, rota.session_start)
    first_cycle = scenario.rota.session_start[scenario.rota.row_session] < 14 * DAY_MIN
    assert (scenario.km_before + scenario.km_after)[first_cycle].sum() == pytest.approx(comparison.planned.km)


@pytest.mark.parametrize("seed", range(12))
def test_random_instances_are_feasible_and_never_worse_than_naive(seed: int) -> None:
    rng = np.random.default_rng(seed)
    territory = random_territory(rng, int(rng.integers(3, 13)))
    travel = agent_travel(territory, TravelModel())
    agents = int(rng.integers(1, 4))
    visits_per_week = float(rng.choice([0.5, 1.0, 2.0]))
    sessions = PATTERN if seed % 3 else [(540.0, 630.0), (660.0, 750.0), (840.0, 930.0)]
    k, visits = visits_per_cycle(territory.n_sites, visits_per_week)
    pattern = DayPattern.per_session(sessions)
    try:
        planned = optimal_plan(territory, travel, agents, visits, k, DAYS, pattern, 420.0)
    except InputError as exc:  # only for requests beyond the agents' days
        assert "short by" in str(exc)
        return
    naive = naive_plan(travel, agents, visits, k, DAYS, pattern)
    if admissible(naive, pattern, visits, 420.0):
        assert planned.drive_min <= naive.drive_min + 1e-9
    assert planned.lower_bound_min <= planned.drive_min + 1e-6
    rota = plan_rota(territory, travel, agents, visits_per_week, sessions, DAYS, 2 * k, 420.0)
    assert_feasible(rota, travel, territory, 420.0, visits_per_week, 2 * k)
    for s in range(territory.n_sites):  # a site's visits are at least cycle days / visits apart
        day = np.sort(rota.session_start[rota.session_site == s] // DAY_MIN)
        weekday_index = (day // 7) * 5 + day % 7
        assert (np.diff(weekday_index) >= (5 * k) // visits[s]).all()


def _best_partition(sites: list[int], travel, size: int) -> float:
    """Least driving over every way of grouping sites into tours of at most `size`, by brute force."""
    if not sites:
        return 0.0
    first, rest = sites[0], sites[1:]
    best = np.inf
    for k in range(min(size, len(sites))):
        for mates in itertools.combinations(rest, k):
            group = (first, *mates)
            tour = min(tour_cost(list(p), travel)[0] for p in itertools.permutations(group))
            best = min(best, tour + _best_partition([s for s in rest if s not in mates], travel, size))
    return best


@pytest.mark.parametrize("seed", range(4))
def test_the_plan_is_optimal_on_small_instances(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    territory = random_territory(rng, 7)
    travel = agent_travel(territory, TravelModel())
    sessions = [(540.0, 600.0), (660.0, 720.0), (840.0, 900.0)]
    plan = optimal_plan(territory, travel, 1, np.ones(7, dtype=np.int64), 2, DAYS, DayPattern.per_session(sessions), 600.0)
    assert plan.drive_min == pytest.approx(_best_partition(list(range(7)), travel, 3), rel=1e-6)


def test_the_plan_is_deterministic() -> None:
    cfg = load_config(["staffing.agents=3", "frequency.visits_per_site_per_week=1.5"])
    a, b = build_scenario(cfg).rota, build_scenario(cfg).rota
    assert np.array_equal(a.session_site, b.session_site) and np.array_equal(a.row_agent, b.row_agent)
    assert np.array_equal(a.session_start, b.session_start)


def test_more_visits_than_sessions_is_refused_with_the_shortfall() -> None:
    with pytest.raises(InputError, match=r"need 30 visits a week but 1 agent\(s\) x 5 days x 2 visits a day give 10 \(short by 20 a week\)"):
        build_scenario(load_config(["frequency.visits_per_site_per_week=2"]))


def test_a_site_beyond_the_working_day_is_refused_with_the_excess() -> None:
    rng = np.random.default_rng(0)
    territory = random_territory(rng, 3)
    far = territory.site_lat.copy()
    far[2] += 2.0  # 220 km north: over 5 h of driving there and back
    territory = Territory(**{**territory.__dict__, "site_lat": far})
    travel = agent_travel(territory, TravelModel())
    with pytest.raises(InputError, match=r"staffing.workday_max_h: a day at site s2 alone needs [\d.]+ h .* by [\d.]+ h"):
        plan_rota(territory, travel, 1, 1.0, PATTERN, DAYS, 4, 420.0)


def test_tours_that_do_not_fit_the_working_day_are_counted_in_agent_days() -> None:
    with pytest.raises(InputError, match=r"tours within the 4 h working day need 7.5 agent-days a week .*short by 2.5 a week"):
        build_scenario(load_config(["staffing.workday_max_h=4"]))


def test_large_instances_keep_tours_among_neighbours_and_report_no_bound(monkeypatch) -> None:
    monkeypatch.setattr("sim.build.planner.MAX_TOURS", 150)
    territory = random_territory(np.random.default_rng(7), 14)
    travel = agent_travel(territory, TravelModel())
    sessions = [(540.0, 600.0), (660.0, 720.0), (840.0, 900.0)]
    tours = enumerate_tours(travel, DayPattern.per_session(sessions), 600.0)
    assert not tours.complete and len(tours) <= 150
    plan = optimal_plan(territory, travel, 1, np.ones(14, dtype=np.int64), 2, DAYS, DayPattern.per_session(sessions), 600.0)
    assert plan.lower_bound_min is None
    assert sorted(s for _, _, t in plan.tours for s in t.sites) == list(range(14))
    rota = plan_to_rota(plan, DayPattern.per_session(sessions), ("agent1",), 4)
    assert_feasible(rota, travel, territory, 600.0, 0.5, 4)
