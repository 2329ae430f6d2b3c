"""The elemental emitter (XLA's ElementalIrEmitter): the value of any fused instruction at a
multi-index, computed from the kernel's input buffers through index arithmetic.

Index rules (broadcast, reshape, transpose, slice, pad, concatenate, reverse, iota,
dynamic-slice, dynamic-update-slice, gather) are the shared ones of `backends.indexing`; this
module supplies their operations as llvmlite instructions on i64 (`IRIndexOps`; LLVM folds and
simplifies what is left) and what only the cpu has: loads, constants as globals, elementwise ops
through `scalar.SCALAR_OPS`, `map` (its scalar computation inlined per element) and
bitcast-convert between widths (a minor dimension of pieces split off or joined, little-endian)."""
from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence

import numpy as np
from llvmlite import ir

from ...hlo.dtypes import S64, DType
from ...hlo.ir import Instruction
from ...hlo.opcodes import ELEMENTWISE
from ...hlo.opcodes import Opcode as O
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
from . import irtypes as T
from .irtypes import I64, Unsupported, i64
from .scalar import Emitter, bitcast_join, bitcast_piece, convert_value, emit_scalar_computation, emit_scalar_op

Index = list[ir.Value]  # i64 values, one per dimension


def _dtype(instr: Instruction) -> DType:
    dt = instr.shape.dtype
    assert dt is not None, f"'{instr.name}' is a tuple"
    return dt


def _const(v: ir.Value) -> int | None:
    return v.constant if isinstance(v, ir.Constant) and isinstance(v.constant, int) else None


class IRIndexOps:
    """`indexing.IndexOps` on i64 llvmlite values (predicates are i1). Trivial cases fold here
    (no instruction for x + 0 or x * 1); LLVM folds the rest."""

    def __init__(self, b: ir.IRBuilder):
        self.b = b

    def const(self, c: int) -> ir.Value:
        return i64(c)

    def add(self, a: ir.Value, b: ir.Value) -> ir.Value:
        if _const(a) == 0:
            return b
        return a if _const(b) == 0 else self.b.add(a, b)

    def sub(self, a: ir.Value, b: ir.Value) -> ir.Value:
        return a if _const(b) == 0 else self.b.sub(a, b)

    def mul(self, a: ir.Value, c: int) -> ir.Value:
        if c == 1 or _const(a) == 0:
            return a
        return i64(0) if c == 0 else self.b.mul(a, i64(c))

    def div(self, a: ir.Value, c: int) -> ir.Value:
        # Unsigned: cheaper than a signed division, and the operand is >= 0 where it matters.
        return a if c == 1 else self.b.udiv(a, i64(c))

    def rem(self, a: ir.Value, c: int) -> ir.Value:
        return i64(0) if c == 1 else self.b.urem(a, i64(c))

    def _cmp(self, op: str, holds: Callable[[int, int], bool], a: ir.Value, b: ir.Value) -> ir.Value:
        x, y = _const(a), _const(b)
        if x is not None and y is not None:  # a dimension that no index moves (a scatter's 0 start)
            return ir.Constant(T.I1, int(holds(x, y)))
        return self.b.icmp_signed(op, a, b)

    def lt(self, a: ir.Value, b: ir.Value) -> ir.Value:
        return self._cmp("<", operator.lt, a, b)

    def le(self, a: ir.Value, b: ir.Value) -> ir.Value:
        return self._cmp("<=", operator.le, a, b)

    def ge(self, a: ir.Value, b: ir.Value) -> ir.Value:
        return self._cmp(">=", operator.ge, a, b)

    def eq(self, a: ir.Value, b: ir.Value) -> ir.Value:
        return self._cmp("==", operator.eq, a, b)

    def true(self) -> ir.Value:
        return ir.Constant(T.I1, 1)

    def and_(self, a: ir.Value, b: ir.Value) -> ir.Value:
        if _const(a) == 1:
            return b
        return a if _const(b) == 1 else self.b.and_(a, b)

    def clamp(self, v: ir.Value, lo: int, hi: int) -> ir.Value:
        if lo == hi:
            return i64(lo)
        v = self.b.select(self.b.icmp_signed("<", v, i64(lo)), i64(lo), v)
        return self.b.select(self.b.icmp_signed(">", v, i64(hi)), i64(hi), v)

    def wide(self, v: ir.Value) -> ir.Value:
        return v  # indices are i64 already

    def narrow(self, v: ir.Value) -> ir.Value:
        return v

    def element_index(self, dt: DType, v: ir.Value) -> ir.Value:
        if v.type.width < 64:
            return self.b.sext(v, I64) if dt.kind == "s" else self.b.zext(v, I64)
        if dt.kind == "s":
            return v
        # u64 past 2^63 would read as negative: saturate, it is past the end of any dimension.
        return self.b.select(self.b.icmp_signed("<", v, i64(0)), i64((1 << 63) - 1), v)

    def let(self, v: ir.Value, kind: Kind = "index") -> ir.Value:
        return v


