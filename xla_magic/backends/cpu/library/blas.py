"""numpy's BLAS from generated code: finding it in this process (`find_blas`), and the IR that
finds it again at run time and calls its gemm.

The kernel looks the gemm up itself on its first call (dlopen of the library file found at
emission, dlsym, kept in a module global; no Python on the call path) and computes with the
loops when it is not there, so machine code cached on disk stays valid in another process.
`XLA_MAGIC_BLAS=0` in the environment disables the lookup."""
from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import pathlib
from collections.abc import Iterator
from dataclasses import dataclass

from llvmlite import ir

from .geometry import Gemm
from .irutil import F32, F64, I32, I64, PTR, VOID, _cstring, _declare, _i64, _Var


@dataclass(frozen=True)
class Blas:
    """A CBLAS found in the process: its file, the gemm symbols (names and, in this process,
    addresses) and the width of its integers."""

    path: str
    sgemm: int
    dgemm: int
    int_bits: int  # 64 for an ILP64 build (numpy's scipy-openblas64)
    set_num_threads: int | None = None  # void f(int), for benchmarks
    sgemm_name: str = "cblas_sgemm"
    dgemm_name: str = "cblas_dgemm"


_KEEP: list[object] = []  # the CDLL handles whose code generated kernels call
# (prefix, suffix, integer width or None = ask the library) of the gemm symbols, best first
_BLAS_NAMES = [("scipy_cblas_", "64_", 64), ("cblas_", "64_", 64), ("scipy_cblas_", "", 32), ("cblas_", "", None)]


def _blas_candidates() -> list[pathlib.Path]:
    """numpy's bundled BLAS: `numpy.libs` (Linux, Windows wheels) or `numpy/.dylibs` (macOS)."""
    import numpy

    root = pathlib.Path(numpy.__file__).resolve().parent
    found: list[pathlib.Path] = []
    for d in (root.parent / "numpy.libs", root / ".dylibs", root.parent / "numpy" / ".libs"):
        if d.is_dir():
            found += sorted(p for p in d.iterdir() if "openblas" in p.name.lower() or "blas" in p.name.lower())
    return found


def _int_bits_from_config(lib: ctypes.CDLL) -> int | None:
    for sym in ("openblas_get_config", "openblas_get_config64_"):
        f = getattr(lib, sym, None)
        if f is not None:
            f.restype = ctypes.c_char_p
            return 64 if b"USE64BITINT" in (f() or b"") else 32
    return None


_suppressed = 0  # > 0 while code is generated to run in another process (see `suppressed`)


@contextlib.contextmanager
def suppressed() -> Iterator[None]:
    """No BLAS for the kernels generated inside (ahead-of-time builds: the library found here
    belongs to this Python installation). The caller serializes code generation around it."""
    global _suppressed
    _suppressed += 1
    try:
        yield
    finally:
        _suppressed -= 1


def find_blas() -> Blas | None:
    """The gemm routines of numpy's BLAS, or None (not found, `XLA_MAGIC_BLAS=0`, or inside
    `suppressed()`)."""
    return None if _suppressed else _lookup()


@functools.cache
def _lookup() -> Blas | None:
    if os.environ.get("XLA_MAGIC_BLAS", "1").strip().lower() in ("0", "no", "off", "false"):
        return None
    if os.name != "posix":  # generated code finds the library again with dlopen/dlsym
        return None
    try:
        paths = _blas_candidates()
    except Exception:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(str(path))
        except OSError:
            continue
        for prefix, suffix, bits in _BLAS_NAMES:
            s, d = getattr(lib, f"{prefix}sgemm{suffix}", None), getattr(lib, f"{prefix}dgemm{suffix}", None)
            if s is None or d is None:
                continue
            if bits is None:
                bits = _int_bits_from_config(lib)
                if bits is None:  # cannot tell the integer width: calling it would be a guess
                    continue
            nt = None
            for sym in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                        "scipy_openblas_set_num_threads", "openblas_set_num_threads"):
                if getattr(lib, sym, None) is not None:
                    nt = ctypes.cast(getattr(lib, sym), ctypes.c_void_p).value
                    break
            sgemm, dgemm = ctypes.cast(s, ctypes.c_void_p).value, ctypes.cast(d, ctypes.c_void_p).value
            if sgemm is None or dgemm is None:
                continue
            _KEEP.append(lib)
            return Blas(str(path), sgemm, dgemm, bits, nt, f"{prefix}sgemm{suffix}", f"{prefix}dgemm{suffix}")
    return None


