"""The elemental emitter in CUDA C: the value of any fused instruction at a multi-index.

Index rules (broadcast, reshape, transpose, slice, pad, concatenate, reverse, iota,
dynamic-slice, dynamic-update-slice, gather) are the shared ones of `backends.indexing`; this
module supplies their operations as C text (`CIndexOps`, folding constants so the text stays
plain) and what only CUDA C has: loads, constant tables, elementwise ops through
`scalar.SCALAR_OPS`, `map` (its scalar computation inlined) and bitcast-convert between widths.
Indices are C expressions of type `xm_i` (32-bit when every buffer of the module is small
enough); wide values are `long long`. Values used more than once are named
(`const xm_i i7 = ...;`), and an index delinearized here is remembered, so linearizing it again
for the same dimensions costs nothing."""
from __future__ import annotations

import operator
from collections.abc import Callable, Sequence

import numpy as np

from ...hlo.dtypes import S64, DType
from ...hlo.ir import Instruction
from ...hlo.opcodes import ELEMENTWISE
from ...hlo.opcodes import Opcode as O
from ...hlo.shape import row_major_strides
from ..indexing import (
    INDEX_RULES,
    Kind,
    Steps,
    bitcast_widths,
    changes_width,
    delinearize,
    drive,
    linearize,
    operand_values,
)
from . import ctype as C
from .ctype import Unsupported
from .scalar import Emitter, bitcast_join, bitcast_piece, convert_value, inline_computation, scalar_op

Index = list[str]  # C expressions, one per dimension

strides = row_major_strides


def _dtype(instr: Instruction) -> DType:
    dt = instr.shape.dtype
    assert dt is not None, f"'{instr.name}' is a tuple"
    return dt


# --- index arithmetic as C text ----------------------------------------------------------------

def _prec(e: str) -> int:
    """How loosely the top level of a C expression binds: 0 a primary (name, literal, call,
    cast, parenthesized), 1 multiplicative, 2 additive, 3 comparison, 4 &&, 5 anything looser."""
    depth, level, prev = 0, 0, ""
    for ch in e:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch != " ":
            if ch in "?:|":
                return 5
            if ch == "&":
                level = max(level, 4)
            elif ch in "<>=!":
                level = max(level, 3)
            elif ch in "+-" and (prev.isalnum() or prev in "_)]."):  # binary, not a sign
                level = max(level, 2)
            elif ch in "*/%" and (prev.isalnum() or prev in "_)]."):
                level = max(level, 1)
        if ch != " ":
            prev = ch
    return level


def _wrap(e: str, loosest: int) -> str:
    """`e` as an operand that binds at least as tightly as level `loosest`."""
    return f"({e})" if _prec(e) > loosest else e


def _int(e: str) -> int | None:
    """The value of a plain integer literal, else None."""
    return int(e) if e.lstrip("-").isdigit() else None


