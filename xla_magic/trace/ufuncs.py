"""numpy ufuncs on traced arrays: one row per ufunc, saying how it is written in HLO.

`apply_ufunc` does what numpy does before a ufunc's inner loop: picks the loop dtypes (numpy's
own `resolve_dtypes`, so promotion is numpy's), converts the operands, broadcasts them, and
then the row emits the instructions. Rows receive operands of one shape and the loop dtype."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..hlo.opcodes import Opcode
from . import primitives as P
from . import reductions
from .builder import current
from .contractions import matmul
from .errors import EscapedTracerError, UnsupportedNumpyError
from .promotion import as_tracer, is_weak, ufunc_dtypes
from .shape_ops import broadcast_all
from .tracer import Tracer

O = Opcode
BOOL = np.dtype(np.bool_)
LN2 = float(np.log(2.0))
LN10 = float(np.log(10.0))


# --- helpers on operands of one shape and dtype ---------------------------------------------------

def _c(x: Tracer, value) -> Tracer:
    """A constant like x (its shape and dtype)."""
    return P.full(x.shape, value, x.dtype)


def _bin(opcode: Opcode) -> Callable[..., Tracer]:
    return lambda x, y: P.binary(opcode, x, y)


def _un(opcode: Opcode) -> Callable[..., Tracer]:
    return lambda x: P.unary(opcode, x)


def _cmp(direction: str) -> Callable[..., Tracer]:
    return lambda x, y: P.compare(direction, x, y)


def _logical(opcode: Opcode) -> Callable[..., Tracer]:
    return lambda x, y: P.binary(opcode, _truth(x), _truth(y))


def _truth(x: Tracer) -> Tracer:
    return x if x.dtype == BOOL else P.compare("NE", x, _c(x, 0))


def _on_bool(bool_op: Opcode, op: Opcode) -> Callable[..., Tracer]:
    """pred has no arithmetic in HLO: numpy's bool add is `or`, multiply is `and`."""
    return lambda x, y: P.binary(bool_op if x.dtype == BOOL else op, x, y)


def _mul(x, y): return P.binary(O.MULTIPLY, x, y)
def _add(x, y): return P.binary(O.ADD, x, y)
def _sub(x, y): return P.binary(O.SUBTRACT, x, y)
def _div(x, y): return P.binary(O.DIVIDE, x, y)


def _is_nan(x: Tracer) -> Tracer:
    return P.compare("NE", x, x) if x.dtype.kind in "fc" else _c_bool(x, False)


def _c_bool(x: Tracer, value: bool) -> Tracer:
    return P.full(x.shape, value, BOOL)


def _floor_divide(x: Tracer, y: Tracer) -> Tracer:
    if x.dtype.kind == "f":
        return P.unary(O.FLOOR, _div(x, y))
    if x.dtype == BOOL:
        return P.binary(O.AND, x, y)
    q, r = _div(x, y), P.binary(O.REMAINDER, x, y)
    if x.dtype.kind == "u":
        return q
    # C division truncates; numpy floors: step down when the remainder's sign differs from y's
    fix = P.binary(O.AND, P.compare("NE", r, _c(r, 0)),
                   P.compare("NE", P.compare("LT", r, _c(r, 0)), P.compare("LT", y, _c(y, 0))))
    return P.select(fix, _sub(q, _c(q, 1)), q)


def _remainder(x: Tracer, y: Tracer) -> Tracer:
    r = P.binary(O.REMAINDER, x, y)
    if x.dtype.kind == "u" or x.dtype == BOOL:
        return r
    # numpy's remainder takes the divisor's sign (Python's %), HLO's the dividend's (C's fmod)
    fix = P.binary(O.AND, P.compare("NE", r, _c(r, 0)),
                   P.compare("NE", P.compare("LT", r, _c(r, 0)), P.compare("LT", y, _c(y, 0))))
    return P.select(fix, _add(r, y), r)


def _divmod(x: Tracer, y: Tracer) -> tuple[Tracer, Tracer]:
    return _floor_divide(x, y), _remainder(x, y)


def _power(x: Tracer, y: Tracer) -> Tracer:
    if x.dtype == BOOL:
        return P.binary(O.OR, x, P.unary(O.NOT, y))  # x**y on bools: x or not y
    return P.binary(O.POWER, x, y)


