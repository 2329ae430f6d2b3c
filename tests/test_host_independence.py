"""Results that do not depend on the CPU the code is compiled for or runs on.

No fast-math flag lets LLVM contract a product into a sum (an FMA exists on x86-64-v3, not on v2;
a half-precision one with AVX512-FP16), so every op rounds as the interpreter rounds. Code is also
compiled for the generic x86-64 models `XLA_MAGIC_CPU` names and run where the host has their
features; IR for a machine this host is not (AVX512-FP16) is inspected without being run.
Denormals in `sign` and the zero a max/min reduction returns agree on every target."""
from __future__ import annotations

import random
import re

import ml_dtypes
import numpy as np
import pytest
from conftest import CASE_NAMES, assert_matches, load_case
from test_random_modules import random_module

import xla_magic as xm
from xla_magic.backends.cpu import host_key
from xla_magic.backends.cpu.jit import CPU_ENV, CPU_MODELS, host, target_for
from xla_magic.backends.gpu import hostsim

X86 = host().triple.startswith("x86_64")
needs_x86 = pytest.mark.skipif(not X86, reason="the named CPU models are x86-64 ones")
FP16_MACHINE = "x86-64-v4,+avx512fp16,+avx512bf16"  # a Sapphire Rapids-like target, never run here
RUN_MODELS = ["x86-64-v2", "x86-64-v3"]


def runnable(spec: str) -> bool:
    """The host has every feature the target's code may use."""
    have = set(target_for("").features.split(","))
    return X86 and all(f in have for f in target_for(spec).features.split(",") if f)


@pytest.fixture
def cpu_model(monkeypatch, request):
    """Compiles for the model the test is parametrized with ("" is the host); skips where the host
    could not run that code."""
    spec = request.param
    if spec and not runnable(spec):
        pytest.skip(f"this host cannot run code for {spec}")
    monkeypatch.setenv(CPU_ENV, spec)
    return spec


# --- the target override --------------------------------------------------------------------

@needs_x86
def test_named_models_have_their_features_and_widths():
    assert [target_for(m).vector_bits for m in CPU_MODELS] == [128, 128, 256, 512]
    v3 = set(target_for("x86-64-v3").features.split(","))
    assert {"+sse4.2", "+avx2", "+fma"} <= v3 and "+avx512f" not in v3
    assert "+avx512fp16" in target_for(FP16_MACHINE).features.split(",")
    with pytest.raises(ValueError, match="known: host"):
        target_for("pentium-mmx-2")


@needs_x86
def test_the_override_reaches_code_generation_and_the_cache_key(monkeypatch):
    text = "HloModule m\n\nENTRY e {\n  x = f32[1024] parameter(0)\n  ROOT r = f32[1024] multiply(x, x)\n}\n"
    keys, asm = {}, {}
    for spec in ("", "x86-64-v2", "x86-64-v3"):
        monkeypatch.setenv(CPU_ENV, spec)
        keys[spec] = host_key()
        exe = xm.compile(text, target="cpu")
        asm[spec] = exe.report.artifacts["asm"]
        if not spec or runnable(spec):
            x = np.arange(1024, dtype=np.float32)
            np.testing.assert_array_equal(exe(x), x * x)
    assert len(set(keys.values())) == 3  # the compile caches tell the three apart
    assert "%ymm" not in asm["x86-64-v2"] and "%ymm" in asm["x86-64-v3"]  # SSE only; AVX


@needs_x86
def test_code_for_features_this_machine_lacks_is_shown_not_run(monkeypatch):
    """A model beyond the host compiles (its IR and assembly can be read) but calling it raises
    instead of dying on an illegal instruction, which would kill a notebook's kernel."""
    have = set(target_for("").features.split(","))
    lacking = [f for f in ("+avx512fp16", "+amx-tile", "+avxvnniint16", "+sha512", "+avx10.2-512") if f not in have]
    if not lacking:
        pytest.skip("this machine has every feature the test could ask for")
    monkeypatch.setenv(CPU_ENV, f"x86-64-v2,{lacking[0]}")
    exe = xm.compile("HloModule m\n\nENTRY e {\n  x = f32[8] parameter(0)\n  ROOT r = f32[8] add(x, x)\n}\n",
                     target="cpu", cache=False)
    assert exe.unavailable is not None and lacking[0] in exe.unavailable
    assert "add" in exe.report.artifacts["llvm_ir"]
    with pytest.raises(RuntimeError, match="cannot run here"):
        exe(np.ones(8, np.float32))


# --- no contraction: IR and machine code ----------------------------------------------------

