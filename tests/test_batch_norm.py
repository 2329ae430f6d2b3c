"""batch-norm-training/-inference/-grad: the interpreter's direct implementation, the expansion
into plain HLO (passes/batch_norm.py) and the cpu backend, each against XLA:CPU's outputs
(tests/batch_norm_data/generate.py) for f32/f64/f16/bf16, ranks 2-4, every feature_index."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

import xla_magic as xm
from xla_magic.hlo.ir import Module, clone_module
from xla_magic.hlo.verifier import verify_module
from xla_magic.passes.batch_norm import expand_batch_norm
from xla_magic.passes.fusion import PRESETS
from xla_magic.passes.pipeline import default_pipeline, optimize, pass_names

DATA = np.load(Path(__file__).parent / "batch_norm_data" / "xla_cpu.npz")
CASES = list(range(sum(1 for f in DATA.files if f.startswith("text"))))
BATCH_NORMS = {"batch-norm-training", "batch-norm-inference", "batch-norm-grad"}
# |got - want| <= tol * (1 + |want|). The direct implementation computes in f64 and rounds once;
# the expansion follows XLA's formulas in the element type (bf16 in f32, as XLA:CPU does).
TOLERANCE = {"f64": 1e-9, "f32": 1e-5, "f16": 2.5e-2, "bf16": 2.5e-2}
EXPANDED_TOLERANCE = {**TOLERANCE, "bf16": 1e-2}  # one bf16 ulp: XLA:CPU's own computation


def _case(k: int) -> tuple[str, str, list[np.ndarray], list[np.ndarray]]:
    t = str(DATA[f"dtype{k}"])

    def arr(key: str) -> np.ndarray:
        a = DATA[key]
        return a.view(ml_dtypes.bfloat16) if t == "bf16" else a

    ins = [arr(f"in{k}_{j}") for j in range(6)]
    outs = [arr(f"out{k}_{j}") for j in range(7)]
    return t, str(DATA[f"text{k}"]), ins, outs


def _name(k: int) -> str:
    return str(DATA[f"text{k}"]).split()[1]  # bn_<type>_r<rank>_f<feature_index>


def _close(got: object, want: list[np.ndarray], tol: float, what: str) -> None:
    got_list = list(got) if isinstance(got, tuple) else [got]
    assert len(got_list) == len(want)
    for j, (g, w) in enumerate(zip(got_list, want)):
        g = np.asarray(g)
        assert g.dtype == w.dtype and g.shape == w.shape, f"{what} output {j}: {g.dtype}{g.shape}"
        g64, w64 = g.astype(np.float64), w.astype(np.float64)
        err = float(np.max(np.abs(g64 - w64) / (1 + np.abs(w64))))
        assert err <= tol, f"{what} output {j}: error {err:.3g} > {tol}"


def _expanded(module: Module) -> Module:
    m = clone_module(module)
    assert expand_batch_norm(m)
    verify_module(m)
    assert not {i.opcode.value for c in m.computations for i in c.instructions} & BATCH_NORMS
    return xm.parse_hlo(m.to_text())  # and it prints as HLO that reads back


@pytest.mark.parametrize("k", CASES, ids=_name)
def test_interpreter_matches_xla_cpu(k):
    t, text, ins, outs = _case(k)
    _close(xm.interpret(xm.parse_hlo(text), *ins), outs, TOLERANCE[t], f"{_name(k)} interpreter")


@pytest.mark.parametrize("k", CASES, ids=_name)
def test_expansion_matches_xla_cpu_and_the_interpreter(k):
    t, text, ins, outs = _case(k)
    module = xm.parse_hlo(text)
    got = xm.interpret(_expanded(module), *ins)
    _close(got, outs, EXPANDED_TOLERANCE[t], f"{_name(k)} expanded")
    _close(got, list(xm.interpret(module, *ins)), TOLERANCE[t], f"{_name(k)} expanded vs direct")


# Every f32 case, and rank 4 (the feature dimension first, inner and last) in the other types.
CPU_CASES = [k for k in CASES if str(DATA[f"dtype{k}"]) == "f32" or "_r4_" in _name(k)]


@pytest.mark.parametrize("k", CPU_CASES, ids=_name)
def test_cpu_matches_xla_cpu(k):
    pytest.importorskip("llvmlite")
    t, text, ins, outs = _case(k)
    exe = xm.compile(xm.parse_hlo(text), target="cpu", cache=False)
    assert not {i.opcode.value for c in exe.module.computations for i in c.instructions} & BATCH_NORMS
    _close(exe(*ins), outs, EXPANDED_TOLERANCE[t], f"{_name(k)} cpu")


GPU_CASES = [k for k in CASES if "_r4_f2" in _name(k)]  # every type, the feature dimension inner


@pytest.mark.parametrize("k", GPU_CASES, ids=_name)
def test_gpu_program_matches_xla_cpu_on_the_host_simulation(k):
    from xla_magic.backends.gpu import hostsim

    ok, why = hostsim.available()
    if not ok:
        pytest.skip(why)
    t, text, ins, outs = _case(k)
    module, _ = optimize(xm.parse_hlo(text), target="gpu")
    assert not {i.opcode.value for c in module.computations for i in c.instructions} & BATCH_NORMS
    _close(hostsim.compile(module)(*ins), outs, EXPANDED_TOLERANCE[t], f"{_name(k)} gpu")


def test_unoptimized_cpu_compile_expands_batch_norm():
    pytest.importorskip("llvmlite")
    t, text, ins, outs = _case(CASES[-1])
    _close(xm.compile(xm.parse_hlo(text), target="cpu", optimize=False, cache=False)(*ins), outs,
           EXPANDED_TOLERANCE[t], "unoptimized cpu")


def test_the_interpreter_runs_batch_norm_as_given():
    _, text, _, _ = _case(CASES[0])
    exe = xm.compile(xm.parse_hlo(text), target="interpreter", optimize=False)
    assert {i.opcode.value for i in exe.module.entry.instructions} >= BATCH_NORMS


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_expands_batch_norm_before_simplification(preset):
    names = pass_names(default_pipeline(preset))
    assert names.index("call-inliner") < names.index("batchnorm-expander") < names.index("algsimp")


def test_nothing_to_expand_is_no_change():
    m = xm.parse_hlo("HloModule m\nENTRY e {\n  x = f32[4] parameter(0)\n  ROOT y = f32[4] add(x, x)\n}")
    before = m.to_text()
    assert not expand_batch_norm(m) and m.to_text() == before


LOOP = """HloModule loop

