"""While loops: constants sunk into the body, loop-invariant code hoisted out of it.

Constant sinking (XLA's WhileLoopConstantSinking): a loop-state element that starts as a
constant and passes through the body unchanged is replaced, inside the body and the condition,
by that constant, so the simplifier and constant folding can use its value.

Invariant code motion (XLA's WhileLoopInvariantCodeMotion): an instruction in the body that reads
only unchanged loop-state elements and constants computes the same value every iteration; it is
computed once before the loop and carried in the loop state."""
from __future__ import annotations

from ..hlo.ir import Computation, Instruction, Module, NameGen, replace_uses, topological_sort
from ..hlo.opcodes import Opcode as O
from ..hlo.shape import Shape

# Never hoisted: fresh values or effects each iteration, or nothing to gain.
_PINNED = frozenset({O.PARAMETER, O.CONSTANT, O.GET_TUPLE_ELEMENT, O.TUPLE, O.RNG, O.RNG_BIT_GENERATOR,
                     O.RNG_GET_AND_UPDATE_STATE, O.CUSTOM_CALL, O.INFEED, O.OUTFEED, O.SEND, O.RECV,
                     O.AFTER_ALL, O.WHILE, O.CONDITIONAL, O.CALL})
# Cheap to recompute and they would only widen the loop state (XLA does not hoist these either).
_NOT_WORTH = frozenset({O.BROADCAST, O.BITCAST, O.RESHAPE, O.IOTA, O.CONVERT})


def _invariant_indices(body: Computation) -> set[int]:
    """Loop-state elements the body passes through unchanged."""
    root, param = body.root, body.parameters[0] if body.parameters else None
    if param is None or root.opcode is not O.TUPLE:
        return set()
    return {k for k, o in enumerate(root.operands)
            if o.opcode is O.GET_TUPLE_ELEMENT and o.operands[0] is param and o.attrs["index"] == k}


def _state_gtes(c: Computation) -> dict[int, list[Instruction]]:
    p = c.parameters[0] if c.parameters else None
    out: dict[int, list[Instruction]] = {}
    for i in c.instructions:
        if i.opcode is O.GET_TUPLE_ELEMENT and i.operands[0] is p:
            out.setdefault(i.attrs["index"], []).append(i)
    return out


def _init_element(loop: Instruction, k: int) -> Instruction | None:
    init = loop.operands[0]
    return init.operands[k] if init.opcode is O.TUPLE else None


def sink_constants(module: Module) -> bool:
    names = NameGen(module)
    changed = False
    for comp in module.computations:
        for loop in [i for i in comp.instructions if i.opcode is O.WHILE]:
            body, cond = loop.attrs["body"], loop.attrs["condition"]
            for k in sorted(_invariant_indices(body)):
                c = _init_element(loop, k)
                if c is None or c.opcode is not O.CONSTANT or c.literal is None or c.shape.size > 1024:
                    continue
                for target in (body, cond):
                    for g in _state_gtes(target).get(k, []):
                        users = [u for u in target.instructions if any(o is g for o in u.operands)]
                        if target is body:  # the pass-through in the root tuple stays
                            users = [u for u in users if u is not body.root]
                        if not users:
                            continue
                        copy = Instruction(names(c.name), O.CONSTANT, c.shape, [], {}, c.metadata, c.literal)
                        target.instructions.insert(0, copy)
                        for u in users:
                            u.operands = [copy if o is g else o for o in u.operands]
                        changed = True
    return changed


def _call_counts(module: Module) -> dict[int, int]:
    counts: dict[int, int] = {}
    for c in module.computations:
        for i in c.instructions:
            for called in i.called:
                counts[id(called)] = counts.get(id(called), 0) + 1
    return counts


def hoist_invariants(module: Module) -> bool:
    names = NameGen(module)
    changed = False
    for comp in module.computations:
        for loop in [i for i in comp.instructions if i.opcode is O.WHILE]:
            changed |= _hoist_one(comp, loop, names, _call_counts(module))
    return changed


