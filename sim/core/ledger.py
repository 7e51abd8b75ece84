"""What becomes of each request, and the per-request state the event simulation reads and writes.

The desks, the agents and the returns share one `Ledger` per replication: columns indexed by request, as
Python `array`s, whose element access is as cheap as a list's while they hold raw values (8 bytes a float
or an index, not a pointer and a 24-32 byte object). `columns` hands them back as numpy arrays, no copy.
"""

from __future__ import annotations

from array import array

import numpy as np

OUTCOMES: tuple[str, ...] = ("served", "referred", "reneged", "turned_away", "gave_up", "no_session", "no_slot")
"""Every request ends in exactly one: resolved at the desk, seen but referred, left the queue, turned away at
closing with no later session in the horizon, turned away and did not come back, no session within reach in
the horizon, a booker for whom no session within reach had a free slot."""
SERVED, REFERRED, RENEGED, TURNED_AWAY, GAVE_UP, NO_SESSION, NO_SLOT = range(len(OUTCOMES))


def compact(values: np.ndarray, code: str) -> array:
    """`values` as a Python array of type `code` ('d' float, 'i' int32, 'q' int64, 'h' int16, 'b' int8)."""
    out = array(code)
    out.frombytes(np.ascontiguousarray(values, dtype=np.dtype(code)).tobytes())
    return out


class Ledger:
    """Per request: where and when it goes, what happens to it at the desk, and how many visits it made."""

    __slots__ = ("session", "arrival", "service", "deadline", "booked", "referred", "start", "end", "outcome",
                 "visits", "turned", "earlier_wait")

    def __init__(self, session: np.ndarray, arrival: np.ndarray, service: np.ndarray, patience: np.ndarray,
                 booked: np.ndarray, referred: np.ndarray, outcome: np.ndarray) -> None:
        n = len(session)
        nan = float("nan")
        self.session = compact(session, "i")  # the session of the current (last) visit
        self.arrival = compact(arrival, "d")  # arrival at that session's desk
        self.service = compact(service, "d")  # minutes at the desk
        self.deadline = compact(arrival + patience, "d")  # a walk-in still waiting after this has left
        self.booked = compact(booked, "b")  # holds an appointment slot (a return comes as a walk-in)
        self.referred = compact(referred, "b")
        self.start = array("d", [nan]) * n  # service start
        self.end = array("d", [nan]) * n
        self.outcome = compact(outcome, "b")  # index into OUTCOMES
        self.visits = compact(session >= 0, "h")  # desk visits so far
        self.turned = array("h", [0]) * n  # visits that ended turned away at closing
        self.earlier_wait = array("d", [0.0]) * n  # queue wait of the visits before the current one

    def columns(self) -> dict[str, np.ndarray]:
        """The columns as numpy arrays over the same memory."""
        kinds = {"session": np.int32, "arrival": float, "start": float, "end": float, "outcome": np.int8,
                 "visits": np.int16, "turned": np.int16, "earlier_wait": float}
        return {name: np.frombuffer(getattr(self, name), dtype=kind) for name, kind in kinds.items()}
