"""Fusion: which instructions share a kernel, and why the others do not.

Three steps, each a plain function over one computation:

1. producer-consumer fusion (XLA's InstructionFusion): walking from the root towards the
   parameters, each consumer pulls in its producers. A producer whose every user is in the
   kernel moves in; one with users elsewhere is duplicated into the kernel only when it is
   cheap (never exp, log, tanh, divide, dot or reduce); otherwise it stays a kernel input
   and the reason is written down.
2. multi-output fusion: a kernel whose result is also used elsewhere merges with a consumer
   kernel of the same iteration space, and sibling kernels that read the same input merge,
   each only when no path through a third kernel would make a cycle.
3. row fusion (a target parameter): a reduction shares its kernel with the elementwise work
   before and after it along the same rows, so softmax and layernorm become one kernel each.
   Inside such a kernel the reduced dimensions form the inner loop; values computed per row
   (the max, the sum, the mean) are read back only through broadcasts along that row.

Every merge and every kernel keeps to the contract with the code generators (`emittable.py`): a
merge that would break it is refused, and a kernel that still would is not made.

The result is the FusionPlan (plain data: every kernel, every reason) and a module in which
every kernel of two or more instructions is a `fusion` instruction calling a fused
computation, as XLA prints it.
"""
from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ..hlo.ir import Computation, Instruction, Module, NameGen, topological_sort
from ..hlo.opcodes import ELEMENTWISE, TRANSCENDENTAL
from ..hlo.opcodes import Opcode as O
from ..hlo.shape import Shape
from ..hlo.walk import control_flow_computations
from .cost import instruction_cost
from .emittable import other_row_reader, problem
from .fusion_graph import OrderedDag


@dataclass(frozen=True)
class FusionConfig:
    """Target parameters of fusion; `CPU` and `GPU` are the presets."""

    target: str
    library_calls: frozenset[O] = frozenset({O.DOT, O.CONVOLUTION, O.SORT, O.CUSTOM_CALL, O.TOPK, O.FFT,
                                          O.CHOLESKY, O.TRIANGULAR_SOLVE})
    max_instructions: int = 400  # per kernel: bounds compile time of one loop body
    max_inputs: int = 64
    duplicate_cheap: bool = True
    multi_output: bool = True
    row_fusion: bool = True
    large_constant: int = 256  # elements; bigger constants stay buffers instead of being copied in
    # Dots with fewer multiply-adds than this are generated code, not library calls (a GPU's cuBLAS
    # call costs more than a small dot computed in a kernel).
    library_min_macs: int = 0


CPU = FusionConfig("cpu")
# GPU: smaller kernels (register pressure, NVRTC time), fewer inputs (kernel parameter space).
GPU = FusionConfig("gpu", max_instructions=200, max_inputs=48, library_min_macs=1 << 20)
INTERPRETER = FusionConfig("interpreter")
PRESETS = {"cpu": CPU, "gpu": GPU, "interpreter": INTERPRETER}

# Ops a kernel's loop body can compute element by element from its inputs.
_INDEXING = frozenset({O.BROADCAST, O.RESHAPE, O.BITCAST, O.TRANSPOSE, O.SLICE, O.IOTA, O.CONCATENATE, O.PAD,
                       O.REVERSE, O.DYNAMIC_SLICE, O.GATHER, O.CONSTANT})
_LOOP_OPS = (ELEMENTWISE - {O.STOCHASTIC_CONVERT}) | _INDEXING
# Ops that can end a kernel, taking their producers in, but are not pulled into a consumer.
_ROOT_ONLY = frozenset({O.REDUCE, O.REDUCE_WINDOW, O.DYNAMIC_UPDATE_SLICE, O.SCATTER})
# Never computed twice, whatever the saving in memory traffic.
_EXPENSIVE = TRANSCENDENTAL | frozenset({O.DIVIDE, O.REMAINDER, O.DOT, O.CONVOLUTION, O.REDUCE, O.REDUCE_WINDOW,
                                         O.GATHER, O.SCATTER, O.SORT, O.CUSTOM_CALL, O.FUSION})
