"""The 8- and 4-bit float formats (f8e4m3fn, f8e5m2, ..., f8e8m0fnu, f4e2m1fn): bits <-> f32.

In memory they are one byte per element, as ml_dtypes stores them (f4e2m1fn in the low nibble);
in registers they are f32 holding a value the format represents exactly, and every op computes in
f32 and rounds back, as XLA's float normalization does for them. One conversion each way, written
once and parameterised by the format's row in FORMATS; both match ml_dtypes (the interpreter) bit
for bit: round to nearest even (f8e8m0fnu: ties away from zero), NaN to the format's canonical
NaN, and a magnitude past the largest finite value to infinity, NaN or that largest value,
whichever the format has. The code is branch-free (selects), so loops over it still vectorize."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from llvmlite import ir

from .halfconv import int_splat as _c
from .halfconv import like as _like

I32, F32, F64 = ir.IntType(32), ir.FloatType(), ir.DoubleType()


@dataclass(frozen=True)
class SmallFloat:
    """One small float format, described the way its conversions need it."""
    exp: int  # exponent bits
    mant: int  # mantissa bits
    bias: int
    overflow: str  # what a magnitude past the largest finite value becomes: "inf" | "nan" | "max"
    nan: int | None  # the canonical NaN's bits, sign clear (None: the format has no NaN)
    nan_written: int  # the bits ml_dtypes writes for a positive NaN (f4e2m1fn, with no NaN: -0)
    signed_nan: bool = True  # a negative NaN converts to nan_written with the sign bit flipped
    signed: bool = True  # f8e8m0fnu has no sign bit: negative values are NaN
    has_zero: bool = True  # f8e8m0fnu has no zero either (its smallest value is 2^-127)
    signed_zero: bool = True  # fnuz: -0's encoding is the NaN, so zeros are +0
    ties_away: bool = False  # f8e8m0fnu rounds halfway cases up (as ml_dtypes does)

    @property
    def bits(self) -> int:
        return self.exp + self.mant + (1 if self.signed else 0)

    @property
    def mag_mask(self) -> int:
        return (1 << (self.exp + self.mant)) - 1

    @property
    def inf_mag(self) -> int:
        """The magnitude bits of infinity where the format has one (all-ones exponent)."""
        return ((1 << self.exp) - 1) << self.mant

    @property
    def max_mag(self) -> int:
        """The magnitude bits of the largest finite value."""
        if self.overflow == "inf":
            return self.inf_mag - 1
        nan_mag = None if self.nan is None else self.nan & self.mag_mask
        return self.mag_mask - 1 if nan_mag == self.mag_mask else self.mag_mask

    @property
    def subnormals(self) -> bool:
        return self.has_zero  # (f8e8m0fnu's exponent 0 is just the smallest exponent)


FORMATS: dict[str, SmallFloat] = {
    "f8e4m3fn": SmallFloat(4, 3, 7, "nan", 0x7F, 0x7F),
    "f8e5m2": SmallFloat(5, 2, 15, "inf", 0x7E, 0x7E),
    "f8e4m3fnuz": SmallFloat(4, 3, 8, "nan", 0x80, 0x80, signed_nan=False, signed_zero=False),
    "f8e5m2fnuz": SmallFloat(5, 2, 16, "nan", 0x80, 0x80, signed_nan=False, signed_zero=False),
    "f8e4m3b11fnuz": SmallFloat(4, 3, 11, "nan", 0x80, 0x80, signed_nan=False, signed_zero=False),
    "f8e4m3": SmallFloat(4, 3, 7, "inf", 0x7C, 0x7C),
    "f8e3m4": SmallFloat(3, 4, 3, "inf", 0x78, 0x78),
    "f8e8m0fnu": SmallFloat(8, 0, 127, "nan", 0xFF, 0xFF, signed_nan=False, signed=False, has_zero=False,
                           ties_away=True),
    "f4e2m1fn": SmallFloat(2, 1, 1, "max", None, 0x8),
}


@dataclass(frozen=True)
class _Source:
    """f32 or f64 as a conversion source: bit width, mantissa bits, exponent bias."""
    width: int
    mant: int
    bias: int
    np: type

    def bits_of(self, value: float) -> int:
        """The bits of `value` in this format (subnormal where it must be)."""
        return int(np.array(value, self.np).view(f"u{self.width // 8}"))


_SOURCES = {"float": _Source(32, 23, 127, np.float32), "double": _Source(64, 52, 1023, np.float64)}


def _elem_name(t: ir.Type) -> str:
    return str(t.element if isinstance(t, ir.VectorType) else t)


def f_to_small_bits(b: ir.IRBuilder, fmt: SmallFloat, v: ir.Value) -> ir.Value:
    """f32 or f64 value(s) rounded once to `fmt`, as i8 bits (scalars or vectors alike)."""
    src = _SOURCES[_elem_name(v.type)]
    it, i8 = _like(v.type, ir.IntType(src.width)), _like(v.type, ir.IntType(8))
    c = lambda x: _c(it, x)  # noqa: E731
    bits = b.bitcast(v, it)
    a = b.and_(bits, c((1 << (src.width - 1)) - 1))  # |v|
    sign = b.and_(b.lshr(bits, c(src.width - fmt.bits)), c(1 << (fmt.bits - 1)))
    sh = src.mant - fmt.mant
    # Rebias, then round on the dropped bits; a carry ripples into the exponent (and past the
    # largest value, handled below).
    half = (1 << (sh - 1)) + ((fmt.bias - src.bias) << src.mant)
    if fmt.ties_away:
        r = b.lshr(b.add(a, c(half)), c(sh))
    else:
        odd = b.and_(b.lshr(a, c(sh)), c(1))
        r = b.lshr(b.add(b.add(a, c(half - 1)), odd), c(sh))
    smallest = src.bits_of(2.0 ** (1 - fmt.bias))  # the smallest normal
    if fmt.subnormals:
        # Below the smallest normal: adding a power of two whose last place is the format's
        # smallest subnormal lets the FPU's own rounding to nearest even do the work.
        magic = src.bits_of(2.0 ** (src.mant + 1 - fmt.bias - fmt.mant))
        summed = b.fadd(b.bitcast(a, v.type), b.bitcast(c(magic), v.type))
        sub = b.sub(b.bitcast(summed, it), c(magic))
    else:  # exponent 0 (2^-bias) or 1, the halfway case going up; nothing is smaller
        up = b.icmp_unsigned(">=", a, c(src.bits_of(1.5 * 2.0 ** -fmt.bias)))
        sub = b.zext(up, it)
    r = b.select(b.icmp_unsigned("<", a, c(smallest)), sub, r)
    over = b.icmp_unsigned(">", r, c(fmt.max_mag))
    nan = c(fmt.nan_written)
    nan_signed = b.xor(nan, sign) if fmt.signed_nan else nan
    if fmt.signed:  # fnuz: a zero is +0 whatever the sign
        r = b.or_(r, sign if fmt.signed_zero else b.select(b.icmp_unsigned("==", r, c(0)), c(0), sign))
    past = {"inf": lambda: b.or_(c(fmt.inf_mag), sign), "max": lambda: b.or_(c(fmt.max_mag), sign),
            "nan": lambda: nan_signed}[fmt.overflow]()
    r = b.select(over, past, r)
    is_nan = b.icmp_unsigned(">", a, c(src.bits_of(float("inf"))))
    if not fmt.signed:  # negative values (and zero, which the format lacks) read as NaN
        negative = b.icmp_signed("<", bits, c(0))
        is_nan = b.or_(b.or_(is_nan, negative), b.icmp_unsigned("==", a, c(0)))
    return b.trunc(b.select(is_nan, nan_signed, r), i8)


def small_bits_to_f32(b: ir.IRBuilder, fmt: SmallFloat, raw: ir.Value) -> ir.Value:
    """The f32 value(s) of `fmt` bits (i8 or narrower; exact). NaN is f32's quiet NaN, signed as
    ml_dtypes makes it."""
    i32, f32 = _like(raw.type, I32), _like(raw.type, F32)
    c = lambda x: _c(i32, x)  # noqa: E731
    x = b.and_(b.zext(raw, i32), c((1 << fmt.bits) - 1))
    mag = b.and_(x, c(fmt.mag_mask))
    normal = b.add(b.shl(mag, c(23 - fmt.mant)), c((127 - fmt.bias) << 23))
    if fmt.subnormals:  # exponent 0: mantissa x 2^(1 - bias - mant), exact in f32
        scale = ir.Constant(F32, 2.0 ** (1 - fmt.bias - fmt.mant))
        scale_v = ir.Constant(f32, [scale] * f32.count) if isinstance(f32, ir.VectorType) else scale
        sub = b.bitcast(b.fmul(b.uitofp(mag, f32), scale_v), i32)
    else:
        sub = c(_SOURCES["float"].bits_of(2.0 ** -fmt.bias))
    r = b.select(b.icmp_unsigned("<", mag, c(1 << fmt.mant)), sub, normal)
    if fmt.overflow == "inf":
        r = b.select(b.icmp_unsigned("==", mag, c(fmt.inf_mag)), c(0x7F800000), r)
    if fmt.signed:
        r = b.or_(r, b.shl(b.lshr(x, c(fmt.bits - 1)), c(31)))
    if fmt.nan is not None:
        if fmt.nan & fmt.mag_mask:  # NaN magnitudes: above infinity's or the largest finite one
            top = fmt.inf_mag if fmt.overflow == "inf" else fmt.max_mag
            is_nan = b.icmp_unsigned(">", mag, c(top))
        else:
            is_nan = b.icmp_unsigned("==", x, c(fmt.nan))
        quiet = b.or_(b.and_(r, c(1 << 31)), c(0x7FC00000))
        r = b.select(is_nan, quiet, r)
    return b.bitcast(r, f32)


def round_to_small(b: ir.IRBuilder, fmt: SmallFloat, v: ir.Value) -> ir.Value:
    """f32 or f64 value(s) rounded once to `fmt`, as f32."""
    return small_bits_to_f32(b, fmt, f_to_small_bits(b, fmt, v))
