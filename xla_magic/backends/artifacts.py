"""The texts a person may want to read about compiled code, produced only when read.

`Artifacts` is a read-only mapping: `art["asm"]` runs the (second) code generation that
assembly needs on first access; `art.kernel("k.softmax_fusion")` gives one kernel's texts."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping


class Artifacts(Mapping[str, str]):
    def __init__(self, producers: dict[str, Callable[[], str]],
                 per_kernel: Callable[[str], dict[str, str]] | None = None, kernels: dict[str, str] | None = None):
        self._producers = producers
        self._values: dict[str, str] = {}
        self._per_kernel = per_kernel
        self.kernels = kernels or {}  # kernel function name -> the HLO instruction it computes

    def __getitem__(self, key: str) -> str:
        if key not in self._values:
            if key not in self._producers:
                raise KeyError(key)
            self._values[key] = self._producers[key]()
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._producers)

    def __len__(self) -> int:
        return len(self._producers)

    def kernel(self, name: str) -> dict[str, str]:
        """One kernel's llvm_ir, llvm_ir_opt and asm (name: a kernel function or its HLO instruction)."""
        if self._per_kernel is None:
            raise KeyError(name)
        for fn, instr in self.kernels.items():
            if name in (fn, instr):
                return self._per_kernel(fn)
        raise KeyError(name)

    def __repr__(self) -> str:
        return f"<Artifacts {', '.join(self._producers)}; {len(self.kernels)} kernels>"
