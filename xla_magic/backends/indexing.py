"""Index arithmetic of the elemental emitters, written once for both code generators.

The value of a fused indexing instruction (broadcast, reshape, transpose, slice, pad,
concatenate, reverse, iota, dynamic-slice, dynamic-update-slice, gather) at an output index is
the value of an operand at an index computed from it; `INDEX_RULES` holds that computation per
opcode. A rule is generic in the backend's value type `V` (llvmlite values on the cpu, C
expressions on the gpu) and reaches the backend only through `Elements[V]`: index arithmetic
(`IndexOps`), plus reading an operand's value at an index.

Nothing reads outside a buffer: pads, concatenations and dynamic-update-slices clamp the index of
the operand they do not take and select, dynamic starts are clamped as XLA clamps them, gather
indices are clamped into range (scatter skips out-of-range windows instead). The scatter and
in-place dynamic-update-slice kernels of both backends find where an update element goes with the
same rules (`scatter_target`, `update_starts`).

Index values live in the backend's index type (the gpu's may be 32-bit). Arithmetic that can
leave the index range (a pad's position relative to its operand, a dynamic start read from an
operand) is done on `wide` values, signed 64-bit, and comes back through `clamp`.

Rules never call back into the emitter for an operand's value: they are generators that yield the
reads they need (`Read`: an instruction and an index) and receive the values. `drive` runs them on
an explicit stack, so a fused chain of any length costs no Python stack (XLA's emitter recurses
per operand; ours must not, since a traced loop of a few hundred steps makes one such chain)."""
from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from functools import reduce
from math import prod
from typing import Literal, Protocol, TypeVar

from ..hlo.dtypes import DType
from ..hlo.ir import Instruction
from ..hlo.opcodes import Opcode as O
from ..hlo.shape import row_major_strides
from .kernel_shapes import ScatterDims, gather_dims

V = TypeVar("V")
R = TypeVar("R")

# A value the rule needs: `instr` at `index` (the emitter answers with the value).
Read = tuple[Instruction, list[V]]
# A computation that yields reads, is sent their values, and returns an R.
Steps = Generator[Read[V], V, R]

# What a named value holds: an index, a wide (signed 64-bit) index, or a predicate.
Kind = Literal["index", "wide", "pred"]


class IndexArith(Protocol[V]):
    """Arithmetic on index values, with no side effects. Implementations fold the trivial cases
    (x + 0, x * 1, x / 1, true && p) so that rules need not test for them. Division and remainder
    are by positive constants and only of values >= 0 wherever the result is used."""

    def const(self, c: int) -> V: ...
    def add(self, a: V, b: V) -> V: ...
    def sub(self, a: V, b: V) -> V: ...
    def mul(self, a: V, c: int) -> V: ...
    def div(self, a: V, c: int) -> V: ...
    def rem(self, a: V, c: int) -> V: ...
    def lt(self, a: V, b: V) -> V: ...
    def le(self, a: V, b: V) -> V: ...
    def ge(self, a: V, b: V) -> V: ...
    def eq(self, a: V, b: V) -> V: ...
    def true(self) -> V: ...
    def and_(self, a: V, b: V) -> V: ...


class IndexOps(IndexArith[V], Protocol[V]):
    """What index rules need of index values: arithmetic, clamping, widening, naming."""

    def clamp(self, v: V, lo: int, hi: int) -> V:
        """A (wide) value clamped into [lo, hi], as an index."""
        ...

    def wide(self, v: V) -> V:
        """An index as a signed 64-bit value."""
        ...

    def narrow(self, v: V) -> V:
        """A wide value known to lie inside a dimension, as an index (no clamping)."""
        ...

    def element_index(self, dt: DType, v: V) -> V:
        """An integer element (of type `dt`) as a wide index: signed types sign-extend, unsigned
        ones zero-extend; a u64 at or above 2^63 saturates to 2^63 - 1 (XLA reads it unsigned: past
        the end, so a start clamps to the last position and a scatter window is out of bounds)."""
        ...

    def let(self, v: V, kind: Kind = "index") -> V:
        """`v`, computed once: a text backend names it, an SSA backend has nothing to do."""
        ...


class Elements(IndexOps[V], Protocol[V]):
    """An elemental emitter as the rules see it: index arithmetic and the values of operands."""

    def value(self, instr: Instruction, index: Sequence[V]) -> V: ...

    def choose(self, p: V, a: V, b: V, dt: DType) -> V:
        """Element `a` where `p` holds, else `b` (both of type `dt`)."""
        ...

    def linear(self, index: Sequence[V], dims: Sequence[int]) -> V: ...
    def delinear(self, lin: V, dims: Sequence[int]) -> list[V]: ...

    def index_value(self, v: V, dt: DType) -> V:
        """An index converted to an element of type `dt` (iota)."""
        ...


