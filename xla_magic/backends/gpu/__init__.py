"""The GPU backend: CUDA C per fused kernel, compiled with NVRTC, run through CuPy.

- `generate(module)`: everything that needs no GPU: the host program, the CUDA source of every
  kernel, and lazily its PTX and SASS (NVRTC and nvdisasm work without a device).
- `available()`: can this process run on a GPU? Says why not: no CuPy, no driver, no device,
  no NVRTC.
- `compile(module, report)`: on a GPU, an executable that keeps its buffers on the device
  (`device.py`). Without one, the same report and artifacts come back, and calling the
  executable raises a RuntimeError that says why and where the code is.
- `hostsim`: the generated CUDA compiled for the CPU, to check results where no GPU exists.

CuPy is imported only here, lazily: `import xla_magic` never needs it."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...hlo.ir import Module
from ...report import Report
from ..artifacts import Artifacts
from ..base import Executable
from . import nvrtc
from .ctype import Unsupported
from .program import LIBRARY_MIN_MACS, Program, build_program

__all__ = ["available", "compile", "generate", "Generated", "Unsupported", "INSPECT_WITHOUT_DEVICE",
           "full_source", "DEFAULT_ARCH"]

# api.compile builds the report and artifacts even when available() says no (calls then raise).
INSPECT_WITHOUT_DEVICE = True
DEFAULT_ARCH = "sm_90"  # what PTX and SASS are shown for when no device says otherwise


def header() -> str:
    from pathlib import Path

    return (Path(__file__).parent / "xm_device.cuh").read_text()


def full_source(program: Program) -> str:
    """What NVRTC compiles: the helper header, then the generated module."""
    return header() + "\n" + program.source


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


@dataclass
class Generated:
    """The GPU program of a module and the texts a person may read about it."""

    program: Program
    arch: str = DEFAULT_ARCH

    @property
    def cuda(self) -> str:
        return self.program.source

    def compiled(self, arch: str | None = None) -> nvrtc.Compiled:
        arch = arch or self.arch
        cache = self.__dict__.setdefault("_compiled", {})
        if arch not in cache:
            cache[arch] = nvrtc.compile_cuda(full_source(self.program), arch, f"{self.program.name}.cu")
        return cache[arch]

    def ptx(self, arch: str | None = None) -> str:
        ok, why = nvrtc.available()
        if not ok:
            return f"// no PTX: {why}"
        return self.compiled(arch).ptx

    def sass(self, arch: str | None = None) -> str:
        ok, why = nvrtc.available()
        if not ok:
            return f"// no SASS: {why}"
        return nvrtc.sass(self.compiled(arch).cubin)

    def host_program(self) -> str:
        from .runner import summary

        return summary(self.program)

    def artifacts(self) -> Artifacts:
        kernels = dict(self.program.hlo_of_kernel)

        def per_kernel(fn: str) -> dict[str, str]:
            return {"cuda": self.program.kernels[fn].text, "ptx": _ptx_entry(self.ptx(), fn),
                    "sass": _sass_function(self.sass(), fn)}

        return Artifacts({"cuda": lambda: self.cuda, "ptx": self.ptx, "sass": self.sass,
                          "host_program": self.host_program}, per_kernel, kernels)


def _ptx_entry(ptx: str, fn: str) -> str:
    m = re.search(r"(// .globl\s+" + re.escape(fn) + r"\b.*?\n}\n)", ptx, re.S)
    return m.group(1) if m else ptx


def _sass_function(sass: str, fn: str) -> str:
    m = re.search(r"(//-+ \.text\." + re.escape(fn) + r"\b.*?)(?=\n\s*//-+ \.|\Z)", sass, re.S)
    return m.group(1) if m else sass


def generate(module: Module, buffers=None, library_min_macs: int = LIBRARY_MIN_MACS,
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


def compile(module: Module, report: Report | None = None, **options) -> Executable:  # noqa: A001
    buffers = report.buffers if report is not None and report.buffers is not None else None
    ok, why = available()
    arch = DEFAULT_ARCH
    if ok:
        from .device import device_arch

        arch = device_arch()
    gen = generate(module, buffers, arch=arch, **options)
    if report is None:
        text = module.to_text()
        report = Report("gpu", text, text, buffers=buffers)
    report.artifacts = gen.artifacts()
    if ok:
        from .device import make_executable

        return make_executable(module, report, gen)

    def run(args, outs=None):
        raise RuntimeError(f"target 'gpu' cannot run here: {why}. The generated CUDA, its PTX and SASS are in "
                           "exe.report.artifacts ('cuda', 'ptx', 'sass', 'host_program'); "
                           "xla_magic.backends.gpu.hostsim.compile(module) runs the same CUDA on the CPU.")

    exe = Executable(module, run, report, "gpu")
    exe.generated, exe.unavailable = gen, why
    return exe
