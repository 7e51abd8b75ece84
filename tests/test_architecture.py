"""The package's layers import only downwards, with no cycle; the core is free of Hydra and matplotlib.

Every `import` and `from ... import` of every module counts, including those inside functions and under
`if TYPE_CHECKING`. Layers, lowest first: `sim.core`, `sim.config`, `sim.build`, `sim.study`, then the
faces (`sim.api`, `sim.cli`, `sim.report`, the commands). Hydra and OmegaConf are for `sim.cli` and the
faces that run under Hydra (`sim.__main__`, `sim.sweep`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sim"
LAYERS = ("sim.core", "sim.config", "sim.build", "sim.study")  # then the faces
LEAVES = {"sim.version"}  # import nothing from sim, so every layer may use them
HYDRA_USERS = {"sim.cli", "sim.__main__", "sim.sweep"}
CORE_FORBIDDEN = ("hydra", "omegaconf", "matplotlib")
EXPLORER_ONLY = ("panel", "bokeh")  # the web page's libraries: only the explorer (sim.explore) uses them


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports(name: str) -> set[str]:
    """Every module name imported by module `name` (absolute, as written or resolved from relative)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES)
    return found


def layer(name: str) -> int:
    """0 for the core and the leaves ... 3 for the studies, 4 for the faces."""
    if name in LEAVES:
        return 0
    for rank, prefix in enumerate(LAYERS):
        if name == prefix or name.startswith(prefix + "."):
            return rank
    return len(LAYERS)


GRAPH = {name: {m for m in imports(name) if m in MODULES and m != name} for name in MODULES}


def test_every_module_is_seen() -> None:
    assert {"sim.core.model", "sim.config", "sim.build.scenario", "sim.study.experiment", "sim.cli"} <= set(MODULES)
    assert "sim.core.desk" in GRAPH["sim.core.model"]  # the walk finds module-level imports ...
    assert "sim.report" in GRAPH["sim.__main__"]  # ... and those inside functions


@pytest.mark.parametrize("name", sorted(LEAVES))
def test_leaves_import_nothing_from_the_package(name: str) -> None:
    assert not GRAPH[name], f"{name} is a leaf but imports {sorted(GRAPH[name])}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_go_only_downwards(name: str) -> None:
    upward = sorted(m for m in GRAPH[name] if layer(m) > layer(name))
    assert not upward, f"{name} (layer {layer(name)}) imports from a higher layer: {upward}"


def test_no_import_cycle() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_core_knows_neither_hydra_nor_matplotlib_and_hydra_stays_at_the_cli() -> None:
    for name in MODULES:
        external = {m.split(".")[0] for m in imports(name)}
        if layer(name) == 0:
            assert not external & set(CORE_FORBIDDEN), f"{name} imports {external & set(CORE_FORBIDDEN)}"
        if name not in HYDRA_USERS:
            assert not external & {"hydra", "omegaconf"}, f"{name} imports Hydra or OmegaConf"


def test_no_function_of_the_core_is_over_60_lines() -> None:
    long = []
    for name, path in MODULES.items():
        if layer(name) != 0:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60:
                long.append(f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert not long, long


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.startswith("sim.explore")))
def test_only_the_explorer_imports_the_web_libraries(name: str) -> None:
    used = sorted(m for m in imports(name) if m.split(".")[0] in EXPLORER_ONLY)
    assert not used, f"{name} imports {used}: Panel and Bokeh belong to sim.explore"


def test_the_explorer_is_a_face() -> None:
    assert all(layer(n) == len(LAYERS) for n in MODULES if n.startswith("sim.explore"))
    assert "sim.study.experiment" in GRAPH["sim.explore.app"] and "sim.cli" in GRAPH["sim.explore.app"]
