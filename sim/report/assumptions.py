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
     "assumption; the 2021 pilot worked \"mostly by appointment\"; in the default run, none gives 28% of needs "
     "leaving the queue and 35% met within 7 days, all gives 0.1% and 99%"),
    ("citizens.choice.walk_in", "how a walk-in picks a session",
     "walk-ins go to the nearest site (planning of mobile medical units, which separates walk-ins from booked "
     "demand; mobile libraries and clinics serve the people around each stop); the pilots' \"au plus près de "
     "chez eux\""),
    ("citizens.choice.booker", "how a booker picks a session among those with a free slot",
     "booked demand can be steered to a session and site (same literature); the use of services falls with "
     "distance (distance decay): travel minutes plus a weight per day of delay"),
    ("citizens.choice.weight_min_per_day", "travel minutes a booker gives to be seen a day sooner",
     "assumption: the whole 20-minute reach for a week sooner (20 / 7); docs/choice.md shows the own-commune "
     "share, the least-used site and the access delay from 0 to 60"),
    ("citizens.arrival_profile", "when walk-ins arrive within a session",
     "assumption: many arrive near the opening (brief); front-loaded is Beta(1, shape), 27% in the first tenth; "
     "the strongest driver of leaving the queue: uniform arrivals bring it from 16% to 10.5% of needs in the "
     "default run"),
    ("citizens.front_loaded_shape", "how strongly arrivals crowd the opening (Beta(1, shape))",
     "assumption; 1.5 gives 12% of needs leaving the queue, 3 gives 16%, 6 gives 19% in the default run"),
    ("citizens.patience_mean_min", "mean patience of walk-ins in the queue (min, exponential)",
     "assumption; 30 min gives 20% of needs leaving the queue, 60 gives 16%, 120 gives 11% in the default run"),
    ("citizens.p_return", "probability that a citizen turned away at closing comes to a later session",
     "assumption"),
    ("citizens.horizon_days", "days from the need within which a citizen looks for a session or a slot",
     "assumption"),
    ("citizens.slot_min", "length of an appointment slot (min)", "assumption"),
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
