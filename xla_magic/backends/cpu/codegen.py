"""Module -> one LLVM module: a function per control-flow computation, a function per kernel, and
one entry point `void xm_entry(ptr in0, .., ptr out0, ..)`, so a call from Python is one
foreign call. Split (`generate(..., target_key=...)`), each kernel is a unit of its own
(`units.kernel_unit`) and the module holds only the glue, which calls kernels by their symbols.

Every computation function is `void f(ptr arena, ptr in_leaf.., ptr out_leaf..)`: the entry,
while bodies and conditions, conditional branches. Inside it, instructions run in order; views
(bitcast, reshape, tuple, get-tuple-element) only pass pointers on; each kernel is a call; while
and conditional are real loops and branches. Temporaries live at the buffer assignment's offsets
in one arena that `xm_entry` allocates per call (on the stack when small), so concurrent calls
never share scratch memory."""
from __future__ import annotations

from dataclasses import dataclass, field

from llvmlite import ir

from ...hlo.ir import Computation, Instruction, Module
from ...hlo.opcodes import Opcode as O
from ...hlo.walk import control_flow_computations
from ...passes.buffers import ALIGN, BufferAssignment, align_up
from ..program_values import as_computation, leaves, nest, tuple_element
from . import irtypes as T
from .elemental import _global_constant
from .irtypes import I8, I64, PTR, VOID, Unsupported, i64
from .kernels import define_kernel, memcpy
from .units import Unit, kernel_unit

STACK_ARENA_LIMIT = 256 * 1024  # bytes; bigger arenas come from malloc
_VIEWS = (O.BITCAST, O.RESHAPE)


@dataclass
class Program:
    llvm_module: ir.Module
    entry: str
    n_inputs: int
    n_outputs: int
    kernels: dict[str, str] = field(default_factory=dict)  # kernel function -> HLO instruction
    units: dict[str, Unit] = field(default_factory=dict)  # split: kernel function -> its unit


def _n_leaves(shape) -> int:
    return len(shape.leaves())


def _library_key(i: Instruction) -> tuple | None:
    """What makes two dot or convolution kernels the same function (None for every other kernel)."""
    if i.opcode not in (O.DOT, O.CONVOLUTION):
        return None
    return (i.opcode, i.shape.without_layout(), tuple(o.shape.without_layout() for o in i.operands),
            tuple(sorted((k, repr(v)) for k, v in i.attrs.items())))


