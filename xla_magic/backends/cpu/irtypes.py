"""How HLO element types live in memory and in registers of generated code.

In memory every type is what numpy stores (pred is one byte). In registers pred is i1, integers
are iN, f32/f64 are float/double, and f16/bf16 are float holding a value exactly representable
in the narrow type: every op on them computes in f32 and rounds back, which is what XLA's float
normalization and numpy both do. The f8 and f4 types are one byte in memory and f32 in registers
the same way (smallfloat.py); s4/u4/s2/u2 are one byte in memory (the low bits, as ml_dtypes
stores them) and i4/i2 in registers, so arithmetic wraps at their own width. c64/c128 are the
struct {float, float} / {double, double} (real, imag) in memory and in registers: numpy's
interleaved layout, and one first-class value that select, phi, load and store take like any
scalar, so kernels need no complex cases."""
from __future__ import annotations

from llvmlite import ir

from ...hlo.dtypes import DType
from .halfconv import bf16_bits_to_f32, f16_to_float, f32_to_bf16_bits, float_to_f16, round_to_f16
from .smallfloat import FORMATS as SMALL_FLOATS
from .smallfloat import f_to_small_bits, round_to_small, small_bits_to_f32

__all__ = ["bf16_bits_to_f32", "f32_to_bf16_bits"]  # kept importable from here

PTR = ir.PointerType()
I1, I8, I16, I32, I64 = (ir.IntType(n) for n in (1, 8, 16, 32, 64))
F16, F32, F64 = ir.HalfType(), ir.FloatType(), ir.DoubleType()
VOID = ir.VoidType()


class Unsupported(NotImplementedError):
    """The cpu backend cannot compile this; the message says what and where."""


def complex_type(part: ir.Type) -> ir.LiteralStructType:
    """The register and memory type of a complex number whose parts are `part` (float or double)."""
    return ir.LiteralStructType([part, part])


C64, C128 = complex_type(F32), complex_type(F64)


def is_complex(t: ir.Type) -> bool:
    return isinstance(t, ir.LiteralStructType) and len(t.elements) == 2


def part_type(t: ir.Type) -> ir.Type:
    """The type of either part of a complex register type."""
    assert is_complex(t), t
    return t.elements[0]


def re(b: ir.IRBuilder, z: ir.Value) -> ir.Value:
    return b.extract_value(z, 0)


def im(b: ir.IRBuilder, z: ir.Value) -> ir.Value:
    return b.extract_value(z, 1)


def pack(b: ir.IRBuilder, real: ir.Value, imag: ir.Value) -> ir.Value:
    """The complex value (real, imag); constants fold to a constant."""
    t = complex_type(real.type)
    if isinstance(real, ir.Constant) and isinstance(imag, ir.Constant):
        return ir.Constant(t, [real, imag])
    return b.insert_value(b.insert_value(ir.Constant(t, ir.Undefined), real, 0), imag, 1)


def value_bytes(t: ir.Type) -> int:
    """An upper bound on the bytes one register value of `t` takes in an alloca."""
    return 16 if t == C128 else 8


def storage_type(dt: DType) -> ir.Type:
    if dt.name == "c64":
        return C64
    if dt.name == "c128":
        return C128
    if dt.kind == "pred":
        return I8
    if dt.kind in ("s", "u"):
        if dt.bits in (2, 4):  # one byte each, as numpy (ml_dtypes) stores them
            return I8
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
    if dt.name in SMALL_FLOATS:
        return I8
    raise Unsupported(f"element type {dt.name}")


def value_type(dt: DType) -> ir.Type:
    if dt.kind == "pred":
        return I1
    if dt.name in ("f16", "bf16") or dt.name in SMALL_FLOATS:
        return F32
    if dt.kind in ("s", "u") and dt.bits in (2, 4):
        return ir.IntType(dt.bits)
    return storage_type(dt)


def const(dt: DType, v) -> ir.Constant:
    t = value_type(dt)
    if dt.kind == "pred":
        return ir.Constant(I1, int(bool(v)))
    if dt.kind in ("s", "u"):
        bits = dt.bits
        return ir.Constant(t, int(v) & ((1 << bits) - 1))
    if dt.kind == "c":
        z = complex(v)
        part = part_type(t)
        return ir.Constant(t, [ir.Constant(part, z.real), ir.Constant(part, z.imag)])
    return ir.Constant(t, float(v))


def i64(v: int) -> ir.Constant:
    return ir.Constant(I64, int(v))


def is_signed(dt: DType) -> bool:
    return dt.kind == "s"


def round_narrow(b: ir.IRBuilder, dt: DType, v: ir.Value) -> ir.Value:
    """An f32 value rounded to f16, bf16 or a small float's precision (and kept as f32)."""
    fmt = SMALL_FLOATS.get(dt.name)
    if fmt is not None:
        return round_to_small(b, fmt, v)
    if dt.name == "f16":
        return round_to_f16(b, v)
    if dt.name == "bf16":
        return bf16_bits_to_f32(b, f32_to_bf16_bits(b, v))
    return v


def load(b: ir.IRBuilder, ptr: ir.Value, dt: DType, index: ir.Value) -> ir.Value:
    st = storage_type(dt)
    raw = b.load(b.gep(ptr, [index], inbounds=True, source_etype=st), typ=st)
    if dt.kind == "pred":
        return b.icmp_unsigned("!=", raw, ir.Constant(I8, 0))
    if dt.name == "f16":
        return f16_to_float(b, raw, F32)
    if dt.name == "bf16":
        return bf16_bits_to_f32(b, raw)
    fmt = SMALL_FLOATS.get(dt.name)
    if fmt is not None:
        return small_bits_to_f32(b, fmt, raw)
    if raw.type != (vt := value_type(dt)):  # s4/u4/s2/u2: the low bits
        return b.trunc(raw, vt)
    return raw


def store(b: ir.IRBuilder, ptr: ir.Value, dt: DType, index: ir.Value, v: ir.Value) -> None:
    st = storage_type(dt)
    if dt.kind == "pred":
        v = b.zext(v, I8)
    elif dt.name == "f16":
        v = float_to_f16(b, v)
    elif dt.name == "bf16":
        v = f32_to_bf16_bits(b, v)
    elif dt.name in SMALL_FLOATS:
        v = f_to_small_bits(b, SMALL_FLOATS[dt.name], v)
    elif v.type != st:  # s4/u4/s2/u2: the low bits, the rest zero (as ml_dtypes writes them)
        v = b.zext(v, st)
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
