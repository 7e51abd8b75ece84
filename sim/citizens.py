"""How citizens pick a session, book a slot and time their arrival: decided vectorised, before the run.

The rota is known in advance, so every need's first session can be chosen with array searches: for each
site the citizen can reach, the first session starting at or after the moment the need arises; the
earliest day wins and, among sessions on that day, the nearest site. Only the desk, where citizens
interact, is left to the event simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.rota import DAY_MIN, Rota
from sim.territory import Reach

CHUNK = 1 << 20  # needs per block, bounding the (needs x reachable sites) temporaries


@dataclass(frozen=True)
class SessionFinder:
    """Next-session lookups: sessions sorted by (site, start) as one key array."""

    keys: np.ndarray  # site * span + start
    session: np.ndarray  # int32, session at each key
    start: np.ndarray  # float64, start of each session (by session id)
    first_start: np.ndarray  # float64, every session's start in ascending order
    first_day: np.ndarray  # float64, the day of each of those, then inf
    span: float
    reach: Reach

    @classmethod
    def build(cls, rota: Rota, reach: Reach) -> "SessionFinder":
        """Index the rota's sessions for lookups from the communes of `reach`."""
        span = float(2 ** np.ceil(np.log2(max(float(rota.session_start.max(initial=0.0)), 1.0) + DAY_MIN)))
        keys = rota.session_site.astype(float) * span + rota.session_start
        order = np.argsort(keys, kind="stable")
        first = np.sort(rota.session_start)
        return cls(keys=keys[order], session=order.astype(np.int32), start=rota.session_start,
                   first_start=first, first_day=np.append(first // DAY_MIN, np.inf), span=span, reach=reach)

    def next_session(self, commune: np.ndarray, t_from: np.ndarray, horizon_min: float | np.ndarray) -> np.ndarray:
        """Session each citizen chooses among those starting in [t_from, t_from + horizon]; -1 if none."""
        out = np.full(len(commune), -1, dtype=np.int32)
        horizon = np.broadcast_to(np.asarray(horizon_min, dtype=float), (len(commune),))
        for lo in range(0, len(commune), CHUNK):
            hi = lo + CHUNK
            out[lo:hi] = self._next(commune[lo:hi], t_from[lo:hi], horizon[lo:hi])
        return out

    def _next(self, commune: np.ndarray, t_from: np.ndarray, horizon_min: np.ndarray) -> np.ndarray:
        n = len(commune)
        best_day = np.full(n, np.inf)
        best = np.full(n, -1, dtype=np.int32)
        # No site offers a day before that of the first session anywhere starting at or after t_from: a
        # citizen whose best day so far is that one is settled, since ties keep the nearer site.
        earliest = self.first_day[np.searchsorted(self.first_start, t_from, side="left")]
        active = np.arange(n)
        for j in range(self.reach.sites.shape[1]):
            s = self.reach.sites[commune[active], j]  # nearest first
            has = s >= 0
            who, s = active[has], s[has]
            t = t_from[who]
            pos = np.searchsorted(self.keys, s * self.span + t, side="left")
            pos = np.minimum(pos, len(self.keys) - 1)
            sess = self.session[pos]
            start = self.start[sess]
            ok = (self.keys[pos] >= s * self.span + t) & (self.keys[pos] < (s + 1) * self.span)
            ok &= start - t <= horizon_min[who]
            day = np.where(ok, start // DAY_MIN, np.inf)
            take = day < best_day[who]  # ties keep the nearer site found first
            best_day[who[take]] = day[take]
            best[who[take]] = sess[take]
            active = active[best_day[active] > earliest[active]]
            if not len(active):
                break
        return best


def arrival_offsets(u: np.ndarray, length_min: np.ndarray, profile: str, shape: float) -> np.ndarray:
    """Minutes after opening a walk-in arrives, from uniforms `u`: front-loaded is length x Beta(1, shape)."""
    if profile == "uniform":
        return u * length_min
    return (1.0 - (1.0 - u) ** (1.0 / shape)) * length_min


def book_appointments(
    finder: SessionFinder,
    rota: Rota,
    commune: np.ndarray,
    need_min: np.ndarray,
    session: np.ndarray,
    slot_min: float,
    horizon_min: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Give each booking citizen a slot at their chosen session, or at a later one if it is full.

    Bookings are allocated in rounds, in order of need: each round fills the sessions' free slots and
    sends the overflow to the next session they can reach. Returns (session, slot start) per booker.
    """
    agents = rota.session_agents
    capacity = np.floor((rota.session_end - rota.session_start) / slot_min + 1e-9).astype(np.int64) * agents
    booked = np.zeros(rota.n_sessions, dtype=np.int64)
    session = session.copy()
    slot = np.full(len(session), np.nan)
    pending = np.flatnonzero(session >= 0)
    while len(pending):
        sess = session[pending]
        order = np.argsort(sess, kind="stable")  # pending is in need order, so stable keeps it
        sorted_sess = sess[order]
        first = np.searchsorted(sorted_sess, sorted_sess, side="left")
        rank = np.empty(len(pending), dtype=np.int64)
        rank[order] = np.arange(len(pending)) - first + booked[sorted_sess]
        fits = rank < capacity[sess]
        got = pending[fits]
        slot[got] = rota.session_start[sess[fits]] + (rank[fits] // agents[sess[fits]]) * slot_min
        np.add.at(booked, sess[fits], 1)
        over = pending[~fits]
        if not len(over):
            break
        after = rota.session_start[session[over]] + 1e-6
        nxt = finder.next_session(commune[over], after, horizon_min - (after - need_min[over]))
        session[over] = nxt
        pending = over[nxt >= 0]
    return session, slot