class Rule(Protocol):
    """The value of an indexing instruction at `index`, from the operand values it yields for."""

    def __call__(self, g: Elements[V], instr: Instruction, index: Sequence[V]) -> Steps[V, V]: ...


def drive(top: Steps[V, R], steps: Callable[[Instruction, list[V]], Steps[V, V]]) -> R:
    """What `top` returns, each read it (or a computation it starts) yields answered by running
    `steps(instr, index)` first: a depth-first walk of the operand graph on an explicit stack,
    in the order plain recursion would take, so the emitted code is the same."""
    stack: list[Steps[V, V]] = []
    try:
        read = next(top)
    except StopIteration as done:
        return done.value
    while True:
        new = steps(*read)
        try:
            read = next(new)
            stack.append(new)
            continue
        except StopIteration as done:
            v: V = done.value
        # Hand `v` to whoever asked for it, and on up while computations finish.
        while True:
            try:
                read = (stack[-1] if stack else top).send(v)
                break
            except StopIteration as done:
                if not stack:
                    return done.value
                stack.pop()
                v = done.value


# --- helpers shared by the rules and the backends --------------------------------------------

def linearize(ops: IndexArith[V], index: Sequence[V], dims: Sequence[int]) -> V:
    """The row-major offset of a multi-index. Dimensions of size 1 add nothing (their index is 0),
    nor do any when some dimension is 0 (there is no element)."""
    lin = ops.const(0)
    for v, s, d in zip(index, row_major_strides(dims), dims):
        if d != 1 and s != 0:
            lin = ops.add(lin, ops.mul(v, s))
    return lin


def delinearize(ops: IndexOps[V], lin: V, dims: Sequence[int]) -> list[V]:
    """The multi-index of a row-major offset below the size of `dims`: the outermost dimension
    that matters needs no remainder."""
    total = prod(dims)
    out = []
    for d, s in zip(dims, row_major_strides(dims)):
        if d <= 1:
            out.append(ops.const(0))
            continue
        q = ops.div(lin, s)
        out.append(ops.let(q if s * d >= total else ops.rem(q, d)))
    return out


def all_of(ops: IndexArith[V], conds: Sequence[V]) -> V:
    """The conjunction of `conds` (true when there are none)."""
    return reduce(ops.and_, conds, ops.true())


def _index_vector(g: Elements[V], indices: Instruction, ivd: int, batch_index: Sequence[V],
                  k: int) -> Steps[V, V]:
    """Component k of the index vector of a gather or scatter, at the batch position
    `batch_index` of the indices array (the indices without their index_vector_dim), wide."""
    idt = _dtype(indices)
    if ivd >= indices.shape.rank:  # an implicit trailing index vector of one component
        return g.element_index(idt, (yield indices, list(batch_index)))
    pos, bi = [], iter(batch_index)
    for d in range(indices.shape.rank):
        pos.append(g.const(k) if d == ivd else next(bi))
    return g.element_index(idt, (yield indices, pos))


def operand_values(instr: Instruction, index: list[V]) -> Steps[V, list[V]]:
    """The operands of an elementwise instruction at `index`; a scalar operand (select's
    predicate, clamp's bounds) stands for every element."""
    out = []
    for o in instr.operands:
        out.append((yield o, [] if o.shape.rank == 0 else index))
    return out

def changes_width(instr: Instruction) -> bool:
    """A bitcast-convert between element widths (the other bitcast-converts are elementwise)."""
    return (instr.opcode is O.BITCAST_CONVERT
            and _dtype(instr).bits != _dtype(instr.operands[0]).bits)


def bitcast_widths(g: IndexArith[V], instr: Instruction, index: Sequence[V],
                   piece: Callable[[DType, DType, V, V], V],
                   join: Callable[[DType, DType, list[V]], V]) -> Steps[V, V]:
    """XLA's bitcast-convert between widths: narrowing adds a minor dimension of the width ratio
    (output (..., k) is `piece` k of operand (...)); widening removes it (output (...) is the
    `join` of operand (..., 0..r-1)). Every read is inside the operand: k < r by the output's
    shape. The backend's `piece`/`join` do the bit work."""
    operand = instr.operands[0]
    src, dst = _dtype(operand), _dtype(instr)
    if src.bits > dst.bits:
        x = yield operand, list(index[:-1])
        return piece(src, dst, x, index[-1])
    pieces = []
    for j in range(operand.shape.dims[-1]):
        pieces.append((yield operand, [*index, g.const(j)]))
    return join(src, dst, pieces)


def _dtype(instr: Instruction) -> DType:
    dt = instr.shape.dtype
    assert dt is not None, f"'{instr.name}' is a tuple"
    return dt


