"""The CPU backend: the optimized module compiled to native code through llvmlite.

`codegen` turns the module into one LLVM module (kernels from `kernels`, `elemental`, `scalar`,
`library`; math from `mathlib`), `jit` compiles it for the host CPU at -O3, and `callpath` makes
the call from Python one foreign call."""
from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...hlo.ir import Module
from ...report import Report
from ..artifacts import Artifacts
from ..base import Executable
from ..outputs import OutputAllocator
from .irtypes import Unsupported

if TYPE_CHECKING:
    from ...passes.buffers import BufferAssignment
    from ...passes.stage import Lowered
    from .host_calls import HostCall
    from .jit import JitModule

__all__ = ["available", "compile", "load", "store", "host_key", "disk_cache_info", "clear_disk_cache", "CpuState",
           "Unsupported"]


def available() -> tuple[bool, str]:
    try:
        from .jit import host

        h = host()
    except Exception as e:  # noqa: BLE001 - any failure means no native code here
        return False, f"llvmlite cannot target this machine: {e}"
    return True, f"{h.cpu} ({h.triple})"


@dataclass(frozen=True)
class CpuState:
    """What an executable of this backend keeps: the JIT-compiled module and what the on-disk cache
    needs to map its machine code again."""

    jit: JitModule
    entry: str
    n_in: int
    n_out: int
    kernels: dict[str, str]  # kernel function -> the HLO instruction it computes
    host_calls: tuple[HostCall, ...] = ()  # custom calls run in Python; the code holds their callbacks

    @property
    def nbytes(self) -> int:
        """What the compile cache counts this state as: machine code and IR texts."""
        jm = self.jit
        texts = (jm.llvm_ir, jm.llvm_ir_opt, *jm.llvm_ir_by_function.values(), *jm.llvm_ir_opt_by_function.values())
        return len(jm.object_code or b"") + sum(map(len, texts))


def host_key() -> str:
    """Native code fits the CPU it was compiled for: its triple, name and features."""
    from .jit import host

    h = host()
    return f"{h.triple}|{h.cpu}|{h.features}"


@dataclass(frozen=True)
class _Prepared:
    """The module code is generated from, its buffers, and its Report (without texts)."""

    module: Module
    buffers: BufferAssignment
    report: Report


def _prepare(lowered: Lowered) -> _Prepared:
    """What compiling and loading from the disk cache share: the module as code is made from it."""
    from ...hlo.ir import Instruction, clone_module
    from ...passes.buffers import assign_buffers
    from ...passes.inline import defuse
    from ...passes.layout import decompose_layout_bitcasts, has_layout_bitcasts
    from .kernels import LIBRARY

    def library_fusion(i: Instruction) -> bool:  # a library call inside a fusion (XLA's kCustom fusions)
        return any(x.opcode in LIBRARY for x in i.attrs["calls"].instructions)

    module = lowered.module
    lib_fusions = any(i.opcode.value == "fusion" and library_fusion(i) for c in module.computations
                      for i in c.instructions)
    if has_layout_bitcasts(module) or lib_fusions:  # XLA's own output, compiled as it stands
        module = clone_module(module)
        decompose_layout_bitcasts(module)
        defuse(module, library_fusion)
        buffers = assign_buffers(module)  # assigned afresh
        text = module.to_text()
        return _Prepared(module, buffers, Report("cpu", text, text, buffers=buffers))
    return _Prepared(module, lowered.buffers, Report.of(lowered))


def compile(lowered: Lowered) -> Executable:  # noqa: A001
    from .codegen import generate
    from .halfconv import inline_half_conversions, inlined, native_half
    from .host_calls import collecting
    from .jit import compile_ir, host
    from .variants import with_vector_variants

    prep = _prepare(lowered)
    h = host()
    # f16 conversions as integer code where this CPU has no instructions for them (no libgcc
    # call), or where the caller asked for them; always correct, the instructions only faster.
    inline = inlined() or not native_half(h.triple, h.features)
    try:
        with inline_half_conversions(inline), collecting() as host_calls:
            program = generate(prep.module, prep.buffers)
    except Unsupported as e:
        raise Unsupported(f"the cpu backend cannot compile this module: {e}") from None
    jm = compile_ir(with_vector_variants(program.llvm_module), [program.entry], name=prep.module.name)
    state = CpuState(jm, program.entry, program.n_inputs, program.n_outputs, program.kernels, tuple(host_calls))
    report = dataclasses.replace(prep.report, artifacts=_artifacts(state))
    return _executable(prep.module, report, state)


def _artifacts(state: CpuState) -> Artifacts:
    """LLVM IR before and after optimization, and assembly (generated when first read)."""
    jm = state.jit

    def per_kernel(fn: str) -> dict[str, str]:
        def find(table: dict[str, str]) -> str:
            # A parallel kernel's work is in its .body and .worker functions too.
            return "\n\n".join(v for k, v in table.items() if k == fn or k.startswith(fn + "."))

        return {"llvm_ir": find(jm.llvm_ir_by_function), "llvm_ir_opt": find(jm.llvm_ir_opt_by_function),
                "asm": find(jm.asm_by_function)}

    return Artifacts({"llvm_ir": lambda: jm.llvm_ir, "llvm_ir_opt": lambda: jm.llvm_ir_opt, "asm": lambda: jm.asm},
                     per_kernel, state.kernels)


