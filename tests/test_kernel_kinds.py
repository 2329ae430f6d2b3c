"""The kernel classification, the reduction-space analysis and the scatter and update index rules
both code generators share."""
from __future__ import annotations

import numpy as np
import pytest

from xla_magic import interpret
from xla_magic.backends.indexing import scatter_target, update_starts
from xla_magic.backends.kernel_kinds import KernelKind, classify, not_in_loops
from xla_magic.backends.kernel_shapes import Placement, reduction_space, scatter_dims
from xla_magic.hlo.parser import parse_hlo

ADD = "add {\n  p = f32[] parameter(0)\n  q = f32[] parameter(1)\n  ROOT s = f32[] add(p, q)\n}\n"
MAX = "mx {\n  p = f32[] parameter(0)\n  q = f32[] parameter(1)\n  ROOT s = f32[] maximum(p, q)\n}\n"


def entry(body: str, reducers: str = ADD + MAX):
    return parse_hlo(f"HloModule m\n\n{reducers}ENTRY e {{\n{body}\n}}\n").entry


SOFTMAX = """  x = f32[4,8] parameter(0)
  ninf = f32[] constant(-inf)
  zero = f32[] constant(0)
  m = f32[4] reduce(x, ninf), dimensions={1}, to_apply=mx
  mb = f32[4,8] broadcast(m), dimensions={0}
  d = f32[4,8] subtract(x, mb)
  e = f32[4,8] exponential(d)
  s = f32[4] reduce(e, zero), dimensions={1}, to_apply=add
  sb = f32[4,8] broadcast(s), dimensions={0}
  ROOT y = f32[4,8] divide(e, sb)"""


def test_kinds_by_root_and_by_reduce():
    assert classify(entry("  x = f32[4] parameter(0)\n  ROOT n = f32[4] negate(x)")) is KernelKind.LOOP
    assert classify(entry(SOFTMAX)) is KernelKind.ROW_REDUCTION
    column = "  x = f32[4,8] parameter(0)\n  z = f32[] constant(0)\n" \
             "  ROOT r = f32[8] reduce(x, z), dimensions={0}, to_apply=add"
    assert classify(entry(column)) is KernelKind.COLUMN_REDUCTION
    full = "  x = f32[4,8] parameter(0)\n  z = f32[] constant(0)\n" \
           "  ROOT r = f32[] reduce(x, z), dimensions={0,1}, to_apply=add"
    assert classify(entry(full)) is KernelKind.ROW_REDUCTION
    dot = "  a = f32[2,3] parameter(0)\n  b = f32[3,4] parameter(1)\n" \
          "  ROOT d = f32[2,4] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}"
    assert classify(entry(dot)) is KernelKind.DOT
    topk = "  x = f32[4,8] parameter(0)\n  ROOT t = (f32[4,2], s32[4,2]) custom-call(x), custom_call_target=\"TopK\""
    assert classify(entry(topk)) is KernelKind.TOP_K


def test_an_update_runs_in_place_unless_the_program_says_otherwise():
    dus = "  x = f32[8] parameter(0)\n  u = f32[2] parameter(1)\n  i = s32[] parameter(2)\n" \
          "  ROOT d = f32[8] dynamic-update-slice(x, u, i)"
    assert classify(entry(dus)) is KernelKind.IN_PLACE_UPDATE
    assert classify(entry(dus), update_in_place=False) is KernelKind.LOOP


def test_not_in_loops_names_the_instruction():
    comp = entry("  x = f32[4] parameter(0)\n  c = f32[4] custom-call(x), custom_call_target=\"Foo\"\n"
                 "  ROOT n = f32[4] negate(c)")
    bad = not_in_loops(comp)
    assert bad is not None and bad.name == "c"


def test_softmax_space_two_phases_and_a_full_size_output():
    space = reduction_space(entry(SOFTMAX))
    assert space.row and space.kept_dims == (4,) and space.red_dims == (8,) and (space.nk, space.nr) == (4, 8)
    assert [[r.name for r in ph] for ph in space.phases] == [["m"], ["s"]]
    assert [o.placement for o in space.outputs] == [Placement.FULL]
    assert space.problem() is None
    assert [x.instr.name for x in space.readers] == ["m", "s"]


