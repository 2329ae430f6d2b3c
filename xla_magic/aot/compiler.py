"""`aot_compile`: the optimizer and the CPU backend's code generation run for a standalone
object, then the object, the header and (for the host) the library and executable are written."""
from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ..hlo.ir import Module
from ..hlo.shape import Shape
from .build import link_binaries
from .capi import add_api
from .errors import AotError
from .header import header_text
from .objects import PROCESS_BOUND, elf_info, emit_object, find_absolute_address, shim_size_t
from .result import AotResult, BufferSpec
from .target import AotTarget, pointer_bits, resolve_target

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# The CPU backend's codegen reads two process-wide settings; AOT overrides them for one call.
_CODEGEN_LOCK = threading.Lock()


@contextlib.contextmanager
def _standalone_codegen(threads: int, target: AotTarget) -> Iterator[None]:
    """No BLAS (its address belongs to this process), a fixed thread count, and f16 conversions
    as integer code where the target has no instructions for them (LLVM would call libgcc's
    __truncsfhf2 and friends, which not every target's libgcc has) while generating."""
    from ..backends.cpu import kernels
    from ..backends.cpu.halfconv import inline_half_conversions, native_half
    from ..backends.cpu.library import blas

    inline = not native_half(target.triple, target.features)
    with _CODEGEN_LOCK, blas.suppressed(), kernels.fixed_threads(threads), inline_half_conversions(inline):
        yield


def _dtype_name(array: Shape) -> str:
    assert array.dtype is not None, "a tuple shape where an array was expected"
    return array.dtype.name


def _specs(module: Module) -> tuple[list[BufferSpec], list[BufferSpec]]:
    ins = []
    for p in module.entry.parameters:
        if p.shape.is_tuple:
            raise AotError(f"parameter '{p.name}' is a tuple; aot takes array parameters only")
        ins.append(BufferSpec(p.name, _dtype_name(p.shape), tuple(p.shape.dims), p.shape.nbytes))
    outs = [BufferSpec(f"out{k}", _dtype_name(s), tuple(s.dims), s.nbytes)
            for k, s in enumerate(module.entry.root.shape.leaves())]
    return ins, outs


def _as_module(m_or_text: Module | str) -> Module:
    if isinstance(m_or_text, Module):
        return m_or_text
    if isinstance(m_or_text, str):
        from ..hlo.formats import parse_text

        return parse_text(m_or_text, verify=True)  # HLO or StableHLO
    raise TypeError(f"expected HLO or StableHLO text or a Module, got {type(m_or_text).__name__}")


def aot_compile(module_or_text: Module | str, out_dir: str | os.PathLike, name: str | None = None,
                target_triple: str | None = None, *, cpu: str | None = None, features: str | None = None,
                opt: int = 3, size: bool = False, threads: int | None = None, vector_math: bool = False,
                build: bool = True, strip: bool = True) -> AotResult:
    """Compiles an HLO module ahead of time into `out_dir`: NAME.o and NAME.h always; for the
    host (unless build=False) also libNAME.so and the executable NAME, built with the system C
    compiler. Raises NoCompilerError (with `.result`) when there is none, after writing .o and .h.

    target_triple: None for the host, a full triple, or "aarch64" / "armv7" / "riscv64".
    cpu, features: LLVM's names; default: the host's, or a generic CPU for other triples.
    opt: LLVM's level 0-3; size=True adds `optsize` to every function (like -Os).
    threads: kernels over big outer extents may run on this many pthreads; default: the host's
    count for the host, 1 for other triples. vector_math: keep exp/tanh/.. out of line with vector
    variants, as the JIT does to compile faster; off by default, because inlined math gave smaller
    code here and was as fast (lstm_cell: 4.8 KiB of code against 8.9 KiB, 2.6 against 2.8 us)."""
    from ..backends.cpu.codegen import generate
    from ..backends.cpu.host_calls import describe, first_host_call
    from ..backends.cpu.irtypes import Unsupported
    from ..backends.cpu.kernels import threads as host_threads
    from ..backends.cpu.variants import with_vector_variants
    from ..passes.buffers import assign_buffers
    from ..passes.pipeline import optimize

    t0 = time.perf_counter()
    source = _as_module(module_or_text)
    name = name or re.sub(r"\W", "_", source.name).strip("_") or "model"
    if not _IDENT.match(name):
        raise ValueError(f"name {name!r} is not a C identifier")
    if not 0 <= opt <= 3:
        raise ValueError(f"opt must be 0..3, got {opt}")
    target = resolve_target(target_triple, cpu, features)
    if threads is None:
        threads = host_threads() if target.is_host else 1
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    ptr_bits = pointer_bits(target.triple)
    if ptr_bits == 32 and threads > 1:
        threads = 1  # the backend passes pthread_t as i64; one thread keeps 32-bit targets correct
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise AotError(f"cannot write into {out}: it exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AotError(f"cannot create the folder {out}: {e.strerror}") from None

    module, _records = optimize(source, target="cpu")
    python = first_host_call(module)
    if python is not None:
        raise AotError(f"{describe(python)} runs in Python on the host (as the cpu backend runs jax's LAPACK "
                       "calls and fft); code built ahead of time cannot call Python")
    buffers = assign_buffers(module)
    ins, outs = _specs(module)
    t1 = time.perf_counter()
    try:
        with _standalone_codegen(threads, target):
            program = generate(module, buffers)
    except Unsupported as e:
        raise AotError(f"the cpu backend cannot compile this module: {e}") from None
    res = AotResult(name, out, target, ins, outs, buffers.arena_bytes, threads, out / f"{name}.o", out / f"{name}.h")
    add_api(program, res, source.name)
    text = with_vector_variants(program.llvm_module) if vector_math else str(program.llvm_module)
    text = re.sub(r'@"?xm_entry"?(?=[(\s,])', f'@"{name}_run"', text)
    bad = find_absolute_address(text)
    if bad:
        raise AotError(f"the generated code refers to an address in this process ({bad}); "
                       "it cannot be compiled ahead of time")
    if ptr_bits == 32:
        text = shim_size_t(text)
    api = {f"{name}_run", f"{name}_run_with_arena", f"{name}_run_array", f"{name}_info"}
    t2 = time.perf_counter()
    obj, _ = emit_object(text, target, api, opt, size)
    t3 = time.perf_counter()
    elf = elf_info(obj)
    bound = sorted(set(PROCESS_BOUND) & set(elf["undefined"]))
    if bound:
        raise AotError(f"the generated code calls {', '.join(bound)} (a library of this Python installation); "
                       "it cannot run standalone")
    res.sections, res.undefined = elf["sections"], elf["undefined"]
    res.object.write_bytes(obj)
    res.header.write_text(header_text(res, source.name))
    res.sizes = {"object": len(obj), "header": res.header.stat().st_size}
    res.timings = {"optimize_hlo": t1 - t0, "codegen": t2 - t1, "llvm": t3 - t2}
    if not (build and target.is_host):
        if build:
            res.notes.append(f"{target.triple} is not the host: link {name}.o with that machine's C compiler")
        res.timings["total"] = time.perf_counter() - t0
        return res
    link_binaries(res, strip)
    res.timings["cc"] = time.perf_counter() - t3
    res.timings["total"] = time.perf_counter() - t0
    return res
