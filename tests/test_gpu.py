"""The gpu target without a GPU: code generation for every corpus kernel, the offline NVRTC compile
(sm_80 and sm_90), PTX and SASS artifacts, and the generated CUDA run on the host CPU (hostsim)
against the interpreter. Tests that need a device are in test_gpu_device.py.

CI sets XLA_MAGIC_REQUIRE_NVRTC=1: there, a missing NVRTC or nvdisasm fails instead of skipping."""
from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor

import ml_dtypes
import numpy as np
import pytest
from conftest import CASE_NAMES, assert_matches, load_case

import xla_magic as xm
from xla_magic.backends import gpu
from xla_magic.backends.gpu import hostsim, nvrtc
from xla_magic.hlo.parser import parse_hlo
from xla_magic.passes.pipeline import optimize

REQUIRE = os.environ.get("XLA_MAGIC_REQUIRE_NVRTC", "") not in ("", "0")
HAVE_CXX = hostsim.available()[0]
needs_cxx = pytest.mark.skipif(not HAVE_CXX, reason="no C++ compiler for the host simulation")


def need_nvrtc() -> None:
    ok, why = nvrtc.available()
    if not ok:
        if REQUIRE:
            pytest.fail(f"XLA_MAGIC_REQUIRE_NVRTC is set but NVRTC is missing: {why}")
        pytest.skip(why)


def optimized(text: str):
    m, _ = optimize(parse_hlo(text), target="gpu")
    return m


_GENERATED: dict[str, gpu.Generated] = {}


def generated(case: str) -> gpu.Generated:
    if case not in _GENERATED:
        _GENERATED[case] = gpu.generate(optimized(load_case(case)[0]))
    return _GENERATED[case]


# --- code generation and the offline compile ----------------------------------------------------

def test_every_corpus_case_generates():
    kinds: dict[str, int] = {}
    total = 0
    for case in CASE_NAMES:
        p = generated(case).program
        for k in p.kernels.values():
            kinds[k.schedule] = kinds.get(k.schedule, 0) + 1
            assert f"{k.name}(" in p.source
        total += len(p.kernels)
    assert total >= 150
    # The schedules the corpus exercises.
    for s in ("loop", "row/warp", "column", "window", "sort/rank", "top-k/rank", "dot/generated",
              "convolution/generated", "scatter/ordered"):
        assert kinds.get(s), (s, kinds)


def _compile_case(case: str) -> list[str]:
    g = generated(case)
    problems = []
    for arch in nvrtc.ARCHS:
        try:
            c = nvrtc.compile_cuda(gpu.full_source(g.program), arch, f"{case}.cu")
        except nvrtc.NvrtcError as e:
            problems.append(f"{case} ({arch}): {e}")
            continue
        for name in g.program.kernels:
            if f".entry {name}(" not in c.ptx:
                problems.append(f"{case} ({arch}): no PTX entry for {name}")
        if not c.cubin:
            problems.append(f"{case} ({arch}): no cubin")
    return problems


def test_nvrtc_compiles_every_corpus_kernel_for_sm80_and_sm90():
    """Every kernel generated for the 70 public corpus cases, one NVRTC compile per module and arch."""
    need_nvrtc()
    for case in CASE_NAMES:
        generated(case)
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:  # ctypes drops the GIL
        problems = [p for ps in pool.map(_compile_case, CASE_NAMES) for p in ps]
    assert not problems, "\n\n".join(problems[:3])


def test_a_syntax_error_fails_with_the_compiler_log():
    need_nvrtc()
    bad = gpu.header() + '\nextern "C" __global__ void k(float* o) { o[0] = undefined_name + ; }\n'
    with pytest.raises(nvrtc.NvrtcError) as e:
        nvrtc.compile_cuda(bad, "sm_90", "broken.cu")
    assert "NVRTC log" in str(e.value) and "error" in e.value.log and "broken.cu" in e.value.log


