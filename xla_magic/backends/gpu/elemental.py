"""The elemental emitter in CUDA C: the value of any fused instruction at a multi-index.

As the CPU backend's `elemental.py` (XLA's ElementalIrEmitter): indexing ops (broadcast,
reshape, transpose, slice, pad, concatenate, reverse, iota, dynamic-slice, gather) rewrite the
index, elementwise ops combine operand values through `scalar.SCALAR_OPS`. Nothing reads outside
a buffer: pads and concatenations clamp the index of the operand they do not take and select,
dynamic starts are clamped as XLA clamps them, gather indices are clamped into range. Indices
are C expressions of type `xm_i` (32-bit when every buffer of the module is small enough)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...hlo.ir import Instruction
from ...hlo.opcodes import ELEMENTWISE
from ...hlo.opcodes import Opcode as O
from ..kernel_shapes import gather_dims
from . import ctype as C
from .ctype import Unsupported
from .scalar import Emitter, convert_value, scalar_op

Index = list  # of C expressions, one per dimension


def strides(dims) -> list[int]:
    out, s = [], 1
    for d in reversed(dims):
        out.append(s)
        s *= d
    return out[::-1]


def linear_expr(index: Index, dims) -> str:
    terms = []
    for v, s, d in zip(index, strides(dims), dims):
        if d == 1 or v == "0":
            continue
        terms.append(v if s == 1 else f"{_paren(v)} * {s}")
    return " + ".join(terms) if terms else "0"


def _paren(v: str) -> str:
    return v if v.replace("_", "").isalnum() else f"({v})"


class Constants:
    """Module-level tables for constants whose elements differ (`__device__ const T name[]`)."""

    def __init__(self):
        self.tables: dict[str, str] = {}  # name -> definition
        self._by_key: dict[tuple, str] = {}

    def table(self, instr: Instruction) -> str:
        """The name of a table holding the constant's elements in their storage form (floats as
        their bits: a static initializer cannot compute inf or NaN); read it with `load`."""
        dt = instr.shape.dtype
        flat = np.ascontiguousarray(np.asarray(instr.literal).astype(dt.np)).reshape(-1)
        key = (dt.name, flat.tobytes())
        hit = self._by_key.get(key)
        if hit:
            return hit
        name = f"xm_const{len(self.tables)}"
        if dt.kind == "f":
            bits = flat.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[flat.dtype.itemsize])
            ctype = {2: "xm_u16", 4: "unsigned", 8: "xm_u64"}[flat.dtype.itemsize]
            body = ", ".join(f"{int(b)}u" + ("ll" if flat.dtype.itemsize == 8 else "") for b in bits.tolist())
        else:
            ctype = C.storage(dt)
            body = ", ".join(str(int(v)) for v in flat.astype(np.int64 if dt.kind != "u" else np.uint64).tolist())
        self.tables[name] = f"__device__ const {ctype} {name}[{flat.size}] = {{{body}}};"
        self._by_key[key] = name
        return name

    @staticmethod
    def load(dt, name: str, index: str) -> str:
        if dt.name == "f32":
            return f"xm_bitsf({name}[{index}])"
        if dt.name == "f64":
            return f"xm_bitsd((long long){name}[{index}])"
        return C.load(dt, name, index)

    def text(self) -> str:
        return "\n".join(self.tables.values())


class Elemental:
    """Values of instructions at indices, for one kernel body.

    `inputs` maps an instruction read from memory (a fused parameter) to its pointer name;
    `special` maps instructions whose value the kernel computes itself (reductions, values staged
    in shared memory) to a function of the index."""

    def __init__(self, em: Emitter, consts: Constants, inputs: dict[int, str],
                 special: dict[int, Callable[[Index], str]] | None = None):
        self.em, self.consts = em, consts
        self.inputs = inputs
        self.special = special or {}

    def tmp_index(self, expr: str) -> str:
        return self.em.tmp("xm_i", expr, "i")

    def linear(self, index: Index, dims) -> str:
        # The index of an element of the same shape as the one it was derived from: no arithmetic.
        known = self.em.lookup(("delinear", tuple(index)))
        if known is not None and known[1] == tuple(dims):
            return known[0]
        return self.tmp_index(linear_expr(index, dims))

    def delinear(self, lin: str, dims) -> Index:
        out = self._delinear(lin, dims)
        self.em.remember(("delinear", tuple(out)), (lin, tuple(dims)))
        return out

    def _delinear(self, lin: str, dims) -> Index:
        out = []
        for d, s in zip(dims, strides(dims)):
            if d == 1:
                out.append("0")
                continue
            v = lin if s == 1 else f"{_paren(lin)} / {s}"
            total = s * d
            # The outermost dim needs no modulo when lin is known to be below the total size.
            out.append(self.tmp_index(v if total >= _size(dims) else f"({v}) % {d}"))
        return out

    def clamp(self, v: str, lo: int, hi: int) -> str:
        """v (a long long expression) clamped into [lo, hi], as an xm_i."""
        t = self.em.tmp("long long", v, "s")
        return self.tmp_index(f"(xm_i)({t} < {lo}LL ? {lo}LL : ({t} > {hi}LL ? {hi}LL : {t}))")

    def value(self, instr: Instruction, index: Index) -> str:
        key = (id(instr), tuple(index))
        hit = self.em.lookup(key)
        if hit is not None:
            return hit
        if id(instr) in self.special:
            v = self.special[id(instr)](index)
        elif id(instr) in self.inputs:
            dt = instr.shape.dtype
            v = C.load(dt, self.inputs[id(instr)], self.linear(index, instr.shape.dims))
        else:
            rule = ELEMENTAL.get(instr.opcode)
            if rule is None:
                if instr.opcode not in ELEMENTWISE:
                    raise Unsupported(f"{instr.opcode.value} ('{instr.name}') inside a loop kernel")
                rule = _elementwise
            v = rule(self, instr, index)
        v = self.em.tmp(C.value(instr.shape.dtype), v)
        self.em.remember(key, v)
        return v

    def scalar_operand(self, o: Instruction, index: Index) -> str:
        """An operand that may be a scalar standing for every element (select's pred, clamp's bounds)."""
        return self.value(o, [] if o.shape.rank == 0 else index)

    def start_index(self, o: Instruction) -> str:
        """A dynamic start (a scalar of any integer type) as a long long expression."""
        v = self.value(o, [])
        return f"(long long){v}"


def _size(dims) -> int:
    n = 1
    for d in dims:
        n *= d
    return n


def _elementwise(g: Elemental, instr: Instruction, index: Index) -> str:
    vals = [g.scalar_operand(o, index) for o in instr.operands]
    return scalar_op(instr, [o.shape.dtype for o in instr.operands], vals)


def _constant(g: Elemental, instr: Instruction, index: Index) -> str:
    lit = instr.literal
    if lit is None:
        raise Unsupported(f"constant '{instr.name}' was elided from the text ({{...}}); its value is unknown")
    dt = instr.shape.dtype
    flat = np.asarray(lit).reshape(-1)
    if flat.size == 0:
        raise Unsupported(f"empty constant '{instr.name}' read")
    raw = np.ascontiguousarray(flat.astype(dt.np)).view(np.uint8).reshape(flat.size, -1)
    if flat.size == 1 or bool(np.all(raw == raw[0])):  # one value everywhere (bit for bit, NaN too)
        return C.literal(dt, flat[0].item() if hasattr(flat[0], "item") else flat[0])
    name = g.consts.table(instr)
    return Constants.load(dt, name, g.linear(index, instr.shape.dims))


def _broadcast(g: Elemental, instr: Instruction, index: Index) -> str:
    return g.value(instr.operands[0], [index[d] for d in instr.attrs["dimensions"]])


def _reshape(g: Elemental, instr: Instruction, index: Index) -> str:
    src = instr.operands[0].shape.dims
    dst = instr.shape.dims
    # Adding or dropping 1-sized dimensions keeps the other indices as they are (no div/mod).
    if [d for d in src if d != 1] == [d for d in dst if d != 1]:
        kept = iter([v for v, d in zip(index, dst) if d != 1])
        return g.value(instr.operands[0], [next(kept) if d != 1 else "0" for d in src])
    return g.value(instr.operands[0], g.delinear(g.linear(index, dst), src))


def _transpose(g: Elemental, instr: Instruction, index: Index) -> str:
    perm = instr.attrs["dimensions"]
    src = [""] * len(perm)
    for j, p in enumerate(perm):
        src[p] = index[j]
    return g.value(instr.operands[0], src)


def _slice(g: Elemental, instr: Instruction, index: Index) -> str:
    src = []
    for v, (start, _, stride) in zip(index, instr.attrs["slice"]):
        e = v if stride == 1 else f"{_paren(v)} * {stride}"
        src.append(g.tmp_index(f"{e} + {start}") if start else (g.tmp_index(e) if stride != 1 else v))
    return g.value(instr.operands[0], src)


def _reverse(g: Elemental, instr: Instruction, index: Index) -> str:
    dims = instr.shape.dims
    rev = set(instr.attrs["dimensions"])
    return g.value(instr.operands[0], [g.tmp_index(f"{dims[k] - 1} - {_paren(v)}") if k in rev else v
                                       for k, v in enumerate(index)])


def _iota(g: Elemental, instr: Instruction, index: Index) -> str:
    from ...hlo.dtypes import S64

    v = index[instr.attrs["iota_dimension"]]
    return convert_value(S64, instr.shape.dtype, f"(long long){_paren(v)}")


def _pad(g: Elemental, instr: Instruction, index: Index) -> str:
    operand, padval = instr.operands
    src, conds = [], []
    for v, (lo, _, interior), dim in zip(index, instr.attrs["padding"], operand.shape.dims):
        step = interior + 1
        rel = g.em.tmp("long long", f"(long long){_paren(v)} - {lo}" if lo else f"(long long){_paren(v)}", "s")
        q = rel if step == 1 else g.em.tmp("long long", f"{rel} / {step}", "s")
        conds.append(f"{rel} >= 0")
        if step != 1:
            conds.append(f"{rel} % {step} == 0")
        conds.append(f"{q} < {dim}")
        src.append(g.clamp(q, 0, max(dim - 1, 0)))
    pv = g.value(padval, [])
    if operand.shape.size == 0:
        return pv
    inside = g.em.tmp("bool", " && ".join(conds) if conds else "true", "p")
    return f"({inside} ? {g.value(operand, src)} : {pv})"


def _concatenate(g: Elemental, instr: Instruction, index: Index) -> str:
    dim = instr.attrs["dimensions"][0]
    pos = index[dim]
    pieces, offset = [], 0
    for o in instr.operands:
        size = o.shape.dims[dim]
        if size:
            pieces.append((o, offset, size))
        offset += size
    result = None
    for o, off, size in reversed(pieces):
        local = g.clamp(f"(long long){_paren(pos)} - {off}", 0, size - 1)
        v = g.value(o, [local if k == dim else x for k, x in enumerate(index)])
        result = v if result is None else f"({_paren(pos)} < {off + size} ? {v} : {result})"
        result = g.em.tmp(C.value(instr.shape.dtype), result)
    return result


def _dynamic_slice(g: Elemental, instr: Instruction, index: Index) -> str:
    operand, starts = instr.operands[0], instr.operands[1:]
    src = []
    for v, s, dim, size in zip(index, starts, operand.shape.dims, instr.shape.dims):
        start = g.clamp(g.start_index(s), 0, dim - size)
        src.append(g.tmp_index(f"{start} + {_paren(v)}"))
    return g.value(operand, src)


def _dynamic_update_slice(g: Elemental, instr: Instruction, index: Index) -> str:
    operand, update, starts = instr.operands[0], instr.operands[1], instr.operands[2:]
    conds, uidx = [], []
    for v, s, dim, size in zip(index, starts, operand.shape.dims, update.shape.dims):
        start = g.clamp(g.start_index(s), 0, dim - size)
        rel = g.tmp_index(f"{_paren(v)} - {start}")
        conds.append(f"{rel} >= 0 && {rel} < {size}")
        uidx.append(g.clamp(rel, 0, max(size - 1, 0)))
    base = g.value(operand, index)
    if update.shape.size == 0:
        return base
    inside = g.em.tmp("bool", " && ".join(conds) if conds else "true", "p")
    return f"({inside} ? {g.value(update, uidx)} : {base})"


def _gather(g: Elemental, instr: Instruction, index: Index) -> str:
    """XLA Gather: output dims are batch dims (from the indices) and offset dims (into the slice)."""
    operand, indices = instr.operands
    gd = gather_dims(instr)
    batch_index = [index[d] for d in gd.batch_dims]
    ivd, idx_rank = gd.index_vector_dim, indices.shape.rank

    def indices_at(k: int) -> str:
        pos, bi = [], iter(batch_index)
        for d in range(idx_rank):
            pos.append(str(k) if d == ivd else next(bi))
        return f"(long long){g.value(indices, pos)}"

    starts = ["0"] * operand.shape.rank
    for k in range(gd.n_index):
        d = gd.start_index_map[k]
        raw = indices_at(k) if ivd < idx_rank else f"(long long){g.value(indices, batch_index)}"
        starts[d] = g.clamp(raw, 0, operand.shape.dims[d] - gd.slice_sizes[d])
    for od, sd in zip(gd.operand_batching_dims, gd.start_indices_batching_dims):
        starts[od] = batch_index[gd.index_dims.index(sd)]
    src = list(starts)
    for od, wd in zip(gd.offset_dims, gd.window_dims):
        src[wd] = g.tmp_index(f"{starts[wd]} + {_paren(index[od])}")
    return g.value(operand, src)


ELEMENTAL: dict[O, Callable[[Elemental, Instruction, Index], str]] = {
    O.CONSTANT: _constant,
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
