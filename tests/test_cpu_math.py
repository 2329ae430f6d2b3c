"""Accuracy and special values of the CPU math library (xla_magic/backends/cpu/mathlib.py).

Each function is JIT-compiled into a loop kernel `out[i] = f(x[i])` over a large array of edge
values and dense random samples; the error is measured in ulps of the result type against numpy
in float64 (for f32) or long double where the platform has one (for f64). The bounds asserted
here are the ones documented in mathlib's docstring. `python tests/test_cpu_math.py` prints the
measured table."""
from __future__ import annotations

import functools
import math
import re

import numpy as np
import pytest
from llvmlite import ir

from xla_magic.backends.cpu import mathlib
from xla_magic.backends.cpu.jit import CPU_ENV, HostTarget, compile_ir, host

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
LD = np.longdouble if np.finfo(np.longdouble).nmant > 52 else None  # a better f64 reference
RNG_SEED = 1234
N = 1 << 20  # random samples per range


def _llvm_type(dtype: np.dtype) -> ir.Type:
    return ir.FloatType() if dtype == F32 else ir.DoubleType()


def _kernel(name: str, dtype: np.dtype):
    """void k(ptr a[, ptr b], ptr out, i64 n): out[i] = name(a[i][, b[i]]) as a simple loop,
    compiled for the current target (`XLA_MAGIC_CPU` or the host)."""
    return _loop_kernel(name, dtype, host())


@functools.cache
def _loop_kernel(name: str, dtype: np.dtype, target: HostTarget):
    """`name` is a mathlib function, or "square" (x*x: the plain loop). `target` is the cache's key:
    compile_ir compiles for the current target, which it is."""
    ty = _llvm_type(dtype)
    arity = 1 if name == "square" else mathlib.ARITY[name]
    m = ir.Module(name=f"test_{name}")
    ptr, i64 = ir.PointerType(), ir.IntType(64)
    fn = ir.Function(m, ir.FunctionType(ir.VoidType(), [ptr] * (arity + 1) + [i64]), "kernel")
    for a in fn.args[: arity + 1]:
        a.add_attribute("noalias")
    f = None if name == "square" else mathlib.declare_math(m, name, ty)
    entry, loop, done = (fn.append_basic_block(n) for n in ("entry", "loop", "done"))
    b = ir.IRBuilder(entry)
    n = fn.args[-1]
    b.cbranch(b.icmp_signed(">", n, ir.Constant(i64, 0)), loop, done)
    b.position_at_end(loop)
    i = b.phi(i64)
    i.add_incoming(ir.Constant(i64, 0), entry)
    ins = [b.load(b.gep(p, [i], source_etype=ty), typ=ty) for p in fn.args[:arity]]
    b.store(b.fmul(ins[0], ins[0]) if f is None else b.call(f, ins), b.gep(fn.args[arity], [i], source_etype=ty))
    nxt = b.add(i, ir.Constant(i64, 1))
    i.add_incoming(nxt, loop)
    b.cbranch(b.icmp_signed("<", nxt, n), loop, done)
    b.position_at_end(done)
    b.ret_void()
    jm = compile_ir(m, ["kernel"], name=f"test_{name}_{dtype}")
    import ctypes

    proto = jm.ctypes_function("kernel", None, *([ctypes.c_void_p] * (arity + 1)), ctypes.c_int64)
    return jm, proto


def run(name: str, *args: np.ndarray) -> np.ndarray:
    dtype = args[0].dtype
    args = [np.ascontiguousarray(a, dtype) for a in np.broadcast_arrays(*args)]
    out = np.empty_like(args[0])
    _, fn = _kernel(name, dtype)
    fn(*[a.ctypes.data for a in args], out.ctypes.data, out.size)
    return out


# ---- references -----------------------------------------------------------------------------

def _erf_ref(x: np.ndarray) -> np.ndarray:
    return np.frompyfunc(math.erf, 1, 1)(x.astype(np.float64)).astype(np.float64)


def _ref_dtype(dtype):
    return np.float64 if dtype == F32 or LD is None else LD


REF = {
    "exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "tanh": np.tanh, "sinh": np.sinh,
    "logistic": lambda x: 1 / (1 + np.exp(-x)), "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "atan2": np.arctan2, "pow": np.power, "sqrt": np.sqrt, "rsqrt": lambda x: 1 / np.sqrt(x),
    "cbrt": np.cbrt, "erf": None, "cosh": np.cosh, "asinh": np.arcsinh, "acosh": np.arccosh,
    "atanh": np.arctanh, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
}


