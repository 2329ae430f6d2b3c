"""Parser and printer: the corpus round-trips; malformed text names its line and column."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import CORPUS

import xla_magic as xm
from xla_magic.hlo.opcodes import Opcode
from xla_magic.hlo.parser import parse_hlo

CORPUS_FILES = sorted(p.name for p in CORPUS.glob("*.hlo"))


def test_corpus_has_all_files():
    assert len(CORPUS_FILES) == 140


@pytest.mark.parametrize("fname", CORPUS_FILES)
def test_corpus_round_trips(fname):
    text = (CORPUS / fname).read_text()
    m = parse_hlo(text, verify=False)
    printed = m.to_text()
    again = parse_hlo(printed, verify=False)
    assert again == m
    assert again.to_text() == printed
    # Every instruction of the source text is there.
    n_src = sum(1 for line in text.splitlines() if " = " in line and "(" in line and not line.startswith("HloModule"))
    assert sum(len(c.instructions) for c in m.computations) == n_src


SMALL = """HloModule m, entry_computation_layout={(f32[2,3]{1,0})->f32[2,3]{1,0}}

ENTRY main {
  x = f32[2,3]{1,0} parameter(0)
  c = f32[] constant(1.5)
  b = f32[2,3] broadcast(c), dimensions={}
  ROOT r = f32[2,3]{1,0} add(x, b), metadata={op_name="jit(f)/add" source_file="f.py" source_line=7}
}
"""


def test_names_with_and_without_sigils_inline_shapes():
    text = """HloModule m
%add (a: f32[], b: f32[]) -> f32[] {
  %a = f32[] parameter(0)
  %b = f32[] parameter(1)
  ROOT %s = f32[] add(f32[] %a, f32[] %b)
}
ENTRY %e (p: f32[4]) -> f32[] {
  p = f32[4]{0} parameter(0)
  %z = f32[] constant(0)
  ROOT r = f32[] reduce(f32[4]{0} p, f32[] %z), dimensions={0}, to_apply=add
}"""
    m = parse_hlo(text)
    r = m.entry.root
    assert r.opcode is Opcode.REDUCE and [o.name for o in r.operands] == ["p", "z"]
    assert r.attrs["to_apply"] is m.computation("add")
    assert r.attrs["dimensions"] == (0,)


def test_metadata_and_source_location_kept():
    m = parse_hlo(SMALL)
    r = m.entry.root
    assert r.metadata.op_name == "jit(f)/add"
    assert m.source_location(r) == ("f.py", 7)
    assert r.line == 7
    assert 'source_line=7' in m.to_text()


def test_stack_frame_tables_give_source_lines():
    m = parse_hlo((CORPUS / "softmax.opt.hlo").read_text())
    assert m.debug.file_names[1] == "gen.py"
    fused = [i for i in m.entry.instructions if i.opcode is Opcode.FUSION and i.metadata]
    assert fused and all(m.source_location(i)[0] == "gen.py" for i in fused)
    frames = m.debug.stack(5)
    assert frames[0][1] == 698 and len(frames) >= 2


def test_tuple_shapes_with_index_comments():
    m = parse_hlo((CORPUS / "random_threefry.hlo").read_text())
    tup = [i for c in m.computations for i in c.instructions if i.shape.is_tuple and len(i.shape.tuple_shapes) > 5]
    assert tup
    assert "/*index=5*/" in m.to_text()


def test_elided_constant_is_an_error_naming_it_and_the_option():
    text = """HloModule m
ENTRY e {
  c = f32[3]{0} constant({...})
  p = f32[3]{0} parameter(0)
  ROOT a = f32[3]{0} add(p, c)
}"""
    with pytest.raises(xm.HloParseError, match="constant 'c' is elided.*elided=\"random\"") as ei:
        parse_hlo(text)
    assert (ei.value.line, ei.value.column) == (3, 26)


def test_elided_constant_filled_with_zeros_or_deterministic_values():
    text = """HloModule m
ENTRY e {
  w = f32[64,8]{1,0} constant({...})
  i = s32[100]{0} constant({...})
  b = pred[50]{0} constant({...})
  h = bf16[4]{0} constant({...})
  ROOT t = (f32[64,8]{1,0}, s32[100]{0}, pred[50]{0}, bf16[4]{0}) tuple(w, i, b, h)
}"""
    zeros = parse_hlo(text, elided="zeros")
    assert all(not i.literal.any() for i in zeros.entry.instructions if i.literal is not None)
    m = parse_hlo(text, elided="random")
    lit = {i.name: i.literal for i in m.entry.instructions if i.literal is not None}
    w = lit["w"]
    assert w.dtype == np.float32 and w.shape == (64, 8)
    assert np.abs(w).max() <= 1 / 8 and w.std() > 0.02  # uniform(-1, 1) / sqrt(fan-in 64)
    assert lit["i"].dtype == np.int32 and lit["i"].min() >= 0 and lit["i"].max() < 8 and len(set(lit["i"])) > 1
    assert lit["b"].dtype == np.bool_ and 0 < lit["b"].sum() < 50
    assert str(lit["h"].dtype) == "bfloat16"
    again = {i.name: i.literal for i in parse_hlo(text, elided="random").entry.instructions if i.literal is not None}
    assert all(np.array_equal(lit[k], again[k]) for k in lit)  # the same text, the same values
    other = parse_hlo(text.replace("w = ", "w2 = ").replace("(w,", "(w2,"), elided="random")
    assert not np.array_equal(other.entry.instruction("w2").literal, w)  # seeded by the name
    assert "{...}" not in m.to_text()
    with pytest.raises(ValueError, match="elided must be"):
        parse_hlo(text, elided="ones")  # type: ignore[arg-type]


def test_constants_of_every_kind():
    text = """HloModule m
