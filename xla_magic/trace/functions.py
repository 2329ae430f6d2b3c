"""numpy functions (`__array_function__`) on traced arrays: the table from numpy function to its
traced implementation, the small functions that have no better home, and the functions that
cannot be traced with what to use instead."""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import cast

import numpy as np

from ..hlo.opcodes import Opcode
from . import contractions as C
from . import indexing as I
from . import primitives as P
from . import reductions as R
from . import shape_ops as S
from .axes import normalize_axis
from .builder import current
from .errors import EscapedTracerError, TracingError, UnsupportedNumpyError
from .promotion import as_tracer, py_type, result_dtype
from .tracer import Tracer

BOOL = np.dtype(np.bool_)


# --- small functions ----------------------------------------------------------------------------

def where(condition, x=None, y=None) -> Tracer:
    if x is None and y is None:
        raise UnsupportedNumpyError("where", "np.where(condition, x, y), which keeps the shape static",
                                    "the one-argument form (np.nonzero) has a data-dependent shape")
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    dt, weak = result_dtype(x, y)
    c = as_tracer(condition)
    if c.dtype != BOOL:
        c = P.compare("NE", c, P.full(c.shape, 0, c.dtype))
    a, b = as_tracer(x, dt), as_tracer(y, dt)
    c, a, b = S.broadcast_all(c, a, b)
    out = P.select(c, a, b)
    return Tracer(out.builder, out.instr, weak) if weak else out


def select(condlist, choicelist, default=0) -> Tracer:
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    out = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        out = where(cond, choice, out)
    return as_tracer(out)


def clip(a, a_min=np._NoValue, a_max=np._NoValue, out=None, *, min=np._NoValue, max=np._NoValue,  # noqa: A002
         **kwargs) -> Tracer:
    if out is not None:
        raise UnsupportedNumpyError("clip", "the return value", "out= (traced arrays are immutable)")
    lo = a_min if a_min is not np._NoValue else (None if min is np._NoValue else min)
    hi = a_max if a_max is not np._NoValue else (None if max is np._NoValue else max)
    bounds = [v for v in (lo, hi) if v is not None]
    dt, weak = result_dtype(a, *bounds)
    x = as_tracer(a, dt)
    if lo is not None:
        x = np.maximum(x, lo)
    if hi is not None:
        x = np.minimum(x, hi)
    return P.convert(x, dt)


