"""Module -> GPU program: the CUDA source of every kernel plus the host program that runs them.

The host program is plain data, a list of steps: launch a kernel, copy bytes, call a library
(cuBLAS through CuPy for large dots), run a while loop or a conditional (each holding step lists
of its own). Every step names memory as a `Loc`: an argument, an output, an offset in the arena
(the buffer assignment's temporaries, allocated once per executable), in the constants (uploaded
once), or in scratch (loop states being built, a loop's predicate). Control flow is driven from
the host: a while loop reads its predicate back after every condition, as XLA:GPU does."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...hlo.ir import Computation, Instruction, Module
from ...hlo.opcodes import Opcode as O
from ...hlo.walk import control_flow_computations
from ...passes.buffers import BufferAssignment, align_up
from ...passes.fusion import PRESETS
from ..kernel_kinds import KernelKind, classify
from ..program_values import as_computation, leaves, nest, parameter_number, tuple_element
from . import ctype as C
from .ctype import Unsupported
from .elemental import Constants
from .kernels import KernelCode, define_kernel, define_split_reduction, part_types, split_parts, update_reads_operand

ALIGN = 256  # what cudaMalloc guarantees, so 16-byte vector loads are always aligned
LIBRARY_MIN_MACS = PRESETS["gpu"].library_min_macs  # smaller dots run as generated code (no cuBLAS call)
_VIEWS = (O.BITCAST, O.RESHAPE)


@dataclass(frozen=True)
class Loc:
    space: str  # "arg" | "out" | "arena" | "const" | "scratch"
    index: int  # which argument or output
    offset: int  # bytes

    def __str__(self) -> str:
        return f"{self.space}{self.index if self.space in ('arg', 'out') else ''}+{self.offset}"


@dataclass
class Launch:
    kernel: str
    args: list[Loc]


@dataclass
class Copy:
    dst: Loc
    src: Loc
    nbytes: int


@dataclass
class Dot:
    """A dot as a library call: out[B,M,N] = lhs (permuted to [B,M,K]) @ rhs (permuted to [B,K,N])."""

    hlo: str
    lhs: Loc
    rhs: Loc
    out: Loc
    lhs_dims: tuple
    rhs_dims: tuple
    lhs_perm: tuple
    rhs_perm: tuple
    bmkn: tuple
    dtype: str  # HLO element type of the result
    in_dtype: str


@dataclass
class While:
    hlo: str
    cond: list
    body: list
    pred: Loc
    back: list[Copy]  # the next state into the state


@dataclass
class Conditional:
    hlo: str
    index: Loc
    index_dtype: str
    branches: list[list]


@dataclass
class Program:
    name: str
    source: str  # the generated CUDA C, without the helper header
    kernels: dict[str, KernelCode]
    steps: list
    consts: bytes
    arena_bytes: int
    scratch_bytes: int
    in_specs: list[tuple[tuple[int, ...], np.dtype]]
    out_specs: list[tuple[tuple[int, ...], np.dtype]]
    index_type: str
    hlo_of_kernel: dict[str, str] = field(default_factory=dict)

    def kernel_count(self) -> int:
        return len(self.kernels)


def _cname(s: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in s)


class _Codegen:
    def __init__(self, module: Module, buffers: BufferAssignment, library_min_macs: int):
        self.hlo, self.buffers = module, buffers
        self.library_min_macs = library_min_macs
        self.consts = Constants()
        self.kernels: dict[str, KernelCode] = {}
        self._by_instr: dict[tuple[int, bool], str] = {}  # (instruction, in place) -> kernel
        self._split_by_instr: dict[int, tuple[str, str]] = {}  # instruction -> its two kernels
        self._offsets = {b.value: b.offset for b in buffers.buffers if b.kind == "temp"}
        self.const_blob = bytearray()
        self._const_locs: dict[int, Loc] = {}
        self.scratch = 0

    # -- memory --
    def scratch_loc(self, nbytes: int) -> Loc:
        loc = Loc("scratch", 0, self.scratch)
        self.scratch += align_up(max(nbytes, 1), ALIGN)
        return loc

    def const_loc(self, i: Instruction) -> Loc:
        if id(i) in self._const_locs:
            return self._const_locs[id(i)]
        if i.literal is None:
            raise Unsupported(f"constant '{i.name}' was elided ({{...}}); its value is unknown")
        data = np.ascontiguousarray(np.asarray(i.literal).astype(i.shape.element_type.np)).tobytes()
        loc = Loc("const", 0, len(self.const_blob))
        self.const_blob += data + b"\0" * (align_up(max(len(data), 1), ALIGN) - len(data))
        self._const_locs[id(i)] = loc
        return loc

    def temp(self, name: str) -> Loc:
        target = self.buffers.aliases.get(name, name)
        off = self._offsets.get(target)
        if off is None:
            raise Unsupported(f"no buffer assigned to {name}")
        return Loc("arena", 0, off)

    def dests(self, i: Instruction, dest) -> list[Loc]:
        out = []
        for j in range(len(i.shape.leaves())):
            loc = dest.get((id(i), j))
            if loc is None:
                loc = self.temp(i.name if not i.shape.is_tuple else f"{i.name}:{j}")
            out.append(loc)
        return out

    # -- computations --
    def emit(self, comp: Computation, params: list, outs: list[Loc]) -> list:
        steps: list = []
        vals: dict[int, object] = {}
        for p in comp.parameters:
            vals[id(p)] = params[parameter_number(p)]
        dest = self._root_destinations(comp, outs)
        for i in comp.instructions:
            op = i.opcode
            if op is O.PARAMETER:
                continue
            if op is O.CONSTANT:
                vals[id(i)] = self.const_loc(i)
            elif op is O.TUPLE:
                vals[id(i)] = [vals[id(o)] for o in i.operands]
            elif op is O.GET_TUPLE_ELEMENT:
                vals[id(i)] = tuple_element(vals[id(i.operands[0])], i.attrs["index"])
            elif (op in _VIEWS and not i.shape.is_tuple) or op is O.OPTIMIZATION_BARRIER:
                vals[id(i)] = vals[id(i.operands[0])]
            elif op is O.WHILE:
                vals[id(i)] = self._while(steps, i, vals, dest)
            elif op is O.CONDITIONAL:
                vals[id(i)] = self._conditional(steps, i, vals, dest)
            elif op is O.CALL:
                call_out = self.dests(i, dest)
                steps += self.emit(i.attrs["to_apply"], [vals[id(o)] for o in i.operands], call_out)
                vals[id(i)] = nest(i.shape, call_out)
            else:
                vals[id(i)] = self._kernel(steps, i, vals, dest)
        root_leaves = leaves(vals[id(comp.root)])
        for loc, out, shape in zip(root_leaves, outs, comp.root.shape.leaves()):
            if loc != out:
                steps.append(Copy(out, loc, shape.nbytes))
        return steps

    def _root_destinations(self, comp: Computation, outs: list[Loc]) -> dict[tuple[int, int], Loc]:
        """(instruction id, leaf) -> output Loc, for values that can be written straight there."""
        dest: dict[tuple[int, int], Loc] = {}
        pos = 0

        def visit(i: Instruction):
            nonlocal pos
            while i.opcode in _VIEWS and not i.shape.is_tuple:
                i = i.operands[0]
            if i.opcode is O.TUPLE:
                for o in i.operands:
                    visit(o)
                return
            if i.opcode is O.GET_TUPLE_ELEMENT and i.operands[0].opcode is O.TUPLE:
                visit(i.operands[0].operands[i.attrs["index"]])
                return
            for j in range(len(i.shape.leaves())):
                key = (id(i), j)
                if i.opcode not in (O.PARAMETER, O.CONSTANT, O.GET_TUPLE_ELEMENT) and key not in dest:
                    dest[key] = outs[pos]
                pos += 1

        visit(comp.root)
        return dest

    def _kernel(self, steps: list, i: Instruction, vals, dest) -> object:
        comp = i.attrs["calls"] if i.opcode is O.FUSION else as_computation(i)
        ins = [leaf for o in i.operands for leaf in leaves(vals[id(o)])]
        out = self.dests(i, dest)
        root = comp.root
        kind = classify(comp)  # as define_kernel classifies it; an update counts as in place until shown not to
        if kind is KernelKind.DOT and self._library_dot(root):
            steps.append(self._dot_step(i.name, root, ins, out[0]))
            return nest(i.shape, out)
        in_place = False
        scratch_out = None
        if kind is KernelKind.IN_PLACE_UPDATE and root.operands[0].opcode is O.PARAMETER:
            operand_loc = ins[parameter_number(root.operands[0])]
            if operand_loc == out[0]:
                if update_reads_operand(comp):
                    scratch_out = self.scratch_loc(root.shape.nbytes)  # full result elsewhere, then back
                else:
                    in_place = True
        if kind is KernelKind.SCATTER:  # the kernel updates copies of the operands
            for k, operand in enumerate(root.operands[:len(root.operands) // 2]):
                src = ins[parameter_number(operand)]
                if src != out[k]:
                    steps.append(Copy(out[k], src, operand.shape.nbytes))
                else:
                    in_place = True  # the buffer assignment gave it its operand's buffer
        parts = split_parts(comp) if kind is KernelKind.ROW_REDUCTION else 0
        if parts:
            first, second = self._split_codes(i, comp, parts)
            rows = next(x for x in comp.instructions if x.opcode is O.REDUCE).shape.leaves()[0].size
            tmp = [self.scratch_loc(rows * parts * 8) for _ in part_types(comp)]
            steps.append(Launch(first, ins + tmp))
            steps.append(Launch(second, ins + tmp + out))
            return nest(i.shape, out)
        name = self._kernel_code(i, comp, in_place)
        if scratch_out is not None:
            steps.append(Launch(name, ins + [scratch_out]))
            steps.append(Copy(out[0], scratch_out, root.shape.nbytes))
        else:
            steps.append(Launch(name, ins + out))
        return nest(i.shape, out)

    def _kernel_code(self, i: Instruction, comp: Computation, in_place: bool) -> str:
        key = (id(i), in_place)
        if key in self._by_instr:
            return self._by_instr[key]
        name = f"k{len(self.kernels)}_{_cname(i.name)}"[:80]
        self.kernels[name] = define_kernel(name, i.name, comp, self.consts, in_place=in_place)
        self._by_instr[key] = name
        return name

    def _split_codes(self, i: Instruction, comp: Computation, parts: int) -> tuple[str, str]:
        key = id(i)
        if key not in self._split_by_instr:
            name = f"k{len(self.kernels)}_{_cname(i.name)}"[:80]
            first, second = define_split_reduction(name, i.name, comp, self.consts, parts)
            self.kernels[first.name] = first
            self.kernels[second.name] = second
            self._split_by_instr[key] = (first.name, second.name)
        return self._split_by_instr[key]

    def _library_dot(self, d: Instruction) -> bool:
        if d.shape.element_type.name not in ("f16", "bf16", "f32", "f64"):
            return False
        if d.operands[0].shape.dtype != d.operands[1].shape.dtype:
            return False
        lc = d.attrs.get("lhs_contracting_dims", ())
        k = 1
        for x in lc:
            k *= d.operands[0].shape.dims[x]
        return d.shape.size * k >= self.library_min_macs

    def _dot_step(self, hlo: str, d: Instruction, ins: list[Loc], out: Loc) -> Dot:
        ls, rs = d.operands[0].shape.dims, d.operands[1].shape.dims
        lb, rb = d.attrs.get("lhs_batch_dims", ()), d.attrs.get("rhs_batch_dims", ())
        lc, rc = d.attrs.get("lhs_contracting_dims", ()), d.attrs.get("rhs_contracting_dims", ())
        lf = [x for x in range(len(ls)) if x not in lb and x not in lc]
        rf = [x for x in range(len(rs)) if x not in rb and x not in rc]

        def prod(dims, which):
            n = 1
            for x in which:
                n *= dims[x]
            return n

        bmkn = (prod(ls, lb), prod(ls, lf), prod(ls, lc), prod(rs, rf))
        return Dot(hlo, ins[0], ins[1], out, ls, rs, tuple(lb) + tuple(lf) + tuple(lc),
                   tuple(rb) + tuple(rc) + tuple(rf), bmkn, d.shape.element_type.name,
                   d.operands[0].shape.element_type.name)

    def _while(self, steps: list, i: Instruction, vals, dest) -> object:
        body, cond = i.attrs["body"], i.attrs["condition"]
        state = self.dests(i, dest)
        init = leaves(vals[id(i.operands[0])])
        shapes = i.shape.leaves()
        for s, src, sh in zip(state, init, shapes):
            if s != src:
                steps.append(Copy(s, src, sh.nbytes))
        nxt = [self.scratch_loc(sh.nbytes) for sh in shapes]
        pred = self.scratch_loc(1)
        nested = nest(i.shape, state)
        cond_steps = self.emit(cond, [nested], [pred])
        body_steps = self.emit(body, [nested], nxt)
        back = [Copy(s, t, sh.nbytes) for s, t, sh in zip(state, nxt, shapes)]
        steps.append(While(i.name, cond_steps, body_steps, pred, back))
        return nested

    def _conditional(self, steps: list, i: Instruction, vals, dest) -> object:
        index = i.operands[0]
        out = self.dests(i, dest)
        if "branch_computations" in i.attrs:
            branches = list(i.attrs["branch_computations"])
        else:
            branches = [i.attrs["true_computation"], i.attrs["false_computation"]]
        bsteps = [self.emit(b, [vals[id(i.operands[k + 1])]], out) for k, b in enumerate(branches)]
        steps.append(Conditional(i.name, leaves(vals[id(index)])[0], index.shape.element_type.name, bsteps))
        return nest(i.shape, out)

    def build(self) -> Program:
        entry = self.hlo.entry
        for p in entry.parameters:
            if p.shape.is_tuple:
                raise Unsupported(f"tuple-shaped parameter {p.name}")
        params = [Loc("arg", k, 0) for k in range(len(entry.parameters))]
        outs = [Loc("out", k, 0) for k in range(len(entry.root.shape.leaves()))]
        steps = self.emit(entry, params, outs)
        big = max([s.size for c in control_flow_computations(self.hlo) for i in c.instructions
                   for s in i.shape.leaves()] + [0])
        # 32-bit index arithmetic is cheaper; grid-stride loops step past the size by up to a grid.
        index_type = "int" if big < (1 << 31) - (1 << 24) else "long long"
        parts = [f"// xla_magic: {self.hlo.name}, {len(self.kernels)} kernels "
                 '(xm_device.cuh, the helper header, comes first)',
                 f"typedef {index_type} xm_i;"]
        if self.consts.tables:
            parts.append(self.consts.text())
        parts += [k.text for k in self.kernels.values()]
        return Program(
            self.hlo.name, "\n\n".join(parts) + "\n", self.kernels, steps, bytes(self.const_blob),
            self.buffers.arena_bytes, self.scratch,
            [(p.shape.dims, np.dtype(p.shape.element_type.np)) for p in entry.parameters],
            [(s.dims, np.dtype(s.element_type.np)) for s in entry.root.shape.leaves()], index_type,
            {k: v.hlo for k, v in self.kernels.items()})


def build_program(module: Module, buffers: BufferAssignment, library_min_macs: int = LIBRARY_MIN_MACS) -> Program:
    for c in control_flow_computations(module):
        for i in c.instructions:
            for s in i.shape.leaves():
                if s.dtype is not None and s.dtype.name != "token":
                    C.storage(s.dtype)  # Unsupported for element types without a CUDA type
    return _Codegen(module, buffers, library_min_macs).build()


def walk(steps: list):
    """Every step, nested ones included, in order."""
    for s in steps:
        yield s
        if isinstance(s, While):
            yield from walk(s.cond)
            yield from walk(s.body)
            yield from s.back
        elif isinstance(s, Conditional):
            for b in s.branches:
                yield from walk(b)
