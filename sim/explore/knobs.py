"""The settings a policy team moves in the explorer, each a config key with its unit and a line of help.

A knob's value starts at the composed configuration's (the scenario's own defaults included) and becomes a
Hydra override only where the user changed it, so the command shown beside a run is short and reproduces it.
Values are checked by the configuration's own validation (`sim.cli.load_config`), whose one-line messages
are shown in the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sim.config import Config, repo_root
from sim.core.choice import RULES



def _group_options(group: str, first: str) -> tuple[str, ...]:
    """The files of a config group (configs/<group>/*.yaml), its default first: a new mode's file shows up."""
    names = sorted(p.stem for p in (repo_root() / "configs" / group).glob("*.yaml"))
    return tuple(sorted(names, key=lambda n: n != first))


DELIVERY_MODES = _group_options("delivery", "itinerant")
DEMANDS = _group_options("demand", "default")
CHOICE_RULES = tuple(sorted(RULES, key=lambda n: (n not in ("nearest", "cost"), n)))
"""The registered choice rules (sim.core.choice.RULES), the defaults first."""
MODE_KEYS = {
    "agents": {"itinerant": "staffing.agents", "fixed": "delivery.fixed.advisors", "bus": "delivery.bus.staff"},
    "frequency.sessions": {"itinerant": "frequency.sessions", "fixed": "delivery.fixed.sessions",
                           "bus": "delivery.bus.sessions"},
}
"""Knobs whose config key depends on the delivery mode: the staff and the sessions of each."""
GROUP_DEFAULTS = {"delivery": "itinerant", "demand": "default"}
"""The group selections of configs/config.yaml: a group knob is an override only when it differs."""


@dataclass(frozen=True)
class Knob:
    """One setting of the page: a config key (or a group), its label, unit, help and kind of input."""

    name: str
    label: str
    unit: str
    help: str
    kind: str  # group | int | float | text | choice
    options: tuple[str, ...] = ()

    def key(self, delivery: str) -> str:
        """The config key this knob sets (the staff and the sessions depend on the delivery mode)."""
        if self.name not in MODE_KEYS:
            return self.name
        keys = MODE_KEYS[self.name]
        return keys.get(delivery, keys["itinerant"])  # a mode registered elsewhere: the itinerant keys


KNOBS: tuple[Knob, ...] = (
    Knob("delivery", "delivery mode", "", "Itinerant agents touring the sites on a planned rota; one fixed site at the "
         "main town hall, open every working day; or a bus stopping at every town hall.", "group",
         tuple(DELIVERY_MODES)),
    Knob("agents", "agents", "people", "Itinerant agents (fixed site: advisors at the desk; bus: staff on board "
         "each bus).", "int"),
    Knob("frequency.visits_per_site_per_week", "visits per site", "per week", "How often each site is visited "
         "(itinerant agents): 0.5 is every other week.", "float"),
    Knob("frequency.sessions", "session pattern", "HH:MM-HH:MM, comma-separated", "The sessions of a visit day: "
         "two of 2 h 30 in the 2021 pilot (fixed site: its opening hours; bus: its hours at a stop).", "text"),
    Knob("staffing.workday_max_h", "working day", "hours", "An agent's day, sessions plus driving from the base and "
         "back.", "float"),
    Knob("citizens.appointment_share", "appointment share", "share, 0 to 1", "Share of citizens who book a slot "
         "rather than walk in (the pilot worked mostly by appointment).", "float"),
    Knob("demand", "demand", "", "Needs per inhabitant: a new service reaches a share (uptake) of a mature "
         "network's rate.", "group", tuple(DEMANDS)),
    Knob("demand.uptake", "uptake", "share of the mature rate", "Calibrated at 0.182 so that the Saint-Amand pilot "
         "sees its ~20 requests a week; 1 is a mature network.", "float"),
    Knob("citizens.choice.walk_in", "walk-ins choose", "rule", "nearest: the nearest site with a session; cost: "
         "travel minutes plus a weight per day of delay; earliest: the first session within reach; logit: "
         "random tastes on the cost.", "choice", CHOICE_RULES),
    Knob("citizens.choice.booker", "bookers choose", "rule", "The same rules, for citizens who book.", "choice",
         CHOICE_RULES),
    Knob("experiment.weeks", "weeks", "weeks", "Weeks simulated (the pilot ran 13).", "int"),
    Knob("experiment.replications", "replications", "runs", "Independent replications: the 95% intervals narrow "
         "as their square root.", "int"),
    Knob("seed", "seed", "", "The random seed: the same seed gives the same numbers, and two set-ups on one seed "
         "are compared on common random numbers.", "int"),
)
_SESSION = re.compile(r"^\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}\s*$")


def value_of(config: Config, knob: Knob, groups: dict[str, str]) -> Any:
    """The knob's value in a composed configuration (a group's, from the selections it was composed with)."""
    if knob.kind == "group":
        return groups[knob.name]
    node: Any = config
    for part in knob.key(config.delivery.model).split("."):
        node = getattr(node, part)
    return ", ".join(node) if knob.kind == "text" else node


def parse(knob: Knob, value: Any) -> Any:
    """The config value of what the page holds; raise ValueError with a message naming the knob's key."""
    if knob.kind == "text":
        parts = [p.strip() for p in str(value or "").split(",") if p.strip()]
        bad = [p for p in parts if not _SESSION.match(p)]
        if not parts or bad:
            raise ValueError(f"{knob.name}: expected sessions like 09:00-11:30, 14:00-16:30, got {value!r}")
        return [p.replace(" ", "") for p in parts]
    if value is None or value == "":
        raise ValueError(f"{knob.name}: enter a value ({knob.unit})")
    return value


def overrides(values: dict[str, Any], defaults: dict[str, Any], delivery: str) -> list[str]:
    """Hydra overrides for the knobs whose value differs from the defaults (groups first: from configs/config.yaml's
    selections; values: from the configuration composed with the chosen groups)."""
    from sim.api import override_value

    out = [f"{name}={values[name]}" for name, default in GROUP_DEFAULTS.items() if values[name] != default]
    for knob in KNOBS:
        if knob.kind == "group":
            continue
        value = parse(knob, values[knob.name])
        if value != parse(knob, defaults[knob.name]):
            out.append(f"{knob.key(delivery)}={override_value(value)}")
    return out
