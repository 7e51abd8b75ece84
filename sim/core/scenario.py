"""A scenario ready to simulate: territory, travel, rota, session index, demand and behaviour, as plain data.

Built once per run by `sim.build.scenario.build_scenario` from a validated configuration, shared by every
replication. Nothing here knows about the configuration: the build layer turns it into these fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np

from sim.core.choice import Rule, SessionIndex
from sim.core.demand import OPERATORS
from sim.core.rota import Rota
from sim.core.territory import Reach, Territory, TravelTimes


@dataclass(frozen=True)
class Citizens:
    """How citizens choose a session, book, arrive, wait and come back (the config's `citizens`)."""

    walk_in: Rule  # how a walk-in (and a citizen coming back) picks a session
    booker: Rule  # how a booker picks among the sessions with a free slot
    appointment_share: float
    slot_min: float
    arrival_profile: str  # front_loaded | uniform
    front_loaded_shape: float
    patience_mean_min: float
    p_return: float
    horizon_days: float  # from the need, over every visit


class QueueTheory(Protocol):
    """What the queueing-theory scenario (`sim.core.mmc`) does differently: its arrivals and its KPIs."""

    warmup_min: float

    def draw_plan(self, scenario: "Scenario", rng: dict[str, np.random.Generator]):
        """The plan of one replication (a `sim.core.plan.Plan`)."""

    def kpis(self, scenario: "Scenario", log, cols: dict[str, np.ndarray]) -> dict:
        """One replication's KPIs by scope (`sim.core.results.Kpis`), from its request columns."""


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
    demand_weights: np.ndarray  # (calendar groups, operators, days) weights of the daily rate (sim.core.demand)
    commune_group: np.ndarray  # calendar group of each commune (sim.core.calendar)
    days: int  # the analysed days: needs arise over them, agents' time and citizens seen are counted over them
    service_median_min: np.ndarray  # per operator
    service_sigma: float
    service_distribution: str  # lognormal | exponential
    referred_share: float
    citizens: Citizens
    cost_per_agent_hour: float
    cost_per_km: float
    operators: tuple[str, ...] = OPERATORS  # names of the operator codes of the requests
    day0: date | None = None  # the date of day 0 (a Monday); None for the queueing-theory scenario
    notes: tuple[str, ...] = ()  # what the user should know about how the inputs were read (printed by the CLI)
    queue: QueueTheory | None = None  # set for the queueing-theory scenario (sim.core.mmc)

    @property
    def warmup_min(self) -> float:
        """Requests arising earlier are left out of the KPIs (only the queueing-theory scenario has one)."""
        return self.queue.warmup_min if self.queue is not None else 0.0
