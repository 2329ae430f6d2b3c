"""Small conditionals become selects: both branches are computed inline and the result is
chosen element by element, which removes the control flow and lets fusion see through it
(XLA's ConditionalToSelect). Only for branches of a few cheap instructions."""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..hlo.ir import Computation, Instruction, Module, NameGen, replace_uses, topological_sort
from ..hlo.opcodes import ELEMENTWISE, TRANSCENDENTAL
from ..hlo.opcodes import Opcode as O
from ..hlo.shape import Shape

MAX_BRANCH_INSTRUCTIONS = 12
_CHEAP = (ELEMENTWISE - TRANSCENDENTAL - {O.DIVIDE, O.REMAINDER, O.POWER}) | frozenset({
    O.PARAMETER, O.CONSTANT, O.TUPLE, O.GET_TUPLE_ELEMENT, O.BROADCAST, O.RESHAPE, O.BITCAST, O.TRANSPOSE,
    O.SLICE, O.IOTA, O.CONCATENATE, O.REVERSE, O.PAD})


def _branches(i: Instruction) -> list[Computation]:
    if "branch_computations" in i.attrs:
        return list(i.attrs["branch_computations"])
    return [i.attrs["true_computation"], i.attrs["false_computation"]]


def _small(c: Computation) -> bool:
    work = [i for i in c.instructions if i.opcode not in (O.PARAMETER, O.TUPLE, O.GET_TUPLE_ELEMENT)]
    return len(work) <= MAX_BRANCH_INSTRUCTIONS and all(i.opcode in _CHEAP for i in c.instructions)


def _inline(comp: Computation, branch: Computation, arg: Instruction, names: NameGen,
            new: list[Instruction]) -> Instruction:
    mapping: dict[int, Instruction] = {}
    for i in branch.instructions:
        if i.opcode is O.PARAMETER:
            mapping[id(i)] = arg
            continue
        c = Instruction(names(i.name), i.opcode, i.shape, [mapping[id(o)] for o in i.operands], dict(i.attrs),
                        i.metadata, i.literal, None, i.line, i.column)
        mapping[id(i)] = c
        new.append(c)
    return mapping[id(branch.root)]


def _leaf(v: Instruction, k: int, names: NameGen, new: list[Instruction]) -> Instruction:
    if v.opcode is O.TUPLE:
        return v.operands[k]
    elements = v.shape.tuple_shapes
    assert elements is not None, "only tuples have elements"
    g = Instruction(names("get-tuple-element"), O.GET_TUPLE_ELEMENT, elements[k], [v], {"index": k})
    new.append(g)
    return g


def _select(pred: Instruction, a: Instruction, b: Instruction, names: NameGen,
            new: list[Instruction]) -> Instruction:
    """select on arrays, or on each element of (nested) tuples."""
    if a.shape.tuple_shapes is not None:
        parts = [_select(pred, _leaf(a, k, names, new), _leaf(b, k, names, new), names, new)
                 for k in range(len(a.shape.tuple_shapes))]
        t = Instruction(names("tuple"), O.TUPLE, Shape.tuple_of(p.shape for p in parts), parts)
        new.append(t)
        return t
    s = Instruction(names("select"), O.SELECT, a.shape, [pred, a, b])
    new.append(s)
    return s


def conditional_to_select(module: Module) -> bool:
    names = NameGen(module)
    changed = False
    for comp in module.computations:
        for cond in [i for i in comp.instructions if i.opcode is O.CONDITIONAL]:
            branches = _branches(cond)
            if not all(_small(b) for b in branches) or not branches:
                continue
            new: list[Instruction] = []
            index = cond.operands[0]
            results = [_inline(comp, b, cond.operands[k + 1], names, new) for k, b in enumerate(branches)]
            if index.shape.dtype is not None and index.shape.dtype.kind == "pred":
                result = _select(index, results[0], results[1], names, new)
            else:
                # An index out of range runs the last branch, as XLA does: test the others in turn.
                result = results[-1]
                for k in range(len(branches) - 2, -1, -1):
                    c = Instruction(names("constant"), O.CONSTANT, index.shape.with_dims(()), [], {}, None,
                                    _scalar(k, index.shape))
                    eq = Instruction(names("compare"), O.COMPARE, Shape.array("pred", ()), [index, c],
                                     {"direction": "EQ"})
                    new.extend([c, eq])
                    result = _select(eq, results[k], result, names, new)
            for n in new:
                n.metadata = n.metadata or cond.metadata
            pos = comp.instructions.index(cond)
            comp.instructions[pos:pos] = new
            replace_uses(comp, cond, result)
            comp.instructions.remove(cond)
            topological_sort(comp)
            changed = True
    return changed


def _scalar(k: int, shape: Shape) -> npt.NDArray[Any]:
    assert shape.dtype is not None, "a branch index is an array"
    return np.asarray(k, shape.dtype.np)
