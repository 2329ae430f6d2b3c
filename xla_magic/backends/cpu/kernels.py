"""Kernels: one LLVM function per kernel of the fusion plan, `void k(ptr in0, .., ptr out0, ..)`.

A kernel is described by a computation (a fused computation, or one instruction wrapped in a
computation of its own); its parameters are the inputs and its root's leaves the outputs. Its
kind (`kernel_kinds.classify`, shared with the gpu backend) picks the emitter:

- loop: elementwise and indexing work, one loop nest over the output;
- row reduction (with its producers and consumers along rows): for each kept index, one inner
  loop per phase of dependent reductions, then one that writes the row's outputs;
- column reduction (reduced dims not innermost): the same phases over the whole input in
  memory order, with an array of accumulators over the kept indices;
  both reductions are a `_Reduction` (state over the shared `ReductionSpace`) and a schedule;
- window (reduce-window), in-place update (dynamic-update-slice), scatter, top-k;
- select-and-scatter (one loop over the windows, choosing then scattering);
- host calls: custom calls run in Python by the evaluator (`host_calls.py`);
- library calls: dot, convolution, sort (`library.py`)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from llvmlite import ir

from ...hlo.attrs import WindowDim
from ...hlo.dtypes import DType
from ...hlo.ir import Computation, Instruction
from ...hlo.opcodes import Opcode as O
from ..indexing import scatter_target, update_starts
from ..kernel_kinds import KernelKind, classify, not_in_loops
from ..kernel_shapes import (
    Placement,
    ReductionSpace,
    ResultReader,
    reduction_space,
    scatter_dims,
    simple_reducer,
)
from . import irtypes as T
from .elemental import Elemental, linear
from .irtypes import I1, I64, PTR, VOID, Unsupported, i64
from .scalar import Emitter, emit_scalar_computation
from .smallfloat import FORMATS as SMALL_FLOATS

Body = Callable[[list], None]


# --- loops ---------------------------------------------------------------------------------------

def for_range(b: ir.IRBuilder, n, body: Callable[[ir.Value], None], name: str = "i",
              start: ir.Value | None = None) -> None:
    """`for i in range(start, n)`: n an int or an i64 value; a loop with a value bound or a start
    is guarded against running zero times."""
    fn = b.function
    if isinstance(n, int):
        if n <= 0:
            return
        n = i64(n)
        guarded = start is not None
    else:
        guarded = True
    first = start if start is not None else i64(0)
    pre = b.block
    loop = fn.append_basic_block(f"{name}.loop")
    after = fn.append_basic_block(f"{name}.end")
    if guarded:
        b.cbranch(b.icmp_signed("<", first, n), loop, after)
    else:
        b.branch(loop)
    b.position_at_end(loop)
    i = b.phi(I64, name=name)
    i.add_incoming(first, pre)
    body(i)
    nxt = b.add(i, i64(1))
    i.add_incoming(nxt, b.block)
    b.cbranch(b.icmp_signed("<", nxt, n), loop, after)
    b.position_at_end(after)


def loop_nest(b: ir.IRBuilder, dims, body: Body, name: str = "d", outer: tuple | None = None) -> None:
    """Nested loops over `dims`, outermost first; `body(index)` runs in the innermost. `outer`
    = (lo, hi) i64 values restricts the outermost loop to one thread's share."""
    if any(d == 0 for d in dims):
        return

    def level(k: int, index: list) -> None:
        if k == len(dims):
            body(index)
            return
        if k == 0 and outer is not None:
            for_range(b, outer[1], lambda i: level(1, [i]), f"{name}0", start=outer[0])
        else:
            for_range(b, dims[k], lambda i: level(k + 1, index + [i]), f"{name}{k}")

    level(0, [])


def if_then(b: ir.IRBuilder, cond: ir.Value, then: Callable[[], None]) -> None:
    with b.if_then(cond):
        then()


# --- the kernel function ---------------------------------------------------------------------

class Kernel:
    """One kernel function. With `extent`, its outermost loop is split across threads: the body
    takes (lo, hi) and `finish()` wraps it in a function that runs the shares in parallel."""

    def __init__(self, module: ir.Module, name: str, comp: Computation, in_place: bool = False,
                 extent: int | None = None):
        self.module, self.comp, self.name, self.extent = module, comp, name, extent
        self.params = comp.parameters
        root = comp.root
        self.outputs = list(root.operands) if root.opcode is O.TUPLE else [root]
        # A tuple-shaped output (a variadic reduce, top-k) writes one pointer per leaf.
        self.first_slot, n_slots = [], 0
        for o in self.outputs:
            self.first_slot.append(n_slots)
            n_slots += len(o.shape.leaves())
        n = len(self.params) + n_slots
        self.n_ptrs = n
        extra = [I64, I64] if extent is not None else []
        self.fn = ir.Function(module, ir.FunctionType(VOID, [PTR] * n + extra),
                              name=name if extent is None else f"{name}.body")
        self.fn.linkage = "internal"
        self.fn.attributes.add("noinline")  # each kernel stays a function of its own in the assembly
        self.outer = (self.fn.args[n], self.fn.args[n + 1]) if extent is not None else None
        for k, a in enumerate(self.fn.args[:n]):
            a.name = f"in{k}" if k < len(self.params) else f"out{k - len(self.params)}"
            if not in_place:
                a.add_attribute("noalias")
        self.entry = self.fn.append_basic_block("entry")
        self.b = ir.IRBuilder(self.entry)
        self.em = Emitter(module, self.b)
        self.in_ptrs = {id(p): self.fn.args[k] for k, p in enumerate(self.params)}
        self.out_ptrs = self.fn.args[len(self.params):n]

    def alloca(self, t: ir.Type, n: int = 1, name: str = "") -> ir.Value:
        """Stack slots live in the entry block, where LLVM promotes them to registers."""
        with self.b.goto_block(self.entry):
            self.b.position_at_start(self.entry)
            return self.b.alloca(t, size=None if n == 1 else i64(n), name=name)

    def elemental(self, special=None) -> Elemental:
        return Elemental(self.em, self.in_ptrs, special)

    def finish(self) -> ir.Function:
        self.b.ret_void()
        if self.extent is None:
            return self.fn
        return parallel_wrapper(self.module, self.name, self.fn, self.n_ptrs, self.extent, threads())