_NOT_KERNELS = frozenset({O.PARAMETER, O.CONSTANT, O.TUPLE, O.GET_TUPLE_ELEMENT, O.BITCAST, O.WHILE,
                          O.CONDITIONAL, O.CALL})


def is_cheap(i: Instruction) -> bool:
    """Cheap enough to compute once per consumer kernel."""
    if i.opcode in _EXPENSIVE:
        return False
    return i.opcode in _LOOP_OPS


# --- the plan as data ------------------------------------------------------------------------

# "row": a reduction with its producers and consumers; "single": one unfused instruction.
KernelKind = Literal["loop", "reduction", "row", "window", "in-place", "scatter", "library", "single"]


@dataclass
class Kernel:
    name: str
    computation: str  # the computation the kernel runs in (entry, or a loop body)
    kind: KernelKind
    root: str
    instructions: list[str]  # in order; duplicated cheap producers are listed too
    inputs: list[str]
    outputs: list[str]
    bytes_read: int = 0
    bytes_written: int = 0
    flops: int = 0
    transcendentals: int = 0
    source_lines: list[tuple[str, int]] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)


@dataclass
class FusionPlan:
    target: str
    kernels: list[Kernel] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # unfused producer -> why it stayed apart

    @property
    def num_kernels(self) -> int:
        return len(self.kernels)

    def kernel(self, name: str) -> Kernel:
        for k in self.kernels:
            if k.name == name:
                return k
        raise KeyError(name)

    def summary(self) -> str:
        n = len(self.kernels)
        lines = [f"{n} kernel{'s' if n != 1 else ''} on {self.target}"]
        for k in self.kernels:
            lines.append(f"  {k.name} ({k.kind}): {len(k.instructions)} ops, {len(k.inputs)} in, "
                         f"{len(k.outputs)} out, {k.bytes_read + k.bytes_written} bytes, {k.flops} flops")
        for p, why in self.reasons.items():
            lines.append(f"  {p} stayed apart: {why}")
        return "\n".join(lines)


# --- grouping --------------------------------------------------------------------------------

Dims = tuple[int, ...]
_Node = tuple[str, int]  # ("g", group id) or ("i", id of an unfused instruction)
_Edges = dict[_Node, set[_Node]]  # producer -> consumers


class _Group:
    __slots__ = ("id", "members", "dups", "root")

    def __init__(self, gid: int, root: Instruction):
        self.id, self.root = gid, root
        self.members: list[Instruction] = [root]  # owned instructions
        self.dups: list[Instruction] = []  # cheap producers copied in (still owned elsewhere or nowhere)

    def all(self) -> list[Instruction]:
        return self.members + self.dups


