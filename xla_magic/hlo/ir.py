"""The HLO IR: plain dataclasses for instructions, computations and modules."""
from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy.typing as npt

from .attrs import COMP_ATTRS, COMP_LIST_ATTRS, Metadata, Raw, Referable
from .opcodes import Opcode
from .printer import module_to_text
from .shape import Shape


@dataclass(eq=False)
class Instruction(Referable):
    """One HLO instruction. Operands are the producing Instruction objects.

    `attrs` holds the attributes after the operand list, in text order, as typed values
    (see attrs.ATTR_KINDS); computation-valued ones hold Computation objects.
    `literal` is a constant's value (None when the text elided it as `{...}`).
    `line`/`column` locate the instruction in the text it was parsed from (0 when built)."""

    name: str
    opcode: Opcode
    shape: Shape
    operands: list[Instruction] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    metadata: Metadata | None = None
    literal: npt.NDArray[Any] | None = None
    parameter_number: int | None = None
    line: int = 0
    column: int = 0

    @property
    def called(self) -> list[Computation]:
        """Computations this instruction calls (to_apply, calls, body, branches, ...)."""
        out: list[Computation] = []
        for key, v in self.attrs.items():
            if key in COMP_ATTRS and isinstance(v, Computation):
                out.append(v)
            elif key in COMP_LIST_ATTRS and isinstance(v, tuple):
                out.extend(c for c in v if isinstance(c, Computation))
        return out

    @property
    def is_elided_constant(self) -> bool:
        return self.opcode is Opcode.CONSTANT and self.literal is None

    def key(self) -> tuple[object, ...]:
        """Everything that defines the instruction, with references by name (for equality)."""
        attrs: list[tuple[str, object]] = []
        for k, v in self.attrs.items():
            if isinstance(v, Computation):
                v = ("comp", v.name)
            elif isinstance(v, tuple) and v and isinstance(v[0], (Computation, Instruction)):
                v = ("refs", tuple(c.name for c in v))
            attrs.append((k, v))
        lit = None
        if self.literal is not None:
            lit = (self.literal.dtype.str, self.literal.shape, self.literal.tobytes())
        return (self.name, self.opcode, self.shape, tuple(o.name for o in self.operands), tuple(attrs),
                self.metadata, lit, self.parameter_number)

    def __repr__(self) -> str:
        ops = ", ".join(o.name for o in self.operands)
        return f"<{self.name} = {self.shape.to_text()} {self.opcode.value}({ops})>"


@dataclass(eq=False)
class Computation(Referable):
    """A named list of instructions; `instructions` is in definition order (operands first)."""

    name: str
    instructions: list[Instruction]
    root: Instruction
    is_entry: bool = False
    line: int = 0
    attrs: dict[str, Any] = field(default_factory=dict)  # e.g. execution_thread after the body

    @property
    def parameters(self) -> list[Instruction]:
        params = [i for i in self.instructions if i.opcode is Opcode.PARAMETER]
        return sorted(params, key=lambda i: cast(int, i.parameter_number))  # parameters have numbers

    @property
    def parameter_shapes(self) -> list[Shape]:
        return [p.shape for p in self.parameters]

    def instruction(self, name: str) -> Instruction:
        for i in self.instructions:
            if i.name == name:
                return i
        raise KeyError(name)

    def post_order(self) -> list[Instruction]:
        """Instructions reachable from the root plus all parameters, operands before users."""
        seen: set[int] = set()
        order: list[Instruction] = []
        roots = [self.root] + [i for i in self.instructions if i.opcode is Opcode.PARAMETER]
        for start in roots:
            stack = [(start, False)]
            while stack:
                node, done = stack.pop()
                if done:
                    order.append(node)
                    continue
                if id(node) in seen:
                    continue
                seen.add(id(node))
                stack.append((node, True))
                for op in reversed(node.operands):
                    if id(op) not in seen:
                        stack.append((op, False))
        return order

    def users(self) -> dict[int, list[Instruction]]:
        """id(instruction) -> the instructions that use it, in order."""
        out: dict[int, list[Instruction]] = {id(i): [] for i in self.instructions}
        for i in self.instructions:
            for op in i.operands:
                out.setdefault(id(op), []).append(i)
        return out

    def key(self) -> tuple[object, ...]:
        return (self.name, self.is_entry, self.root.name, tuple(sorted(self.attrs.items())),
                tuple(i.key() for i in self.instructions))

    def __repr__(self) -> str:
        return f"<Computation {self.name}: {len(self.instructions)} instructions>"


