"""The reference evaluator: one test per row of XLA_SEMANTICS.md, the op families numpy gets
wrong, every corpus case (un-optimized and optimized HLO), and the per-op dispatch cost."""
from __future__ import annotations

import itertools
import time

import ml_dtypes
import numpy as np
import pytest
from conftest import CASE_NAMES, assert_matches, load_case

from xla_magic.hlo import evaluator as ev
from xla_magic.hlo.dtypes import dtype
from xla_magic.hlo.evaluator import EVALUATORS, EvaluationError, evaluate_module, make_plan, run_plan
from xla_magic.hlo.opcodes import Opcode
from xla_magic.hlo.parser import parse_hlo

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
NAN, INF = float("nan"), float("inf")


def run(text: str, *args):
    return evaluate_module(parse_hlo(text, verify=False), [np.asarray(a) for a in args])


def elementwise(op: str, dt: str, *args, out: str | None = None, extra: str = ""):
    """Runs `ROOT r = out[n] op(p0, p1, ...)` on 1-D inputs of HLO type `dt`."""
    npd = dtype(dt).np
    arrays = [np.asarray(a, npd) for a in args]
    n = arrays[0].size
    params = "\n".join(f"  p{i} = {dt}[{n}] parameter({i})" for i in range(len(args)))
    names = ", ".join(f"p{i}" for i in range(len(args)))
    text = f"HloModule t\nENTRY e {{\n{params}\n  ROOT r = {out or dt}[{n}] {op}({names}){extra}\n}}\n"
    return run(text, *arrays)


def same_bits(got, want, npd=np.float32) -> bool:
    """Exact equality including the sign of zero and NaN positions."""
    got, want = np.asarray(got, npd), np.asarray(want, npd)
    return bool(np.array_equal(np.isnan(got), np.isnan(want))
                and np.array_equal(np.signbit(got[~np.isnan(got)]), np.signbit(want[~np.isnan(want)]))
                and np.array_equal(got[~np.isnan(got)], want[~np.isnan(want)]))


# --- indices are clamped ---------------------------------------------------------------------

DS = """HloModule t
ENTRY e {
  x = f32[5] iota(), iota_dimension=0
  s = s32[] parameter(0)
  ROOT r = f32[2] dynamic-slice(x, s), dynamic_slice_sizes={2}
}"""


@pytest.mark.parametrize("start,want", [(-3, [0, 1]), (4, [3, 4]), (2, [2, 3])])
def test_dynamic_slice_clamps(start, want):
    np.testing.assert_array_equal(run(DS, np.int32(start)), want)


def test_dynamic_update_slice_clamps():
    text = """HloModule t
ENTRY e {
  x = f32[5] parameter(0)
  u = f32[2] parameter(1)
  s = s32[] parameter(2)
  ROOT r = f32[5] dynamic-update-slice(x, u, s)
}"""
    x = np.zeros(5, np.float32)
    np.testing.assert_array_equal(run(text, x, np.float32([7, 8]), np.int32(4)), [0, 0, 0, 7, 8])
    np.testing.assert_array_equal(run(text, x, np.float32([7, 8]), np.int32(-9)), [7, 8, 0, 0, 0])
    assert not x.any()  # the operand is not written in place


def test_gather_clamps():
    text = """HloModule t
ENTRY e {
  x = f32[5,2] parameter(0)
  i = s32[3,1] parameter(1)
  ROOT r = f32[3,2] gather(x, i), offset_dims={1}, collapsed_slice_dims={0}, start_index_map={0},
      index_vector_dim=1, slice_sizes={1,2}
}"""
    x = np.arange(10, dtype=np.float32).reshape(5, 2)
    np.testing.assert_array_equal(run(text, x, np.int32([[-3], [2], [9]])), x[[0, 2, 4]])


COND = """HloModule t
b0 {
  p = f32[] parameter(0)
  ROOT r = f32[] constant(10)
}
b1 {
  p = f32[] parameter(0)
  ROOT r = f32[] constant(11)
}
b2 {
  p = f32[] parameter(0)
  ROOT r = f32[] negate(p)
}
ENTRY e {
  i = s32[] parameter(0)
  x = f32[] parameter(1)
  ROOT r = f32[] conditional(i, x, x, x), branch_computations={b0, b1, b2}
}"""


@pytest.mark.parametrize("index,want", [(0, 10), (1, 11), (2, -3), (-1, -3), (7, -3)])
def test_conditional_index_out_of_range_runs_last_branch(index, want):
    assert run(COND, np.int32(index), np.float32(3)) == want


def test_conditional_pred():
    text = """HloModule t
t {
  p = f32[] parameter(0)
  ROOT r = f32[] negate(p)
}
f {
  p = f32[] parameter(0)
  ROOT r = f32[] add(p, p)
}
ENTRY e {
  c = pred[] parameter(0)
  x = f32[] parameter(1)
  ROOT r = f32[] conditional(c, x, x), true_computation=t, false_computation=f
}"""
    assert run(text, np.bool_(True), np.float32(3)) == -3
    assert run(text, np.bool_(False), np.float32(3)) == 6


# --- integers --------------------------------------------------------------------------------


def test_s32_divide():
    a = [-7, 7, 5, 0, INT_MIN, INT_MIN, 7, -7]
    b = [2, -2, 0, 0, -1, 1, 3, -3]
    np.testing.assert_array_equal(elementwise("divide", "s32", a, b), [-3, -3, -1, -1, INT_MIN, INT_MIN, 2, 2])


def test_u32_divide_and_remainder_by_zero():
    a, b = np.uint32([7, 9, 2**32 - 1]), np.uint32([0, 2, 0])
    np.testing.assert_array_equal(elementwise("divide", "u32", a, b), [2**32 - 1, 4, 2**32 - 1])
    np.testing.assert_array_equal(elementwise("remainder", "u32", a, b), [7, 1, 2**32 - 1])


def test_s32_remainder():
    a = [-7, 7, 5, INT_MIN, -5, 0]
    b = [2, -2, 0, -1, 0, 0]
    np.testing.assert_array_equal(elementwise("remainder", "s32", a, b), [-1, 1, 5, 0, -5, 0])


def test_shifts_past_the_width():
    np.testing.assert_array_equal(elementwise("shift-left", "s32", [1, 1, 1, 3], [32, 31, -1, 2]),
                                  [0, INT_MIN, 0, 12])
    np.testing.assert_array_equal(elementwise("shift-right-logical", "s32", [-8, -8, -8], [32, 1, -1]),
                                  [0, (2**32 - 8) >> 1, 0])
    np.testing.assert_array_equal(elementwise("shift-right-arithmetic", "s32", [-8, 5, -8, 5], [33, 100, 1, -1]),
                                  [-1, 0, -4, 0])
    np.testing.assert_array_equal(elementwise("shift-left", "u8", [1, 1], [8, 7]), [0, 128])
    np.testing.assert_array_equal(elementwise("shift-right-arithmetic", "u32", [2**31, 2**31], [31, 40]),
                                  [2**32 - 1, 2**32 - 1])