def round_(a, decimals=0, out=None) -> Tracer:
    if out is not None:
        raise UnsupportedNumpyError("round", "the return value", "out= (traced arrays are immutable)")
    x = as_tracer(a)
    if x.dtype.kind != "f":
        if decimals >= 0:
            return x
        scale = 10 ** (-decimals)
        return np.multiply(np.floor_divide(np.add(x, scale // 2), scale), scale)
    if decimals == 0:
        return P.unary(Opcode.ROUND_EVEN, x)
    scale = P.full(x.shape, 10.0 ** decimals, x.dtype)  # numpy's own method: scale, round half even, unscale
    return P.binary(Opcode.DIVIDE, P.unary(Opcode.ROUND_EVEN, P.binary(Opcode.MULTIPLY, x, scale)), scale)


def _like(fill):
    def fn(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
        shape = np.shape(a) if shape is None else ((shape,) if isinstance(shape, int) else tuple(shape))
        dt = np.dtype(dtype) if dtype is not None else (a.dtype if hasattr(a, "dtype") else np.asarray(a).dtype)
        return P.full(shape, fill, dt)
    return fn


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None) -> Tracer:
    shape = np.shape(a) if shape is None else ((shape,) if isinstance(shape, int) else tuple(shape))
    dt = np.dtype(dtype) if dtype is not None else as_tracer(a).dtype
    if isinstance(fill_value, Tracer):
        return S.broadcast_to(P.convert(fill_value, dt), shape)
    return P.full(shape, fill_value, dt)


def astype(x, dtype, /, *, copy=True, device=None) -> Tracer:
    return P.convert(as_tracer(x), np.dtype(dtype))


def real(val) -> Tracer:
    x = as_tracer(val)
    return P.unary(Opcode.REAL, x) if x.dtype.kind == "c" else x


def imag(val) -> Tracer:
    x = as_tracer(val)
    return P.unary(Opcode.IMAG, x) if x.dtype.kind == "c" else P.full(x.shape, 0, x.dtype)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None) -> Tracer:
    t = as_tracer(x)
    if t.dtype.kind != "f":
        return t
    info = np.finfo(t.dtype)
    t = P.select(P.compare("NE", t, t), P.full(t.shape, nan, t.dtype), t)
    t = P.select(P.compare("EQ", t, P.full(t.shape, np.inf, t.dtype)),
                 P.full(t.shape, info.max if posinf is None else posinf, t.dtype), t)
    return P.select(P.compare("EQ", t, P.full(t.shape, -np.inf, t.dtype)),
                    P.full(t.shape, info.min if neginf is None else neginf, t.dtype), t)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tracer:
    dt, _ = result_dtype(a, b, 1.0)
    x, y = S.broadcast_all(as_tracer(a, dt), as_tracer(b, dt))
    diff = np.abs(np.subtract(x, y))
    close = np.less_equal(diff, np.add(atol, np.multiply(rtol, np.abs(y))))
    close = np.logical_or(np.logical_and(close, np.isfinite(y)), np.equal(x, y))
    if equal_nan:
        close = np.logical_or(close, np.logical_and(np.isnan(x), np.isnan(y)))
    return close


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tracer:
    return R.all_(isclose(a, b, rtol, atol, equal_nan))


def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue) -> Tracer:
    x = as_tracer(a)
    ax = normalize_axis(axis, x.ndim)
    parts = []
    for extra in (prepend, None, append):
        if extra is None:
            parts.append(x)
        elif extra is not np._NoValue:
            e = as_tracer(extra if isinstance(extra, Tracer) else np.asarray(extra))  # strong, as numpy's
            if e.ndim == 0:
                shape = list(x.shape)
                shape[ax] = 1
                e = S.broadcast_to(e, shape)
            parts.append(e)
    x = S.concatenate(parts, ax) if len(parts) > 1 else x
    for _ in range(n):
        m = x.shape[ax]
        hi = S._slice_axis(x, ax, 1, m)
        lo = S._slice_axis(x, ax, 0, m - 1)
        x = cast(Tracer, np.not_equal(hi, lo) if x.dtype == BOOL else np.subtract(hi, lo))
    return x


def result_type_(*arrays_and_dtypes) -> np.dtype:
    reps = [(py_type(a)(0) if a.weak else a.dtype) if isinstance(a, Tracer) else a for a in arrays_and_dtypes]
    return np.result_type(*reps)


def copy(a, order="K", subok=False) -> Tracer:
    return as_tracer(a)


def shape(a) -> tuple[int, ...]:
    return as_tracer(a).shape if isinstance(a, Tracer) else np.shape(a)


def ndim(a) -> int:
    return a.ndim if isinstance(a, Tracer) else np.ndim(a)


def size(a, axis=None) -> int:
    if not isinstance(a, Tracer):
        return np.size(a, axis)
    return a.size if axis is None else a.shape[axis]


# --- the table ------------------------------------------------------------------------------------

def _table() -> dict[Callable, Callable]:
    t: dict = {
        # reductions
        np.sum: R.sum_, np.prod: R.prod, np.max: R.max_, np.min: R.min_, np.mean: R.mean, np.var: R.var,
        np.std: R.std, np.argmax: R.argmax, np.argmin: R.argmin, np.any: R.any_, np.all: R.all_,
        np.cumsum: R.cumsum, np.cumprod: R.cumprod, np.average: R.average, np.ptp: R.ptp,
        np.count_nonzero: R.count_nonzero, np.nansum: R.nansum, np.nanmean: R.nanmean,
        np.linalg.norm: R.norm,
        # products
        np.dot: C.dot, np.vdot: C.vdot, np.inner: C.inner, np.outer: C.outer, np.tensordot: C.tensordot,
        np.einsum: C.einsum, np.trace: C.trace, np.diag: C.diag, np.diagonal: C.diagonal,
        # shapes
        np.reshape: S.reshape, np.ravel: S.ravel, np.transpose: S.transpose, np.swapaxes: S.swapaxes,
        np.moveaxis: S.moveaxis, np.expand_dims: S.expand_dims, np.squeeze: S.squeeze,
        np.broadcast_to: lambda array, shape, subok=False: S.broadcast_to(as_tracer(array), shape),
        np.broadcast_arrays: S.broadcast_arrays,
        np.atleast_1d: S.atleast_nd(1), np.atleast_2d: S.atleast_nd(2), np.atleast_3d: S.atleast_nd(3),
        np.concatenate: S.concatenate, np.stack: S.stack, np.vstack: S.vstack, np.hstack: S.hstack,
        np.column_stack: S.column_stack, np.split: S.split, np.array_split: S.array_split,
        np.flip: S.flip, np.fliplr: S.fliplr, np.flipud: S.flipud, np.roll: S.roll, np.tile: S.tile,
        np.repeat: S.repeat, np.pad: S.pad, np.tril: S.tril, np.triu: S.triu,
        # indexing
        np.take: I.take, np.take_along_axis: I.take_along_axis,
        # elementwise helpers
        np.where: where, np.select: select, np.clip: clip, np.round: round_, np.around: round_,
        np.nan_to_num: nan_to_num, np.isclose: isclose, np.allclose: allclose, np.diff: diff,
        np.real: real, np.imag: imag, np.fix: lambda x, out=None: np.trunc(x),
        # creation from an existing array
        np.zeros_like: _like(0), np.ones_like: _like(1), np.empty_like: _like(0), np.full_like: full_like,
        np.copy: copy,
        # facts known while tracing
        np.shape: shape, np.ndim: ndim, np.size: size, np.result_type: result_type_,
    }
    for name in ("permute_dims", "astype", "concat", "amax", "amin", "round_"):
        fn = getattr(np, name, None)
        if fn is not None and fn not in t:
            t[fn] = {"permute_dims": S.permute_dims, "astype": astype, "concat": S.concatenate,
                     "amax": R.max_, "amin": R.min_, "round_": round_}[name]
    if hasattr(np.linalg, "matmul"):
        t[np.linalg.matmul] = lambda x1, x2, /: C.matmul(x1, x2)
    return t


FUNCTIONS: dict[Callable, Callable] = _table()

# Functions that cannot be traced (data-dependent shapes, or not written yet), with what to use.
ALTERNATIVES: dict[str, str | None] = {
    "nonzero": "np.where(condition, x, y), which keeps shapes static",
    "argwhere": "np.where(condition, x, y), which keeps shapes static",
    "flatnonzero": "np.where(condition, x, y), which keeps shapes static",
    "unique": None,
    "sort": "np.max / np.min (for the extremes) or np.argmax",
    "argsort": "np.argmax / np.argmin",
    "partition": "np.max / np.min",
    "median": "np.mean",
    "percentile": None,
    "quantile": None,
    "searchsorted": "np.sum(x[:, None] > edges, axis=1) (a comparison count)",
    "histogram": "np.sum of comparisons against the bin edges",
    "linalg.inv": None,
    "linalg.solve": None,
    "linalg.det": None,
    "linalg.eig": None,
    "linalg.eigh": None,
    "linalg.svd": None,
    "linalg.qr": None,
    "linalg.cholesky": None,
    "convolve": "explicit shifted slices and sums, or np.einsum over a windowed view built by slicing",
    "correlate": "explicit shifted slices and sums",
    "cov": "np.mean and @ on centered data",
    "corrcoef": "np.mean, np.std and @ on centered data",
    "interp": None,
    "meshgrid": "np.broadcast_to / broadcasting with np.newaxis",
    "asarray": "the traced array itself (it is already an array)",
    "array": "np.stack for lists of traced arrays",
    "put": "np.where(mask, values, x)",
    "place": "np.where(mask, values, x)",
    "putmask": "np.where(mask, values, x)",
    "copyto": "np.where(mask, values, x)",
    "fill_diagonal": "np.where(np.eye(n, dtype=bool), value, x)",
    "apply_along_axis": "vectorized numpy code, or xla_magic.scan",
    "vectorize": "vectorized numpy code",
    "kron": "np.einsum('ij,kl->ikjl', a, b).reshape(...)",
    "cross": "explicit products of the components",
}


def _qualname(func) -> str:
    mod = getattr(func, "__module__", "") or ""
    name = getattr(func, "__name__", repr(func))
    for sub in ("linalg", "fft", "random"):
        if f".{sub}" in mod or mod.endswith(sub):
            return f"{sub}.{name}"
    return name


def apply_function(func, args: tuple, kwargs: dict):
    b = current()
    name = _qualname(func)
    if b is None:
        raise EscapedTracerError(f"np.{name} was given a traced array after its trace finished; return the "
                                 "array from the traced function instead of keeping it.")
    impl = FUNCTIONS.get(func)
    if impl is None:
        if name.startswith("fft."):
            raise UnsupportedNumpyError(name, None, "FFTs are not traced yet")
        if name.startswith("random."):
            raise UnsupportedNumpyError(name, "random numbers drawn outside the traced function and passed in")
        raise UnsupportedNumpyError(name, ALTERNATIVES.get(name))
    with b.module.op(name):
        try:
            return impl(*args, **kwargs)
        except TypeError as e:
            if isinstance(e, TracingError):
                raise
            try:
                inspect.signature(impl).bind(*args, **kwargs)
            except TypeError as why:
                raise UnsupportedNumpyError(name, None, f"these arguments ({why})") from None
            raise
