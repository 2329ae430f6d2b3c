"""The generated CUDA C compiled for the host CPU with g++ and run there: a GPU-free check.

`xm_host.h` maps CUDA's built-ins onto the CPU (blocks in sequence, the threads of a block as
fibers that yield at barriers and shuffles), so the very text NVRTC compiles for the GPU runs
here, with the host program of `runner.py` driving it. Tests compare it with the interpreter on
the whole corpus; what it cannot show is speed, races between blocks, and the CUDA math
library's last-bit accuracy (the host's libm stands in)."""
from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...hlo.ir import Module
from ...report import Report
from ..base import Executable
from .program import Program
from .runner import Bases, run_steps

HERE = Path(__file__).parent


def available() -> tuple[bool, str]:
    import shutil

    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None:
        return False, f"no C++ compiler ({cxx}) to build the host simulation"
    return True, cxx


def _launchers(program: Program) -> str:
    out = []
    for name, k in program.kernels.items():
        args = ", ".join(f"({t})a[{j}]" for j, t in enumerate(k.params))
        out.append(
            f'extern "C" int xm_launch_{name}(void** a, unsigned gx, unsigned gy, unsigned gz, unsigned bx, '
            f"unsigned by, unsigned bz) {{\n"
            f"    return xm_launch([](void* p) {{ void** a = (void**)p; {name}({args}); }}, a, "
            f"dim3{{gx, gy, gz}}, dim3{{bx, by, bz}}, {int(k.cooperative)});\n}}")
    return "\n".join(out)


def host_source(program: Program) -> str:
    return "\n".join([(HERE / "xm_host.h").read_text(), (HERE / "xm_device.cuh").read_text(), program.source,
                      _launchers(program)])


def _cache_dir() -> Path:
    d = Path(os.environ.get("XLA_MAGIC_CACHE_DIR") or tempfile.gettempdir()) / "gpu_hostsim"
    d.mkdir(parents=True, exist_ok=True)
    return d


# No contraction of a*b+c into an FMA: GCC contracts by default wherever the host has FMA
# instructions (aarch64, -march=native), which would make results depend on the host.
_CXX_FLAGS = ("-std=c++17", "-ffp-contract=off")


def build(program: Program, opt: str = "-O1") -> ctypes.CDLL:
    """The program's kernels as a shared library for the host (cached by source)."""
    src = host_source(program)
    key = hashlib.sha256((src + opt + " ".join(_CXX_FLAGS)).encode()).hexdigest()[:24]
    lib = _cache_dir() / f"{key}.so"
    if not lib.exists():
        cpp = lib.with_suffix(".cpp")
        cpp.write_text(src)
        cxx = os.environ.get("CXX", "g++")
        tmp = lib.with_suffix(f".{os.getpid()}.tmp")
        r = subprocess.run([cxx, *_CXX_FLAGS, opt, "-shared", "-fPIC", "-w", "-o", str(tmp), str(cpp)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"the host build of the generated CUDA failed:\n{r.stderr[-4000:]}")
        os.replace(tmp, lib)
    dll = ctypes.CDLL(str(lib))
    dll.xm_error.restype = ctypes.c_char_p
    return dll


class HostDevice:
    xp = np

    def __init__(self, program: Program, lib: ctypes.CDLL):
        self.program, self.lib = program, lib
        self.fns = {}
        for name in program.kernels:
            f = getattr(lib, f"xm_launch_{name}")
            f.restype = ctypes.c_int
            f.argtypes = [ctypes.POINTER(ctypes.c_void_p)] + [ctypes.c_uint] * 6
            self.fns[name] = f
        self.launches = 0

    def launch(self, kernel: str, ptrs: list[int]) -> None:
        k = self.program.kernels[kernel]
        arr = (ctypes.c_void_p * max(len(ptrs), 1))(*ptrs)
        self.launches += 1
        if self.fns[kernel](arr, *k.grid, *k.block):
            raise RuntimeError(f"kernel {kernel} failed in the host simulation: {self.lib.xm_error().decode()}")

    def copy(self, dst: int, src: int, nbytes: int) -> None:
        ctypes.memmove(dst, src, nbytes)

    def read(self, ptr: int, nbytes: int) -> bytes:
        return ctypes.string_at(ptr, nbytes)

    def array(self, ptr: int, shape, dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        n = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        buf = (ctypes.c_char * max(n, 1)).from_address(ptr)
        return np.frombuffer(buf, dtype=dtype, count=n // dtype.itemsize).reshape(shape)


def _zeros(n: int) -> np.ndarray:
    return np.zeros(max(n, 1) + 256, np.uint8)


def _aligned(a: np.ndarray) -> int:
    p = a.ctypes.data
    return (p + 255) // 256 * 256


def compile(module: Module, report: Report | None = None, program: Program | None = None,  # noqa: A001
            opt: str = "-O1", **options) -> Executable:
    """An Executable that runs the GPU program on the host simulation (numpy in, numpy out)."""
    from . import generate

    if program is None:
        program = generate(module, **options).program
    dev = HostDevice(program, build(program, opt))
    arena, scratch, const = _zeros(program.arena_bytes), _zeros(program.scratch_bytes), _zeros(len(program.consts))
    cbase = _aligned(const)
    ctypes.memmove(cbase, program.consts, len(program.consts))
    bases = (_aligned(arena), _aligned(scratch), cbase)

    def run(args: Sequence[np.ndarray], outs: list[np.ndarray] | None = None) -> list[np.ndarray]:
        if outs is None:
            outs = [np.empty(d, t) for d, t in program.out_specs]
        at = Bases([a.ctypes.data for a in args], [o.ctypes.data for o in outs], bases[0], bases[2], bases[1])
        run_steps(program.steps, dev, at)
        return outs

    if report is None:
        text = module.to_text()
        report = Report("gpu-hostsim", text, text)
    # The run closure holds only addresses: the state keeps the memory behind them alive.
    state = HostSimState(program, dev, (arena, scratch, const))
    return Executable(module, run, report, "gpu-hostsim", fresh_results=True, backend_state=state)


@dataclass(frozen=True)
class HostSimState:
    program: Program
    device: HostDevice
    memory: tuple[np.ndarray, ...]  # arena, scratch, constants
