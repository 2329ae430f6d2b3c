"""The CPU backend: the optimized module compiled to native code through llvmlite.

`codegen` turns the module into a glue module (entry and control flow) and a unit per kernel
(`units`: kernels from `kernels`, `elemental`, `scalar`, `library`; math functions from `mathlib`,
units of their own), `objects` finds or compiles each unit's machine code by content key, `jit`
links them into one engine, and `callpath` makes the call from Python one foreign call."""
from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...hlo.ir import Module
from ...hlo.printer import DISPLAY_LITERAL_LIMIT
from ...report import Report
from ..artifacts import Artifacts
from ..base import Executable
from ..outputs import OutputAllocator
from .irtypes import Unsupported

if TYPE_CHECKING:
    from ...passes.buffers import BufferAssignment
    from ...passes.stage import Lowered
    from .host_calls import HostCall
    from .jit import JitModule, LinkedModule, LinkedText
    from .units import Unit

__all__ = ["available", "compile", "load", "store", "host_key", "disk_cache_info", "clear_disk_cache",
           "clear_memory_cache", "CpuState",
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

    jit: JitModule | LinkedModule
    entry: str
    n_in: int
    n_out: int
    kernels: dict[str, str]  # kernel function -> the HLO instruction it computes
    units: tuple[str, ...] = ()  # keys of the unit objects linked (each once)
    host_calls: tuple[HostCall, ...] = ()  # custom calls run in Python; the code holds their callbacks

    @property
    def nbytes(self) -> int:
        """What the compile cache counts this state as: machine code and IR texts."""
        from .jit import LinkedModule

        jm = self.jit
        if isinstance(jm, LinkedModule):
            return jm.nbytes
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
        text = module.to_text(literal_limit=DISPLAY_LITERAL_LIMIT)
        return _Prepared(module, buffers, Report("cpu", text, text, buffers=buffers))
    return _Prepared(module, lowered.buffers, Report.of(lowered))


def compile(lowered: Lowered) -> Executable:  # noqa: A001
    from .codegen import generate
    from .halfconv import inline_half_conversions, inlined, native_half
    from .host_calls import collecting
    from .jit import host

    t0 = time.perf_counter()
    prep = _prepare(lowered)
    h = host()
    # f16 conversions as integer code where this CPU has no instructions for them (no libgcc
    # call), or where the caller asked for them; always correct, the instructions only faster.
    inline = inlined() or not native_half(h.triple, h.features)
    try:
        with inline_half_conversions(inline), collecting() as host_calls:
            program = generate(prep.module, prep.buffers, target_key=host_key())
    except Unsupported as e:
        raise Unsupported(f"the cpu backend cannot compile this module: {e}") from None
    units = _with_math(list(program.units.values()))
    glue = str(program.llvm_module)
    t1 = time.perf_counter()
    state, phases, cached = _link(prep.module.name, program.entry, program.n_inputs, program.n_outputs,
                                  program.kernels, program.units, glue, units)
    state = dataclasses.replace(state, host_calls=tuple(host_calls))
    phases = {"passes": sum(p.seconds for p in prep.report.passes), "ir": t1 - t0, **phases}
    report = dataclasses.replace(prep.report, artifacts=_artifacts(state), compile_phases=phases,
                                 cached_kernels=cached)
    return _executable(prep.module, report, state)


def _with_math(units: list[Unit]) -> list[Unit]:
    """The kernel units and, once each, the math function units they call."""
    from .units import math_unit

    key = host_key()
    math = {math_unit(name, ty, key).key: math_unit(name, ty, key) for u in units for name, ty in u.needs}
    return units + list(math.values())


def _pieces(glue: str, kernel_units: dict[str, Unit], units: list[Unit]) -> dict[str, LinkedText]:
    """The texts of a linked program by readable name: the glue, each kernel (its symbol shown as
    the kernel's name), each math function."""
    from .jit import LinkedText
    from .units import GLUE_OPT

    pieces = {"glue": LinkedText("glue", glue, GLUE_OPT)}
    for name, u in kernel_units.items():
        pieces[name] = LinkedText(name, u.text.replace(f'"{u.symbol}', f'"{name}'), u.opt)
    kernel_keys = {u.key for u in kernel_units.values()}
    for u in units:
        if u.key not in kernel_keys:
            pieces[u.symbol] = LinkedText(u.symbol, u.text, u.opt)
    return pieces


def _link(name: str, entry: str, n_in: int, n_out: int, kernels: dict[str, str], kernel_units: dict[str, Unit],
          glue: str, units: list[Unit]) -> tuple[CpuState, dict[str, float], list[str]]:
    """Objects for `units` (cached or compiled), linked with the glue: the state, the seconds per
    step, and the kernels whose objects came from a cache."""
    from . import objects
    from .jit import host, link
    from .units import GLUE_OPT

    fetched = objects.fetch(units, host())
    pieces = _pieces(glue, kernel_units, units)
    jm = link(glue, [fetched.objects[k] for k in fetched.objects], [entry], pieces, glue_opt=GLUE_OPT, name=name)
    t = fetched.timings  # LLVM's reading of the IR counts as optimizing; the glue's code is made at link
    phases = {"cache": t["cache"] + t.get("store", 0.0), "optimize": t.get("parse", 0.0) + t.get("optimize", 0.0),
              "codegen": t.get("codegen", 0.0), "link": sum(jm.timings.values())}
    cached = [k for k, u in kernel_units.items() if fetched.source[u.key] != "llvm"]
    return CpuState(jm, entry, n_in, n_out, kernels, tuple(fetched.objects)), phases, cached


def _artifacts(state: CpuState) -> Artifacts:
    """LLVM IR before and after optimization, and assembly (generated when first read)."""
    from .jit import LinkedModule

    jm = state.jit
    if isinstance(jm, LinkedModule):
        return _linked_artifacts(state, jm)

    def per_kernel(fn: str) -> dict[str, str]:
        def find(table: dict[str, str]) -> str:
            # A parallel kernel's work is in its .body and .worker functions too.
            return "\n\n".join(v for k, v in table.items() if k == fn or k.startswith(fn + "."))

        return {"llvm_ir": find(jm.llvm_ir_by_function), "llvm_ir_opt": find(jm.llvm_ir_opt_by_function),
                "asm": find(jm.asm_by_function)}

    return Artifacts({"llvm_ir": lambda: jm.llvm_ir, "llvm_ir_opt": lambda: jm.llvm_ir_opt, "asm": lambda: jm.asm},
                     per_kernel, state.kernels)


def _linked_artifacts(state: CpuState, jm: LinkedModule) -> Artifacts:
    def per_kernel(fn: str) -> dict[str, str]:
        return {"llvm_ir": jm.piece_ir(fn), "llvm_ir_opt": jm.piece_ir_opt(fn), "asm": jm.piece_asm(fn)}

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
    return module.digest()


def store(key: str, exe: Executable) -> None:
    """Stores a compiled executable in the on-disk cache (see disk_cache) as plain data: the glue's
    machine code, the keys of the unit objects it links (stored on their own), the texts, and the
    hash of the HLO it was made from; the Report is rebuilt from the Lowered."""
    from . import disk_cache
    from .jit import LinkedModule

    state = exe.backend_state
    # Host calls: the code holds this process's callback addresses.
    if not isinstance(state, CpuState) or not isinstance(state.jit, LinkedModule) or state.host_calls:
        return
    jm = state.jit
    if jm.object_code is None:  # LLVM gave no object file
        return
    r = exe.report
    pieces = [[p.name, p.text, p.opt] for p in jm.pieces.values()]
    disk_cache.store(key, {"entry": state.entry, "n_in": state.n_in, "n_out": state.n_out, "kernels": state.kernels,
                           "glue_opt": jm.pieces["glue"].opt, "pieces": pieces, "units": list(state.units),
                           "hlo_sha256": _hlo_hash(exe.module), "compile_seconds": r.compile_seconds,
                           "pass_seconds": [p.seconds for p in r.passes]},
                     jm.object_code)


def load(key: str, lowered: Lowered) -> Executable | None:
    """The executable stored under `key` for `lowered`, its machine code mapped again without
    running LLVM's optimizer or code generator; None (and the entry removed) on any doubt, or
    None when a unit object it links is gone (the compile then finds the others in the cache)."""
    from . import disk_cache, objects
    from .jit import LinkedText, link

    entry = disk_cache.load(key)
    if entry is None:
        return None
    h = entry.header
    t0 = time.perf_counter()
    codes = [objects.cached(k) for k in h["units"]]
    if any(c is None for c in codes):
        return None
    try:
        prep = _prepare(lowered)
        n_params = len(prep.module.entry.parameters)
        n_results = len(prep.module.entry.root.shape.leaves())
        if (h["hlo_sha256"], h["n_in"], h["n_out"]) != (_hlo_hash(prep.module), n_params, n_results):
            raise ValueError("the entry was made from another module")
        pieces = {p[0]: LinkedText(p[0], p[1], p[2]) for p in h["pieces"]}
        jm = link(pieces["glue"].text, [c for c in codes if c is not None], [h["entry"]], pieces,
                  glue_opt=h["glue_opt"], name=prep.module.name, glue_object=entry.object_code)
    except Exception:  # noqa: BLE001 - anything odd: recompile instead, and never read it again
        disk_cache.discard(key)
        return None
    state = CpuState(jm, h["entry"], h["n_in"], h["n_out"], h["kernels"], tuple(h["units"]))
    phases = {"cache": time.perf_counter() - t0}
    report = dataclasses.replace(prep.report, artifacts=_artifacts(state), compile_seconds=h["compile_seconds"],
                                 compile_phases=phases, cached_kernels=list(h["kernels"]))
    if len(h["pass_seconds"]) == len(report.passes):  # the times measured when it was compiled
        report.passes = [dataclasses.replace(p, seconds=t) for p, t in zip(report.passes, h["pass_seconds"])]
    return _executable(prep.module, report, state, loaded_from_disk=True)


def disk_cache_info() -> dict[str, object]:
    from . import disk_cache

    return disk_cache.info()


def clear_disk_cache() -> int:
    from . import disk_cache

    return disk_cache.clear()


def clear_memory_cache() -> None:
    """Forgets the kernel objects and generated kernel IR kept for later compiles."""
    from . import objects, units

    objects.clear()
    units.clear_memo()
