"""Inlining, the algebraic simplifier, CSE, DCE and tuple simplification: HLO in, structure out."""
from __future__ import annotations

import pytest

from xla_magic.hlo.opcodes import Opcode as O
from xla_magic.hlo.parser import parse_hlo
from xla_magic.hlo.verifier import verify_module
from xla_magic.passes.cse import cse
from xla_magic.passes.dce import dce
from xla_magic.passes.inline import inline_calls
from xla_magic.passes.simplify import simplify


def run(text: str, *passes):
    m = parse_hlo(text)
    for p in passes:
        p(m)
        verify_module(m)
    return m


def entry_ops(m) -> list[str]:
    return [i.opcode.value for i in m.entry.instructions]


def body(lines: str, params: str = "x = f32[4,8] parameter(0)") -> str:
    return f"HloModule t\n\nENTRY e {{\n  {params}\n{lines}\n}}\n"


@pytest.mark.parametrize("expr, survivors", [
    # A + 0 => A
    ("z = f32[] constant(0)\n  b = f32[4,8] broadcast(z), dimensions={}\n  ROOT r = f32[4,8] add(x, b)", ["parameter"]),
    # C + A => A + C, constant to the right
    ("c = f32[] constant(2)\n  b = f32[4,8] broadcast(c), dimensions={}\n  ROOT r = f32[4,8] add(b, x)",
     ["parameter", "constant", "broadcast", "add"]),
    # A * 1 => A
    ("c = f32[] constant(1)\n  b = f32[4,8] broadcast(c), dimensions={}\n  ROOT r = f32[4,8] multiply(x, b)",
     ["parameter"]),
    # -(-A) => A
    ("n = f32[4,8] negate(x)\n  ROOT r = f32[4,8] negate(n)", ["parameter"]),
    # reshape(reshape(A)) to A's own shape => A
    ("a = f32[32] reshape(x)\n  ROOT r = f32[4,8] reshape(a)", ["parameter"]),
    # transpose(transpose(A)) with inverse permutations => A
    ("t = f32[8,4] transpose(x), dimensions={1,0}\n  ROOT r = f32[4,8] transpose(t), dimensions={1,0}", ["parameter"]),
    # broadcast to own shape => A
    ("ROOT r = f32[4,8] broadcast(x), dimensions={0,1}", ["parameter"]),
    # slice of everything => A
    ("ROOT r = f32[4,8] slice(x), slice={[0:4], [0:8]}", ["parameter"]),
    # pad with zero padding => A
    ("z = f32[] constant(0)\n  ROOT r = f32[4,8] pad(x, z), padding=0_0x0_0", ["parameter"]),
    # select(true, A, B) => A
    ("t = pred[] constant(true)\n  n = f32[4,8] negate(x)\n  ROOT r = f32[4,8] select(t, x, n)", ["parameter"]),
    # select(p, A, A) => A
    ("p = pred[4,8] compare(x, x), direction=LT\n  ROOT r = f32[4,8] select(p, x, x)", ["parameter"]),
    # convert to the same type => A
    ("ROOT r = f32[4,8] convert(x)", ["parameter"]),
    # convert(convert(A)) with a lossless inner convert => A
    ("w = f64[4,8] convert(x)\n  ROOT r = f32[4,8] convert(w)", ["parameter"]),
    # copy(A) => A
    ("ROOT r = f32[4,8] copy(x)", ["parameter"]),
    # max(A, -inf) => A
    ("c = f32[] constant(-inf)\n  b = f32[4,8] broadcast(c), dimensions={}\n  ROOT r = f32[4,8] maximum(x, b)",
     ["parameter"]),
    # get-dimension-size of a static dimension => its size
    ("ROOT r = s32[] get-dimension-size(x), dimensions={1}", ["parameter", "constant"]),
])
def test_simplifier_rules(expr, survivors):
    m = run(body(expr), simplify, dce)
    assert entry_ops(m) == survivors


