"""From a replication's columns to the request table and KPIs; across replications, means and 95% CIs.

Waiting has two parts: the access delay (days from the need to the desk visit) and the queue wait
(minutes at the desk). Queue-wait statistics cover requests seen at the desk (served or referred);
`share_wait_le_20min` is the share of citizens reaching a desk who were seen within 20 minutes, so that
those who left the queue or were turned away count as not seen in time; `share_needs_met_within_7d` is the
share of ALL needs seen at a desk within 7 days, so that needs which never reach a desk count against it.

Every key of a scope (each site, commune, operator and week) has a row in every replication: a count is 0
where nothing happened, a ratio is missing where it is undefined (no request to average over), so that means
over replications count the zeros and `n` says over how many replications a ratio was defined. Counts of
the sites (with the key `none` for requests that never had a site) and of the communes add up to the total.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from sim.core.calendar import dates_of
from sim.core.ledger import GAVE_UP, NO_SESSION, NO_SLOT, OUTCOMES, REFERRED, RENEGED, SERVED, TURNED_AWAY
from sim.core.model import ReplicationLog
from sim.core.scenario import Scenario
from sim.core.stats import t_half_width
from sim.core.units import DAY_MIN, WEEK_MIN

WAIT_TARGET_MIN = 20.0
NEED_MET_DAYS = 7.0  # share_needs_met_within_7d: seen at a desk within this many days of the need
NO_SITE = "none"  # site key of requests that never had a site (no session within reach)
SCOPES: tuple[str, ...] = ("overall", "site", "commune", "operator", "week")
HEADLINE: tuple[str, ...] = (
    "requests", "served", "referred", "turned_away", "reneged", "gave_up", "no_session", "no_slot",
    "turned_away_visits", "share_needs_met_within_7d",
    "queue_wait_min_mean", "queue_wait_min_p50", "queue_wait_min_p90", "queue_wait_min_p95",
    "queue_wait_total_min_mean",
    "access_delay_days_mean", "access_delay_days_p50", "access_delay_days_p90", "access_delay_days_p95",
    "share_wait_le_20min", "own_site_share", "population_within_reach_share", "agent_utilisation",
    "agent_driving_share", "agent_idle_share", "km_driven", "agent_hours", "driving_hours", "late_openings", "cost", "cost_per_served", "seen_per_week",
)
MMC_EXTRA: tuple[str, ...] = ("p_wait", "abandon_share", "queue_wait_all_min_mean")
BOUNDED_BY_ONE: tuple[str, ...] = (
    "share_wait_le_20min", "share_needs_met_within_7d", "own_site_share", "population_within_reach_share",
    "agent_utilisation", "agent_driving_share", "agent_idle_share", "p_wait", "abandon_share",
)
QUANTILES: tuple[int, ...] = (50, 90, 95)


REQUEST_COLUMNS: tuple[str, ...] = (
    "commune", "operator", "site", "session", "week", "booker", "appointment", "need_min", "arrival_min",
    "service_start_min", "service_end_min", "outcome", "visits", "turned_away_visits", "access_delay_days",
    "queue_wait_min", "queue_wait_total_min",
)
"""Columns of the request table after `replication` and `request`; codes where the table has categories."""


def request_columns(scenario: Scenario, log: ReplicationLog, table: bool = True) -> dict[str, np.ndarray]:
    """Per request: final outcome, site, access delay and queue wait (last visit and all visits), as arrays.

    `commune`, `operator`, `site` (-1: none) and `outcome` are codes; `requests_frame` names them. Without
    `table`, only the columns the KPIs read.
    """
    p = log.plan
    outcome = log.outcome
    reached = (outcome != NO_SESSION) & (outcome != NO_SLOT)
    seen = (outcome == SERVED) | (outcome == REFERRED)
    session = log.session
    # the site of the last visit; a booker who found no free slot is counted at the site they asked for
    where = np.where(session >= 0, session, p.wanted)
    site = np.where(where >= 0, scenario.rota.session_site[np.maximum(where, 0)], -1).astype(np.int32)
    close = scenario.rota.session_end[np.maximum(session, 0)]
    wait = np.full(len(outcome), np.nan)
    wait[seen] = log.service_start_min[seen] - log.arrival_min[seen]
    rn = outcome == RENEGED
    wait[rn] = p.patience_min[rn]
    away = (outcome == TURNED_AWAY) | (outcome == GAVE_UP)
    wait[away] = close[away] - log.arrival_min[away]
    cols = {
        "commune": p.commune, "operator": p.operator.astype(np.int16), "site": site,
        "week": (p.need_min // WEEK_MIN).astype(np.int16) + 1, "need_min": p.need_min,
        "service_start_min": log.service_start_min, "outcome": outcome, "turned_away_visits": log.turned_away_visits,
        "access_delay_days": np.where(reached, (log.arrival_min - p.need_min) / DAY_MIN, np.nan),
        "queue_wait_min": wait, "queue_wait_total_min": wait + log.earlier_wait_min,
    }
    if table:
        cols.update(session=session, booker=p.booker, appointment=p.booker & (p.session >= 0),
                    arrival_min=np.where(reached, log.arrival_min, np.nan), service_end_min=log.service_end_min,
                    visits=log.visits)
    return cols


def _stacked(columns: Sequence[dict[str, np.ndarray]], replications: Sequence[int],
             names: Sequence[str]) -> dict[str, np.ndarray]:
    """The columns of several replications end to end, with `replication` and the row number within it."""
    sizes = [len(next(iter(c.values()))) for c in columns]
    out = {"replication": np.repeat(np.asarray(replications, dtype=np.int16), sizes)}
    out.update({name: np.concatenate([c[name] for c in columns]) for name in names})
    return out, sizes


def requests_frame(scenario: Scenario, columns: Sequence[dict[str, np.ndarray]],
                   replications: Sequence[int]) -> pd.DataFrame:
    """The request table of several replications, built once: one row per request and replication."""
    t = scenario.territory
    data, sizes = _stacked(columns, replications, REQUEST_COLUMNS)
    categories = {"commune": list(t.commune_insee), "operator": list(scenario.operators), "site": list(t.site_id),
                  "outcome": list(OUTCOMES)}
    frame = {"replication": data["replication"],
             "request": np.concatenate([np.arange(n, dtype=np.int32) for n in sizes]) if sizes else np.zeros(0, np.int32)}
    for name in REQUEST_COLUMNS:
        value = data[name]
        frame[name] = pd.Categorical.from_codes(value, categories=categories[name]) if name in categories else value
    if scenario.day0 is not None:  # the date each need arose
        frame["date"] = dates_of(scenario.day0, np.floor_divide(data["need_min"], DAY_MIN).astype(np.int64))
    return pd.DataFrame(frame)


def request_table(scenario: Scenario, log: ReplicationLog, replication: int) -> pd.DataFrame:
    """One row per request of one replication (see `requests_frame`)."""
    return requests_frame(scenario, [request_columns(scenario, log)], [replication])


SESSION_COLUMNS: tuple[str, ...] = ("opened_min", "left_min", "serving_min")
"""What a replication changes in the session table; the rest is the rota's."""


