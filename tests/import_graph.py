"""The package's import graph, read from the source (every import, lazy ones inside functions
included; imports under `if TYPE_CHECKING:` excluded, since they never run).

    python tests/import_graph.py        # prints every import cycle, exits 1 if there is one
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = "xla_magic"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for p in sorted(ROOT.rglob("*.py")):
        parts = list(p.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = p
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Import nodes that can run: everything but the bodies of `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports. `from pkg import name` counts as an edge to
    `pkg.name` when that is a module, else to `pkg` itself (its __init__ runs)."""
    return _scan()[0]


def external_imports() -> dict[str, set[str]]:
    """Module -> the top-level names of what it imports from outside the package (stdlib and
    third-party alike: `numpy`, `IPython`, ...), lazy imports included."""
    return _scan()[1]


def _scan() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    mods = modules()
    edges: dict[str, set[str]] = {m: set() for m in mods}
    external: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        here = name.split(".") if is_pkg else name.split(".")[:-1]
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
                edges[name].update(t for t in targets if t in mods)
                external[name].update(t.split(".")[0] for t in targets if t.split(".")[0] != PACKAGE)
                continue
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith(PACKAGE):
                external[name].add(target.split(".")[0])
                continue
            for a in node.names:
                sub = f"{target}.{a.name}"
                if sub in mods:
                    edges[name].add(sub)
                elif target in mods:
                    edges[name].add(target)
            edges[name].discard(name)
    return edges, external


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def path_in(comp: list[str], edges: dict[str, set[str]]) -> list[str]:
    """One concrete cycle through the component, for the message."""
    members = set(comp)
    start = comp[0]
    prev = {start: None}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(edges[v] & members):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, v, start]
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return comp


if __name__ == "__main__":
    g = graph()
    found = cycles(g)
    for comp in found:
        print(" -> ".join(path_in(comp, g)), f"   (cycle among {len(comp)} modules: {', '.join(comp)})")
    sys.exit(1 if found else 0)
