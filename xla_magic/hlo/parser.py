"""Reads XLA's HLO text format, as `as_text()` of lowered and compiled JAX functions prints it.

A hand-written scanner over the characters (regexes anchored at the cursor), iterative where the
text nests, so no input can exhaust Python's recursion limit. Every malformed input raises
HloParseError with a line, a column and a caret under the fault."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from . import attrs as A
from .builder import DECLARED
from .dtypes import DTYPES
from .elided import MODES, ElidedMode, fill
from .ir import Computation, DebugTables, Instruction, Module
from .opcodes import OPCODES, Opcode
from .scanner import HloParseError as HloParseError  # the error every reader of text raises
from .scanner import Scanner
from .shape import Shape, layout_problem
from .shape_inference import ShapeError, infer_shape

MAX_NESTING = 64  # tuple shapes and constant braces deeper than this are refused, not recursed


Scalar = bool | int | float | complex  # one element of a constant as read from the text
ReadScalar = Callable[["_Cursor"], Scalar]


_FOUND = re.compile(r"[\w.%\-]+|\S")
_NAME = re.compile(r"%?([A-Za-z_][\w.\-]*)")
_ATTR_KEY = re.compile(r"([A-Za-z_][\w\-]*)\s*=")
_INT = re.compile(r"-?\d+")
_DTYPE = re.compile(r"([a-z][a-z0-9]*)(?=\[)")
_NUMBER = re.compile(
    r"[-+]?(?:inf|nan(?:\([^)]*\))?|0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|true|false"
)


class _Cursor(Scanner):
    WS = re.compile(r"(?:\s+|/\*.*?\*/|//[^\n]*)*", re.S)

    def __init__(self, text: str, elided: ElidedMode | None = None):
        super().__init__(text)
        self.elided = elided  # what an elided constant `{...}` becomes; None: an error

    def found(self) -> str:
        if self.pos >= self.n:
            return "end of text"
        m = _FOUND.match(self.text, self.pos)
        return f"'{m.group(0)[:30]}'" if m else "end of text"

    def ws(self) -> None:
        super().ws()
        if self.text.startswith("/*", self.pos):
            raise self.error("unterminated comment")

    def name(self, what: str = "a name") -> str:
        m = self.match(_NAME)
        if not m:
            raise self.error(f"expected {what}, found {self.found()}")
        return m.group(1)

    def integer(self, what: str = "an integer") -> int:
        m = self.match(_INT)
        if not m:
            raise self.error(f"expected {what}, found {self.found()}")
        return int(m.group(0))

    def balanced(self) -> str:
        """The text of one attribute value: up to a top-level ',' or whitespace (brackets and
        quotes balanced)."""
        self.ws()
        start, depth, pos, text = self.pos, 0, self.pos, self.text
        closers = {"{": "}", "(": ")", "[": "]"}
        stack: list[str] = []
        while pos < self.n:
            c = text[pos]
            if c == '"':
                m = re.compile(r'"(?:[^"\\\n]|\\.)*"').match(text, pos)
                if not m:
                    raise self.error("unterminated string", pos)
                pos = m.end()
                continue
            if c in closers:
                stack.append(closers[c])
                depth += 1
            elif c in "})]":
                if not stack:
                    break
                if stack.pop() != c:
                    raise self.error(f"unbalanced '{c}'", pos)
                depth -= 1
            elif depth == 0 and (c == "," or c.isspace()):
                break
            elif c == "\n":
                pass
            pos += 1
        if stack:
            raise self.error(f"expected '{stack[-1]}' to close this value", start)
        self.pos = pos
        if pos == start:
            raise self.error(f"expected an attribute value, found {self.found()}")
        return text[start:pos]


# --- shapes ----------------------------------------------------------------------------------

def _array_shape(cur: _Cursor, owner: str = "") -> Shape:
    """An array shape; `owner` names the instruction it declares, for errors."""
    m = cur.match(_DTYPE)
    if not m:
        raise cur.error(f"expected a shape such as f32[2,3], found {cur.found()}")
    dt = DTYPES.get(m.group(1))
    if dt is None:
        raise cur.error(f"unknown element type '{m.group(1)}'", m.start())
    cur.expect("[")
    dims: list[int] = []
    dynamic: list[bool] = []
    if not cur.accept("]"):
        while True:
            dyn = cur.accept("<=")
            if cur.accept("?"):
                raise cur.error("unbounded dynamic dimensions are not supported")
            d = cur.integer("a dimension size")
            if d < 0:
                raise cur.error("dimension sizes must be non-negative")
            dims.append(d)
            dynamic.append(dyn)
            if cur.accept("]"):
                break
            cur.expect(",", "',' or ']' in the dimensions")
    layout, tail = None, ""
    # A layout follows immediately; '{' after whitespace would be something else (a body).
    brace = cur.pos
    if cur.text.startswith("{", cur.pos):
        cur.pos += 1
        layout_l: list[int] = []
        if not cur.accept("}"):
            while True:
                if cur.peek(":"):
                    end = cur.text.find("}", cur.pos)
                    # Tiling like :T(8,128) has its own parentheses; find the brace after them.
                    depth, p = 0, cur.pos
                    while p < cur.n and not (cur.text[p] == "}" and depth == 0):
                        depth += {"(": 1, ")": -1}.get(cur.text[p], 0)
                        p += 1
                    end = p
                    if end >= cur.n:
                        raise cur.error("expected '}' to close the layout")
                    tail = cur.text[cur.pos + 1:end]
                    cur.pos = end + 1
                    break
                layout_l.append(cur.integer("a layout dimension"))
                if cur.accept("}"):
                    break
                if not cur.peek(":"):
                    cur.expect(",", "',' or '}' in the layout")
        layout = tuple(layout_l)
    shape = Shape(dt, tuple(dims), layout, None, tuple(dynamic) if any(dynamic) else None, tail)
    problem = layout_problem(shape)
    if problem is not None:
        who = f"instruction '{owner}': " if owner else ""
        raise cur.error(f"{who}{problem} ({shape.to_text(layout=False)})", brace)
    return shape


def _shape(cur: _Cursor, owner: str = "") -> Shape:
    """A shape; tuples are read with an explicit stack. `owner` as for _array_shape."""
    if not cur.peek("("):
        return _array_shape(cur, owner)
    stack: list[list[Shape]] = []
    while True:
        if cur.accept("("):
            if len(stack) >= MAX_NESTING:
                raise cur.error(f"tuple shapes nest deeper than {MAX_NESTING}")
            stack.append([])
            if cur.accept(")"):
                done = Shape.tuple_of(stack.pop())
            else:
                continue
        else:
            done = _array_shape(cur, owner)
        # Close as many tuples as end here.
        while True:
            if not stack:
                return done
            stack[-1].append(done)
            if cur.accept(","):
                break
            if cur.accept(")"):
                done = Shape.tuple_of(stack.pop())
                continue
            raise cur.error(f"expected ',' or ')' in a tuple shape, found {cur.found()}")


def _starts_shape(cur: _Cursor) -> bool:
    cur.ws()
    if cur.text.startswith("(", cur.pos):
        return True
    m = _DTYPE.match(cur.text, cur.pos)
    return bool(m and m.group(1) in DTYPES)


# --- literals --------------------------------------------------------------------------------

def _literal(cur: _Cursor, shape: Shape, start: int, name: str) -> npt.NDArray[Any]:
    """The constant's value in the shape's dtype; `{...}` (elided) as `cur.elided` says."""
    if shape.is_tuple:
        raise cur.error("tuple-shaped constants are not supported", start)
    cur.ws()
    if cur.text.startswith("{...}", cur.pos):
        if cur.elided is None:
            raise cur.error(f"constant '{name}' is elided as {{...}}: its value is not in the text; parse with "
                            "elided=\"random\" or elided=\"zeros\" to fill it", cur.pos)
        if shape.element_type.np is None:
            raise cur.error(f"constants of type {shape.element_type.name} are not supported", start)
        cur.pos += 5
        return fill(name, shape, cur.elided)
    dt = shape.element_type
    if dt.np is None:
        raise cur.error(f"constants of type {dt.name} are not supported", start)
    values: list[Scalar] = []
    read_one: ReadScalar
    if dt.is_complex:
        read_one = _complex_value
    else:
        read_one = _scalar_value
    if shape.rank == 0 and not cur.peek("{"):
        values.append(read_one(cur))
        nest_ok = True
    else:
        nest_ok = _nested(cur, shape.dims, values, read_one)
    if not nest_ok:
        raise cur.error(f"constant does not match its shape {shape.to_text(False)}", start)
    try:
        return _to_array(values, shape)
    except (OverflowError, ValueError) as e:
        raise cur.error(f"constant value does not fit {dt.name}: {e}", start) from None


def _scalar_value(cur: _Cursor) -> bool | int | float:
    m = cur.match(_NUMBER)
    if not m:
        raise cur.error(f"expected a number, found {cur.found()}")
    t = m.group(0)
    if t in ("true", "false"):
        return t == "true"
    low = t.lower().lstrip("+")
    if "nan" in low:
        return float("nan") if not low.startswith("-") else -float("nan")
    if "inf" in low:
        return float(low)
    if "0x" in low:
        return int(low, 16)
    if re.fullmatch(r"-?\d+", low):
        # XLA prints a float -0.0 as "-0": keep its sign (an integer constant reads it as 0).
        return -0.0 if low.startswith("-") and int(low) == 0 else int(low)
    return float(low)


def _complex_value(cur: _Cursor) -> complex:
    if cur.accept("("):
        re_ = _scalar_value(cur)
        cur.expect(",")
        im = _scalar_value(cur)
        cur.expect(")")
        return complex(re_, im)
    return complex(_scalar_value(cur))


def _nested(cur: _Cursor, dims: tuple[int, ...], out: list[Scalar], read_one: ReadScalar) -> bool:
    """Reads `{ {1, 2}, {3, 4} }` for dims (2, 2) into `out` (row-major) without recursion.
    Returns False when the nesting or the counts do not match the shape."""
    rank = len(dims)
    if rank == 0:  # `{5}` for a scalar
        cur.expect("{")
        out.append(read_one(cur))
        cur.expect("}")
        return True
    if rank > MAX_NESTING:
        raise cur.error(f"constants nest deeper than {MAX_NESTING}")
    counts: list[int] = []
    cur.expect("{")
    counts.append(0)
    while counts:
        level = len(counts) - 1
        if cur.accept("}"):
            if counts[-1] != dims[level]:
                return False
            counts.pop()
            if counts:
                counts[-1] += 1
                if not cur.peek("}"):
                    cur.expect(",", "',' or '}' in the constant")
            continue
        if level < rank - 1:
            cur.expect("{")
            counts.append(0)
        else:
            out.append(read_one(cur))
            counts[-1] += 1
            if not cur.peek("}"):
                cur.expect(",", "',' or '}' in the constant")
    return True


def _to_array(values: list[Scalar], shape: Shape) -> npt.NDArray[Any]:
    dt = shape.element_type
    reals = cast("list[float]", values)  # complex values are read only for complex types
    arr: npt.NDArray[Any]
    if dt.kind == "pred":
        arr = np.array([bool(v) for v in values], dtype=np.bool_)
    elif dt.is_int:
        ints = [int(v) for v in reals]
        info = np.iinfo(dt.np) if dt.bits >= 8 else None
        if info is not None and ints and (min(ints) < info.min or max(ints) > info.max):
            raise ValueError(f"{min(ints) if min(ints) < info.min else max(ints)} out of range")
        arr = np.array(ints, dtype=np.int64 if dt.kind == "s" else np.uint64).astype(dt.np)
    elif dt.is_complex:
        arr = np.array(values, dtype=np.complex128).astype(dt.np)
    else:
        with np.errstate(over="ignore"):
            arr = np.array([float(v) for v in reals], dtype=np.float64).astype(dt.np)
    return arr.reshape(shape.dims)


# --- instructions ----------------------------------------------------------------------------

@dataclass(slots=True)
class _Pending:
    """An instruction read from text whose operand names are not yet resolved.

    `comp_refs` maps each attribute that names computations (or control predecessors) to the
    text position of its value, for errors found when the names are resolved."""

    instr: Instruction
    operand_names: list[str]
    operand_pos: list[int]
    is_root: bool
    comp_refs: dict[str, tuple[int, ...]]
    infer: bool = False  # no result shape in the text: XLA's shape rules give it


def _instruction(cur: _Cursor) -> _Pending:
    is_root = False
    cur.ws()
    start = cur.pos
    if re.compile(r"ROOT\b").match(cur.text, cur.pos):
        is_root = True
        cur.pos += 4
        cur.ws()
        start = cur.pos
    name = cur.name("an instruction name")
    cur.expect("=", "'=' after the instruction name")
    # XLA's parser infers the result shape where the shape rules can (`add.1 = add(x, y)`).
    cur.ws()
    has_shape = cur.text.startswith("(", cur.pos) or _DTYPE.match(cur.text, cur.pos) is not None
    shape = _shape(cur, name) if has_shape else None
    cur.ws()
    op_pos = cur.pos
    m = cur.match(re.compile(r"[a-z][a-z0-9\-]*"))
    if not m:
        raise cur.error(f"expected {'an opcode' if shape else 'a shape such as f32[2,3] or an opcode'}, "
                        f"found {cur.found()}")
    opcode = OPCODES.get(m.group(0))
    if opcode is None:
        raise cur.error(f"unknown opcode '{m.group(0)}'", op_pos)
    if shape is None and (opcode in DECLARED or opcode in (Opcode.CONSTANT, Opcode.PARAMETER)):
        raise cur.error(f"instruction '{name}': {opcode.value} needs its result shape before the opcode "
                        "(such as f32[2,3])", op_pos)
    line, col = cur.where(start)
    instr = Instruction(name, opcode, shape or Shape.tuple_of([]), line=line, column=col)
    cur.expect("(", f"'(' after {opcode.value}")
    operand_names: list[str] = []
    operand_pos: list[int] = []
    if opcode is Opcode.CONSTANT:
        assert shape is not None
        instr.literal = _literal(cur, shape, op_pos, name)
        cur.expect(")", "')' after the constant")
    elif opcode is Opcode.PARAMETER:
        instr.parameter_number = cur.integer("a parameter number")
        if instr.parameter_number < 0:
            raise cur.error("parameter numbers must be non-negative")
        cur.expect(")")
    elif not cur.accept(")"):
        while True:
            if _starts_shape(cur):
                _shape(cur)  # operands may carry their shape inline: add(f32[] %a, f32[] %b)
            cur.ws()
            operand_pos.append(cur.pos)
            operand_names.append(cur.name("an operand name"))
            if cur.accept(")"):
                break
            cur.expect(",", "',' or ')' after an operand")
    comp_refs: dict[str, tuple[int, ...]] = {}
    seen: set[str] = set()
    while cur.accept(","):
        cur.ws()
        key_pos = cur.pos
        km = cur.match(_ATTR_KEY)
        if not km:
            raise cur.error(f"expected an attribute such as dimensions={{0}}, found {cur.found()}")
        key = km.group(1)
        if key in seen:
            raise cur.error(f"attribute '{key}' given twice", key_pos)
        seen.add(key)
        cur.ws()
        val_pos = cur.pos
        raw = cur.balanced()
        instr_attr(cur, instr, key, raw, val_pos, comp_refs)
    return _Pending(instr, operand_names, operand_pos, is_root, comp_refs, shape is None)


def instr_attr(cur: _Cursor, instr: Instruction, key: str, raw: str, pos: int,
               comp_refs: dict[str, tuple[int, ...]]) -> None:
    try:
        if key == "metadata":
            instr.metadata = A.parse_metadata(raw)
        elif key in A.COMP_ATTRS:
            m = _NAME.fullmatch(raw)
            if not m:
                raise A.AttrError(f"expected a computation name, got '{raw[:40]}'")
            instr.attrs[key] = A.CompRef(m.group(1))
            comp_refs[key] = (pos,)
        elif key in A.COMP_LIST_ATTRS:
            body = raw.strip()
            if not (body.startswith("{") and body.endswith("}")):
                raise A.AttrError("expected a list of computations like {%a, %b}")
            names = [s.strip() for s in body[1:-1].split(",") if s.strip()]
            refs = []
            for s in names:
                m = _NAME.fullmatch(s)
                if not m:
                    raise A.AttrError(f"expected a computation name, got '{s[:40]}'")
                refs.append(A.CompRef(m.group(1)))
            instr.attrs[key] = tuple(refs)
            comp_refs[key] = (pos,)
        elif key == "control-predecessors":
            body = raw.strip()
            if not (body.startswith("{") and body.endswith("}")):
                raise A.AttrError("expected a list of instructions like {%a, %b}")
            names = [s.strip() for s in body[1:-1].split(",") if s.strip()]
            preds = []
            for s in names:
                m = _NAME.fullmatch(s)
                if not m:
                    raise A.AttrError("expected instruction names")
                preds.append(A.CompRef(m.group(1)))
            instr.attrs[key] = tuple(preds)
            comp_refs[key] = (pos,)
        elif key in A.ATTR_KINDS:
            instr.attrs[key] = A.ATTR_KINDS[key][0](raw)
        else:
            instr.attrs[key] = A.Raw(raw)
    except A.AttrError as e:
        raise cur.error(f"bad {key}: {e}", pos + e.offset) from None


# --- computations and the module -------------------------------------------------------------

def _computation(cur: _Cursor) -> tuple[Computation, list[_Pending], dict[str, object]]:
    cur.ws()
    start = cur.pos
    is_entry = bool(re.compile(r"ENTRY\b").match(cur.text, cur.pos))
    if is_entry:
        cur.pos += 5
    name = cur.name("a computation name")
    line, _ = cur.where(start)
    if cur.accept("("):  # signature: (p: f32[], q: f32[]) -> f32[]; the parameters decide.
        if not cur.accept(")"):
            while True:
                cur.name("a parameter name")
                cur.expect(":")
                _shape(cur)
                if cur.accept(")"):
                    break
                cur.expect(",", "',' or ')' in the signature")
        cur.expect("->", "'->' before the result shape")
        _shape(cur)
    cur.expect("{", "'{' to open the computation")
    pending: list[_Pending] = []
    while not cur.accept("}"):
        if cur.pos >= cur.n:
            raise cur.error(f"expected '}}' to close computation '{name}'")
        pending.append(_instruction(cur))
    comp_attrs: dict[str, object] = {}
    # `}, execution_thread="x"` may follow a computation's body.
    while True:
        save = cur.pos
        if cur.accept(","):
            km = cur.match(_ATTR_KEY)
            if km:
                comp_attrs[km.group(1)] = A.Raw(cur.balanced())
                continue
        cur.pos = save
        break
    if not pending:
        raise cur.error(f"computation '{name}' has no instructions", start)
    roots = [p for p in pending if p.is_root]
    if len(roots) > 1:
        raise cur.error(f"computation '{name}' has two ROOT instructions", _pos_of(cur, roots[1].instr))
    root = (roots[0] if roots else pending[-1]).instr
    # Resolve operands within the computation.
    by_name: dict[str, Instruction] = {}
    for p in pending:
        if p.instr.name in by_name:
            raise cur.error(f"instruction name '{p.instr.name}' defined twice", _pos_of(cur, p.instr))
        by_name[p.instr.name] = p.instr
    for p in pending:
        ops = []
        for opname, pos in zip(p.operand_names, p.operand_pos):
            target = by_name.get(opname)
            if target is None:
                raise cur.error(f"operand '{opname}' is not defined in computation '{name}'", pos)
            ops.append(target)
        p.instr.operands = ops
        preds = p.comp_refs.pop("control-predecessors", None)
        if preds is not None:
            resolved = []
            for r in p.instr.attrs["control-predecessors"]:
                if r.name not in by_name:
                    raise cur.error(f"control predecessor '{r.name}' is not defined in '{name}'", preds[0])
                resolved.append(by_name[r.name])
            p.instr.attrs["control-predecessors"] = tuple(resolved)
    comp = Computation(name, [p.instr for p in pending], root, is_entry, line, comp_attrs)
    return comp, pending, {}


def _pos_of(cur: _Cursor, instr: Instruction) -> int:
    return cur._line_starts[instr.line - 1] + instr.column - 1


_TABLE_HEADERS = ("FileNames", "FunctionNames", "FileLocations", "StackFrames")


def _tables(cur: _Cursor, debug: DebugTables) -> None:
    while True:
        cur.ws()
        m = re.compile(r"(FileNames|FunctionNames|FileLocations|StackFrames)\s*\n").match(cur.text, cur.pos)
        if not m:
            return
        table = m.group(1)
        cur.pos = m.end()
        while True:
            cur.ws()
            im = re.compile(r"(\d+)[ \t]+").match(cur.text, cur.pos)
            if not im:
                break
            cur.pos = im.end()
            key = int(im.group(1))
            if table in ("FileNames", "FunctionNames"):
                sm = cur.match(re.compile(r'"(?:[^"\\\n]|\\.)*"'))
                if not sm:
                    raise cur.error("expected a quoted name")
                target = debug.file_names if table == "FileNames" else debug.function_names
                target[key] = A.unquote(sm.group(0))
            else:
                cur.expect("{")
                fields: dict[str, int] = {}
                while not cur.accept("}"):
                    fm = cur.match(re.compile(r"([a-z_]+)=(-?\d+)"))
                    if not fm:
                        raise cur.error(f"expected key=number in {table}, found {cur.found()}")
                    fields[fm.group(1)] = int(fm.group(2))
                (debug.file_locations if table == "FileLocations" else debug.stack_frames)[key] = fields


def _complete(cur: _Cursor, pendings: list[list[_Pending]]) -> None:
    """What XLA's parser fills in once operands and callees are known: the result shapes the text
    left out (from the shape rules, operands first) and `dimensions={}` of a scalar's broadcast."""
    for pending in pendings:
        known = {id(p.instr) for p in pending if not p.infer}
        for p in pending:
            instr = p.instr
            if instr.opcode is Opcode.BROADCAST and "dimensions" not in instr.attrs and instr.operands:
                x = instr.operands[0].shape
                if x.is_tuple or x.rank:
                    raise cur.error(f"broadcast '{instr.name}' of a rank-{x.rank if not x.is_tuple else 'tuple'} "
                                    "operand needs dimensions={...}", _pos_of(cur, instr))
                instr.attrs["dimensions"] = ()
            if p.infer:
                for o, pos in zip(instr.operands, p.operand_pos):
                    if id(o) not in known:
                        raise cur.error(f"operand '{o.name}' is used before its definition, so the shape of "
                                        f"'{instr.name}' cannot be inferred", pos)
                try:
                    instr.shape = infer_shape(instr)
                except ShapeError as e:
                    raise cur.error(f"instruction '{instr.name}' has no result shape and XLA's shape rules give "
                                    f"none: {e}", _pos_of(cur, instr)) from None
                known.add(id(instr))


