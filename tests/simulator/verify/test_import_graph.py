"""Imports inside ``atsim verify`` and webhook delivery run one way (issue 16).

Every import counts, wherever it is written: at the top, inside a function (a lazy import
that dodges a cycle is still a cycle) and under ``TYPE_CHECKING``. ``from package import
name`` imports ``package`` (it reads the package's namespace: its ``__init__``, and a
module ``__getattr__`` there) and also the submodule ``package.name`` when there is one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
NAMESPACE = "at_voice_kit"
PACKAGES = ("simulator/verify", "simulator/delivery")


def module_files() -> dict[str, Path]:
    """Every module of the checked packages, by its installed name."""
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            parts = [NAMESPACE, *path.relative_to(ROOT).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported(module: str, path: Path, known: set[str]) -> Iterator[str]:
    """The modules ``module`` imports, among ``known``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        yield from (name for name in names if name in known and name != module)


def import_graph() -> dict[str, set[str]]:
    """Each checked module and the checked modules it imports."""
    files = module_files()
    known = set(files)
    return {module: set(imported(module, path, known)) for module, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the modules along it, or None."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> list[str] | None:
        if module in visiting:
            return [*visiting[visiting.index(module) :], module]
        if module in done:
            return None
        visiting.append(module)
        for target in sorted(graph[module]):
            cycle = visit(target)
            if cycle is not None:
                return cycle
        visiting.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module)
        if cycle is not None:
            return cycle
    return None


def test_the_graph_sees_the_modules_and_their_imports() -> None:
    graph = import_graph()
    assert "at_voice_kit.simulator.verify" in graph
    assert "at_voice_kit.simulator.verify.report" in graph
    results = graph["at_voice_kit.simulator.verify.results"]
    assert "at_voice_kit.simulator.verify.checks" in results


def test_a_lazy_import_inside_a_function_counts(tmp_path: Path) -> None:
    module = tmp_path / "a.py"
    module.write_text("def f():\n    from pkg import b\n    return b\n", encoding="utf-8")
    assert list(imported("pkg.a", module, {"pkg", "pkg.a", "pkg.b"})) == ["pkg", "pkg.b"]
    assert find_cycle({"pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}}) == ["pkg.a", "pkg.b", "pkg.a"]


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_run_one_way(package: str) -> None:
    prefix = f"{NAMESPACE}.{package.replace('/', '.')}"
    graph = {
        module: {target for target in targets if target.startswith(prefix)}
        for module, targets in import_graph().items()
        if module.startswith(prefix)
    }
    assert find_cycle(graph) is None