body {
  s = (s32[], f32[4,3]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  x = f32[4,3] get-tuple-element(s), index=1
  one = s32[] constant(1)
  next = s32[] add(i, one)
  scale = f32[3] constant({1, 2, 0.5})
  offset = f32[3] constant({0, 1, -1})
  t = (f32[4,3], f32[3], f32[3]) batch-norm-training(x, scale, offset), epsilon=0.01, feature_index=1
  y = f32[4,3] get-tuple-element(t), index=0
  ROOT r = (s32[], f32[4,3]) tuple(next, y)
}

cond {
  s = (s32[], f32[4,3]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  n = s32[] constant(3)
  ROOT lt = pred[] compare(i, n), direction=LT
}

ENTRY e {
  x = f32[4,3] parameter(0)
  zero = s32[] constant(0)
  init = (s32[], f32[4,3]) tuple(zero, x)
  w = (s32[], f32[4,3]) while(init), condition=cond, body=body
  ROOT y = f32[4,3] get-tuple-element(w), index=1
}
"""


def test_batch_norm_in_a_loop_body_is_expanded_there():
    module = xm.parse_hlo(LOOP)
    x = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    want = xm.interpret(module, x)
    _close(xm.interpret(_expanded(module), x), [want], 1e-5, "expanded loop")
    if importlib.util.find_spec("llvmlite") is not None:
        _close(xm.compile(module, target="cpu", cache=False)(x), [want], 1e-5, "cpu loop")