def parse_hlo(text: str, verify: bool = True, elided: ElidedMode | None = None) -> Module:
    """Parses HLO text into a Module; verifies it (shapes, operands, numbering) unless told not to.

    The text is XLA's: an `HloModule name, attrs...` header is optional (without it the module is
    named after its entry computation), the entry is the computation marked ENTRY or else the last
    one, and result shapes may be left out where XLA's shape rules give them. Constants elided as
    `{...}` are an error unless `elided` is "random" or "zeros" (see hlo/elided.py).

    Raises HloParseError for malformed text and HloVerifyError for a well-formed but wrong module."""
    if not isinstance(text, str):
        raise TypeError(f"parse_hlo expects HLO text (str), got {type(text).__name__}")
    if elided is not None and elided not in MODES:
        raise ValueError(f"elided must be None, \"random\" or \"zeros\", not {elided!r}")
    cur = _Cursor(text, elided)
    cur.ws()
    mod_name: str | None = None
    header: dict[str, object] = {}
    if re.compile(r"HloModule\b").match(text, cur.pos):
        cur.pos += len("HloModule")
        mod_name = cur.name("a module name")
    while mod_name is not None and cur.accept(","):
        cur.ws()
        km = cur.match(_ATTR_KEY)
        if not km:
            raise cur.error(f"expected a module attribute, found {cur.found()}")
        header[km.group(1)] = A.Raw(cur.balanced())
    header.pop("entry_computation_layout", None)  # re-derived from the entry when printing
    debug = DebugTables()
    _tables(cur, debug)
    comps: list[Computation] = []
    pendings: list[list[_Pending]] = []
    cur.ws()
    while cur.pos < cur.n:
        comp, pending, _ = _computation(cur)
        comps.append(comp)
        pendings.append(pending)
        cur.ws()
    if not comps:
        raise cur.error("expected at least one computation")
    by_name: dict[str, Computation] = {}
    for c in comps:
        if c.name in by_name:
            raise cur.error(f"computation '{c.name}' defined twice", cur._line_starts[c.line - 1])
        by_name[c.name] = c
    entries = [c for c in comps if c.is_entry]
    if len(entries) > 1:
        raise cur.error("more than one ENTRY computation", cur._line_starts[entries[1].line - 1])
    entry = entries[0] if entries else comps[-1]
    entry.is_entry = True
    if mod_name is None:
        mod_name = entry.name
    # Resolve computation references now that all computations are known.
    for pending in pendings:
        for p in pending:
            for key, (pos,) in p.comp_refs.items():
                v = p.instr.attrs[key]
                refs = v if isinstance(v, tuple) else (v,)
                resolved = []
                for r in refs:
                    callee = by_name.get(r.name)
                    if callee is None:
                        raise cur.error(f"computation '{r.name}' is not defined", pos)
                    resolved.append(callee)
                p.instr.attrs[key] = tuple(resolved) if isinstance(v, tuple) else resolved[0]
    _complete(cur, pendings)
    module = Module(mod_name, comps, entry, header, debug)
    if verify:
        from .verifier import verify_module

        verify_module(module)
    return module
