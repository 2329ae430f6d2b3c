"""Dead code elimination: drop instructions nothing reaches, and computations nothing calls."""
from __future__ import annotations

from ..hlo.ir import Module
from ..hlo.opcodes import Opcode

# Ops kept even when unused: they have effects a program can observe. after-all only joins tokens
# (no effect of its own, as in XLA): a dead one goes, and no code generator sees it.
_SIDE_EFFECTS = frozenset({Opcode.OUTFEED, Opcode.SEND, Opcode.SEND_DONE, Opcode.INFEED, Opcode.RECV,
                           Opcode.RECV_DONE, Opcode.CUSTOM_CALL})


def dce(module: Module) -> bool:
    changed = False
    for comp in module.computations:
        live = {id(i) for i in comp.post_order()}
        live.update(id(i) for i in comp.instructions if i.opcode in _SIDE_EFFECTS)
        # Keep what side-effecting ops read.
        stack = [i for i in comp.instructions if i.opcode in _SIDE_EFFECTS]
        while stack:
            for o in stack.pop().operands:
                if id(o) not in live:
                    live.add(id(o))
                    stack.append(o)
        kept = [i for i in comp.instructions if id(i) in live]
        if len(kept) != len(comp.instructions):
            comp.instructions = kept
            changed = True
    # Computations no longer reachable from the entry.
    reachable = {id(module.entry)}
    comps = [module.entry]
    while comps:
        for i in comps.pop().instructions:
            for c in i.called:
                if id(c) not in reachable:
                    reachable.add(id(c))
                    comps.append(c)
    kept_comps = [c for c in module.computations if id(c) in reachable]
    if len(kept_comps) != len(module.computations):
        module.computations = kept_comps
        changed = True
    return changed
