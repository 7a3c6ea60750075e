"""The package's shape: no import cycle (imports inside functions counted), no oversized module, and
benchmarks that do not lean on the test suite."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "cvreeng_bench"
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str]) -> set[str]:
    """Every package module that ``path`` imports, anywhere in the file (functions and TYPE_CHECKING too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            source = (f"{base}.{node.module}" if node.module else base) if node.level else node.module or ""
            for alias in node.names:  # `from . import x` names a module; `from .m import f` the module m
                found.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source)
    return {m for m in found if m in modules and m != name}


def graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in files}
    return {module_name(p): imports(p, modules) for p in files}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_import_graph_sees_imports_inside_functions() -> None:
    edges = graph()
    assert "cvreeng_bench.build" in edges["cvreeng_bench.cli.data"]  # imported inside cmd_build
    assert "cvreeng_bench.scoring.tasks" in edges["cvreeng_bench.build"]  # imported inside build()


def test_the_package_has_no_import_cycle() -> None:
    assert find_cycle(graph()) is None


def _reach(edges: dict[str, set[str]], prefix: str) -> set[str]:
    """Every package module imported by a module under ``prefix``."""
    return {t for m, targets in edges.items() if m.startswith(prefix) for t in targets}


def test_the_data_pipeline_and_the_release_object_never_import_the_benchmark() -> None:
    edges = graph()
    pipeline = [m for m in edges if m.startswith("cvreeng_bench.pipeline.")]
    assert {"cvreeng_bench.pipeline.sources", "cvreeng_bench.pipeline.normalize", "cvreeng_bench.pipeline.write",
            "cvreeng_bench.pipeline.validate", "cvreeng_bench.pipeline.tabular"} <= set(pipeline)
    for low in (*pipeline, *(f"cvreeng_bench.{m}" for m in ("release", "schema", "taxonomy", "layout", "registry",
                                                           "threads", "text"))):
        above = {m for m in edges[low] if m.startswith(("cvreeng_bench.scoring", "cvreeng_bench.board",
                                                        "cvreeng_bench.systems", "cvreeng_bench.api",
                                                        "cvreeng_bench.hydrate", "cvreeng_bench.build"))}
        assert not above, low


def test_the_scorer_imports_neither_the_board_nor_a_system() -> None:
    edges = graph()
    reached = _reach(edges, "cvreeng_bench.scoring")
    assert not {m for m in reached if m.startswith(("cvreeng_bench.board", "cvreeng_bench.systems"))}
    assert not reached & {"cvreeng_bench.api", "cvreeng_bench.hydrate", "cvreeng_bench.shipped"}


def test_the_board_never_imports_a_system_and_the_systems_never_the_board() -> None:
    edges = graph()
    assert not {m for m in _reach(edges, "cvreeng_bench.board") if m.startswith("cvreeng_bench.systems")}
    assert not {m for m in _reach(edges, "cvreeng_bench.systems") if m.startswith("cvreeng_bench.board")}
    assert not {m for m in _reach(edges, "cvreeng_bench.systems") if m.startswith("cvreeng_bench.hydrate")}


def test_the_chat_client_and_the_scorer_live_in_different_packages() -> None:
    edges = graph()
    assert "cvreeng_bench.systems.chat" in edges and "cvreeng_bench.scoring.evaluate" in edges
    assert "cvreeng_bench.bench" not in edges, "bench/ beside benchmarks/ was renamed"


def test_no_module_is_over_the_line_budget() -> None:
    long = {p.name: n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_benchmarks_do_not_import_the_test_suite() -> None:
    for path in (ROOT / "benchmarks").glob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {n for n in names if n == "tests" or n.startswith("tests.")}, path.name


def test_the_task_configs_a_release_may_hold_are_the_registered_tasks() -> None:
    from cvreeng_bench.schema import TASK_CONFIGS
    from cvreeng_bench.scoring.tasks import REGISTRY

    assert set(TASK_CONFIGS) == set(REGISTRY.names())
