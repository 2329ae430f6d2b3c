"""Verifier and shape inference: every kind of error names its instruction and line; tricky
inference rules give XLA's shapes; every corpus module verifies clean."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

from xla_magic.hlo.attrs import Raw
from xla_magic.hlo.dtypes import F32
from xla_magic.hlo.ir import Computation, Instruction, Module
from xla_magic.hlo.opcodes import Opcode
from xla_magic.hlo.parser import parse_hlo
from xla_magic.hlo.shape import Shape
from xla_magic.hlo.shape_inference import SHAPE_RULES, compatible, infer_shape
from xla_magic.hlo.verifier import MAX_TUPLE_DEPTH, HloVerifyError, verify_module

_HERE = pathlib.Path(__file__).parent
CORPUS = _HERE / "corpus" if (_HERE / "corpus").is_dir() else pathlib.Path("/work/shared/conformance/public")
CORPUS_FILES = sorted(p.name for p in CORPUS.glob("*.hlo"))

ADD = """
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}
"""


def module(body: str, extra: str = "") -> str:
    """A module text whose entry is `body`; line 1 is the header."""
    return "HloModule m\n" + extra.strip("\n") + ("\n" if extra else "") + "ENTRY main {\n" + body.strip("\n") + "\n}\n"


def line_of(text: str, name: str, computation: str) -> int:
    """The line defining instruction `name` in `computation`."""
    inside = False
    for i, line in enumerate(text.splitlines(), 1):
        if line.removeprefix("ENTRY ").startswith(computation + " {"):
            inside = True
        elif inside and line.strip().removeprefix("ROOT ").startswith(name + " = "):
            return i
    raise AssertionError(name)


def verify_error(text: str) -> HloVerifyError:
    m = parse_hlo(text, verify=False)
    with pytest.raises(HloVerifyError) as info:
        verify_module(m)
    return info.value


def assert_error(text: str, name: str, *words: str, computation: str = "main") -> HloVerifyError:
    e = verify_error(text)
    assert e.instruction == name, str(e)
    assert e.line == line_of(text, name, computation), str(e)
    assert e.computation == computation, str(e)
    assert f"line {e.line}: instruction '{name}' in computation '{computation}'" in str(e)
    for w in words:
        assert w in str(e), str(e)
    return e


def root_shape(text: str) -> str:
    m = parse_hlo(text, verify=False)
    verify_module(m)
    return m.entry.root.shape.to_text(layout=False)


# --- errors, one kind at a time -------------------------------------------------------------------

def test_parse_hlo_verifies_by_default():
    text = module("p = f32[4] parameter(0)\nROOT a = f32[5] negate(p)")
    with pytest.raises(HloVerifyError) as info:
        parse_hlo(text)
    assert info.value.instruction == "a" and info.value.line == 4


def test_operand_shape_mismatch_names_both_shapes():
    text = module("p = f32[4] parameter(0)\nq = f32[3] parameter(1)\nROOT a = f32[4] add(p, q)")
    e = assert_error(text, "a", "operand 1 has shape f32[3] but add needs f32[4]")
    assert str(e).startswith("line 5: instruction 'a' in computation 'main': operand 1")


def test_declared_shape_differs_from_inferred():
    assert_error(module("p = f32[4] parameter(0)\nROOT a = f32[5] exponential(p)"), "a",
                 "declared shape f32[5]", "f32[4]")


def test_declared_type_differs_from_inferred():
    assert_error(module("p = f32[4] parameter(0)\nROOT a = s32[4] compare(p, p), direction=LT"), "a", "pred[4]")


def test_mixed_types_rejected():
    text = module("p = f32[4] parameter(0)\nq = bf16[4] parameter(1)\nROOT a = f32[4] multiply(p, q)")
    assert_error(text, "a", "operand 1 has shape bf16[4]")


def test_operand_used_before_definition():
    text = module("p = f32[4] parameter(0)\na = f32[4] add(p, b)\nb = f32[4] negate(p)\nROOT r = f32[4] add(a, b)")
    assert_error(text, "a", "'b' is used before its definition")


def test_self_reference_is_a_cycle():
    text = module("p = f32[4] parameter(0)\nROOT a = f32[4] add(p, a)")
    assert_error(text, "a", "cycle")


def test_operand_from_another_computation():
    other_p = Instruction("x", Opcode.PARAMETER, Shape.array(F32, (4,)), parameter_number=0)
    other = Computation("other", [other_p], other_p)
    p = Instruction("p", Opcode.PARAMETER, Shape.array(F32, (4,)), parameter_number=0, line=3)
    a = Instruction("a", Opcode.ADD, Shape.array(F32, (4,)), [p, other_p], line=4)
    entry = Computation("main", [p, a], a, is_entry=True)
    with pytest.raises(HloVerifyError) as info:
        verify_module(Module("m", [other, entry], entry))
    e = info.value
    assert (e.instruction, e.line, e.computation) == ("a", 4, "main")
    assert "operand 1 'x' is not defined in computation 'main'" in str(e)


def test_call_cycle():
    comps = """
