"""numpy's reductions on traced arrays: HLO `reduce` with a scalar reducer computation, as JAX
emits them; argmax/argmin as a variadic (value, index) reduce; cumulative sums as reduce-window.

Result dtypes are numpy's, asked of numpy on a one-element array (sum of int32 is int64, mean of
int is float64, mean of float32 stays float32)."""
from __future__ import annotations

import builtins
import functools

import numpy as np

from ..hlo.attrs import WindowDim
from ..hlo.opcodes import Opcode
from . import primitives as P
from .axes import normalize_axes, normalize_axis
from .builder import tracing
from .errors import UnsupportedNumpyError
from .promotion import as_tracer
from .shape_ops import broadcast_to, elementwise
from .tracer import Tracer

BOOL = np.dtype(np.bool_)
INDEX = np.dtype(np.intp)  # numpy's argmax/argmin return intp


@functools.cache
def numpy_result_dtype(fn_name: str, dtype: np.dtype, arg_dtype: np.dtype | None) -> np.dtype:
    """The dtype numpy's `fn_name` returns for an input of `dtype`."""
    fn = getattr(np, fn_name)
    kwargs = {} if arg_dtype is None else {"dtype": arg_dtype}
    with np.errstate(all="ignore"):
        return np.asarray(fn(np.ones(2, dtype=dtype), **kwargs)).dtype


def _reject(name: str, out=None, **unsupported) -> None:
    if out is not None:
        raise UnsupportedNumpyError(name, "the return value", "out= (traced arrays are immutable)")
    for k, v in unsupported.items():
        if v is not None:
            raise UnsupportedNumpyError(name, None, f"the {k}= argument")


def identity(opcode: Opcode, dtype: np.dtype):
    """The reducer's neutral element."""
    dtype = np.dtype(dtype)
    if opcode in (Opcode.ADD, Opcode.OR):
        return 0
    if opcode in (Opcode.MULTIPLY, Opcode.AND):
        return 1
    if dtype == BOOL:
        return opcode is Opcode.MINIMUM
    if dtype.kind == "f":
        return -np.inf if opcode is Opcode.MAXIMUM else np.inf
    info = np.iinfo(dtype)
    return info.min if opcode is Opcode.MAXIMUM else info.max


def reduce_axes(x: Tracer, opcode: Opcode, axes: tuple[int, ...], keepdims: bool = False) -> Tracer:
    """`reduce(x, identity)` over `axes` with the scalar `opcode` as reducer."""
    if not axes:
        return x
    b = tracing()
    if x.dtype == BOOL:  # pred has no add/multiply/maximum: use the logical equivalents
        opcode = {Opcode.ADD: Opcode.OR, Opcode.MAXIMUM: Opcode.OR, Opcode.MULTIPLY: Opcode.AND,
                  Opcode.MINIMUM: Opcode.AND}.get(opcode, opcode)
    init = P.constant(identity(opcode, x.dtype), x.dtype)
    out = P.reduce(x, init, axes, b.module.reducer(opcode, x.dtype))
    return keep_dims(out, x.shape, axes) if keepdims else out


def keep_dims(x: Tracer, in_shape: tuple[int, ...], axes: tuple[int, ...]) -> Tracer:
    return P.reshape(x, [1 if d in axes else n for d, n in enumerate(in_shape)])


def _masked(x: Tracer, where, fill) -> Tracer:
    if where is None or where is True:
        return x
    mask = broadcast_to(as_tracer(where, BOOL), x.shape)
    return P.select(mask, x, P.full(x.shape, fill, x.dtype))


def _count(shape: tuple[int, ...], axes: tuple[int, ...], where, dtype: np.dtype, keepdims: bool):
    """How many elements each output reduces: a Python number, or a traced count under where=."""
    if where is None or where is True:
        return int(np.prod([shape[a] for a in axes]))
    mask = broadcast_to(as_tracer(where, BOOL), shape)
    return reduce_axes(P.convert(mask, dtype), Opcode.ADD, axes, keepdims)