def test_ptx_and_sass_artifacts():
    need_nvrtc()
    text = load_case("softmax")[0]
    exe = xm.compile(text, target="gpu")
    art = exe.report.artifacts
    assert {"cuda", "ptx", "sass", "host_program"} <= set(art)
    assert "__global__" in art["cuda"] and "launch" in art["host_program"]
    assert ".target sm_90" in art["ptx"] and ".entry" in art["ptx"]
    name = next(iter(art.kernels))
    one = art.kernel(name)
    assert name in one["cuda"] and f".entry {name}(" in one["ptx"]
    if nvrtc.find_tool("nvdisasm") is None and nvrtc.find_tool("cuobjdump") is None:
        if REQUIRE:
            pytest.fail("XLA_MAGIC_REQUIRE_NVRTC is set but neither nvdisasm nor cuobjdump was found")
        pytest.skip("no nvdisasm/cuobjdump for SASS")
    sass = art["sass"]
    assert name in sass and re.search(r"\b(LDG|STG|EXIT)\b", sass), sass[:500]
    assert name in one["sass"]


def test_without_a_gpu_compile_explains_itself_and_keeps_the_code():
    ok, why = gpu.available()
    if ok:
        pytest.skip("a GPU is here")
    assert why
    exe = xm.compile(load_case("unary_exp_log")[0], target="gpu", cache=False)
    assert "__global__" in exe.report.artifacts["cuda"]
    args = load_case("unary_exp_log")[1]
    with pytest.raises(RuntimeError, match="cannot run here") as e:
        exe(*args)
    assert why in str(e.value) and "artifacts" in str(e.value)


def test_import_does_not_pull_cupy():
    import subprocess
    import sys

    code = "import sys, xla_magic, xla_magic.backends.gpu; print('cupy' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "False"


# --- the host simulation against the interpreter --------------------------------------------

@needs_cxx
@pytest.mark.parametrize("case", CASE_NAMES)
def test_corpus_in_host_simulation(case):
    text, args, outs, meta = load_case(case)
    # Dots as generated code (the library path is checked below): every kernel runs.
    exe = hostsim.compile(optimized(text), library_min_macs=1 << 62)
    got = exe(*[a.copy() for a in args])
    got = got if isinstance(got, tuple) else (got,)
    for g, e, om in zip(got, outs, meta["outputs"]):
        assert_matches(g, e, om, label="gpu-hostsim ")


@needs_cxx
@pytest.mark.parametrize("case", ["matmul", "mlp3", "attention_1head", "batched_matmul_einsum", "dot_vector"])
def test_library_dot_path_in_host_simulation(case):
    text, args, outs, meta = load_case(case)
    gen = gpu.generate(optimized(text), library_min_macs=1)
    from xla_magic.backends.gpu.program import Dot, walk

    assert any(isinstance(s, Dot) for s in walk(gen.program.steps))
    exe = hostsim.compile(parse_hlo(text), program=gen.program)
    got = exe(*args)
    got = got if isinstance(got, tuple) else (got,)
    for g, e, om in zip(got, outs, meta["outputs"]):
        assert_matches(g, e, om, label="gpu-hostsim library ")


def run_both(text: str, *args, **options):
    m = optimized(text)
    got = hostsim.compile(m, **options)(*args)
    want = xm.interpret(text, *args)
    as_t = lambda v: v if isinstance(v, tuple) else (v,)  # noqa: E731
    return as_t(got), as_t(want), gpu.generate(m, **options).program


def check(text: str, *args, rtol=2e-6, atol=1e-6, **options):
    got, want, program = run_both(text, *args, **options)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        if w.dtype.kind in "fV":
            gf, wf = g.astype(np.float64), w.astype(np.float64)
            np.testing.assert_array_equal(np.isnan(gf), np.isnan(wf))
            fin = ~np.isnan(wf)
            np.testing.assert_allclose(gf[fin], wf[fin], rtol=rtol, atol=atol)
        else:
            np.testing.assert_array_equal(g, w)
    return program


SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, np.inf, -np.inf, np.nan, 1e-30, -1e30, 88.7, 89.0,
                    -100.0, 3.14159, 1e10, -7.25, 65519.0], np.float32)


def unary(op: str, dt: str = "f32", n: int = 20, out: str | None = None) -> str:
    return f"HloModule u\n\nENTRY e {{\n  x = {dt}[{n}] parameter(0)\n  ROOT r = {out or dt}[{n}] {op}(x)\n}}\n"


def binary(op: str, dt: str, n: int, out: str | None = None, extra: str = "") -> str:
    return (f"HloModule b\n\nENTRY e {{\n  a = {dt}[{n}] parameter(0)\n  b = {dt}[{n}] parameter(1)\n"
            f"  ROOT r = {out or dt}[{n}] {op}(a, b){extra}\n}}\n")


@needs_cxx
def test_xla_semantics_of_scalar_ops():
    """One module per family, run through the host simulation: XLA's answers where C's differ."""
    for op in ["negate", "abs", "sign", "floor", "ceil", "round-nearest-afz", "round-nearest-even", "sqrt",
               "rsqrt", "is-finite", "exponential", "log", "log-plus-one", "tanh", "sinh", "logistic"]:
        out = "pred" if op == "is-finite" else None
        check(unary(op, out=out), SPECIAL, rtol=5e-6, atol=1e-6)
    a = np.array([-7, 7, -7, 7, 5, 0, -2147483648, -2147483648, 3, -1], np.int32)
    b = np.array([2, -2, 0, 0, 0, 0, -1, 1, 40, 33], np.int32)
    for op in ("divide", "remainder", "shift-left", "shift-right-logical", "shift-right-arithmetic", "power",
               "maximum", "minimum", "multiply", "add", "subtract"):
        check(binary(op, "s32", 10), a, b, rtol=0, atol=0)
    u = a.view(np.uint32)
    for op in ("divide", "remainder", "shift-right-logical", "maximum"):
        check(binary(op, "u32", 10), u, b.view(np.uint32), rtol=0, atol=0)
    x = np.array([np.nan, 0.0, -0.0, 1.0, np.inf, -5.5, 5.5, 1.0], np.float32)
    y = np.array([1.0, -0.0, 0.0, np.nan, 2.0, 2.0, -2.0, 0.0], np.float32)
    for op in ("maximum", "minimum", "remainder", "power", "atan2", "divide"):
        check(binary(op, "f32", 8), x, y, rtol=5e-6, atol=1e-30)
    for d in ("EQ", "NE", "LT", "GE"):
        check(binary("compare", "f32", 8, "pred", f", direction={d}"), x, y)
        check(binary("compare", "f32", 8, "pred", f", direction={d}, type=TOTALORDER"), x, y)
    big = np.array([3e9, -3e9, np.nan, np.inf, -np.inf, 2.7, -2.7, 65520.0, 65519.0, 2049.0], np.float32)
    for to in ("s32", "u32", "s8", "u8", "s64", "pred", "f16", "bf16", "f64"):
        check(unary("convert", "f32", 10, to), big)
    check(unary("bitcast-convert", "f32", 10, "s32"), big)
    check(unary("count-leading-zeros", "s32", 10), a)
    check(unary("popcnt", "u32", 10), u)
    h = np.clip(big, -6e4, 6e4).astype(np.float16)
    check(binary("add", "f16", 10), h, h, rtol=1e-3, atol=1e-3)
    bf = big.astype(ml_dtypes.bfloat16)
    check(binary("multiply", "bf16", 10), bf, bf, rtol=1e-2, atol=1e-2)


ADD = "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT s = f32[] add(a, b)\n}\n"
MAX = "max {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT s = f32[] maximum(a, b)\n}\n"


