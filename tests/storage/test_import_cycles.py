"""The storage package's modules import each other without a cycle (module level, TYPE_CHECKING included)."""

from __future__ import annotations

import ast
from pathlib import Path

import sensorapp.storage

PACKAGE = Path(sensorapp.storage.__file__).parent


def _module_level_imports(path: Path) -> set[str]:
    """Sibling modules imported at module level, TYPE_CHECKING blocks included (function bodies are lazy)."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(a.name for a in node.names)
            elif node.module and node.module.startswith("sensorapp.storage."):
                found.add(node.module.split(".")[2])
        elif isinstance(node, ast.If | ast.Try):
            stack.extend(node.body)
            stack.extend(node.orelse)
            if isinstance(node, ast.Try):
                for handler in node.handlers:
                    stack.extend(handler.body)
    return found & {p.stem for p in PACKAGE.glob("*.py")}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return cycles


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_storage_modules_import_each_other_without_a_cycle() -> None:
    graph = {p.stem: _module_level_imports(p) - {p.stem} for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert "recorder" in graph["store"]  # the store builds recorders
    assert "store" not in graph["recorder"]  # the recorder only knows SampleSink
    assert _cycles(graph) == []
