"""xm.benchmark: interpreted per op against compiled per call, stored in the report."""
from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from conftest import load_case

import xla_magic as xm
from xla_magic.bench import Timings, example_args
from xla_magic.hlo.evaluator import make_plan


def test_benchmark_fills_timings():
    text, args, _, _ = load_case("softmax")
    exe = xm.compile(text, target="cpu")
    t = xm.benchmark(exe, *args, seconds=0.05, max_samples=30)
    assert isinstance(t, Timings) and exe.report.timings is t
    assert t.target == "cpu"
    assert 5 <= len(t.interpreted) <= 30 and 5 <= len(t.compiled) <= 30
    assert (t.interpreted > 0).all() and (t.compiled > 0).all()
    lo, hi = t.compiled_spread
    assert lo <= t.compiled_median <= hi
    assert t.speedup == pytest.approx(t.interpreted_median / t.compiled_median)
    # per-op samples follow the unoptimized module's instructions, in execution order
    plan = make_plan(xm.parse_hlo(text).entry)
    assert [o.name for o in t.per_op] == [i.name for i in plan.step_instrs]
    assert all(o.seconds > 0 for o in t.per_op)
    assert 0 < t.cheapest_op <= max(o.seconds for o in t.per_op)
    assert t.per_op_total == pytest.approx(sum(o.seconds for o in t.per_op))
    assert "faster" in t.summary() and "Timings" in repr(t)
    # a fast compiled call (µs) is timed in batches, so each sample is well above the clock's resolution
    assert t.compiled_batch > 1


def test_benchmark_without_arguments_uses_random_inputs():
    text, _, _, _ = load_case("int_arith")
    exe = xm.compile(text, target="interpreter")
    t = xm.benchmark(exe, seconds=0.02, max_samples=8)
    assert len(t.per_op) > 0 and exe.report.timings is t


def test_benchmark_checks_arguments():
    text, args, _, _ = load_case("softmax")
    exe = xm.compile(text, target="cpu")
    with pytest.raises(TypeError, match="argument 0"):
        xm.benchmark(exe, args[0].astype(np.float64))
    with pytest.raises(TypeError, match="expected 1 argument"):
        xm.benchmark(exe, args[0], args[0])


def test_example_args_match_parameters():
    text, _, _, _ = load_case("dynamic_slice")
    m = xm.parse_hlo(text)
    args = example_args(m.entry.parameters)
    for p, a in zip(m.entry.parameters, args):
        assert a.shape == p.shape.dims and a.dtype == np.dtype(p.shape.dtype.np)
        assert a.flags.c_contiguous


class _FakeBar:
    made: list = []

    def __init__(self, total, **kw):
        self.total, self.n, self.closed = total, 0, False
        _FakeBar.made.append(self)

    def update(self, n=1):
        self.n += n

    def close(self):
        self.closed = True


@pytest.fixture
def fake_tqdm(monkeypatch):
    _FakeBar.made = []
    pkg = types.ModuleType("tqdm")
    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = _FakeBar
    pkg.auto = auto
    monkeypatch.setitem(sys.modules, "tqdm", pkg)
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    return _FakeBar


def test_progress_bar_for_long_runs_only(fake_tqdm):
    text, args, _, _ = load_case("softmax")
    exe = xm.compile(text, target="cpu")
    xm.benchmark(exe, *args, seconds=0.02, max_samples=10)  # short: no bar
    assert fake_tqdm.made == []
    xm.benchmark(exe, *args, seconds=0.02, max_samples=10, progress=True)
    (bar,) = fake_tqdm.made
    assert bar.closed and bar.n == bar.total > 0


def test_no_tqdm_no_bar(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails
    text, args, _, _ = load_case("softmax")
    exe = xm.compile(text, target="cpu")
    assert xm.benchmark(exe, *args, seconds=0.02, max_samples=10, progress=True).compiled.size
