"""Itinerant agents, as in the 2021 pilots: they drive from the base to the scenario's sites.

The rota is read from `scenario.rota_file`, or planned for least driving (`sim.build.planner`, the default),
or built by the simple builder (`delivery.planner=simple`, `sim.build.rota_builder`).
"""

from __future__ import annotations

from sim.build.delivery.registry import register
from sim.build.paths import resolve_path
from sim.build.planner import plan_rota
from sim.build.rota_builder import build_rota
from sim.config import Config, parse_session_pattern
from sim.core.rota import Rota, load_rota_file
from sim.core.territory import Territory, TravelModel, TravelTimes, agent_travel


def itinerant_rota(cfg: Config, territory: Territory, travel: TravelTimes, weeks: int) -> Rota:
    """The rota file if there is one, else the planned (or simply built) rota of the itinerant agents."""
    if cfg.scenario.rota_file:
        return load_rota_file(resolve_path(cfg.scenario.rota_file), territory, weeks)
    f = cfg.frequency
    sessions = parse_session_pattern(list(f.sessions))
    if cfg.delivery.planner == "simple":
        return build_rota(territory, travel, cfg.staffing.agents, f.visits_per_site_per_week, sessions,
                          list(f.working_days), weeks)
    return plan_rota(territory, travel, cfg.staffing.agents, f.visits_per_site_per_week, sessions,
                     list(f.working_days), weeks, cfg.staffing.workday_max_h * 60.0)


@register("itinerant")
def deliver(cfg: Config, territory: Territory, model: TravelModel, weeks: int) -> tuple[Territory, TravelTimes, Rota]:
    """The scenario's own sites, visited by the agents on their rota."""
    travel = agent_travel(territory, model)
    return territory, travel, itinerant_rota(cfg, territory, travel, weeks)