def test_lossy_convert_chain_is_kept():
    # f32 -> f16 -> f32 rounds: it must stay.
    m = run(body("h = f16[4,8] convert(x)\n  ROOT r = f32[4,8] convert(h)"), simplify, dce)
    assert entry_ops(m) == ["parameter", "convert", "convert"]


@pytest.mark.parametrize("mid, out, folds", [
    ("f32", "u16", False),  # s8 -> f32 -> u16 saturates -2 to 0; s8 -> u16 would wrap it to 65534
    ("f32", "s32", True),  # s32 holds every s8: both paths give the value itself
    ("s16", "u16", True),  # integers all the way: both wrap the same
])
def test_int_float_int_convert_chain_folds_only_when_the_result_holds_every_value(mid, out, folds):
    import numpy as np

    from xla_magic.hlo.evaluator import make_plan, run_plan

    text = ("HloModule m\n\nENTRY e {\n  x = s8[4] parameter(0)\n"
            f"  f = {mid}[4] convert(x)\n  ROOT r = {out}[4] convert(f)\n}}\n")
    x = np.array([-2, -128, 5, 127], np.int8)
    before = run_plan(make_plan(parse_hlo(text).entry), [x])
    m = run(text, simplify, dce)
    assert entry_ops(m).count("convert") == (1 if folds else 2)
    np.testing.assert_array_equal(run_plan(make_plan(m.entry), [x]), before)


def test_float_times_zero_is_kept():
    # x * 0 is NaN for x = inf or NaN: only integers fold.
    m = run(body("z = f32[] constant(0)\n  b = f32[4,8] broadcast(z), dimensions={}\n"
                 "  ROOT r = f32[4,8] multiply(x, b)"), simplify, dce)
    assert "multiply" in entry_ops(m)


def test_divide_by_power_of_two_becomes_multiply():
    m = run(body("c = f32[] constant(4)\n  b = f32[4,8] broadcast(c), dimensions={}\n  ROOT r = f32[4,8] divide(x, b)"),
            simplify, dce)
    assert m.entry.root.opcode is O.MULTIPLY
    assert float(m.entry.root.operands[1].operands[0].literal) == 0.25


def test_divide_by_three_is_kept():
    m = run(body("c = f32[] constant(3)\n  b = f32[4,8] broadcast(c), dimensions={}\n  ROOT r = f32[4,8] divide(x, b)"),
            simplify, dce)
    assert m.entry.root.opcode is O.DIVIDE


def test_jax_broadcast_in_dim_chain_collapses():
    # JAX's broadcast_in_dim: reshape to add a 1-dim, identity broadcast, reshape back, broadcast.
    m = run(body("""  r0 = f32[4] reduce(x, z), dimensions={1}, to_apply=add
  a = f32[4,1] reshape(r0)
  b = f32[4,1] broadcast(a), dimensions={0,1}
  c = f32[4] reshape(b)
  d = f32[4,8] broadcast(c), dimensions={0}
  ROOT s = f32[4,8] subtract(x, d)""", "x = f32[4,8] parameter(0)\n  z = f32[] constant(0)").replace(
        "HloModule t\n", "HloModule t\nadd {\n  p = f32[] parameter(0)\n  q = f32[] parameter(1)\n"
        "  ROOT s = f32[] add(p, q)\n}\n"), simplify, dce)
    assert entry_ops(m) == ["parameter", "constant", "reduce", "broadcast", "subtract"]
    assert m.entry.root.operands[1].operands[0].opcode is O.REDUCE


def test_slice_of_slice_composes():
    m = run(body("a = f32[2,8] slice(x), slice={[1:4:2], [0:8]}\n  ROOT r = f32[1,3] slice(a), slice={[1:2], [2:8:2]}"),
            simplify, dce)
    r = m.entry.root
    assert r.opcode is O.SLICE and r.operands[0].opcode is O.PARAMETER
    assert r.attrs["slice"] == ((3, 4, 2), (2, 7, 2))