# --- the numpy functions --------------------------------------------------------------------------

def _simple(name: str, opcode: Opcode, a, axis, dtype, out, keepdims, initial, where) -> Tracer:
    _reject(name, out)
    x = as_tracer(a)
    axes = normalize_axes(axis, x.ndim)
    result = numpy_result_dtype(name, x.dtype, None if dtype is None else np.dtype(dtype))
    x = P.convert(x, result)
    if opcode in (Opcode.MAXIMUM, Opcode.MINIMUM) and initial is None and builtins.any(x.shape[d] == 0 for d in axes):
        raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
    x = _masked(x, where, identity(opcode, result) if initial is None else initial)
    y = reduce_axes(x, opcode, axes, bool(keepdims))
    if initial is not None:
        y = elementwise(opcode, y, P.full(y.shape, initial, result))
    return y


def sum_(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return _simple("sum", Opcode.ADD, a, axis, dtype, out, keepdims, initial, where)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return _simple("prod", Opcode.MULTIPLY, a, axis, dtype, out, keepdims, initial, where)


def max_(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    return _simple("max", Opcode.MAXIMUM, a, axis, None, out, keepdims, initial, where)


def min_(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    return _simple("min", Opcode.MINIMUM, a, axis, None, out, keepdims, initial, where)


def any_(a, axis=None, out=None, keepdims=False, *, where=None):
    _reject("any", out)
    x = _truth(as_tracer(a))
    axes = normalize_axes(axis, x.ndim)
    return reduce_axes(_masked(x, where, False), Opcode.OR, axes, bool(keepdims))


def all_(a, axis=None, out=None, keepdims=False, *, where=None):
    _reject("all", out)
    x = _truth(as_tracer(a))
    axes = normalize_axes(axis, x.ndim)
    return reduce_axes(_masked(x, where, True), Opcode.AND, axes, bool(keepdims))


def _truth(x: Tracer) -> Tracer:
    if x.dtype == BOOL:
        return x
    return P.compare("NE", x, P.full(x.shape, 0, x.dtype))


def count_nonzero(a, axis=None, *, keepdims=False):
    x = _truth(as_tracer(a))
    return sum_(P.convert(x, INDEX), axis=axis, keepdims=keepdims)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    _reject("mean", out)
    x = as_tracer(a)
    axes = normalize_axes(axis, x.ndim)
    result = numpy_result_dtype("mean", x.dtype, None if dtype is None else np.dtype(dtype))
    acc = np.dtype(np.float32) if result == np.float16 else result  # numpy accumulates f16 in f32
    x = _masked(P.convert(x, acc), where, 0)
    total = reduce_axes(x, Opcode.ADD, axes, bool(keepdims))
    n = _count(x.shape, axes, where, acc, bool(keepdims))
    y = elementwise(Opcode.DIVIDE, total, n if isinstance(n, Tracer) else P.full(total.shape, n, acc))
    return P.convert(y, result)


_mean = mean  # var() and std() take numpy's `mean=` argument, which hides the function


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        return avg
    x, w = as_tracer(a), as_tracer(weights)
    if w.shape != x.shape:
        if axis is None or w.ndim != 1:
            raise ValueError("weights must have the shape of a, or be 1-D along axis")
        ax = normalize_axis(axis, x.ndim)
        w = P.broadcast_in_dim(w, x.shape, (ax,))
    total = sum_(np.multiply(x, w), axis=axis, keepdims=keepdims)
    scale = sum_(w, axis=axis, keepdims=keepdims)
    avg = np.true_divide(total, scale)
    return (avg, broadcast_to(P.convert(scale, avg.dtype), avg.shape)) if returned else avg


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None, correction=None):
    _reject("var", out, mean=mean)
    if correction is not None:
        ddof = correction
    x = as_tracer(a)
    if x.dtype.kind == "c":
        raise UnsupportedNumpyError("var", None, "complex input")
    axes = normalize_axes(axis, x.ndim)
    result = numpy_result_dtype("var", x.dtype, None if dtype is None else np.dtype(dtype))
    acc = np.dtype(np.float32) if result == np.float16 else result
    x = P.convert(x, acc)
    m = _mean(x, axis=axes, keepdims=True, where=where)
    d = elementwise(Opcode.SUBTRACT, x, broadcast_to(m, x.shape))
    sq = _masked(elementwise(Opcode.MULTIPLY, d, d), where, 0)
    total = reduce_axes(sq, Opcode.ADD, axes, bool(keepdims))
    n = _count(x.shape, axes, where, acc, bool(keepdims))
    if isinstance(n, Tracer):
        denom = elementwise(Opcode.SUBTRACT, n, P.full(n.shape, ddof, acc))
    else:
        denom = P.full(total.shape, builtins.max(n - ddof, 0), acc)
    return P.convert(elementwise(Opcode.DIVIDE, total, denom), result)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None, correction=None):
    v = var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, where=where, mean=mean,
            correction=correction)
    return P.unary(Opcode.SQRT, v)


