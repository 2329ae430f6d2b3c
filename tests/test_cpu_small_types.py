"""The f8/f4 float formats and the s4/u4/s2/u2 integers on the cpu target.

Small floats against ml_dtypes and the interpreter, bit for bit: every byte pattern to f32, a
dense sweep of f32/f64 values (halfway cases, subnormals, overflow, NaN/inf) to each format, all
pairs of patterns through arithmetic and compares, converts between every pair of types.
Sub-byte integers against XLA:CPU itself (small_types/xla_reference.npz, written by
small_types/make_reference.py with jax) and the interpreter: every pair of values through every
binary op, every value through unary ops and converts. (The interpreter's own checks against
XLA:CPU are in test_evaluator_small_types.)"""
from __future__ import annotations

import itertools
import pathlib

import ml_dtypes
import numpy as np
import pytest

import xla_magic as xm
from xla_magic.hlo.dtypes import DTYPES

SMALL_FLOATS = ["f8e4m3fn", "f8e5m2", "f8e4m3fnuz", "f8e5m2fnuz", "f8e4m3b11fnuz", "f8e4m3", "f8e3m4",
                "f8e8m0fnu", "f4e2m1fn"]
SUB_BYTE = ["s4", "u4", "s2", "u2"]
REFERENCE = np.load(pathlib.Path(__file__).parent / "small_types" / "xla_reference.npz")
_COMPILED: dict = {}  # one compile per module text


def run(text: str, *args: np.ndarray):
    exe = _COMPILED.get(text)
    if exe is None:
        exe = _COMPILED[text] = xm.compile(xm.parse_hlo(text), target="cpu")
    return exe(*args)


def interpret(text: str, *args: np.ndarray):
    return xm.interpret(xm.parse_hlo(text), *args)


def module(params: list[str], root: str) -> str:
    ps = "\n".join(f"  p{i} = {s} parameter({i})" for i, s in enumerate(params))
    return f"HloModule m\n\nENTRY e {{\n{ps}\n  ROOT r = {root}\n}}\n"


def tuple_module(params: list[str], roots: list[tuple[str, str]]) -> str:
    """One module computing several (shape, expression) results of the parameters."""
    ps = "\n".join(f"  p{i} = {s} parameter({i})" for i, s in enumerate(params))
    body = "\n".join(f"  c{i} = {s} {e}" for i, (s, e) in enumerate(roots))
    shapes = ", ".join(s for s, _ in roots)
    names = ", ".join(f"c{i}" for i in range(len(roots)))
    return f"HloModule m\n\nENTRY e {{\n{ps}\n{body}\n  ROOT r = ({shapes}) tuple({names})\n}}\n"


def npt(name: str) -> np.dtype:
    return DTYPES[name].np_dtype


def patterns(name: str) -> np.ndarray:
    """Every bit pattern of a small float (f4e2m1fn: the 16 of its low nibble)."""
    return np.arange(16 if name == "f4e2m1fn" else 256, dtype=np.uint8).view(npt(name))


