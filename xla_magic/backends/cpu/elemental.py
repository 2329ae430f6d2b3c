"""The elemental emitter (XLA's ElementalIrEmitter): the value of any fused instruction at a
multi-index, computed from the kernel's input buffers through index arithmetic.

Indexing ops (broadcast, reshape, transpose, slice, pad, concatenate, reverse, iota,
dynamic-slice, gather) only rewrite the index; elementwise ops combine their operands' values
at the same index through `scalar.SCALAR_OPS`. Nothing reads outside a buffer: pads and
concatenations clamp the index of the operand they do not take and select, dynamic starts are
clamped as XLA clamps them, and gather indices are clamped into range."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from llvmlite import ir

from ...hlo.ir import Instruction
from ...hlo.opcodes import ELEMENTWISE
from ...hlo.opcodes import Opcode as O
from ..kernel_shapes import gather_dims
from . import irtypes as T
from .irtypes import I64, Unsupported, i64
from .scalar import Emitter, convert_value, emit_scalar_op

Index = list  # of i64 ir.Values, one per dimension


def strides(dims) -> list[int]:
    out, s = [], 1
    for d in reversed(dims):
        out.append(s)
        s *= d
    return out[::-1]


def linear(b: ir.IRBuilder, index: Index, dims) -> ir.Value:
    """The row-major offset of a multi-index (no instructions for the terms that are zero)."""
    lin = i64(0)
    for v, s in zip(index, strides(dims)):
        if s == 0:
            continue
        term = v if s == 1 else b.mul(v, i64(s))
        lin = term if (isinstance(lin, ir.Constant) and lin.constant == 0) else b.add(lin, term)
    return lin


class Elemental:
    """Values of instructions at indices, for one kernel body.

    `inputs` maps a fused parameter (or any instruction read from memory) to its buffer pointer.
    `special` maps instructions whose value the kernel computes itself (reductions, loop-carried
    values) to a function of the index."""

    def __init__(self, em: Emitter, inputs: dict[int, ir.Value],
                 special: dict[int, Callable[[Index], ir.Value]] | None = None):
        self.em, self.b = em, em.b
        self.inputs = inputs
        self.special = special or {}
        self.cache: dict[tuple, ir.Value] = {}

    def reset(self) -> None:
        """Forget cached values: the builder moved to a block they may not dominate."""
        self.cache.clear()

    # -- index helpers --
    def linear(self, index: Index, dims) -> ir.Value:
        return linear(self.b, index, dims)

    def delinear(self, lin: ir.Value, dims) -> Index:
        out = []
        for d, s in zip(dims, strides(dims)):
            v = self.b.udiv(lin, i64(s)) if s != 1 else lin
            out.append(self.b.urem(v, i64(d)) if d != 0 else i64(0))
        return out

    def clamp(self, v: ir.Value, lo: int, hi: int) -> ir.Value:
        v = self.b.select(self.b.icmp_signed("<", v, i64(lo)), i64(lo), v)
        return self.b.select(self.b.icmp_signed(">", v, i64(hi)), i64(hi), v)

    # -- values --
    def value(self, instr: Instruction, index: Index) -> ir.Value:
        key = (id(instr), tuple(id(v) if not isinstance(v, ir.Constant) else ("c", v.constant) for v in index))
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        if id(instr) in self.special:
            v = self.special[id(instr)](index)
        elif id(instr) in self.inputs:
            dims = instr.shape.dims
            v = T.load(self.b, self.inputs[id(instr)], instr.shape.dtype, self.linear(index, dims))
        else:
            rule = ELEMENTAL.get(instr.opcode)
            if rule is None:
                if instr.opcode in ELEMENTWISE:
                    rule = _elementwise
                else:
                    raise Unsupported(f"{instr.opcode.value} ('{instr.name}') inside a loop kernel")
            v = rule(self, instr, index)
        self.cache[key] = v
        return v

    def scalar_operand(self, o: Instruction, index: Index) -> ir.Value:
        """An operand that may be a scalar standing for every element (select's pred, clamp's bounds)."""
        return self.value(o, [] if o.shape.rank == 0 else index)


def _elementwise(g: Elemental, instr: Instruction, index: Index) -> ir.Value:
    vals = [g.scalar_operand(o, index) for o in instr.operands]
    return emit_scalar_op(g.em, instr, [o.shape.dtype for o in instr.operands], vals)


def _constant(g: Elemental, instr: Instruction, index: Index) -> ir.Value:
    lit = instr.literal
    if lit is None:
        raise Unsupported(f"constant '{instr.name}' was elided from the text ({{...}}); its value is unknown")
    dt = instr.shape.dtype
    flat = lit.reshape(-1)
    if flat.size == 0:
        raise Unsupported(f"empty constant '{instr.name}' read")
    first = flat[0]
    if flat.size == 1 or (np.all(flat == first) and not (dt.kind == "f" and np.isnan(first.astype(np.float64)))):
        return _scalar_const(dt, first)
    return T.load(g.b, _global_constant(g.em.module, instr), dt, g.linear(index, instr.shape.dims))


def _scalar_const(dt, v) -> ir.Constant:
    if dt.kind == "f":
        return T.const(dt, float(np.asarray(v).astype(np.float64)))
    return T.const(dt, int(v) if dt.kind != "pred" else bool(v))


def _global_constant(module: ir.Module, instr: Instruction) -> ir.GlobalVariable:
    name = f"const.{instr.name}"
    g = module.globals.get(name)
    if g is not None:
        return g
    data = np.ascontiguousarray(instr.literal).tobytes()
    arr_t = ir.ArrayType(T.I8, len(data))
    g = ir.GlobalVariable(module, arr_t, name=name)
    g.global_constant = True
    g.linkage = "internal"
    g.align = 64
    g.initializer = ir.Constant(arr_t, bytearray(data))
    return g


def _broadcast(g: Elemental, instr: Instruction, index: Index) -> ir.Value:
    return g.value(instr.operands[0], [index[d] for d in instr.attrs["dimensions"]])


def _reshape(g: Elemental, instr: Instruction, index: Index) -> ir.Value:
    src = instr.operands[0].shape.dims
    dst = instr.shape.dims
    # Adding or dropping 1-sized dimensions keeps the other indices as they are (no div/mod).
    if [d for d in src if d != 1] == [d for d in dst if d != 1]:
        kept = iter([v for v, d in zip(index, dst) if d != 1])
        return g.value(instr.operands[0], [next(kept) if d != 1 else i64(0) for d in src])
    return g.value(instr.operands[0], g.delinear(g.linear(index, dst), src))


def _transpose(g: Elemental, instr: Instruction, index: Index) -> ir.Value:
    perm = instr.attrs["dimensions"]
    src = [None] * len(perm)
    for j, p in enumerate(perm):
        src[p] = index[j]
    return g.value(instr.operands[0], src)


def _slice(g: Elemental, instr: Instruction, index: Index) -> ir.Value:
    src = []
    for v, (start, _, stride) in zip(index, instr.attrs["slice"]):
        if stride != 1:
            v = g.b.mul(v, i64(stride))
        src.append(g.b.add(v, i64(start)) if start else v)
    return g.value(instr.operands[0], src)


def _reverse(g: Elemental, instr: Instruction, index: Index) -> ir.Value:
    dims = instr.shape.dims
    rev = set(instr.attrs["dimensions"])
    return g.value(instr.operands[0], [g.b.sub(i64(dims[k] - 1), v) if k in rev else v for k, v in enumerate(index)])


def _iota(g: Elemental, instr: Instruction, index: Index) -> ir.Value:
    from ...hlo.dtypes import S64

    v = index[instr.attrs["iota_dimension"]]
    return convert_value(g.em, S64, instr.shape.dtype, v)


def _pad(g: Elemental, instr: Instruction, index: Index) -> ir.Value:
    operand, padval = instr.operands
    src, inside = [], ir.Constant(T.I1, 1)
    for v, (lo, _, interior), dim in zip(index, instr.attrs["padding"], operand.shape.dims):
        step = interior + 1
        rel = g.b.sub(v, i64(lo)) if lo else v
        q = g.b.sdiv(rel, i64(step)) if step != 1 else rel
        ok = g.b.icmp_signed(">=", rel, i64(0))
        if step != 1:
            ok = g.b.and_(ok, g.b.icmp_signed("==", g.b.srem(rel, i64(step)), i64(0)))
        ok = g.b.and_(ok, g.b.icmp_signed("<", q, i64(dim)))
        inside = g.b.and_(inside, ok)
        src.append(g.clamp(q, 0, max(dim - 1, 0)))
    pv = g.value(padval, [])
    if operand.shape.size == 0:
        return pv
    return g.b.select(inside, g.value(operand, src), pv)


def _concatenate(g: Elemental, instr: Instruction, index: Index) -> ir.Value:
    dim = instr.attrs["dimensions"][0]
    pos = index[dim]
    result, offset = None, 0
    pieces = []
    for o in instr.operands:
        size = o.shape.dims[dim]
        if size:
            pieces.append((o, offset, size))
        offset += size
    for o, off, size in reversed(pieces):
        local = g.clamp(g.b.sub(pos, i64(off)), 0, size - 1)
        v = g.value(o, [local if k == dim else x for k, x in enumerate(index)])
        if result is None:
            result = v
        else:
            result = g.b.select(g.b.icmp_signed("<", pos, i64(off + size)), v, result)
    return result


def _start_index(g: Elemental, o: Instruction) -> ir.Value:
    v = g.value(o, [])
    dt = o.shape.dtype
    if v.type.width < 64:
        v = g.b.sext(v, I64) if dt.kind == "s" else g.b.zext(v, I64)
    return v


def _dynamic_slice(g: Elemental, instr: Instruction, index: Index) -> ir.Value:
    operand, starts = instr.operands[0], instr.operands[1:]
    src = []
    for v, s, dim, size in zip(index, starts, operand.shape.dims, instr.shape.dims):
        start = g.clamp(_start_index(g, s), 0, dim - size)
        src.append(g.b.add(start, v))
    return g.value(operand, src)


def _dynamic_update_slice(g: Elemental, instr: Instruction, index: Index) -> ir.Value:
    operand, update, starts = instr.operands[0], instr.operands[1], instr.operands[2:]
    inside = ir.Constant(T.I1, 1)
    uidx = []
    for v, s, dim, size in zip(index, starts, operand.shape.dims, update.shape.dims):
        start = g.clamp(_start_index(g, s), 0, dim - size)
        rel = g.b.sub(v, start)
        inside = g.b.and_(inside, g.b.and_(g.b.icmp_signed(">=", rel, i64(0)), g.b.icmp_signed("<", rel, i64(size))))
        uidx.append(g.clamp(rel, 0, max(size - 1, 0)))
    base = g.value(operand, index)
    if update.shape.size == 0:
        return base
    return g.b.select(inside, g.value(update, uidx), base)


def _gather(g: Elemental, instr: Instruction, index: Index) -> ir.Value:
    """XLA Gather: output dims are batch dims (from the indices) and offset dims (into the slice)."""
    operand, indices = instr.operands
    gd = gather_dims(instr)
    batch_index = [index[d] for d in gd.batch_dims]
    ivd, idx_rank = gd.index_vector_dim, indices.shape.rank

    def indices_at(k: int) -> ir.Value:  # the batch index addresses indices without index_vector_dim
        pos, bi = [], iter(batch_index)
        for d in range(idx_rank):
            pos.append(i64(k) if d == ivd else next(bi))
        return as_i64(g, indices, g.value(indices, pos))

    starts = [i64(0)] * operand.shape.rank
    for k in range(gd.n_index):
        d = gd.start_index_map[k]
        raw = indices_at(k) if ivd < idx_rank else _scalar_index(g, indices, batch_index)
        starts[d] = g.clamp(raw, 0, operand.shape.dims[d] - gd.slice_sizes[d])
    # Batching dims: the operand's batching dim takes the matching indices batch coordinate.
    for od, sd in zip(gd.operand_batching_dims, gd.start_indices_batching_dims):
        starts[od] = batch_index[gd.index_dims.index(sd)]
    src = list(starts)
    for od, wd in zip(gd.offset_dims, gd.window_dims):
        src[wd] = g.b.add(starts[wd], index[od])
    return g.value(operand, src)


def as_i64(g: Elemental, indices: Instruction, v: ir.Value) -> ir.Value:
    if v.type.width >= 64:
        return v
    return g.b.sext(v, I64) if indices.shape.dtype.kind == "s" else g.b.zext(v, I64)


def _scalar_index(g: Elemental, indices: Instruction, batch_index: Index) -> ir.Value:
    return as_i64(g, indices, g.value(indices, batch_index))


ELEMENTAL: dict[O, Callable[[Elemental, Instruction, Index], ir.Value]] = {
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

