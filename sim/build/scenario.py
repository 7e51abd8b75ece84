"""From a validated configuration to a `Scenario` ready to simulate: territory, delivery, rota, checks.

Building it reads and checks every input file, so bad data is refused before any output is written.
"""

from __future__ import annotations

from datetime import date

from collections import OrderedDict
from pathlib import Path

import numpy as np

from sim.build.delivery import mode
from sim.build.delivery.vehicles import shared_vehicle
from sim.build.paths import resolve_path, scenario_dir
from sim.config import MAX_REQUESTS, Config
from sim.build.siting import choose_scenario_sites
from sim.core.choice import SessionIndex, make_rule
from sim.core.calendar import calendar_group, monday_of, open_days
from sim.core.demand import OPERATORS, adoption_ramp, daily_rate, day_weights
from sim.core.errors import InputError
from sim.core.mmc import QueueCheck
from sim.core.rota import check_rota, day_plan, load_rota_file, on_open_days
from sim.core.scenario import Citizens, Scenario
from sim.core.territory import BASE, TravelModel, load_territory, load_travel_matrix, reach


def citizens_of(cfg: Config) -> Citizens:
    """The citizens' behaviour of the configuration, with their choice rules."""
    c, ch = cfg.citizens, cfg.citizens.choice
    params = {"weight_min_per_day": ch.weight_min_per_day, "logit_scale_min": ch.logit_scale_min}
    return Citizens(
        walk_in=make_rule(ch.walk_in, **params), booker=make_rule(ch.booker, **params),
        appointment_share=c.appointment_share, slot_min=c.slot_min, arrival_profile=c.arrival_profile,
        front_loaded_shape=c.front_loaded_shape, patience_mean_min=c.patience_mean_min, p_return=c.p_return,
        horizon_days=c.horizon_days,
    )


def queue_check(cfg: Config) -> QueueCheck:
    """The queueing-theory scenario's queue (`scenario=mmc`)."""
    m = cfg.mmc
    return QueueCheck(m.arrival_rate_per_hour, m.service_rate_per_hour, m.servers, m.patience_rate_per_hour,
                      m.hours, m.warmup_hours)


_SITES_CACHE: OrderedDict[tuple, tuple] = OrderedDict()
_SITES_CACHE_SIZE = 8


def _stamp(path: Path) -> tuple:
    """A file's identity for the cache: path, modification time and size (None if absent)."""
    try:
        st = path.stat()
    except OSError:
        return (str(path), None)
    return (str(path), st.st_mtime_ns, st.st_size)


def _sites_and_rota(cfg: Config, delivery) -> tuple:
    """Territory, travel, rota (checked), reach, session index and drives: what the files, delivery, staffing,
    frequency and reach decide. Kept for the last few configurations, so the points of a sweep that change
    only demand, behaviour, costs or seeds build it once; a changed input file is read again."""
    folder = scenario_dir(cfg)
    files = [folder / name for name in ("communes.csv", "sites.csv", "scenario.yaml")]
    files += [resolve_path(p) for p in (cfg.scenario.rota_file, cfg.scenario.travel_matrix) if p]
    key = (repr(cfg.scenario), repr(cfg.travel), repr(cfg.delivery), cfg.staffing.agents, cfg.staffing.workday_max_h,
           repr(cfg.frequency), cfg.citizens.max_travel_min, cfg.citizens.horizon_days, cfg.experiment.weeks,
           cfg.experiment.start_date, cfg.experiment.holidays,
           tuple(_stamp(f) for f in files))
    if key in _SITES_CACHE:
        _SITES_CACHE.move_to_end(key)
        return _SITES_CACHE[key]
    territory = load_territory(folder, cfg.scenario.name, "scenario.data_dir" if cfg.scenario.data_dir else "scenario")
    overrides = None
    if cfg.scenario.travel_matrix:
        overrides = load_travel_matrix(resolve_path(cfg.scenario.travel_matrix), territory)
    model = TravelModel(cfg.travel.detour_factor, cfg.travel.speed_kmh, overrides)
    if cfg.scenario.site_choice:
        territory, _ = choose_scenario_sites(territory, cfg.scenario.site_choice, model, cfg.citizens.max_travel_min)
    territory, travel, rota = delivery.deliver(cfg, territory, model, _rota_weeks(cfg))
    if not np.isfinite(rota.session_start).all() or rota.n_sessions == 0:
        raise InputError("rota", "has no sessions")
    check_rota(rota, travel, cfg.staffing.workday_max_h * 60.0, territory)
    is_open = open_days(date.fromisoformat(cfg.experiment.start_date), _rota_weeks(cfg) * 7, cfg.experiment.holidays)
    rota = on_open_days(rota, is_open, calendar_group(territory.commune_insee)[territory.site_commune])
    if rota.n_sessions == 0:
        raise InputError("experiment.start_date", "every session of the rota falls on a closed day")
    rch = reach(territory, model, cfg.citizens.max_travel_min)
    before_min, km_before, after_min, km_after = day_plan(rota, travel)
    before_km, after_km = shared_vehicle(rota, km_before, km_after)
    notes = (_matrix_coverage(cfg, territory, rota, rch, overrides),) if overrides is not None else ()
    built = (territory, travel, rota, rch, SessionIndex.build(rota, rch), before_min, before_km, after_min, after_km,
             tuple(n for n in notes if n))
    _SITES_CACHE[key] = built
    while len(_SITES_CACHE) > _SITES_CACHE_SIZE:
        _SITES_CACHE.popitem(last=False)
    return built


