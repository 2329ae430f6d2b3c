"""Common subexpression elimination: two instructions with the same opcode, operands, shape and
attributes compute the same value; later ones are replaced by the first."""
from __future__ import annotations

from ..hlo.ir import Instruction, Module, forward_all_uses, forward_uses
from ..hlo.opcodes import Opcode

# Never merged: each call yields a fresh value, or the op has effects.
_NOT_CSE = frozenset({Opcode.PARAMETER, Opcode.RNG, Opcode.RNG_BIT_GENERATOR, Opcode.RNG_GET_AND_UPDATE_STATE,
                      Opcode.CUSTOM_CALL, Opcode.INFEED, Opcode.OUTFEED, Opcode.SEND, Opcode.RECV,
                      Opcode.AFTER_ALL})


def _key(i: Instruction) -> tuple[object, ...] | None:
    if i.opcode in _NOT_CSE:
        return None
    attrs: list[tuple[str, object]] = []
    for k, v in i.attrs.items():
        if k == "control-predecessors":
            return None
        if isinstance(v, tuple) and v and not isinstance(v[0], (int, tuple)):
            v = tuple(id(x) for x in v)
        elif not isinstance(v, (int, str, bool, tuple, type(None))) and not hasattr(v, "__dataclass_fields__"):
            v = id(v)
        attrs.append((k, v))
    lit = None
    if i.literal is not None:
        lit = (i.literal.dtype.str, i.literal.shape, i.literal.tobytes())
    elif i.opcode is Opcode.CONSTANT:
        return None  # elided constants: values unknown
    return (i.opcode, i.shape.without_layout(), tuple(id(o) for o in i.operands), tuple(attrs), lit)


def cse(module: Module) -> bool:
    changed = False
    for comp in module.computations:
        seen: dict[tuple[object, ...], Instruction] = {}
        first_of: dict[int, Instruction] = {}  # a replaced instruction -> the one that stays
        for i in comp.instructions:  # operands first, so replaced operands are seen before users
            forward_uses(i, first_of)  # before the key: it names the operands
            k = _key(i)
            if k is None:
                continue
            try:
                first = seen.setdefault(k, i)
            except TypeError:  # an unhashable attribute value: leave this one alone
                continue
            if first is not i:
                first_of[id(i)] = first
                changed = True
        if first_of:
            forward_all_uses(comp, first_of)
            comp.instructions = [i for i in comp.instructions if id(i) not in first_of]
    return changed
