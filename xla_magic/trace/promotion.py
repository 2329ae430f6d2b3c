"""numpy's type promotion, asked of numpy itself, and the conversion of operands to traced arrays
(a list of arrays is one operand: numpy stacks it).

Python scalars (and weak tracers, which stand for them) are *weak*: numpy 2 lets them take the
dtype of the arrays they meet (NEP 50), so `float32_array * 2.0` stays float32. numpy scalars and
0-d arrays are strong: `float32_array * np.float64(2)` is float64, exactly as numpy computes it."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import primitives as P
from .axes import normalize_axis
from .builder import current
from .errors import TracingError
from .tracer import Tracer

PY_SCALARS = (bool, int, float, complex)
# A weak value's dtype when nothing strong is around, as numpy gives Python scalars.
DEFAULT = {bool: np.dtype(np.bool_), int: np.dtype(np.int64), float: np.dtype(np.float64),
           complex: np.dtype(np.complex128)}
_KIND_TO_PY = {"b": bool, "i": int, "u": int, "f": float, "c": complex}


def is_weak(x) -> bool:
    return (isinstance(x, Tracer) and x.weak) or type(x) in PY_SCALARS


def py_type(x) -> type:
    """The Python scalar type a weak value stands for."""
    if isinstance(x, Tracer):
        return _KIND_TO_PY[x.dtype.kind]
    return type(x)


def strong_dtype(x) -> np.dtype:
    if isinstance(x, Tracer):
        return x.dtype
    if isinstance(x, (np.ndarray, np.generic)):
        return x.dtype
    try:
        return np.asarray(x).dtype
    except Exception as e:
        raise TracingError(f"cannot use {type(x).__name__} {x!r:.60} as an array while tracing") from e


def _resolution_key(x):
    """What `ufunc.resolve_dtypes` takes for `x`: a dtype, or a Python type for a weak scalar."""
    if is_weak(x):
        t = py_type(x)
        return np.dtype(np.bool_) if t is bool else t
    return strong_dtype(x)


def ufunc_dtypes(ufunc: np.ufunc, inputs, dtype=None) -> tuple[list[np.dtype], list[np.dtype], bool]:
    """(loop input dtypes, output dtypes, weak result) numpy picks for `ufunc(*inputs)`."""
    weak = all(is_weak(x) for x in inputs)
    keys = [DEFAULT[py_type(x)] if weak else _resolution_key(x) for x in inputs]
    kw: dict[str, Any] = {} if dtype is None else {"signature": (None,) * ufunc.nin + (np.dtype(dtype),) * ufunc.nout}
    try:
        resolved = ufunc.resolve_dtypes(tuple(keys) + (None,) * ufunc.nout, **kw)
    except TypeError as e:  # no loop, or no common dtype (DTypePromotionError is a TypeError)
        names = ", ".join(str(k.__name__ if isinstance(k, type) else k) for k in keys)
        raise TracingError(f"numpy has no loop for {ufunc.__name__}({names}): {e}") from None
    ins, outs = list(resolved[:ufunc.nin]), list(resolved[ufunc.nin:])
    return ins, outs, weak and dtype is None


def result_dtype(*values) -> tuple[np.dtype, bool]:
    """numpy's np.result_type for values that may be tracers; (dtype, weak)."""
    if all(is_weak(v) for v in values):
        return np.result_type(*[DEFAULT[py_type(v)] for v in values]), True
    reps = []
    for v in values:
        if isinstance(v, Tracer):
            reps.append(py_type(v)(0) if v.weak else v.dtype)
        elif type(v) in PY_SCALARS:
            reps.append(v)
        else:
            reps.append(strong_dtype(v))
    return np.result_type(*reps), False


def as_tracer(x, dtype: np.dtype | None = None) -> Tracer:
    """`x` as a traced array of `dtype` (default: its own, or numpy's for a Python scalar):
    tracers are converted, a (nested) list holding tracers is stacked as np.array would, anything
    else becomes a constant."""
    if isinstance(x, Tracer):
        if dtype is None or np.dtype(dtype) == x.dtype:
            return x
        return P.convert(x, dtype)
    if isinstance(x, (list, tuple)) and _holds_tracer(x):
        return stack_tracers(as_tracers([as_tracer(e, dtype) for e in x]), 0)
    if current() is None:
        raise TracingError("no trace is active")
    weak = type(x) in PY_SCALARS and dtype is None
    if weak:
        dtype = DEFAULT[type(x)]
    try:
        value = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise TracingError(f"cannot use {type(x).__name__} {x!r:.60} as an array while tracing: {e}") from e
    if value.dtype == object:
        raise TracingError(f"cannot use {type(x).__name__} {x!r:.60} as an array while tracing "
                           "(a list holding traced arrays? use np.stack)")
    return P.constant(value, None, weak)


def _holds_tracer(seq) -> bool:
    return any(isinstance(e, Tracer) or (isinstance(e, (list, tuple)) and _holds_tracer(e)) for e in seq)


def as_tracers(arrays, dtype: np.dtype | None = None) -> list[Tracer]:
    """A sequence of arrays (or one array, as its rows) as traced arrays of one dtype: `dtype`, or
    what numpy promotes them to."""
    if isinstance(arrays, Tracer):
        return [arrays[i] for i in range(arrays.shape[0])]
    arrays = list(arrays)
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    dt, _ = result_dtype(*arrays)
    return [as_tracer(a, np.dtype(dtype) if dtype is not None else dt) for a in arrays]


def stack_tracers(xs: list[Tracer], axis: int) -> Tracer:
    """Arrays of one shape and dtype joined along a new dimension `axis` (np.stack)."""
    if any(x.shape != xs[0].shape for x in xs):
        raise ValueError(f"all input arrays must have the same shape: {[t.shape for t in xs]}")
    ax = normalize_axis(axis, xs[0].ndim + 1)
    return P.concatenate([P.reshape(x, x.shape[:ax] + (1,) + x.shape[ax:]) for x in xs], ax)
