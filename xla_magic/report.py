"""What compiling a module produced and measured: plain data, rendered by `xla_magic.display`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Report:
    target: str
    hlo_before: str
    hlo_after: str
    passes: list = field(default_factory=list)  # one record per pass run: name, changed, seconds, text
    fusion_plan: Any = None
    buffers: Any = None
    cost: Any = None
    artifacts: dict[str, Any] = field(default_factory=dict)  # llvm_ir, llvm_ir_opt, asm, cuda, ptx, sass
    compile_seconds: float = 0.0
    timings: Any = None  # filled by xla_magic.benchmark

    def _repr_mimebundle_(self, include=None, exclude=None):
        from .display import mimebundle

        return mimebundle(self)

    def __repr__(self) -> str:
        n_pass = sum(1 for p in self.passes if getattr(p, "changed", False))
        return (f"<Report target={self.target}: {len(self.passes)} passes ({n_pass} changed), "
                f"compiled in {self.compile_seconds * 1e3:.1f} ms>")
