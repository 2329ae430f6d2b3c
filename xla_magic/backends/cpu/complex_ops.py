"""Scalar semantics of the elementwise HLO ops on c64/c128, one row per opcode (the complex half
of `scalar.SCALAR_OPS`, which dispatches here whenever an operand or the result is complex).

A value is the struct (re, im) of `irtypes`; every function is written on its parts with the real
math functions of `mathlib` (f32 parts in f32, f64 in f64), no fast-math flags and explicit fmas
only, so results do not depend on the host CPU. The reference is the interpreter, i.e. numpy:
the C library's C99 Annex G functions (csqrt, cexp, clog, csinh, ccosh, ctanh with glibc's special
values and zero signs; sin, cos, tan through the swap identities), numpy's own formulas for
division (Smith's), expm1, log1p and integer powers, and cpow = exp(w log a) with C's
multiplication. Infinite and NaN parts follow those definitions, not the naive formulas;
measured accuracy on random values is 1-4 ulps of the result's magnitude (tests/test_cpu_complex.py)."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from llvmlite import ir

from ...hlo.dtypes import F32 as DT_F32
from ...hlo.dtypes import F64 as DT_F64
from ...hlo.dtypes import DType
from ...hlo.ir import Instruction
from ...hlo.opcodes import Opcode as O
from . import irtypes as T
from .irtypes import I1, I32, Unsupported

if TYPE_CHECKING:
    from .scalar import Emitter

Row = Callable[["Emitter", Instruction, list[DType], list[ir.Value]], ir.Value]
ConvertReal = Callable[["Emitter", DType, DType, ir.Value], ir.Value]


class _Parts:
    """Real arithmetic on one part type, spelled short so the formulas below read as algebra."""

    def __init__(self, em: Emitter, t: ir.Type):
        self.em, self.b, self.t = em, em.b, t

    def c(self, v: float) -> ir.Constant:
        return ir.Constant(self.t, v)

    def add(self, x: ir.Value, y: ir.Value) -> ir.Value:
        return self.b.fadd(x, y)

    def sub(self, x: ir.Value, y: ir.Value) -> ir.Value:
        return self.b.fsub(x, y)

    def mul(self, x: ir.Value, y: ir.Value) -> ir.Value:
        return self.b.fmul(x, y)

    def div(self, x: ir.Value, y: ir.Value) -> ir.Value:
        return self.b.fdiv(x, y)

    def neg(self, x: ir.Value) -> ir.Value:
        return self.b.fneg(x)

    def fabs(self, x: ir.Value) -> ir.Value:
        return self.b.call(self.em.intr("llvm.fabs", self.t), [x])

    def sqrt(self, x: ir.Value) -> ir.Value:
        return self.b.call(self.em.intr("llvm.sqrt", self.t), [x])

    def fma(self, x: ir.Value, y: ir.Value, z: ir.Value) -> ir.Value:
        return self.b.call(self.em.intr("llvm.fma", self.t, 3), [x, y, z])

    def copysign(self, mag: ir.Value, sign: ir.Value) -> ir.Value:
        return self.b.call(self.em.intr("llvm.copysign", self.t, 2), [mag, sign])

    def fmax(self, x: ir.Value, y: ir.Value) -> ir.Value:
        return self.b.call(self.em.intr("llvm.maxnum", self.t, 2), [x, y])

    def fmin(self, x: ir.Value, y: ir.Value) -> ir.Value:
        return self.b.call(self.em.intr("llvm.minnum", self.t, 2), [x, y])

    def fn(self, name: str, *xs: ir.Value) -> ir.Value:
        return self.em.math(name, *xs)

    def sel(self, p: ir.Value, x: ir.Value, y: ir.Value) -> ir.Value:
        return self.b.select(p, x, y)

    def cmp(self, op: str, x: ir.Value, y: ir.Value) -> ir.Value:
        return self.b.fcmp_ordered(op, x, y)

    def eq(self, x: ir.Value, v: float) -> ir.Value:
        return self.b.fcmp_ordered("==", x, self.c(v))

    def isnan(self, x: ir.Value) -> ir.Value:
        return self.b.fcmp_unordered("uno", x, x)

    def isinf(self, x: ir.Value) -> ir.Value:
        return self.b.fcmp_ordered("==", self.fabs(x), self.c(float("inf")))

    def finite(self, x: ir.Value) -> ir.Value:
        return self.b.fcmp_ordered("<", self.fabs(x), self.c(float("inf")))

    def or_(self, *ps: ir.Value) -> ir.Value:
        r = ps[0]
        for p in ps[1:]:
            r = self.b.or_(r, p)
        return r

    def and_(self, *ps: ir.Value) -> ir.Value:
        r = ps[0]
        for p in ps[1:]:
            r = self.b.and_(r, p)
        return r

    @property
    def f64(self) -> bool:
        return self.t == T.F64

    @property
    def info(self) -> np.finfo:
        return np.finfo(np.float64 if self.f64 else np.float32)

    def hypot(self, x: ir.Value, y: ir.Value) -> ir.Value:
        """sqrt(x^2 + y^2) without overflow or underflow; inf if a part is inf, even with a NaN
        (C99). f32 squares in f64 (exact), f64 scales by the larger part."""
        ax, ay = self.fabs(x), self.fabs(y)
        if not self.f64:
            b = self.b
            wx, wy = b.fpext(ax, T.F64), b.fpext(ay, T.F64)
            s = b.call(self.em.intr("llvm.sqrt", T.F64), [b.fadd(b.fmul(wx, wx), b.fmul(wy, wy))])
            r = b.fptrunc(s, T.F32)
        else:
            # Borges' corrected hypot (the rounding errors of the squares recovered with fma, one
            # Newton step on h): correctly rounded nearly always, as libm's is, which matters where
            # a caller takes log(h) of h near 1. Scaled by 2^-600 / 2^600 at the ends of the range.
            mx, mn = self.fmax(ax, ay), self.fmin(ax, ay)
            big, small = self.cmp(">", mx, self.c(2.0 ** 500)), self.cmp("<", mx, self.c(2.0 ** -500))
            s = self.sel(big, self.c(2.0 ** -600), self.sel(small, self.c(2.0 ** 600), self.c(1.0)))
            x2, y2 = self.mul(mx, s), self.mul(mn, s)
            h = self.sqrt(self.fma(x2, x2, self.mul(y2, y2)))
            h_sq, x_sq = self.mul(h, h), self.mul(x2, x2)
            delta = self.sub(self.add(self.fma(self.neg(y2), y2, self.sub(h_sq, x_sq)), self.fma(h, h, self.neg(h_sq))),
                             self.fma(x2, x2, self.neg(x_sq)))
            h = self.sub(h, self.div(delta, self.add(h, h)))
            r = self.sel(self.eq(mx, 0.0), self.c(0.0), self.div(h, s))
        r = self.sel(self.or_(self.isnan(x), self.isnan(y)), self.c(float("nan")), r)
        return self.sel(self.or_(self.isinf(x), self.isinf(y)), self.c(float("inf")), r)

    def cosh(self, x: ir.Value) -> ir.Value:
        """sqrt(1 + sinh^2 x), or |sinh x| where 1 is below its last place (no overflow)."""
        s = self.fn("sinh", x)
        big = self.cmp(">", self.fabs(s), self.c(2.0 ** (28 if self.f64 else 13)))
        return self.sel(big, self.fabs(s), self.sqrt(self.add(self.c(1.0), self.mul(s, s))))


Z = tuple[ir.Value, ir.Value]


def _split(em: Emitter, z: ir.Value) -> tuple[_Parts, ir.Value, ir.Value]:
    return _Parts(em, T.part_type(z.type)), T.re(em.b, z), T.im(em.b, z)


def _pack(p: _Parts, z: Z) -> ir.Value:
    return T.pack(p.b, *z)


# --- the algebra on (re, im) pairs -------------------------------------------------------------

def cmul(p: _Parts, a: Z, b: Z) -> Z:
    # (ar + i ai)(br + i bi) = (ar br - ai bi) + i (ar bi + ai br), no inf recovery (numpy's power)
    (ar, ai), (br, bi) = a, b
    return p.sub(p.mul(ar, br), p.mul(ai, bi)), p.add(p.mul(ar, bi), p.mul(ai, br))


def cmul_fused(p: _Parts, a: Z, b: Z) -> Z:
    """The multiply op: (fma(ar, br, -(ai bi)), fma(ar, bi, ai br)), numpy's vector loop. An
    explicit fma is exact on every machine (an instruction or libm's fma), so the result does not
    depend on the CPU, and one rounding less keeps ar br - ai bi finite where it fits."""
    (ar, ai), (br, bi) = a, b
    return p.fma(ar, br, p.neg(p.mul(ai, bi))), p.fma(ar, bi, p.mul(ai, br))


def cmul_c99(p: _Parts, a: Z, b: Z) -> Z:
    """C's complex `*` (Annex G, libgcc's __muldc3): the plain products, and where both parts come
    out NaN but an operand or a product is infinite, the infinite parts boxed to ±1, the NaNs
    to ±0 and the products redone times inf (numpy's cpow multiplies the logarithm this way)."""
    (ar, ai), (br, bi) = a, b
    ac, bd, ad, bc = p.mul(ar, br), p.mul(ai, bi), p.mul(ar, bi), p.mul(ai, br)
    x, y = p.sub(ac, bd), p.add(ad, bc)
    inf_a, inf_b = p.or_(p.isinf(ar), p.isinf(ai)), p.or_(p.isinf(br), p.isinf(bi))
    over = p.or_(p.isinf(ac), p.isinf(bd), p.isinf(ad), p.isinf(bc))

    def box(v: ir.Value) -> ir.Value:  # ±1 for an infinite part, ±0 for a finite one
        return p.copysign(p.sel(p.isinf(v), p.c(1.0), p.c(0.0)), v)

    def unnan(v: ir.Value, on: ir.Value) -> ir.Value:
        return p.sel(p.and_(on, p.isnan(v)), p.copysign(p.c(0.0), v), v)

    ar2, ai2 = p.sel(inf_a, box(ar), ar), p.sel(inf_a, box(ai), ai)
    br2, bi2 = p.sel(inf_b, box(br), br), p.sel(inf_b, box(bi), bi)
    nan_others = p.or_(inf_a, inf_b, over)
    br2, bi2 = unnan(br2, p.or_(inf_a, over)), unnan(bi2, p.or_(inf_a, over))
    ar2, ai2 = unnan(ar2, p.or_(inf_b, over)), unnan(ai2, p.or_(inf_b, over))
    inf = p.c(float("inf"))
    rx = p.mul(inf, p.sub(p.mul(ar2, br2), p.mul(ai2, bi2)))
    ry = p.mul(inf, p.add(p.mul(ar2, bi2), p.mul(ai2, br2)))
    redo = p.and_(p.isnan(x), p.isnan(y), nan_others)
    return p.sel(redo, rx, x), p.sel(redo, ry, y)


def cdiv(p: _Parts, a: Z, b: Z) -> Z:
    """numpy's division: Smith's algorithm (the ratio of the smaller to the larger part of the
    divisor, so nothing overflows early); x/0 is the parts divided by zero."""
    (ar, ai), (br, bi) = a, b
    abr, abi = p.fabs(br), p.fabs(bi)
    real_big = p.cmp(">=", abr, abi)  # false when either is NaN, as in C
    # |br| >= |bi|: rat = bi/br, scl = 1/(br + bi rat); ((ar + ai rat) scl, (ai - ar rat) scl)
    rat1 = p.div(bi, br)
    scl1 = p.div(p.c(1.0), p.add(br, p.mul(bi, rat1)))
    r1 = p.mul(p.add(ar, p.mul(ai, rat1)), scl1), p.mul(p.sub(ai, p.mul(ar, rat1)), scl1)
    # else: rat = br/bi, scl = 1/(bi + br rat); ((ar rat + ai) scl, (ai rat - ar) scl)
    rat2 = p.div(br, bi)
    scl2 = p.div(p.c(1.0), p.add(bi, p.mul(br, rat2)))
    r2 = p.mul(p.add(p.mul(ar, rat2), ai), scl2), p.mul(p.sub(p.mul(ai, rat2), ar), scl2)
    zero = p.and_(p.eq(abr, 0.0), p.eq(abi, 0.0))
    r0 = p.div(ar, abr), p.div(ai, abr)
    return (p.sel(real_big, p.sel(zero, r0[0], r1[0]), r2[0]),
            p.sel(real_big, p.sel(zero, r0[1], r1[1]), r2[1]))


def csqrt(p: _Parts, x: ir.Value, y: ir.Value) -> Z:
    """C99 csqrt: t = sqrt((|x| + |z|)/2); x >= 0: (t, y/2t), else (|y|/2t, copysign(t, y)); the
    parts scaled by 1/4 near overflow and by 2^(2k) among subnormals."""
    info = p.info
    big_at = float(info.max) / 4
    k = 54 if p.f64 else 24  # even, so the root of the scale is exact
    tiny_at = float(info.tiny) * 2.0 ** k
    m = p.fmax(p.fabs(x), p.fabs(y))
    big, tiny = p.cmp(">", m, p.c(big_at)), p.cmp("<", m, p.c(tiny_at))
    scale = p.sel(big, p.c(0.25), p.sel(tiny, p.c(2.0 ** k), p.c(1.0)))
    unscale = p.sel(big, p.c(2.0), p.sel(tiny, p.c(2.0 ** (-k // 2)), p.c(1.0)))
    sx, sy = p.mul(x, scale), p.mul(y, scale)
    t = p.sqrt(p.mul(p.add(p.fabs(sx), p.hypot(sx, sy)), p.c(0.5)))
    two_t = p.add(t, t)
    pos = p.cmp(">=", sx, p.c(0.0))
    re = p.sel(pos, t, p.div(p.fabs(sy), two_t))
    im = p.sel(pos, p.div(sy, two_t), p.copysign(t, sy))
    re, im = p.mul(re, unscale), p.mul(im, unscale)
    # 0: (+0, y). x = -inf: (|y| NaN-propagating -> NaN or 0, copysign(inf, y)); x = +inf: (inf, y
    # finite ? copysign(0, y) : y - y). y = ±inf: (inf, y) whatever x is.
    zero = p.and_(p.eq(x, 0.0), p.eq(y, 0.0))
    re, im = p.sel(zero, p.c(0.0), re), p.sel(zero, y, im)
    ninf, pinf = p.eq(x, float("-inf")), p.eq(x, float("inf"))
    re = p.sel(ninf, p.sel(p.isnan(y), y, p.c(0.0)), re)
    im = p.sel(ninf, p.copysign(p.c(float("inf")), y), im)
    re = p.sel(pinf, x, re)
    im = p.sel(pinf, p.sel(p.isnan(y), y, p.copysign(p.c(0.0), y)), im)
    yinf = p.isinf(y)
    return p.sel(yinf, p.c(float("inf")), re), p.sel(yinf, y, im)


def cexp(p: _Parts, x: ir.Value, y: ir.Value) -> Z:
    """C99 cexp: e^x (cos y, sin y), e^x as two halves so that e^x cos y is finite where it
    fits; y = 0 keeps y exactly, x = ±inf with a non-finite y gives (0, 0) / (inf, NaN)."""
    h = p.fn("exp", p.mul(x, p.c(0.5)))
    re = p.mul(p.mul(h, p.fn("cos", y)), h)
    im = p.mul(p.mul(h, p.fn("sin", y)), h)
    im = p.sel(p.eq(y, 0.0), y, im)
    ny = p.b.not_(p.finite(y))
    ninf = p.and_(p.eq(x, float("-inf")), ny)
    pinf = p.and_(p.eq(x, float("inf")), ny)
    re = p.sel(ninf, p.c(0.0), p.sel(pinf, x, re))
    im = p.sel(ninf, p.copysign(p.c(0.0), y), p.sel(pinf, p.c(float("nan")), im))
    return re, im


def clog(p: _Parts, x: ir.Value, y: ir.Value) -> Z:
    """C99 clog: (log|z|, atan2(y, x)). |z| near 1 goes through log1p((m-1)(m+1) + n^2) (no
    cancellation); f32 squares in f64; huge parts are halved first (|z| may overflow)."""
    b = p.b
    if not p.f64:
        wx, wy = b.fpext(x, T.F64), b.fpext(y, T.F64)
        w = _Parts(p.em, T.F64)
        re = b.fptrunc(w.mul(w.fn("log", w.add(w.mul(wx, wx), w.mul(wy, wy))), w.c(0.5)), T.F32)
    else:
        ax, ay = p.fabs(x), p.fabs(y)
        mx, mn = p.fmax(ax, ay), p.fmin(ax, ay)
        near1 = p.and_(p.cmp(">", mx, p.c(0.5)), p.cmp("<", mx, p.c(2.0)), p.cmp("<", mn, p.c(0.5)))
        lp = p.mul(p.fn("log1p", p.add(p.mul(p.sub(mx, p.c(1.0)), p.add(mx, p.c(1.0))), p.mul(mn, mn))), p.c(0.5))
        huge = p.cmp(">", mx, p.c(float(p.info.max) / 2))
        half = p.sel(huge, p.c(0.5), p.c(1.0))
        lg = p.fn("log", p.hypot(p.mul(x, half), p.mul(y, half)))
        lg = p.sel(huge, p.add(lg, p.c(float(np.log(2.0)))), lg)
        re = p.sel(near1, lp, lg)
    re = p.sel(p.and_(p.eq(x, 0.0), p.eq(y, 0.0)), p.c(float("-inf")), re)
    re = p.sel(p.or_(p.isinf(x), p.isinf(y)), p.c(float("inf")), re)
    return re, p.fn("atan2", y, x)


def _hyperbolic_parts(p: _Parts, x: ir.Value, cy: ir.Value, sy: ir.Value, sinh_first: bool) -> Z:
    """(sinh x cy, cosh x sy) or (cosh x cy, sinh x sy). Past |x| = 22 (9 for f32) both are
    ±e^|x|/2, taken as h (h/2) with h = e^(|x|/2) so a product that fits does not overflow."""
    sh, ch = p.fn("sinh", x), p.cosh(x)
    near = (p.mul(sh, cy), p.mul(ch, sy)) if sinh_first else (p.mul(ch, cy), p.mul(sh, sy))
    h = p.fn("exp", p.mul(p.fabs(x), p.c(0.5)))
    half = p.mul(h, p.c(0.5))
    sgn = p.copysign(p.c(1.0), x)
    far_c, far_s = p.mul(p.mul(h, cy), half), p.mul(p.mul(h, sy), half)
    far = (p.mul(sgn, far_c), far_s) if sinh_first else (far_c, p.mul(sgn, far_s))
    is_far = p.cmp(">=", p.fabs(x), p.c(22.0 if p.f64 else 9.0))
    return p.sel(is_far, far[0], near[0]), p.sel(is_far, far[1], near[1])


def csinh(p: _Parts, x: ir.Value, y: ir.Value) -> Z:
    """sinh z = (sinh x cos y, cosh x sin y) with C99's special values (glibc's zero signs): y = 0
    keeps y; a non-finite y gives (x, NaN) for x = 0, (+inf, NaN) for infinite x."""
    re, im = _hyperbolic_parts(p, x, p.fn("cos", y), p.fn("sin", y), True)
    ny = p.b.not_(p.finite(y))
    re = p.sel(p.and_(p.eq(x, 0.0), ny), x, re)
    re = p.sel(p.and_(p.isinf(x), ny), p.c(float("inf")), re)
    return re, p.sel(p.eq(y, 0.0), y, im)


def ccosh(p: _Parts, x: ir.Value, y: ir.Value) -> Z:
    """cosh z = (cosh x cos y, sinh x sin y) with C99's special values (glibc's zero signs): y = 0
    gives the imaginary zero the sign of x y (y itself for a NaN x), x = 0 with a non-finite y
    gives +0, an infinite x with a non-finite y (+inf, NaN)."""
    re, im = _hyperbolic_parts(p, x, p.fn("cos", y), p.fn("sin", y), False)
    ny = p.b.not_(p.finite(y))
    re = p.sel(p.and_(p.isinf(x), ny), p.c(float("inf")), re)
    signed_zero = p.sel(p.isnan(x), y, p.mul(p.copysign(p.c(0.0), x), p.copysign(p.c(1.0), y)))
    im = p.sel(p.eq(y, 0.0), signed_zero, im)
    return re, p.sel(p.and_(p.eq(x, 0.0), ny), p.c(0.0), im)


def ctanh(p: _Parts, x: ir.Value, y: ir.Value) -> Z:
    """tanh z by Kahan's algorithm (FreeBSD msun's; numpy's values match it): t = tan y,
    b = 1 + t^2, s = sinh x: (b s sqrt(1 + s^2), t) / (1 + b s^2); past |x| = 22 (11 for f32), (sign x, 4 sin y cos y
    e^-2|x|). x = ±inf: (±1, ±0); NaN x: (NaN, y if y = 0); non-finite y: (x if x = 0, NaN)."""
    t = p.fn("tan", y)
    beta = p.add(p.c(1.0), p.mul(t, t))
    s = p.fn("sinh", x)
    rho = p.sqrt(p.add(p.c(1.0), p.mul(s, s)))
    den = p.add(p.c(1.0), p.mul(p.mul(beta, s), s))
    re, im = p.div(p.mul(p.mul(beta, rho), s), den), p.div(t, den)
    sy, cy = p.fn("sin", y), p.fn("cos", y)
    e = p.fn("exp", p.neg(p.fabs(x)))
    one_x = p.copysign(p.c(1.0), x)
    far = p.cmp(">=", p.fabs(x), p.c(22.0 if p.f64 else 11.0))
    re = p.sel(far, one_x, re)
    im = p.sel(far, p.mul(p.mul(p.mul(p.mul(p.c(4.0), sy), cy), e), e), im)
    nan = p.c(float("nan"))
    yfin = p.finite(y)
    re = p.sel(yfin, re, p.sel(p.eq(x, 0.0), x, nan))
    im = p.sel(yfin, im, nan)
    xinf = p.isinf(x)
    re = p.sel(xinf, one_x, re)
    im = p.sel(xinf, p.copysign(p.c(0.0), p.sel(yfin, p.mul(sy, cy), y)), im)
    xnan = p.isnan(x)
    re = p.sel(xnan, nan, re)
    return re, p.sel(xnan, p.sel(p.eq(y, 0.0), y, nan), im)


def _swap(z: Z) -> Z:
    return z[1], z[0]


def cpow(p: _Parts, a: Z, w: Z) -> Z:
    """numpy's power: a^0 = 1; 0^w = 0 where re w > 0, else NaN; integer real w with |w| < 100 by
    repeated squaring (1/a^|w| for w < 0); otherwise C99 cpow = exp(w log a)."""
    b = p.b
    (ar, ai), (wr, wi) = a, w
    one: Z = (p.c(1.0), p.c(0.0))
    # Integer exponent: n = |wr| < 128 in 7 bits; numpy multiplies from 1 (so 1 * inf parts give NaN).
    n_f = p.fabs(wr)
    integral = p.and_(p.eq(wi, 0.0), p.cmp("<", n_f, p.c(100.0)),
                      p.cmp("==", b.call(p.em.intr("llvm.trunc", p.t), [wr]), wr))
    n = b.fptoui(p.sel(integral, n_f, p.c(0.0)), I32)
    acc, sq = one, a
    for bit in range(7):
        on = b.trunc(b.lshr(n, ir.Constant(I32, bit)), I1)
        m = cmul(p, acc, sq)
        acc = p.sel(on, m[0], acc[0]), p.sel(on, m[1], acc[1])
        if bit < 6:
            sq = cmul(p, sq, sq)
    recip = cdiv(p, one, acc)
    neg = p.cmp("<", wr, p.c(0.0))
    by_squaring = p.sel(neg, recip[0], acc[0]), p.sel(neg, recip[1], acc[1])
    # n = 1, 2, 3 unrolled: a, a a, a (a a)
    a2 = cmul(p, a, a)
    a3 = cmul(p, a, a2)
    for k, v in ((1, a), (2, a2), (3, a3)):
        is_k = p.and_(integral, p.eq(wr, float(k)))
        by_squaring = p.sel(is_k, v[0], by_squaring[0]), p.sel(is_k, v[1], by_squaring[1])
    general = cexp(p, *cmul_c99(p, w, clog(p, ar, ai)))
    r = p.sel(integral, by_squaring[0], general[0]), p.sel(integral, by_squaring[1], general[1])
    a_zero = p.and_(p.eq(ar, 0.0), p.eq(ai, 0.0))
    zr = p.sel(p.cmp(">", wr, p.c(0.0)), p.c(0.0), p.c(float("nan")))
    r = p.sel(a_zero, zr, r[0]), p.sel(a_zero, zr, r[1])
    w_zero = p.and_(p.eq(wr, 0.0), p.eq(wi, 0.0))
    return p.sel(w_zero, p.c(1.0), r[0]), p.sel(w_zero, p.c(0.0), r[1])


# --- rows ---------------------------------------------------------------------------------------

def _unary(f: Callable[[_Parts, ir.Value, ir.Value], Z]) -> Row:
    def row(em: Emitter, instr: Instruction, dts: list[DType], vals: list[ir.Value]) -> ir.Value:
        p, x, y = _split(em, vals[0])
        return _pack(p, f(p, x, y))
    return row


def _binary(f: Callable[[_Parts, Z, Z], Z]) -> Row:
    def row(em: Emitter, instr: Instruction, dts: list[DType], vals: list[ir.Value]) -> ir.Value:
        p, ar, ai = _split(em, vals[0])
        return _pack(p, f(p, (ar, ai), (T.re(em.b, vals[1]), T.im(em.b, vals[1]))))
    return row


# sin z = -i sinh(iz) = swap(sinh(swap z)); cos z = cosh(iz); tan z = swap(tanh(swap z)), where
# swap(a + ib) = b + ia: the forms numpy uses, which fix the signs of infinite and zero parts.
def _sin(p: _Parts, x: ir.Value, y: ir.Value) -> Z:
    return _swap(csinh(p, y, x))


def _cos(p: _Parts, x: ir.Value, y: ir.Value) -> Z:
    return ccosh(p, p.neg(y), x)


def _tan(p: _Parts, x: ir.Value, y: ir.Value) -> Z:
    return _swap(ctanh(p, y, x))


def _expm1(p: _Parts, x: ir.Value, y: ir.Value) -> Z:
    # numpy: (expm1(x) cos y - 2 sin^2(y/2), e^x sin y)
    s = p.fn("sin", p.mul(y, p.c(0.5)))
    re = p.sub(p.mul(p.fn("expm1", x), p.fn("cos", y)), p.mul(p.mul(p.c(2.0), s), s))
    return re, p.mul(p.fn("exp", x), p.fn("sin", y))


def _log1p(p: _Parts, x: ir.Value, y: ir.Value) -> Z:
    # numpy: (log hypot(x + 1, y), atan2(y, x + 1))
    x1 = p.add(x, p.c(1.0))
    return p.fn("log", p.hypot(x1, y)), p.fn("atan2", y, x1)


def _rsqrt(p: _Parts, x: ir.Value, y: ir.Value) -> Z:
    return cdiv(p, (p.c(1.0), p.c(0.0)), csqrt(p, x, y))  # 1 / sqrt z


def _logistic(p: _Parts, x: ir.Value, y: ir.Value) -> Z:
    # 1 / (1 + e^-z), as the interpreter writes it
    ex, ey = cexp(p, p.neg(x), p.neg(y))
    return cdiv(p, (p.c(1.0), p.c(0.0)), (p.add(p.c(1.0), ex), p.add(p.c(0.0), ey)))


def _negate(p: _Parts, x: ir.Value, y: ir.Value) -> Z:
    return p.neg(x), p.neg(y)


def _sign(p: _Parts, x: ir.Value, y: ir.Value) -> Z:
    # z / |z| (a complex division by (|z|, 0), as numpy does it); 0 stays itself
    a = p.hypot(x, y)
    q = cdiv(p, (x, y), (a, p.c(0.0)))
    zero = p.eq(a, 0.0)
    return p.sel(zero, x, q[0]), p.sel(zero, y, q[1])


def _abs(em: Emitter, instr: Instruction, dts: list[DType], vals: list[ir.Value]) -> ir.Value:
    p, x, y = _split(em, vals[0])
    return p.hypot(x, y)


def _part(index: int) -> Row:
    """real / imag: a part of a complex value; of a real one, itself / zero."""
    def row(em: Emitter, instr: Instruction, dts: list[DType], vals: list[ir.Value]) -> ir.Value:
        (z,) = vals
        if T.is_complex(z.type):
            return em.b.extract_value(z, index)
        if dts[0].kind != "f":
            raise Unsupported(f"{instr.opcode.value} on {dts[0].name}")
        return z if index == 0 else ir.Constant(z.type, 0.0)
    return row


def _complex(em: Emitter, instr: Instruction, dts: list[DType], vals: list[ir.Value]) -> ir.Value:
    if dts[0].name not in ("f32", "f64"):
        raise Unsupported(f"complex of {dts[0].name} parts")
    return T.pack(em.b, vals[0], vals[1])


def _compare(em: Emitter, instr: Instruction, dts: list[DType], vals: list[ir.Value]) -> ir.Value:
    direction = instr.attrs["direction"]
    if direction not in ("EQ", "NE"):
        raise Unsupported(f"compare {direction} on {dts[0].name} (complex numbers are not ordered)")
    p, ar, ai = _split(em, vals[0])
    br, bi = T.re(em.b, vals[1]), T.im(em.b, vals[1])
    if direction == "EQ":
        return p.and_(p.cmp("==", ar, br), p.cmp("==", ai, bi))
    return p.or_(em.b.fcmp_unordered("!=", ar, br), em.b.fcmp_unordered("!=", ai, bi))  # NaN: unequal


def _same_bits(em: Emitter, instr: Instruction, dts: list[DType], vals: list[ir.Value]) -> ir.Value:
    src, dst = dts[0], instr.shape.element_type
    if src != dst:
        raise Unsupported(f"bitcast-convert between widths ({src.name} -> {dst.name})")
    return vals[0]


def _select(em: Emitter, instr: Instruction, dts: list[DType], vals: list[ir.Value]) -> ir.Value:
    b: ir.IRBuilder = em.b
    return b.select(vals[0], vals[1], vals[2])  # a struct value selects whole


def part_dtype(dt: DType) -> DType:
    return DT_F64 if dt.name == "c128" else DT_F32


def convert(em: Emitter, src: DType, dst: DType, x: ir.Value, real: ConvertReal) -> ir.Value:
    """A convert with a complex side: parts widened or narrowed; from a real type into the real
    part (imaginary 0); to pred, z != 0 (NaN parts count as nonzero); to another real type, the
    real part converted (XLA)."""
    b = em.b
    if src.kind == "c" and dst.kind == "c":
        sp, dp = part_dtype(src), part_dtype(dst)
        return T.pack(b, real(em, sp, dp, T.re(b, x)), real(em, sp, dp, T.im(b, x)))
    if dst.kind == "c":
        dp = part_dtype(dst)
        return T.pack(b, real(em, src, dp, x), ir.Constant(T.value_type(dp), 0.0))
    if dst.kind == "pred":
        zero = ir.Constant(T.part_type(x.type), 0.0)
        return b.or_(b.fcmp_unordered("!=", T.re(b, x), zero), b.fcmp_unordered("!=", T.im(b, x), zero))
    return real(em, part_dtype(src), dst, T.re(b, x))


COMPLEX_OPS: dict[O, Row] = {
    O.ADD: _binary(lambda p, a, b: (p.add(a[0], b[0]), p.add(a[1], b[1]))),
    O.SUBTRACT: _binary(lambda p, a, b: (p.sub(a[0], b[0]), p.sub(a[1], b[1]))),
    O.MULTIPLY: _binary(cmul_fused),
    O.DIVIDE: _binary(cdiv),
    O.POWER: _binary(cpow),
    O.NEGATE: _unary(_negate),
    O.ABS: _abs,
    O.SIGN: _unary(_sign),
    O.SQRT: _unary(csqrt),
    O.RSQRT: _unary(_rsqrt),
    O.EXP: _unary(cexp),
    O.EXPM1: _unary(_expm1),
    O.LOG: _unary(clog),
    O.LOG1P: _unary(_log1p),
    O.LOGISTIC: _unary(_logistic),
    O.SIN: _unary(_sin),
    O.COS: _unary(_cos),
    O.TAN: _unary(_tan),
    O.SINH: _unary(csinh),
    O.TANH: _unary(ctanh),
    O.REAL: _part(0),
    O.IMAG: _part(1),
    O.COMPLEX: _complex,
    O.COMPARE: _compare,
    O.BITCAST_CONVERT: _same_bits,
    O.SELECT: _select,
    O.COPY: lambda em, instr, dts, vals: vals[0],
}
