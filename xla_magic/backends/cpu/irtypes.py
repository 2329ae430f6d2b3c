"""How HLO element types live in memory and in registers of generated code.

In memory every type is what numpy stores (pred is one byte). In registers pred is i1, integers
are iN, f32/f64 are float/double, and f16/bf16 are float holding a value exactly representable
in the narrow type: every op on them computes in f32 and rounds back, which is what XLA's float
normalization and numpy both do."""
from __future__ import annotations

from llvmlite import ir

from ...hlo.dtypes import DType

PTR = ir.PointerType()
I1, I8, I16, I32, I64 = (ir.IntType(n) for n in (1, 8, 16, 32, 64))
F16, F32, F64 = ir.HalfType(), ir.FloatType(), ir.DoubleType()
VOID = ir.VoidType()


class Unsupported(NotImplementedError):
    """The cpu backend cannot compile this; the message says what and where."""


def storage_type(dt: DType) -> ir.Type:
    if dt.kind == "pred":
        return I8
    if dt.kind in ("s", "u"):
        if dt.bits not in (8, 16, 32, 64):
            raise Unsupported(f"element type {dt.name}")
        return ir.IntType(dt.bits)
    if dt.name == "f32":
        return F32
    if dt.name == "f64":
        return F64
    if dt.name == "f16":
        return F16
    if dt.name == "bf16":
        return I16
    raise Unsupported(f"element type {dt.name}")


def value_type(dt: DType) -> ir.Type:
    if dt.kind == "pred":
        return I1
    if dt.name in ("f16", "bf16"):
        return F32
    return storage_type(dt)


def const(dt: DType, v) -> ir.Constant:
    t = value_type(dt)
    if dt.kind == "pred":
        return ir.Constant(I1, int(bool(v)))
    if dt.kind in ("s", "u"):
        bits = dt.bits
        return ir.Constant(t, int(v) & ((1 << bits) - 1))
    return ir.Constant(t, float(v))


def i64(v: int) -> ir.Constant:
    return ir.Constant(I64, int(v))


def is_signed(dt: DType) -> bool:
    return dt.kind == "s"


def round_narrow(b: ir.IRBuilder, dt: DType, v: ir.Value) -> ir.Value:
    """An f32 value rounded to f16 or bf16 precision (and kept as f32)."""
    if dt.name == "f16":
        return b.fpext(b.fptrunc(v, F16), F32)
    if dt.name == "bf16":
        return bf16_bits_to_f32(b, f32_to_bf16_bits(b, v))
    return v


def f32_to_bf16_bits(b: ir.IRBuilder, v: ir.Value) -> ir.Value:
    """Round to nearest even on the bits (NaN stays a quiet NaN), as ml_dtypes does."""
    bits = b.bitcast(v, I32)
    lsb = b.and_(b.lshr(bits, ir.Constant(I32, 16)), ir.Constant(I32, 1))
    rounded = b.lshr(b.add(b.add(bits, ir.Constant(I32, 0x7FFF)), lsb), ir.Constant(I32, 16))
    is_nan = b.fcmp_unordered("uno", v, v)
    nan = b.or_(b.lshr(bits, ir.Constant(I32, 16)), ir.Constant(I32, 0x40))
    return b.trunc(b.select(is_nan, nan, rounded), I16)


def bf16_bits_to_f32(b: ir.IRBuilder, bits: ir.Value) -> ir.Value:
    return b.bitcast(b.shl(b.zext(bits, I32), ir.Constant(I32, 16)), F32)


def load(b: ir.IRBuilder, ptr: ir.Value, dt: DType, index: ir.Value) -> ir.Value:
    st = storage_type(dt)
    raw = b.load(b.gep(ptr, [index], inbounds=True, source_etype=st), typ=st)
    if dt.kind == "pred":
        return b.icmp_unsigned("!=", raw, ir.Constant(I8, 0))
    if dt.name == "f16":
        return b.fpext(raw, F32)
    if dt.name == "bf16":
        return bf16_bits_to_f32(b, raw)
    return raw


def store(b: ir.IRBuilder, ptr: ir.Value, dt: DType, index: ir.Value, v: ir.Value) -> None:
    st = storage_type(dt)
    if dt.kind == "pred":
        v = b.zext(v, I8)
    elif dt.name == "f16":
        v = b.fptrunc(v, F16)
    elif dt.name == "bf16":
        v = f32_to_bf16_bits(b, v)
    b.store(v, b.gep(ptr, [index], inbounds=True, source_etype=st))


def intrinsic(module: ir.Module, name: str, ret: ir.Type, args: list[ir.Type]) -> ir.Function:
    """Get or declare `name` (an LLVM intrinsic or a C library function)."""
    g = module.globals.get(name)
    if g is None:
        g = ir.Function(module, ir.FunctionType(ret, args), name=name)
    return g


def suffix(t: ir.Type) -> str:
    if isinstance(t, ir.IntType):
        return f"i{t.width}"
    return {"float": "f32", "double": "f64", "half": "f16"}[str(t)]