def blas_args(c: Gemm) -> tuple[bool, int, bool, int] | None:
    """(transpose A, lda, transpose B, ldb) for a row-major cblas call, or None when an operand
    has no unit stride or C is not dense."""
    def one(rows: int, cols: int, s_row: int, s_col: int) -> tuple[bool, int] | None:
        if cols == 1 or s_col == 1:
            ld = s_row if rows > 1 else cols
            if ld >= max(1, cols):
                return False, ld
        if rows == 1 or s_row == 1:
            ld = s_col if cols > 1 else rows
            if ld >= max(1, rows):
                return True, ld
        return None

    a, b = one(c.M, c.K, c.sa_m, c.sa_k), one(c.K, c.N, c.sb_k, c.sb_n)
    if a is None or b is None or c.sc_n != 1 or c.sc_m != c.N:
        return None
    return a[0], a[1], b[0], b[1]


def blas_for(c: Gemm) -> Blas | None:
    blas = find_blas()
    if blas is None or not (c.adt == c.bdt == c.odt) or c.odt.name not in ("f32", "f64"):
        return None
    return blas if blas_args(c) is not None else None


UNAVAILABLE = 1  # the cached "pointer" meaning: looked for the gemm, it is not there


def gemm_address(b: ir.IRBuilder, blas: Blas, ft: ir.Type) -> ir.Value:
    """The gemm's address, found by the kernel itself on its first call (dlopen of numpy's
    BLAS, dlsym) and kept in a module global; `UNAVAILABLE` when not found. Not an address
    constant: machine code may be cached on disk and run in another process, where the library
    sits elsewhere (or has gone)."""
    module = b.module
    symbol = blas.sgemm_name if ft == F32 else blas.dgemm_name
    gname = f"xla_magic.blas.{symbol}"
    slot = module.globals.get(gname)
    if slot is None:
        slot = ir.GlobalVariable(module, PTR, gname)
        slot.initializer = ir.Constant(PTR, None)
        slot.linkage = "internal"
    cached = b.load_atomic(slot, "monotonic", 8, typ=PTR)
    found = _Var(b, PTR, cached, "gemm")
    with b.if_then(b.icmp_unsigned("==", cached, ir.Constant(PTR, None)), likely=False):
        dlopen = _declare(module, "dlopen", PTR, [PTR, I32])
        dlsym = _declare(module, "dlsym", PTR, [PTR, PTR])
        rtld_lazy = 1
        handle = b.call(dlopen, [_cstring(module, blas.path).bitcast(PTR), ir.Constant(I32, rtld_lazy)])
        none = b.inttoptr(_i64(UNAVAILABLE), PTR)
        found.set(none)
        with b.if_then(b.icmp_unsigned("!=", handle, ir.Constant(PTR, None))):
            f = b.call(dlsym, [handle, _cstring(module, symbol).bitcast(PTR)])
            found.set(b.select(b.icmp_unsigned("==", f, ir.Constant(PTR, None)), none, f))
        # IRBuilder.store_atomic insists on a typed pointer; the instruction itself does not
        b._insert(ir.instructions.StoreAtomicInstr(b.block, found.get(), slot, "monotonic", 8))
    return found.get()


def call_gemm(b: ir.IRBuilder, c: Gemm, gemm: ir.Value, pa: ir.Value, pb: ir.Value, pc: ir.Value) -> None:
    """C = A @ B through the gemm at `gemm` (found by `gemm_address`)."""
    blas = find_blas()
    assert blas is not None
    args = blas_args(c)
    assert args is not None, "blas_for() accepted a product BLAS cannot take"
    ta, lda, tb, ldb = args
    it = ir.IntType(blas.int_bits)
    ft = F32 if c.odt.name == "f32" else F64
    fnty = ir.FunctionType(VOID, [I32, I32, I32, it, it, it, ft, PTR, it, PTR, it, ft, PTR, it])
    row_major, no_trans, trans = 101, 111, 112
    i = lambda v: ir.Constant(it, v)
    # a pointer value llvmlite knows the function type of (bitcast of an opaque ptr is a no-op)
    fp = b.inttoptr(b.ptrtoint(gemm, I64), fnty.as_pointer())
    b.call(fp, [
        ir.Constant(I32, row_major), ir.Constant(I32, trans if ta else no_trans),
        ir.Constant(I32, trans if tb else no_trans), i(c.M), i(c.N), i(c.K), ir.Constant(ft, 1.0),
        pa, i(lda), pb, i(ldb), ir.Constant(ft, 0.0), pc, i(max(c.N, 1))])
