"""Writing a run's files: the fast CSV writer gives byte for byte what pandas writes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.cli import load_config
from sim.study.experiment import run_experiment
from sim.study.outputs import csv_text


def test_csv_text_is_pandas_to_csv() -> None:
    tricky = pd.DataFrame({
        "scope": ["site", "site", "commune", "agent", "week"],
        "key": ["59526-mairie", "a,b", 'say "x"', "line\nbreak", None],
        "metric": ["requests"] * 5,
        "mean": [1.0, np.nan, 1 / 3, 1e-20, -0.0], "ci_low": [0.0, 2.5, np.inf, 1e20, 123456789.123],
        "n": [10, 0, 3, 4, 5],
    })
    kpis = run_experiment(load_config(["experiment.weeks=3", "experiment.replications=3"]), keep_requests=False).kpis
    for table in (tricky, kpis):
        assert csv_text(table) == table.to_csv(index=False, float_format="%.10g")
