"""The cpu target against the reference interpreter: the corpus, every elementwise op on special
values, indexing ops with out-of-range indices, reductions, windows, control flow, the call boundary."""
from __future__ import annotations

import threading

import ml_dtypes
import numpy as np
import pytest
from conftest import CASE_NAMES, assert_matches, load_case

import xla_magic as xm

RNG = np.random.default_rng(1)


def both(text: str, *args):
    """(cpu result, interpreter result), each as a tuple."""
    exe = xm.compile(text, target="cpu")
    got = exe(*args)
    want = xm.interpret(text, *args)
    as_t = lambda v: v if isinstance(v, tuple) else (v,)  # noqa: E731
    return as_t(got), as_t(want)


def check(text: str, *args, rtol=2e-6, atol=1e-6):
    got, want = both(text, *args)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        if w.dtype.kind in "fV":
            gf, wf = g.astype(np.float64), w.astype(np.float64)
            np.testing.assert_array_equal(np.isnan(gf), np.isnan(wf))
            fin = ~np.isnan(wf)
            np.testing.assert_allclose(gf[fin], wf[fin], rtol=rtol, atol=atol)
        else:
            np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_corpus_on_cpu(case):
    text, args, outs, meta = load_case(case)
    exe = xm.compile(text, target="cpu")
    got = exe(*[a.copy() for a in args])
    got = got if isinstance(got, tuple) else (got,)
    for g, e, om in zip(got, outs, meta["outputs"]):
        assert_matches(g, e, om, label="cpu ")


SPECIAL_F32 = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, np.inf, -np.inf, np.nan, 1e-30, -1e30, 88.7,
                        89.0, -100.0, 3.14159, 1e10, -7.25, 65519.0], np.float32)


def unary(op: str, dt: str = "f32", n: int = 20) -> str:
    return f"HloModule u\n\nENTRY e {{\n  x = {dt}[{n}] parameter(0)\n  ROOT r = {dt}[{n}] {op}(x)\n}}\n"


@pytest.mark.parametrize("op", ["negate", "abs", "sign", "floor", "ceil", "round-nearest-afz", "round-nearest-even",
                                "sqrt", "rsqrt", "is-finite", "exponential", "log", "log-plus-one",
                                "exponential-minus-one", "tanh", "sinh", "logistic", "sine", "cosine", "cbrt", "tan"])
def test_float_unary_ops_on_special_values(op):
    text = unary(op)
    if op == "is-finite":
        text = text.replace("ROOT r = f32[20]", "ROOT r = pred[20]")
    loose = op in ("exponential", "log", "log-plus-one", "exponential-minus-one", "tanh", "sinh", "logistic",
                   "sine", "cosine", "cbrt", "tan")
    check(text, SPECIAL_F32, rtol=5e-6 if loose else 1e-7, atol=1e-6 if loose else 0)


@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "divide", "remainder", "maximum", "minimum", "power",
                                "atan2"])
def test_float_binary_ops_on_special_value_pairs(op):
    a = np.repeat(SPECIAL_F32, len(SPECIAL_F32))
    b = np.tile(SPECIAL_F32, len(SPECIAL_F32))
    n = a.size
    text = f"HloModule b\n\nENTRY e {{\n  x = f32[{n}] parameter(0)\n  y = f32[{n}] parameter(1)\n" \
           f"  ROOT r = f32[{n}] {op}(x, y)\n}}\n"
    check(text, a, b, rtol=5e-6 if op in ("power", "atan2") else 1e-7, atol=1e-30)


INTS = np.array([0, 1, -1, 2, -2, 7, -7, 31, 32, 33, 100, 2**31 - 1, -2**31, 12345, -99999, 3], np.int32)


@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "divide", "remainder", "maximum", "minimum", "and",
                                "or", "xor", "shift-left", "shift-right-logical", "shift-right-arithmetic", "power"])
