"""c64 and c128 on the cpu target against the reference interpreter: every elementwise op on edge
values (zeros, infinities, NaN parts, huge and tiny magnitudes, branch cuts) with tolerances in
ulps of the result's magnitude, reductions, windows, scatter/gather, sort, dot and convolution,
whole programs, out= buffers, code for other CPU models, and ahead-of-time executables."""
from __future__ import annotations

import subprocess
import warnings

import numpy as np
import pytest

import xla_magic as xm
from xla_magic import aot
from xla_magic.backends.cpu.jit import CPU_ENV, target_for

RNG = np.random.default_rng(7)
EPS = {"f32": float(np.finfo(np.float32).eps), "f64": float(np.finfo(np.float64).eps)}
TYPES = [("c64", np.complex64, "f32"), ("c128", np.complex128, "f64")]
TYPE_IDS = ["c64", "c128"]


def edge_values(cd: type) -> np.ndarray:
    """Every pair of parts from a list of edge values: 0, -0, ±1, ±inf, NaN, huge, subnormal,
    branch-cut neighbours, values past where exp/cosh overflow."""
    ft = np.float32 if cd == np.complex64 else np.float64
    f = np.finfo(ft)
    parts = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, np.pi / 2, np.inf, -np.inf, np.nan, float(f.max) / 3,
                      -float(f.max) / 2, float(f.tiny) / 8, 1e-20, 20.0, -90.0, 800.0], ft)
    re, im = np.meshgrid(parts, parts)
    z = np.empty(re.size, cd)
    z.real, z.imag = re.ravel(), im.ravel()
    return z


def random_values(cd: type, n: int = 2000) -> np.ndarray:
    """Magnitudes log-uniform over 1e-4 .. 30, every angle."""
    mag = 10 ** RNG.uniform(-4, 1.5, n)
    return (mag * np.exp(1j * RNG.uniform(-np.pi, np.pi, n))).astype(cd)


def assert_close(got: np.ndarray, want: np.ndarray, ulps: float, zero_signs: bool = True) -> None:
    """Same dtype and shape; per part, NaN where the reference has NaN and the same infinity;
    finite parts within `ulps` ulps of the reference's magnitude |w| (of its part when |w| is
    infinite), so a tiny part next to a big one is held to the big one's precision; and a zero
    part where the reference has one has its sign (unless `zero_signs` is false)."""
    assert got.dtype == want.dtype and got.shape == want.shape
    g, w = got.ravel(), want.ravel()
    if w.dtype.kind != "c":
        g, w = g.astype(np.complex128), w.astype(np.complex128)
    eps = float(np.finfo(np.float32 if want.dtype in (np.complex64, np.float32) else np.float64).eps)
    tiny = float(np.finfo(np.float32 if want.dtype in (np.complex64, np.float32) else np.float64).tiny)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mag = np.abs(w.astype(np.complex128))
    for gp, wp in ((g.real, w.real), (g.imag, w.imag)):
        gp, wp = gp.astype(np.float64), wp.astype(np.float64)
        nan = np.isnan(wp)
        bad = np.flatnonzero(nan != np.isnan(gp))
        assert bad.size == 0, f"NaN parts differ: got {got.ravel()[bad[:5]]}, want {want.ravel()[bad[:5]]}"
        inf = np.isinf(wp) | np.isinf(gp)
        bad = np.flatnonzero(inf & (gp != wp))
        assert bad.size == 0, f"infinite parts differ: got {got.ravel()[bad[:5]]}, want {want.ravel()[bad[:5]]}"
        fin = ~nan & ~inf
        scale = np.where(np.isfinite(mag), mag, np.abs(wp))[fin]
        err = np.abs(gp[fin] - wp[fin])
        bad = np.flatnonzero(err > ulps * eps * np.maximum(scale, tiny))
        idx = np.flatnonzero(fin)[bad[:5]]
        assert bad.size == 0, f"{bad.size} parts off by > {ulps} ulps: got {got.ravel()[idx]}, want {want.ravel()[idx]}"
        if zero_signs:
            bad = np.flatnonzero((gp == 0) & (wp == 0) & (np.signbit(gp) != np.signbit(wp)))
            assert bad.size == 0, f"zero signs differ: got {got.ravel()[bad[:5]]}, want {want.ravel()[bad[:5]]}"


