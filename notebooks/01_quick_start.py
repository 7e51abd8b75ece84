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
# # Quick start: run a scenario, read its KPIs, draw its figures
#
# `sim.run` composes the same configuration as `python -m sim` (configs/ plus Hydra-style overrides) and
# returns a `Results` object: `summary` (headline KPIs with 95% CIs), `kpis` (tidy table: scope, key,
# metric, mean, ci_low, ci_high), `requests` (one row per request) and `sessions` (one row per agent and
# session). Set `SIM_SMALL=1` in the environment for a quick run (3 weeks, 2 replications).

# %%
# %matplotlib inline
import os
from pathlib import Path

import sim
from sim.study.outputs import format_table

SMALL = os.environ.get("SIM_SMALL") == "1"
settings = {"experiment.weeks": 3, "experiment.replications": 2} if SMALL else {}

# %% [markdown]
# ## Run the default scenario
# The canton of Saint-Amand-les-Eaux as piloted in 2021: one agent, each of the 15 sites every other week,
# two sessions of 2 h 30 a day. Any setting can be overridden, as a dict, a list of `key=value` strings,
# or keywords with `__` for the dots (`sim.run(staffing__agents=2)`).

# %%
results = sim.run(settings)
print(format_table(results))

# %% [markdown]
# ## Read KPIs
# `results.summary` holds the headline numbers; `results.kpi(metric, scope)` one metric at one scope
# (overall, site, commune, operator, week, agent).

# %%
{k: results.summary[k] for k in ("seen_per_week", "share_wait_le_20min", "access_delay_days_p90", "cost_per_served")}

# %%
results.kpi("queue_wait_min_p90", scope="site").sort_values("mean", ascending=False).head()

# %%
results.requests.groupby("outcome", observed=True).size()

# %% [markdown]
# ## Figures
# The same functions write the figures of every command-line run (`figures/` in the run folder).

# %%
results.plot_waits()

# %%
results.plot_sites()

# %%
results.plot_agent_week()

# %%
results.plot_map()

# %%
results.plot_weekly()

# %% [markdown]
# ## The one-file report
# The report a command-line run writes as `report.html`; a run folder can be read back with
# `sim.load("outputs/saint_amand/<date>")`.

# %%
report = results.report(Path("outputs") / "notebooks" / "quick_start_report.html")
print(f"report written to {report} ({report.stat().st_size / 1e3:.0f} kB)")
