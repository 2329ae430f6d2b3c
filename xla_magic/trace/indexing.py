"""numpy indexing on traced arrays.

Basic indexing (integers, slices with any step, None, ...) becomes slice / reverse / reshape; an
integer that is itself traced (a loop index) becomes dynamic-slice; integer-array and boolean
constant indexing ("advanced" indexing) becomes one gather, with numpy's rules for where the
indexed dimensions land. Traced indices are clamped into range, as XLA's dynamic-slice and gather
do; constant indices are bounds-checked as numpy does."""
from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np

from ..hlo.opcodes import Opcode
from . import primitives as P
from .axes import normalize_axis
from .errors import TracingError, UnsupportedNumpyError
from .promotion import as_tracer
from .shape_ops import broadcast_shapes, broadcast_to
from .tracer import Tracer

INDEX = np.dtype(np.int32)  # XLA's customary index type (as JAX emits)


@dataclass
class _Adv:
    """An advanced index for dimension `dim`: a constant int array or a traced integer array."""

    dim: int
    value: np.ndarray | Tracer


def _is_int(k) -> bool:
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


def _expand(key, ndim: int) -> list:
    """The key as a list of per-position items with the Ellipsis expanded into full slices and
    boolean constant masks split into their nonzero index arrays."""
    if not isinstance(key, tuple):
        key = (key,)
    items: list = []
    for k in key:
        if isinstance(k, list):
            k = as_tracer(k) if any(isinstance(e, Tracer) for e in k) else np.asarray(k)
        if isinstance(k, np.ndarray) and k.dtype == np.bool_:
            items.extend(k.nonzero() if k.ndim else [k])  # a 0-d bool is numpy's odd case: unsupported below
            continue
        if isinstance(k, Tracer) and k.dtype == np.bool_:
            raise TracingError("indexing with a traced boolean mask gives an array whose shape depends on the "
                               "data. Use np.where(mask, x, 0) (or a weighted sum) to keep shapes static.")
        items.append(k)
    consumed = sum(1 for k in items if k is not None and k is not Ellipsis)
    if sum(1 for k in items if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        raise IndexError(f"too many indices for array: array is {ndim}-dimensional, but {consumed} were indexed")
    if Ellipsis in [k for k in items if not isinstance(k, (np.ndarray, Tracer))]:
        at = next(i for i, k in enumerate(items) if k is Ellipsis)
        items[at:at + 1] = [slice(None)] * (ndim - consumed)
    else:
        items += [slice(None)] * (ndim - consumed)
    return items


def _is_advanced(k) -> bool:
    if isinstance(k, Tracer):
        return k.ndim > 0
    return isinstance(k, np.ndarray) and k.ndim > 0


def getitem(x: Tracer, key) -> Tracer:
    items = _expand(key, x.ndim)
    for k in items:
        if not (k is None or isinstance(k, slice) or _is_int(k) or isinstance(k, (np.ndarray, Tracer))):
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and "
                             f"integer or boolean arrays are valid indices, got {type(k).__name__}")
        if isinstance(k, np.ndarray) and k.dtype.kind not in "iu":
            raise IndexError("arrays used as indices must be of integer (or boolean) type")
        if isinstance(k, Tracer) and k.dtype.kind not in "iu":
            raise IndexError(f"a traced array of dtype {k.dtype} cannot be an index (it must be an integer array)")
        if isinstance(k, slice) and any(isinstance(v, Tracer) for v in (k.start, k.stop, k.step)):
            raise TracingError("slice bounds must be known while tracing (the result's shape depends on them). "
                               "For a window at a traced offset, index with a traced integer per element, or "
                               "use np.take with a traced index array.")
    if any(_is_advanced(k) for k in items):
        return _advanced(x, items)
    return _basic(x, items)


# --- basic indexing -------------------------------------------------------------------------------

def _basic(x: Tracer, items: list) -> Tracer:
    starts, limits, strides, flips = [], [], [], []
    dynamic: dict[int, Tracer] = {}
    out_shape: list[int] = []
    dim = 0
    for k in items:
        if k is None:
            out_shape.append(1)
            continue
        n = x.shape[dim]
        if isinstance(k, slice):
            start, stop, step = k.indices(n)
            length = len(range(start, stop, step))
            if step < 0:  # reverse, then a forward slice of the reversed dimension
                flips.append(dim)
                start, step = n - 1 - start, -step
            starts.append(start)
            limits.append(start + (length - 1) * step + 1 if length else start)
            strides.append(step)
            out_shape.append(length)
        elif isinstance(k, Tracer) or isinstance(k, np.ndarray):  # 0-d: an integer known or traced
            if isinstance(k, np.ndarray):
                k = int(k)
                i = _static_index(k, n, dim)
                starts.append(i)
                limits.append(i + 1)
            else:
                dynamic[dim] = k
                starts.append(0)
                limits.append(n)
            strides.append(1)
        else:
            i = _static_index(operator.index(k), n, dim)
            starts.append(i)
            limits.append(i + 1)
            strides.append(1)
        dim += 1
    y = P.reverse(x, flips)
    y = P.slice_(y, starts, limits, strides)
    if dynamic:
        zero = P.constant(0, INDEX)
        idx = [_normalize(dynamic[d], x.shape[d]) if d in dynamic else zero for d in range(y.ndim)]
        y = P.dynamic_slice(y, idx, [1 if d in dynamic else y.shape[d] for d in range(y.ndim)])
    return P.reshape(y, out_shape)


