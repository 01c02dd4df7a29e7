"""The engine's shape: its imports run one way, none hides in a function, and it does no HTTP.

Read from the source with :mod:`ast`, so the rules hold for every module of
``simulator/engine/``, including ones added later.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[3] / "simulator" / "engine"
PACKAGE = "at_voice_kit.simulator.engine"
HTTP_MODULES = ("httpx", "httpcore", "requests", "urllib.request", "http.client", "aiohttp")
HTTP_MODULES += ("uvicorn", "falcon", "starlette", "socket")


def _modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text(encoding="utf-8")) for path in ENGINE.glob("*.py")}


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [node.module or ""]


def _engine_imports(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name in _imported(node):
                if name.startswith(PACKAGE + "."):
                    found.add(name.removeprefix(PACKAGE + ".").split(".")[0])
    return found


def test_the_engine_modules_import_one_another_without_a_cycle() -> None:
    graph = {name: _engine_imports(tree) - {name} for name, tree in _modules().items()}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as cycle:
        pytest.fail(f"the engine's imports form a cycle: {cycle.args[1]}")
    # The flow and the bridging code see a call through call_line, never the runner.
    assert order.index("call_line") < order.index("bridging") < order.index("flow")
    assert order.index("flow") < order.index("runner") < order.index("engine")
    assert "runner" not in graph["flow"] | graph["bridging"]


def test_no_engine_module_imports_inside_a_function() -> None:
    hidden = []
    for name, tree in _modules().items():
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(function):
                    if isinstance(node, ast.Import | ast.ImportFrom):
                        hidden.append(f"{name}.{function.name}: {_imported(node)}")
    assert hidden == []


def test_the_engine_is_pure_no_http_and_no_other_room_of_the_simulator() -> None:
    offending = []
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for imported in _imported(node):
                outside = imported.startswith("at_voice_kit.simulator.") and not (
                    imported.startswith(PACKAGE + ".")
                )
                http = any(imported == m or imported.startswith(m + ".") for m in HTTP_MODULES)
                if outside or http:
                    offending.append(f"{name}: {imported}")
    assert offending == []
