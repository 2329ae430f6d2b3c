"""The CuPy executable (device.py) driven through a stand-in for CuPy: host memory for device memory,
the host simulation for kernel launches, recorded call lists for CUDA graphs. What it checks is
the Python around the GPU: staging buffers, numpy-in/numpy-out and CuPy-in/CuPy-out, out=,
alignment copies, bfloat16 as bits, graph capture per segment and replay, host-driven loops and
conditionals, the library dot. What it cannot check is CuPy's own API, which only a GPU shows
(test_gpu_device.py)."""
from __future__ import annotations

import ctypes
import sys
import types

import ml_dtypes
import numpy as np
import pytest
from conftest import assert_matches, load_case

import xla_magic as xm
from xla_magic.backends import gpu
from xla_magic.backends.gpu import hostsim
from xla_magic.hlo.parser import parse_hlo
from xla_magic.passes.pipeline import optimize
from xla_magic.report import Report

pytestmark = pytest.mark.skipif(not hostsim.available()[0], reason="no C++ compiler for the host simulation")


class _Ptr:
    def __init__(self, ptr: int):
        self.ptr = ptr


class FakeArray(np.ndarray):
    """A numpy array posing as a CuPy one: `.data.ptr`, `.get()`, `.set()`."""

    @property
    def data(self):  # noqa: D401 - CuPy's MemoryPointer
        return _Ptr(self.ctypes.data)

    def get(self, stream=None, out=None, **_):
        if out is not None:
            np.copyto(out, np.asarray(self).view(out.dtype))
            return out
        return np.array(self)

    def set(self, arr, stream=None):
        np.copyto(np.asarray(self), arr)


def _fake_array(a: np.ndarray) -> FakeArray:
    out = np.empty(a.shape, a.dtype).view(FakeArray)
    out[...] = a
    return out


def make_fake_cupy(log: list) -> types.ModuleType:
    cp = types.ModuleType("cupy")
    cuda = types.SimpleNamespace()
    cp.cuda = cuda
    cp.ndarray = FakeArray
    cp.uint8 = np.uint8
    cp.empty = lambda shape, dtype=np.float32: np.empty(shape, dtype).view(FakeArray)
    cp.zeros = lambda shape, dtype=np.float32: np.zeros(shape, dtype).view(FakeArray)
    cp.asarray = lambda a: _fake_array(np.asarray(a))
    cp.matmul = np.matmul

    class Graph:
        def __init__(self, calls):
            self.calls = calls

        def launch(self, stream=None):
            log.append(("graph", len(self.calls)))
            for f, a in self.calls:
                f(*a)

    class Stream:
        capturing: list | None = None
        ptr = 0

        def __init__(self, non_blocking=False):
            self.capturing = None

        def __enter__(self):
            return self

        def __exit__(self, *e):
            return False

        def synchronize(self):
            pass

        def begin_capture(self):
            self.capturing = []
            Stream.active = self

        def end_capture(self):
            calls, self.capturing = self.capturing, None
            Stream.active = None
            return Graph(calls)

    Stream.active = None

    def _do(f, *a):
        s = Stream.active
        if s is not None and s.capturing is not None:
            s.capturing.append((f, a))
        else:
            f(*a)

    def memcpy_async(dst, src, n, kind, stream):
        _do(ctypes.memmove, dst, src, n)

    cuda.Stream = Stream
    cuda.runtime = types.SimpleNamespace(memcpyAsync=memcpy_async, memcpyDeviceToDevice=3, memcpyDeviceToHost=2)
    cuda.UnownedMemory = lambda ptr, size, owner: (ptr, size)
    cuda.MemoryPointer = lambda mem, off: (ctypes.c_char * mem[1]).from_address(mem[0] + off)
    cp._do = _do
    return cp


@pytest.fixture()
def fake(monkeypatch):
    log: list = []
    cp = make_fake_cupy(log)
    monkeypatch.setitem(sys.modules, "cupy", cp)

    def load(self, gen):
        host = hostsim.HostDevice(self.program, hostsim.build(self.program))

        def fn(name):
            def call(grid, block, args, stream=None):
                assert all(isinstance(a, np.uint64) for a in args)
                log.append(("launch", name))
                cp._do(host.launch, name, [int(a) for a in args])
            return call

        return {n: fn(n) for n in self.program.kernels}

    from xla_magic.backends.gpu import device

    monkeypatch.setattr(device.CupyDevice, "_load", load)
    return cp, log


