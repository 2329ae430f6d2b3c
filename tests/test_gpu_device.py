"""The gpu target on a real NVIDIA GPU through CuPy: skipped where there is none (see test_gpu.py
for everything that runs without one). `python benchmarks/gpu.py` measures W1-W6 properly."""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from conftest import CASE_NAMES, assert_matches, load_case

import xla_magic as xm
from xla_magic.backends import gpu

OK, WHY = gpu.available()
pytestmark = pytest.mark.skipif(not OK, reason=f"no GPU: {WHY}")


@pytest.mark.parametrize("case", CASE_NAMES)
def test_corpus_on_the_gpu(case):
    text, args, outs, meta = load_case(case)
    exe = xm.compile(text, target="gpu")
    for _ in range(2):  # the second call replays the captured CUDA graphs
        got = exe(*[a.copy() for a in args])
        got = got if isinstance(got, tuple) else (got,)
        for g, e, om in zip(got, outs, meta["outputs"]):
            assert isinstance(g, np.ndarray)
            assert_matches(g, e, om, label="gpu ")


@pytest.mark.parametrize("case", ["softmax", "layernorm", "fori_loop", "cond", "mlp3", "tuple_output"])
def test_cupy_in_cupy_out(case):
    import cupy as cp

    text, args, outs, meta = load_case(case)
    exe = xm.compile(text, target="gpu")
    got = exe(*[cp.asarray(a) for a in args])
    got = got if isinstance(got, tuple) else (got,)
    for g, e, om in zip(got, outs, meta["outputs"]):
        assert isinstance(g, cp.ndarray)
        assert_matches(cp.asnumpy(g), e, om, label="gpu cupy ")


def test_out_and_argument_checks():
    text, args, outs, meta = load_case("binary_add_sub_mul")
    exe = xm.compile(text, target="gpu")
    with pytest.raises(TypeError, match="argument 0"):
        exe(args[0].astype(np.float64), *args[1:])
    with pytest.raises(TypeError, match="expected"):
        exe(*args[:-1])


def test_w1_costs_about_one_launch():
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
    import cupy as cp
    import gpu as bench  # benchmarks/gpu.py
    import workloads

    w = workloads.w1()
    row = bench.bench_one(w, cp, np.random.default_rng(0), bench.copy_bandwidth(cp, 0.1), 0.2)
    assert row["max_err"] < 1e-4
    assert row["kernels"] == 1
    assert row["speedup"] > 10, row  # the target is 20x; the benchmark records the figure
