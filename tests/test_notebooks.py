"""Every notebook in notebooks/ runs from top to bottom on small settings (SIM_SMALL=1), in this interpreter."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jupytext
import nbclient
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.py"))
KERNEL = "sim-tests"


@pytest.fixture(scope="module")
def jupyter_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a kernel spec that starts this interpreter, whatever kernels the machine has."""
    folder = tmp_path_factory.mktemp("jupyter")
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"}))
    return folder


def test_notebooks_exist() -> None:
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, jupyter_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_path))
    monkeypatch.setenv("SIM_SMALL", "1")
    monkeypatch.delenv("SIM_SWEEP", raising=False)
    notebook = jupytext.read(path)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name=KERNEL,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError naming the cell if any cell fails
    images = [o for cell in notebook.cells for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, "the notebook drew no figure"
    if path.stem == "04_explorer":  # the page itself, displayed as a Panel object in the cell
        kinds = {kind for cell in notebook.cells for o in cell.get("outputs", []) for kind in o.get("data", {})}
        assert "application/vnd.holoviews_exec.v0+json" in kinds, kinds
