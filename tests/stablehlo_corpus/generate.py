"""Writes the StableHLO corpus: programs as JAX emits them, with inputs and XLA:CPU's outputs.

Run from the repository root with a Python that has jax 0.10.2 (CPU) and ml_dtypes (the tests
never need jax):

    JAX_PYTHON tests/stablehlo_corpus/generate.py [-k REGEX]

Per case NAME: `NAME.mlir` (`jax.jit(f, keep_unused=True).lower(*args).as_text()`, a few with
`debug_info=True` so locations appear), `NAME.npz` (`arg0..`, `out0..` = the flattened pytree
leaves of `f(*args)`; dtypes numpy cannot store — bfloat16, float8, int4 — are stored as their
bits in an unsigned integer of the same width) and `NAME.opt.hlo` (XLA's optimized module, kept
when under 20 KB). `manifest.json` records every case's family (which picks the tolerance),
argument and output dtypes/shapes, and the cases JAX could not lower. Inputs are seeded by the
case name, so a rerun writes the same files.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
from jax import lax

jax.config.update("jax_enable_x64", True)

HERE = pathlib.Path(__file__).parent
OPT_HLO_LIMIT = 20_000

Args = Callable[[np.random.Generator], list[np.ndarray]]


@dataclass
class Case:
    fn: Callable[..., Any]
    args: Args
    family: str  # tolerance family: exact, elementwise, transcendental, special, reduction, dot, fft, model, ...
    debug_info: bool = False
    notes: list[str] = field(default_factory=list)


CASES: dict[str, Case] = {}


def add(name: str, fn: Callable[..., Any], args: Args, family: str, debug_info: bool = False) -> None:
    assert name not in CASES, name
    CASES[name] = Case(fn, args, family, debug_info)


# --- inputs -----------------------------------------------------------------------------------

F16, BF16, F32, F64 = np.float16, ml_dtypes.bfloat16, np.float32, np.float64
C64, C128 = np.complex64, np.complex128
FLOATS = {"f16": F16, "bf16": BF16, "f32": F32, "f64": F64}
INTS = {"s8": np.int8, "s16": np.int16, "s32": np.int32, "s64": np.int64,
        "u8": np.uint8, "u16": np.uint16, "u32": np.uint32, "u64": np.uint64}
SHAPE = (4, 8)
EDGES = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan]


def floats(shape: Sequence[int], dtype: Any, lo: float = -3.0, hi: float = 3.0,
           edges: Sequence[float] = ()) -> Args:
    """Uniform in [lo, hi], the first positions overwritten by `edges` (0, inf, NaN ...)."""
    def make(rng: np.random.Generator) -> list[np.ndarray]:
        x = rng.uniform(lo, hi, size=shape).astype(np.float64).ravel()
        x[:len(edges)] = list(edges)[:x.size]
        return [x.reshape(shape).astype(dtype)]
    return make


def ints(shape: Sequence[int], dtype: Any, lo: int | None = None, hi: int | None = None,
         edges: bool = False) -> Args:
    info = np.iinfo(dtype)
    lo_, hi_ = (max(info.min, -100) if lo is None else lo), (min(info.max, 100) if hi is None else hi)

    def make(rng: np.random.Generator) -> list[np.ndarray]:
        x = rng.integers(lo_, hi_, size=shape, endpoint=True, dtype=np.int64 if info.min < 0 else np.uint64)
        x = x.astype(dtype).ravel()
        if edges:
            e = [0, 1, info.max, info.min, info.max - 1, info.min + 1 if info.min else 2, 7] \
                + ([-1, -7] if info.min < 0 else [3])
            x[:len(e)] = np.array(e, dtype=np.int64 if info.min < 0 else np.uint64).astype(dtype)
        return [x.reshape(shape)]
    return make


def complexes(shape: Sequence[int], dtype: Any, scale: float = 2.0, edges: bool = True) -> Args:
    def make(rng: np.random.Generator) -> list[np.ndarray]:
        x = (rng.uniform(-scale, scale, shape) + 1j * rng.uniform(-scale, scale, shape)).ravel()
        if edges:
            x[:5] = [0, 1, -1j, complex(np.inf, 0), complex(np.nan, 1)]
        return [x.reshape(shape).astype(dtype)]
    return make


def bools(shape: Sequence[int]) -> Args:
    return lambda rng: [rng.integers(0, 2, shape).astype(bool)]


def cat(*makers: Args) -> Args:
    """Several argument makers, one after the other."""
    return lambda rng: [a for m in makers for a in m(rng)]


def fixed(*arrays: Any) -> Args:
    return lambda rng: [np.asarray(a) for a in arrays]


def normal(*shapes: Sequence[int], dtype: Any = F32, scale: float = 1.0) -> Args:
    return lambda rng: [(rng.standard_normal(s) * scale).astype(dtype) for s in shapes]


# --- elementwise ------------------------------------------------------------------------------

# name -> (function, (lo, hi) of sensible inputs, family)
UNARY_FLOAT: dict[str, tuple[Callable[[Any], Any], tuple[float, float], str]] = {
    "neg": (lax.neg, (-5, 5), "exact"),
    "abs": (lax.abs, (-5, 5), "exact"),
    "sign": (lax.sign, (-5, 5), "exact"),
    "floor": (lax.floor, (-5, 5), "exact"),
    "ceil": (lax.ceil, (-5, 5), "exact"),
    "round_afz": (partial(lax.round, rounding_method=lax.RoundingMethod.AWAY_FROM_ZERO), (-5, 5), "exact"),
    "round_even": (partial(lax.round, rounding_method=lax.RoundingMethod.TO_NEAREST_EVEN), (-5, 5), "exact"),
    "is_finite": (lax.is_finite, (-5, 5), "exact"),
    "square": (lax.square, (-5, 5), "elementwise"),
    "integer_pow3": (partial(lax.integer_pow, y=3), (-4, 4), "elementwise"),
    "integer_pow_m2": (partial(lax.integer_pow, y=-2), (0.5, 4), "elementwise"),
    "reciprocal": (lambda x: 1 / x, (0.2, 5), "elementwise"),
    "sqrt": (lax.sqrt, (0.01, 10), "elementwise"),
    "rsqrt": (lax.rsqrt, (0.01, 10), "transcendental"),
    "cbrt": (lax.cbrt, (-10, 10), "transcendental"),
    "exp": (lax.exp, (-10, 10), "transcendental"),
    "exp2": (lax.exp2, (-10, 10), "transcendental"),
    "expm1": (lax.expm1, (-3, 3), "transcendental"),
    "log": (lax.log, (0.01, 10), "transcendental"),
    "log1p": (lax.log1p, (-0.9, 5), "transcendental"),
    "tanh": (lax.tanh, (-5, 5), "transcendental"),
    "logistic": (lax.logistic, (-8, 8), "transcendental"),
    "sin": (lax.sin, (-6, 6), "transcendental"),
    "cos": (lax.cos, (-6, 6), "transcendental"),
    "tan": (lax.tan, (-1.5, 1.5), "transcendental"),
    "asin": (lax.asin, (-1, 1), "transcendental"),
    "acos": (lax.acos, (-1, 1), "transcendental"),
    "atan": (lax.atan, (-5, 5), "transcendental"),
    "sinh": (lax.sinh, (-4, 4), "transcendental"),
    "cosh": (lax.cosh, (-4, 4), "transcendental"),
    "asinh": (lax.asinh, (-5, 5), "transcendental"),
    "acosh": (lax.acosh, (1, 6), "transcendental"),
    "atanh": (lax.atanh, (-0.95, 0.95), "transcendental"),
    "erf": (lax.erf, (-3, 3), "special"),
    "erfc": (lax.erfc, (-3, 3), "special"),
    "erf_inv": (lax.erf_inv, (-0.99, 0.99), "special"),
    "lgamma": (lax.lgamma, (0.1, 8), "special"),
    "digamma": (lax.digamma, (0.1, 8), "special"),
    "bessel_i0e": (lax.bessel_i0e, (-6, 6), "special"),
    "bessel_i1e": (lax.bessel_i1e, (-6, 6), "special"),
}

# f16/bf16 math is f32 math rounded once more: a sample of the ops is enough
HALF_UNARY = {"neg", "sign", "floor", "round_afz", "is_finite", "sqrt", "rsqrt", "exp", "log", "tanh", "logistic",
              "sin", "erf"}
# f64 versions of ops that are a single exact instruction add nothing to the f32 ones
F64_SKIP = {"neg", "abs", "floor", "ceil", "round_afz", "is_finite", "square", "integer_pow3", "reciprocal"}

for op, (fn, (lo, hi), fam) in UNARY_FLOAT.items():
    for dn, dt in FLOATS.items():
        if (dn in ("f16", "bf16") and op not in HALF_UNARY) or (dn == "f64" and op in F64_SKIP):
            continue
        add(f"unary_{op}_{dn}", fn, floats(SHAPE, dt, lo, hi, EDGES), fam)

UNARY_COMPLEX: dict[str, tuple[Callable[[Any], Any], str]] = {
    "abs": (lax.abs, "elementwise"), "sign": (lax.sign, "elementwise"),
    "real": (lax.real, "exact"), "imag": (lax.imag, "exact"), "conj": (lax.conj, "exact"),
    "exp": (lax.exp, "transcendental"), "log": (lax.log, "transcendental"),
    "sqrt": (lax.sqrt, "transcendental"), "rsqrt": (lax.rsqrt, "transcendental"),
    "expm1": (lax.expm1, "transcendental"), "log1p": (lax.log1p, "transcendental"),
    "sin": (lax.sin, "transcendental"), "cos": (lax.cos, "transcendental"),
    "tanh": (lax.tanh, "transcendental"),
}
COMPLEX128_UNARY = {"abs", "real", "exp", "log", "sqrt", "sin", "tanh", "log1p"}
for op, (fn, fam) in UNARY_COMPLEX.items():
    for dn, dt in (("c64", C64), ("c128", C128)):
        if dn == "c128" and op not in COMPLEX128_UNARY:
            continue
        add(f"unary_{op}_{dn}", fn, complexes(SHAPE, dt, edges=fam == "exact"), fam)

BINARY_FLOAT: dict[str, tuple[Callable[[Any, Any], Any], str]] = {
    "add": (lax.add, "elementwise"), "sub": (lax.sub, "elementwise"), "mul": (lax.mul, "elementwise"),
    "div": (lax.div, "elementwise"), "rem": (lax.rem, "elementwise"), "max": (lax.max, "exact"),
    "min": (lax.min, "exact"), "pow": (lax.pow, "transcendental"), "atan2": (lax.atan2, "transcendental"),
    "nextafter": (lax.nextafter, "exact"),
}
BIN_EDGES_A = [0.0, -0.0, 0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -2.0, 2.0, np.inf, 5.5, -5.5]
BIN_EDGES_B = [0.0, 0.0, -0.0, -0.0, 2.0, np.inf, 1.0, np.nan, 0.5, -1.0, np.inf, 2.0, 2.0]
for op, (fn, fam) in BINARY_FLOAT.items():
    for dn, dt in FLOATS.items():
        if dn in ("f16", "bf16") and op not in ("add", "mul", "div", "max", "pow"):
            continue
        lo = 0.1 if op == "pow" else -4.0
        add(f"binary_{op}_{dn}", fn, cat(floats(SHAPE, dt, lo, 4, BIN_EDGES_A), floats(SHAPE, dt, -3, 3, BIN_EDGES_B)),
            fam)
for op in ("add", "mul", "div", "pow"):
    for dn, dt in (("c64", C64), ("c128", C128)):
        add(f"binary_{op}_{dn}", BINARY_FLOAT[op][0], cat(complexes(SHAPE, dt, edges=False),
                                                          complexes(SHAPE, dt, edges=False)),
            "transcendental" if op == "pow" else "elementwise")
add("binary_complex_c64", lax.complex, cat(floats(SHAPE, F32), floats(SHAPE, F32)), "exact")
add("binary_complex_c128", lax.complex, cat(floats(SHAPE, F64), floats(SHAPE, F64)), "exact")

for dn, dt in (("f32", F32), ("f64", F64)):
    ab = cat(floats(SHAPE, dt, 0.2, 6, [0.5, 1.0, 3.0, np.inf]), floats(SHAPE, dt, 0.1, 6, [0.0, 1.0, 2.0, 1.0]))
    add(f"special_igamma_{dn}", lax.igamma, ab, "special")
    add(f"special_zeta_{dn}", lax.zeta,
        cat(floats(SHAPE, dt, 1.5, 6, [2.0, 3.0]), floats(SHAPE, dt, 0.5, 4, [1.0, 2.0])), "special")
    add(f"special_polygamma_{dn}", lax.polygamma,
        cat(lambda rng, dt=dt: [rng.integers(0, 4, SHAPE).astype(dt)], floats(SHAPE, dt, 0.5, 5)), "special")
    add(f"special_ndtri_{dn}", jax.scipy.special.ndtri, floats(SHAPE, dt, 0.01, 0.99, [0.0, 1.0, 0.5]), "special")
ab32 = cat(floats(SHAPE, F32, 0.2, 6, [0.5, 1.0, 3.0, np.inf]), floats(SHAPE, F32, 0.1, 6, [0.0, 1.0, 2.0, 1.0]))
add("special_igammac_f32", lax.igammac, ab32, "special")
add("special_random_gamma_grad_f32", lax.random_gamma_grad, cat(floats(SHAPE, F32, 0.5, 4), floats(SHAPE, F32, 0.1, 4)),
    "special")
add("special_betainc_f32", lambda a, b, x: jax.scipy.special.betainc(a, b, x),
    cat(floats(SHAPE, F32, 0.5, 4), floats(SHAPE, F32, 0.5, 4), floats(SHAPE, F32, 0.05, 0.95)), "special")
add("special_logit_f32", jax.scipy.special.logit, floats(SHAPE, F32, 0.01, 0.99, [0.0, 1.0, 0.5]), "transcendental")
add("special_xlogy_f32", jax.scipy.special.xlogy,
    cat(floats(SHAPE, F32, -2, 2, [0.0, 0.0, 1.0]), floats(SHAPE, F32, 0.1, 4, [0.0, 1.0, 0.0])), "transcendental")
add("special_i0_f32", jax.scipy.special.i0, floats(SHAPE, F32, -5, 5), "special")

# integers: three cases per dtype, each a tuple of several ops (one compile covers many opcodes)


def int_arith(x: Any, y: Any) -> Any:
    return (x + y, x - y, x * y, lax.div(x, y), lax.rem(x, y), lax.max(x, y), lax.min(x, y),
            -x, lax.abs(x) if jnp.issubdtype(x.dtype, jnp.signedinteger) else x, lax.sign(x),
            lax.clamp(y, x, y + 10))


def int_bitwise(x: Any, y: Any) -> Any:
    return (x & y, x | y, x ^ y, ~x, lax.population_count(x), lax.clz(x),
            x == y, x != y, x < y, x <= y, x > y, x >= y, lax.select(x < y, x, y))


def int_shift(x: Any, y: Any) -> Any:
    return (lax.shift_left(x, y), lax.shift_right_logical(x, y), lax.shift_right_arithmetic(x, y))


for dn, dt in INTS.items():
    small = ints(SHAPE, dt, -5 if np.iinfo(dt).min else 0, 5)
    add(f"int_arith_{dn}", int_arith, cat(ints(SHAPE, dt, edges=True), small), "exact")
    add(f"int_bitwise_compare_{dn}", int_bitwise, cat(ints(SHAPE, dt, edges=True), ints(SHAPE, dt, edges=True)),
        "exact")
    bits = np.iinfo(dt).bits
    add(f"int_shift_{dn}", int_shift,
        cat(ints(SHAPE, dt, edges=True), ints(SHAPE, dt, 0 if not np.iinfo(dt).min else -2, bits + 3)), "exact")
for dn in ("s32", "s64", "u32", "u8"):
    dt = INTS[dn]
    add(f"int_pow_{dn}", jnp.power, cat(ints(SHAPE, dt, -4 if np.iinfo(dt).min else 0, 4),
                                      ints(SHAPE, np.int32 if np.iinfo(dt).min else np.uint32, 0, 5)), "exact")
    add(f"int_integer_pow_{dn}", lambda x: (lax.integer_pow(x, 2), lax.integer_pow(x, 5)), ints(SHAPE, dt, edges=True),
        "exact")
add("bool_ops", lambda a, b: (a & b, a | b, a ^ b, ~a, a == b, a != b, a < b, lax.select(a, b, a)),
    cat(bools(SHAPE), bools(SHAPE)), "exact")


def float_compare(x: Any, y: Any) -> Any:
    return (x == y, x != y, x < y, x <= y, x > y, x >= y, lax.select(x < y, x, y),
            lax.clamp(jnp.asarray(-1, x.dtype), x, jnp.asarray(1, x.dtype)))


for dn, dt in FLOATS.items():
    add(f"float_compare_{dn}", float_compare,
        cat(floats(SHAPE, dt, -2, 2, BIN_EDGES_A), floats(SHAPE, dt, -2, 2, BIN_EDGES_B)), "exact")
add("float_total_order_f32", lambda x, y: (lax.compare_total_order(x, y, "LT") if hasattr(lax, "compare_total_order")
                                           else jnp.less(x, y)),
    cat(floats(SHAPE, F32, -2, 2, BIN_EDGES_A), floats(SHAPE, F32, -2, 2, BIN_EDGES_B)), "exact")

# --- converts ---------------------------------------------------------------------------------

CONVERT_DTYPES: dict[str, Any] = {
    "pred": np.bool_, **INTS, "f16": F16, "bf16": BF16, "f32": F32, "f64": F64, "c64": C64, "c128": C128,
    "f8e4m3fn": ml_dtypes.float8_e4m3fn, "f8e5m2": ml_dtypes.float8_e5m2,
    "s4": ml_dtypes.int4, "u4": ml_dtypes.uint4,
}
EXOTIC = {"f8e4m3fnuz": ml_dtypes.float8_e4m3fnuz, "f8e5m2fnuz": ml_dtypes.float8_e5m2fnuz,
          "f8e4m3b11fnuz": ml_dtypes.float8_e4m3b11fnuz, "f8e3m4": ml_dtypes.float8_e3m4,
          "f8e4m3": ml_dtypes.float8_e4m3, "f8e8m0fnu": ml_dtypes.float8_e8m0fnu, "f4e2m1fn": ml_dtypes.float4_e2m1fn}


def convert_inputs(dt: Any) -> Args:
    """Values every target can hold (0..7, negatives for signed sources), then a few edge values."""
    d = np.dtype(dt)

    def make(rng: np.random.Generator) -> list[np.ndarray]:
        if d.kind == "b":
            return [rng.integers(0, 2, (16,)).astype(bool)]
        signed = d.kind in "fc" or (d.kind == "i") or d == np.dtype(ml_dtypes.int4)
        base = rng.integers(-7 if signed else 0, 8, (16,)).astype(np.float64)
        if d.kind in "fcV" and d not in (np.dtype(ml_dtypes.int4), np.dtype(ml_dtypes.uint4)):
            base[8:12] = [0.5, -1.5, 2.5, 3.75] if signed else [0.5, 1.5, 2.5, 3.75]
        return [base.astype(dt)]
    return make


# Every pair of types, grouped so that one unsupported type does not hide the others: the
# ordinary real types among themselves, each of them to the narrow and to the complex types,
# and the narrow and complex types to everything.
NARROW = ("f8e4m3fn", "f8e5m2", "s4", "u4")
COMPLEX = ("c64", "c128")
ORDINARY = [n for n in CONVERT_DTYPES if n not in NARROW + COMPLEX]


def converts(targets: Sequence[str]) -> Callable[[Any], Any]:
    return lambda x: tuple(lax.convert_element_type(x, CONVERT_DTYPES[t]) for t in targets)


for sn in ORDINARY:
    add(f"convert_from_{sn}", converts(ORDINARY), convert_inputs(CONVERT_DTYPES[sn]), "exact")
    if sn in ("pred", "s8", "s32", "u64", "f16", "bf16", "f32", "f64"):
        add(f"convert_{sn}_to_narrow", converts(NARROW), convert_inputs(CONVERT_DTYPES[sn]), "exact")
        add(f"convert_{sn}_to_complex", converts(COMPLEX), convert_inputs(CONVERT_DTYPES[sn]), "exact")
for sn in NARROW + COMPLEX:
    add(f"convert_from_{sn}", converts(list(CONVERT_DTYPES)), convert_inputs(CONVERT_DTYPES[sn]), "exact")
for sn, sdt in EXOTIC.items():
    add(f"convert_f32_{sn}_f32", lambda x, t=sdt: (lax.convert_element_type(x, t),
                                                     lax.convert_element_type(lax.convert_element_type(x, t), F32)),
        convert_inputs(F32), "exact")
for sn, sdt in (("f32", F32), ("f16", F16), ("f64", F64), ("bf16", BF16)):
    big = [3e9, -3e9, np.nan, np.inf, -np.inf, 70000.0, -0.0, 2.5, -2.5, 255.5, 256.0, -129.0, 1e20, 65519, 65520, 0.0]
    add(f"convert_saturate_{sn}", lambda x: tuple(lax.convert_element_type(x, t) for t in
                                                  (np.int8, np.int32, np.int64, np.uint8, np.uint32, np.uint64,
                                                   np.bool_, F16, BF16)),
        fixed(np.array(big, dtype=np.float64).astype(sdt)), "exact")
add("convert_s32_to_floats", lambda x: (lax.convert_element_type(x, F16), lax.convert_element_type(x, BF16),
                                        lax.convert_element_type(x, F32)),
    fixed(np.array([2049, 16777217, -16777217, 65519, 65520, 70000, 2**31 - 1, -2**31], np.int32)), "exact")
add("convert_u64_to_floats", lambda x: (lax.convert_element_type(x, F32), lax.convert_element_type(x, F64)),
    fixed(np.array([2**64 - 1, 2**63, 2**53 + 1, 0, 7], np.uint64)), "exact")

BITCASTS: dict[str, tuple[Any, Any, Args]] = {
    "f32_s32": (F32, np.int32, floats(SHAPE, F32, -3, 3, EDGES)),
    "f32_u32": (F32, np.uint32, floats(SHAPE, F32, -3, 3, EDGES)),
    "s32_f32": (np.int32, F32, ints(SHAPE, np.int32, 0, 2**30)),
    "f64_s64": (F64, np.int64, floats(SHAPE, F64, -3, 3, EDGES)),
    "f16_s16": (F16, np.int16, floats(SHAPE, F16, -3, 3, EDGES)),
    "bf16_u16": (BF16, np.uint16, floats(SHAPE, BF16, -3, 3, EDGES)),
    "f32_u8x4": (F32, np.uint8, floats(SHAPE, F32, -3, 3, EDGES)),
    "u8x4_f32": (np.uint8, F32, ints((4, 4), np.uint8, 0, 63)),
    "f64_f32x2": (F64, F32, floats((4,), F64, 1, 3)),
    "c64_f64": (C64, F64, complexes((4,), C64, edges=False)),
}
for bn, (_src, dst, mk) in BITCASTS.items():
    if bn == "u8x4_f32":
        add(f"bitcast_{bn}", lambda x, dst=dst: lax.bitcast_convert_type(x, dst), mk, "exact")
    elif bn == "c64_f64":
        continue  # jax refuses bitcasts from complex types
    else:
        add(f"bitcast_{bn}", lambda x, dst=dst: lax.bitcast_convert_type(x, dst), mk, "exact")

add("reduce_precision_f32_e5m10", lambda x: lax.reduce_precision(x, 5, 10), floats(SHAPE, F32, -1e5, 1e5, EDGES),
    "exact")
add("reduce_precision_f32_e8m7", lambda x: lax.reduce_precision(x, 8, 7), floats(SHAPE, F32, -100, 100, EDGES), "exact")
add("reduce_precision_f64_e8m23", lambda x: lax.reduce_precision(x, 8, 23), floats(SHAPE, F64, -1e3, 1e3, EDGES),
    "exact")
add("reduce_precision_f32_e4m3", lambda x: lax.reduce_precision(x, 4, 3), floats(SHAPE, F32, -300, 300, EDGES), "exact")

# --- shapes -----------------------------------------------------------------------------------

X234 = normal((2, 3, 4))
add("broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (2, 5, 3, 4), (0, 2, 3)), X234, "exact")
add("broadcast_scalar", lambda x: jnp.broadcast_to(x, (3, 2)), normal(()), "exact")
add("broadcast_jnp", lambda x, y: x + y, normal((3, 1), (1, 4)), "elementwise")
add("reshape", lambda x: (x.reshape(6, 4), x.reshape(24), x.reshape(4, 1, 6)), X234, "exact")
add("reshape_s8", lambda x: x.reshape(4, 6), ints((2, 3, 4), np.int8), "exact")
add("transpose", lambda x: (x.transpose(2, 0, 1), x.T), X234, "exact")
add("transpose_c64", lambda x: x.T, complexes((3, 5), C64), "exact")
add("slice_strided", lambda x: (lax.slice(x, (0, 1, 0), (2, 3, 4), (1, 1, 2)), x[:, ::2, 1:3], x[::-1]), X234, "exact")
add("dynamic_slice", lambda x, i, j: (lax.dynamic_slice(x, (i, j), (2, 3)), lax.dynamic_slice_in_dim(x, j, 2, 1)),
    cat(normal((5, 6)), fixed(np.int32(1), np.int32(2))), "exact")
add("dynamic_slice_clamped", lambda x, i, j: lax.dynamic_slice(x, (i, j), (2, 3)),
    cat(normal((5, 6)), fixed(np.int32(-3), np.int32(9))), "exact")
add("dynamic_update_slice", lambda x, u, i: lax.dynamic_update_slice(x, u, (i, jnp.int32(1))),
    cat(normal((5, 6), (2, 3)), fixed(np.int32(2))), "exact")
add("dynamic_update_slice_clamped", lambda x, u, i: lax.dynamic_update_slice(x, u, (i, i)),
    cat(normal((5, 6), (2, 3)), fixed(np.int64(7))), "exact")
add("dynamic_index_jnp", lambda x, i: x[i], cat(normal((5, 3)), fixed(np.int32(-2))), "exact")
add("concatenate", lambda x, y: (jnp.concatenate([x, y, x], 0), lax.concatenate([x, x], 1)), normal((2, 3), (4, 3)),
    "exact")
add("concatenate_bool", lambda x, y: jnp.concatenate([x, y], 1), cat(bools((2, 3)), bools((2, 2))), "exact")
add("pad_lo_hi", lambda x: lax.pad(x, jnp.float32(-1), ((1, 2, 0), (0, 1, 0))), normal((3, 4)), "exact")
add("pad_interior", lambda x: lax.pad(x, jnp.float32(0), ((0, 0, 1), (1, 1, 2))), normal((3, 4)), "exact")
add("pad_negative", lambda x: lax.pad(x, jnp.float32(9), ((-1, 1, 1), (-2, -1, 0))), normal((4, 5)), "exact")
add("pad_jnp_reflect", lambda x: (jnp.pad(x, 2, mode="reflect"), jnp.pad(x, ((1, 0), (0, 2)), mode="edge")),
    normal((3, 4)), "exact")
add("pad_s32", lambda x: lax.pad(x, jnp.int32(7), ((1, -1, 2),)), ints((5,), np.int32), "exact")
add("rev", lambda x: (lax.rev(x, (0, 2)), jnp.flip(x, 1)), X234, "exact")
for kind, types in (("ints", (np.int32, np.uint8, np.int64)), ("floats", (F32, F16, BF16, F64))):
    add(f"iota_{kind}", lambda x, types=types: tuple(r for dt in types for r in (
        lax.broadcasted_iota(dt, (3, 5), 1) + x.astype(dt), lax.iota(dt, 6))), fixed(np.int32(1)), "exact")
add("select_n_bool", lambda p, a, b: lax.select_n(p, a, b), cat(bools(SHAPE), normal(SHAPE, SHAPE)), "exact")
add("select_n_int", lambda p, a, b, c: lax.select_n(p, a, b, c),
    cat(ints(SHAPE, np.int32, 0, 2), normal(SHAPE, SHAPE, SHAPE)), "exact")
add("select_scalar_pred", lambda p, a, b: lax.select(p, a, b), cat(fixed(np.bool_(True)), normal((3,), (3,))), "exact")
add("clamp_f32", lambda lo, x, hi: lax.clamp(lo, x, hi),
    cat(floats((8,), F32, -1, 0, [np.nan, 0, 2]), floats((8,), F32, -2, 2, [0, np.nan, 0]),
        floats((8,), F32, 0, 1, [0, 0, 1])), "exact")
add("clamp_scalar_bounds", lambda x: lax.clamp(jnp.float32(-1.0), x, jnp.float32(1.5)),
    floats(SHAPE, F32, -3, 3, EDGES), "exact")
add("clamp_s8", lambda x: lax.clamp(jnp.int8(-3), x, jnp.int8(5)), ints(SHAPE, np.int8, edges=True), "exact")
add("squeeze_expand", lambda x: (jnp.squeeze(x, 1), jnp.expand_dims(x, 0)), normal((3, 1, 4)), "exact")
add("jnp_tile_repeat", lambda x: (jnp.tile(x, (2, 3)), jnp.repeat(x, 2, axis=0)), normal((2, 3)), "exact")
add("jnp_roll", lambda x: (jnp.roll(x, 2, axis=1), jnp.roll(x, -1)), normal((3, 5)), "exact")
add("jnp_stack_split", lambda x: tuple(jnp.split(jnp.stack([x, -x], 1), 3, axis=2)), normal((2, 6)), "exact")
add("jnp_diag_trace", lambda x: (jnp.diag(x), jnp.trace(x), jnp.diagonal(x, 1)), normal((4, 4)), "reduction")
add("jnp_tril_triu", lambda x: (jnp.tril(x), jnp.triu(x, 1), jnp.tril(x, -1)), normal((4, 5)), "exact")
add("jnp_meshgrid", lambda x, y: tuple(jnp.meshgrid(x, y)) + tuple(jnp.meshgrid(x, y, indexing="ij")),
    normal((3,), (4,)), "exact")
add("jnp_linspace_arange", lambda x: (jnp.linspace(0.0, 1.0, 7, dtype=jnp.float32) * x,
                                      jnp.arange(2, 11, 3, dtype=jnp.int32), jnp.linspace(-2.0, 2.0, 5) + x),
    fixed(np.float32(2)), "elementwise")
add("jnp_eye_identity", lambda x: (jnp.eye(3, 4, 1, dtype=jnp.float32) * x, jnp.identity(3, jnp.int32)),
    fixed(np.float32(3)), "exact")
add("jnp_outer_kron", lambda x, y: (jnp.outer(x, y), jnp.kron(x[:2], y)), normal((3,), (4,)), "elementwise")

# --- gather / scatter -------------------------------------------------------------------------

IDX = fixed(np.array([3, 0, -1, 2, 7, -9], np.int32))
add("gather_take_rows", lambda x, i: x[i], cat(normal((5, 3)), IDX), "exact")
add("gather_take_cols", lambda x, i: x[:, i], cat(normal((3, 5)), IDX), "exact")
add("gather_two_index", lambda x, i, j: x[i, j], cat(normal((4, 5)), fixed(np.array([0, 3, 1], np.int32)),
                                                     fixed(np.array([4, 0, 2], np.int32))), "exact")
add("gather_fill_mode", lambda x, i: x.at[i].get(mode="fill", fill_value=-5.0), cat(normal((5, 2)), IDX), "exact")
add("gather_clip_mode", lambda x, i: jnp.take(x, i, axis=1, mode="clip"), cat(normal((2, 5)), IDX), "exact")
add("gather_take_along_axis", lambda x, i: jnp.take_along_axis(x, i, axis=1),
    cat(normal((3, 5)), lambda rng: [rng.integers(0, 5, (3, 2)).astype(np.int32)]), "exact")
add("gather_bool_mask_where", lambda x: jnp.where(x > 0, x, 0.0)[jnp.array([0, 2])], normal((3, 4)), "exact")
add("gather_vmap_batched", jax.vmap(lambda x, i: x[i]),
    cat(normal((4, 6)), lambda rng: [rng.integers(0, 6, (4, 3)).astype(np.int32)]), "exact")
add("gather_vmap_dynamic_slice", jax.vmap(lambda x, i: lax.dynamic_slice(x, (i,), (3,))),
    cat(normal((4, 7)), fixed(np.array([0, 2, 5, -1], np.int32))), "exact")
add("gather_s64_indices", lambda x, i: x[i], cat(ints((6,), np.int32), fixed(np.array([5, 1, 1, 0], np.int64))),
    "exact")
add("gather_lax_general", lambda x, i: lax.gather(
    x, i, lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,)),
    slice_sizes=(1, 3), mode=lax.GatherScatterMode.CLIP),
    cat(normal((5, 4)), fixed(np.array([[1], [4], [0]], np.int32))), "exact")
add("gather_u8_table", lambda t, i: t[i], cat(ints((16,), np.uint8, 0, 255), ints((3, 3), np.int32, 0, 15)), "exact")
SIDX = fixed(np.array([1, 3, 1, 0, 9], np.int32))
for op in ("set", "add", "mul", "min", "max"):
    add(f"scatter_{op}", lambda x, i, u, op=op: getattr(x.at[i], op)(u), cat(normal((5, 3)), SIDX, normal((5, 3))),
        "elementwise" if op in ("add", "mul") else "exact")
add("scatter_add_s32", lambda x, i, u: x.at[i].add(u), cat(ints((6,), np.int32), SIDX, ints((5,), np.int32)), "exact")
add("scatter_add_2d_index", lambda x, i, j, u: x.at[i, j].add(u),
    cat(normal((4, 5)), fixed(np.array([0, 3, 0], np.int32)), fixed(np.array([1, 4, 1], np.int32)), normal((3,))),
    "elementwise")
add("scatter_drop_mode", lambda x, i, u: x.at[i].set(u, mode="drop"), cat(normal((5,)), SIDX, normal((5,))), "exact")
add("scatter_vmap_batched", jax.vmap(lambda x, i, u: x.at[i].add(u)),
    cat(normal((3, 6)), lambda rng: [rng.integers(0, 6, (3, 2)).astype(np.int32)], normal((3, 2))), "elementwise")
add("scatter_slice_set", lambda x, u: x.at[1:3, ::2].set(u), normal((4, 5), (2, 3)), "exact")
add("scatter_segment_sum", lambda d, s: jax.ops.segment_sum(d, s, num_segments=4),
    cat(normal((7, 2)), fixed(np.array([0, 0, 1, 3, 3, 3, 2], np.int32))), "reduction")
add("scatter_one_hot_bincount", lambda i: (jax.nn.one_hot(i, 5), jnp.bincount(i, length=5)),
    fixed(np.array([0, 4, 2, 2, 1], np.int32)), "exact")

# --- dots and convolutions --------------------------------------------------------------------

for dn, dt in FLOATS.items():
    add(f"dot_matmul_{dn}", jnp.matmul, normal((4, 6), (6, 5), dtype=dt), "dot")
add("dot_vector", jnp.dot, normal((7,), (7,)), "dot")
add("dot_matvec", jnp.matmul, normal((3, 5), (5,)), "dot")
add("dot_batched", jnp.matmul, normal((2, 3, 4), (2, 4, 5)), "dot")
add("dot_general_two_batch", lambda a, b: lax.dot_general(a, b, (((3,), (2,)), ((0, 1), (0, 1)))),
    normal((2, 2, 3, 4), (2, 2, 4, 3)), "dot")
add("dot_general_contract_two", lambda a, b: lax.dot_general(a, b, (((0, 2), (1, 0)), ((), ()))),
    normal((3, 2, 4), (4, 3, 5)), "dot")
add("dot_preferred_f32_from_bf16", lambda a, b: lax.dot(a, b, preferred_element_type=jnp.float32),
    normal((4, 8), (8, 3), dtype=BF16), "dot")
add("dot_preferred_s32_from_s8", lambda a, b: lax.dot(a, b, preferred_element_type=jnp.int32),
    cat(ints((4, 8), np.int8), ints((8, 3), np.int8)), "exact")
add("dot_s32", jnp.matmul, cat(ints((3, 4), np.int32, -1000, 1000), ints((4, 2), np.int32, -1000, 1000)), "exact")
add("dot_c64", jnp.matmul, cat(complexes((3, 4), C64, edges=False), complexes((4, 2), C64, edges=False)), "dot")
add("dot_f16_preferred_f32", lambda a, b: lax.dot(a, b, preferred_element_type=jnp.float32), normal((4, 8), (8, 3),
                                                                                                   dtype=F16), "dot")
add("dot_precision_highest", lambda a, b: jnp.matmul(a, b, precision=lax.Precision.HIGHEST), normal((4, 6), (6, 5)),
    "dot")
add("einsum_bij_bjk", lambda a, b: jnp.einsum("bij,bjk->bik", a, b), normal((2, 3, 4), (2, 4, 5)), "dot")
add("einsum_trace_outer", lambda a, b: (jnp.einsum("ii->", a), jnp.einsum("i,j->ij", b, b)), normal((4, 4), (3,)),
    "dot")
add("einsum_attention", lambda q, k: jnp.einsum("bhqd,bhkd->bhqk", q, k), normal((1, 2, 3, 4), (1, 2, 5, 4)), "dot")
add("einsum_reduce", lambda a: jnp.einsum("ijk->ki", a), X234, "reduction")
add("tensordot_inner_vdot", lambda a, b: (jnp.tensordot(a, b, axes=([1, 2], [0, 1])), jnp.inner(a[0], b[:, :, 0]),
                                          jnp.vdot(a[0], a[1])),
    normal((2, 3, 4), (3, 4, 5)), "dot")

Conv = Callable[..., Any]


def conv(stride: tuple[int, int] = (1, 1), padding: Any = "VALID", lhs_dil: tuple[int, int] | None = None,
         rhs_dil: tuple[int, int] | None = None, groups: int = 1, batch_groups: int = 1,
         dn: tuple[str, str, str] = ("NHWC", "HWIO", "NHWC")) -> Conv:
    return lambda x, w: lax.conv_general_dilated(x, w, stride, padding, lhs_dil, rhs_dil, dn, groups, batch_groups)


add("conv2d_nhwc_valid", conv(), normal((2, 6, 6, 3), (3, 3, 3, 4)), "dot")
add("conv2d_nhwc_same_stride2", conv((2, 2), "SAME"), normal((1, 7, 7, 2), (3, 3, 2, 3)), "dot")
add("conv2d_explicit_padding", conv((1, 2), ((2, 1), (0, 3))), normal((1, 5, 6, 2), (2, 3, 2, 2)), "dot")
add("conv2d_rhs_dilation", conv(rhs_dil=(2, 2)), normal((1, 7, 7, 2), (2, 2, 2, 3)), "dot")
add("conv2d_lhs_dilation", conv(padding=((1, 1), (1, 1)), lhs_dil=(2, 2)), normal((1, 4, 4, 2), (3, 3, 2, 2)), "dot")
add("conv2d_depthwise", conv(padding="SAME", groups=4), normal((1, 5, 5, 4), (3, 3, 1, 4)), "dot")
add("conv2d_feature_groups", conv(groups=2), normal((1, 5, 5, 4), (2, 2, 2, 6)), "dot")
add("conv2d_batch_groups", conv(batch_groups=2), normal((4, 5, 5, 2), (2, 2, 2, 4)), "dot")
add("conv2d_nchw", conv((1, 1), "SAME", dn=("NCHW", "OIHW", "NCHW")), normal((2, 3, 5, 5), (4, 3, 3, 3)), "dot")
add("conv1d", lambda x, w: lax.conv_general_dilated(x, w, (2,), "SAME", dimension_numbers=("NWC", "WIO", "NWC")),
    normal((2, 9, 3), (3, 3, 2)), "dot")
add("conv3d", lambda x, w: lax.conv_general_dilated(x, w, (1, 1, 1), "VALID",
                                                    dimension_numbers=("NDHWC", "DHWIO", "NDHWC")),
    normal((1, 4, 4, 4, 2), (2, 2, 2, 2, 3)), "dot")
add("conv2d_f64", conv((1, 1), "SAME"), normal((1, 5, 5, 2), (3, 3, 2, 2), dtype=F64), "dot")
add("conv2d_transpose",
    lambda x, w: lax.conv_transpose(x, w, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")),
    normal((1, 4, 4, 2), (3, 3, 2, 3)), "dot")
add("jnp_convolve", lambda a, b: (jnp.convolve(a, b), jnp.correlate(a, b, mode="same")), normal((9,), (3,)), "dot")

# --- reductions, windows, scans ---------------------------------------------------------------

for dn, dt in (("f32", F32), ("f64", F64), ("f16", F16), ("bf16", BF16)):
    x = floats((5, 6), dt, -2, 2)
    add(f"reduce_sum_{dn}", lambda x: (jnp.sum(x), jnp.sum(x, 0), jnp.sum(x, 1)), x, "reduction")
    add(f"reduce_max_min_{dn}", lambda x: (jnp.max(x, 0), jnp.min(x, 1), jnp.max(x)), x, "exact")
    if dn in ("f32", "f64"):
        add(f"reduce_prod_{dn}", lambda x: (jnp.prod(x, 1),), floats((5, 6), dt, 0.5, 1.5), "reduction")
    if dn != "bf16":
        add(f"reduce_mean_var_{dn}", lambda x: (jnp.mean(x, 1), jnp.var(x, 0), jnp.std(x)), x, "reduction")
add("reduce_max_nan", lambda x: (jnp.max(x, 1), jnp.min(x, 1), jnp.nanmax(x, 1), jnp.nansum(x)),
    floats((3, 4), F32, -2, 2, [np.nan, 1, 2, 3, -np.inf, np.inf]), "reduction")
for dn, dt in (("s32", np.int32), ("u8", np.uint8), ("s64", np.int64), ("s8", np.int8)):
    add(f"reduce_int_{dn}",
        lambda x: (jnp.sum(x, 0, dtype=x.dtype), jnp.max(x, 1), jnp.min(x), jnp.prod(x, 1, dtype=x.dtype)),
        ints((4, 5), dt, edges=True), "exact")
add("reduce_bool_and_or_xor", lambda b: (jnp.all(b, 0), jnp.any(b, 1), lax.reduce_xor(b, (1,)), jnp.sum(b)),
    bools((4, 5)), "exact")
add("reduce_int_and_or_xor", lambda x: (lax.reduce_and(x, (1,)), lax.reduce_or(x, (1,)), lax.reduce_xor(x, (0,))),
    ints((4, 5), np.uint32, 0, 2**31), "exact")
add("reduce_complex_sum", lambda z: (jnp.sum(z, 0), jnp.prod(z[:, :2], 1)), complexes((4, 3), C64, edges=False),
    "reduction")
add("reduce_multi_operand", lambda x, y: lax.reduce((x, y), (jnp.float32(-jnp.inf), jnp.int32(0)),
                                                    lambda a, b: (lax.max(a[0], b[0]), a[1] + b[1]), (1,)),
    cat(normal((3, 5)), ints((3, 5), np.int32)), "exact")
add("argmax_argmin", lambda x: (jnp.argmax(x, 1), jnp.argmin(x, 0), jnp.argmax(x)),
    lambda rng: [rng.integers(-3, 3, (4, 6)).astype(F32)], "exact")
add("argmax_nan", lambda x: (jnp.argmax(x, 1), jnp.argmin(x, 1)), floats((3, 5), F32, -1, 1, [0, np.nan, 1, 1, 1]),
    "exact")
add("argmax_s32", lambda x: jnp.argmax(x, 0), ints((5, 3), np.int32), "exact")
add("argmax_f16", lambda x: jnp.argmin(x, 1), normal((3, 7), dtype=F16), "exact")


def pool(x: Any, op: str, window: tuple[int, ...], strides: tuple[int, ...], padding: Any) -> Any:
    if op == "max":
        return lax.reduce_window(x, -jnp.inf, lax.max, window, strides, padding)
    return lax.reduce_window(x, 0.0, lax.add, window, strides, padding) / np.prod(window)


add("reduce_window_maxpool", lambda x: pool(x, "max", (1, 2, 2, 1), (1, 2, 2, 1), "VALID"), normal((2, 6, 6, 3)),
    "exact")
add("reduce_window_maxpool_same", lambda x: pool(x, "max", (1, 3, 3, 1), (1, 2, 2, 1), "SAME"), normal((1, 5, 5, 2)),
    "exact")
add("reduce_window_avgpool", lambda x: pool(x, "avg", (1, 3, 3, 1), (1, 1, 1, 1), "SAME"), normal((1, 5, 5, 2)),
    "reduction")
add("reduce_window_dilated", lambda x: lax.reduce_window(x, 0.0, lax.add, (2, 2), (1, 1), ((1, 0), (0, 1)),
                                                         base_dilation=(2, 1), window_dilation=(1, 2)),
    normal((4, 5)), "reduction")
add("reduce_window_min_s32",
    lambda x: lax.reduce_window(x, jnp.int32(jnp.iinfo(jnp.int32).max), lax.min, (3,), (2,), "VALID"),
    ints((9,), np.int32), "exact")
for fn_name in ("cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp"):
    fn = getattr(lax, fn_name)
    add(f"scan_{fn_name}_f32", lambda x, fn=fn: (fn(x, 0), fn(x, 1, reverse=True)),
        floats((4, 6), F32, 0.5, 1.5) if fn_name == "cumprod" else normal((4, 6)),
        "exact" if fn_name in ("cummax", "cummin") else "reduction")
add("scan_cumsum_s32", lambda x: (jnp.cumsum(x), jnp.cumsum(x, 0, dtype=jnp.int32)), ints((3, 5), np.int32), "exact")
add("scan_cumsum_long", lambda x: lax.cumsum(x, 0), normal((200,)), "reduction")
add("scan_jnp_cumsum_bool", lambda b: jnp.cumsum(b, axis=1), bools((3, 6)), "exact")

# --- sort -------------------------------------------------------------------------------------

TIES = lambda rng: [rng.integers(0, 4, (3, 8)).astype(F32)]  # noqa: E731
add("sort_1d", jnp.sort, normal((10,)), "exact")
add("sort_axis0", lambda x: jnp.sort(x, axis=0), normal((6, 3)), "exact")
add("sort_nan_inf", jnp.sort, floats((10,), F32, -1, 1, [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, np.nan]), "exact")
add("sort_descending", lambda x: jnp.sort(x, descending=True), normal((3, 7)), "exact")
add("sort_s32", lambda x: jnp.sort(x, 1), ints((4, 9), np.int32, edges=True), "exact")
add("sort_u8", jnp.sort, ints((12,), np.uint8, 0, 255), "exact")
add("sort_bf16", jnp.sort, normal((9,), dtype=BF16), "exact")
add("argsort_stable", lambda x: jnp.argsort(x, axis=1, stable=True), TIES, "exact")
add("sort_multi_operand", lambda k, v: lax.sort((k, v), num_keys=1, is_stable=True),
    cat(TIES, lambda rng: [rng.integers(0, 100, (3, 8)).astype(np.int32)]), "exact")
add("sort_two_keys", lambda a, b, c: lax.sort((a, b, c), num_keys=2),
    cat(TIES, TIES, lambda rng: [np.arange(24, dtype=np.int32).reshape(3, 8)]), "exact")
add("top_k", lambda x: lax.top_k(x, 3), normal((4, 9)), "exact")
add("top_k_ties_s32", lambda x: lax.top_k(x, 4), lambda rng: [rng.integers(0, 3, (2, 8)).astype(np.int32)], "exact")
add("jnp_searchsorted", lambda a, v: (jnp.searchsorted(a, v), jnp.searchsorted(a, v, side="right")),
    fixed(np.array([0, 1, 1, 2, 5, 8], np.float32), np.array([-1, 1, 1.5, 8, 9], np.float32)), "exact")
add("jnp_median_quantile", lambda x: (jnp.median(x, axis=1), jnp.quantile(x, 0.25)), normal((3, 7)), "reduction")

# --- control flow -----------------------------------------------------------------------------

add("while_loop_newton", lambda x: lax.while_loop(lambda c: c[1] < 20, lambda c: ((c[0] + x / c[0]) / 2, c[1] + 1),
                                                  (jnp.ones_like(x), 0))[0],
    floats((5,), F32, 0.5, 10), "transcendental")
add("while_loop_collatz", lambda n: lax.while_loop(lambda c: c[0] != 1,
                                                   lambda c: (jnp.where(c[0] % 2 == 0, c[0] // 2, 3 * c[0] + 1),
                                                              c[1] + 1), (n, jnp.int32(0))),
    fixed(np.int32(27)), "exact")
add("fori_loop_sum", lambda x: lax.fori_loop(0, 7, lambda i, acc: acc * 0.5 + x * i, jnp.zeros_like(x)), normal((4,)),
    "reduction")
add("fori_loop_dynamic_bounds", lambda x, n: lax.fori_loop(0, n, lambda i, a: a.at[i].set(a[i - 1] + 1.0), x),
    cat(normal((6,)), fixed(np.int32(5))), "reduction")
add("scan_running_mean", lambda xs: lax.scan(lambda c, x: (c + x, (c + x) / 2), jnp.zeros(3, jnp.float32), xs),
    normal((5, 3)), "reduction")
add("scan_reverse_unroll", lambda xs: lax.scan(lambda c, x: (c * 0.9 + x, c), jnp.float32(0), xs, reverse=True,
                                               unroll=2), normal((7,)), "reduction")
add("map_rows", lambda x: lax.map(lambda r: jnp.sort(r)[::-1], x), normal((3, 5)), "exact")
add("cond_scalar", lambda p, x: lax.cond(p > 0, lambda x: jnp.sin(x), lambda x: jnp.cos(x) * 2, x),
    cat(fixed(np.float32(-1)), normal((4,))), "transcendental")
add("cond_true_tuple", lambda p, x, y: lax.cond(p, lambda a, b: (a + b, a * b), lambda a, b: (a - b, b), x, y),
    cat(fixed(np.bool_(True)), normal((3,), (3,))), "elementwise")
add("switch_three", lambda i, x: lax.switch(i, [lambda x: x + 1, lambda x: x * 2, lambda x: -x], x),
    cat(fixed(np.int32(1)), normal((4,))), "elementwise")
add("switch_out_of_range", lambda i, x: lax.switch(i, [lambda x: x + 1, lambda x: x * 2, lambda x: -x], x),
    cat(fixed(np.int32(7)), normal((4,))), "elementwise")
add("while_nested_cond", lambda x: lax.fori_loop(0, 5, lambda i, a: lax.cond(i % 2 == 0, lambda a: a * 2,
                                                                               lambda a: a - 1, a), x),
    normal((3,)), "elementwise")
add("vmap_cond_select", jax.vmap(lambda p, x: lax.cond(p > 0, jnp.exp, jnp.tanh, x)), normal((4,), (4,)),
    "transcendental")
add("checkpoint_remat_grad", jax.grad(lambda x: jnp.sum(jax.checkpoint(lambda y: jnp.sin(y) ** 2)(x))), normal((5,)),
    "transcendental")

# --- random -----------------------------------------------------------------------------------

KEY = fixed(np.array([0, 42], np.uint32))
for alg in ("DEFAULT", "THREE_FRY", "PHILOX"):
    add(f"rng_bit_generator_{alg.lower()}",
        lambda k, alg=alg: lax.rng_bit_generator(k, (3, 4), dtype=jnp.uint32, algorithm=getattr(lax.RandomAlgorithm,
                                                                                                  f"RNG_{alg}")),
        fixed(np.array([1, 2, 3, 4], np.uint32)), "exact")
add("rng_bit_generator_u64", lambda k: lax.rng_bit_generator(k, (5,), dtype=jnp.uint64), fixed(
    np.array([7, 8, 9, 10], np.uint32)), "exact")
add("random_normal", lambda k: jax.random.normal(jax.random.wrap_key_data(k), (3, 4)), KEY, "transcendental")
add("random_uniform", lambda k: jax.random.uniform(jax.random.wrap_key_data(k), (5,), minval=-2, maxval=3), KEY,
    "elementwise")
add("random_randint", lambda k: jax.random.randint(jax.random.wrap_key_data(k), (6,), 0, 10), KEY, "exact")
add("random_split_bits", lambda k: jax.random.key_data(jax.random.split(jax.random.wrap_key_data(k), 3)), KEY, "exact")
add("random_bernoulli_perm", lambda k: (jax.random.bernoulli(jax.random.wrap_key_data(k), 0.3, (8,)),
                                        jax.random.permutation(jax.random.wrap_key_data(k), 6)), KEY, "exact")
add("random_threefry_prngkey", lambda s: jax.random.uniform(jax.random.PRNGKey(s), (4,)), fixed(np.int32(3)),
    "elementwise")

# --- fft, linalg ------------------------------------------------------------------------------

add("fft_c64", jnp.fft.fft, complexes((8,), C64, edges=False), "fft")
add("ifft_c64", jnp.fft.ifft, complexes((2, 8), C64, edges=False), "fft")
add("rfft_f32", jnp.fft.rfft, normal((3, 8)), "fft")
add("irfft_f32", lambda z: jnp.fft.irfft(z, 8), complexes((5,), C64, edges=False), "fft")
add("fft2_c64", jnp.fft.fft2, complexes((4, 4), C64, edges=False), "fft")
add("fft_c128", jnp.fft.fft, complexes((6,), C128, edges=False), "fft")
add("rfftn_f64", jnp.fft.rfftn, normal((4, 6), dtype=F64), "fft")
add("fft_odd_length", jnp.fft.fft, complexes((5,), C64, edges=False), "fft")


def spd(n: int, dtype: Any = F32) -> Args:
    def make(rng: np.random.Generator) -> list[np.ndarray]:
        a = rng.standard_normal((n, n))
        return [(a @ a.T + n * np.eye(n)).astype(dtype)]
    return make


add("linalg_cholesky", jnp.linalg.cholesky, spd(4), "linalg")
add("linalg_triangular_solve", lambda a, b: lax.linalg.triangular_solve(a, b, left_side=True, lower=True),
    cat(lambda rng: [(np.tril(rng.standard_normal((4, 4))) + 4 * np.eye(4)).astype(F32)], normal((4, 2))), "linalg")
add("linalg_solve", jnp.linalg.solve, cat(spd(4), normal((4, 2))), "linalg")
add("linalg_inv_det", lambda a: (jnp.linalg.inv(a), jnp.linalg.det(a)), spd(3), "linalg")
add("linalg_qr", lambda a: jnp.linalg.qr(a)[1], normal((4, 3)), "linalg")
add("linalg_eigh", lambda a: jnp.linalg.eigh(a)[0], spd(3), "linalg")
add("linalg_norm", lambda a: (jnp.linalg.norm(a), jnp.linalg.norm(a, axis=1), jnp.linalg.norm(a, ord=1)),
    normal((3, 4)), "reduction")

# --- jax.numpy / jax.nn -----------------------------------------------------------------------

NN: dict[str, tuple[Callable[..., Any], str]] = {
    "softmax": (lambda x: jax.nn.softmax(x, axis=-1), "transcendental"),
    "log_softmax": (lambda x: jax.nn.log_softmax(x, axis=-1), "transcendental"),
    "gelu_tanh": (lambda x: jax.nn.gelu(x, approximate=True), "transcendental"),
    "gelu_exact": (lambda x: jax.nn.gelu(x, approximate=False), "special"),
    "relu": (jax.nn.relu, "exact"),
    "silu": (jax.nn.silu, "transcendental"),
    "sigmoid": (jax.nn.sigmoid, "transcendental"),
    "softplus": (jax.nn.softplus, "transcendental"),
    "log_sigmoid": (jax.nn.log_sigmoid, "transcendental"),
    "elu": (jax.nn.elu, "transcendental"),
    "leaky_relu": (jax.nn.leaky_relu, "elementwise"),
    "hard_swish": (jax.nn.hard_swish, "elementwise"),
    "mish": (jax.nn.mish, "transcendental"),
    "glu": (jax.nn.glu, "transcendental"),
    "logsumexp": (lambda x: (jax.nn.logsumexp(x), jax.nn.logsumexp(x, axis=1)), "transcendental"),
    "standardize": (lambda x: jax.nn.standardize(x, axis=-1), "reduction"),
    "sinc": (jnp.sinc, "transcendental"),
    "nan_to_num": (lambda x: jnp.nan_to_num(x, nan=0.5, posinf=9.0), "exact"),
    "isnan_isinf": (lambda x: (jnp.isnan(x), jnp.isinf(x), jnp.isposinf(x), jnp.signbit(x)), "exact"),
    "clip": (lambda x: jnp.clip(x, -0.5, 0.5), "exact"),
    "where": (lambda x: jnp.where(x > 0, x * 2, -x), "elementwise"),
    "heaviside_copysign": (lambda x: (jnp.heaviside(x, 0.5), jnp.copysign(2.0, x)), "exact"),
    "hypot_logaddexp": (lambda x: (jnp.hypot(x, 2 * x + 1), jnp.logaddexp(x, 1 - x)), "transcendental"),
    "deg2rad_fmod": (lambda x: (jnp.deg2rad(x * 90), jnp.fmod(x * 7, 2.0), jnp.mod(x * 7, 2.0)), "elementwise"),
    "floor_divide": (lambda x: (jnp.floor_divide(x * 5, 2.0), jnp.trunc(x * 3)), "exact"),
    "polyval": (lambda x: jnp.polyval(jnp.array([1.0, -2.0, 0.5, 3.0], jnp.float32), x), "elementwise"),
    "cross": (lambda x: jnp.cross(x[:, :3], x[:, 3:6]), "elementwise"),
    "round_decimals": (lambda x: jnp.round(x * 100, 1), "elementwise"),
    "cumulative_ops": (lambda x: (jnp.cumprod(x[:, :3] * 0.5, axis=1), jnp.diff(x, axis=1)), "elementwise"),
    "count_nonzero_average": (lambda x: (jnp.count_nonzero(x > 0, axis=1), jnp.average(x, axis=0,
                                                                                          weights=jnp.arange(4.0))),
                              "reduction"),
    "normalize_l2": (lambda x: x / jnp.linalg.norm(x, axis=-1, keepdims=True), "reduction"),
    "interp": (lambda x: jnp.interp(x, jnp.array([-2.0, 0.0, 1.0, 3.0]), jnp.array([0.0, 1.0, -1.0, 2.0])),
               "elementwise"),
}
for nn_name, (fn, fam) in NN.items():
    add(f"nn_{nn_name}", fn, floats((4, 8), F32, -3, 3, [np.nan, np.inf, -np.inf, 0.0, -0.0]
                                    if nn_name in ("relu", "nan_to_num", "isnan_isinf", "clip", "sigmoid", "softplus")
                                    else ()), fam)
add("nn_softmax_bf16", lambda x: jax.nn.softmax(x), normal((3, 8), dtype=BF16), "transcendental")
add("nn_gelu_f16", jax.nn.gelu, normal((3, 8), dtype=F16), "transcendental")
add("nn_one_hot_f32", lambda i: jax.nn.one_hot(i, 6, dtype=jnp.float32), fixed(np.array([[0, 5], [2, 9]], np.int32)),
    "exact")
add("nn_dot_product_attention", lambda q, k, v: jax.nn.dot_product_attention(q, k, v),
    normal((1, 4, 2, 8), (1, 5, 2, 8), (1, 5, 2, 8)), "model")
add("jnp_astype_chain", lambda x: x.astype(jnp.float16).astype(jnp.int32).astype(jnp.float64), normal((8,), scale=50),
    "exact")

# --- less common primitives -------------------------------------------------------------------

add("composite_op",
    lambda x: lax.composite(lambda x, scale: jnp.tanh(x) * scale, name="corpus.scaled_tanh")(x, scale=2.0),
    normal((3, 4)), "transcendental")
add("pow_float_int_exponent", lambda x, n: lax.pow(x, n),
    cat(floats(SHAPE, F32, -3, 3, EDGES), ints(SHAPE, np.int32, -3, 4)), "elementwise")
add("special_igamma_grad_a_f32", lax.igamma_grad_a, cat(floats(SHAPE, F32, 0.5, 4), floats(SHAPE, F32, 0.2, 4)),
    "special")
add("sort_key_val", lambda k, v: lax.sort_key_val(k, v, dimension=0), cat(TIES, normal((3, 8))), "exact")
add("jnp_unique_sized", lambda x: jnp.unique(x, size=6, fill_value=-1), ints((10,), np.int32, 0, 4), "exact")
add("jnp_nonzero_sized", lambda x: jnp.nonzero(x > 0, size=5, fill_value=-1), normal((3, 4)), "exact")
add("maxpool_jvp", lambda x, t: jax.jvp(lambda y: pool(y, "max", (1, 2, 2, 1), (1, 2, 2, 1), "VALID"), (x,), (t,)),
    normal((1, 4, 4, 2), (1, 4, 4, 2)), "exact")
add("reduce_window_variadic_argmax", lambda x: lax.reduce_window(
    (x, lax.broadcasted_iota(jnp.int32, x.shape, 0)), (jnp.float32(-jnp.inf), jnp.int32(0)),
    lambda a, b: (lax.select(a[0] >= b[0], a[0], b[0]), lax.select(a[0] >= b[0], a[1], b[1])), (3,), (1,), "VALID"),
    normal((8,)), "exact")
TABLE = np.random.default_rng(5).standard_normal((16, 16)).astype(np.float32)  # closed over: a literal in the text
add("constant_dense_f32", lambda x: x @ TABLE + TABLE[0], normal((2, 16)), "dot")
add("constant_dense_mixed", lambda x: (x + np.arange(12, dtype=np.int8).reshape(3, 4),
                                       jnp.where(np.eye(3, 4, dtype=bool), x, 0),
                                       x.astype(jnp.float16) * np.float16([0.5, -1.5, 2.0, 65504.0])),
    ints((3, 4), np.int8, -20, 20), "exact")
add("optimization_barrier", lambda x, y: lax.optimization_barrier((x * 2, y)), normal((3,), (2,)), "exact")


# --- small models -----------------------------------------------------------------------------


def mlp(params: Sequence[Any], x: Any) -> Any:
    w1, b1, w2, b2 = params
    return jnp.tanh(x @ w1 + b1) @ w2 + b2


def mlp_loss(w1: Any, b1: Any, w2: Any, b2: Any, x: Any, y: Any) -> Any:
    return jnp.mean((mlp((w1, b1, w2, b2), x) - y) ** 2)


MLP_ARGS = cat(normal((4, 8), (8,), (8, 2), (2,), scale=0.5), normal((6, 4), (6, 2)))
add("model_mlp_forward", lambda w1, b1, w2, b2, x: mlp((w1, b1, w2, b2), x), cat(
    normal((4, 8), (8,), (8, 2), (2,), scale=0.5), normal((6, 4))), "model", debug_info=True)
add("model_mlp_grad", jax.grad(mlp_loss, argnums=(0, 1, 2, 3)), MLP_ARGS, "model", debug_info=True)
add("model_mlp_value_and_grad", jax.value_and_grad(mlp_loss), MLP_ARGS, "model")


def sgd_step(w1: Any, b1: Any, w2: Any, b2: Any, x: Any, y: Any) -> Any:
    loss, grads = jax.value_and_grad(mlp_loss, argnums=(0, 1, 2, 3))(w1, b1, w2, b2, x, y)
    return (loss,) + tuple(p - 0.1 * g for p, g in zip((w1, b1, w2, b2), grads))


add("model_sgd_step", sgd_step, MLP_ARGS, "model", debug_info=True)
add("model_sgd_three_steps", lambda *a: lax.fori_loop(0, 3, lambda i, p: sgd_step(*p, *a[4:])[1:], tuple(a[:4])),
    MLP_ARGS, "model")


def layer_norm(x: Any, g: Any, b: Any) -> Any:
    mu = jnp.mean(x, -1, keepdims=True)
    var = jnp.mean((x - mu) ** 2, -1, keepdims=True)
    return (x - mu) * lax.rsqrt(var + 1e-5) * g + b


add("model_layer_norm", layer_norm, normal((3, 16), (16,), (16,)), "model", debug_info=True)
add("model_layer_norm_grad", jax.grad(lambda x, g, b: jnp.sum(layer_norm(x, g, b) ** 2), argnums=(0, 1)),
    normal((3, 16), (16,), (16,)), "model")


def conv_layer(x: Any, w: Any, b: Any) -> Any:
    y = lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")) + b
    return pool(jax.nn.relu(y), "max", (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


add("model_conv_layer", conv_layer, normal((2, 6, 6, 3), (3, 3, 3, 4), (4,)), "model")
add("model_conv_layer_grad", jax.grad(lambda x, w, b: jnp.sum(conv_layer(x, w, b)), argnums=1),
    normal((1, 6, 6, 2), (3, 3, 2, 3), (3,)), "model")


def attention(x: Any, wq: Any, wk: Any, wv: Any) -> Any:
    q, k, v = x @ wq, x @ wk, x @ wv
    s = q @ k.T / jnp.sqrt(jnp.float32(q.shape[-1]))
    mask = jnp.tril(jnp.ones((x.shape[0], x.shape[0]), bool))
    return jax.nn.softmax(jnp.where(mask, s, -1e9), axis=-1) @ v


add("model_attention", attention, normal((5, 8), (8, 4), (8, 4), (8, 4)), "model", debug_info=True)
add("model_attention_grad", jax.grad(lambda *a: jnp.sum(attention(*a) ** 2), argnums=(1, 2)),
    normal((5, 8), (8, 4), (8, 4), (8, 4), scale=0.5), "model")


def lstm_cell(x: Any, h: Any, c: Any, w: Any, u: Any, b: Any) -> Any:
    z = x @ w + h @ u + b
    i, f, g, o = jnp.split(z, 4, axis=-1)
    c2 = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    return jax.nn.sigmoid(o) * jnp.tanh(c2), c2


LSTM_W = normal((3, 16), (4, 16), (16,), scale=0.5)
add("model_lstm_cell", lstm_cell, cat(normal((2, 3), (2, 4), (2, 4)), LSTM_W), "model")


def rnn(xs: Any, w: Any, u: Any, b: Any) -> Any:
    def step(carry: Any, x: Any) -> Any:
        h, c = lstm_cell(x, *carry, w, u, b)
        return (h, c), h
    (h, c), hs = lax.scan(step, (jnp.zeros((2, 4), xs.dtype), jnp.zeros((2, 4), xs.dtype)), xs)
    return hs, c


add("model_lstm_scan_rnn", rnn, cat(normal((6, 2, 3)), LSTM_W), "model")
add("model_elman_rnn_grad", jax.grad(lambda w, xs: jnp.sum(lax.scan(lambda h, x: (jnp.tanh(h @ w + x), h),
                                                                     jnp.zeros(4, jnp.float32), xs)[0])),
    normal((4, 4), (5, 4), scale=0.5), "model")
add("model_batchnorm_train", lambda x, g, b: (g * (x - x.mean(0)) / jnp.sqrt(x.var(0) + 1e-5) + b),
    normal((8, 6), (6,), (6,)), "model")


def transformer_block(x: Any, wq: Any, wk: Any, wv: Any, w1: Any, w2: Any, g: Any, b: Any) -> Any:
    h = x + attention(layer_norm(x, g, b), wq, wk, wv) @ jnp.eye(4, 8, dtype=x.dtype)
    return h + jax.nn.gelu(layer_norm(h, g, b) @ w1) @ w2


add("model_transformer_block", transformer_block,
    normal((5, 8), (8, 4), (8, 4), (8, 4), (8, 16), (16, 8), (8,), (8,), scale=0.5), "model")
add("model_residual_block_f64", lambda x, w: x + jnp.tanh(x @ w) @ w.T, normal((4, 6), (6, 6), dtype=F64), "model")
add("model_cross_entropy_grad", jax.grad(lambda w, x, y: -jnp.mean(jnp.sum(jax.nn.log_softmax(x @ w) * y, -1))),
    cat(normal((5, 3), (4, 5)), fixed(np.eye(3, dtype=np.float32)[[0, 2, 1, 1]])), "model")
add("model_jacobian", jax.jacfwd(lambda x: jnp.sin(x) * x[::-1]), normal((4,)), "model")
add("model_hessian", jax.hessian(lambda x: jnp.sum(jnp.tanh(x) ** 3)), normal((3,)), "model")
add("model_vmap_per_example_grad", jax.vmap(jax.grad(lambda w, x: jnp.tanh(x @ w).sum()), in_axes=(None, 0)),
    normal((3, 2), (4, 3)), "model")
add("model_mixed_precision", lambda x, w: (jnp.tanh(x.astype(BF16) @ w.astype(BF16)),
                                          lax.dot(x.astype(BF16), w.astype(BF16), preferred_element_type=F32)),
    normal((4, 8), (8, 3)), "model")

# --- more LAPACK targets: vectors too (numpy's LAPACK calls give the same signs) --------------


def hermitian(n: int) -> Args:
    def make(rng: np.random.Generator) -> list[np.ndarray]:
        a = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
        return [((a + a.conj().T) / 2).astype(C64)]
    return make


add("linalg_qr_q_r", jnp.linalg.qr, normal((5, 3)), "linalg")
add("linalg_eigh_vectors_f64", jnp.linalg.eigh, spd(4, F64), "linalg")
add("linalg_eigvalsh_c64", jnp.linalg.eigvalsh, hermitian(3), "linalg")
add("linalg_svd_f64", jnp.linalg.svd, normal((4, 3), dtype=F64), "linalg")
add("linalg_svd_values", lambda a: jnp.linalg.svd(a, compute_uv=False), normal((3, 5)), "linalg")
add("linalg_svd_reduced_batched", lambda a: jnp.linalg.svd(a, full_matrices=False), normal((2, 4, 3)), "linalg")


# --- writing ----------------------------------------------------------------------------------

NONSTANDARD = {np.dtype(t): n for n, t in {
    "bfloat16": BF16, **{f"float8_{k}": getattr(ml_dtypes, f"float8_{k}") for k in
                         ("e4m3fn", "e5m2", "e4m3fnuz", "e5m2fnuz", "e4m3b11fnuz", "e3m4", "e4m3", "e8m0fnu")},
    "float4_e2m1fn": ml_dtypes.float4_e2m1fn, "int4": ml_dtypes.int4, "uint4": ml_dtypes.uint4}.items()}


def dtype_name(a: np.ndarray) -> str:
    return NONSTANDARD.get(a.dtype, a.dtype.name)


def storable(a: np.ndarray) -> np.ndarray:
    """numpy's own dtypes as they are; the ml_dtypes ones as their bits (uint8/uint16)."""
    if a.dtype in NONSTANDARD:
        return a.view(np.uint8 if a.dtype.itemsize == 1 else np.uint16)
    return a


