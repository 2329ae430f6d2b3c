"""XLA's HLO text grammar as XLA's own files use it: no module header, no ENTRY, result shapes
left to the shape rules, scalar broadcasts without dimensions, the attributes XLA prints; elided
constants; and the inverse trigonometric and hyperbolic opcodes end to end."""
from __future__ import annotations

import warnings

import ml_dtypes
import numpy as np
import pytest

import xla_magic as xm
from xla_magic import cli
from xla_magic.backends import gpu
from xla_magic.backends.gpu import hostsim
from xla_magic.passes.pipeline import optimize

# --- module structure --------------------------------------------------------------------------


def test_no_header_names_the_module_after_its_entry():
    m = xm.parse_hlo("add {\n  a = f32[] parameter(0)\n  ROOT r = f32[] add(a, a)\n}\n"
                     "main {\n  x = f32[4] parameter(0)\n  ROOT n = f32[4] negate(x)\n}\n")
    assert m.name == "main" and m.entry.name == "main"  # no ENTRY: the last computation is the entry
    assert xm.parse_hlo(m.to_text()) == m
    np.testing.assert_array_equal(xm.interpret(m, np.arange(4, dtype=np.float32)), -np.arange(4))


def test_entry_marked_anywhere_wins_over_the_last_computation():
    m = xm.parse_hlo("ENTRY e {\n  ROOT c = s32[] constant(1)\n}\nother {\n  ROOT c = s32[] constant(2)\n}\n")
    assert m.entry.name == "e" and int(xm.interpret(m)) == 1


def test_comments_of_every_kind():
    m = xm.parse_hlo("// RUN: tool %s\n/* block */ HloModule m // trailing\n\nENTRY e {\n"
                     "  p = (f32[], f32[], f32[], f32[], f32[], /*index=5*/f32[]) parameter(0)\n"
                     "  ROOT g = f32[] get-tuple-element(p), index=5 // last\n}\n// CHECK: nothing\n")
    assert m.entry.root.attrs["index"] == 5


# --- result shapes XLA infers --------------------------------------------------------------------

INFERRED = """HloModule m
ENTRY e {
  x = f32[2,3] parameter(0)
  y = f32[2,3] parameter(1)
  s = add(x, y)
  c = compare(s, y), direction=GT
  p = select(c, s, y)
  a = acos(x)
  ROOT t = tuple(p, c, a)
}
"""


def test_result_shapes_left_out_are_inferred():
    m = xm.parse_hlo(INFERRED)
    shapes = {i.name: i.shape.to_text(layout=False) for i in m.entry.instructions}
    assert shapes["s"] == "f32[2,3]" and shapes["c"] == "pred[2,3]" and shapes["p"] == "f32[2,3]"
    assert shapes["t"] == "(f32[2,3], pred[2,3], f32[2,3])"
    assert xm.parse_hlo(m.to_text()) == m  # printed with the shapes, the text reads back


@pytest.mark.parametrize("bad, line, col, expect", [
    ("ENTRY e {\n  x = f32[2] parameter(0)\n  ROOT b = broadcast(x), dimensions={0}\n}", 3, 12,
     "'b': broadcast needs its result shape"),
    ("ENTRY e {\n  ROOT c = constant(1)\n}", 2, 12, "'c': constant needs its result shape"),
    ("ENTRY e {\n  x = f32[2] parameter(0)\n  y = f32[3] parameter(1)\n  ROOT s = add(x, y)\n}", 4, 8,
     "'s' has no result shape and XLA's shape rules give none"),
    ("ENTRY e {\n  x = f32[2] parameter(0)\n  ROOT s = add(x, t)\n  t = negate(x)\n}", 3, 19,
     "'t' is used before its definition"),
])
def test_uninferable_shapes_are_errors_with_line_and_column(bad, line, col, expect):
    with pytest.raises(xm.HloParseError) as ei:
        xm.parse_hlo(bad)
    assert (ei.value.line, ei.value.column) == (line, col), str(ei.value)
    assert expect in str(ei.value)
    assert "^" in ei.value.excerpt


# --- broadcast of a scalar -----------------------------------------------------------------------


def test_scalar_broadcast_without_dimensions():
    m = xm.parse_hlo("ENTRY e {\n  c = f32[] constant(2)\n  ROOT b = f32[2,2] broadcast(f32[] c)\n}")
    assert m.entry.root.attrs["dimensions"] == ()
    np.testing.assert_array_equal(xm.interpret(m), np.full((2, 2), 2, np.float32))


