"""Products on traced arrays: matmul / `@`, dot, tensordot, inner, outer, vdot and einsum, all as
HLO `dot` with contracting and batch dimensions (what JAX calls dot_general); and the diagonal
helpers (trace, diag, diagonal) as masks."""
from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from ..hlo.opcodes import Opcode
from . import primitives as P
from .axes import normalize_axis
from .errors import UnsupportedNumpyError
from .promotion import PY_SCALARS, as_tracer, result_dtype
from .reductions import reduce_axes, sum_
from .shape_ops import broadcast_shapes, broadcast_to
from .tracer import Tracer


def _operands(a, b, dtype=None, weak_scalars: bool = False) -> tuple[Tracer, Tracer]:
    """Both operands in their common dtype. Only matmul is a ufunc with numpy's weak Python
    scalars; dot, inner, outer, ... turn scalars into (strong) arrays first, as numpy does."""
    if not weak_scalars:
        a, b = (np.asarray(v) if type(v) in PY_SCALARS else v for v in (a, b))
    dt = np.dtype(dtype) if dtype is not None else result_dtype(a, b)[0]
    x, y = as_tracer(a, dt), as_tracer(b, dt)
    if dt == np.bool_:  # HLO dot has no pred form; numpy's bool matmul is an or of ands
        raise UnsupportedNumpyError("matmul", "x.astype(np.int32) @ y.astype(np.int32) > 0", "boolean operands")
    return x, y


def matmul(a, b, dtype=None) -> Tracer:
    x, y = _operands(a, b, dtype, weak_scalars=True)
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions (use * for scalars)")
    if x.shape[-1] != y.shape[-2 if y.ndim > 1 else 0]:
        raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0 (size "
                         f"{y.shape[-2 if y.ndim > 1 else 0]} is different from {x.shape[-1]}): shapes {x.shape} "
                         f"and {y.shape}")
    if y.ndim <= 2:  # (..., k) @ (k[, m]): no batch dims; dot's dimension order is numpy's
        return P.dot_general(x, y, ((x.ndim - 1,), (0,)))
    if x.ndim <= 2:  # (n, k) @ (..., k, m) gives (n, ..., m); 1-D x gives (..., m) directly
        out = P.dot_general(x, y, ((x.ndim - 1,), (y.ndim - 2,)))
        if x.ndim == 1:
            return out
        nb = y.ndim - 2
        return P.transpose(out, list(range(1, nb + 1)) + [0, nb + 1])
    batch = broadcast_shapes(x.shape[:-2], y.shape[:-2])
    x = broadcast_to(x, batch + x.shape[-2:])
    y = broadcast_to(y, batch + y.shape[-2:])
    nb = len(batch)
    return P.dot_general(x, y, ((nb + 1,), (nb,)), (tuple(range(nb)), tuple(range(nb))))


def dot(a, b, out=None) -> Tracer:
    if out is not None:
        raise UnsupportedNumpyError("dot", "the return value", "out= (traced arrays are immutable)")
    x, y = _operands(a, b)
    if x.ndim == 0 or y.ndim == 0:
        return cast(Tracer, np.multiply(x, y))  # the ufunc protocol gives a Tracer
    yc = 0 if y.ndim == 1 else y.ndim - 2
    if x.shape[-1] != y.shape[yc]:
        raise ValueError(f"shapes {x.shape} and {y.shape} not aligned: {x.shape[-1]} (dim {x.ndim - 1}) != "
                         f"{y.shape[yc]} (dim {yc})")
    return P.dot_general(x, y, ((x.ndim - 1,), (yc,)))


def vdot(a, b) -> Tracer:
    x, y = _operands(a, b)
    return dot(P.reshape(x, (x.size,)), P.reshape(y, (y.size,)))


def inner(a, b) -> Tracer:
    x, y = _operands(a, b)
    if x.ndim == 0 or y.ndim == 0:
        return cast(Tracer, np.multiply(x, y))  # the ufunc protocol gives a Tracer
    return P.dot_general(x, y, ((x.ndim - 1,), (y.ndim - 1,)))


def outer(a, b, out=None) -> Tracer:
    x, y = _operands(a, b)
    x, y = P.reshape(x, (x.size, 1)), P.reshape(y, (1, y.size))
    return cast(Tracer, np.multiply(x, y))


def tensordot(a, b, axes=2) -> Tracer:
    x, y = _operands(a, b)
    xs: Sequence[Any]
    ys: Sequence[Any]
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        xs, ys = list(range(x.ndim - n, x.ndim)), list(range(n))
    else:
        xs, ys = ([d] if isinstance(d, (int, np.integer)) else list(d) for d in axes)
    xa = [normalize_axis(d, x.ndim) for d in xs]
    ya = [normalize_axis(d, y.ndim) for d in ys]
    for i, j in zip(xa, ya):
        if x.shape[i] != y.shape[j]:
            raise ValueError("shape-mismatch for sum")
    return P.dot_general(x, y, (xa, ya))


# --- einsum -----------------------------------------------------------------------------------------

