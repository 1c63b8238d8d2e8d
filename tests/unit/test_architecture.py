"""The house rules docs/ARCHITECTURE.md states, checked on the source tree.

- No import cycle between modules of `orchestrator` (the wings' layering is import-linter's
  job, run by .ci/run: `lint-imports`; a cycle inside one wing is this test's).
- No module over 500 lines, no function over 60 lines, except the few listed below with the
  reason they stay whole; an entry no longer needed fails too, so the list only shrinks.
- The plan's copy of the import body forms agrees with the referee's.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

from orchestrator.plan import BODY_FORMS
from orchestrator.spec import IMPORT_BODY_FORMS

PACKAGE = Path(__file__).resolve().parents[2] / "orchestrator"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60

# module (path under orchestrator/) -> why it stays over MAX_MODULE_LINES
KEPT_LONG_MODULES: dict[str, str] = {}
# "path:function" -> why it stays over MAX_FUNCTION_LINES
KEPT_LONG_FUNCTIONS: dict[str, str] = {}


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & modules)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append(
                    (child, iter(sorted(graph.find_modules_directly_imported_by(child) & modules)))
                )
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_no_module_imports_itself_back_through_others() -> None:
    """The import graph of orchestrator has no cycle (a package's re-exports included)."""
    graph = grimp.build_graph("orchestrator")
    modules = set(graph.modules)
    assert _cycles(graph, modules) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a graph with a -> b -> a reports that cycle."""
    graph = grimp.ImportGraph()
    for name in ("p.a", "p.b", "p.c"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycles(graph, {"p.a", "p.b", "p.c"}) == [["p.a", "p.b"]]


def _sources() -> list[tuple[str, str]]:
    return [
        (str(p.relative_to(PACKAGE)), p.read_text(encoding="utf-8"))
        for p in sorted(PACKAGE.rglob("*.py"))
    ]


def test_modules_stay_readable_in_one_sitting() -> None:
    """No module over 500 lines unless listed with its reason, and no stale listing."""
    long = {name for name, text in _sources() if text.count("\n") > MAX_MODULE_LINES}
    assert long - set(KEPT_LONG_MODULES) == set(), "split these modules"
    assert set(KEPT_LONG_MODULES) - long == set(), "no longer long: drop from the list"


def test_functions_stay_short() -> None:
    """No function over 60 lines unless listed with its reason, and no stale listing."""
    long = set()
    for name, text in _sources():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                    long.add(f"{name}:{node.name}")
    assert long - set(KEPT_LONG_FUNCTIONS) == set(), "split these functions"
    assert set(KEPT_LONG_FUNCTIONS) - long == set(), "no longer long: drop from the list"


def test_the_plan_and_the_referee_name_the_same_import_bodies() -> None:
    """The plan wing cannot import the referee's constant (layers); they must still agree."""
    assert BODY_FORMS == IMPORT_BODY_FORMS
