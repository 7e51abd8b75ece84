"""The event simulation: agents drive and hold sessions, citizens queue at the desk.

Everything that does not interact is drawn beforehand, vectorised (`draw_plan`): needs, the session each
citizen picks, booked slots, arrival times, service times, patience. SimPy then plays only what
interacts in time: agents leaving base, driving (a late agent opens late), serving the desk's queue
(appointments first, then walk-ins in arrival order), closing, and citizens turned away coming back.

Each desk is a FIFO queue that its agents pull from. Impatience is resolved when an agent takes the next
citizen: whoever has waited longer than their patience left at arrival + patience, which is exact for a
FIFO queue and needs no event per citizen. Outcomes go to preallocated columns indexed by request.
"""

from __future__ import annotations

import gc
from array import array
from collections import deque
from dataclasses import dataclass

import numpy as np
import simpy

from sim.choice import Rule, appointment_slots, arrival_offsets, book, choose, make_rule
from sim.demand import generate_needs, service_times
from sim.rota import DAY_MIN
from sim.scenario import Scenario
from sim.streams import keyed_uniform, request_keys, streams

OUTCOMES: tuple[str, ...] = ("served", "referred", "reneged", "turned_away", "gave_up", "no_session", "no_slot")
SERVED, REFERRED, RENEGED, TURNED_AWAY, GAVE_UP, NO_SESSION, NO_SLOT = range(len(OUTCOMES))
COME_BACK, ARRIVE = 0, 1  # purposes of a request's keyed draws on the `return` stream, per visit


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


def _rules(scenario: Scenario) -> tuple[Rule, Rule]:
    """(walk-in rule, booker rule) of the scenario's citizens."""
    ch = scenario.citizens.choice
    params = {"weight_min_per_day": ch.weight_min_per_day, "logit_scale_min": ch.logit_scale_min}
    return make_rule(ch.walk_in, **params), make_rule(ch.booker, **params)


def draw_plan(scenario: Scenario, rng: dict[str, np.random.Generator]) -> Plan:
    """Draw a replication's needs and every per-request decision, vectorised.

    Every draw is one per request in need order, on its own stream, so two rotas see the same citizens
    making the same draws (common random numbers); only what the draws lead to differs.
    """
    c = scenario.citizens
    if scenario.mmc is not None:
        m = scenario.mmc
        n = int(rng["demand"].poisson(m.arrival_rate_per_hour * m.hours))
        need = np.sort(rng["demand"].random(n)) * m.hours * 60.0
        service = rng["service"].exponential(60.0 / m.service_rate_per_hour, n)
        theta = m.patience_rate_per_hour
        patience = rng["patience"].exponential(60.0 / theta, n) if theta > 0 else np.full(n, np.inf)
        no = np.zeros(n, dtype=bool)
        zero = np.zeros(n, np.int32)
        keys = np.zeros(n, np.uint64)
        return Plan(need, zero, zero.astype(np.int8), service, no, patience, no, zero, zero, need.copy(), keys, keys)

    needs = generate_needs(scenario.rate_per_day, scenario.weekday_profile, scenario.demand_days, rng["demand"])
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
    walk_rule, book_rule = _rules(scenario)
    index, rota = scenario.index, scenario.rota

    session = np.full(n, -1, dtype=np.int32)
    arrival = np.full(n, np.nan)
    walk = np.flatnonzero(~booker)
    session[walk] = choose(index, walk_rule, needs.commune[walk], needs.time_min[walk], until[walk], choice_key[walk])
    wanted = session.copy()
    go = walk[session[walk] >= 0]
    start, length = rota.session_start[session[go]], (rota.session_end - rota.session_start)[session[go]]
    arrival[go] = start + arrival_offsets(u[go], length, c.arrival_profile, c.front_loaded_shape)
    bk = np.flatnonzero(booker)
    if len(bk):
        first, times = appointment_slots(rota, c.slot_min)
        sess, rank = book(index, book_rule, needs.commune[bk], needs.time_min[bk], until[bk], np.diff(first),
                          choice_key[bk])
        got = sess >= 0
        session[bk[got]] = wanted[bk[got]] = sess[got]
        arrival[bk[got]] = times[first[sess[got]] + rank[got]]
        none = bk[~got]  # no free slot: which session would they have taken?
        wanted[none] = choose(index, book_rule, needs.commune[none], needs.time_min[none], until[none], choice_key[none])
    return Plan(needs.time_min, needs.commune, needs.operator, service, referred, patience, booker, session,
                wanted, arrival, choice_key, return_key)


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


