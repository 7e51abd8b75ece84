"""How a citizen picks a session: the choice rules, exact booking of appointment slots, arrival within a session.

Every choice of a session goes through `choose`: a walk-in's first visit, a booker's appointment (through
`book`, which hands out slots in need order) and a return after being turned away. For each site the
citizen can reach (within `citizens.max_travel_min`, nearest first) the candidate is that site's next
session starting between the moment of choice and the end of the horizon; a rule gives each candidate a
cost and the cheapest wins, ties going to the nearer site. The rota is known in advance, so this is array
searches over the sessions, done for all citizens at once.

The rules (`RULES`, selectable per kind of citizen in `citizens.choice`):
- `earliest`: the earliest day, then the nearest site that day;
- `nearest`: the nearest site that has a session within the horizon;
- `cost`: travel minutes + w x days until the session (w = `weight_min_per_day`);
- `logit`: a multinomial logit on the same utility with scale `logit_scale_min`, drawn as the cost minus
  scale x a Gumbel variable per (citizen, site) from the citizen's key on the `choice` stream.
A new rule is a frozen dataclass subclassing `Rule`, decorated with `@register`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

from sim.core.rota import Rota
from sim.core.streams import keyed_uniform
from sim.core.territory import Reach
from sim.core.units import DAY_MIN

CHUNK = 1 << 20  # citizens per block, bounding the (citizens x reachable sites) temporaries
NOBODY = np.iinfo(np.int64).max  # full_from of a session that never fills
NOISE = 7  # counter of the per-(citizen, site) taste draws of the logit rule


@dataclass(frozen=True)
class SessionIndex:
    """The rota's sessions sorted by (site, start) as one key array, for next-session lookups."""

    keys: np.ndarray  # site * span + start, ascending
    session: np.ndarray  # int32, session at each key
    start: np.ndarray  # float64, start of each session (by session id)
    site: np.ndarray  # int32, site of each session (by session id)
    first_start: np.ndarray  # float64, every session's start in ascending order, then inf
    span: float
    reach: Reach

    @classmethod
    def build(cls, rota: Rota, reach: Reach) -> "SessionIndex":
        """Index the rota's sessions for lookups from the communes of `reach`."""
        span = float(2 ** np.ceil(np.log2(max(float(rota.session_start.max(initial=0.0)), 1.0) + DAY_MIN)))
        keys = rota.session_site.astype(float) * span + rota.session_start
        order = np.argsort(keys, kind="stable")
        return cls(keys=keys[order], session=order.astype(np.int32), start=rota.session_start,
                   site=rota.session_site, first_start=np.append(np.sort(rota.session_start), np.inf),
                   span=span, reach=reach)


class Rule:
    """A choice rule: a cost per candidate session (lower is better) and a floor that allows early stops.

    A rule's dataclass fields are its parameters, named as in `citizens.choice` (e.g. `weight_min_per_day`).
    """

    name: ClassVar[str]
    taste_scale_min: float = 0.0  # > 0: minus this x a Gumbel taste per (citizen, site) is added to the cost

    def cost(self, travel_min: np.ndarray, start_min: np.ndarray, t_from: np.ndarray) -> np.ndarray:
        """Cost of going to a session starting at `start_min` at a site `travel_min` away, choosing at `t_from`."""
        raise NotImplementedError

    def floor(self, travel_min: np.ndarray, earliest_min: np.ndarray, t_from: np.ndarray) -> np.ndarray:
        """No session at a site at least `travel_min` away costs less (`earliest_min`: first session anywhere)."""
        return np.full(len(travel_min), -np.inf)


