"""The trigonometric and hyperbolic `chlo` ops (acos ... tan), `square` and `conj`, expanded into
opcodes every target runs, in the forms XLA's chlo legalization gives them (the ones XLA:CPU's
optimized HLO shows for jax 0.10.2). The complex inverse functions are in chlo_complex_trig."""
from __future__ import annotations

import math

from . import chlo_complex_trig as complex_trig
from .chlo_expr import (
    ChloRule,
    Expr,
    abs_,
    atan2,
    complex_,
    elementwise,
    exp,
    expm1,
    imag,
    is_finite,
    log,
    log1p,
    max_finite,
    real,
    select,
    sign,
    sqrt,
    tan,
    tanh,
    upcast,
)

_LOG_HALF = math.log(0.5)


def _acos(x: Expr) -> Expr:
    # acos(x) = atan2(sqrt((1 - x)(1 + x)), x)   ((1-x)(1+x) = 1 - x^2 without cancellation)
    return atan2(sqrt((1.0 - x) * (1.0 + x)), x)


def _asin(x: Expr) -> Expr:
    # asin(x) = 2 atan2(x, 1 + sqrt((1 - x)(1 + x)))
    return 2.0 * atan2(x, 1.0 + sqrt((1.0 - x) * (1.0 + x)))


def _acosh(x: Expr) -> Expr:
    # acosh(x) = log1p(sqrt(x-1) (sqrt(x+1) + sqrt(x-1)))   (NaN below 1 from the sqrt)
    #          = log(2) + log(x)                            for x >= max/2, where x*x overflows
    s = sqrt(x - 1.0)
    big = x >= max_finite(x.dtype) / 2
    return select(big, log(x) + math.log(2.0), log1p(s * (sqrt(x + 1.0) + s)))


def _asinh(x: Expr) -> Expr:
    # asinh(x) = sign(x) log1p(|x| + x^2 / (1 + sqrt(1 + x^2)))
    #          = sign(x) (log(2) + log|x|)                        for |x| >= sqrt(max)
    ax = abs_(x)
    ax2 = ax * ax
    big = ax >= sqrt(x.like(max_finite(x.dtype)))
    return sign(x) * select(big, log(ax) + math.log(2.0), log1p(ax + ax2 / (1.0 + sqrt(1.0 + ax2))))


def _atan(x: Expr) -> Expr:
    return atan2(x, 1.0)  # atan(x) = atan2(x, 1)


def _atanh(x: Expr) -> Expr:
    # atanh(x) = (log1p(x) - log1p(-x)) / 2, NaN for |x| > 1
    return select(abs_(x) > 1.0, x.like(math.nan), (log1p(x) - log1p(-x)) * 0.5)


def _cosh(x: Expr) -> Expr:
    # cosh(x) = e^(x + log 1/2) + e^(-x + log 1/2): no overflow where e^x does but e^x/2 does not
    return exp(x + _LOG_HALF) + exp(_LOG_HALF - x)


def _sinh_large(x: Expr) -> Expr:
    return exp(x + _LOG_HALF) - exp(_LOG_HALF - x)  # sinh(x) = e^(x + log 1/2) - e^(-x + log 1/2)


def _sinh(x: Expr) -> Expr:
    # for |x| < 1, e^x - e^-x cancels: sinh(x) = (expm1(x) + expm1(x) / (expm1(x) + 1)) / 2
    e = expm1(x)
    small = 0.5 * (e + e / (e + 1.0))
    return select(abs_(x) < 1.0, small, _sinh_large(x))


def _tan_complex(z: Expr) -> Expr:
    # tan(a + bi) = (tan(a) + i tanh(b)) / (1 - i tan(a) tanh(b))
    ta, th = tan(real(z)), tanh(imag(z))
    return complex_(ta, th) / complex_(ta.like(1.0), -(ta * th))


def _square_complex(z: Expr) -> Expr:
    # (x + iy)^2 = (x - y)(x + y) + 2xy i, with an exact 0 real part where |x| = |y| is finite
    x, y = real(z), imag(z)
    re = select(is_finite(x) & abs_(x).eq(abs_(y)), 0.0, (x - y) * (x + y))
    return complex_(re, 2.0 * (x * y))


def _square(x: Expr) -> Expr:
    return x * x


def _conj_complex(z: Expr) -> Expr:
    return complex_(real(z), -imag(z))  # conj(x + iy) = x - iy


def _identity(x: Expr) -> Expr:
    return x


TRIG_RULES: dict[str, ChloRule] = {
    "acos": elementwise("acos", _acos, complex_trig.acos),
    "acosh": elementwise("acosh", _acosh, complex_trig.acosh),
    "asin": elementwise("asin", _asin, complex_trig.asin),
    "asinh": elementwise("asinh", _asinh, complex_trig.asinh),
    "atan": elementwise("atan", _atan, complex_trig.atan),
    "atanh": elementwise("atanh", _atanh, complex_trig.atanh),
    "cosh": elementwise("cosh", upcast(_cosh), _cosh),
    "sinh": elementwise("sinh", upcast(_sinh), _sinh_large),
    "tan": elementwise("tan", tan, _tan_complex),
    "square": elementwise("square", _square, _square_complex, _square),
    "conj": elementwise("conj", _identity, _conj_complex, _identity),
}