def executable(text: str, **options):
    from xla_magic.backends.gpu import device

    m, _ = optimize(parse_hlo(text), target="gpu")
    gen = gpu.generate(m, **options)
    return device.GpuExecutable(m, Report("gpu", text, text), gen)


@pytest.mark.parametrize("case", ["softmax", "fori_loop", "cond", "scatter", "tuple_output", "mlp3",
                                  "dynamic_update_slice", "top_k"])
def test_numpy_in_numpy_out_with_graph_replay(fake, case):
    cp, log = fake
    text, args, outs, meta = load_case(case)
    exe = executable(text, library_min_macs=1)
    for call in range(2):
        log.clear()
        got = exe(*[a.copy() for a in args])
        got = got if isinstance(got, tuple) else (got,)
        for g, e, om in zip(got, outs, meta["outputs"]):
            assert type(g) is np.ndarray
            assert_matches(g, e, om, label=f"fake-cupy call {call} ")
        launched_directly = [e for e in log if e[0] == "launch"]
        if call == 1:  # every segment replays its graph: no launch happens outside one
            assert not launched_directly, log[:5]
            assert any(e[0] == "graph" for e in log)


def test_cupy_in_cupy_out_and_out(fake):
    cp, log = fake
    text, args, outs, meta = load_case("layernorm")
    exe = executable(text)
    dev_args = [cp.asarray(a) for a in args]
    got = exe(*dev_args)
    got = got if isinstance(got, tuple) else (got,)
    for g, e, om in zip(got, outs, meta["outputs"]):
        assert isinstance(g, FakeArray)
        assert_matches(np.asarray(g), e, om, label="fake-cupy device ")
    # out= with a misaligned target: computed elsewhere, then copied in.
    backing = [cp.empty((o.size + 1,), o.dtype) for o in outs]
    targets = [b[1:].reshape(o.shape) for b, o in zip(backing, outs)]
    res = exe(*dev_args, out=tuple(targets) if len(targets) > 1 else targets[0])
    for t, e, om in zip(targets, outs, meta["outputs"]):
        assert_matches(np.asarray(t), e, om, label="fake-cupy out= ")
    assert res is not None


def test_bfloat16_buffers_travel_as_bits(fake):
    text = """HloModule b

ENTRY e {
  a = bf16[300] parameter(0)
  b = bf16[300] parameter(1)
  ROOT r = bf16[300] multiply(a, b)
}
"""
    x = np.linspace(-3, 3, 300).astype(ml_dtypes.bfloat16)
    exe = executable(text)
    got = exe(x, x)
    assert got.dtype == np.dtype(ml_dtypes.bfloat16)
    np.testing.assert_array_equal(got, xm.interpret(text, x, x))


def test_argument_errors_name_the_parameter(fake):
    text, args, outs, meta = load_case("binary_add_sub_mul")
    exe = executable(text)
    with pytest.raises(TypeError, match="argument 0"):
        exe(args[0].astype(np.float64), *args[1:])
    with pytest.raises(TypeError, match="expected"):
        exe(*args[:-1])


def test_out_overlapping_an_input_or_another_output(fake):
    cp, log = fake
    text = """HloModule t

ENTRY e {
  p = f32[64,64] parameter(0)
  t = f32[64,64] transpose(p), dimensions={1,0}
  ROOT r = (f32[64,64], f32[64,64]) tuple(t, p)
}
"""
    exe = executable(text)
    x = np.arange(64 * 64, dtype=np.float32).reshape(64, 64)
    # CuPy in: an output the caller passes is written directly, so an input it overlaps is copied.
    d, other = cp.asarray(x), cp.empty((64, 64), np.float32)
    exe(d, out=(d, other))
    np.testing.assert_array_equal(np.asarray(d), x.T)
    np.testing.assert_array_equal(np.asarray(other), x)
    with pytest.raises(ValueError, match=r"out\[0\] and out\[1\] share memory"):
        exe(cp.asarray(x), out=(other, other))
    # numpy in: the same refusal.
    o = np.empty((64, 64), np.float32)
    with pytest.raises(ValueError, match=r"out\[0\] and out\[1\] share memory"):
        exe(x, out=(o, o))
    h = x.copy()
    exe(h, out=(h, o))
    np.testing.assert_array_equal(h, x.T)
