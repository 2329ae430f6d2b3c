"""Fusion planning does work in proportion to the program: a program four times as large costs the
planner at most about four times the merge attempts and cycle-check steps (counted, not timed)."""
import pytest

from xla_magic.hlo.ir import Module
from xla_magic.hlo.parser import parse_hlo
from xla_magic.passes.fusion import CPU, _Planner
from xla_magic.passes.pipeline import optimize


def generators(k: int) -> str:
    """k random-bit generators of different shapes, expanded into a few hundred elementwise ops each."""
    lines, names, shapes = [], [], []
    for n in range(k):
        alg, state = ("rng_three_fry", "u64[2]") if n % 2 == 0 else ("rng_philox", "u64[3]")
        lines.append(f"  s{n} = {state} parameter({n})")
        lines.append(f"  g{n} = ({state}, u32[8,{5 + n}]) rng-bit-generator(s{n}), algorithm={alg}")
        names.append(f"g{n}")
        shapes.append(f"({state}, u32[8,{5 + n}])")
    return "HloModule g\nENTRY e {\n" + "\n".join(lines) + \
        f"\n  ROOT t = ({', '.join(shapes)}) tuple({', '.join(names)})\n}}"


def graphs(k: int) -> str:
    """k independent graphs, each with a value two kernels read and kernels that share an input."""
    lines, names = [], []
    for n in range(k):
        lines += [f"  p{n} = f32[64] parameter({n})", f"  e{n} = f32[64] exponential(p{n})",
                  f"  s{n} = f32[64] sqrt(e{n})", f"  t{n} = f32[64] tanh(e{n})",
                  f"  l{n} = f32[64] log(p{n})", f"  a{n} = f32[64] add(s{n}, l{n})",
                  f"  m{n} = f32[64] multiply(t{n}, a{n})", f"  c{n} = f32[64] cosine(p{n})"]
        names += [f"m{n}", f"e{n}", f"c{n}"]
    return "HloModule w\nENTRY e {\n" + "\n".join(lines) + \
        f"\n  ROOT t = ({', '.join(['f32[64]'] * len(names))}) tuple({', '.join(names)})\n}}"


def _planned(text: str) -> tuple[_Planner, int]:
    """The planner after both steps on the optimized entry, and the groups before multi-output."""
    module: Module = optimize(parse_hlo(text), "cpu", skip=["fusion", "dce"])[0]
    planner = _Planner(module.entry, CPU, {})
    planner.producer_consumer()
    before = len(planner.groups)
    planner.multi_output()
    return planner, before


@pytest.mark.parametrize("make,k", [(generators, 2), (graphs, 8)])
def test_planning_work_grows_linearly(make, k):
    work = []
    for n in (k, 4 * k):
        planner, before = _planned(make(n))
        assert len(planner.groups) < before  # multi-output fusion merged kernels: there was work
        work.append(planner.candidates_examined + planner.graph.searched)
    assert work[0] > 0 and work[1] <= 5 * work[0], work
