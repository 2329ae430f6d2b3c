"""Scatter of several operands at once (one update computation over 2N scalars, N results) on the
cpu target and the gpu target's code run on the host, against the interpreter: duplicate indices
applied in order, windows that leave the operand skipped, window and batching dimensions, mixed
element types, and the ordering hints."""
from __future__ import annotations

import numpy as np
import pytest

import xla_magic as xm
from xla_magic.backends.gpu import hostsim
from xla_magic.hlo.parser import parse_hlo
from xla_magic.passes.pipeline import optimize


def scatter_module(types: list[str], operand_dims: str, indices: str, update_dims: str, combine: str,
                   dnums: str, root: str = "", extra: str = "") -> str:
    """A module whose entry scatters N = len(types) operands; `combine` is the update
    computation's body over a0.. (current values) and b0.. (updates), its ROOT included."""
    n = len(types)
    params = [f"  a{k} = {t}[] parameter({k})" for k, t in enumerate(types)]
    params += [f"  b{k} = {t}[] parameter({n + k})" for k, t in enumerate(types)]
    ops = [f"  x{k} = {t}[{operand_dims}] parameter({k})" for k, t in enumerate(types)]
    ops.append(f"  i = {indices} parameter({n})")
    ops += [f"  u{k} = {t}[{update_dims}] parameter({n + 1 + k})" for k, t in enumerate(types)]
    shape = "(" + ", ".join(f"{t}[{operand_dims}]" for t in types) + ")"
    args = ", ".join([f"x{k}" for k in range(n)] + ["i"] + [f"u{k}" for k in range(n)])
    body = root or "  ROOT s = SHAPE scatter(ARGS), DNUMS, to_apply=combine"
    body = body.replace("SHAPE", shape).replace("ARGS", args).replace("DNUMS", dnums)
    return ("HloModule scatter\n\ncombine {\n" + "\n".join(params) + "\n" + combine + "\n}\n" + extra +
            "\nENTRY e {\n" + "\n".join(ops) + "\n" + body + "\n}\n")


def run_on(target: str, text: str, *args):
    if target == "cpu":
        return xm.compile(text, target="cpu")(*args)
    m, _ = optimize(parse_hlo(text), target="gpu")
    return hostsim.compile(m)(*args)


@pytest.fixture(params=["cpu", "gpu-hostsim"])
def check(request):
    """Runs a module on the cpu target, or the gpu target's code on the host; checks it against
    the interpreter and returns the results."""
    if request.param == "gpu-hostsim" and not hostsim.available()[0]:
        pytest.skip("no C++ compiler for the host simulation")

    def run(text: str, *args):
        got = run_on(request.param, text, *args)
        want = xm.interpret(text, *args)
        got, want = (got if isinstance(got, tuple) else (got,)), (want if isinstance(want, tuple) else (want,))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g, w)
        return got
    return run


REPLACE = "  ROOT t = (f32[], s32[]) tuple(b0, b1)"


def test_duplicates_apply_in_scatter_index_order_as_xla(check):
    # Windows of 2 starting at 0, 1, 1, 3: element 1 is written by (index 0, window 1), then
    # (1, 0), then (2, 0); the last wins. Expected values from XLA:CPU (jaxlib 0.10.2).
    text = scatter_module(["f32", "s32"], "6", "s32[4,1]", "2,4", REPLACE,
                          "update_window_dims={0}, inserted_window_dims={}, scatter_dims_to_operand_dims={0}, "
                          "index_vector_dim=1")
    args = [np.arange(6, dtype=np.float32), np.arange(6, dtype=np.int32) * 10, np.int32([[0], [1], [1], [3]]),
            np.arange(8, dtype=np.float32).reshape(2, 4) + 100, np.arange(8, dtype=np.int32).reshape(2, 4) + 200]
    x, y = check(text, *args)
    np.testing.assert_array_equal(x, [100, 102, 106, 103, 107, 5])
    np.testing.assert_array_equal(y, [200, 202, 206, 203, 207, 50])


ADD_MAX = """  s0 = f32[] add(a0, b0)
  s1 = s32[] maximum(a1, b1)
  ROOT t = (f32[], s32[]) tuple(s0, s1)"""

# keep the larger first value, and the second value that came with it (ties: the later update)
ARGMAX = """  gt = pred[] compare(b0, a0), direction=GE
  v = f32[] select(gt, b0, a0)
  w = u8[] select(gt, b1, a1)
  ROOT t = (f32[], u8[]) tuple(v, w)"""


def test_duplicates_and_out_of_range_indices(check):
    text = scatter_module(["f32", "s32"], "6", "s32[7]", "7", ADD_MAX,
                          "update_window_dims={}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, "
                          "index_vector_dim=1")
    idx = np.int32([0, 2, 2, -1, 6, 5, 2])
    x, y = check(text, np.ones(6, np.float32), np.zeros(6, np.int32), idx,
                 np.float32([1, 2, 3, 4, 5, 6, 7]), np.int32([9, -3, 8, 100, 100, 4, 7]))
    np.testing.assert_array_equal(x, [2, 1, 13, 1, 1, 7])
    np.testing.assert_array_equal(y, [9, 0, 8, 0, 0, 4])