ENTRY e {
  a = f32[2,2]{1,0} constant({ /*i0=0*/ { 1, 2.5 }, { -inf, nan } })
  b = pred[3]{0} constant({true, false, true})
  c = s8[2]{0} constant({-128, 127})
  d = u64[1]{0} constant({18446744073709551615})
  e = bf16[] constant(0.1)
  f = c64[2]{0} constant({(1, 2), (3, -4)})
  g = f32[0]{0} constant({})
  ROOT t = (f32[2,2]{1,0}, pred[3]{0}, s8[2]{0}, u64[1]{0}, bf16[], c64[2]{0}, f32[0]{0}) tuple(a, b, c, d, e, f, g)
}"""
    m = parse_hlo(text)
    lit = {i.name: i.literal for i in m.entry.instructions if i.literal is not None}
    assert lit["a"][0, 1] == 2.5 and np.isneginf(lit["a"][1, 0]) and np.isnan(lit["a"][1, 1])
    assert lit["b"].tolist() == [True, False, True]
    assert lit["c"].dtype == np.int8 and lit["c"].tolist() == [-128, 127]
    assert int(lit["d"][0]) == 2**64 - 1
    assert lit["f"][1] == 3 - 4j
    assert lit["g"].shape == (0,)
    again = parse_hlo(m.to_text())
    assert again == m


def test_unknown_attributes_are_kept():
    text = SMALL.replace('dimensions={}', 'dimensions={}, sharding={replicated}, frobnicate="yes"')
    m = parse_hlo(text)
    b = m.entry.instruction("b")
    assert b.attrs["frobnicate"].text == '"yes"'
    assert 'sharding={replicated}' in m.to_text() and parse_hlo(m.to_text()) == m


@pytest.mark.parametrize("bad, line, col, expect", [
    ("HloModul m", 1, 10, "expected '{' to open the computation"),
    ("HloModule m\nENTRY e {\n  x = f32[2] parameter(0)\n  ROOT y = f32[2] add(x x)\n}", 4, 25, "expected ',' or ')'"),
    ("HloModule m\nENTRY e {\n  x = f33[2] parameter(0)\n}", 3, 7, "unknown element type 'f33'"),
    ("HloModule m\nENTRY e {\n  x = f32[2] parameter(0)\n  ROOT y = f32[2] frob(x)\n}", 4, 19, "unknown opcode 'frob'"),
    ("HloModule m\nENTRY e {\n  x = f32[2] parameter(0)\n  ROOT y = f32[2] negate(z)\n}", 4, 26, "'z' is not defined"),
    ("HloModule m\nENTRY e {\n  x = f32[2] parameter(0)\n  ROOT y = f32[2] negate(x), dimensions={a}\n}", 4, 42,
     "bad dimensions"),
    ("HloModule m\nENTRY e {\n  x = f32[2] constant({1, 2, 3})\n}", 3, 14, "does not match its shape"),
    ("HloModule m\nENTRY e {\n  x = s8[] constant(300)\n}", 3, 12, "does not fit s8"),
    ("HloModule m\nENTRY e {\n  x = f32[2] parameter(0)\n", 4, 1, "expected '}'"),
    ("HloModule m\nENTRY e {\n  x = f32[2] parameter(0)\n  ROOT y = f32[2] call(x), to_apply=nowhere\n}", 4, 37,
     "computation 'nowhere' is not defined"),
])
def test_syntax_errors_name_line_and_column(bad, line, col, expect):
    with pytest.raises(xm.HloParseError) as ei:
        parse_hlo(bad)
    e = ei.value
    assert (e.line, e.column) == (line, col), str(e)
    assert expect in str(e)
    # The excerpt shows the faulty line with a caret under the column.
    src, caret = e.excerpt.split("\n")
    assert caret.index("^") - 2 == col - 1
    lines = bad.split("\n")
    assert src[2:].rstrip() == lines[line - 1].rstrip()


def test_deep_nesting_is_an_error_not_a_recursion_crash():
    deep = "HloModule m\nENTRY e {\n  x = " + "(" * 5000 + "f32[]" + ")" * 5000 + " parameter(0)\n}"
    with pytest.raises(xm.HloParseError, match="nest deeper"):
        parse_hlo(deep)
    deep_const = "HloModule m\nENTRY e {\n  x = f32[" + ",".join(["1"] * 100) + "] constant(" + "{" * 100 + "1" + \
        "}" * 100 + ")\n}"
    with pytest.raises(xm.HloParseError, match="nest deeper"):
        parse_hlo(deep_const)


def test_parse_rejects_non_text():
    with pytest.raises(TypeError):
        parse_hlo(b"HloModule m")


def test_negative_zero_float_constants_keep_their_sign():
    """XLA prints a float -0.0 as "-0"; read back it must still be -0.0 (an integer -0 is 0)."""
    from xla_magic.hlo.evaluator import make_plan, run_plan

    text = ("HloModule m\n\nENTRY e {\n  c = f32[] constant(-0)\n  d = f16[2] constant({-0, 0})\n"
            "  i = s32[] constant(-0)\n  ROOT r = (f32[], f16[2], s32[]) tuple(c, d, i)\n}\n")
    for m in (parse_hlo(text), parse_hlo(parse_hlo(text).to_text())):
        c, d, i = run_plan(make_plan(m.entry), [])
        assert np.signbit(c) and list(np.signbit(d)) == [True, False] and i == 0