# --- threads ---------------------------------------------------------------------------------

PARALLEL_MIN_ELEMENTS = 1 << 18  # below this a kernel runs on one thread: starting one costs ~20 µs
PARALLEL_MIN_WORK = 1 << 21  # elements x instructions


_FIXED_THREADS: list[int] = []  # set by fixed_threads(); the innermost setting is last


@contextmanager
def fixed_threads(n: int) -> Iterator[None]:
    """Generate code for exactly `n` threads, not this host's count (ahead-of-time code runs elsewhere)."""
    _FIXED_THREADS.append(n)
    try:
        yield
    finally:
        _FIXED_THREADS.pop()


def threads() -> int:
    """How many threads a parallel kernel splits its work across: the host's cores, at most 16."""
    import os

    if _FIXED_THREADS:
        return _FIXED_THREADS[-1]
    try:
        return max(1, min(len(os.sched_getaffinity(0)), 16))
    except AttributeError:
        return max(1, min(os.cpu_count() or 1, 16))


def parallel_extent(dims, n_instructions: int) -> int | None:
    """The outermost extent to split across threads, or None when one thread is better."""
    size = 1
    for d in dims:
        size *= d
    if threads() < 2 or not dims or dims[0] < 2 or size < PARALLEL_MIN_ELEMENTS or \
            size * max(1, n_instructions) < PARALLEL_MIN_WORK:
        return None
    return dims[0]