def both(text: str, *args: np.ndarray) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    got = xm.compile(text, target="cpu")(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = xm.interpret(text, *args)
    as_t = lambda v: v if isinstance(v, tuple) else (v,)  # noqa: E731
    return as_t(got), as_t(want)


def unary(op: str, dt: str, out: str, n: int) -> str:
    return f"HloModule u\n\nENTRY e {{\n  x = {dt}[{n}] parameter(0)\n  ROOT r = {out}[{n}] {op}(x)\n}}\n"


def binary(op: str, dt: str, n: int) -> str:
    return (f"HloModule b\n\nENTRY e {{\n  x = {dt}[{n}] parameter(0)\n  y = {dt}[{n}] parameter(1)\n"
            f"  ROOT r = {dt}[{n}] {op}(x, y)\n}}\n")


# Measured worst cases on random values are 1-4 ulps (logistic ~9: 1 + e^-z cancels near its poles).
UNARY_ULPS = {"negate": 0, "sqrt": 4, "rsqrt": 4, "exponential": 4, "exponential-minus-one": 6, "log": 4,
              "log-plus-one": 6, "abs": 3, "sign": 4, "sine": 6, "cosine": 6, "tan": 8, "tanh": 8, "sinh": 6,
              "logistic": 32}


@pytest.mark.parametrize("dt,cd,ft", TYPES, ids=TYPE_IDS)
@pytest.mark.parametrize("op", list(UNARY_ULPS))
def test_unary_ops_on_edge_and_random_values(op, dt, cd, ft):
    z = np.concatenate([edge_values(cd), random_values(cd)])
    out = ft if op == "abs" else dt
    (got,), (want,) = both(unary(op, dt, out, z.size), z)
    assert_close(got, want, max(UNARY_ULPS[op], 0.5))


@pytest.mark.parametrize("dt,cd,ft", TYPES, ids=TYPE_IDS)
@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "divide"])
def test_arithmetic_on_every_pair_of_edge_values(op, dt, cd, ft):
    """Smith's division (no early overflow: huge / huge is finite), x/0 by parts, and a multiply
    whose a*c - b*d stays finite where it fits (one fused rounding, as numpy's vector loop)."""
    z = edge_values(cd)
    a, b = np.repeat(z, z.size), np.tile(z, z.size)
    (got,), (want,) = both(binary(op, dt, a.size), a, b)
    if op == "multiply":
        # numpy fuses only where its vector loop has an FMA (AVX2, AVX-512, NEON): where a product
        # of parts overflows alone, whether a*c - b*d does depends on the host running numpy.
        with np.errstate(all="ignore"):
            parts = [x * y for x in (a.real, a.imag) for y in (b.real, b.imag)]
        keep = np.logical_and.reduce([np.isfinite(p) | ~np.isfinite(x) | ~np.isfinite(y) for p, (x, y) in
                                      zip(parts, [(u, v) for u in (a.real, a.imag) for v in (b.real, b.imag)])])
        got, want = got[keep], want[keep]
    assert_close(got, want, 4)


def test_multiply_rounds_once_per_part():
    """re = fma(ar, br, -(ai bi)): ar*br = 4.25e38 overflows f32 on its own, the part (3.12e38)
    does not; the exact value rounded once, on every machine."""
    a = np.array([-2.5 + 1j, 1 + 3j], np.complex64)
    b = np.array([-1.7014117e38 + 1.1342745e38j, 1 / 3 + 1e-8j], np.complex64)
    (got,), _ = both(binary("multiply", "c64", 2), a, b)
    ar, ai, br, bi = (np.float64(v) for v in (a.real[0], a.imag[0], b.real[0], b.imag[0]))
    assert got[0].real == np.float32(ar * br - np.float64(np.float32(ai * bi)))
    assert np.isneginf(got[0].imag)  # -2.84e38 - 1.70e38 is past f32's range
    w = a[1].astype(np.complex128) * b[1].astype(np.complex128)
    assert abs(got[1] - w) <= np.finfo(np.float32).eps * abs(w)


