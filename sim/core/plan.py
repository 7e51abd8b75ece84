"""Everything about a replication's requests that does not interact, drawn before the event simulation.

Needs, service times, the share not resolved on the spot, patience, who books, the session each citizen
picks, booked slots and arrival times: all vectorised, one draw per request in need order on its own
stream (`sim.core.streams`), so two rotas see the same citizens making the same draws (common random
numbers); only what the draws lead to differs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.choice import appointment_slots, arrival_offsets, book, choose
from sim.core.demand import generate_needs, service_times
from sim.core.ledger import NO_SESSION, NO_SLOT
from sim.core.scenario import Scenario
from sim.core.streams import request_keys
from sim.core.units import DAY_MIN


@dataclass(frozen=True)
class Plan:
    """Per request, everything decided before the event simulation (indexed by request, need order)."""

    need_min: np.ndarray
    commune: np.ndarray
    operator: np.ndarray
    service_min: np.ndarray
    referred: np.ndarray  # bool: served but not resolved on the spot
    patience_min: np.ndarray  # inf: never leaves the queue
    booker: np.ndarray  # bool: asks for an appointment; holds a slot at `session` if that is not -1
    session: np.ndarray  # first session, -1: none (no session within reach, or no free slot)
    wanted: np.ndarray  # session chosen ignoring capacity (a booker with no slot wanted this one), -1: none
    arrival_min: np.ndarray  # arrival at that session's desk
    choice_key: np.ndarray  # uint64 per request: its tastes for sites (rule logit), on the `choice` stream
    return_key: np.ndarray  # uint64 per request: its decisions when turned away, on the `return` stream

    def first_outcome(self) -> np.ndarray:
        """Outcome of requests that never reach a desk: no_slot for a booker who found every session full,
        no_session when no session within reach falls in the horizon (the desk settles the others)."""
        return np.where(self.booker & (self.session < 0) & (self.wanted >= 0), NO_SLOT, NO_SESSION).astype(np.int8)


def draw_plan(scenario: Scenario, rng: dict[str, np.random.Generator]) -> Plan:
    """Draw a replication's needs and every per-request decision, vectorised."""
    if scenario.queue is not None:
        return scenario.queue.draw_plan(scenario, rng)
    c = scenario.citizens
    needs = generate_needs(scenario.rate_per_day, scenario.demand_weights, scenario.commune_group, rng["demand"])
    n = len(needs)
    service = service_times(needs.operator, scenario.service_median_min, scenario.service_sigma,
                            scenario.service_distribution, rng["service"])
    referred = rng["service"].random(n) < scenario.referred_share
    patience = rng["patience"].exponential(c.patience_mean_min, n)
    booker = rng["choice"].random(n) < c.appointment_share
    choice_key = request_keys(rng["choice"], n)
    return_key = request_keys(rng["return"], n)
    u = rng["arrival"].random(n)
    until = needs.time_min + c.horizon_days * DAY_MIN
    index, rota = scenario.index, scenario.rota

    session = np.full(n, -1, dtype=np.int32)
    arrival = np.full(n, np.nan)
    walk = np.flatnonzero(~booker)
    session[walk] = choose(index, c.walk_in, needs.commune[walk], needs.time_min[walk], until[walk], choice_key[walk])
    wanted = session.copy()
    go = walk[session[walk] >= 0]
    start, length = rota.session_start[session[go]], (rota.session_end - rota.session_start)[session[go]]
    arrival[go] = start + arrival_offsets(u[go], length, c.arrival_profile, c.front_loaded_shape)
    bk = np.flatnonzero(booker)
    if len(bk):
        first, times = appointment_slots(rota, c.slot_min)
        sess, rank = book(index, c.booker, needs.commune[bk], needs.time_min[bk], until[bk], np.diff(first),
                          choice_key[bk])
        got = sess >= 0
        session[bk[got]] = wanted[bk[got]] = sess[got]
        arrival[bk[got]] = times[first[sess[got]] + rank[got]]
        none = bk[~got]  # no free slot: which session would they have taken?
        wanted[none] = choose(index, c.booker, needs.commune[none], needs.time_min[none], until[none], choice_key[none])
    return Plan(needs.time_min, needs.commune, needs.operator, service, referred, patience, booker, session,
                wanted, arrival, choice_key, return_key)