def reference(name: str, *args: np.ndarray) -> np.ndarray:
    dtype = args[0].dtype
    if name == "erf":
        return _erf_ref(args[0])  # math.erf is within an ulp of f64; f64 bounds allow for it
    rt = _ref_dtype(dtype)
    with np.errstate(all="ignore"):
        return REF[name](*[a.astype(rt) for a in args])


def ulp_error(got: np.ndarray, ref: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """|got - ref| in units of the spacing of the result type at ref (finite refs only)."""
    ref_t = np.abs(ref).astype(dtype)
    with np.errstate(all="ignore"):
        spacing = np.spacing(ref_t).astype(ref.dtype)
        # below the smallest normal, count in units of the smallest normal's spacing
        spacing = np.maximum(spacing, np.spacing(np.finfo(dtype).tiny))
        return np.abs(got.astype(ref.dtype) - ref) / spacing


# ---- inputs ---------------------------------------------------------------------------------

def edge_values(dtype: np.dtype) -> np.ndarray:
    fi = np.finfo(dtype)
    v = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, fi.tiny, -fi.tiny, fi.max,
         -fi.max, fi.eps, -fi.eps, fi.smallest_subnormal, -fi.smallest_subnormal, fi.tiny / 2, 1e-30, -1e-30,
         math.pi, -math.pi, math.pi / 2, math.pi / 4, 100.0, -100.0, 88.0, 89.0, -89.0, 709.0, 710.0, -745.0,
         1e30, -1e30, 3.0, 0.625, 0.9, 2.2, 4.0, 5.95, 1e6, 1e10, -1e10]
    return np.array(v, dtype=dtype)


