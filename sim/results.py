"""From a replication's columns to the request table and KPIs; across replications, means and 95% CIs.

Waiting has two parts: the access delay (days from the need to the desk visit) and the queue wait
(minutes at the desk). Queue-wait statistics cover requests seen at the desk (served or referred);
`share_wait_le_20min` is the share of citizens reaching a desk who were seen within 20 minutes, so that
those who left the queue or were turned away count as not seen in time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.typing import SeriesGroupBy
from scipy import stats

from sim.config import OPERATORS
from sim.model import GAVE_UP, NO_SESSION, OUTCOMES, REFERRED, RENEGED, SERVED, TURNED_AWAY, ReplicationLog
from sim.rota import DAY_MIN
from sim.scenario import Scenario

WAIT_TARGET_MIN = 20.0
SCOPES: tuple[str, ...] = ("overall", "site", "commune", "operator", "week")
HEADLINE: tuple[str, ...] = (
    "requests", "served", "referred", "turned_away", "reneged", "gave_up", "no_session", "turned_away_visits",
    "queue_wait_min_mean", "queue_wait_min_p50", "queue_wait_min_p90", "queue_wait_min_p95",
    "access_delay_days_mean", "access_delay_days_p50", "access_delay_days_p90", "access_delay_days_p95",
    "share_wait_le_20min", "agent_utilisation", "agent_driving_share", "agent_idle_share", "km_driven",
    "agent_hours", "driving_hours", "late_openings", "cost", "cost_per_served", "seen_per_week",
)
MMC_EXTRA: tuple[str, ...] = ("p_wait", "abandon_share", "queue_wait_all_min_mean")
BOUNDED_BY_ONE: tuple[str, ...] = (
    "share_wait_le_20min", "agent_utilisation", "agent_driving_share", "agent_idle_share", "p_wait", "abandon_share",
)


def request_table(scenario: Scenario, log: ReplicationLog, replication: int) -> pd.DataFrame:
    """One row per request with its final outcome, access delay and queue wait."""
    p = log.plan
    t = scenario.territory
    outcome = log.outcome
    reached = outcome != NO_SESSION
    seen = (outcome == SERVED) | (outcome == REFERRED)
    session = log.session
    site = np.where(session >= 0, scenario.rota.session_site[np.maximum(session, 0)], -1)
    close = scenario.rota.session_end[np.maximum(session, 0)]
    wait = np.full(len(outcome), np.nan)
    wait[seen] = log.service_start_min[seen] - log.arrival_min[seen]
    rn = outcome == RENEGED
    wait[rn] = p.patience_min[rn]
    away = (outcome == TURNED_AWAY) | (outcome == GAVE_UP)
    wait[away] = close[away] - log.arrival_min[away]
    access = np.where(reached, (log.arrival_min - p.need_min) / DAY_MIN, np.nan)
    site_ids = np.append(t.site_id, "")
    return pd.DataFrame({
        "replication": np.full(len(outcome), replication, dtype=np.int16),
        "request": np.arange(len(outcome), dtype=np.int32),
        "commune": pd.Categorical.from_codes(p.commune, categories=list(t.commune_insee)),
        "operator": pd.Categorical.from_codes(p.operator.astype(np.int16), categories=list(OPERATORS) if scenario.mmc is None else ["mmc"]),
        "site": pd.Categorical.from_codes(np.where(site >= 0, site, -1), categories=list(site_ids[:-1])),
        "session": session,
        "week": (p.need_min // (7 * DAY_MIN)).astype(np.int16) + 1,
        "appointment": p.appointment,
        "need_min": p.need_min,
        "arrival_min": np.where(reached, log.arrival_min, np.nan),
        "service_start_min": log.service_start_min,
        "service_end_min": log.service_end_min,
        "outcome": pd.Categorical.from_codes(outcome, categories=list(OUTCOMES)),
        "visits": log.visits,
        "turned_away_visits": log.turned_away_visits,
        "access_delay_days": access,
        "queue_wait_min": wait,
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
        "day": (rota.session_start[sess] // DAY_MIN).astype(np.int32),
        "start_min": rota.session_start[sess],
        "end_min": rota.session_end[sess],
        "drive_before_min": scenario.drive_before_min,
        "km_before": scenario.km_before,
        "opened_min": log.opened_min,
        "left_min": log.left_min,
        "serving_min": log.serving_min,
        "drive_after_min": scenario.drive_after_min,
        "km_after": scenario.km_after,
    })


def _request_metrics(df: pd.DataFrame, key: str | None) -> pd.DataFrame:
    """Counts by outcome and wait statistics, one row per value of `key` (or one row overall)."""
    if key:
        keys = df[key]
    else:  # one category rather than a string per row, which pandas would have to factorize
        keys = pd.Series(pd.Categorical.from_codes(np.zeros(len(df), dtype=np.int8), categories=["all"]), index=df.index)
    code = df["outcome"].cat.codes.to_numpy()
    outcome = pd.Series(code, index=df.index)
    counts = outcome.groupby([keys, outcome], observed=True).size().unstack(fill_value=0)
    counts = counts.reindex(columns=range(len(OUTCOMES)), fill_value=0)
    counts.columns = list(OUTCOMES)
    out = counts.astype(float)
    out.insert(0, "requests", counts.sum(axis=1).astype(float))
    out["turned_away_visits"] = df.groupby(keys, observed=True)["turned_away_visits"].sum().astype(float)
    seen = (code == SERVED) | (code == REFERRED)
    reached = code != NO_SESSION
    _mean_and_quantiles(out, "queue_wait_min", df.loc[seen, "queue_wait_min"].groupby(keys[seen], observed=True))
    on_time = pd.Series(seen & (df["queue_wait_min"].to_numpy() <= WAIT_TARGET_MIN), index=df.index)
    out["share_wait_le_20min"] = on_time[reached].groupby(keys[reached], observed=True).mean()
    _mean_and_quantiles(out, "access_delay_days",
                        df.loc[reached, "access_delay_days"].groupby(keys[reached], observed=True))
    out.index = out.index.astype(str)
    return out


def _mean_and_quantiles(out: pd.DataFrame, name: str, groups: SeriesGroupBy) -> None:
    """Add columns <name>_mean, _p50, _p90 and _p95 to `out`; the groups' sorted copies go when this returns."""
    out[f"{name}_mean"] = groups.mean()
    levels = [q / 100 for q in (50, 90, 95)]
    quantiles = groups.quantile(levels)  # one sort of each group for the three
    for q, level in zip((50, 90, 95), levels):
        out[f"{name}_p{q}"] = quantiles.xs(level, level=-1) if len(quantiles) else quantiles


