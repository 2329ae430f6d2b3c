"""numpy's shape functions on traced arrays: broadcasting, reshape, transpose, joining and
splitting, flips and rolls, padding. All shapes are static, so these are pure bookkeeping plus one
or two HLO data-movement instructions each."""
from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np

from ..hlo.opcodes import Opcode
from . import primitives as P
from .axes import normalize_axes, normalize_axis
from .errors import UnsupportedNumpyError
from .promotion import as_tracer, as_tracers, stack_tracers
from .tracer import Tracer

# --- broadcasting -------------------------------------------------------------------------------

def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        raise ValueError("operands could not be broadcast together with shapes "
                         + " ".join(str(tuple(s)) for s in shapes)) from None


def broadcast_to(x: Tracer, shape: Sequence[int]) -> Tracer:
    """numpy broadcasting as XLA spells it: drop the size-1 dimensions that stretch (reshape), then
    map the rest onto the trailing result dimensions (broadcast)."""
    shape = tuple(int(d) for d in shape)
    if x.shape == shape:
        return x
    if len(shape) < x.ndim:
        raise ValueError(f"cannot broadcast a traced array of shape {x.shape} to {shape}")
    lead = len(shape) - x.ndim
    keep, mapping = [], []
    for i, n in enumerate(x.shape):
        target = shape[lead + i]
        if n == target:
            keep.append(n)
            mapping.append(lead + i)
        elif n != 1:
            raise ValueError(f"cannot broadcast a traced array of shape {x.shape} to {shape}")
    x = P.reshape(x, keep)
    return P.broadcast_in_dim(x, shape, mapping)


def broadcast_all(*xs: Tracer) -> list[Tracer]:
    shape = broadcast_shapes(*[x.shape for x in xs])
    return [broadcast_to(x, shape) for x in xs]


def elementwise(opcode: Opcode, *xs: Tracer) -> Tracer:
    """An elementwise instruction after numpy broadcasting (operands already share a dtype)."""
    ys = broadcast_all(*xs)
    return P.bind(opcode, ys, weak=all(y.weak for y in ys))


def broadcast_arrays(*args) -> list[Tracer]:
    return broadcast_all(*[as_tracer(a) for a in args])


# --- reshape and transpose ------------------------------------------------------------------------

def _resolve_shape(newshape, size: int, old: tuple[int, ...]) -> tuple[int, ...]:
    if isinstance(newshape, (int, np.integer)) or isinstance(newshape, Tracer):
        newshape = (newshape,)
    dims = [operator.index(d) for d in newshape]
    if dims.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension")
    if -1 in dims:
        known = int(np.prod([d for d in dims if d != -1]))
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape array of size {size} into shape {tuple(newshape)}")
        dims[dims.index(-1)] = size // known
    if int(np.prod(dims)) != size:
        raise ValueError(f"cannot reshape array of size {size} into shape {tuple(dims)} (from {old})")
    return tuple(dims)


def reshape(a, shape=None, order="C", *, newshape=None, copy=None) -> Tracer:
    x = as_tracer(a)
    shape = newshape if shape is None else shape
    if order not in ("C", "A"):
        raise UnsupportedNumpyError("reshape", "order='C' (transpose first for Fortran order)",
                                    f"order={order!r}")
    return P.reshape(x, _resolve_shape(shape, x.size, x.shape))


def ravel(a, order="C") -> Tracer:
    return reshape(a, (-1,), order=order)


def transpose(a, axes=None) -> Tracer:
    x = as_tracer(a)
    if axes is None:
        perm = tuple(reversed(range(x.ndim)))
    else:
        perm = tuple(normalize_axis(p, x.ndim) for p in axes)
        if sorted(perm) != list(range(x.ndim)):
            raise ValueError("axes don't match array")
    return P.transpose(x, perm)


def permute_dims(a, axes=None) -> Tracer:
    return transpose(a, axes)


def swapaxes(a, axis1, axis2) -> Tracer:
    x = as_tracer(a)
    i, j = normalize_axis(axis1, x.ndim), normalize_axis(axis2, x.ndim)
    perm = list(range(x.ndim))
    perm[i], perm[j] = perm[j], perm[i]
    return P.transpose(x, perm)


