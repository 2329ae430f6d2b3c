"""Dot and convolution on complex elements: four real products of the parts, by the real library
kernels (every strategy, grouping and window they handle), combined as

    (ar + i ai) . (br + i bi) = (ar.br - ai.bi) + i (ar.bi + ai.br)

Both are bilinear, so this is exact algebra; only the summation order differs from a complex
loop. The parts are split out of the interleaved buffers into planes in one malloc'ed scratch
block (the real kernels want dense arrays); a failed malloc aborts, as reduction scratch does."""
from __future__ import annotations

import math
from collections.abc import Callable

from llvmlite import ir

from ...hlo.builder import ComputationBuilder
from ...hlo.ir import Instruction, Names
from ...hlo.shape import Shape
from . import irtypes as T
from .complex_ops import part_dtype
from .irtypes import I8, I64, PTR, VOID, Unsupported, i64

DefineReal = Callable[[ir.Module, Instruction, str], ir.Function]


def _real_twin(instr: Instruction) -> Instruction:
    """`instr` on the real parts: the same opcode and attributes, f32/f64 operands and result."""
    cb = ComputationBuilder(Names(), "parts")
    ops = [cb.parameter(k, o.shape.with_dtype(part_dtype(o.shape.element_type)), f"p{k}")
           for k, o in enumerate(instr.operands)]
    out = Shape.array(part_dtype(instr.shape.element_type), instr.shape.dims)
    return cb.op(instr.opcode, *ops, shape=out, **instr.attrs)


def define_split_complex(module: ir.Module, instr: Instruction, name: str, define_real: DefineReal) -> ir.Function:
    """`void name(ptr lhs, ptr rhs, ptr out)` for a complex dot or convolution."""
    lhs, rhs = instr.operands
    if not all(s.element_type.is_complex for s in (lhs.shape, rhs.shape, instr.shape)):
        raise Unsupported(f"{instr.opcode.value} '{instr.name}' mixes complex and real element types")
    real = define_real(module, _real_twin(instr), f"{name}.parts")
    fn = ir.Function(module, ir.FunctionType(VOID, [PTR] * 3), name=name)
    fn.linkage = "internal"
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    a_ptr, b_ptr, o_ptr = fn.args
    shapes = (lhs.shape, rhs.shape, instr.shape)
    counts = [math.prod(s.dims) for s in shapes]
    parts = [T.value_type(part_dtype(s.element_type)) for s in shapes]
    if counts[2] == 0:
        b.ret_void()
        return fn
    # Planes: ar, ai, br, bi, then the four real products rr, ii, ri, ir; each 64-byte aligned.
    sizes = [counts[0], counts[0], counts[1], counts[1]] + [counts[2]] * 4
    widths = [T.value_bytes(parts[0])] * 2 + [T.value_bytes(parts[1])] * 2 + [T.value_bytes(parts[2])] * 4
    offsets, total = [], 0
    for n, w in zip(sizes, widths):
        offsets.append(total)
        total += -(-(n * w) // 64) * 64
    block = b.call(T.intrinsic(module, "malloc", PTR, [I64]), [i64(max(total, 1))])
    with b.if_then(b.icmp_unsigned("==", b.ptrtoint(block, I64), i64(0)), likely=False):
        b.call(T.intrinsic(module, "abort", VOID, []), [])
    ar, ai, br, bi, rr, ii, ri, ir_ = (b.gep(block, [i64(o)], source_etype=I8) for o in offsets)

    def each(n: int, body: Callable[[ir.Value], None]) -> None:
        if n == 0:
            return
        pre = b.block
        loop, done = fn.append_basic_block("loop"), fn.append_basic_block("done")
        b.branch(loop)
        b.position_at_end(loop)
        i = b.phi(I64)
        i.add_incoming(i64(0), pre)
        body(i)
        nxt = b.add(i, i64(1))
        i.add_incoming(nxt, b.block)
        b.cbranch(b.icmp_signed("<", nxt, i64(n)), loop, done)
        b.position_at_end(done)

    def split(src: ir.Value, shape: Shape, re_p: ir.Value, im_p: ir.Value, part: ir.Type) -> Callable[[ir.Value], None]:
        def body(i: ir.Value) -> None:
            z = T.load(b, src, shape.element_type, i)
            b.store(T.re(b, z), b.gep(re_p, [i], inbounds=True, source_etype=part))
            b.store(T.im(b, z), b.gep(im_p, [i], inbounds=True, source_etype=part))
        return body

    each(counts[0], split(a_ptr, lhs.shape, ar, ai, parts[0]))
    each(counts[1], split(b_ptr, rhs.shape, br, bi, parts[1]))
    for x, y, out in ((ar, br, rr), (ai, bi, ii), (ar, bi, ri), (ai, br, ir_)):
        b.call(real, [x, y, out])
    po = parts[2]

    def combine(i: ir.Value) -> None:
        get = lambda p: b.load(b.gep(p, [i], inbounds=True, source_etype=po), typ=po)  # noqa: E731
        z = T.pack(b, b.fsub(get(rr), get(ii)), b.fadd(get(ri), get(ir_)))
        T.store(b, o_ptr, instr.shape.element_type, i, z)

    each(counts[2], combine)
    b.call(T.intrinsic(module, "free", VOID, [PTR]), [block])
    b.ret_void()
    return fn
