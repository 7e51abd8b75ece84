"""Typed configuration schema and its validation.

The schema is a tree of plain dataclasses; `sim.cli` registers it in Hydra's ConfigStore, so an unknown key
or a value of the wrong type is refused while the configuration is composed. `validate` then checks ranges
and consistency and raises `InputError` naming the field; each delivery mode checks its own settings
(`sim.build.delivery`). Every default is an assumption documented in README.md and docs/model.md with its
source.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from sim.core.choice import RULES
from sim.core.demand import OPERATORS
from sim.core.errors import InputError
from sim.core.results import HEADLINE, MMC_EXTRA
from sim.core.units import parse_hhmm

# Share of requests by operator. Cour des comptes 2024: France Titres/ANTS (interieur) 19%, CAF 16%,
# Assurance maladie (cnam) 16%, DGFiP 15%, the top five 80%; the fifth (cnav, 14%) and the split of the
# last 20% are assumptions.
DEFAULT_OPERATOR_SHARE: Dict[str, float] = {
    "interieur": 0.19, "caf": 0.16, "cnam": 0.16, "dgfip": 0.15, "cnav": 0.14,
    "pole_emploi": 0.08, "msa": 0.05, "la_poste": 0.05, "justice": 0.02,
}


@dataclass
class ScenarioConfig:
    """Which territory (or the queueing-theory check `mmc`) to simulate."""

    name: str = "saint_amand"
    kind: str = "territory"  # territory | mmc
    data_dir: Optional[str] = None  # default: scenarios/<name> in the repository
    travel_matrix: Optional[str] = None  # CSV with columns from,to,minutes[,km]; overrides the formula
    rota_file: Optional[str] = None  # explicit rota (CSV or YAML); overrides the rota builder
    site_choice: Optional[str] = None  # best[:K] | cover:P: the sites chosen among the scenario's and every town hall


@dataclass
class TravelConfig:
    """Road travel from great-circle distance: km = detour x distance, minutes = km / speed."""

    detour_factor: float = 1.3  # brief: road distance is 1.2-1.4 x straight-line distance
    speed_kmh: float = 50.0


@dataclass
class DemandConfig:
    """Needs per commune x operator x day: population/1000 x rate x uptake x operator share x weekday."""

    rate_per_1000_per_day: float = 0.53  # 9 M requests / 68 M people / 250 working days (brief)
    uptake: float = 0.182  # share of the mature rate reaching a new itinerant service: calibrated so that the
    # Saint-Amand-les-Eaux default sees ~20 requests a week at the desk (79 appointments in 4 weeks, 2021), on the
    # pilot's calendar (from Thursday 8 April 2021, Ascension and Whit Monday closed)
    operator_share: Dict[str, float] = field(default_factory=lambda: dict(DEFAULT_OPERATOR_SHARE))
    weekday_profile: List[float] = field(default_factory=lambda: [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0])
    monthly_profile: Dict[str, List[float]] = field(default_factory=dict)  # operator: 12 weights, January first
    # (relative, scaled to a mean of 1 over the year; an operator not listed is flat); demand=seasonal: tax season
    uptake_mature: Optional[float] = None  # with ramp_months > 0: the uptake the service grows to
    ramp_months: float = 0.0  # logistic adoption from `uptake` at the start to `uptake_mature` (0: no ramp)


@dataclass
class ChoiceConfig:
    """How citizens pick a session among the reachable sites' next ones (sim/choice.py, docs/choice.md)."""

    walk_in: str = "nearest"  # walk-ins go to the nearest site (planning of mobile health units; "au plus près")
    booker: str = "cost"  # booked demand can be steered: travel minutes + weight x days of delay
    weight_min_per_day: float = 3.0  # assumption: the whole 20-min reach is worth about a week sooner (20/7)
    logit_scale_min: float = 5.0  # rule logit: spread of the citizens' tastes, in minutes (assumption)