def _executable(module: Module, report: Report, state: CpuState, loaded_from_disk: bool = False) -> Executable:
    from .callpath import make_caller
    from .jit import CPU_ENV, missing_features

    jm = state.jit
    missing = missing_features(jm.target)
    if missing:  # compiled for another machine (XLA_MAGIC_CPU): its code can be read, not run
        why = (f"the code is for {jm.target.cpu} ({CPU_ENV}={os.environ.get(CPU_ENV, '')!r}), and this "
               f"machine lacks {', '.join(missing)}; the code is in exe.report.artifacts")

        def refuse(args: Sequence[np.ndarray], outs: list[np.ndarray] | None = None) -> list[np.ndarray]:
            raise RuntimeError(f"target 'cpu' cannot run here: {why}")

        return Executable(module, refuse, report, "cpu", unavailable=why, loaded_from_disk=loaded_from_disk,
                          backend_state=state)
    caller = make_caller(jm.address(state.entry), state.n_in, state.n_out, keepalive=jm)
    if state.host_calls:
        from .host_calls import checked

        caller = checked(caller, state.host_calls)
    specs = [(s.dims, np.dtype(s.element_type.np)) for s in module.entry.root.shape.leaves()]
    allocate = OutputAllocator(specs)

    def run(args: Sequence[np.ndarray], outs: list[np.ndarray] | None = None) -> list[np.ndarray]:
        if outs is None:
            outs = allocate()
        caller([*args, *outs])
        return outs

    return Executable(module, run, report, "cpu", fresh_results=True, direct=caller, loaded_from_disk=loaded_from_disk,
                      backend_state=state, release_memory=allocate.release)


def _hlo_hash(module: Module) -> str:
    return hashlib.sha256(module.to_text().encode()).hexdigest()


def store(key: str, exe: Executable) -> None:
    """Stores a compiled executable in the on-disk cache (see disk_cache) as plain data: what the
    JIT made and the hash of the HLO it was made from; the Report is rebuilt from the Lowered."""
    from . import disk_cache

    state = exe.backend_state
    if not isinstance(state, CpuState) or state.host_calls:  # host calls: the code holds this process's addresses
        return
    jm = state.jit
    if jm.object_code is None:  # LLVM gave no object file
        return
    r = exe.report
    disk_cache.store(key, {"entry": state.entry, "n_in": state.n_in, "n_out": state.n_out, "kernels": state.kernels,
                           "llvm_ir": jm.llvm_ir, "llvm_ir_opt": jm.llvm_ir_opt,
                           "llvm_ir_by_function": jm.llvm_ir_by_function,
                           "llvm_ir_opt_by_function": jm.llvm_ir_opt_by_function, "hlo_sha256": _hlo_hash(exe.module),
                           "compile_seconds": r.compile_seconds, "pass_seconds": [p.seconds for p in r.passes]},
                     jm.object_code)


def load(key: str, lowered: Lowered) -> Executable | None:
    """The executable stored under `key` for `lowered`, its machine code mapped again without
    running LLVM's optimizer or code generator; None (and the entry removed) on any doubt."""
    from . import disk_cache
    from .jit import compile_ir

    entry = disk_cache.load(key)
    if entry is None:
        return None
    h = entry.header
    try:
        prep = _prepare(lowered)
        n_params = len(prep.module.entry.parameters)
        n_results = len(prep.module.entry.root.shape.leaves())
        if (h["hlo_sha256"], h["n_in"], h["n_out"]) != (_hlo_hash(prep.module), n_params, n_results):
            raise ValueError("the entry was made from another module")
        jm = compile_ir(h["llvm_ir_opt"], [h["entry"]], name=prep.module.name, object_code=entry.object_code)
    except Exception:  # noqa: BLE001 - anything odd: recompile instead, and never read it again
        disk_cache.discard(key)
        return None
    # The texts as first printed: LLVM prints a reparsed module with its comments in another order.
    jm.llvm_ir, jm.llvm_ir_by_function = h["llvm_ir"], h["llvm_ir_by_function"]
    jm.llvm_ir_opt, jm.llvm_ir_opt_by_function = h["llvm_ir_opt"], h["llvm_ir_opt_by_function"]
    state = CpuState(jm, h["entry"], h["n_in"], h["n_out"], h["kernels"])
    report = dataclasses.replace(prep.report, artifacts=_artifacts(state), compile_seconds=h["compile_seconds"])
    if len(h["pass_seconds"]) == len(report.passes):  # the times measured when it was compiled
        report.passes = [dataclasses.replace(p, seconds=t) for p, t in zip(report.passes, h["pass_seconds"])]
    return _executable(prep.module, report, state, loaded_from_disk=True)


def disk_cache_info() -> dict[str, object]:
    from . import disk_cache

    return disk_cache.info()


def clear_disk_cache() -> int:
    from . import disk_cache

    return disk_cache.clear()
