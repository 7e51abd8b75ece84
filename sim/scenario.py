"""A scenario ready to simulate: territory, travel, rota, session index and demand rates, checked once.

Built from a validated `Config`, shared by every replication of a run. Building it reads and checks all
input files, so bad data is refused before any output is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.choice import SessionIndex
from sim.config import OPERATORS, CitizensConfig, Config, MMCConfig, repo_root
from sim.delivery import deliver, shared_vehicle
from sim.demand import daily_rate
from sim.errors import InputError
from sim.rota import DAY_MIN, Rota, check_rota, day_plan
from sim.territory import (
    Reach,
    Territory,
    TravelModel,
    TravelTimes,
    load_territory,
    load_travel_matrix,
    reach,
)


@dataclass(frozen=True)
class Scenario:
    """Everything a replication needs that does not change between replications."""

    name: str
    territory: Territory
    travel: TravelTimes
    rota: Rota
    reach: Reach
    index: SessionIndex  # the sessions, sorted for citizens' choices
    drive_before_min: np.ndarray  # per rota row
    km_before: np.ndarray
    drive_after_min: np.ndarray
    km_after: np.ndarray
    rate_per_day: np.ndarray  # commune x operator, needs per working day
    weekday_profile: np.ndarray  # 7 weights, Monday first
    demand_days: int  # needs arise over these days
    analysis_days: int  # agent KPIs count sessions of these days
    service_median_min: np.ndarray  # per operator
    service_sigma: float
    service_distribution: str
    referred_share: float
    citizens: CitizensConfig
    cost_per_agent_hour: float
    cost_per_km: float
    mmc: MMCConfig | None = None  # set for the queueing-theory scenario
    warmup_min: float = 0.0  # requests arising earlier are left out of KPIs


def resolve_path(text: str) -> Path:
    """A user path: absolute, else relative to the working directory, else to the repository."""
    path = Path(text).expanduser()
    if path.is_absolute() or path.exists():
        return path
    return repo_root() / path


def scenario_dir(cfg: Config) -> Path:
    """Folder of the named scenario's data."""
    if cfg.scenario.data_dir:
        return resolve_path(cfg.scenario.data_dir)
    return repo_root() / "scenarios" / cfg.scenario.name


def _mmc_scenario(cfg: Config) -> Scenario:
    m = cfg.mmc
    z = np.zeros(1)
    territory = Territory(
        name="mmc", commune_insee=np.array(["00000"]), commune_name=np.array(["queue"]), population=np.ones(1),
        commune_lat=z, commune_lon=z, site_id=np.array(["desk"]), site_name=np.array(["desk"]),
        site_commune=np.zeros(1, np.int32), site_venue=np.array(["mairie"]), site_lat=z, site_lon=z,
        base_name="desk", base_lat=0.0, base_lon=0.0,
    )
    rota = Rota(
        agent_names=tuple(f"agent{a + 1}" for a in range(m.servers)),
        session_site=np.zeros(1, np.int32), session_start=np.zeros(1), session_end=np.full(1, np.inf),
        row_agent=np.arange(m.servers, dtype=np.int32), row_session=np.zeros(m.servers, np.int32),
        row_start=np.zeros(m.servers), row_end=np.full(m.servers, np.inf),
    )
    rch = Reach(sites=np.zeros((1, 1), np.int32), travel_min=np.zeros((1, 1)))
    zeros = np.zeros(m.servers)
    return Scenario(
        name="mmc", territory=territory, travel=TravelTimes(np.zeros((2, 2)), np.zeros((2, 2))), rota=rota,
        reach=rch, index=SessionIndex.build(rota, rch), drive_before_min=zeros, km_before=zeros,
        drive_after_min=zeros, km_after=zeros, rate_per_day=np.zeros((1, 1)), weekday_profile=np.ones(7),
        demand_days=0, analysis_days=0, service_median_min=np.ones(1), service_sigma=0.0,
        service_distribution="exponential", referred_share=0.0, citizens=cfg.citizens,
        cost_per_agent_hour=cfg.staffing.cost_per_agent_hour, cost_per_km=cfg.staffing.cost_per_km,
        mmc=m, warmup_min=m.warmup_hours * 60.0,
    )


def build_scenario(cfg: Config) -> Scenario:
    """Load and check the scenario's data, build the rota and the session index."""
    if cfg.scenario.kind == "mmc":
        return _mmc_scenario(cfg)
    data_dir = scenario_dir(cfg)
    territory = load_territory(data_dir, cfg.scenario.name)
    overrides = None
    if cfg.scenario.travel_matrix:
        overrides = load_travel_matrix(resolve_path(cfg.scenario.travel_matrix), territory)
    model = TravelModel(cfg.travel.detour_factor, cfg.travel.speed_kmh, overrides)

    weeks = cfg.experiment.weeks
    # The rota runs on past the demand so that late needs can still find a session within the horizon.
    rota_weeks = weeks + int(np.ceil(cfg.citizens.horizon_days / 7.0))
    workday = cfg.staffing.workday_max_h * 60.0
    territory, travel, rota = deliver(cfg, territory, model, rota_weeks)
    check_rota(rota, travel, workday, territory)
    rch = reach(territory, model, cfg.citizens.max_travel_min)
    before_min, km_before, after_min, km_after = day_plan(rota, travel)
    before_km, after_km = shared_vehicle(rota, km_before, km_after)

    share = np.array([cfg.demand.operator_share.get(op, 0.0) for op in OPERATORS])
    medians = np.array([cfg.service.median_min_by_operator.get(op, cfg.service.median_min) for op in OPERATORS])
    if not np.isfinite(rota.session_start).all() or rota.n_sessions == 0:
        raise InputError("rota", "has no sessions")
    return Scenario(
        name=cfg.scenario.name, territory=territory, travel=travel, rota=rota, reach=rch,
        index=SessionIndex.build(rota, rch), drive_before_min=before_min, km_before=before_km,
        drive_after_min=after_min, km_after=after_km,
        rate_per_day=daily_rate(territory.population, cfg.demand.rate_per_1000_per_day, cfg.demand.uptake, share),
        weekday_profile=np.array(cfg.demand.weekday_profile, dtype=float), demand_days=weeks * 7,
        analysis_days=weeks * 7, service_median_min=medians, service_sigma=cfg.service.sigma,
        service_distribution=cfg.service.distribution, referred_share=cfg.service.referred_share,
        citizens=cfg.citizens, cost_per_agent_hour=cfg.staffing.cost_per_agent_hour,
        cost_per_km=cfg.staffing.cost_per_km,
    )


def session_day(rota: Rota) -> np.ndarray:
    """Day index of each session."""
    return (rota.session_start // DAY_MIN).astype(np.int64)