@dataclass
class DebugTables:
    """The FileNames / FunctionNames / FileLocations / StackFrames tables of optimized dumps."""

    file_names: dict[int, str] = field(default_factory=dict)
    function_names: dict[int, str] = field(default_factory=dict)
    file_locations: dict[int, dict[str, int]] = field(default_factory=dict)
    stack_frames: dict[int, dict[str, int]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.file_names or self.function_names or self.file_locations or self.stack_frames)

    def frame_location(self, frame_id: int) -> tuple[str, int, str] | None:
        """(file, line, function) of one stack frame, or None."""
        frame = self.stack_frames.get(frame_id)
        loc = self.file_locations.get(frame.get("file_location_id", -1)) if frame else None
        if loc is None:
            return None
        return (self.file_names.get(loc.get("file_name_id", -1), "?"), loc.get("line", 0),
                self.function_names.get(loc.get("function_name_id", -1), "?"))

    def stack(self, frame_id: int) -> list[tuple[str, int, str]]:
        """Innermost-first (file, line, function) frames; stops at a self-parent or a cycle."""
        out, seen = [], set()
        while frame_id in self.stack_frames and frame_id not in seen:
            seen.add(frame_id)
            loc = self.frame_location(frame_id)
            if loc:
                out.append(loc)
            frame_id = self.stack_frames[frame_id].get("parent_frame_id", 0)
        return out


@dataclass(eq=False)
class Module:
    """An HLO module: computations in text order (callees first), one of them the entry."""

    name: str
    computations: list[Computation]
    entry: Computation
    attrs: dict[str, Any] = field(default_factory=dict)  # header attributes, except the layout
    debug: DebugTables = field(default_factory=DebugTables)

    def computation(self, name: str) -> Computation:
        for c in self.computations:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_text(self, *, metadata: bool = True, debug_tables: bool = True, literal_limit: int | None = None) -> str:
        """XLA's text; with `literal_limit`, constants of more elements print as `{...}` (for reading)."""
        return module_to_text(self, metadata=metadata, debug_tables=debug_tables, literal_limit=literal_limit)

    def digest(self) -> str:
        """A hash of everything the text says, big constants by their bytes: as exact as hashing
        `to_text()`, without printing millions of values."""
        import hashlib

        limit = 16
        h = hashlib.sha256(self.to_text(literal_limit=limit).encode())
        for c in self.computations:
            for i in c.instructions:
                if i.literal is not None and i.literal.size > limit:
                    h.update(f"{i.name}:{i.literal.dtype.str}:{i.literal.shape}".encode())
                    h.update(i.literal.tobytes())
        return h.hexdigest()

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<Module {self.name}: {len(self.computations)} computations, entry {self.entry.name}>"

    def key(self) -> tuple[object, ...]:
        attrs = tuple((k, v.text if isinstance(v, Raw) else v) for k, v in self.attrs.items())
        return (self.name, attrs, tuple(c.key() for c in self.computations), repr(self.debug))

    def __eq__(self, other: object) -> bool:  # defining __eq__ leaves the class unhashable (it is mutable)
        return isinstance(other, Module) and self.key() == other.key()

    def source_location(self, instr: Instruction) -> tuple[str, int] | None:
        """(file, line) the instruction came from: metadata first, then the stack frame tables."""
        md = instr.metadata
        if md is None:
            return None
        if md.source_file is not None and md.source_line is not None:
            return (md.source_file, md.source_line)
        if md.stack_frame_id is not None:
            loc = self.debug.frame_location(md.stack_frame_id)
            if loc:
                return (loc[0], loc[1])
        return None


# --- editing helpers used by the passes ------------------------------------------------------

def topological_sort(comp: Computation) -> None:
    """Reorders `comp.instructions` so operands come first, keeping the existing order where it
    already is valid (Kahn's algorithm, stable). Unreachable instructions stay (DCE drops them)."""
    index = {id(i): n for n, i in enumerate(comp.instructions)}
    present = set(index)
    pending = {id(i): sum(1 for o in i.operands if id(o) in present) for i in comp.instructions}
    users: dict[int, list[Instruction]] = {k: [] for k in index}
    for i in comp.instructions:
        for o in i.operands:
            if id(o) in users:
                users[id(o)].append(i)
    ready = [(index[id(i)], id(i), i) for i in comp.instructions if pending[id(i)] == 0]
    heapq.heapify(ready)
    order: list[Instruction] = []
    while ready:
        _, _, i = heapq.heappop(ready)
        order.append(i)
        for u in users[id(i)]:
            pending[id(u)] -= 1
            if pending[id(u)] == 0:
                heapq.heappush(ready, (index[id(u)], id(u), u))
    if len(order) != len(comp.instructions):
        raise ValueError(f"computation '{comp.name}' has a cycle")
    comp.instructions = order


