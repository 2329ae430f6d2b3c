"""Walks over a module's computations that follow the IR's own structure."""
from __future__ import annotations

from .ir import Computation, Module
from .opcodes import Opcode as O

# Instructions whose called computations run as control flow (not fused into a kernel).
_CONTROL_FLOW = frozenset({O.WHILE, O.CONDITIONAL, O.CALL})


def control_flow_computations(module: Module) -> list[Computation]:
    """The entry and the computations it runs as control flow (loop bodies, branches)."""
    out: list[Computation] = []
    stack = [module.entry]
    seen = {id(module.entry)}
    while stack:
        c = stack.pop()
        out.append(c)
        for i in c.instructions:
            if i.opcode in _CONTROL_FLOW:
                for cc in i.called:
                    if id(cc) not in seen:
                        seen.add(id(cc))
                        stack.append(cc)
    return out
