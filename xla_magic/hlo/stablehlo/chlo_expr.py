"""What the `chlo` expansions are written with: the context a rule builds into, an expression
wrapper whose operators build HLO instructions (so a polynomial reads like the math), and the
element-type checks and f16/bf16-in-f32 upcast every rule shares."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Union
from weakref import WeakKeyDictionary

import ml_dtypes
import numpy as np

from ..builder import ComputationBuilder, ModuleBuilder
from ..dtypes import F32, DType
from ..ir import Instruction
from ..opcodes import Opcode
from ..shape import Shape


@dataclass
class ChloContext:
    b: ComputationBuilder  # where the expansion's instructions go
    module: ModuleBuilder  # for reducer and comparator computations


# Attribute values as the reader hands them over: integer -> int, float -> float, bool -> bool,
# string -> str, unit attribute -> True, `array<i64: 1, 2>` and integer `dense<...>` -> tuple of ints
# (other dense literals -> numpy arrays), enums such as `#chlo<comparison_direction LT>` -> "LT".
ChloRule = Callable[[ChloContext, list[Instruction], Mapping[str, object], list[Shape]], list[Instruction]]


class ChloError(ValueError):
    """A chlo op this project cannot expand as given (the message names the op and what is wrong)."""


Operand = Union["Expr", float, int, bool, complex]

# The constants an expansion made, per computation: (element type, dims, value bytes) -> instruction.
_CONSTANTS: WeakKeyDictionary[ComputationBuilder, dict[tuple[str, tuple[int, ...], bytes], Instruction]] = (
    WeakKeyDictionary())


class Expr:
    """One HLO value of an expansion. Arithmetic and comparisons build instructions; a Python
    number on either side becomes a constant of this value's element type and shape."""

    __slots__ = ("b", "i")

    def __init__(self, b: ComputationBuilder, i: Instruction):
        self.b = b
        self.i = i

    @property
    def dtype(self) -> DType:
        return self.i.shape.element_type

    def like(self, v: float | int | bool | complex) -> Expr:
        """`v` as a constant with this value's element type and shape, made once per computation
        (the expansions repeat 1, 0.5, ... many times; sharing them halves what later passes see)."""
        dt, dims = self.dtype, self.i.shape.dims
        key = (dt.name, dims, np.asarray(v, dt.np_dtype).tobytes())
        made = _CONSTANTS.setdefault(self.b, {})
        c = made.get(key)
        if c is None:
            c = self.b.constant(v, dt)
            c = made[key] = self.b.broadcast(c, dims) if dims else c
        return Expr(self.b, c)

    def _lift(self, v: Operand) -> Instruction:
        return v.i if isinstance(v, Expr) else self.like(v).i

    def _bin(self, op: Opcode, other: Operand) -> Expr:
        return Expr(self.b, self.b.op(op, self.i, self._lift(other)))

    def _rbin(self, op: Opcode, other: Operand) -> Expr:
        return Expr(self.b, self.b.op(op, self._lift(other), self.i))

    def map(self, op: Opcode) -> Expr:
        return Expr(self.b, self.b.op(op, self.i))

    def cmp(self, direction: str, other: Operand) -> Expr:
        return Expr(self.b, self.b.compare(self.i, self._lift(other), direction))

    def eq(self, other: Operand) -> Expr:
        return self.cmp("EQ", other)

    def ne(self, other: Operand) -> Expr:
        return self.cmp("NE", other)

    def to(self, dt: DType) -> Expr:
        return Expr(self.b, self.b.convert(self.i, dt))

    def bitcast(self, dt: DType) -> Expr:
        return Expr(self.b, self.b.op(Opcode.BITCAST_CONVERT, self.i, shape=self.i.shape.with_dtype(dt)))

    def __add__(self, o: Operand) -> Expr:
        return self._bin(Opcode.ADD, o)

    def __radd__(self, o: Operand) -> Expr:
        return self._rbin(Opcode.ADD, o)

    def __sub__(self, o: Operand) -> Expr:
        return self._bin(Opcode.SUBTRACT, o)

    def __rsub__(self, o: Operand) -> Expr:
        return self._rbin(Opcode.SUBTRACT, o)

    def __mul__(self, o: Operand) -> Expr:
        return self._bin(Opcode.MULTIPLY, o)

    def __rmul__(self, o: Operand) -> Expr:
        return self._rbin(Opcode.MULTIPLY, o)

    def __truediv__(self, o: Operand) -> Expr:
        return self._bin(Opcode.DIVIDE, o)

    def __rtruediv__(self, o: Operand) -> Expr:
        return self._rbin(Opcode.DIVIDE, o)

    def __mod__(self, o: Operand) -> Expr:
        return self._bin(Opcode.REMAINDER, o)

    def __pow__(self, o: Operand) -> Expr:
        return self._bin(Opcode.POWER, o)

    def __rpow__(self, o: Operand) -> Expr:
        return self._rbin(Opcode.POWER, o)

    def __neg__(self) -> Expr:
        return self.map(Opcode.NEGATE)

    def __lt__(self, o: Operand) -> Expr:
        return self.cmp("LT", o)

    def __le__(self, o: Operand) -> Expr:
        return self.cmp("LE", o)

    def __gt__(self, o: Operand) -> Expr:
        return self.cmp("GT", o)

    def __ge__(self, o: Operand) -> Expr:
        return self.cmp("GE", o)

    def __and__(self, o: Operand) -> Expr:
        return self._bin(Opcode.AND, o)

    def __or__(self, o: Operand) -> Expr:
        return self._bin(Opcode.OR, o)

    def __invert__(self) -> Expr:
        return self.map(Opcode.NOT)


