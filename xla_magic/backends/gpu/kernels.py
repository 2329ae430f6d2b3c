"""CUDA kernels: one `extern "C" __global__` function per kernel of the fusion plan.

A kernel is described by a computation (a fused computation, or one instruction wrapped in a
computation of its own): parameters are the inputs, the root's leaves the outputs, every one a
pointer argument; sizes are constants in the code. Its kind (`kernel_kinds.classify`, shared
with the cpu backend) picks the schedule:

- loop: grid-stride loop over the output; 16-byte vector loads and stores when every input is
  read at the output's own index and all elements are 4 bytes (`loop/vec4`);
- transpose: a loop kernel whose input is read transposed goes through a 32x33 shared-memory
  tile, so both the read and the write are coalesced;
- reduction and row: the reduced dims innermost -> a warp (short rows) or a block (long rows)
  per kept index, warp shuffles then shared memory across warps; otherwise (column) a 32x8 block
  whose x runs along kept elements and y splits the reduced ones, combined in shared memory.
  Phases of dependent reductions (softmax: max, then sum of exp) run one after the other with
  the group's result broadcast to all its threads; full-size outputs are written last. A few
  long rows split across blocks: partial values per chunk, then a second kernel per row;
- window (reduce-window), in-place dynamic-update-slice, scatter (compare-and-swap loops for
  commutative combiners, one ordered thread otherwise), sort and top-k (rank of each element by
  the comparator), dot for small shapes and convolution (one thread per output element)."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from math import prod

from ...hlo.dtypes import DType
from ...hlo.ir import Computation, Instruction
from ...hlo.opcodes import ELEMENTWISE
from ...hlo.opcodes import Opcode as O
from ..indexing import scatter_target, update_starts
from ..kernel_kinds import KernelKind, classify, not_in_loops
from ..kernel_shapes import Placement, ResultReader, reduction_space, scatter_dims, simple_reducer
from . import ctype as C
from .ctype import Unsupported
from .elemental import Constants, Elemental, Index, linear_expr, strides
from .scalar import Emitter, inline_computation

BLOCK = 256
MAX_BLOCKS = 1056  # grid-stride loops cap the grid here: 8 blocks of 256 threads per SM of an H100
TILE = 32


@dataclass
class KernelCode:
    name: str
    hlo: str  # the instruction it computes
    schedule: str
    text: str = ""
    grid: tuple[int, int, int] = (1, 1, 1)
    block: tuple[int, int, int] = (BLOCK, 1, 1)
    cooperative: bool = False  # uses __syncthreads or shuffles (the host test runs it with fibers)
    params: list[str] = field(default_factory=list)  # C pointer types, in argument order
    n_in: int = 0


def _grid(n: int, per_block: int = BLOCK) -> int:
    return max(1, min(-(-n // per_block), MAX_BLOCKS))


class KernelBuilder:
    def __init__(self, name: str, hlo: str, comp: Computation, consts: Constants, restrict: bool = True):
        self.name, self.hlo, self.comp, self.consts = name, hlo, comp, consts
        self.params = comp.parameters
        root = comp.root
        self.outputs = list(root.operands) if root.opcode is O.TUPLE else [root]
        self.first_slot: list[int] = []
        self.slot_types: list[DType] = []
        n = 0
        for o in self.outputs:
            self.first_slot.append(n)
            for leaf in o.shape.leaves():
                self.slot_types.append(leaf.element_type)
                n += 1
        self.em = Emitter(depth=1)
        self.in_names = {id(p): f"in{k}" for k, p in enumerate(self.params)}
        self.out_names = [f"out{k}" for k in range(n)]
        r = " __restrict__" if restrict else ""
        self.sig = [f"const {C.storage(p.shape.element_type)}*{r} in{k}" for k, p in enumerate(self.params)] + \
                   [f"{C.storage(dt)}*{r} out{k}" for k, dt in enumerate(self.slot_types)]
        self.ptypes = [f"const {C.storage(p.shape.element_type)}*" for p in self.params] + \
                      [f"{C.storage(dt)}*" for dt in self.slot_types]

    def elemental(self, special=None) -> Elemental:
        return Elemental(self.em, self.consts, self.in_names, special)

    def store(self, slot: int, index_lin: str, v: str) -> None:
        dt = self.slot_types[slot]
        self.em.line(f"{self.out_names[slot]}[{index_lin}] = {C.to_storage(dt, v)};")

    def finish(self, schedule: str, grid, block, threads: int | None = None) -> KernelCode:
        block = tuple(block) + (1,) * (3 - len(block))
        grid = (grid, 1, 1) if isinstance(grid, int) else tuple(grid) + (1,) * (3 - len(grid))
        n_threads = threads or block[0] * block[1] * block[2]
        head = f'extern "C" __global__ void __launch_bounds__({n_threads}) {self.name}(' + \
               ", ".join(self.sig) + ") {"
        text = "\n".join([f"// {self.hlo}: {schedule}", head, self.em.text(), "}"])
        return KernelCode(self.name, self.hlo, schedule, text, grid, block, self.em.uses_sync, self.ptypes,
                          len(self.params))


def _grid_stride(var: str, n: int) -> str:
    return (f"for (xm_i {var} = (xm_i)blockIdx.x * (xm_i)blockDim.x + (xm_i)threadIdx.x; {var} < {n}; "
            f"{var} += (xm_i)gridDim.x * (xm_i)blockDim.x)")


# --- loop kernels ----------------------------------------------------------------------------

def _loop_kernel(kb: KernelBuilder) -> KernelCode:
    by_dims: dict[tuple, list[int]] = {}
    for n, o in enumerate(kb.outputs):
        if o.shape.is_tuple:
            raise Unsupported(f"tuple-shaped output {o.name} of a loop kernel")
        by_dims.setdefault(o.shape.dims, []).append(n)
    vec = _vectorizable(kb)
    if vec:
        return _vec_loop_kernel(kb)
    biggest = 1
    for dims, outs in by_dims.items():
        n = prod(dims)
        biggest = max(biggest, n)
        if n == 0:
            continue
        with kb.em.block(_grid_stride("lin", n)):
            g = kb.elemental()
            index = g.delinear("lin", dims)
            for k in outs:
                kb.store(kb.first_slot[k], "lin", g.value(kb.outputs[k], index))
    return kb.finish("loop", _grid(biggest), (BLOCK,))


_VEC_TYPES = {"f32": "float4", "s32": "int4", "u32": "uint4"}


def _vectorizable(kb: KernelBuilder) -> bool:
    """Every input read at the output's own index (or a scalar), 4-byte elements, no indexing ops."""
    dims = kb.outputs[0].shape.dims
    if prod(dims) < 4 * BLOCK or any(o.shape.is_tuple or o.shape.dims != dims for o in kb.outputs):
        return False
    if any(o.shape.element_type.name not in _VEC_TYPES for o in kb.outputs):
        return False
    for p in kb.params:
        if p.shape.rank != 0 and (p.shape.dims != dims or p.shape.element_type.name not in _VEC_TYPES):
            return False
    for i in kb.comp.instructions:
        op = i.opcode
        if op in (O.PARAMETER, O.TUPLE):
            continue
        if op is O.CONSTANT and (i.shape.rank == 0 or i.literal is not None and i.literal.size == 1):
            continue
        if op is O.BROADCAST and i.operands[0].shape.rank == 0:
            continue
        if op in ELEMENTWISE and i.shape.dims == dims and all(o.shape.rank == 0 or o.shape.dims == dims
                                                             for o in i.operands):
            continue
        return False
    return True


