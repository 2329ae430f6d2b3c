"""The syntax tree of a StableHLO module, read from the generic and the pretty op syntax alike.

Every op becomes one `Op`: its name, result names, operand uses, attributes under the generic
syntax's names (the pretty syntax's keywords are mapped to them), regions, and types. Building
HLO from the tree is the reader's job (`reader.py`)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..shape import Shape
from .attributes import Enum, FunctionType, Opaque, Struct, attr_dict, attr_value, function_type, pretty_value
from .cursor import MAX_NESTING, Cursor, balanced
from .locations import Loc, parse_loc
from .types import parse_type, type_list

_VALUE = re.compile(r"%([\w$.\-]+)(?:#(\d+))?")
_RESULT = re.compile(r"%([\w$.\-]+)(?::(\d+))?")
_OPNAME = re.compile(r'"([\w$.\-]+)"|([a-z_][\w$]*(?:\.[\w$]+)+)|(return|call)\b')
_IDENT = re.compile(r"[A-Za-z_][\w$.\-]*")
_BLOCK_ARG = re.compile(r"%([\w$.\-]+)")


@dataclass
class Use:
    """`%name` or `%name#index`, at `pos` in the text."""

    name: str
    index: int
    pos: int


@dataclass
class Block:
    """A region's single block: its arguments (name, type) and ops."""

    args: list[tuple[str, Shape]]
    ops: list[Op]
    pos: int


@dataclass
class Op:
    name: str  # "stablehlo.add", "func.return", "chlo.atanh"
    results: list[tuple[str, int]]  # (name, count): `%0:2` is ("0", 2)
    operands: list[Use]
    attrs: dict[str, Any]
    regions: list[Block]
    operand_types: list[Shape]
    result_types: list[Shape]
    pos: int
    loc: Loc | None = None
    # What the pretty syntax says beyond attributes: reduce's `applies`, while's iteration
    # argument names, a short signature `: T`, bare enum words; and where the op's name starts.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Func:
    name: str
    public: bool
    args: list[tuple[str, Shape]]
    results: list[Shape]
    body: Block
    pos: int
    loc: Loc | None = None


@dataclass
class ModuleSyntax:
    name: str
    attrs: dict[str, Any]
    funcs: list[Func]
    loc_aliases: dict[str, Loc]


# --- ops ----------------------------------------------------------------------------------------

def _uses(cur: Cursor, closer: str) -> list[Use]:
    out: list[Use] = []
    if cur.accept(closer):
        return out
    while True:
        out.append(_use(cur))
        if cur.accept(closer):
            return out
        cur.expect(",", f"',' or '{closer}' after an operand")


def _use(cur: Cursor) -> Use:
    cur.ws()
    pos = cur.pos
    m = cur.need(_VALUE, "a value such as %0")
    return Use(m.group(1), int(m.group(2) or 0), pos)


def _results(cur: Cursor) -> list[tuple[str, int]]:
    """`%0 =`, `%0:2 =`, `%a, %b =`; empty when the op has no results."""
    if not cur.peek("%"):
        return []
    out: list[tuple[str, int]] = []
    while True:
        m = cur.need(_RESULT, "a result name")
        out.append((m.group(1), int(m.group(2) or 1)))
        if cur.accept("="):
            return out
        cur.expect(",", "',' or '=' after the result name")


def _region(cur: Cursor, depth: int, args: list[tuple[str, Shape]] | None = None) -> Block:
    """`{ ^bb0(%x: T, ...): ops }` (the block label optional)."""
    if depth > MAX_NESTING:
        raise cur.error(f"regions nest deeper than {MAX_NESTING}")
    cur.ws()
    pos = cur.pos
    cur.expect("{", "'{' to open a region")
    block_args = list(args or [])
    if cur.peek("^"):
        cur.need(re.compile(r"\^[\w$.\-]+"), "a block label")
        if cur.accept("("):
            if not cur.accept(")"):
                while True:
                    block_args.append(_typed_arg(cur))
                    if cur.accept(")"):
                        break
                    cur.expect(",", "',' or ')' in the block arguments")
        cur.expect(":", "':' after the block label")
    ops: list[Op] = []
    while not cur.accept("}"):
        if cur.at_end():
            raise cur.error("expected '}' to close the region", pos)
        if cur.peek("^"):
            raise cur.error("regions with more than one block are not supported")
        ops.append(read_op(cur, depth))
    return Block(block_args, ops, pos)


