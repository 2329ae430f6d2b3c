"""What both code generators need to walk a module's host program: tuple-shaped values as nested
lists of leaf values (llvmlite pointers on the cpu, buffer locations on the gpu), and a lone
instruction wrapped as a computation so it can become a kernel of its own."""
from __future__ import annotations

from typing import Any

from ..hlo.ir import Computation, Instruction
from ..hlo.opcodes import Opcode as O
from ..hlo.shape import Shape


def leaves(v: Any) -> list[Any]:
    """The leaf values of a (nested) tuple value, in order."""
    out, stack = [], [v]
    while stack:
        x = stack.pop()
        if isinstance(x, list):
            stack.extend(reversed(x))
        else:
            out.append(x)
    return out


def nest(shape: Shape, flat: list[Any]) -> Any:
    """Leaf values back into the tuple structure of `shape`."""
    it = iter(flat)

    def build(s: Shape) -> Any:
        if s.is_tuple:
            return [build(x) for x in s.elements]
        return next(it)

    return build(shape)


def tuple_element(v: object, k: int) -> object:
    assert isinstance(v, list), "get-tuple-element of a value that is not a tuple"
    return v[k]


def parameter_number(p: Instruction) -> int:
    assert p.parameter_number is not None, f"{p.name} is not a parameter"
    return p.parameter_number


def as_computation(instr: Instruction) -> Computation:
    """One instruction as a computation of its own: operands become parameters."""
    params = [Instruction(f"p{k}", O.PARAMETER, o.shape, [], {}, None, None, k) for k, o in enumerate(instr.operands)]
    clone = Instruction(instr.name, instr.opcode, instr.shape, params, dict(instr.attrs), instr.metadata,
                        instr.literal)
    return Computation(f"wrapped.{instr.name}", params + [clone], clone)