def test_dynamic_slice_with_constant_start_clamps_like_xla():
    m = run(body("i = s32[] constant(7)\n  j = s32[] constant(-2)\n"
                 "  ROOT r = f32[2,3] dynamic-slice(x, i, j), dynamic_slice_sizes={2,3}"), simplify, dce)
    assert m.entry.root.opcode is O.SLICE
    assert m.entry.root.attrs["slice"] == ((2, 4, 1), (0, 3, 1))


def test_tuple_simplification():
    m = run(body("n = f32[4,8] negate(x)\n  t = (f32[4,8], f32[4,8]) tuple(x, n)\n"
                 "  ROOT g = f32[4,8] get-tuple-element(t), index=1"), simplify, dce)
    assert entry_ops(m) == ["parameter", "negate"]


def test_cse_merges_identical_and_keeps_different():
    m = run(body("a = f32[4,8] exponential(x)\n  b = f32[4,8] exponential(x)\n  c = f32[4,8] log(x)\n"
                 "  s = f32[4,8] add(a, b)\n  ROOT r = f32[4,8] add(s, c)"), cse, dce)
    assert entry_ops(m).count("exponential") == 1 and entry_ops(m).count("log") == 1
    s = m.entry.instruction("s")
    assert s.operands[0] is s.operands[1]


def test_cse_never_merges_random_numbers():
    text = body("a = (u32[2], u32[4]) rng-bit-generator(k), algorithm=rng_three_fry\n"
                "  b = (u32[2], u32[4]) rng-bit-generator(k), algorithm=rng_three_fry\n"
                "  ROOT t = ((u32[2], u32[4]), (u32[2], u32[4])) tuple(a, b)", "k = u32[2] parameter(0)")
    m = run(text, cse, dce)
    assert entry_ops(m).count("rng-bit-generator") == 2


def test_dce_drops_dead_code_and_uncalled_computations():
    text = """HloModule t
unused {
  p = f32[] parameter(0)
  ROOT n = f32[] negate(p)
}
ENTRY e {
  x = f32[4] parameter(0)
  dead = f32[4] exponential(x)
  ROOT r = f32[4] negate(x)
}"""
    m = run(text, dce)
    assert entry_ops(m) == ["parameter", "negate"]
    assert [c.name for c in m.computations] == ["e"]


def test_static_dimension_size_is_its_size_and_a_bounded_one_stays():
    m = run(body("a = s32[] get-dimension-size(x), dimensions={1}\n  b = s32[] get-dimension-size(x), dimensions={0}\n"
                 "  ROOT r = (s32[], s32[]) tuple(a, b)", "x = f32[<=4,8] parameter(0)"), simplify, dce)
    a, b = m.entry.root.operands
    assert a.opcode is O.CONSTANT and int(a.literal) == 8 and b.opcode is O.GET_DIMENSION_SIZE


def test_dce_drops_a_dead_after_all_and_keeps_tokens_an_effect_reads():
    m = run(body("t = token[] after-all()\n  u = token[] after-all(t)\n  o = token[] outfeed(x, u)\n"
                 "  dead = token[] after-all(t)\n  ROOT r = f32[4,8] negate(x)"), dce)
    assert entry_ops(m) == ["parameter", "after-all", "after-all", "outfeed", "negate"]


def test_dce_keeps_unused_parameters():
    m = run(body("ROOT r = f32[4,8] negate(x)", "x = f32[4,8] parameter(0)\n  y = f32[2] parameter(1)"), dce)
    assert len(m.entry.parameters) == 2


def test_call_inlining_flattens_nested_calls():
    text = """HloModule t
inner {
  p = f32[4] parameter(0)
  ROOT n = f32[4] negate(p)
}
outer {
  p = f32[4] parameter(0)
  c = f32[4] call(p), to_apply=inner
  ROOT e = f32[4] exponential(c)
}
ENTRY e {
  x = f32[4] parameter(0)
  ROOT r = f32[4] call(x), to_apply=outer
}"""
    m = run(text, inline_calls, dce)
    assert entry_ops(m) == ["parameter", "negate", "exponential"]
    assert [c.name for c in m.computations] == ["e"]
    names = [i.name for i in m.entry.instructions]
    assert len(set(names)) == len(names)
