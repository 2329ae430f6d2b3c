"""StableHLO text (as jax prints it) read into HLO modules: each sample in tests/stablehlo_samples
parses, verifies and runs on the interpreter as XLA:CPU ran it (`generate.py` made the data)."""
from __future__ import annotations

import pathlib
import re

import ml_dtypes
import numpy as np
import pytest

import xla_magic as xm
from xla_magic.hlo.stablehlo import StableHloParseError, looks_like_stablehlo, parse_stablehlo

SAMPLES = pathlib.Path(__file__).parent / "stablehlo_samples"
NAMES = sorted(p.stem for p in SAMPLES.glob("*.mlir"))
# (rtol, atol) per output dtype; the interpreter computes transcendentals in numpy, XLA in its own code.
TOLERANCE = {"float16": (2e-3, 2e-3), "bfloat16": (2e-2, 2e-2), "float32": (2e-5, 2e-5), "float64": (1e-12, 1e-12),
             "complex64": (2e-5, 2e-5), "complex128": (1e-12, 1e-12)}


def _sample(name: str) -> tuple[str, list[np.ndarray], list[np.ndarray]]:
    text = (SAMPLES / f"{name}.mlir").read_text()
    data = np.load(SAMPLES / f"{name}.npz")
    return text, _arrays(data, "in"), _arrays(data, "out")


def _arrays(data, prefix: str) -> list[np.ndarray]:
    """`in0`, `in1`, ...; ml_dtypes arrays are stored as raw bytes beside a `dtype_` entry."""
    out = []
    for k in range(sum(1 for f in data.files if f.startswith(prefix))):
        a = data[f"{prefix}{k}"]
        if f"dtype_{prefix}{k}" in data.files:
            a = a.view(getattr(ml_dtypes, str(data[f"dtype_{prefix}{k}"])))
        out.append(a)
    return out


def assert_matches(got: np.ndarray, want: np.ndarray, what: str) -> None:
    got = np.asarray(got)
    assert got.shape == want.shape and got.dtype == want.dtype, f"{what}: {got.dtype}{got.shape} != " \
                                                                 f"{want.dtype}{want.shape}"
    tol = TOLERANCE.get(want.dtype.name)
    if tol is None:  # integers, booleans, f8: exact
        np.testing.assert_array_equal(got.astype(np.float64) if want.dtype.kind == "V" else got,
                                      want.astype(np.float64) if want.dtype.kind == "V" else want, err_msg=what)
    else:
        np.testing.assert_allclose(got, want, rtol=tol[0], atol=tol[1], err_msg=what)


@pytest.mark.parametrize("name", NAMES)
def test_sample_runs_as_on_xla_cpu(name):
    text, ins, outs = _sample(name)
    assert looks_like_stablehlo(text)
    module = parse_stablehlo(text)
    assert xm.parse_hlo(module.to_text()) == module  # the same typed attributes the HLO parser reads
    got = xm.interpret(module, *ins)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(outs)
    for k, (g, w) in enumerate(zip(got, outs)):
        assert_matches(g, w, f"{name} output {k}")


@pytest.mark.parametrize("generic_name,pretty_name", [("generic_form", "pretty_form"),
                                                     ("control_flow_generic", "control_flow")])
def test_generic_and_pretty_syntax_give_equal_modules(generic_name, pretty_name):
    generic = parse_stablehlo((SAMPLES / f"{generic_name}.mlir").read_text())
    pretty = parse_stablehlo((SAMPLES / f"{pretty_name}.mlir").read_text())
    assert generic == pretty
    assert generic.to_text() == pretty.to_text()


def test_locations_land_in_metadata():
    text = (SAMPLES / "with_locations.mlir").read_text()
    m = parse_stablehlo(text)
    by_op = {i.opcode.value: i for c in m.computations for i in c.instructions}
    tanh, dot = by_op["tanh"].metadata, by_op["dot"].metadata
    assert tanh is not None and tanh.op_name == "jit(with_locations)/tanh"
    assert dot is not None and dot.op_name == "jit(with_locations)/dot_general"
    # The source lines of the function body, where the text's location table puts them.
    lines = {int(n) for n in re.findall(r'loc\("generate.py":(\d+):', text)}
    assert tanh.source_file == "generate.py" and tanh.source_line in lines
    assert m.source_location(by_op["dot"]) == ("generate.py", dot.source_line)
    assert dot.source_line == tanh.source_line + 1  # `y = jnp.tanh(x)`, then `z = y @ x.T`


