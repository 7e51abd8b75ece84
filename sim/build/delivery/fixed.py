"""A fixed France Services site: one site at the town hall of a chosen commune, its advisors at every session.

Open on every working day (`delivery.fixed.sessions`) with all its advisors; the advisors work there, so
nobody drives. The label asks for at least 24 h a week over at least 5 days and at least 2 advisors.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.build.delivery.registry import register
from sim.config import Config, FixedSiteConfig, parse_session_pattern
from sim.core.errors import InputError
from sim.core.rota import Rota, from_rows
from sim.core.territory import Territory, TravelModel, TravelTimes, agent_travel
from sim.core.units import DAY_MIN


def check_label(cfg: Config) -> None:
    """Refuse a fixed site that does not meet the France Services label."""
    fixed, days = cfg.delivery.fixed, cfg.frequency.working_days
    hours = sum(e - s for s, e in parse_session_pattern(list(fixed.sessions), "delivery.fixed.sessions")) / 60.0 * len(days)
    if fixed.advisors < 2:
        raise InputError("delivery.fixed.advisors", f"a France Services site has at least 2 advisors, got {fixed.advisors}")
    if len(days) < 5:
        raise InputError("frequency.working_days", f"a France Services site opens on at least 5 days, got {len(days)}")
    if hours < 24:
        raise InputError("delivery.fixed.sessions", f"a France Services site opens at least 24 h a week, got {hours:g} h "
                         f"(short by {24 - hours:g} h)")


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
    return from_rows(tuple(f"advisor{a + 1}" for a in range(fixed.advisors)), agent.astype(np.int32),
                     np.zeros(len(rows), dtype=np.int32), start.astype(float), end.astype(float))


@register("fixed", check=check_label)
def deliver(cfg: Config, territory: Territory, model: TravelModel, weeks: int) -> tuple[Territory, TravelTimes, Rota]:
    """One site at a town hall, open every working day with its advisors."""
    territory = fixed_site(territory, cfg.delivery.fixed.commune)
    return territory, agent_travel(territory, model), fixed_rota(cfg.delivery.fixed, list(cfg.frequency.working_days), weeks)
