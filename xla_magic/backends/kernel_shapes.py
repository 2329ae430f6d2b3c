"""Target-independent facts about a kernel that every code generator needs: the space a
reduction kernel reduces over and in which phases its reductions run, and how a gather or a
scatter maps indices. One copy here serves the cpu and gpu backends alike."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import prod
from typing import TypeVar

from ..hlo.ir import Computation, Instruction
from ..hlo.opcodes import Opcode as O
from ..passes.emittable import Placement, output_placement, stray_reduce

__all__ = ["Placement"]  # defined beside the planner's rules, which place outputs the same way

V = TypeVar("V")


def depends_on(instr: Instruction, targets: set[int]) -> set[int]:
    """Which of `targets` (instruction ids) `instr` reads, directly or not, inside the kernel."""
    found, stack, seen = set(), list(instr.operands), set()
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        if id(o) in targets:
            found.add(id(o))
            continue
        stack.extend(o.operands)
    return found


def reduction_phases(reds: list[Instruction]) -> list[list[Instruction]]:
    """Reductions grouped by phase: a reduction reading another's result runs a phase later.
    `reds` are in definition order."""
    ids = {id(r) for r in reds}
    phase: dict[int, int] = {}
    for r in reds:
        phase[id(r)] = 1 + max((phase[d] for d in depends_on(r, ids)), default=-1)
    out: list[list[Instruction]] = [[] for _ in range(max(phase.values()) + 1)] if phase else []
    for r in reds:
        out[phase[id(r)]].append(r)
    return out


def _innermost(rdims: Sequence[int], rank: int) -> bool:
    return sorted(rdims) == list(range(rank - len(rdims), rank))


def reduced_dims_innermost(reduce: Instruction) -> bool:
    """Are a reduce's reduced dims the innermost ones (rows), or is it a column reduction?"""
    return _innermost(reduce.attrs["dimensions"], reduce.operands[0].shape.rank)


@dataclass(frozen=True)
class ReductionOutput:
    position: int  # among the kernel's outputs (the root tuple's operands)
    instr: Instruction
    placement: Placement


@dataclass(frozen=True)
class ResultReader:
    """An instruction whose value is one leaf of a reduce's result: the reduce itself, or a
    get-tuple-element of a variadic one. Code generators read it from the accumulators."""

    instr: Instruction
    reduce: Instruction
    leaf: int


@dataclass(frozen=True)
class ReductionSpace:
    """What every schedule of a reduction kernel shares: the reductions, the operand space they
    reduce (`full`), which of its dims are reduced and which kept, the phases of dependent
    reductions, and where each output goes. All reductions of a kernel reduce the same space;
    `stray` names the first that does not (the kernel cannot be built)."""

    reds: tuple[Instruction, ...]  # in definition order
    full: tuple[int, ...]
    rdims: tuple[int, ...]  # reduced dims, ascending
    kept: tuple[int, ...]  # kept dims, ascending
    phases: tuple[tuple[Instruction, ...], ...]
    outputs: tuple[ReductionOutput, ...]
    readers: tuple[ResultReader, ...]
    stray: Instruction | None = None

    @property
    def kept_dims(self) -> tuple[int, ...]:
        return tuple(self.full[d] for d in self.kept)

    @property
    def red_dims(self) -> tuple[int, ...]:
        return tuple(self.full[d] for d in self.rdims)

    @property
    def nk(self) -> int:
        """How many kept indices (rows, or columns)."""
        return prod(self.kept_dims)

    @property
    def nr(self) -> int:
        """How many elements each kept index reduces."""
        return prod(self.red_dims)

    @property
    def row(self) -> bool:
        """Reduced dims innermost: each kept index reduces a contiguous row."""
        return _innermost(self.rdims, len(self.full))

    def problem(self) -> str | None:
        if self.stray is None:
            return None
        return f"reductions over different spaces in one kernel ({self.stray.name})"

    @staticmethod
    def n_operands(r: Instruction) -> int:
        """A (variadic) reduce's operands come first, then as many init values."""
        return len(r.operands) // 2

    def inputs(self, r: Instruction) -> list[Instruction]:
        return r.operands[:self.n_operands(r)]

    def inits(self, r: Instruction) -> list[Instruction]:
        return r.operands[self.n_operands(r):]

    def full_index(self, kept_index: Sequence[V], red_index: Sequence[V]) -> list[V]:
        """The operand index of a kept index and a reduced one."""
        idx: list[V] = list(kept_index) + list(red_index)
        for d, v in zip(self.kept, kept_index):
            idx[d] = v
        for d, v in zip(self.rdims, red_index):
            idx[d] = v
        return idx

    @property
    def has_full_outputs(self) -> bool:
        return any(o.placement is Placement.FULL for o in self.outputs)