RULES: dict[str, type[Rule]] = {}
"""Choice rules by name."""


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: make a rule selectable by its `name` in `citizens.choice`."""
    RULES[cls.name] = cls
    return cls


@register
@dataclass(frozen=True)
class Earliest(Rule):
    """The earliest day with a session within reach, then the nearest site that day."""

    name: ClassVar[str] = "earliest"

    def cost(self, travel_min: np.ndarray, start_min: np.ndarray, t_from: np.ndarray) -> np.ndarray:
        return start_min // DAY_MIN

    def floor(self, travel_min: np.ndarray, earliest_min: np.ndarray, t_from: np.ndarray) -> np.ndarray:
        return earliest_min // DAY_MIN


@register
@dataclass(frozen=True)
class Nearest(Rule):
    """The nearest site with a session within the horizon, at its next session."""

    name: ClassVar[str] = "nearest"

    def cost(self, travel_min: np.ndarray, start_min: np.ndarray, t_from: np.ndarray) -> np.ndarray:
        return travel_min

    def floor(self, travel_min: np.ndarray, earliest_min: np.ndarray, t_from: np.ndarray) -> np.ndarray:
        return travel_min


@register
@dataclass(frozen=True)
class TravelPlusDelay(Rule):
    """Travel minutes plus `weight_min_per_day` for each day until the session."""

    name: ClassVar[str] = "cost"
    weight_min_per_day: float = 3.0

    def cost(self, travel_min: np.ndarray, start_min: np.ndarray, t_from: np.ndarray) -> np.ndarray:
        return travel_min + self.weight_min_per_day * (start_min - t_from) / DAY_MIN

    def floor(self, travel_min: np.ndarray, earliest_min: np.ndarray, t_from: np.ndarray) -> np.ndarray:
        return travel_min + self.weight_min_per_day * (earliest_min - t_from) / DAY_MIN


@register
@dataclass(frozen=True)
class Logit(TravelPlusDelay):
    """Multinomial logit on -(travel + w x days) / scale: the cost minus scale x a Gumbel taste per site."""

    name: ClassVar[str] = "logit"
    logit_scale_min: float = 5.0

    @property
    def taste_scale_min(self) -> float:  # type: ignore[override]
        return self.logit_scale_min

    def floor(self, travel_min: np.ndarray, earliest_min: np.ndarray, t_from: np.ndarray) -> np.ndarray:
        return np.full(len(travel_min), -np.inf)  # a taste can make any site the cheapest


def make_rule(name: str, **params: float) -> Rule:
    """The rule `name` with those of `params` (the `citizens.choice` values) that it takes."""
    cls = RULES[name]
    return cls(**{f.name: params[f.name] for f in fields(cls) if f.name in params})


def site_taste(keys: np.ndarray, site: np.ndarray) -> np.ndarray:
    """Standard Gumbel taste of each citizen (by key) for a site: fixed for the pair, whatever the rota."""
    u = keyed_uniform(keys, NOISE, site)
    return -np.log(-np.log(np.clip(u, 1e-300, None)))


def choose(index: SessionIndex, rule: Rule, commune: np.ndarray, t_from: np.ndarray, until: np.ndarray,
           keys: np.ndarray | None = None, full_from: np.ndarray | None = None,
           order: np.ndarray | None = None) -> np.ndarray:
    """Session each citizen picks among those starting in [t_from, until] at the sites they reach; -1 if none.

    With `full_from` (per session, the need order of the booker holding its last slot) and `order` (each
    citizen's need order), a session whose last slot went to an earlier booker is skipped.
    `keys` (per citizen, from the `choice` stream) feed the tastes of a noisy rule.
    """
    n = len(commune)
    out = np.full(n, -1, dtype=np.int32)
    until = np.broadcast_to(np.asarray(until, dtype=float), (n,))
    for lo in range(0, n, CHUNK):
        part = slice(lo, lo + CHUNK)
        out[part] = _choose(index, rule, commune[part], t_from[part], until[part],
                            None if keys is None else keys[part], full_from,
                            None if order is None else order[part])
    return out


def _choose(index: SessionIndex, rule: Rule, commune: np.ndarray, t_from: np.ndarray, until: np.ndarray,
            keys: np.ndarray | None, full_from: np.ndarray | None, order: np.ndarray | None) -> np.ndarray:
    n = len(commune)
    best_cost = np.full(n, np.inf)
    best = np.full(n, -1, dtype=np.int32)
    earliest = index.first_start[np.searchsorted(index.first_start, t_from, side="left")]
    last = len(index.keys) - 1
    active = np.flatnonzero(earliest <= until)  # the others have no session anywhere in time
    reach = index.reach
    for j in range(reach.sites.shape[1]):  # nearest site first
        s = reach.sites[commune[active], j]
        has = s >= 0  # rows are padded with -1 after their last site
        active, s = active[has], s[has]
        travel = reach.travel_min[commune[active], j]
        # a farther site can only win with a strictly lower cost: settled citizens drop out
        keep = best_cost[active] > rule.floor(travel, earliest[active], t_from[active])
        active, s, travel = active[keep], s[keep], travel[keep]
        if not len(active):
            break
        t = t_from[active]
        site_end = (s + 1) * index.span
        pos = np.minimum(np.searchsorted(index.keys, s * index.span + t, side="left"), last)
        # site * span + t may round onto a session starting just before t: step over it (starts are unique per site)
        pos = np.minimum(pos + ((index.keys[pos] < site_end) & (index.start[index.session[pos]] < t)), last)
        if full_from is not None:  # step over sessions at this site already full for this booker
            b = np.arange(len(active))
            while len(b):
                p = pos[b]
                b = b[(index.keys[p] < site_end[b]) & (full_from[index.session[p]] < order[active[b]])]
                pos[b] += 1
                past = pos[b] > last
                pos[b[past]] = last  # the last key is a full session of this site: refused below
                b = b[~past]
        sess = index.session[pos]
        start = index.start[sess]
        ok = (index.site[sess] == s) & (start >= t) & (start <= until[active])
        if full_from is not None:
            ok &= full_from[sess] >= order[active]
        cost = rule.cost(travel, start, t)
        if rule.taste_scale_min > 0:
            cost = cost - rule.taste_scale_min * site_taste(keys[active], s)
        take = ok & (cost < best_cost[active])
        best_cost[active[take]] = cost[take]
        best[active[take]] = sess[take]
    return best


def appointment_slots(rota: Rota, slot_min: float) -> tuple[np.ndarray, np.ndarray]:
    """Each session's appointment slots in time order: (first, times); session s has times[first[s]:first[s+1]].

    Each agent's part of a session holds floor(length / slot_min) slots from its start.
    """
    per_row = np.floor((rota.row_end - rota.row_start) / slot_min + 1e-9).astype(np.int64)
    per_row = np.where(np.isfinite(rota.row_end), per_row, 0)
    row = np.repeat(np.arange(len(per_row)), per_row)
    within = np.arange(len(row)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    times = rota.row_start[row] + within * slot_min
    session = rota.row_session[row]
    order = np.lexsort((times, session))
    first = np.concatenate(([0], np.cumsum(np.bincount(session, minlength=rota.n_sessions))))
    return first, times[order]


def book(index: SessionIndex, rule: Rule, commune: np.ndarray, t_from: np.ndarray, until: np.ndarray,
         capacity: np.ndarray, keys: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Appointments handed out in need order: each booker gets the best session by `rule` with a free slot.

    Bookers come in need order. Returns (session, slot number within it); session -1 when no session within
    reach and the horizon has a free slot. The result is that of booking one citizen after the other: every
    booker first asks for the best session ignoring capacity; where a session has more askers than slots,
    those after the last slot's holder find it full from then on and ask again. A session full for one
    booker stays full for every later one, so the rounds settle on the sequential allocation.
    """
    n = len(commune)
    order = np.arange(n, dtype=np.int64)
    full_from = np.where(capacity > 0, NOBODY, -1).astype(np.int64)
    choice = choose(index, rule, commune, t_from, until, keys, full_from, order)
    rank = np.zeros(n, dtype=np.int64)
    moved = np.flatnonzero(choice >= 0)
    touched = np.zeros(len(capacity), dtype=bool)
    while len(moved):
        touched[:] = False
        touched[choice[moved]] = True
        members = np.flatnonzero((choice >= 0) & touched[np.maximum(choice, 0)])  # in need order
        sess = choice[members]
        by_session = np.argsort(sess, kind="stable")
        members, sess = members[by_session], sess[by_session]
        r = np.arange(len(sess)) - np.searchsorted(sess, sess, side="left")
        rank[members] = r
        cap = capacity[sess]
        holder = r == cap - 1  # the booker holding a session's last slot
        full_from[sess[holder]] = np.minimum(full_from[sess[holder]], members[holder])
        over = members[r >= cap]
        if not len(over):
            break
        choice[over] = choose(index, rule, commune[over], t_from[over], until[over],
                              None if keys is None else keys[over], full_from, order[over])
        moved = over[choice[over] >= 0]
    return choice, rank


def arrival_offsets(u: np.ndarray, length_min: np.ndarray, profile: str, shape: float) -> np.ndarray:
    """Minutes after opening a walk-in arrives, from uniforms `u`: front-loaded is length x Beta(1, shape)."""
    if profile == "uniform":
        return u * length_min
    return (1.0 - (1.0 - u) ** (1.0 / shape)) * length_min
