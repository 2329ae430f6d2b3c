"""The `packed` way to compute a 2-D product: BLIS-style generated code. A and B are packed
into panels in scratch memory and a micro-kernel of explicit vector FMAs (MR x NR accumulators)
runs over them; the default once A outgrows the caches and no BLAS takes the product."""
from __future__ import annotations

from dataclasses import dataclass

from llvmlite import ir

from ..jit import host
from .geometry import Gemm
from .irutil import (
    I1,
    I32,
    I64,
    PTR,
    VOID,
    _add,
    _align_up,
    _bits,
    _compute,
    _const,
    _entry_alloca,
    _gep,
    _i64,
    _is_float,
    _load_c,
    _loop,
    _mem_type,
    _min,
    _mul,
    _muladd,
    _start,
    _store_c,
    _to_storage,
)


@dataclass(frozen=True)
class _Packing:
    """Register and cache blocking of the generated GEMM (sizes in elements)."""

    vl: int  # vector lanes
    mr: int  # micro-tile rows
    nv: int  # micro-tile vectors per row; NR = nv * vl
    kc: int
    mc: int
    nc: int
    single_pass: bool  # C is written once (its type differs from the accumulator's)
    csize: int  # bytes per accumulator element

    @property
    def nr(self) -> int:
        return self.nv * self.vl

    @property
    def scratch_bytes(self) -> int:
        return (self.mc * self.kc + self.kc * self.nc) * self.csize + 128  # + 2 alignment pads


# Micro-tile shape per vector width in bits: (rows, vectors per row). 2*rows accumulators plus
# the B vectors fit the register file: 32 registers with AVX-512, 16 below.
MICRO_TILE = {512: (12, 2), 256: (6, 2), 128: (6, 2)}
L1_BYTES, L2_BYTES, L3_BYTES = 32 << 10, 512 << 10, 4 << 20  # per core, conservatively