@pytest.mark.parametrize("dt", ["s32", "u32", "s8", "u8", "s64"])
def test_integer_binary_ops_follow_xla(op, dt):
    npd = {"s32": np.int32, "u32": np.uint32, "s8": np.int8, "u8": np.uint8, "s64": np.int64}[dt]
    a = np.repeat(INTS, len(INTS)).astype(npd)
    b = np.tile(INTS, len(INTS)).astype(npd)
    if op == "power":
        b = (b.astype(np.int64) % 7 - 2).astype(npd)  # small exponents, some negative
    n = a.size
    text = f"HloModule b\n\nENTRY e {{\n  x = {dt}[{n}] parameter(0)\n  y = {dt}[{n}] parameter(1)\n" \
           f"  ROOT r = {dt}[{n}] {op}(x, y)\n}}\n"
    check(text, a, b)


@pytest.mark.parametrize("op", ["negate", "abs", "sign", "not", "popcnt", "count-leading-zeros"])
def test_integer_unary_ops(op):
    check(unary(op, "s32", INTS.size), INTS)


@pytest.mark.parametrize("src, dst", [("f32", "s32"), ("f32", "u8"), ("f32", "pred"), ("f32", "f16"), ("f32", "bf16"),
                                      ("f32", "f64"), ("s32", "f32"), ("s32", "f16"), ("pred", "f32"), ("s32", "s8"),
                                      ("u32", "s64"), ("f16", "f32"), ("bf16", "f32"), ("f64", "f32"),
                                      ("f16", "bf16")])
def test_converts_follow_xla(src, dst):
    npd = {"f32": np.float32, "s32": np.int32, "pred": np.bool_, "u32": np.uint32, "f16": np.float16,
           "bf16": ml_dtypes.bfloat16, "f64": np.float64}[src]
    if src in ("f32", "f64", "f16", "bf16"):
        with np.errstate(over="ignore"):
            x = np.array([0.0, -0.0, 1.5, -1.5, 2.5, 3e9, -3e9, np.nan, np.inf, -np.inf, 65519.0, 65520.0, 255.9,
                          -0.9, 1e-3, 12345.678], np.float64).astype(npd)
    elif src == "pred":
        x = np.array([True, False] * 8)
    else:
        x = np.array([0, 1, -1, 2049, 65535, 2**31 - 1, -2**31, 300, -300, 7, 8, 9, 10, 11, 12, 13]).astype(npd)
    text = f"HloModule c\n\nENTRY e {{\n  x = {src}[16] parameter(0)\n  ROOT r = {dst}[16] convert(x)\n}}\n"
    check(text, x, rtol=0, atol=0)


def test_compare_directions_and_total_order():
    a = np.repeat(SPECIAL_F32, len(SPECIAL_F32))
    b = np.tile(SPECIAL_F32, len(SPECIAL_F32))
    n = a.size
    for d in ("EQ", "NE", "LT", "LE", "GT", "GE"):
        for t in ("", ", type=TOTALORDER"):
            text = f"HloModule c\n\nENTRY e {{\n  x = f32[{n}] parameter(0)\n  y = f32[{n}] parameter(1)\n" \
                   f"  ROOT r = pred[{n}] compare(x, y), direction={d}{t}\n}}\n"
            check(text, a, b)


def test_select_clamp_with_scalar_operands():
    text = """HloModule s

ENTRY e {
  p = pred[] parameter(0)
  x = f32[20] parameter(1)
  lo = f32[] parameter(2)
  hi = f32[] parameter(3)
  c = f32[20] clamp(lo, x, hi)
  n = f32[20] negate(x)
  ROOT r = f32[20] select(p, c, n)
}
"""
    for p in (True, False):
        check(text, np.bool_(p), SPECIAL_F32, np.float32(-1.0), np.float32(2.0))
    check(text, np.bool_(True), SPECIAL_F32, np.float32(np.nan), np.float32(2.0))


def test_bf16_and_f16_arithmetic_round_after_every_op():
    text = """HloModule h

ENTRY e {
  x = bf16[64] parameter(0)
  y = f16[64] parameter(1)
  a = bf16[64] multiply(x, x)
  b = bf16[64] add(a, x)
  c = f16[64] multiply(y, y)
  d = f16[64] add(c, y)
  ROOT t = (bf16[64], f16[64]) tuple(b, d)
}
"""
    x = RNG.standard_normal(64).astype(ml_dtypes.bfloat16)
    y = RNG.standard_normal(64).astype(np.float16)
    check(text, x, y, rtol=0, atol=0)


