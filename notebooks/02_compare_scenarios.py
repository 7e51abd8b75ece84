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
# # Comparing set-ups on common random numbers
#
# Runs with the same seed draw the same needs, service times and patience, so differences between set-ups
# come from the set-ups, not from chance. Here: the 2021 pilot (one agent, each site every other week)
# against two agents, fortnightly or weekly. Other scenarios and alternatives are added the same way, as
# overrides (e.g. `{"scenario": "agen"}`). Set `SIM_SMALL=1` for a quick run.

# %%
# %matplotlib inline
import os

import pandas as pd

import sim
from sim.study.outputs import summary_row
from sim.report.figures import kpi_label
from sim.report.sweep import cost_service_pareto

SMALL = os.environ.get("SIM_SMALL") == "1"
settings = {"experiment.weeks": 3, "experiment.replications": 2} if SMALL else {}

variants = {
    "1 agent, fortnightly (pilot)": {},
    "2 agents, fortnightly": {"staffing.agents": 2},
    "2 agents, weekly": {"staffing.agents": 2, "frequency": "weekly"},
}

# %%
runs = {name: sim.run({**settings, **overrides}) for name, overrides in variants.items()}
table = pd.DataFrame([{"variant": name, **summary_row(r.summary)} for name, r in runs.items()]).set_index("variant")

# %% [markdown]
# ## Headline KPIs side by side (mean and 95% CI)

# %%
kpis = ["seen_per_week", "share_wait_le_20min", "queue_wait_min_p90", "access_delay_days_mean",
        "access_delay_days_p90", "agent_utilisation", "agent_driving_share", "cost_per_served"]
pd.DataFrame({
    kpi_label(k): [f"{m:.3g} [{lo:.3g}, {hi:.3g}]" for m, lo, hi in zip(table[k], table[f"{k}_ci_low"], table[f"{k}_ci_high"])]
    for k in kpis
}, index=table.index).T

# %% [markdown]
# ## Cost against service level

# %%
cost_service_pareto(table.reset_index(), labels="variant")

# %% [markdown]
# ## Where the difference comes from
# Queue waits and access delays of the weekly set-up against the pilot's.

# %%
runs["1 agent, fortnightly (pilot)"].plot_waits()

# %%
runs["2 agents, weekly"].plot_waits()

# %% [markdown]
# Access delay by commune, on one colour scale for both maps.

# %%
vmax = max(r.kpi("access_delay_days_mean", scope="commune")["mean"].max() for r in runs.values())
runs["1 agent, fortnightly (pilot)"].plot_map(vmax=vmax)

# %%
runs["2 agents, weekly"].plot_map(vmax=vmax)
