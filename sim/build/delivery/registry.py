"""The registry of delivery modes: a name in `delivery.model` -> how the service reaches citizens.

A mode turns a scenario's territory into the sites where sessions are held, the agents' travel between
them and a rota; the rest of the simulator does not know which mode it runs, so modes compare on equal
terms. A new mode is one module that calls `register` (in this package it is found by itself; elsewhere,
import it before running) and a config file `configs/delivery/<name>.yaml` with `model: <name>`; its own
settings go in `delivery.params`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sim.config import Config
from sim.core.errors import InputError
from sim.core.rota import Rota
from sim.core.territory import Territory, TravelModel, TravelTimes

Deliver = Callable[[Config, Territory, TravelModel, int], "tuple[Territory, TravelTimes, Rota]"]


@dataclass(frozen=True)
class Mode:
    """A delivery mode: `deliver(cfg, territory, travel_model, weeks)` and a check of its settings."""

    name: str
    deliver: Deliver
    check: Callable[[Config], None]


MODES: dict[str, Mode] = {}
"""Delivery modes by name."""


def register(name: str, check: Callable[[Config], None] | None = None) -> Callable[[Deliver], Deliver]:
    """Decorator: make `deliver` the delivery mode `name`; `check(cfg)` refuses bad settings with InputError."""
    def decorate(deliver: Deliver) -> Deliver:
        MODES[name] = Mode(name, deliver, check or (lambda cfg: None))
        return deliver
    return decorate


def mode(cfg: Config) -> Mode:
    """The configured mode, its settings checked."""
    found = MODES.get(cfg.delivery.model)
    if found is None:
        raise InputError("delivery.model", f"must be one of {', '.join(sorted(MODES))}, got {cfg.delivery.model!r}")
    found.check(cfg)
    return found
