"""How the service reaches citizens: itinerant agents, a fixed France Services site, or a bus.

Each mode (a module of this package, registered by name in `registry.MODES`) turns a scenario's territory
into the sites where sessions are held, the agents' travel and a rota; the rest of the simulator does not
know which mode it runs, so they compare on equal terms (docs/delivery.md):

- itinerant (the 2021 pilots): agents drive from the base to the scenario's sites;
- fixed: one site at the town hall of a chosen commune, its advisors at every session, nobody driving;
- bus: a stop at the town hall of every commune, a whole day at one stop, each stop once a cycle.

In every mode, citizens whose town hall is farther than `citizens.max_travel_min` from every site have no
reachable session (outcome `no_session`): coverage is part of the comparison. The modules of this package
are imported here, so each registers itself; a mode defined elsewhere registers when its module is imported.
"""

from __future__ import annotations

import importlib
import pkgutil

from sim.build.delivery.registry import MODES, Mode, mode, register

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["MODES", "Mode", "mode", "register"]
