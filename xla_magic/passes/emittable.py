"""The contract between the fusion planner and the code generators: which fused computations are
kernels every backend can emit.

The rules live here, below the backends, because the planner may not import them: fusion asks
`problem(body, outputs)` before it makes a kernel (and splits the kernel when there is one), and
the backends' `kernel_shapes.reduction_space` places a reduction kernel's outputs with the same
`output_placement`, so the two cannot drift apart."""
from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from ..hlo.ir import Computation, Instruction
from ..hlo.opcodes import ELEMENTWISE
from ..hlo.opcodes import Opcode as O

# Instructions a loop kernel cannot compute element by element.
NOT_IN_LOOPS = frozenset({O.REDUCE_WINDOW, O.SCATTER, O.SELECT_AND_SCATTER, O.SORT, O.DOT, O.CONVOLUTION,
                          O.RNG_BIT_GENERATOR, O.RNG, O.CUSTOM_CALL, O.FFT, O.WHILE, O.CONDITIONAL, O.CALL,
                          O.TOPK, O.CHOLESKY, O.TRIANGULAR_SOLVE})
# Roots that make a kernel of their own kind: everything else in such a kernel is elemental.
_ROOT_KINDS = frozenset({O.REDUCE_WINDOW, O.SCATTER})


class Placement(Enum):
    """Where a reduction kernel writes an output."""

    ROW = "row"  # once per kept index: a reduce's result or a value of the kept dims
    FULL = "full"  # over the whole reduced operand, after the last phase (softmax's result)
    NEITHER = "neither"  # no place in this kernel: the backend rejects it


def squeeze(dims: Sequence[int]) -> tuple[int, ...]:
    return tuple(d for d in dims if d != 1)


def output_placement(o: Instruction, full: Sequence[int], rdims: Sequence[int]) -> Placement:
    """Where a reduction kernel over `full` reducing `rdims` writes output `o`. Per row first:
    when each row reduces one element, an output of the operand's dims is written once per kept
    index rather than by a loop of one."""
    kept_dims = squeeze([full[d] for d in range(len(full)) if d not in rdims])
    if o.shape.is_tuple:  # a variadic reduce writes its result leaves per row
        return Placement.ROW if o.opcode is O.REDUCE else Placement.NEITHER
    if squeeze(o.shape.dims) == kept_dims:
        return Placement.ROW
    if tuple(o.shape.dims) == tuple(full) and o.opcode is not O.REDUCE:
        return Placement.FULL
    return Placement.NEITHER


def stray_reduce(reds: Sequence[Instruction]) -> Instruction | None:
    """The first reduce that does not reduce the same space as the first one (all of a kernel's
    reductions share one loop nest)."""
    if not reds:
        return None
    full, rdims = reds[0].operands[0].shape.dims, sorted(reds[0].attrs["dimensions"])
    return next((r for r in reds if r.operands[0].shape.dims != full or sorted(r.attrs["dimensions"]) != rdims),
                None)


def other_row_reader(body: Sequence[Instruction], full: Sequence[int], rdims: Sequence[int]) -> Instruction | None:
    """In a reduction kernel the reduced dims are the inner loop and a reduce's result exists for
    the current kept index only. So a value computed from one (per row, or full size through a
    broadcast along the row) may be read only at the index it is computed for: by elementwise
    ops, reshapes of per-row values, later reductions. The first instruction of `body` (program
    order) that would read one elsewhere (a reverse, transpose, slice, broadcast across rows...)."""
    full = tuple(full)
    kept = tuple(k for k in range(len(full)) if k not in rdims)
    outer = squeeze([full[k] for k in kept])
    along_row = tuple(k for k in kept if full[k] != 1)
    per_row = {id(i) for i in body if i.opcode is O.REDUCE}
    full_size: set[int] = set()  # full-size values computed from per-row ones
    for i in body:
        if id(i) in per_row:
            continue
        reads_row = any(id(o) in per_row for o in i.operands)
        reads_full = any(id(o) in full_size for o in i.operands)
        if not (reads_row or reads_full):
            continue
        if i.opcode in ELEMENTWISE and not reads_full and squeeze(i.shape.dims) == outer:
            per_row.add(id(i))
        elif i.opcode in (O.RESHAPE, O.BITCAST) and not reads_full and squeeze(i.shape.dims) == outer:
            per_row.add(id(i))  # only adds or drops 1-sized dims
        elif i.opcode is O.GET_TUPLE_ELEMENT and i.operands[0].opcode is O.REDUCE:
            per_row.add(id(i))
        elif i.opcode is O.BROADCAST and not reads_full and tuple(i.shape.dims) == full:
            src = i.operands[0].shape.dims
            if tuple(d for k, d in enumerate(i.attrs["dimensions"]) if src[k] != 1) != along_row:
                return i  # the per-row value would be read at another row
            full_size.add(id(i))
        elif i.opcode in ELEMENTWISE and tuple(i.shape.dims) == full:
            full_size.add(id(i))
        elif i.opcode is O.REDUCE:
            continue  # a later phase, reading at the index it reduces
        else:
            return i
    return None


def problem(body: Sequence[Instruction], outputs: Sequence[Instruction]) -> str | None:
    """Why no code generator can emit a kernel computing `outputs` from `body` (its instructions
    in program order, without parameters), or None when every one can."""
    if not outputs:
        return "a kernel without outputs"
    root = outputs[-1] if len(outputs) == 1 else None
    if root is not None and root.opcode is O.DYNAMIC_UPDATE_SLICE:  # updated in place: its buffer is an input
        if any(i is root.operands[0] for i in body):
            return "dynamic-update-slice of a computed operand as a kernel root"
        return _not_elemental(body, ())
    reds = [i for i in body if i.opcode is O.REDUCE]
    if reds:
        stray = stray_reduce(reds)
        if stray is not None:
            return f"reductions over different spaces in one kernel ({stray.name})"
        full, rdims = reds[0].operands[0].shape.dims, reds[0].attrs["dimensions"]
        for o in outputs:
            if output_placement(o, full, rdims) is Placement.NEITHER:
                return f"output {o.name} of shape {o.shape} in a reduction over {tuple(full)}"
        reader = other_row_reader(body, full, rdims)
        if reader is not None:
            return f"{reader.name} reads a value computed per row at another row"
        return _not_elemental(body, ())
    kinds = [i for i in body if i.opcode in _ROOT_KINDS]
    if kinds:
        if len(kinds) > 1 or len(outputs) != 1 or outputs[0] is not kinds[0]:
            return f"{kinds[0].opcode.value} kernels with several outputs"
        if kinds[0].shape.is_tuple:
            return f"variadic {kinds[0].opcode.value}"
        return _not_elemental(body, (kinds[0],))
    if any(o.shape.is_tuple for o in outputs):
        return "a tuple-shaped output of a loop kernel"
    return _not_elemental(body, ())


def _not_elemental(body: Sequence[Instruction], allowed: Sequence[Instruction]) -> str | None:
    bad = next((i for i in body if i.opcode in NOT_IN_LOOPS and not any(i is a for a in allowed)), None)
    return None if bad is None else f"{bad.opcode.value} ('{bad.name}') inside a loop kernel"


def emittable(comp: Computation) -> str | None:
    """Why no code generator can emit the fused computation `comp` as one kernel, or None."""
    root = comp.root
    outputs = list(root.operands) if root.opcode is O.TUPLE else [root]
    body = [i for i in comp.instructions if i.opcode is not O.PARAMETER and not (i is root and root.opcode is O.TUPLE)]
    return problem(body, outputs)