class _Planner:
    def __init__(self, comp: Computation, cfg: FusionConfig, reasons: dict[str, str]):
        self.comp, self.cfg, self.reasons = comp, cfg, reasons
        self.users = comp.users()
        self.order = {id(i): n for n, i in enumerate(comp.instructions)}
        self.owner: dict[int, _Group] = {}  # instruction -> the group that owns it
        self.groups: list[_Group] = []
        # Multi-output fusion's state: the groups not merged away, which groups hold a copy of
        # each instruction, and the graph of groups.
        self.alive: dict[int, _Group] = {}
        self.dup_holders: dict[int, set[int]] = {}
        self.absorbed_by: dict[int, int] = {}  # merged-away group id -> the group that absorbed it
        self.readers: dict[int, list[int]] = {}  # see _reader_groups
        self.touching: dict[int, set[int]] = {}  # see _touching_groups
        self.graph: OrderedDag[_Node] = OrderedDag([], {}, {})
        self.candidates_examined = 0  # merge attempts (the tests read it: it must stay near-linear)

    # -- step 1 --
    def producer_consumer(self) -> None:
        for c in reversed(self.comp.instructions):
            if id(c) in self.owner or not self._can_root(c):
                continue
            g = _Group(len(self.groups), c)
            self.groups.append(g)
            self.owner[id(c)] = g
            self._pull_producers(g)

    def _can_root(self, i: Instruction) -> bool:
        if i.shape.is_tuple and i.opcode is not O.REDUCE:
            return False
        if i.opcode is O.CONSTANT:
            return False
        return i.opcode in _LOOP_OPS or i.opcode in _ROOT_ONLY

    def _pull_producers(self, g: _Group) -> None:
        work = deque(self._pullable_operands(g.root))
        dup_ids: set[int] = set()
        while work:
            p = work.popleft()
            if self.owner.get(id(p)) is g or id(p) in dup_ids:
                continue
            why = self._why_not(p, g)
            if why is None:
                self.owner[id(p)] = g
                g.members.append(p)
                work.extend(self._pullable_operands(p))
                self.reasons.pop(p.name, None)
            elif why == "duplicate":
                g.dups.append(p)
                dup_ids.add(id(p))
                work.extend(self._pullable_operands(p))
            else:
                self.reasons.setdefault(p.name, why)

    def _pullable_operands(self, i: Instruction) -> list[Instruction]:
        if i.opcode is O.DYNAMIC_UPDATE_SLICE:
            return i.operands[1:]  # the buffer updated in place stays a buffer
        if i.opcode is O.SCATTER:
            return []
        return list(i.operands)

    def _why_not(self, p: Instruction, g: _Group) -> str | None:
        """None: move p into g. "duplicate": copy it in. Otherwise the reason it stays apart."""
        op = p.opcode
        if op is O.PARAMETER:
            return "a parameter is an input buffer"
        if op in self.cfg.library_calls:
            return f"{op.value} is a library call on {self.cfg.target}"
        if op in (O.WHILE, O.CONDITIONAL, O.CALL):
            return f"{op.value} is control flow"
        if op is O.CONSTANT:
            if p.literal is not None and p.shape.size <= self.cfg.large_constant:
                return "duplicate"
            return "a large constant stays a buffer"
        if op in _ROOT_ONLY:
            return f"{op.value} produces its whole result before others can read it"
        if g.root.opcode is O.DYNAMIC_UPDATE_SLICE and p is g.root.operands[0]:
            return "the buffer updated in place stays a buffer"
        if op not in _LOOP_OPS or p.shape.is_tuple:
            return f"{op.value} is not fusible"
        if len(g.members) + len(g.dups) >= self.cfg.max_instructions:
            return f"the kernel reached the size limit of {self.cfg.max_instructions} instructions"
        # Users only copied into this kernel still need p from wherever they end up: they count as outside.
        outside = [u for u in self.users.get(id(p), []) if self.owner.get(id(u)) is not g]
        if p is self.comp.root:
            outside.append(p)
        if not outside and id(p) not in self.owner:
            return None
        if id(p) in self.owner:  # already inside another kernel
            if is_cheap(p) and self.cfg.duplicate_cheap:
                return "duplicate"
            return f"{op.value} is already computed in another kernel"
        if self.cfg.duplicate_cheap and is_cheap(p):
            return "duplicate"
        n = len(outside)
        if op in _EXPENSIVE:
            return f"{op.value} would be computed {n + 1} times (it has {n} other user{'s' if n > 1 else ''})"
        return f"{op.value} has {n} user{'s' if n > 1 else ''} outside this kernel"

    # -- steps 2 and 3 --
    def space(self, g: _Group) -> tuple[Dims, Dims]:
        """(full dims, reduced axes): the loop nest a kernel runs."""
        reds = [i for i in g.members if i.opcode is O.REDUCE]
        if reds:
            r = reds[0]
            return (r.operands[0].shape.dims, tuple(sorted(r.attrs["dimensions"])))
        return (g.root.shape.dims, ())

    def _only_reduce_kind(self, g: _Group) -> bool:
        reds = [i for i in g.members if i.opcode in _ROOT_ONLY]
        return all(i.opcode is O.REDUCE and not i.shape.is_tuple for i in reds)

    def compatible(self, a: _Group, b: _Group) -> bool:
        if not (self._only_reduce_kind(a) and self._only_reduce_kind(b)):
            return False
        (fa, ra), (fb, rb) = self.space(a), self.space(b)
        if ra and rb:
            return fa == fb and ra == rb and self.cfg.row_fusion
        if not ra and not rb:
            return fa == fb
        if not self.cfg.row_fusion:
            return False
        (f, r), loop = ((fa, ra), fb) if ra else ((fb, rb), fa)
        outer = tuple(d for k, d in enumerate(f) if k not in r)
        return loop == f or loop == outer

    def group_graph_edges(self) -> _Edges:
        """Node ids: groups are ('g', id), unfused instructions ('i', id). Edges producer -> consumer."""
        edges: _Edges = {}

        def node(i: Instruction) -> _Node:
            g = self.owner.get(id(i))
            return ("g", g.id) if g is not None else ("i", id(i))

        for i in self.comp.instructions:
            n = node(i)
            for o in i.operands:
                m = node(o)
                if m != n:
                    edges.setdefault(m, set()).add(n)
        for g in self.groups:
            for d in g.dups:
                for o in d.operands:
                    m = node(o)
                    if m != ("g", g.id):
                        edges.setdefault(m, set()).add(("g", g.id))
        return edges

    def _row_local(self, merged: list[Instruction], f: Dims, r: Dims) -> bool:
        """In a row kernel, a value computed per row (shape of f without r) may reach full-row
        instructions only through broadcasts along the row (kept dims in order) and elementwise ops."""
        return other_row_reader(sorted(merged, key=lambda x: self.order[id(x)]), f, r) is None

    def merge(self, a: _Group, b: _Group) -> None:
        """b absorbs a."""
        self._hold_dups(a, False)
        self._hold_dups(b, False)
        for i in a.members:
            self.owner[id(i)] = b
        b.members.extend(a.members)
        present = {id(x) for x in b.members} | {id(x) for x in b.dups}
        for d in a.dups:
            if id(d) not in present:
                present.add(id(d))
                b.dups.append(d)
        b.dups = [d for d in b.dups if self.owner.get(id(d)) is not b]
        # the root is the last instruction in program order
        b.root = max(a.root, b.root, key=lambda x: self.order[id(x)])
        del self.alive[a.id]
        self.absorbed_by[a.id] = b.id
        self._hold_dups(b, True)

    def drop_settled_reasons(self) -> None:
        """A producer that ended up in one kernel with all its users was fused after all."""
        for i in self.comp.instructions:
            g = self.owner.get(id(i))
            if i.name in self.reasons and g is not None and \
                    all(self.owner.get(id(u)) is g for u in self.users.get(id(i), [])):
                del self.reasons[i.name]

    def _consumers(self, a: _Group) -> list[_Group]:
        out: list[_Group] = []
        for i in a.members:
            for u in self.users.get(id(i), []):
                g = self.owner.get(id(u))
                if g is not None and g is not a and g not in out:
                    out.append(g)
        return out

    def _siblings(self, a: _Group) -> list[_Group]:
        # Each operand's users are read once: a value read by every step of a long chain (a bias)
        # would otherwise make this quadratic in the chain's length.
        out: list[_Group] = []
        seen_operands: set[int] = set()
        seen = {a.id}
        for i in a.all():
            for o in i.operands:
                if o.opcode is O.CONSTANT or id(o) in seen_operands:
                    continue
                seen_operands.add(id(o))
                for gid in self._reader_groups(o):
                    g = self._find(gid)
                    if g.id not in seen:
                        seen.add(g.id)
                        out.append(g)
        return out

    def _find(self, gid: int) -> _Group:
        """The group that now holds what group `gid` held when multi-output fusion began."""
        root = gid
        while root in self.absorbed_by:
            root = self.absorbed_by[root]
        while gid != root:  # shorten the path for the next lookup
            nxt = self.absorbed_by[gid]
            self.absorbed_by[gid] = root
            gid = nxt
        return self.alive[root]

    def _reader_groups(self, o: Instruction) -> list[int]:
        """The groups owning a user of o when multi-output fusion began, in the order of the users:
        ownership only moves between groups by merges, so `_find` maps them to today's groups in
        the same order of first appearance, without walking all of o's users again."""
        out = self.readers.get(id(o))
        if out is None:
            gids = (g.id for u in self.users.get(id(o), []) if (g := self.owner.get(id(u))) is not None)
            out = self.readers[id(o)] = list(dict.fromkeys(gids))
        return out

    def multi_output(self) -> None:
        """Producer-consumer merges first (they remove a round trip through memory), then siblings
        (they share reads)."""
        if not self.cfg.multi_output:
            return
        self.alive = {g.id: g for g in self.groups}
        self.dup_holders = {}
        for g in self.groups:
            self._hold_dups(g, True)
        nodes = [self._node(i) for i in self.comp.instructions]
        priority: dict[_Node, int] = {}
        for n, i in zip(nodes, self.comp.instructions):
            if n[0] == "i" or i is self.owner[id(i)].root:
                priority[n] = self.order[id(i)]
        self.graph = OrderedDag(priority, self.group_graph_edges(), priority)
        for candidates_of, affected_by in ((self._consumers, self._producers_of),
                                           (self._siblings, self._sibling_of)):
            self._merge_to_fixed_point(candidates_of, affected_by)
        self.groups = list(self.alive.values())

    def _node(self, i: Instruction) -> _Node:
        g = self.owner.get(id(i))
        return ("g", g.id) if g is not None else ("i", id(i))

    def _hold_dups(self, g: _Group, held: bool) -> None:
        for d in g.dups:
            holders = self.dup_holders.setdefault(id(d), set())
            if held:
                holders.add(g.id)
            else:
                holders.discard(g.id)

    def _producers_of(self, b: _Group) -> set[int]:
        """Groups that have b among their consumers."""
        return {g.id for i in b.members for o in i.operands if (g := self.owner.get(id(o))) is not None}

    def _sibling_of(self, b: _Group) -> set[int]:
        """Groups that have b among their siblings: they read (in a member or a copy) a value b's
        members read."""
        out: set[int] = set()
        seen: set[int] = set()
        for i in b.members:
            for o in i.operands:
                if o.opcode is O.CONSTANT or id(o) in seen:
                    continue
                seen.add(id(o))
                out.update(self._find(gid).id for gid in self._touching_groups(o))
        return out

    def _touching_groups(self, o: Instruction) -> set[int]:
        """The groups owning or copying a user of o when multi-output fusion began (a copy moves
        with its group, or leaves it when the group comes to own the instruction)."""
        out = self.touching.get(id(o))
        if out is None:
            out = self.touching[id(o)] = set(self._reader_groups(o))
            for u in self.users.get(id(o), []):
                out.update(self.dup_holders.get(id(u), ()))
        return out

    def _merge_to_fixed_point(self, candidates_of: Callable[[_Group], list[_Group]],
                              affected_by: Callable[[_Group], set[int]]) -> None:
        """Merges until none is left, trying the groups in program order of their roots and
        always the earliest that may merge. A group that found no partner finds none later unless
        a merge changed its candidates (a merge only adds paths between other groups), so only
        the merged group and those that had one of the two among their candidates are tried
        again."""
        queue = [(self.order[id(g.root)], g.id) for g in self.alive.values()]
        heapq.heapify(queue)
        pending = set(self.alive)
        while queue:
            key, gid = heapq.heappop(queue)
            a = self.alive.get(gid)
            if a is None or gid not in pending or self.order[id(a.root)] != key:
                continue
            pending.discard(gid)
            for b in candidates_of(a):
                self.candidates_examined += 1
                if self._try_merge(a, b):
                    for h in affected_by(b) | {b.id}:
                        if h in self.alive and h not in pending:
                            pending.add(h)
                            heapq.heappush(queue, (self.order[id(self.alive[h].root)], h))
                        elif h == b.id:
                            heapq.heappush(queue, (self.order[id(b.root)], h))
                    break

    def _try_merge(self, a: _Group, b: _Group) -> bool:
        if len(a.members) + len(a.dups) + len(b.members) + len(b.dups) > self.cfg.max_instructions:
            return False
        if not self.compatible(a, b):
            return False
        na, nb = ("g", a.id), ("g", b.id)
        if self.graph.path_through_third(na, nb) or self.graph.path_through_third(nb, na):
            self.reasons.setdefault(a.root.name, f"fusing with {b.root.name} would create a cycle")
            return False
        merged = a.members + b.members
        (fa, ra), (fb, rb) = self.space(a), self.space(b)
        f, r = (fa, ra) if ra else (fb, rb)
        if r and not self._row_local(merged + a.dups + b.dups, f, r):
            return False
        if self._merged_problem(merged, a.dups + b.dups, {a.id, b.id}) is not None:
            return False
        self.graph.contract(na, nb)
        self.merge(a, b)
        return True

    def _read_outside(self, i: Instruction, ids: set[int], pair: set[int]) -> bool:
        """Is i read outside the instructions `ids` of the groups `pair`: by an instruction there
        or by a copy of a cheap producer in another group?"""
        for u in self.users.get(id(i), []):
            if id(u) not in ids or not self.dup_holders.get(id(u), set()) <= pair:
                return True
        return False

    def _merged_problem(self, merged: list[Instruction], dups: list[Instruction], pair: set[int]) -> str | None:
        """The contract with the code generators, on the kernel a merge would make: its outputs are
        the members read outside it (checked again when kernels are made)."""
        ids = {id(i) for i in merged}
        body = sorted(merged + [d for d in dups if id(d) not in ids], key=lambda x: self.order[id(x)])
        outs = [i for i in merged if i is self.comp.root or self._read_outside(i, ids, pair)]
        root = max(merged, key=lambda x: self.order[id(x)])
        if not any(o is root for o in outs):
            outs.append(root)
        return problem(body, outs)