class CIndexOps:
    """`indexing.IndexArith` on C expressions, widening and narrowing: text only, no statements (`Elemental`
    adds the operations that name values). Constant operands fold: no `x * 1 + 0` in the text."""

    def const(self, c: int) -> str:
        return str(c)

    def add(self, a: str, b: str) -> str:
        x, y = _int(a), _int(b)
        if x is not None and y is not None:
            return str(x + y)
        if x == 0:
            return b
        if y == 0:
            return a
        return f"{_wrap(a, 2)} + {_wrap(b, 1)}"

    def sub(self, a: str, b: str) -> str:
        x, y = _int(a), _int(b)
        if x is not None and y is not None:
            return str(x - y)
        if y == 0:
            return a
        return f"{_wrap(a, 2)} - {_wrap(b, 1)}"

    def mul(self, a: str, c: int) -> str:
        x = _int(a)
        if x is not None:
            return str(x * c)
        if c == 1:
            return a
        return f"{_wrap(a, 0)} * {c}"

    def div(self, a: str, c: int) -> str:
        x = _int(a)
        if x is not None and x >= 0:
            return str(x // c)
        return a if c == 1 else f"{_wrap(a, 0)} / {c}"

    def rem(self, a: str, c: int) -> str:
        x = _int(a)
        if x is not None and x >= 0:
            return str(x % c)
        return "0" if c == 1 else f"{_wrap(a, 0)} % {c}"

    def _cmp(self, op: str, holds: Callable[[int, int], bool], a: str, b: str) -> str:
        x, y = _int(a), _int(b)
        if x is not None and y is not None:
            return "true" if holds(x, y) else "false"
        return f"{_wrap(a, 2)} {op} {_wrap(b, 2)}"

    def lt(self, a: str, b: str) -> str:
        return self._cmp("<", operator.lt, a, b)

    def le(self, a: str, b: str) -> str:
        return self._cmp("<=", operator.le, a, b)

    def ge(self, a: str, b: str) -> str:
        return self._cmp(">=", operator.ge, a, b)

    def eq(self, a: str, b: str) -> str:
        return self._cmp("==", operator.eq, a, b)

    def true(self) -> str:
        return "true"

    def and_(self, a: str, b: str) -> str:
        if a == "true":
            return b
        if b == "true":
            return a
        return f"{_wrap(a, 4)} && {_wrap(b, 4)}"

    def wide(self, v: str) -> str:
        return v if _int(v) is not None else f"(long long){_wrap(v, 0)}"

    def narrow(self, v: str) -> str:
        return v if _int(v) is not None else f"(xm_i){_wrap(v, 0)}"

    def element_index(self, dt: DType, v: str) -> str:
        # A cast to long long sign- or zero-extends as the element type says; a u64 past 2^63
        # would read as negative, so it saturates (it is past the end of any dimension).
        if dt.kind == "u" and dt.bits >= 64:
            return f"(long long)({_wrap(v, 0)} > 0x7fffffffffffffffULL ? 0x7fffffffffffffffULL : {_wrap(v, 0)})"
        return f"(long long){_wrap(v, 0)}"


_TEXT = CIndexOps()


def linear_expr(index: Sequence[str], dims: Sequence[int]) -> str:
    """The row-major offset of a multi-index, as one C expression."""
    return linearize(_TEXT, index, dims)


class Constants:
    """Module-level tables for constants whose elements differ (`__device__ const T name[]`)."""

    def __init__(self) -> None:
        self.tables: dict[str, str] = {}  # name -> definition
        self._by_key: dict[tuple[str, bytes], str] = {}

    def table(self, instr: Instruction) -> str:
        """The name of a table holding the constant's elements in their storage form (floats as
        their bits: a static initializer cannot compute inf or NaN); read it with `load`."""
        dt = _dtype(instr)
        flat = np.ascontiguousarray(np.asarray(instr.literal).astype(dt.np)).reshape(-1)
        key = (dt.name, flat.tobytes())
        hit = self._by_key.get(key)
        if hit:
            return hit
        name = f"xm_const{len(self.tables)}"
        if dt.kind == "f":
            bits = flat.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[flat.dtype.itemsize])
            ctype = {2: "xm_u16", 4: "unsigned", 8: "xm_u64"}[flat.dtype.itemsize]
            body = ", ".join(f"{int(b)}u" + ("ll" if flat.dtype.itemsize == 8 else "") for b in bits.tolist())
        else:
            ctype = C.storage(dt)
            body = ", ".join(str(int(v)) for v in flat.astype(np.int64 if dt.kind != "u" else np.uint64).tolist())
        self.tables[name] = f"__device__ const {ctype} {name}[{flat.size}] = {{{body}}};"
        self._by_key[key] = name
        return name

    @staticmethod
    def load(dt: DType, name: str, index: str) -> str:
        if dt.name == "f32":
            return f"xm_bitsf({name}[{index}])"
        if dt.name == "f64":
            return f"xm_bitsd((long long){name}[{index}])"
        return C.load(dt, name, index)

    def text(self) -> str:
        return "\n".join(self.tables.values())