INDEXING = """HloModule idx

ENTRY e {
  x = f32[6,8] parameter(0)
  i = s32[] parameter(1)
  j = s32[] parameter(2)
  u = f32[2,3] parameter(3)
  b = f32[4,6,8] broadcast(x), dimensions={1,2}
  t = f32[8,6] transpose(x), dimensions={1,0}
  r = f32[2,24] reshape(x)
  s = f32[2,3] slice(x), slice={[1:6:3], [2:8:2]}
  z = f32[] constant(-1)
  p = f32[9,26] pad(x, z), padding=1_2x-1_5_2
  c = f32[12,8] concatenate(x, x), dimensions={0}
  v = f32[6,8] reverse(x), dimensions={0,1}
  o = s32[6,8] iota(), iota_dimension=1
  d = f32[2,3] dynamic-slice(x, i, j), dynamic_slice_sizes={2,3}
  w = f32[6,8] dynamic-update-slice(x, u, i, j)
  ROOT out = (f32[4,6,8], f32[8,6], f32[2,24], f32[2,3], f32[9,26], f32[12,8], f32[6,8], s32[6,8], f32[2,3],
              f32[6,8]) tuple(b, t, r, s, p, c, v, o, d, w)
}
"""


@pytest.mark.parametrize("i, j", [(0, 0), (3, 4), (-5, 2), (100, -100), (5, 7)])
def test_indexing_ops_clamp_like_xla_and_stay_in_bounds(i, j):
    x = RNG.standard_normal((6, 8)).astype(np.float32)
    u = RNG.standard_normal((2, 3)).astype(np.float32)
    check(INDEXING, x, np.int32(i), np.int32(j), u, rtol=0, atol=0)


def test_gather_with_out_of_range_indices():
    text, args, outs, meta = load_case("gather")
    args = [a.copy() for a in args]
    for a in args[1:]:
        if a.dtype.kind == "i":
            a.ravel()[::3] = 10_000
            a.ravel()[1::5] = -10_000
    check(text, *args, rtol=0, atol=0)


def test_scatter_skips_out_of_range_updates():
    text, args, outs, meta = load_case("scatter")
    args = [a.copy() for a in args]
    for a in args:
        if a.dtype.kind == "i":
            a.ravel()[::2] = 999
    check(text, *args, rtol=1e-6, atol=1e-6)


ADD = "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT s = f32[] add(a, b)\n}\n"
MAX = "max {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT s = f32[] maximum(a, b)\n}\n"


@pytest.mark.parametrize("dims", ["{1}", "{0}", "{0,1}", "{0,2}", "{2}", "{1,2}"])
def test_reductions_over_any_dimensions(dims):
    kept = [d for d in range(3) if str(d) not in dims]
    shape = [5, 7, 9]
    out = ",".join(str(shape[d]) for d in kept)
    text = f"HloModule r\n\n{ADD}{MAX}ENTRY e {{\n  x = f32[5,7,9] parameter(0)\n  z = f32[] constant(0)\n" \
           f"  m = f32[] constant(-inf)\n  s = f32[{out}] reduce(x, z), dimensions={dims}, to_apply=add\n" \
           f"  e = f32[5,7,9] exponential(x)\n  q = f32[{out}] reduce(e, m), dimensions={dims}, to_apply=max\n" \
           f"  ROOT t = (f32[{out}], f32[{out}]) tuple(s, q)\n}}\n"
    x = RNG.standard_normal((5, 7, 9)).astype(np.float32)
    x[1, 2, 3] = np.nan
    check(text, x, rtol=1e-5, atol=1e-5)


def test_reduce_window_with_padding_strides_and_dilation():
    text = f"""HloModule w

{MAX}ENTRY e {{
  x = f32[7,9] parameter(0)
  m = f32[] constant(-inf)
  ROOT r = f32[5,6] reduce-window(x, m), window={{size=3x2 stride=2x2 pad=2_1x1_1 lhs_dilate=1x2 rhs_dilate=1x2}},
    to_apply=max
}}
"""
    from xla_magic.hlo.shape_inference import infer_shape

    dims = infer_shape(xm.parse_hlo(text, verify=False).entry.root).dims
    text = text.replace("ROOT r = f32[5,6]", f"ROOT r = f32[{','.join(map(str, dims))}]")
    check(text, RNG.standard_normal((7, 9)).astype(np.float32), rtol=0, atol=0)