def softmax(rows: int, cols: int) -> str:
    t, v = f"f32[{rows},{cols}]", f"f32[{rows}]"
    return f"""HloModule softmax

{ADD}{MAX}ENTRY main {{
  x = {t} parameter(0)
  ninf = f32[] constant(-inf)
  zero = f32[] constant(0)
  m = {v} reduce(x, ninf), dimensions={{1}}, to_apply=max
  mb = {t} broadcast(m), dimensions={{0}}
  d = {t} subtract(x, mb)
  e = {t} exponential(d)
  s = {v} reduce(e, zero), dimensions={{1}}, to_apply=add
  sb = {t} broadcast(s), dimensions={{0}}
  ROOT y = {t} divide(e, sb)
}}
"""


@needs_cxx
@pytest.mark.parametrize("rows,cols,schedule", [(37, 100, "row/warp"), (3, 5000, "row/block256"),
                                                (2, 40000, "row/block1024")])
def test_softmax_is_one_row_kernel(rows, cols, schedule):
    x = np.random.default_rng(0).standard_normal((rows, cols)).astype(np.float32)
    p = check(softmax(rows, cols), x, rtol=1e-5, atol=1e-7)
    assert [k.schedule for k in p.kernels.values()] == [schedule]


@needs_cxx
def test_column_reduction_and_argmax_style_variadic_reduce():
    text = f"""HloModule col

{ADD}ENTRY main {{
  x = f32[300,70] parameter(0)
  zero = f32[] constant(0)
  ROOT s = f32[70] reduce(x, zero), dimensions={{0}}, to_apply=add
}}
"""
    x = np.random.default_rng(1).standard_normal((300, 70)).astype(np.float32)
    p = check(text, x, rtol=1e-5, atol=1e-5)
    assert [k.schedule for k in p.kernels.values()] == ["column"]
    # A reduce whose init is not the identity: applied once, as XLA does.
    text2 = text.replace("constant(0)", "constant(5)")
    check(text2, x, rtol=1e-5, atol=1e-5)


@needs_cxx
def test_transpose_goes_through_shared_memory_tiles():
    text = """HloModule t

ENTRY main {
  x = f32[70,45] parameter(0)
  t = f32[45,70] transpose(x), dimensions={1,0}
  ROOT y = f32[45,70] exponential(t)
}
"""
    x = np.random.default_rng(2).standard_normal((70, 45)).astype(np.float32)
    p = check(text, x, rtol=1e-6)
    assert [k.schedule for k in p.kernels.values()] == ["transpose/tiled"]


@needs_cxx
def test_elementwise_loop_uses_vector_loads_with_a_scalar_tail():
    text = binary("add", "f32", 1031)
    a, b = (np.random.default_rng(3).standard_normal(1031).astype(np.float32) for _ in range(2))
    p = check(text, a, b)
    (k,) = p.kernels.values()
    assert k.schedule == "loop/vec4" and "float4" in k.text


@needs_cxx
def test_out_of_range_indices_are_clamped():
    text = """HloModule idx

ENTRY main {
  x = f32[5,2] parameter(0)
  i = s32[3,1] parameter(1)
  j = s32[] parameter(2)
  u = f32[2,2] parameter(3)
  g = f32[3,2] gather(x, i), offset_dims={1}, collapsed_slice_dims={0}, start_index_map={0},
    index_vector_dim=1, slice_sizes={1,2}
  z = s32[] constant(0)
  ds = f32[2,2] dynamic-slice(x, j, z), dynamic_slice_sizes={2,2}
  up = f32[5,2] dynamic-update-slice(x, u, j, z)
  ROOT r = (f32[3,2], f32[2,2], f32[5,2]) tuple(g, ds, up)
}
"""
    x = np.arange(10, dtype=np.float32).reshape(5, 2)
    u = -np.ones((2, 2), np.float32)
    for j in (-3, 4, 9):
        check(text, x, np.array([[-3], [2], [9]], np.int32), np.int32(j), u, rtol=0, atol=0)


