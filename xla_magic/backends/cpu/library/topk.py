"""The top-k kernel: the k first elements of each row and their positions, in XLA's total
order or a comparator's. Small k keeps a sorted top-k list per row; larger k uses the row sorts
of `sort.py`."""
from __future__ import annotations

import math

from llvmlite import ir

from ....hlo.dtypes import DType
from ....hlo.ir import Instruction
from ..irtypes import Unsupported
from .irutil import (
    I1,
    I64,
    PTR,
    _and_then,
    _dtype,
    _entry_alloca,
    _gep,
    _i64,
    _loop,
    _mem_type,
    _min,
    _new_function,
    _start,
    _Var,
    _while,
)
from .sort import _less, _row_sorts, _Rows, _SortOperand


def _total_order_less(module: ir.Module, name: str, dt: DType, largest: bool, index_type: ir.Type) -> ir.Function:
    """`i1 less(ptr a, ptr b, ptr ia, ptr ib)` ordering values by XLA's total order
    (-NaN < -inf < .. < -0 < +0 < .. < inf < NaN), descending when `largest`."""
    fn = ir.Function(module, ir.FunctionType(I1, [PTR] * 4), name=name)
    fn.linkage = "internal"
    fn.attributes.add("alwaysinline")
    b = _start(fn)
    it = ir.IntType(8 * dt.itemsize)
    x, y = (b.load(p, typ=it) for p in fn.args[:2])
    if dt.kind == "f":  # negative floats: flip the magnitude bits so signed order is total order
        mag = ir.Constant(it, (1 << (it.width - 1)) - 1)
        x, y = (b.select(b.icmp_signed("<", v, ir.Constant(it, 0)), b.xor(v, mag), v) for v in (x, y))
        signed = True
    else:
        signed = dt.kind == "s"
    cmp = b.icmp_signed if signed else b.icmp_unsigned
    b.ret(cmp(">" if largest else "<", x, y))
    return fn


def define_topk(module: ir.Module, instr: Instruction, name: str,
                comparator: ir.Function | None = None) -> ir.Function:
    """`void name(ptr x, ptr values, ptr indices)` for HLO `topk` (attrs k, largest) or the
    custom-call TopK of optimized dumps: the k first elements of each last-axis row in the
    comparator's order (default: XLA's total order, largest first), ties to the lower index,
    with their positions. Small k keeps a sorted top-k list per row (insertion); larger k merge
    sorts (value, index) rows."""
    (x,) = instr.operands
    if not instr.shape.tuple_shapes:
        raise Unsupported(f"top-k '{instr.name}' does not return (values, indices)")
    vshape, ishape = instr.shape.tuple_shapes[0], instr.shape.tuple_shapes[1]
    k = vshape.dims[-1] if vshape.dims else 1
    dims = x.shape.dims
    length = dims[-1] if dims else 1
    rows = math.prod(dims[:-1])
    xdt = _dtype(x.shape)
    vt = ir.IntType(8 * xdt.itemsize)
    it = _mem_type(_dtype(ishape))
    if comparator is None:
        largest = bool(instr.attrs.get("largest", True))
        comparator = _total_order_less(module, f"{name}.less", xdt, largest, it)
    fn, b = _new_function(module, name, 3)
    xp, vp, ip = fn.args
    if rows == 0 or k == 0 or length == 0:
        b.ret_void()
        return fn
    k = min(k, length)

    def insertion() -> None:
        """Per row a sorted list of the best so far in the outputs (no scratch)."""
        tv, ti = _entry_alloca(b, vt, 1, "cand"), _entry_alloca(b, it, 1, "candi")
        with _loop(b, rows, name="row") as r:
            best = _Rows(b, [_gep(b, vp, b.mul(r, _i64(k)), vt), _gep(b, ip, b.mul(r, _i64(k)), it)], [vt, it])
            with _loop(b, length, name="t") as t:
                b.store(b.load(_gep(b, xp, b.add(b.mul(r, _i64(length)), t), vt), typ=vt), tv)
                b.store(b.trunc(t, it) if it.width < 64 else t, ti)
                count = _min(b, t, k)
                full = b.icmp_signed("==", count, _i64(k))
                last = best.ptrs(_i64(k - 1))
                pre = b.block
                chk = b.function.append_basic_block("tk.chk")
                join = b.function.append_basic_block("tk.join")
                b.cbranch(full, chk, join)
                b.position_at_end(chk)
                better = _less(b, comparator, [tv, ti], last)
                chk_end = b.block
                b.branch(join)
                b.position_at_end(join)
                enter = b.phi(I1)
                enter.add_incoming(ir.Constant(I1, 1), pre)
                enter.add_incoming(better, chk_end)
                with b.if_then(enter):
                    j = _Var(b, I64, b.select(full, _i64(k - 1), count), "j")

                    def cond() -> ir.Value:
                        return _and_then(b, b.icmp_signed(">", j.get(), _i64(0)),
                                         lambda: _less(b, comparator, [tv, ti], best.ptrs(b.sub(j.get(), _i64(1)))))

                    with _while(b, cond, "tkshift"):
                        jj = j.get()
                        best.move(best, b.sub(jj, _i64(1)), jj)
                        j.set(b.sub(jj, _i64(1)))
                    best.store(j.get(), [b.load(tv, typ=vt), b.load(ti, typ=it)])

    if k <= 32:
        insertion()
    else:
        _row_sorts(b, comparator, [_SortOperand(xp, vt, vp), _SortOperand(None, it, ip)], length, k, rows, 1,
                   insertion)
    b.ret_void()
    return fn