@pytest.mark.parametrize("dt,cd,ft", TYPES, ids=TYPE_IDS)
def test_power(dt, cd, ft):
    """Integer exponents by repeated squaring (a^2 of an infinite a is (inf, NaN), as numpy),
    0^w, a^0, and exp(w log a) with C99 multiplication for the rest."""
    specials = np.array([0, 1, 1j, -1, 2 + 0j, complex(np.inf, 0), complex(np.nan, 0), complex(0, np.inf),
                         complex(-np.inf, np.inf), 1e-3 + 2j], cd)
    exps = np.array([0, 1, 2, 3, -1, -2, 7, -13, 99, 0.5, -0.5, 1 + 1j, -1 + 1j, 0.5j, complex(np.inf, 0),
                     complex(np.nan, 0), complex(np.inf, np.inf), 2.5 - 0.5j], cd)
    a, w = np.repeat(specials, exps.size), np.tile(exps, specials.size)
    # Moderate random bases and exponents: |w log a| stays small, so the result is well conditioned.
    ra, rw = random_values(cd, 500), (RNG.uniform(-3, 3, 500) + 1j * RNG.uniform(-1, 1, 500)).astype(cd)
    a, w = np.concatenate([a, ra]), np.concatenate([w, rw])
    (got,), (want,) = both(binary("power", dt, a.size), a, w)
    assert_close(got, want, 64, zero_signs=False)  # zeros underflowed from huge angles: any sign


@pytest.mark.parametrize("dt,cd,ft", TYPES, ids=TYPE_IDS)
def test_parts_compare_select_and_converts(dt, cd, ft):
    text = f"""HloModule p

ENTRY e {{
  z = {dt}[8] parameter(0)
  w = {dt}[8] parameter(1)
  i = s32[8] parameter(2)
  h = f16[8] parameter(3)
  re = {ft}[8] real(z)
  im = {ft}[8] imag(z)
  back = {dt}[8] complex(im, re)
  eq = pred[8] compare(z, w), direction=EQ
  ne = pred[8] compare(z, w), direction=NE
  pick = {dt}[8] select(eq, back, w)
  fromi = {dt}[8] convert(i)
  fromh = {dt}[8] convert(h)
  narrow = c64[8] convert(z)
  wide = c128[8] convert(narrow)
  s = {dt}[8] add(fromi, fromh)
  zr = {ft}[8] real(re)
  zi = {ft}[8] imag(re)
  ROOT t = ({ft}[8], {ft}[8], {dt}[8], pred[8], pred[8], {dt}[8], {dt}[8], c64[8], c128[8], {ft}[8],
            {ft}[8]) tuple(re, im, back, eq, ne, pick, s, narrow, wide, zr, zi)
}}
"""
    z = np.array([1 + 2j, complex(np.nan, 0), 0, complex(0, -0.0), complex(np.inf, 1), 3 - 4j, 1e30 + 1e-30j,
                  complex(0, np.nan)], cd)
    w = np.array([1 + 2j, complex(np.nan, 0), -0.0, 1, complex(np.inf, 1), 3 + 4j, 1e30 + 1e-30j, 0], cd)
    i = np.array([0, 1, -1, 2**31 - 1, -(2**31), 7, 100, -3], np.int32)
    h = np.array([0.5, -0.0, np.inf, np.nan, 65504, 1e-7, -2, 3], np.float16)
    got, want = both(text, z, w, i, h)
    for g, e in zip(got, want):
        if e.dtype == np.bool_:
            np.testing.assert_array_equal(g, e)
        else:
            assert_close(g, e, 0.5)


@pytest.mark.parametrize("dt,cd,ft", TYPES, ids=TYPE_IDS)
def test_constants_iota_and_scalar_computations(dt, cd, ft):
    """Array and splat constants (one of them with infinite and NaN parts) and an iota."""
    text = f"""HloModule c

ENTRY e {{
  x = {dt}[4] parameter(0)
  c = {dt}[4] constant({{(1, 2), (3.5, -4), (0, -0.25), (-inf, nan)}})
  s = {dt}[] constant((2, -1))
  b = {dt}[4] broadcast(s), dimensions={{}}
  io = {dt}[4] iota(), iota_dimension=0
  m = {dt}[4] multiply(x, c)
  a = {dt}[4] add(m, b)
  a2 = {dt}[4] add(a, io)
  k = {dt}[] constant((0.5, -2))
  kb = {dt}[4] broadcast(k), dimensions={{}}
  m2 = {dt}[4] multiply(a2, kb)
  ROOT r = {dt}[4] sqrt(m2)
}}
"""
    (got,), (want,) = both(text, random_values(cd, 4))
    assert_close(got, want, 8)