@needs_cxx
def test_host_simulation_reports_a_deadlock():
    from xla_magic.backends.gpu.kernels import KernelCode
    from xla_magic.backends.gpu.program import Launch, Loc, Program

    text = ('typedef int xm_i;\nextern "C" __global__ void bad(float* o) {\n'
            '    if (threadIdx.x < 3) __syncthreads();  // the others wait in a shuffle: no barrier completes\n'
            '    o[threadIdx.x] = __shfl_sync(0xffffffffu, 1.0f, 0);\n}\n')
    k = KernelCode("bad", "bad", "test", "", (1, 1, 1), (32, 1, 1), True, ["float*"], 0)
    p = Program("bad", text, {"bad": k}, [Launch("bad", [Loc("out", 0, 0)])], b"", 0, 0, [], [((32,), np.float32)],
                "int")
    exe = hostsim.compile(parse_hlo("HloModule m\n\nENTRY e {\n  ROOT c = f32[32] constant({...})\n}\n",
                                    verify=False, elided="zeros"), program=p)
    with pytest.raises(RuntimeError, match="deadlock"):
        exe()


def test_unsupported_ops_say_what():
    text = """HloModule u

ENTRY main {
  x = c64[4] parameter(0)
  ROOT y = c64[4] negate(x)
}
"""
    with pytest.raises(gpu.Unsupported, match="c64"):
        gpu.generate(optimized(text))


def test_gpu_preset_of_the_fusion_pass():
    from xla_magic.passes.fusion import PRESETS

    cfg = PRESETS["gpu"]
    assert cfg.target == "gpu" and cfg.row_fusion and cfg.multi_output
    assert cfg.max_instructions < PRESETS["cpu"].max_instructions


@pytest.mark.skipif(shutil.which("g++") is None, reason="no g++")
def test_host_source_is_what_nvrtc_compiles():
    g = generated("layernorm")
    src = hostsim.host_source(g.program)
    assert g.program.source in src and gpu.header() in src


# --- the benchmark workloads -------------------------------------------------------------------

def _workloads():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    import workloads

    return workloads


def test_benchmark_workloads_compile_at_full_size():
    """W1-W6 at the sizes benchmarks/gpu.py measures: generated, NVRTC-compiled, one kernel each for
    the fused ones, a cuBLAS call for W5's dot."""
    need_nvrtc()
    from xla_magic.backends.gpu.program import Dot, walk

    wl = _workloads()
    counts = {}
    for make in wl.ALL:
        w = make()
        g = gpu.generate(optimized(w.hlo))
        g.compiled("sm_90")
        counts[w.name] = (len(g.program.kernels), sum(isinstance(s, Dot) for s in walk(g.program.steps)))
    assert counts["W1"] == (1, 0) and counts["W2"] == (1, 0)
    assert counts["W3"][0] == 1 and counts["W4"][0] == 1
    assert counts["W5"] == (1, 1)


@needs_cxx
@pytest.mark.parametrize("name,kw", [("w1", {}), ("w2", {"n": 4099}), ("w3", {"rows": 33, "cols": 300}),
                                     ("w4", {"rows": 33, "cols": 300}), ("w5", {"m": 8, "k": 64, "n": 48}),
                                     ("w6", {"hidden": 32})])
def test_benchmark_workloads_in_host_simulation(name, kw):
    w = getattr(_workloads(), name)(**kw)
    args = w.inputs(np.random.default_rng(0))
    got = hostsim.compile(optimized(w.hlo))(*args)
    ref = w.numpy(*args)
    got, ref = (got if isinstance(got, tuple) else (got,)), (ref if isinstance(ref, tuple) else (ref,))
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, np.asarray(r, np.float32), rtol=2e-4, atol=2e-5)


ARGMAX = """argmax {
  a = f32[] parameter(0)
  ai = s32[] parameter(1)
  b = f32[] parameter(2)
  bi = s32[] parameter(3)
  gt = pred[] compare(a, b), direction=GT
  eq = pred[] compare(a, b), direction=EQ
  lt = pred[] compare(ai, bi), direction=LT
  tie = pred[] and(eq, lt)
  take = pred[] or(gt, tie)
  v = f32[] select(take, a, b)
  i = s32[] select(take, ai, bi)
  ROOT r = (f32[], s32[]) tuple(v, i)
}
"""