@dataclass
class CitizensConfig:
    """How citizens choose a session, arrive, book, wait and come back."""

    max_travel_min: float = 20.0  # travel-time promise: 95% of people < 20 min from a site
    horizon_days: float = 28.0  # counted from the need: no session within it, no_session; no free slot, no_slot
    choice: ChoiceConfig = field(default_factory=ChoiceConfig)
    arrival_profile: str = "front_loaded"  # front_loaded | uniform (offset within the session)
    front_loaded_shape: float = 3.0  # offset = length x Beta(1, shape): 27% arrive in the first tenth
    appointment_share: float = 0.5  # the 2021 pilot worked "mostly by appointment" (assumption)
    slot_min: float = 30.0  # appointment slot length
    patience_mean_min: float = 60.0  # exponential patience of walk-ins in the queue (assumption)
    p_return: float = 0.7  # a citizen turned away at closing comes to a later session (assumption)


@dataclass
class ServiceConfig:
    """Time at the desk per request and the share that cannot be resolved on the spot."""

    distribution: str = "lognormal"  # lognormal | exponential
    median_min: float = 20.0  # anecdote: a licence renewal "under 20 minutes" (assumption)
    sigma: float = 0.5  # log-scale spread of the lognormal (assumption)
    median_min_by_operator: Dict[str, float] = field(default_factory=dict)  # per-operator override
    referred_share: float = 0.18  # ~82% resolved on the spot (Cour des comptes 2024)


@dataclass
class StaffingConfig:
    """Agents, their working day and what an hour and a kilometre cost."""

    agents: int = 1
    workday_max_h: float = 7.0  # sessions plus driving
    cost_per_agent_hour: float = 35.0  # loaded hourly cost of an agent (assumption)
    cost_per_km: float = 0.40  # vehicle cost per km (assumption, close to the French mileage scale)


@dataclass
class FrequencyConfig:
    """How often each site is visited and the daily session pattern."""

    visits_per_site_per_week: float = 0.5  # 15 sites, 10 sessions a week: each site every other week
    sessions: List[str] = field(default_factory=lambda: ["09:00-11:30", "14:00-16:30"])
    working_days: List[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])  # Monday = 0


@dataclass
class FixedSiteConfig:
    """A fixed France Services site; the label asks for at least 24 h a week over 5 days and 2 advisors."""

    commune: Optional[str] = None  # INSEE code of its commune (at the town hall); default the most populous
    advisors: int = 2
    sessions: List[str] = field(default_factory=lambda: ["09:00-12:00", "14:00-17:00"])  # 30 h a week (assumption)


@dataclass
class BusConfig:
    """A France Services bus: a whole day at one stop, the town hall of each commune, once every cycle."""

    cycle_weeks: int = 4  # Nord's bus: 20 stops a month, each once a month
    buses: Optional[int] = None  # default: as few as give every commune a day each cycle
    staff: int = 2  # Nord: 2-3 staff on board
    sessions: List[str] = field(default_factory=lambda: ["09:30-12:00", "14:00-16:30"])  # the Loiret bus's hours


@dataclass
class DeliveryConfig:
    """How the service reaches citizens: itinerant agents (the 2021 pilots), a fixed site, or a bus."""

    model: str = "itinerant"  # a registered mode: itinerant | fixed | bus (sim/build/delivery/, docs/delivery.md)
    planner: str = "optimal"  # rota of itinerant agents and buses: optimal (sim.planner) | simple (sim.rota)
    fixed: FixedSiteConfig = field(default_factory=FixedSiteConfig)
    bus: BusConfig = field(default_factory=BusConfig)
    params: Dict[str, Any] = field(default_factory=dict)  # settings of a mode registered outside the package


@dataclass
class ClusterConfig:
    """Where a run's replications run: in this process (or `n_jobs` local processes), or as SLURM jobs (submitit).

    For a large run whose replications each take minutes (a national year): each job runs
    `replications_per_job` replications and the run aggregates them into the same summary.json as a local
    run. The code, the virtual environment and the run folder must be on a filesystem the nodes share.
    """

    backend: str = "local"  # local | slurm | submitit_local (submitit's local executor: separate processes)
    partition: Optional[str] = None  # SLURM partition (sinfo -s); default: the cluster's
    timeout_min: int = 60  # SLURM time limit of each job, minutes
    cpus_per_task: int = 1
    mem_gb: float = 4.0  # memory of each job; no more than a node has
    replications_per_job: int = 1
    folder: Optional[str] = None  # submitit's job files; default: .submitit in the run folder


