"""The executable on a real GPU, through CuPy: buffers stay on the device, launches are replayed
as CUDA graphs.

- Kernels: the module's cubin for this device's architecture from NVRTC (ctypes, `nvrtc.py`),
  loaded with `cupy.cuda.function.Module`; CuPy's own `RawModule` compiles the same source if
  that fails (an NVRTC newer than the driver, say).
- Memory: the arena (every temporary at its buffer-assignment offset), the constants and the
  scratch are allocated once per executable. numpy arguments are copied into staging buffers
  that never move and results come back as numpy arrays; CuPy arguments are used where they are
  and results are fresh CuPy arrays.
- CUDA graphs: each run of consecutive launches and copies (no cuBLAS call, no host decision in
  between) is captured once per set of pointers it touches and replayed afterwards, so a module
  of many small kernels costs about one launch. With numpy arguments the pointers never change:
  one graph per segment for the executable's lifetime.

Nothing here can run without a GPU; `hostsim.py` runs the same program on the CPU in tests."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...hlo.ir import Module
from ...report import Report
from ..args import check_one, check_out, separate
from ..base import Executable
from .generated import Generated, full_source
from .program import Conditional, Copy, Dot, Launch, Program, While
from .runner import Bases, pick_branch, run_dot

GRAPHS = True  # module switch, for measuring what graphs save
ALIGN = 16  # vector loads and stores need 16-byte aligned buffers: others are copied


def _device_dtype(dt) -> np.dtype:
    """CuPy has no bfloat16: such buffers are held as their 16 bits."""
    dt = np.dtype(dt)
    return np.dtype(np.uint16) if dt.name == "bfloat16" else dt
_GRAPH_CACHE = 8  # graphs kept per segment (pointer sets of CuPy arguments)


def device_arch() -> str:
    import cupy

    return f"sm_{cupy.cuda.Device().compute_capability}"  # e.g. "90" on an H100


class CupyDevice:
    def __init__(self, program: Program, gen: Generated):
        import cupy

        self.cp = cupy
        self.xp = cupy
        self.program = program
        self.stream = cupy.cuda.Stream(non_blocking=True)
        self.functions = self._load(gen)
        self._host = np.empty(16, np.uint8)

    def _load(self, gen: Generated) -> dict:
        cp = self.cp
        names = list(self.program.kernels)
        try:
            mod = cp.cuda.function.Module()
            mod.load(gen.compiled().cubin)
            return {n: mod.get_function(n) for n in names}
        except Exception:  # noqa: BLE001 - let CuPy's NVRTC build it instead
            raw = cp.RawModule(code=full_source(self.program), options=("-std=c++17",), backend="nvrtc")
            return {n: raw.get_function(n) for n in names}

    def launch(self, kernel: str, ptrs: list[int]) -> None:
        k = self.program.kernels[kernel]
        self.functions[kernel](k.grid, k.block, tuple(np.uint64(p) for p in ptrs), stream=self.stream)

    def copy(self, dst: int, src: int, nbytes: int) -> None:
        rt = self.cp.cuda.runtime
        rt.memcpyAsync(dst, src, nbytes, rt.memcpyDeviceToDevice, self.stream.ptr)

    def read(self, ptr: int, nbytes: int) -> bytes:
        rt = self.cp.cuda.runtime
        buf = self._host if nbytes <= self._host.size else np.empty(nbytes, np.uint8)
        rt.memcpyAsync(buf.ctypes.data, ptr, nbytes, rt.memcpyDeviceToHost, self.stream.ptr)
        self.stream.synchronize()
        return buf[:nbytes].tobytes()

    def array(self, ptr: int, shape, dtype):
        cp = self.cp
        dtype = np.dtype(dtype)
        n = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        mem = cp.cuda.UnownedMemory(ptr, max(n, 1), self)
        return cp.ndarray(tuple(shape), dtype, cp.cuda.MemoryPointer(mem, 0))


@dataclass
class _Segment:
    """A run of launches and copies: captured once as a CUDA graph, replayed afterwards."""

    steps: list[Launch | Copy]


@dataclass
class _Loop:
    step: While
    cond: list[_Item]
    body: list[_Item]  # the body, then the copies of the next state into the state


@dataclass
class _Branches:
    step: Conditional
    branches: list[list[_Item]]


_Item = _Segment | Dot | _Loop | _Branches


def _segments(steps: list[object]) -> list[_Item]:
    """Runs of launches and copies become segments; library calls stay as they are, and the step
    lists inside loops and conditionals are segmented the same way."""
    out: list[_Item] = []
    run: list[Launch | Copy] = []
    for s in steps:
        if isinstance(s, (Launch, Copy)):
            run.append(s)
            continue
        if run:
            out.append(_Segment(run))
            run = []
        if isinstance(s, While):
            out.append(_Loop(s, _segments(s.cond), _segments(s.body + s.back)))
        elif isinstance(s, Conditional):
            out.append(_Branches(s, [_segments(b) for b in s.branches]))
        elif isinstance(s, Dot):
            out.append(s)
        else:
            raise TypeError(f"unknown step {s!r}")
    if run:
        out.append(_Segment(run))
    return out


class _Runner:
    def __init__(self, dev: CupyDevice, program: Program):
        self.dev, self.program = dev, program
        self.items = _segments(program.steps)
        self.graphs: dict[int, dict[tuple[int, ...], Any]] = {}  # segment -> pointers -> cupy Graph
        self.use_graphs = GRAPHS

    def run(self, at: Bases) -> None:
        with self.dev.stream:
            self._run(self.items, at)

    def _plain(self, steps: list[Launch | Copy], at: Bases) -> None:
        dev = self.dev
        for s in steps:
            if isinstance(s, Launch):
                dev.launch(s.kernel, [at(x) for x in s.args])
            elif s.nbytes:
                dev.copy(at(s.dst), at(s.src), s.nbytes)

    def _segment(self, steps: list[Launch | Copy], at: Bases) -> None:
        if not self.use_graphs:
            self._plain(steps, at)
            return
        ptrs = tuple(at(x) for s in steps for x in (s.args if isinstance(s, Launch) else (s.dst, s.src)))
        cache = self.graphs.setdefault(id(steps), {})
        g = cache.get(ptrs)
        if g is None:
            stream = self.dev.stream
            try:
                stream.begin_capture()
                try:
                    self._plain(steps, at)
                finally:
                    g = stream.end_capture()
            except Exception:  # noqa: BLE001 - no graph support: launch directly from now on
                self.use_graphs = False
                self._plain(steps, at)
                return
            if len(cache) >= _GRAPH_CACHE:
                cache.pop(next(iter(cache)))
            cache[ptrs] = g
        g.launch(self.dev.stream)

    def _run(self, items: list[_Item], at: Bases) -> None:
        dev = self.dev
        for item in items:
            if isinstance(item, _Segment):
                self._segment(item.steps, at)
            elif isinstance(item, Dot):
                run_dot(dev, item, at(item.lhs), at(item.rhs), at(item.out))
            elif isinstance(item, _Loop):
                pred = at(item.step.pred)
                while True:
                    self._run(item.cond, at)
                    if not dev.read(pred, 1)[0]:
                        break
                    self._run(item.body, at)
            else:
                self._run(item.branches[pick_branch(item.step, dev, at)], at)


class GpuExecutable(Executable):
    """numpy arguments -> numpy results; CuPy arguments -> CuPy results (any CuPy argument makes
    the call a CuPy call). out= takes arrays of the same kind."""

    def __init__(self, module: Module, report: Report, gen: Generated):
        import cupy as cp

        super().__init__(module, self._unused, report, "gpu", fresh_results=True, backend_state=gen)
        self.cp, self.program = cp, gen.program
        p = self.program
        self.device = CupyDevice(p, gen)
        self.runner = _Runner(self.device, p)
        self._arena = cp.empty(max(p.arena_bytes, 1), cp.uint8)
        self._scratch = cp.zeros(max(p.scratch_bytes, 1), cp.uint8)
        self._const = cp.asarray(np.frombuffer(p.consts, np.uint8)) if p.consts else cp.empty(1, cp.uint8)
        self._staging = [cp.empty(d, _device_dtype(t)) for d, t in p.in_specs]
        self._outs = [cp.empty(d, _device_dtype(t)) for d, t in p.out_specs]
        self._lock = threading.Lock()  # numpy calls share the staging and output buffers
        self._fixed = (self._arena.data.ptr, self._const.data.ptr, self._scratch.data.ptr)

    @staticmethod
    def _unused(args, outs=None):
        raise AssertionError("GpuExecutable runs through __call__")

    def _bases(self, args: list[int], outs: list[int]) -> Bases:
        a, c, s = self._fixed
        return Bases(args, outs, a, c, s)

    def __call__(self, *args, out=None):
        cp = self.cp
        if any(isinstance(a, cp.ndarray) for a in args):
            return self._call_device(args, out)
        with self._lock:
            return self._call_host(args, out)

    def _check_count(self, args) -> None:
        if len(args) != len(self._params):
            from ..args import check_args

            check_args(self._params, args)  # raises with the signature

    def _call_host(self, args, out):
        """numpy in, numpy out: through fixed staging and output buffers (one graph per segment)."""
        self._check_count(args)
        stream = self.device.stream
        for k, (p, a) in enumerate(zip(self._params, args)):
            host = check_one(k, p.name, p.shape, a)
            self._staging[k].set(host.view(self._staging[k].dtype), stream=stream)
        self.runner.run(self._bases([s.data.ptr for s in self._staging], [o.data.ptr for o in self._outs]))
        specs = self.program.out_specs
        if out is not None:
            targets = check_out(self._root, out)
            separate([], targets)  # inputs were staged: only outputs can clash
            for t, o in zip(targets, self._outs):
                o.get(stream=stream, out=t.view(o.dtype))
            stream.synchronize()
            return out
        results = [o.get(stream=stream).view(t) for o, (_, t) in zip(self._outs, specs)]
        stream.synchronize()
        return tuple(results) if self._root.is_tuple else results[0]

    def _call_device(self, args, out):
        """Any CuPy argument: everything on the device, CuPy results."""
        cp = self.cp
        self._check_count(args)
        keep, ptrs = [], []
        for k, (p, a) in enumerate(zip(self._params, args)):
            if isinstance(a, cp.ndarray):
                dt = p.shape.element_type
                want = _device_dtype(dt.np)
                if a.dtype != want:
                    raise TypeError(f"argument {k} ('{p.name}'): expected dtype {dt.name}, got {a.dtype}")
                if a.shape != p.shape.dims:
                    raise ValueError(f"argument {k} ('{p.name}'): expected shape {p.shape.dims}, got {a.shape}")
                if not a.flags.c_contiguous or a.data.ptr % ALIGN:
                    a = a.copy()
            else:
                host = check_one(k, p.name, p.shape, a)
                a = cp.asarray(host.view(_device_dtype(host.dtype)))
            keep.append(a)
            ptrs.append(a.data.ptr)
        fresh = [cp.empty(d, _device_dtype(t)) for d, t in self.program.out_specs]
        given = None
        if out is not None:
            given = list(out) if isinstance(out, (tuple, list)) else [out]
            keep = list(separate(keep, given))  # an input the outputs overlap is copied
            ptrs = [a.data.ptr for a in keep]
            fresh = [g if g.flags.c_contiguous and g.data.ptr % ALIGN == 0 else f for g, f in zip(given, fresh)]
        self.runner.run(self._bases(ptrs, [o.data.ptr for o in fresh]))
        self.device.stream.synchronize()
        if given is not None:
            for g, f in zip(given, fresh):
                if g is not f:
                    g[...] = f
            return out
        return tuple(fresh) if self._root.is_tuple else fresh[0]


def make_executable(module: Module, report: Report, gen: Generated) -> Executable:
    return GpuExecutable(module, report, gen)