def test_variadic_reduce_column_space_and_stray_reduction():
    argmax = """  x = f32[4,8] parameter(0)
  i = s32[4,8] iota(), iota_dimension=1
  ninf = f32[] constant(-inf)
  z = s32[] constant(0)
  r = (f32[8], s32[8]) reduce(x, i, ninf, z), dimensions={0}, to_apply=amax
  ROOT g = s32[8] get-tuple-element(r), index=1"""
    amax = """amax {
  a = f32[] parameter(0)
  b = s32[] parameter(1)
  c = f32[] parameter(2)
  d = s32[] parameter(3)
  gt = pred[] compare(a, c), direction=GE
  v = f32[] select(gt, a, c)
  w = s32[] select(gt, b, d)
  ROOT t = (f32[], s32[]) tuple(v, w)
}
"""
    space = reduction_space(entry(argmax, amax))
    assert not space.row and space.kept == (1,) and space.rdims == (0,)
    r = space.reds[0]
    assert [o.name for o in space.inputs(r)] == ["x", "i"] and [o.name for o in space.inits(r)] == ["ninf", "z"]
    assert [(x.instr.name, x.leaf) for x in space.readers] == [("g", 1)]
    assert [o.placement for o in space.outputs] == [Placement.ROW]
    mixed = """  x = f32[4,8] parameter(0)
  z = f32[] constant(0)
  a = f32[4] reduce(x, z), dimensions={1}, to_apply=add
  b = f32[8] reduce(x, z), dimensions={0}, to_apply=add
  ROOT t = (f32[4], f32[8]) tuple(a, b)"""
    space = reduction_space(entry(mixed))
    assert space.stray is not None and space.stray.name == "b"
    assert space.problem() == "reductions over different spaces in one kernel (b)"
    assert [o.placement for o in space.outputs] == [Placement.ROW, Placement.NEITHER]


# --- the shared index rules of scatter and dynamic-update-slice kernels, on Python integers ------

class IntElements:
    """`indexing.Elements[int]`: index rules evaluated on plain integers, operands read from arrays."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = arrays

    const = staticmethod(int)
    true = staticmethod(lambda: True)

    def add(self, a, b): return a + b
    def sub(self, a, b): return a - b
    def mul(self, a, c): return a * c
    def div(self, a, c): return a // c
    def rem(self, a, c): return a % c
    def lt(self, a, b): return a < b
    def le(self, a, b): return a <= b
    def ge(self, a, b): return a >= b
    def eq(self, a, b): return a == b
    def and_(self, a, b): return a and b
    def clamp(self, v, lo, hi): return min(max(v, lo), hi)
    def wide(self, v): return v
    def narrow(self, v): return v
    def let(self, v, kind="index"): return v

    def element_index(self, dt, v):
        return int(np.asarray(v).astype(np.int64))  # u64 above 2^63 reads as negative, as in XLA

    def value(self, instr, index):
        return self.arrays[instr.name][tuple(index)]


SCATTER = """  x = f32[6,5] parameter(0)
  i = {it}[4,1] parameter(1)
  u = f32[4,2,5] parameter(2)
  ROOT s = f32[6,5] scatter(x, i, u), update_window_dims={{1,2}}, inserted_window_dims={{}},
    scatter_dims_to_operand_dims={{0}}, index_vector_dim=1, to_apply=add"""


@pytest.mark.parametrize("it, idx", [("s32", [0, 4, 5, -1]), ("u8", [255, 3, 4, 1]), ("u64", [2**64 - 1, 0, 9, 2])])
def test_scatter_target_skips_whole_windows_out_of_range(it, idx):
    comp = entry(SCATTER.format(it=it))
    sc = comp.root
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5)).astype(np.float32)
    i = np.array(idx, dtype=np.dtype({"s32": np.int32, "u8": np.uint8, "u64": np.uint64}[it])).reshape(4, 1)
    u = rng.standard_normal((4, 2, 5)).astype(np.float32)
    g = IntElements({"x": x, "i": i, "u": u})
    out = x.copy()
    for uidx in np.ndindex(*u.shape):
        full, ok = scatter_target(g, scatter_dims(sc), sc.operands[1], x.shape, list(uidx))
        if ok:
            out[tuple(full)] += u[uidx]
    text = f"HloModule m\n\n{ADD}ENTRY e {{\n{SCATTER.format(it=it)}\n}}\n"
    np.testing.assert_array_equal(out, interpret(text, x, i, u))


@pytest.mark.parametrize("it, starts, want", [("s32", (-3, 2), [0, 2]), ("s32", (7, 9), [6, 3]),
                                              ("u8", (200, 1), [6, 1]), ("s64", (5, -1), [5, 0])])
def test_update_starts_clamp_so_the_update_fits(it, starts, want):
    comp = entry(f"  x = f32[8,6] parameter(0)\n  u = f32[2,3] parameter(1)\n  i = {it}[] parameter(2)\n"
                 f"  j = {it}[] parameter(3)\n  ROOT y = f32[8,6] dynamic-update-slice(x, u, i, j)")
    dt = {"s32": np.int32, "u8": np.uint8, "s64": np.int64}[it]
    g = IntElements({"i": np.array(starts[0], dt), "j": np.array(starts[1], dt)})
    assert update_starts(g, comp.root) == want
