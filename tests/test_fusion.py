"""Fusion plan, buffer assignment and cost analysis, on small HLO and on the corpus."""
from __future__ import annotations

import pytest
from conftest import CASE_NAMES, assert_matches, load_case

import xla_magic as xm
from xla_magic.hlo.opcodes import Opcode as O
from xla_magic.hlo.parser import parse_hlo
from xla_magic.passes.fusion import CPU, FusionConfig, count_kernels, fuse
from xla_magic.passes.pipeline import optimize

ADD = "add {\n  p = f32[] parameter(0)\n  q = f32[] parameter(1)\n  ROOT s = f32[] add(p, q)\n}\n"


def compiled(text: str):
    return xm.compile(text, target="interpreter")


def fusions(module) -> list:
    return [i for i in module.entry.instructions if i.opcode is O.FUSION]


def test_elementwise_chain_is_one_kernel_without_temporaries():
    text, args, outs, meta = load_case("big_elementwise_chain")
    exe = compiled(text)
    after = parse_hlo(exe.report.hlo_after)
    assert count_kernels(after) == 1
    assert exe.report.buffers.arena_bytes == 0
    assert exe.report.buffers.interpreter_peak_bytes > 4 * exe.report.buffers.output_bytes
    assert_matches(exe(*args), outs[0], meta["outputs"][0])


def test_syntaxnet_chain_is_one_kernel_without_temporaries():
    text, args, outs, meta = load_case("syntaxnet_chain")
    exe = compiled(text)
    assert count_kernels(parse_hlo(exe.report.hlo_after)) == 1
    assert exe.report.buffers.arena_bytes == 0


@pytest.mark.parametrize("case", ["softmax", "layernorm", "log_softmax"])
def test_reductions_share_kernels_with_their_producers(case):
    exe = compiled(load_case(case)[0])
    plan = exe.report.fusion_plan
    with_reduce = [k for k in plan.kernels if any(n.startswith(("reduce", "wrapped_reduce")) or "reduce" in n
                                                  for n in k.instructions) and len(k.instructions) > 2]
    assert with_reduce, plan.summary()
    # Every reduction sits in a kernel with elementwise work before or after it.
    after = parse_hlo(exe.report.hlo_after)
    for f in fusions(after):
        body = f.attrs["calls"].instructions
        if any(i.opcode is O.REDUCE for i in body):
            assert any(i.opcode in (O.EXP, O.SUBTRACT, O.MULTIPLY, O.DIVIDE, O.ADD) for i in body)


def test_softmax_is_one_kernel_per_direction():
    exe = compiled(load_case("softmax")[0])  # softmax over rows and over columns
    assert count_kernels(parse_hlo(exe.report.hlo_after)) == 2


def test_exp_is_never_duplicated_and_the_reason_is_given():
    # e feeds a [64] consumer and, through a reshape, an [8,8] one: the kernels cannot merge, and
    # exp is not copied into both.
    text = """HloModule t

ENTRY e {
  x = f32[64] parameter(0)
  y = f32[8,8] parameter(1)
  e = f32[64] exponential(x)
  r = f32[8,8] reshape(e)
  s = f32[8,8] add(r, y)
  n = f32[64] negate(e)
  ROOT t = (f32[8,8], f32[64]) tuple(s, n)
}
"""
    m = parse_hlo(text)
    _, plan = fuse(m, CPU)
    assert sum(1 for c in m.computations for i in c.instructions if i.opcode is O.EXP) == 1
    assert "exponential would be computed 2 times" in plan.reasons["e"]
    assert count_kernels(m) == 2


def test_cheap_producer_is_duplicated_into_two_consumers():
    text = """HloModule t

ENTRY e {
  x = f32[64] parameter(0)
  y = f32[8,8] parameter(1)
  n = f32[64] negate(x)
  r = f32[8,8] reshape(n)
  s = f32[8,8] add(r, y)
  e = f32[64] exponential(n)
  ROOT t = (f32[8,8], f32[64]) tuple(s, e)
}
"""
    m = parse_hlo(text)
    _, plan = fuse(m, CPU)
    assert count_kernels(m) == 2
    assert [k.duplicated for k in plan.kernels if k.duplicated] == [["n"]]
    negates = [i for c in m.computations for i in c.instructions if i.opcode is O.NEGATE]
    assert len(negates) == 2  # computed in both kernels, never stored


