"""f16 and bf16 conversions written as integer bit manipulation.

LLVM lowers `fptrunc .. to half` / `fpext half ..` to a library call (`__truncsfhf2`,
`__extendhfsf2`, `__truncdfhf2`) on targets without half-precision instructions (x86 without
F16C, armv7 without +fp16, riscv64 without Zfh), and some of those targets' libgcc lacks them.
Written out here, an object needs only libc and libm. Rounding is XLA's: to nearest even, NaN
stays NaN (quieted, payload kept as the hardware does), overflow gives infinity. The code is
branch-free (selects), so the vectorizer still widens it.

Where the target converts natively the plain instructions stay (one instruction each);
`inline_half_conversions()` makes code generation use the integer forms, as ahead-of-time builds
do for targets without native conversions."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from llvmlite import ir

I16, I32 = ir.IntType(16), ir.IntType(32)
F16, F32, F64 = ir.HalfType(), ir.FloatType(), ir.DoubleType()

_INLINE: list[bool] = []  # set by inline_half_conversions(); the innermost setting is last


@contextmanager
def inline_half_conversions(on: bool = True) -> Iterator[None]:
    """Generate f16 conversions as integer code (no libgcc/compiler-rt call) while active."""
    _INLINE.append(on)
    try:
        yield
    finally:
        _INLINE.pop()


def inlined() -> bool:
    return bool(_INLINE) and _INLINE[-1]


def native_half(triple: str, features: str) -> bool:
    """Whether LLVM converts f32 <-> f16 with instructions (no library call) on this target."""
    arch = triple.split("-", 1)[0].lower()
    feats = set(features.split(","))
    if arch in ("x86_64", "i386", "i686"):
        return "+f16c" in feats
    if arch in ("aarch64", "arm64"):
        return True
    if arch.startswith("riscv"):
        return bool({"+zfh", "+zfhmin"} & feats)
    if arch.startswith(("arm", "thumb")):
        return bool({"+fp16", "+fullfp16"} & feats)
    return False


@dataclass(frozen=True)
class _Format:
    """A binary float format wider than f16: its bit width, exponent bias and mantissa bits."""
    width: int
    fty: ir.Type
    bias: int
    mant: int


_FORMATS = {"float": _Format(32, F32, 127, 23), "double": _Format(64, F64, 1023, 52)}


def _elem(ty: ir.Type) -> ir.Type:
    return ty.element if isinstance(ty, ir.VectorType) else ty


def like(ty: ir.Type, elem: ir.Type) -> ir.Type:
    """`elem`, or a vector of `elem` as wide as `ty` (these work on scalars and vectors alike)."""
    return ir.VectorType(elem, ty.count) if isinstance(ty, ir.VectorType) else elem


def int_splat(ty: ir.Type, v: int) -> ir.Constant:
    """The integer constant `v` (taken modulo the width) of `ty`, splat for a vector type."""
    e = _elem(ty)
    assert isinstance(e, ir.IntType)
    c = ir.Constant(e, v & ((1 << e.width) - 1))
    return ir.Constant(ty, [c] * ty.count) if isinstance(ty, ir.VectorType) else c


def f_to_f16_bits(b: ir.IRBuilder, v: ir.Value) -> ir.Value:
    """f32 or f64 value(s) rounded once to f16, as i16 bits."""
    i16 = like(v.type, I16)
    if not inlined():
        return b.bitcast(b.fptrunc(v, like(v.type, F16)), i16)
    f = _FORMATS[str(_elem(v.type))]
    w, it = f.width, like(v.type, ir.IntType(f.width))
    bits = b.bitcast(v, it)
    sign = b.and_(b.trunc(b.lshr(bits, int_splat(it, w - 16)), i16), int_splat(i16, 0x8000))
    a = b.and_(bits, int_splat(it, (1 << (w - 1)) - 1))  # |v|
    inf = ((1 << (w - 1 - f.mant)) - 1) << f.mant
    sh = f.mant - 10
    # NaN: quiet, the top of the payload kept (as the hardware converts).
    payload = b.trunc(b.lshr(b.and_(a, int_splat(it, (1 << f.mant) - 1)), int_splat(it, sh)), i16)
    nan = b.or_(payload, int_splat(i16, 0x7E00))
    # Normal in f16: rebias, then round to nearest even on the dropped bits; a carry ripples into
    # the exponent, up to infinity for values from 65520 on.
    odd = b.and_(b.lshr(a, int_splat(it, sh)), int_splat(it, 1))
    normal = b.add(b.add(a, int_splat(it, ((15 - f.bias) << f.mant) + (1 << (sh - 1)) - 1)), odd)
    normal = b.trunc(b.lshr(normal, int_splat(it, sh)), i16)
    # Below f16's smallest normal: adding 2^(mant-24) leaves 2^-24 (f16's smallest subnormal) as
    # the sum's last place, so the FPU's own rounding to nearest even does the work.
    magic = (f.bias + f.mant - 24) << f.mant
    summed = b.fadd(b.bitcast(a, v.type), b.bitcast(int_splat(it, magic), v.type))
    sub = b.trunc(b.sub(b.bitcast(summed, it), int_splat(it, magic)), i16)
    r = b.select(b.icmp_unsigned("<", a, int_splat(it, (f.bias - 14) << f.mant)), sub, normal)
    r = b.select(b.icmp_unsigned(">=", a, int_splat(it, (f.bias + 16) << f.mant)), int_splat(i16, 0x7C00), r)
    r = b.select(b.icmp_unsigned(">", a, int_splat(it, inf)), nan, r)
    return b.or_(r, sign)


def f16_bits_to_f32(b: ir.IRBuilder, h: ir.Value) -> ir.Value:
    """The f32 value(s) of f16 bits (exact)."""
    i32, f32 = like(h.type, I32), like(h.type, F32)
    if not inlined():
        return b.fpext(b.bitcast(h, like(h.type, F16)), f32)
    x = b.zext(h, i32)
    o = b.shl(b.and_(x, int_splat(i32, 0x7FFF)), int_splat(i32, 13))
    exp = b.and_(o, int_splat(i32, 0x7C00 << 13))
    o = b.add(o, int_splat(i32, (127 - 15) << 23))
    # Infinity and NaN: the exponent goes to all ones (the payload is kept).
    infnan = b.add(o, int_splat(i32, (128 - 16) << 23))
    # Zero and subnormals: renormalize by subtracting 2^-14 in f32 (exact).
    sub = b.fsub(b.bitcast(b.add(o, int_splat(i32, 1 << 23)), f32), b.bitcast(int_splat(i32, 113 << 23), f32))
    r = b.select(b.icmp_unsigned("==", exp, int_splat(i32, 0x7C00 << 13)), infnan, o)
    r = b.select(b.icmp_unsigned("==", exp, int_splat(i32, 0)), b.bitcast(sub, i32), r)
    r = b.or_(r, b.shl(b.and_(x, int_splat(i32, 0x8000)), int_splat(i32, 16)))
    return b.bitcast(r, f32)


def f16_to_float(b: ir.IRBuilder, v: ir.Value, dst: ir.Type) -> ir.Value:
    """`fpext` of half value(s) to float or double, without a library call where inlined."""
    if not inlined():
        return b.fpext(v, dst)
    f = f16_bits_to_f32(b, b.bitcast(v, like(v.type, I16)))
    return f if _elem(dst) == F32 else b.fpext(f, dst)


def float_to_f16(b: ir.IRBuilder, v: ir.Value) -> ir.Value:
    """`fptrunc` of float or double value(s) to half (one rounding)."""
    if not inlined():
        return b.fptrunc(v, like(v.type, F16))
    return b.bitcast(f_to_f16_bits(b, v), like(v.type, F16))


def round_to_f16(b: ir.IRBuilder, v: ir.Value) -> ir.Value:
    """f32 or f64 value(s) rounded once to f16 precision, as f32."""
    if not inlined():
        return b.fpext(b.fptrunc(v, like(v.type, F16)), like(v.type, F32))
    return f16_bits_to_f32(b, f_to_f16_bits(b, v))


def int_to_f16(b: ir.IRBuilder, v: ir.Value, signed: bool) -> ir.Value:
    """Integer value(s) rounded once to f16, as f32. Through f32: an integer that f32 rounds
    (|v| >= 2^24) is far beyond f16's range, so the second rounding cannot differ from one."""
    if not inlined():
        conv = b.sitofp if signed else b.uitofp
        return b.fpext(conv(v, like(v.type, F16)), like(v.type, F32))
    conv = b.sitofp if signed else b.uitofp
    return round_to_f16(b, conv(v, like(v.type, F32)))


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
