"""Dot canonicalization: transposes folded into the dot's operands (the dot reads its operands
through its dimension numbers, so a transpose in front of it is only a relabelling), and batch
dimension pairs ordered by the left operand's dimension numbers."""
from __future__ import annotations

from ..hlo.ir import Instruction, Module, topological_sort
from ..hlo.opcodes import Opcode as O


def _fold_transpose(dot: Instruction, side: str) -> bool:
    k = 0 if side == "lhs" else 1
    t = dot.operands[k]
    if t.opcode is not O.TRANSPOSE:
        return False
    perm = t.attrs["dimensions"]  # output dim j of the transpose is input dim perm[j]
    contracting = dot.attrs.get(f"{side}_contracting_dims", ())
    batch = dot.attrs.get(f"{side}_batch_dims", ())
    free = [d for d in range(t.shape.rank) if d not in contracting and d not in batch]
    # The dot's output lists free dims in increasing order: the relabelling must keep that order.
    mapped_free = [perm[d] for d in free]
    if mapped_free != sorted(mapped_free):
        return False
    dot.operands[k] = t.operands[0]
    dot.attrs[f"{side}_contracting_dims"] = tuple(perm[d] for d in contracting)
    if batch:
        dot.attrs[f"{side}_batch_dims"] = tuple(perm[d] for d in batch)
    return True


def canonicalize_dots(module: Module) -> bool:
    changed = False
    for comp in module.computations:
        touched = False
        for i in comp.instructions:
            if i.opcode is not O.DOT:
                continue
            for side in ("lhs", "rhs"):
                while _fold_transpose(i, side):  # transpose(transpose(x)) folds twice
                    touched = True
        if touched:
            topological_sort(comp)
            changed = True
    return changed
