"""Ahead-of-time compilation: an HLO module to a relocatable object, a C header, and, for the
host, a shared library and a standalone executable that need no Python at run time.

    res = xm.aot_compile(text, "out/", name="lstm")   # or: xla-magic aot model.hlo -o out/
    res.files            # out/lstm.o, out/lstm.h, out/liblstm.so, out/lstm
    print(res.summary()) # sizes of the object, the stripped library and executable

The object comes from the same pipeline as `xm.compile(target="cpu")` (optimizer, buffer
assignment, `backends.cpu.codegen`) with three differences that make it standalone:
no call into numpy's BLAS (its address is only known inside this process), a thread count fixed
here rather than by the host (1 for other targets), and entry points with C names:

    void NAME_run(const void *arg0, ..., void *out0, ...);            /* arena on stack or heap */
    void NAME_run_with_arena(void *arena, const void *arg0, ..., void *out0, ...);
    void NAME_run_array(void *arena, const void *const *args, void *const *outs);
    const xm_model_info *NAME_info(void);   /* shapes, dtypes, byte sizes, arena size */

Everything else in the object has internal linkage, so several models link into one program.
The `NAME` executable is `kernels/aot_harness.c` (shipped in the package) compiled against
`NAME.h` and linked with `NAME.o`: `NAME arg0.npy ... -o OUTDIR` writes `OUTDIR/out0.npy`...

bf16 has no .npy type code. The convention is the corpus's: the harness writes bf16 outputs as
float32 ('<f4', exact) and reads bf16 inputs either as '<f4' (rounded to nearest even, as
`ml_dtypes` does) or as raw 2-byte values ('<V2', what `np.save` writes for ml_dtypes.bfloat16).
The 8- and 4-bit floats (f8e4m3fn, ..., f4e2m1fn) and s4/u4/s2/u2 are one byte per element in the
buffers (uint8_t: the byte ml_dtypes stores) and raw 1-byte values ('<V1') in the .npy files.

Modules: `target` (AotTarget, resolve_target), `capi` (the C entry points added to the LLVM
module), `objects` (the object for the target, `elf_info`), `header` (NAME.h), `build` (the C
compiler: library, executable, harness), `result` (AotResult), `compiler` (`aot_compile`).
"""
from __future__ import annotations

from .build import HARNESS_CFLAGS, SIZE_LDFLAGS, find_c_compiler, harness_source
from .compiler import aot_compile
from .errors import AotError, NoCompilerError
from .objects import elf_info
from .result import ARENA_ALIGN, NPY_DESCR, AotResult, BufferSpec
from .target import CROSS_TRIPLES, AotTarget, resolve_target

__all__ = ["aot_compile", "AotResult", "AotError", "NoCompilerError", "AotTarget", "resolve_target",
           "harness_source", "CROSS_TRIPLES", "elf_info", "find_c_compiler", "BufferSpec", "NPY_DESCR",
           "ARENA_ALIGN", "HARNESS_CFLAGS", "SIZE_LDFLAGS"]
