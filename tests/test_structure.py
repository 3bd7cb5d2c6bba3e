"""The package's structure: no two modules import each other, directly or through others."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tensorbook"


def _imports(path):
    """The tensorbook modules that ``path`` imports anywhere (top level or inside functions)."""
    here = path.stem if path.name != "__init__.py" else "__init__"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:  # from .x import y, or from . import x
                names = [node.module] if node.module else [alias.name for alias in node.names]
            elif node.level == 0 and node.module and node.module.startswith("tensorbook."):
                names = [node.module.split(".")[1]]
            else:
                continue
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names if a.name.startswith("tensorbook.")]
        else:
            continue
        found |= {name.split(".")[0] for name in names if name}
    found.discard(here)
    return found


def _graph():
    modules = {p.stem: p for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    return {name: _imports(path) & set(modules) for name, path in modules.items()}


def _cycle(graph):
    """One import cycle as a list of modules, or None."""
    state = {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, stack)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_planted_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_module_of_the_package_imports_itself_through_others():
    graph = _graph()
    assert {"topics", "_corpus", "distributed", "exercises", "_exercise_bank"} <= set(graph)
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_kernels_and_the_tensor_algebra_import_nothing_above_them():
    graph = _graph()
    assert graph["_kernels"] <= {"_validation"}
    assert graph["tenalg"] <= {"_kernels", "_validation", "_threads"}