def ptp(a, axis=None, out=None, keepdims=False):
    _reject("ptp", out)
    return np.subtract(max_(a, axis=axis, keepdims=keepdims), min_(a, axis=axis, keepdims=keepdims))


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    x = as_tracer(a)
    if x.dtype.kind == "f":
        x = P.select(P.compare("NE", x, x), P.full(x.shape, 0, x.dtype), x)
    return sum_(x, axis, dtype, out, keepdims, initial, where)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    x = as_tracer(a)
    if x.dtype.kind != "f":
        return mean(x, axis, dtype, out, keepdims, where=where)
    ok = P.compare("EQ", x, x)
    if where is not None and where is not True:
        ok = np.logical_and(ok, where)
    return mean(x, axis, dtype, out, keepdims, where=ok)


# --- argmax / argmin ------------------------------------------------------------------------------

def _arg(name: str, direction: str, a, axis, out, keepdims) -> Tracer:
    _reject(name, out)
    x = as_tracer(a)
    if axis is None:
        flat = P.reshape(x, (x.size,))
        y = _arg(name, direction, flat, 0, None, False)
        return P.reshape(y, (1,) * x.ndim) if keepdims else y
    ax = normalize_axis(axis, x.ndim)
    if x.shape[ax] == 0:
        raise ValueError(f"attempt to get {name} of an empty sequence")
    b = tracing()
    idx = P.iota(INDEX, x.shape, ax)
    init_v = P.constant(identity(Opcode.MAXIMUM if direction == "GT" else Opcode.MINIMUM, x.dtype), x.dtype)
    init_i = P.constant(0, INDEX)
    ops = [x, idx, init_v, init_i]
    reducer = b.module.arg_reducer(direction, x.dtype, INDEX)
    both = P.bind(Opcode.REDUCE, ops, dimensions=(ax,), to_apply=reducer)
    y = P.get_tuple_element(both, 1)
    return keep_dims(y, x.shape, (ax,)) if keepdims else y


def argmax(a, axis=None, out=None, *, keepdims=False):
    return _arg("argmax", "GT", a, axis, out, keepdims)


def argmin(a, axis=None, out=None, *, keepdims=False):
    return _arg("argmin", "LT", a, axis, out, keepdims)


# --- cumulative ---------------------------------------------------------------------------------