def test_s32_power():
    a = [2, 1, -1, 0, 0, 3, -1, 2, -2]
    b = [-1, -5, -3, -1, 0, 21, -2, 10, 3]
    want = [0, 1, -1, 0, 1, np.int64(3**21).astype(np.int32), 1, 1024, -8]
    np.testing.assert_array_equal(elementwise("power", "s32", a, b), want)


def test_int_min_abs_negate_sign_and_wrapping_dot():
    x = [INT_MIN, -5, 0, 7]
    np.testing.assert_array_equal(elementwise("abs", "s32", x), [INT_MIN, 5, 0, 7])
    np.testing.assert_array_equal(elementwise("negate", "s32", x), [INT_MIN, 5, 0, -7])
    np.testing.assert_array_equal(elementwise("sign", "s32", x), [-1, -1, 0, 1])
    text = """HloModule t
ENTRY e {
  a = s32[2] parameter(0)
  b = s32[2] parameter(1)
  ROOT r = s32[] dot(a, b), lhs_contracting_dims={0}, rhs_contracting_dims={0}
}"""
    got = run(text, np.int32([INT_MAX, 2]), np.int32([2, 1]))
    assert got == np.int32(0)  # 2*INT_MAX + 2 = 2**32 wraps to 0


def test_clz_popcnt():
    np.testing.assert_array_equal(elementwise("count-leading-zeros", "s32", [0, 1, -1, 255, INT_MAX]),
                                  [32, 31, 0, 24, 1])
    np.testing.assert_array_equal(elementwise("count-leading-zeros", "u8", [0, 1, 128]), [8, 7, 0])
    np.testing.assert_array_equal(elementwise("count-leading-zeros", "s64", [1, 2**40]), [63, 23])
    np.testing.assert_array_equal(elementwise("popcnt", "s32", [0, -1, 7, INT_MIN]), [0, 32, 3, 1])


def test_integer_comparisons_and_bitwise():
    np.testing.assert_array_equal(elementwise("compare", "u32", [1, 2**32 - 1], [2, 0], out="pred",
                                              extra=", direction=LT"), [True, False])
    np.testing.assert_array_equal(elementwise("not", "s32", [0, -1]), [-1, 0])
    np.testing.assert_array_equal(elementwise("not", "pred", [True, False]), [False, True])
    np.testing.assert_array_equal(elementwise("xor", "pred", [True, False], [True, True]), [False, True])


# --- floats ----------------------------------------------------------------------------------


def test_max_min_nan_and_signed_zero():
    a = [NAN, 1.0, 0.0, -0.0, -0.0, 0.0, -0.0, 2.0]
    b = [1.0, NAN, -0.0, 0.0, -0.0, 0.0, -5.0, 3.0]
    assert same_bits(elementwise("maximum", "f32", a, b), [NAN, NAN, 0.0, 0.0, -0.0, 0.0, -0.0, 3.0])
    assert same_bits(elementwise("minimum", "f32", a, b), [NAN, NAN, -0.0, -0.0, -0.0, 0.0, -5.0, 2.0])


def test_clamp():
    lo = [0.0, 5.0, NAN, 0.0, 0.0]
    x = [-1.0, 1.0, 1.0, NAN, 0.5]
    hi = [1.0, 2.0, 2.0, 1.0, NAN]
    assert same_bits(elementwise("clamp", "f32", lo, x, hi), [0.0, 2.0, NAN, NAN, NAN])


def test_clamp_with_scalar_bounds():
    text = """HloModule t
ENTRY e {
  lo = s32[] constant(0)
  x = s32[4] parameter(0)
  hi = s32[] constant(3)
  ROOT r = s32[4] clamp(lo, x, hi)
}"""
    np.testing.assert_array_equal(run(text, np.int32([-5, 1, 3, 9])), [0, 1, 3, 3])


@pytest.mark.parametrize("direction,want", [
    ("EQ", [False, True, False, True]), ("NE", [True, False, True, False]),
    ("LT", [False, False, True, False]), ("GE", [False, True, False, True]),
])
def test_compare_float(direction, want):
    a, b = [NAN, -0.0, 1.0, INF], [NAN, 0.0, 2.0, INF]
    np.testing.assert_array_equal(elementwise("compare", "f32", a, b, out="pred", extra=f", direction={direction}"),
                                  want)


def test_compare_totalorder():
    neg_nan = np.frombuffer(np.uint32(0xFFC00000).tobytes(), np.float32)[0]
    a = [neg_nan, -INF, -0.0, 0.0, INF, 1.0]
    b = [-INF, -0.0, 0.0, INF, NAN, 1.0]
    got = elementwise("compare", "f32", a, b, out="pred", extra=", direction=LT, type=TOTALORDER")
    np.testing.assert_array_equal(got, [True, True, True, True, True, False])
    got = elementwise("compare", "f32", [NAN, -0.0], [NAN, 0.0], out="pred", extra=", direction=EQ, type=TOTALORDER")
    np.testing.assert_array_equal(got, [True, False])


def test_sign():
    assert same_bits(elementwise("sign", "f32", [-0.0, 0.0, NAN, 1e-40, -1e-40, -3.0, 2.0]),
                     [-0.0, 0.0, NAN, 0.0, -0.0, -1.0, 1.0])
    # f16 runs in f32, where f16 subnormals are normal: only zeros keep their sign
    assert same_bits(elementwise("sign", "f16", [-0.0, 0.0, 1e-7, -1e-7]), [-0.0, 0.0, 1.0, -1.0])


def test_rounding():
    x = [-0.5, 0.5, 2.5, -2.5, -0.4, 0.49999997, 1.5]
    assert same_bits(elementwise("round-nearest-even", "f32", x), [-0.0, 0.0, 2.0, -2.0, -0.0, 0.0, 2.0])
    assert same_bits(elementwise("round-nearest-afz", "f32", x), [-1.0, 1.0, 3.0, -3.0, -0.0, 0.0, 2.0])
    assert same_bits(elementwise("floor", "f32", [-0.5, 0.5]), [-1.0, 0.0])
    assert same_bits(elementwise("ceil", "f32", [-0.5, 0.5]), [-0.0, 1.0])


def test_float_remainder_is_fmod():
    got = elementwise("remainder", "f32", [-5.5, 5.5, 3.0, INF, 5.0], [2.0, -2.0, 0.0, 2.0, INF])
    assert same_bits(got, [-1.5, 1.5, NAN, NAN, 5.0])


def test_float_power():
    got = elementwise("power", "f32", [-2.0, 0.0, -0.0, NAN, 1.0, 2.0], [0.5, -1.0, -1.0, 0.0, NAN, 10.0])
    assert same_bits(got, [NAN, INF, -INF, 1.0, 1.0, 1024.0])


def test_log_sqrt_rsqrt_log1p_specials():
    x = [0.0, -0.0, -1.0, INF]
    assert same_bits(elementwise("log", "f32", x), [-INF, -INF, NAN, INF])
    assert same_bits(elementwise("sqrt", "f32", x), [0.0, -0.0, NAN, INF])
    assert same_bits(elementwise("rsqrt", "f32", x), [INF, -INF, NAN, 0.0])
    assert same_bits(elementwise("log-plus-one", "f32", x), [0.0, -0.0, -INF, INF])


def test_atan2_signed_zeros():
    got = elementwise("atan2", "f32", [0.0, -0.0, 0.0, -0.0], [0.0, 0.0, -0.0, -0.0])
    assert same_bits(got, [0.0, -0.0, np.pi, -np.pi])