def _squeeze(dims: Dims) -> Dims:
    return tuple(d for d in dims if d != 1)


# --- turning groups into fusion instructions -------------------------------------------------

def _kernel_kind(g: _Group, planner: _Planner) -> KernelKind:
    ops = {i.opcode for i in g.members}
    if O.REDUCE in ops:
        return "row" if any(i.opcode is not O.REDUCE and i.shape.dims == planner.space(g)[0] and
                            any(planner.owner.get(id(o)) is g and o.opcode is O.REDUCE for o in _ancestors(i, g))
                            for i in g.members) else "reduction"
    if O.REDUCE_WINDOW in ops:
        return "window"
    if O.DYNAMIC_UPDATE_SLICE in ops:
        return "in-place"
    if O.SCATTER in ops:
        return "scatter"
    return "loop"


def _ancestors(i: Instruction, g: _Group) -> list[Instruction]:
    ids = {id(x) for x in g.all()}
    out: list[Instruction] = []
    stack = list(i.operands)
    seen: set[int] = set()
    while stack:
        o = stack.pop()
        if id(o) in seen or id(o) not in ids:
            continue
        seen.add(id(o))
        out.append(o)
        stack.extend(o.operands)
    return out


_XLA_KIND: dict[KernelKind, str] = {"loop": "kLoop", "reduction": "kInput", "row": "kInput", "window": "kLoop",
                                    "in-place": "kLoop", "scatter": "kInput"}