def integer_power(x: Tracer, n: int) -> Tracer:
    """x**n for a small Python integer n, by multiplications (as JAX's integer_pow)."""
    if n == 0:
        return _c(x, 1)
    base, k = x, abs(n)
    acc: Tracer | None = None
    while k:
        if k & 1:
            acc = base if acc is None else _mul(acc, base)
        k >>= 1
        if k:
            base = _mul(base, base)
    assert acc is not None  # n != 0 has a set bit
    return _div(_c(acc, 1), acc) if n < 0 else acc


def _sign(x: Tracer) -> Tracer:
    if x.dtype == BOOL:
        return x
    return P.unary(O.SIGN, x)


def _abs(x: Tracer) -> Tracer:
    return x if x.dtype == BOOL or x.dtype.kind == "u" else P.unary(O.ABS, x)


def _scaled_log(scale: float) -> Callable[..., Tracer]:
    return lambda x: _mul(P.unary(O.LOG, x), _c(x, scale))


def _exp2(x: Tracer) -> Tracer:
    return P.binary(O.POWER, _c(x, 2), x)


def _one_minus_sq(x: Tracer) -> Tracer:
    one = _c(x, 1)
    return P.unary(O.SQRT, _mul(_sub(one, x), _add(one, x)))


def _arcsin(x: Tracer) -> Tracer:
    return P.binary(O.ATAN2, x, _one_minus_sq(x))


def _arccos(x: Tracer) -> Tracer:
    return P.binary(O.ATAN2, _one_minus_sq(x), x)


def _arctan(x: Tracer) -> Tracer:
    return P.binary(O.ATAN2, x, _c(x, 1))


def _cosh(x: Tracer) -> Tracer:
    return _mul(_add(P.unary(O.EXP, x), P.unary(O.EXP, P.unary(O.NEGATE, x))), _c(x, 0.5))


def _arcsinh(x: Tracer) -> Tracer:
    a = _abs(x)
    r = P.unary(O.LOG1P, _add(a, _div(_mul(a, a), _add(_c(x, 1), P.unary(O.SQRT, _add(_mul(a, a), _c(x, 1)))))))
    return P.select(P.compare("LT", x, _c(x, 0)), P.unary(O.NEGATE, r), r)


def _arccosh(x: Tracer) -> Tracer:
    return P.unary(O.LOG, _add(x, P.unary(O.SQRT, _mul(_sub(x, _c(x, 1)), _add(x, _c(x, 1))))))


def _arctanh(x: Tracer) -> Tracer:
    return _mul(_sub(P.unary(O.LOG1P, x), P.unary(O.LOG1P, P.unary(O.NEGATE, x))), _c(x, 0.5))


def _hypot(x: Tracer, y: Tracer) -> Tracer:
    return P.unary(O.SQRT, _add(_mul(x, x), _mul(y, y)))


def _logaddexp(x: Tracer, y: Tracer, base2: bool = False) -> Tracer:
    m = P.binary(O.MAXIMUM, x, y)
    d = P.unary(O.NEGATE, P.unary(O.ABS, _sub(x, y)))
    if base2:
        r = _add(m, _mul(P.unary(O.LOG1P, _exp2(d)), _c(x, 1 / LN2)))
    else:
        r = _add(m, P.unary(O.LOG1P, P.unary(O.EXP, d)))
    # equal infinities make x - y NaN; the answer is the larger operand, an infinity
    return P.select(P.compare("EQ", P.unary(O.ABS, m), _c(m, np.inf)), m, r)


def _fmax_fmin(op: Opcode) -> Callable[..., Tracer]:
    def fn(x: Tracer, y: Tracer) -> Tracer:
        if x.dtype == BOOL:
            return P.binary(O.OR if op is O.MAXIMUM else O.AND, x, y)
        m = P.binary(op, x, y)
        if x.dtype.kind != "f":
            return m
        return P.select(_is_nan(x), y, P.select(_is_nan(y), x, m))
    return fn


def _max_min(op: Opcode) -> Callable[..., Tracer]:
    return lambda x, y: P.binary({O.MAXIMUM: O.OR, O.MINIMUM: O.AND}[op] if x.dtype == BOOL else op, x, y)