def same_bits(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape
    g, w = np.ascontiguousarray(got), np.ascontiguousarray(want)
    u = f"u{g.dtype.itemsize}"
    bad = np.nonzero(g.view(u) != w.view(u))
    assert not bad[0].size, f"{bad[0].size} differ, first at {bad[0][:5]}: {g[bad][:5]} != {w[bad][:5]}"


def same_values(got: np.ndarray, want: np.ndarray) -> None:
    """Bit for bit, except that any NaN matches any NaN (the sign of an op's NaN result is not
    specified: x86 and LLVM's maximum pick different ones)."""
    g, w = got.astype(np.float32), want.astype(np.float32)
    nan = np.isnan(w)
    np.testing.assert_array_equal(np.isnan(g), nan)
    same_bits(got[~nan], want[~nan])


def f32_sweep() -> np.ndarray:
    """Each format's grid and its halfway points at every exponent, their neighbours, f32
    subnormals, overflow, infinities and NaNs of both signs."""
    exps = np.arange(-150, 129, dtype=np.float64)
    mant = 1.0 + np.arange(64, dtype=np.float64) / 32.0  # 1 .. 3 in 1/32 steps: every halfway of <= 4 bits
    grid = (mant[None, :] * 2.0 ** exps[:, None]).ravel()
    grid = grid[grid < 3.4e38]
    v = np.concatenate([grid, -grid, [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e-45, -1e-45]]).astype(np.float32)
    return np.concatenate([v, np.nextafter(v, np.float32(np.inf)), np.nextafter(v, np.float32(-np.inf))])


SWEEP = f32_sweep()


# --- the conversions, exhaustively -----------------------------------------------------------


@pytest.mark.parametrize("t", SMALL_FLOATS)
def test_every_pattern_to_f32_and_back(t):
    x = patterns(t)
    n = x.size
    got = run(module([f"{t}[{n}]"], f"f32[{n}] convert(p0)"), x)
    same_bits(got, x.astype(np.float32))
    # and back: each value to its pattern (the NaNs to the format's canonical one, as ml_dtypes)
    same_bits(run(module([f"f32[{n}]"], f"{t}[{n}] convert(p0)"), got), got.astype(npt(t)))


@pytest.mark.parametrize("src", ["f32", "f64"])
@pytest.mark.parametrize("t", SMALL_FLOATS)
def test_dense_sweep_rounds_like_ml_dtypes(t, src):
    x = SWEEP.astype(npt(src))
    n = x.size
    same_bits(run(module([f"{src}[{n}]"], f"{t}[{n}] convert(p0)"), x), x.astype(npt(t)))


# The types every small float converts to and from (each pair also through the interpreter).
OTHERS = ["f16", "bf16", "f32", "f64", "s8", "s32", "u8", "u64", "pred", *SMALL_FLOATS]


@pytest.mark.parametrize("t", SMALL_FLOATS)
def test_convert_to_every_type(t):
    x = patterns(t)
    n = x.size
    text = tuple_module([f"{t}[{n}]"], [(f"{d}[{n}]", "convert(p0)") for d in OTHERS if d != t])
    for g, w in zip(run(text, x), interpret(text, x)):
        same_bits(g, w)


@pytest.mark.parametrize("t", SMALL_FLOATS)
def test_convert_from_every_type(t):
    vals = np.concatenate([SWEEP[::37], np.arange(-300, 300)]).astype(np.float64)
    srcs = [d for d in OTHERS if d != t]
    with np.errstate(over="ignore", invalid="ignore"):  # (f64 -> f16/s8 ... of the huge values)
        xs = [vals.astype(npt(src)) for src in srcs]
    n = vals.size
    text = tuple_module([f"{src}[{n}]" for src in srcs], [(f"{t}[{n}]", f"convert(p{k})") for k in range(len(srcs))])
    for g, w in zip(run(text, *xs), interpret(text, *xs)):
        same_bits(g, w)


@pytest.mark.parametrize("t", SMALL_FLOATS)
def test_bitcast_convert_with_bytes(t):
    x = patterns(t)
    n = x.size
    it = "s4" if t == "f4e2m1fn" else "u8"
    got = run(module([f"{t}[{n}]"], f"{it}[{n}] bitcast-convert(p0)"), x)
    f = x.astype(np.float32)
    # Values travel through f32, so a NaN comes out as the format's canonical NaN.
    want = np.where(np.isnan(f), f.astype(npt(t)).view(np.uint8), x.view(np.uint8)).astype(np.uint8)
    same_bits(got.view(np.uint8), want)
    if t != "f4e2m1fn":
        back = run(module([f"u8[{n}]"], f"{t}[{n}] bitcast-convert(p0)"), x.view(np.uint8))
        same_bits(back, want.view(npt(t)))


# --- arithmetic and compares, all pairs ------------------------------------------------------

BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "remainder", "power"]
UNARY = ["negate", "abs", "sign", "floor", "ceil", "round-nearest-even", "round-nearest-afz", "sqrt",
         "rsqrt", "is-finite"]
UNARY_MATH = ["exponential", "log", "tanh", "logistic"]  # libm-grade in f32, compared within an ulp


def pairs(t: str) -> tuple[np.ndarray, np.ndarray]:
    x = patterns(t).view(np.uint8)
    a, b = (np.array(p, np.uint8) for p in zip(*itertools.product(x, x)))
    return a.view(npt(t)), b.view(npt(t))