def linear(b: ir.IRBuilder, index: Sequence[ir.Value], dims: Sequence[int]) -> ir.Value:
    """The row-major offset of a multi-index (no instructions for the terms that are zero)."""
    return linearize(IRIndexOps(b), index, dims)


class Elemental(IRIndexOps):
    """Values of instructions at indices, for one kernel body (an `indexing.Elements[ir.Value]`).

    `inputs` maps a fused parameter (or any instruction read from memory) to its buffer pointer.
    `special` maps instructions whose value the kernel computes itself (reductions, loop-carried
    values) to a function of the index."""

    def __init__(self, em: Emitter, inputs: dict[int, ir.Value],
                 special: dict[int, Callable[[Index], ir.Value]] | None = None):
        super().__init__(em.b)
        self.em = em
        self.inputs = inputs
        self.special = special or {}
        self.cache: dict[tuple[int, tuple[object, ...]], ir.Value] = {}

    def reset(self) -> None:
        """Forget cached values: the builder moved to a block they may not dominate."""
        self.cache.clear()

    def linear(self, index: Sequence[ir.Value], dims: Sequence[int]) -> ir.Value:
        return linearize(self, index, dims)

    def delinear(self, lin: ir.Value, dims: Sequence[int]) -> Index:
        return delinearize(self, lin, dims)

    # -- values --
    def value(self, instr: Instruction, index: Sequence[ir.Value]) -> ir.Value:
        return drive(self._value(instr, list(index)), self._value)

    def _value(self, instr: Instruction, index: list[ir.Value]) -> Steps[ir.Value, ir.Value]:
        """The value of `instr` at `index`, yielding for the operand values it needs (see `drive`)."""
        key = (id(instr), tuple(id(v) if not isinstance(v, ir.Constant) else ("c", v.constant) for v in index))
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        if id(instr) in self.special:
            v = self.special[id(instr)](list(index))
        elif id(instr) in self.inputs:
            v = T.load(self.b, self.inputs[id(instr)], _dtype(instr), self.linear(index, instr.shape.dims))
        elif instr.opcode is O.CONSTANT:
            v = _constant(self, instr, index)
        elif instr.opcode in INDEX_RULES:
            v = yield from INDEX_RULES[instr.opcode](self, instr, index)
        elif changes_width(instr):
            v = yield from bitcast_widths(self, instr, index, functools.partial(bitcast_piece, self.em),
                                          functools.partial(bitcast_join, self.em))
        elif instr.opcode is O.MAP:  # elementwise, its scalar computation inlined per element
            (v,) = emit_scalar_computation(self.em, instr.attrs["to_apply"],
                                           (yield from operand_values(instr, index)))
        elif instr.opcode in ELEMENTWISE:
            v = emit_scalar_op(self.em, instr, [_dtype(o) for o in instr.operands],
                               (yield from operand_values(instr, index)))
        else:
            raise Unsupported(f"{instr.opcode.value} ('{instr.name}') inside a loop kernel")
        self.cache[key] = v
        return v

    def choose(self, p: ir.Value, a: ir.Value, b: ir.Value, dt: DType) -> ir.Value:
        return self.b.select(p, a, b)

    def index_value(self, v: ir.Value, dt: DType) -> ir.Value:
        return convert_value(self.em, S64, dt, v)


def _constant(g: Elemental, instr: Instruction, index: Sequence[ir.Value]) -> ir.Value:
    lit = instr.literal
    if lit is None:
        raise Unsupported(f"constant '{instr.name}' was elided from the text ({{...}}); its value is unknown")
    dt = _dtype(instr)
    flat = lit.reshape(-1)
    if flat.size == 0:
        raise Unsupported(f"empty constant '{instr.name}' read")
    first = flat[0]
    if flat.size == 1 or (np.all(flat == first) and not (dt.kind == "f" and np.isnan(first.astype(np.float64)))):
        return _scalar_const(dt, first)
    return T.load(g.b, _global_constant(g.em.module, instr), dt, g.linear(index, instr.shape.dims))


def _scalar_const(dt: DType, v: np.generic) -> ir.Constant:
    if dt.kind == "c":
        return T.const(dt, complex(v))
    if dt.kind == "f":
        return T.const(dt, float(np.asarray(v).astype(np.float64)))
    return T.const(dt, int(v) if dt.kind != "pred" else bool(v))


def _global_constant(module: ir.Module, instr: Instruction) -> ir.GlobalVariable:
    name = f"const.{instr.name}"
    g = module.globals.get(name)
    if g is not None:
        return g
    data = np.ascontiguousarray(instr.literal).tobytes()
    arr_t = ir.ArrayType(T.I8, len(data))
    g = ir.GlobalVariable(module, arr_t, name=name)
    g.global_constant = True
    g.linkage = "internal"
    g.align = 64
    g.initializer = ir.Constant(arr_t, bytearray(data))
    return g
