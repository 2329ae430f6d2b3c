"""Call inlining: `call` instructions are replaced by a copy of the callee's body, as XLA's
CallInliner does, so later passes see one flat computation (JAX nests a call per jitted helper).

Defusion does the same to `fusion` instructions that arrive in the text (XLA's own optimized
dumps): our fusion pass then decides afresh, with every instruction in view."""
from __future__ import annotations

from collections.abc import Callable

from ..hlo.ir import Computation, Instruction, Module, NameGen, replace_uses, topological_sort
from ..hlo.opcodes import Opcode


def inline_calls(module: Module) -> bool:
    return _inline_all(module, lambda i: i.opcode is Opcode.CALL)


def defuse(module: Module, which: Callable[[Instruction], bool] | None = None) -> bool:
    """Inlines fusion instructions (all, or those `which(instr)` picks) into their computations."""
    return _inline_all(module, lambda i: i.opcode is Opcode.FUSION and (which is None or which(i)))


def _inline_all(module: Module, pick: Callable[[Instruction], bool]) -> bool:
    names = NameGen(module)
    changed = False
    for comp in module.computations:
        while True:  # a callee inlined may itself hold more: repeat until none are left
            found = [i for i in comp.instructions if pick(i)]
            if not found:
                break
            for call in found:
                _inline_one(comp, call, names)
            changed = True
        topological_sort(comp)
    return changed


def _inline_one(comp: Computation, call: Instruction, names: NameGen) -> None:
    callee: Computation = call.attrs["to_apply" if call.opcode is Opcode.CALL else "calls"]
    mapping: dict[int, Instruction] = {}
    new: list[Instruction] = []
    for i in callee.instructions:
        if i.opcode is Opcode.PARAMETER and i.parameter_number is not None:
            mapping[id(i)] = call.operands[i.parameter_number]
            continue
        attrs = dict(i.attrs)
        if "control-predecessors" in attrs:
            attrs["control-predecessors"] = tuple(mapping[id(p)] for p in attrs["control-predecessors"]
                                                  if id(p) in mapping)
        c = Instruction(names(i.name), i.opcode, i.shape, [mapping[id(o)] for o in i.operands], attrs,
                        i.metadata or call.metadata, i.literal, i.parameter_number, i.line, i.column)
        mapping[id(i)] = c
        new.append(c)
    pos = comp.instructions.index(call)
    comp.instructions[pos:pos] = new
    result = mapping[id(callee.root)]
    replace_uses(comp, call, result)
    comp.instructions.remove(call)