def _trunc(x: Tracer) -> Tracer:
    if x.dtype.kind != "f":
        return x
    return P.select(P.compare("LT", x, _c(x, 0)), P.unary(O.CEIL, x), P.unary(O.FLOOR, x))


def _rounding(op: Opcode) -> Callable[..., Tracer]:
    return lambda x: P.unary(op, x) if x.dtype.kind == "f" else x


def _isinf(x: Tracer) -> Tracer:
    if x.dtype.kind != "f":
        return _c_bool(x, False)
    return P.compare("EQ", P.unary(O.ABS, x), _c(x, np.inf))


def _isfinite(x: Tracer) -> Tracer:
    return P.unary(O.IS_FINITE, x) if x.dtype.kind == "f" else _c_bool(x, True)


def _signbit(x: Tracer) -> Tracer:
    if x.dtype.kind == "u" or x.dtype == BOOL:
        return _c_bool(x, False)
    if x.dtype.kind == "i":
        return P.compare("LT", x, _c(x, 0))
    ints = np.dtype(f"int{x.dtype.itemsize * 8}")
    bits = P.bind(O.BITCAST_CONVERT, [x], P.shape_of(ints, x.shape))
    return P.compare("LT", bits, P.full(x.shape, 0, ints))


def _copysign(x: Tracer, y: Tracer) -> Tracer:
    a = P.unary(O.ABS, x)
    return P.select(_signbit(y), P.unary(O.NEGATE, a), a)


def _shift_right(x: Tracer, y: Tracer) -> Tracer:
    return P.binary(O.SHIFT_RIGHT_LOGICAL if x.dtype.kind == "u" else O.SHIFT_RIGHT_ARITHMETIC, x, y)


def _invert(x: Tracer) -> Tracer:
    return P.unary(O.NOT, x)


def _heaviside(x: Tracer, h0: Tracer) -> Tracer:
    return P.select(P.compare("LT", x, _c(x, 0)), _c(x, 0), P.select(P.compare("GT", x, _c(x, 0)), _c(x, 1), h0))


def _ldexp(x: Tracer, e: Tracer) -> Tracer:
    return _mul(x, P.binary(O.POWER, _c(x, 2), P.convert(e, x.dtype)))


def _modf(x: Tracer) -> tuple[Tracer, Tracer]:
    t = _trunc(x)
    return _sub(x, t), t


def _erf(x: Tracer) -> Tracer:
    return P.unary(O.ERF, x)


# --- the table: numpy ufunc name -> HLO -----------------------------------------------------------

