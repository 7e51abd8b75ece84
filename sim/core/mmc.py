"""The queueing-theory scenario (`scenario=mmc`): one always-open desk with C agents, checked against Erlang.

Everything it does differently from a territory sits here: its one-commune, one-desk scenario, its
arrivals (a Poisson process over `hours`, exponential service, exponential patience or none, no
appointments, each citizen at the desk when the need arises) and its KPIs (over the requests after a
warm-up, plus the share who waited, the share who abandoned and the mean wait of all arrivals). The desk,
the agents and the request table are the same code as a territory's: that is what the check validates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.choice import SessionIndex
from sim.core.ledger import RENEGED
from sim.core.plan import Plan
from sim.core.results import Kpis, ScopeKpis, request_metrics
from sim.core.rota import Rota
from sim.core.scenario import Citizens, Scenario
from sim.core.territory import Reach, Territory, TravelTimes


@dataclass(frozen=True)
class QueueCheck:
    """An M/M/C (+M) queue: arrival, service and patience rates per hour, servers, length and warm-up."""

    arrival_rate_per_hour: float
    service_rate_per_hour: float
    servers: int
    patience_rate_per_hour: float  # 0: nobody abandons (Erlang C); > 0: Erlang A
    hours: float
    warmup_hours: float

    @property
    def warmup_min(self) -> float:
        """Requests arising earlier are left out of the KPIs."""
        return self.warmup_hours * 60.0

    def scenario(self, citizens: Citizens, cost_per_agent_hour: float, cost_per_km: float) -> Scenario:
        """One commune, one desk open from 0 for ever, staffed by `servers` agents who never drive."""
        c = self.servers
        z = np.zeros(1)
        territory = Territory(
            name="mmc", commune_insee=np.array(["00000"]), commune_name=np.array(["queue"]), population=np.ones(1),
            commune_lat=z, commune_lon=z, site_id=np.array(["desk"]), site_name=np.array(["desk"]),
            site_commune=np.zeros(1, np.int32), site_venue=np.array(["mairie"]), site_lat=z, site_lon=z,
            base_name="desk", base_lat=0.0, base_lon=0.0,
        )
        rota = Rota(
            agent_names=tuple(f"agent{a + 1}" for a in range(c)), session_site=np.zeros(1, np.int32),
            session_start=np.zeros(1), session_end=np.full(1, np.inf), row_agent=np.arange(c, dtype=np.int32),
            row_session=np.zeros(c, np.int32), row_start=np.zeros(c), row_end=np.full(c, np.inf),
        )
        reach = Reach(sites=np.zeros((1, 1), np.int32), travel_min=np.zeros((1, 1)))
        zeros = np.zeros(c)
        return Scenario(
            name="mmc", territory=territory, travel=TravelTimes(np.zeros((2, 2)), np.zeros((2, 2))), rota=rota,
            reach=reach, index=SessionIndex.build(rota, reach), drive_before_min=zeros, km_before=zeros,
            drive_after_min=zeros, km_after=zeros, rate_per_day=np.zeros((1, 1)),
            demand_weights=np.zeros((1, 1, 0)), commune_group=np.zeros(1, np.int8),
            days=0, service_median_min=np.ones(1), service_sigma=0.0, service_distribution="exponential",
            referred_share=0.0, citizens=citizens, cost_per_agent_hour=cost_per_agent_hour, cost_per_km=cost_per_km,
            operators=("mmc",), queue=self,
        )

    def draw_plan(self, scenario: Scenario, rng: dict[str, np.random.Generator]) -> Plan:
        """Poisson arrivals over the whole length, each at the desk when its need arises."""
        n = int(rng["demand"].poisson(self.arrival_rate_per_hour * self.hours))
        need = np.sort(rng["demand"].random(n)) * self.hours * 60.0
        service = rng["service"].exponential(60.0 / self.service_rate_per_hour, n)
        theta = self.patience_rate_per_hour
        patience = rng["patience"].exponential(60.0 / theta, n) if theta > 0 else np.full(n, np.inf)
        no = np.zeros(n, dtype=bool)
        zero = np.zeros(n, np.int32)
        keys = np.zeros(n, np.uint64)
        return Plan(need, zero, zero.astype(np.int8), service, no, patience, no, zero, zero, need.copy(), keys, keys)

    def kpis(self, scenario: Scenario, log, cols: dict[str, np.ndarray]) -> Kpis:
        """KPIs over the requests arising after the warm-up, with P(wait), abandonment and utilisation."""
        after = cols["need_min"] >= self.warmup_min
        cols = {name: values[after] for name, values in cols.items()}
        n = int(after.sum())
        m = request_metrics(scenario, cols, np.zeros(n, dtype=np.int64), 1)
        m.pop("seen_in_window")
        wait = cols["queue_wait_min"]
        m["p_wait"] = np.array([np.mean(wait > 0) if n else np.nan])
        m["abandon_share"] = np.array([np.mean(cols["outcome"] == RENEGED) if n else np.nan])
        m["queue_wait_all_min_mean"] = np.array([np.mean(wait) if n else np.nan])
        t0, t1 = self.warmup_min, self.hours * 60.0
        busy = np.nansum(np.clip(log.service_end_min, t0, t1) - np.clip(log.service_start_min, t0, t1))
        m["agent_utilisation"] = np.array([busy / (self.servers * (t1 - t0))])
        return {"overall": ScopeKpis.of(["all"], m)}
