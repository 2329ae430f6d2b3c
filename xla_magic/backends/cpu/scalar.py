"""Scalar semantics of every elementwise HLO op in LLVM IR, one table row per opcode.

The same rows serve loop bodies (one element at a time; LLVM vectorizes the loop) and reducer or
comparator computations (which are scalar computations inlined into the kernel). Each row is
`fn(em, instr, dtypes_of_operands, values) -> value`, and follows XLA's semantics
(`shared/XLA_SEMANTICS.md`): integer division by zero, shifts past the width, NaN-propagating
max/min, saturating float-to-int converts."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from llvmlite import ir

from ...hlo.dtypes import DType
from ...hlo.ir import Computation, Instruction
from ...hlo.opcodes import Opcode as O
from . import complex_ops
from .halfconv import f16_bits_to_f32, f_to_f16_bits, int_to_f16, round_to_f16
from .irtypes import F32, F64, I1, I16, I32, I64, Unsupported, const, intrinsic, round_narrow, suffix, value_type
from .smallfloat import FORMATS as SMALL_FLOATS
from .smallfloat import f_to_small_bits, round_to_small, small_bits_to_f32

# Float arithmetic carries no fast-math flags: with `contract` LLVM fuses a*b+c into one FMA
# exactly where the target has FMA instructions (x86-64-v3 yes, v2 no; half-precision FMA with
# AVX512-FP16, skipping the rounding of the f16 product), so results would depend on the CPU.
# Every op rounds to its own type, as the interpreter does, on every machine.


class Emitter:
    """Builder plus module-level helpers (intrinsics, math functions)."""

    def __init__(self, module: ir.Module, builder: ir.IRBuilder):
        self.module, self.b = module, builder

    def intr(self, name: str, t: ir.Type, n: int = 1, ret: ir.Type | None = None) -> ir.Function:
        return intrinsic(self.module, f"{name}.{suffix(t)}", ret or t, [t] * n)

    def math(self, name: str, *args: ir.Value) -> ir.Value:
        """A vectorizable math function from mathlib; libm through LLVM intrinsics otherwise."""
        t = args[0].type
        try:
            from .mathlib import declare_math

            fn = declare_math(self.module, name, t)
        except (ImportError, KeyError, ValueError, NotImplementedError):
            fn = self._libm(name, t, len(args))
        return self.b.call(fn, list(args))

    def _libm(self, name: str, t: ir.Type, n: int) -> ir.Function:
        intrinsics = {"exp": "llvm.exp", "log": "llvm.log", "sin": "llvm.sin", "cos": "llvm.cos",
                      "tan": "llvm.tan", "pow": "llvm.pow", "sqrt": "llvm.sqrt"}
        if name in intrinsics:
            return self.intr(intrinsics[name], t, n)
        c = {"expm1": "expm1", "log1p": "log1p", "tanh": "tanh", "sinh": "sinh", "atan2": "atan2", "erf": "erf",
             "cbrt": "cbrt"}.get(name)
        if c is None:
            raise Unsupported(f"math function {name}")
        c = c + ("f" if t == F32 else "")
        return intrinsic(self.module, c, t, [t] * n)


Row = Callable[[Emitter, Instruction, list[DType], list[ir.Value]], ir.Value]


def _dt(instr: Instruction) -> DType:
    dt = instr.shape.dtype
    assert dt is not None, f"'{instr.name}' is a tuple"
    return dt


def _is_float(dt: DType) -> bool:
    return dt.kind == "f"


def _narrow(em: Emitter, instr: Instruction, v: ir.Value) -> ir.Value:
    return round_narrow(em.b, _dt(instr), v)


def _arith(fop: str, iop: str) -> Row:
    def row(em, instr, dts, vals):
        a, b = vals
        if _is_float(dts[0]):
            return _narrow(em, instr, getattr(em.b, fop)(a, b))
        if dts[0].kind == "pred":
            return {"add": em.b.or_, "sub": em.b.xor, "mul": em.b.and_}[iop](a, b)
        return getattr(em.b, iop)(a, b)
    return row


def _int_division(signed_op: str, unsigned_op: str, by_zero, overflow_result) -> Callable:
    """Integer division or remainder with XLA's answers where C's are undefined: `by_zero(a, ones)`
    for x/0, `overflow_result(t)` for INT_MIN/-1 (the divisor is made safe before dividing)."""
    def emit(em: Emitter, a: ir.Value, b: ir.Value, signed: bool) -> ir.Value:
        t = a.type
        one, ones = ir.Constant(t, 1), ir.Constant(t, -1)
        zero_div = em.b.icmp_unsigned("==", b, ir.Constant(t, 0))
        if not signed:
            r = getattr(em.b, unsigned_op)(a, em.b.select(zero_div, one, b))
            return em.b.select(zero_div, by_zero(a, ones), r)
        int_min = ir.Constant(t, 1 << (t.width - 1))
        overflow = em.b.and_(em.b.icmp_unsigned("==", a, int_min), em.b.icmp_unsigned("==", b, ones))
        r = getattr(em.b, signed_op)(a, em.b.select(em.b.or_(zero_div, overflow), one, b))
        return em.b.select(zero_div, by_zero(a, ones), em.b.select(overflow, overflow_result(t), r))
    return emit


_INT_DIV = _int_division("sdiv", "udiv", lambda a, ones: ones, lambda t: ir.Constant(t, 1 << (t.width - 1)))
_INT_REM = _int_division("srem", "urem", lambda a, ones: a, lambda t: ir.Constant(t, 0))


def _divide(em, instr, dts, vals):
    if _is_float(dts[0]):
        return _narrow(em, instr, em.b.fdiv(*vals))
    return _INT_DIV(em, *vals, dts[0].kind == "s")  # x/0 = -1 (all ones), INT_MIN/-1 = INT_MIN


def _remainder(em, instr, dts, vals):
    if _is_float(dts[0]):
        return _narrow(em, instr, em.b.frem(*vals))  # C fmod: sign of the dividend
    return _INT_REM(em, *vals, dts[0].kind == "s")  # x%0 = x, INT_MIN%-1 = 0


def _minmax(fname: str, sname: str, uname: str, pred_op: str) -> Row:
    def row(em, instr, dts, vals):
        a, b = vals
        dt = dts[0]
        if _is_float(dt):  # NaN propagates; -0 < +0 (IEEE 754-2019 maximum/minimum)
            return em.b.call(em.intr(fname, a.type, 2), [a, b])
        if dt.kind == "pred":
            return getattr(em.b, pred_op)(a, b)
        return em.b.call(em.intr(sname if dt.kind == "s" else uname, a.type, 2), [a, b])
    return row


def _bitwise(op: str) -> Row:
    return lambda em, instr, dts, vals: getattr(em.b, op)(vals[0], vals[1])


def _shift(kind: str) -> Row:
    def row(em, instr, dts, vals):
        a, n = vals
        t = a.type
        width = ir.Constant(t, t.width)
        too_far = em.b.icmp_unsigned(">=", n, width)  # negative amounts are huge unsigned
        safe = em.b.select(too_far, ir.Constant(t, 0), n)
        if kind == "shl":
            return em.b.select(too_far, ir.Constant(t, 0), em.b.shl(a, safe))
        if kind == "lshr":
            return em.b.select(too_far, ir.Constant(t, 0), em.b.lshr(a, safe))
        return em.b.ashr(a, em.b.select(too_far, ir.Constant(t, t.width - 1), n))
    return row


_FCMP = {"EQ": ("oeq", False), "NE": ("une", True), "LT": ("olt", False), "LE": ("ole", False),
         "GT": ("ogt", False), "GE": ("oge", False)}
_ICMP = {"EQ": "==", "NE": "!=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}


def _total_order_key(em: Emitter, v: ir.Value) -> ir.Value:
    """Float bits mapped to a signed integer whose order is IEEE totalOrder (-NaN < -inf < ... < -0 <
    +0 < ... < +inf < NaN)."""
    it = I64 if v.type == ir.DoubleType() else I32
    bits = em.b.bitcast(v, it)
    mask = ir.Constant(it, (1 << (it.width - 1)) - 1)
    neg = em.b.icmp_signed("<", bits, ir.Constant(it, 0))
    return em.b.select(neg, em.b.xor(bits, mask), bits)


def _compare(em, instr, dts, vals):
    a, b = vals
    dt = dts[0]
    direction = instr.attrs["direction"]
    ctype = instr.attrs.get("type")
    if _is_float(dt):
        if ctype == "TOTALORDER":
            return em.b.icmp_signed(_ICMP[direction], _total_order_key(em, a), _total_order_key(em, b))
        op, unordered = _FCMP[direction]
        return (em.b.fcmp_unordered if unordered else em.b.fcmp_ordered)(
            {"oeq": "==", "une": "!=", "olt": "<", "ole": "<=", "ogt": ">", "oge": ">="}[op], a, b)
    signed = (dt.kind == "s" and ctype != "UNSIGNED") or ctype == "SIGNED"
    return (em.b.icmp_signed if signed else em.b.icmp_unsigned)(_ICMP[direction], a, b)


def _select(em, instr, dts, vals):
    return em.b.select(vals[0], vals[1], vals[2])


def _clamp(em, instr, dts, vals):
    lo, x, hi = vals
    dt = dts[1]
    if _is_float(dt):  # any NaN gives NaN; lo > hi gives hi
        mx = em.b.call(em.intr("llvm.maximum", x.type, 2), [x, lo])
        return em.b.call(em.intr("llvm.minimum", x.type, 2), [mx, hi])
    s = "s" if dt.kind == "s" else "u"
    mx = em.b.call(em.intr(f"llvm.{s}max", x.type, 2), [x, lo])
    return em.b.call(em.intr(f"llvm.{s}min", x.type, 2), [mx, hi])


def _math(name: str) -> Row:
    def row(em, instr, dts, vals):
        if not _is_float(dts[0]):
            raise Unsupported(f"{instr.opcode.value} on {dts[0].name}")
        return _narrow(em, instr, em.math(name, *vals))
    return row


def _power(em, instr, dts, vals):
    if _is_float(dts[0]):
        return _narrow(em, instr, em.math("pow", *vals))
    return em.b.call(_ipow_function(em, vals[0].type, dts[0].kind == "s"), vals)


def _ipow_function(em: Emitter, t: ir.IntType, signed: bool) -> ir.Function:
    """x^n by squaring; negative n: 1 for x = 1, ±1 for x = -1 (signed), else 0 (XLA)."""
    name = f"xm_ipow_{'s' if signed else 'u'}{t.width}"
    fn = em.module.globals.get(name)
    if fn is not None:
        return fn
    fn = ir.Function(em.module, ir.FunctionType(t, [t, t]), name=name)
    fn.linkage = "internal"
    x, n = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    one, zero = ir.Constant(t, 1), ir.Constant(t, 0)
    loop, body, done, negative = (fn.append_basic_block(s) for s in ("loop", "body", "done", "negative"))
    if signed:
        b.cbranch(b.icmp_signed("<", n, zero), negative, loop)
    else:
        b.branch(loop)
    entry = b.block
    b.position_at_end(loop)
    acc = b.phi(t)
    base = b.phi(t)
    e = b.phi(t)
    acc.add_incoming(one, entry)
    base.add_incoming(x, entry)
    e.add_incoming(n, entry)
    b.cbranch(b.icmp_unsigned("==", e, zero), done, body)
    b.position_at_end(body)
    odd = b.trunc(e, I1)
    acc2 = b.select(odd, b.mul(acc, base), acc)
    base2 = b.mul(base, base)
    e2 = b.lshr(e, one)
    acc.add_incoming(acc2, body)
    base.add_incoming(base2, body)
    e.add_incoming(e2, body)
    b.branch(loop)
    b.position_at_end(done)
    b.ret(acc)
    b.position_at_end(negative)
    is_one = b.icmp_unsigned("==", x, one)
    is_minus_one = b.icmp_unsigned("==", x, ir.Constant(t, -1))
    odd_n = b.trunc(n, I1)
    minus = b.select(odd_n, ir.Constant(t, -1), one)
    b.ret(b.select(is_one, one, b.select(is_minus_one, minus, zero)))
    return fn


def _abs(em, instr, dts, vals):
    (x,) = vals
    if _is_float(dts[0]):
        return em.b.call(em.intr("llvm.fabs", x.type), [x])
    if dts[0].kind == "u":
        return x
    neg = em.b.icmp_signed("<", x, ir.Constant(x.type, 0))
    return em.b.select(neg, em.b.sub(ir.Constant(x.type, 0), x), x)


def _negate(em, instr, dts, vals):
    (x,) = vals
    return em.b.fneg(x) if _is_float(dts[0]) else em.b.sub(ir.Constant(x.type, 0), x)


def _sign(em, instr, dts, vals):
    (x,) = vals
    t = x.type
    if _is_float(dts[0]):
        # ±0 and NaN are their own sign; denormals of the register type read as ±0, as on XLA:CPU
        # (DAZ) and in the interpreter, whatever the host's MXCSR says (x*0 keeps x's sign bit).
        tiny = ir.Constant(t, float(np.finfo(np.float64 if t == F64 else np.float32).tiny))
        pos = em.b.fcmp_ordered(">=", x, tiny)
        neg = em.b.fcmp_ordered("<=", x, em.b.fneg(tiny))
        return em.b.select(pos, ir.Constant(t, 1.0),
                           em.b.select(neg, ir.Constant(t, -1.0), em.b.fmul(x, ir.Constant(t, 0.0))))
    zero = ir.Constant(t, 0)
    if dts[0].kind == "u":
        return em.b.zext(em.b.icmp_unsigned("!=", x, zero), t)
    pos = em.b.icmp_signed(">", x, zero)
    neg = em.b.icmp_signed("<", x, zero)
    return em.b.select(pos, ir.Constant(t, 1), em.b.select(neg, ir.Constant(t, -1), zero))


def _unary_intrinsic(name: str) -> Row:
    def row(em, instr, dts, vals):
        if not _is_float(dts[0]):
            return vals[0]  # floor/ceil/round of an integer is itself
        return em.b.call(em.intr(name, vals[0].type), vals)
    return row


def _rsqrt(em, instr, dts, vals):
    (x,) = vals
    s = em.b.call(em.intr("llvm.sqrt", x.type), [x])
    return _narrow(em, instr, em.b.fdiv(ir.Constant(x.type, 1.0), s))


def _sqrt(em, instr, dts, vals):
    (x,) = vals
    return _narrow(em, instr, em.b.call(em.intr("llvm.sqrt", x.type), [x]))


def _is_finite(em, instr, dts, vals):
    (x,) = vals
    ax = em.b.call(em.intr("llvm.fabs", x.type), [x])
    return em.b.fcmp_ordered("!=", ax, ir.Constant(x.type, float("inf")))


def _not(em, instr, dts, vals):
    (x,) = vals
    return em.b.xor(x, ir.Constant(x.type, -1 if x.type != I1 else 1))


# XLA (XLA:CPU and its constant folding alike) counts the bits of s4's sign-extended byte:
# popcnt(s4 -8) = 5, popcnt(s4 -1) = 8, which wraps to -8. Other types count their own bits.
_POPCNT_BITS = {"s4": 8}


def _popcnt(em, instr, dts, vals):
    (x,) = vals
    bits = _POPCNT_BITS.get(dts[0].name)
    if bits is None:
        return em.b.call(em.intr("llvm.ctpop", x.type), vals)
    wide = em.b.sext(x, ir.IntType(bits))
    return em.b.trunc(em.b.call(em.intr("llvm.ctpop", wide.type), [wide]), x.type)


def _clz(em, instr, dts, vals):
    (x,) = vals
    f = intrinsic(em.module, f"llvm.ctlz.{suffix(x.type)}", x.type, [x.type, I1])
    return em.b.call(f, [x, ir.Constant(I1, 0)])


def convert_value(em: Emitter, src: DType, dst: DType, x: ir.Value) -> ir.Value:
    b = em.b
    if src == dst:
        return x
    if src.kind == "c" or dst.kind == "c":
        return complex_ops.convert(em, src, dst, x, convert_value)
    out_t = value_type(dst)
    if src.kind == "pred":
        if dst.kind == "f":  # (f8e8m0fnu has no zero: false is NaN there)
            return round_narrow(b, dst, b.uitofp(x, out_t)) if dst.name in SMALL_FLOATS else b.uitofp(x, out_t)
        return b.zext(x, out_t)
    if dst.kind == "pred":
        if src.kind == "f":
            return b.fcmp_unordered("!=", x, ir.Constant(x.type, 0.0))  # NaN is true
        return b.icmp_unsigned("!=", x, ir.Constant(x.type, 0))
    if src.kind in ("s", "u") and dst.kind in ("s", "u"):
        if out_t.width < x.type.width:
            return b.trunc(x, out_t)
        if out_t.width > x.type.width:
            return b.sext(x, out_t) if src.kind == "s" else b.zext(x, out_t)
        return x
    if src.kind in ("s", "u"):  # to float
        if dst.name == "f16":
            return int_to_f16(b, x, src.kind == "s")  # one rounding, straight to f16
        conv = b.sitofp if src.kind == "s" else b.uitofp
        if dst.name in SMALL_FLOATS and x.type.width > 16:  # exact in f64, then one rounding
            return round_to_small(b, SMALL_FLOATS[dst.name], conv(x, F64))
        return round_narrow(b, dst, conv(x, out_t))
    if dst.kind in ("s", "u"):  # from float: truncate toward zero, saturate, NaN -> 0
        s = "s" if dst.kind == "s" else "u"
        f = intrinsic(em.module, f"llvm.fpto{s}i.sat.{suffix(out_t)}.{suffix(x.type)}", out_t, [x.type])
        return b.call(f, [x])
    # float to float
    if x.type == out_t:
        return round_narrow(b, dst, x)
    if x.type == F32 and out_t == ir.DoubleType():
        return b.fpext(x, out_t)
    if dst.name == "f16":
        return round_to_f16(b, x)  # one rounding from f64
    if dst.name in SMALL_FLOATS:
        return round_to_small(b, SMALL_FLOATS[dst.name], x)  # one rounding from f64
    return round_narrow(b, dst, b.fptrunc(x, out_t))


def _convert(em, instr, dts, vals):
    return convert_value(em, dts[0], _dt(instr), vals[0])


def _bits(em: Emitter, dt: DType, x: ir.Value) -> ir.Value:
    if dt.name in SMALL_FLOATS:  # (f4e2m1fn: the low 4 bits)
        return em.b.trunc(f_to_small_bits(em.b, SMALL_FLOATS[dt.name], x), ir.IntType(dt.bits))
    if dt.name == "f16":
        return f_to_f16_bits(em.b, x)
    if dt.name == "bf16":
        return em.b.trunc(em.b.lshr(em.b.bitcast(x, I32), ir.Constant(I32, 16)), I16)
    if dt.kind == "f":
        return em.b.bitcast(x, ir.IntType(dt.bits))
    if dt.kind == "pred":
        return em.b.zext(x, ir.IntType(8))
    return x


def _from_bits(em: Emitter, dt: DType, bits: ir.Value) -> ir.Value:
    if dt.name in SMALL_FLOATS:
        return small_bits_to_f32(em.b, SMALL_FLOATS[dt.name], bits)
    if dt.name == "f16":
        return f16_bits_to_f32(em.b, bits)
    if dt.name == "bf16":
        return em.b.bitcast(em.b.shl(em.b.zext(bits, I32), ir.Constant(I32, 16)), F32)
    if dt.kind == "f":
        return em.b.bitcast(bits, value_type(dt))
    if dt.kind == "pred":
        return em.b.icmp_unsigned("!=", bits, ir.Constant(bits.type, 0))
    return bits


def _bitcast_convert(em, instr, dts, vals):
    src, dst = dts[0], _dt(instr)
    if src.bits != dst.bits:  # (the elemental emitter splits or joins; see `bitcast_piece`)
        raise Unsupported(f"bitcast-convert between widths ({src.name} -> {dst.name})")
    return _from_bits(em, dst, _bits(em, src, vals[0]))


def _check_whole_bytes(src: DType, dst: DType) -> None:
    if src.bits % 8 or dst.bits % 8 or src.kind == "pred" or dst.kind == "pred":
        raise Unsupported(f"bitcast-convert between widths ({src.name} -> {dst.name})")


def bitcast_piece(em: Emitter, src: DType, dst: DType, x: ir.Value, k: ir.Value) -> ir.Value:
    """Piece k (an i64 below src.bits / dst.bits) of a wide element, as XLA's narrowing
    bitcast-convert: the pieces in little-endian order, piece 0 the low bits."""
    _check_whole_bytes(src, dst)
    wide_t, narrow_t = ir.IntType(src.bits), ir.IntType(dst.bits)
    shift = em.b.mul(k, ir.Constant(I64, dst.bits))
    shift = em.b.trunc(shift, wide_t) if src.bits < 64 else shift
    piece = em.b.trunc(em.b.lshr(_bits(em, src, x), shift), narrow_t)
    return _from_bits(em, dst, piece)


def bitcast_join(em: Emitter, src: DType, dst: DType, pieces: list[ir.Value]) -> ir.Value:
    """The wide element whose little-endian pieces are `pieces` (XLA's widening bitcast-convert)."""
    _check_whole_bytes(src, dst)
    wide_t = ir.IntType(dst.bits)
    acc: ir.Value = ir.Constant(wide_t, 0)
    for j, p in enumerate(pieces):  # acc |= zext(piece_j) << (j * src.bits)
        part = em.b.zext(_bits(em, src, p), wide_t)
        acc = em.b.or_(acc, em.b.shl(part, ir.Constant(wide_t, j * src.bits)) if j else part)
    return _from_bits(em, dst, acc)


def _reduce_precision(em, instr, dts, vals):
    """XLA's ReducePrecision: round the mantissa to nearest even, then flush exponents out of range."""
    (x,) = vals
    dt = dts[0]
    if x.type not in (F32, ir.DoubleType()):
        raise Unsupported(f"reduce-precision on {dt.name}")
    wide = x.type == ir.DoubleType()
    it = I64 if wide else I32
    mant, expo = (52, 11) if wide else (23, 8)
    ebits, mbits = instr.attrs["exponent_bits"], instr.attrs["mantissa_bits"]
    b = em.b
    bits = b.bitcast(x, it)
    c = lambda v: ir.Constant(it, v)  # noqa: E731
    if mbits < mant:
        last = 1 << (mant - mbits)
        bias = (last >> 1) - 1
        last_bit = b.lshr(b.and_(bits, c(last)), c(mant - mbits))
        bits = b.and_(b.add(bits, b.add(last_bit, c(bias))), c(~(last - 1)))
    if ebits < expo:
        ebias = (1 << (expo - 1)) - 1
        rbias = (1 << (ebits - 1)) - 1
        exp_mask = ((1 << expo) - 1) << mant
        sign = 1 << (mant + expo)
        x_exp = b.and_(bits, c(exp_mask))
        over = b.icmp_unsigned(">", x_exp, c((ebias + rbias) << mant))
        under = b.icmp_unsigned("<=", x_exp, c((ebias - rbias) << mant))
        signed_zero = b.and_(bits, c(sign))
        signed_inf = b.or_(signed_zero, c(exp_mask))
        bits = b.select(over, signed_inf, b.select(under, signed_zero, bits))
    out = b.bitcast(bits, x.type)
    is_nan = b.fcmp_unordered("uno", x, x)
    nan_out = x if mbits > 0 else ir.Constant(x.type, float("inf"))
    return b.select(is_nan, nan_out, out)


def _unsupported(em, instr, dts, vals):
    raise Unsupported(f"{instr.opcode.value} on {', '.join(d.name for d in dts)}")


SCALAR_OPS: dict[O, Row] = {
    O.ADD: _arith("fadd", "add"),
    O.SUBTRACT: _arith("fsub", "sub"),
    O.MULTIPLY: _arith("fmul", "mul"),
    O.DIVIDE: _divide,
    O.REMAINDER: _remainder,
    O.MAXIMUM: _minmax("llvm.maximum", "llvm.smax", "llvm.umax", "or_"),
    O.MINIMUM: _minmax("llvm.minimum", "llvm.smin", "llvm.umin", "and_"),
    O.POWER: _power,
    O.ATAN2: _math("atan2"),
    O.AND: _bitwise("and_"),
    O.OR: _bitwise("or_"),
    O.XOR: _bitwise("xor"),
    O.SHIFT_LEFT: _shift("shl"),
    O.SHIFT_RIGHT_LOGICAL: _shift("lshr"),
    O.SHIFT_RIGHT_ARITHMETIC: _shift("ashr"),
    O.COMPARE: _compare,
    O.SELECT: _select,
    O.CLAMP: _clamp,
    O.ABS: _abs,
    O.NEGATE: _negate,
    O.SIGN: _sign,
    O.FLOOR: _unary_intrinsic("llvm.floor"),
    O.CEIL: _unary_intrinsic("llvm.ceil"),
    O.ROUND_AFZ: _unary_intrinsic("llvm.round"),
    O.ROUND_EVEN: _unary_intrinsic("llvm.roundeven"),
    O.SQRT: _sqrt,
    O.RSQRT: _rsqrt,
    O.CBRT: _math("cbrt"),
    O.EXP: _math("exp"),
    O.EXPM1: _math("expm1"),
    O.LOG: _math("log"),
    O.LOG1P: _math("log1p"),
    O.LOGISTIC: _math("logistic"),
    O.TANH: _math("tanh"),
    O.SINH: _math("sinh"),
    O.COSH: _math("cosh"),
    O.ASINH: _math("asinh"),
    O.ACOSH: _math("acosh"),
    O.ATANH: _math("atanh"),
    O.ASIN: _math("asin"),
    O.ACOS: _math("acos"),
    O.ATAN: _math("atan"),
    O.SIN: _math("sin"),
    O.COS: _math("cos"),
    O.TAN: _math("tan"),
    O.ERF: _math("erf"),
    O.IS_FINITE: _is_finite,
    O.NOT: _not,
    O.POPCNT: _popcnt,
    O.CLZ: _clz,
    O.COPY: lambda em, instr, dts, vals: vals[0],
    O.CONVERT: _convert,
    O.BITCAST_CONVERT: _bitcast_convert,
    O.REDUCE_PRECISION: _reduce_precision,
    O.REAL: complex_ops.COMPLEX_OPS[O.REAL],
    O.IMAG: complex_ops.COMPLEX_OPS[O.IMAG],
    O.COMPLEX: complex_ops.COMPLEX_OPS[O.COMPLEX],
}


# Rows whose f32 result can be a value a small float format lacks (-x of f8e8m0fnu, floor(0.5) = 0
# without a zero, -0 of fnuz, an infinity of reduce-precision): rounded back for those formats.
_LEAVE_SMALL_FORMAT = frozenset({O.NEGATE, O.SIGN, O.FLOOR, O.CEIL, O.ROUND_AFZ, O.ROUND_EVEN, O.REDUCE_PRECISION})


def emit_scalar_op(em: Emitter, instr: Instruction, dts: list[DType], vals: list[ir.Value]) -> ir.Value:
    if instr.opcode is not O.CONVERT and any(d.kind == "c" for d in [*dts, _dt(instr)]):
        row = complex_ops.COMPLEX_OPS.get(instr.opcode)  # a complex operand or result
        if row is None:
            raise Unsupported(f"{instr.opcode.value} on {', '.join(d.name for d in dts)}")
        return row(em, instr, dts, vals)
    row = SCALAR_OPS.get(instr.opcode)
    if row is None:
        raise Unsupported(f"{instr.opcode.value} in a scalar computation")
    v = row(em, instr, dts, vals)
    if instr.opcode in _LEAVE_SMALL_FORMAT and _dt(instr).name in SMALL_FLOATS:
        return _narrow(em, instr, v)
    return v


def emit_scalar_computation(em: Emitter, comp: Computation, args: list[ir.Value]) -> list[ir.Value]:
    """Inlines a computation on scalars (a reducer, a comparator): the values of its root's leaves."""
    env: dict[int, ir.Value] = {}  # a value, or a list of them for a tuple
    for i in comp.instructions:
        if i.opcode is O.PARAMETER:
            assert i.parameter_number is not None
            env[id(i)] = args[i.parameter_number]
        elif i.opcode is O.CONSTANT:
            if i.literal is None or i.literal.size != 1:
                raise Unsupported(f"constant {i.name} in a scalar computation")
            env[id(i)] = const(_dt(i), i.literal.reshape(()).item())
        elif i.opcode is O.TUPLE:
            env[id(i)] = [env[id(o)] for o in i.operands]
        elif i.opcode is O.GET_TUPLE_ELEMENT:
            env[id(i)] = env[id(i.operands[0])][i.attrs["index"]]
        elif i.opcode in (O.BROADCAST, O.RESHAPE, O.BITCAST, O.COPY) and i.shape.size == 1:
            env[id(i)] = env[id(i.operands[0])]
        else:
            dts = [_dt(o) for o in i.operands]
            env[id(i)] = emit_scalar_op(em, i, dts, [env[id(o)] for o in i.operands])
    root = env[id(comp.root)]
    return root if isinstance(root, list) else [root]
