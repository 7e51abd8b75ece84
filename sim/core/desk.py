"""The desk of a session: one queue that every agent present pulls from, and the desks of a replication.

A session is one opening of one site's desk (the agents' hours there that overlap or touch). Its citizens
wait in two lines: appointment holders, served first at or after their slot, and walk-ins in arrival order.
A walk-in leaves when they have waited longer than their patience; that is settled when an agent takes the
next citizen (whoever's deadline has passed left at arrival + patience), which is exact for a FIFO line and
needs no event per citizen. At closing time, whoever still waits is turned away.
"""

from __future__ import annotations

from collections import deque

import simpy

from sim.core.ledger import RENEGED, Ledger, compact
from sim.core.rota import Rota


class Desk:
    """One session's desk: its two lines, its closing time, and the event that wakes its idle agents."""

    __slots__ = ("appts", "walkins", "wakeup", "closed", "end", "idle", "deadline", "outcome")

    def __init__(self, end: float, ledger: Ledger, closed: bool = False) -> None:
        self.appts: deque[int] = deque()
        self.walkins: deque[int] = deque()
        self.wakeup: simpy.Event | None = None
        self.closed = closed
        self.end = end  # closing time: the end of the last agent's hours
        self.idle = 0  # agents waiting for a citizen
        self.deadline, self.outcome = ledger.deadline, ledger.outcome

    def join(self, i: int, booked: bool) -> None:
        """Citizen i arrives; an idle agent is woken."""
        (self.appts if booked else self.walkins).append(i)
        if self.idle and self.wakeup is not None and not self.wakeup.triggered:
            self.wakeup.succeed()

    def next_citizen(self, now: float) -> int:
        """The next citizen to serve (-1 if none): an appointment, else the first walk-in still there."""
        if self.appts:
            return self.appts.popleft()
        q, deadline = self.walkins, self.deadline
        while q:
            i = q.popleft()
            if deadline[i] < now:
                self.outcome[i] = RENEGED
                continue
            return i
        return -1

    def wait(self, env: simpy.Environment) -> simpy.Event:
        """The event an idle agent waits on: the next arrival, or closing."""
        if self.wakeup is None or self.wakeup.triggered:
            self.wakeup = env.event()
        return self.wakeup

    def close(self) -> list[int]:
        """Close at `end`: walk-ins out of patience have left; return the others still waiting, turned away."""
        self.closed = True
        deadline, outcome, now = self.deadline, self.outcome, self.end
        away = list(self.appts)
        for i in self.walkins:
            if deadline[i] < now:
                outcome[i] = RENEGED
            else:
                away.append(i)
        self.appts.clear()
        self.walkins.clear()
        if self.wakeup is not None and not self.wakeup.triggered:
            self.wakeup.succeed()
        return away


class Desks:
    """The desks of one replication: a session's desk exists from its first arrival or opening to its closing."""

    __slots__ = ("open", "is_closed", "end", "ledger", "session", "booked")

    def __init__(self, rota: Rota, ledger: Ledger) -> None:
        self.open: dict[int, Desk] = {}
        self.is_closed = bytearray(rota.n_sessions)
        self.end = compact(rota.session_end, "d")
        self.ledger = ledger
        self.session, self.booked = ledger.session, ledger.booked

    def of(self, s: int) -> Desk:
        """Session s's desk; after closing time, a closed one (an agent arriving late finds it closed)."""
        desk = self.open.get(s)
        if desk is None:
            desk = Desk(self.end[s], self.ledger, closed=bool(self.is_closed[s]))
            if not desk.closed:
                self.open[s] = desk
        return desk

    def arrive(self, i: int) -> None:
        """Citizen i reaches the desk of their current session."""
        s = self.session[i]
        (self.open.get(s) or self.of(s)).join(i, self.booked[i])

    def close(self, s: int) -> list[int]:
        """Close session s; the citizens turned away."""
        self.is_closed[s] = 1
        desk = self.open.pop(s, None)
        return desk.close() if desk is not None else []