def _static_index(i: int, n: int, dim: int) -> int:
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of bounds for axis {dim} with size {n}")
    return i % n


def _normalize(i: Tracer, n: int) -> Tracer:
    """A traced scalar index as int32 with numpy's negative indices counted from the end."""
    i = P.convert(i, INDEX)
    neg = P.compare("LT", i, P.full(i.shape, 0, INDEX))
    return P.select(neg, P.binary(Opcode.ADD, i, P.full(i.shape, n, INDEX)), i)


# --- advanced indexing ----------------------------------------------------------------------------

def _advanced(x: Tracer, items: list) -> Tracer:
    # 1. slices first (every position keeps its dimension), so only integer indices are left
    plain = [k if isinstance(k, slice) else slice(None) for k in items if k is not None]
    y = _basic(x, plain)
    advs: list[_Adv] = []
    dim = 0
    for k in items:
        if k is None:
            continue
        if not isinstance(k, slice):
            advs.append(_Adv(dim, k))
        dim += 1
    # 2. the integer indices: checked, normalized, broadcast together
    batch = broadcast_shapes(*[np.shape(a.value) if not isinstance(a.value, Tracer) else a.value.shape
                               for a in advs])
    index_parts = []
    for a in advs:
        n = y.shape[a.dim]
        if isinstance(a.value, Tracer):
            t = _normalize(a.value, n)
        else:
            v = np.asarray(a.value, dtype=np.int64)
            bad = (v < -n) | (v >= n)
            if bad.any():
                raise IndexError(f"index {int(v[bad].flat[0])} is out of bounds for axis {a.dim} with size {n}")
            t = as_tracer(np.where(v < 0, v + n, v).astype(INDEX))
        index_parts.append(P.reshape(broadcast_to(t, batch), batch + (1,)))
    indices = P.concatenate(index_parts, len(batch))
    # 3. one gather over the indexed dimensions, moved to the front
    adv_dims = [a.dim for a in advs]
    rest = [d for d in range(y.ndim) if d not in adv_dims]
    yt = P.transpose(y, adv_dims + rest)
    k, nb = len(advs), len(batch)
    rest_sizes = [y.shape[d] for d in rest]
    g = P.gather(yt, indices, offset_dims=range(nb, nb + len(rest)), collapsed_slice_dims=range(k),
                 start_index_map=range(k), index_vector_dim=nb, slice_sizes=[1] * k + rest_sizes)
    # 4. numpy's placement: the indexed block replaces adjacent advanced indices in place, else goes first
    positions = [i for i, item in enumerate(items) if item is not None and not isinstance(item, slice)]
    adjacent = positions == list(range(positions[0], positions[-1] + 1))
    layout: list = []  # ("b", j) batch dim j, ("r", j) rest dim j, None for a new axis
    if not adjacent:
        layout += [("b", j) for j in range(nb)]
    r = 0
    for i, item in enumerate(items):
        if item is None:
            layout.append(None)
        elif isinstance(item, slice):
            layout.append(("r", r))
            r += 1
        elif adjacent and i == positions[0]:
            layout += [("b", j) for j in range(nb)]
    perm = [j if kind == "b" else nb + j for kind, j in (e for e in layout if e is not None)]
    g = P.transpose(g, perm)
    final = [1 if e is None else (batch[e[1]] if e[0] == "b" else rest_sizes[e[1]]) for e in layout]
    return P.reshape(g, final)


# --- numpy functions built on indexing -------------------------------------------------------------

def take(a, indices, axis=None, out=None, mode=None) -> Tracer:
    if out is not None:
        raise UnsupportedNumpyError("take", "the return value", "out= (traced arrays are immutable)")
    x = as_tracer(a)
    if axis is None:
        x, axis = P.reshape(x, (x.size,)), 0
    ax = normalize_axis(axis, x.ndim)
    idx = indices if isinstance(indices, Tracer) else np.asarray(indices)
    if mode in ("wrap", "clip") and not isinstance(idx, Tracer):
        n = x.shape[ax]
        idx = np.mod(idx, n) if mode == "wrap" else np.clip(idx, 0, n - 1)
    if not isinstance(idx, Tracer) and idx.ndim == 0:
        return getitem(x, (slice(None),) * ax + (int(idx),))
    if isinstance(idx, Tracer) and idx.ndim == 0:
        idx = P.reshape(idx, (1,))
        y = getitem(x, (slice(None),) * ax + (idx,))
        return P.reshape(y, x.shape[:ax] + x.shape[ax + 1:])
    return getitem(x, (slice(None),) * ax + (idx,))


def take_along_axis(arr, indices, axis) -> Tracer:
    x = as_tracer(arr)
    if axis is None:
        x, axis = P.reshape(x, (x.size,)), 0
    ax = normalize_axis(axis, x.ndim)
    idx = indices if isinstance(indices, Tracer) else np.asarray(indices)
    if len(idx.shape) != x.ndim:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    key = []
    for d in range(x.ndim):
        if d == ax:
            key.append(idx)
        else:  # the position along every other dimension, broadcast like numpy's fancy index
            n = x.shape[d]
            key.append(np.arange(n).reshape([n if e == d else 1 for e in range(x.ndim)]))
    return getitem(x, tuple(key))