@pytest.mark.parametrize("t", SMALL_FLOATS)
def test_binary_ops_on_all_pairs(t):
    a, b = pairs(t)
    n = a.size
    roots = [(f"{t}[{n}]", f"{op}(p0, p1)") for op in BINARY]
    roots += [(f"pred[{n}]", f"compare(p0, p1), direction={d}") for d in ("EQ", "NE", "LT", "LE", "GT", "GE")]
    roots += [(f"{t}[{n}]", f"select(c{len(BINARY) + 2}, p0, p1)")]
    text = tuple_module([f"{t}[{n}]", f"{t}[{n}]"], roots)
    for (_, expr), g, w in zip(roots, run(text, a, b), interpret(text, a, b)):
        if expr.startswith("power"):  # pow in f32 is libm-grade: within a step of the format
            gf, wf = g.astype(np.float32), w.astype(np.float32)
            ok = ~np.isnan(gf) & ~np.isnan(wf)
            assert ok.sum() > 0.3 * ok.size  # (negative bases give NaN)
            np.testing.assert_allclose(gf[ok], wf[ok], rtol=2.0 ** -ml_dtypes.finfo(npt(t)).nmant)
        elif g.dtype == bool:
            np.testing.assert_array_equal(g, w, err_msg=expr)
        else:
            same_values(g, w)


@pytest.mark.parametrize("t", SMALL_FLOATS)
def test_unary_ops_on_every_pattern(t):
    x = patterns(t)
    n = x.size
    roots = [(f"{'pred' if op == 'is-finite' else t}[{n}]", f"{op}(p0)") for op in UNARY + UNARY_MATH]
    roots.append((f"{t}[{n}]", "clamp(p0, p0, p0)"))
    text = tuple_module([f"{t}[{n}]"], roots)
    for (_, expr), g, w in zip(roots, run(text, x), interpret(text, x)):
        op = expr.split("(")[0]
        if op in UNARY_MATH:
            gf, wf = g.astype(np.float32), w.astype(np.float32)
            np.testing.assert_array_equal(np.isnan(gf), np.isnan(wf))
            ok = ~np.isnan(wf)
            np.testing.assert_allclose(gf[ok], wf[ok], rtol=2.0 ** -ml_dtypes.finfo(npt(t)).nmant)
        elif op == "sign" and t == "f8e8m0fnu":
            # This backend reads 2^-127 (an f32 denormal) as 0 in sign; XLA and the interpreter do not.
            same_bits(g[1:], w[1:])
        else:
            same_bits(g, w)


# --- reductions, dot, constants ----------------------------------------------------------------


@pytest.mark.parametrize("t", SMALL_FLOATS)
def test_reduce_rounds_every_step_and_dot_accumulates_in_f32(t):
    rng = np.random.default_rng(3)
    vals = [0.5, 1.0, 2.0, 0.25, 4.0] + ([] if t == "f8e8m0fnu" else [-1.0, -2.0, 1.5, -0.5])
    x = rng.choice(vals, (16, 40)).astype(npt(t))
    y = rng.choice(vals, (40, 8)).astype(npt(t))
    # f8e8m0fnu has no zero: its smallest value, 2^-127, is as good an init
    zero = "5.9e-39" if t == "f8e8m0fnu" else "0"
    text = f"""HloModule m
add {{ a = {t}[] parameter(0) b = {t}[] parameter(1) ROOT c = {t}[] add(a, b) }}
mx {{ a = {t}[] parameter(0) b = {t}[] parameter(1) ROOT c = {t}[] maximum(a, b) }}
mul {{ a = {t}[] parameter(0) b = {t}[] parameter(1) ROOT c = {t}[] multiply(a, b) }}
ENTRY e {{
  x = {t}[16,40] parameter(0)
  y = {t}[40,8] parameter(1)
  d = {t}[16,8] dot(x, y), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}
  z = {t}[] constant({zero})
  r = {t}[16] reduce(x, z), dimensions={{1}}, to_apply=add
  s = {t}[40] reduce(x, z), dimensions={{0}}, to_apply=mx
  h = {t}[16] multiply(r, r)
  o = {t}[] constant(1)
  p = {t}[40] reduce(x, o), dimensions={{0}}, to_apply=mul
  ROOT t = ({t}[16,8], {t}[16], {t}[40], {t}[16], {t}[40]) tuple(d, r, s, h, p)
}}"""
    got, want = run(text, x, y), interpret(text, x, y)
    # The dot accumulates in f32; sums and products round after every step, element by element
    # from the init, as XLA:CPU does (see test_evaluator_small_types): all as the interpreter.
    for g, w in zip(got, want):
        same_bits(g, w)


