"""The model's main assumptions and where each value comes from, shown in the report with this run's values.

The values are read from the run's configuration; this table only adds meaning and source. The sources are
those of the schema's comments (sim/config.py) and the scenario READMEs.
"""

from __future__ import annotations

from typing import Any

from sim.config import Config

ASSUMPTIONS: tuple[tuple[str, str, str], ...] = (
    ("demand.rate_per_1000_per_day", "needs per 1,000 inhabitants per working day in a mature network",
     "9 M requests a year / 68 M people / 250 working days (Cour des comptes 2024); at an average site's "
     "catchment it gives about 12 requests a day against 11 visits observed (Sénat report n° 778, 2022)"),
    ("demand.uptake", "share of that rate reaching a new itinerant service",
     "calibrated to the Saint-Amand-les-Eaux pilot's ~20 requests a week (préfecture du Nord, May 2021: 79 "
     "appointments in the first four weeks, 40 more booked)"),
    ("demand.operator_share", "share of requests by operator",
     "Cour des comptes 2024: ANTS 19%, CAF 16%, Assurance maladie 16%, DGFiP 15%, top five 80%; the fifth "
     "and the split of the rest are assumptions"),
    ("service.referred_share", "share of requests not resolved on the spot",
     "~82% resolved on the spot (Cour des comptes 2024)"),
    ("service.median_min", "median time at the desk per request (lognormal)",
     "assumption; one published anecdote: a licence renewal \"under 20 minutes\""),
    ("service.sigma", "log-scale spread of the time at the desk", "assumption"),
    ("citizens.max_travel_min", "longest trip a citizen makes to a session (min)",
     "travel-time promise: 95% of people less than 20 min from a site (parliamentary answer)"),
    ("citizens.appointment_share", "share of requests booked as appointments",
     "assumption; the 2021 pilot worked \"mostly by appointment\""),
    ("citizens.patience_mean_min", "mean patience of walk-ins in the queue (min, exponential)", "assumption"),
    ("citizens.p_return", "probability that a citizen turned away at closing comes to a later session",
     "assumption"),
    ("frequency.sessions", "daily session pattern", "pilot report: sessions \"two of 2h30, generally\""),
    ("travel.detour_factor", "road distance over straight-line distance", "usual range 1.2 to 1.4"),
    ("travel.speed_kmh", "average road speed (km/h)", "assumption"),
    ("staffing.cost_per_agent_hour", "loaded cost of an agent hour (EUR)", "assumption"),
    ("staffing.cost_per_km", "vehicle cost per km (EUR)", "assumption, close to the French mileage scale"),
)
"""(config path, what it is, source) of the main assumptions."""


def config_value(config: Config, path: str) -> Any:
    """The value at a dotted path of the configuration."""
    value: Any = config
    for part in path.split("."):
        value = getattr(value, part)
    return value


def show(value: Any) -> str:
    """A config value as short text: shares as '19%' lists, lists joined, numbers without trailing zeros."""
    if isinstance(value, dict):
        return ", ".join(f"{k} {show(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(show(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