def _materialize(module: Module, comp: Computation, planner: _Planner, names: NameGen, plan: FusionPlan,
                 comp_name_gen: Callable[[], str]) -> bool:
    changed = False
    order = planner.order
    new_comps: list[Computation] = []
    # Every value read across a kernel boundary: by another kernel's body (its own members or the
    # cheap producers it copied in), by an unfused instruction, or as the computation's result.
    needed: set[int] = {id(comp.root)}
    taken_over: dict[int, Instruction] = {}  # instruction id -> the fusion output that now holds it
    # group id -> (members, ids of the body, body in program order, inputs)
    layout: dict[int, tuple[list[Instruction], set[int], list[Instruction], list[Instruction]]] = {}
    removed: set[int] = set()  # members of the kernels made: they leave the computation
    added: list[Instruction] = []  # the fusions made and their get-tuple-elements
    fusion_readers: dict[int, list[Instruction]] = {}  # value -> the fusions made that read it
    for g in planner.groups:
        members = sorted(g.members, key=lambda x: order[id(x)])
        body_ids = {id(i) for i in members} | {id(d) for d in g.dups}
        body = sorted(members + g.dups, key=lambda x: order.get(id(x), -1))
        inputs: list[Instruction] = []
        input_ids: set[int] = set()
        for i in body:
            for o in i.operands:
                if id(o) not in body_ids and id(o) not in input_ids:
                    input_ids.add(id(o))
                    inputs.append(o)
                    needed.add(id(o))
        layout[g.id] = (members, body_ids, body, inputs)
    for i in comp.instructions:
        if id(i) not in planner.owner:
            needed.update(id(o) for o in i.operands)
    for g in planner.groups:
        members, body_ids, body, _ = layout[g.id]
        # Inputs again: a value an earlier kernel took over is now read from that kernel's output
        # (copies of its cheap producers in this body still name the original instruction).
        inputs = []
        input_ids = set()
        for i in body:
            for o in i.operands:
                o = taken_over.get(id(o), o)
                if id(o) not in body_ids and id(o) not in input_ids:
                    input_ids.add(id(o))
                    inputs.append(o)
        outputs = [i for i in members if id(i) in needed] or [g.root]
        kind = _kernel_kind(g, planner)
        real_ops = [i for i in body if i.opcode is not O.CONSTANT]
        if len(real_ops) <= 1 and len(outputs) == 1 and not g.dups:
            continue  # a single op stays as it is: it is its own kernel
        if len(inputs) > planner.cfg.max_inputs:
            continue
        # The contract with the code generators: a kernel no backend can emit is not made; its
        # instructions stay kernels of their own.
        why = problem(body, outputs)
        if why is not None:
            planner.reasons.setdefault(g.root.name, f"no kernel can hold this fusion: {why}")
            continue
        # The fused computation.
        fname = comp_name_gen()
        mapping: dict[int, Instruction] = {}
        params = []
        for k, o in enumerate(inputs):
            p = Instruction(names(f"param_{k}"), O.PARAMETER, o.shape, [], {}, None, None, k)
            mapping[id(o)] = p
            params.append(p)
        for old, new in taken_over.items():
            if id(new) in mapping:
                mapping[old] = mapping[id(new)]
        fused = []
        for i in body:
            # Owned instructions keep their names (they leave the parent); copies get fresh ones.
            name = i.name if planner.owner.get(id(i)) is g else names(i.name)
            c = Instruction(name, i.opcode, i.shape, [mapping[id(o)] for o in i.operands], dict(i.attrs),
                            i.metadata, i.literal, None, i.line, i.column)
            mapping[id(i)] = c
            fused.append(c)
        if len(outputs) == 1:
            root = mapping[id(outputs[0])]
            fshape = outputs[0].shape
        else:
            fshape = Shape.tuple_of([o.shape for o in outputs])
            root = Instruction(names("tuple"), O.TUPLE, fshape, [mapping[id(o)] for o in outputs])
            fused.append(root)
        fcomp = Computation(fname, params + fused, root)
        new_comps.append(fcomp)
        label = "_".join(dict.fromkeys(i.opcode.value.replace("-", "_") for i in members if
                                       i.opcode is not O.CONSTANT))
        label = "_".join(label.split("_")[:2]) if label.count("_") > 1 else label
        meta = g.root.metadata
        fusion = Instruction(names(f"{label}_fusion"), O.FUSION, fshape, list(inputs),
                             {"kind": _XLA_KIND[kind], "calls": fcomp}, meta, None, None, g.root.line,
                             g.root.column)
        # Rewire: uses of outputs outside the kernel read the fusion (through get-tuple-element).
        repl: dict[int, Instruction] = {}
        extra: list[Instruction] = []
        if len(outputs) == 1:
            repl[id(outputs[0])] = fusion
        else:
            for k, o in enumerate(outputs):
                gte = Instruction(names(f"{o.name}_out"), O.GET_TUPLE_ELEMENT, o.shape, [fusion], {"index": k},
                                  o.metadata)
                repl[id(o)] = gte
                extra.append(gte)
        taken_over.update(repl)
        # Only the readers of an output change: its users that are still in the computation
        # (not moved into a kernel, this one included) and the fusions made so far that read it.
        owned = {id(i) for i in members}
        removed |= owned
        for o in outputs:
            for i in planner.users.get(id(o), []) + fusion_readers.get(id(o), []):
                if id(i) not in removed:
                    i.operands = [repl.get(id(x), x) for x in i.operands]
        for o in inputs:
            fusion_readers.setdefault(id(o), []).append(fusion)
        if id(comp.root) in repl:
            comp.root = repl[id(comp.root)]
        added += [fusion, *extra]
        order[id(fusion)] = order[id(g.root)]
        for e in extra:
            order[id(e)] = order[id(g.root)]
        plan.kernels.append(_describe(module, comp, g, fusion, fcomp, inputs, outputs, kind))
        changed = True
    # Remove duplicated producers nobody uses any more; keep order valid.
    if changed:
        comp.instructions = [i for i in comp.instructions if id(i) not in removed] + added
        topological_sort(comp)
        idx = module.computations.index(comp)
        module.computations[idx:idx] = new_comps
    return changed