def reduction_space(comp: Computation) -> ReductionSpace:
    """The reduction space of a kernel computing `comp`, which holds at least one reduce."""
    reds = tuple(i for i in comp.instructions if i.opcode is O.REDUCE)
    r0 = reds[0]
    full = tuple(r0.operands[0].shape.dims)
    rdims = tuple(sorted(r0.attrs["dimensions"]))
    stray = stray_reduce(reds)
    kept = tuple(d for d in range(len(full)) if d not in rdims)
    root = comp.root
    outs = list(root.operands) if root.opcode is O.TUPLE else [root]
    outputs = [ReductionOutput(n, o, output_placement(o, full, rdims)) for n, o in enumerate(outs)]
    readers = []
    for r in reds:
        if ReductionSpace.n_operands(r) == 1:
            readers.append(ResultReader(r, r, 0))
        else:
            readers += [ResultReader(u, r, u.attrs["index"]) for u in comp.instructions
                        if u.opcode is O.GET_TUPLE_ELEMENT and u.operands[0] is r]
    return ReductionSpace(reds, full, rdims, kept, tuple(tuple(p) for p in reduction_phases(list(reds))),
                          tuple(outputs), tuple(readers), stray)


@dataclass(frozen=True)
class GatherDims:
    """XLA Gather's dimension numbers, resolved: the output's batch dims address the indices array
    (without index_vector_dim); its offset dims run over the slice's window dims."""

    batch_dims: tuple[int, ...]  # output dims that are not offset dims
    window_dims: tuple[int, ...]  # operand dims the offset dims map onto, in order
    index_dims: tuple[int, ...]  # dims of the indices array other than index_vector_dim
    n_index: int  # how many start indices each gather takes
    index_vector_dim: int
    start_index_map: tuple[int, ...]
    slice_sizes: tuple[int, ...]
    offset_dims: tuple[int, ...]
    operand_batching_dims: tuple[int, ...]
    start_indices_batching_dims: tuple[int, ...]


def gather_dims(instr: Instruction) -> GatherDims:
    operand, indices = instr.operands
    a = instr.attrs
    offset_dims = tuple(a.get("offset_dims", ()))
    collapsed = set(a.get("collapsed_slice_dims", ()))
    operand_batching = tuple(a.get("operand_batching_dims", ()))
    ivd = a["index_vector_dim"]
    idx_rank = indices.shape.rank
    return GatherDims(
        batch_dims=tuple(d for d in range(instr.shape.rank) if d not in offset_dims),
        window_dims=tuple(d for d in range(operand.shape.rank) if d not in collapsed and d not in operand_batching),
        index_dims=tuple(d for d in range(idx_rank) if d != ivd),
        n_index=indices.shape.dims[ivd] if ivd < idx_rank else 1,
        index_vector_dim=ivd,
        start_index_map=tuple(a["start_index_map"]),
        slice_sizes=tuple(a["slice_sizes"]),
        offset_dims=offset_dims,
        operand_batching_dims=operand_batching,
        start_indices_batching_dims=tuple(a.get("start_indices_batching_dims", ())),
    )


def simple_reducer(comp: Computation) -> str | None:
    """'add', 'multiply', 'maximum', ... when a reducer is one op on its two parameters, else None."""
    r, ps = comp.root, comp.parameters
    if len(ps) == 2 and len(r.operands) == 2 and {id(o) for o in r.operands} == {id(ps[0]), id(ps[1])}:
        return r.opcode.value
    return None


@dataclass(frozen=True)
class ScatterDims:
    """XLA Scatter's dimension numbers, resolved: which update dims pick the scatter index, which
    operand dims the update window covers, and how wide it is there (an update whose window
    would leave the operand is skipped)."""

    update_scatter_dims: tuple[int, ...]  # update dims that are not window dims
    update_window_dims: tuple[int, ...]
    window_operand_dims: tuple[int, ...]  # operand dims the window dims map onto, in order
    window_size: tuple[int, ...]  # per operand dim (1 where the window does not reach)
    index_dims: tuple[int, ...]  # dims of the indices array other than index_vector_dim
    n_index: int
    index_vector_dim: int
    scatter_dims_to_operand_dims: tuple[int, ...]
    input_batching_dims: tuple[int, ...]
    scatter_indices_batching_dims: tuple[int, ...]


def scatter_dims(instr: Instruction) -> ScatterDims:
    n = len(instr.operands) // 2  # (operands.., indices, updates..): the first of each describes all
    operand, indices, updates = instr.operands[0], instr.operands[n], instr.operands[n + 1]
    a = instr.attrs
    uwd = tuple(a.get("update_window_dims", ()))
    inserted = set(a.get("inserted_window_dims", ()))
    in_batch = tuple(a.get("input_batching_dims", ()))
    ivd = a["index_vector_dim"]
    idx_rank = indices.shape.rank
    window_operand_dims = tuple(d for d in range(operand.shape.rank) if d not in inserted and d not in in_batch)
    size = [1] * operand.shape.rank
    for od, ud in zip(window_operand_dims, uwd):
        size[od] = updates.shape.dims[ud]
    return ScatterDims(
        update_scatter_dims=tuple(d for d in range(updates.shape.rank) if d not in uwd),
        update_window_dims=uwd,
        window_operand_dims=window_operand_dims,
        window_size=tuple(size),
        index_dims=tuple(d for d in range(idx_rank) if d != ivd),
        n_index=indices.shape.dims[ivd] if ivd < idx_rank else 1,
        index_vector_dim=ivd,
        scatter_dims_to_operand_dims=tuple(a["scatter_dims_to_operand_dims"]),
        input_batching_dims=in_batch,
        scatter_indices_batching_dims=tuple(a.get("scatter_indices_batching_dims", ())),
    )
