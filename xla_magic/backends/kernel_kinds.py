"""Which kind of kernel a fused computation becomes: one classification for every code generator,
each of which maps the kinds to its own emitters.

Both backends once chose with lists of their own, in slightly different orders. The order here
is the union of theirs; where they disagreed the cases cannot arise from this project's fusion
(dot, convolution, sort and top-k are never fused, and a fusion holds at most one root-only
instruction: reduce, reduce-window, dynamic-update-slice or scatter), so the choice only fixes
what XLA's own fusions would get."""
from __future__ import annotations

from enum import Enum

from ..hlo.ir import Computation, Instruction
from ..hlo.opcodes import Opcode as O
from ..passes.emittable import NOT_IN_LOOPS
from .kernel_shapes import reduced_dims_innermost

__all__ = ["NOT_IN_LOOPS", "KernelKind", "classify", "is_top_k", "not_in_loops"]


class KernelKind(Enum):
    LOOP = "loop"  # elementwise and indexing work over the outputs
    ROW_REDUCTION = "row reduction"  # reduced dims innermost (a full reduction is one row)
    COLUMN_REDUCTION = "column reduction"  # reduced dims not all innermost
    WINDOW = "window"  # reduce-window
    IN_PLACE_UPDATE = "in-place update"  # dynamic-update-slice writing into its operand's buffer
    SCATTER = "scatter"
    SORT = "sort"
    TOP_K = "top-k"
    DOT = "dot"
    CONVOLUTION = "convolution"
    SELECT_AND_SCATTER = "select-and-scatter"
    HOST_CALL = "host call"  # a custom call the generated code hands back to Python (cpu only)


_BY_ROOT = {O.DOT: KernelKind.DOT, O.CONVOLUTION: KernelKind.CONVOLUTION, O.SORT: KernelKind.SORT,
            O.TOPK: KernelKind.TOP_K, O.SELECT_AND_SCATTER: KernelKind.SELECT_AND_SCATTER,
            # A library's work: the cpu runs numpy's fft and linear algebra, as XLA:CPU calls libraries.
            O.FFT: KernelKind.HOST_CALL, O.CHOLESKY: KernelKind.HOST_CALL, O.TRIANGULAR_SOLVE: KernelKind.HOST_CALL}
_BY_ROOT_AFTER_REDUCE = {O.REDUCE_WINDOW: KernelKind.WINDOW, O.SCATTER: KernelKind.SCATTER}


def is_top_k(instr: Instruction) -> bool:
    return instr.opcode is O.TOPK or (instr.opcode is O.CUSTOM_CALL and
                                      instr.attrs.get("custom_call_target") == "TopK")


def classify(comp: Computation, update_in_place: bool = True) -> KernelKind:
    """The kind of kernel computing `comp`. A dynamic-update-slice root is an in-place update
    unless the caller knows it cannot run in place (`update_in_place=False`: the gpu program
    when the output buffer is not the operand's); then it is computed like any other root."""
    root = comp.root
    if root.opcode is O.DYNAMIC_UPDATE_SLICE and update_in_place:
        return KernelKind.IN_PLACE_UPDATE
    if root.opcode in _BY_ROOT:
        return _BY_ROOT[root.opcode]
    if is_top_k(root):
        return KernelKind.TOP_K
    if root.opcode is O.CUSTOM_CALL:
        return KernelKind.HOST_CALL
    first_reduce = next((i for i in comp.instructions if i.opcode is O.REDUCE), None)
    if first_reduce is not None:
        return KernelKind.ROW_REDUCTION if reduced_dims_innermost(first_reduce) else KernelKind.COLUMN_REDUCTION
    return _BY_ROOT_AFTER_REDUCE.get(root.opcode, KernelKind.LOOP)


def not_in_loops(comp: Computation) -> Instruction | None:
    """The first instruction of a loop kernel that no elemental rule computes, if any."""
    return next((i for i in comp.instructions if i.opcode in NOT_IN_LOOPS), None)