def _typed_arg(cur: Cursor) -> tuple[str, Shape]:
    m = cur.need(_BLOCK_ARG, "an argument such as %arg0")
    cur.expect(":", "':' and the argument's type")
    t = parse_type(cur)
    if cur.peek("{"):
        attr_dict(cur)
    if cur.accept_word("loc"):
        parse_loc(cur)
    return (m.group(1), t)


def _signature(cur: Cursor, op: Op) -> None:
    """`: T`, `: T, U`, `: (T, U) -> R`, `: T -> R`, `: (T) -> (R, S)`."""
    if not cur.accept(":"):
        return
    cur.ws()
    if cur.peek("("):
        ft = function_type(cur)
        op.operand_types, op.result_types = list(ft.inputs), list(ft.results)
        return
    types = type_list(cur)
    if cur.accept("->"):
        op.operand_types = types
        op.result_types = type_list(cur) if cur.peek("(") else [parse_type(cur)]
        return
    op.extra["short_types"] = types


def read_op(cur: Cursor, depth: int = 0) -> Op:
    cur.ws()
    pos = cur.pos
    results = _results(cur)
    cur.ws()
    name_pos = cur.pos
    m = cur.match(_OPNAME)
    if not m:
        raise cur.error(f"expected an operation such as stablehlo.add, found {cur.found()}")
    if m.group(1) is not None:
        op = Op(m.group(1), results, [], {}, [], [], [], pos)
        _generic(cur, op, depth)
    else:
        name = m.group(2) or m.group(3)
        name = {"return": "func.return", "call": "func.call"}.get(name, name)
        op = Op(name, results, [], {}, [], [], [], pos)
        _pretty(cur, op, depth)
        _normalize(cur, op)
    if cur.accept_word("loc"):
        op.loc = parse_loc(cur)
    op.extra["name_pos"] = name_pos
    return op


def _generic(cur: Cursor, op: Op, depth: int) -> None:
    cur.expect("(", f"'(' after \"{op.name}\"")
    op.operands = _uses(cur, ")")
    if cur.accept("<{"):
        cur.pos -= 1
        op.attrs.update(attr_dict(cur))
        cur.expect(">", "'>' to close the properties")
    if cur.accept("("):
        while True:
            op.regions.append(_region(cur, depth + 1))
            if cur.accept(")"):
                break
            cur.expect(",", "',' or ')' between regions")
    if cur.peek("{"):
        op.attrs.update(attr_dict(cur))
    cur.expect(":", "':' and the op's function type")
    ft = function_type(cur)
    op.operand_types, op.result_types = list(ft.inputs), list(ft.results)


# --- the pretty syntax --------------------------------------------------------------------------

# Pretty-syntax keywords that the generic syntax names differently, per op.
_RENAMES: dict[str, dict[str, str]] = {
    "broadcast_in_dim": {"dims": "broadcast_dimensions"},
    "dynamic_broadcast_in_dim": {"dims": "broadcast_dimensions"},
    "transpose": {"dims": "permutation"},
    "reverse": {"dims": "dimensions"},
    "iota": {"dim": "iota_dimension"},
    "dynamic_iota": {"dim": "iota_dimension"},
    "concatenate": {"dim": "dimension"},
    "get_dimension_size": {"dim": "dimension"},
    "dynamic_slice": {"sizes": "slice_sizes"},
    "pad": {"low": "edge_padding_low", "high": "edge_padding_high", "interior": "interior_padding"},
    "fft": {"type": "fft_type", "length": "fft_length"},
    "rng_bit_generator": {"algorithm": "rng_algorithm"},
    "rng": {"distribution": "rng_distribution"},
    "convolution": {"dim_numbers": "dimension_numbers"},
    "dot_general": {"precision": "precision_config"},
}
_WINDOW_KEYS = {"stride": "window_strides", "pad": "padding", "lhs_dilate": "lhs_dilation",
                "rhs_dilate": "rhs_dilation", "reverse": "window_reversal"}


