"""The package's import graph: acyclic, and no import hidden in a function.

Read from the source (``ast``), not by importing: every ``import`` of a
``sourcegrad`` module is an edge, wherever it stands at module level (also
under ``if``/``try``).  Importing ``sourcegrad.nn.cell`` from outside ``nn``
runs ``sourcegrad/nn/__init__.py`` first, so it is an edge to ``sourcegrad.nn``
too (the root package is left out of that rule: it is always initialised
first, and an explicit ``from sourcegrad import grad`` is still an edge to it).

A function-local import of a sourcegrad module is refused: it is how a cycle
hides (the graph looks acyclic, the modules still need each other).  Lazy
imports of optional third-party libraries (scipy, numba, dask, pygments) are
fine, and are not looked at here.
"""
from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sourcegrad"

# Cycles that need the deeper rebuild of the pipeline's middle (issue 14): each
# entry is the set of modules of one strongly connected component.  Empty now.
# (The one run-time need going the other way, reverse binding dispatch's
# call_fwd/call_bwd/vjp_of into generated code, is met by dispatch registering
# them in reverse.RUNTIME_CALLS when imported, not by an import.)
ALLOWED_CYCLES: list[frozenset] = []

# (module, imported module) pairs allowed inside a function.  Empty now.
ALLOWED_LOCAL_IMPORTS: set = set()


def _modules() -> dict[str, pathlib.Path]:
    mods = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        mods[".".join(parts)] = path
    return mods


MODULES = _modules()


def _targets(module: str, node) -> list[str]:
    """The sourcegrad modules an import statement in ``module`` imports."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "sourcegrad"]
    base = node.module or ""
    if node.level:
        package = module.split(".")
        if MODULES[module].name != "__init__.py":
            package = package[:-1]
        package = package[:len(package) - node.level + 1]
        base = ".".join(package + ([base] if base else []))
    if base.split(".")[0] != "sourcegrad":
        return []
    out = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        out.append(sub if sub in MODULES else base)
    return out


def _with_parents(module: str, target: str) -> list[str]:
    """``target`` and the packages importing it initialises: all but the root and
    ``module``'s own (initialised before ``module`` runs)."""
    parts = target.split(".")
    parents = [".".join(parts[:i]) for i in range(2, len(parts))]
    return [p for p in parents if not module.startswith(p + ".")] + [target]


def scan():
    """``(edges, local)``: module -> set of modules it imports at module level,
    and the list of ``(module, line, target)`` imports inside functions."""
    edges = {m: set() for m in MODULES}
    local = []

    def visit(module, node, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for target in _targets(module, child):
                    if in_function:
                        local.append((module, child.lineno, target))
                    else:
                        edges[module].update(t for t in _with_parents(module, target)
                                             if t != module)
            nested = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(module, child, in_function or nested)

    for module, path in MODULES.items():
        visit(module, ast.parse(path.read_text(), str(path)), False)
    return edges, local


def cycles(edges) -> list[frozenset]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def strongconnect(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(frozenset(comp))

    for v in sorted(edges):
        if v not in index:
            strongconnect(v)
    return out


def test_the_scan_sees_the_package():
    edges, _ = scan()
    assert {"sourcegrad.api", "sourcegrad.pipeline", "sourcegrad.rules.registry",
            "sourcegrad.nn.cell"} <= set(edges)
    assert "sourcegrad.astutil" in edges["sourcegrad.pipeline"]
    # a submodule import initialises its package first (unless it is the importer's)
    assert "sourcegrad.nn" not in edges["sourcegrad.nn.wrap"]
    assert "sourcegrad.nn.cell" in edges["sourcegrad.nn.wrap"]
    assert "sourcegrad.nn" in edges["sourcegrad"]


def test_the_cycle_finder_finds_cycles():
    found = cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert found == [frozenset("abc")]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    found = [c for c in cycles(scan()[0]) if c not in ALLOWED_CYCLES]
    assert not found, "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in found)


def test_no_function_local_imports_of_sourcegrad_modules():
    _, local = scan()
    found = [(m, line, t) for m, line, t in local if (m, t) not in ALLOWED_LOCAL_IMPORTS]
    assert not found, "imports inside functions (move them to the top, and a shared " \
        "piece to a lower module if that makes a cycle): " + ", ".join(
            f"{MODULES[m].relative_to(ROOT)}:{line} imports {t}" for m, line, t in found)


def test_the_allowlists_are_not_stale():
    edges, local = scan()
    found = cycles(edges)
    assert all(c in found for c in ALLOWED_CYCLES)
    assert ALLOWED_LOCAL_IMPORTS <= {(m, t) for m, _, t in local}
