"""Buffer assignment: a schedule, liveness, and one arena in which temporaries whose lifetimes do
not overlap share bytes. Three steps per computation, as XLA's buffer assignment and heap
simulator do it:

1. `alias_sets`: which buffers each value names. Views (bitcast, reshape, get-tuple-element,
   tuple) name another buffer; a dynamic-update-slice or a scatter may write into its operand's
   buffer.
2. `live_ranges`: a buffer per array with the steps it lives over; an update writes in place when
   its operand is a temporary nobody reads afterwards, nor the update itself through another
   operand.
3. `pack`: best fit by decreasing size into one 64-byte-aligned arena.

Parameters are the caller's buffers and are never written; outputs get buffers of their own and
are never reused; constants are read-only data."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Literal

from ..hlo.ir import Computation, Instruction, Module
from ..hlo.opcodes import Opcode as O
from ..hlo.walk import control_flow_computations

ALIGN = 64  # bytes: a cache line, and what AVX-512 loads like


def align_up(n: int, to: int = ALIGN) -> int:
    """`n` rounded up to a multiple of `to` (the next slot start in an arena)."""
    return (n + to - 1) // to * to


BufferKind = Literal["temp", "output", "parameter", "constant"]


@dataclass
class Buffer:
    value: str  # the instruction (":k" for element k of a tuple-shaped one)
    size: int
    kind: BufferKind
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
    in_place: list[str] = field(default_factory=list)  # dynamic-update-slices and scatters that write in place
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


# --- step 1: alias sets ----------------------------------------------------------------------

@dataclass
class AliasSets:
    """Which buffers each value of one computation names. A view (bitcast or reshape of an array,
    get-tuple-element of a tuple instruction) names its source's buffer; a tuple names its
    elements' buffers; a dynamic-update-slice may write into its operand's buffer."""

    views: dict[int, Instruction] = field(default_factory=dict)  # view -> the value it names
    holders: dict[int, list[Instruction]] = field(default_factory=dict)  # value -> instructions owning its bytes
    returned: set[int] = field(default_factory=set)  # instructions the root returns (through views)
    updates: dict[int, Instruction] = field(default_factory=dict)  # dynamic-update-slice -> buffer it updates

    def source(self, i: Instruction) -> Instruction:
        """The instruction that owns the buffer `i` names, following views."""
        while id(i) in self.views:
            i = self.views[id(i)]
        return i


def _is_array_view(i: Instruction) -> bool:
    return i.opcode in (O.BITCAST, O.RESHAPE) and not i.operands[0].shape.is_tuple


def _returned(root: Instruction) -> set[int]:
    """What the root returns through tuples, bitcasts, reshapes and elements of tuples."""
    out: set[int] = set()
    stack = [root]
    while stack:
        i = stack.pop()
        if i.opcode in (O.TUPLE, O.BITCAST, O.RESHAPE):
            stack.extend(i.operands)
        elif i.opcode is O.GET_TUPLE_ELEMENT:
            if i.operands[0].opcode is O.TUPLE:
                stack.append(i.operands[0].operands[i.attrs["index"]])
        else:
            out.add(id(i))
    return out


def _in_place_operand(i: Instruction) -> Instruction | None:
    """The operand a dynamic-update-slice or a one-operand scatter (bare, or the root of a fusion)
    updates. A scatter reads its indices and updates while it writes: none of them may be the
    operand itself."""
    if i.opcode is O.DYNAMIC_UPDATE_SLICE:
        return i.operands[0]
    if i.opcode is O.SCATTER and not i.shape.is_tuple:
        return i.operands[0] if all(o is not i.operands[0] for o in i.operands[1:]) else None
    if i.opcode is O.FUSION and not i.shape.is_tuple:
        comp = i.attrs["calls"]
        root = comp.root
        if root.opcode not in (O.DYNAMIC_UPDATE_SLICE, O.SCATTER) or root.operands[0].opcode is not O.PARAMETER:
            return None
        p = root.operands[0]
        if root.opcode is O.SCATTER and any(o is p and not (x is root and k == 0)
                                            for x in comp.instructions for k, o in enumerate(x.operands)):
            return None
        operand: Instruction = i.operands[p.parameter_number]
        return operand
    return None


def alias_sets(comp: Computation) -> AliasSets:
    """Step 1: the views, what every value holds, what the root returns and the in-place candidates."""
    a = AliasSets(returned=_returned(comp.root))
    for i in comp.instructions:
        if _is_array_view(i):
            a.views[id(i)] = i.operands[0]
        elif i.opcode is O.GET_TUPLE_ELEMENT:
            if i.operands[0].opcode is O.TUPLE:
                a.views[id(i)] = i.operands[0].operands[i.attrs["index"]]
        elif i.opcode is not O.TUPLE:
            target = _in_place_operand(i)
            if target is not None:
                a.updates[id(i)] = target
    for i in comp.instructions:
        _holders(i, a)
    return a


def _holders(v: Instruction, a: AliasSets) -> list[Instruction]:
    """The instructions whose buffers `v` names (memoized in `a`; in program order the operands'
    are already known, and a module read with forward references still resolves)."""
    known = a.holders.get(id(v))
    if known is not None:
        return known
    if id(v) in a.views:
        h = _holders(a.views[id(v)], a)
    elif v.opcode is O.TUPLE:
        h = [x for e in v.operands for x in _holders(e, a)]
    elif v.opcode is O.GET_TUPLE_ELEMENT:
        h = _holders(v.operands[0], a)
    else:
        h = [v]
    a.holders[id(v)] = h
    return h


# --- step 2: live ranges ---------------------------------------------------------------------

@dataclass
class Liveness:
    """One computation's buffers, each with its live range over the schedule (offsets unset), and
    the names of values that use another value's buffer."""

    buffers: list[Buffer] = field(default_factory=list)  # in definition order
    aliases: dict[str, str] = field(default_factory=dict)
    in_place: list[str] = field(default_factory=list)

    @property
    def temps(self) -> list[Buffer]:
        return [b for b in self.buffers if b.kind == "temp"]