def _reducers(dt: str) -> str:
    return f"""add {{
  a = {dt}[] parameter(0)
  b = {dt}[] parameter(1)
  ROOT s = {dt}[] add(a, b)
}}

mul {{
  a = {dt}[] parameter(0)
  b = {dt}[] parameter(1)
  ROOT s = {dt}[] multiply(a, b)
}}
"""


@pytest.mark.parametrize("dt,cd,ft", TYPES, ids=TYPE_IDS)
@pytest.mark.parametrize("rows,cols", [(64, 33), (3000, 40)])
def test_reductions_rows_columns_products_and_variadic(rows, cols, dt, cd, ft):
    text = f"""HloModule r

{_reducers(dt)}
pair {{
  a = {dt}[] parameter(0)
  b = f32[] parameter(1)
  c = {dt}[] parameter(2)
  d = f32[] parameter(3)
  s = {dt}[] add(a, c)
  m = f32[] maximum(b, d)
  ROOT t = ({dt}[], f32[]) tuple(s, m)
}}

ENTRY e {{
  x = {dt}[{rows},{cols}] parameter(0)
  y = f32[{rows},{cols}] parameter(1)
  z = {dt}[] constant((0, 0))
  o = {dt}[] constant((1, 0))
  n = f32[] constant(-inf)
  r0 = {dt}[{rows}] reduce(x, z), dimensions={{1}}, to_apply=add
  r1 = {dt}[{cols}] reduce(x, z), dimensions={{0}}, to_apply=add
  e = {dt}[{rows},{cols}] exponential(x)
  r2 = {dt}[{rows}] reduce(e, o), dimensions={{1}}, to_apply=mul
  v = ({dt}[{rows}], f32[{rows}]) reduce(x, y, z, n), dimensions={{1}}, to_apply=pair
  v0 = {dt}[{rows}] get-tuple-element(v), index=0
  v1 = f32[{rows}] get-tuple-element(v), index=1
  ROOT t = ({dt}[{rows}], {dt}[{cols}], {dt}[{rows}], {dt}[{rows}], f32[{rows}]) tuple(r0, r1, r2, v0, v1)
}}
"""
    x = (random_values(cd, rows * cols) * 0.05).reshape(rows, cols)
    y = RNG.standard_normal((rows, cols)).astype(np.float32)
    got, want = both(text, x, y)
    for g, w in zip(got, want):
        if w.dtype.kind == "c":
            # Summation order differs (vector lanes): a bound relative to the sum of magnitudes.
            tol = 16 * EPS[ft] * max(rows, cols) * (1 + np.abs(w).max())
            assert g.dtype == w.dtype and np.abs(g - w).max() <= tol
        else:
            np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("dt,cd,ft", TYPES, ids=TYPE_IDS)
def test_reduce_window_scatter_gather_and_sort(dt, cd, ft):
    text = f"""HloModule w

{_reducers(dt)}
less {{
  a = {dt}[] parameter(0)
  b = {dt}[] parameter(1)
  c = f32[] parameter(2)
  d = f32[] parameter(3)
  ROOT l = pred[] compare(c, d), direction=LT
}}

by_real {{
  a = {dt}[] parameter(0)
  b = {dt}[] parameter(1)
  ra = {ft}[] real(a)
  rb = {ft}[] real(b)
  ROOT l = pred[] compare(ra, rb), direction=LT
}}

ENTRY e {{
  x = {dt}[10,12] parameter(0)
  i = s32[5,1] parameter(1)
  u = {dt}[5,12] parameter(2)
  k = f32[12] parameter(3)
  z = {dt}[] constant((0, 0))
  rw = {dt}[9,6] reduce-window(x, z), window={{size=2x3 stride=1x2 pad=0_0x1_1}}, to_apply=add
  sc = {dt}[10,12] scatter(x, i, u), update_window_dims={{1}}, inserted_window_dims={{0}},
    scatter_dims_to_operand_dims={{0}}, index_vector_dim=1, to_apply=mul
  ga = {dt}[5,12] gather(x, i), offset_dims={{1}}, collapsed_slice_dims={{0}}, start_index_map={{0}},
    index_vector_dim=1, slice_sizes={{1,12}}
  r0 = {dt}[1,12] slice(x), slice={{[0:1], [0:12]}}
  first = {dt}[12] reshape(r0)
  sk = ({dt}[12], f32[12]) sort(first, k), dimensions={{0}}, to_apply=less
  s0 = {dt}[12] get-tuple-element(sk), index=0
  sr = {dt}[10,12] sort(x), dimensions={{1}}, to_apply=by_real
  ROOT t = ({dt}[9,6], {dt}[10,12], {dt}[5,12], {dt}[12], {dt}[10,12]) tuple(rw, sc, ga, s0, sr)
}}
"""
    x = random_values(cd, 120).reshape(10, 12)
    idx = np.array([[1], [3], [1], [9], [12]], np.int32)  # 12 is out of range: skipped / clamped
    got, want = both(text, x, idx, random_values(cd, 60).reshape(5, 12), RNG.permutation(12).astype(np.float32))
    for g, w in zip(got, want):
        assert_close(g, w, 8)