INLINE_LOCATIONS = """
module @m {
  func.func public @main(%arg0: tensor<2xf32> loc("x")) -> tensor<2xf32> {
    %0 = stablehlo.sine %arg0 : tensor<2xf32> loc("model.py":7:3)
    %1 = stablehlo.cosine %0 : tensor<2xf32> loc("cos_op"("model.py":8:1))
    %2 = stablehlo.tanh %1 : tensor<2xf32> loc(fused["a.py":1:1, "b.py":2:2])
    %3 = stablehlo.negate %2 : tensor<2xf32> loc(callsite("inner.py":3:4 at "outer.py":5:6))
    %4 = stablehlo.abs %3 : tensor<2xf32> loc(#loc9)
    return %4 : tensor<2xf32> loc(unknown)
  }
}
#loc8 = loc("deep.py":42:1)
#loc9 = loc("named"(#loc8))
"""


def test_inline_named_fused_callsite_and_alias_locations():
    m = parse_stablehlo(INLINE_LOCATIONS)
    md = {i.opcode.value: i.metadata for i in m.entry.instructions}
    assert (md["sine"].source_file, md["sine"].source_line) == ("model.py", 7)
    assert (md["cosine"].op_name, md["cosine"].source_line) == ("cos_op", 8)
    assert md["tanh"].source_file == "a.py"
    assert md["negate"].source_file == "inner.py"  # the callee's frame: the innermost source line
    assert (md["abs"].op_name, md["abs"].source_file, md["abs"].source_line) == ("named", "deep.py", 42)


def test_module_attributes_are_kept():
    m = parse_stablehlo((SAMPLES / "unary_float.mlir").read_text())
    assert {k: v.text for k, v in m.attrs.items()} == {"num_partitions": "1", "replica_count": "1"}
    assert xm.parse_hlo(m.to_text()) == m  # the printed module reads back as HLO text


def test_content_detection():
    assert looks_like_stablehlo((SAMPLES / "generic_form.mlir").read_text())
    assert looks_like_stablehlo("func.func @main(%arg0: tensor<f32>) -> tensor<f32> {\n return %arg0 : tensor<f32>\n}")
    assert not looks_like_stablehlo("HloModule m\nENTRY e {\n  ROOT p = f32[] parameter(0)\n}")
    assert not looks_like_stablehlo("ENTRY e {\n  ROOT p = f32[] parameter(0)\n}")


def test_custom_call_keeps_target_and_config():
    text = """
    func.func @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {
      %0 = stablehlo.custom_call @my_kernel(%arg0) {backend_config = "cfg=1", api_version = 2 : i32}
        : (tensor<4xf32>) -> tensor<4xf32>
      return %0 : tensor<4xf32>
    }"""
    (cc,) = [i for i in parse_stablehlo(text).entry.instructions if i.opcode.value == "custom-call"]
    assert cc.attrs["custom_call_target"] == "my_kernel"
    assert cc.attrs["backend_config"].text == '"cfg=1"'
    assert cc.attrs["api_version"] == "API_VERSION_STATUS_RETURNING"


def test_chlo_ops_use_the_expansion_table(monkeypatch):
    from xla_magic.hlo.opcodes import Opcode
    from xla_magic.hlo.stablehlo.chlo import CHLO_RULES

    seen = {}

    def square(ctx, operands, attrs, result_types):
        seen.update(attrs)
        return [ctx.b.op(Opcode.MULTIPLY, operands[0], operands[0])]

    monkeypatch.setitem(CHLO_RULES, "test_square", square)
    text = """
    func.func @main(%arg0: tensor<3xf32>) -> tensor<3xf32> {
      %0 = chlo.test_square %arg0 {k = 2 : i64, d = #chlo<comparison_direction LT>, v = array<i64: 1, 2>}
        : tensor<3xf32> -> tensor<3xf32>
      return %0 : tensor<3xf32>
    }"""
    out = xm.interpret(parse_stablehlo(text), np.array([1, 2, 3], np.float32))
    np.testing.assert_array_equal(out, [1, 4, 9])
    assert seen == {"k": 2, "d": "LT", "v": (1, 2)}


def _error(text: str) -> StableHloParseError:
    with pytest.raises(StableHloParseError) as info:
        parse_stablehlo(text)
    return info.value