def write_if_changed(path: pathlib.Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    path.write_bytes(data)
    return True


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """A deterministic .npz: savez stamps zip entries with the current time, so write them ourselves."""
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for k, a in arrays.items():
            item = io.BytesIO()
            np.lib.format.write_array(item, np.ascontiguousarray(a), allow_pickle=False)
            info = zipfile.ZipInfo(f"{k}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, item.getvalue())
    return buf.getvalue()


def generate(name: str, c: Case) -> dict[str, Any]:
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    args = c.args(rng)
    jitted = jax.jit(c.fn, keep_unused=True)
    lowered = jitted.lower(*args)
    text = lowered.as_text(debug_info=c.debug_info)
    outs = [np.asarray(o) for o in jax.tree_util.tree_leaves(jitted(*args))]
    changed = write_if_changed(HERE / f"{name}.mlir", text.encode())
    arrays = {f"arg{i}": storable(a) for i, a in enumerate(args)}
    arrays |= {f"out{i}": storable(o) for i, o in enumerate(outs)}
    changed |= write_if_changed(HERE / f"{name}.npz", npz_bytes(arrays))
    opt_path = HERE / f"{name}.opt.hlo"
    try:
        opt = lowered.compile().as_text()
    except Exception:  # noqa: BLE001 - XLA's optimized text is a bonus, not part of the case
        opt = ""
    if opt and len(opt) <= OPT_HLO_LIMIT:
        changed |= write_if_changed(opt_path, opt.encode())
    elif opt_path.exists():
        opt_path.unlink()
    return {
        "family": c.family,
        "args": [[dtype_name(a), list(a.shape)] for a in args],
        "outs": [[dtype_name(o), list(o.shape)] for o in outs],
        "debug_info": c.debug_info,
        "custom_calls": sorted(set(re.findall(r"custom_call @(\w+)", text))),
        "changed": changed,
    }


def main(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", default="", help="only cases whose name matches this regex (manifest entries kept)")
    opts = ap.parse_args(argv)
    manifest_path = HERE / "manifest.json"
    old = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"cases": {}, "refused": {}}
    cases: dict[str, Any] = {} if not opts.k else dict(old["cases"])
    refused: dict[str, str] = {} if not opts.k else dict(old["refused"])
    written = 0
    for name, c in CASES.items():
        if opts.k and not re.search(opts.k, name):
            continue
        try:
            entry = generate(name, c)
        except Exception as e:  # noqa: BLE001 - a case JAX refuses is recorded, not fatal
            refused[name] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
            cases.pop(name, None)
            continue
        written += entry.pop("changed")
        cases[name] = entry
    if not opts.k:  # files of cases no longer in the table
        for p in HERE.iterdir():
            stem = p.name.split(".")[0]
            if p.suffix in (".mlir", ".npz", ".hlo") and stem not in cases:
                p.unlink()
    manifest = {"jax": jax.__version__, "numpy": np.__version__, "ml_dtypes": ml_dtypes.__version__,
                "cases": dict(sorted(cases.items())), "refused": dict(sorted(refused.items()))}
    write_if_changed(manifest_path, (json.dumps(manifest, indent=1) + "\n").encode())
    size = sum(p.stat().st_size for p in HERE.iterdir() if p.is_file())
    families: dict[str, int] = {}
    for e in cases.values():
        families[e["family"]] = families.get(e["family"], 0) + 1
    print(f"{len(cases)} cases ({written} files changed), {len(refused)} refused by JAX, folder {size / 1e6:.2f} MB")
    print("families: " + ", ".join(f"{k} {v}" for k, v in sorted(families.items())))
    customs = sorted({(n, cc) for n, e in cases.items() for cc in e["custom_calls"]})
    for n, cc in customs:
        print(f"  custom call {cc} in {n}")
    for n, why in refused.items():
        print(f"  refused {n}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
