"""The chlo expansions against XLA:CPU: each rule built into a module, run by the interpreter and
compiled on cpu, and compared with what XLA:CPU computed for the same jax function on the same
inputs (tests/chlo_data, written by tests/chlo_data/generate.py), plus the errors for what the
rules do not take."""
import json
import pathlib

import ml_dtypes
import numpy as np
import pytest

import xla_magic as xm
from xla_magic.backends.gpu import hostsim
from xla_magic.hlo.builder import ModuleBuilder
from xla_magic.hlo.dtypes import DType, dtype, from_numpy
from xla_magic.hlo.opcodes import Opcode
from xla_magic.hlo.shape import Shape
from xla_magic.hlo.stablehlo.chlo import CHLO_RULES, ChloContext, ChloError
from xla_magic.hlo.verifier import verify_module
from xla_magic.passes.pipeline import optimize

DATA_DIR = pathlib.Path(__file__).parent / "chlo_data"
META: dict[str, dict] = json.loads((DATA_DIR / "cases.json").read_text())
DATA = dict(np.load(DATA_DIR / "cases.npz"))

# Allowed error in units of the element type's epsilon, relative to max(|XLA's value|, floor).
# Differences come from XLA:CPU's own exp/log/sin polynomials against numpy's and llvm's libm, so
# the elementary functions agree within a few ulp; where a formula amplifies such a difference
# the bound says so. NaN and infinity positions must match exactly.
TOLERANCE: dict[str, tuple[float, float]] = {
    "acos": (4, 0), "asin": (4, 0), "atan": (4, 0), "acosh": (4, 0), "asinh": (4, 0),
    "cosh": (4, 0), "sinh": (4, 0), "tan": (4, 0), "square": (4, 0), "conj": (0, 0),
    "atanh": (8, 0),  # f64: XLA's log1p differs from libm's by up to 5 ulp
    "erf": (4, 0), "bessel_i1e": (4, 0), "zeta": (4, 0),
    "erfc": (8, 0), "erf_inv": (8, 0),  # f64: e^(-x^2) and log1p(-x^2) carry XLA's exp/log error
    "lgamma": (4, 1.0),  # absolute near the zeros at 1 and 2 (log(a) cancels the rest)
    "digamma": (8, 1.0),  # the reflection's pi cot(pi x) magnifies sin/cos differences
    "polygamma": (8, 0), "broadcast_polygamma": (8, 0),  # exp(lgamma(n + 1)) magnifies lgamma's
    "broadcast_zeta": (4, 0), "broadcast_atan2": (4, 0), "broadcast_power": (4, 0),
}
EXACT = (0.0, 0.0)  # next_after, the is_inf family, top_k, integer and the other broadcast ops


def _np_type(name: str) -> np.dtype:
    return np.dtype(ml_dtypes.bfloat16) if name == "bf16" else dtype(name).np_dtype


