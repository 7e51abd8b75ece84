"""Random numbers: one independent stream per source, and per-request numbers that no ordering can reshuffle.

Each source of randomness (demand, choice, arrival, service, patience, return) has its own generator,
spawned from the run's seed and the replication (numpy `SeedSequence`), so two scenarios run with the same
seed share needs, service times and patience: common random numbers.

Decisions taken during the event simulation (does a citizen turned away come back, when do they arrive)
must not depend on the order in which things happen there, or any change of rota would reshuffle them.
Each request therefore draws one 64-bit key per stream before the run; the numbers it needs later are a
hash of (key, counters), e.g. (visit, purpose): the same for that request whatever else changes.
"""

from __future__ import annotations

import numpy as np

STREAMS: tuple[str, ...] = ("demand", "choice", "arrival", "service", "patience", "return")

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def streams(seed: int, replication: int) -> dict[str, np.random.Generator]:
    """One independent generator per source of randomness, fixed by (seed, replication, source)."""
    return {
        name: np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(replication, k))))
        for k, name in enumerate(STREAMS)
    }


def request_keys(rng: np.random.Generator, n: int) -> np.ndarray:
    """One uniformly random 64-bit key per request, from `rng`."""
    return rng.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of uint64 whose outputs pass the usual statistical test suites."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def keyed_uniform(keys: np.ndarray, *counters: int | np.ndarray) -> np.ndarray:
    """Uniform numbers in [0, 1), one per key, fixed by (key, counters); counters broadcast against keys."""
    z = np.asarray(keys, dtype=np.uint64)
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps around by design
        for c in counters:
            z = _mix(z + (np.asarray(c, dtype=np.uint64) + np.uint64(1)) * _GOLDEN)
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