def _normalize(cur: Cursor, op: Op) -> None:
    """The pretty syntax's attributes under the generic syntax's names and forms."""
    short = op.name.split(".", 1)[1] if op.name.startswith("stablehlo.") else op.name
    for old, new in _RENAMES.get(short, {}).items():
        if old in op.attrs:
            op.attrs[new] = op.attrs.pop(old)
    enums = op.extra.pop("enums", [])
    if short == "compare" and enums:
        op.attrs["comparison_direction"] = Enum(enums[0])
        if len(enums) > 1:
            op.attrs["compare_type"] = Enum(enums[1])
    elif enums:
        raise cur.error(f"unexpected word '{enums[0]}' in {op.name}", op.pos)
    if short == "dot_general":
        fields: dict[str, Any] = {}
        for key, side in (("batching_dims", "batching"), ("contracting_dims", "contracting")):
            pair = op.attrs.pop(key, ([], []))
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise cur.error(f"{key} must be written like [0] x [1]", op.pos)
            fields[f"lhs_{side}_dimensions"], fields[f"rhs_{side}_dimensions"] = pair
        op.attrs["dot_dimension_numbers"] = Struct("dot", fields)
    if short == "convolution" and isinstance(op.attrs.get("window"), dict):
        for key, value in op.attrs.pop("window").items():
            if key not in _WINDOW_KEYS:
                raise cur.error(f"unknown convolution window field '{key}'", op.pos)
            op.attrs[_WINDOW_KEYS[key]] = value
    if short == "reduce_precision" and isinstance(op.attrs.get("format"), Enum):
        m = re.fullmatch(r"e(\d+)m(\d+)", op.attrs.pop("format").value)
        if not m:
            raise cur.error("reduce_precision format must look like e5m10", op.pos)
        op.attrs["exponent_bits"], op.attrs["mantissa_bits"] = int(m.group(1)), int(m.group(2))


def _pretty(cur: Cursor, op: Op, depth: int) -> None:
    """`operands, key = value, ENUM, ... {attrs} : types`, with the per-op forms folded in."""
    c = cur.next_char()
    if c == "(" and op.name != "func.call":
        _paren_operands(cur, op)
        c = cur.next_char()
    if c == "[":  # slice bounds right after the operand
        _bracket_after_operand(cur, op)
    first = True  # the next item needs no ',' before it
    while True:
        c = cur.next_char()
        if c in (":", "{", "}", "") or c == "l" and cur.text.startswith("loc(", cur.pos):
            break
        if c == "<":  # sdy.sharding_constraint %x <@mesh, [{"x"}, {}]>
            cur.pos += 1
            start = cur.pos - 1
            balanced(cur, "<", ">")
            op.attrs["sharding"] = Opaque(cur.text[start:cur.pos])
            continue
        if not first:
            if c != ",":
                break
            cur.pos += 1
            c = cur.next_char()
        first = False
        if c == "%":
            if op.extra.get("keyword_seen"):
                raise cur.error("operands must come before the op's attributes")
            op.operands.append(_use(cur))
            if cur.next_char() == "[":  # get_tuple_element %t[0]; slice %x [0:2]
                _bracket_after_operand(cur, op)
            continue
        if c == "@":
            op.attrs["callee"] = attr_value(cur)
            if cur.accept("("):
                op.operands = _uses(cur, ")")
            continue
        if c == '"':
            op.attrs["name"] = attr_value(cur)
            first = True
            continue
        if cur.peek("dense<") or cur.peek("dense_resource<"):
            value = attr_value(cur)
            op.attrs["value"] = value
            op.result_types = [value.shape]  # `dense<...> : T` gives the constant's type
            break
        m = cur.match(_IDENT)
        if not m:
            raise cur.error(f"expected an operand or an attribute, found {cur.found()}")
        word = m.group(0)
        if word == "applies":  # reduce's short form: `applies stablehlo.add`
            op.extra["applies"] = cur.need(re.compile(r"[\w$]+(?:\.[\w$]+)+"), "the op applied").group(0)
            first = True
            continue
        if word == "across":
            if not cur.accept_word("dimensions"):
                raise cur.error(f"expected 'dimensions' after 'across', found {cur.found()}")
            word = "dimensions"
        if cur.accept("="):
            op.extra["keyword_seen"] = True
            op.attrs[word] = pretty_value(cur, depth + 1)
        else:
            op.extra.setdefault("enums", []).append(word)
    if cur.peek("{"):
        op.attrs.update(attr_dict(cur))
    _signature(cur, op)
    _trailing_regions(cur, op, depth)


