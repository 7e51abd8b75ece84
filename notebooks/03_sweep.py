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
# # Analysing a sweep: staffing x frequency
#
# A sweep table has one row per run: the swept parameters (dotted config paths) and every headline KPI
# with its 95% CI (`<kpi>_ci_low`, `<kpi>_ci_high`). A command-line multirun writes it as `sweep.parquet`
# in the multirun folder; point `SIM_SWEEP` at one to analyse it here. Otherwise the notebook runs a small
# grid itself through `sim.api.run_grid` (same seed for every point: common random numbers).
# Set `SIM_SMALL=1` for a quick run.

# %%
# %matplotlib inline
import os

import pandas as pd

from sim.api import run_grid
from sim.report.sweep import cost_service_pareto, pareto_front, sweep_heatmap

SMALL = os.environ.get("SIM_SMALL") == "1"
settings = {"experiment.weeks": 3, "experiment.replications": 2} if SMALL else {}
x, y = "frequency.visits_per_site_per_week", "staffing.agents"

# %%
if os.environ.get("SIM_SWEEP"):
    sweep = pd.read_parquet(os.environ["SIM_SWEEP"])
else:
    sweep = run_grid({y: [1, 2, 3], x: [0.5, 1.0, 2.0]}, settings)
sweep.filter(items=[y, x, "share_wait_le_20min", "access_delay_days_p90", "cost_per_served", "error"])

# %% [markdown]
# Set-ups the configuration refuses (more visits than the agents' working days hold) have an error and
# no KPIs; they are blank in the figures.

# %%
sweep_heatmap(sweep, x, y, "share_wait_le_20min")

# %%
sweep_heatmap(sweep, x, y, "cost_per_served")

# %% [markdown]
# ## Cheapest set-ups for a service level
# A run is on the Pareto front when no other run is both cheaper per request seen and better on the share
# seen within 20 minutes.

# %%
cost_service_pareto(sweep, target=0.9)

# %%
sweep[pareto_front(sweep["cost_per_served"], sweep["share_wait_le_20min"])].sort_values("cost_per_served")[
    [y, x, "share_wait_le_20min", "cost_per_served"]]