def test_saturation():
    assert same_bits(elementwise("logistic", "f32", [-100.0, 100.0, 0.0]), [0.0, 1.0, 0.5])
    assert same_bits(elementwise("exponential", "f32", [89.0]), [INF])
    assert same_bits(elementwise("tanh", "f32", [1e30, -1e30]), [1.0, -1.0])


def test_transcendentals_close_to_float64():
    x = np.linspace(-3, 3, 41).astype(np.float32)
    import math
    for op, ref in [("erf", np.vectorize(math.erf)), ("tan", np.tan), ("cbrt", np.cbrt),
                    ("exponential-minus-one", np.expm1), ("cosine", np.cos), ("sine", np.sin)]:
        np.testing.assert_allclose(elementwise(op, "f32", x), ref(x.astype(np.float64)), rtol=2e-6, atol=1e-7,
                                   err_msg=op)


def test_is_finite_and_complex_ops():
    np.testing.assert_array_equal(elementwise("is-finite", "f32", [1.0, NAN, INF], out="pred"), [True, False, False])
    c = elementwise("complex", "f32", [1.0, INF], [2.0, 0.0], out="c64")
    assert c.dtype == np.complex64 and c[0] == 1 + 2j and c[1].real == INF and c[1].imag == 0
    np.testing.assert_array_equal(elementwise("real", "c64", [1 + 2j], out="f32"), [1])
    np.testing.assert_array_equal(elementwise("imag", "c64", [1 + 2j], out="f32"), [2])
    np.testing.assert_array_equal(elementwise("abs", "c64", [3 + 4j], out="f32"), [5])


def test_reduce_precision():
    x = np.float32([1.0 + 2**-9, 1.0 + 3 * 2**-11, 1e10, 1e-10, NAN, -2.5])
    got = elementwise("reduce-precision", "f32", x, extra=", exponent_bits=5, mantissa_bits=10")
    with np.errstate(over="ignore"):
        want = x.astype(np.float16).astype(np.float32)
    want[3] = 0.0  # f16 subnormals: reduce-precision flushes them
    assert same_bits(got, want)
    bf = elementwise("reduce-precision", "f32", x, extra=", exponent_bits=8, mantissa_bits=7")
    assert same_bits(bf, x.astype(ml_dtypes.bfloat16).astype(np.float32))


@pytest.mark.parametrize("dt", ["f16", "bf16"])
def test_narrow_float_elementwise(dt):
    npd = dtype(dt).np
    a = np.array([1.5, -0.0, NAN, 3.0], npd)
    b = np.array([2.0, 0.0, 1.0, INF], npd)
    got = elementwise("maximum", dt, a, b)
    assert got.dtype == npd and same_bits(got.astype(np.float32), [2.0, 0.0, NAN, INF])
    np.testing.assert_array_equal(elementwise("is-finite", dt, a, out="pred"), [True, True, False, True])
    e = elementwise("exponential", dt, a)
    assert e.dtype == npd
    np.testing.assert_allclose(e.astype(np.float32)[[0, 3]], np.exp(np.float32([1.5, 3.0])), rtol=1e-2)
    s = elementwise("add", dt, a, b)
    assert s.dtype == npd and s.astype(np.float32)[0] == 3.5


# --- converts --------------------------------------------------------------------------------


def test_convert_f32_to_s32_saturates():
    got = elementwise("convert", "f32", [3e9, -3e9, NAN, INF, -INF, -2.7, 2.7], out="s32")
    np.testing.assert_array_equal(got, [INT_MAX, INT_MIN, 0, INT_MAX, INT_MIN, -2, 2])


def test_convert_to_unsigned_and_s64_saturates():
    np.testing.assert_array_equal(elementwise("convert", "f32", [-1.0, 300.0, NAN, 7.9], out="u8"), [0, 255, 0, 7])
    got = elementwise("convert", "f64", [1e30, -1e30, 9.2e18], out="s64")
    np.testing.assert_array_equal(got, [2**63 - 1, -(2**63), 9200000000000000000])


def test_convert_to_int4_saturates():
    # XLA:CPU's answers: truncate, saturate to [-8, 7] / [0, 15], NaN -> 0
    x = [-9.5, 7.9, NAN, 3.2, -1.5, 20.0]
    np.testing.assert_array_equal(elementwise("convert", "f32", x, out="s4").astype(int), [-8, 7, 0, 3, -1, 7])
    np.testing.assert_array_equal(elementwise("convert", "f32", x, out="u4").astype(int), [0, 7, 0, 3, 0, 15])


def test_convert_to_pred():
    np.testing.assert_array_equal(elementwise("convert", "f32", [NAN, -0.0, 0.5, 0.0], out="pred"),
                                  [True, False, True, False])


def test_convert_to_f16():
    got = elementwise("convert", "f32", [65519.0, 65520.0, 1e-6, 2049.0], out="f16")
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, np.float16([65504, INF, 1e-6, 2048]))
    assert got[2] != 0  # f16 subnormals are kept
    np.testing.assert_array_equal(elementwise("convert", "s32", [2049, 2051], out="f16"), [2048, 2052])


def test_convert_bf16_roundtrip():
    got = elementwise("convert", "f32", [1.0 + 2**-8, 3.0], out="bf16")
    assert got.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(got.astype(np.float32), [1.0, 3.0])


def test_bitcast_convert():
    got = elementwise("bitcast-convert", "f32", [-0.0, NAN, 1.0], out="s32")
    np.testing.assert_array_equal(got, [INT_MIN, 0x7FC00000, 0x3F800000])
    text = """HloModule t
ENTRY e {
  x = f32[2] parameter(0)
  ROOT r = u8[2,4] bitcast-convert(x)
}"""
    np.testing.assert_array_equal(run(text, np.float32([1.0, 2.0])), np.float32([1, 2]).view(np.uint8).reshape(2, 4))


# --- reductions, windows, pad ----------------------------------------------------------------

ADD_F16 = """HloModule t
add {
  a = f16[] parameter(0)
  b = f16[] parameter(1)
  ROOT r = f16[] add(a, b)
}
ENTRY e {
  x = f16[2049] parameter(0)
  z = f16[] constant(0)
  ROOT r = f16[] reduce(x, z), dimensions={0}, to_apply=add
}"""


def test_f16_reduce_accumulates_in_f16_blocks():
    x = np.ones(2049, np.float16)
    x[0] = 2048
    assert run(ADD_F16, x) == 4080


BF16_ROUNDING_SUM = """HloModule t
r {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  s = f32[] add(a, b)
  c = bf16[] convert(s)
  ROOT d = f32[] convert(c)
}
ENTRY e {
  x = f32[3,40] parameter(0)
  z = f32[] constant(0)
  ROOT r = f32[3] reduce(x, z), dimensions={1}, to_apply=r
}"""


def test_generic_reducer_takes_elements_in_order():
    # XLA:CPU's optimized HLO rounds bf16 sums through a reducer like this one; the result
    # depends on the order, and XLA's is init first, then element after element
    x = np.random.default_rng(3).standard_normal((3, 40)).astype(np.float32) * 10
    want = np.zeros(3, np.float32)
    for k in range(40):
        want = (want + x[:, k]).astype(ml_dtypes.bfloat16).astype(np.float32)
    np.testing.assert_array_equal(run(BF16_ROUNDING_SUM, x), want)