def session_columns(log: ReplicationLog) -> dict[str, np.ndarray]:
    """Per rota row: when the agent opened, left, and how long it served."""
    return {"opened_min": log.opened_min, "left_min": log.left_min, "serving_min": log.serving_min}


def sessions_frame(scenario: Scenario, columns: Sequence[dict[str, np.ndarray]],
                   replications: Sequence[int]) -> pd.DataFrame:
    """One row per (replication, agent, session): the agent's drive there, opening, leaving and time serving."""
    rota = scenario.rota
    t = scenario.territory
    data, _ = _stacked(columns, replications, SESSION_COLUMNS)
    reps = len(columns)
    sess = np.tile(rota.row_session, reps)

    def each(values: np.ndarray) -> np.ndarray:
        return np.tile(values, reps)

    day = (rota.row_start // DAY_MIN).astype(np.int32)
    dated = {"date": each(dates_of(scenario.day0, day))} if scenario.day0 is not None and np.isfinite(rota.row_start).all() else {}
    return pd.DataFrame({
        "replication": data["replication"],
        "agent": pd.Categorical.from_codes(each(rota.row_agent), categories=list(rota.agent_names)),
        "session": sess,
        "site": pd.Categorical.from_codes(rota.session_site[sess], categories=list(t.site_id)),
        "day": each(day),
        **dated,
        "start_min": each(rota.row_start),
        "end_min": each(rota.row_end),
        "drive_before_min": each(scenario.drive_before_min),
        "km_before": each(scenario.km_before),
        "opened_min": data["opened_min"],
        "left_min": data["left_min"],
        "serving_min": data["serving_min"],
        "drive_after_min": each(scenario.drive_after_min),
        "km_after": each(scenario.km_after),
    })


def session_table(scenario: Scenario, log: ReplicationLog, replication: int) -> pd.DataFrame:
    """One row per (agent, session) of one replication (see `sessions_frame`)."""
    return sessions_frame(scenario, [session_columns(log)], [replication])


def _by_key(code: np.ndarray, n_keys: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Sum of `weights` (or count) per key code.

    With one key, the same sum without bincount (which holds the GIL): integers summed exactly, floats in
    index order as bincount adds them (a running sum), so the bits are the same.
    """
    if n_keys == 1:
        if weights is None:
            return np.array([float(len(code))])
        if weights.dtype.kind == "f":
            return np.array([float(np.cumsum(weights)[-1]) if len(weights) else 0.0])
        return np.array([float(np.count_nonzero(weights) if weights.dtype == bool else weights.sum(dtype=np.int64))])
    return np.bincount(code, weights=weights, minlength=n_keys)[:n_keys].astype(float)


def _mean_by_key(code: np.ndarray, values: np.ndarray, n_keys: int) -> np.ndarray:
    """Mean of `values` per key; NaN for a key with none."""
    return _share(_by_key(code, n_keys, values), _by_key(code, n_keys))


def _quantiles_by_key(code: np.ndarray, ascending: np.ndarray, n_keys: int, count: np.ndarray) -> dict[int, np.ndarray]:
    """The QUANTILES per key (linear interpolation, as numpy's default) of values given in ascending order,
    `code` their keys, `count` the values per key: a stable sort of the keys (a radix sort for up to 65,536
    keys) groups each key's values in order."""
    if n_keys > 1:  # where each key's r-th smallest value is, for the few ranks the quantiles need
        small = np.uint8 if n_keys <= 256 else np.uint16 if n_keys <= 65536 else code.dtype
        where = np.argsort(code.astype(small, copy=False), kind="stable")
    else:
        where = None
    first = np.cumsum(count) - count
    out = {}
    has = count > 0

    def at(rank: np.ndarray) -> np.ndarray:
        i = first[has] + rank
        return ascending[i if where is None else where[i]]

    for q in QUANTILES:
        res = np.full(n_keys, np.nan)
        pos = (count[has] - 1) * (q / 100.0)
        lo = np.floor(pos).astype(np.int64)
        a, b = at(lo), at(np.minimum(lo + 1, count[has] - 1))
        res[has] = a + (b - a) * (pos - lo)
        out[q] = res
    return out


def _stats(out: dict[str, np.ndarray], name: str, code: np.ndarray, values: np.ndarray, order: np.ndarray,
           ascending: np.ndarray, n_keys: int, count: np.ndarray) -> None:
    """Columns <name>_mean, _p50, _p90 and _p95 per key into `out` (`ascending` = `values[order]`, `count` per key)."""
    out[f"{name}_mean"] = _share(_by_key(code, n_keys, values), count.astype(float))
    keys = code[order] if n_keys > 1 else code  # one key: no need to put the keys in value order
    for q, col in _quantiles_by_key(keys, ascending, n_keys, count).items():
        out[f"{name}_p{q}"] = col


def _share(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0 (the ratio is undefined)."""
    defined = denominator > 0
    return np.where(defined, numerator / np.where(defined, denominator, 1.0), np.nan)


Metrics = dict[str, np.ndarray]
"""KPI name -> one value per key of a scope, in order."""


@dataclass(frozen=True)
class ScopeKpis:
    """One replication's KPIs at one scope: a value per (key, metric), NaN where undefined."""

    keys: tuple[str, ...]
    metrics: tuple[str, ...]
    values: np.ndarray  # (keys, metrics)

    @classmethod
    def of(cls, keys: Sequence[str], metrics: Metrics) -> "ScopeKpis":
        """From named columns of values per key."""
        return cls(tuple(keys), tuple(metrics), np.column_stack([metrics[m] for m in metrics]).astype(float))


Kpis = dict[str, ScopeKpis]
"""One replication's KPIs: scope -> values, scopes in order."""


@dataclass(frozen=True)
class _Prepared:
    """What every scope of a replication needs, computed once: outcomes, masks, weights, sorted waits."""

    outcome: np.ndarray  # int8
    seen: np.ndarray  # bool: served or referred
    reached: np.ndarray  # bool: reached a desk
    weights: dict[str, np.ndarray]  # per request, summed per key: visits turned away, needs met, seen in window
    wait: np.ndarray  # queue waits of the seen
    wait_order: np.ndarray  # the order that sorts them
    wait_sorted: np.ndarray
    total_wait: np.ndarray  # queue wait over all visits, of the seen
    on_time: np.ndarray  # bool, of the reached: seen within the target
    access: np.ndarray  # access delays of the reached
    access_order: np.ndarray
    access_sorted: np.ndarray


def prepare(scenario: Scenario, cols: dict[str, np.ndarray], run: Callable = map) -> _Prepared:
    """The scope-independent parts of a replication's request metrics (`run` maps the two sorts, maybe in threads)."""
    outcome = cols["outcome"]
    seen = (outcome == SERVED) | (outcome == REFERRED)
    reached = (outcome != NO_SESSION) & (outcome != NO_SLOT)
    start, wait = cols["service_start_min"], cols["queue_wait_min"]
    weights = {  # bincount takes them as they are and sums them as floats
        "turned_away_visits": cols["turned_away_visits"],
        "met": seen & (start - cols["need_min"] <= NEED_MET_DAYS * DAY_MIN),
        # seen at a desk within the analysed weeks: what the agents' cost over the same weeks pays for
        "seen_in_window": seen & (start < scenario.days * DAY_MIN),
    }
    wait_seen, access = wait[seen], cols["access_delay_days"][reached]
    (wait_order, wait_sorted), (access_order, access_sorted) = run(_sorted, (wait_seen, access))
    return _Prepared(outcome, seen, reached, weights, wait_seen, wait_order, wait_sorted,
                     cols["queue_wait_total_min"][seen], (seen & (wait <= WAIT_TARGET_MIN))[reached],
                     access, access_order, access_sorted)


def _sorted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order that sorts `values`, and the values in that order."""
    order = np.argsort(values)
    return order, values[order]


def request_metrics(scenario: Scenario, cols: dict[str, np.ndarray], code: np.ndarray, k: int,
                    prepared: _Prepared | None = None) -> Metrics:
    """Counts by outcome and wait statistics per key (`code`: each request's key among `k`); `prepared`
    (from `prepare`) is shared by the scopes of a replication, computed if not given."""
    p = prepared or prepare(scenario, cols)
    pairs = p.outcome if k == 1 else code * len(OUTCOMES) + p.outcome
    counts = np.bincount(pairs, minlength=k * len(OUTCOMES)).reshape(k, len(OUTCOMES))
    out: Metrics = {"requests": counts.sum(axis=1).astype(float)}
    for j, name in enumerate(OUTCOMES):
        out[name] = counts[:, j].astype(float)
    out["turned_away_visits"] = _by_key(code, k, p.weights["turned_away_visits"])
    out["share_needs_met_within_7d"] = _share(_by_key(code, k, p.weights["met"]), out["requests"])
    seen, reached = code[p.seen], code[p.reached]
    n_seen = np.bincount(seen, minlength=k)[:k] if k > 1 else np.array([len(seen)])
    _stats(out, "queue_wait_min", seen, p.wait, p.wait_order, p.wait_sorted, k, n_seen)
    out["queue_wait_total_min_mean"] = _share(_by_key(seen, k, p.total_wait), n_seen.astype(float))
    n_reached = np.bincount(reached, minlength=k)[:k] if k > 1 else np.array([len(reached)])
    out["share_wait_le_20min"] = _share(_by_key(reached, k, p.on_time), n_reached.astype(float))
    _stats(out, "access_delay_days", reached, p.access, p.access_order, p.access_sorted, k, n_reached)
    out["seen_in_window"] = _by_key(code, k, p.weights["seen_in_window"])
    return out


def _own_site_share(scenario: Scenario, cols: dict[str, np.ndarray], code: np.ndarray, k: int) -> np.ndarray:
    """Per key, the share of desk visits by residents of communes hosting a site made at a site of their own commune."""
    t = scenario.territory
    commune, site, outcome = cols["commune"], cols["site"], cols["outcome"]
    hosts = np.zeros(t.n_communes, dtype=bool)
    hosts[t.site_commune] = True
    visit = (outcome != NO_SESSION) & (outcome != NO_SLOT) & hosts[commune]
    own = visit & (t.site_commune[np.maximum(site, 0)] == commune)
    return _share(_by_key(code[visit], k, own[visit].astype(float)), _by_key(code[visit], k))


def _within_reach(scenario: Scenario, scope: str) -> np.ndarray:
    """Share of the population with a site within reach (`citizens.max_travel_min`): 1 or 0 per commune."""
    reachable = (scenario.reach.sites[:, 0] >= 0).astype(float)
    if scope == "commune":
        return reachable
    population = scenario.territory.population
    return np.array([_share(np.array([population @ reachable]), np.array([population.sum()]))[0]])


def _scope_codes(scenario: Scenario, cols: dict[str, np.ndarray], scope: str) -> tuple[np.ndarray, list[str]]:
    """Each request's key code at `scope`, and every key of the scope (including those with no request)."""
    t = scenario.territory
    n = len(cols["outcome"])
    if scope == "overall":
        return np.zeros(n, dtype=np.int64), ["all"]
    if scope == "site":
        code = cols["site"].astype(np.int64)
        return np.where(code >= 0, code, t.n_sites), [*t.site_id.tolist(), NO_SITE]
    if scope == "week":
        weeks = max(int(round(scenario.days / 7)), 1)
        labels = [str(w) for w in range(1, weeks + 1)] if scenario.day0 is None else \
            list(np.datetime_as_string(dates_of(scenario.day0, np.arange(weeks) * 7), unit="D"))  # by its Monday
        return np.clip(cols["week"].astype(np.int64) - 1, 0, weeks - 1), labels
    keys = {"commune": t.commune_insee, "operator": scenario.operators}[scope]
    return cols[scope].astype(np.int64), [str(c) for c in keys]


def _agent_metrics(scenario: Scenario, log: ReplicationLog, by: str | None) -> tuple[list[str], Metrics]:
    """Agent time (serving, idle in session, driving), km and cost over the analysed days, every key included."""
    rota = scenario.rota
    start = rota.row_start
    keep = start < scenario.days * DAY_MIN
    opened = log.opened_min
    end = rota.row_end
    present = np.where(opened < end, np.maximum(log.left_min, end) - opened, 0.0)  # never opened: 0
    if by == "site":
        code, keys = rota.session_site[rota.row_session], list(scenario.territory.site_id)
    elif by == "agent":
        code, keys = rota.row_agent, list(rota.agent_names)
    else:
        code, keys = np.zeros(len(start), dtype=np.int64), ["all"]
    code, k = code[keep], len(keys)

    def total(x: np.ndarray) -> np.ndarray:
        return _by_key(code, k, x[keep].astype(float))

    serving, present_t = total(log.serving_min), total(present)
    driving = total(scenario.drive_before_min + scenario.drive_after_min)
    km = total(scenario.km_before + scenario.km_after)
    work = present_t + driving
    utilisation = _share(serving, present_t)
    return keys, {
        "agent_hours": work / 60.0, "driving_hours": driving / 60.0, "agent_utilisation": utilisation,
        "agent_idle_share": 1.0 - utilisation, "agent_driving_share": _share(driving, work), "km_driven": km,
        "late_openings": total((opened > start + 1e-9).astype(float)),
        "cost": work / 60.0 * scenario.cost_per_agent_hour + km * scenario.cost_per_km,
    }


THREADED_FROM = 500_000
"""Requests from which a replication's scopes are computed in threads (numpy's sorts and gathers run outside
the GIL): the results are the same, in about half the time on two cores."""


def _scope_kpis(scenario: Scenario, log: ReplicationLog, cols: dict[str, np.ndarray], prepared: _Prepared,
                scope: str) -> ScopeKpis:
    """One scope's KPIs of a replication."""
    code, keys = _scope_codes(scenario, cols, scope)
    m = request_metrics(scenario, cols, code, len(keys), prepared)
    seen = m.pop("seen_in_window")
    if scope in ("overall", "commune"):
        m["own_site_share"] = _own_site_share(scenario, cols, code, len(keys))
        m["population_within_reach_share"] = _within_reach(scenario, scope)
    if scope in ("overall", "site"):  # agents' metrics; requests with no site (`none`) have none
        agent_keys, agents = _agent_metrics(scenario, log, None if scope == "overall" else "site")
        pad = len(keys) - len(agent_keys)
        m.update({name: np.append(v, np.full(pad, np.nan)) for name, v in agents.items()})
        m["cost_per_served"] = _share(m["cost"], seen)
    if scope == "overall":
        m["seen_per_week"] = seen / (scenario.days / 7.0)
    return ScopeKpis.of(keys, m)


def replication_kpis(scenario: Scenario, log: ReplicationLog, cols: dict[str, np.ndarray]) -> Kpis:
    """One replication's KPIs at every scope, from its `request_columns`."""
    if scenario.queue is not None:
        return scenario.queue.kpis(scenario, log, cols)
    threads = min(len(SCOPES), os.cpu_count() or 1) if len(cols["outcome"]) >= THREADED_FROM else 1
    with ThreadPoolExecutor(threads) if threads > 1 else nullcontext() as pool:
        run = pool.map if pool is not None else map
        prepared = prepare(scenario, cols, run)
        out: Kpis = dict(zip(SCOPES, run(lambda scope: _scope_kpis(scenario, log, cols, prepared, scope), SCOPES)))
    agent_keys, agents = _agent_metrics(scenario, log, "agent")
    out["agent"] = ScopeKpis.of(agent_keys, agents)
    return out


def overall_values(kpis: Kpis) -> dict[str, float]:
    """One replication's overall KPIs by name."""
    o = kpis["overall"]
    return dict(zip(o.metrics, o.values[0].tolist()))


def aggregate(per_replication: Sequence[Kpis]) -> pd.DataFrame:
    """Mean and 95% t-interval over replications of each (scope, key, metric), in a tidy table.

    Rows come scope by scope, metric by metric, key by key, those defined in no replication left out; a
    row first defined in a later replication comes after those defined earlier.
    """
    parts, position, offset = [], [], 0
    per_rep = sum(k.values.size for k in per_replication[0].values()) if per_replication else 0
    for scope, first in per_replication[0].items() if per_replication else ():
        v = np.stack([k[scope].values.T for k in per_replication])  # (replications, metrics, keys)
        defined = ~np.isnan(v)
        n = defined.sum(axis=0)
        mean = np.where(defined, v, 0.0).sum(axis=0) / np.maximum(n, 1)
        sd = np.sqrt((np.where(defined, v - mean, 0.0) ** 2).sum(axis=0) / np.maximum(n - 1, 1))
        m_idx, k_idx = np.nonzero(n > 0)
        parts.append(pd.DataFrame({
            "scope": scope, "key": np.array(first.keys, dtype=object)[k_idx],
            "metric": np.array(first.metrics, dtype=object)[m_idx], "mean": mean[m_idx, k_idx],
            "sd": np.where(n > 1, sd, np.nan)[m_idx, k_idx], "n": n[m_idx, k_idx]}))
        first_rep = defined.argmax(axis=0)[m_idx, k_idx]
        position.append(first_rep * per_rep + offset + m_idx * len(first.keys) + k_idx)
        offset += first.values.size
    if not parts:
        return pd.DataFrame(columns=["scope", "key", "metric", "mean", "ci_low", "ci_high", "n"])
    out = pd.concat(parts, ignore_index=True).iloc[np.argsort(np.concatenate(position), kind="stable")]
    out = out.reset_index(drop=True)
    half = t_half_width(out["sd"].to_numpy(), out["n"].to_numpy())
    # every KPI is non-negative and shares cannot exceed 1: clip the t-interval to the possible range
    bounded = out["metric"].isin(BOUNDED_BY_ONE).to_numpy()
    high = out["mean"].to_numpy() + half
    out["ci_low"] = np.clip(out["mean"].to_numpy() - half, 0.0, None)
    out["ci_high"] = np.where(bounded, np.minimum(high, 1.0), high)
    return out[["scope", "key", "metric", "mean", "ci_low", "ci_high", "n"]]


def per_replication_frame(per_replication: Sequence[Kpis]) -> pd.DataFrame:
    """The overall KPIs of every replication: metric, value, replication."""
    rows = [pd.DataFrame({"metric": list(k["overall"].metrics), "value": k["overall"].values[0], "replication": r})
            for r, k in enumerate(per_replication)]
    return pd.concat(rows, ignore_index=True)


def summary(kpis: pd.DataFrame, extra: dict) -> dict:
    """Headline numbers (means over replications) with their 95% CIs, plus run facts in `extra`."""
    overall = kpis[kpis["scope"] == "overall"].set_index("metric")
    out: dict = dict(extra)
    cis: dict = {}
    for metric in HEADLINE + MMC_EXTRA:
        if metric in overall.index:
            row = overall.loc[metric]
            out[metric] = _num(row["mean"])
            cis[metric] = [_num(row["ci_low"]), _num(row["ci_high"])]
    out["ci95"] = cis
    return out


def _num(x: float) -> float | None:
    """JSON-safe float: None for NaN."""
    x = float(x)
    return None if x != x else x