def test_array_broadcast_without_dimensions_is_an_error():
    with pytest.raises(xm.HloParseError, match="rank-1 operand needs dimensions") as ei:
        xm.parse_hlo("ENTRY e {\n  x = f32[2] parameter(0)\n  ROOT b = f32[2,2] broadcast(x)\n}")
    assert (ei.value.line, ei.value.column) == (3, 8)


# --- attributes and shapes as XLA prints them -------------------------------------------------------


def test_attributes_xla_prints_are_read_and_kept():
    text = """HloModule m, is_scheduled=true, frontend_attributes={fingerprint="x"}
ENTRY e {
  p = f32[8]{0:T(128)} parameter(0), sharding={replicated}, origin={{"p"}}
  q = f32[]{:T(128)} parameter(1), frontend_attributes={_xla_compute_type="host"}
  e = f32[8] exponential(p), result_accuracy={mode=highest}, statistics={visualizing_index=1,stat-index-1=0.5}
  n = f32[8] negate(p), control-predecessors={e}, backend_config={
      "operation_queue_id":"0",
      "wait_on_operation_queues":[],
      "force_earliest_schedule":false}
  ROOT d = f32[] dot(e, n), lhs_contracting_dims={0}, rhs_contracting_dims={0},
    operand_precision={highest,highest}
}
"""
    m = xm.parse_hlo(text)
    again = xm.parse_hlo(m.to_text())
    assert again == m
    e = m.entry.instruction("e")
    assert "result_accuracy" in e.attrs and "statistics" in e.attrs
    assert m.entry.instruction("n").attrs["control-predecessors"] == (e,)
    x = np.linspace(-1, 1, 8, dtype=np.float32)
    np.testing.assert_allclose(xm.interpret(m, x, np.float32(0)), np.dot(np.exp(x), -x), rtol=1e-6)


def test_bounded_dimensions_are_read():
    m = xm.parse_hlo("ENTRY e {\n  ROOT p = s32[<=4,2] parameter(0)\n}")
    assert m.entry.root.shape.dynamic == (True, False)


# --- elided constants ----------------------------------------------------------------------------

ELIDED = "HloModule m\nENTRY e {\n  w = f32[4,3] constant({...})\n  x = f32[3] parameter(0)\n" \
         "  ROOT y = f32[4] dot(w, x), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}\n"


def test_elided_constants_through_interpret_and_compile():
    x = np.ones(3, np.float32)
    with pytest.raises(xm.HloParseError, match="elided"):
        xm.interpret(ELIDED, x)
    np.testing.assert_array_equal(xm.interpret(ELIDED, x, elided="zeros"), np.zeros(4, np.float32))
    want = xm.interpret(ELIDED, x, elided="random")
    assert np.abs(want).max() > 0
    np.testing.assert_allclose(xm.compile(ELIDED, elided="random")(x), want, rtol=1e-6)
    assert xm.compile(ELIDED, elided="random") is not xm.compile(ELIDED, elided="zeros")  # the mode is in the key


def test_cli_elided(tmp_path, capsys):
    f = tmp_path / "m.hlo"
    f.write_text(ELIDED)
    assert cli.main(["parse", str(f)]) == 1
    assert "elided" in capsys.readouterr().err
    assert cli.main(["parse", str(f), "--elided", "zeros"]) == 0
    out = capsys.readouterr().out
    assert "{...}" not in out and "0, 0, 0" in out


# --- the inverse trigonometric and hyperbolic opcodes ----------------------------------------------

NEW_OPS = {"acos": np.arccos, "acosh": np.arccosh, "asin": np.arcsin, "asinh": np.arcsinh, "atan": np.arctan,
           "atanh": np.arctanh, "cosh": np.cosh}
EDGE = np.array([0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5, 2.0, 10.0, -10.0, 88.0, 89.0, 1e-30, -1e-30, 1e30,
                 -1e30, 0.999999, 1.000001, np.inf, -np.inf, np.nan])


def unary(op: str, dt: str, n: int) -> str:
    return f"HloModule u\nENTRY e {{\n  x = {dt}[{n}] parameter(0)\n  ROOT r = {dt}[{n}] {op}(x)\n}}\n"


