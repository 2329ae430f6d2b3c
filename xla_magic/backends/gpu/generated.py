"""A module's GPU program and the texts a person may read about it: the CUDA source, and lazily
its PTX and SASS (NVRTC and nvdisasm work without a device)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..artifacts import Artifacts
from . import nvrtc
from .program import Program

DEFAULT_ARCH = "sm_90"  # what PTX and SASS are shown for when no device says otherwise


def header() -> str:
    from pathlib import Path

    return (Path(__file__).parent / "xm_device.cuh").read_text()


def full_source(program: Program) -> str:
    """What NVRTC compiles: the helper header, then the generated module."""
    return header() + "\n" + program.source


@dataclass
class Generated:
    """The GPU program of a module and the texts a person may read about it."""

    program: Program
    arch: str = DEFAULT_ARCH
    # NVRTC's output per architecture, compiled when first asked for
    _compiled: dict[str, nvrtc.Compiled] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def cuda(self) -> str:
        return self.program.source

    def compiled(self, arch: str | None = None) -> nvrtc.Compiled:
        arch = arch or self.arch
        if arch not in self._compiled:
            self._compiled[arch] = nvrtc.compile_cuda(full_source(self.program), arch, f"{self.program.name}.cu")
        return self._compiled[arch]

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
