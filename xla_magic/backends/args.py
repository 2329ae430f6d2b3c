"""Argument checks at the call boundary, shared by every backend.

Wrong count, dtype or shape raises a TypeError/ValueError naming the parameter and what it
expects; non-contiguous arrays are copied so generated code only ever sees dense buffers.
Generated code reads its inputs while it writes its outputs, in whatever order its loops take:
an `out=` array sharing memory with an input makes that input a copy first (as numpy's ufuncs
do), and two outputs sharing memory are refused."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..hlo.ir import Instruction
from ..hlo.shape import Shape


def describe(shape: Shape) -> str:
    return shape.to_text(layout=False)


def _param_label(i: int, name: str) -> str:
    return f"argument {i} ('{name}')"


def check_one(i: int, name: str, shape: Shape, value: object) -> np.ndarray:
    label = _param_label(i, name)
    if shape.is_tuple:
        raise TypeError(f"{label}: tuple-shaped parameters ({describe(shape)}) are not supported")
    dt = shape.element_type
    want = dt.np
    if not isinstance(value, np.ndarray):
        if isinstance(value, (bool, int, float, complex, np.generic, list, tuple)):
            try:
                arr = np.asarray(value)
            except (ValueError, TypeError) as e:
                raise TypeError(f"{label}: expected {describe(shape)}, got {type(value).__name__} ({e})") from None
            # Python numbers take the parameter's type, as jax's weak types do; lists must convert exactly.
            if arr.dtype != want:
                cast = arr.astype(want)
                if arr.dtype.kind in "biufc" and not np.array_equal(cast.astype(arr.dtype), arr, equal_nan=True):
                    raise TypeError(f"{label}: value {value!r} does not fit {describe(shape)}")
                arr = cast
            value = arr
        elif hasattr(value, "__array__") or hasattr(value, "__cuda_array_interface__"):
            value = np.asarray(value)
        else:
            raise TypeError(f"{label}: expected an array of {describe(shape)}, got {type(value).__name__}")
    if value.dtype != want:
        raise TypeError(f"{label}: expected dtype {dt.name} ({want}) for {describe(shape)}, got {value.dtype}")
    if value.shape != shape.dims:
        raise ValueError(f"{label}: expected shape {shape.dims} for {describe(shape)}, got {value.shape}")
    if not value.flags.c_contiguous:
        value = np.ascontiguousarray(value)
    return value


def check_args(params: Sequence[Instruction], args: Sequence[object]) -> list[np.ndarray]:
    """`params` are the entry computation's parameter instructions, in order."""
    if len(args) != len(params):
        sig = ", ".join(f"{p.name}: {describe(p.shape)}" for p in params)
        raise TypeError(f"expected {len(params)} argument{'s' if len(params) != 1 else ''} ({sig}), got {len(args)}")
    return [check_one(i, p.name, p.shape, a) for i, (p, a) in enumerate(zip(params, args))]


def check_out(root: Shape, out: object) -> list[np.ndarray]:
    """`out=` must be one writable, C-contiguous array per result leaf, of the exact shape and dtype."""
    leaves = root.leaves()
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    if len(outs) != len(leaves):
        raise TypeError(f"out= needs {len(leaves)} array{'s' if len(leaves) != 1 else ''}, got {len(outs)}")
    checked: list[np.ndarray] = []
    for i, (o, s) in enumerate(zip(outs, leaves)):
        label = f"out[{i}]" if root.is_tuple else "out"
        if not isinstance(o, np.ndarray):
            raise TypeError(f"{label}: expected a numpy array of {describe(s)}, got {type(o).__name__}")
        dt = s.element_type
        if o.dtype != dt.np:
            raise TypeError(f"{label}: expected dtype {dt.name} ({dt.np}), got {o.dtype}")
        if o.shape != s.dims:
            raise ValueError(f"{label}: expected shape {s.dims}, got {o.shape}")
        if not (o.flags.c_contiguous and o.flags.writeable):
            raise ValueError(f"{label}: must be a writable C-contiguous array")
        checked.append(o)
    return checked



def separate(arrays: Sequence[Any], outs: Sequence[Any],
             overlap: Callable[[Any, Any], bool] | None = None) -> Sequence[Any]:
    """`arrays`, with every input that shares memory with an output replaced by a copy; a
    ValueError naming both when two outputs share memory. Numpy or CuPy arrays, all
    C-contiguous; `overlap` may be numpy's `may_share_memory` when all are numpy arrays. Costs a
    comparison of address ranges per (input, output) pair: nothing is copied when none overlap."""
    overlaps = _overlap if overlap is None else overlap
    if len(outs) > 1:
        for j, o in enumerate(outs):
            for i in range(j):
                if overlaps(outs[i], o):  # (several outputs: the root is a tuple)
                    raise ValueError(f"out[{i}] and out[{j}] share memory: each output needs its own array")
    copied: list[Any] | None = None
    for i, a in enumerate(arrays):
        for o in outs:
            if overlaps(a, o):
                if copied is None:
                    copied = list(arrays)
                copied[i] = a.copy()
                break
    return arrays if copied is None else copied


def _overlap(a: Any, b: Any) -> bool:
    """Whether two C-contiguous arrays share bytes: their address ranges overlap. For numpy,
    `may_share_memory` compares exactly those bounds (no search); a CuPy array's range is its
    device pointer and size."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return bool(np.may_share_memory(a, b))
    if not (a.nbytes and b.nbytes):
        return False
    pa, pb = a.data.ptr, b.data.ptr
    return bool(pa < pb + b.nbytes and pb < pa + a.nbytes)