def _paren_operands(cur: Cursor, op: Op) -> None:
    """`(%a, %b)`, reduce's `(%x init: %c), (%y init: %d)`, while's `(%iterArg = %a, ...)`."""
    while cur.accept("("):
        if cur.accept(")"):
            break
        while True:
            cur.ws()
            if cur.peek("%"):
                first = _use(cur)
                if cur.accept_word("init"):
                    cur.expect(":", "':' after init")
                    op.extra.setdefault("inits", []).append(_use(cur))
                    op.operands.append(first)
                elif cur.accept("="):
                    op.extra.setdefault("iter_args", []).append(first.name)
                    op.operands.append(_use(cur))
                else:
                    op.operands.append(first)
            else:  # an attribute among the operands: chlo.top_k(%x, k = 3)
                save = cur.pos
                m = cur.match(_IDENT)
                if not (m and cur.accept("=")):
                    cur.pos = save
                    raise cur.error(f"expected an operand, found {cur.found()}")
                op.attrs[m.group(0)] = pretty_value(cur, 1)
            if cur.accept(")"):
                break
            cur.expect(",", "',' or ')' after an operand")
        save = cur.pos
        if not (cur.accept(",") and cur.peek("(")):
            cur.pos = save
            break
    if "inits" in op.extra:
        op.operands.extend(op.extra.pop("inits"))


_SLICE = re.compile(r"(-?\d+)\s*:\s*(-?\d+)(?:\s*:\s*(-?\d+))?")


def _bracket_after_operand(cur: Cursor, op: Op) -> None:
    """`[0]` (a tuple index) or `[0:2, 1:4:2]` (slice bounds)."""
    cur.expect("[")
    starts: list[int] = []
    limits: list[int] = []
    strides: list[int] = []
    if cur.accept("]"):
        op.attrs.update(start_indices=(), limit_indices=(), strides=())
        return
    m = cur.match(re.compile(r"-?\d+\s*\]"))
    if m:
        op.attrs["index"] = int(m.group(0)[:-1])
        return
    while True:
        s = cur.need(_SLICE, "start:limit or start:limit:stride")
        starts.append(int(s.group(1)))
        limits.append(int(s.group(2)))
        strides.append(int(s.group(3) or 1))
        if cur.accept("]"):
            break
        cur.expect(",", "',' or ']' in the slice bounds")
    op.attrs.update(start_indices=tuple(starts), limit_indices=tuple(limits), strides=tuple(strides))


def _trailing_regions(cur: Cursor, op: Op, depth: int) -> None:
    """while's `cond {...} do {...}`, reduce's `reducer(%a: T, %c: T) (%b: T, %d: T) {...}`."""
    if cur.accept_word("cond"):
        args = [(n, t) for n, t in zip(op.extra.get("iter_args", []), op.extra.get("short_types", []))]
        op.regions.append(_region(cur, depth + 1, args))
        if not cur.accept_word("do"):
            raise cur.error(f"expected 'do' and the loop body, found {cur.found()}")
        op.regions.append(_region(cur, depth + 1, args))
    elif cur.accept_word("reducer"):
        groups: list[list[tuple[str, Shape]]] = []
        while cur.accept("("):
            group = [_typed_arg(cur)]
            while cur.accept(","):
                group.append(_typed_arg(cur))
            cur.expect(")", "')' after the reducer's arguments")
            groups.append(group)
        if any(len(g) != 2 for g in groups):
            raise cur.error("each reducer argument group needs two arguments")
        args = [g[0] for g in groups] + [g[1] for g in groups]
        op.regions.append(_region(cur, depth + 1, args))


# --- functions and the module -------------------------------------------------------------------

# `{key = ...` or `{key, ...`: an attribute dictionary, where `{` could also open a body.
_ATTR_DICT_AHEAD = re.compile(r'\s*\{\s*(?:[A-Za-z_][\w.$\-]*|"[^"]*")\s*[=,}]')


def _func(cur: Cursor, pos: int) -> Func:
    public = True
    if cur.accept_word("private"):
        public = False
    elif cur.accept_word("public") or cur.accept_word("nested"):
        pass
    cur.ws()
    name = cur.need(re.compile(r'@(?:[\w$.\-]+|"(?:[^"\\]|\\.)*")'), "a function name such as @main").group(0)[1:]
    name = name.strip('"')
    cur.expect("(", "'(' and the function's arguments")
    args: list[tuple[str, Shape]] = []
    if not cur.accept(")"):
        while True:
            args.append(_typed_arg(cur))
            if cur.accept(")"):
                break
            cur.expect(",", "',' or ')' in the function's arguments")
    results: list[Shape] = []
    if cur.accept("->"):
        if cur.accept("("):
            if not cur.accept(")"):
                while True:
                    results.append(parse_type(cur))
                    if cur.peek("{"):
                        attr_dict(cur)
                    if cur.accept_word("loc"):
                        parse_loc(cur)
                    if cur.accept(")"):
                        break
                    cur.expect(",", "',' or ')' in the function's results")
        else:
            results.append(parse_type(cur))
            if _ATTR_DICT_AHEAD.match(cur.text, cur.pos):
                attr_dict(cur)
    if cur.accept_word("attributes"):
        attr_dict(cur)
    if not cur.peek("{"):
        raise cur.error("function declarations without a body are not supported", pos)
    body = _region(cur, 0, args)
    loc = parse_loc(cur) if cur.accept_word("loc") else None
    return Func(name, public, args, results, body, pos, loc)


