"""The KPIs computed with grouped numpy sums equal a plain pandas computation of the same definitions.

The reference below works from the request and session tables a user reads (`requests.parquet`,
`sessions.parquet`) with ordinary pandas group-bys, one KPI at a time, as the README defines them; it
shares no code with `sim.core.results` beyond the tables. Every KPI of every key of every scope of several
scenarios must agree to 1e-12 relative (NaN where both say undefined).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.build.scenario import build_scenario
from sim.cli import load_config
from sim.core.model import run_replication
from sim.core.results import replication_kpis, request_columns, request_table, session_table
from sim.core.territory import great_circle_km

SEEN = ("served", "referred")
NEVER_REACHED = ("no_session", "no_slot")
OUTCOMES = ("served", "referred", "reneged", "turned_away", "gave_up", "no_session", "no_slot")


def _by(frame: pd.DataFrame, key: pd.Series, keys: list[str]) -> pd.core.groupby.DataFrameGroupBy:
    return frame.groupby(key.astype(object).to_numpy(), sort=False)


def reference_request_metrics(req: pd.DataFrame, key: pd.Series, keys: list[str], days: int) -> pd.DataFrame:
    """Per key: counts by outcome, shares and wait statistics, with plain pandas."""
    out = pd.DataFrame(index=keys)
    groups = req.groupby(key.to_numpy(), sort=False)
    out["requests"] = groups.size()
    for o in OUTCOMES:
        out[o] = (req["outcome"] == o).groupby(key.to_numpy()).sum()
    out["turned_away_visits"] = groups["turned_away_visits"].sum()
    seen = req["outcome"].isin(SEEN)
    reached = ~req["outcome"].isin(NEVER_REACHED)
    met = seen & (req["service_start_min"] - req["need_min"] <= 7 * 1440)
    out["share_needs_met_within_7d"] = met.groupby(key.to_numpy()).mean()
    waits = req.loc[seen, "queue_wait_min"].groupby(key[seen].to_numpy())
    out["queue_wait_min_mean"] = waits.mean()
    for q in (50, 90, 95):
        out[f"queue_wait_min_p{q}"] = waits.quantile(q / 100)
    out["queue_wait_total_min_mean"] = req.loc[seen, "queue_wait_total_min"].groupby(key[seen].to_numpy()).mean()
    on_time = (seen & (req["queue_wait_min"] <= 20))[reached]
    out["share_wait_le_20min"] = on_time.groupby(key[reached].to_numpy()).mean()
    access = req.loc[reached, "access_delay_days"].groupby(key[reached].to_numpy())
    out["access_delay_days_mean"] = access.mean()
    for q in (50, 90, 95):
        out[f"access_delay_days_p{q}"] = access.quantile(q / 100)
    out["_seen_in_window"] = (seen & (req["service_start_min"] < days * 1440)).groupby(key.to_numpy()).sum()
    counts = ["requests", *OUTCOMES, "turned_away_visits", "_seen_in_window"]
    out[counts] = out[counts].fillna(0)
    return out.astype(float)


def reference_agent_metrics(ses: pd.DataFrame, key: pd.Series, keys: list[str], days: int, scenario) -> pd.DataFrame:
    """Per key: agents' hours, serving and driving shares, km, late openings and cost, with plain pandas."""
    keep = ses["start_min"] < days * 1440
    s, k = ses[keep], key[keep].to_numpy()
    present = np.where(s["opened_min"] < s["end_min"], np.maximum(s["left_min"], s["end_min"]) - s["opened_min"], 0.0)
    frame = pd.DataFrame({"present": present, "serving": s["serving_min"],
                          "driving": s["drive_before_min"] + s["drive_after_min"], "km": s["km_before"] + s["km_after"],
                          "late": (s["opened_min"] > s["start_min"] + 1e-9).astype(float)}, index=s.index)
    g = frame.groupby(k).sum().reindex(keys, fill_value=0.0)
    work = g["present"] + g["driving"]
    return pd.DataFrame({
        "agent_hours": work / 60, "driving_hours": g["driving"] / 60,
        "agent_utilisation": g["serving"] / g["present"].where(g["present"] > 0),
        "agent_idle_share": 1 - g["serving"] / g["present"].where(g["present"] > 0),
        "agent_driving_share": g["driving"] / work.where(work > 0), "km_driven": g["km"], "late_openings": g["late"],
        "cost": work / 60 * scenario.cost_per_agent_hour + g["km"] * scenario.cost_per_km,
    }, index=keys)


def reference_within_reach(scenario, max_travel_min: float, detour: float, speed_kmh: float) -> pd.Series:
    """1 for a commune with a site within `max_travel_min` by road (great circle x detour at speed), else 0:
    every commune-site pair computed in plain Python."""
    t = scenario.territory
    out = {}
    for c, lat, lon in zip(t.commune_insee, t.commune_lat, t.commune_lon):
        minutes = [great_circle_km(lat, lon, a, b) * detour / speed_kmh * 60 for a, b in zip(t.site_lat, t.site_lon)]
        out[str(c)] = float(min(minutes) <= max_travel_min)
    return pd.Series(out)