def _cumulative(name: str, opcode: Opcode, a, axis, dtype, out) -> Tracer:
    _reject(name, out)
    x = as_tracer(a)
    if axis is None:
        x, axis = P.reshape(x, (x.size,)), 0
    ax = normalize_axis(axis, x.ndim)
    result = numpy_result_dtype(name, x.dtype, None if dtype is None else np.dtype(dtype))
    x = P.convert(x, result)
    n = x.shape[ax]
    if n <= 1:
        return x
    if x.dtype == BOOL:
        opcode = Opcode.OR if opcode is Opcode.ADD else Opcode.AND
    # out[i] = x[0] (+) ... (+) x[i]: a window of n elements, padded n-1 before (as JAX lowers it)
    window = [WindowDim(n if d == ax else 1, 1, n - 1 if d == ax else 0, 0) for d in range(x.ndim)]
    init = P.constant(identity(opcode, x.dtype), x.dtype)
    return P.reduce_window(x, init, window, tracing().module.reducer(opcode, x.dtype))


def cumsum(a, axis=None, dtype=None, out=None):
    return _cumulative("cumsum", Opcode.ADD, a, axis, dtype, out)


def cumprod(a, axis=None, dtype=None, out=None):
    return _cumulative("cumprod", Opcode.MULTIPLY, a, axis, dtype, out)


# --- norms ----------------------------------------------------------------------------------------

def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 (numpy's name)
    """np.linalg.norm: vector norms (any ord), and the Frobenius / 1 / inf / nuc-free matrix norms."""
    t = as_tracer(x)
    if not np.issubdtype(t.dtype, np.inexact):
        t = P.convert(t, np.float64)
    if t.dtype.kind == "c":
        raise UnsupportedNumpyError("linalg.norm", None, "complex input")
    if axis is None:
        if ord is None or (ord in ("fro", "f") and t.ndim == 2):
            flat = P.reshape(t, (t.size,))
            out = P.unary(Opcode.SQRT, sum_(elementwise(Opcode.MULTIPLY, flat, flat)))
            return P.reshape(out, (1,) * t.ndim) if keepdims else out
        if t.ndim == 1:
            axis = 0
        elif t.ndim == 2:
            axis = (0, 1)
        else:
            raise ValueError("Improper number of dimensions to norm.")
    axes = normalize_axes(axis, t.ndim)
    if isinstance(axis, (tuple, list)) and len(axis) == 2:
        return _matrix_norm(t, ord, (normalize_axis(axis[0], t.ndim), normalize_axis(axis[1], t.ndim)), keepdims)
    a = np.abs(t)
    if ord is None or ord == 2:
        out = P.unary(Opcode.SQRT, sum_(elementwise(Opcode.MULTIPLY, t, t), axis=axes, keepdims=keepdims))
    elif ord == np.inf:
        out = max_(a, axis=axes, keepdims=keepdims)
    elif ord == -np.inf:
        out = min_(a, axis=axes, keepdims=keepdims)
    elif ord == 0:
        out = sum_(P.convert(_truth(t), t.dtype), axis=axes, keepdims=keepdims)
    elif ord == 1:
        out = sum_(a, axis=axes, keepdims=keepdims)
    elif isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    else:
        p = float(ord)
        out = np.power(sum_(np.power(a, p), axis=axes, keepdims=keepdims), 1.0 / p)
    return out


def _matrix_norm(t: Tracer, ord, axes: tuple[int, int], keepdims: bool) -> Tracer:
    r, c = axes
    a = np.abs(t)
    if ord in (None, "fro", "f"):
        out = P.unary(Opcode.SQRT, sum_(elementwise(Opcode.MULTIPLY, t, t), axis=axes, keepdims=keepdims))
    elif ord in (1, -1):
        col = sum_(a, axis=r, keepdims=True)
        out = (max_ if ord == 1 else min_)(col, axis=c, keepdims=True)
    elif ord in (np.inf, -np.inf):
        row = sum_(a, axis=c, keepdims=True)
        out = (max_ if ord == np.inf else min_)(row, axis=r, keepdims=True)
    else:
        raise UnsupportedNumpyError("linalg.norm", "ord=None/'fro', 1 or inf",
                                    f"the matrix norm ord={ord!r} needs singular values")
    if ord not in (None, "fro", "f") and not keepdims:
        out = P.reshape(out, [n for d, n in enumerate(out.shape) if d not in axes])
    return out