def _agent_metrics(scenario: Scenario, log: ReplicationLog, by: str | None) -> pd.DataFrame:
    """Agent time (serving, idle in session, driving), km and cost over the analysed days."""
    rota = scenario.rota
    start = rota.session_start[rota.row_session]
    keep = start < scenario.analysis_days * DAY_MIN
    opened = log.opened_min
    end = rota.session_end[rota.row_session]
    present = np.where(opened < end, np.maximum(log.left_min, end) - opened, 0.0)  # never opened: 0
    frame = pd.DataFrame({
        "serving": log.serving_min,
        "present": present,
        "driving": scenario.drive_before_min + scenario.drive_after_min,
        "km": scenario.km_before + scenario.km_after,
        "late": (opened > start + 1e-9).astype(float),
    })[keep]
    if by == "site":
        keys = pd.Series(scenario.territory.site_id[rota.session_site[rota.row_session]][keep], index=frame.index)
    elif by == "agent":
        keys = pd.Series(np.array(rota.agent_names)[rota.row_agent][keep], index=frame.index)
    else:
        keys = pd.Series("all", index=frame.index)
    g = frame.groupby(keys).sum()
    out = pd.DataFrame(index=g.index)
    work = g["present"] + g["driving"]
    out["agent_hours"] = work / 60.0
    out["driving_hours"] = g["driving"] / 60.0
    out["agent_utilisation"] = g["serving"] / g["present"].where(g["present"] > 0)
    out["agent_idle_share"] = 1.0 - out["agent_utilisation"]
    out["agent_driving_share"] = g["driving"] / work.where(work > 0)
    out["km_driven"] = g["km"]
    out["late_openings"] = g["late"]
    out["cost"] = work / 60.0 * scenario.cost_per_agent_hour + g["km"] * scenario.cost_per_km
    return out