def replace_uses(comp: Computation, old: Instruction, new: Instruction) -> bool:
    """Points every use of `old` in `comp` (and the root) at `new`. True if anything changed."""
    changed = False
    for i in comp.instructions:
        if any(o is old for o in i.operands):
            i.operands = [new if o is old else o for o in i.operands]
            changed = True
    if comp.root is old:
        comp.root = new
        changed = True
    return changed



def forward_uses(instr: Instruction, forward: dict[int, Instruction]) -> None:
    """Points `instr`'s operands at their replacements in `forward` (old id -> new): a pass that
    replaces many instructions repoints each user as it reaches it, instead of scanning the
    computation once per replacement (`replace_uses`), which is quadratic on long programs."""
    if forward and any(id(o) in forward for o in instr.operands):
        instr.operands = [_forwarded(o, forward) for o in instr.operands]


def forward_all_uses(comp: Computation, forward: dict[int, Instruction]) -> None:
    """`forward_uses` for every instruction and the root: one linear pass."""
    if not forward:
        return
    for i in comp.instructions:
        forward_uses(i, forward)
    comp.root = _forwarded(comp.root, forward)


def _forwarded(i: Instruction, forward: dict[int, Instruction]) -> Instruction:
    while id(i) in forward:  # a replacement may itself have been replaced
        i = forward[id(i)]
    return i

class Names:
    """Module-unique names, XLA style (`add.7`); names already taken can be reserved."""

    def __init__(self, taken: Iterable[str] = ()):
        self.used: set[str] = set(taken)
        self.counter: dict[str, int] = {}

    def reserve(self, name: str) -> str:
        """`name` itself when free, else a fresh variant of it."""
        if name not in self.used:
            self.used.add(name)
            return name
        return self(name)

    def __call__(self, base: str) -> str:
        n = self.counter.get(base, 0)
        while True:
            n += 1
            name = f"{base}.{n}"
            if name not in self.used:
                self.counter[base] = n
                self.used.add(name)
                return name


class NameGen(Names):
    """Fresh names for what a pass adds to `module`: `add.7` from `add.3` or `add`."""

    def __init__(self, module: Module):
        super().__init__(c.name for c in module.computations)
        self.used.update(i.name for c in module.computations for i in c.instructions)

    def __call__(self, base: str) -> str:
        return super().__call__(base.rsplit(".", 1)[0] if base.rsplit(".", 1)[-1].isdigit() else base)


def clone_computation(comp: Computation, name: str | None = None,
                      comp_map: dict[int, Computation] | None = None) -> Computation:
    """A copy with new Instruction objects; called computations are mapped through comp_map."""
    mapping: dict[int, Instruction] = {}
    new_instrs = []
    for i in comp.instructions:
        attrs = {}
        for k, v in i.attrs.items():
            if comp_map is not None and isinstance(v, Computation):
                v = comp_map.get(id(v), v)
            elif comp_map is not None and isinstance(v, tuple) and v and isinstance(v[0], Computation):
                v = tuple(comp_map.get(id(c), c) for c in v)
            elif isinstance(v, tuple) and v and isinstance(v[0], Instruction):
                v = tuple(mapping.get(id(c), c) for c in v)
            attrs[k] = v
        c = Instruction(i.name, i.opcode, i.shape, [mapping[id(o)] for o in i.operands], attrs, i.metadata,
                        i.literal, i.parameter_number, i.line, i.column)
        mapping[id(i)] = c
        new_instrs.append(c)
    return Computation(name or comp.name, new_instrs, mapping[id(comp.root)], comp.is_entry, comp.line,
                       dict(comp.attrs))


def clone_module(module: Module) -> Module:
    """A deep copy (literals shared: they are never mutated in place)."""
    comp_map: dict[int, Computation] = {}
    comps = []
    for c in module.computations:  # callees come first in a parsed or printed module
        nc = clone_computation(c, comp_map=comp_map)
        comp_map[id(c)] = nc
        comps.append(nc)
    # Computations referenced before their definition (hand-built modules): map in a second sweep.
    for nc in comps:
        for i in nc.instructions:
            for k, v in i.attrs.items():
                if isinstance(v, Computation) and id(v) in comp_map:
                    i.attrs[k] = comp_map[id(v)]
                elif isinstance(v, tuple) and v and isinstance(v[0], Computation):
                    i.attrs[k] = tuple(comp_map.get(id(c), c) for c in v)
    debug = DebugTables(dict(module.debug.file_names), dict(module.debug.function_names),
                        dict(module.debug.file_locations), dict(module.debug.stack_frames))
    return Module(module.name, comps, comp_map[id(module.entry)], dict(module.attrs), debug)
