"""The explorer: a Panel page in the browser to try set-ups on a territory without writing code.

`python -m sim.explore [--port P] [--show]` serves it (also `panel serve sim/explore/app.py`); in a notebook,
`Explorer().view()` displays the same page in a cell; `python -m sim.explore export SWEEP_DIR` writes a
sweep as one standalone HTML page (built with Bokeh alone: importing Panel would make Bokeh's inlined
resources point to Panel's server files). docs/explorer.md.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Explorer", "app"]


def __getattr__(name: str) -> Any:
    """`Explorer` and `app` from sim.explore.app, imported (with Panel) on first use."""
    if name in __all__:
        from sim.explore.app import Explorer, app

        return {"Explorer": Explorer, "app": app}[name]
    raise AttributeError(f"module 'sim.explore' has no attribute {name!r}")