def moveaxis(a, source, destination) -> Tracer:
    x = as_tracer(a)
    src = [normalize_axis(s, x.ndim) for s in (source if isinstance(source, (tuple, list)) else [source])]
    dst = [normalize_axis(d, x.ndim) for d in
           (destination if isinstance(destination, (tuple, list)) else [destination])]
    if len(src) != len(dst):
        raise ValueError("`source` and `destination` arguments must have the same number of elements")
    order = [n for n in range(x.ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return P.transpose(x, order)


def expand_dims(a, axis) -> Tracer:
    x = as_tracer(a)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out_ndim = x.ndim + len(axes)
    where = {normalize_axis(ax, out_ndim) for ax in axes}
    if len(where) != len(axes):
        raise ValueError("repeated axis")
    it = iter(x.shape)
    return P.reshape(x, [1 if d in where else next(it) for d in range(out_ndim)])


def squeeze(a, axis=None) -> Tracer:
    x = as_tracer(a)
    if axis is None:
        drop = {d for d, n in enumerate(x.shape) if n == 1}
    else:
        drop = set(normalize_axes(axis, x.ndim))
        for d in drop:
            if x.shape[d] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return P.reshape(x, [n for d, n in enumerate(x.shape) if d not in drop])


def atleast_nd(n: int):
    def fn(*arys):
        outs = []
        for a in arys:
            x = as_tracer(a)
            if x.ndim < n:
                if n == 3:
                    shape = {0: (1, 1, 1), 1: (1, x.shape[0], 1), 2: x.shape + (1,)}[x.ndim]
                else:
                    shape = {1: (1,), 2: (1,) * (2 - x.ndim) + x.shape}[n]
                x = P.reshape(x, shape)
            outs.append(x)
        return outs[0] if len(outs) == 1 else outs
    fn.__name__ = f"atleast_{n}d"
    return fn


# --- joining and splitting ------------------------------------------------------------------------

def concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind") -> Tracer:
    if out is not None:
        raise UnsupportedNumpyError("concatenate", "the return value", "out= (traced arrays are immutable)")
    xs = as_tracers(arrays, dtype)
    if axis is None:
        xs = [P.reshape(x, (x.size,)) for x in xs]
        axis = 0
    if any(x.ndim == 0 for x in xs):
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    ax = normalize_axis(axis, xs[0].ndim)
    for x in xs:
        if x.ndim != xs[0].ndim or any(x.shape[d] != xs[0].shape[d] for d in range(x.ndim) if d != ax):
            raise ValueError("all the input array dimensions except for the concatenation axis must match "
                             f"exactly: {[t.shape for t in xs]}")
    return P.concatenate(xs, ax)


def stack(arrays, axis=0, out=None, dtype=None, casting="same_kind") -> Tracer:
    if out is not None:
        raise UnsupportedNumpyError("stack", "the return value", "out= (traced arrays are immutable)")
    return stack_tracers(as_tracers(arrays, dtype), axis)


def vstack(tup, dtype=None, casting="same_kind") -> Tracer:
    xs = [atleast_nd(2)(x) for x in as_tracers(tup, dtype)]
    return concatenate(xs, 0)


def hstack(tup, dtype=None, casting="same_kind") -> Tracer:
    xs = [atleast_nd(1)(x) for x in as_tracers(tup, dtype)]
    return concatenate(xs, 0 if xs[0].ndim == 1 else 1)


def column_stack(tup) -> Tracer:
    xs = [x if x.ndim >= 2 else P.reshape(x, (x.size, 1)) for x in as_tracers(tup)]
    return concatenate(xs, 1)


def split(ary, indices_or_sections, axis=0) -> list[Tracer]:
    return _split(ary, indices_or_sections, axis, even=True)


def array_split(ary, indices_or_sections, axis=0) -> list[Tracer]:
    return _split(ary, indices_or_sections, axis, even=False)


def _split(ary, sections, axis, even: bool) -> list[Tracer]:
    x = as_tracer(ary)
    ax = normalize_axis(axis, x.ndim)
    n = x.shape[ax]
    if isinstance(sections, (int, np.integer)):
        k = int(sections)
        if even and n % k:
            raise ValueError("array split does not result in an equal division")
        base, extra = divmod(n, k)
        sizes = [base + (1 if i < extra else 0) for i in range(k)]
        bounds = list(np.cumsum([0] + sizes))
    else:
        bounds = [0] + [min(max(int(i) if i >= 0 else n + int(i), 0), n) for i in sections] + [n]
    outs = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        hi = max(lo, hi)
        starts = [0] * x.ndim
        limits = list(x.shape)
        starts[ax], limits[ax] = int(lo), int(hi)
        outs.append(P.slice_(x, starts, limits, [1] * x.ndim))
    return outs


# --- flips, rolls, tiling, padding ----------------------------------------------------------------

def flip(m, axis=None) -> Tracer:
    x = as_tracer(m)
    return P.reverse(x, normalize_axes(axis, x.ndim))


def fliplr(m) -> Tracer:
    return flip(m, 1)


def flipud(m) -> Tracer:
    return flip(m, 0)


def roll(a, shift, axis=None) -> Tracer:
    x = as_tracer(a)
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), x.shape)
    shifts = shift if isinstance(shift, (tuple, list)) else [shift]
    axes = axis if isinstance(axis, (tuple, list)) else [axis]
    if len(shifts) == 1:
        shifts = list(shifts) * len(axes)
    for s, ax in zip(shifts, axes):
        if isinstance(s, Tracer):
            raise UnsupportedNumpyError("roll", "a Python integer shift", "a traced shift")
        ax = normalize_axis(ax, x.ndim)
        n = x.shape[ax]
        s = int(s) % n if n else 0
        if s:
            head = _slice_axis(x, ax, n - s, n)
            tail = _slice_axis(x, ax, 0, n - s)
            x = P.concatenate([head, tail], ax)
    return x


