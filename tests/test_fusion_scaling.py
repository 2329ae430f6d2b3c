"""Fusion planning does work in proportion to the program: a program four times as large costs the
planner at most about four times the merge attempts and cycle-check steps (counted, not timed)."""
import pytest

from xla_magic.hlo.ir import Module
from xla_magic.hlo.parser import parse_hlo
from xla_magic.passes.fusion import CPU, _Planner
from xla_magic.passes.fusion_graph import OrderedDag
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


def test_ordered_dag_contracts_and_keeps_a_topological_order():
    # a -> x -> b, a -> b, c -> b, d independent; a and b cannot merge (the path through x)
    edges = {"a": {"x", "b"}, "x": {"b"}, "c": {"b"}}
    dag = OrderedDag(["a", "x", "b", "c", "d"], edges, {"a": 0, "c": 1, "x": 2, "d": 3, "b": 4})
    assert dag.path_through_third("a", "b") and not dag.path_through_third("b", "a")
    assert not dag.path_through_third("c", "b") and not dag.path_through_third("a", "c")
    dag.contract("c", "b")  # b absorbs c
    dag.contract("x", "a")  # a absorbs x: a -> b stays, through no third node now
    assert dag.edges() == {"a": {"b"}}
    assert not dag.path_through_third("a", "b")
    assert dag.pos["a"] < dag.pos["b"] and set(dag.pos) == {"a", "b", "d"}


def test_ordered_dag_moves_the_nodes_between_two_merged_ones():
    # siblings a and b (both read p) with a's consumer y and b's producer z between them
    edges = {"p": {"a", "b"}, "a": {"y"}, "z": {"b"}, "b": {"w"}, "y": {"w"}}
    dag = OrderedDag(["p", "a", "y", "z", "b", "w"], edges, {"p": 0, "a": 1, "y": 2, "z": 3, "b": 4, "w": 5})
    assert [n for n in dag.seq if n] == ["p", "a", "y", "z", "b", "w"]
    assert not dag.path_through_third("a", "b")
    dag.contract("a", "b")
    assert dag.edges() == {"p": {"b"}, "b": {"y", "w"}, "z": {"b"}, "y": {"w"}}
    assert all(dag.pos[m] < dag.pos[n] for m, ns in dag.edges().items() for n in ns)
