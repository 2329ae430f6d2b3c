"""The float-classification and stepping `chlo` ops: is_inf, is_neg_inf, is_pos_inf, next_after."""
from __future__ import annotations

import math

from ..dtypes import DTYPES
from .chlo_expr import ChloRule, Expr, abs_, elementwise, select


def _is_pos_inf(x: Expr) -> Expr:
    return x.eq(math.inf)  # is_pos_inf(x) = (x == +inf)


def _is_neg_inf(x: Expr) -> Expr:
    return x.eq(-math.inf)  # is_neg_inf(x) = (x == -inf)


def _is_inf(x: Expr) -> Expr:
    return _is_pos_inf(abs_(x))  # is_inf(x) = is_pos_inf(|x|)


def _next_after(x: Expr, y: Expr) -> Expr:
    """The float after x in the direction of y, by stepping x's bit pattern as an integer."""
    bits = x.dtype.bits
    xi, yi = x.bitcast(DTYPES[f"s{bits}"]), y.bitcast(DTYPES[f"s{bits}"])
    sign_bit, magnitude = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    x_mag, y_mag = xi & magnitude, yi & magnitude
    x_sign, y_sign = xi & sign_bit, yi & sign_bit
    # towards zero when the signs differ or |x| > |y|, away from zero otherwise
    toward_zero = (x_mag > y_mag) | x_sign.ne(y_sign)
    r = xi + select(toward_zero, xi.like(-1), 1)
    # from +-0: y itself when y is a zero too, else the smallest subnormal with y's sign
    r = select(x_mag.eq(0), select(y_mag.eq(0), yi, y_sign | 1), r)
    r = select(x.eq(y), yi, r)
    r = select(x.ne(x) | y.ne(y), x.like(math.nan).bitcast(xi.dtype), r)
    return r.bitcast(x.dtype)


FLOAT_RULES: dict[str, ChloRule] = {
    "is_inf": elementwise("is_inf", _is_inf),
    "is_neg_inf": elementwise("is_neg_inf", _is_neg_inf),
    "is_pos_inf": elementwise("is_pos_inf", _is_pos_inf),
    "next_after": elementwise("next_after", _next_after, arity=2),
}