def reference_kpis(scenario, req: pd.DataFrame, ses: pd.DataFrame, within: pd.Series) -> dict[str, pd.DataFrame]:
    """Every scope's KPIs of one replication, keys as rows and metrics as columns."""
    t, days = scenario.territory, scenario.days
    weeks = max(int(round(days / 7)), 1)

    def monday(week: int) -> str:  # weeks are labelled by their Monday's date
        return (pd.Timestamp(scenario.day0) + pd.Timedelta(days=7 * (int(week) - 1))).strftime("%Y-%m-%d")
    site = req["site"].astype(object).where(req["site"].notna(), "none")
    scopes = {
        "overall": (pd.Series("all", index=req.index), ["all"]),
        "site": (site, [*t.site_id.tolist(), "none"]),
        "commune": (req["commune"].astype(object), list(t.commune_insee)),
        "operator": (req["operator"].astype(object), list(scenario.operators)),
        "week": (req["week"].clip(1, weeks).map(monday), [monday(w) for w in range(1, weeks + 1)]),
    }
    hosts = set(t.commune_insee[t.site_commune])
    site_commune = dict(zip(t.site_id, t.commune_insee[t.site_commune]))
    out = {}
    for scope, (key, keys) in scopes.items():
        m = reference_request_metrics(req, key, keys, days)
        if scope in ("overall", "commune"):
            visit = ~req["outcome"].isin(NEVER_REACHED) & req["commune"].astype(str).isin(hosts)
            own = req.loc[visit, "site"].astype(str).map(site_commune) == req.loc[visit, "commune"].astype(str)
            m["own_site_share"] = own.groupby(key[visit].to_numpy()).mean()
            people = pd.Series(t.population, index=[str(c) for c in t.commune_insee])
            m["population_within_reach_share"] = within.reindex(m.index) if scope == "commune" else \
                (people * within).sum() / people.sum()
        if scope in ("overall", "site"):
            agent_key = pd.Series("all", index=ses.index) if scope == "overall" else ses["site"].astype(object)
            agents = reference_agent_metrics(ses, agent_key, [k for k in keys if k != "none"], days, scenario)
            m = m.join(agents)
            m["cost_per_served"] = m["cost"] / m["_seen_in_window"].where(m["_seen_in_window"] > 0)
        if scope == "overall":
            m["seen_per_week"] = m["_seen_in_window"] / (days / 7)
        out[scope] = m.drop(columns="_seen_in_window")
    out["agent"] = reference_agent_metrics(ses, ses["agent"].astype(object), list(scenario.rota.agent_names), days, scenario)
    return out


@pytest.mark.parametrize("overrides", [
    [],
    ["delivery=bus", "experiment.weeks=6"],
    ["delivery=fixed", "experiment.weeks=4"],
    ["staffing.agents=2", "frequency=weekly", "choice=logit", "experiment.weeks=5"],
    ["demand=mature", "citizens.appointment_share=1", "experiment.weeks=4"],
    ["scenario=agen", "citizens.p_return=1", "citizens.patience_mean_min=15"],
], ids=["default", "bus", "fixed", "two_agents_logit", "mature_bookers", "agen_returns"])
def test_numpy_kpis_equal_a_plain_pandas_reference(overrides: list[str]) -> None:
    cfg = load_config(overrides)
    scenario = build_scenario(cfg)
    within = reference_within_reach(scenario, cfg.citizens.max_travel_min, cfg.travel.detour_factor, cfg.travel.speed_kmh)
    for replication in (0, 1):
        log = run_replication(scenario, 5, replication)
        got = replication_kpis(scenario, log, request_columns(scenario, log))
        want = reference_kpis(scenario, request_table(scenario, log, replication), session_table(scenario, log, replication),
                              within)
        assert set(got) == set(want)
        for scope, ours in got.items():
            ref = want[scope].reindex(index=list(ours.keys))
            assert set(ours.metrics) == set(ref.columns), (scope, set(ours.metrics) ^ set(ref.columns))
            expected = ref[list(ours.metrics)].to_numpy(float)
            same_nan = np.isnan(ours.values) == np.isnan(expected)
            assert same_nan.all(), (scope, np.argwhere(~same_nan)[:5])
            np.testing.assert_allclose(ours.values, expected, rtol=1e-12, atol=1e-12, equal_nan=True,
                                       err_msg=f"{overrides} replication {replication} scope {scope}")


def test_aggregation_equals_a_pandas_group_by_of_the_replications() -> None:
    """Means, 95% t-intervals and counts over replications as pandas computes them from the tidy rows."""
    from scipy import stats

    from sim.core.results import BOUNDED_BY_ONE, aggregate

    scenario = build_scenario(load_config(["experiment.weeks=4"]))
    per_rep = []
    for r in range(6):
        log = run_replication(scenario, 2, r)
        per_rep.append(replication_kpis(scenario, log, request_columns(scenario, log)))
    rows = [pd.DataFrame({"scope": scope, "key": np.repeat(np.array(v.keys, dtype=object), len(v.metrics)),
                          "metric": np.tile(np.array(v.metrics, dtype=object), len(v.keys)),
                          "value": v.values.ravel()})
            for k in per_rep for scope, v in k.items()]
    long = pd.concat(rows, ignore_index=True).dropna(subset=["value"])
    g = long.groupby(["scope", "key", "metric"])["value"].agg(mean="mean", sd="std", n="count")
    half = stats.t.ppf(0.975, np.maximum(g["n"] - 1, 1)) * g["sd"] / np.sqrt(g["n"])
    want = pd.DataFrame({"mean": g["mean"], "ci_low": (g["mean"] - half).clip(lower=0), "n": g["n"]})
    want["ci_high"] = np.where(g.index.get_level_values("metric").isin(BOUNDED_BY_ONE),
                               np.minimum(g["mean"] + half, 1.0), g["mean"] + half)
    got = aggregate(per_rep).set_index(["scope", "key", "metric"])
    assert set(got.index) == set(want.index) and not got.index.duplicated().any()
    got = got.loc[want.index]
    assert (got["n"] == want["n"]).all()
    for col in ("mean", "ci_low", "ci_high"):
        np.testing.assert_allclose(got[col], want[col], rtol=1e-12, atol=1e-12, equal_nan=True, err_msg=col)