def _vec_loop_kernel(kb: KernelBuilder) -> KernelCode:
    dims = kb.outputs[0].shape.dims
    n = prod(dims)
    n4 = n // 4
    em = kb.em
    rank = len(dims)
    lanes = "xyzw"
    with em.block(_grid_stride("v", n4)):
        loaded = {}
        for p in kb.params:
            if p.shape.rank:
                t = _VEC_TYPES[p.shape.element_type.name]
                loaded[id(p)] = em.var(f"const {t}", f"reinterpret_cast<const {t}*>({kb.in_names[id(p)]})[v]", "q")
        results = [[""] * 4 for _ in kb.outputs]
        for j in range(4):
            special = {pid: (lambda idx, name=name, j=j: f"{name}.{lanes[j]}") for pid, name in loaded.items()}
            g = kb.elemental(special)
            index = [f"4 * v + {j}"] * rank  # read only by the loaded inputs above
            for k, o in enumerate(kb.outputs):
                results[k][j] = g.value(o, index)
        for k, o in enumerate(kb.outputs):
            t = _VEC_TYPES[o.shape.element_type.name]
            em.line(f"reinterpret_cast<{t}*>({kb.out_names[kb.first_slot[k]]})[v] = "
                    f"make_{t}({', '.join(results[k])});")
    if n % 4:
        with em.block(f"for (xm_i lin = {4 * n4} + (xm_i)blockIdx.x * (xm_i)blockDim.x + (xm_i)threadIdx.x; "
                      f"lin < {n}; lin += (xm_i)gridDim.x * (xm_i)blockDim.x)"):
            g = kb.elemental()
            index = g.delinear("lin", dims)
            for k, o in enumerate(kb.outputs):
                kb.store(kb.first_slot[k], "lin", g.value(o, index))
    return kb.finish("loop/vec4", _grid(n4), (BLOCK,))


# --- transposes through shared memory --------------------------------------------------------

def _transpose_candidate(kb: KernelBuilder) -> Instruction | None:
    dims = kb.outputs[0].shape.dims
    if len(dims) < 2 or any(o.shape.is_tuple or o.shape.dims != dims for o in kb.outputs):
        return None
    ts = [i for i in kb.comp.instructions if i.opcode is O.TRANSPOSE]
    if len(ts) != 1:
        return None
    t = ts[0]
    perm = t.attrs["dimensions"]
    if t.operands[0].opcode is not O.PARAMETER or t.shape.dims != dims or perm[-1] == len(dims) - 1:
        return None
    b = list(perm).index(len(dims) - 1)
    if dims[-1] < TILE // 2 or dims[b] < TILE // 2:
        return None
    # Everything that reads the transposed value must read it at the output's own index.
    tainted = {id(t)}
    for i in kb.comp.instructions:
        if i is t or not any(id(o) in tainted for o in i.operands):
            continue
        if i.opcode is O.TUPLE or (i.opcode in ELEMENTWISE and i.shape.dims == dims):
            tainted.add(id(i))
            continue
        return None
    return t


