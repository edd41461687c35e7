"""The top-level packages depend on each other one way only: every `import` and `from` of their
modules (migrations aside) is read from the source, and an import that closes a cycle fails
the suite, naming the two files whose imports close it."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = {"tests", "bench", "var", ".venv", ".git", "node_modules"}


def packages() -> list[str]:
    """The project's top-level packages (directories with an __init__.py)."""
    return sorted(
        path.parent.name for path in ROOT.glob("*/__init__.py") if path.parent.name not in SKIPPED
    )


def imports() -> dict[tuple[str, str], list[str]]:
    """(importing package, imported package) -> the places, "file:line"."""
    names = set(packages())
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for package in names:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    target = module.split(".")[0]
                    if target in names and target != package:
                        where = f"{path.relative_to(ROOT)}:{node.lineno}"
                        found[(package, target)].append(where)
    return found


def cycle(edges: dict[tuple[str, str], list[str]]) -> list[str] | None:
    """A cycle of packages (first package repeated at the end), or None."""
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        graph[source].add(target)
    state: dict[str, str] = {}
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        trail.append(node)
        for successor in sorted(graph[node]):
            if state.get(successor) == "open":
                return [*trail[trail.index(successor) :], successor]
            if successor not in state:
                found = visit(successor)
                if found:
                    return found
        trail.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_packages_import_each_other_one_way_only():
    edges = imports()
    found = cycle(edges)
    if found:
        steps = [
            f"{source} -> {target} ({edges[(source, target)][0]})"
            for source, target in zip(found, found[1:], strict=False)
        ]
        closing = f"{edges[(found[-2], found[-1])][0]} and {edges[(found[0], found[1])][0]}"
        raise AssertionError(
            "import cycle between top-level packages: "
            + "; ".join(steps)
            + f". The cycle closes in {closing}."
        )


def test_the_cycle_finder_names_a_cycle():
    edges = {("a", "b"): ["a/x.py:1"], ("b", "c"): ["b/y.py:2"], ("c", "a"): ["c/z.py:3"]}
    assert cycle(edges) == ["a", "b", "c", "a"]
    assert cycle({("a", "b"): ["a/x.py:1"], ("b", "c"): ["b/y.py:2"]}) is None