def test_while_and_conditional_run_as_native_control_flow():
    for case in ("fori_loop", "scan_ema", "cond", "cumsum"):
        text, args, outs, meta = load_case(case)
        exe = xm.compile(text, target="cpu", optimize=False)
        got = exe(*args)
        got = got if isinstance(got, tuple) else (got,)
        for g, e, om in zip(got, outs, meta["outputs"]):
            assert_matches(g, e, om)


def test_out_argument_and_fresh_outputs():
    text = unary("negate")
    exe = xm.compile(text, target="cpu")
    out = np.empty(20, np.float32)
    assert exe(SPECIAL_F32, out=out) is out
    np.testing.assert_array_equal(out, -SPECIAL_F32)
    a, b = exe(SPECIAL_F32), exe(SPECIAL_F32)
    assert a is not b and not np.shares_memory(a, b)
    with pytest.raises(TypeError, match="argument 0"):
        exe(SPECIAL_F32.astype(np.float64))
    with pytest.raises(ValueError, match="out: expected shape"):
        exe(SPECIAL_F32, out=np.empty(3, np.float32))
    strided = np.repeat(SPECIAL_F32, 2)[::2]
    np.testing.assert_array_equal(exe(strided), -SPECIAL_F32)


def test_two_threads_share_one_executable():
    text, args, outs, meta = load_case("layernorm")
    exe = xm.compile(text, target="cpu")
    errors = []

    def work():
        try:
            for _ in range(200):
                got = exe(*args)
                got = got if isinstance(got, tuple) else (got,)
                for g, e, om in zip(got, outs, meta["outputs"]):
                    assert_matches(g, e, om)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_artifacts_are_there_per_kernel():
    exe = xm.compile(load_case("softmax")[0], target="cpu")
    art = exe.report.artifacts
    assert set(art) == {"llvm_ir", "llvm_ir_opt", "asm"}
    assert "define" in art["llvm_ir"] and "define" in art["llvm_ir_opt"]
    assert "ret" in art["asm"]
    assert art.kernels and all(n.startswith("k.") for n in art.kernels)
    (fn, instr), *_ = art.kernels.items()
    one = art.kernel(instr)
    assert fn in one["llvm_ir"] and one["asm"].strip() and len(one["llvm_ir"]) < len(art["llvm_ir"])


def test_big_outputs_are_recycled_only_when_nobody_holds_them():
    n = 1 << 19  # 2 MiB of f32: pooled
    text = f"HloModule p\n\nENTRY e {{\n  x = f32[{n}] parameter(0)\n  ROOT r = f32[{n}] negate(x)\n}}\n"
    exe = xm.compile(text, target="cpu", cache=False)
    x = np.arange(n, dtype=np.float32)
    a = exe(x)
    b = exe(x)
    assert not np.shares_memory(a, b)
    view = a[::2]
    keep = {"b": b}
    del a, b
    c = exe(x)  # a is still seen through the view, b through the dict: neither may be reused
    assert not np.shares_memory(c, view) and not np.shares_memory(c, keep["b"])
    np.testing.assert_array_equal(view, -x[::2])
    np.testing.assert_array_equal(keep["b"], -x)
    addr = c.__array_interface__["data"][0]
    del c
    d = exe(x)  # now free: its memory comes back, already paged in
    assert d.__array_interface__["data"][0] == addr
    np.testing.assert_array_equal(d, -x)
    exe.release_memory()


@pytest.mark.parametrize("op", ["power", "atan2"])
def test_two_argument_math_with_a_constant_operand(op):
    # A constant argument must not let LLVM rewrite the math function's signature (that once
    # broke its vector-variant mapping and aborted the process).
    text = f"""HloModule m

ENTRY main {{
  x = f32[24] parameter(0)
  c = f32[] constant(3)
  b = f32[24] broadcast(c), dimensions={{}}
  ROOT a = f32[24] {op}(x, b)
}}
"""
    check(text, np.linspace(0.5, 4, 24, dtype=np.float32), rtol=5e-6)


