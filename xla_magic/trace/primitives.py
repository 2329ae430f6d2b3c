"""One HLO instruction per function, on traced arrays: the vocabulary the numpy layer is written in.

Operands must already agree in dtype (and, for elementwise ops, in shape): numpy's promotion and
broadcasting happen one level up, so every instruction here is exactly what XLA expects."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..hlo.attrs import Window, WindowDim
from ..hlo.dtypes import from_numpy
from ..hlo.ir import Computation, Instruction
from ..hlo.opcodes import Opcode
from ..hlo.shape import Shape
from .builder import current, tracing
from .errors import EscapedTracerError, TracingError
from .tracer import Tracer

BOOL = np.dtype(np.bool_)


def shape_of(dtype: np.dtype, dims: Sequence[int]) -> Shape:
    return Shape.array(from_numpy(dtype), tuple(int(d) for d in dims))


def local(t: Tracer) -> Instruction:
    """The instruction holding `t` in the computation being traced now."""
    b = current()
    if b is None:
        raise EscapedTracerError(f"the traced array {t.describe()} was used after its trace finished; "
                                 "return it from the traced function instead of keeping it.")
    return b.local(t.instr, t.builder)


def bind(opcode: Opcode, operands: Sequence[Tracer], shape: Shape | None = None, weak: bool = False,
         **attrs: Any) -> Tracer:
    """Emits `opcode(operands)` in the computation being traced now."""
    ops = [local(t) for t in operands]
    b = tracing()
    return Tracer(b, b.emit(opcode, ops, shape, **attrs), weak)


def constant(value: Any, dtype: DTypeLike | None, weak: bool = False) -> Tracer:
    """`value` as an array constant of `dtype` (None: numpy's choice)."""
    value = np.asarray(value, dtype=dtype)
    b = current()
    if b is None:
        raise TracingError("no trace is active")
    return Tracer(b, b.constant(value), weak)


def full(shape: Sequence[int], value: Any, dtype: DTypeLike) -> Tracer:
    """A scalar constant broadcast to `shape` (how XLA spells a filled array)."""
    c = constant(value, dtype)
    return broadcast_in_dim(c, shape, ()) if tuple(shape) else c


def iota(dtype: np.dtype, shape: Sequence[int], dimension: int) -> Tracer:
    b = tracing()
    return Tracer(b, b.emit(Opcode.IOTA, [], shape_of(dtype, shape), iota_dimension=dimension))


# --- elementwise --------------------------------------------------------------------------------

def unary(opcode: Opcode, x: Tracer) -> Tracer:
    return bind(opcode, [x], weak=x.weak)


def binary(opcode: Opcode, x: Tracer, y: Tracer) -> Tracer:
    return bind(opcode, [x, y], weak=x.weak and y.weak)


def compare(direction: str, x: Tracer, y: Tracer) -> Tracer:
    return bind(Opcode.COMPARE, [x, y], direction=direction)


def select(pred: Tracer, on_true: Tracer, on_false: Tracer) -> Tracer:
    return bind(Opcode.SELECT, [pred, on_true, on_false], weak=on_true.weak and on_false.weak)


def clamp(lo: Tracer, x: Tracer, hi: Tracer) -> Tracer:
    return bind(Opcode.CLAMP, [lo, x, hi], weak=x.weak)


def convert(x: Tracer, dtype) -> Tracer:
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return Tracer(x.builder, x.instr) if x.weak else x
    return bind(Opcode.CONVERT, [x], shape_of(dtype, x.shape))


# --- shapes ---------------------------------------------------------------------------------------

def reshape(x: Tracer, dims: Sequence[int]) -> Tracer:
    dims = tuple(int(d) for d in dims)
    if dims == x.shape:
        return x
    return bind(Opcode.RESHAPE, [x], shape_of(x.dtype, dims), weak=x.weak)


def broadcast_in_dim(x: Tracer, dims: Sequence[int], mapping: Sequence[int]) -> Tracer:
    """XLA broadcast: operand dimension i becomes result dimension mapping[i] (same size)."""
    dims = tuple(int(d) for d in dims)
    if dims == x.shape and tuple(mapping) == tuple(range(x.ndim)):
        return x
    return bind(Opcode.BROADCAST, [x], shape_of(x.dtype, dims), weak=x.weak, dimensions=tuple(mapping))


def transpose(x: Tracer, perm: Sequence[int]) -> Tracer:
    perm = tuple(int(p) for p in perm)
    if perm == tuple(range(x.ndim)):
        return x
    return bind(Opcode.TRANSPOSE, [x], weak=x.weak, dimensions=perm)


def slice_(x: Tracer, starts: Sequence[int], limits: Sequence[int], strides: Sequence[int]) -> Tracer:
    spec = tuple((int(a), int(b), int(s)) for a, b, s in zip(starts, limits, strides))
    if all(a == 0 and b == n and s == 1 for (a, b, s), n in zip(spec, x.shape)):
        return x
    return bind(Opcode.SLICE, [x], weak=x.weak, slice=spec)


def reverse(x: Tracer, dims: Sequence[int]) -> Tracer:
    return bind(Opcode.REVERSE, [x], weak=x.weak, dimensions=tuple(dims)) if dims else x


def concatenate(xs: Sequence[Tracer], axis: int) -> Tracer:
    if len(xs) == 1:
        return xs[0]
    return bind(Opcode.CONCATENATE, list(xs), weak=all(x.weak for x in xs), dimensions=(axis,))


def pad(x: Tracer, value: Tracer, config: Sequence[tuple[int, int, int]]) -> Tracer:
    return bind(Opcode.PAD, [x, value], weak=x.weak, padding=tuple(tuple(c) for c in config))


def dynamic_slice(x: Tracer, starts: Sequence[Tracer], sizes: Sequence[int]) -> Tracer:
    return bind(Opcode.DYNAMIC_SLICE, [x, *starts], weak=x.weak, dynamic_slice_sizes=tuple(sizes))


def dynamic_update_slice(x: Tracer, update: Tracer, starts: Sequence[Tracer]) -> Tracer:
    return bind(Opcode.DYNAMIC_UPDATE_SLICE, [x, update, *starts], weak=x.weak)


def gather(x: Tracer, indices: Tracer, *, offset_dims, collapsed_slice_dims, start_index_map,
           index_vector_dim: int, slice_sizes) -> Tracer:
    return bind(Opcode.GATHER, [x, indices], weak=x.weak, offset_dims=tuple(offset_dims),
                collapsed_slice_dims=tuple(collapsed_slice_dims), start_index_map=tuple(start_index_map),
                index_vector_dim=index_vector_dim, slice_sizes=tuple(slice_sizes))


# --- reductions and contractions --------------------------------------------------------------

def reduce(x: Tracer, init: Tracer, dims: Sequence[int], reducer: Computation) -> Tracer:
    return bind(Opcode.REDUCE, [x, init], dimensions=tuple(sorted(dims)), to_apply=reducer)


def reduce_window(x: Tracer, init: Tracer, window: Sequence[WindowDim], reducer: Computation) -> Tracer:
    return bind(Opcode.REDUCE_WINDOW, [x, init], window=Window(tuple(window)), to_apply=reducer)


def dot_general(x: Tracer, y: Tracer, contracting: tuple[Sequence[int], Sequence[int]],
                batch: tuple[Sequence[int], Sequence[int]] = ((), ())) -> Tracer:
    """Result dimensions: batch, then x's free dimensions, then y's (XLA's dot)."""
    attrs: dict[str, Any] = {}
    if batch[0]:
        attrs["lhs_batch_dims"] = tuple(batch[0])
        attrs["rhs_batch_dims"] = tuple(batch[1])
    attrs["lhs_contracting_dims"] = tuple(contracting[0])
    attrs["rhs_contracting_dims"] = tuple(contracting[1])
    return bind(Opcode.DOT, [x, y], **attrs)


def tuple_(xs: Sequence[Tracer]) -> Tracer:
    return bind(Opcode.TUPLE, list(xs))


def get_tuple_element(t: Tracer, index: int) -> Tracer:
    return bind(Opcode.GET_TUPLE_ELEMENT, [t], index=index)
