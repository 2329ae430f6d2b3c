"""The GPU backend: CUDA C per fused kernel, compiled with NVRTC, run through CuPy.

- `generate(module)`: everything that needs no GPU: the host program, the CUDA source of every
  kernel, and lazily its PTX and SASS (NVRTC and nvdisasm work without a device).
- `available()`: can this process run on a GPU? Says why not: no CuPy, no driver, no device,
  no NVRTC.
- `compile(lowered)`: on a GPU, an executable that keeps its buffers on the device
  (`device.py`). Without one, the same report and artifacts come back, and calling the
  executable raises a RuntimeError that says why and where the code is (the registry marks
  this target as one to inspect without a device).
- `hostsim`: the generated CUDA compiled for the CPU, to check results where no GPU exists.

CuPy is imported only here, lazily: `import xla_magic` never needs it."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ...hlo.ir import Module
from ...report import Report
from ..base import Executable
from . import nvrtc
from .ctype import Unsupported
from .generated import DEFAULT_ARCH, Generated, full_source, header
from .program import LIBRARY_MIN_MACS, build_program

if TYPE_CHECKING:
    from ...passes.buffers import BufferAssignment
    from ...passes.stage import Lowered

__all__ = ["available", "compile", "generate", "generated", "Generated", "Unsupported", "full_source", "header",
           "DEFAULT_ARCH"]


def available() -> tuple[bool, str]:
    try:
        import cupy
    except ImportError:
        return False, "CuPy is not installed (pip install 'xla_magic[gpu]')"
    except Exception as e:  # noqa: BLE001 - a broken CuPy install is as good as none
        return False, f"CuPy does not import: {e}"
    try:
        driver = cupy.cuda.runtime.driverGetVersion()
    except Exception as e:  # noqa: BLE001
        return False, f"no NVIDIA driver ({e})"
    if driver == 0:
        return False, "no NVIDIA driver"
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # noqa: BLE001
        return False, f"no CUDA device ({e})"
    if n == 0:
        return False, "no CUDA device"
    ok, why = nvrtc.available()
    if not ok:
        try:
            cupy.cuda.nvrtc.getVersion()
        except Exception:  # noqa: BLE001
            return False, why
    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    return True, f"{name} (sm_{props['major']}{props['minor']}), driver {driver // 1000}.{driver % 1000 // 10}"


def generate(module: Module, buffers: BufferAssignment | None = None, library_min_macs: int = LIBRARY_MIN_MACS,
             arch: str = DEFAULT_ARCH) -> Generated:
    """The GPU program of an optimized module; needs no GPU, no CuPy (and NVRTC only for PTX/SASS)."""
    from ...passes.buffers import assign_buffers

    if buffers is None:
        buffers = assign_buffers(module)
    try:
        program = build_program(module, buffers, library_min_macs)
    except Unsupported as e:
        raise Unsupported(f"the gpu backend cannot compile this module: {e}") from None
    return Generated(program, arch)


def generated(exe: Executable) -> Generated:
    """The GPU program behind an executable of this backend (for PTX or SASS of another arch:
    `generated(exe).ptx("sm_80")`)."""
    if not isinstance(exe.backend_state, Generated):
        raise TypeError(f"{exe!r} was not compiled by the gpu backend")
    return exe.backend_state


def compile(lowered: Lowered, **options: int) -> Executable:  # noqa: A001
    """On a GPU, an executable that keeps its buffers there. Without one, the same report and
    artifacts, and an executable whose calls raise (its `unavailable` says why)."""
    ok, why = available()
    arch = DEFAULT_ARCH
    if ok:
        from .device import device_arch

        arch = device_arch()
    gen = generate(lowered.module, lowered.buffers, arch=arch, **options)
    report = Report.of(lowered, gen.artifacts())
    if ok:
        from .device import make_executable

        return make_executable(lowered.module, report, gen)

    def run(args: Sequence[np.ndarray], outs: list[np.ndarray] | None = None) -> list[np.ndarray]:
        raise RuntimeError(f"target 'gpu' cannot run here: {why}. The generated CUDA, its PTX and SASS are in "
                           "exe.report.artifacts ('cuda', 'ptx', 'sass', 'host_program'); "
                           "xla_magic.backends.gpu.hostsim.compile(module) runs the same CUDA on the CPU.")

    return Executable(lowered.module, run, report, "gpu", unavailable=why, backend_state=gen)