@pytest.mark.parametrize("dt,cd,ft", TYPES, ids=TYPE_IDS)
def test_dot_general_matmul_and_convolution(dt, cd, ft):
    text = f"""HloModule d

ENTRY e {{
  a = {dt}[5,7,9] parameter(0)
  b = {dt}[5,9,4] parameter(1)
  m = {dt}[64,48] parameter(2)
  n = {dt}[48,40] parameter(3)
  x = {dt}[2,8,8,6] parameter(4)
  k = {dt}[3,3,3,4] parameter(5)
  bd = {dt}[5,7,4] dot(a, b), lhs_batch_dims={{0}}, lhs_contracting_dims={{2}}, rhs_batch_dims={{0}},
    rhs_contracting_dims={{1}}
  mm = {dt}[64,40] dot(m, n), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}
  cv = {dt}[2,4,4,4] convolution(x, k), window={{size=3x3 stride=2x2 pad=1_1x1_1}}, dim_labels=b01f_01io->b01f,
    feature_group_count=2
  ROOT t = ({dt}[5,7,4], {dt}[64,40], {dt}[2,4,4,4]) tuple(bd, mm, cv)
}}
"""
    shapes = [(5, 7, 9), (5, 9, 4), (64, 48), (48, 40), (2, 8, 8, 6), (3, 3, 3, 4)]
    args = [random_values(cd, int(np.prod(s))).reshape(s) * 0.2 for s in shapes]
    got, want = both(text, *args)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        scale = 1 + np.abs(w).max()
        assert np.abs(g - w).max() <= 64 * EPS[ft] * scale


@pytest.mark.parametrize("dt,cd,ft", TYPES, ids=TYPE_IDS)
def test_program_polynomial_and_matmul_chain(dt, cd, ft):
    """Horner's rule for a complex polynomial with its roots' magnitudes (fused elementwise), and
    a chain of matmuls scaled back to unit size between products."""
    text = f"""HloModule poly

ENTRY e {{
  z = {dt}[256] parameter(0)
  c0 = {dt}[] constant((1, 0))
  c1 = {dt}[] constant((-2, 1))
  c2 = {dt}[] constant((0.5, -3))
  c3 = {dt}[] constant((0, 1))
  b0 = {dt}[256] broadcast(c0), dimensions={{}}
  b1 = {dt}[256] broadcast(c1), dimensions={{}}
  b2 = {dt}[256] broadcast(c2), dimensions={{}}
  b3 = {dt}[256] broadcast(c3), dimensions={{}}
  h3 = {dt}[256] multiply(b3, z)
  h2 = {dt}[256] add(h3, b2)
  m2 = {dt}[256] multiply(h2, z)
  h1 = {dt}[256] add(m2, b1)
  m1 = {dt}[256] multiply(h1, z)
  p = {dt}[256] add(m1, b0)
  mag = {ft}[256] abs(p)
  a = {dt}[16,16] parameter(1)
  s = {dt}[] constant((0.25, 0))
  sb = {dt}[16,16] broadcast(s), dimensions={{}}
  d1 = {dt}[16,16] dot(a, a), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}
  e1 = {dt}[16,16] multiply(d1, sb)
  d2 = {dt}[16,16] dot(e1, a), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}
  e2 = {dt}[16,16] multiply(d2, sb)
  d3 = {dt}[16,16] dot(e2, e1), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}
  ROOT t = ({dt}[256], {ft}[256], {dt}[16,16]) tuple(p, mag, d3)
}}
"""
    z = random_values(cd, 256) * 0.5
    a = random_values(cd, 256).reshape(16, 16) * 0.25
    got, want = both(text, z, a)
    assert_close(got[0], want[0], 16)
    assert_close(got[1], want[1], 16)
    assert np.abs(got[2] - want[2]).max() <= 256 * EPS[ft] * (1 + np.abs(want[2]).max())