def test_library_calls_are_a_target_parameter():
    text = "HloModule t\n\nENTRY e {\n  x = f32[8,8] parameter(0)\n  n = f32[8,8] negate(x)\n" \
           "  ROOT d = f32[8,8] dot(n, x), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}\n"
    _, plan = fuse(parse_hlo(text), CPU)
    assert plan.kernel("d").kind == "library"
    no_lib = FusionConfig("test", library_calls=frozenset())
    m = parse_hlo(text)
    _, plan2 = fuse(m, no_lib)
    assert all(k.kind != "library" for k in plan2.kernels)


def test_multi_output_fusion_of_siblings():
    text = "HloModule t\n\n" + ADD + "ENTRY e {\n  x = f32[16,32] parameter(0)\n  z = f32[] constant(0)\n" \
        "  e = f32[16,32] exponential(x)\n  s = f32[16] reduce(e, z), dimensions={1}, to_apply=add\n" \
        "  m = f32[16] reduce(x, z), dimensions={1}, to_apply=add\n" \
        "  ROOT t = (f32[16,32], f32[16], f32[16]) tuple(e, s, m)\n}\n"
    m = parse_hlo(text)
    _, plan = fuse(m, CPU)
    assert count_kernels(m) == 1
    (k,) = [k for k in plan.kernels]
    assert len(k.outputs) == 3


def test_no_cycle_through_an_unfusible_op():
    # e feeds a dot (library call) whose result feeds the add: e and the add cannot share a kernel.
    text = "HloModule t\n\nENTRY e {\n  x = f32[8,8] parameter(0)\n  e = f32[8,8] exponential(x)\n" \
           "  d = f32[8,8] dot(e, x), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n" \
           "  ROOT a = f32[8,8] add(e, d)\n}\n"
    m = parse_hlo(text)
    fuse(m, CPU)
    from xla_magic.hlo.verifier import verify_module

    verify_module(m)
    assert count_kernels(m) == 3


def test_plan_kernels_know_costs_and_source_lines():
    exe = compiled(load_case("layernorm")[0])
    plan = exe.report.fusion_plan
    k = max(plan.kernels, key=lambda k: len(k.instructions))
    assert k.flops > 0 and k.bytes_read > 0 and k.bytes_written > 0
    text = """HloModule t

ENTRY e {
  x = f32[4] parameter(0)
  a = f32[4] negate(x), metadata={source_file="model.py" source_line=3}
  ROOT b = f32[4] exponential(a), metadata={source_file="model.py" source_line=4}
}
"""
    exe = compiled(text)
    (k,) = exe.report.fusion_plan.kernels
    assert k.source_lines == [("model.py", 3), ("model.py", 4)]
    assert k.transcendentals == 4 and k.flops == 4
    # Both source lines survive in the fused computation's metadata.
    assert 'source_line=3' in exe.report.hlo_after and 'source_line=4' in exe.report.hlo_after


def _xla_kernel_count(case: str) -> int:
    return count_kernels(parse_hlo(load_case(case, opt=True)[0], verify=False))


def test_kernel_count_beats_xla_over_the_corpus():
    ours, xla = {}, {}
    for case in CASE_NAMES:
        ours[case] = count_kernels(parse_hlo(compiled(load_case(case)[0]).report.hlo_after))
        xla[case] = _xla_kernel_count(case)
    total, total_xla = sum(ours.values()), sum(xla.values())
    assert total <= 0.8 * total_xla, (total, total_xla)
    assert total <= 0.8 * 382  # XLA:CPU's own count as the issue states it
    worse = {c: (ours[c], xla[c]) for c in CASE_NAMES if ours[c] > xla[c] + 1}
    assert not worse, worse


@pytest.mark.parametrize("case", CASE_NAMES)
def test_optimized_module_matches_references_and_verifies_after_every_pass(case):
    text, args, outs, meta = load_case(case)
    m, records = optimize(parse_hlo(text), target="cpu", verify=True)
    assert records and all(r.text for r in records)
    exe = xm.compile(m, target="interpreter", optimize=False)
    got = exe(*args)
    got = got if isinstance(got, tuple) else (got,)
    for g, e, om in zip(got, outs, meta["outputs"]):
        assert_matches(g, e, om)