def dynamic_starts(g: Elements[V], operand: Instruction, starts: Sequence[Instruction],
                   sizes: Sequence[int]) -> Steps[V, list[V]]:
    """The start indices of a dynamic-slice or dynamic-update-slice of `sizes` in `operand`, read
    from the scalar `starts` (of any integer type) and clamped as XLA clamps them: the slice stays
    inside."""
    out = []
    for s, dim, size in zip(starts, operand.shape.dims, sizes):
        out.append(g.clamp(g.element_index(_dtype(s), (yield s, [])), 0, dim - size))
    return out


def update_starts(g: Elements[V], dus: Instruction) -> list[V]:
    """Where a dynamic-update-slice puts its update in its operand."""
    return drive(_update_starts(g, dus), _reader(g))



def _reader(g: Elements[V]) -> Callable[[Instruction, list[V]], Steps[V, V]]:
    """Reads answered by `g.value` (itself free of recursion), for the helpers kernels call."""
    def read(instr: Instruction, index: list[V]) -> Steps[V, V]:
        return g.value(instr, index)
        yield  # a computation that reads nothing itself

    return read

def _update_starts(g: Elements[V], dus: Instruction) -> Steps[V, list[V]]:
    return (yield from dynamic_starts(g, dus.operands[0], dus.operands[2:], dus.operands[1].shape.dims))


def scatter_target(g: Elements[V], sd: ScatterDims, indices: Instruction, odims: Sequence[int],
                   uidx: Sequence[V]) -> tuple[list[V], V]:
    """Where an update element of a scatter goes in the operand, and whether its whole window is
    inside the operand (XLA skips windows that are not; the index is meaningful only where they
    are)."""
    return drive(_scatter_target(g, sd, indices, odims, uidx), _reader(g))


def _scatter_target(g: Elements[V], sd: ScatterDims, indices: Instruction, odims: Sequence[int],
                    uidx: Sequence[V]) -> Steps[V, tuple[list[V], V]]:
    sidx = [uidx[d] for d in sd.update_scatter_dims]
    start = [g.const(0)] * len(odims)  # wide: index vectors may hold anything
    full = [g.const(0)] * len(odims)
    for k in range(sd.n_index):
        d = sd.scatter_dims_to_operand_dims[k]
        start[d] = g.let((yield from _index_vector(g, indices, sd.index_vector_dim, sidx, k)), "wide")
        full[d] = g.narrow(start[d])
    for od, idd in zip(sd.input_batching_dims, sd.scatter_indices_batching_dims):
        full[od] = sidx[sd.index_dims.index(idd)]
        start[od] = g.wide(full[od])
    ok = all_of(g, [c for d, s in enumerate(start)
                    for c in (g.ge(s, g.const(0)), g.le(s, g.const(odims[d] - sd.window_size[d])))])
    for od, ud in zip(sd.window_operand_dims, sd.update_window_dims):
        full[od] = g.add(full[od], uidx[ud])
    return full, ok


# --- the rules -------------------------------------------------------------------------------

def _broadcast(g: Elements[V], instr: Instruction, index: Sequence[V]) -> Steps[V, V]:
    return (yield instr.operands[0], [index[d] for d in instr.attrs["dimensions"]])


def _reshape(g: Elements[V], instr: Instruction, index: Sequence[V]) -> Steps[V, V]:
    src = instr.operands[0].shape.dims
    dst = instr.shape.dims
    # Adding or dropping 1-sized dimensions keeps the other indices as they are (no div/mod).
    if [d for d in src if d != 1] == [d for d in dst if d != 1]:
        kept = iter([v for v, d in zip(index, dst) if d != 1])
        return (yield instr.operands[0], [next(kept) if d != 1 else g.const(0) for d in src])
    return (yield instr.operands[0], g.delinear(g.linear(index, dst), src))


def _transpose(g: Elements[V], instr: Instruction, index: Sequence[V]) -> Steps[V, V]:
    perm = instr.attrs["dimensions"]
    src = list(index)
    for j, p in enumerate(perm):
        src[p] = index[j]
    return (yield instr.operands[0], src)


def _slice(g: Elements[V], instr: Instruction, index: Sequence[V]) -> Steps[V, V]:
    src = [g.let(g.add(g.mul(v, stride), g.const(start)))
           for v, (start, _, stride) in zip(index, instr.attrs["slice"])]
    return (yield instr.operands[0], src)


def _reverse(g: Elements[V], instr: Instruction, index: Sequence[V]) -> Steps[V, V]:
    dims = instr.shape.dims
    rev = set(instr.attrs["dimensions"])
    return (yield instr.operands[0], [g.let(g.sub(g.const(dims[k] - 1), v)) if k in rev else v
                                      for k, v in enumerate(index)])


