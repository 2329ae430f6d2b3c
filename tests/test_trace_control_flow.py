"""Traced control flow: fori_loop / while_loop / scan as HLO while, cond / switch as HLO
conditional; closures captured into the loop state, nesting, weak types, eager fallbacks, and
Python control flow on static values (unrolled)."""
from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
from test_trace_models import leaves

import xla_magic as xm
from xla_magic.hlo.opcodes import Opcode
from xla_magic.trace import TracingError, switch

F32 = np.float32
rng = np.random.default_rng(2)


def randn(*shape):
    return rng.standard_normal(shape).astype(F32)


def opcodes(m) -> set[Opcode]:
    return {i.opcode for c in m.computations for i in c.instructions}


def run(fn, *args, rtol=1e-5):
    """Same results traced-and-compiled and in plain numpy (where the loops run in Python)."""
    want = fn(*args)
    got = xm.jit(fn)(*args)
    flat_w, flat_g = leaves(want), leaves(got)
    assert len(flat_g) == len(flat_w)
    for g, w in zip(flat_g, flat_w):
        w = np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.dtype, g.shape, w.dtype, w.shape)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-6)
    return got


def test_python_loops_on_static_values_unroll():
    def f(x):
        for _ in range(3):
            x = np.sin(x)
        return x
    m = xm.trace(f, randn(4))
    assert Opcode.WHILE not in opcodes(m) and m.to_text().count(" sine(") == 3
    run(f, randn(4))


def test_fori_loop_is_one_while_with_captured_closures():
    w = randn(4, 4) * 0.3

    def f(x, b):
        return xm.fori_loop(0, 6, lambda i, h: np.tanh(h @ w + b * i), x)
    m = xm.trace(f, randn(2, 4), randn(4))
    assert Opcode.WHILE in opcodes(m) and m.to_text().count(" tanh(") == 1
    run(f, randn(2, 4), randn(4))


def test_fori_loop_with_traced_bounds_and_tuple_state():
    def f(x, n):
        def body(i, s):
            acc, prod = s
            return acc + x[i], prod * 0.5
        return xm.fori_loop(1, n, body, (np.zeros_like(x[0]), x[0]))
    run(f, randn(6, 3), np.int64(5))
    run(f, randn(6, 3), np.int64(0))  # an empty range runs no iterations


def test_nested_loops_capture_through_both_levels():
    def f(x, y):
        def outer(i, acc):
            return xm.fori_loop(0, 3, lambda j, a: a + x[i] * y[j], acc)
        return xm.fori_loop(0, 4, outer, np.zeros(5, F32))
    run(f, randn(4, 5), randn(3, 5))


def test_while_loop_with_data_dependent_exit():
    def f(x):
        def cond(s):
            k, v = s
            return np.logical_and(k < 100, v.sum() < 1000)

        def body(s):
            k, v = s
            return k + 1, v * 2 + 1
        return xm.while_loop(cond, body, (0, x))
    k, v = run(f, np.abs(randn(3)))
    assert 0 < k < 100


def test_weak_carry_takes_the_bodys_dtype():
    def f(x):
        return xm.fori_loop(0, 4, lambda i, acc: acc + x[i], 0.0)  # Python float accumulates float32
    out = run(f, randn(4))
    assert out.dtype == F32


def test_loop_carry_mismatch_is_a_clear_error():
    with pytest.raises(TracingError, match="fori_loop body changed the shape of loop-carried value #0"):
        xm.trace(lambda x: xm.fori_loop(0, 2, lambda i, v: v[:-1], x), randn(4))
    with pytest.raises(TracingError, match=r"changed the dtype of loop-carried value #0.*astype\(np.float32\)"):
        xm.trace(lambda x: xm.fori_loop(0, 2, lambda i, v: v * np.float64(2), x), randn(4))
    with pytest.raises(TracingError, match="same structure"):
        xm.trace(lambda x: xm.while_loop(lambda s: s[0] < 2, lambda s: s[0], (0, x)), randn(4))
    with pytest.raises(TracingError, match="scalar boolean"):
        xm.trace(lambda x: xm.while_loop(lambda v: v > 0, lambda v: v - 1, x), randn(4))