def _unary(op: Opcode) -> Callable[[Expr], Expr]:
    return lambda x: x.map(op)


exp, expm1, log, log1p = _unary(Opcode.EXP), _unary(Opcode.EXPM1), _unary(Opcode.LOG), _unary(Opcode.LOG1P)
sqrt, abs_, sign, floor = _unary(Opcode.SQRT), _unary(Opcode.ABS), _unary(Opcode.SIGN), _unary(Opcode.FLOOR)
sin, cos, tan, tanh = _unary(Opcode.SIN), _unary(Opcode.COS), _unary(Opcode.TAN), _unary(Opcode.TANH)
real, imag, is_finite = _unary(Opcode.REAL), _unary(Opcode.IMAG), _unary(Opcode.IS_FINITE)


def atan2(y: Expr, x: Operand) -> Expr:
    return y._bin(Opcode.ATAN2, x)


def maximum(a: Expr, b: Operand) -> Expr:
    return a._bin(Opcode.MAXIMUM, b)


def minimum(a: Expr, b: Operand) -> Expr:
    return a._bin(Opcode.MINIMUM, b)


def complex_(re: Expr, im: Operand) -> Expr:
    return re._bin(Opcode.COMPLEX, im)


def clamp(lo: float, x: Expr, hi: float) -> Expr:
    return Expr(x.b, x.b.op(Opcode.CLAMP, x.like(lo).i, x.i, x.like(hi).i))


def select(c: Expr, t: Operand, f: Operand) -> Expr:
    """`t` where `c` holds, else `f` (numbers become constants of the other branch's type)."""
    like = t if isinstance(t, Expr) else f
    if not isinstance(like, Expr):
        raise TypeError("select needs at least one branch that is an Expr")
    return Expr(c.b, c.b.op(Opcode.SELECT, c.i, like._lift(t), like._lift(f)))


def poly(x: Expr, coeffs: Sequence[float]) -> Expr:
    """c0 x^(n-1) + ... + c(n-1) by Horner's rule, highest power first (as the Cephes tables)."""
    p = x.like(coeffs[0])
    for c in coeffs[1:]:
        p = p * x + c
    return p


def max_finite(dt: DType) -> float:
    """The largest finite value of a float type (bf16 included)."""
    return float(ml_dtypes.finfo(dt.np_dtype).max)  # type: ignore[no-untyped-call]


# --- element-type checks and the rule wrapper --------------------------------------------------

FLOATS = frozenset({"f16", "bf16", "f32", "f64"})
NARROW = frozenset({"f16", "bf16"})  # computed in f32 and rounded back, as XLA's expansions do


def upcast(fn: Callable[..., Expr]) -> Callable[..., Expr]:
    """`fn` computed in f32 for f16/bf16 operands, the result converted back."""
    def wrapped(*xs: Expr) -> Expr:
        dt = xs[0].dtype
        if dt.name not in NARROW:
            return fn(*xs)
        return fn(*(x.to(F32) for x in xs)).to(dt)
    return wrapped


ElementwiseFn = Callable[..., Expr]


def elementwise(name: str, real: ElementwiseFn | None = None, complex_fn: ElementwiseFn | None = None,
                integer: ElementwiseFn | None = None, arity: int = 1) -> ChloRule:
    """A rule for an elementwise op whose operands share one element type: `real` for f16, bf16,
    f32 and f64, `complex_fn` for c64/c128, `integer` for the integer types; any other type (or a
    missing function for its kind) is a ChloError naming the op and the type."""
    by_kind = {"f": real, "c": complex_fn, "s": integer, "u": integer}

    def rule(ctx: ChloContext, operands: list[Instruction], attrs: Mapping[str, object],
             result_types: list[Shape]) -> list[Instruction]:
        if len(operands) != arity:
            raise ChloError(f"chlo.{name} takes {arity} operand(s), got {len(operands)}")
        shapes = [o.shape for o in operands]
        if any(s.is_tuple for s in shapes) or len({(s.dtype, s.dims) for s in shapes}) != 1:
            raise ChloError(f"chlo.{name} needs operands of one array shape, got "
                            + ", ".join(str(s) for s in shapes))
        dt = shapes[0].element_type
        fn = by_kind.get(dt.kind)
        if fn is None or (dt.kind == "f" and dt.name not in FLOATS):
            raise ChloError(f"chlo.{name} is not supported for element type {dt.name}")
        return [fn(*(Expr(ctx.b, o) for o in operands)).i]
    return rule