def _slice_axis(x: Tracer, ax: int, lo: int, hi: int) -> Tracer:
    starts, limits = [0] * x.ndim, list(x.shape)
    starts[ax], limits[ax] = lo, hi
    return P.slice_(x, starts, limits, [1] * x.ndim)


def tile(A, reps) -> Tracer:
    x = as_tracer(A)
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    nd = max(x.ndim, len(reps))
    reps = (1,) * (nd - len(reps)) + tuple(int(r) for r in reps)
    x = P.reshape(x, (1,) * (nd - x.ndim) + x.shape)
    # broadcast into interleaved (rep, size) pairs, then merge each pair
    inter = [d for r, n in zip(reps, x.shape) for d in (r, n)]
    y = P.broadcast_in_dim(x, inter, [2 * i + 1 for i in range(nd)])
    return P.reshape(y, [r * n for r, n in zip(reps, x.shape)])


def repeat(a, repeats, axis=None) -> Tracer:
    x = as_tracer(a)
    if axis is None:
        x, axis = ravel(x), 0
    ax = normalize_axis(axis, x.ndim)
    if not isinstance(repeats, (int, np.integer)):
        raise UnsupportedNumpyError("repeat", "an integer repeat count", "per-element repeat counts")
    r = int(repeats)
    shape = list(x.shape)
    inter = shape[:ax + 1] + [r] + shape[ax + 1:]
    y = P.broadcast_in_dim(x, inter, [d if d <= ax else d + 1 for d in range(x.ndim)])
    shape[ax] *= r
    return P.reshape(y, shape)


def pad(array, pad_width, mode="constant", **kwargs) -> Tracer:
    x = as_tracer(array)
    if mode != "constant":
        raise UnsupportedNumpyError("pad", "mode='constant'", f"mode={mode!r}")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    value = kwargs.get("constant_values", 0)
    if isinstance(value, (tuple, list)) or isinstance(value, np.ndarray) and value.size > 1:
        raise UnsupportedNumpyError("pad", "one scalar constant_values", "different values per side")
    v = as_tracer(value, x.dtype) if not isinstance(value, Tracer) else P.convert(value, x.dtype)
    if v.ndim:
        v = P.reshape(v, ())
    return P.pad(x, v, [(int(lo), int(hi), 0) for lo, hi in widths])


def tri_mask(n: int, m: int, k: int, lower: bool) -> Tracer:
    """pred[n, m]: j <= i + k (lower) or j >= i + k (upper)."""
    rows = P.iota(np.dtype(np.int64), (n, m), 0)
    cols = P.iota(np.dtype(np.int64), (n, m), 1)
    shifted = P.binary(Opcode.ADD, rows, P.full((n, m), k, np.int64)) if k else rows
    return P.compare("LE" if lower else "GE", cols, shifted)


def _tri_select(m, k, lower: bool) -> Tracer:
    x = as_tracer(m)
    if x.ndim < 2:
        raise ValueError("tril/triu need an array of at least 2 dimensions")
    mask = broadcast_to(tri_mask(x.shape[-2], x.shape[-1], int(k), lower), x.shape)
    return P.select(mask, x, P.full(x.shape, 0, x.dtype))


def tril(m, k=0) -> Tracer:
    return _tri_select(m, k, True)


def triu(m, k=0) -> Tracer:
    return _tri_select(m, k, False)