def _generic_func(cur: Cursor, op: Op) -> Func:
    ft = op.attrs.get("function_type")
    name = op.attrs.get("sym_name")
    if not isinstance(ft, FunctionType) or not isinstance(name, str) or len(op.regions) != 1:
        raise cur.error("\"func.func\" needs sym_name, function_type and a body", op.pos)
    body = op.regions[0]
    if len(body.args) != len(ft.inputs):
        raise cur.error("the function's block arguments do not match its function_type", body.pos)
    return Func(name, op.attrs.get("sym_visibility", "public") != "private", body.args, list(ft.results), body,
                op.pos, op.loc)


def _skip_resources(cur: Cursor) -> None:
    """`{-# dialect_resources: ... #-}`: data for dense_resource literals, which are refused where used."""
    start = cur.pos
    end = cur.text.find("#-}", cur.pos)
    if end < 0:
        raise cur.error("expected '#-}' to close the resource block", start)
    cur.pos = end + 3


def read_module(text: str) -> tuple[ModuleSyntax, Cursor]:
    cur = Cursor(text)
    aliases: dict[str, Loc] = {}
    funcs: list[Func] = []
    name = "main"
    attrs: dict[str, Any] = {}
    seen_module = False
    while not cur.at_end():
        start = cur.pos
        if cur.peek("#"):
            m = cur.need(re.compile(r"#[\w$.\-]+"), "an alias")
            cur.expect("=", "'=' in the alias definition")
            if cur.accept_word("loc"):
                aliases[m.group(0)] = parse_loc(cur)
            else:
                attr_value(cur)  # attribute aliases are not used by the ops the reader knows
            continue
        if cur.peek("{-#"):
            _skip_resources(cur)
            continue
        if cur.accept_word("module"):
            if seen_module:
                raise cur.error("more than one module in the text", start)
            seen_module = True
            if cur.peek("@"):
                name = cur.need(re.compile(r'@(?:[\w$.\-]+|"(?:[^"\\]|\\.)*")'), "a module name").group(0)[1:]
                name = name.strip('"')
            if cur.accept_word("attributes"):
                attrs = attr_dict(cur)
            cur.expect("{", "'{' to open the module")
            while not cur.accept("}"):
                if cur.at_end():
                    raise cur.error("expected '}' to close the module", start)
                if cur.peek("sdy."):  # `sdy.mesh @mesh = <["x"=2]>`: device meshes mean nothing on one device
                    end = cur.text.find("\n", cur.pos)
                    cur.pos = cur.n if end < 0 else end
                    continue
                funcs.append(_top_level_func(cur))
            if cur.accept_word("loc"):
                parse_loc(cur)
            continue
        if cur.peek('"builtin.module"'):
            if seen_module:
                raise cur.error("more than one module in the text", start)
            seen_module = True
            op = read_op(cur)
            name = op.attrs.get("sym_name", name) if isinstance(op.attrs.get("sym_name"), str) else name
            attrs = {k: v for k, v in op.attrs.items() if k != "sym_name"}
            if len(op.regions) != 1:
                raise cur.error("\"builtin.module\" needs one region", start)
            for fop in op.regions[0].ops:
                if fop.name != "func.func":
                    raise cur.error(f"expected \"func.func\" in the module, found \"{fop.name}\"", fop.pos)
                funcs.append(_generic_func(cur, fop))
            continue
        funcs.append(_top_level_func(cur))
    if not funcs:
        raise cur.error("expected a module with at least one func.func")
    return ModuleSyntax(name, attrs, funcs, aliases), cur


def _top_level_func(cur: Cursor) -> Func:
    cur.ws()
    start = cur.pos
    if cur.accept_word("func.func"):
        return _func(cur, start)
    if cur.peek('"func.func"'):
        return _generic_func(cur, read_op(cur))
    raise cur.error(f"expected func.func, found {cur.found()}")