BAD = [
    # (text, message part, line, column)
    ("func.func @main(%arg0: tensor<?x4xf32>) -> tensor<f32> {\n}", "dynamic", 1, 31),
    ("func.func @main(%arg0: tensor<*xf32>) -> tensor<f32> {\n}", "unranked", 1, 31),
    ("func.func @main(%arg0: tensor<4xf32, #stablehlo.bounds<8>>) -> tensor<f32> {\n}", "bounded", 1, 31),
    ("func.func @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {\n  %0 = stablehlo.frobnicate %arg0 : tensor<4xf32>\n"
     "  return %0 : tensor<4xf32>\n}", "unknown or unsupported op", 2, 8),
    ("func.func @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {\n  %0 = stablehlo.sine %arg7 : tensor<4xf32>\n"
     "  return %0 : tensor<4xf32>\n}", "%arg7 is not defined", 2, 23),
    ("func.func @main() -> tensor<2xf32> {\n  %0 = stablehlo.constant dense_resource<blob> : tensor<2xf32>\n"
     "  return %0 : tensor<2xf32>\n}", "dense_resource", 2, 27),
    ("func.func @main() -> tensor<2xf32> {\n  %0 = stablehlo.constant dense<[1.0, 2.0, 3.0]> : tensor<2xf32>\n"
     "  return %0 : tensor<2xf32>\n}", "dense literal", 2, 33),
    ("func.func @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {\n  %0 = chlo.no_such_op %arg0 : tensor<4xf32> -> "
     "tensor<4xf32>\n  return %0 : tensor<4xf32>\n}", "chlo.no_such_op", 2, 8),
    ("func.func @main(%arg0: tensor<4x!quant.uniform<i8:f32, 1.0>>) -> tensor<4xf32> {\n}", "quantized", 1, 33),
    ("module {\n  func.func @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {\n    return %arg0 : tensor<4xf32>\n  }\n",
     "'}'", 1, 1),
]


@pytest.mark.parametrize("text,msg,line,column", BAD)
def test_bad_input_points_at_the_fault(text, msg, line, column):
    e = _error(text)
    assert msg in str(e)
    assert (e.line, e.column) == (line, column), str(e)
    shown, caret = e.excerpt.splitlines()
    assert caret.index("^") - 2 == column - 1  # the caret sits under the column in the source line shown
    assert shown.strip() == text.splitlines()[line - 1].strip()


def test_shape_errors_are_verifier_errors_naming_the_op_and_line():
    text = ("func.func @main(%arg0: tensor<4xf32>, %arg1: tensor<3xf32>) -> tensor<4xf32> {\n"
            "  %0 = stablehlo.add %arg0, %arg1 : tensor<4xf32>\n  return %0 : tensor<4xf32>\n}")
    with pytest.raises(xm.HloVerifyError) as info:
        parse_stablehlo(text)
    assert info.value.line == 2 and "stablehlo.add" in str(info.value)


def test_replica_and_partition_ids():
    text = """
    func.func @main() -> (tensor<ui32>, tensor<ui32>) {
      %0 = stablehlo.replica_id : tensor<ui32>
      %1 = stablehlo.partition_id : tensor<ui32>
      return %0, %1 : tensor<ui32>, tensor<ui32>
    }"""
    assert [i.opcode.value for i in parse_stablehlo(text).entry.instructions[:2]] == ["replica-id", "partition-id"]


def test_rng_and_dot_algorithm_read():
    text = """
    func.func @main(%arg0: tensor<2x3xf32>, %arg1: tensor<3x2xf32>) -> (tensor<2x2xf32>, tensor<4xf32>) {
      %0 = stablehlo.dot_general %arg0, %arg1, contracting_dims = [1] x [0],
        algorithm = <lhs_precision_type = f32, rhs_precision_type = f32, accumulation_type = f32,
                     lhs_component_count = 1, rhs_component_count = 1, num_primitive_operations = 1,
                     allow_imprecise_accumulation = false> : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
      %lo = stablehlo.constant dense<0.0> : tensor<f32>
      %hi = stablehlo.constant dense<1.0> : tensor<f32>
      %shape = stablehlo.constant dense<4> : tensor<1xi64>
      %1 = stablehlo.rng %lo, %hi, %shape, distribution = UNIFORM
        : (tensor<f32>, tensor<f32>, tensor<1xi64>) -> tensor<4xf32>
      return %0, %1 : tensor<2x2xf32>, tensor<4xf32>
    }"""
    m = parse_stablehlo(text)
    ops = {i.opcode.value: i for i in m.entry.instructions}
    assert ops["rng"].attrs["distribution"] == "rng_uniform" and ops["rng"].shape.dims == (4,)
    a, b = np.ones((2, 3), np.float32), np.ones((3, 2), np.float32)
    dot, bits = xm.interpret(m, a, b)
    np.testing.assert_array_equal(dot, a @ b)
    assert bits.shape == (4,) and ((bits >= 0) & (bits < 1)).all()


