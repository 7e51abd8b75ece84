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

from sim.citizens import arrival_offsets, book_appointments
from sim.demand import Needs, generate_needs, service_times
from sim.scenario import Scenario

OUTCOMES: tuple[str, ...] = ("served", "referred", "reneged", "turned_away", "gave_up", "no_session")
SERVED, REFERRED, RENEGED, TURNED_AWAY, GAVE_UP, NO_SESSION = range(len(OUTCOMES))
STREAMS: tuple[str, ...] = ("demand", "choice", "arrival", "service", "patience", "return")


def streams(seed: int, replication: int) -> dict[str, np.random.Generator]:
    """One independent generator per source of randomness, fixed by (seed, replication, source).

    Two scenarios run with the same seed draw the same needs, service times and patience for the
    same replication: common random numbers.
    """
    return {
        name: np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(replication, k))))
        for k, name in enumerate(STREAMS)
    }


@dataclass(frozen=True)
class Plan:
    """Per request, everything decided before the event simulation (indexed by request, need order)."""

    need_min: np.ndarray
    commune: np.ndarray
    operator: np.ndarray
    service_min: np.ndarray
    referred: np.ndarray  # bool: served but not resolved on the spot
    patience_min: np.ndarray  # inf: never leaves the queue
    appointment: np.ndarray  # bool
    session: np.ndarray  # first session, -1: none reachable
    arrival_min: np.ndarray  # arrival at that session's desk


def draw_plan(scenario: Scenario, rng: dict[str, np.random.Generator]) -> Plan:
    """Draw a replication's needs and every per-request decision, vectorised."""
    c = scenario.citizens
    if scenario.mmc is not None:
        m = scenario.mmc
        n = int(rng["demand"].poisson(m.arrival_rate_per_hour * m.hours))
        need = np.sort(rng["demand"].random(n)) * m.hours * 60.0
        needs = Needs(time_min=need, commune=np.zeros(n, np.int32), operator=np.zeros(n, np.int8))
        service = rng["service"].exponential(60.0 / m.service_rate_per_hour, n)
        referred = np.zeros(n, dtype=bool)
        theta = m.patience_rate_per_hour
        patience = rng["patience"].exponential(60.0 / theta, n) if theta > 0 else np.full(n, np.inf)
        return Plan(need, needs.commune, needs.operator, service, referred, patience,
                    np.zeros(n, dtype=bool), np.zeros(n, np.int32), need.copy())

    needs = generate_needs(scenario.rate_per_day, scenario.weekday_profile, scenario.demand_days, rng["demand"])
    n = len(needs)
    service = service_times(needs.operator, scenario.service_median_min, scenario.service_sigma,
                            scenario.service_distribution, rng["service"])
    referred = rng["service"].random(n) < scenario.referred_share
    patience = rng["patience"].exponential(c.patience_mean_min, n)
    horizon = c.horizon_days * 1440.0
    session = scenario.finder.next_session(needs.commune, needs.time_min, horizon)
    appointment = (rng["choice"].random(n) < c.appointment_share) & (session >= 0)
    rota = scenario.rota
    u = rng["arrival"].random(n)
    ok = session >= 0
    arrival = np.full(n, np.nan)
    start, length = rota.session_start[session[ok]], (rota.session_end - rota.session_start)[session[ok]]
    arrival[ok] = start + arrival_offsets(u[ok], length, c.arrival_profile, c.front_loaded_shape)
    if appointment.any():
        booker = np.flatnonzero(appointment)
        sess, slot = book_appointments(scenario.finder, rota, needs.commune[booker], needs.time_min[booker],
                                       session[booker], c.slot_min, horizon)
        session[booker] = sess
        arrival[booker] = slot
        appointment[booker[sess < 0]] = False
    return Plan(needs.time_min, needs.commune, needs.operator, service, referred, patience, appointment, session, arrival)


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


def simulate(scenario: Scenario, plan: Plan, rng_return: np.random.Generator) -> ReplicationLog:
    """Play one replication's plan through the agents' rota and the desks; return its columns."""
    rota = scenario.rota
    env = simpy.Environment()
    n = len(plan.need_min)
    c = scenario.citizens

    # Hot-path state, per request and per rota row, as Python arrays: element access is several times
    # cheaper than on numpy arrays, and unlike lists they hold raw values (8 bytes a float or an index,
    # not a pointer plus a 24-32 byte object).
    session = _compact(plan.session, "i")
    arrival = _compact(plan.arrival_min, "d")
    service = _compact(plan.service_min, "d")
    deadline = _compact(plan.arrival_min + plan.patience_min, "d")  # reneges if still waiting after this
    appt = _compact(plan.appointment, "b")
    referred = _compact(plan.referred, "b")
    nan = float("nan")
    start = array("d", [nan]) * n
    end = array("d", [nan]) * n
    outcome = array("b", [NO_SESSION]) * n
    visits = _compact(plan.session >= 0, "h")
    turned = array("h", [0]) * n

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
        for i in away.tolist():
            turned[i] += 1
        back = away[rng_return.random(len(away)) < c.p_return]
        for i in np.setdiff1d(away, back).tolist():
            outcome[i] = GAVE_UP
        if not len(back):
            return
        nxt = scenario.finder.next_session(plan.commune[back], np.full(len(back), now), c.horizon_days * 1440.0)
        u = rng_return.random(len(back))
        for i, s, ui in zip(back.tolist(), nxt.tolist(), u.tolist()):
            if s < 0:
                outcome[i] = TURNED_AWAY
                continue
            s0, s1 = float(rota.session_start[s]), float(rota.session_end[s])
            t = s0 + float(arrival_offsets(np.array([ui]), np.array([s1 - s0]), c.arrival_profile, c.front_loaded_shape)[0])
            session[i] = s
            arrival[i] = t
            deadline[i] = t + float(plan.patience_min[i])
            appt[i] = False  # comes back as a walk-in
            visits[i] += 1
            env.timeout(t - now).callbacks.append(lambda _e, i=i: arrive(i))

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
    session_start = _compact(rota.session_start, "d")

    def agent(rows: array):
        for r in rows:
            s = row_session[r]
            depart = session_start[s] - drive_before[r]
            if depart > env.now:
                yield env.timeout(depart - env.now)
            if drive_before[r] > 0:
                yield env.timeout(drive_before[r])
            opened[r] = env.now
            busy = 0.0
            desk = desk_of(s)
            while not desk.closed:
                i = next_citizen(desk, env.now)
                if i < 0:
                    if desk.wakeup is None or desk.wakeup.triggered:
                        desk.wakeup = env.event()
                    desk.idle += 1
                    yield desk.wakeup
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
        opened_min=column(opened, dtype=float),
        left_min=column(left, dtype=float),
        serving_min=column(serving, dtype=float),
    )


def run_replication(scenario: Scenario, seed: int, replication: int) -> ReplicationLog:
    """Draw and simulate one replication with its own random streams."""
    rng = streams(seed, replication)
    return simulate(scenario, draw_plan(scenario, rng), rng["return"])