def test_constants_parameters_and_results_of_every_small_float():
    for t in SMALL_FLOATS:
        text = module([f"{t}[3]"], f"({t}[3], {t}[3]) tuple(p0, k)").replace(
            "  ROOT", f"  k = {t}[3] constant({{1, 0.5, 4}})\n  ROOT")
        x = np.array([2.0, 0.25, 1.0]).astype(npt(t))
        got = run(text, x)
        same_bits(got[0], x)
        same_bits(got[1], np.array([1, 0.5, 4]).astype(npt(t)))


# --- sub-byte integers against XLA:CPU ---------------------------------------------------------


def int_values(t: str) -> np.ndarray:
    info = ml_dtypes.iinfo(npt(t))
    return np.arange(int(info.min), int(info.max) + 1)


def xla(key: str) -> np.ndarray:
    return REFERENCE[key]


@pytest.mark.parametrize("t", SUB_BYTE)
def test_sub_byte_binary_ops_match_xla_on_all_pairs(t):
    vals = int_values(t)
    a, b = (np.array(p) for p in zip(*itertools.product(vals, vals)))
    n = a.size
    keys = [k for k in REFERENCE.files if k.startswith(f"{t}/") and REFERENCE[k].size == n]
    roots = [(f"pred[{n}]" if "compare" in k else f"{t}[{n}]",
              f"compare(p0, p1), direction={k.split('-')[-1]}" if "compare" in k else f"{k.split('/')[1]}(p0, p1)")
             for k in keys]
    text = tuple_module([f"{t}[{n}]", f"{t}[{n}]"], roots)
    args = a.astype(npt(t)), b.astype(npt(t))
    for k, g, w in zip(keys, run(text, *args), interpret(text, *args)):
        np.testing.assert_array_equal(g.astype(np.int64), xla(k), err_msg=k)
        same_bits(g, w)
        if g.dtype == npt(t):  # the byte as ml_dtypes writes it: the low bits, the rest zero
            same_bits(g.view(np.uint8), xla(k).astype(npt(t)).view(np.uint8))


@pytest.mark.parametrize("t", SUB_BYTE)
def test_sub_byte_unary_ops_and_converts_match_xla(t):
    vals = int_values(t)
    m = vals.size
    keys = [k for k in REFERENCE.files if k.startswith(f"{t}/") and REFERENCE[k].size == m]
    for k in keys:
        op = k.split("/")[1]
        if op.startswith("convert-"):
            dst = op[len("convert-"):]
            if dst == "f4e2m1fn":  # XLA:CPU converts f4e2m1fn's largest value, 6, as infinity
                continue
            text = module([f"{t}[{m}]"], f"{dst}[{m}] convert(p0)")
            got = run(text, vals.astype(npt(t)))
            want = xla(k).astype(npt(dst)) if dst != "pred" else xla(k).astype(bool)
            if dst in SMALL_FLOATS or dst.startswith(("f", "b")):
                same_bits(got, want)
            else:
                np.testing.assert_array_equal(got, want, err_msg=k)
        else:
            got = run(module([f"{t}[{m}]"], f"{t}[{m}] {op}(p0)"), vals.astype(npt(t)))
            np.testing.assert_array_equal(got.astype(np.int64), xla(k), err_msg=k)


@pytest.mark.parametrize("t", SUB_BYTE)
def test_float_and_int_to_sub_byte_saturate_or_wrap_like_xla(t):
    sweep = xla("sweep")
    n = sweep.size
    got = run(module([f"f32[{n}]"], f"{t}[{n}] convert(p0)"), sweep)
    np.testing.assert_array_equal(got.astype(np.int64), xla(f"f32-to-{t}"))
    ints = xla("ints")
    got = run(module([f"s64[{ints.size}]"], f"{t}[{ints.size}] convert(p0)"), ints)
    np.testing.assert_array_equal(got.astype(np.int64), xla(f"s64-to-{t}"))
    for f in SMALL_FLOATS:
        if f == "f4e2m1fn":
            continue
        x = patterns(f)
        got = run(module([f"{f}[{x.size}]"], f"{t}[{x.size}] convert(p0)"), x)
        if t == "s4":
            np.testing.assert_array_equal(got.astype(np.int64), xla(f"{f}/convert-s4").astype(np.int64))