def einsum(subscripts, *operands, out=None, dtype=None, optimize=False, **kwargs) -> Tracer:
    if out is not None:
        raise UnsupportedNumpyError("einsum", "the return value", "out= (traced arrays are immutable)")
    if not isinstance(subscripts, str):
        raise UnsupportedNumpyError("einsum", "the subscripts string form", "the interleaved operand form")
    values = [np.asarray(o) if type(o) in PY_SCALARS else o for o in operands]
    dt = np.dtype(dtype) if dtype is not None else result_dtype(*values)[0]
    xs = [as_tracer(o, dt) for o in values]
    ins, out_labels = _parse_einsum(subscripts.replace(" ", ""), [x.ndim for x in xs])
    sizes: dict[str, int] = {}
    for labels, x in zip(ins, xs):
        if len(set(labels)) != len(labels):
            raise UnsupportedNumpyError("einsum", "np.diagonal / explicit masks",
                                        f"a repeated index within one operand ('{labels}')")
        for lab, n in zip(labels, x.shape):
            if sizes.get(lab, 1) not in (1, n) and n != 1:
                raise ValueError(f"einsum: size {n} of index '{lab}' does not match {sizes[lab]}")
            sizes[lab] = max(sizes.get(lab, 1), n)
    # broadcast size-1 dims (ellipsis broadcasting)
    xs = [broadcast_to(x, [sizes[lab] for lab in labels]) for x, labels in zip(xs, ins)]
    cur, cur_labels = xs[0], ins[0]
    rest = list(zip(ins[1:], xs[1:]))
    cur, cur_labels = _sum_unused(cur, cur_labels, out_labels + "".join(lab for lab, _ in rest))
    for k, (labels, x) in enumerate(rest):
        later = out_labels + "".join(lab for lab, _ in rest[k + 1:])
        x, labels = _sum_unused(x, labels, later + cur_labels)
        cur, cur_labels = _contract(cur, cur_labels, x, labels, later)
    cur, cur_labels = _sum_unused(cur, cur_labels, out_labels)
    return P.transpose(cur, [cur_labels.index(lab) for lab in out_labels])


def _parse_einsum(spec: str, ndims: Sequence[int]) -> tuple[list[str], str]:
    lhs, arrow, rhs = spec.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(ndims):
        raise ValueError(f"einsum: {len(ins)} operand subscripts for {len(ndims)} operands")
    used = set(lhs.replace("...", "")) | set(rhs.replace("...", ""))
    spare = [c for c in string.ascii_uppercase + string.ascii_lowercase if c not in used]
    n_ell = max((nd - len(s.replace("...", "")) for s, nd in zip(ins, ndims) if "..." in s), default=0)
    ell = "".join(spare[:n_ell])
    resolved = []
    for s, nd in zip(ins, ndims):
        if "..." in s:
            k = nd - len(s.replace("...", ""))
            s = s.replace("...", ell[n_ell - k:] if k else "")
        if len(s) != nd:
            raise ValueError(f"einsum: subscripts '{s}' do not match an operand of {nd} dimensions")
        resolved.append(s)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts: dict[str, int] = {}
        for s in resolved:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return resolved, out


def _sum_unused(x: Tracer, labels: str, keep: str) -> tuple[Tracer, str]:
    drop = tuple(d for d, lab in enumerate(labels) if lab not in keep)
    if not drop:
        return x, labels
    return reduce_axes(x, Opcode.ADD, drop), "".join(lab for d, lab in enumerate(labels) if d not in drop)


def _contract(x: Tracer, xl: str, y: Tracer, yl: str, later: str) -> tuple[Tracer, str]:
    common = [lab for lab in xl if lab in yl]
    batch = [lab for lab in common if lab in later]
    contract = [lab for lab in common if lab not in later]
    out = P.dot_general(x, y, ([xl.index(c) for c in contract], [yl.index(c) for c in contract]),
                        ([xl.index(b) for b in batch], [yl.index(b) for b in batch]))
    labels = "".join(batch) + "".join(lab for lab in xl if lab not in common) + \
        "".join(lab for lab in yl if lab not in common)
    return out, labels


# --- diagonals ------------------------------------------------------------------------------------

def _eye_mask(n: int, m: int, k: int = 0) -> Tracer:
    rows = P.iota(np.dtype(np.int64), (n, m), 0)
    cols = P.iota(np.dtype(np.int64), (n, m), 1)
    if k:
        rows = P.binary(Opcode.ADD, rows, P.full((n, m), k, np.int64))
    return P.compare("EQ", cols, rows)


def diagonal(a, offset=0, axis1=0, axis2=1) -> Tracer:
    x = as_tracer(a)
    i, j = normalize_axis(axis1, x.ndim), normalize_axis(axis2, x.ndim)
    rest = [d for d in range(x.ndim) if d not in (i, j)]
    x = P.transpose(x, rest + [i, j])
    n, m = x.shape[-2:]
    k = int(offset)
    length = max(0, min(n, m - k) if k >= 0 else min(n + k, m))
    mask = broadcast_to(_eye_mask(n, m, k), x.shape)
    picked = P.select(mask, x, P.full(x.shape, 0, x.dtype))
    summed = reduce_axes(picked, Opcode.ADD, (x.ndim - 2,) if k >= 0 else (x.ndim - 1,))
    start = k if k >= 0 else -k
    starts = [0] * (summed.ndim - 1) + [start]
    return P.slice_(summed, starts, list(summed.shape[:-1]) + [start + length], [1] * summed.ndim)


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None) -> Tracer:
    return sum_(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype, out=out)


def diag(v, k=0) -> Tracer:
    x = as_tracer(v)
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise ValueError("Input must be 1- or 2-d.")
    n = x.shape[0] + abs(int(k))
    mask = _eye_mask(n, n, int(k))
    col = P.pad(x, P.constant(0, x.dtype), [(max(0, -int(k)), max(0, int(k)), 0)])
    row = P.pad(x, P.constant(0, x.dtype), [(max(0, int(k)), max(0, -int(k)), 0)])
    src = P.broadcast_in_dim(row if int(k) >= 0 else col, (n, n), (1,) if int(k) >= 0 else (0,))
    return P.select(mask, src, P.full((n, n), 0, x.dtype))
