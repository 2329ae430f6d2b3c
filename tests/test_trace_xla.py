"""The traced HLO is valid XLA: XLA's own parser reads it and XLA:CPU computes numpy's results.

Runs only where jax is installed (it is not a dependency); elsewhere the whole file skips.
To run it by hand: `PYTHONPATH=. /path/to/jaxenv/bin/python -m pytest tests/test_trace_xla.py`."""
from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")
try:
    from jax._src.lib import xla_client as xc

    _ = (xc.hlo.hlo_module_from_text, xc._xla.mlir.hlo_to_stablehlo)
except (ImportError, AttributeError) as e:  # jax moved its internals: nothing to test against
    pytest.skip(f"this jax has no HLO text entry point ({e})", allow_module_level=True)

from test_trace_models import MODELS, check_close, leaves  # noqa: E402

import xla_magic as xm  # noqa: E402
from xla_magic.trace.jit import trace_function  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def x64():
    """jax truncates float64/int64 arguments to 32 bits unless x64 is on."""
    old = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", old)


def run_in_xla(text: str, args: list[np.ndarray]) -> list[np.ndarray]:
    """Parses `text` with XLA's HLO parser, compiles it with XLA:CPU and runs it."""
    module = xc.hlo.hlo_module_from_text(text)
    mlir = xc._xla.mlir.hlo_to_stablehlo(module.as_serialized_hlo_module_proto())
    dev = jax.devices("cpu")[0]
    exe = dev.client.compile_and_load(mlir, xc.DeviceList((dev,)), xc.CompileOptions())
    res = exe.execute_sharded([jax.device_put(np.asarray(a), dev) for a in args])
    return [np.asarray(o[0]) for o in res.disassemble_into_single_device_arrays()]


def xla_text(module) -> str:
    """The module's text for XLA, exactly as the printer writes it."""
    return module.to_text()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_xla_parses_runs_and_matches_numpy(name):
    fn, make_args = MODELS[name]
    args = make_args()
    traced = trace_function(fn, args, {})
    flat = [np.asarray(v, dtype=s.dtype) for v, s in zip(leaves(args), traced.in_specs)]
    got = run_in_xla(xla_text(traced.module), flat)
    check_close(got, leaves(fn(*args)), name)


def test_metadata_and_control_flow_are_accepted():
    def f(x, n):
        y = xm.fori_loop(0, n, lambda i, v: v * 0.5 + i, x)
        return xm.cond(y.sum() > 0, np.tanh, np.sin, y)

    x = np.arange(6, dtype=np.float32)
    m = xm.trace(f, x, np.int64(3))
    assert "source_line=" in m.to_text()
    (got,) = run_in_xla(xla_text(m), [x, np.int64(3)])
    np.testing.assert_allclose(got, f(x, 3), rtol=1e-5)


def _more_constructs(x, idx, k):
    from xla_magic.trace import switch

    y = switch(k, [np.sin, np.cos, lambda v: v * 3], x)
    z = xm.fori_loop(0, 3, lambda i, a: xm.fori_loop(0, 2, lambda j, b: b + x[i, j], a), np.zeros(5, np.float32))
    w = xm.scan(lambda c, r: (c + r, c * r), np.zeros(5, np.float32), x, reverse=True)[1]
    return (y, z, w, x[idx], x[:, idx], x[k], np.cumsum(x, axis=1), np.argmax(x, axis=0), x[::-1, ::2],
            np.take_along_axis(x, np.abs(idx)[None, :3] % 5, axis=1), np.pad(x, 1), np.einsum("ij,kj->ik", x, x))


def test_more_constructs_are_accepted():
    args = (np.arange(20, dtype=np.float32).reshape(4, 5) / 7, np.array([3, -1, 0], np.int64), np.int32(2))
    m = xm.trace(_more_constructs, *args)
    got = run_in_xla(xla_text(m), list(args))
    check_close(got, leaves(_more_constructs(*args)), "more_constructs")


def test_printer_scalar_layout():
    m = xm.trace(lambda x: x.sum(), np.ones(3, np.float32))
    run_in_xla(m.to_text(), [np.ones(3, np.float32)])