def uniform(lo: float, hi: float, dtype, n: int = N, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(RNG_SEED + seed).uniform(lo, hi, n).astype(dtype)


def log_uniform(lo_exp: float, hi_exp: float, dtype, n: int = N, signed: bool = True, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(RNG_SEED + 17 + seed)
    x = np.exp2(rng.uniform(lo_exp, hi_exp, n))
    if signed:
        x *= rng.choice([-1.0, 1.0], n)
    with np.errstate(over="ignore"):
        return x.astype(dtype)


def _max(dtype) -> float:
    return float(np.log2(np.finfo(dtype).max))


# name -> dtype -> (inputs factory, ulp bound). The ranges are the "main ranges" of the table.
def cases(name: str, dtype: np.dtype) -> tuple[list[np.ndarray], float]:
    d64 = dtype == F64
    top = _max(dtype)
    lo_exp = -149 if not d64 else -1074
    if name == "exp":
        lo, hi = (-745.0, 709.7) if d64 else (-103.0, 88.7)
        return [np.concatenate([uniform(lo, hi, dtype), uniform(-1, 1, dtype, seed=1)])], 2
    if name == "expm1":
        lo, hi = (-40.0, 709.7) if d64 else (-30.0, 88.7)
        return [np.concatenate([uniform(lo, hi, dtype), uniform(-1, 1, dtype, seed=1),
                                log_uniform(-60, 0, dtype, seed=2)])], 2
    if name == "log":
        return [np.concatenate([log_uniform(lo_exp, top, dtype, signed=False), uniform(0.5, 2, dtype, seed=1)])], 2
    if name == "log1p":
        return [np.concatenate([log_uniform(lo_exp, top, dtype, signed=False), uniform(-1, 1, dtype, seed=1),
                                log_uniform(-60, 0, dtype, seed=2)])], 2
    if name == "tanh":
        # f32: a rational in f32 arithmetic (no exp), as loose as XLA:CPU's own
        return [np.concatenate([uniform(-10, 10, dtype), log_uniform(-60, 5, dtype, seed=1)])], (3 if d64 else 5)
    if name == "sinh":
        lim = 710.0 if d64 else 89.4
        return [np.concatenate([uniform(-lim, lim, dtype), uniform(-2, 2, dtype, seed=1),
                                log_uniform(-60, 0, dtype, seed=2)])], 3
    if name == "logistic":
        return [np.concatenate([uniform(-80, 80, dtype), uniform(-5, 5, dtype, seed=1)])], 3
    if name in ("sin", "cos", "tan"):
        xs = np.concatenate([uniform(-10, 10, dtype), log_uniform(-30, top, dtype, seed=1)])
        return [xs], (4 if name == "tan" else 2)
    if name == "atan2":
        y = np.concatenate([uniform(-10, 10, dtype), log_uniform(-100, 100, dtype, seed=1)])
        x = np.concatenate([uniform(-10, 10, dtype, seed=2), log_uniform(-100, 100, dtype, seed=3)])
        return [y, x], 3
    if name == "pow":
        x = np.concatenate([uniform(0, 10, dtype), log_uniform(-20, 20, dtype, signed=False, seed=1)])
        y = np.concatenate([uniform(-30, 30, dtype, seed=2), uniform(-4, 4, dtype, seed=3)])
        return [x, y], (2 if d64 else 1)
    if name == "erf":
        n = N // 4  # the reference is math.erf, one Python call per element
        return [np.concatenate([uniform(-6, 6, dtype, n), log_uniform(-40, 2, dtype, n, seed=1)])], 2
    if name == "cbrt":
        return [np.concatenate([log_uniform(lo_exp, top, dtype), uniform(-10, 10, dtype, seed=1)])], 1
    if name == "sqrt":
        return [log_uniform(lo_exp, top, dtype, signed=False)], 0.5001  # correctly rounded
    if name == "rsqrt":
        return [log_uniform(lo_exp + 1, top, dtype, signed=False)], 2
    # Composed from the functions above: f32 runs in f64 (within an ulp), f64 in a few ulps.
    n, bound = N // 8, (3 if d64 else 1)
    if name == "cosh":
        lim = 710.0 if d64 else 89.4
        return [np.concatenate([uniform(-lim, lim, dtype, n), uniform(-2, 2, dtype, n, seed=1)])], bound
    if name == "asinh":
        return [np.concatenate([log_uniform(-60, top, dtype, n), uniform(-2, 2, dtype, n, seed=1)])], bound
    if name == "acosh":
        return [np.concatenate([1 + log_uniform(-40, 0, dtype, n, signed=False),
                                log_uniform(0, top, dtype, n, signed=False, seed=1)])], bound
    if name in ("atanh", "asin", "acos"):
        return [np.concatenate([uniform(-1, 1, dtype, n), log_uniform(-60, 0, dtype, n, seed=1)])], bound
    if name == "atan":
        return [np.concatenate([uniform(-10, 10, dtype, n), log_uniform(-60, 100, dtype, n, seed=1)])], bound
    raise KeyError(name)


def measure(name: str, dtype: np.dtype) -> tuple[float, float, float]:
    """(max ulp error, max relative error, bound) over the function's main range."""
    inputs, bound = cases(name, dtype)
    got = run(name, *inputs)
    ref = reference(name, *inputs)
    fin = np.isfinite(ref) & (np.abs(ref) >= np.finfo(dtype).tiny) | (ref == 0)
    if name == "pow":  # the tested range: results that neither overflow nor underflow
        fin &= np.abs(ref) < np.finfo(dtype).max
    if name == "logistic":
        fin &= ref >= np.finfo(dtype).tiny
    e = ulp_error(got[fin], ref[fin], dtype)
    with np.errstate(all="ignore"):
        rel = np.abs(got[fin].astype(ref.dtype) - ref[fin]) / np.abs(ref[fin])
    rel = rel[np.isfinite(rel)]
    return float(e.max()), float(rel.max()) if rel.size else 0.0, bound


UNARY = [n for n in mathlib.NAMES if mathlib.ARITY[n] == 1]


@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(mathlib.NAMES))
def test_accuracy(name, dtype):
    err, rel, bound = measure(name, dtype)
    assert err <= bound, f"{name} {dtype}: max error {err:.2f} ulp > {bound} (max rel {rel:.3g})"


@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", UNARY)
def test_edge_values_match_reference(name, dtype):
    """At the edge values: NaN exactly where the reference has NaN, infinities and zeros
    (with their signs) exactly, anything else within a few ulps."""
    x = edge_values(dtype)
    got = run(name, x)
    with np.errstate(over="ignore"):
        ref = reference(name, x).astype(np.float64)
    if name == "logistic":  # XLA flushes subnormal results to zero
        ref = np.where(np.abs(ref) < np.finfo(dtype).tiny, 0.0, ref)
    g = got.astype(np.float64)
    with np.errstate(over="ignore"):
        ref = ref.astype(dtype).astype(np.float64)  # what the result type can hold (inf, 0)
    assert np.array_equal(np.isnan(g), np.isnan(ref)), f"{name}: NaN at {x[np.isnan(g) != np.isnan(ref)]}"
    exact = np.isinf(ref) | (ref == 0)
    assert np.array_equal(g[exact], ref[exact]), f"{name}: {x[exact]} -> {got[exact]}, want {ref[exact]}"
    assert np.array_equal(np.signbit(g[exact]), np.signbit(ref[exact])), f"{name}: zero signs at {x[exact]}"
    rest = ~exact & ~np.isnan(ref)
    if name in ("tan",):  # near the poles an ulp of input is many of output
        rest &= np.abs(ref) < 1e6
    err = ulp_error(got[rest], ref[rest], dtype)
    assert err.max(initial=0) <= 4, f"{name}: {x[rest][err.argmax()]} off by {err.max():.1f} ulp"


def test_tanh_f32_whole_range():
    """Every 509th f32 from 0 to inf (all binades, subnormals included) and their negatives:
    within the documented 5 ulps, odd to the bit, and exactly x below 2^-13 (where tanh x
    rounds to x)."""
    x = np.arange(0, 0x7F800001, 509, dtype=np.int64).astype(np.uint32).view(np.float32)
    x = np.concatenate([x, np.float32(np.inf)[None], np.float32(2.0**-13)[None]])
    got = run("tanh", x)
    assert np.array_equal(run("tanh", -x).view(np.uint32), (-got).view(np.uint32))
    ref = np.tanh(x.astype(np.float64))
    err = ulp_error(got, ref, F32)
    assert err.max() <= 5, f"tanh f32: {x[err.argmax()]} off by {err.max():.2f} ulp"
    tiny = x <= 2.0**-13
    assert np.array_equal(got[tiny].view(np.uint32), x[tiny].view(np.uint32))
    assert np.all(np.abs(got) <= 1) and got[-2] == 1.0


def _f(dtype, *v):
    return np.array(v, dtype=dtype)


def _agrees(got: float, want: float, dtype) -> bool:
    """Both NaN; or equal with the same sign (zeros, infinities); or within 2 ulps."""
    if np.isnan(want) or np.isnan(got):
        return bool(np.isnan(want) and np.isnan(got))
    if np.signbit(got) != np.signbit(want):
        return False
    if want == 0 or np.isinf(want):
        return bool(got == want)
    return bool(abs(got - want) <= 2 * np.spacing(np.abs(want).astype(dtype)))


@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
def test_xla_special_values(dtype):
    nan, inf = np.nan, np.inf

    def same(got, want):
        got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
        num = ~np.isnan(want)  # the sign of a NaN is not specified
        return np.array_equal(got, want, equal_nan=True) and np.array_equal(np.signbit(got[num]),
                                                                             np.signbit(want[num]))

    assert run("exp", _f(dtype, 89.0))[0] == (inf if dtype == F32 else math.exp(89.0))
    assert run("exp", _f(dtype, 710.0, -inf, inf, -1e4)).tolist() == [inf, 0.0, inf, 0.0]
    tiny = 0.0 if dtype == F32 else 1 / (1 + math.exp(100))  # f64: a normal number, kept
    assert run("logistic", _f(dtype, -100.0, -1e4, 100.0, inf, -inf)).tolist() == [tiny, 0.0, 1.0, 1.0, 0.0]
    assert run("tanh", _f(dtype, 1e30, -1e30, inf, -inf)).tolist() == [1.0, -1.0, 1.0, -1.0]
    assert same(run("log", _f(dtype, 0.0, -0.0, -1.0, inf)), [-inf, -inf, nan, inf])
    assert same(run("log1p", _f(dtype, 0.0, -0.0, -1.0, inf, -2.0)), [0.0, -0.0, -inf, inf, nan])
    assert same(run("sqrt", _f(dtype, 0.0, -0.0, -1.0, inf)), [0.0, -0.0, nan, inf])
    assert same(run("rsqrt", _f(dtype, 0.0, -0.0, -1.0, inf)), [inf, -inf, nan, 0.0])
    assert same(run("expm1", _f(dtype, 0.0, -0.0, -inf, inf, -1e4)), [0.0, -0.0, -1.0, inf, -1.0])
    assert same(run("cbrt", _f(dtype, 0.0, -0.0, inf, -inf, -8.0, 27.0)), [0.0, -0.0, inf, -inf, -2.0, 3.0])
    assert same(run("erf", _f(dtype, 0.0, -0.0, inf, -inf, 10.0)), [0.0, -0.0, 1.0, -1.0, 1.0])
    for name in ("sin", "tan"):
        assert same(run(name, _f(dtype, 0.0, -0.0, inf, -inf)), [0.0, -0.0, nan, nan])
    assert same(run("cos", _f(dtype, 0.0, -0.0, inf)), [1.0, 1.0, nan])
    for name in mathlib.NAMES:
        args = [_f(dtype, nan)] * mathlib.ARITY[name]
        if name != "pow":
            assert np.isnan(run(name, *args)[0]), f"{name}(NaN) is not NaN"


@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
def test_pow_special_values(dtype):
    nan, inf = np.nan, np.inf
    rows = [  # x, y, want (C99 Annex F, as XLA)
        (-2, 0.5, nan), (0, -1, inf), (-0.0, -1, -inf), (-0.0, -2, inf), (0, 1, 0), (-0.0, 1, -0.0),
        (-0.0, 2, 0), (nan, 0, 1), (nan, -0.0, 1), (1, nan, 1), (1, inf, 1), (-1, inf, 1), (-1, -inf, 1),
        (0.5, inf, 0), (0.5, -inf, inf), (2, inf, inf), (2, -inf, 0), (-0.5, inf, 0), (-2, -inf, 0),
        (inf, 2, inf), (inf, -2, 0), (-inf, 3, -inf), (-inf, 2, inf), (-inf, -3, -0.0), (-inf, -2, 0),
        (-inf, 0.5, inf), (-2, 3, -8), (-2, 2, 4), (-2, -1, -0.5), (2, 0.5, math.sqrt(2)), (nan, 1, nan),
        (2, nan, nan), (-1, 0.5, nan), (10, 400, inf if dtype == F32 else 1e400), (10, -400, 0),
        (-10, 401, -inf if dtype == F32 else -1e401), (4, 0.5, 2), (0.0, 0.0, 1.0),
    ]
    x = _f(dtype, *[r[0] for r in rows])
    y = _f(dtype, *[r[1] for r in rows])
    want = _f(dtype, *[r[2] for r in rows]).astype(np.float64)
    got = run("pow", x, y).astype(np.float64)
    for i, r in enumerate(rows):
        assert _agrees(got[i], want[i], dtype), f"pow{r[:2]} = {got[i]}, want {want[i]}"


@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
def test_atan2_special_values(dtype):
    pi = math.pi
    rows = [(0.0, 0.0, 0.0), (-0.0, 0.0, -0.0), (0.0, -0.0, pi), (-0.0, -0.0, -pi), (1, 0, pi / 2),
            (-1, 0, -pi / 2), (0, -1, pi), (-0.0, -1, -pi), (np.inf, np.inf, pi / 4), (np.inf, -np.inf, 3 * pi / 4),
            (-np.inf, np.inf, -pi / 4), (-np.inf, -np.inf, -3 * pi / 4), (1, np.inf, 0.0), (1, -np.inf, pi),
            (np.inf, 1, pi / 2), (2e38, 3e38, math.atan2(2, 3)), (1e-45, 1e38, 1e-83), (np.nan, 1, np.nan),
            (1, np.nan, np.nan)]
    y = _f(dtype, *[r[0] for r in rows])
    x = _f(dtype, *[r[1] for r in rows])
    want = np.array([r[2] for r in rows], np.float64).astype(dtype).astype(np.float64)
    got = run("atan2", y, x).astype(np.float64)
    for i, r in enumerate(rows):
        assert _agrees(got[i], want[i], dtype), f"atan2{r[:2]} = {got[i]!r}, want {want[i]!r}"


def test_vector_types_compile_and_agree():
    """declare_math also takes LLVM vector types (for hand-vectorized code): same results."""
    for name in ("exp", "sin", "pow", "cbrt", "erf", "log1p"):
        for dtype, lanes in ((F32, 8), (F64, 4)):
            ety = _llvm_type(dtype)
            vty = ir.VectorType(ety, lanes)
            m = ir.Module(name="vec")
            ptr = ir.PointerType()
            arity = mathlib.ARITY[name]
            fn = ir.Function(m, ir.FunctionType(ir.VoidType(), [ptr] * (arity + 1)), "k")
            b = ir.IRBuilder(fn.append_basic_block())
            # align=1: numpy only guarantees element alignment; a vector's natural one would fault
            args = [b.load(p, typ=vty, align=1) for p in fn.args[:arity]]
            b.store(b.call(mathlib.declare_math(m, name, vty), args), fn.args[arity], align=1)
            b.ret_void()
            import ctypes

            k = compile_ir(m).ctypes_function("k", None, *([ctypes.c_void_p] * (arity + 1)))
            xs = [np.linspace(0.1, 5, lanes).astype(dtype) for _ in range(arity)]
            out = np.empty(lanes, dtype)
            k(*[a.ctypes.data for a in xs], out.ctypes.data)
            assert np.array_equal(out, run(name, *xs)), (name, dtype)


def test_emitted_once_and_internal():
    m = ir.Module()
    f1 = mathlib.declare_math(m, "exp", ir.FloatType())
    f2 = mathlib.declare_math(m, "exp", ir.FloatType())
    assert f1 is f2 and f1.linkage == "internal" and "alwaysinline" in f1.attributes
    assert mathlib.declare_math(m, "exp", ir.DoubleType()) is not f1
    with pytest.raises(KeyError):
        mathlib.declare_math(m, "nope", ir.FloatType())
    with pytest.raises(TypeError):
        mathlib.declare_math(m, "exp", ir.IntType(32))


def _has(feature: str) -> bool:
    return f"+{feature}" in host().features.split(",")


def _lanes(ir_text: str) -> dict[str, int]:
    """{element type: the most lanes of a vector of it} in an IR text."""
    out: dict[str, int] = {}
    for n, elem in re.findall(r"<(\d+) x (float|double)>", ir_text):
        out[elem] = max(out.get(elem, 0), int(n))
    return out


# The host if it has AVX, and generic models (compiled, never run) whatever the host is: the
# width expected comes from the target, never from the machine the tests were written on.
VECTOR_TARGETS = [pytest.param("", marks=pytest.mark.skipif(not _has("avx"), reason="host has no AVX")),
                  *[pytest.param(m, marks=pytest.mark.skipif(not host().triple.startswith("x86_64"),
                                                             reason="an x86-64 model"))
                    for m in ("x86-64-v3", "x86-64-v4")]]


@pytest.mark.parametrize("target", VECTOR_TARGETS)
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(mathlib.NAMES))
def test_loop_vectorizes(monkeypatch, name, dtype, target):
    """The loop around each function is vectorized as wide as the target vectorizes a plain loop
    x*x of the widest float type the function computes in (f32 sin/cos/tan reduce their argument
    in f64, so they get the f64 loop's lanes): no calls left, vector types in the IR."""
    monkeypatch.setenv(CPU_ENV, target)
    jm, _ = _kernel(name, dtype)
    ir_opt = jm.llvm_ir_opt_by_function["kernel"]
    elem = "float" if dtype == F32 else "double"
    lanes = _lanes(ir_opt)
    assert lanes.get(elem), f"{name} {dtype}: loop not vectorized"
    assert not re.search(r"call [^@]*@xm\.", ir_opt), "math function not inlined"
    widest = "double" if "double" in lanes else elem
    plain = _lanes(_kernel("square", F64 if widest == "double" else F32)[0].llvm_ir_opt_by_function["kernel"])[widest]
    assert lanes[elem] >= plain, f"{name} {dtype}: {lanes[elem]} lanes, a plain loop gets {plain} on this target"


if __name__ == "__main__":
    print(f"host: {host().cpu}, {host().vector_bits}-bit vectors; f64 reference: {'long double' if LD else 'float64'}")
    print(f"{'function':10} {'f32 ulp':>8} {'bound':>6} {'f32 rel':>10}   {'f64 ulp':>8} {'bound':>6} {'f64 rel':>10}")
    for nm in mathlib.NAMES:
        a, ar, ab = measure(nm, F32)
        b_, br, bb = measure(nm, F64)
        print(f"{nm:10} {a:8.2f} {ab:6} {ar:10.3g}   {b_:8.2f} {bb:6} {br:10.3g}")