def parallel_wrapper(module: ir.Module, name: str, body: ir.Function, n_ptrs: int, extent: int,
                     n_threads: int) -> ir.Function:
    """`void name(ptr..)`: shares [lo, hi) of the outer loop run on pthreads, the first on the
    calling thread. A thread that cannot be started runs its share on the caller instead."""
    # A thread's arguments: n_ptrs pointers then lo and hi, each in one 8-byte slot.
    worker = ir.Function(module, ir.FunctionType(PTR, [PTR]), name=f"{name}.worker")
    worker.linkage = "internal"
    wb = ir.IRBuilder(worker.append_basic_block("entry"))
    words = [wb.load(wb.gep(worker.args[0], [i64(k)], source_etype=I64), typ=I64) for k in range(n_ptrs + 2)]
    wb.call(body, [wb.inttoptr(w, PTR) for w in words[:n_ptrs]] + words[n_ptrs:])
    wb.ret(ir.Constant(PTR, None))
    create = T.intrinsic(module, "pthread_create", T.I32, [PTR, PTR, PTR, PTR])
    join = T.intrinsic(module, "pthread_join", T.I32, [I64, PTR])
    fn = ir.Function(module, ir.FunctionType(VOID, [PTR] * n_ptrs), name=name)
    fn.linkage = "internal"
    fn.attributes.add("noinline")
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    n = min(n_threads, extent)
    chunk = -(-extent // n)
    shares = [(t * chunk, min(extent, (t + 1) * chunk)) for t in range(n) if t * chunk < extent]
    started = []
    for lo, hi in shares[1:]:
        slot = b.alloca(I64, size=i64(n_ptrs + 2))
        for k, v in enumerate([b.ptrtoint(a, I64) for a in fn.args] + [i64(lo), i64(hi)]):
            b.store(v, b.gep(slot, [i64(k)], source_etype=I64))
        tid = b.alloca(I64)
        rc = b.call(create, [tid, ir.Constant(PTR, None), worker, slot])
        started.append((tid, b.icmp_signed("==", rc, ir.Constant(T.I32, 0)), lo, hi))
    b.call(body, list(fn.args) + [i64(shares[0][0]), i64(shares[0][1])])
    for tid, ok, lo, hi in started:
        with b.if_else(ok) as (joined, inline):
            with joined:
                b.call(join, [b.load(tid, typ=I64), ir.Constant(PTR, None)])
            with inline:
                b.call(body, list(fn.args) + [i64(lo), i64(hi)])
    b.ret_void()
    return fn


def memcpy(module: ir.Module, b: ir.IRBuilder, dst: ir.Value, src: ir.Value, nbytes: int) -> None:
    if nbytes <= 0:
        return
    f = T.intrinsic(module, "llvm.memcpy.p0.p0.i64", VOID, [PTR, PTR, I64, I1])
    b.call(f, [dst, src, i64(nbytes), ir.Constant(I1, 0)])


# --- loop kernels ----------------------------------------------------------------------------

def _loop_kernel(k: Kernel) -> None:
    """Every output over its own dims; outputs of the same dims share one loop nest."""
    by_dims: dict[tuple, list[int]] = {}
    for n, o in enumerate(k.outputs):
        by_dims.setdefault(o.shape.dims, []).append(n)
    for dims, outs in by_dims.items():
        g = k.elemental()

        def body(index, outs=outs, g=g, dims=dims):
            g.reset()
            for n in outs:
                o = k.outputs[n]
                T.store(k.b, k.out_ptrs[k.first_slot[n]], o.shape.dtype, linear(k.b, index, dims),
                        g.value(o, index))

        loop_nest(k.b, dims, body, outer=k.outer)


# --- reductions ------------------------------------------------------------------------------

def _apply_reducer(k: Kernel, reducer: Computation, accs: list[ir.Value], vals: list[ir.Value],
                   dtype: DType) -> list[ir.Value]:
    simple = simple_reducer(reducer)
    b = k.b
    if simple in ("add", "multiply") and dtype.kind == "f" and dtype.bits >= 32 and len(accs) == 1:
        # Reassociation lets LLVM vectorize the row: partial sums in vector lanes, added at the end
        # (a tree-like order that is more accurate than one running sum). No `contract`: a product
        # fused into the sum would skip its rounding on FMA machines only. f16/bf16 keep one running
        # sum rounded at every step: reassociated, it would be summed in half-precision vector
        # lanes on AVX512-FP16 machines only.
        op = b.fadd if simple == "add" else b.fmul
        return [op(accs[0], vals[0], flags=("reassoc",))]
    if simple == "add" and dtype.kind == "c" and len(accs) == 1:
        # A complex sum is two independent real sums, each reassociated as above.
        re = b.fadd(T.re(b, accs[0]), T.re(b, vals[0]), flags=("reassoc",))
        im = b.fadd(T.im(b, accs[0]), T.im(b, vals[0]), flags=("reassoc",))
        return [T.pack(b, re, im)]
    return emit_scalar_computation(k.em, reducer, accs + vals)


ACC_STACK_MAX = 1 << 16  # bytes of one accumulator array of the column schedule kept on the stack


class _Reduction:
    """A reduction kernel's state: accumulators per reduce, one slot per reduce operand (row
    schedule) or one array over the kept indices (column schedule), addressed by the kept
    index's linear position `kept_lin`; then initializing, accumulating and writing outputs."""

    def __init__(self, k: Kernel, space: ReductionSpace):
        problem = space.problem()
        if problem is not None:
            raise Unsupported(problem)
        self.k, self.space, self.b = k, space, k.b
        self.heap: list[ir.Value] = []  # accumulator arrays too big for the stack, freed at the end
        self.types = {r: [T.value_type(o.shape.element_type) for o in space.inputs(r)] for r in space.reds}
        self.slots = {r: [self._slot(r, t) for t in self.types[r]] for r in space.reds}
        self.g = k.elemental({id(x.instr): self._reader(x) for x in space.readers})

    def _reader(self, x: ResultReader) -> Callable[[list[ir.Value]], ir.Value]:
        return lambda idx: self.result(x.reduce, x.leaf, idx)

    def _slot(self, r: Instruction, t: ir.Type) -> ir.Value:
        k, b = self.k, self.b
        if self.space.row:
            return k.alloca(t, 1, f"acc.{r.name}")
        size = self.space.nk * T.value_bytes(t)
        if size <= ACC_STACK_MAX:
            return k.alloca(t, self.space.nk, f"acc.{r.name}")
        p = b.call(_malloc(k.module), [i64(size)])
        failed = b.icmp_unsigned("==", b.ptrtoint(p, I64), i64(0))
        with b.if_then(failed, likely=False):
            b.call(T.intrinsic(k.module, "abort", VOID, []), [])
        self.heap.append(p)
        return p

    def acc_ptr(self, r: Instruction, j: int, kept_lin: ir.Value | None) -> ir.Value:
        p = self.slots[r][j]
        if kept_lin is None:
            return p
        return self.b.gep(p, [kept_lin], inbounds=True, source_etype=self.types[r][j])

    def kept_linear(self, index: list[ir.Value]) -> ir.Value:
        """The kept index's linear position, from a full index."""
        return linear(self.b, [index[d] for d in self.space.kept], self.space.kept_dims)

    def result(self, r: Instruction, j: int, out_index: list[ir.Value]) -> ir.Value:
        """Leaf j of a reduce's result; out_index addresses it (the kept dims, in order)."""
        lin = None if self.space.row else linear(self.b, out_index, r.shape.leaves()[0].dims)
        v = self.b.load(self.acc_ptr(r, j, lin), typ=self.types[r][j])
        dt = r.shape.leaves()[j].element_type
        return T.round_narrow(self.b, dt, v) if dt.name in SMALL_FLOATS else v

    def init(self, r: Instruction, kept_lin: ir.Value | None) -> None:
        for j, v in enumerate(self.space.inits(r)):
            self.b.store(self.g.value(v, []), self.acc_ptr(r, j, kept_lin))

    def accumulate(self, r: Instruction, index: list[ir.Value], kept_lin: ir.Value | None) -> None:
        b, n = self.b, self.space.n_operands(r)
        accs = [b.load(self.acc_ptr(r, j, kept_lin), typ=self.types[r][j]) for j in range(n)]
        vals = [self.g.value(o, index) for o in self.space.inputs(r)]
        new = _apply_reducer(self.k, r.attrs["to_apply"], accs, vals, r.operands[0].shape.element_type)
        for j in range(n):
            b.store(new[j], self.acc_ptr(r, j, kept_lin))

    def write_full_outputs(self, index: list[ir.Value]) -> None:
        k, b, full = self.k, self.b, self.space.full
        for o in self.space.outputs:
            if o.placement is Placement.FULL:
                T.store(b, k.out_ptrs[k.first_slot[o.position]], o.instr.shape.element_type,
                        linear(b, index, full), self.g.value(o.instr, index))

    def write_row_outputs(self, kept_index: list[ir.Value]) -> None:
        """The outputs of one kept index: reduce results and values over the kept dims (their
        dims of size 1 aside)."""
        k, b, space = self.k, self.b, self.space
        kept_dims = space.kept_dims
        for out in space.outputs:
            n, o = out.position, out.instr
            if out.placement is Placement.FULL:
                continue
            if o.opcode is O.REDUCE and o.shape.is_tuple:
                dims = o.shape.leaves()[0].dims
                it = iter([v for v, d in zip(kept_index, kept_dims) if d != 1])
                idx = [next(it) if d != 1 else i64(0) for d in dims]
                for j, leaf in enumerate(o.shape.leaves()):
                    T.store(b, k.out_ptrs[k.first_slot[n] + j], leaf.element_type, linear(b, idx, dims),
                            self.result(o, j, idx))
                continue
            if out.placement is not Placement.ROW:
                raise Unsupported(f"output {o.name} of shape {o.shape} in a reduction over {space.full}")
            dims = o.shape.dims
            it = iter([v for v, d in zip(kept_index, kept_dims) if d != 1])
            idx = [next(it) if d != 1 else i64(0) for d in dims]
            T.store(b, k.out_ptrs[k.first_slot[n]], o.shape.element_type, linear(b, idx, dims),
                    self.g.value(o, idx))

    def release(self) -> None:
        for p in self.heap:
            self.b.call(_free(self.k.module), [p])


def _row_schedule(k: Kernel, red: _Reduction) -> None:
    """Reduced dims innermost: for each kept index (split across threads), one inner loop per
    phase, then one writing the full-size outputs, then the row's own outputs."""
    b, g, space = k.b, red.g, red.space
    kept_dims, red_dims = list(space.kept_dims), list(space.red_dims)
    # An expensive value a reduction reads and later phases read again (softmax's exp) is kept
    # in a row-long scratch buffer instead of being computed twice.
    scratch: dict[Instruction, tuple[Instruction, ir.Value]] = {}
    for ph in space.phases[:-1] + (space.phases[-1:] if space.has_full_outputs else ()):
        for r in ph:
            v = r.operands[0]
            if space.n_operands(r) == 1 and space.nr <= ROW_SCRATCH_MAX and v.shape.dims == space.full and \
                    _is_expensive(v) and _read_again(k.comp, v, r):
                scratch[r] = (v, k.alloca(T.value_type(v.shape.element_type), space.nr, f"row.{v.name}"))

    def from_scratch(v: Instruction, buf: ir.Value) -> Callable[[list[ir.Value]], ir.Value]:
        t = T.value_type(v.shape.element_type)
        return lambda idx: b.load(b.gep(buf, [linear(b, idx[len(kept_dims):], red_dims)], source_etype=t), typ=t)

    def row(kept_index: list[ir.Value]) -> None:
        for ph in space.phases:
            g.reset()
            for r in ph:
                red.init(r, None)

            def inner(red_index: list[ir.Value], ph: tuple[Instruction, ...] = ph) -> None:
                g.reset()
                index = kept_index + red_index
                for r in ph:
                    if r in scratch:
                        v, buf = scratch[r]
                        at = linear(b, red_index, red_dims)
                        b.store(g.value(v, index), b.gep(buf, [at], source_etype=T.value_type(v.shape.element_type)))
                    red.accumulate(r, index, None)

            loop_nest(b, red_dims, inner, "r")
            for r in ph:  # later phases read the kept row
                if r in scratch:
                    v, buf = scratch[r]
                    g.special[id(v)] = from_scratch(v, buf)
        g.reset()
        if space.has_full_outputs:
            def final(red_index: list[ir.Value]) -> None:
                g.reset()
                red.write_full_outputs(kept_index + red_index)

            loop_nest(b, red_dims, final, "w")
        g.reset()
        red.write_row_outputs(kept_index)

    loop_nest(b, kept_dims, row, "o", outer=k.outer)


def _column_schedule(k: Kernel, red: _Reduction) -> None:
    """Reduced dims not innermost: each phase initializes an array of accumulators over the kept
    indices, then runs once over the whole input in memory order; outputs follow."""
    b, g, space = k.b, red.g, red.space
    kept_dims = list(space.kept_dims)
    for ph in space.phases:
        def init_all(kept_index: list[ir.Value], ph: tuple[Instruction, ...] = ph) -> None:
            g.reset()
            lin = linear(b, kept_index, kept_dims)
            for r in ph:
                red.init(r, lin)

        loop_nest(b, kept_dims, init_all, "z")

        def acc_all(index: list[ir.Value], ph: tuple[Instruction, ...] = ph) -> None:
            g.reset()
            lin = red.kept_linear(index)
            for r in ph:
                red.accumulate(r, index, lin)

        loop_nest(b, space.full, acc_all, "a")
    if space.has_full_outputs:
        def final_all(index: list[ir.Value]) -> None:
            g.reset()
            red.write_full_outputs(index)

        loop_nest(b, space.full, final_all, "w")

    def rows(kept_index: list[ir.Value]) -> None:
        g.reset()
        red.write_row_outputs(kept_index)

    loop_nest(b, kept_dims, rows, "o")


def _reduction_kernel(k: Kernel, schedule: Callable[[Kernel, _Reduction], None]) -> None:
    red = _Reduction(k, reduction_space(k.comp))
    schedule(k, red)
    red.release()


ROW_SCRATCH_MAX = 16384  # elements of a row kept on the stack


def _is_expensive(v: Instruction) -> bool:
    """Does computing v involve a transcendental function or a division inside the kernel?"""
    from ...hlo.opcodes import TRANSCENDENTAL

    stack, seen = [v], set()
    while stack:
        i = stack.pop()
        if id(i) in seen or i.opcode is O.PARAMETER:
            continue
        seen.add(id(i))
        if i.opcode in TRANSCENDENTAL or i.opcode is O.DIVIDE:
            return True
        stack.extend(i.operands)
    return False


def _read_again(comp: Computation, v: Instruction, reducer: Instruction) -> bool:
    return any(v in u.operands for u in comp.instructions if u is not reducer) or \
        v is comp.root or (comp.root.opcode is O.TUPLE and v in comp.root.operands)


def _malloc(module: ir.Module) -> ir.Function:
    return T.intrinsic(module, "malloc", PTR, [I64])


def _free(module: ir.Module) -> ir.Function:
    return T.intrinsic(module, "free", VOID, [PTR])


# --- reduce-window ---------------------------------------------------------------------------

def _window_kernel(k: Kernel) -> None:
    """XLA's reduce-window of N operands at once (N = 1, or a tuple of N results): per output
    index, N accumulators start at the N inits and take every in-bounds window element through
    the reducer (2N scalars in, N out); padded positions are skipped, as the identity they hold."""
    rw = k.outputs[0]
    if len(k.outputs) != 1 or rw.opcode is not O.REDUCE_WINDOW:
        raise Unsupported("reduce-window kernels with several outputs")
    n = len(rw.operands) // 2
    operands, inits = rw.operands[:n], rw.operands[n:]
    win = rw.attrs["window"].dims
    b = k.b
    g = k.elemental()
    dts = [leaf.element_type for leaf in rw.shape.leaves()]
    accs = [k.alloca(T.value_type(dt), 1, f"acc{j}") for j, dt in enumerate(dts)]
    in_dims = operands[0].shape.dims
    out_dims = rw.shape.leaves()[0].dims

    def out_body(oidx):
        g.reset()
        for acc, init_v in zip(accs, inits):
            b.store(g.value(init_v, []), acc)

        def win_body(widx):
            ok = ir.Constant(I1, 1)
            src = []
            for o, w, wd, dim in zip(oidx, widx, win, in_dims):
                p = b.sub(b.add(b.mul(o, i64(wd.stride)), b.mul(w, i64(wd.window_dilation))), i64(wd.pad_lo))
                if wd.base_dilation != 1:
                    ok = b.and_(ok, b.icmp_signed("==", b.srem(p, i64(wd.base_dilation)), i64(0)))
                    p = b.sdiv(p, i64(wd.base_dilation))
                ok = b.and_(ok, b.and_(b.icmp_signed(">=", p, i64(0)), b.icmp_signed("<", p, i64(dim))))
                src.append(p)
            with b.if_then(ok):
                g.reset()
                vals = [g.value(operand, src) for operand in operands]
                cur = [b.load(acc, typ=acc.allocated_type) for acc in accs]
                new = _apply_reducer(k, rw.attrs["to_apply"], cur, vals, dts[0])
                for acc, v in zip(accs, new):
                    b.store(v, acc)
            g.reset()

        loop_nest(b, [w.size for w in win], win_body, "w")
        lin = linear(b, oidx, out_dims)
        for out, dt, acc in zip(k.out_ptrs, dts, accs):
            T.store(b, out, dt, lin, b.load(acc, typ=acc.allocated_type))

    loop_nest(b, out_dims, out_body, "o")


# --- in-place dynamic-update-slice -----------------------------------------------------------

def _dus_kernel(k: Kernel) -> None:
    dus = k.outputs[0]
    operand, update = dus.operands[0], dus.operands[1]
    b = k.b
    out = k.out_ptrs[0]
    if operand.opcode is not O.PARAMETER:
        raise Unsupported("dynamic-update-slice of a computed operand as a kernel root")
    src = k.in_ptrs[id(operand)]
    nbytes = dus.shape.nbytes
    # In place when the output is the operand's own buffer; otherwise copy it first.
    same = b.icmp_unsigned("==", b.ptrtoint(src, I64), b.ptrtoint(out, I64))
    with b.if_then(b.not_(same)):
        memcpy(k.module, b, out, src, nbytes)
    g = k.elemental()
    starts = update_starts(g, dus)  # once, before the loop
    g.reset()

    def body(uidx):
        g.reset()
        idx = [g.add(s, u) for s, u in zip(starts, uidx)]
        T.store(b, out, dus.shape.element_type, linear(b, idx, dus.shape.dims), g.value(update, uidx))

    loop_nest(b, update.shape.dims, body, "u")


# --- scatter ---------------------------------------------------------------------------------

def _scatter_kernel(k: Kernel) -> None:
    """XLA's scatter of N operands at once (N = 1, or a tuple of N results): the operands are
    copied to the outputs, then every update element whose window lies inside is combined with
    the outputs there by the update computation (2N scalars in, N out). Updates go in XLA's order,
    scatter index by scatter index and the window within, so duplicate indices apply one after
    another; indices_are_sorted / unique_indices are hints that change nothing here."""
    sc = k.outputs[0]
    n = len(sc.operands) // 2
    operands, indices, updates = sc.operands[:n], sc.operands[n], sc.operands[n + 1:]
    sd = scatter_dims(sc)
    b = k.b
    outs = k.out_ptrs[:n]
    dts = [o.shape.element_type for o in operands]
    for out, operand in zip(outs, operands):
        src = k.in_ptrs[id(operand)]
        # In place when the output is the operand's own buffer; otherwise copy it first.
        same = b.icmp_unsigned("==", b.ptrtoint(src, I64), b.ptrtoint(out, I64))
        with b.if_then(b.not_(same)):
            memcpy(k.module, b, out, src, operand.shape.nbytes)
    g = k.elemental()
    odims = operands[0].shape.dims
    udims = updates[0].shape.dims
    order = list(sd.update_scatter_dims) + list(sd.update_window_dims)  # loop order: scatter dims outermost

    def body(ordered):
        uidx = [ordered[order.index(d)] for d in range(len(udims))]
        g.reset()
        full, ok = scatter_target(g, sd, indices, odims, uidx)
        with b.if_then(ok):
            lin = linear(b, full, odims)
            cur = [T.load(b, out, dt, lin) for out, dt in zip(outs, dts)]
            vals = [g.value(u, uidx) for u in updates]
            new = emit_scalar_computation(k.em, sc.attrs["to_apply"], cur + vals)
            for out, dt, v in zip(outs, dts, new):
                T.store(b, out, dt, lin, v)
        g.reset()

    loop_nest(b, [udims[d] for d in order], body, "u")


# --- select-and-scatter ----------------------------------------------------------------------

def _select_and_scatter_kernel(k: Kernel) -> None:
    """Output = init; then per window (one per source element), in window order, the first
    in-bounds position is the candidate and `select(current, next)` false moves it on; the
    chosen position gets `scatter(out, source)`. Padded positions are never chosen."""
    ss = k.outputs[0]
    operand, source, init_v = ss.operands
    win = ss.attrs["window"].dims if "window" in ss.attrs else ()
    if any(w.base_dilation != 1 for w in win):
        raise Unsupported(f"select-and-scatter with base dilation ('{ss.name}')")
    b, out, dt = k.b, k.out_ptrs[0], ss.shape.element_type
    dims = operand.shape.dims
    win = win or tuple(WindowDim(1) for _ in dims)
    g = k.elemental()
    init = k.alloca(T.value_type(dt), 1, "init")
    b.store(g.value(init_v, []), init)
    loop_nest(b, dims, lambda idx: T.store(b, out, dt, linear(b, idx, dims), b.load(init, typ=init.allocated_type)),
              "z")
    best_val = k.alloca(T.value_type(dt), 1, "sel.val")
    best_at = k.alloca(I64, 1, "sel.at")  # linear operand position, -1 while none is in bounds

    def window(sidx: list[ir.Value]) -> None:
        b.store(i64(-1), best_at)

        def candidate(widx: list[ir.Value]) -> None:
            ok = ir.Constant(I1, 1)
            pos = []
            for s, w, wd, n in zip(sidx, widx, win, dims):
                p = b.sub(b.add(b.mul(s, i64(wd.stride)), b.mul(w, i64(wd.window_dilation))), i64(wd.pad_lo))
                ok = b.and_(ok, b.and_(b.icmp_signed(">=", p, i64(0)), b.icmp_signed("<", p, i64(n))))
                pos.append(p)
            with b.if_then(ok):
                g.reset()
                v = g.value(operand, pos)
                at = b.load(best_at, typ=I64)
                with b.if_else(b.icmp_signed("<", at, i64(0))) as (first, other):
                    with first:
                        b.store(v, best_val)
                        b.store(linear(b, pos, dims), best_at)
                    with other:
                        (keep,) = emit_scalar_computation(k.em, ss.attrs["select"],
                                                          [b.load(best_val, typ=best_val.allocated_type), v])
                        with b.if_then(b.not_(keep)):
                            b.store(v, best_val)
                            b.store(linear(b, pos, dims), best_at)
            g.reset()

        loop_nest(b, [w.size for w in win], candidate, "w")
        at = b.load(best_at, typ=I64)
        with b.if_then(b.icmp_signed(">=", at, i64(0))):
            g.reset()
            val = g.value(source, sidx)
            (new,) = emit_scalar_computation(k.em, ss.attrs["scatter"], [T.load(b, out, dt, at), val])
            T.store(b, out, dt, at, new)
        g.reset()

    loop_nest(b, source.shape.dims, window, "s")


# --- top-k -----------------------------------------------------------------------------------

def _topk_kernel(k: Kernel) -> None:
    """Per row, insertion into a k-long sorted list by total order; ties keep the lower index."""
    t = k.outputs[0]
    x = t.operands[0]
    values, indices = t.shape.leaves()
    kk = values.dims[-1]
    largest = bool(t.attrs.get("largest", True))
    dims = x.shape.dims
    n = dims[-1]
    outer = dims[:-1]
    b = k.b
    vdt, idt = x.shape.element_type, indices.element_type
    if vdt.is_complex:
        raise Unsupported(f"top-k of {vdt.name} values ('{t.name}'): complex numbers are not ordered")
    vals = k.alloca(T.value_type(vdt), kk, "topv")
    keys = k.alloca(I64, kk, "topk")
    idxs = k.alloca(I64, kk, "topi")
    count = k.alloca(I64, 1, "count")
    g = k.elemental()

    def key_of(v: ir.Value) -> ir.Value:
        from .scalar import _total_order_key

        if vdt.kind == "f":
            kv = _total_order_key(k.em, v)
            kv = b.sext(kv, I64) if kv.type.width < 64 else kv
        elif vdt.kind == "s":
            kv = b.sext(v, I64) if v.type.width < 64 else v
        else:
            kv = b.zext(v, I64) if v.type.width < 64 else b.xor(v, i64(1 << 63))
        return kv if largest else b.sub(i64(0), kv)

    def row(oidx):
        b.store(i64(0), count)

        def each(i):
            g.reset()
            v = g.value(x, oidx + [i])
            kv = key_of(v)
            c = b.load(count, typ=I64)
            # Insert if the list is not full or v beats the last entry (strictly: ties keep earlier).
            full = b.icmp_signed(">=", c, i64(kk))
            last_key = b.load(b.gep(keys, [b.select(full, i64(kk - 1), i64(0))], source_etype=I64), typ=I64)
            enter = b.or_(b.not_(full), b.icmp_signed(">", kv, last_key))
            with b.if_then(enter):
                pos_slot = k.alloca(I64, 1, "pos")
                start = b.select(full, i64(kk - 1), c)
                b.store(start, pos_slot)
                # Shift smaller entries down one place.
                cond_bb = b.append_basic_block("shift.cond")
                body_bb = b.append_basic_block("shift.body")
                done_bb = b.append_basic_block("shift.done")
                b.branch(cond_bb)
                b.position_at_end(cond_bb)
                p = b.load(pos_slot, typ=I64)
                prev = b.sub(p, i64(1))
                can = b.icmp_signed(">", p, i64(0))
                prev_key = b.load(b.gep(keys, [b.select(can, prev, i64(0))], source_etype=I64), typ=I64)
                b.cbranch(b.and_(can, b.icmp_signed(">", kv, prev_key)), body_bb, done_bb)
                b.position_at_end(body_bb)
                for arr, ty in ((keys, I64), (idxs, I64), (vals, T.value_type(vdt))):
                    moved = b.load(b.gep(arr, [prev], source_etype=ty), typ=ty)
                    b.store(moved, b.gep(arr, [p], source_etype=ty))
                b.store(prev, pos_slot)
                b.branch(cond_bb)
                b.position_at_end(done_bb)
                p = b.load(pos_slot, typ=I64)
                b.store(kv, b.gep(keys, [p], source_etype=I64))
                b.store(i, b.gep(idxs, [p], source_etype=I64))
                b.store(v, b.gep(vals, [p], source_etype=T.value_type(vdt)))
                b.store(b.select(full, c, b.add(c, i64(1))), count)
            g.reset()

        for_range(b, n, each, "n")

        def write(j):
            out_idx = oidx + [j]
            lin = linear(b, out_idx, list(outer) + [kk])
            T.store(b, k.out_ptrs[0], vdt, lin, b.load(b.gep(vals, [j], source_etype=T.value_type(vdt)),
                                                        typ=T.value_type(vdt)))
            iv = b.load(b.gep(idxs, [j], source_etype=I64), typ=I64)
            T.store(b, k.out_ptrs[1], idt, lin, b.trunc(iv, T.value_type(idt)) if T.value_type(idt).width < 64 else iv)

        for_range(b, kk, write, "j")

    loop_nest(b, outer, row, "o")


# --- host calls ------------------------------------------------------------------------------

def _host_call_kernel(k: Kernel) -> None:
    """A custom call run in Python (`host_calls`): the buffer pointers go in an array to its callback."""
    from .host_calls import host_call

    call = host_call(k.comp)
    b = k.b
    bufs = k.alloca(PTR, k.n_ptrs, "bufs")
    for j, a in enumerate(k.fn.args[:k.n_ptrs]):
        b.store(a, b.gep(bufs, [i64(j)], source_etype=PTR))
    callee = b.inttoptr(i64(call.address), ir.FunctionType(VOID, [PTR]).as_pointer())
    b.call(callee, [bufs])


# --- library calls ---------------------------------------------------------------------------

def _comparator(module: ir.Module, name: str, comp: Computation, dtypes) -> ir.Function:
    """The sort comparator as `i1 f(ptr lhs0, ptr rhs0, ptr lhs1, ptr rhs1, ...)`."""
    fn = ir.Function(module, ir.FunctionType(I1, [PTR] * len(comp.parameters)), name=name)
    fn.linkage = "internal"
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    em = Emitter(module, b)
    args = [T.load(b, fn.args[j], dtypes[j // 2], i64(0)) for j in range(len(comp.parameters))]
    (r,) = emit_scalar_computation(em, comp, args)
    b.ret(r)
    return fn


def _library_kernel(module: ir.Module, name: str, comp: Computation) -> ir.Function:
    from . import library

    instr = comp.root
    if instr.opcode in (O.DOT, O.CONVOLUTION) and instr.shape.element_type.is_complex:
        from .complex_library import define_split_complex

        real = library.define_dot if instr.opcode is O.DOT else library.define_convolution
        return define_split_complex(module, instr, name, real)
    if instr.opcode is O.DOT:
        return library.define_dot(module, instr, name)
    if instr.opcode is O.CONVOLUTION:
        return library.define_convolution(module, instr, name)
    cmp = _comparator(module, f"{name}.cmp", instr.attrs["to_apply"], [o.shape.element_type for o in instr.operands])
    return library.define_sort(module, instr, name, cmp)


LIBRARY = frozenset({O.DOT, O.CONVOLUTION, O.SORT})


# --- choosing the kernel ---------------------------------------------------------------------

def _checked_loop_kernel(k: Kernel) -> None:
    bad = not_in_loops(k.comp)
    if bad is not None:
        raise Unsupported(f"{bad.opcode.value} ('{bad.name}')")
    _loop_kernel(k)


# Kernels built around a `Kernel` function; the library kinds define their functions themselves.
_EMITTERS: dict[KernelKind, Callable[[Kernel], None]] = {
    KernelKind.LOOP: _checked_loop_kernel,
    KernelKind.ROW_REDUCTION: lambda k: _reduction_kernel(k, _row_schedule),
    KernelKind.COLUMN_REDUCTION: lambda k: _reduction_kernel(k, _column_schedule),
    KernelKind.WINDOW: _window_kernel,
    KernelKind.IN_PLACE_UPDATE: _dus_kernel,
    KernelKind.SCATTER: _scatter_kernel,
    KernelKind.TOP_K: _topk_kernel,
    KernelKind.SELECT_AND_SCATTER: _select_and_scatter_kernel,
    KernelKind.HOST_CALL: _host_call_kernel,
}
_LIBRARY_KINDS = frozenset({KernelKind.DOT, KernelKind.CONVOLUTION, KernelKind.SORT})


def _extent(comp: Computation, kind: KernelKind) -> int | None:
    """How far the kernel's outer loop runs when it is worth splitting across threads: only loop
    kernels and the row schedule of reductions (its rows) split."""
    body = [i for i in comp.instructions if i.opcode is not O.PARAMETER]
    if kind is KernelKind.ROW_REDUCTION:
        r0 = next(i for i in body if i.opcode is O.REDUCE)
        full = r0.operands[0].shape.dims
        if len(r0.attrs["dimensions"]) == len(full):
            return None  # one row
        return parallel_extent(full, len(body))
    if kind is not KernelKind.LOOP or any(i.opcode is O.DYNAMIC_UPDATE_SLICE for i in body):
        return None
    root = comp.root
    outputs = list(root.operands) if root.opcode is O.TUPLE else [root]
    dims = {o.shape.dims for o in outputs}
    if len(dims) != 1 or any(o.shape.is_tuple for o in outputs):
        return None
    return parallel_extent(next(iter(dims)), len(body))


def define_kernel(module: ir.Module, name: str, comp: Computation) -> ir.Function:
    """The LLVM function computing `comp`'s root leaves from its parameters."""
    kind = classify(comp)
    if kind in _LIBRARY_KINDS:
        return _library_kernel(module, name, comp)
    in_place = kind in (KernelKind.IN_PLACE_UPDATE, KernelKind.SCATTER)  # may write into an input's buffer
    k = Kernel(module, name, comp, in_place=in_place, extent=None if in_place else _extent(comp, kind))
    _EMITTERS[kind](k)
    return k.finish()