def test_scan_collects_outputs_and_reads_inputs_per_step():
    def f(xs, h0, a):
        def step(h, x):
            h = a * h + (1 - a) * x
            return h, np.tanh(h)
        return xm.scan(step, h0, xs)
    m = xm.trace(f, randn(7, 3), randn(3), F32(0.9))
    assert {Opcode.WHILE, Opcode.DYNAMIC_SLICE, Opcode.DYNAMIC_UPDATE_SLICE} <= opcodes(m)
    run(f, randn(7, 3), randn(3), F32(0.9))


def test_scan_with_containers_reverse_and_length():
    def f(xs, ys):
        def step(c, inp):
            x, y = inp["x"], inp["y"]
            return {"s": c["s"] + x * y}, (x - y, (x * y).sum())
        return xm.scan(step, {"s": np.zeros(2, F32)}, {"x": xs, "y": ys}, reverse=True)
    run(f, randn(5, 2), randn(5, 2))

    def g(c0):
        return xm.scan(lambda c, _: (c * 2, c + 1), c0, None, length=4)
    run(g, randn(3))


def test_cond_emits_a_conditional_and_picks_the_branch():
    def f(x, flag):
        return xm.cond(flag, lambda v: v @ v.T, lambda v: -v @ v.T, x)
    m = xm.trace(f, randn(3, 3), np.bool_(True))
    assert Opcode.CONDITIONAL in opcodes(m)
    run(f, randn(3, 3), np.bool_(True))
    run(f, randn(3, 3), np.bool_(False))


def test_cond_with_several_outputs_closures_and_promotion():
    def f(x, y):
        return xm.cond(x.sum() > y.sum(), lambda a: (a * y, a.sum()), lambda a: (a - y, F32(0)), x)
    run(f, randn(4), randn(4) - 3)
    run(f, randn(4), randn(4) + 3)
    # a weak Python number in one branch takes the other branch's dtype; strong dtypes promote
    m = xm.trace(lambda x: xm.cond(x[0] > 0, lambda a: (a.sum(), a), lambda a: (0.0, a * np.float64(2)), x), randn(3))
    assert [s.dtype.name for s in m.entry.root.shape.tuple_shapes] == ["f32", "f64"]


def test_cond_on_a_static_predicate_does_not_branch():
    m = xm.trace(lambda x: xm.cond(True, np.sin, np.cos, x), randn(3))
    assert Opcode.CONDITIONAL not in opcodes(m) and " sine(" in m.to_text()


def test_cond_branches_must_agree_in_shape():
    with pytest.raises(TracingError, match="different shapes"):
        xm.trace(lambda x: xm.cond(x[0] > 0, lambda v: v, lambda v: v[:2], x), randn(3))


def test_switch_clamps_its_index():
    def f(x, i):
        return switch(i, [np.sin, np.cos, lambda v: v * 10], x)
    for i in (-3, 0, 1, 2, 7):
        got = xm.jit(f)(randn(3) * 0 + 1, np.int32(i))
        np.testing.assert_allclose(got, f(np.ones(3, F32), min(max(i, 0), 2)), rtol=1e-6)


def test_pytree_namedtuple_state():
    State = namedtuple("State", "x v")

    def f(x):
        s = xm.fori_loop(0, 3, lambda i, s: State(s.x + s.v, s.v * 0.5), State(x, x))
        return s.x, s.v
    run(f, randn(3))


def test_loops_run_eagerly_outside_a_trace():
    assert xm.fori_loop(0, 4, lambda i, v: v + i, 0) == 6
    assert xm.while_loop(lambda v: v < 10, lambda v: v * 2, 1) == 16
    assert xm.cond(False, lambda: 1, lambda: 2) == 2
    c, ys = xm.scan(lambda c, x: (c + x, c * x), 0.0, np.arange(3.0))
    assert c == 3.0 and list(ys) == [0.0, 0.0, 2.0]