# --- describing kernels ----------------------------------------------------------------------

def _describe(module: Module, comp: Computation, g: _Group, fusion: Instruction, fcomp: Computation,
              inputs: list[Instruction], outputs: list[Instruction], kind: KernelKind) -> Kernel:
    body = [i for i in fcomp.instructions if i.opcode is not O.PARAMETER]
    flops = trans = 0
    lines: list[tuple[str, int]] = []
    for i in body:
        f, t = instruction_cost(i)
        flops, trans = flops + f, trans + t
        loc = module.source_location(i)
        if loc and loc not in lines:
            lines.append(loc)
    return Kernel(
        name=fusion.name, computation=comp.name, kind=kind, root=g.root.name,
        instructions=[i.name for i in body if i.opcode is not O.TUPLE],
        inputs=[i.name for i in inputs], outputs=[o.name for o in outputs],
        bytes_read=sum(i.shape.nbytes for i in inputs), bytes_written=sum(o.shape.nbytes for o in outputs),
        flops=flops, transcendentals=trans, source_lines=lines, duplicated=[d.name for d in g.dups])


def _describe_single(module: Module, comp: Computation, i: Instruction, kind: KernelKind) -> Kernel:
    f, t = instruction_cost(i)
    loc = module.source_location(i)
    operands = [o for o in i.operands]
    return Kernel(i.name, comp.name, kind, i.name, [i.name], [o.name for o in operands], [i.name],
                  sum(o.shape.nbytes for o in operands), i.shape.nbytes, f, t, [loc] if loc else [])


