"""`python -m sim --help`: what the tool does, its config groups and main settings with units and defaults.

Built from configs/ (each option's first comment line) and the schema's defaults, so it cannot drift from them.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import yaml

from sim.config import Config

ABOUT = """\
Simulates an itinerant France Services: citizens' needs arise per commune and operator, they choose a
session they can reach, queue at the desk and are served, turned away or give up, while agents drive
between sites on a rota. Prints the headline KPIs with 95% confidence intervals and writes them, the
figures and a self-contained report.html into the run folder (outputs/<date>/<time>/).
"""

USAGE = """\
usage: python -m sim [group=option ...] [setting=value ...]
       python -m sim -m setting=a,b,c ...         (a sweep: one run per combination, resumable)

examples:
  python -m sim                                      the Saint-Amand-les-Eaux pilot, 13 weeks, 10 replications
  python -m sim staffing.agents=2 frequency.visits_per_site_per_week=1
  python -m sim scenario=vigny demand=mature
  python -m sim experiment=pilots_vs_alternatives    itinerant agent vs fixed site vs bus, same needs
  python -m sim -m staffing.agents=1,2,3 frequency=default,weekly experiment.replications=20
"""

KNOBS: tuple[tuple[str, str], ...] = (
    ("staffing.agents", "agents driving the rota"),
    ("frequency.visits_per_site_per_week", "visits of each site a week (0.5: every other week)"),
    ("frequency.sessions", "a visit's sessions, HH:MM-HH:MM"),
    ("staffing.workday_max_h", "h: sessions plus driving in an agent's day"),
    ("citizens.appointment_share", "share of citizens who book (0-1); the others walk in"),
    ("citizens.max_travel_min", "min: farthest a citizen travels to a session"),
    ("citizens.horizon_days", "days: how long a need waits for a session before it counts as unmet"),
    ("citizens.patience_mean_min", "min: mean patience of a walk-in in the queue"),
    ("citizens.choice.booker", "how bookers choose: cost | nearest | earliest | logit"),
    ("demand.uptake", "share of the mature national rate reaching the service (demand=mature: 1)"),
    ("demand.rate_per_1000_per_day", "needs per 1,000 inhabitants per working day at maturity"),
    ("service.median_min", "min: median time at the desk"),
    ("staffing.cost_per_agent_hour", "EUR an agent-hour"),
    ("staffing.cost_per_km", "EUR a km driven"),
    ("travel.speed_kmh", "km/h on the road"),
    ("experiment.weeks", "weeks simulated"),
    ("experiment.replications", "independent replications (or auto)"),
    ("seed", "seed of every random stream: same seed, same numbers"),
)

MORE = """\
outputs: kpis.csv, summary.json, sessions.parquet, requests.parquet, figures/, report.html, run.json
exit codes: 0 done, 2 bad input (one line naming the setting; nothing written), 1 a fault (disk full,
  runs of a sweep incomplete: run the same command again to resume)
more: python -m sim --cfg job (the whole config)   python -m sim --hydra-help (Hydra's own flags)
      README.md, docs/ (choice, delivery, sweeps, performance), scenarios/<name>/README.md
"""


def _default(path: str) -> object:
    """The schema's default for a dotted setting."""
    node: object = Config()
    for part in path.split("."):
        node = getattr(node, part)
    return node


def _summary(option: Path) -> str:
    """The first sentence-ish line of an option file's leading comment ('' if it has none)."""
    for line in option.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if text and not text.startswith("@package"):
            return text
    return ""


def _group_defaults(config_dir: Path) -> dict[str, str]:
    """Each group's default option, from the defaults list of config.yaml."""
    defaults = yaml.safe_load((config_dir / "config.yaml").read_text(encoding="utf-8")).get("defaults", [])
    return {k: str(v) for entry in defaults if isinstance(entry, dict) for k, v in entry.items() if "/" not in k}


def help_text(config_dir: Path, width: int = 110) -> str:
    """The whole help page."""
    chosen = _group_defaults(config_dir)
    lines = [ABOUT, USAGE, "config groups (group=option; * the default):"]
    for group in sorted(p for p in config_dir.iterdir() if p.is_dir() and p.name != "hydra"):
        lines.append(f"  {group.name}")
        for option in sorted(group.glob("*.yaml")):
            mark = "*" if chosen.get(group.name) == option.stem else " "
            head = f"   {mark} {option.stem:<24}"
            summary = textwrap.shorten(_summary(option), width - len(head) - 1, placeholder=" ...")
            lines.append(f"{head} {summary}".rstrip())
    lines += ["", "main settings (setting=value; default in brackets; all: --cfg job):"]
    for path, what in KNOBS:
        default = _default(path)
        shown = ",".join(default) if isinstance(default, list) else default
        lines.append(f"  {path:<36} {what} [{shown}]")
    lines += ["", MORE]
    return "\n".join(lines)

