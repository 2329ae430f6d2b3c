"""The CPU backend: the optimized module compiled to native code through llvmlite.

`codegen` turns the module into one LLVM module (kernels from `kernels`, `elemental`, `scalar`,
`library`; math from `mathlib`), `jit` compiles it for the host CPU at -O3, and `callpath` makes
the call from Python one foreign call."""
from __future__ import annotations

import dataclasses
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
    from ...passes.stage import Lowered
    from .jit import JitModule

__all__ = ["available", "compile", "load", "store", "host_key", "CpuState", "Unsupported"]


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


def host_key() -> str:
    """Native code fits the CPU it was compiled for: its triple, name and features."""
    from .jit import host

    h = host()
    return f"{h.triple}|{h.cpu}|{h.features}"


def compile(lowered: Lowered) -> Executable:  # noqa: A001
    from ...hlo.ir import Instruction, clone_module
    from ...passes.buffers import assign_buffers
    from ...passes.inline import defuse
    from ...passes.layout import decompose_layout_bitcasts, has_layout_bitcasts
    from .codegen import generate
    from .halfconv import inline_half_conversions, inlined, native_half
    from .jit import compile_ir, host
    from .kernels import LIBRARY
    from .variants import with_vector_variants

    def library_fusion(i: Instruction) -> bool:  # a library call inside a fusion (XLA's kCustom fusions)
        return any(x.opcode in LIBRARY for x in i.attrs["calls"].instructions)

    module = lowered.module
    lib_fusions = any(i.opcode.value == "fusion" and library_fusion(i) for c in module.computations
                      for i in c.instructions)
    xla_dump = has_layout_bitcasts(module) or lib_fusions
    if xla_dump:  # XLA's own output, compiled as it stands (its buffers assigned afresh)
        module = clone_module(module)
        decompose_layout_bitcasts(module)
        defuse(module, library_fusion)
        buffers = assign_buffers(module)
    else:
        buffers = lowered.buffers
    h = host()
    # f16 conversions as integer code where this CPU has no instructions for them (no libgcc
    # call), or where the caller asked for them; always correct, the instructions only faster.
    inline = inlined() or not native_half(h.triple, h.features)
    try:
        with inline_half_conversions(inline):
            program = generate(module, buffers)
    except Unsupported as e:
        raise Unsupported(f"the cpu backend cannot compile this module: {e}") from None
    jm = compile_ir(with_vector_variants(program.llvm_module), [program.entry], name=module.name)
    state = CpuState(jm, program.entry, program.n_inputs, program.n_outputs, program.kernels)
    if xla_dump:
        text = module.to_text()
        report = Report("cpu", text, text, buffers=buffers, artifacts=_artifacts(state))
    else:
        report = Report.of(lowered, _artifacts(state))
    return _executable(module, report, state)


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

    jm = state.jit
    caller = make_caller(jm.address(state.entry), state.n_in, state.n_out, keepalive=jm)
    specs = [(s.dims, np.dtype(s.element_type.np)) for s in module.entry.root.shape.leaves()]
    allocate = OutputAllocator(specs)

    def run(args: Sequence[np.ndarray], outs: list[np.ndarray] | None = None) -> list[np.ndarray]:
        if outs is None:
            outs = allocate()
        caller([*args, *outs])
        return outs

    return Executable(module, run, report, "cpu", fresh_results=True, direct=caller, loaded_from_disk=loaded_from_disk,
                      backend_state=state, release_memory=allocate.release)


def store(key: str, exe: Executable) -> None:
    """Stores a compiled executable in the on-disk cache (see disk_cache)."""
    from . import disk_cache

    state = exe.backend_state
    if not isinstance(state, CpuState):
        return
    jm = state.jit
    object_code = jm.object_code  # None where LLVM gave no object file
    if object_code is None:
        return
    report = dataclasses.replace(exe.report, artifacts={})  # its texts come back from the JIT module
    disk_cache.store(key, {"report": report, "llvm_ir": jm.llvm_ir, "llvm_ir_opt": jm.llvm_ir_opt,
                           "llvm_ir_by_function": jm.llvm_ir_by_function, "object": object_code,
                           "entry": state.entry, "n_in": state.n_in, "n_out": state.n_out, "kernels": state.kernels})


def load(key: str) -> Executable | None:
    """The executable stored under `key`, with its machine code mapped again; None on any doubt."""
    from ...hlo.parser import parse_hlo
    from . import disk_cache
    from .jit import compile_ir

    data = disk_cache.load(key)
    if data is None:
        return None
    try:
        stored: Report = data["report"]
        module = parse_hlo(stored.hlo_after, verify=False)
        jm = compile_ir(data["llvm_ir_opt"], [data["entry"]], name=module.name, object_code=data["object"])
        jm.llvm_ir, jm.llvm_ir_by_function = data["llvm_ir"], data["llvm_ir_by_function"]
        state = CpuState(jm, data["entry"], data["n_in"], data["n_out"], data["kernels"])
        return _executable(module, dataclasses.replace(stored, artifacts=_artifacts(state)), state,
                           loaded_from_disk=True)
    except Exception:  # noqa: BLE001 - anything odd: recompile instead
        return None
