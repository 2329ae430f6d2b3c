"""Buffer assignment: a schedule, liveness, and one arena in which temporaries whose lifetimes do
not overlap share bytes (XLA's heap simulator, best fit by decreasing size).

Parameters are the caller's buffers and are never written; outputs get buffers of their own and
are never reused; constants are read-only data. Views (bitcast, reshape, get-tuple-element,
tuple) name another buffer; a dynamic-update-slice writes in place into its operand's buffer
when that buffer is a temporary nobody reads afterwards."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..hlo.ir import Computation, Instruction, Module
from ..hlo.opcodes import Opcode as O
from ..hlo.walk import control_flow_computations

ALIGN = 64  # bytes: a cache line, and what AVX-512 loads like


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass
class Buffer:
    value: str  # the instruction (":k" for element k of a tuple-shaped one)
    size: int
    kind: str  # "temp" | "output" | "parameter" | "constant"
    start: int  # schedule step where it is defined
    end: int  # last step that reads it
    offset: int = -1  # in the arena, for temporaries
    computation: str = ""


@dataclass
class BufferAssignment:
    buffers: list[Buffer] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)  # value -> value whose buffer it uses
    arena_bytes: int = 0  # every temporary, reused where lifetimes allow
    output_bytes: int = 0
    schedule: list[str] = field(default_factory=list)  # the entry's instructions in run order
    live_bytes: list[int] = field(default_factory=list)  # temporaries + outputs live at each step
    in_place: list[str] = field(default_factory=list)  # dynamic-update-slices that write in place
    # The same program run one op at a time (the unoptimized module, every value materialized):
    interpreter_live_bytes: list[int] = field(default_factory=list)

    @property
    def interpreter_peak_bytes(self) -> int:
        return max(self.interpreter_live_bytes, default=0)

    @property
    def peak_temp_bytes(self) -> int:
        return self.arena_bytes

    def buffer(self, value: str) -> Buffer:
        value = self.aliases.get(value, value)
        for b in self.buffers:
            if b.value == value:
                return b
        raise KeyError(value)

    def summary(self) -> str:
        temps = [b for b in self.buffers if b.kind == "temp"]
        return (f"{len(temps)} temporaries in a {self.arena_bytes}-byte arena "
                f"(they would take {sum(b.size for b in temps)} bytes unshared), "
                f"{self.output_bytes} bytes of outputs, {len(self.in_place)} in-place updates; "
                f"one op at a time the peak is {self.interpreter_peak_bytes} bytes")


_VIEWS = frozenset({O.BITCAST, O.RESHAPE, O.GET_TUPLE_ELEMENT, O.TUPLE})


def _leaf_names(i: Instruction) -> list[str]:
    n = len(i.shape.leaves())
    return [i.name] if not i.shape.is_tuple else [f"{i.name}:{k}" for k in range(n)]


def _in_place_operand(i: Instruction) -> Instruction | None:
    """The operand a dynamic-update-slice (bare, or the root of an in-place fusion) updates."""
    if i.opcode is O.DYNAMIC_UPDATE_SLICE:
        return i.operands[0]
    if i.opcode is O.FUSION and not i.shape.is_tuple:
        root = i.attrs["calls"].root
        if root.opcode is O.DYNAMIC_UPDATE_SLICE and root.operands[0].opcode is O.PARAMETER:
            return i.operands[root.operands[0].parameter_number]
    return None


def assign_computation(comp: Computation, is_entry: bool, base: int, out: BufferAssignment) -> int:
    """Assigns one computation's buffers; its arena starts at `base`. Returns the arena's end."""
    order = comp.instructions
    step = {id(i): n for n, i in enumerate(order)}
    root_leaves = set()
    # What the root returns (through views) are outputs.
    stack = [comp.root]
    while stack:
        i = stack.pop()
        if i.opcode in (O.TUPLE, O.BITCAST, O.RESHAPE) or (i.opcode is O.GET_TUPLE_ELEMENT and
                                                           i.operands[0].opcode is O.TUPLE):
            stack.extend(i.operands if i.opcode is not O.GET_TUPLE_ELEMENT else
                         [i.operands[0].operands[i.attrs["index"]]])
        elif i.opcode is not O.GET_TUPLE_ELEMENT:
            root_leaves.add(id(i))
    last_use = {id(i): step[id(i)] for i in order}
    # A view keeps what it names alive.
    source: dict[int, Instruction] = {}

    def src(i: Instruction) -> Instruction:
        while id(i) in source:
            i = source[id(i)]
        return i

    for i in order:
        if i.opcode in (O.BITCAST, O.RESHAPE) and not i.operands[0].shape.is_tuple:
            source[id(i)] = i.operands[0]
        elif i.opcode is O.GET_TUPLE_ELEMENT and i.operands[0].opcode is O.TUPLE:
            source[id(i)] = i.operands[0].operands[i.attrs["index"]]
    memo: dict[int, list[Instruction]] = {}

    def holders(v: Instruction) -> list[Instruction]:
        """The instructions whose buffers value `v` names (through views, tuples and their elements)."""
        if id(v) in memo:
            return memo[id(v)]
        if v.opcode in (O.BITCAST, O.RESHAPE) and not v.operands[0].shape.is_tuple:
            r = holders(v.operands[0])
        elif v.opcode is O.TUPLE:
            r = [h for e in v.operands for h in holders(e)]
        elif v.opcode is O.GET_TUPLE_ELEMENT:
            t = v.operands[0]
            r = holders(t.operands[v.attrs["index"]]) if t.opcode is O.TUPLE else holders(t)
        else:
            r = [v]
        memo[id(v)] = r
        return r

    for i in order:
        for o in i.operands:
            for h in holders(o):
                last_use[id(h)] = max(last_use[id(h)], step[id(i)])
    for h in holders(comp.root):  # what the computation returns lives to its end
        last_use[id(h)] = len(order)
    placed: list[Buffer] = []
    temps: list[Buffer] = []
    for i in order:
        if id(i) in source or i.opcode is O.TUPLE:
            out.aliases[i.name] = src(i).name if id(i) in source else i.name
            continue
        if i.opcode is O.GET_TUPLE_ELEMENT:
            out.aliases[i.name] = f"{i.operands[0].name}:{i.attrs['index']}"
            continue
        leaves = i.shape.leaves()
        for name, leaf in zip(_leaf_names(i), leaves):
            if i.opcode is O.PARAMETER:
                kind = "parameter"
            elif i.opcode is O.CONSTANT:
                kind = "constant"
            elif is_entry and id(i) in root_leaves:
                kind = "output"
            else:
                kind = "temp"
            b = Buffer(name, leaf.nbytes, kind, step[id(i)], last_use[id(i)], computation=comp.name)
            out.buffers.append(b)
            if kind == "temp":
                # In place: the update writes into its operand's buffer when that dies here.
                target = _in_place_operand(i)
                if target is not None:
                    t = src(target)
                    tb = next((x for x in temps if x.value == t.name), None)
                    if tb is not None and tb.end == step[id(i)] and tb.size == b.size:
                        tb.end = b.end
                        out.aliases[name] = tb.value
                        out.in_place.append(i.name)
                        out.buffers.pop()
                        continue
                temps.append(b)
            elif kind == "output":
                out.output_bytes += b.size
    # Best fit, biggest first: each temporary takes the lowest offset free during its lifetime.
    for b in sorted(temps, key=lambda x: (-x.size, x.start)):
        overlapping = sorted((p for p in placed if p.start <= b.end and b.start <= p.end), key=lambda p: p.offset)
        offset = base
        for p in overlapping:
            if offset + _align(b.size) <= p.offset:
                break
            offset = max(offset, p.offset + _align(p.size))
        b.offset = offset
        placed.append(b)
    top = max((b.offset + _align(b.size) for b in placed), default=base)
    if is_entry:
        out.schedule = [i.name for i in order]
        live = [0] * len(order)
        for b in temps + [b for b in out.buffers if b.kind == "output" and b.computation == comp.name]:
            for s in range(b.start, min(b.end, len(order) - 1) + 1):
                live[s] += b.size
        out.live_bytes = live
    return top


def assign_buffers(module: Module) -> BufferAssignment:
    """The entry's arena first; loop bodies and branches get arenas after it (their temporaries
    live while the entry's values are still in use)."""
    out = BufferAssignment()
    top = assign_computation(module.entry, True, 0, out)
    for comp in control_flow_computations(module)[1:]:
        top = assign_computation(comp, False, top, out)
    out.arena_bytes = top
    return out


def interpreter_live_bytes(module: Module) -> list[int]:
    """Bytes of intermediate values held at each step when the module runs one op at a time
    (every value that is computed, from its definition to its last use; outputs to the end)."""
    comp = module.entry
    order = comp.instructions
    step = {id(i): n for n, i in enumerate(order)}
    last = {id(i): step[id(i)] for i in order}
    for i in order:
        for o in i.operands:
            last[id(o)] = max(last[id(o)], step[id(i)])
    stack = [comp.root]
    while stack:
        i = stack.pop()
        last[id(i)] = len(order) - 1
        if i.opcode in (O.TUPLE, O.GET_TUPLE_ELEMENT, O.BITCAST):
            stack.extend(i.operands)
    live = [0] * len(order)
    for i in order:
        if i.opcode in (O.PARAMETER, O.CONSTANT, O.TUPLE, O.GET_TUPLE_ELEMENT, O.BITCAST):
            continue
        for s in range(step[id(i)], last[id(i)] + 1):
            live[s] += i.shape.nbytes
    return live