def _case(case: str, dt: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The inputs of a case for one element type, and XLA:CPU's outputs."""
    ins = [DATA[f"{case}/{dt}/in{i}"] for i in range(3) if f"{case}/{dt}/in{i}" in DATA]
    ins = [a.astype(ml_dtypes.bfloat16) if dt == "bf16" else a for a in ins]
    want = [DATA[f"{case}/{dt}/out{j}"] for j in range(2) if f"{case}/{dt}/out{j}" in DATA]
    return ins, want


def _out_type(dt: str, want: np.ndarray) -> DType:
    return dtype("bf16") if dt == "bf16" and want.dtype.kind == "f" else from_numpy(want.dtype)


def _attrs(case: str) -> dict[str, object]:
    # as the StableHLO reader hands them over: integer arrays as tuples
    return {k: tuple(v) if isinstance(v, list) else v for k, v in META[case].get("attrs", {}).items()}


def _module(cases: str | list[str], dt: str):
    """The rules of `cases` applied to parameters holding their inputs, the results the tuple root."""
    mb = ModuleBuilder()
    b = mb.computation("main")
    args, outs = [], []
    for case in [cases] if isinstance(cases, str) else cases:
        ins, want = _case(case, dt)
        params = [b.parameter(len(args) + n, Shape.array(dtype(dt) if dt == "bf16" else from_numpy(a.dtype), a.shape),
                              f"x{len(args) + n}") for n, a in enumerate(ins)]
        args += ins
        types = [Shape.array(_out_type(dt, w), w.shape) for w in want]
        outs += CHLO_RULES[META[case]["op"]](ChloContext(b, mb), params, _attrs(case), types)
    return mb.build("chlo", b.finish(b.tuple(*outs))), args


def _check(case: str, dt: str, got: tuple, target: str) -> None:
    op = META[case]["op"]
    ulps, floor = TOLERANCE.get(case, TOLERANCE.get(op, EXACT))
    wants = _case(case, dt)[1]
    assert len(got) == len(wants)
    for w, g in zip(wants, got):
        g = np.asarray(g)
        where = f"{case} {dt} on {target}"
        assert g.shape == w.shape and g.dtype == (_np_type(dt) if w.dtype.kind == "f" else w.dtype), where
        if w.dtype.kind not in "fc":
            np.testing.assert_array_equal(g, w, err_msg=where)
            continue
        g = g.astype(w.dtype)
        size = np.abs(w)
        if w.dtype.kind == "c":  # each part measured against the larger finite part
            size = np.repeat(np.fmax(np.abs(w.real), np.abs(w.imag)), 2)
            g, w = g.view(w.real.dtype), w.view(w.real.dtype)
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=f"{where}: NaN positions")
        inf = np.isinf(w)
        np.testing.assert_array_equal(g[inf], w[inf], err_msg=f"{where}: infinities")
        fin = np.isfinite(w)
        if ulps == 0:  # bit for bit, the sign of zero included
            np.testing.assert_array_equal(np.signbit(g[fin]), np.signbit(w[fin]), err_msg=where)
            np.testing.assert_array_equal(g[fin], w[fin], err_msg=where)
            continue
        info = ml_dtypes.finfo(w.dtype if dt in ("c64", "c128") else _np_type(dt))
        scale = np.maximum(size[fin], max(floor, float(info.tiny)))
        err = np.abs(g[fin] - w[fin]) / scale / float(info.eps)
        assert err.max(initial=0) <= ulps, f"{where}: {err.max():.3g} ulp at input index {np.argmax(err)}"


@pytest.mark.parametrize("case, dt", [(c, d) for c in sorted(META) for d in META[c]["dtypes"]])
def test_rule_matches_xla_cpu(case, dt):
    module, args = _module(case, dt)
    verify_module(module)
    assert xm.parse_hlo(module.to_text()).to_text() == module.to_text()  # HLO text carries it whole
    _check(case, dt, xm.interpret(module, *args), "interpreter")
    # the cpu backend has no complex types: complex cases run on the interpreter only
    if dt not in ("c64", "c128") and case != "broadcast_complex":
        _check(case, dt, xm.compile(module, target="cpu")(*args), "cpu")


GPU_SAMPLE = ["asinh", "erf_inv", "lgamma", "bessel_i1e", "next_after", "top_k", "broadcast_select"]


@pytest.mark.skipif(not hostsim.available()[0], reason="no C++ compiler for the gpu host simulation")
def test_expansions_run_as_generated_gpu_code():
    # the CUDA C the gpu target generates, run on the host: every opcode the expansions use has
    # a gpu code generator (the host libm stands in for CUDA's, within the same tolerances)
    module, args = _module(GPU_SAMPLE, "f32")
    got = hostsim.compile(optimize(module, target="gpu")[0])(*args)
    for case in GPU_SAMPLE:
        n = len(_case(case, "f32")[1])
        _check(case, "f32", got[:n], "gpu host simulation")
        got = got[n:]


def test_every_chlo_op_jax_emits_has_a_rule():
    # what jax 0.10.2 lowers to chlo (found by lowering jax.lax / jax.numpy / jax.scipy.special)
    emitted = {"acos", "acosh", "asin", "asinh", "atan", "atanh", "cosh", "sinh", "square", "erf", "erfc",
               "erf_inv", "lgamma", "digamma", "polygamma", "zeta", "bessel_i1e", "next_after", "top_k"}
    assert emitted <= set(CHLO_RULES)
    assert {m["op"] for m in META.values()} <= set(CHLO_RULES)


