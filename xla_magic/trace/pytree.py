"""Nested containers of arrays (tuples, lists, dicts, namedtuples, None) flattened to leaves and
rebuilt: how functions take parameter dicts and return several arrays, and how loops carry state."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TreeDef:
    """The structure of a container: kind ("leaf", "none", "tuple", "list", "dict", "namedtuple"),
    the dict keys or namedtuple class, and the children's structures."""

    kind: str
    meta: Any = None
    children: tuple[TreeDef, ...] = ()

    @property
    def num_leaves(self) -> int:
        if self.kind == "leaf":
            return 1
        return sum(c.num_leaves for c in self.children)


LEAF = TreeDef("leaf")


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def flatten(tree, path: str = "") -> tuple[list, TreeDef, list[str]]:
    """(leaves, structure, a name for each leaf such as 'params.W1' or 'args.0')."""
    leaves: list = []
    names: list[str] = []
    stack_def = _flatten(tree, leaves, names, path)
    return leaves, stack_def, names


def _join(path: str, key) -> str:
    return f"{path}.{key}" if path else str(key)


def _flatten(x, leaves: list, names: list, path: str) -> TreeDef:
    if x is None:
        return TreeDef("none")
    if _is_namedtuple(x):
        kids = tuple(_flatten(v, leaves, names, _join(path, f)) for f, v in zip(x._fields, x))
        return TreeDef("namedtuple", type(x), kids)
    if isinstance(x, (tuple, list)):
        kids = tuple(_flatten(v, leaves, names, _join(path, i)) for i, v in enumerate(x))
        return TreeDef(type(x).__name__ if type(x) in (tuple, list) else "tuple", None, kids)
    if isinstance(x, dict):
        keys = tuple(sorted(x, key=repr)) if not all(isinstance(k, str) for k in x) else tuple(sorted(x))
        kids = tuple(_flatten(x[k], leaves, names, _join(path, k)) for k in keys)
        return TreeDef("dict", keys, kids)
    leaves.append(x)
    names.append(path or "x")
    return LEAF


def unflatten(treedef: TreeDef, leaves) -> Any:
    it = iter(leaves)
    out = _build(treedef, it)
    return out


def _build(t: TreeDef, it) -> Any:
    if t.kind == "leaf":
        return next(it)
    if t.kind == "none":
        return None
    kids = [_build(c, it) for c in t.children]
    if t.kind == "tuple":
        return tuple(kids)
    if t.kind == "list":
        return kids
    if t.kind == "namedtuple":
        return t.meta(*kids)
    return dict(zip(t.meta, kids))