@dataclass
class ExperimentConfig:
    """Run length and replications: a fixed number, or `auto` until the KPIs are precise enough (sim.replications)."""

    weeks: int = 13  # the 3-month pilot
    start_date: str = "2021-04-08"  # the first day (the Saint-Amand-les-Eaux pilot's); day 0 is that week's Monday
    holidays: bool = True  # no session and no need on French public holidays (false: every working day open)
    replications: Union[int, str] = 10  # or "auto": until the 95% CI of auto_kpis is within auto_precision
    n_jobs: int = 1  # replications run in parallel processes when > 1; results are identical
    cluster: ClusterConfig = field(default_factory=ClusterConfig)  # or as SLURM jobs: experiment.cluster.backend=slurm
    variants: Dict[str, List[str]] = field(default_factory=dict)  # name: overrides; compared on common random numbers
    reference: Optional[str] = None  # variant the others are compared with (default: the first)
    auto_kpis: List[str] = field(default_factory=lambda: ["share_wait_le_20min", "access_delay_days_p90", "cost_per_served"])
    auto_precision: float = 0.05  # auto: target CI half-width relative to the mean
    min_replications: int = 3  # auto: replications before the first check (sim-tools' initial replications)
    max_replications: int = 100  # auto: stop here even if the precision is not reached
    auto_look_ahead: int = 5  # auto: the precision must hold for this many more replications (Hoad et al. 2010)


@dataclass
class MMCConfig:
    """One always-open site with `servers` agents, Poisson arrivals and exponential service (scenario=mmc)."""

    arrival_rate_per_hour: float = 4.5
    service_rate_per_hour: float = 1.0
    servers: int = 5
    patience_rate_per_hour: float = 0.0  # 0: nobody abandons (Erlang C); > 0: Erlang A
    hours: float = 2000.0
    warmup_hours: float = 100.0  # requests arriving earlier are left out of the KPIs


@dataclass
class OutputConfig:
    """What a run writes besides summary.json and kpis.csv."""

    requests: bool = True  # requests.parquet, one row per request
    print_table: bool = True
    timings: bool = False  # print the seconds of each phase of the command (imports, check, build, ...)
    figures: bool = True  # figures/*.png
    svg: bool = False  # figures/*.svg as well (vector figures for print)
    report: bool = True  # report.html, one self-contained file


SENSITIVITY_BOUNDS: Dict[str, List[float]] = {
    "demand.uptake": [0.12, 0.25],  # calibrated 0.182 on "more than 79" appointments in 4 weeks; +-35%
    "service.median_min": [12.0, 30.0],  # one anecdote: a licence renewal "under 20 minutes"
    "citizens.patience_mean_min": [30.0, 120.0],  # no source: from half an hour to two hours
    "citizens.appointment_share": [0.25, 0.75],  # "mostly by appointment": around the assumed half
    "citizens.front_loaded_shape": [1.0, 6.0],  # 1 is uniform arrivals; 6: a third in the first 5% of a session
    "citizens.choice.weight_min_per_day": [1.0, 10.0],  # docs/choice.md: the range of its sensitivity study
    "travel.speed_kmh": [40.0, 70.0],  # rural roads, from villages to departmental roads
    "staffing.cost_per_km": [0.30, 0.60],  # around the French mileage scale
}
"""The uncertain assumptions of experiment=sensitivity, each over a range with its reason (docs/sensitivity.md)."""


@dataclass
class SensitivityConfig:
    """Global sensitivity as a sweep over the points of a design (experiment=sensitivity, docs/sensitivity.md)."""

    method: str = "morris"  # morris (mu*, sigma) | sobol (S1, ST)
    trajectories: int = 6  # morris: trajectories x (parameters + 1) points
    n: int = 64  # sobol: n x (parameters + 2) points
    levels: int = 4  # morris: levels of the grid
    bounds: Dict[str, List[float]] = field(default_factory=lambda: {k: list(v) for k, v in SENSITIVITY_BOUNDS.items()})
    point: Optional[int] = None  # the design point a run evaluates: swept as sensitivity.point=range(0,N)

    def points(self) -> int:
        """How many points the design has."""
        k = len(self.bounds)
        return self.trajectories * (k + 1) if self.method == "morris" else self.n * (k + 2)