ELEMENTWISE = """HloModule h

ENTRY e {
  x = bf16[64] parameter(0)
  y = f16[64] parameter(1)
  z = f32[64] parameter(2)
  a = bf16[64] multiply(x, x)
  b = bf16[64] add(a, x)
  c = f16[64] multiply(y, y)
  d = f16[64] add(c, y)
  e = f16[64] subtract(d, c)
  f = f32[64] multiply(z, z)
  g = f32[64] subtract(f, z)
  h = f32[64] add(g, f)
  ROOT t = (bf16[64], f16[64], f32[64]) tuple(b, e, h)
}
"""

REDUCTIONS = """HloModule r

add16 {
  p = f16[] parameter(0)
  q = f16[] parameter(1)
  ROOT s = f16[] add(p, q)
}

add32 {
  p = f32[] parameter(0)
  q = f32[] parameter(1)
  ROOT s = f32[] add(p, q)
}

ENTRY e {
  x = f16[16,256] parameter(0)
  y = f32[16,256] parameter(1)
  xx = f16[16,256] multiply(x, x)
  yy = f32[16,256] multiply(y, y)
  z16 = f16[] constant(0)
  z32 = f32[] constant(0)
  r16 = f16[16] reduce(xx, z16), dimensions={1}, to_apply=add16
  r32 = f32[16] reduce(yy, z32), dimensions={1}, to_apply=add32
  ROOT t = (f16[16], f32[16]) tuple(r16, r32)
}
"""

_FLOAT_OP = re.compile(r"= (fmul|fadd|fsub) ((?:[a-z]+ )*)(?:<\d+ x )?(half|float|double|bfloat)\b")
_FMA_INSN = re.compile(r"\bv?f(?:n)?m(?:add|sub)\w*\b")  # vfmadd213ph, vfmadd231ps, vfnmsub...


def float_op_flags(ir_text: str) -> dict[str, set[str]]:
    """{element type: fast-math flags seen on its fmul/fadd/fsub}."""
    out: dict[str, set[str]] = {}
    for _, flags, ty in _FLOAT_OP.findall(ir_text):
        out.setdefault(ty, set()).update(flags.split())
    return out


@needs_x86
@pytest.mark.parametrize("spec", ["", "x86-64-v3", FP16_MACHINE])
def test_elementwise_float_ops_carry_no_fast_math_flags(monkeypatch, spec):
    monkeypatch.setenv(CPU_ENV, spec)
    exe = xm.compile(ELEMENTWISE, target="cpu")
    arts = exe.report.artifacts
    for name in ("llvm_ir", "llvm_ir_opt"):
        flags = float_op_flags(arts[name])
        assert flags and not set().union(*flags.values()), f"{spec or 'host'} {name}: {flags}"
    assert not _FMA_INSN.findall(arts["asm"]), f"{spec or 'host'}: products fused into sums"


@needs_x86
@pytest.mark.parametrize("spec", ["", FP16_MACHINE])
def test_reductions_reassociate_f32_only_and_never_contract(monkeypatch, spec):
    monkeypatch.setenv(CPU_ENV, spec)
    arts = xm.compile(REDUCTIONS, target="cpu").report.artifacts
    flags = float_op_flags(arts["llvm_ir_opt"])
    assert flags.get("half", set()) == set(), flags  # one running sum, rounded at every step
    assert flags["float"] <= {"reassoc"}, flags  # partial sums in vector lanes, but no FMA
    assert not _FMA_INSN.findall(arts["asm"])


# --- the same results for every model -------------------------------------------------------

# (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 rounds to 1 + 2^-11 in f32, so x*x - (1 + 2^-11) is 0 when the
# product is rounded and 2^-24 when it is fused into the subtraction.
_EXACT = """HloModule fma

ENTRY e {
  x = f32[8] parameter(0)
  c = f32[8] parameter(1)
  p = f32[8] multiply(x, x)
  ROOT s = f32[8] subtract(p, c)
}
"""


@pytest.mark.parametrize("cpu_model", ["", *RUN_MODELS], indirect=True)
def test_products_round_before_they_are_added(cpu_model):
    x = np.full(8, 1 + 2.0 ** -12, np.float32)
    c = np.full(8, 1 + 2.0 ** -11, np.float32)
    np.testing.assert_array_equal(xm.compile(_EXACT, target="cpu")(x, c), np.zeros(8, np.float32))
    rng = np.random.default_rng(1)
    args = [rng.standard_normal(64).astype(t) for t in (ml_dtypes.bfloat16, np.float16, np.float32)]
    for g, w in zip(xm.compile(ELEMENTWISE, target="cpu")(*args), xm.interpret(ELEMENTWISE, *args)):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))  # bit for bit


