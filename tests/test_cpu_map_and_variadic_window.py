"""`map` and reduce-window of several operands on the cpu, against the interpreter: map inlines
its scalar computation per element; a variadic reduce-window keeps N accumulators per output and
takes the window's in-bounds elements through the reducer (padded positions are skipped)."""
from __future__ import annotations

import numpy as np
import pytest

import xla_magic as xm

MAP3 = """HloModule m

f {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  c = s32[] parameter(2)
  gt = pred[] compare(a, b), direction=GT
  cf = f32[] convert(c)
  ac = f32[] multiply(a, cf)
  two = f32[] constant(2)
  bc = f32[] subtract(b, two)
  ROOT r = f32[] select(gt, ac, bc)
}

ENTRY e {
  x = f32[4,5] parameter(0)
  y = f32[4,5] parameter(1)
  z = s32[4,5] parameter(2)
  e = f32[4,5] exponential(x)
  m = f32[4,5] map(e, y, z), dimensions={0,1}, to_apply=f
  ROOT n = f32[4,5] negate(m)
}
"""

MAP_TO_INT = """HloModule m

g {
  a = f32[] parameter(0)
  ROOT r = s32[] convert(a)
}

ENTRY e {
  x = f32[7] parameter(0)
  ROOT m = s32[7] map(x), dimensions={0}, to_apply=g
}
"""


def _run_both(text: str, *args: np.ndarray) -> tuple[object, object]:
    module = xm.parse_hlo(text)
    return xm.interpret(module, *args), xm.compile(module, target="cpu", cache=False)(*args)


def test_map_of_three_operands_inside_elementwise_neighbours() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 5)).astype(np.float32), rng.standard_normal((4, 5)).astype(np.float32) * 3
    z = rng.integers(-5, 5, (4, 5)).astype(np.int32)
    want, got = _run_both(MAP3, x, y, z)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6)
    ref = -np.where(np.exp(x) > y, np.exp(x) * z, y - 2)
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-6)


def test_map_changes_the_element_type() -> None:
    x = np.array([-2.5, -1.0, 0.0, 0.5, 1.9, 7.0, 100.25], np.float32)
    want, got = _run_both(MAP_TO_INT, x)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    np.testing.assert_array_equal(np.asarray(got), x.astype(np.int32))


# (value, index) argmax: the larger value wins, the smaller index among equal ones.
ARGMAX = """HloModule m

argmax {
  av = f32[] parameter(0)
  ai = s32[] parameter(1)
  bv = f32[] parameter(2)
  bi = s32[] parameter(3)
  gt = pred[] compare(av, bv), direction=GT
  eq = pred[] compare(av, bv), direction=EQ
  lt = pred[] compare(ai, bi), direction=LT
  tie = pred[] and(eq, lt)
  a_wins = pred[] or(gt, tie)
  v = f32[] select(a_wins, av, bv)
  i = s32[] select(a_wins, ai, bi)
  ROOT r = (f32[], s32[]) tuple(v, i)
}

ENTRY e {
  x = f32[6,7] parameter(0)
  iota = s32[6,7] iota(), iota_dimension=1
  s = f32[6,7] sine(x)
  ninf = f32[] constant(-inf)
  neg1 = s32[] constant(-1)
  ROOT rw = (f32[OUT], s32[OUT]) reduce-window(s, iota, ninf, neg1), window={WINDOW}, to_apply=argmax
}
"""

WINDOWS = {
    "plain": ("size=2x3", "5,5"),
    "strided": ("size=2x2 stride=2x2", "3,3"),
    "padded": ("size=3x3 stride=2x2 pad=1_1x1_1", "3,4"),
    "dilated": ("size=2x2 stride=1x2 pad=0_1x2_0 rhs_dilate=2x1", "5,4"),
}


@pytest.mark.parametrize("window", list(WINDOWS))
def test_variadic_reduce_window_matches_interpreter(window: str) -> None:
    spec, out = WINDOWS[window]
    text = ARGMAX.replace("WINDOW", spec).replace("OUT", out)
    x = np.random.default_rng(1).standard_normal((6, 7)).astype(np.float32) * 3
    want, got = _run_both(text, x)
    assert isinstance(got, tuple) and isinstance(want, tuple) and len(got) == 2
    for g, w in zip(got, want):
        assert np.asarray(g).shape == tuple(int(d) for d in out.split(","))
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