def _hoist_one(comp: Computation, loop: Instruction, names: NameGen, calls: dict[int, int]) -> bool:
    body, cond = loop.attrs["body"], loop.attrs["condition"]
    users = [u for u in comp.instructions if any(o is loop for o in u.operands)]
    # The loop's shape grows: only when every reader takes single elements.
    if loop is comp.root or any(u.opcode is not O.GET_TUPLE_ELEMENT for u in users):
        return False
    if loop.operands[0].opcode is not O.TUPLE or len(body.parameters) != 1:
        return False
    # Another caller of this body or condition would see the new state shape.
    if calls.get(id(body), 0) > 1 or calls.get(id(cond), 0) > 1:
        return False
    invariant_k = _invariant_indices(body)
    if not invariant_k:
        return False
    param = body.parameters[0]
    invariant: set[int] = set()
    for i in body.instructions:
        if i.opcode is O.GET_TUPLE_ELEMENT and i.operands[0] is param and i.attrs["index"] in invariant_k:
            invariant.add(id(i))
        elif i.opcode is O.CONSTANT:
            invariant.add(id(i))
        elif i.opcode not in _PINNED and i.operands and all(id(o) in invariant for o in i.operands):
            invariant.add(id(i))
    users_in_body = body.users()
    # Hoist the frontier: invariant, worth it, and read by something that varies (or the root).
    hoist = [i for i in body.instructions if id(i) in invariant and i.opcode not in _PINNED
             and i.opcode not in _NOT_WORTH and not i.shape.is_tuple
             and any(id(u) not in invariant for u in users_in_body.get(id(i), []))]
    if not hoist:
        return False
    init = loop.operands[0]
    n = len(init.operands)
    # Clone the invariant subgraph outside, in the body's order.
    outside: dict[int, Instruction] = {}
    new_outer: list[Instruction] = []

    def outer_value(i: Instruction) -> Instruction:
        if id(i) in outside:
            return outside[id(i)]
        v: Instruction
        if i.opcode is O.GET_TUPLE_ELEMENT and i.operands[0] is param:
            v = init.operands[i.attrs["index"]]
        else:
            v = Instruction(names(i.name), i.opcode, i.shape, [outer_value(o) for o in i.operands], dict(i.attrs),
                            i.metadata, i.literal, None, i.line, i.column)
            new_outer.append(v)
        outside[id(i)] = v
        return v

    # Iterative post-order so long invariant chains do not recurse deeply.
    for h in hoist:
        stack = [(h, False)]
        while stack:
            node, done = stack.pop()
            if id(node) in outside:
                continue
            if done or node.opcode is O.GET_TUPLE_ELEMENT or not node.operands:
                outer_value(node)
                continue
            stack.append((node, True))
            stack.extend((o, False) for o in node.operands if id(o) not in outside)
    extra = [outside[id(h)] for h in hoist]
    state = init.shape.tuple_shapes
    assert state is not None, "a while loop's state is a tuple"
    new_state = Shape.tuple_of(list(state) + [e.shape for e in extra])
    new_init = Instruction(names(init.name), O.TUPLE, new_state, list(init.operands) + extra, {}, init.metadata)
    pos = comp.instructions.index(loop)
    comp.instructions[pos:pos] = new_outer + [new_init]
    loop.operands[0] = new_init
    loop.shape = new_state
    # Inside: the body and the condition take the wider state; hoisted values come from it.
    for c in (body, cond):
        c.parameters[0].shape = new_state
    body_param = body.parameters[0]
    passthrough = []
    for k, h in enumerate(hoist):
        g = Instruction(names(f"{h.name}_hoisted"), O.GET_TUPLE_ELEMENT, h.shape, [body_param], {"index": n + k},
                        h.metadata)
        body.instructions.append(g)
        replace_uses(body, h, g)
        passthrough.append(g)
    root = body.root
    body.root = Instruction(names(root.name), O.TUPLE, new_state, list(root.operands) + passthrough, {},
                            root.metadata)
    body.instructions.append(body.root)
    for c in (body, comp):
        topological_sort(c)
    return True


def while_loop_optimizations(module: Module) -> bool:
    """Constant sinking, then invariant code motion, for every while loop in the module."""
    changed = sink_constants(module)
    changed |= hoist_invariants(module)
    return changed
