"""Bitcasts that change the layout, turned into the logical ops they stand for.

XLA's optimized HLO uses `bitcast` to reinterpret a buffer in another physical order, e.g.
`f32[16,4,8]{0,2,1} bitcast(f32[4,8,16]{2,1,0})` is a transpose written as a no-op on memory.
Everything after this pass works on logical values with row-major storage, so such a bitcast
becomes transpose (to the operand's physical order) -> reshape -> transpose (from the result's
physical order); a plain row-major bitcast becomes a reshape. Afterwards no op depends on
layouts, so later passes may drop layout-changing copies freely."""
from __future__ import annotations

import numpy as np

from ..hlo.ir import Instruction, Module, NameGen, replace_uses, topological_sort
from ..hlo.opcodes import Opcode as O
from ..hlo.shape import Shape


def _major_to_minor(s: Shape) -> tuple[int, ...]:
    if s.layout is None or len(s.layout) != s.rank:
        return tuple(range(s.rank))
    return tuple(reversed(s.layout))


def _reorders(i: Instruction) -> bool:
    src, dst = i.operands[0].shape, i.shape
    if src.is_tuple or dst.is_tuple:
        return False
    return _major_to_minor(src) != tuple(range(src.rank)) or _major_to_minor(dst) != tuple(range(dst.rank))


def _array_bitcast(i: Instruction) -> bool:
    return i.opcode is O.BITCAST and not i.shape.is_tuple and not i.operands[0].shape.is_tuple


def has_layout_bitcasts(module: Module) -> bool:
    """Any bitcast that is more than a row-major reshape (another layout, or another element type)?"""
    return any(_array_bitcast(i) and (_reorders(i) or i.shape.dtype != i.operands[0].shape.dtype)
               for c in module.computations for i in c.instructions)


def decompose_layout_bitcasts(module: Module) -> bool:
    names = NameGen(module)
    changed = False
    for comp in module.computations:
        for i in [x for x in comp.instructions if _array_bitcast(x)]:
            src, dst = i.operands[0].shape, i.shape
            sp, dp = _major_to_minor(src), _major_to_minor(dst)
            new: list[Instruction] = []

            def make(op: O, shape: Shape, operands: list[Instruction], attrs: dict[str, object] | None = None,
                     i: Instruction = i, new: list[Instruction] = new) -> Instruction:
                n = Instruction(names(op.value), op, shape, operands, attrs or {}, i.metadata, None, None, i.line,
                                i.column)
                new.append(n)
                return n

            v = i.operands[0]
            phys_src = Shape(src.dtype, tuple(src.dims[d] for d in sp))
            if sp != tuple(range(src.rank)):
                v = make(O.TRANSPOSE, phys_src, [v], {"dimensions": sp})
            if src.dtype != dst.dtype:
                v = make(O.BITCAST_CONVERT, Shape(dst.dtype, phys_src.dims), [v])
            phys_dst = Shape(dst.dtype, tuple(dst.dims[d] for d in dp))
            if phys_dst.dims != v.shape.dims:
                v = make(O.RESHAPE, phys_dst, [v])
            inv = tuple(int(k) for k in np.argsort(dp))
            if dp != tuple(range(dst.rank)):
                v = make(O.TRANSPOSE, Shape(dst.dtype, dst.dims), [v], {"dimensions": inv})
            if v is i.operands[0] and v.shape.dims != dst.dims:
                v = make(O.RESHAPE, Shape(dst.dtype, dst.dims), [v])
            pos = comp.instructions.index(i)
            comp.instructions[pos:pos] = new
            replace_uses(comp, i, v)
            comp.instructions.remove(i)
            changed = True
        if changed:
            topological_sort(comp)
    return changed