f {
  x = f32[] parameter(0)
  ROOT c = f32[] call(x), to_apply=g
}
g {
  y = f32[] parameter(0)
  ROOT c2 = f32[] call(y), to_apply=f
}
"""
    text = module("p = f32[] parameter(0)\nROOT r = f32[] call(p), to_apply=f", comps)
    assert_error(text, "c2", "cycle: f -> g -> f", computation="g")


def test_self_recursive_computation():
    comps = "f {\n  x = f32[] parameter(0)\n  ROOT c = f32[] call(x), to_apply=f\n}\n"
    text = module("p = f32[] parameter(0)\nROOT r = f32[] call(p), to_apply=f", comps)
    assert_error(text, "c", "cycle: f -> f", computation="f")


def test_called_computation_not_in_module():
    x = Instruction("x", Opcode.PARAMETER, Shape.array(F32, ()), parameter_number=0)
    stray = Computation("stray", [x], x)
    p = Instruction("p", Opcode.PARAMETER, Shape.array(F32, ()), parameter_number=0, line=2)
    r = Instruction("r", Opcode.CALL, Shape.array(F32, ()), [p], {"to_apply": stray}, line=3)
    entry = Computation("main", [p, r], r, is_entry=True)
    with pytest.raises(HloVerifyError) as info:
        verify_module(Module("m", [entry], entry))
    assert (info.value.instruction, info.value.line) == ("r", 3)
    assert "'stray', which is not in the module" in str(info.value)


def test_operand_count():
    assert_error(module("p = f32[4] parameter(0)\nROOT a = f32[4] add(p)"), "a", "add takes 2 operands, got 1")
    assert_error(module("p = f32[4] parameter(0)\nROOT a = f32[4] negate(p, p)"), "a", "takes 1 operand, got 2")
    text = module("p = f32[4] parameter(0)\nz = f32[] constant(0)\nROOT r = f32[] reduce(p, z, z), "
                  "dimensions={0}, to_apply=add", ADD)
    assert_error(text, "r", "even number of operands")


def test_unknown_opcode_in_hand_built_ir():
    p = Instruction("p", Opcode.PARAMETER, Shape.array(F32, ()), parameter_number=0, line=2)
    r = Instruction("r", "frobnicate", Shape.array(F32, ()), [p], line=3)  # type: ignore[arg-type]
    entry = Computation("main", [p, r], r, is_entry=True)
    with pytest.raises(HloVerifyError) as info:
        verify_module(Module("m", [entry], entry))
    assert (info.value.instruction, info.value.line) == ("r", 3) and "unknown opcode" in str(info.value)


@pytest.mark.parametrize("body, name, words", [
    ("p = f32[2,3] parameter(0)\nz = f32[] constant(0)\nROOT r = f32[2] reduce(p, z), dimensions={2}, to_apply=add",
     "r", "out of range"),
    ("p = f32[2,3] parameter(0)\nz = f32[] constant(0)\nROOT r = f32[] reduce(p, z), dimensions={0,0}, to_apply=add",
     "r", "repeats"),
    ("p = f32[2,3] parameter(0)\nROOT t = f32[3,3] transpose(p), dimensions={0,0}", "t", "not a permutation"),
    ("p = f32[3] parameter(0)\nROOT b = f32[3,3] broadcast(p), dimensions={2}", "b", "out of range"),
    ("p = f32[3] parameter(0)\nROOT b = f32[4,3] broadcast(p), dimensions={0}", "b", "size 3"),
    ("p = f32[3] parameter(0)\nROOT v = f32[3] reverse(p), dimensions={0,0}", "v", "repeats"),
    ("p = f32[2,3] parameter(0)\nq = f32[2,3] parameter(1)\nROOT c = f32[4,3] concatenate(p, q), dimensions={2}",
     "c", "out of range"),
    ("p = f32[2,3] parameter(0)\nq = f32[2,3] parameter(1)\n"
     "ROOT d = f32[2,2] dot(p, q), lhs_contracting_dims={1}, rhs_contracting_dims={3}", "d", "out of range"),
    ("p = f32[4] parameter(0)\nROOT i = s32[4] iota(), iota_dimension=1", "i", "iota_dimension 1"),
])
def test_dimension_numbers_in_range_and_unique(body, name, words):
    assert_error(module(body, ADD), name, words)


@pytest.mark.parametrize("body, name, words", [
    ("p = f32[8] parameter(0)\nROOT s = f32[4] slice(p), slice={[6:10]}", "s", "out of bounds"),
    ("p = f32[8] parameter(0)\nROOT s = f32[0] slice(p), slice={[5:3]}", "s", "out of bounds"),
    ("p = f32[8] parameter(0)\nROOT s = f32[4] slice(p), slice={[0:8:0]}", "s", "stride 0"),
    ("p = f32[8] parameter(0)\nROOT s = f32[4] slice(p), slice={[0:4], [0:1]}", "s", "rank 1"),
    ("p = f32[8,4] parameter(0)\ni = s32[] parameter(1)\n"
     "ROOT d = f32[9,4] dynamic-slice(p, i, i), dynamic_slice_sizes={9,4}", "d", "dynamic_slice_sizes[0] = 9"),
    ("p = f32[8,4] parameter(0)\ni = s32[] parameter(1)\n"
     "ROOT d = f32[2,4] dynamic-slice(p, i), dynamic_slice_sizes={2,4}", "d", "takes 2 start indices"),
    ("p = f32[8,4] parameter(0)\ni = f32[] parameter(1)\n"
     "ROOT d = f32[2,4] dynamic-slice(p, i, i), dynamic_slice_sizes={2,4}", "d", "integer scalar"),
    ("p = f32[8,4] parameter(0)\nu = f32[9,1] parameter(1)\ni = s32[] parameter(2)\n"
     "ROOT d = f32[8,4] dynamic-update-slice(p, u, i, i)", "d", "operand 1 has shape f32[9,1]"),
])
def test_slice_bounds(body, name, words):
    assert_error(module(body), name, words)


def test_parameter_numbers_with_a_gap():
    text = module("p = f32[] parameter(0)\nq = f32[] parameter(2)\nROOT a = f32[] add(p, q)")
    assert_error(text, "q", "parameter 1 is missing")


def test_parameter_numbers_repeated():
    text = module("p = f32[] parameter(0)\nq = f32[] parameter(0)\nROOT a = f32[] add(p, q)")
    assert_error(text, "q", "parameter number 0 is already taken by 'p'")


def test_parameter_numbers_in_a_called_computation():
    comps = "f {\n  x = f32[] parameter(1)\n  ROOT n = f32[] negate(x)\n}\n"
    text = module("p = f32[] parameter(0)\nROOT r = f32[] call(p), to_apply=f", comps)
    assert_error(text, "x", "parameter 0 is missing", computation="f")


def test_missing_entry_computation():
    p = Instruction("p", Opcode.PARAMETER, Shape.array(F32, ()), parameter_number=0)
    c = Computation("main", [p], p, is_entry=True)
    other = Computation("elsewhere", [p], p)
    with pytest.raises(HloVerifyError, match="no entry computation"):
        verify_module(Module("m", [c], other))


@pytest.mark.parametrize("reducer, words", [
    ("r3 {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  c = f32[] parameter(2)\n"
     "  ROOT s = f32[] add(a, b)\n}",
     "must take 2 parameters, but takes 3"),
    ("r3 {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT s = pred[] compare(a, b), direction=LT\n}",
     "parameter 0 is f32[] but the result 0 is pred[]"),
    ("r3 {\n  a = s32[] parameter(0)\n  b = s32[] parameter(1)\n  ROOT s = s32[] add(a, b)\n}",
     "init value 0 has shape f32[]"),
    ("r3 {\n  a = f32[2] parameter(0)\n  b = f32[2] parameter(1)\n  ROOT s = f32[2] add(a, b)\n}",
     "must return scalars"),
])
def test_reducer_signature(reducer, words):
    text = module("p = f32[4] parameter(0)\nz = f32[] constant(0)\nROOT r = f32[] reduce(p, z), dimensions={0}, "
                  "to_apply=r3", reducer)
    assert_error(text, "r", words)


def test_sort_comparator_signature():
    cmp = "lt {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT s = f32[] add(a, b)\n}"
    text = module("p = f32[4] parameter(0)\nROOT s = f32[4] sort(p), dimensions={0}, to_apply=lt", cmp)
    assert_error(text, "s", "comparator 'lt' must return pred[]")
    cmp2 = "lt {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT s = pred[] compare(a, b), direction=LT\n}"
    text = module("p = f32[4] parameter(0)\nq = s32[4] parameter(1)\n"
                  "ROOT s = (f32[4], s32[4]) sort(p, q), dimensions={0}, to_apply=lt", cmp2)
    assert_error(text, "s", "must take 4 parameters")


def test_while_signatures():
    comps = """
