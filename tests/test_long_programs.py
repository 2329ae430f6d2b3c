"""Long programs: nothing in the compiler recurses per instruction. A 10,000-op elementwise chain
(fused into kernels as long as the preset allows) and a wide graph of 10,000 ops compile and run on
every target (the gpu's CUDA through the host simulation); a traced numpy loop of 10,000 ops, a
400-op %%hlo cell and the kernel graph of a long chain of views too. Python's recursion limit is
set to its default here, so a per-op recursion anywhere fails. About a minute in all."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import xla_magic as xm
from xla_magic.backends.gpu import hostsim
from xla_magic.hlo.parser import parse_hlo
from xla_magic.passes.pipeline import optimize

N = 10_000
X = np.linspace(-1, 1, 16, dtype=np.float32)
B = np.full(16, 0.25, np.float32)


def chain(n_ops: int, dims: int = 16) -> str:
    """y = tanh(y * 0.5 + b), n_ops/3 times: every op a step of one fused chain."""
    t = f"f32[{dims}]"
    lines = ["HloModule chain", "ENTRY e {", f"  x = {t} parameter(0)", f"  b = {t} parameter(1)",
             "  h = f32[] constant(0.5)", f"  hb = {t} broadcast(h), dimensions={{}}"]
    y = "x"
    for k in range(n_ops // 3):
        lines += [f"  m{k} = {t} multiply({y}, hb)", f"  a{k} = {t} add(m{k}, b)", f"  y{k} = {t} tanh(a{k})"]
        y = f"y{k}"
    return "\n".join([*lines, f"  ROOT r = {t} negate({y})", "}"])


def chain_numpy(x: np.ndarray, b: np.ndarray, n_ops: int) -> np.ndarray:
    y = x
    for _ in range(n_ops // 3):
        y = np.tanh(y * np.float32(0.5) + b)
    return -y


def wide(n_ops: int) -> str:
    """n_ops/2 independent slices of the parameter, summed by a chain of n_ops/2 adds."""
    k_max = n_ops // 2
    lines = ["HloModule wide", "ENTRY e {", f"  x = f32[{k_max + 15}] parameter(0)"]
    lines += [f"  s{k} = f32[16] slice(x), slice={{[{k}:{k + 16}]}}" for k in range(k_max)]
    acc = "s0"
    for k in range(1, k_max):
        lines.append(f"  acc{k} = f32[16] add({acc}, s{k})")
        acc = f"acc{k}"
    return "\n".join([*lines, f"  ROOT r = f32[16] negate({acc})", "}"])


def wide_numpy(x: np.ndarray, n_ops: int) -> np.ndarray:
    acc = x[0:16].copy()
    for k in range(1, n_ops // 2):
        acc = acc + x[k:k + 16]
    return -acc


XW = np.random.default_rng(0).standard_normal(N // 2 + 15).astype(np.float32)


@pytest.fixture(scope="module")
def shallow_stack():
    """Python's default limit, whatever a test runner set: a per-op recursion would hit it."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(old)


CASES = {"chain": (lambda: chain(N), lambda: chain_numpy(X, B, N), (X, B)),
         "wide": (lambda: wide(N), lambda: wide_numpy(XW, N), (XW,))}


@pytest.mark.parametrize("target", ["interpreter", "cpu"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_ten_thousand_ops_compile_and_run(case, target, shallow_stack):
    text, want, args = CASES[case]
    exe = xm.compile(text(), target=target)
    np.testing.assert_allclose(exe(*args), want(), rtol=2e-5, atol=2e-5)


@pytest.mark.skipif(not hostsim.available()[0], reason="no C++ compiler for the host simulation")
@pytest.mark.parametrize("case", sorted(CASES))
def test_ten_thousand_ops_on_gpu_in_host_simulation(case, shallow_stack):
    text, want, args = CASES[case]
    m, _ = optimize(parse_hlo(text()), target="gpu")
    got = hostsim.compile(m)(*args)
    np.testing.assert_allclose(got, want(), rtol=2e-5, atol=2e-5)


def test_jit_of_a_numpy_loop_of_ten_thousand_ops(shallow_stack):
    @xm.jit
    def f(y, b):
        for _ in range(N // 4):
            y = np.tanh(y * 0.5 + b)
        return y

    want = X
    for _ in range(N // 4):
        want = np.tanh(want * np.float32(0.5) + B)
    np.testing.assert_allclose(f(X, B), want, rtol=1e-5, atol=1e-5)


def test_a_400_op_hlo_cell(shallow_stack):
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "xla_magic")
    ip.run_line_magic("hlo_config", "--reset")
    ip.user_ns.update(x=X, b=B)
    try:
        res = ip.run_cell(f"%%hlo --args x b --out y\n{chain(400)}")
        assert res.success, res.error_in_exec
        np.testing.assert_allclose(ip.user_ns["y"], chain_numpy(X, B, 400), rtol=2e-6, atol=2e-6)
    finally:
        for name in ("x", "b", "y"):
            ip.user_ns.pop(name, None)


def test_kernel_graph_looks_through_a_long_chain_of_views(shallow_stack):
    from xla_magic.display import graph

    lines = ["HloModule views", "ENTRY e {", "  x = f32[16] parameter(0)", "  v0 = f32[16] negate(x)"]
    lines += [f"  v{k} = f32[16] bitcast(v{k - 1})" for k in range(1, 3000)]
    text = "\n".join([*lines, "  ROOT r = f32[16] exponential(v2999)", "}"])
    report = xm.compile(text, target="interpreter", optimize=False).report
    g = graph.kernel_graph(report, parse_hlo(text))
    assert {("x", "v0"), ("v0", "r"), ("r", "outputs")} <= set(g.edges)