@pytest.mark.parametrize("dt", [np.float16, ml_dtypes.bfloat16])
def test_narrow_float_sum_rounds_every_step(dt):
    name = "f16" if dt is np.float16 else "bf16"
    x = (np.random.default_rng(4).standard_normal((5, 7)) * 10).astype(dt)
    text = ADD_F16.replace("f16", name).replace(f"{name}[2049]", f"{name}[5,7]").replace(
        f"ROOT r = {name}[]", f"ROOT r = {name}[5]").replace("dimensions={0}", "dimensions={1}")
    want = np.zeros(5, dt)
    for k in range(7):
        want = (want + x[:, k]).astype(dt)
    np.testing.assert_array_equal(run(text, x), want)


def test_reduce_window_padding_gives_init():
    text = """HloModule t
max {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT r = f32[] maximum(a, b)
}
ENTRY e {
  x = f32[3] parameter(0)
  z = f32[] constant(-inf)
  ROOT r = f32[5] reduce-window(x, z), window={size=1 pad=1_1}, to_apply=max
}"""
    np.testing.assert_array_equal(run(text, np.float32([1, 2, 3])), [-INF, 1, 2, 3, -INF])


RW_ADD = """HloModule t
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT r = f32[] add(a, b)
}
add2 {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  one = f32[] constant(1)
  a1 = f32[] multiply(a, one)
  ROOT r = f32[] add(a1, b)
}
odd {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  s = f32[] add(a, b)
  ROOT r = f32[] add(s, s)
}
ENTRY e {
  x = f32[6] parameter(0)
  i = f32[] constant(1)
  ROOT r = f32[OUT] reduce-window(x, i), window={WINDOW}, to_apply=COMP
}"""