UFUNCS: dict[str, Callable[..., Tracer | tuple[Tracer, ...]]] = {
    # arithmetic
    "add": _on_bool(O.OR, O.ADD),
    "subtract": _bin(O.SUBTRACT),
    "multiply": _on_bool(O.AND, O.MULTIPLY),
    "divide": _bin(O.DIVIDE),
    "true_divide": _bin(O.DIVIDE),
    "floor_divide": _floor_divide,
    "remainder": _remainder,
    "mod": _remainder,
    "fmod": _bin(O.REMAINDER),
    "divmod": _divmod,
    "power": _power,
    "float_power": _bin(O.POWER),
    "negative": _un(O.NEGATE),
    "positive": lambda x: x,
    "absolute": _abs,
    "fabs": _abs,
    "sign": _sign,
    "square": lambda x: _mul(x, x),
    "reciprocal": lambda x: _div(_c(x, 1), x),
    "conjugate": lambda x: x,
    "heaviside": _heaviside,
    "ldexp": _ldexp,
    "modf": _modf,
    # exponentials and logarithms
    "exp": _un(O.EXP),
    "exp2": _exp2,
    "expm1": _un(O.EXPM1),
    "log": _un(O.LOG),
    "log2": _scaled_log(1 / LN2),
    "log10": _scaled_log(1 / LN10),
    "log1p": _un(O.LOG1P),
    "logaddexp": _logaddexp,
    "logaddexp2": lambda x, y: _logaddexp(x, y, base2=True),
    "sqrt": _un(O.SQRT),
    "cbrt": _un(O.CBRT),
    # trigonometric and hyperbolic
    "sin": _un(O.SIN),
    "cos": _un(O.COS),
    "tan": _un(O.TAN),
    "arcsin": _arcsin,
    "arccos": _arccos,
    "arctan": _arctan,
    "arctan2": _bin(O.ATAN2),
    "hypot": _hypot,
    "sinh": _un(O.SINH),
    "cosh": _cosh,
    "tanh": _un(O.TANH),
    "arcsinh": _arcsinh,
    "arccosh": _arccosh,
    "arctanh": _arctanh,
    "deg2rad": lambda x: _mul(x, _c(x, np.pi / 180)),
    "radians": lambda x: _mul(x, _c(x, np.pi / 180)),
    "rad2deg": lambda x: _mul(x, _c(x, 180 / np.pi)),
    "degrees": lambda x: _mul(x, _c(x, 180 / np.pi)),
    # comparisons and extrema
    "equal": _cmp("EQ"),
    "not_equal": _cmp("NE"),
    "less": _cmp("LT"),
    "less_equal": _cmp("LE"),
    "greater": _cmp("GT"),
    "greater_equal": _cmp("GE"),
    "maximum": _max_min(O.MAXIMUM),
    "minimum": _max_min(O.MINIMUM),
    "fmax": _fmax_fmin(O.MAXIMUM),
    "fmin": _fmax_fmin(O.MINIMUM),
    # logic and bits
    "logical_and": _logical(O.AND),
    "logical_or": _logical(O.OR),
    "logical_xor": _logical(O.XOR),
    "logical_not": lambda x: P.unary(O.NOT, _truth(x)),
    "bitwise_and": _bin(O.AND),
    "bitwise_or": _bin(O.OR),
    "bitwise_xor": _bin(O.XOR),
    "invert": _invert,
    "bitwise_not": _invert,
    "left_shift": _bin(O.SHIFT_LEFT),
    "right_shift": _shift_right,
    # rounding and classification
    "floor": _rounding(O.FLOOR),
    "ceil": _rounding(O.CEIL),
    "rint": _rounding(O.ROUND_EVEN),
    "trunc": _trunc,
    "fix": _trunc,
    "isnan": _is_nan,
    "isinf": _isinf,
    "isfinite": _isfinite,
    "signbit": _signbit,
    "copysign": _copysign,
    # scipy.special ufuncs dispatch here too
    "erf": _erf,
    "expit": _un(O.LOGISTIC),
}

# Ufuncs with no row, and what to write instead.
ALTERNATIVES = {
    "frexp": "np.log2 and np.floor",
    "vecdot": "np.einsum('...i,...i->...', a, b) or (a * b).sum(-1)",
    "matvec": "a @ v",
    "vecmat": "v @ a",
}


# --- dispatch -------------------------------------------------------------------------------------

def _check_kwargs(name: str, kwargs: dict) -> np.dtype | None:
    out = kwargs.pop("out", None)
    if out is not None and not (isinstance(out, tuple) and all(o is None for o in out)):
        raise UnsupportedNumpyError(name, "the return value", "out= (traced arrays are immutable)")
    where = kwargs.pop("where", True)
    if where is not True:
        raise UnsupportedNumpyError(name, f"np.where(mask, np.{name}(...), fallback)", "the where= argument")
    dtype = kwargs.pop("dtype", None)
    sig = kwargs.pop("signature", None)
    if sig is not None:
        dtype = sig if not isinstance(sig, tuple) else sig[-1]
    for k in ("casting", "order", "subok"):
        kwargs.pop(k, None)
    if kwargs:
        raise UnsupportedNumpyError(name, None, f"the argument(s) {', '.join(sorted(kwargs))}")
    return None if dtype is None else np.dtype(dtype)


def apply_ufunc(ufunc, method: str, inputs: tuple, kwargs: dict):
    b = current()
    if b is None:
        raise EscapedTracerError(f"np.{ufunc.__name__} was given a traced array after its trace finished; "
                                 "return the array from the traced function instead of keeping it.")
    name = ufunc.__name__
    with b.module.op(name if method == "__call__" else f"{name}.{method}"):
        if method == "__call__":
            return call_ufunc(ufunc, inputs, dict(kwargs))
        if method == "reduce":
            return _reduce(ufunc, inputs, dict(kwargs))
        if method == "accumulate":
            return _accumulate(ufunc, inputs, dict(kwargs))
        if method == "outer":
            return _outer(ufunc, inputs, dict(kwargs))
        raise UnsupportedNumpyError(f"{name}.{method}", "np.where / np.take or explicit ops")