@needs_cxx
def test_few_long_rows_split_across_blocks():
    """A sum (with a non-identity init and an epilogue) and an argmax over long rows: two kernels,
    partial values per chunk, then per row."""
    text = f"""HloModule s

{ADD}ENTRY main {{
  x = f32[3,200000] parameter(0)
  one = f32[] constant(1)
  s = f32[3] reduce(x, one), dimensions={{1}}, to_apply=add
  c = f32[] constant(0.5)
  cb = f32[3] broadcast(c), dimensions={{}}
  ROOT m = f32[3] multiply(s, cb)
}}
"""
    x = np.random.default_rng(5).standard_normal((3, 200000)).astype(np.float32)
    p = check(text, x, rtol=2e-5, atol=1e-4)
    assert [k.schedule for k in p.kernels.values()] == ["row/split13-partial", "row/split13-final"]
    text2 = f"""HloModule am

{ARGMAX}ENTRY main {{
  x = f32[2,150000] parameter(0)
  io = s32[2,150000] iota(), iota_dimension=1
  ninf = f32[] constant(-inf)
  z = s32[] constant(0)
  ROOT r = (f32[2], s32[2]) reduce(x, io, ninf, z), dimensions={{1}}, to_apply=argmax
}}
"""
    y = np.random.default_rng(6).standard_normal((2, 150000)).astype(np.float32)
    y[1, 777] = y[1, 149_000] = 10.0  # a tie: the lower index wins
    p = check(text2, y, rtol=0, atol=0)
    assert len(p.kernels) == 2


@needs_cxx
def test_bitcast_convert_between_widths_in_hostsim():
    """Narrowing and widening bitcast-converts (pieces little-endian), fused with neighbours."""
    from test_cpu_bitcast_widths import PAIRS, _data

    from xla_magic.hlo.dtypes import DTYPES

    rng = np.random.default_rng(7)
    params, roots, args = [], [], []
    for k, (src, dst) in enumerate(PAIRS):
        sb, db = DTYPES[src].bits, DTYPES[dst].bits
        if sb > db:
            arg = _data(src, (3, 2), rng)
            ins, outs = "3,2", f"3,2,{sb // db}"
        else:
            arg = _data(dst, (3, 2), rng).view(DTYPES[src].np_dtype).reshape(3, 2, db // sb)
            ins, outs = f"3,2,{db // sb}", "3,2"
        params.append(f"  p{k} = {src}[{ins}] parameter({k})\n  c{k} = {src}[{ins}] copy(p{k})\n"
                      f"  b{k} = {dst}[{outs}] bitcast-convert(c{k})")
        roots.append((f"{dst}[{outs}]", f"b{k}"))
        args.append(arg)
    text = ("HloModule b\n\nENTRY e {\n" + "\n".join(params) + "\n  ROOT t = (" + ", ".join(s for s, _ in roots)
            + ") tuple(" + ", ".join(n for _, n in roots) + ")\n}\n")
    got, want, _ = run_both(text, *args)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape and g.tobytes() == w.tobytes()


@needs_cxx
def test_map_in_hostsim():
    from test_cpu_map_and_variadic_window import MAP3

    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((4, 5)).astype(np.float32), rng.standard_normal((4, 5)).astype(np.float32) * 3
    check(MAP3, x, y, rng.integers(-5, 5, (4, 5)).astype(np.int32), rtol=1e-6)


@needs_cxx
@pytest.mark.parametrize("window", ["plain", "padded", "dilated"])
def test_variadic_reduce_window_in_hostsim(window):
    from test_cpu_map_and_variadic_window import ARGMAX, WINDOWS

    spec, out = WINDOWS[window]
    x = np.random.default_rng(1).standard_normal((6, 7)).astype(np.float32) * 3
    check(ARGMAX.replace("WINDOW", spec).replace("OUT", out), x, rtol=1e-6, atol=0)  # (indices: exact)