def _naive_reduce_window(x, init, fn, size, stride=1, pad=(0, 0), lhs=1, rhs=1):
    """XLA's definition: init combined with each non-padding element of each window, in order."""
    n = x.shape[0]
    dil = (n - 1) * lhs + 1 if n else 0
    total = pad[0] + dil + pad[1]
    eff = (size - 1) * rhs + 1
    out = []
    for o in range((total - eff) // stride + 1 if total >= eff else 0):
        acc = init
        for k in range(size):
            p = o * stride + k * rhs - pad[0]
            if p < 0 or p % lhs or p // lhs >= n:
                continue
            acc = fn(acc, x[p // lhs])
        out.append(acc)
    return np.float32(out)


@pytest.mark.parametrize("size,stride,pad,lhs,rhs", [
    (2, 1, (0, 0), 1, 1), (3, 2, (1, 2), 1, 1), (2, 1, (2, 0), 2, 1), (2, 3, (1, 1), 1, 2),
    (3, 1, (-1, 1), 1, 1), (2, 2, (0, 0), 3, 2),
])
@pytest.mark.parametrize("comp", ["add", "add2", "odd"])
def test_reduce_window_matches_definition(size, stride, pad, lhs, rhs, comp):
    # add maps to np.add.reduce, add2 (the same sum, not recognised) to the generic pairwise path
    x = np.float32([1, 2, 3, 4, 5, 6])
    fn = (lambda a, b: 2 * (a + b)) if comp == "odd" else (lambda a, b: a + b)
    want = _naive_reduce_window(x, np.float32(1), fn, size, stride, pad, lhs, rhs)
    window = f"size={size} stride={stride} pad={pad[0]}_{pad[1]} lhs_dilate={lhs} rhs_dilate={rhs}"
    text = RW_ADD.replace("OUT", str(want.size)).replace("WINDOW", window).replace("COMP", comp)
    got = run(text, x)
    if comp != "odd":
        np.testing.assert_allclose(got, want)
    else:  # a non-associative reducer: XLA leaves the order open; check the shape and init-only windows
        assert got.shape == want.shape


def test_pad_interior_and_negative():
    text = """HloModule t
ENTRY e {
  x = f32[4] parameter(0)
  v = f32[] constant(-1)
  ROOT r = f32[7] pad(x, v), padding=-1_1_1
}"""
    np.testing.assert_array_equal(run(text, np.float32([1, 2, 3, 4])), [-1, 2, -1, 3, -1, 4, -1])
    text2 = """HloModule t
ENTRY e {
  x = f32[2,3] parameter(0)
  v = f32[] constant(0)
  ROOT r = f32[5,2] pad(x, v), padding=1_2x-1_0
}"""
    x = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    want = np.zeros((5, 2), np.float32)
    want[1:3] = x[:, 1:]
    np.testing.assert_array_equal(run(text2, x), want)


ARGMAX = """HloModule t
argmax {
  av = f32[] parameter(0)
  ai = s32[] parameter(1)
  bv = f32[] parameter(2)
  bi = s32[] parameter(3)
  gt = pred[] compare(av, bv), direction=GT
  eq = pred[] compare(av, bv), direction=EQ
  lt = pred[] compare(ai, bi), direction=LT
  tie = pred[] and(eq, lt)
  nan = pred[] compare(av, av), direction=NE
  t1 = pred[] or(gt, tie)
  take = pred[] or(t1, nan)
  v = f32[] select(take, av, bv)
  i = s32[] select(take, ai, bi)
  ROOT r = (f32[], s32[]) tuple(v, i)
}
ENTRY e {
  x = f32[4,7] parameter(0)
  idx = s32[4,7] iota(), iota_dimension=1
  ninf = f32[] constant(-inf)
  zero = s32[] constant(0)
  ROOT r = (f32[4], s32[4]) reduce(x, idx, ninf, zero), dimensions={1}, to_apply=argmax
}"""


def test_variadic_reduce_argmax():
    x = np.float32([[1, 5, 2, 5, 0, 0, 0], [0, 0, 0, 0, 0, 0, 9], [3, NAN, 1, 1, 1, 1, 1], [-1] * 7])
    v, i = run(ARGMAX, x)
    np.testing.assert_array_equal(i, [1, 6, 1, 0])
    assert same_bits(v, [5, 9, NAN, -1])


@pytest.mark.parametrize("op,fn", [("add", np.sum), ("multiply", np.prod), ("maximum", np.max),
                                   ("minimum", np.min)])
def test_reduce_multiple_dims_with_init(op, fn):
    text = f"""HloModule t
r {{
  a = s32[] parameter(0)
  b = s32[] parameter(1)
  ROOT r = s32[] {op}(a, b)
}}
ENTRY e {{
  x = s32[2,3,4] parameter(0)
  i = s32[] constant(2)
  ROOT r = s32[3] reduce(x, i), dimensions={{0,2}}, to_apply=r
}}"""
    x = np.arange(24, dtype=np.int32).reshape(2, 3, 4) % 5 - 1
    want = [fn([fn(x[:, j, :]), 2]) for j in range(3)]
    got = run(text, x)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, want)


def test_reduce_pred_and_empty():
    text = """HloModule t
o {
  a = pred[] parameter(0)
  b = pred[] parameter(1)
  ROOT r = pred[] or(a, b)
}
ENTRY e {
  x = pred[2,3] parameter(0)
  f = pred[] constant(false)
  ROOT r = pred[2] reduce(x, f), dimensions={1}, to_apply=o
}"""
    np.testing.assert_array_equal(run(text, np.array([[0, 0, 1], [0, 0, 0]], bool)), [True, False])
    empty = text.replace("pred[2,3]", "pred[2,0]")
    np.testing.assert_array_equal(run(empty, np.zeros((2, 0), bool)), [False, False])


def test_select_and_scatter_max_pool_gradient():
    text = """HloModule t
ge {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT r = pred[] compare(a, b), direction=GE
}
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT r = f32[] add(a, b)
}
ENTRY e {
  x = f32[4,5] parameter(0)
  s = f32[2,3] parameter(1)
  z = f32[] constant(0)
  ROOT r = f32[4,5] select-and-scatter(x, s, z), window={size=2x2 stride=2x2 pad=0_0x0_1}, select=ge, scatter=add
}"""
    m = parse_hlo(text, verify=False)
    x = np.float32([[1, 9, 2, 2, 7], [3, 4, 2, 2, 1], [0, 0, 5, 1, 1], [0, 6, 1, 5, 1]])
    s = np.float32([[10, 20, 30], [40, 50, 60]])
    want = np.zeros_like(x)
    want[0, 1] += 10
    want[0, 2] += 20  # tie 2,2,2,2: the first (row-major) wins under GE
    want[0, 4] += 30  # the padded column never wins
    want[3, 1] += 40
    want[2, 2] += 50
    want[2, 4] += 60  # ties 1,1: first
    np.testing.assert_array_equal(evaluate_module(m, [x, s]), want)


# --- shapes and layouts ----------------------------------------------------------------------


def test_broadcast_unsorted_dimensions_transposes():
    text = """HloModule t
ENTRY e {
  x = f32[2,3] parameter(0)
  ROOT r = f32[3,4,2] broadcast(x), dimensions={2,0}
}"""
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    got = run(text, x)
    np.testing.assert_array_equal(got, np.broadcast_to(x.T[:, None, :], (3, 4, 2)))


def test_select_scalar_predicate():
    text = """HloModule t
ENTRY e {
  p = pred[] parameter(0)
  a = f32[3] parameter(1)
  b = f32[3] parameter(2)
  ROOT r = f32[3] select(p, a, b)
}"""
    a, b = np.float32([1, 2, 3]), np.float32([4, 5, 6])
    np.testing.assert_array_equal(run(text, np.bool_(False), a, b), b)


def test_layouts_do_not_change_values_but_bitcast_follows_them():
    text = """HloModule t
ENTRY e {
  x = f32[4,3]{1,0} parameter(0)
  c = f32[4,3]{0,1} copy(x)
  ROOT r = f32[3,4]{1,0} bitcast(c)
}"""
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_array_equal(run(text, x), x.T)  # {0,1} storage of x is x.T in row-major
    text2 = text.replace("f32[4,3]{0,1} copy", "f32[4,3]{1,0} copy")
    np.testing.assert_array_equal(run(text2, x), x.reshape(3, 4))


def test_slice_strided_reverse_transpose_concat_iota():
    text = """HloModule t
ENTRY e {
  x = f32[4,6] parameter(0)
  s = f32[2,3] slice(x), slice={[1:4:2], [0:6:2]}
  v = f32[2,3] reverse(s), dimensions={0,1}
  t = f32[3,2] transpose(v), dimensions={1,0}
  i = f32[3,2] iota(), iota_dimension=0
  ROOT c = f32[3,4] concatenate(t, i), dimensions={1}
}"""
    x = np.arange(24, dtype=np.float32).reshape(4, 6)
    t = x[1:4:2, 0:6:2][::-1, ::-1].T
    want = np.concatenate([t, np.repeat(np.arange(3, dtype=np.float32)[:, None], 2, 1)], 1)
    np.testing.assert_array_equal(run(text, x), want)


# --- gather / scatter ------------------------------------------------------------------------


def test_gather_with_batching_dims():
    text = """HloModule t
ENTRY e {
  x = f32[3,5,2] parameter(0)
  i = s32[3,4,1] parameter(1)
  ROOT r = f32[3,4,2] gather(x, i), offset_dims={2}, collapsed_slice_dims={1}, start_index_map={1},
      operand_batching_dims={0}, start_indices_batching_dims={0}, index_vector_dim=2, slice_sizes={1,1,2}
}"""
    x = np.arange(30, dtype=np.float32).reshape(3, 5, 2)
    i = np.int32([[[0], [4], [2], [9]], [[1], [1], [0], [3]], [[-1], [2], [2], [4]]])
    want = np.stack([x[b, np.clip(i[b, :, 0], 0, 4)] for b in range(3)])
    np.testing.assert_array_equal(run(text, x, i), want)


SCATTER = """HloModule t
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT r = f32[] add(a, b)
}
mul2 {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  m = f32[] multiply(a, b)
  two = f32[] constant(2)
  ROOT r = f32[] add(m, two)
}
set {
  a = f32[] parameter(0)
  ROOT b = f32[] parameter(1)
}
ENTRY e {
  x = f32[5,3] parameter(0)
  i = s32[4,1] parameter(1)
  u = f32[4,2,3] parameter(2)
  ROOT r = f32[5,3] scatter(x, i, u), update_window_dims={1,2}, inserted_window_dims={},
      scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=COMP
}"""


@pytest.mark.parametrize("comp", ["add", "mul2", "set"])
def test_scatter_skips_out_of_bounds_windows(comp):
    x = np.arange(15, dtype=np.float32).reshape(5, 3)
    i = np.int32([[0], [3], [4], [0]])  # the window of 2 rows at 4 does not fit: skipped, not clamped
    u = np.arange(24, dtype=np.float32).reshape(4, 2, 3) + 100
    fn = {"add": lambda a, b: a + b, "mul2": lambda a, b: a * b + 2, "set": lambda a, b: b}[comp]
    want = x.copy()
    for s in range(4):
        if 0 <= i[s, 0] <= 3:
            want[i[s, 0]:i[s, 0] + 2] = fn(want[i[s, 0]:i[s, 0] + 2], u[s])
    np.testing.assert_array_equal(run(SCATTER.replace("COMP", comp), x, i, u), want)


def test_scatter_inserted_dims_duplicates_accumulate():
    text = """HloModule t
add {
  a = s32[] parameter(0)
  b = s32[] parameter(1)
  ROOT r = s32[] add(a, b)
}
ENTRY e {
  x = s32[4] parameter(0)
  i = s32[5] parameter(1)
  u = s32[5] parameter(2)
  ROOT r = s32[4] scatter(x, i, u), update_window_dims={}, inserted_window_dims={0},
      scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add
}"""
    got = run(text, np.zeros(4, np.int32), np.int32([1, 1, 3, -1, 4]), np.int32([1, 2, 3, 4, 5]))
    np.testing.assert_array_equal(got, [0, 3, 0, 3])


# --- dot / convolution -----------------------------------------------------------------------


def test_dot_batch_and_contracting_dims_in_any_position():
    text = """HloModule t
ENTRY e {
  a = f32[3,2,4] parameter(0)
  b = f32[4,5,2] parameter(1)
  ROOT r = f32[2,3,5] dot(a, b), lhs_batch_dims={1}, rhs_batch_dims={2}, lhs_contracting_dims={2},
      rhs_contracting_dims={0}
}"""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 2, 4), np.float32), rng.standard_normal((4, 5, 2), np.float32)
    np.testing.assert_allclose(run(text, a, b), np.einsum("mbk,knb->bmn", a, b), rtol=1e-5)