def call_ufunc(ufunc, inputs: tuple, kwargs: dict):
    name = ufunc.__name__
    if name == "matmul":
        dtype = _check_kwargs(name, {k: v for k, v in kwargs.items() if k not in ("axes", "axis")})
        if "axes" in kwargs or "axis" in kwargs:
            raise UnsupportedNumpyError("matmul", "np.einsum or transposes", "the axes= argument")
        a, b = inputs
        return matmul(a, b, dtype=dtype)
    row = UFUNCS.get(name)
    if row is None:
        alt = ALTERNATIVES.get(name)
        raise UnsupportedNumpyError(name, alt)
    dtype = _check_kwargs(name, kwargs)
    ins, outs, weak = ufunc_dtypes(ufunc, inputs, dtype)
    if name == "power" and isinstance(inputs[0], Tracer):
        special = _scalar_power(as_tracer(inputs[0], ins[0]), inputs[1])
        if special is not None:
            return _finish(special, outs[0], weak)
    xs = broadcast_all(*[as_tracer(x, d) for x, d in zip(inputs, ins)])
    result = row(*xs)
    if isinstance(result, tuple):
        return tuple(_finish(r, d, weak) for r, d in zip(result, outs))
    return _finish(result, outs[0], weak)


def _scalar_power(x: Tracer, y) -> Tracer | None:
    """x**y for a constant y that numpy also special-cases: small integers by multiplication,
    0.5 as sqrt (numpy's fast path gives sqrt's exact result); None for the general case."""
    n = _small_int_exponent(y)
    if n is not None:
        if x.dtype.kind in "iu" and n < 0:
            raise ValueError("Integers to negative integer powers are not allowed.")
        return integer_power(x, n)
    if type(y) in (float, np.float64, np.float32) and float(y) == 0.5 and x.dtype.kind == "f":
        return P.unary(O.SQRT, x)
    return None


def _small_int_exponent(y) -> int | None:
    """y when it is a Python or numpy integer-valued number with |y| <= 8 (x**2, x**-1, ...)."""
    if isinstance(y, (bool, np.bool_)) or not isinstance(y, (int, float, np.integer, np.floating)):
        return None
    if float(y) != int(y) or abs(float(y)) > 8:
        return None
    return int(y)


def _finish(t: Tracer, dtype: np.dtype, weak: bool) -> Tracer:
    t = P.convert(t, dtype)
    return Tracer(t.builder, t.instr, weak) if t.weak != weak else t


# --- ufunc methods --------------------------------------------------------------------------------

_REDUCE_METHODS = {"add": "sum_", "multiply": "prod", "maximum": "max_", "minimum": "min_",
                   "logical_and": "all_", "logical_or": "any_", "fmax": "max_", "fmin": "min_"}


def _reduce(ufunc, inputs, kwargs):
    fn = _REDUCE_METHODS.get(ufunc.__name__)
    if fn is None or len(inputs) != 1:
        raise UnsupportedNumpyError(f"{ufunc.__name__}.reduce", "np.sum / np.prod / np.max / np.min / np.all / np.any")
    kwargs.setdefault("axis", 0)
    if fn in ("all_", "any_"):
        kwargs.pop("dtype", None)
    return getattr(reductions, fn)(inputs[0], **kwargs)


def _accumulate(ufunc, inputs, kwargs):
    fn = {"add": reductions.cumsum, "multiply": reductions.cumprod}.get(ufunc.__name__)
    if fn is None:
        raise UnsupportedNumpyError(f"{ufunc.__name__}.accumulate", "np.cumsum / np.cumprod or xla_magic.scan")
    return fn(inputs[0], axis=kwargs.get("axis", 0), dtype=kwargs.get("dtype"))


def _outer(ufunc, inputs, kwargs):
    a, b = (as_tracer(x) if not is_weak(x) else x for x in inputs)
    a_nd = np.ndim(a) if not isinstance(a, Tracer) else a.ndim
    b_nd = np.ndim(b) if not isinstance(b, Tracer) else b.ndim
    if isinstance(a, Tracer):
        a = P.reshape(a, a.shape + (1,) * b_nd)
    if isinstance(b, Tracer):
        b = P.reshape(b, (1,) * a_nd + b.shape)
    return call_ufunc(ufunc, (a, b), kwargs)