def test_window_dims_with_a_window_that_leaves_the_operand(check):
    text = scatter_module(["f32", "u8"], "5,4", "s32[4,1]", "4,2,4", ARGMAX,
                          "update_window_dims={1,2}, inserted_window_dims={}, scatter_dims_to_operand_dims={0}, "
                          "index_vector_dim=1")
    rng = np.random.default_rng(0)
    args = [rng.integers(0, 5, (5, 4)).astype(np.float32), rng.integers(0, 255, (5, 4)).astype(np.uint8),
            np.int32([[0], [2], [4], [0]]), rng.integers(0, 5, (4, 2, 4)).astype(np.float32),
            rng.integers(0, 255, (4, 2, 4)).astype(np.uint8)]
    x, _ = check(text, *args)
    np.testing.assert_array_equal(x[4], args[0][4])  # only the skipped window (start 4) reached row 4


def test_batching_dims(check):
    combine = """  s0 = f64[] add(a0, b0)
  s1 = s64[] subtract(a1, b1)
  ROOT t = (f64[], s64[]) tuple(s0, s1)"""
    text = scatter_module(["f64", "s64"], "2,5", "s32[2,3,1]", "2,3", combine,
                          "update_window_dims={}, inserted_window_dims={1}, scatter_dims_to_operand_dims={1}, "
                          "input_batching_dims={0}, scatter_indices_batching_dims={0}, index_vector_dim=2")
    idx = np.int32([[[1], [1], [7]], [[0], [4], [-2]]])
    x, y = check(text, np.zeros((2, 5)), np.zeros((2, 5), np.int64), idx,
                 np.float64([[1, 2, 3], [4, 5, 6]]), np.int64([[1, 2, 3], [4, 5, 6]]))
    np.testing.assert_array_equal(x, [[0, 3, 0, 0, 0], [4, 0, 0, 0, 5]])
    np.testing.assert_array_equal(y, [[0, -3, 0, 0, 0], [-4, 0, 0, 0, -5]])


@pytest.mark.parametrize("hints", ["", ", indices_are_sorted=true", ", unique_indices=true",
                                   ", indices_are_sorted=true, unique_indices=true"])
def test_three_operands_and_hints_that_do_not_hold(check, hints):
    # The hints claim sorted, unique indices; these are neither: the result is as without them.
    combine = """  o = pred[] or(a1, b1)
  s = s8[] add(a2, b2)
  ROOT t = (f16[], pred[], s8[]) tuple(b0, o, s)"""
    text = scatter_module(["f16", "pred", "s8"], "8", "u32[5,1]", "5", combine,
                          "update_window_dims={}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, "
                          "index_vector_dim=1" + hints)
    idx = np.uint32([[5], [1], [5], [0xFFFFFFFF], [7]])
    x, p, s = check(text, np.zeros(8, np.float16), np.zeros(8, bool), np.full(8, 120, np.int8), idx,
                    np.float16([1.5, 2.5, -3, 4, 5]), np.array([False, True, True, True, False]),
                    np.int8([100, 2, 30, 4, 5]))
    np.testing.assert_array_equal(x, np.float16([0, 2.5, 0, 0, 0, -3, 0, 5]))
    np.testing.assert_array_equal(p, [False, True, False, False, False, True, False, False])
    np.testing.assert_array_equal(s, np.int8([120, 122, 120, 120, 120, -6, 120, 125]))  # wraps


def test_inside_a_program(check):
    # Operands computed, results consumed: the scatter's kernel between fused loops.
    root = """  d0 = f32[6] multiply(x0, x0)
  d1 = s32[6] negate(x1)
  s = SHAPE scatter(d0, d1, i, u0, u1), DNUMS, to_apply=combine
  g0 = f32[6] get-tuple-element(s), index=0
  g1 = s32[6] get-tuple-element(s), index=1
  c1 = f32[6] convert(g1)
  ROOT r = f32[6] add(g0, c1)"""
    text = scatter_module(["f32", "s32"], "6", "s32[3,1]", "3", ADD_MAX,
                          "update_window_dims={}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, "
                          "index_vector_dim=1", root=root)
    (r,) = check(text, np.arange(6, dtype=np.float32), np.arange(6, dtype=np.int32), np.int32([[1], [1], [4]]),
                 np.float32([10, 20, 30]), np.int32([5, -7, 0]))
    np.testing.assert_array_equal(r, [0, 36, 2, 6, 46, 20])


IN_PLACE = """HloModule s
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT c = f32[] add(a, b)
}
ENTRY e {
  x = f32[1000] parameter(0)
  i = s32[5,1] parameter(1)
  u = f32[5] parameter(2)
  x2 = f32[1000] multiply(x, x)
  s = f32[1000] scatter(x2, i, UPDATES), update_window_dims={}, inserted_window_dims={0},
      scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add
  ROOT r = f32[1000] negate(s)
}"""


@pytest.mark.parametrize("updates,in_place", [("u", True), ("x2", False)])
def test_scatter_writes_in_place_when_its_operand_dies_there(check, updates, in_place):
    # The operand is a temporary read by nothing after the scatter: the scatter takes its buffer,
    # unless it also reads its updates from it.
    text = IN_PLACE.replace("UPDATES", updates)
    if updates == "x2":
        text = text.replace("s32[5,1]", "s32[1000,1]")
    idx = np.int32([[3], [3], [999], [1000], [-1]]) if updates == "u" else np.arange(1000, dtype=np.int32)[::-1, None]
    check(text, np.arange(1000, dtype=np.float32) / 100, np.ascontiguousarray(idx), np.float32([1, 2, 3, 4, 5]))
    assert (xm.compile(text, target="cpu").report.buffers.in_place == ["s"]) is in_place