@pytest.mark.parametrize("name", NAMES)
def test_sample_runs_as_on_xla_cpu_on_the_cpu_backend(name):
    pytest.importorskip("llvmlite")
    text, ins, outs = _sample(name)
    exe = xm.compile(parse_stablehlo(text), target="cpu", cache=False)  # every sample: none is refused
    got = exe(*ins)
    got = got if isinstance(got, tuple) else (got,)
    for k, (g, w) in enumerate(zip(got, outs)):
        assert_matches(g, w, f"{name} output {k} (cpu)")


def test_operand_types_are_checked_against_the_signature():
    text = ("func.func @main(%arg0: tensor<4xf32>) -> tensor<4xi32> {\n"
            "  %0 = stablehlo.convert %arg0 : (tensor<4xf16>) -> tensor<4xi32>\n  return %0 : tensor<4xi32>\n}")
    e = _error(text)
    assert "%arg0 is f32[4]" in str(e) and (e.line, e.column) == (2, 26)


SHARDED = """module @jit_f attributes {mhlo.num_partitions = 2 : i32, mhlo.num_replicas = 1 : i32} {
  sdy.mesh @mesh = <["x"=2]> {stablehlo.mesh = {axes = [{name = "x", size = 2 : i64}]}}
  func.func public @main(%arg0: tensor<4x4xf32> {sdy.sharding = #sdy.sharding<@mesh, [{"x"}, {}]>}) -> (tensor<4x4xf32> {jax.result_info = "result"}) {
    %0 = stablehlo.tanh %arg0 : tensor<4x4xf32>
    %1 = sdy.sharding_constraint %0 <@mesh, [{"x"}, {}]> : tensor<4x4xf32>
    %cst = stablehlo.constant dense<2.000000e+00> : tensor<f32>
    %2 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<4x4xf32>
    %3 = stablehlo.multiply %1, %2 : tensor<4x4xf32>
    return %3 : tensor<4x4xf32>
  }
}"""  # noqa: E501 (as jax prints it with a two-device mesh)


def test_sharding_annotations_leave_values_unchanged():
    m = parse_stablehlo(SHARDED)
    assert m.attrs["num_partitions"].text == "2"
    x = np.linspace(-1, 1, 16, dtype=np.float32).reshape(4, 4)
    np.testing.assert_allclose(xm.interpret(m, x), np.tanh(x) * 2, rtol=1e-6)


LITERALS = [
    # (dense body, type, expected values)
    ("[0xFF, 0x7F]", "2xi8", [-1, 127]),  # integer bit patterns, two's complement
    ("-0.000000e+00", "f32", [-0.0]),
    ("[18446744073709551615, 0]", "2xui64", [2**64 - 1, 0]),
    ("[0x7F800000, 0xFFC00000]", "2xf32", [np.inf, np.nan]),
    ("0x3F80", "3xbf16", [1.0, 1.0, 1.0]),  # a splat
    ('"0x0000803F00000040"', "2xf32", [1.0, 2.0]),
    ('"0x0100"', "2xi1", [True, False]),
    ('"0x0F08"', "2xi4", [-1, -8]),
    ("[[1, 2], [3, 4]]", "2x2xi32", [1, 2, 3, 4]),
    ("[(1.0, -2.0), (0x3F800000, 0.5)]", "2xcomplex<f32>", [1 - 2j, 1 + 0.5j]),
    ("true", "2xi1", [True, True]),
    ("", "0xf32", []),
]


@pytest.mark.parametrize("body,type_,want", LITERALS)
def test_dense_literal_forms(body, type_, want):
    text = (f"func.func @main() -> tensor<{type_}> {{\n  %0 = stablehlo.constant dense<{body}> : tensor<{type_}>\n"
            f"  return %0 : tensor<{type_}>\n}}")
    got = np.asarray(xm.interpret(parse_stablehlo(text))).reshape(-1)
    np.testing.assert_array_equal(got.astype(np.complex128 if got.dtype.kind == "c" else np.float64), want)
    if body.startswith("-0"):
        assert np.signbit(got[0])  # the sign of zero survives
