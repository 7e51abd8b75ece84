# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The explorer in a notebook
#
# The page that `python -m sim.explore` serves, displayed in a cell: pick a territory, move the knobs, press
# **Run**, pin a baseline and compare. The same object is reachable from code: its last run is
# `explorer.results`, the `sim.run` results of the settings on the page. Set `SIM_SMALL=1` for a quick run.

# %%
# %matplotlib inline
import os

import panel as pn

from sim.explore import Explorer

pn.extension()
SMALL = os.environ.get("SIM_SMALL") == "1"
explorer = Explorer()
explorer.widgets["experiment.replications"].value = 3 if SMALL else 10
explorer.view()

# %% [markdown]
# Pressing **Run** above does the same as this cell: it runs the settings on the page, and the page shows the
# KPIs, the map, the waits, the sites and an agent's week.

# %%
await explorer.run()
print(explorer.command)
print(f"seen per week: {explorer.results.summary['seen_per_week']:.1f}")

# %% [markdown]
# The results are those of `sim.run` with the same overrides, so every figure of the API is at hand.

# %%
explorer.results.plot_waits()
