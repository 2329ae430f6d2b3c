"""Tracing notebook cells (the engine of `%%hlo --trace`): free arrays become parameters, assigned
names and the last expression become outputs, and the metadata points at the cell's lines."""
from __future__ import annotations

import numpy as np
import pytest

import xla_magic as xm
from xla_magic.hlo.opcodes import Opcode
from xla_magic.trace import TracingError
from xla_magic.trace.cell import EXPRESSION, is_python_cell, trace_cell

F32 = np.float32


def namespace():
    rng = np.random.default_rng(3)
    return {"np": np, "xm": xm, "x": rng.standard_normal((4, 3)).astype(F32),
            "w": rng.standard_normal((3, 2)).astype(F32), "b": np.zeros(2, F32), "unused": np.ones(5),
            "lr": 0.5, "steps": 3}


def run_cell(source: str, ns: dict, target: str = "cpu") -> dict:
    traced = trace_cell(source, ns)
    module, inputs, outputs = traced
    exe = xm.compile(module, target=target)
    return traced.assign(exe(*[ns[n] for n in inputs]))


def plain(source: str, ns: dict) -> dict:
    """What running the cell in Python gives (the reference)."""
    env = dict(ns)
    *body, last = source.strip().splitlines()
    try:
        compile(last, "<last>", "eval")
        exec("\n".join(body), env)
        env[EXPRESSION] = eval(last, env)
    except SyntaxError:
        exec(source, env)
    return env


def test_inputs_outputs_and_values():
    ns = namespace()
    src = "h = np.tanh(x @ w + b)\nn = h.shape[0]\nloss = (h ** 2).sum() * lr\nh * 2\n"
    traced = trace_cell(src, ns)
    module, inputs, outputs = traced
    assert inputs == ["x", "w", "b"] and outputs == ["h", "loss", EXPRESSION]
    assert traced.values == {"n": 4}
    got = run_cell(src, ns)
    want = plain(src, ns)
    for name in ("h", "loss", EXPRESSION):
        np.testing.assert_allclose(got[name], want[name], rtol=1e-5)
        assert got[name].dtype == np.asarray(want[name]).dtype


def test_cell_lines_in_metadata():
    ns = namespace()
    src = "a = x * 2\n\nb2 = np.exp(a)\n"
    module, _, _ = trace_cell(src, ns, filename="<cell 7>")
    lines = {i.opcode: i.metadata.source_line for i in module.entry.instructions}
    files = {i.metadata.source_file for i in module.entry.instructions}
    assert files == {"<cell 7>"} and lines[Opcode.MULTIPLY] == 1 and lines[Opcode.EXP] == 3
    assert lines[Opcode.PARAMETER] == 1


def test_rebinding_and_updating_names():
    ns = namespace()
    src = "x = x - lr * x\nw = np.ones((3, 2), np.float32)\ny = x @ w\n"
    traced = trace_cell(src, ns)
    assert traced.input_names == ["x"]  # w is rebound before it is read; unused is never read
    got = run_cell(src, ns)
    want = plain(src, ns)
    np.testing.assert_allclose(got["x"], want["x"], rtol=1e-6)
    np.testing.assert_allclose(got["y"], want["y"], rtol=1e-5)
    assert "w" not in got and isinstance(traced.values["w"], np.ndarray)


def test_tuples_functions_loops_and_control_flow_in_a_cell():
    ns = namespace()
    src = """
def layer(v, m):
    return np.maximum(v @ m, 0)

h, c = layer(x, w), x.sum(axis=1)
for _ in range(steps):
    c = c * 0.5
acc = xm.fori_loop(0, 3, lambda i, a: a + h[i], np.zeros(2, np.float32))
pair = (h.max(), c.min())
"""
    traced = trace_cell(src, ns)
    assert traced.output_names == ["h", "c", "acc", "pair.0", "pair.1"]
    assert callable(traced.values["layer"])
    got = run_cell(src, ns)
    want = plain(src, ns)
    for name in ("h", "c", "acc"):
        np.testing.assert_allclose(got[name], want[name], rtol=1e-5)
    assert isinstance(got["pair"], tuple)
    np.testing.assert_allclose(got["pair"][1], want["pair"][1], rtol=1e-5)


def test_compiled_cell_is_reusable():
    ns = namespace()
    fn = trace_cell("y = np.tanh(x @ w)\n", ns).compile("cpu")
    a = np.ones((4, 3), F32)
    out = fn(x=a, w=ns["w"])
    np.testing.assert_allclose(out["y"], np.tanh(a @ ns["w"]), rtol=1e-6)
    np.testing.assert_allclose(fn(a, ns["w"])["y"], out["y"])
    assert fn.report is not None and fn.input_names == ["x", "w"]
    with pytest.raises(TypeError, match="missing"):
        fn(x=a)


def test_a_cell_without_array_results_is_a_clear_error():
    with pytest.raises(TracingError, match="computes no traced arrays"):
        trace_cell("n = 3\nprint(n)\n", namespace())


def test_python_cells_are_told_from_hlo():
    assert is_python_cell("y = x @ w\n")
    assert not is_python_cell("HloModule m\nENTRY e {\n  ROOT p = f32[] parameter(0)\n}\n")
    assert not is_python_cell("ENTRY e {\n  ROOT p = f32[] parameter(0)\n}\n")