def _leaf_names(i: Instruction) -> list[str]:
    n = len(i.shape.leaves())
    return [i.name] if not i.shape.is_tuple else [f"{i.name}:{k}" for k in range(n)]


def _kind(i: Instruction, is_entry: bool, aliases: AliasSets) -> BufferKind:
    if i.opcode is O.PARAMETER:
        return "parameter"
    if i.opcode is O.CONSTANT:
        return "constant"
    if is_entry and id(i) in aliases.returned:
        return "output"
    return "temp"


def _reads_through_another_operand(i: Instruction, target: Instruction, aliases: AliasSets) -> bool:
    """Whether an operand of `i` other than the updated one names the updated buffer (a view of
    it): writing in place would change what the update reads."""
    owner = aliases.source(target)
    return any(o is not target and any(h is owner for h in aliases.holders[id(o)]) for o in i.operands)


def live_ranges(comp: Computation, aliases: AliasSets, is_entry: bool) -> Liveness:
    """Step 2: a buffer per array (per element of a tuple-shaped instruction), live from its
    definition to its last read through any alias; what the computation returns lives to its end.
    A dynamic-update-slice takes over its operand's temporary when that dies there (same size)."""
    order = comp.instructions
    step = {id(i): n for n, i in enumerate(order)}
    last_use = dict(step)
    for i in order:
        for o in i.operands:
            for h in aliases.holders[id(o)]:
                last_use[id(h)] = max(last_use[id(h)], step[id(i)])
    for h in aliases.holders[id(comp.root)]:
        last_use[id(h)] = len(order)
    out = Liveness()
    temps: dict[str, Buffer] = {}
    for i in order:
        if id(i) in aliases.views or i.opcode is O.TUPLE:
            out.aliases[i.name] = aliases.source(i).name
            continue
        if i.opcode is O.GET_TUPLE_ELEMENT:
            out.aliases[i.name] = f"{i.operands[0].name}:{i.attrs['index']}"
            continue
        kind = _kind(i, is_entry, aliases)
        for name, leaf in zip(_leaf_names(i), i.shape.leaves()):
            b = Buffer(name, leaf.nbytes, kind, step[id(i)], last_use[id(i)], computation=comp.name)
            target = aliases.updates.get(id(i)) if kind == "temp" else None
            if target is not None:
                tb = temps.get(aliases.source(target).name)
                if tb is not None and tb.end == step[id(i)] and tb.size == b.size and \
                        not _reads_through_another_operand(i, target, aliases):
                    tb.end = b.end
                    out.aliases[name] = tb.value
                    out.in_place.append(i.name)
                    continue
            out.buffers.append(b)
            if kind == "temp":
                temps.setdefault(name, b)
    return out


# --- step 3: packing -------------------------------------------------------------------------

@dataclass
class Packing:
    offsets: list[int]  # one per live range, in the order given
    end: int  # the first byte after the arena's last buffer


def pack(ranges: Sequence[Buffer], base: int = 0) -> Packing:
    """Step 3, XLA's heap simulator with best fit: biggest first (earlier start breaks ties), each
    buffer takes the lowest 64-byte-aligned offset from `base` that no buffer live at the same
    time covers."""
    offsets = [-1] * len(ranges)
    placed: list[tuple[int, int, int, int]] = []  # (offset, aligned size, start, end)
    for n in sorted(range(len(ranges)), key=lambda k: (-ranges[k].size, ranges[k].start)):
        b = ranges[n]
        size = align_up(b.size)
        offset = base
        overlapping = sorted((p for p in placed if p[2] <= b.end and b.start <= p[3]), key=lambda p: p[0])
        for p_offset, p_size, _, _ in overlapping:
            if offset + size <= p_offset:
                break
            offset = max(offset, p_offset + p_size)
        offsets[n] = offset
        placed.append((offset, size, b.start, b.end))
    return Packing(offsets, max((o + s for o, s, _, _ in placed), default=base))


def assign_computation(comp: Computation, is_entry: bool, base: int, out: BufferAssignment) -> int:
    """Assigns one computation's buffers; its arena starts at `base`. Returns the arena's end."""
    liveness = live_ranges(comp, alias_sets(comp), is_entry)
    temps = liveness.temps
    packing = pack(temps, base)
    for b, offset in zip(temps, packing.offsets):
        b.offset = offset
    out.buffers.extend(liveness.buffers)
    out.aliases.update(liveness.aliases)
    out.in_place.extend(liveness.in_place)
    out.output_bytes += sum(b.size for b in liveness.buffers if b.kind == "output")
    if is_entry:
        n = len(comp.instructions)
        out.schedule = [i.name for i in comp.instructions]
        live = [0] * n
        for b in liveness.buffers:
            if b.kind in ("temp", "output"):
                for s in range(b.start, min(b.end, n - 1) + 1):
                    live[s] += b.size
        out.live_bytes = live
    return packing.end


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
    # Each value adds its bytes where it starts and takes them off after its last use; the running
    # sum is the live bytes (per value per step would be quadratic in a long program).
    delta = [0] * (len(order) + 1)
    for i in order:
        if i.opcode in (O.PARAMETER, O.CONSTANT, O.TUPLE, O.GET_TUPLE_ELEMENT, O.BITCAST):
            continue
        delta[step[id(i)]] += i.shape.nbytes
        delta[last[id(i)] + 1] -= i.shape.nbytes
    return list(accumulate(delta[:-1]))