@needs_x86
@pytest.mark.parametrize("cpu_model", RUN_MODELS, indirect=True)
@pytest.mark.parametrize("case", CASE_NAMES)
def test_corpus_on_named_models(cpu_model, case):
    text, args, outs, meta = load_case(case)
    got = xm.compile(text, target="cpu")(*[a.copy() for a in args])
    got = got if isinstance(got, tuple) else (got,)
    for g, e, om in zip(got, outs, meta["outputs"]):
        assert_matches(g, e, om, label=f"cpu {cpu_model} ")


@needs_x86
@pytest.mark.parametrize("cpu_model", RUN_MODELS, indirect=True)
@pytest.mark.parametrize("seed", range(30))
def test_random_modules_on_named_models(cpu_model, seed):
    text, dims = random_module(random.Random(seed * 7919 + 13))
    nr = np.random.default_rng(seed)
    args = [nr.standard_normal(dims).astype(np.float32) for _ in range(2)]
    for g, w in zip(xm.compile(text, target="cpu")(*args), xm.interpret(text, *args)):
        np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(w, np.float64), rtol=2e-4, atol=1e-5,
                                   equal_nan=True, err_msg=text)


# --- denormals and signed zeros agree on every target ---------------------------------------

def _targets():
    yield "interpreter", lambda m: xm.compile(m, target="interpreter")
    yield "cpu", lambda m: xm.compile(m, target="cpu")
    if hostsim.available()[0]:
        yield "gpu-hostsim", hostsim.compile


def _signs(values) -> list[str]:
    return [("-" if np.signbit(v) else "") + ("nan" if np.isnan(v) else str(abs(float(v)))) for v in values]


# sign reads a denormal of the type it computes in as zero (XLA:CPU runs with denormals-are-zero):
# f32 and bf16 compute in f32, f64 in f64; f16 computes in f32, where its subnormals are normal.
SIGN_CASES = {
    "f32": (np.float32, [1.4e-45, -1.4e-45, -1e-39, 1.2e-38, 0.0, -0.0, np.nan, -3.0],
            ["0.0", "-0.0", "-0.0", "1.0", "0.0", "-0.0", "nan", "-1.0"]),
    "f64": (np.float64, [5e-324, -1e-310, 1e-39, -1e-39, -0.0, np.nan],
            ["0.0", "-0.0", "1.0", "-1.0", "-0.0", "nan"]),
    "bf16": (ml_dtypes.bfloat16, [1e-39, -1e-39, 2e-38, -0.0], ["0.0", "-0.0", "1.0", "-0.0"]),
    "f16": (np.float16, [6e-8, -6e-8, 0.0, -0.0], ["1.0", "-1.0", "0.0", "-0.0"]),
}


@pytest.mark.parametrize("dt", list(SIGN_CASES))
def test_sign_of_denormals_is_zero_on_every_target(dt):
    npd, values, want = SIGN_CASES[dt]
    n = len(values)
    m = xm.parse_hlo(f"HloModule s\n\nENTRY e {{\n  x = {dt}[{n}] parameter(0)\n  ROOT r = {dt}[{n}] sign(x)\n}}\n")
    x = np.array(values, npd)
    for name, make in _targets():
        assert _signs(np.asarray(make(m)(x), np.float64)) == want, name


@pytest.mark.parametrize("dt", ["f32", "f16", "bf16", "f64"])
@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_max_min_reductions_order_negative_zero_below_zero(op, dt):
    init = "-inf" if op == "maximum" else "inf"
    m = xm.parse_hlo(f"""HloModule m

f {{
  a = {dt}[] parameter(0)
  b = {dt}[] parameter(1)
  ROOT r = {dt}[] {op}(a, b)
}}

ENTRY e {{
  x = {dt}[8] parameter(0)
  i = {dt}[] constant({init})
  w = {dt}[4] reduce-window(x, i), window={{size=2 stride=2}}, to_apply=f
  r = {dt}[] reduce(x, i), dimensions={{0}}, to_apply=f
  ROOT t = ({dt}[4], {dt}[]) tuple(w, r)
}}
""")
    npd = {"f32": np.float32, "f16": np.float16, "bf16": ml_dtypes.bfloat16, "f64": np.float64}[dt]
    x = np.array([0.0, -0.0, -0.0, 0.0, -0.0, -0.0, 0.0, 0.0], npd)
    # windows (0,-0) (-0,0) (-0,-0) (0,0): max is +0 unless every zero is -0; min is -0 if any is
    want = ([False, False, True, False], False) if op == "maximum" else ([True, True, True, False], True)
    for name, make in _targets():
        w, r = make(m)(x)
        got = (list(np.signbit(np.asarray(w, np.float32))), bool(np.signbit(np.float32(r))))
        assert got == want, name