def test_out_buffers_and_argument_checks():
    text = binary("multiply", "c64", 8)
    exe = xm.compile(text, target="cpu")
    x, y = random_values(np.complex64, 8), random_values(np.complex64, 8)
    out = np.empty(8, np.complex64)
    assert exe(x, y, out=out) is out
    assert_close(out, xm.interpret(text, x, y), 1)
    with pytest.raises(TypeError, match="c64"):
        exe(x.astype(np.complex128), y)
    with pytest.raises(TypeError, match="c64"):
        exe(x, y, out=np.empty(8, np.complex128))


@pytest.mark.parametrize("text,message", [
    ("compare(x, y), direction=LT", "not ordered"),
    ("remainder(x, y)", "remainder on c64"),
    ("atan2(x, y)", "atan2 on c64"),
    ("maximum(x, y)", "maximum on c64"),
    ("cbrt(x)", "cbrt on c64"),
])
def test_ops_undefined_on_complex_are_refused_clearly(text, message):
    out = "pred" if "compare" in text else "c64"
    module = (f"HloModule m\n\nENTRY e {{\n  x = c64[4] parameter(0)\n  y = c64[4] parameter(1)\n"
              f"  ROOT r = {out}[4] {text}\n}}\n")
    with pytest.raises(NotImplementedError, match=message):
        xm.compile(module, target="cpu", cache=False)


HOST_MODELS = ["x86-64-v2", "x86-64-v3"]


def test_same_bits_on_every_cpu_model(monkeypatch):
    """No contraction and an explicit fma: code for SSE-only and for AVX2+FMA machines (where
    this host can run them) gives the host's bits exactly."""
    text = """HloModule h

ENTRY e {
  x = c64[512] parameter(0)
  y = c128[512] parameter(1)
  a = c64[512] multiply(x, x)
  b = c64[512] divide(a, x)
  c = c64[512] exponential(b)
  d = c128[512] multiply(y, y)
  e = c128[512] tanh(d)
  f = c128[512] log(e)
  ROOT t = (c64[512], c128[512]) tuple(c, f)
}
"""
    x, y = random_values(np.complex64, 512), random_values(np.complex128, 512)
    ref = xm.compile(text, target="cpu", cache=False)(x, y)
    have = set(target_for("").features.split(","))
    ran = 0
    for spec in HOST_MODELS:
        if not host_x86() or not all(f in have for f in target_for(spec).features.split(",") if f):
            continue
        monkeypatch.setenv(CPU_ENV, spec)
        got = xm.compile(text, target="cpu", cache=False)(x, y)
        for g, r in zip(got, ref):
            np.testing.assert_array_equal(g.view(np.uint8), r.view(np.uint8))
        ran += 1
    if not ran:
        pytest.skip("this host runs none of the named x86-64 models")


def host_x86() -> bool:
    from xla_magic.backends.cpu.jit import host

    return host().triple.startswith("x86_64")


@pytest.mark.skipif(aot.find_c_compiler() is None, reason="no C compiler on this machine")
def test_aot_executable_with_complex_inputs_and_outputs(tmp_path):
    text = """HloModule cplx

ENTRY e {
  a = c64[4,6] parameter(0)
  b = c128[6,3] parameter(1)
  a2 = c128[4,6] convert(a)
  d = c128[4,3] dot(a2, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  s = c128[4,3] sqrt(d)
  r = f64[4,3] abs(s)
  n = c64[4,6] negate(a)
  ROOT t = (c128[4,3], f64[4,3], c64[4,6]) tuple(s, r, n)
}
"""
    a = random_values(np.complex64, 24).reshape(4, 6)
    b = random_values(np.complex128, 18).reshape(6, 3)
    res = xm.aot_compile(text, tmp_path / "m", name="cplx")
    header = res.header.read_text()
    assert "c64[4,6]" in header and "c128[4,3]" in header
    assert res.executable is not None
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    p = subprocess.run([str(res.executable), str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "-o",
                        str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    want = xm.interpret(text, a, b)
    for k, w in enumerate(want):
        g = np.load(tmp_path / "o" / f"out{k}.npy")
        assert g.dtype == w.dtype
        assert np.abs(g - w).max() <= 64 * np.finfo(np.float64).eps * (1 + np.abs(w).max())
