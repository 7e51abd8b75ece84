"""Vehicles: a crew riding together (a bus's staff) drives once, so its km count once."""

from __future__ import annotations

import numpy as np

from sim.core.rota import Rota


def shared_vehicle(rota: Rota, km_before: np.ndarray, km_after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Count a vehicle's km once: an agent holding exactly the sessions of another all day rides with them.

    Returns km_before and km_after with zeros on the rows of such passengers (a bus's second staff member).
    """
    before, after = km_before.copy(), km_after.copy()
    seen: set[tuple[int, ...]] = set()
    for _, _, rows in rota.agent_days():
        key = tuple(rota.row_session[rows].tolist())
        if key in seen:
            before[rows] = 0.0
            after[rows] = 0.0
        seen.add(key)
    return before, after