@pytest.mark.parametrize("op", sorted(NEW_OPS))
@pytest.mark.parametrize("dt, npd", [("f32", np.float32), ("f64", np.float64), ("f16", np.float16),
                                     ("bf16", ml_dtypes.bfloat16)])
def test_interpreter_matches_numpy_on_edge_values(op, dt, npd):
    with np.errstate(over="ignore"):
        x = EDGE.astype(npd)
    got = xm.interpret(unary(op, dt, x.size), x)
    assert got.dtype == np.dtype(npd)
    compute = np.float64 if dt == "f64" else np.float32  # half types compute in f32, as XLA:CPU does
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = NEW_OPS[op](x.astype(compute)).astype(npd)
    np.testing.assert_array_equal(got.astype(np.float64), want.astype(np.float64))


@pytest.mark.parametrize("op", sorted(NEW_OPS))
def test_interpreter_on_complex(op):
    z = np.array([0.5 + 0.5j, -2 + 1j, 3 - 4j, 0.25j], np.complex64)
    got = xm.interpret(unary(op, "c64", 4), z)
    np.testing.assert_allclose(got, NEW_OPS[op](z.astype(np.complex128)), rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("op", sorted(NEW_OPS))
@pytest.mark.parametrize("dt, npd, ulps", [("f32", np.float32, 2), ("f64", np.float64, 3), ("f16", np.float16, 1)])
def test_cpu_matches_interpreter(op, dt, npd, ulps):
    rng = np.random.default_rng(7)
    with np.errstate(over="ignore"):  # f16 holds the large ones as infinities
        x = np.concatenate([EDGE, rng.uniform(-1, 1, 200), rng.uniform(1, 20, 100),
                            np.exp(rng.uniform(-30, 30, 100)) * rng.choice([-1, 1], 100)]).astype(npd)
    text = unary(op, dt, x.size)
    got, want = xm.compile(text)(x), xm.interpret(text, x)
    assert np.array_equal(np.isnan(got), np.isnan(want)), x[np.isnan(got) != np.isnan(want)]
    ok = ~np.isnan(want)
    exact = ok & (np.isinf(want) | (want == 0))
    np.testing.assert_array_equal(got[exact], want[exact])
    assert np.array_equal(np.signbit(got[exact]), np.signbit(want[exact]))
    rest = ok & ~exact
    err = np.abs(got[rest].astype(np.float64) - want[rest]) / np.spacing(np.abs(want[rest]))
    assert err.max(initial=0) <= ulps, f"{op} {dt}: {x[rest][err.argmax()]} off by {err.max():.2f} ulp"


@pytest.mark.parametrize("op", sorted(NEW_OPS))
def test_gpu_code_calls_cudas_function(op):
    text = unary(op, "f32", 16) + unary(op, "f64", 16).replace("HloModule u\n", "").replace("ENTRY e", "e64")
    src = gpu.full_source(gpu.generate(optimize(xm.parse_hlo(text), target="gpu")[0]).program)
    assert f"{op}f(" in src  # CUDA's single-precision function for f32
    if hostsim.available()[0]:
        x = np.linspace(-3, 3, 16, dtype=np.float32)
        m, _ = optimize(xm.parse_hlo(unary(op, "f32", 16)), target="gpu")
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(hostsim.compile(m)(x), xm.interpret(unary(op, "f32", 16), x), rtol=4e-6,
                                       atol=1e-7, equal_nan=True)


def test_big_constants_print_elided_in_what_people_read_and_hash_by_their_bytes():
    text = ("HloModule big\nENTRY e {\n  x = f32[300] parameter(0)\n  c = f32[300] constant({...})\n"
            "  ROOT a = f32[300] add(x, c)\n}\n")
    m = xm.parse_hlo(text, elided="random")
    assert "{...}" not in m.to_text()  # the full text reads back the same values
    assert "constant({...})" in m.to_text(literal_limit=64)
    exe = xm.compile(m, target="interpreter")
    assert "constant({...})" in exe.report.hlo_before and "constant({...})" in exe.report.hlo_after
    other = xm.parse_hlo(text, elided="zeros")
    assert m.digest() != other.digest() and m.digest() == xm.parse_hlo(text, elided="random").digest()
    x = np.ones(300, np.float32)
    assert not np.array_equal(xm.compile(m, target="interpreter")(x), xm.compile(other, target="interpreter")(x))
