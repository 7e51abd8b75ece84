"""How the service reaches citizens: itinerant agents, a fixed France Services site, or a bus.

Each model turns a scenario's territory into the sites where sessions are held, the agents' travel, and a
rota; the rest of the simulator does not know which model it runs, so they compare on equal terms.

- itinerant (the 2021 pilots): agents drive from the base to the scenario's sites; the rota is read from
  `scenario.rota_file`, or planned for least driving (`sim.planner`), or built by `sim.rota.build_rota`.
- fixed: one site at the town hall of a chosen commune (default: the most populous), open on every
  working day with its advisors all staffing every session; the advisors work there, so nobody drives.
- bus: a stop at the town hall of every commune, a whole day at one stop, each stop once a cycle of N
  weeks; the crew rides together, so the bus's km count once.

In every model, citizens whose town hall is farther than `citizens.max_travel_min` from every site have
no reachable session (outcome `no_session`): coverage is part of the comparison.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from sim.config import BusConfig, Config, FixedSiteConfig, parse_session_pattern
from sim.errors import InputError
from sim.planner import DayPattern, optimal_plan, plan_rota, plan_to_rota
from sim.rota import DAY_MIN, Rota, _from_rows, build_rota, load_rota_file
from sim.territory import Territory, TravelModel, TravelTimes, agent_travel


def fixed_site(territory: Territory, commune: str | None) -> Territory:
    """The territory with one site, at the town hall of `commune` (INSEE; default the most populous)."""
    if commune is None:
        c = int(np.argmax(territory.population))
    else:
        hits = np.flatnonzero(territory.commune_insee == str(commune))
        if not len(hits):
            raise InputError("delivery.fixed.commune", f"no commune {commune!r} in scenario {territory.name!r}")
        c = int(hits[0])
    name = f"France Services, {territory.commune_name[c]}"
    lat, lon = territory.commune_lat[c : c + 1], territory.commune_lon[c : c + 1]
    return dataclasses.replace(
        territory, site_id=np.array([f"{territory.commune_insee[c]}-france-services"]), site_name=np.array([name]),
        site_commune=np.array([c], dtype=np.int32), site_venue=np.array(["mairie"]), site_lat=lat.copy(),
        site_lon=lon.copy(), base_name=name, base_lat=float(lat[0]), base_lon=float(lon[0]),
    )


def fixed_rota(fixed: FixedSiteConfig, working_days: list[int], weeks: int) -> Rota:
    """Every working day, every session of the day, staffed by all the advisors."""
    sessions = parse_session_pattern(list(fixed.sessions), "delivery.fixed.sessions")
    rows = [(a, (w * 7 + d) * DAY_MIN + s, (w * 7 + d) * DAY_MIN + e)
            for w in range(weeks) for d in sorted(working_days) for s, e in sessions for a in range(fixed.advisors)]
    agent, start, end = (np.array(x) for x in zip(*rows))
    return _from_rows(tuple(f"advisor{a + 1}" for a in range(fixed.advisors)), agent.astype(np.int32),
                      np.zeros(len(rows), dtype=np.int32), start.astype(float), end.astype(float))


def bus_stops(territory: Territory) -> Territory:
    """The territory with one bus stop at the town hall of every commune."""
    n = territory.n_communes
    return dataclasses.replace(
        territory, site_id=np.array([f"{c}-bus-stop" for c in territory.commune_insee]),
        site_name=np.array([f"Bus, {name}" for name in territory.commune_name]),
        site_commune=np.arange(n, dtype=np.int32), site_venue=np.full(n, "bus_stop"),
        site_lat=territory.commune_lat.copy(), site_lon=territory.commune_lon.copy(),
    )


def bus_rota(territory: Territory, travel: TravelTimes, bus: BusConfig, working_days: list[int], weeks: int,
             workday_max_min: float) -> Rota:
    """Each stop one whole day every `bus.cycle_weeks` weeks, days placed by the planner; a crew per bus."""
    stops = territory.n_sites
    days_per_bus = len(working_days) * bus.cycle_weeks
    buses = bus.buses or math.ceil(stops / days_per_bus)
    if stops > buses * days_per_bus:
        raise InputError(
            "delivery.bus.buses",
            f"{stops} stops need {stops} bus-days every {bus.cycle_weeks} weeks but {buses} bus(es) x "
            f"{len(working_days)} days x {bus.cycle_weeks} weeks give {buses * days_per_bus} "
            f"(short by {stops - buses * days_per_bus}; or lengthen delivery.bus.cycle_weeks)")
    pattern = DayPattern.whole_day(parse_session_pattern(list(bus.sessions), "delivery.bus.sessions"))
    plan = optimal_plan(territory, travel, buses, np.ones(stops, dtype=np.int64), bus.cycle_weeks, working_days,
                        pattern, workday_max_min)
    names = tuple(f"bus{b + 1}-staff{c + 1}" for b in range(buses) for c in range(bus.staff))
    return plan_to_rota(plan, pattern, names, weeks, crew=bus.staff)


def itinerant_rota(cfg: Config, territory: Territory, travel: TravelTimes, weeks: int) -> Rota:
    """The rota file if there is one, else the planned (or simply built) rota of the itinerant agents."""
    if cfg.scenario.rota_file:
        from sim.scenario import resolve_path

        return load_rota_file(resolve_path(cfg.scenario.rota_file), territory, weeks)
    f = cfg.frequency
    sessions = parse_session_pattern(list(f.sessions))
    if cfg.delivery.planner == "simple":
        return build_rota(territory, travel, cfg.staffing.agents, f.visits_per_site_per_week, sessions,
                          list(f.working_days), weeks)
    return plan_rota(territory, travel, cfg.staffing.agents, f.visits_per_site_per_week, sessions,
                     list(f.working_days), weeks, cfg.staffing.workday_max_h * 60.0)


def deliver(cfg: Config, territory: Territory, model: TravelModel, weeks: int) -> tuple[Territory, TravelTimes, Rota]:
    """The sites, the agents' travel and the rota of `weeks` weeks under the configured delivery model."""
    d = cfg.delivery
    if d.model == "fixed":
        territory = fixed_site(territory, d.fixed.commune)
        return territory, agent_travel(territory, model), fixed_rota(d.fixed, list(cfg.frequency.working_days), weeks)
    if d.model == "bus":
        territory = bus_stops(territory)
        travel = agent_travel(territory, model)
        return territory, travel, bus_rota(territory, travel, d.bus, list(cfg.frequency.working_days), weeks,
                                           cfg.staffing.workday_max_h * 60.0)
    travel = agent_travel(territory, model)
    return territory, travel, itinerant_rota(cfg, territory, travel, weeks)


def shared_vehicle(rota: Rota, km_before: np.ndarray, km_after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Count a vehicle's km once: an agent holding exactly the sessions of another all day rides with them.

    Returns km_before and km_after with zeros on the rows of such passengers (a bus's second staff member).
    """
    before, after = km_before.copy(), km_after.copy()
    seen: set[tuple[int, ...]] = set()
    for _, _, rows in rota.agent_days():
        key = tuple(rota.row_session[rows].tolist())
        if key in seen:
            before[rows] = 0.0
            after[rows] = 0.0
        seen.add(key)
    return before, after