class Elemental(CIndexOps):
    """Values of instructions at indices, for one kernel body (an `indexing.Elements[str]`).

    `inputs` maps an instruction read from memory (a fused parameter) to its pointer name;
    `special` maps instructions whose value the kernel computes itself (reductions, values staged
    in shared memory) to a function of the index."""

    _LET = {"index": ("xm_i", "i"), "wide": ("long long", "s"), "pred": ("bool", "p")}

    def __init__(self, em: Emitter, consts: Constants, inputs: dict[int, str],
                 special: dict[int, Callable[[Index], str]] | None = None):
        self.em, self.consts = em, consts
        self.inputs = inputs
        self.special = special or {}

    # -- the operations that write statements --
    def let(self, v: str, kind: Kind = "index") -> str:
        ctype, prefix = self._LET[kind]
        return self.em.tmp(ctype, v, prefix)

    def tmp_index(self, expr: str) -> str:
        return self.let(expr)

    def clamp(self, v: str, lo: int, hi: int) -> str:
        """v (a long long expression) clamped into [lo, hi], as an xm_i."""
        if lo == hi:
            return str(lo)
        t = self.let(v, "wide")
        return self.let(f"(xm_i)({t} < {lo}LL ? {lo}LL : ({t} > {hi}LL ? {hi}LL : {t}))")

    def linear(self, index: Sequence[str], dims: Sequence[int]) -> str:
        # The index of an element of the same shape as the one it was derived from: no arithmetic.
        known = self.em.lookup(("delinear", tuple(index)))
        if known is not None and known[1] == tuple(dims):
            return known[0]
        return self.let(linear_expr(index, dims))

    def delinear(self, lin: str, dims: Sequence[int]) -> Index:
        out = delinearize(self, lin, dims)
        self.em.remember(("delinear", tuple(out)), (lin, tuple(dims)))
        return out

    # -- values --
    def value(self, instr: Instruction, index: Sequence[str]) -> str:
        return drive(self._value(instr, list(index)), self._value)

    def _value(self, instr: Instruction, index: list[str]) -> Steps[str, str]:
        """The value of `instr` at `index`, yielding for the operand values it needs (see `drive`)."""
        key = (id(instr), tuple(index))
        hit = self.em.lookup(key)
        if hit is not None:
            return hit
        if id(instr) in self.special:
            v = self.special[id(instr)](list(index))
        elif id(instr) in self.inputs:
            v = C.load(_dtype(instr), self.inputs[id(instr)], self.linear(index, instr.shape.dims))
        elif instr.opcode is O.CONSTANT:
            v = _constant(self, instr, index)
        elif instr.opcode in INDEX_RULES:
            v = yield from INDEX_RULES[instr.opcode](self, instr, index)
        elif changes_width(instr):
            v = yield from bitcast_widths(self, instr, index, bitcast_piece, bitcast_join)
        elif instr.opcode is O.MAP:  # elementwise, its scalar computation inlined per element
            (v,) = inline_computation(self.em, instr.attrs["to_apply"], (yield from operand_values(instr, index)))
        elif instr.opcode in ELEMENTWISE:
            v = scalar_op(instr, [_dtype(o) for o in instr.operands], (yield from operand_values(instr, index)))
        else:
            raise Unsupported(f"{instr.opcode.value} ('{instr.name}') inside a loop kernel")
        v = self.em.tmp(C.value(_dtype(instr)), v)
        self.em.remember(key, v)
        return v

    def choose(self, p: str, a: str, b: str, dt: DType) -> str:
        return self.em.tmp(C.value(dt), f"({p} ? {a} : {b})")

    def index_value(self, v: str, dt: DType) -> str:
        return convert_value(S64, dt, f"(long long){_wrap(v, 0)}")


def _constant(g: Elemental, instr: Instruction, index: Sequence[str]) -> str:
    lit = instr.literal
    if lit is None:
        raise Unsupported(f"constant '{instr.name}' was elided from the text ({{...}}); its value is unknown")
    dt = _dtype(instr)
    flat = np.asarray(lit).reshape(-1)
    if flat.size == 0:
        raise Unsupported(f"empty constant '{instr.name}' read")
    raw = np.ascontiguousarray(flat.astype(dt.np)).view(np.uint8).reshape(flat.size, -1)
    if flat.size == 1 or bool(np.all(raw == raw[0])):  # one value everywhere (bit for bit, NaN too)
        return C.literal(dt, flat[0].item() if hasattr(flat[0], "item") else flat[0])
    name = g.consts.table(instr)
    return Constants.load(dt, name, g.linear(index, instr.shape.dims))
