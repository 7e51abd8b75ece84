"""The agents: each works through its rota rows, driving, opening the desk, serving, and leaving.

For each row (one agent at one session) an agent leaves the base or the previous site just in time to
arrive at the start, drives the travel time (a drive after a long last citizen makes it open late), opens,
serves the desk's next citizen until the end of its own hours (finishing the citizen in service), then
leaves. Another agent's hours may keep the desk open after it leaves. Per row it records when it opened,
when it left and how long it served.
"""

from __future__ import annotations

from array import array

import simpy

from sim.core.desk import Desks
from sim.core.ledger import REFERRED, SERVED, Ledger, compact
from sim.core.scenario import Scenario


class Agents:
    """The agents of one replication, and what each row of the rota came to."""

    __slots__ = ("env", "desks", "ledger", "session", "row_start", "row_end", "drive_before", "drive_after",
                 "opened", "left", "serving")

    def __init__(self, env: simpy.Environment, scenario: Scenario, desks: Desks, ledger: Ledger) -> None:
        rota = scenario.rota
        self.env, self.desks, self.ledger = env, desks, ledger
        self.session = compact(rota.row_session, "i")
        self.row_start = compact(rota.row_start, "d")
        self.row_end = compact(rota.row_end, "d")
        self.drive_before = compact(scenario.drive_before_min, "d")
        self.drive_after = compact(scenario.drive_after_min, "d")
        n = len(rota.row_agent)
        nan = float("nan")
        self.opened = array("d", [nan]) * n  # when the agent opened the desk
        self.left = array("d", [nan]) * n  # when the agent left, after the last citizen
        self.serving = array("d", [0.0]) * n  # minutes spent serving

    def work(self, rows: array):
        """The process of one agent through its rows, in time order."""
        env = self.env
        for r in rows:
            depart = self.row_start[r] - self.drive_before[r]
            if depart > env.now:
                yield env.timeout(depart - env.now)
            if self.drive_before[r] > 0:
                yield env.timeout(self.drive_before[r])
            self.opened[r] = env.now
            yield from self._serve(r)
            self.left[r] = env.now
            if self.drive_after[r] > 0:
                yield env.timeout(self.drive_after[r])

    def _serve(self, r: int):
        """Serve the desk of row r until the agent's hours end (the citizen in service is finished) or it closes."""
        env, ledger = self.env, self.ledger
        start, end, service, outcome, referred = ledger.start, ledger.end, ledger.service, ledger.outcome, ledger.referred
        timeout = env.timeout
        desk = self.desks.of(self.session[r])
        mine = self.row_end[r]
        busy = 0.0
        while not desk.closed and env.now < mine:
            i = desk.next_citizen(env.now)
            if i < 0:
                desk.idle += 1
                wakeup = desk.wait(env)
                yield wakeup if mine >= desk.end else wakeup | env.timeout(mine - env.now)
                desk.idle -= 1
                continue
            start[i] = env.now
            yield timeout(service[i])
            end[i] = env.now
            busy += service[i]
            outcome[i] = REFERRED if referred[i] else SERVED
        self.serving[r] = busy
