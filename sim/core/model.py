"""The event simulation of one replication: agents drive and hold sessions, citizens queue at the desk.

Everything that does not interact is drawn beforehand (`sim.core.plan`). SimPy then plays only what
interacts in time: agents leaving base and driving (`sim.core.agent`; a late agent opens late), the desks
and their queues (`sim.core.desk`: appointments first, then walk-ins in arrival order, reneging), closings,
and citizens turned away coming back (`sim.core.returns`). Citizens are not SimPy processes: one process
feeds their arrivals and one closes the desks in end order. Outcomes go to the `Ledger`'s columns.
"""

from __future__ import annotations

import gc
from array import array
from dataclasses import dataclass

import numpy as np
import simpy

from sim.core.agent import Agents
from sim.core.desk import Desks
from sim.core.ledger import Ledger, compact
from sim.core.plan import Plan, draw_plan
from sim.core.returns import Returns
from sim.core.scenario import Scenario
from sim.core.streams import streams


@dataclass(frozen=True)
class ReplicationLog:
    """Columns of one replication: per request, and per rota row (an agent's session)."""

    plan: Plan
    session: np.ndarray  # session of the last visit, -1: none
    arrival_min: np.ndarray  # arrival at the desk on the last visit
    service_start_min: np.ndarray
    service_end_min: np.ndarray
    outcome: np.ndarray  # int8 index into OUTCOMES
    visits: np.ndarray  # int16, desk visits (turned away and back counts 2)
    turned_away_visits: np.ndarray  # int16, visits that ended turned away at closing
    earlier_wait_min: np.ndarray  # queue wait of the visits before the last (turned away, then back)
    opened_min: np.ndarray  # per rota row: when the agent opened the desk
    left_min: np.ndarray  # per rota row: when the agent left (after the last citizen)
    serving_min: np.ndarray  # per rota row: minutes spent serving


def simulate(scenario: Scenario, plan: Plan) -> ReplicationLog:
    """Play one replication's plan through the agents' rota and the desks; return its columns."""
    rota = scenario.rota
    env = simpy.Environment()
    ledger = Ledger(plan.session, plan.arrival_min, plan.service_min, plan.patience_min,
                    plan.booker & (plan.session >= 0), plan.referred, plan.first_outcome())
    desks = Desks(rota, ledger)
    returns = Returns(env, scenario, plan, ledger, desks)
    agents = Agents(env, scenario, desks, ledger)

    closing = np.argsort(rota.session_end, kind="stable")
    env.process(_closer(env, desks, returns, compact(closing[np.isfinite(rota.session_end[closing])], "q")))
    first = np.flatnonzero(plan.session >= 0)
    env.process(_feeder(env, desks, first[np.argsort(plan.arrival_min[first], kind="stable")]))
    by_agent = np.argsort(rota.row_agent, kind="stable")  # each agent's rows in rota order
    bounds = np.searchsorted(rota.row_agent[by_agent], np.arange(len(rota.agent_names) + 1))
    rows = compact(by_agent, "q")
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        if hi > lo:
            env.process(agents.work(rows[lo:hi]))
    # The run allocates millions of short-lived events and few reference cycles: pausing the cyclic
    # garbage collector saves it from rescanning them (a third of the run time on large scenarios).
    collecting = gc.isenabled()
    gc.disable()
    try:
        env.run()
    finally:
        if collecting:
            gc.enable()

    col = ledger.columns()
    column = np.frombuffer  # the arrays' own memory, no copy
    return ReplicationLog(
        plan=plan, session=col["session"], arrival_min=col["arrival"], service_start_min=col["start"],
        service_end_min=col["end"], outcome=col["outcome"], visits=col["visits"], turned_away_visits=col["turned"],
        earlier_wait_min=col["earlier_wait"], opened_min=column(agents.opened, dtype=float),
        left_min=column(agents.left, dtype=float), serving_min=column(agents.serving, dtype=float),
    )


def _closer(env: simpy.Environment, desks: Desks, returns: Returns, order: array):
    """Close the sessions in end order; send those turned away to `returns`."""
    for s in order:
        e = desks.end[s]
        if e > env.now:
            yield env.timeout(e - env.now)
        returns.turned_away(desks.close(s), e)


def _feeder(env: simpy.Environment, desks: Desks, order: np.ndarray):
    """Bring each citizen's first visit to the desk at its arrival time."""
    arrival = desks.ledger.arrival
    for i in compact(order, "q"):
        t = arrival[i]
        if t > env.now:
            yield env.timeout(t - env.now)
        desks.arrive(i)


def run_replication(scenario: Scenario, seed: int, replication: int) -> ReplicationLog:
    """Draw and simulate one replication with its own random streams."""
    return simulate(scenario, draw_plan(scenario, streams(seed, replication)))