def test_generated_fast_call_path_and_its_fallback():
    text, args, outs, meta = load_case("tuple_output")
    exe = xm.compile(text, target="cpu")
    assert exe._fast is not None  # small outputs: the call takes the generated path
    got = exe(*args)
    assert isinstance(got, tuple) and len(got) == len(outs)
    for g, e, om in zip(got, outs, meta["outputs"]):
        assert_matches(g, e, om)
    # Anything unexpected goes the general way, which converts or explains.
    strided = [np.repeat(a, 2, axis=-1)[..., ::2] if a.ndim else a for a in args]
    for g, e, om in zip(exe(*strided), outs, meta["outputs"]):
        assert_matches(g, e, om)
    with pytest.raises(TypeError, match="argument 0"):
        exe(*[a.astype(np.float64) for a in args])


@pytest.mark.parametrize("case", CASE_NAMES)
def test_xla_optimized_corpus_on_cpu(case):
    # XLA's own optimized dumps: layout-changing bitcasts, kCustom fusions around dots, copies.
    text, args, outs, meta = load_case(case, opt=True)
    for exe in (xm.compile(text, target="cpu"), xm.compile(text, target="cpu", optimize=False)):
        got = exe(*[a.copy() for a in args])
        got = got if isinstance(got, tuple) else (got,)
        for g, e, om in zip(got, outs, meta["outputs"]):
            assert_matches(g, e, om, label="cpu opt.hlo ")


def test_identical_dots_share_one_kernel_function():
    text = """HloModule twin

ENTRY e {
  x = f32[1,64] parameter(0)
  h = f32[1,64] parameter(1)
  w = f32[64,128] parameter(2)
  v = f32[64,128] parameter(3)
  a = f32[1,128] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  b = f32[1,128] dot(h, v), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  ROOT s = f32[1,128] add(a, b)
}
"""
    exe = xm.compile(text, target="cpu", cache=False)
    assert sum(1 for instr in exe.report.artifacts.kernels.values() if instr in ("a", "b")) == 1
    rng = np.random.default_rng(3)
    args = [rng.standard_normal(s).astype(np.float32) for s in ((1, 64), (1, 64), (64, 128), (64, 128))]
    np.testing.assert_allclose(exe(*args), args[0] @ args[2] + args[1] @ args[3], rtol=1e-5, atol=1e-5)


def test_opt_barrier_passes_its_operand_through():
    # jax.checkpoint emits opt-barrier around the values it rematerializes, also inside loops
    text = """HloModule barrier

body {
  c = (s32[], f32[4]) parameter(0)
  i = s32[] get-tuple-element(c), index=0
  v = f32[4] get-tuple-element(c), index=1
  b = (s32[], f32[4]) opt-barrier(c)
  w = f32[4] get-tuple-element(b), index=1
  one = s32[] constant(1)
  j = s32[] add(i, one)
  s = f32[4] sine(w)
  ROOT r = (s32[], f32[4]) tuple(j, s)
}

cond {
  c = (s32[], f32[4]) parameter(0)
  i = s32[] get-tuple-element(c), index=0
  n = s32[] constant(3)
  ROOT lt = pred[] compare(i, n), direction=LT
}

ENTRY e {
  p = f32[4] parameter(0)
  t = (f32[4], f32[4]) tuple(p, p)
  b = (f32[4], f32[4]) opt-barrier(t)
  x = f32[4] get-tuple-element(b), index=0
  zero = s32[] constant(0)
  init = (s32[], f32[4]) tuple(zero, x)
  loop = (s32[], f32[4]) while(init), condition=cond, body=body
  ROOT y = f32[4] get-tuple-element(loop), index=1
}
"""
    x = np.linspace(-2, 2, 4).astype(np.float32)
    check(text, x)
    np.testing.assert_allclose(xm.compile(text, target="cpu")(x), np.sin(np.sin(np.sin(x))), rtol=1e-6)