class _Desk:
    """One session's desk: waiting lines and the agents' wake-up event."""

    __slots__ = ("appts", "walkins", "wakeup", "closed", "end", "idle")

    def __init__(self, end: float) -> None:
        self.appts: deque[int] = deque()
        self.walkins: deque[int] = deque()
        self.wakeup: simpy.Event | None = None
        self.closed = False
        self.end = end
        self.idle = 0


def _compact(values: np.ndarray, code: str) -> array:
    """`values` as a Python array of type `code`: element access as cheap as a list's, 1-8 bytes each."""
    out = array(code)
    out.frombytes(np.ascontiguousarray(values, dtype=np.dtype(code)).tobytes())
    return out


def first_outcome(plan: Plan) -> np.ndarray:
    """Outcome of requests that never reach a desk: no_slot for a booker who found every session full,
    no_session when no session within reach falls in the horizon (the desk overwrites the others)."""
    return np.where(plan.booker & (plan.session < 0) & (plan.wanted >= 0), NO_SLOT, NO_SESSION).astype(np.int8)


def simulate(scenario: Scenario, plan: Plan) -> ReplicationLog:
    """Play one replication's plan through the agents' rota and the desks; return its columns."""
    rota = scenario.rota
    env = simpy.Environment()
    n = len(plan.need_min)
    c = scenario.citizens
    walk_rule, _ = _rules(scenario)

    # Hot-path state, per request and per rota row, as Python arrays: element access is several times
    # cheaper than on numpy arrays, and unlike lists they hold raw values (8 bytes a float or an index,
    # not a pointer plus a 24-32 byte object).
    session = _compact(plan.session, "i")
    arrival = _compact(plan.arrival_min, "d")
    service = _compact(plan.service_min, "d")
    deadline = _compact(plan.arrival_min + plan.patience_min, "d")  # reneges if still waiting after this
    appt = _compact(plan.booker & (plan.session >= 0), "b")  # holds a slot; a return comes as a walk-in
    referred = _compact(plan.referred, "b")
    nan = float("nan")
    start = array("d", [nan]) * n
    end = array("d", [nan]) * n
    outcome = _compact(first_outcome(plan), "b")
    visits = _compact(plan.session >= 0, "h")
    turned = array("h", [0]) * n
    earlier_wait = array("d", [0.0]) * n
    until = plan.need_min + c.horizon_days * DAY_MIN  # the horizon counts from the need, over every visit

    # A session's desk exists from its first arrival or opening until it closes: few are open at once.
    session_end = _compact(rota.session_end, "d")
    desks: dict[int, _Desk] = {}
    is_closed = bytearray(rota.n_sessions)
    n_rows = len(rota.row_agent)
    opened = array("d", [nan]) * n_rows
    left = array("d", [nan]) * n_rows
    serving = array("d", [0.0]) * n_rows

    def desk_of(s: int) -> _Desk:
        desk = desks.get(s)
        if desk is None:
            desk = _Desk(session_end[s])
            if is_closed[s]:
                desk.closed = True  # an agent arriving after closing time finds it closed
            else:
                desks[s] = desk
        return desk

    def arrive(i: int) -> None:
        desk = desk_of(session[i])
        (desk.appts if appt[i] else desk.walkins).append(i)
        if desk.idle and desk.wakeup is not None and not desk.wakeup.triggered:
            desk.wakeup.succeed()

    def next_citizen(desk: _Desk, now: float) -> int:
        if desk.appts:
            return desk.appts.popleft()
        q = desk.walkins
        while q:
            i = q.popleft()
            if deadline[i] < now:
                outcome[i] = RENEGED
                continue
            return i
        return -1

    def close(s: int) -> None:
        is_closed[s] = 1
        desk = desks.pop(s, None)
        if desk is None:
            return
        desk.closed = True
        now = desk.end
        away: list[int] = list(desk.appts)
        for i in desk.walkins:
            if deadline[i] < now:
                outcome[i] = RENEGED
            else:
                away.append(i)
        desk.appts.clear()
        desk.walkins.clear()
        if desk.wakeup is not None and not desk.wakeup.triggered:
            desk.wakeup.succeed()
        if away:
            come_back(np.array(away, dtype=np.int64), now)

    def come_back(away: np.ndarray, now: float) -> None:
        # Each request's own numbers for this visit: the same whatever closes when (common random numbers).
        visit = np.array([visits[i] for i in away.tolist()], dtype=np.int64)
        for i in away.tolist():
            turned[i] += 1
        back = keyed_uniform(plan.return_key[away], visit, COME_BACK) < c.p_return
        for i in away[~back].tolist():
            outcome[i] = GAVE_UP
        away, visit = away[back], visit[back]
        if not len(away):
            return
        nxt = choose(scenario.index, walk_rule, plan.commune[away], np.full(len(away), now), until[away],
                     plan.choice_key[away])
        ok = nxt >= 0
        for i in away[~ok].tolist():
            outcome[i] = TURNED_AWAY
        away, nxt, visit = away[ok], nxt[ok], visit[ok]
        s0 = rota.session_start[nxt]
        t = s0 + arrival_offsets(keyed_uniform(plan.return_key[away], visit, ARRIVE), rota.session_end[nxt] - s0,
                                 c.arrival_profile, c.front_loaded_shape)
        for i, s, ti in zip(away.tolist(), nxt.tolist(), t.tolist()):
            earlier_wait[i] += now - arrival[i]
            session[i] = s
            arrival[i] = ti
            deadline[i] = ti + float(plan.patience_min[i])
            appt[i] = False  # comes back as a walk-in
            visits[i] += 1
            env.timeout(ti - now).callbacks.append(lambda _e, i=i: arrive(i))

    def closer(order: array):
        for s in order:
            e = session_end[s]
            if e > env.now:
                yield env.timeout(e - env.now)
            close(s)

    closing = np.argsort(rota.session_end, kind="stable")
    env.process(closer(_compact(closing[np.isfinite(rota.session_end[closing])], "q")))

    def feeder(order: array):
        for i in order:
            t = arrival[i]
            if t > env.now:
                yield env.timeout(t - env.now)
            arrive(i)

    first = np.flatnonzero(plan.session >= 0)
    first = first[np.argsort(plan.arrival_min[first], kind="stable")]
    env.process(feeder(_compact(first, "q")))

    drive_before = _compact(scenario.drive_before_min, "d")
    drive_after = _compact(scenario.drive_after_min, "d")
    row_session = _compact(rota.row_session, "i")
    row_start = _compact(rota.row_start, "d")
    row_end = _compact(rota.row_end, "d")

    def agent(rows: array):
        for r in rows:
            s = row_session[r]
            depart = row_start[r] - drive_before[r]
            if depart > env.now:
                yield env.timeout(depart - env.now)
            if drive_before[r] > 0:
                yield env.timeout(drive_before[r])
            opened[r] = env.now
            busy = 0.0
            desk = desk_of(s)
            mine = row_end[r]  # this agent leaves then (after the citizen in service); the desk may stay open
            while not desk.closed and env.now < mine:
                i = next_citizen(desk, env.now)
                if i < 0:
                    if desk.wakeup is None or desk.wakeup.triggered:
                        desk.wakeup = env.event()
                    desk.idle += 1
                    yield desk.wakeup if mine >= desk.end else desk.wakeup | env.timeout(mine - env.now)
                    desk.idle -= 1
                    continue
                start[i] = env.now
                yield env.timeout(service[i])
                end[i] = env.now
                busy += service[i]
                outcome[i] = REFERRED if referred[i] else SERVED
            serving[r] = busy
            left[r] = env.now
            if drive_after[r] > 0:
                yield env.timeout(drive_after[r])

    by_agent = np.argsort(rota.row_agent, kind="stable")  # each agent's rows in rota order
    bounds = np.searchsorted(rota.row_agent[by_agent], np.arange(len(rota.agent_names) + 1))
    agent_rows = _compact(by_agent, "q")
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        if hi > lo:
            env.process(agent(agent_rows[lo:hi]))
    # The run allocates millions of short-lived events and few reference cycles: pausing the cyclic
    # garbage collector saves it from rescanning them (a third of the run time on large scenarios).
    collecting = gc.isenabled()
    gc.disable()
    try:
        env.run()
    finally:
        if collecting:
            gc.enable()

    column = np.frombuffer  # the arrays' own memory, no copy
    return ReplicationLog(
        plan=plan,
        session=column(session, dtype=np.int32),
        arrival_min=column(arrival, dtype=float),
        service_start_min=column(start, dtype=float),
        service_end_min=column(end, dtype=float),
        outcome=column(outcome, dtype=np.int8),
        visits=column(visits, dtype=np.int16),
        turned_away_visits=column(turned, dtype=np.int16),
        earlier_wait_min=column(earlier_wait, dtype=float),
        opened_min=column(opened, dtype=float),
        left_min=column(left, dtype=float),
        serving_min=column(serving, dtype=float),
    )


def run_replication(scenario: Scenario, seed: int, replication: int) -> ReplicationLog:
    """Draw and simulate one replication with its own random streams."""
    return simulate(scenario, draw_plan(scenario, streams(seed, replication)))
