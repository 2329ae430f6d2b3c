"""Constant folding through the evaluator: an instruction whose operands are all constants is
replaced by a constant holding its value. The evaluator is the definition of every op, so folding
can never disagree with execution."""
from __future__ import annotations

import numpy as np

from ..hlo.ir import Computation, Instruction, Module, NameGen, replace_uses
from ..hlo.opcodes import Opcode as O

# Not folded: broadcast and iota stay cheap generators instead of big literals (as in XLA);
# control flow could run unboundedly; the rest have effects or fresh values.
_NEVER = frozenset({O.PARAMETER, O.CONSTANT, O.BROADCAST, O.IOTA, O.WHILE, O.CALL, O.CONDITIONAL,
                    O.CUSTOM_CALL, O.RNG, O.RNG_BIT_GENERATOR, O.RNG_GET_AND_UPDATE_STATE, O.TUPLE,
                    O.GET_TUPLE_ELEMENT, O.FUSION, O.AFTER_ALL, O.INFEED, O.OUTFEED, O.SEND, O.RECV,
                    O.PARTITION_ID, O.REPLICA_ID})
DEFAULT_LIMIT = 1 << 14  # elements; bigger results stay computed at run time


def _foldable(i: Instruction, limit: int) -> bool:
    if i.opcode in _NEVER or i.shape.is_tuple or i.shape.size > limit:
        return False
    return all(o.opcode is O.CONSTANT and o.literal is not None for o in i.operands) and bool(i.operands)


def fold_constants(module: Module, limit: int = DEFAULT_LIMIT) -> bool:
    from ..hlo.evaluator import evaluate_computation  # lazily: the evaluator is heavy

    names = NameGen(module)
    changed = False
    for comp in module.computations:
        for i in list(comp.instructions):
            if not _foldable(i, limit):
                continue
            tmp = Computation("fold", [*i.operands, i], i)
            try:
                with np.errstate(all="ignore"):
                    value = np.asarray(evaluate_computation(tmp, []))
            except Exception:  # noqa: BLE001 - an op the evaluator refuses stays as it is
                continue
            assert i.shape.dtype is not None, "only arrays are folded"
            value = value.astype(i.shape.dtype.np, copy=False).reshape(i.shape.dims)
            c = Instruction(names("constant"), O.CONSTANT, i.shape, [], {}, i.metadata, value, None, i.line,
                            i.column)
            comp.instructions.insert(comp.instructions.index(i), c)
            replace_uses(comp, i, c)
            comp.instructions.remove(i)
            changed = True
    return changed
