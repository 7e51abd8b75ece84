"""A France Services bus: a whole day at one stop, the town hall of each commune, each stop once a cycle.

Each stop gets one day every `delivery.bus.cycle_weeks` weeks, days placed by the planner; the crew of
`delivery.bus.staff` rides together, so the bus's km count once (`sim.build.delivery.vehicles`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from sim.build.delivery.registry import register
from sim.build.planner import DayPattern, optimal_plan, plan_to_rota
from sim.config import BusConfig, Config, parse_session_pattern
from sim.core.errors import InputError
from sim.core.rota import Rota
from sim.core.territory import Territory, TravelModel, TravelTimes, agent_travel


def check_bus(cfg: Config) -> None:
    """Refuse a bus with a bad session pattern (its numbers are checked with every setting's, sim.config.BOUNDS)."""
    parse_session_pattern(list(cfg.delivery.bus.sessions), "delivery.bus.sessions")


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


@register("bus", check=check_bus)
def deliver(cfg: Config, territory: Territory, model: TravelModel, weeks: int) -> tuple[Territory, TravelTimes, Rota]:
    """A stop at every town hall, a whole day each once a cycle."""
    territory = bus_stops(territory)
    travel = agent_travel(territory, model)
    return territory, travel, bus_rota(territory, travel, cfg.delivery.bus, list(cfg.frequency.working_days), weeks,
                                       cfg.staffing.workday_max_h * 60.0)