@dataclass
class OptimiseConfig:
    """Least-cost run of a sweep meeting service targets (python -m sim.sweep optimise; configs/sweep/optimise.yaml)."""

    enabled: bool = False  # also optimise when a multirun ends
    cost: str = "cost_per_served"  # the KPI to minimise
    targets: Dict[str, str] = field(default_factory=lambda: {
        "share_wait_le_20min": ">= 0.9", "access_delay_days_p90": "<= 7", "share_needs_met_within_7d": ">= 0.9"})
    use_ci: bool = False  # a target is met only if the whole 95% CI meets it, not just the mean


@dataclass
class Config:
    """The whole configuration of one run."""

    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    travel: TravelConfig = field(default_factory=TravelConfig)
    demand: DemandConfig = field(default_factory=DemandConfig)
    citizens: CitizensConfig = field(default_factory=CitizensConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    staffing: StaffingConfig = field(default_factory=StaffingConfig)
    frequency: FrequencyConfig = field(default_factory=FrequencyConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    mmc: MMCConfig = field(default_factory=MMCConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    optimise: OptimiseConfig = field(default_factory=OptimiseConfig)
    sensitivity: SensitivityConfig = field(default_factory=SensitivityConfig)
    seed: int = 0


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InputError(name, f"must be one of {', '.join(allowed)}, got {value!r}")


def parse_target(name: str, text: str) -> tuple[str, float]:
    """('>=', 0.9) from a service target '>= 0.9' (operators >=, <=, >, <)."""
    found = re.fullmatch(r"\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*", str(text))
    if not found:
        raise InputError(name, f"expected a target like '>= 0.9' or '<= 7', got {text!r}")
    return found.group(1), float(found.group(2))


def _kpi(name: str, value: str) -> None:
    if value not in HEADLINE + MMC_EXTRA:
        raise InputError(name, f"unknown KPI {value!r}; known: {', '.join(HEADLINE + MMC_EXTRA)}")


def parse_session_pattern(sessions: List[str], key: str = "frequency.sessions") -> list[tuple[float, float]]:
    """Daily session pattern ['09:00-11:30', ...] as sorted, non-overlapping (start, end) minutes."""
    if not sessions:
        raise InputError(key, "needs at least one session 'HH:MM-HH:MM'")
    out = []
    for i, text in enumerate(sessions):
        name = f"{key}[{i}]"
        if text.count("-") != 1:
            raise InputError(name, f"expected 'HH:MM-HH:MM', got {text!r}")
        start, end = (parse_hhmm(name, part) for part in text.split("-"))
        if end <= start:
            raise InputError(name, f"ends before it starts: {text!r}")
        out.append((start, end))
    out.sort()
    for (_, e0), (s1, _) in zip(out, out[1:]):
        if s1 < e0:
            raise InputError(key, "sessions of the daily pattern overlap")
    return out


@dataclass(frozen=True)
class Bound:
    """The plausible range of a numeric setting: [low, high], low excluded if `open_low`; `why` the upper bound's reason."""

    low: float
    high: float
    open_low: bool = False
    integer: bool = False
    why: str = ""
    alternative: str = ""  # what else the setting accepts, said when it is too low (e.g. "or 'auto'")


MAX_REQUESTS = 50_000_000
"""Needs expected in one replication beyond which a run is refused (five national years; memory grows with them)."""

BOUNDS: Dict[str, Bound] = {
    "seed": Bound(0, 2**63 - 1, integer=True, why="numpy's SeedSequence takes non-negative integers"),
    "travel.detour_factor": Bound(1.0, 3.0, why="road distance is 1.2-1.4 x the straight line"),
    "travel.speed_kmh": Bound(0, 130, open_low=True, why="the motorway speed limit"),
    "demand.rate_per_1000_per_day": Bound(0, 100, open_low=True, why="the national average is 0.53"),
    "demand.uptake": Bound(0, 1, open_low=True, why="a share of the mature rate"),
    "demand.operator_share.*": Bound(0, 1, why="a share"),
    "demand.weekday_profile[*]": Bound(0, 100, why="relative weights of the days"),
    "demand.monthly_profile.*": Bound(0, 100, why="relative weights of the months"),
    "demand.uptake_mature": Bound(0, 1, open_low=True, why="a share of the mature rate"),
    "demand.ramp_months": Bound(0, 120, why="ten years"),
    "citizens.max_travel_min": Bound(0, 600, open_low=True, why="ten hours"),
    "citizens.horizon_days": Bound(0, 365, open_low=True, why="a year"),
    "citizens.front_loaded_shape": Bound(0, 1000, open_low=True),
    "citizens.appointment_share": Bound(0, 1, why="a share"),
    "citizens.slot_min": Bound(0, 1440, open_low=True, why="a day"),
    "citizens.patience_mean_min": Bound(0, 100_000, open_low=True),
    "citizens.p_return": Bound(0, 1, why="a probability"),
    "citizens.choice.weight_min_per_day": Bound(0, 10_000),
    "citizens.choice.logit_scale_min": Bound(0, 10_000, open_low=True),
    "service.median_min": Bound(0, 1440, open_low=True, why="a day"),
    "service.sigma": Bound(0, 5),
    "service.median_min_by_operator.*": Bound(0, 1440, open_low=True, why="a day"),
    "service.referred_share": Bound(0, 1, why="a share"),
    "staffing.agents": Bound(1, 100_000, integer=True),
    "staffing.workday_max_h": Bound(0, 24, open_low=True, why="a day"),
    "staffing.cost_per_agent_hour": Bound(0, 10_000),
    "staffing.cost_per_km": Bound(0, 100),
    "frequency.visits_per_site_per_week": Bound(0, 100, open_low=True),
    "frequency.working_days[*]": Bound(0, 6, integer=True, why="Monday = 0 to Sunday = 6"),
    "delivery.fixed.advisors": Bound(1, 1000, integer=True),
    "delivery.bus.cycle_weeks": Bound(1, 52, integer=True, why="a year"),
    "delivery.bus.buses": Bound(1, 10_000, integer=True),
    "delivery.bus.staff": Bound(1, 50, integer=True),
    "experiment.weeks": Bound(1, 520, integer=True, why="ten years"),
    "experiment.replications": Bound(1, 10_000, integer=True, alternative=" or 'auto'"),
    "experiment.n_jobs": Bound(-1, 1024, integer=True, why="-1 is every core"),
    "experiment.auto_precision": Bound(0, 1, open_low=True, why="a relative half-width"),
    "experiment.min_replications": Bound(2, 10_000, integer=True),
    "experiment.max_replications": Bound(2, 10_000, integer=True),
    "experiment.auto_look_ahead": Bound(0, 1000, integer=True),
    "experiment.cluster.timeout_min": Bound(1, 43_200, integer=True, why="30 days"),
    "experiment.cluster.cpus_per_task": Bound(1, 1024, integer=True),
    "experiment.cluster.mem_gb": Bound(0, 4096, open_low=True),
    "experiment.cluster.replications_per_job": Bound(1, 10_000, integer=True),
    "mmc.arrival_rate_per_hour": Bound(0, 100_000, open_low=True),
    "mmc.service_rate_per_hour": Bound(0, 100_000, open_low=True),
    "mmc.servers": Bound(1, 100_000, integer=True),
    "mmc.patience_rate_per_hour": Bound(0, 100_000),
    "mmc.hours": Bound(0, 10_000_000, open_low=True),
    "mmc.warmup_hours": Bound(0, 10_000_000),
    "sensitivity.trajectories": Bound(2, 1000, integer=True),
    "sensitivity.n": Bound(2, 100_000, integer=True),
    "sensitivity.levels": Bound(2, 100, integer=True),
    "sensitivity.bounds.*": Bound(-1e9, 1e9),
    "sensitivity.point": Bound(0, 10_000_000, integer=True),
}
"""Every numeric setting of the schema (`*` any key or index); tests/test_bad_inputs.py checks none is missing."""


def _bound_of(path: str) -> Bound | None:
    """The bound of a setting's dotted path, `*` standing for a key or an index."""
    if path in BOUNDS:
        return BOUNDS[path]
    generic = re.sub(r"\[\d+\]$", "[*]", path)
    if generic in BOUNDS:
        return BOUNDS[generic]
    if (hit := BOUNDS.get(path.rsplit(".", 1)[0] + ".*")) is not None:
        return hit
    return next((b for key, b in BOUNDS.items() if key.endswith(".*") and path.startswith(key[:-1])), None)


def numeric_settings(node: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted path, value) of every number in a configuration (dataclasses, dicts and lists walked)."""
    out: list[tuple[str, Any]] = []
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            out += numeric_settings(getattr(node, f.name), f"{prefix}{f.name}.")
    elif isinstance(node, dict):
        for key, value in node.items():
            out += numeric_settings(value, f"{prefix}{key}.")
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            out += numeric_settings(value, f"{prefix[:-1]}[{i}].")
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        out.append((prefix[:-1], node))
    return out


def check_number(path: str, value: float) -> None:
    """Refuse a setting that is not a finite number within its bound, naming the setting and the bound."""
    bound = _bound_of(path)
    if bound is None:
        raise InputError(path, "has no declared bound (sim.config.BOUNDS)")
    if not math.isfinite(value):
        raise InputError(path, f"must be a finite number, got {value}")
    if bound.integer and value != int(value):
        raise InputError(path, f"must be a whole number, got {value}")
    if (bound.low, bound.high, bound.open_low) == (0, 1, False) and not 0 <= value <= 1:
        raise InputError(path, f"must be a share in [0, 1], got {value:g}")
    low = f"> {bound.low:g}" if bound.open_low else f">= {bound.low:g}"
    if value < bound.low or (bound.open_low and value == bound.low):
        raise InputError(path, f"must be {low}{bound.alternative}, got {value:g}")
    if value > bound.high:
        why = f" ({bound.why})" if bound.why else ""
        raise InputError(path, f"must be at most {bound.high:g}{why}, got {value:g}")


SITE_CHOICE = re.compile(r"(best|cover):(\d+(?:\.\d+)?)|best")


def parse_site_choice(rule: str, field: str = "scenario.site_choice") -> tuple[str, float]:
    """('best', K) or ('cover', P) from 'best:K' or 'cover:P' ('best': K = 0, as many as the scenario has);
    InputError naming `field` otherwise."""
    match = SITE_CHOICE.fullmatch(str(rule))
    if match and match[0] == "best":
        return "best", 0.0
    if not match or (match[1] == "best" and ("." in match[2] or int(match[2]) < 1)):
        raise InputError(field, f"expected best, best:K (K >= 1 sites) or cover:P (P% of the population), got '{rule}'")
    if match[1] == "cover" and not 0 < float(match[2]) <= 100:
        raise InputError(field, f"cover:P needs a percentage in (0, 100], got {match[2]}")
    return match[1], float(match[2])


def validate(cfg: Config) -> None:
    """Check every number against its bound, then names, shares and consistency; raise `InputError` naming the
    first offending field."""
    for path, value in numeric_settings(cfg):
        check_number(path, value)
    _choice("scenario.kind", cfg.scenario.kind, ("territory", "mmc"))
    sens = cfg.sensitivity
    _choice("sensitivity.method", sens.method, ("morris", "sobol"))
    for name, pair in sens.bounds.items():
        if len(pair) != 2 or not pair[0] < pair[1]:
            raise InputError(f"sensitivity.bounds.{name}", f"needs [low, high] with low < high, got {list(pair)}")
        if _bound_of(name) is None:
            raise InputError(f"sensitivity.bounds.{name}", "is not a numeric setting of the configuration")
    if sens.point is not None and sens.point >= sens.points():
        raise InputError("sensitivity.point", f"must be below {sens.points()}, the design's points; sweep "
                                              f"sensitivity.point=range(0,{sens.points()})")
    if cfg.scenario.site_choice is not None:
        parse_site_choice(cfg.scenario.site_choice)
        if cfg.scenario.rota_file:
            raise InputError("scenario.site_choice", "cannot be combined with scenario.rota_file (a rota names its sites)")
    d = cfg.demand
    for op in d.operator_share:
        if op not in OPERATORS:
            raise InputError(f"demand.operator_share.{op}", f"unknown operator; known: {', '.join(OPERATORS)}")
    total = sum(d.operator_share.values())
    if abs(total - 1.0) > 1e-6:
        raise InputError("demand.operator_share", f"shares must add up to 1, got {total:.6g}")
    if len(d.weekday_profile) != 7:
        raise InputError("demand.weekday_profile", f"needs 7 values (Monday..Sunday), got {len(d.weekday_profile)}")
    if sum(d.weekday_profile) <= 0:
        raise InputError("demand.weekday_profile", "at least one day must have demand")
    for op, months in d.monthly_profile.items():
        if op not in OPERATORS:
            raise InputError(f"demand.monthly_profile.{op}", f"unknown operator; known: {', '.join(OPERATORS)}")
        if len(months) != 12 or sum(months) <= 0:
            raise InputError(f"demand.monthly_profile.{op}", f"needs 12 weights (January..December), not all 0, "
                                                             f"got {len(months)}")
    if d.ramp_months > 0 and d.uptake_mature is None:
        raise InputError("demand.uptake_mature", "needed with demand.ramp_months > 0 (the uptake it grows to)")
    try:
        start = date.fromisoformat(str(cfg.experiment.start_date))
    except ValueError:
        raise InputError("experiment.start_date", f"expected a date YYYY-MM-DD, got '{cfg.experiment.start_date}'") from None
    if not 1990 <= start.year <= 2100:
        raise InputError("experiment.start_date", f"must be between 1990 and 2100, got {start.isoformat()}")

    c = cfg.citizens
    for kind in ("walk_in", "booker"):
        _choice(f"citizens.choice.{kind}", getattr(c.choice, kind), tuple(RULES))
    _choice("citizens.arrival_profile", c.arrival_profile, ("front_loaded", "uniform"))

    s = cfg.service
    _choice("service.distribution", s.distribution, ("lognormal", "exponential"))
    for op in s.median_min_by_operator:
        if op not in OPERATORS:
            raise InputError(f"service.median_min_by_operator.{op}", f"unknown operator; known: {', '.join(OPERATORS)}")

    f = cfg.frequency
    parse_session_pattern(f.sessions)
    if not f.working_days:
        raise InputError("frequency.working_days", "needs at least one day (Monday = 0)")
    if len(set(f.working_days)) != len(f.working_days):
        raise InputError("frequency.working_days", f"must be distinct days 0..6 (Monday = 0), got {list(f.working_days)}")

    _validate_delivery(cfg)
    _validate_experiment(cfg)

    o = cfg.optimise
    _kpi("optimise.cost", o.cost)
    for kpi, text in o.targets.items():
        _kpi(f"optimise.targets.{kpi}", kpi)
        parse_target(f"optimise.targets.{kpi}", text)

    m = cfg.mmc
    if m.warmup_hours >= m.hours:
        raise InputError("mmc.warmup_hours", f"must be shorter than mmc.hours ({m.hours}), got {m.warmup_hours}")
    if cfg.scenario.kind == "mmc":
        if m.patience_rate_per_hour == 0 and m.arrival_rate_per_hour >= m.servers * m.service_rate_per_hour:
            raise InputError("mmc.arrival_rate_per_hour", "load >= servers without impatience: the queue grows without bound")
        expected = m.arrival_rate_per_hour * m.hours
        if expected > MAX_REQUESTS:
            raise InputError("mmc.hours", f"{m.arrival_rate_per_hour:g} arrivals an hour for {m.hours:g} hours is "
                             f"{expected:.3g} requests a replication, more than {MAX_REQUESTS:,}")


def _validate_experiment(cfg: Config) -> None:
    """Replications, their stopping rule and where they run."""
    e = cfg.experiment
    if isinstance(e.replications, str) and e.replications != "auto":
        raise InputError("experiment.replications", f"must be >= 1 or 'auto', got {e.replications!r}")
    if not e.auto_kpis:
        raise InputError("experiment.auto_kpis", "needs at least one KPI")
    for i, kpi in enumerate(e.auto_kpis):
        _kpi(f"experiment.auto_kpis[{i}]", kpi)
    if e.max_replications < e.min_replications:
        raise InputError("experiment.max_replications", f"must be >= experiment.min_replications ({e.min_replications}), got {e.max_replications}")
    if e.n_jobs == 0:
        raise InputError("experiment.n_jobs", f"must be >= 1, or -1 for all cores, got {e.n_jobs}")
    _choice("experiment.cluster.backend", e.cluster.backend, ("local", "slurm", "submitit_local"))
    if e.reference is not None and e.reference not in e.variants:
        raise InputError("experiment.reference", f"{e.reference!r} is not one of the variants ({', '.join(e.variants) or 'none'})")


def _validate_delivery(cfg: Config) -> None:
    """Check what every delivery mode shares; each mode checks its own settings (sim.build.delivery)."""
    _choice("delivery.planner", cfg.delivery.planner, ("optimal", "simple"))


def repo_root() -> Path:
    """The repository folder holding configs/ and scenarios/ (parent of the package)."""
    return Path(__file__).resolve().parent.parent

