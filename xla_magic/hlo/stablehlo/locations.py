"""MLIR locations (`loc("file.py":12:3)`, names, call sites, fusions, `#loc3` aliases) and the HLO
metadata they become: the op name and the innermost source line."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..attrs import Metadata
from .cursor import MAX_NESTING, Cursor, balanced, unescape

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_ALIAS = re.compile(r"#loc\d*|#[\w$.\-]+")


@dataclass
class Loc:
    """One location: a file position, a name around a child, a call site (callee, caller), a fusion
    of several, an alias to resolve, or unknown (all fields empty)."""

    file: str | None = None
    line: int | None = None
    name: str | None = None
    children: list[Loc] = field(default_factory=list)
    alias: str | None = None


def _string(cur: Cursor) -> str:
    return unescape(cur.need(_STRING, "a string").group(0))


def parse_loc(cur: Cursor, depth: int = 0) -> Loc:
    """After the word `loc`: `(...)`."""
    cur.expect("(", "'(' after loc")
    out = _loc_body(cur, depth)
    cur.expect(")", "')' to close the location")
    return out


def _loc_body(cur: Cursor, depth: int) -> Loc:
    if depth > MAX_NESTING:
        raise cur.error(f"locations nest deeper than {MAX_NESTING}")
    if cur.peek("#"):
        return Loc(alias=cur.need(_ALIAS, "a location alias").group(0))
    if cur.accept_word("unknown"):
        return Loc()
    if cur.accept_word("callsite"):
        cur.expect("(")
        callee = _loc_body(cur, depth + 1)
        if not cur.accept_word("at"):
            raise cur.error(f"expected 'at' in the call site location, found {cur.found()}")
        caller = _loc_body(cur, depth + 1)
        cur.expect(")")
        return Loc(children=[callee, caller])
    if cur.accept_word("fused"):
        if cur.accept("<"):
            balanced(cur, "<", ">")  # the fusion's metadata attribute
        cur.expect("[", "'[' after fused")
        kids: list[Loc] = []
        if not cur.accept("]"):
            while True:
                kids.append(_loc_body(cur, depth + 1))
                if cur.accept("]"):
                    break
                cur.expect(",", "',' or ']' in the fused location")
        return Loc(children=kids)
    if cur.peek('"'):
        s = _string(cur)
        if cur.accept(":"):  # "file":line:col [to [line:]col]
            line = int(cur.need(re.compile(r"\d+"), "a line number").group(0))
            if cur.accept(":"):
                cur.need(re.compile(r"\d+"), "a column number")
            if cur.accept_word("to"):
                cur.need(re.compile(r"(?:\d+)?:\d+|\d+"), "the end of the range")
                if cur.accept(":"):
                    cur.need(re.compile(r"\d+"), "a column number")
            return Loc(file=s, line=line)
        if cur.accept("("):
            child = _loc_body(cur, depth + 1)
            cur.expect(")", "')' after the named location's child")
            return Loc(name=s, children=[child])
        return Loc(name=s)
    raise cur.error(f"expected a location, found {cur.found()}")


def to_metadata(loc: Loc, aliases: dict[str, Loc]) -> Metadata | None:
    """The outermost name as op_name, the first file position (a call site's callee first) as the
    source line; None when the location says nothing."""
    name: str | None = None
    file: tuple[str, int] | None = None
    stack = [loc]
    seen = 0
    while stack and seen < 10_000:  # aliases may form cycles in malformed text
        seen += 1
        node = stack.pop()
        if node.alias is not None:
            target = aliases.get(node.alias)
            if target is not None:
                stack.append(target)
            continue
        if node.name is not None and name is None:
            name = node.name
        if node.file is not None and node.line is not None and file is None:
            file = (node.file, node.line)
        stack.extend(reversed(node.children))
    if name is None and file is None:
        return None
    return Metadata(op_name=name, source_file=file[0] if file else None, source_line=file[1] if file else None)