def _apply(op: str, shapes: list[Shape], attrs: dict | None = None, types: list[Shape] | None = None):
    """The rule's instructions for parameters of `shapes`, and a function making them a module."""
    mb = ModuleBuilder()
    b = mb.computation("main")
    params = [b.parameter(i, s, f"x{i}") for i, s in enumerate(shapes)]
    outs = CHLO_RULES[op](ChloContext(b, mb), params, attrs or {}, types or [])
    return outs, lambda: mb.build(op, b.finish(b.tuple(*outs)))


@pytest.mark.parametrize("op, dt, message", [
    ("erfc", "c64", "chlo.erfc is not supported for element type c64"),
    ("digamma", "c128", "chlo.digamma is not supported for element type c128"),
    ("acos", "s32", "chlo.acos is not supported for element type s32"),
    ("lgamma", "s32", "chlo.lgamma is not supported for element type s32"),
    ("erf", "f8e4m3", "chlo.erf is not supported for element type f8e4m3"),
    ("is_inf", "c64", "chlo.is_inf is not supported for element type c64"),
])
def test_unsupported_element_types_are_named(op, dt, message):
    with pytest.raises(ChloError, match=message):
        _apply(op, [Shape.array(dt, (2,))])


def test_bad_operands_and_attributes_are_named():
    f32 = Shape.array("f32", (3,))
    with pytest.raises(ChloError, match="chlo.zeta takes 2 operand"):
        _apply("zeta", [f32])
    with pytest.raises(ChloError, match="one array shape"):
        _apply("next_after", [f32, Shape.array("f32", (4,))])
    with pytest.raises(ChloError, match="cannot broadcast f32\\[3\\]"):
        _apply("broadcast_add", [f32, Shape.array("f32", (4,))])
    with pytest.raises(ChloError, match="broadcast_dimensions"):
        _apply("broadcast_add", [Shape.array("f32", (2, 3)), f32], {"broadcast_dimensions": (0, 1)})
    with pytest.raises(ChloError, match="comparison_direction"):
        _apply("broadcast_compare", [f32, f32], {"comparison_direction": "XX"})
    with pytest.raises(ChloError, match="declared type"):
        _apply("broadcast_add", [f32, f32], {}, [Shape.array("f32", (4,))])
    with pytest.raises(ChloError, match="k=5"):
        _apply("top_k", [Shape.array("f32", (2, 4))], {"k": 5})
    with pytest.raises(ChloError, match="chlo.ragged_dot is not supported"):
        _apply("ragged_dot", [Shape.array("f32", (4, 3)), Shape.array("f32", (2, 3, 5)),
                              Shape.array("s32", (2,))])


def test_broadcast_compare_keeps_its_compare_type():
    (r,), module = _apply("broadcast_compare", [Shape.array("f32", (2, 1)), Shape.array("f32", (3,))],
                          {"comparison_direction": "LT", "compare_type": "TOTALORDER"})
    assert r.opcode is Opcode.COMPARE and r.attrs == {"direction": "LT", "type": "TOTALORDER"}
    assert r.shape == Shape.array("pred", (2, 3))
    # in the total order -0 < +0 and NaN is above +inf
    (got,) = xm.interpret(module(), np.array([[-0.0], [np.nan]], np.float32),
                          np.array([0.0, np.inf, -1.0], np.float32))
    np.testing.assert_array_equal(got, [[True, True, False], [False, False, False]])


def test_constants_take_the_declared_type_and_shape():
    (c,), _ = _apply("constant", [], {"value": np.array(1.5)}, [Shape.array("f32", (2, 2))])
    assert c.shape == Shape.array("f32", (2, 2))
    np.testing.assert_array_equal(c.literal, np.full((2, 2), 1.5, np.float32))
    (c,), module = _apply("constant_like", [Shape.array("s32", (3,))], {"value": 7}, [Shape.array("f64", (3,))])
    assert c.shape == Shape.array("f64", (3,))
    np.testing.assert_array_equal(xm.interpret(module(), np.zeros(3, np.int32))[0], [7.0, 7.0, 7.0])
    with pytest.raises(ChloError, match="does not fit"):
        _apply("constant", [], {"value": np.zeros(3)}, [Shape.array("f32", (2,))])