@pytest.mark.parametrize("t", SUB_BYTE)
def test_sub_byte_reduce_and_dot_wrap(t):
    rng = np.random.default_rng(5)
    vals = int_values(t)
    x = rng.choice(vals, (8, 24))
    y = rng.choice(vals, (24, 4))
    text = f"""HloModule m
add {{ a = {t}[] parameter(0) b = {t}[] parameter(1) ROOT c = {t}[] add(a, b) }}
ENTRY e {{
  x = {t}[8,24] parameter(0)
  y = {t}[24,4] parameter(1)
  d = {t}[8,4] dot(x, y), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}
  w = s32[8,4] dot(x, y), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}
  z = {t}[] constant(0)
  r = {t}[8] reduce(x, z), dimensions={{1}}, to_apply=add
  ROOT t = ({t}[8,4], s32[8,4], {t}[8]) tuple(d, w, r)
}}"""
    bits = DTYPES[t].bits

    def wrap(v: np.ndarray) -> np.ndarray:
        v = v & ((1 << bits) - 1)
        return v - (1 << bits) * (v >= (1 << (bits - 1))) if t[0] == "s" else v

    d, w, r = got = run(text, x.astype(npt(t)), y.astype(npt(t)))
    for g, want in zip(got, interpret(text, x.astype(npt(t)), y.astype(npt(t)))):
        same_bits(g, want)
    np.testing.assert_array_equal(d.astype(np.int64), wrap(x @ y))
    same_bits(d.view(np.uint8), wrap(x @ y).astype(npt(t)).view(np.uint8))
    np.testing.assert_array_equal(w, x @ y)
    np.testing.assert_array_equal(r.astype(np.int64), wrap(x.sum(1)))


# --- data movement ------------------------------------------------------------------------------

MOVES = """HloModule m
mx {{ a = {t}[] parameter(0) b = {t}[] parameter(1) ROOT c = {t}[] maximum(a, b) }}
lt {{ a = {t}[] parameter(0) b = {t}[] parameter(1) ROOT c = pred[] compare(a, b), direction=LT }}
ENTRY e {{
  x = {t}[6,8] parameter(0)
  tr = {t}[8,6] transpose(x), dimensions={{1,0}}
  io = {t}[5] iota(), iota_dimension=0
  sl = {t}[3,4] slice(x), slice={{[1:4], [0:8:2]}}
  c0 = {t}[] constant(1)
  pd = {t}[8,10] pad(x, c0), padding=1_1x1_1
  rw = {t}[5,7] reduce-window(x, c0), window={{size=2x2}}, to_apply=mx
  so = {t}[6,8] sort(x), dimensions={{1}}, to_apply=lt
  i = s32[] constant(2)
  ds = {t}[2,3] dynamic-slice(x, i, i), dynamic_slice_sizes={{2,3}}
  ROOT t = ({t}[8,6], {t}[5], {t}[3,4], {t}[8,10], {t}[5,7], {t}[6,8], {t}[2,3]) tuple(tr, io, sl, pd, rw, so, ds)
}}"""


@pytest.mark.parametrize("t", ["f8e4m3fn", "f8e5m2fnuz", "f8e8m0fnu", "f4e2m1fn", "s4", "u2"])
def test_data_movement_sort_and_windows(t):
    rng = np.random.default_rng(1)
    base = {"f8e8m0fnu": [1, 2, 4, 0.5, 0.25], "s4": [1, 0, -1, 2, 3, -2, -8, 7], "u2": [0, 1, 2, 3]}.get(
        t, [1, 2, 3, 0, -1, -2, 4, 0.5])
    xs = rng.choice(base, (6, 8))
    got = run(MOVES.format(t=t), xs.astype(npt(t)))
    for g, w in zip(got, interpret(MOVES.format(t=t), xs.astype(npt(t)))):
        same_bits(g, w)
    if t[0] == "f":
        return
    bits = DTYPES[t].bits
    padded = np.pad(xs, 1, constant_values=1)
    windows = np.maximum(np.lib.stride_tricks.sliding_window_view(xs, (2, 2)).max(axis=(2, 3)), 1)  # init 1
    want = [xs.T, np.arange(5) % (1 << bits) - (1 << bits) * (t[0] == "s") * (np.arange(5) >= (1 << (bits - 1))),
            xs[1:4, 0:8:2], padded, windows, np.sort(xs, axis=1), xs[2:4, 2:5]]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.astype(np.int64), w)
        same_bits(g.view(np.uint8), np.asarray(w).astype(npt(t)).view(np.uint8))