def replication_kpis(scenario: Scenario, log: ReplicationLog, requests: pd.DataFrame) -> pd.DataFrame:
    """Tidy KPIs of one replication: scope, key, metric, value."""
    if scenario.mmc is not None:
        return _mmc_kpis(scenario, log, requests)
    parts = []
    weeks = scenario.demand_days / 7.0
    for scope in SCOPES:
        m = _request_metrics(requests, None if scope == "overall" else scope)
        if scope in ("overall", "site"):
            agents = _agent_metrics(scenario, log, None if scope == "overall" else "site")
            m = m.join(agents, how="outer")
            seen = m["served"].fillna(0) + m["referred"].fillna(0)
            m["cost_per_served"] = m["cost"] / seen.where(seen > 0)
        if scope == "overall":
            m["seen_per_week"] = (m["served"] + m["referred"]) / weeks
        parts.append(_tidy(m, scope))
    parts.append(_tidy(_agent_metrics(scenario, log, "agent"), "agent"))
    return pd.concat(parts, ignore_index=True)


def _mmc_kpis(scenario: Scenario, log: ReplicationLog, requests: pd.DataFrame) -> pd.DataFrame:
    """Queueing-theory scenario: KPIs over requests arriving after the warm-up."""
    df = requests[requests["need_min"].to_numpy() >= scenario.warmup_min]
    m = _request_metrics(df, None)
    wait = df["queue_wait_min"].to_numpy()
    m["p_wait"] = float(np.mean(wait > 0)) if len(df) else np.nan
    m["abandon_share"] = float(np.mean(df["outcome"].cat.codes.to_numpy() == RENEGED)) if len(df) else np.nan
    m["queue_wait_all_min_mean"] = float(np.mean(wait)) if len(df) else np.nan
    span = scenario.mmc.hours * 60.0 - scenario.warmup_min
    busy = np.nansum(np.clip(log.service_end_min, scenario.warmup_min, scenario.mmc.hours * 60.0)
                     - np.clip(log.service_start_min, scenario.warmup_min, scenario.mmc.hours * 60.0))
    m["agent_utilisation"] = busy / (scenario.mmc.servers * span)
    return _tidy(m, "overall")


def _tidy(wide: pd.DataFrame, scope: str) -> pd.DataFrame:
    long = wide.rename_axis("key").reset_index().melt(id_vars="key", var_name="metric", value_name="value")
    long.insert(0, "scope", scope)
    return long


def aggregate(per_replication: list[pd.DataFrame]) -> pd.DataFrame:
    """Mean and 95% t-interval over replications of each (scope, key, metric)."""
    all_reps = pd.concat([df.assign(replication=r) for r, df in enumerate(per_replication)], ignore_index=True)
    g = all_reps.dropna(subset=["value"]).groupby(["scope", "key", "metric"], sort=False)["value"]
    out = g.agg(mean="mean", sd="std", n="count").reset_index()
    half = stats.t.ppf(0.975, np.maximum(out["n"] - 1, 1)) * out["sd"] / np.sqrt(out["n"])
    half = half.where(out["n"] > 1)
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
