"""The inverse trigonometric and hyperbolic `chlo` ops on complex numbers, as XLA expands them
(the functional_algorithms forms): asin/acos from Hull et al.'s algorithm with fewer regions,
acosh and asinh through them, atanh from log1p(z) - log1p(-z) done on the parts, atan through
atanh. All arithmetic is on the real and imaginary parts."""
from __future__ import annotations

import math

import numpy as np

from .chlo_expr import Expr, abs_, atan2, complex_, imag, log, log1p, max_finite, maximum, minimum, real, select, sqrt


def _hypot(a: Expr, b: Expr) -> Expr:
    """hypot(a, b) without overflow: mx sqrt(1 + (mn/mx)^2), exact where a = b, first order
    where the square root rounds to 1."""
    mx, mn = maximum(a, b), minimum(a, b)
    r = (mn / mx) * (mn / mx)
    sqa = sqrt(1.0 + r)
    return select(mx.eq(mn), math.sqrt(2.0) * mx, select(sqa.eq(1.0) & (r > 0.0), mx + mx * r / 2.0, mx * sqa))


def _asin_acos_kernel(z: Expr) -> tuple[Expr, Expr]:
    """(d, v) with asin(z) = atan2(x, d) + i sign(y) v and acos(z) = atan2(d, x) - i sign(y) v,
    x and y the parts of z (Hull et al.; a = (hypot(x+1, y) + hypot(x-1, y)) / 2)."""
    signed_x, signed_y = real(z), imag(z)
    x, y = abs_(signed_x), abs_(signed_y)
    big = float(np.sqrt(max_finite(signed_x.dtype))) / 8  # safe_max
    xp1, xm1 = x + 1.0, x - 1.0
    r, s = _hypot(abs_(xp1), y), _hypot(abs_(xm1), y)
    a = 0.5 * (r + s)
    half_apx = 0.5 * (a + x)
    yy = y * y
    rpxp1, smxm1, spxm1 = r + xp1, s - xm1, s + xm1
    d = select(maximum(x, y) >= big, y,
               select(x <= 1.0, sqrt(half_apx * (yy / rpxp1 + smxm1)),
                      y * sqrt(half_apx / rpxp1 + half_apx / spxm1)))
    big_opt = select(x < big * 1e12, x.like(big * 1e-6), big * 100.0)
    y_big = y >= big_opt
    mx = select(y_big, y, x)
    xoy = select(y_big & y.ne(math.inf), x / y, 0.0)
    tiny_y = (y < float(np.sqrt(np.finfo(x.dtype.np_dtype).tiny)) * 4) & (x < 1.0)  # y below safe_min
    ap1 = a + 1.0
    half_yy = 0.5 * yy
    over_r = half_yy / rpxp1
    am1 = select(tiny_y, -(xp1 * xm1 / ap1),
                 select(x >= 1.0, over_r + 0.5 * spxm1, select(a <= 1.5, over_r + half_yy / smxm1, a - 1.0)))
    sq = sqrt(am1 * ap1)
    v = select(mx >= select(y_big, big_opt, x.like(big)), (math.log(2.0) + log(mx)) + 0.5 * log1p(xoy * xoy),
               select(tiny_y, y / sq, log1p(am1 + sq)))
    return d, v


def asin(z: Expr) -> Expr:
    d, v = _asin_acos_kernel(z)
    return complex_(atan2(real(z), d), select(imag(z) < 0.0, -v, v))


def _acos_parts(z: Expr) -> tuple[Expr, Expr]:
    d, v = _asin_acos_kernel(z)
    return atan2(d, real(z)), select(imag(z) < 0.0, v, -v)


def acos(z: Expr) -> Expr:
    re, im = _acos_parts(z)
    return complex_(re, im)


def acosh(z: Expr) -> Expr:
    # acosh(z) = i acos(z) where imag(z) >= 0, -i acos(z) below
    re, im = _acos_parts(z)
    w = complex_(-im, re)
    return select(imag(z) < 0.0, -w, w)


def asinh(z: Expr) -> Expr:
    # asinh(z) = -i asin(i z)
    w = asin(complex_(-imag(z), real(z)))
    return complex_(imag(w), -real(w))


def atanh(z: Expr) -> Expr:
    # real: sign(x) log1p(4|x| / ((1 - |x|)^2 + y^2)) / 4, with 4/|x| or 4 / (y (|x|/y + y/|x|))
    # once |x| + 1 rounds to |x|; imag: atan2(2y, (1 - |x|)(1 + |x|) - y^2) / 2, sign(y) pi/2 far out
    x, y = real(z), imag(z)
    eps = np.finfo(x.dtype.np_dtype).epsneg
    inv_negeps = float(np.nextafter(x.dtype.np_dtype.type(1 / eps), x.dtype.np_dtype.type(np.inf)))
    big = x.like(inv_negeps) * inv_negeps
    ax, ay = abs_(x), abs_(y)
    naxm1, y2 = 1.0 - ax, y * y
    safe = (ax < big) & (ay < big)
    arg5 = select(ax.eq(math.inf) | ay.eq(math.inf), 0.0, 1.0 / (ax / y + y / ax) / y)
    arg = select(safe, ax / (naxm1 * naxm1 + y2), select(ay * inv_negeps < ax, 1.0 / ax, arg5))
    re = select(x >= 0.0, x.like(1.0), -1.0) * log1p(4.0 * arg) * 0.25
    im = select(safe, atan2(y + y, naxm1 * (1.0 + ax) - y2), select(y >= 0.0, x.like(math.pi), -math.pi)) * 0.5
    return complex_(re, im)


def atan(z: Expr) -> Expr:
    # atan(z) = -i atanh(i z)
    w = atanh(complex_(-imag(z), real(z)))
    return complex_(imag(w), -real(w))