def _transpose_kernel(kb: KernelBuilder, t: Instruction) -> KernelCode:
    dims = kb.outputs[0].shape.dims
    rank = len(dims)
    a = rank - 1
    b = list(t.attrs["dimensions"]).index(rank - 1)
    da, db = dims[a], dims[b]
    other = [k for k in range(rank) if k not in (a, b)]
    other_dims = [dims[k] for k in other]
    ta, tb = -(-da // TILE), -(-db // TILE)
    total = prod(other_dims) * ta * tb
    em = kb.em
    em.uses_sync = True
    vt = C.value(t.shape.element_type)
    em.line(f"__shared__ {vt} tile[{TILE}][{TILE + 1}];")
    with em.block(f"for (xm_i t = blockIdx.x; t < {total}; t += gridDim.x)"):
        em.line(f"const xm_i ta = t % {ta}, tb = (t / {ta}) % {tb}, to = t / {ta * tb};")
        g0 = kb.elemental()
        oidx = g0.delinear("to", other_dims) if other else []

        def full(va: str, vb: str) -> Index:
            idx = [""] * rank
            for k, v in zip(other, oidx):
                idx[k] = v
            idx[a], idx[b] = va, vb
            return idx

        with em.block(f"for (int r = threadIdx.y; r < {TILE}; r += blockDim.y)"):
            em.line(f"const xm_i ob = tb * {TILE} + threadIdx.x, oa = ta * {TILE} + r;")
            with em.block(f"if (ob < {db} && oa < {da})"):
                g = kb.elemental()
                em.line(f"tile[r][threadIdx.x] = {g.value(t, full('oa', 'ob'))};")
        em.line("__syncthreads();")
        with em.block(f"for (int r = threadIdx.y; r < {TILE}; r += blockDim.y)"):
            em.line(f"const xm_i oa = ta * {TILE} + threadIdx.x, ob = tb * {TILE} + r;")
            with em.block(f"if (oa < {da} && ob < {db})"):
                g = kb.elemental({id(t): lambda idx: "tile[threadIdx.x][r]"})
                idx = full("oa", "ob")
                lin = g.linear(idx, dims)
                for k, o in enumerate(kb.outputs):
                    kb.store(kb.first_slot[k], lin, g.value(o, idx))
        em.line("__syncthreads();")
    return kb.finish("transpose/tiled", max(1, min(total, MAX_BLOCKS)), (TILE, 8))


# --- reductions ------------------------------------------------------------------------------

Accumulators = dict[Instruction, tuple[list[str], str]]  # per reduce: variables and a 'has a value' flag


class _Reduction:
    """A reduction kernel's state in CUDA: per phase, accumulator variables with 'has a value'
    flags; the reducer applied to them; each reduce's per-group result variables, which later
    phases and the outputs read; and the outputs written per kept index or full size."""

    def __init__(self, kb: KernelBuilder):
        self.kb = kb
        self.space = space = reduction_space(kb.comp)
        problem = space.problem()
        if problem is not None:
            raise Unsupported(problem)
        self.results: dict[Instruction, list[str]] = {}  # reduce -> its per-group result variables
        self.special = {id(x.instr): self._reader(x) for x in space.readers}

    def _reader(self, x: ResultReader) -> Callable[[Index], str]:
        return lambda idx: self.results[x.reduce][x.leaf]

    def operand_types(self, r: Instruction) -> list[str]:
        return [C.value(o.shape.element_type) for o in self.space.inputs(r)]

    def declare(self, phase: Sequence[Instruction]) -> Accumulators:
        em = self.kb.em
        out = {}
        for r in phase:
            accs = [em.var(t, None, "acc") for t in self.operand_types(r)]
            out[r] = (accs, em.var("bool", "false", "has"))
        return out

    def accumulate(self, g: Elemental, accs: Accumulators, index: Index) -> None:
        """Each reduce of the phase takes its operands' values at `index` into its accumulators."""
        for r, (acc, has) in accs.items():
            vals = [g.value(o, index) for o in self.space.inputs(r)]
            self.combine(r, acc, has, vals, "true")

    def combine(self, red: Instruction, acc: list[str], has: str, vals: list[str], vals_valid: str) -> None:
        """acc = has ? reducer(acc, vals) : vals, when vals_valid; then has |= vals_valid."""
        em = self.kb.em

        def take() -> None:
            with em.block(f"if ({has})"):
                new = inline_computation(em, red.attrs["to_apply"], acc + vals)
                for a, v in zip(acc, new):
                    em.line(f"{a} = {v};")
            with em.block("else"):
                for a, v in zip(acc, vals):
                    em.line(f"{a} = {v};")
            em.line(f"{has} = true;")

        if vals_valid == "true":
            take()
            return
        with em.block(f"if ({vals_valid})"):
            take()

    def finalize(self, g: Elemental, accs: Accumulators) -> None:
        """results = has ? reducer(init, acc) : init (XLA applies the init value once)."""
        em = self.kb.em
        for r, (acc, has) in accs.items():
            inits = [g.value(o, []) for o in self.space.inits(r)]
            res = [em.var(t, i, "res") for t, i in zip(self.operand_types(r), inits)]
            with em.block(f"if ({has})"):
                new = inline_computation(em, r.attrs["to_apply"], inits + acc)
                for a, v in zip(res, new):
                    em.line(f"{a} = {v};")
            self.results[r] = res

    def outputs(self) -> Iterator[tuple[int, Instruction, bool, int | None]]:
        """(slot, instruction, per_group, leaf) for each output leaf; per_group ones are written
        once per kept index; leaf: which result of a variadic reduce."""
        kb = self.kb
        for out in self.space.outputs:
            o, first = out.instr, kb.first_slot[out.position]
            if o.shape.is_tuple:  # a variadic reduce as the output: one slot per leaf
                if out.placement is not Placement.ROW:
                    raise Unsupported(f"tuple-shaped output {o.name}")
                for j in range(len(o.shape.leaves())):
                    yield first + j, o, True, j
            else:
                if out.placement is Placement.NEITHER:
                    raise Unsupported(f"output {o.name} of a reduction kernel is neither per row nor full size")
                yield first, o, out.placement is Placement.ROW, None

    def write_group_outputs(self, g: Elemental, k: str) -> None:
        for slot, o, per_group, leaf in self.outputs():
            if not per_group:
                continue
            if leaf is not None:
                self.kb.store(slot, k, self.results[o][leaf])
            else:
                self.kb.store(slot, k, g.value(o, g.delinear(k, o.shape.dims)))

    def write_full_outputs(self, g: Elemental, kidx: Index, ridx: Index) -> None:
        idx = self.space.full_index(kidx, ridx)
        lin = None
        for slot, o, per_group, _ in self.outputs():
            if per_group:
                continue
            lin = lin or g.linear(idx, self.space.full)
            self.kb.store(slot, lin, g.value(o, idx))


def _shuffle_combine(kb: KernelBuilder, red: _Reduction, accs: Accumulators, all_lanes_hold_values: bool) -> None:
    """Tree over the 32 lanes of each warp with shuffles: lane 0 ends with the warp's value. When
    every lane took at least one element, the 'has a value' flags need no shuffles of their own."""
    em = kb.em
    with em.block("for (int off = 16; off > 0; off >>= 1)"):
        for r, (acc, has) in accs.items():
            other = [em.tmp(t, f"xm_shfl_down({a}, off)", "o") for t, a in zip(red.operand_types(r), acc)]
            if all_lanes_hold_values:
                new = inline_computation(em, r.attrs["to_apply"], acc + other)
                for a, v in zip(acc, new):
                    em.line(f"{a} = {v};")
                continue
            oh = em.tmp("bool", f"xm_shfl_down({has}, off)", "oh")
            red.combine(r, acc, has, other, oh)


SPLIT_MIN_ELEMENTS = 1 << 16  # reduced elements per row above which few rows split across blocks
SPLIT_CHUNK = 1 << 14  # elements per block of the first pass
SPLIT_MAX_PARTS = 512


def split_parts(comp: Computation) -> int:
    """How many blocks share each row of a reduction kernel, when few long rows would otherwise
    keep most of the GPU idle (a full reduction of a large array runs on one SM); 0: no split.
    Only single-phase kernels whose outputs are per row split: the first pass writes partial
    values, the second combines them and computes the outputs."""
    if not any(i.opcode is O.REDUCE for i in comp.instructions):
        return 0
    space = reduction_space(comp)
    if space.stray is not None or not space.row or space.nr < SPLIT_MIN_ELEMENTS or \
            space.nk * space.nr < 4 * SPLIT_MIN_ELEMENTS or space.nk > 64 or len(space.phases) != 1 or \
            space.has_full_outputs:
        return 0
    return max(2, min(-(-space.nr // SPLIT_CHUNK), SPLIT_MAX_PARTS))


def part_types(comp: Computation) -> list[str]:
    """C types of the partial-value arrays a split reduction passes between its two kernels: per
    reduce, one per operand, then its 'has a value' flags."""
    space = reduction_space(comp)
    out = []
    for r in space.reds:
        out += [C.value(o.shape.element_type) for o in space.inputs(r)] + ["xm_u8"]
    return out


def _part_names(red: _Reduction) -> dict[Instruction, tuple[list[str], str]]:
    return {r: ([f"part_{_cname(r)}_{j}" for j in range(red.space.n_operands(r))], f"parth_{_cname(r)}")
            for r in red.space.reds}


def _add_part_params(kb: KernelBuilder, red: _Reduction, const: bool, replace_outputs: bool) -> None:
    sig, ptypes = [], []
    for r in red.space.reds:
        names, hname = _part_names(red)[r]
        for name, t in zip(names + [hname], red.operand_types(r) + ["xm_u8"]):
            q = "const " if const else ""
            sig.append(f"{q}{t}* __restrict__ {name}")
            ptypes.append(f"{q}{t}*")
    n_in = len(kb.params)
    if replace_outputs:
        kb.sig, kb.ptypes = kb.sig[:n_in] + sig, kb.ptypes[:n_in] + ptypes
    else:
        kb.sig = kb.sig[:n_in] + sig + kb.sig[n_in:]
        kb.ptypes = kb.ptypes[:n_in] + ptypes + kb.ptypes[n_in:]


def define_split_reduction(name: str, hlo: str, comp: Computation, consts: Constants,
                           parts: int) -> tuple[KernelCode, KernelCode]:
    """The two kernels of a split reduction: partial values per (row, chunk), then per row."""
    kb1 = KernelBuilder(name + "_partial", hlo, comp, consts)
    red1 = _Reduction(kb1)
    _add_part_params(kb1, red1, const=False, replace_outputs=True)
    first = _row_schedule(kb1, red1, split=(parts, "partial"))
    first.n_in = len(comp.parameters)
    kb2 = KernelBuilder(name, hlo, comp, consts)
    red2 = _Reduction(kb2)
    _add_part_params(kb2, red2, const=True, replace_outputs=False)
    second = _row_schedule(kb2, red2, split=(parts, "final"))
    second.n_in = len(comp.parameters) + len(part_types(comp))
    return first, second


def _row_schedule(kb: KernelBuilder, red: _Reduction, split: tuple[int, str] | None = None) -> KernelCode:
    """Reduced dims innermost: one warp per kept index for short rows, one block for long ones.
    `split`: (parts, "partial" | "final"), the two passes of a row shared by `parts` blocks."""
    em = kb.em
    em.uses_sync = True
    space = red.space
    nk, nr = space.nk, space.nr
    group = 32 if nr <= 2048 else (256 if nr <= 32768 else 1024)
    parts, mode = split if split else (0, "")
    chunk = -(-nr // parts) if parts else 0
    if split:
        group = BLOCK
    if group == 32:
        em.line("const int lane = threadIdx.x & 31;")
        loop = (f"for (xm_i k = (xm_i)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5); k < {nk}; "
                f"k += (xm_i)gridDim.x * (blockDim.x >> 5))")
        member, step = "lane", 32
        block, grid = BLOCK, _grid(nk, BLOCK // 32)
    else:
        em.line("const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;")
        loop = f"for (xm_i k = blockIdx.x; k < {nk}; k += gridDim.x)"
        member, step = "threadIdx.x", group
        block, grid = group, max(1, min(nk, MAX_BLOCKS))
        for r in space.reds:
            for j, t in enumerate(red.operand_types(r)):
                em.line(f"__shared__ {t} sh_{_cname(r)}_{j}[32];")
            em.line(f"__shared__ bool shh_{_cname(r)}[32];")
    if mode == "partial":  # block b takes chunk b % parts of row b / parts
        loop = f"for (xm_i b = blockIdx.x; b < {nk * parts}; b += gridDim.x)"
        grid = max(1, min(nk * parts, MAX_BLOCKS))
    pn = _part_names(red)
    with em.block(loop):
        if mode == "partial":
            em.line(f"const xm_i k = b / {parts}, c = b % {parts};")
            em.line(f"const xm_i r_end = (c + 1) * {chunk} < {nr} ? (c + 1) * {chunk} : {nr};")
        g = kb.elemental(red.special)
        kidx = g.delinear("k", space.kept_dims)
        for phase in space.phases:
            accs = red.declare(phase)
            if mode == "final":  # the row's partial values, with their flags
                with em.block(f"for (xm_i r = {member}; r < {parts}; r += {step})"):
                    for r in phase:
                        names, hname = pn[r]
                        acc, has = accs[r]
                        vals = [em.tmp(t, f"{n}[k * {parts} + r]", "o") for n, t in zip(names, red.operand_types(r))]
                        red.combine(r, acc, has, vals, f"({hname}[k * {parts} + r] != 0)")
                full_lanes = False
            else:
                start, end = (f"c * {chunk} + {member}", "r_end") if mode == "partial" else (member, str(nr))
                with em.block(f"for (xm_i r = {start}; r < {end}; r += {step})"):
                    gi = kb.elemental(red.special)
                    ridx = gi.delinear("r", space.red_dims)
                    red.accumulate(gi, accs, space.full_index(kidx, ridx))
                full_lanes = nr >= group if not parts else nr - (parts - 1) * chunk >= group
            _shuffle_combine(kb, red, accs, full_lanes)
            if group == 32:
                for acc, has in accs.values():  # lane 0 holds the row's value: everyone takes it
                    for a in acc:
                        em.line(f"{a} = xm_shfl0({a});")
                    em.line(f"{has} = xm_shfl0({has});")
            else:
                with em.block("if (lane == 0)"):
                    for r, (acc, has) in accs.items():
                        for j, a in enumerate(acc):
                            em.line(f"sh_{_cname(r)}_{j}[warp] = {a};")
                        em.line(f"shh_{_cname(r)}[warp] = {has};")
                em.line("__syncthreads();")
                for r, (acc, has) in accs.items():  # every thread combines the warps' values in order
                    em.line(f"{has} = false;")
                    with em.block(f"for (int w = 0; w < {group // 32}; w++)"):
                        vals = [em.tmp(t, f"sh_{_cname(r)}_{j}[w]", "o") for j, t in enumerate(red.operand_types(r))]
                        red.combine(r, acc, has, vals, f"shh_{_cname(r)}[w]")
                em.line("__syncthreads();")
            if mode == "partial":
                with em.block("if (threadIdx.x == 0)"):
                    for r, (acc, has) in accs.items():
                        names, hname = pn[r]
                        for n, a in zip(names, acc):
                            em.line(f"{n}[b] = {a};")
                        em.line(f"{hname}[b] = {has};")
                continue
            red.finalize(g, accs)
        if mode != "partial":  # (the first pass of a split writes partial values only)
            _row_outputs(kb, red, member, step, kidx)
    if mode == "partial":
        return kb.finish(f"row/split{parts}-partial", grid, (block,))
    sched = "row/warp" if group == 32 else f"row/block{group}"
    if mode == "final":
        sched = f"row/split{parts}-final"
    return kb.finish(sched, grid, (block,))


def _row_outputs(kb: KernelBuilder, red: _Reduction, member: str, step: int, kidx: Index) -> None:
    em, nr = kb.em, red.space.nr
    with em.block(f"if ({member} == 0)"):
        red.write_group_outputs(kb.elemental(red.special), "k")
    if red.space.has_full_outputs:
        with em.block(f"for (xm_i r = {member}; r < {nr}; r += {step})"):
            gi = kb.elemental(red.special)
            red.write_full_outputs(gi, kidx, gi.delinear("r", red.space.red_dims))


def _cname(i: Instruction) -> str:
    return "".join(c if c.isalnum() else "_" for c in i.name)


def _column_schedule(kb: KernelBuilder, red: _Reduction) -> KernelCode:
    """Kept dims innermost: x runs along 32 kept elements (coalesced), y splits the reduced ones."""
    em = kb.em
    em.uses_sync = True
    space = red.space
    nk, nr = space.nk, space.nr
    ty = 8
    for r in space.reds:
        for j, t in enumerate(red.operand_types(r)):
            em.line(f"__shared__ {t} sh_{_cname(r)}_{j}[{ty}][{TILE + 1}];")
        em.line(f"__shared__ bool shh_{_cname(r)}[{ty}][{TILE + 1}];")
    with em.block(f"for (xm_i kb = (xm_i)blockIdx.x * {TILE}; kb < {nk}; kb += (xm_i)gridDim.x * {TILE})"):
        em.line(f"const xm_i k = kb + threadIdx.x; const bool active = k < {nk};")
        em.line("const xm_i kc = active ? k : 0;  // inactive threads read in bounds and write nothing")
        g = kb.elemental(red.special)
        kidx = g.delinear("kc", space.kept_dims)
        for phase in space.phases:
            accs = red.declare(phase)
            with em.block(f"for (xm_i r = threadIdx.y; active && r < {nr}; r += {ty})"):
                gi = kb.elemental(red.special)
                red.accumulate(gi, accs, space.full_index(kidx, gi.delinear("r", space.red_dims)))
            for r, (acc, has) in accs.items():
                for j, a in enumerate(acc):
                    em.line(f"sh_{_cname(r)}_{j}[threadIdx.y][threadIdx.x] = {a};")
                em.line(f"shh_{_cname(r)}[threadIdx.y][threadIdx.x] = {has};")
            em.line("__syncthreads();")
            for r, (acc, has) in accs.items():
                em.line(f"{has} = false;")
                with em.block(f"for (int y = 0; y < {ty}; y++)"):
                    vals = [em.tmp(t, f"sh_{_cname(r)}_{j}[y][threadIdx.x]", "o")
                            for j, t in enumerate(red.operand_types(r))]
                    red.combine(r, acc, has, vals, f"shh_{_cname(r)}[y][threadIdx.x]")
            em.line("__syncthreads();")
            red.finalize(g, accs)
        with em.block("if (active && threadIdx.y == 0)"):
            red.write_group_outputs(kb.elemental(red.special), "k")
        if space.has_full_outputs:
            with em.block(f"for (xm_i r = threadIdx.y; active && r < {nr}; r += {ty})"):
                gi = kb.elemental(red.special)
                red.write_full_outputs(gi, kidx, gi.delinear("r", space.red_dims))
    return kb.finish("column", _grid(nk, TILE), (TILE, ty))


# --- reduce-window ---------------------------------------------------------------------------

def _window_kernel(kb: KernelBuilder) -> KernelCode:
    """XLA's reduce-window of N operands at once (N = 1, or a tuple of N results): one thread per
    output index keeps N accumulators, started at the N inits, and takes every in-bounds window
    element through the reducer (2N scalars in, N out)."""
    rw = kb.outputs[0]
    if len(kb.outputs) != 1 or rw.opcode is not O.REDUCE_WINDOW:
        raise Unsupported("reduce-window kernels with several outputs")
    n_ops = len(rw.operands) // 2
    operands, inits = rw.operands[:n_ops], rw.operands[n_ops:]
    win = rw.attrs["window"].dims
    in_dims = operands[0].shape.dims
    leaves = rw.shape.leaves()
    out_dims = leaves[0].dims
    em = kb.em
    n = leaves[0].size
    with em.block(_grid_stride("lin", n)):
        g = kb.elemental()
        oidx = g.delinear("lin", out_dims)
        accs = [em.var(C.value(leaf.element_type), g.value(init_v, []), "acc") for leaf, init_v in zip(leaves, inits)]
        widx = []
        for k, w in enumerate(win):
            em.line(f"for (xm_i w{k} = 0; w{k} < {w.size}; w{k}++) {{")
            em.depth += 1
            em.scopes.append({})
            widx.append(f"w{k}")
        conds, src = [], []
        for o, w, wd, dim in zip(oidx, widx, win, in_dims):
            p = em.tmp("long long", f"(long long){o} * {wd.stride} + {w} * {wd.window_dilation} - {wd.pad_lo}", "s")
            if wd.base_dilation != 1:
                conds.append(f"{p} % {wd.base_dilation} == 0")
                p = em.tmp("long long", f"{p} / {wd.base_dilation}", "s")
            conds.append(f"{p} >= 0 && {p} < {dim}")
            src.append(f"(xm_i){p}")
        with em.block(f"if ({' && '.join(conds) or 'true'})"):
            gi = kb.elemental()
            at = [gi.tmp_index(s) for s in src]
            vals = [gi.value(operand, at) for operand in operands]
            new = inline_computation(em, rw.attrs["to_apply"], accs + vals)
            # Every new value is computed before any accumulator changes: the reducer reads them all.
            fresh = [em.var(C.value(leaf.element_type), v, "n") for leaf, v in zip(leaves, new)] if n_ops > 1 else new
            for acc, v in zip(accs, fresh):
                em.line(f"{acc} = {v};")
        for _ in win:
            em.scopes.pop()
            em.depth -= 1
            em.line("}")
        for slot, acc in enumerate(accs):
            kb.store(slot, "lin", acc)
    return kb.finish("window", _grid(n), (BLOCK,))


# --- dynamic-update-slice in place -----------------------------------------------------------

def update_reads_operand(comp: Computation) -> bool:
    """Does the update of an in-place dynamic-update-slice read the buffer it updates? Then threads
    writing the slice could change what others read: the kernel must not run in place."""
    dus = comp.root
    operand = dus.operands[0]
    return any(operand in i.operands for i in comp.instructions if i is not dus)


def _dus_kernel(kb: KernelBuilder) -> KernelCode:
    dus = kb.outputs[0]
    operand, update = dus.operands[0], dus.operands[1]
    if operand.opcode is not O.PARAMETER:
        raise Unsupported("dynamic-update-slice of a computed operand as a kernel root")
    em = kb.em
    n = update.shape.size
    with em.block(_grid_stride("lin", n)):
        g = kb.elemental()
        starts = update_starts(g, dus)
        uidx = g.delinear("lin", update.shape.dims)
        idx = [g.let(g.add(s, u)) for s, u in zip(starts, uidx)]
        kb.store(0, g.linear(idx, dus.shape.dims), g.value(update, uidx))
    return kb.finish("in-place update", _grid(n), (BLOCK,))


# --- scatter ---------------------------------------------------------------------------------

_COMMUTATIVE = {"add", "multiply", "maximum", "minimum", "and", "or", "xor"}


def _scatter_kernel(kb: KernelBuilder) -> KernelCode:
    """Scatter of N operands (the program copies them to the outputs first). Commutative
    combiners of one operand of 4- or 8-byte values: every update element on its own thread,
    applied with a compare-and-swap loop. Anything else: one thread, in XLA's update order
    (scatter index by scatter index, the window within)."""
    sc = kb.outputs[0]
    n_ops = len(sc.operands) // 2
    operands, indices, updates = sc.operands[:n_ops], sc.operands[n_ops], sc.operands[n_ops + 1:]
    operand = operands[0]
    a = sc.attrs
    sd = scatter_dims(sc)
    dt = operand.shape.element_type
    kind = simple_reducer(a["to_apply"]) if n_ops == 1 else None
    parallel = kind in _COMMUTATIVE and dt.bits in (32, 64) and dt.kind != "pred"
    if kind is not None and a.get("unique_indices") and dt.bits in (32, 64):
        parallel = True
    em = kb.em
    udims = updates[0].shape.dims
    n = updates[0].shape.size
    order = list(sd.update_scatter_dims) + list(sd.update_window_dims)
    loop = _grid_stride("lin", n) if parallel else f"for (xm_i lin = 0; lin < {n}; lin++)"
    with em.block(loop):
        g = kb.elemental()
        ordered = g.delinear("lin", [udims[d] for d in order])
        uidx = [ordered[order.index(d)] for d in range(len(udims))]
        full, ok = scatter_target(g, sd, indices, operand.shape.dims, uidx)
        with em.block(f"if ({ok})"):
            gi = kb.elemental()
            lin = gi.linear(full, operand.shape.dims)
            vals = [gi.value(u, uidx) for u in updates]
            if parallel and kind in _COMMUTATIVE:
                out = kb.out_names[0]
                w = "unsigned" if dt.bits == 32 else "unsigned long long"
                em.line(f"{w}* addr = reinterpret_cast<{w}*>(&{out}[{lin}]);")
                em.line(f"{w} old = *addr, assumed;")
                with em.block("do"):
                    em.line("assumed = old;")
                    cur = em.tmp(C.value(dt), _from_word(dt, "assumed"), "c")
                    (new,) = inline_computation(em, a["to_apply"], [cur, vals[0]])
                    em.line(f"old = atomicCAS(addr, assumed, ({w}){_to_word(dt, new)});")
                em.lines[-1] += " while (assumed != old);"
            else:
                curs = [em.tmp(C.value(o.shape.element_type), C.load(o.shape.element_type, kb.out_names[k], lin), "c")
                        for k, o in enumerate(operands)]
                news = inline_computation(em, a["to_apply"], curs + vals)
                for k, v in enumerate(news):
                    kb.store(k, lin, v)
    return kb.finish("scatter/atomic" if parallel else "scatter/ordered", _grid(n) if parallel else 1,
                     (BLOCK,) if parallel else (1,))


def _to_word(dt: DType, v: str) -> str:
    if dt.name == "f32":
        return f"xm_fbits({v})"
    if dt.name == "f64":
        return f"(xm_u64)xm_dbits({v})"
    return v


def _from_word(dt: DType, w: str) -> str:
    if dt.name == "f32":
        return f"xm_bitsf({w})"
    if dt.name == "f64":
        return f"xm_bitsd((long long){w})"
    return f"({C.value(dt)}){w}"


# --- sort and top-k: the rank of every element ------------------------------------------------

def _rank_kernel(kb: KernelBuilder, operands: list[Instruction], dim: int, less, k_out: int | None,
                 extra_index_output: bool) -> None:
    """Each thread takes one element, counts the elements of its row that go first (by `less`,
    ties by position: a stable order), and writes itself at that rank (if below k_out)."""
    em = kb.em
    dims = operands[0].shape.dims
    n = dims[dim]
    total = prod(dims)
    with em.block(_grid_stride("lin", total)):
        g = kb.elemental()
        idx = g.delinear("lin", dims)
        mine = [g.value(o, idx) for o in operands]
        rank = em.var("xm_i", "0", "rank")
        with em.block(f"for (xm_i j = 0; j < {n}; j++)"):
            gj = kb.elemental()
            jidx = [("j" if d == dim else v) for d, v in enumerate(idx)]
            theirs = [gj.value(o, jidx) for o in operands]
            before = less(theirs, mine, "j", idx[dim])
            after = less(mine, theirs, idx[dim], "j")
            em.line(f"{rank} += ({before} || (!{after} && j < {idx[dim]})) ? 1 : 0;")
        out_dims = list(dims)
        if k_out is not None:
            out_dims[dim] = k_out
            em.line(f"if ({rank} >= {k_out}) continue;")
        oidx = [(rank if d == dim else v) for d, v in enumerate(idx)]
        lin = g.linear(oidx, out_dims)
        for slot, v in enumerate(mine):
            kb.store(slot, lin, v)
        if extra_index_output:
            kb.store(len(mine), lin, f"({C.value(kb.slot_types[len(mine)])}){idx[dim]}")


def _sort_kernel(kb: KernelBuilder) -> KernelCode:
    s = kb.outputs[0]
    dim = int(s.attrs["dimensions"][0]) if s.attrs.get("dimensions") else s.operands[0].shape.rank - 1
    cmp = s.attrs["to_apply"]

    def less(x, y, xi, yi):
        args = [v for pair in zip(x, y) for v in pair]
        (r,) = inline_computation(kb.em, cmp, args)
        return r

    _rank_kernel(kb, list(s.operands), dim, less, None, False)
    return kb.finish("sort/rank", _grid(s.operands[0].shape.size), (BLOCK,))


def _topk_kernel(kb: KernelBuilder) -> KernelCode:
    t = kb.outputs[0]
    x = t.operands[0]
    values, indices = t.shape.leaves()
    k = values.dims[-1]
    comps = t.attrs.get("called_computations") or ()
    comparator = comps[0] if t.opcode is O.CUSTOM_CALL and comps else None
    largest = bool(t.attrs.get("largest", True))
    dt = x.shape.element_type
    idt = C.value(indices.element_type)

    def less(a, b, ai, bi):
        if comparator is not None:  # the comparator sees (x_a, x_b, index_a, index_b)
            (r,) = inline_computation(kb.em, comparator, [a[0], b[0], f"({idt}){ai}", f"({idt}){bi}"])
            return r
        ka, kb_ = (f"xm_tokey({a[0]})", f"xm_tokey({b[0]})") if dt.kind == "f" else (a[0], b[0])
        return f"({ka} {'>' if largest else '<'} {kb_})"

    _rank_kernel(kb, [x], x.shape.rank - 1, less, k, True)
    return kb.finish("top-k/rank", _grid(x.shape.size), (BLOCK,))


# --- dot (small shapes) and convolution: one thread per output element ------------------------

def _accumulator(dt: DType) -> tuple[str, str]:
    """(C type, zero) in which a dot or convolution sums its products."""
    if dt.kind == "f":
        return ("double", "0.0") if dt.name == "f64" else ("float", "0.0f")
    if dt.kind == "pred":
        return "int", "0"
    return C.value(dt), "0"


def _mul_add(dt: DType, acc: str, a: str, b: str) -> str:
    if dt.kind in ("s", "u"):
        w = C.WIDE_UNSIGNED[dt.name]
        return f"{acc} = ({C.value(dt)})(({w}){acc} + ({w}){a} * ({w}){b});"
    if dt.kind == "pred":
        return f"{acc} += ({a} && {b}) ? 1 : 0;"
    return f"{acc} += {a} * {b};"


def _finish_acc(dt: DType, acc: str) -> str:
    if dt.kind == "pred":
        return f"({acc} != 0)"
    return C.round_narrow(dt, acc)


def _dot_kernel(kb: KernelBuilder) -> KernelCode:
    d = kb.outputs[0]
    lhs, rhs = d.operands
    ls, rs = lhs.shape.dims, rhs.shape.dims
    lb, rb = d.attrs.get("lhs_batch_dims", ()), d.attrs.get("rhs_batch_dims", ())
    lc, rc = d.attrs.get("lhs_contracting_dims", ()), d.attrs.get("rhs_contracting_dims", ())
    lf = [x for x in range(len(ls)) if x not in lb and x not in lc]
    rf = [x for x in range(len(rs)) if x not in rb and x not in rc]
    cdims = [ls[x] for x in lc]
    kk = prod(cdims)
    dt = d.shape.element_type
    at, zero = _accumulator(dt)
    em = kb.em
    n = d.shape.size
    with em.block(_grid_stride("lin", n)):
        g = kb.elemental()
        oidx = g.delinear("lin", d.shape.dims)
        nb = len(lb)
        bidx, fl, fr = oidx[:nb], oidx[nb:nb + len(lf)], oidx[nb + len(lf):]
        acc = em.var(at, zero, "acc")
        with em.block(f"for (xm_i c = 0; c < {kk}; c++)"):
            gi = kb.elemental()
            cidx = gi.delinear("c", cdims)
            li, ri = [""] * len(ls), [""] * len(rs)
            for x, v in zip(lb, bidx):
                li[x] = v
            for x, v in zip(rb, bidx):
                ri[x] = v
            for x, v in zip(lf, fl):
                li[x] = v
            for x, v in zip(rf, fr):
                ri[x] = v
            for x, y, v in zip(lc, rc, cidx):
                li[x] = v
                ri[y] = v
            a = gi.value(lhs, li)
            b = gi.value(rhs, ri)
            if dt.kind == "f" and lhs.shape.dtype != dt:
                a, b = f"({at}){a}", f"({at}){b}"
            em.line(_mul_add(dt, acc, a, b))
        kb.store(0, "lin", _finish_acc(dt, acc))
    return kb.finish("dot/generated", _grid(n), (BLOCK,))


def _convolution_kernel(kb: KernelBuilder) -> KernelCode:
    cv = kb.outputs[0]
    lhs, rhs = cv.operands
    dl = cv.attrs.get("dim_labels")
    if dl is None:
        raise Unsupported("convolution without dim_labels")
    nsp = len(dl.input_spatial)
    win = cv.attrs["window"].dims if nsp else ()
    fg = int(cv.attrs.get("feature_group_count", 1))
    bg = int(cv.attrs.get("batch_group_count", 1))
    ls, rs, os_ = lhs.shape.dims, rhs.shape.dims, cv.shape.dims
    n_out_feat = os_[dl.output_feature]
    n_in_kfeat = rs[dl.kernel_input_feature]
    out_batch = os_[dl.output_batch]
    dt = cv.shape.element_type
    at, zero = _accumulator(dt)
    em = kb.em
    n = cv.shape.size
    with em.block(_grid_stride("lin", n)):
        g = kb.elemental()
        oidx = g.delinear("lin", os_)
        b, o = oidx[dl.output_batch], oidx[dl.output_feature]
        if bg > 1:
            nin = g.tmp_index(f"({o} / {n_out_feat // bg}) * {out_batch} + {b}")
        else:
            nin = b
        cbase = g.tmp_index(f"({o} / {n_out_feat // fg}) * {n_in_kfeat}") if fg > 1 else "0"
        acc = em.var(at, zero, "acc")
        em.line(f"for (xm_i ci = 0; ci < {n_in_kfeat}; ci++) {{")
        em.depth += 1
        em.scopes.append({})
        depth0 = 1
        for k, w in enumerate(win):
            em.line(f"for (xm_i w{k} = 0; w{k} < {w.size}; w{k}++) {{")
            em.depth += 1
            em.scopes.append({})
            depth0 += 1
        conds, src = [], []
        for k, w in enumerate(win):
            s = oidx[dl.output_spatial[k]]
            p = em.tmp("long long", f"(long long){s} * {w.stride} + w{k} * {w.window_dilation} - {w.pad_lo}", "s")
            if w.base_dilation != 1:
                conds.append(f"{p} % {w.base_dilation} == 0")
                p = em.tmp("long long", f"{p} / {w.base_dilation}", "s")
            conds.append(f"{p} >= 0 && {p} < {ls[dl.input_spatial[k]]}")
            src.append(p)
        with em.block(f"if ({' && '.join(conds) or 'true'})"):
            gi = kb.elemental()
            li, ri = [""] * len(ls), [""] * len(rs)
            li[dl.input_batch] = nin
            li[dl.input_feature] = gi.tmp_index(f"{cbase} + ci") if cbase != "0" else "ci"
            ri[dl.kernel_output_feature] = o
            ri[dl.kernel_input_feature] = "ci"
            for k, w in enumerate(win):
                li[dl.input_spatial[k]] = gi.tmp_index(f"(xm_i){src[k]}")
                ri[dl.kernel_spatial[k]] = f"({w.size - 1} - w{k})" if w.reversal else f"w{k}"
            a, bv = gi.value(lhs, li), gi.value(rhs, ri)
            if dt.kind == "f" and lhs.shape.dtype != dt:
                a, bv = f"({at}){a}", f"({at}){bv}"
            em.line(_mul_add(dt, acc, a, bv))
        for _ in range(depth0):
            em.scopes.pop()
            em.depth -= 1
            em.line("}")
        kb.store(0, "lin", _finish_acc(dt, acc))
    return kb.finish("convolution/generated", _grid(n), (BLOCK,))


# --- choosing the schedule -------------------------------------------------------------------

def _unsupported(bad: Instruction) -> Unsupported:
    what = bad.attrs.get("custom_call_target", "") if bad.opcode is O.CUSTOM_CALL else ""
    return Unsupported(f"{bad.opcode.value} {what}('{bad.name}')".replace("  ", " "))


def _rejected(kb: KernelBuilder) -> KernelCode:
    """Kinds only the cpu backend has (select-and-scatter, host calls into Python)."""
    raise _unsupported(kb.comp.root)


def _checked_loop_kernel(kb: KernelBuilder) -> KernelCode:
    bad = not_in_loops(kb.comp)
    if bad is not None:
        raise _unsupported(bad)
    t = _transpose_candidate(kb)
    if t is not None:
        return _transpose_kernel(kb, t)
    return _loop_kernel(kb)


_EMITTERS: dict[KernelKind, Callable[[KernelBuilder], KernelCode]] = {
    KernelKind.LOOP: _checked_loop_kernel,
    KernelKind.ROW_REDUCTION: lambda kb: _row_schedule(kb, _Reduction(kb)),
    KernelKind.COLUMN_REDUCTION: lambda kb: _column_schedule(kb, _Reduction(kb)),
    KernelKind.WINDOW: _window_kernel,
    KernelKind.IN_PLACE_UPDATE: _dus_kernel,
    KernelKind.SCATTER: _scatter_kernel,
    KernelKind.SORT: _sort_kernel,
    KernelKind.TOP_K: _topk_kernel,
    KernelKind.DOT: _dot_kernel,
    KernelKind.CONVOLUTION: _convolution_kernel,
    KernelKind.SELECT_AND_SCATTER: _rejected,
    KernelKind.HOST_CALL: _rejected,
}


def define_kernel(name: str, hlo: str, comp: Computation, consts: Constants, in_place: bool = False) -> KernelCode:
    """The CUDA function computing `comp`'s root leaves from its parameters. A dynamic-update-slice
    root runs in place only when the program gives it its operand's buffer (`in_place`); so may a
    scatter."""
    kind = classify(comp, update_in_place=in_place)
    # An in-place update's threads read and write one buffer: no __restrict__.
    kb = KernelBuilder(name, hlo, comp, consts, restrict=not in_place and kind is not KernelKind.IN_PLACE_UPDATE)
    return _EMITTERS[kind](kb)


__all__ = ["KernelCode", "define_kernel", "update_reads_operand", "linear_expr", "strides"]
