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

import numpy as np
import pandas as pd

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
    "share_wait_le_20min", "own_site_share", "agent_utilisation", "agent_driving_share", "agent_idle_share",
    "km_driven", "agent_hours", "driving_hours", "late_openings", "cost", "cost_per_served", "seen_per_week",
)
MMC_EXTRA: tuple[str, ...] = ("p_wait", "abandon_share", "queue_wait_all_min_mean")
BOUNDED_BY_ONE: tuple[str, ...] = (
    "share_wait_le_20min", "share_needs_met_within_7d", "own_site_share", "agent_utilisation",
    "agent_driving_share", "agent_idle_share", "p_wait", "abandon_share",
)
QUANTILES: tuple[int, ...] = (50, 90, 95)


def request_table(scenario: Scenario, log: ReplicationLog, replication: int) -> pd.DataFrame:
    """One row per request with its final outcome, access delay and queue wait (last visit and all visits)."""
    p = log.plan
    t = scenario.territory
    outcome = log.outcome
    reached = (outcome != NO_SESSION) & (outcome != NO_SLOT)
    seen = (outcome == SERVED) | (outcome == REFERRED)
    session = log.session
    # the site of the last visit; a booker who found no free slot is counted at the site they asked for
    where = np.where(session >= 0, session, p.wanted)
    site = np.where(where >= 0, scenario.rota.session_site[np.maximum(where, 0)], -1)
    close = scenario.rota.session_end[np.maximum(session, 0)]
    wait = np.full(len(outcome), np.nan)
    wait[seen] = log.service_start_min[seen] - log.arrival_min[seen]
    rn = outcome == RENEGED
    wait[rn] = p.patience_min[rn]
    away = (outcome == TURNED_AWAY) | (outcome == GAVE_UP)
    wait[away] = close[away] - log.arrival_min[away]
    access = np.where(reached, (log.arrival_min - p.need_min) / DAY_MIN, np.nan)
    return pd.DataFrame({
        "replication": np.full(len(outcome), replication, dtype=np.int16),
        "request": np.arange(len(outcome), dtype=np.int32),
        "commune": pd.Categorical.from_codes(p.commune, categories=list(t.commune_insee)),
        "operator": pd.Categorical.from_codes(p.operator.astype(np.int16), categories=list(scenario.operators)),
        "site": pd.Categorical.from_codes(site, categories=list(t.site_id)),
        "session": session,
        "week": (p.need_min // WEEK_MIN).astype(np.int16) + 1,
        "booker": p.booker,
        "appointment": p.booker & (p.session >= 0),
        "need_min": p.need_min,
        "arrival_min": np.where(reached, log.arrival_min, np.nan),
        "service_start_min": log.service_start_min,
        "service_end_min": log.service_end_min,
        "outcome": pd.Categorical.from_codes(outcome, categories=list(OUTCOMES)),
        "visits": log.visits,
        "turned_away_visits": log.turned_away_visits,
        "access_delay_days": access,
        "queue_wait_min": wait,
        "queue_wait_total_min": wait + log.earlier_wait_min,
    })


def session_table(scenario: Scenario, log: ReplicationLog, replication: int) -> pd.DataFrame:
    """One row per (agent, session): the agent's drive there, opening, leaving and time serving."""
    rota = scenario.rota
    t = scenario.territory
    sess = rota.row_session
    return pd.DataFrame({
        "replication": np.full(len(sess), replication, dtype=np.int16),
        "agent": pd.Categorical.from_codes(rota.row_agent, categories=list(rota.agent_names)),
        "session": sess,
        "site": pd.Categorical.from_codes(rota.session_site[sess], categories=list(t.site_id)),
        "day": (rota.row_start // DAY_MIN).astype(np.int32),
        "start_min": rota.row_start,
        "end_min": rota.row_end,
        "drive_before_min": scenario.drive_before_min,
        "km_before": scenario.km_before,
        "opened_min": log.opened_min,
        "left_min": log.left_min,
        "serving_min": log.serving_min,
        "drive_after_min": scenario.drive_after_min,
        "km_after": scenario.km_after,
    })


def _by_key(code: np.ndarray, n_keys: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Sum of `weights` (or count) per key code."""
    return np.bincount(code, weights=weights, minlength=n_keys)[:n_keys].astype(float)


def _mean_by_key(code: np.ndarray, values: np.ndarray, n_keys: int) -> np.ndarray:
    """Mean of `values` per key; NaN for a key with none."""
    return _share(_by_key(code, n_keys, values), _by_key(code, n_keys))


def _quantiles_by_key(code: np.ndarray, values: np.ndarray, n_keys: int) -> dict[int, np.ndarray]:
    """The QUANTILES of `values` per key by one grouped sort (linear interpolation, as numpy's default)."""
    order = np.lexsort((values, code))
    v, c = values[order], code[order]
    count = np.bincount(c, minlength=n_keys)[:n_keys]
    first = np.cumsum(count) - count
    out = {}
    for q in QUANTILES:
        res = np.full(n_keys, np.nan)
        has = count > 0
        pos = (count[has] - 1) * (q / 100.0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, count[has] - 1)
        a, b = v[first[has] + lo], v[first[has] + hi]
        res[has] = a + (b - a) * (pos - lo)
        out[q] = res
    return out


def _stats(out: dict[str, np.ndarray], name: str, code: np.ndarray, values: np.ndarray, n_keys: int) -> None:
    """Columns <name>_mean, _p50, _p90 and _p95 per key into `out`."""
    out[f"{name}_mean"] = _mean_by_key(code, values, n_keys)
    for q, col in _quantiles_by_key(code, values, n_keys).items():
        out[f"{name}_p{q}"] = col


def _share(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0 (the ratio is undefined)."""
    defined = denominator > 0
    return np.where(defined, numerator / np.where(defined, denominator, 1.0), np.nan)


def request_metrics(scenario: Scenario, df: pd.DataFrame, code: np.ndarray, keys: list[str]) -> pd.DataFrame:
    """Counts by outcome and wait statistics, one row per key in `keys` (`code`: each request's key)."""
    k = len(keys)
    outcome = df["outcome"].cat.codes.to_numpy().astype(np.int64)
    counts = np.bincount(code * len(OUTCOMES) + outcome, minlength=k * len(OUTCOMES)).reshape(k, len(OUTCOMES))
    out: dict[str, np.ndarray] = {"requests": counts.sum(axis=1).astype(float)}
    for j, name in enumerate(OUTCOMES):
        out[name] = counts[:, j].astype(float)
    out["turned_away_visits"] = _by_key(code, k, df["turned_away_visits"].to_numpy().astype(float))
    seen = (outcome == SERVED) | (outcome == REFERRED)
    reached = (outcome != NO_SESSION) & (outcome != NO_SLOT)
    start = df["service_start_min"].to_numpy()
    need = df["need_min"].to_numpy()
    wait = df["queue_wait_min"].to_numpy()
    met = seen & (start - need <= NEED_MET_DAYS * DAY_MIN)
    out["share_needs_met_within_7d"] = _share(_by_key(code, k, met.astype(float)), out["requests"])
    _stats(out, "queue_wait_min", code[seen], wait[seen], k)
    out["queue_wait_total_min_mean"] = _mean_by_key(code[seen], df["queue_wait_total_min"].to_numpy()[seen], k)
    on_time = (seen & (wait <= WAIT_TARGET_MIN))[reached]
    out["share_wait_le_20min"] = _mean_by_key(code[reached], on_time.astype(float), k)
    _stats(out, "access_delay_days", code[reached], df["access_delay_days"].to_numpy()[reached], k)
    # seen at a desk within the analysed weeks: what the agents' cost over the same weeks pays for
    in_window = seen & (start < scenario.days * DAY_MIN)
    out["seen_in_window"] = _by_key(code, k, in_window.astype(float))
    return pd.DataFrame(out, index=pd.Index(keys, name="key"))


def _own_site_share(scenario: Scenario, df: pd.DataFrame, code: np.ndarray, k: int) -> np.ndarray:
    """Per key, the share of desk visits by residents of communes hosting a site made at a site of their own commune."""
    t = scenario.territory
    commune = df["commune"].cat.codes.to_numpy()
    site = df["site"].cat.codes.to_numpy()
    outcome = df["outcome"].cat.codes.to_numpy()
    hosts = np.zeros(t.n_communes, dtype=bool)
    hosts[t.site_commune] = True
    visit = (outcome != NO_SESSION) & (outcome != NO_SLOT) & hosts[commune]
    own = visit & (t.site_commune[np.maximum(site, 0)] == commune)
    return _share(_by_key(code[visit], k, own[visit].astype(float)), _by_key(code[visit], k))


def _scope_codes(scenario: Scenario, df: pd.DataFrame, scope: str) -> tuple[np.ndarray, list[str]]:
    """Each request's key code at `scope`, and every key of the scope (including those with no request)."""
    t = scenario.territory
    if scope == "overall":
        return np.zeros(len(df), dtype=np.int64), ["all"]
    if scope == "site":
        code = df["site"].cat.codes.to_numpy().astype(np.int64)
        return np.where(code >= 0, code, t.n_sites), [*t.site_id.tolist(), NO_SITE]
    if scope == "week":
        weeks = max(int(round(scenario.days / 7)), 1)
        return np.clip(df["week"].to_numpy().astype(np.int64) - 1, 0, weeks - 1), [str(w) for w in range(1, weeks + 1)]
    column = df[scope]
    return column.cat.codes.to_numpy().astype(np.int64), [str(c) for c in column.cat.categories]


def _agent_metrics(scenario: Scenario, log: ReplicationLog, by: str | None) -> pd.DataFrame:
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
    out = pd.DataFrame(index=pd.Index(keys, name="key"))
    out["agent_hours"] = work / 60.0
    out["driving_hours"] = driving / 60.0
    out["agent_utilisation"] = _share(serving, present_t)
    out["agent_idle_share"] = 1.0 - out["agent_utilisation"]
    out["agent_driving_share"] = _share(driving, work)
    out["km_driven"] = km
    out["late_openings"] = total((opened > start + 1e-9).astype(float))
    out["cost"] = work / 60.0 * scenario.cost_per_agent_hour + km * scenario.cost_per_km
    return out


def replication_kpis(scenario: Scenario, log: ReplicationLog, requests: pd.DataFrame) -> pd.DataFrame:
    """Tidy KPIs of one replication: scope, key, metric, value."""
    if scenario.queue is not None:
        return scenario.queue.kpis(scenario, log, requests)
    parts = []
    weeks = scenario.days / 7.0
    for scope in SCOPES:
        code, keys = _scope_codes(scenario, requests, scope)
        m = request_metrics(scenario, requests, code, keys)
        if scope in ("overall", "commune"):
            m["own_site_share"] = _own_site_share(scenario, requests, code, len(keys))
        if scope in ("overall", "site"):
            agents = _agent_metrics(scenario, log, None if scope == "overall" else "site")
            m = m.join(agents, how="left")
            m["cost_per_served"] = _share(m["cost"].to_numpy(), m["seen_in_window"].to_numpy())
        if scope == "overall":
            m["seen_per_week"] = m["seen_in_window"] / weeks
        parts.append(tidy(m.drop(columns="seen_in_window"), scope))
    parts.append(tidy(_agent_metrics(scenario, log, "agent"), "agent"))
    return pd.concat(parts, ignore_index=True)


def tidy(wide: pd.DataFrame, scope: str) -> pd.DataFrame:
    long = wide.rename_axis("key").reset_index().melt(id_vars="key", var_name="metric", value_name="value")
    long.insert(0, "scope", scope)
    return long


def aggregate(per_replication: list[pd.DataFrame]) -> pd.DataFrame:
    """Mean and 95% t-interval over replications of each (scope, key, metric)."""
    all_reps = pd.concat([df.assign(replication=r) for r, df in enumerate(per_replication)], ignore_index=True)
    g = all_reps.dropna(subset=["value"]).groupby(["scope", "key", "metric"], sort=False)["value"]
    out = g.agg(mean="mean", sd="std", n="count").reset_index()
    half = pd.Series(t_half_width(out["sd"].to_numpy(), out["n"].to_numpy()), index=out.index)
    # every KPI is non-negative and shares cannot exceed 1: clip the t-interval to the possible range
    out["ci_low"] = (out["mean"] - half).clip(lower=0.0)
    out["ci_high"] = (out["mean"] + half).where(~out["metric"].isin(BOUNDED_BY_ONE), (out["mean"] + half).clip(upper=1.0))
    return out[["scope", "key", "metric", "mean", "ci_low", "ci_high", "n"]]


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