def build_scenario(cfg: Config) -> Scenario:
    """Load and check the scenario's data, deliver the sites and rota, index the sessions."""
    if cfg.scenario.kind == "mmc":
        return queue_check(cfg).scenario(citizens_of(cfg), cfg.staffing.cost_per_agent_hour, cfg.staffing.cost_per_km)
    territory, travel, rota, rch, index, before_min, before_km, after_min, after_km, notes = _sites_and_rota(cfg, mode(cfg))
    medians = np.array([cfg.service.median_min_by_operator.get(op, cfg.service.median_min) for op in OPERATORS])
    rate, weights, groups = _demand(cfg, territory)
    days = cfg.experiment.weeks * 7
    return Scenario(
        name=cfg.scenario.name, territory=territory, travel=travel, rota=rota, reach=rch, index=index,
        drive_before_min=before_min, km_before=before_km, drive_after_min=after_min, km_after=after_km,
        rate_per_day=rate, demand_weights=weights, commune_group=groups, days=days,
        day0=monday_of(date.fromisoformat(cfg.experiment.start_date)),
        service_median_min=medians, service_sigma=cfg.service.sigma, service_distribution=cfg.service.distribution,
        referred_share=cfg.service.referred_share, citizens=citizens_of(cfg),
        cost_per_agent_hour=cfg.staffing.cost_per_agent_hour, cost_per_km=cfg.staffing.cost_per_km, notes=notes,
    )


def _rota_weeks(cfg: Config) -> int:
    """Weeks of rota: it runs on past the demand so that late needs can still find a session within the horizon."""
    return cfg.experiment.weeks + int(np.ceil(cfg.citizens.horizon_days / 7.0))


def _demand(cfg: Config, territory) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Needs per working day by commune and operator, the (calendar group, operator, day) weights and each
    commune's calendar group; refused if a replication would hold more than MAX_REQUESTS."""
    d = cfg.demand
    share = np.array([d.operator_share.get(op, 0.0) for op in OPERATORS])
    rate = daily_rate(territory.population, d.rate_per_1000_per_day, d.uptake, share)
    days = cfg.experiment.weeks * 7
    start = date.fromisoformat(cfg.experiment.start_date)
    months = np.array([d.monthly_profile.get(op, [1.0] * 12) for op in OPERATORS], dtype=float)
    months = months / months.mean(axis=1, keepdims=True)
    ramp = adoption_ramp(days, d.uptake, d.uptake_mature, d.ramp_months)
    weights = day_weights(open_days(start, days, cfg.experiment.holidays), start, d.weekday_profile, months, ramp)
    groups = calendar_group(territory.commune_insee)
    expected = float((rate * weights.sum(axis=2)[groups]).sum())
    if expected > MAX_REQUESTS:
        raise InputError("demand.rate_per_1000_per_day", f"{expected:.3g} needs expected in a replication of "
                         f"{cfg.experiment.weeks} weeks, more than {MAX_REQUESTS:,}")
    return rate, weights, groups


def check_data(configs: list[Config]) -> None:
    """Read and check the data files of each distinct scenario of a sweep (communes, sites, travel matrix, rota
    file) and the demand they imply, without planning rotas: a bad file stops the sweep before any run.
    Whether a rota can staff a point stays the point's own outcome (a failed run in the sweep table)."""
    territories: dict[tuple, object] = {}
    for cfg in configs:
        if cfg.scenario.kind == "mmc":
            continue
        folder = scenario_dir(cfg)
        files = (cfg.scenario.travel_matrix, cfg.scenario.rota_file)
        key = (str(folder), cfg.scenario.name, files, _rota_weeks(cfg))
        if key not in territories:
            territory = load_territory(folder, cfg.scenario.name, "scenario.data_dir" if cfg.scenario.data_dir else "scenario")
            if cfg.scenario.travel_matrix:
                load_travel_matrix(resolve_path(cfg.scenario.travel_matrix), territory)
            if cfg.scenario.rota_file:
                load_rota_file(resolve_path(cfg.scenario.rota_file), territory, _rota_weeks(cfg))
            territories[key] = territory
        _demand(cfg, territories[key])


def _matrix_coverage(cfg: Config, territory, rota, reach_of, overrides: dict) -> str:
    """A note when a travel matrix leaves trips to the formula (how many), '' when it gives them all.

    Counted: the distinct trips the agents drive (base to a site, site to site, site to base) and the
    (commune, site) trips of citizens within reach.
    """
    ids = np.append(territory.site_id, BASE)
    sites = rota.session_site[rota.row_session]
    first = np.zeros(len(sites), dtype=bool)
    first[rota.day_bounds()[:-1]] = True
    base = territory.n_sites
    prev = np.where(first, base, np.roll(sites, 1))
    last = np.zeros(len(sites), dtype=bool)
    last[rota.day_bounds()[1:] - 1] = True
    pairs = np.unique(np.concatenate([np.column_stack([prev, sites]), np.column_stack([sites[last], np.full(last.sum(), base)])]),
                      axis=0)
    trips = [(ids[a], ids[b]) for a, b in pairs.tolist() if a != b]
    agents = sum(pair in overrides for pair in trips)
    rows, cols = np.nonzero(reach_of.sites >= 0)
    citizens = [(territory.commune_insee[r], territory.site_id[reach_of.sites[r, c]]) for r, c in zip(rows, cols)]
    given = sum(pair in overrides for pair in citizens)
    if agents == len(trips) and given == len(citizens):
        return ""
    return (f"scenario.travel_matrix gives {agents:,} of the {len(trips):,} trips the agents drive and {given:,} of "
            f"the {len(citizens):,} citizens' trips within reach; the others by the formula "
            f"({cfg.travel.detour_factor:g} x the straight line at {cfg.travel.speed_kmh:g} km/h)")