# --- the pass --------------------------------------------------------------------------------

def fuse(module: Module, config: FusionConfig = CPU) -> tuple[bool, FusionPlan]:
    plan = FusionPlan(config.target)
    names = NameGen(module)
    counter = [0]
    existing = {c.name for c in module.computations}

    def comp_name() -> str:
        while True:
            counter[0] += 1
            n = f"fused_computation.{counter[0]}"
            if n not in existing:
                existing.add(n)
                return n

    changed = False
    for comp in control_flow_computations(module):
        planner = _Planner(comp, config, plan.reasons)
        planner.producer_consumer()
        planner.multi_output()
        planner.drop_settled_reasons()
        changed |= _materialize(module, comp, planner, names, plan, comp_name)
        # Everything else that runs is a kernel of its own.
        fused_names = {k.name for k in plan.kernels}
        for i in comp.instructions:
            if i.opcode in _NOT_KERNELS or i.opcode is O.FUSION and i.name in fused_names:
                continue
            kind: KernelKind = "library" if i.opcode in config.library_calls else "single"
            plan.kernels.append(_describe_single(module, comp, i, kind))
    # Reasons only for producers that really stayed apart.
    present = {i.name for c in module.computations for i in c.instructions if i.opcode is not O.PARAMETER}
    plan.reasons = {k: v for k, v in plan.reasons.items() if k in present}
    return changed, plan


def count_kernels(module: Module) -> int:
    """Kernels a module launches: fusions plus every other instruction that does work, in the entry
    and in the computations it runs as control flow."""
    return sum(1 for c in control_flow_computations(module) for i in c.instructions if i.opcode not in _NOT_KERNELS)
