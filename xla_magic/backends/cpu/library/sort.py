"""The sort kernel: a stable merge sort per row with the caller's comparator (insertion-sorted
runs, bottom-up merges that skip runs already in order). Top-k reuses its row sorts."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from llvmlite import ir

from ....hlo.ir import Instruction
from ..irtypes import Unsupported
from .irutil import (
    I1,
    I8,
    I64,
    PTR,
    Index,
    _and_then,
    _bits,
    _dtype,
    _entry_alloca,
    _free,
    _gep,
    _i64,
    _loop,
    _malloc,
    _memcpy,
    _min,
    _mul,
    _new_function,
    _v,
    _Var,
    _while,
)

RUN = 16  # runs sorted by insertion before merging
STACK_SCRATCH = 32 << 10  # bytes of sort scratch taken from the stack rather than malloc


class _Rows:
    """N parallel arrays (one per sorted operand) addressed as element `i` of each; `stride` in
    elements (scratch rows are dense, rows of the caller's buffers may be strided)."""

    def __init__(self, b: ir.IRBuilder, bases: list[ir.Value], types: list[ir.Type], stride: int = 1) -> None:
        self.b, self.bases, self.types, self.stride = b, bases, types, stride

    def ptrs(self, i: ir.Value) -> list[ir.Value]:
        return [_gep(self.b, p, _mul(self.b, i, self.stride), t) for p, t in zip(self.bases, self.types)]

    def load(self, i: Index) -> list[ir.Value]:
        return [self.b.load(p, typ=t) for p, t in zip(self.ptrs(_v(i)), self.types)]

    def store(self, i: Index, vals: list[ir.Value]) -> None:
        for p, v in zip(self.ptrs(_v(i)), vals):
            self.b.store(v, p)

    def move(self, dst: _Rows, i: Index, j: Index) -> None:
        dst.store(j, self.load(i))


def _less(b: ir.IRBuilder, cmp: ir.Function, lhs: list[ir.Value], rhs: list[ir.Value]) -> ir.Value:
    """comparator(lhs0, rhs0, lhs1, rhs1, ...): XLA's parameter order."""
    args = []
    for x, y in zip(lhs, rhs):
        args += [x, y]
    return b.call(cmp, args)


def _insertion_sort(b: ir.IRBuilder, cmp: ir.Function, rows: _Rows, lo: Index, hi: Index,
                    tmp: list[ir.Value]) -> None:
    """Stable insertion sort of rows[lo:hi] (an element moves left past strictly greater ones)."""
    with _loop(b, hi, start=b.add(_v(lo), _i64(1)), name="ins") as t:
        vals = rows.load(t)
        for p, v in zip(tmp, vals):
            b.store(v, p)
        j = _Var(b, I64, t, "j")

        def cond() -> ir.Value:
            jj = j.get()
            return _and_then(b, b.icmp_signed(">", jj, _v(lo)),
                             lambda: _less(b, cmp, tmp, rows.ptrs(b.sub(j.get(), _i64(1)))))

        with _while(b, cond, "shift"):
            jj = j.get()
            jm = b.sub(jj, _i64(1))
            rows.move(rows, jm, jj)
            j.set(jm)
        rows.store(j.get(), [b.load(p, typ=ty) for p, ty in zip(tmp, rows.types)])


def _merge(b: ir.IRBuilder, cmp: ir.Function, src: _Rows, dst: _Rows, lo: ir.Value, mid: ir.Value,
           hi: ir.Value) -> None:
    """dst[lo:hi] = stable merge of src[lo:mid] and src[mid:hi] (dense rows)."""
    sizes = [_bits(t) // 8 for t in src.types]

    def copy(frm: ir.Value, to: ir.Value, count: ir.Value) -> None:
        for sp_, dp, n in zip(src.ptrs(frm), dst.ptrs(to), sizes):
            _memcpy(b, dp, sp_, b.mul(count, _i64(n)))

    # Already in order (no right run, or its first element is not before the left run's last)?
    pre = b.block
    fn = b.function
    check = fn.append_basic_block("mg.check")
    join = fn.append_basic_block("mg.join")
    b.cbranch(b.icmp_signed(">=", mid, hi), join, check)
    b.position_at_end(check)
    in_order = b.not_(_less(b, cmp, src.ptrs(mid), src.ptrs(b.sub(mid, _i64(1)))))
    check_end = b.block
    b.branch(join)
    b.position_at_end(join)
    ordered = b.phi(I1)
    ordered.add_incoming(ir.Constant(I1, 1), pre)
    ordered.add_incoming(in_order, check_end)
    with b.if_else(ordered) as (then, otherwise):
        with then:
            copy(lo, lo, b.sub(hi, lo))
        with otherwise:
            i, j, o = _Var(b, I64, lo, "mi"), _Var(b, I64, mid, "mj"), _Var(b, I64, lo, "mo")

            def cond() -> ir.Value:
                return b.and_(b.icmp_signed("<", i.get(), mid), b.icmp_signed("<", j.get(), hi))

            with _while(b, cond, "merge"):
                ii, jj, oo = i.get(), j.get(), o.get()
                take_right = _less(b, cmp, src.ptrs(jj), src.ptrs(ii))
                with b.if_else(take_right) as (right, left):
                    with right:
                        src.move(dst, jj, oo)
                        j.set(b.add(jj, _i64(1)))
                    with left:
                        src.move(dst, ii, oo)
                        i.set(b.add(ii, _i64(1)))
                o.set(b.add(oo, _i64(1)))
            ii, jj, oo = i.get(), j.get(), o.get()
            copy(ii, oo, b.sub(mid, ii))
            copy(jj, b.add(oo, b.sub(mid, ii)), b.sub(hi, jj))


def _merge_sort(b: ir.IRBuilder, cmp: ir.Function, a: _Rows, s: _Rows, n: int, tmp: list[ir.Value]) -> _Rows:
    """Stable bottom-up merge sort of a[0:n] with s as the other buffer; returns the sorted one
    (the number of passes is known from n, so which one is static)."""
    with _loop(b, n, step=RUN, name="run") as r0:
        _insertion_sort(b, cmp, a, r0, _min(b, b.add(r0, _i64(RUN)), n), tmp)
    passes = 0
    while RUN << passes < n:
        passes += 1
    if passes == 0:
        return a
    width = _Var(b, I64, RUN, "width")
    parity = _Var(b, I1, ir.Constant(I1, 0), "parity")
    with _while(b, lambda: b.icmp_signed("<", width.get(), _i64(n)), "pass"):
        w = width.get()
        odd = parity.get()
        src = _Rows(b, [b.select(odd, y, x) for x, y in zip(a.bases, s.bases)], a.types)
        dst = _Rows(b, [b.select(odd, x, y) for x, y in zip(a.bases, s.bases)], a.types)
        lo = _Var(b, I64, 0, "lo")
        with _while(b, lambda: b.icmp_signed("<", lo.get(), _i64(n)), "mgl"):
            l0 = lo.get()
            mid = _min(b, b.add(l0, w), n)
            hi = _min(b, b.add(l0, b.mul(w, _i64(2))), n)
            _merge(b, cmp, src, dst, l0, mid, hi)
            lo.set(hi)
        width.set(b.mul(w, _i64(2)))
        parity.set(b.not_(odd))
    return s if passes % 2 else a


@dataclass(frozen=True)
class _SortOperand:
    """One array sorted along: where its rows come from (None = the iota 0, 1, ...), its element
    type in memory, and where its first `keep` sorted elements go."""

    src: ir.Value | None
    ty: ir.Type
    dst: ir.Value


def _row_sorts(b: ir.IRBuilder, cmp: ir.Function, ops: list[_SortOperand], length: int, keep: int,
               outer: int, inner: int, fallback: Callable[[], None]) -> None:
    """For each of outer*inner rows (stride `inner` elements along the sorted dim): gather the
    row of every operand into scratch, merge sort, scatter the first `keep` elements.
    Scratch is 2 rows per operand, on the stack when small, else malloc'd; `fallback()` runs
    when malloc fails."""
    sizes = [_bits(o.ty) // 8 for o in ops]
    slot = [(length * s + 15) // 16 * 16 for s in sizes]
    nbytes = 2 * sum(slot)
    tmp = [_entry_alloca(b, o.ty, 1, f"tmp{i}") for i, o in enumerate(ops)]

    def run(mem: ir.Value) -> None:
        offs = [sum(slot[:i]) for i in range(len(ops))]
        half = sum(slot)
        a = _Rows(b, [b.gep(mem, [_i64(o)], source_etype=I8) for o in offs], [o.ty for o in ops])
        s = _Rows(b, [b.gep(mem, [_i64(half + o)], source_etype=I8) for o in offs], a.types)
        with _loop(b, outer * inner, name="row") as r:
            hi_, lo_ = (b.udiv(r, _i64(inner)), b.urem(r, _i64(inner))) if inner > 1 else (r, _i64(0))
            src_base = b.add(b.mul(hi_, _i64(length * inner)), lo_)
            dst_base = b.add(b.mul(hi_, _i64(keep * inner)), lo_)
            with _loop(b, length, name="gather") as t:
                vals = []
                for o in ops:
                    if o.src is None:
                        vals.append(b.trunc(t, o.ty) if o.ty.width < 64 else t)
                    else:
                        vals.append(b.load(_gep(b, o.src, b.add(src_base, _mul(b, t, inner)), o.ty), typ=o.ty))
                a.store(t, vals)
            res = _merge_sort(b, cmp, a, s, length, tmp)
            out = _Rows(b, [_gep(b, o.dst, dst_base, o.ty) for o in ops], a.types, inner)
            with _loop(b, keep, name="scatter") as t:
                res.move(out, t, t)

    if nbytes <= STACK_SCRATCH:
        run(_entry_alloca(b, I8, nbytes, "scratch", align=16))
        return
    mem = _malloc(b, nbytes)
    with b.if_else(b.icmp_unsigned("!=", mem, ir.Constant(PTR, None))) as (then, otherwise):
        with then:
            run(mem)
            _free(b, mem)
        with otherwise:
            fallback()


def define_sort(module: ir.Module, instr: Instruction, name: str, comparator: ir.Function) -> ir.Function:
    """`void name(ptr in0, .., ptr inN-1, ptr out0, .., ptr outN-1)`: the N operands sorted
    together along `dimensions[0]` by `comparator` (`i1 less(ptr lhs0, ptr rhs0, ptr lhs1, ...)`,
    pointers to scalars). Stable merge sort (insertion-sorted runs of 16, bottom-up merges that
    skip runs already in order); elements are moved as raw bytes, so any element type works."""
    ops = instr.operands
    n = len(ops)
    dims = ops[0].shape.dims
    if any(o.shape.dims != dims for o in ops):
        raise Unsupported(f"sort '{instr.name}': operands of different dimensions")
    dim_attr = instr.attrs.get("dimensions")
    d = int(dim_attr[0]) if dim_attr else len(dims) - 1
    itemsizes = [_dtype(o.shape).itemsize for o in ops]
    types = [ir.IntType(8 * n) for n in itemsizes]
    fn, b = _new_function(module, name, 2 * n)
    ins, outs = list(fn.args[:n]), list(fn.args[n:])
    total = math.prod(dims)
    if total == 0:
        b.ret_void()
        return fn
    length = dims[d] if dims else 1
    if length <= 1:
        for i in range(n):
            _memcpy(b, outs[i], ins[i], total * itemsizes[i])
        b.ret_void()
        return fn
    outer, inner = math.prod(dims[:d]), math.prod(dims[d + 1:])

    def fallback() -> None:  # no scratch: copy, then insertion sort each row in place (slow)
        for i in range(n):
            _memcpy(b, outs[i], ins[i], total * itemsizes[i])
        tmp = [_entry_alloca(b, t, 1, f"ftmp{i}") for i, t in enumerate(types)]
        with _loop(b, outer * inner, name="frow") as r:
            base = b.add(b.mul(b.udiv(r, _i64(inner)), _i64(length * inner)), b.urem(r, _i64(inner)))
            rows = _Rows(b, [_gep(b, p, base, t) for p, t in zip(outs, types)], types, inner)
            _insertion_sort(b, comparator, rows, _i64(0), _i64(length), tmp)

    _row_sorts(b, comparator, [_SortOperand(i, t, o) for i, t, o in zip(ins, types, outs)], length, length,
               outer, inner, fallback)
    b.ret_void()
    return fn
