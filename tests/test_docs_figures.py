"""The documentation's study scripts run and say what the docs say they say (on small settings)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / "figures" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_choice_weight_study_writes_its_table_and_figure(tmp_path: Path) -> None:
    study = _script("choice_weight")
    assert study.main(["--replications", "2", "--weeks", "3", "--out", str(tmp_path)]) == 0
    data = pd.read_csv(tmp_path / "choice_weight.csv")
    assert len(data) == len(study.WEIGHTS) + len(study.REFERENCES)
    assert (tmp_path / "choice_weight.png").read_bytes().startswith(b"\x89PNG")
    by_rule = data.set_index("rule")
    nearest = data[data["weight_min_per_day"] == 0.0].iloc[0]
    # walk-ins and bookers at their nearest site use their own commune's far more than under `earliest`
    assert nearest["own_site_share"] > 0.9 > 0.3 > by_rule.loc["everyone earliest", "own_site_share"]


def test_site_choice_study_writes_its_table_and_figure(tmp_path: Path) -> None:
    study = _script("site_choice")
    assert study.main(["--replications", "2", "--weeks", "2", "--out", str(tmp_path)]) == 0
    data = pd.read_csv(tmp_path / "site_choice.csv").set_index(["territory", "rule"])
    assert (tmp_path / "site_choice.png").read_bytes().startswith(b"\x89PNG")
    # in the Morvan the best 3 town halls put far more people within reach than the 3 most populous
    morvan = data.loc["canton 5802", "population_within_reach_share"]
    assert morvan["best:3"] == 0.9855 and morvan["top:3"] == 0.7524
    flat = data.reset_index()
    flat["k"] = flat["rule"].str.split(":").str[1]
    wide = flat.pivot_table(index=["territory", "k"], columns=flat["rule"].str.split(":").str[0],
                            values="population_within_reach_share")
    assert len(wide) == 6 and (wide["best"] >= wide["top"]).all()


def test_sensitivity_study_writes_its_table_and_figure(tmp_path: Path) -> None:
    study = _script("sensitivity")
    assert study.main(["--trajectories", "2", "--replications", "2", "--weeks", "3", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "sensitivity.csv")
    assert set(table["parameter"]) == set(study.BOUNDS) and set(table["kpi"]) == set(study.KPIS)
    cost_per_km = table[table["parameter"] == "staffing.cost_per_km"].set_index("kpi")["mu_star"]
    assert (cost_per_km.drop("cost_per_served") == 0).all() and cost_per_km["cost_per_served"] > 0
    assert (tmp_path / "sensitivity.png").read_bytes().startswith(b"\x89PNG")