class _Codegen:
    def __init__(self, module: Module, buffers: BufferAssignment, target_key: str | None = None):
        self.hlo, self.buffers, self.target_key = module, buffers, target_key
        self.units: dict[str, Unit] = {}
        self.m = ir.Module(name=f"xla_magic.{module.name}")
        self.functions: dict[int, ir.Function] = {}
        self.kernels: dict[str, str] = {}
        self._offsets = {b.value: b.offset for b in buffers.buffers if b.kind == "temp"}
        self._names: set[str] = set()
        self._shared: dict[tuple, ir.Function] = {}

    def _fresh(self, base: str) -> str:
        base = "".join(c if c.isalnum() or c in "._" else "_" for c in base)
        name, n = base, 0
        while name in self._names:
            n += 1
            name = f"{base}.{n}"
        self._names.add(name)
        return name

    # -- computations --
    def declare(self, comp: Computation) -> ir.Function:
        n_in = sum(_n_leaves(p.shape) for p in comp.parameters)
        n_out = _n_leaves(comp.root.shape)
        fn = ir.Function(self.m, ir.FunctionType(VOID, [PTR] * (1 + n_in + n_out)),
                         name=self._fresh(f"comp.{comp.name}"))
        fn.linkage = "internal"
        self.functions[id(comp)] = fn
        return fn

    def define(self, comp: Computation) -> None:
        fn = self.functions[id(comp)]
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        self.entry_block = fn.entry_basic_block
        arena = fn.args[0]
        args = iter(fn.args[1:])
        vals: dict[int, object] = {}
        for p in comp.parameters:
            vals[id(p)] = nest(p.shape, [next(args) for _ in range(_n_leaves(p.shape))])
        outs = list(args)
        dest = self._root_destinations(comp, outs)
        pred_slot = None
        for i in comp.instructions:
            if i.opcode is O.PARAMETER:
                continue
            if i.opcode is O.CONSTANT:
                if i.literal is None:
                    raise Unsupported(f"constant '{i.name}' was elided ({{...}}); its value is unknown")
                vals[id(i)] = _global_constant(self.m, i)
            elif i.opcode is O.TUPLE:
                vals[id(i)] = [vals[id(o)] for o in i.operands]
            elif i.opcode is O.GET_TUPLE_ELEMENT:
                vals[id(i)] = tuple_element(vals[id(i.operands[0])], i.attrs["index"])
            elif (i.opcode in _VIEWS and not i.shape.is_tuple) or i.opcode is O.OPTIMIZATION_BARRIER:
                vals[id(i)] = vals[id(i.operands[0])]  # opt-barrier only orders the optimizer's rewrites
            elif i.opcode is O.WHILE:
                if pred_slot is None:
                    with b.goto_block(fn.entry_basic_block):
                        b.position_at_start(fn.entry_basic_block)
                        pred_slot = b.alloca(I8)
                vals[id(i)] = self._while(b, arena, i, vals, dest, pred_slot)
            elif i.opcode is O.CONDITIONAL:
                vals[id(i)] = self._conditional(b, arena, i, vals, dest)
            elif i.opcode is O.CALL:
                out = self._dests(b, arena, i, dest)
                ins = [leaf for o in i.operands for leaf in leaves(vals[id(o)])]
                b.call(self.functions[id(i.attrs["to_apply"])], [arena, *ins, *out])
                vals[id(i)] = nest(i.shape, out)
            else:
                vals[id(i)] = self._kernel(b, arena, i, vals, dest)
        # Results not written in place (parameters, constants, views of them, repeats) are copied.
        for k, (ptr, leaf) in enumerate(zip(outs, leaves(vals[id(comp.root)]))):
            if leaf is not ptr:
                memcpy(self.m, b, ptr, leaf, comp.root.shape.leaves()[k].nbytes)
        b.ret_void()

    def _root_destinations(self, comp: Computation, outs: list) -> dict[tuple[int, int], ir.Value]:
        """(instruction id, leaf) -> output pointer, for values that can be written straight there."""
        dest: dict[tuple[int, int], ir.Value] = {}
        pos = 0

        def visit(i: Instruction, leaf: int | None):
            nonlocal pos
            while i.opcode in _VIEWS and not i.shape.is_tuple:
                i = i.operands[0]
            if i.opcode is O.TUPLE:
                for o in i.operands:
                    visit(o, None)
                return
            if i.opcode is O.GET_TUPLE_ELEMENT and i.operands[0].opcode is O.TUPLE:
                visit(i.operands[0].operands[i.attrs["index"]], None)
                return
            n = _n_leaves(i.shape)
            for j in range(n):
                key = (id(i), j)
                if i.opcode not in (O.PARAMETER, O.CONSTANT, O.GET_TUPLE_ELEMENT) and key not in dest:
                    dest[key] = outs[pos]
                pos += 1

        visit(comp.root, None)
        return dest

    def _temp(self, b: ir.IRBuilder, arena: ir.Value, name: str) -> ir.Value:
        target = self.buffers.aliases.get(name, name)
        off = self._offsets.get(target)
        if off is None:
            raise Unsupported(f"no buffer assigned to {name}")
        return b.gep(arena, [i64(off)], inbounds=True, source_etype=I8)

    def _dests(self, b, arena, i: Instruction, dest) -> list[ir.Value]:
        n = _n_leaves(i.shape)
        out = []
        for j in range(n):
            p = dest.get((id(i), j))
            if p is None:
                p = self._temp(b, arena, i.name if not i.shape.is_tuple else f"{i.name}:{j}")
            out.append(p)
        return out

    def _kernel(self, b, arena, i: Instruction, vals, dest) -> object:
        # Library calls of the same shapes and dimension numbers share one function: LLVM spends
        # most of a module's compile time on their loops (an LSTM step has two identical dots).
        comp = i.attrs["calls"] if i.opcode is O.FUSION else as_computation(i)
        if self.target_key is not None:
            return self._unit_call(b, arena, i, comp, vals, dest)
        key = _library_key(i)
        kfn = self._shared.get(key) if key is not None else None
        if kfn is None:
            name = self._fresh(f"k.{i.name}")
            kfn = define_kernel(self.m, name, comp)
            self.kernels[name] = i.name
            if key is not None:
                self._shared[key] = kfn
        ins = [leaf for o in i.operands for leaf in leaves(vals[id(o)])]
        out = self._dests(b, arena, i, dest)
        b.call(kfn, ins + out)
        return nest(i.shape, out)

    def _unit_call(self, b, arena, i: Instruction, comp: Computation, vals, dest) -> object:
        """A call of the kernel's unit, declared here; equal kernels are one unit, one symbol and
        one kernel function in the report (named after the first instruction computed by it)."""
        assert self.target_key is not None
        unit, fty = kernel_unit(comp, self.target_key)
        kfn = self.m.globals.get(unit.symbol)
        if kfn is None:
            kfn = ir.Function(self.m, fty, unit.symbol)
            name = self._fresh(f"k.{i.name}")
            self.kernels[name] = i.name
            self.units[name] = unit
        ins = [leaf for o in i.operands for leaf in leaves(vals[id(o)])]
        out = self._dests(b, arena, i, dest)
        b.call(kfn, ins + out)
        return nest(i.shape, out)

    def _while(self, b, arena, i: Instruction, vals, dest, pred_slot) -> object:
        body, cond = i.attrs["body"], i.attrs["condition"]
        state = self._dests(b, arena, i, dest)
        init = leaves(vals[id(i.operands[0])])
        leaf_shapes = i.shape.leaves()
        for s, src, sh in zip(state, init, leaf_shapes):
            memcpy(self.m, b, s, src, sh.nbytes)
        total = sum(align_up(sh.nbytes) for sh in leaf_shapes)
        scratch = b.call(T.intrinsic(self.m, "malloc", PTR, [I64]), [i64(max(total, 1))])
        failed = b.icmp_unsigned("==", b.ptrtoint(scratch, I64), i64(0))
        with b.if_then(failed, likely=False):
            b.call(T.intrinsic(self.m, "abort", VOID, []), [])
        nxt, off = [], 0
        for sh in leaf_shapes:
            nxt.append(b.gep(scratch, [i64(off)], inbounds=True, source_etype=I8))
            off += align_up(sh.nbytes)
        fn = b.function
        head = fn.append_basic_block(f"{i.name}.cond")
        step = fn.append_basic_block(f"{i.name}.body")
        done = fn.append_basic_block(f"{i.name}.done")
        b.branch(head)
        b.position_at_end(head)
        b.call(self.functions[id(cond)], [arena, *state, pred_slot])
        go = b.icmp_unsigned("!=", b.load(pred_slot, typ=I8), ir.Constant(I8, 0))
        b.cbranch(go, step, done)
        b.position_at_end(step)
        b.call(self.functions[id(body)], [arena, *state, *nxt])
        for s, t, sh in zip(state, nxt, leaf_shapes):
            memcpy(self.m, b, s, t, sh.nbytes)
        b.branch(head)
        b.position_at_end(done)
        b.call(T.intrinsic(self.m, "free", VOID, [PTR]), [scratch])
        return nest(i.shape, state)

    def _conditional(self, b, arena, i: Instruction, vals, dest) -> object:
        index = i.operands[0]
        out = self._dests(b, arena, i, dest)
        ptr = leaves(vals[id(index)])[0]
        v = T.load(b, ptr, index.shape.element_type, i64(0))
        if "branch_computations" in i.attrs:
            branches = list(i.attrs["branch_computations"])
        else:
            branches = [i.attrs["true_computation"], i.attrs["false_computation"]]
        n = len(branches)
        if index.shape.element_type.kind == "pred":
            sel = b.select(v, i64(0), i64(1))
        else:
            w = b.sext(v, I64) if v.type.width < 64 else v
            bad = b.or_(b.icmp_signed("<", w, i64(0)), b.icmp_signed(">=", w, i64(n)))
            sel = b.select(bad, i64(n - 1), w)  # out of range runs the last branch
        fn = b.function
        done = fn.append_basic_block(f"{i.name}.done")
        blocks = [fn.append_basic_block(f"{i.name}.b{k}") for k in range(n)]
        sw = b.switch(sel, blocks[-1])
        for k, blk in enumerate(blocks):
            sw.add_case(i64(k), blk)
            b.position_at_end(blk)
            ins = leaves(vals[id(i.operands[k + 1])])
            b.call(self.functions[id(branches[k])], [arena, *ins, *out])
            b.branch(done)
        b.position_at_end(done)
        return nest(i.shape, out)

    # -- the whole program --
    def build(self) -> Program:
        comps = control_flow_computations(self.hlo)
        for c in comps:
            self.declare(c)
        for c in comps:
            self.define(c)
        entry = self.hlo.entry
        n_in = len(entry.parameters)
        n_out = _n_leaves(entry.root.shape)
        fn = ir.Function(self.m, ir.FunctionType(VOID, [PTR] * (n_in + n_out)), name="xm_entry")
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        size = max(self.buffers.arena_bytes, ALIGN)
        heap = size > STACK_ARENA_LIMIT
        if heap:
            arena = b.call(T.intrinsic(self.m, "aligned_alloc", PTR, [I64, I64]), [i64(ALIGN), i64(size)])
            failed = b.icmp_unsigned("==", b.ptrtoint(arena, I64), i64(0))
            with b.if_then(failed, likely=False):
                b.call(T.intrinsic(self.m, "abort", VOID, []), [])
        else:
            arena = b.alloca(ir.ArrayType(I8, size))
            arena.align = ALIGN
        b.call(self.functions[id(entry)], [arena, *fn.args])
        if heap:
            b.call(T.intrinsic(self.m, "free", VOID, [PTR]), [arena])
        b.ret_void()
        return Program(self.m, "xm_entry", n_in, n_out, self.kernels, self.units)


def generate(module: Module, buffers: BufferAssignment, target_key: str | None = None) -> Program:
    """The program as one LLVM module; with `target_key` (the target units are keyed for), the
    glue module and a unit per kernel."""
    return _Codegen(module, buffers, target_key).build()


__all__ = ["generate", "Program"]