def test_dot_mixed_precision_output():
    text = """HloModule t
ENTRY e {
  a = s8[2,3] parameter(0)
  b = s8[3] parameter(1)
  ROOT r = s32[2] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}"""
    a = np.int8([[127, 127, 127], [-128, 1, 0]])
    got = run(text, a, np.int8([127, 127, 1]))
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, [127 * 255, -128 * 127 + 127])


def _naive_conv(x, k, stride, pad, lhs_dil, rhs_dil, fg=1, bg=1):
    """NCHW x OIHW by XLA's definition, one output element at a time."""
    N, C, H, W = x.shape
    O, I, KH, KW = k.shape
    def dilate_pad(a, axis):
        n = a.shape[axis]
        d = lhs_dil[axis - 2]
        lo, hi = pad[axis - 2]
        shape = list(a.shape)
        shape[axis] = (n - 1) * d + 1
        out = np.zeros(shape, a.dtype)
        idx = [slice(None)] * 4
        idx[axis] = slice(None, None, d)
        out[tuple(idx)] = a
        out = np.concatenate([np.zeros(shape[:axis] + [max(lo, 0)] + shape[axis + 1:]), out,
                              np.zeros(shape[:axis] + [max(hi, 0)] + shape[axis + 1:])], axis)
        sl = [slice(None)] * 4
        sl[axis] = slice(max(-lo, 0), out.shape[axis] - max(-hi, 0))
        return out[tuple(sl)]
    xp = dilate_pad(dilate_pad(x, 2), 3)
    effh, effw = (KH - 1) * rhs_dil[0] + 1, (KW - 1) * rhs_dil[1] + 1
    OH = (xp.shape[2] - effh) // stride[0] + 1
    OW = (xp.shape[3] - effw) // stride[1] + 1
    Nout = N // bg
    out = np.zeros((Nout, O, OH, OW))
    cg, og, ob = C // fg, O // fg, O // bg
    for n, o, i, j in itertools.product(range(Nout), range(O), range(OH), range(OW)):
        g = o // og
        nb = n + (o // ob) * Nout if bg > 1 else n
        patch = xp[nb, g * cg:(g + 1) * cg, i * stride[0]:i * stride[0] + effh:rhs_dil[0],
                   j * stride[1]:j * stride[1] + effw:rhs_dil[1]]
        out[n, o, i, j] = (patch * k[o]).sum()
    return out


@pytest.mark.parametrize("stride,pad,lhs,rhs,fg,bg", [
    ((1, 1), ((0, 0), (0, 0)), (1, 1), (1, 1), 1, 1),
    ((2, 1), ((1, 2), (0, 1)), (1, 1), (1, 1), 1, 1),
    ((1, 1), ((1, 1), (-1, 1)), (2, 1), (1, 2), 1, 1),
    ((1, 2), ((0, 0), (1, 1)), (1, 1), (2, 1), 2, 1),
    ((1, 1), ((0, 0), (0, 0)), (1, 1), (1, 1), 1, 2),
])
def test_convolution_matches_definition(stride, pad, lhs, rhs, fg, bg):
    rng = np.random.default_rng(1)
    N, C, O = 2 * bg, 2 * fg, 2 * fg * bg
    x = rng.standard_normal((N, C, 6, 5)).astype(np.float32)
    k = rng.standard_normal((O, C // fg, 3, 2)).astype(np.float32)
    want = _naive_conv(x, k, stride, pad, lhs, rhs, fg, bg)
    # present it as NHWC x HWIO -> NHWC, to exercise dim_labels
    xin, kin = x.transpose(0, 2, 3, 1), k.transpose(2, 3, 1, 0)
    window = (f"size=3x2 stride={stride[0]}x{stride[1]} pad={pad[0][0]}_{pad[0][1]}x{pad[1][0]}_{pad[1][1]} "
              f"lhs_dilate={lhs[0]}x{lhs[1]} rhs_dilate={rhs[0]}x{rhs[1]}")
    out_shape = want.transpose(0, 2, 3, 1).shape
    text = f"""HloModule t
ENTRY e {{
  x = f32[{",".join(map(str, xin.shape))}] parameter(0)
  k = f32[{",".join(map(str, kin.shape))}] parameter(1)
  ROOT r = f32[{",".join(map(str, out_shape))}] convolution(x, k), window={{{window}}}, dim_labels=b01f_01io->b01f,
      feature_group_count={fg}, batch_group_count={bg}
}}"""
    np.testing.assert_allclose(run(text, xin, kin), want.transpose(0, 2, 3, 1), rtol=1e-4, atol=1e-5)


def test_convolution_reversal():
    text = """HloModule t
ENTRY e {
  x = f32[1,1,5] parameter(0)
  k = f32[1,1,3] parameter(1)
  ROOT r = f32[1,1,3] convolution(x, k), window={size=3 rhs_reversal=1}, dim_labels=bf0_oi0->bf0
}"""
    x, k = np.float32([[[1, 2, 3, 4, 5]]]), np.float32([[[1, 0, -1]]])
    np.testing.assert_array_equal(run(text, x, k)[0, 0], [2, 2, 2])  # k reversed is [-1, 0, 1]


# --- sort / top-k ----------------------------------------------------------------------------

SORT = """HloModule t
cmp {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  i = s32[] parameter(2)
  j = s32[] parameter(3)
  ROOT r = pred[] compare(a, b), direction=@DIR, type=TOTALORDER
}
ENTRY e {
  x = f32[3,@N] parameter(0)
  i = s32[3,@N] iota(), iota_dimension=1
  ROOT r = (f32[3,@N], s32[3,@N]) sort(x, i), dimensions={1}, is_stable=true, to_apply=cmp
}"""


@pytest.mark.parametrize("n", [1, 5, 8, 13])
@pytest.mark.parametrize("direction", ["LT", "GT"])
def test_sort_stable_multi_operand(n, direction):
    rng = np.random.default_rng(n)
    x = rng.integers(0, 4, (3, n)).astype(np.float32)
    x[0, : min(n, 2)] = [NAN, -0.0][: min(n, 2)]
    v, i = run(SORT.replace("@N", str(n)).replace("@DIR", direction), x)
    key = np.where(np.isnan(x), np.inf, x)  # positive NaN sorts last in total order
    key = np.where((x == 0) & np.signbit(x), -1e-30, key)
    order = np.argsort(key if direction == "LT" else -key, axis=1, kind="stable")
    if direction == "GT":  # stability for descending: equal keys keep their original order
        order = np.stack([sorted(range(n), key=lambda c, r=r: (-key[r, c], c)) for r in range(3)])
    np.testing.assert_array_equal(i, order)
    assert same_bits(v, np.take_along_axis(x, order, 1))


def test_topk_op_and_custom_call():
    text = """HloModule t
ENTRY e {
  x = f32[2,6] parameter(0)
  ROOT r = (f32[2,3], s32[2,3]) topk(x), k=3, largest=true
}"""
    x = np.float32([[1, 5, 3, 5, NAN, -INF], [0, -0.0, 2, 2, 2, 1]])
    v, i = run(text, x)
    np.testing.assert_array_equal(i, [[4, 1, 3], [2, 3, 4]])
    assert same_bits(v, [[NAN, 5, 5], [2, 2, 2]])


# --- LAPACK custom calls (what jax lowers cholesky / triangular_solve / lu to on CPU) ----------

SPD = np.array([[4.0, 2.0, 0.6], [2.0, 5.0, 1.0], [0.6, 1.0, 3.0]], np.float32)


def test_lapack_potrf():
    text = """HloModule t
ENTRY e {
  a = f32[2,3,3] parameter(0)
  ROOT r = (f32[2,3,3]{1,2,0}, s32[2]{0}) custom-call(a), custom_call_target="lapack_spotrf_ffi",
      api_version=API_VERSION_TYPED_FFI, backend_config={uplo = 76 : ui8}
}"""
    a = np.stack([SPD, -SPD])
    a[0, 0, 2] = 99.0  # the upper triangle is not read, and comes back as it was
    fac, info = run(text, a)
    np.testing.assert_allclose(np.tril(fac[0]), np.linalg.cholesky(SPD), rtol=1e-6)
    assert fac[0, 0, 2] == 99.0
    np.testing.assert_array_equal(info, [0, 1])


def test_lapack_trsm_and_getrf():
    trsm = """HloModule t
ENTRY e {
  a = f32[3,3] parameter(0)
  b = f32[2,3] parameter(1)
  ROOT r = f32[2,3] custom-call(a, b), custom_call_target="lapack_strsm_ffi",
      backend_config={diag = 85 : ui8, side = 82 : ui8, trans_x = 84 : ui8, uplo = 85 : ui8}
}"""
    a, b = SPD + np.triu(np.ones((3, 3), np.float32)), np.float32([[1, 2, 3], [4, 5, 6]])
    t = np.triu(a, 1) + np.eye(3, dtype=np.float32)  # upper, unit diagonal; solve x @ t.T = b
    np.testing.assert_allclose(run(trsm, a, b), b @ np.linalg.inv(t.T), rtol=1e-5)
    getrf = """HloModule t
ENTRY e {
  a = f32[3,3] parameter(0)
  ROOT r = (f32[3,3], s32[3], s32[]) custom-call(a), custom_call_target="lapack_sgetrf_ffi", backend_config={}
}"""
    m = np.float32([[1, 2, 3], [4, 5, 6], [7, 8, 10]])
    lu, piv, info = run(getrf, m)
    np.testing.assert_array_equal(piv, [3, 3, 3])  # 1-based rows, largest pivot first
    assert info == 0
    L, U = np.tril(lu, -1) + np.eye(3), np.triu(lu)
    perm = np.arange(3)
    for j, p in enumerate(piv - 1):
        perm[[j, p]] = perm[[p, j]]
    np.testing.assert_allclose(L @ U, m[perm], rtol=1e-5)


# --- control flow, calls, fusion -------------------------------------------------------------


def test_while_loop_and_call():
    text = """HloModule t
cond {
  p = (s32[], f32[2]) parameter(0)
  i = s32[] get-tuple-element(p), index=0
  n = s32[] constant(5)
  ROOT c = pred[] compare(i, n), direction=LT
}
dbl {
  x = f32[2] parameter(0)
  ROOT y = f32[2] add(x, x)
}
body {
  p = (s32[], f32[2]) parameter(0)
  i = s32[] get-tuple-element(p), index=0
  x = f32[2] get-tuple-element(p), index=1
  one = s32[] constant(1)
  j = s32[] add(i, one)
  y = f32[2] call(x), to_apply=dbl
  ROOT t = (s32[], f32[2]) tuple(j, y)
}
ENTRY e {
  x = f32[2] parameter(0)
  z = s32[] constant(0)
  t = (s32[], f32[2]) tuple(z, x)
  w = (s32[], f32[2]) while(t), condition=cond, body=body
  ROOT r = f32[2] get-tuple-element(w), index=1
}"""
    np.testing.assert_array_equal(run(text, np.float32([1, -2])), [32, -64])


def test_fusion_and_map():
    text = """HloModule t
f {
  a = f32[3] parameter(0)
  b = f32[3] parameter(1)
  ROOT m = f32[3] multiply(a, b)
}
sq {
  x = f32[] parameter(0)
  ROOT y = f32[] multiply(x, x)
}
ENTRY e {
  x = f32[3] parameter(0)
  y = f32[3] fusion(x, x), kind=kLoop, calls=f
  ROOT r = f32[3] map(y), dimensions={0}, to_apply=sq
}"""
    np.testing.assert_array_equal(run(text, np.float32([1, 2, 3])), [1, 16, 81])


# --- random numbers --------------------------------------------------------------------------


def test_threefry_known_answers():
    # Random123 / JAX known-answer vectors for Threefry-2x32 with 20 rounds
    cases = [((0, 0), (0, 0), (0x6B200159, 0x99BA4EFE)),
             ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
             ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0))]
    for key, ctr, want in cases:
        o0, o1 = ev._threefry2x32(np.uint32([ctr[0]]), np.uint32([ctr[1]]), *key)
        assert (int(o0[0]), int(o1[0])) == want


def test_philox_known_answers():
    # Random123 known-answer vectors for Philox-4x32 with 10 rounds
    cases = [((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
             ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
             ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
              (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1))]
    for ctr, key, want in cases:
        out = ev._philox4x32([np.uint32([c]) for c in ctr], *key)
        assert tuple(int(o[0]) for o in out) == want


RBG = """HloModule t
ENTRY e {
  s = u64[2] parameter(0)
  ROOT r = (u64[2], u32[3,5]) rng-bit-generator(s), algorithm=ALG
}"""


@pytest.mark.parametrize("alg", ["rng_three_fry", "rng_philox", "rng_default"])
def test_rng_bit_generator_state_and_determinism(alg):
    s = np.uint64([42, 7])
    st, bits = run(RBG.replace("ALG", alg), s)
    st2, bits2 = run(RBG.replace("ALG", alg), s)
    np.testing.assert_array_equal(bits, bits2)
    assert bits.dtype == np.uint32 and bits.shape == (3, 5) and len(set(bits.ravel().tolist())) == 15
    assert st[0] == 42
    # three-fry advances the counter by the half-shape's size (3x5 splits its largest, odd, dim: 3x3x1),
    # philox by the number of 128-bit blocks
    assert st[1] == (7 + 9 if alg == "rng_three_fry" else 7 + 4)


RBG_JAX = """HloModule t
ENTRY e {
  k = u32[4] parameter(0)
  r = u32[2,2] reshape(k)
  s = u64[2] bitcast-convert(r)
  g = (u64[2], DATA) rng-bit-generator(s), algorithm=ALG
  s2 = u64[2] get-tuple-element(g), index=0
  s3 = u32[2,2] bitcast-convert(s2)
  s4 = u32[4] reshape(s3)
  v = DATA get-tuple-element(g), index=1
  ROOT t = (u32[4], DATA) tuple(s4, v)
}"""


@pytest.mark.parametrize("alg,data,state,want", [
    # jax.lax.rng_bit_generator(jnp.uint32([1, 2, 3, 4]), ...) on XLA:CPU, jaxlib 0.10.2
    ("rng_three_fry", "u32[3,5]", [1, 2, 12, 4],
     [1576285164, 2249660814, 740599976, 2425682526, 2436392515, 1335360347, 2260235687, 3981753173,
      3953550934, 3812192618, 2959620048, 1759477693, 3014899208, 3167314751, 1878941568]),
    ("rng_philox", "u32[3,5]", [1, 2, 7, 4],
     [512747620, 1298009047, 1267190206, 761827841, 1383286907, 1639995030, 2756207988, 2154813423,
      2586587831, 3476143680, 1796768528, 312929065, 595050331, 3179752574, 3495892623]),
    ("rng_default", "u64[7]", [1, 2, 7, 4],
     [5574906407289874532, 3272025663544478142, 7043725020835825787, 9254853183523022196,
      14929923424383677111, 1344020101939626768, 13656933315296870235]),
    ("rng_three_fry", "u8[2,3]", [1, 2, 6, 4], [236, 168, 67, 142, 94, 25]),
    ("rng_philox", "u16[5]", [1, 2, 5, 4], [59492, 3031, 51646, 37377, 18555]),
])
def test_rng_bit_generator_matches_xla(alg, data, state, want):
    st, bits = run(RBG_JAX.replace("DATA", data).replace("ALG", alg), np.uint32([1, 2, 3, 4]))
    np.testing.assert_array_equal(st, state)
    assert bits.dtype == dtype(data.split("[")[0]).np
    np.testing.assert_array_equal(bits.ravel(), np.array(want, bits.dtype))


def test_rng_bit_generator_threefry_layout():
    # u32[4]: counters state+0, state+1 feed two Threefry calls whose outputs interleave
    st, bits = run(RBG.replace("u32[3,5]", "u32[4]").replace("ALG", "rng_three_fry"), np.uint64([5, 0]))
    o0, o1 = ev._threefry2x32(np.uint32([0, 1]), np.uint32([0, 0]), 5, 0)
    np.testing.assert_array_equal(bits, [o0[0], o1[0], o0[1], o1[1]])


def test_rng_bit_generator_philox_layout():
    st, bits = run(RBG.replace("u32[3,5]", "u32[6]").replace("ALG", "rng_philox"), np.uint64([9, 3]))
    # a 2-word state uses (low = state[1], high = state[0]) as the 128-bit counter
    blocks = ev._philox4x32([np.uint32([3, 4]), np.uint32([0, 0]), np.uint32([9, 9]), np.uint32([0, 0])], 9, 0)
    np.testing.assert_array_equal(bits, np.stack(blocks, 1).reshape(-1)[:6])
    np.testing.assert_array_equal(st, [9, 5])


# --- errors, plans, tracing, speed -----------------------------------------------------------


def test_elided_constant_raises_naming_the_instruction():
    text = """HloModule t
ENTRY e {
  c = f32[3] constant({...})
  ROOT r = f32[3] negate(c)
}"""
    m = parse_hlo(text, verify=False, elided="zeros")
    m.entry.instruction("c").literal = None  # as a reader of another format leaves a value it does not have
    plan = make_plan(m.entry)  # making the plan is fine; running it is not
    with pytest.raises(EvaluationError, match="'c'.*elided"):
        run_plan(plan, [])


def test_unsupported_custom_call_raises():
    text = """HloModule t
ENTRY e {
  x = f32[3] parameter(0)
  ROOT r = f32[3] custom-call(x), custom_call_target="my_kernel"
}"""
    with pytest.raises(EvaluationError, match="my_kernel"):
        run(text, np.zeros(3, np.float32))


def test_every_executable_opcode_has_an_evaluator():
    from xla_magic.hlo.opcodes import UNEXECUTABLE
    missing = [op for op in Opcode if op not in EVALUATORS and op not in UNEXECUTABLE]
    assert missing == [Opcode.STOCHASTIC_CONVERT] or not missing, missing


def test_results_are_owned_arrays():
    text = """HloModule t
ENTRY e {
  x = f32[3] parameter(0)
  c = f32[3] constant({1, 2, 3})
  b = f32[2,3] broadcast(x), dimensions={1}
  ROOT t = (f32[3], f32[3], f32[2,3]) tuple(x, c, b)
}"""
    m = parse_hlo(text, verify=False)
    plan = make_plan(m.entry)
    x = np.float32([4, 5, 6])
    a, c, b = run_plan(plan, [x])
    for r in (a, c, b):
        assert r.flags.writeable and r.flags.c_contiguous
    a[0] = c[0] = b[0, 0] = 0
    assert x[0] == 4 and run_plan(plan, [x])[1][0] == 1


def test_trace_records_each_step():
    text = """HloModule t
ENTRY e {
  x = f32[8] parameter(0)
  y = f32[8] exponential(x)
  ROOT z = f32[8] add(y, x)
}"""
    m = parse_hlo(text, verify=False)
    trace: list = []
    run_plan(make_plan(m.entry), [np.zeros(8, np.float32)], trace=trace)
    assert [t[0].name for t in trace] == ["y", "z"]
    assert all(t[1] >= 0 and t[2] == 32 for t in trace)


def _chain(n: int) -> str:
    ops = ["add", "multiply", "subtract", "maximum"]
    lines = ["HloModule chain", "ENTRY e {", "  x = f32[1,64] parameter(0)", "  v0 = f32[1,64] negate(x)"]
    for i in range(1, n):
        lines.append(f"  v{i} = f32[1,64] {ops[i % 2]}(v{i - 1}, x)")
    lines[-1] = lines[-1].replace(f"  v{n - 1}", f"  ROOT v{n - 1}")
    return "\n".join(lines + ["}"])


def per_op_seconds(n: int = 100, repeat: int = 200) -> float:
    plan = make_plan(parse_hlo(_chain(n), verify=False).entry)
    x = np.random.default_rng(0).standard_normal((1, 64)).astype(np.float32)
    run_plan(plan, [x])
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(repeat):
            run_plan(plan, [x])
        best = min(best, (time.perf_counter() - t0) / repeat / n)
    return best


def test_per_op_overhead_is_that_of_a_numpy_dispatcher():
    # 100 elementwise ops on f32[1,64]: about 0.4 us each here; fail only if grossly slower
    assert per_op_seconds() < 5e-6


# --- the corpus ------------------------------------------------------------------------------


def _check_case(name: str, opt: bool) -> None:
    text, args, outs, meta = load_case(name, opt)
    module = parse_hlo(text, verify=False)
    got = evaluate_module(module, args)
    got = list(got) if isinstance(got, tuple) else [got]
    assert len(got) == len(outs)
    for g, e, om in zip(got, outs, meta["outputs"]):
        assert_matches(g, e, {**om, "name": name}, "opt " if opt else "")


@pytest.mark.parametrize("name", CASE_NAMES)
def test_corpus_case(name):
    _check_case(name, opt=False)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_corpus_case_optimized(name):
    _check_case(name, opt=True)