cond {
  s = (s32[], f32[4]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  n = s32[] constant(3)
  ROOT lt = pred[] compare(i, n), direction=LT
}
body {
  s = (s32[], f32[4]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  ROOT t = (s32[]) tuple(i)
}
"""
    text = module("i = s32[] constant(0)\nx = f32[4] parameter(0)\nt = (s32[], f32[4]) tuple(i, x)\n"
                  "ROOT w = (s32[], f32[4]) while(t), condition=cond, body=body", comps)
    assert_error(text, "w", "while body 'body' returns (s32[])")
    bad_cond = comps.replace("ROOT lt = pred[] compare(i, n), direction=LT", "ROOT lt = s32[] add(i, n)")
    good_body = bad_cond.replace("ROOT t = (s32[]) tuple(i)", "x = f32[4] get-tuple-element(s), index=1\n"
                                 "  ROOT t = (s32[], f32[4]) tuple(i, x)")
    text = module("i = s32[] constant(0)\nx = f32[4] parameter(0)\nt = (s32[], f32[4]) tuple(i, x)\n"
                  "ROOT w = (s32[], f32[4]) while(t), condition=cond, body=body", good_body)
    assert_error(text, "w", "must return pred[]")


def test_conditional_branch_signatures():
    comps = """
b0 {
  x = f32[4] parameter(0)
  ROOT n = f32[4] negate(x)
}
b1 {
  x = f32[3] parameter(0)
  ROOT n = f32[3] negate(x)
}
"""
    text = module("c = pred[] parameter(0)\nx = f32[4] parameter(1)\n"
                  "ROOT r = f32[4] conditional(c, x, x), true_computation=b0, false_computation=b1", comps)
    assert_error(text, "r", "operand 2 has shape f32[4] but parameter 0 of branch 1 computation 'b1' is f32[3]")


def test_fusion_parameters_must_match_operands():
    comps = "fused {\n  x = f32[3] parameter(0)\n  ROOT n = f32[3] negate(x)\n}\n"
    text = module("p = f32[4] parameter(0)\nROOT f = f32[3] fusion(p), kind=kLoop, calls=fused", comps)
    assert_error(text, "f", "operand 0 has shape f32[4] but parameter 0 of fused computation 'fused' is f32[3]")


def test_constant_literal_shape():
    c = Instruction("c", Opcode.CONSTANT, Shape.array(F32, (3,)), literal=np.zeros(2, np.float32), line=2)
    entry = Computation("main", [c], c, is_entry=True)
    with pytest.raises(HloVerifyError) as info:
        verify_module(Module("m", [entry], entry))
    assert (info.value.instruction, info.value.line) == ("c", 2) and "literal has dimensions [2]" in str(info.value)
    c.literal = np.zeros(3, np.float64)
    with pytest.raises(HloVerifyError, match="numpy type float64"):
        verify_module(Module("m", [entry], entry))


def test_tuple_index_out_of_range():
    text = module("p = f32[] parameter(0)\nt = (f32[], f32[]) tuple(p, p)\n"
                  "ROOT g = f32[] get-tuple-element(t), index=2")
    assert_error(text, "g", "index 2 is out of range")
    text = module("p = f32[] parameter(0)\nROOT g = f32[] get-tuple-element(p), index=0")
    assert_error(text, "g", "needs a tuple")


def test_bitcast_convert_width_mismatch():
    text = module("p = u8[4,3] parameter(0)\nROOT b = f32[4] bitcast-convert(p)")
    assert_error(text, "b", "last dimension to be 4")


def test_gather_dimension_numbers_checked():
    text = module("p = f32[5,3] parameter(0)\ni = s32[4,1] parameter(1)\n"
                  "ROOT g = f32[4,3] gather(p, i), offset_dims={1}, collapsed_slice_dims={0}, start_index_map={0}, "
                  "index_vector_dim=1, slice_sizes={2,3}")
    assert_error(text, "g", "slice size 0 or 1")
    text = module("p = f32[5,3] parameter(0)\ni = s32[4,1] parameter(1)\n"
                  "ROOT g = f32[4,3] gather(p, i), offset_dims={1}, collapsed_slice_dims={0}, start_index_map={0,1}, "
                  "index_vector_dim=1, slice_sizes={1,3}")
    assert_error(text, "g", "start_index_map has 2 entries")


def test_malformed_attribute_is_still_a_verify_error():
    p = Instruction("p", Opcode.PARAMETER, Shape.array(F32, (8,)), parameter_number=0, line=2)
    s = Instruction("s", Opcode.SLICE, Shape.array(F32, (4,)), [p], {"slice": ((0,),)}, line=3)
    entry = Computation("main", [p, s], s, is_entry=True)
    with pytest.raises(HloVerifyError) as info:
        verify_module(Module("m", [entry], entry))
    assert (info.value.instruction, info.value.line) == ("s", 3)
    s.attrs = {"dimensions": Raw("{x}")}
    s.opcode = Opcode.REVERSE
    with pytest.raises(HloVerifyError):
        verify_module(Module("m", [entry], entry))
    with pytest.raises(HloVerifyError):
        verify_module("not a module")  # type: ignore[arg-type]


def _call_chain(n: int) -> str:
    comps = [f"c{k} {{\n  x = f32[] parameter(0)\n  ROOT r = f32[] call(x), to_apply=c{k + 1}\n}}" for k in range(n)]
    comps.append(f"c{n} {{\n  x = f32[] parameter(0)\n  ROOT r = f32[] negate(x)\n}}")
    return module("p = f32[] parameter(0)\nROOT r = f32[] call(p), to_apply=c0", "\n".join(comps) + "\n")


def test_long_call_chain_does_not_recurse():
    verify_module(parse_hlo(_call_chain(98), verify=False))  # 100 levels with the entry
    e = verify_error(_call_chain(3000))
    assert "more than 100 deep" in str(e)
    bad = _call_chain(3000).replace("ROOT r = f32[] negate(x)\n}", "ROOT r = f32[] call(x), to_apply=c0\n}")
    e = verify_error(bad)
    assert e.computation == "c3000" and "cycle" in str(e)


def test_long_computation_and_deep_tuples():
    body = ["p0 = f32[] parameter(0)"] + [f"p{k} = f32[] negate(p{k - 1})" for k in range(1, 20000)]
    text = module("\n".join(body[:-1]) + "\nROOT " + body[-1])
    verify_module(parse_hlo(text, verify=False))
    s = Shape.array(F32, ())
    for _ in range(MAX_TUPLE_DEPTH + 1):
        s = Shape.tuple_of([s])
    p = Instruction("p", Opcode.PARAMETER, s, parameter_number=0, line=2)
    entry = Computation("main", [p], p, is_entry=True)
    with pytest.raises(HloVerifyError, match="nest deeper"):
        verify_module(Module("m", [entry], entry))


# --- tricky inference, positive ---------------------------------------------------------------------

def test_convolution_feature_groups():
    text = module("x = f32[1,8,8,4] parameter(0)\nw = f32[3,3,2,6] parameter(1)\n"
                  "ROOT c = f32[1,6,6,6] convolution(x, w), window={size=3x3}, dim_labels=b01f_01io->b01f, "
                  "feature_group_count=2")
    assert root_shape(text) == "f32[1,6,6,6]"
    assert_error(text.replace("feature_group_count=2", "feature_group_count=4"), "c", "kernel input features")


def test_convolution_batch_groups_and_layouts():
    text = module("x = f32[4,3,5,5] parameter(0)\nw = f32[8,3,2,2] parameter(1)\n"
                  "ROOT c = f32[2,8,4,4] convolution(x, w), window={size=2x2}, dim_labels=bf01_oi01->bf01, "
                  "batch_group_count=2")
    assert root_shape(text) == "f32[2,8,4,4]"


def test_convolution_stride_pad_dilation():
    text = module("x = f32[1,7,7,1] parameter(0)\nw = f32[3,3,1,1] parameter(1)\n"
                  "ROOT c = f32[1,7,7,1] convolution(x, w), window={size=3x3 stride=2x2 pad=1_1x1_1 lhs_dilate=2x2}, "
                  "dim_labels=b01f_01io->b01f")
    assert root_shape(text) == "f32[1,7,7,1]"  # dilated 13, padded 15, (15-3)/2+1
    text = module("x = f32[1,9,1] parameter(0)\nw = f32[3,1,2] parameter(1)\n"
                  "ROOT c = bf16[1,5,2] convolution(x, w), window={size=3 rhs_dilate=2}, dim_labels=b0f_0io->b0f")
    assert root_shape(text) == "bf16[1,5,2]"  # dilated window 5; preferred element type bf16


def test_gather_with_batching_dims():
    text = module("p = f32[2,5,3] parameter(0)\ni = s32[2,4,1] parameter(1)\n"
                  "ROOT g = f32[2,4,3] gather(p, i), offset_dims={2}, collapsed_slice_dims={1}, start_index_map={1}, "
                  "operand_batching_dims={0}, start_indices_batching_dims={0}, index_vector_dim=2, "
                  "slice_sizes={1,1,3}")
    assert root_shape(text) == "f32[2,4,3]"
    bad = text.replace("i = s32[2,4,1]", "i = s32[3,4,1]").replace("f32[2,4,3] gather", "f32[3,4,3] gather")
    assert_error(bad, "g", "batching dimension sizes differ")


def test_gather_implicit_index_vector_dim_and_offsets_between_batch_dims():
    text = module("p = f32[5,7] parameter(0)\ni = s32[2,3] parameter(1)\n"
                  "ROOT g = f32[2,4,3] gather(p, i), offset_dims={1}, collapsed_slice_dims={0}, start_index_map={0}, "
                  "index_vector_dim=2, slice_sizes={1,4}")
    assert root_shape(text) == "f32[2,4,3]"


def test_scatter_with_batching_dims():
    text = module("p = f32[2,5,3] parameter(0)\ni = s32[2,4,1] parameter(1)\nu = f32[2,4,3] parameter(2)\n"
                  "ROOT s = f32[2,5,3] scatter(p, i, u), update_window_dims={2}, inserted_window_dims={1}, "
                  "input_batching_dims={0}, scatter_indices_batching_dims={0}, scatter_dims_to_operand_dims={1}, "
                  "index_vector_dim=2, to_apply=add", ADD)
    assert root_shape(text) == "f32[2,5,3]"
    bad = text.replace("u = f32[2,4,3]", "u = f32[2,4,4]")
    assert_error(bad, "s", "exceeds the operand's bound 3")


def test_variadic_scatter():
    add2 = """
add2 {
  a = f32[] parameter(0)
  b = s32[] parameter(1)
  c = f32[] parameter(2)
  d = s32[] parameter(3)
  s = f32[] add(a, c)
  t = s32[] add(b, d)
  ROOT r = (f32[], s32[]) tuple(s, t)
}
"""
    text = module("p = f32[5] parameter(0)\nq = s32[5] parameter(1)\ni = s32[3,1] parameter(2)\n"
                  "u = f32[3] parameter(3)\nv = s32[3] parameter(4)\n"
                  "ROOT s = (f32[5], s32[5]) scatter(p, q, i, u, v), update_window_dims={}, inserted_window_dims={0}, "
                  "scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add2", add2)
    assert root_shape(text) == "(f32[5], s32[5])"


def test_pad_negative_and_interior():
    text = module("p = f32[4,5] parameter(0)\nz = f32[] constant(0)\n"
                  "ROOT q = f32[8,10] pad(p, z), padding=-1_2_1x0_-3_2")
    assert root_shape(text) == "f32[8,10]"  # 4+3*1-1+2, 5+4*2+0-3
    assert_error(text.replace("-1_2_1", "-9_0_0").replace("f32[8,10]", "f32[0,10]"), "q", "negative")
    assert_error(text.replace("-1_2_1", "0_0_-1"), "q", "interior padding -1")


def test_dot_batch_dims_in_any_position():
    text = module("a = f32[3,2,4] parameter(0)\nb = f32[4,5,2] parameter(1)\n"
                  "ROOT d = f32[2,3,5] dot(a, b), lhs_batch_dims={1}, rhs_batch_dims={2}, "
                  "lhs_contracting_dims={2}, rhs_contracting_dims={0}")
    assert root_shape(text) == "f32[2,3,5]"
    assert_error(text.replace("f32[4,5,2] parameter(1)", "f32[4,5,3] parameter(1)"), "d", "batch dimensions")
    text = module("a = s8[3,4] parameter(0)\nb = s8[4,5] parameter(1)\n"
                  "ROOT d = s32[3,5] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}")
    assert root_shape(text) == "s32[3,5]"  # preferred element type widens integers


def test_sort_multi_operand():
    cmp = """
lt {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  c = s32[] parameter(2)
  d = s32[] parameter(3)
  ROOT r = pred[] compare(a, b), direction=LT
}
"""
    text = module("p = f32[3,8] parameter(0)\nq = s32[3,8] iota(), iota_dimension=1\n"
                  "ROOT s = (f32[3,8], s32[3,8]) sort(p, q), dimensions={1}, is_stable=true, to_apply=lt", cmp)
    assert root_shape(text) == "(f32[3,8], s32[3,8])"
    assert_error(text.replace("s32[3,8] iota()", "s32[3,7] iota()"), "s", "operand 1 has shape s32[3,7]")


def test_variadic_reduce_and_reduce_window():
    argmax = """
argmax {
  a = f32[] parameter(0)
  i = s32[] parameter(1)
  b = f32[] parameter(2)
  j = s32[] parameter(3)
  gt = pred[] compare(a, b), direction=GT
  m = f32[] select(gt, a, b)
  k = s32[] select(gt, i, j)
  ROOT r = (f32[], s32[]) tuple(m, k)
}
"""
    text = module("p = f32[4,5] parameter(0)\ni = s32[4,5] iota(), iota_dimension=0\n"
                  "z = f32[] constant(-inf)\nzi = s32[] constant(0)\n"
                  "ROOT r = (f32[5], s32[5]) reduce(p, i, z, zi), dimensions={0}, to_apply=argmax", argmax)
    assert root_shape(text) == "(f32[5], s32[5])"
    text = module("p = f32[4,6] parameter(0)\nz = f32[] constant(0)\n"
                  "ROOT r = f32[2,11] reduce-window(p, z), window={size=2x3 stride=2x1 pad=0_0x1_1 lhs_dilate=1x2},"
                  " to_apply=add", ADD)
    assert root_shape(text) == "f32[2,11]"  # rows (4-2)/2+1; cols: dilated 11, padded 13, 13-3+1


def test_while_and_conditional_ok():
    comps = """
cond {
  s = (s32[], f32[4]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  n = s32[] constant(3)
  ROOT lt = pred[] compare(i, n), direction=LT
}
body {
  s = (s32[], f32[4]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  one = s32[] constant(1)
  j = s32[] add(i, one)
  x = f32[4] get-tuple-element(s), index=1
  ROOT t = (s32[], f32[4]) tuple(j, x)
}
b0 {
  x = f32[4] parameter(0)
  ROOT n = f32[4] negate(x)
}
b1 {
  x = f32[4] parameter(0)
  ROOT n = f32[4] abs(x)
}
"""
    text = module("i = s32[] constant(0)\nx = f32[4] parameter(0)\nt = (s32[], f32[4]) tuple(i, x)\n"
                  "w = (s32[], f32[4]) while(t), condition=cond, body=body\n"
                  "k = s32[] get-tuple-element(w), index=0\ny = f32[4] get-tuple-element(w), index=1\n"
                  "ROOT r = f32[4] conditional(k, y, y), branch_computations={b0, b1}", comps)
    assert root_shape(text) == "f32[4]"


@pytest.mark.parametrize("body, shape", [
    ("p = f32[4] parameter(0)\nROOT b = u8[4,4] bitcast-convert(p)", "u8[4,4]"),
    ("p = u8[4,4] parameter(0)\nROOT b = f32[4] bitcast-convert(p)", "f32[4]"),
    ("p = f64[2] parameter(0)\nROOT b = s32[2,2] bitcast-convert(p)", "s32[2,2]"),
    ("p = f32[2] parameter(0)\nROOT b = s32[2] bitcast-convert(p)", "s32[2]"),
    ("p = pred[] parameter(0)\nx = f32[3] parameter(1)\nROOT s = f32[3] select(p, x, x)", "f32[3]"),
    ("lo = f32[] parameter(0)\nx = f32[3] parameter(1)\nROOT c = f32[3] clamp(lo, x, lo)", "f32[3]"),
    ("p = f32[3,2] parameter(0)\nROOT b = f32[2,4,3] broadcast(p), dimensions={2,0}", "f32[2,4,3]"),
    ("p = f32[3,4] parameter(0)\nROOT t = f32[4,3] transpose(p), dimensions={1,0}", "f32[4,3]"),
    ("p = f32[10] parameter(0)\nROOT s = f32[4] slice(p), slice={[1:9:2]}", "f32[4]"),
    ("p = f32[10] parameter(0)\nROOT s = f32[3] slice(p), slice={[1:8:3]}", "f32[3]"),
    ("p = f32[2,6] parameter(0)\nROOT r = f32[3,4] reshape(p)", "f32[3,4]"),
    ("p = f32[2,6]{1,0} parameter(0)\nROOT r = f32[12]{0} bitcast(p)", "f32[12]"),
    ("p = f32[8,5] parameter(0)\nROOT t = (f32[8,2], s32[8,2]) topk(p), k=2, largest=true", "(f32[8,2], s32[8,2])"),
    ("p = c64[3] parameter(0)\nROOT a = f32[3] abs(p)", "f32[3]"),
    ("p = f32[3] parameter(0)\nROOT a = pred[3] is-finite(p)", "pred[3]"),
    ("p = f32[3] parameter(0)\nROOT a = bf16[3] reduce-precision(p), exponent_bits=8, mantissa_bits=7", None),
    ("p = f32[3] parameter(0)\nROOT a = f32[3] reduce-precision(p), exponent_bits=8, mantissa_bits=7", "f32[3]"),
    ("p = f32[3] parameter(0)\nROOT a = s8[3] convert(p)", "s8[3]"),
    ("p = f32[3] parameter(0)\nq = f32[3] parameter(1)\nROOT a = c64[3] complex(p, q)", "c64[3]"),
    ("s = u64[2] parameter(0)\nROOT r = (u64[2], u32[4,4]) rng-bit-generator(s), algorithm=rng_default",
     "(u64[2], u32[4,4])"),
    ("p = f32[8,4] parameter(0)\nu = f32[2,4] parameter(1)\ni = s32[] parameter(2)\n"
     "ROOT d = f32[8,4] dynamic-update-slice(p, u, i, i)", "f32[8,4]"),
    ("p = f32[3] parameter(0)\nROOT c = (f32[2,2], s32[]) custom-call(p), custom_call_target=\"foo\"",
     "(f32[2,2], s32[])"),
    ("p = f32[2,3] parameter(0)\nq = f32[2,5] parameter(1)\nROOT c = f32[2,8] concatenate(p, q), dimensions={1}",
     "f32[2,8]"),
])
def test_shape_rules(body, shape):
    text = module(body)
    if shape is None:
        assert verify_error(text).instruction in ("a", "b", "c", "r", "s", "t", "d")
    else:
        assert root_shape(text) == shape


def test_every_opcode_has_a_rule():
    assert set(SHAPE_RULES) == set(Opcode)


# --- the corpus ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fname", CORPUS_FILES)
def test_corpus_verifies_clean(fname):
    m = parse_hlo((CORPUS / fname).read_text(), verify=False)
    verify_module(m)
    for comp in m.computations:
        for instr in comp.instructions:
            inferred = infer_shape(instr)
            assert compatible(inferred, instr.shape), f"{instr.name}: {inferred} vs {instr.shape}"