def _balanced(total: int, block: int, multiple: int = 1) -> int:
    """A block size <= `block` (when possible) splitting `total` into equal parts."""
    parts = max(1, -(-total // block))
    size = -(-total // parts)
    return -(-size // multiple) * multiple


def _packing(c: Gemm, tile: tuple[int, int] | None = None, kc: int | None = None) -> _Packing:
    ct, ck = _compute(c.odt)
    csize = _bits(ct) // 8
    vbits = host().vector_bits
    vl = max(1, vbits // (8 * csize))
    mr, nv = tile or MICRO_TILE.get(vbits, (6, 2))
    nr = nv * vl
    single = _mem_type(c.odt) != ct or c.odt.kind == "pred"
    if single:  # one pass over K: no partial sums are stored in C
        kc = c.K
    elif kc is None:
        # B micro-panels of KC x NR about twice L1 measured best (Zen 4: 512 for f32, 12 x 32 tiles)
        kc = _balanced(c.K, max(64, 2 * L1_BYTES // (nr * csize) // 8 * 8))
    mc = _balanced(c.M, max(mr, (L2_BYTES // 2) // (kc * csize) // mr * mr), mr)
    nc = _balanced(c.N, max(nr, (L3_BYTES // 2) // (kc * csize) // nr * nr), nr)
    return _Packing(vl, mr, nv, kc, mc, nc, single, csize)


def _define_ukernel(module: ir.Module, name: str, c: Gemm, pk: _Packing) -> ir.Function:
    """`void uk(ptr ap, ptr bp, i64 kc, ptr c, i64 mr, i64 nr, i1 accumulate)`: the MR x NR tile
    of C at `c` (leading dimension N) = (accumulate ? C : 0) + Ap @ Bp, Ap a packed MR x kc panel
    (MR values per k), Bp a packed kc x NR panel. Full tiles are stored with vector stores;
    partial tiles (mr < MR or nr < NR) go through a stack tile."""
    ct, ck = _compute(c.odt)
    mr_, nv, vl = pk.mr, pk.nv, pk.vl
    nr_ = nv * vl
    vt = ir.VectorType(ct, vl)
    fn = ir.Function(module, ir.FunctionType(VOID, [PTR, PTR, I64, PTR, I64, I64, I1]), name=name)
    fn.linkage = "internal"
    fn.attributes.add("nounwind")
    for a in fn.args[:2]:
        a.add_attribute("noalias")
    fn.args[3].add_attribute("noalias")
    ap, bp, kc, cp, mr, nr, accumulate = fn.args
    b = _start(fn)
    entry = b.block
    tile = _entry_alloca(b, ct, mr_ * nr_, "tile", align=64)
    head = fn.append_basic_block("k.head")
    body = fn.append_basic_block("k.body")
    done = fn.append_basic_block("k.end")
    b.branch(head)
    b.position_at_end(head)
    p = b.phi(I64, "p")
    p.add_incoming(_i64(0), entry)
    accs = [[b.phi(vt, f"acc{i}_{v}") for v in range(nv)] for i in range(mr_)]
    zero = _const(vt, 0)
    for row in accs:
        for a in row:
            a.add_incoming(zero, entry)
    b.cbranch(b.icmp_signed("<", p, kc), body, done)

    b.position_at_end(body)
    bo = b.mul(p, _i64(nr_))
    bv = [b.load(_gep(b, bp, b.add(bo, _i64(v * vl)), ct), typ=vt, align=min(64, vl * pk.csize)) for v in range(nv)]
    ao = b.mul(p, _i64(mr_))
    undef = ir.Constant(vt, ir.Undefined)
    mask = ir.Constant(ir.VectorType(I32, vl), [ir.Constant(I32, 0)] * vl)
    new = []
    for i in range(mr_):
        x = b.load(_gep(b, ap, b.add(ao, _i64(i)), ct), typ=ct)
        xs = b.shuffle_vector(b.insert_element(undef, x, ir.Constant(I32, 0)), undef, mask)
        new.append([_muladd(b, xs, bv[v], accs[i][v]) for v in range(nv)])
    p1 = b.add(p, _i64(1), flags=("nsw",))
    p.add_incoming(p1, b.block)
    for i in range(mr_):
        for v in range(nv):
            accs[i][v].add_incoming(new[i][v], b.block)
    b.branch(head)

    b.position_at_end(done)
    full = b.and_(b.icmp_signed("==", mr, _i64(mr_)), b.icmp_signed("==", nr, _i64(nr_)))
    with b.if_else(full) as (then, otherwise):
        with then:
            for i in range(mr_):
                for v in range(nv):
                    ptr = _gep(b, cp, i * c.N + v * vl, _mem_type(c.odt))
                    val = accs[i][v]
                    if pk.single_pass:
                        b.store(_to_storage(b, val, ck, c.odt), ptr, align=c.odt.itemsize)
                    else:
                        with b.if_else(accumulate) as (add, first):
                            with add:
                                old = b.load(ptr, typ=vt, align=pk.csize)  # C is only element-aligned
                                b.store(_muladd_add(b, old, val), ptr, align=pk.csize)
                            with first:
                                b.store(val, ptr, align=pk.csize)
        with otherwise:
            for i in range(mr_):
                for v in range(nv):
                    b.store(accs[i][v], _gep(b, tile, i * nr_ + v * vl, ct))
            with _loop(b, mr, name="ti") as i:
                with _loop(b, nr, name="tj") as j:
                    t = b.load(_gep(b, tile, b.add(b.mul(i, _i64(nr_)), j), ct), typ=ct)
                    ci = b.add(b.mul(i, _i64(c.N)), j)
                    if pk.single_pass:
                        _store_c(b, cp, ci, c.odt, t, ck)
                    else:
                        ptr = _gep(b, cp, ci, ct)
                        old = b.load(ptr, typ=ct)
                        b.store(b.select(accumulate, _muladd_add(b, old, t), t), ptr)
    b.ret_void()
    return fn


def _muladd_add(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> ir.Value:
    return b.fadd(x, y) if _is_float(x.type) else b.add(x, y)


def _core_packed(b: ir.IRBuilder, c: Gemm, pk: _Packing, ukernel: ir.Function, pa: ir.Value, pb: ir.Value,
                 pc: ir.Value, scratch: ir.Value) -> None:
    """BLIS loop order: jc (NC) > pc (KC) > pack B > ic (MC) > pack A > jr (NR) > ir (MR)."""
    ct, ck = _compute(c.odt)
    ap = _align_up(b, scratch)
    bp = _align_up(b, _gep(b, ap, pk.mc * pk.kc, ct))
    mr, nr = pk.mr, pk.nr
    zero = _const(ct, 0)
    with _loop(b, c.N, step=pk.nc, name="jc") as jc:
        nc = _min(b, pk.nc, b.sub(_i64(c.N), jc))
        with _loop(b, c.K, step=pk.kc, name="pc") as p0:
            kc = _min(b, pk.kc, b.sub(_i64(c.K), p0))
            # pack B[p0:p0+kc, jc:jc+nc] into NR-wide panels (p-major within a panel), zero-padded
            with _loop(b, nc, step=nr, name="pbj") as jr:
                cols = _min(b, nr, b.sub(nc, jr))
                dst = _gep(b, bp, b.mul(jr, kc), ct)
                col0 = b.add(jc, jr)
                if c.sb_n == 1 or c.N == 1:
                    with _loop(b, kc, name="pbp") as p:
                        src = b.add(_mul(b, b.add(p0, p), c.sb_k), col0)
                        drow = b.mul(p, _i64(nr))
                        with _loop(b, cols, name="pbc") as j:
                            b.store(_load_c(b, pb, b.add(src, j), c.bdt, ct, ck), _gep(b, dst, b.add(drow, j), ct))
                        with _loop(b, nr, start=cols, name="pbz") as j:
                            b.store(zero, _gep(b, dst, b.add(drow, j), ct))
                else:
                    with _loop(b, cols, name="pbc") as j:
                        src = _mul(b, b.add(col0, j), c.sb_n)
                        with _loop(b, kc, name="pbp") as p:
                            v = _load_c(b, pb, b.add(src, _mul(b, b.add(p0, p), c.sb_k)), c.bdt, ct, ck)
                            b.store(v, _gep(b, dst, b.add(b.mul(p, _i64(nr)), j), ct))
                    with _loop(b, kc, name="pbzp") as p:
                        with _loop(b, nr, start=cols, name="pbz") as j:
                            b.store(zero, _gep(b, dst, b.add(b.mul(p, _i64(nr)), j), ct))
            with _loop(b, c.M, step=pk.mc, name="ic") as ic:
                mc = _min(b, pk.mc, b.sub(_i64(c.M), ic))
                # pack A[ic:ic+mc, p0:p0+kc] into MR-tall panels (MR values per k), zero-padded
                with _loop(b, mc, step=mr, name="pai") as ir_:
                    rows = _min(b, mr, b.sub(mc, ir_))
                    dst = _gep(b, ap, b.mul(ir_, kc), ct)
                    row0 = b.add(ic, ir_)
                    if c.sa_k == 1 or c.K == 1 or c.sa_m != 1:
                        with _loop(b, rows, name="pai2") as i:
                            src = _add(b, _mul(b, b.add(row0, i), c.sa_m), _mul(b, p0, c.sa_k))
                            with _loop(b, kc, name="pap") as p:
                                v = _load_c(b, pa, b.add(src, _mul(b, p, c.sa_k)), c.adt, ct, ck)
                                b.store(v, _gep(b, dst, b.add(b.mul(p, _i64(mr)), i), ct))
                    else:
                        with _loop(b, kc, name="pap") as p:
                            src = b.add(row0, _mul(b, b.add(p0, p), c.sa_k))
                            drow = b.mul(p, _i64(mr))
                            with _loop(b, rows, name="pai2") as i:
                                v = _load_c(b, pa, b.add(src, i), c.adt, ct, ck)
                                b.store(v, _gep(b, dst, b.add(drow, i), ct))
                    with _loop(b, kc, name="pazp") as p:
                        with _loop(b, mr, start=rows, name="paz") as i:
                            b.store(zero, _gep(b, dst, b.add(b.mul(p, _i64(mr)), i), ct))
                accumulate = b.icmp_signed("!=", p0, _i64(0))
                with _loop(b, nc, step=nr, name="jr") as jr:
                    nrr = _min(b, nr, b.sub(nc, jr))
                    bpanel = _gep(b, bp, b.mul(jr, kc), ct)
                    with _loop(b, mc, step=mr, name="ir") as ir_:
                        mrr = _min(b, mr, b.sub(mc, ir_))
                        apanel = _gep(b, ap, b.mul(ir_, kc), ct)
                        cofs = b.add(b.mul(b.add(ic, ir_), _i64(c.N)), b.add(jc, jr))
                        b.call(ukernel, [apanel, bpanel, kc, _gep(b, pc, cofs, _mem_type(c.odt)), mrr, nrr, accumulate])