def test_peak_temporary_bytes_far_below_the_interpreter():
    compiled_total = interp_total = 0
    for case in CASE_NAMES:
        b = compiled(load_case(case)[0]).report.buffers
        compiled_total += b.arena_bytes
        interp_total += b.interpreter_peak_bytes
    assert compiled_total * 20 < interp_total, (compiled_total, interp_total)


def test_temporaries_share_an_arena_and_outputs_are_never_reused():
    text = "HloModule t\n\n" + ADD + """ENTRY e {
  x = f32[64,64] parameter(0)
  z = f32[] constant(0)
  d1 = f32[64,64] dot(x, x), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  d2 = f32[64,64] dot(d1, x), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  d3 = f32[64,64] dot(d2, x), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  ROOT d4 = f32[64,64] dot(d3, x), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}
"""
    b = compiled(text).report.buffers
    temps = [x for x in b.buffers if x.kind == "temp"]
    assert len(temps) == 3
    assert b.arena_bytes == 2 * 64 * 64 * 4  # d1 and d3 share: their lifetimes do not overlap
    assert [x.kind for x in b.buffers if x.value == "d4"] == ["output"]
    assert all(x.offset >= 0 for x in temps)
    # No two temporaries alive at once overlap in memory.
    for a in temps:
        for c in temps:
            if a is not c and a.start <= c.end and c.start <= a.end:
                assert a.offset + a.size <= c.offset or c.offset + c.size <= a.offset


LT = "lt {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT c = pred[] compare(a, b), direction=LT\n}\n"


def test_dynamic_update_slice_writes_in_place_into_a_dead_temporary():
    text = "HloModule t\n\n" + LT + """ENTRY e {
  x = f32[16] parameter(0)
  u = f32[4] parameter(1)
  i = s32[] parameter(2)
  n = f32[16] sort(x), dimensions={0}, to_apply=lt
  d = f32[16] dynamic-update-slice(n, u, i)
  ROOT s = f32[16] sort(d), dimensions={0}, to_apply=lt
}
"""
    b = compiled(text).report.buffers
    assert b.in_place == ["d"] and b.aliases["d"] == "n"
    assert b.arena_bytes == 64  # n and d share one buffer


def test_parameters_are_never_updated_in_place():
    text = "HloModule t\n\n" + """ENTRY e {
  x = f32[16] parameter(0)
  u = f32[4] parameter(1)
  i = s32[] parameter(2)
  ROOT d = f32[16] dynamic-update-slice(x, u, i)
}
"""
    b = compiled(text).report.buffers
    assert b.in_place == [] and b.buffer("d").kind == "output"


def test_buffer_assignment_steps_views_live_ranges_and_packing():
    from xla_magic.passes.buffers import Buffer, alias_sets, live_ranges, pack

    m = parse_hlo("HloModule t\n\n" + LT + """ENTRY e {
  x = f32[16] parameter(0)
  n = f32[16] sort(x), dimensions={0}, to_apply=lt
  v = f32[4,4] bitcast(n)
  m = f32[4,4] negate(v)
  t = (f32[16], f32[4,4]) tuple(n, m)
  g = f32[4,4] get-tuple-element(t), index=1
  ROOT r = f32[4,4] add(g, v)
}
""")
    comp = m.entry
    a = alias_sets(comp)
    by_name = {i.name: i for i in comp.instructions}
    assert a.source(by_name["v"]) is by_name["n"] and a.source(by_name["g"]) is by_name["m"]
    assert [h.name for h in a.holders[id(by_name["t"])]] == ["n", "m"]
    assert a.returned == {id(by_name["r"])}
    live = live_ranges(comp, a, is_entry=True)
    assert {b.value: (b.kind, b.start, b.end) for b in live.buffers} == {
        "x": ("parameter", 0, 1), "n": ("temp", 1, 6), "m": ("temp", 3, 6), "r": ("output", 6, 7)}
    assert live.aliases == {"v": "n", "t": "t", "g": "m"}
    # Biggest first: c at the base; a (aligned to 128 bytes) never lives with c and shares its bytes;
    # b lives with both and goes above them.
    ranges = [Buffer("a", 100, "temp", 0, 2), Buffer("b", 64, "temp", 1, 3), Buffer("c", 128, "temp", 3, 4)]
    packing = pack(ranges, base=64)
    assert packing.offsets == [64, 192, 64] and packing.end == 256