def _iota(g: Elements[V], instr: Instruction, index: Sequence[V]) -> Steps[V, V]:
    return g.index_value(index[instr.attrs["iota_dimension"]], _dtype(instr))
    yield  # reads nothing


def _pad(g: Elements[V], instr: Instruction, index: Sequence[V]) -> Steps[V, V]:
    operand, padval = instr.operands
    src, conds = [], []
    for v, (lo, _, interior), dim in zip(index, instr.attrs["padding"], operand.shape.dims):
        step = interior + 1
        rel = g.let(g.sub(g.wide(v), g.const(lo)), "wide")  # may be negative or past the operand
        q = g.let(g.div(rel, step), "wide")
        conds.append(g.ge(rel, g.const(0)))
        if step != 1:
            conds.append(g.eq(g.rem(rel, step), g.const(0)))
        conds.append(g.lt(q, g.const(dim)))
        src.append(g.clamp(q, 0, max(dim - 1, 0)))
    pv = yield padval, []
    if operand.shape.size == 0:
        return pv
    inside = g.let(all_of(g, conds), "pred")
    return g.choose(inside, (yield operand, src), pv, _dtype(instr))


def _concatenate(g: Elements[V], instr: Instruction, index: Sequence[V]) -> Steps[V, V]:
    dim = instr.attrs["dimensions"][0]
    pos = index[dim]
    pieces, offset = [], 0
    for o in instr.operands:
        size = o.shape.dims[dim]
        if size:
            pieces.append((o, offset, size))
        offset += size
    result: V | None = None
    for o, off, size in reversed(pieces):
        local = g.clamp(g.sub(g.wide(pos), g.const(off)), 0, size - 1)
        v = yield o, [local if k == dim else x for k, x in enumerate(index)]
        result = v if result is None else g.choose(g.lt(pos, g.const(off + size)), v, result, _dtype(instr))
    assert result is not None, "a concatenation with elements has a non-empty operand"
    return result


def _dynamic_slice(g: Elements[V], instr: Instruction, index: Sequence[V]) -> Steps[V, V]:
    operand = instr.operands[0]
    clamped = yield from dynamic_starts(g, operand, instr.operands[1:], instr.shape.dims)
    return (yield operand, [g.let(g.add(s, v)) for s, v in zip(clamped, index)])


def _dynamic_update_slice(g: Elements[V], instr: Instruction, index: Sequence[V]) -> Steps[V, V]:
    operand, update = instr.operands[0], instr.operands[1]
    clamped = yield from _update_starts(g, instr)
    conds, uidx = [], []
    for v, start, size in zip(index, clamped, update.shape.dims):
        rel = g.let(g.sub(v, start))  # both in [0, dim): fits the index type
        conds += [g.ge(rel, g.const(0)), g.lt(rel, g.const(size))]
        uidx.append(g.clamp(rel, 0, max(size - 1, 0)))
    base = yield operand, list(index)
    if update.shape.size == 0:
        return base
    inside = g.let(all_of(g, conds), "pred")
    return g.choose(inside, (yield update, uidx), base, _dtype(instr))


def _gather(g: Elements[V], instr: Instruction, index: Sequence[V]) -> Steps[V, V]:
    """XLA Gather: output dims are batch dims (from the indices) and offset dims (into the slice)."""
    operand, indices = instr.operands
    gd = gather_dims(instr)
    batch_index = [index[d] for d in gd.batch_dims]
    starts = [g.const(0)] * operand.shape.rank
    for k in range(gd.n_index):
        d = gd.start_index_map[k]
        raw = yield from _index_vector(g, indices, gd.index_vector_dim, batch_index, k)
        starts[d] = g.clamp(raw, 0, operand.shape.dims[d] - gd.slice_sizes[d])
    # Batching dims: the operand's batching dim takes the matching indices batch coordinate.
    for od, sd in zip(gd.operand_batching_dims, gd.start_indices_batching_dims):
        starts[od] = batch_index[gd.index_dims.index(sd)]
    src = list(starts)
    for od, wd in zip(gd.offset_dims, gd.window_dims):
        src[wd] = g.let(g.add(starts[wd], index[od]))
    return (yield operand, src)


INDEX_RULES: dict[O, Rule] = {
    O.BROADCAST: _broadcast,
    O.RESHAPE: _reshape,
    O.BITCAST: _reshape,
    O.TRANSPOSE: _transpose,
    O.SLICE: _slice,
    O.REVERSE: _reverse,
    O.IOTA: _iota,
    O.PAD: _pad,
    O.CONCATENATE: _concatenate,
    O.DYNAMIC_SLICE: _dynamic_slice,
    O.DYNAMIC_UPDATE_SLICE: _dynamic_update_slice,
    O.GATHER: _gather,
}
