"""Library-call kernels of the CPU backend: dot, convolution, sort and top-k, each emitted as one
LLVM function into a given llvmlite module.

    define_dot(module, instr, name)                   void name(ptr lhs, ptr rhs, ptr out)
    define_convolution(module, instr, name)           void name(ptr lhs, ptr rhs, ptr out)
    define_sort(module, instr, name, comparator)      void name(ptr in0, .., ptr out0, ..)
    define_topk(module, instr, name, comparator)      void name(ptr x, ptr values, ptr indices)

Buffers are dense row-major arrays of the instruction's shapes (layouts are ignored); outputs
alias no input. Every loop bound is a compile-time constant or derived from one, so no shape can
make the code read or write out of bounds. Scratch memory comes from malloc and is checked: when
it is NULL the kernel takes a slower path that needs none, never a crash.

Dot: the dims are grouped as XLA's DotGeneral defines them (batch, lhs free, rhs free,
contracting), size-1 dims dropped and neighbours merged where the strides allow, so most dots
become a batch of one strided 2-D GEMM `C[M,N] = A[M,K] @ B[K,N]` (an operand whose groups do
not merge is first copied into canonical order). Four ways to compute it:

- `loops`: register-blocked loops LLVM vectorizes (`_gemm_axpy`): every trip count constant,
  so the inner vector loop unrolls fully and a 4 x 96 (f32, AVX-512) block of C stays in
  registers while k runs; ~115 GFLOP/s on one Zen 4 core from 32^3 up (OpenBLAS: ~100 on one
  core). Matrix-vector products stream or use a vectorized reduction. The default for all but
  large f32/f64 products;
- `blas`: a call into the BLAS numpy ships (OpenBLAS, multithreaded), for large f32/f64
  products. The kernel finds it itself on its first call (dlopen of the library file found at
  emission, dlsym, kept in a module global; no Python on the call path) and computes with the
  loops when it is not there, so machine code cached on disk stays valid in another process;
- `packed`: BLIS-style generated code: A and B packed into panels, a micro-kernel of explicit
  vector FMAs (MR x NR accumulators); the default once A outgrows the caches without BLAS;
- `naive`: one nested loop per dim with strided loads; needs no memory (the fallback when
  malloc fails, and tiny products with awkward layouts).

`define_dot(..., strategy=...)` forces one (tests and benchmarks), `dot_strategy(instr)` says
which the sizes pick. `XLA_MAGIC_BLAS=0` in the environment disables the BLAS lookup.

Convolution: ungrouped convolutions with enough input features run as small GEMMs through
`_gemm_axpy`; the rest through direct loops with a vectorized accumulator row. Sort: a stable
merge sort per row with the caller's comparator. Top-k: a sorted top-k list per row (small k)
or the merge sort.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import math
import os
import pathlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

from llvmlite import ir

from ....hlo.attrs import WindowDim
from ....hlo.dtypes import DType
from ....hlo.ir import Instruction
from ..irtypes import Unsupported, storage_type
from ..jit import host

__all__ = ["define_dot", "define_convolution", "define_sort", "define_topk", "find_blas", "Blas",
           "DOT_STRATEGIES", "dot_strategy"]

PTR = ir.PointerType()
I1, I8, I16, I32, I64 = (ir.IntType(n) for n in (1, 8, 16, 32, 64))
F16, F32, F64 = ir.HalfType(), ir.FloatType(), ir.DoubleType()
VOID = ir.VoidType()

# --- IR helpers ------------------------------------------------------------------------------


def _i64(v: int) -> ir.Constant:
    return ir.Constant(I64, int(v))


def _v(x: ir.Value | int) -> ir.Value:
    return _i64(x) if isinstance(x, int) else x


def _const(ty: ir.Type, v) -> ir.Constant:
    """A constant of `ty`; a splat when `ty` is a vector type."""
    if isinstance(ty, ir.VectorType):
        return ir.Constant(ty, [ir.Constant(ty.element, v)] * ty.count)
    return ir.Constant(ty, v)


def _elem(ty: ir.Type) -> ir.Type:
    return ty.element if isinstance(ty, ir.VectorType) else ty


def _like(ty: ir.Type, elem: ir.Type) -> ir.Type:
    """`elem`, or a vector of `elem` as wide as `ty`."""
    return ir.VectorType(elem, ty.count) if isinstance(ty, ir.VectorType) else elem


def _is_float(ty: ir.Type) -> bool:
    return isinstance(_elem(ty), (ir.HalfType, ir.FloatType, ir.DoubleType))


def _bits(ty: ir.Type) -> int:
    e = _elem(ty)
    if isinstance(e, ir.IntType):
        return e.width
    return {ir.HalfType: 16, ir.FloatType: 32, ir.DoubleType: 64}[type(e)]


def _add(b: ir.IRBuilder, x, y) -> ir.Value:
    return b.add(_v(x), _v(y))


def _mul(b: ir.IRBuilder, x, y) -> ir.Value:
    if isinstance(y, int):
        if y == 0:
            return _i64(0)
        if y == 1:
            return _v(x)
    return b.mul(_v(x), _v(y))


def _min(b: ir.IRBuilder, x, y) -> ir.Value:
    x, y = _v(x), _v(y)
    return b.select(b.icmp_signed("<", x, y), x, y)


def _max(b: ir.IRBuilder, x, y) -> ir.Value:
    x, y = _v(x), _v(y)
    return b.select(b.icmp_signed(">", x, y), x, y)


def _floordiv(b: ir.IRBuilder, x: ir.Value, d: int) -> ir.Value:
    """floor(x / d) for a signed x and a constant d > 0 (sdiv truncates toward zero)."""
    if d == 1:
        return x
    neg = b.icmp_signed("<", x, _i64(0))
    return b.sdiv(b.select(neg, b.sub(x, _i64(d - 1)), x), _i64(d))


def _ceildiv(b: ir.IRBuilder, x: ir.Value, d: int) -> ir.Value:
    return _floordiv(b, b.add(x, _i64(d - 1)), d) if d > 1 else x


def _gep(b: ir.IRBuilder, ptr: ir.Value, index, ty: ir.Type) -> ir.Value:
    return b.gep(ptr, [_v(index)], inbounds=True, source_etype=ty)


@contextmanager
def _loop(b: ir.IRBuilder, stop, start=0, step: int = 1, name: str = "i") -> Iterator[ir.Value]:
    """`for (i = start; i < stop; i += step)`; the body is what the `with` block emits."""
    start, stop = _v(start), _v(stop)
    fn = b.function
    pre = b.block
    head = fn.append_basic_block(f"{name}.head")
    body = fn.append_basic_block(f"{name}.body")
    end = fn.append_basic_block(f"{name}.end")
    b.branch(head)
    b.position_at_end(head)
    iv = b.phi(I64, name=name)
    iv.add_incoming(start, pre)
    b.cbranch(b.icmp_signed("<", iv, stop), body, end)
    b.position_at_end(body)
    yield iv
    nxt = b.add(iv, _i64(step), name=f"{name}.next", flags=("nsw",))
    iv.add_incoming(nxt, b.block)
    b.branch(head)
    b.position_at_end(end)


def _entry_alloca(b: ir.IRBuilder, ty: ir.Type, count: int = 1, name: str = "", align: int = 0) -> ir.Value:
    """Stack memory for `count` values of `ty`, allocated once in the entry block (which holds
    only allocas and the branch to the code, see `_start`)."""
    entry = b.function.entry_basic_block
    assert b.block is not entry and entry.is_terminated
    eb = ir.IRBuilder(entry)
    eb.position_before(entry.terminator)
    a = eb.alloca(ir.ArrayType(ty, max(count, 1)) if count != 1 else ty, name=name)
    if align:
        a.align = align
    a.type = PTR  # opaque, like every other pointer here: loads and stores name their types
    return a


def _start(fn: ir.Function) -> ir.IRBuilder:
    """A builder for `fn`'s code, after an entry block kept for allocas."""
    entry = fn.append_basic_block("entry")
    body = fn.append_basic_block("start")
    ir.IRBuilder(entry).branch(body)
    return ir.IRBuilder(body)


class _Var:
    """A mutable local (an alloca that mem2reg turns into SSA values)."""

    def __init__(self, b: ir.IRBuilder, ty: ir.Type, init, name: str = ""):
        self.b, self.ty = b, ty
        self.ptr = _entry_alloca(b, ty, name=name)
        self.set(init)

    def get(self) -> ir.Value:
        return self.b.load(self.ptr, typ=self.ty)

    def set(self, v) -> None:
        self.b.store(_v(v) if self.ty == I64 else v, self.ptr)


def _declare(module: ir.Module, name: str, ret: ir.Type, args: list[ir.Type]) -> ir.Function:
    g = module.globals.get(name)
    if g is None:
        g = ir.Function(module, ir.FunctionType(ret, args), name=name)
    return g


def _malloc(b: ir.IRBuilder, nbytes: int) -> ir.Value:
    return b.call(_declare(b.module, "malloc", PTR, [I64]), [_i64(max(nbytes, 1))])


def _free(b: ir.IRBuilder, p: ir.Value) -> None:
    b.call(_declare(b.module, "free", VOID, [PTR]), [p])


def _memcpy(b: ir.IRBuilder, dst: ir.Value, src: ir.Value, nbytes) -> None:
    f = b.module.declare_intrinsic("llvm.memcpy", [PTR, PTR, I64])
    b.call(f, [dst, src, _v(nbytes), ir.Constant(I1, 0)])


def _memset0(b: ir.IRBuilder, dst: ir.Value, nbytes) -> None:
    f = b.module.declare_intrinsic("llvm.memset", [PTR, I64])
    b.call(f, [dst, ir.Constant(I8, 0), _v(nbytes), ir.Constant(I1, 0)])


def _align_up(b: ir.IRBuilder, p: ir.Value, align: int = 64) -> ir.Value:
    """`p` rounded up to a multiple of `align` (the buffer must have `align` bytes to spare)."""
    a = b.ptrtoint(p, I64)
    pad = b.and_(b.sub(_i64(0), a), _i64(align - 1))
    return b.gep(p, [pad], source_etype=I8)


def _new_function(module: ir.Module, name: str, n_args: int) -> tuple[ir.Function, ir.IRBuilder]:
    """`void name(ptr, ...)` whose arguments alias none of the others."""
    fn = ir.Function(module, ir.FunctionType(VOID, [PTR] * n_args), name=name)
    fn.attributes.add("nounwind")
    for a in fn.args:
        a.add_attribute("noalias")
    return fn, _start(fn)


def _fma_fn(module: ir.Module, ty: ir.Type) -> ir.Function:
    e = _elem(ty)
    suffix = f"v{ty.count}{e.intrinsic_name}" if isinstance(ty, ir.VectorType) else e.intrinsic_name
    return _declare(module, f"llvm.fma.{suffix}", ty, [ty, ty, ty])


def _muladd(b: ir.IRBuilder, x: ir.Value, y: ir.Value, acc: ir.Value, flags: tuple[str, ...] = ()) -> ir.Value:
    """acc + x*y: one fused multiply-add for floats (XLA contracts these too), wrapping for ints."""
    if _is_float(x.type):
        if flags:  # a reassociable reduction: keep mul/add apart so the vectorizer recognizes it
            return b.fadd(acc, b.fmul(x, y, flags=flags), flags=flags)
        return b.call(_fma_fn(b.module, x.type), [x, y, acc])
    return b.add(acc, b.mul(x, y))


# --- element types -----------------------------------------------------------------------------


def _mem_type(dt: DType) -> ir.Type:
    return storage_type(dt)


def _compute(out: DType) -> tuple[ir.Type, str]:
    """Accumulation type and its kind ('f', 's', 'u'), as the evaluator's `_compute_dtype`:
    narrow floats accumulate in f32, pred in s32, everything else in its own type."""
    if out.kind == "f":
        _mem_type(out)  # refuses f8 and friends
        return (F64 if out.name == "f64" else F32), "f"
    if out.kind == "pred":
        return I32, "s"
    if out.kind in ("s", "u"):
        return _mem_type(out), out.kind
    raise Unsupported(f"element type {out.name}")


def _convert(b: ir.IRBuilder, v: ir.Value, skind: str, dst: ir.Type, dkind: str) -> ir.Value:
    """numpy's `astype` between numeric LLVM types (scalars or vectors alike)."""
    dty = _like(v.type, _elem(dst))
    if v.type == dty:
        return v
    sf, df = _is_float(v.type), _is_float(dty)
    if sf and df:
        return b.fpext(v, dty) if _bits(dty) > _bits(v.type) else b.fptrunc(v, dty)
    if not sf and df:
        return b.sitofp(v, dty) if skind == "s" else b.uitofp(v, dty)
    if sf:
        return b.fptosi(v, dty) if dkind == "s" else b.fptoui(v, dty)
    if _bits(dty) < _bits(v.type):
        return b.trunc(v, dty)
    return b.sext(v, dty) if skind == "s" else b.zext(v, dty)


def _bf16_to_f32(b: ir.IRBuilder, raw: ir.Value) -> ir.Value:
    i32 = _like(raw.type, I32)
    return b.bitcast(b.shl(b.zext(raw, i32), _const(i32, 16)), _like(raw.type, F32))


def _f32_to_bf16(b: ir.IRBuilder, v: ir.Value) -> ir.Value:
    """Round to nearest even on the bits; NaN stays a quiet NaN (as ml_dtypes does)."""
    i32 = _like(v.type, I32)
    bits = b.bitcast(v, i32)
    hi = b.lshr(bits, _const(i32, 16))
    rounded = b.lshr(b.add(b.add(bits, _const(i32, 0x7FFF)), b.and_(hi, _const(i32, 1))), _const(i32, 16))
    nan = b.or_(hi, _const(i32, 0x40))
    return b.trunc(b.select(b.fcmp_unordered("uno", v, v), nan, rounded), _like(v.type, I16))


def _to_compute(b: ir.IRBuilder, raw: ir.Value, src: DType, ct: ir.Type, ck: str) -> ir.Value:
    """A value loaded from memory (storage type of `src`) converted to the compute type."""
    if src.name == "bf16":
        return _convert(b, _bf16_to_f32(b, raw), "f", ct, ck)
    if src.kind == "pred":
        return _convert(b, raw, "u", ct, ck)
    return _convert(b, raw, src.kind, ct, ck)


def _to_storage(b: ir.IRBuilder, v: ir.Value, ck: str, out: DType) -> ir.Value:
    """A compute-type value converted to what `out` stores (pred: != 0; bf16 rounded)."""
    if out.kind == "pred":
        zero = _const(v.type, 0.0 if ck == "f" else 0)
        ne = b.fcmp_unordered("une", v, zero) if ck == "f" else b.icmp_unsigned("!=", v, zero)
        return b.zext(ne, _like(v.type, I8))
    if out.name == "bf16":
        return _f32_to_bf16(b, _convert(b, v, ck, F32, "f"))
    return _convert(b, v, ck, _mem_type(out), out.kind)


def _load_c(b: ir.IRBuilder, ptr: ir.Value, index, dt: DType, ct: ir.Type, ck: str) -> ir.Value:
    mt = _mem_type(dt)
    return _to_compute(b, b.load(_gep(b, ptr, index, mt), typ=mt), dt, ct, ck)


def _store_c(b: ir.IRBuilder, ptr: ir.Value, index, dt: DType, v: ir.Value, ck: str) -> None:
    b.store(_to_storage(b, v, ck, dt), _gep(b, ptr, index, _mem_type(dt)))


def _row_major(dims: Sequence[int]) -> list[int]:
    s, out = 1, [0] * len(dims)
    for i in range(len(dims) - 1, -1, -1):
        out[i] = s
        s *= dims[i]
    return out


# --- BLAS ------------------------------------------------------------------------------------


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


@functools.cache
def find_blas() -> Blas | None:
    """The gemm routines of numpy's BLAS, or None (not found, or `XLA_MAGIC_BLAS=0`)."""
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
            _KEEP.append(lib)
            addr = lambda f: ctypes.cast(f, ctypes.c_void_p).value
            return Blas(str(path), addr(s), addr(d), bits, nt, f"{prefix}sgemm{suffix}", f"{prefix}dgemm{suffix}")
    return None


# --- dot: geometry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Dim:
    """One logical loop of a dot: extent and the element strides in lhs (a), rhs (b), out (c)."""

    n: int
    sa: int
    sb: int
    sc: int


def _coalesce(dims: list[_Dim], keys: tuple[str, ...] = ("sa", "sb", "sc")) -> list[_Dim]:
    """Neighbouring dims merged where every tensor in `keys` steps over them as over one."""
    out: list[_Dim] = []
    for d in dims:
        if out and all(getattr(out[-1], k) == getattr(d, k) * d.n for k in keys):
            out[-1] = replace(d, n=out[-1].n * d.n)
        else:
            out.append(d)
    return out


@dataclass
class _DotGeom:
    batch: list[_Dim]
    m: list[_Dim]
    n: list[_Dim]
    k: list[_Dim]
    adt: DType
    bdt: DType
    odt: DType
    empty: bool  # the output has no elements
    zero: bool  # the contraction is empty: the output is all zeros

    @property
    def dims(self) -> list[_Dim]:
        return self.batch + self.m + self.n

    def coalesced(self) -> _DotGeom:
        return replace(self, batch=_coalesce(self.batch), m=_coalesce(self.m), n=_coalesce(self.n),
                       k=_coalesce(self.k, ("sa", "sb")))

    def a_flat(self) -> bool:
        """lhs is a strided matrix per batch element: its free dims and its contracting dims
        each merge into one."""
        return len(_coalesce(self.m, ("sa", "sc"))) <= 1 and len(_coalesce(self.k, ("sa",))) <= 1

    def b_flat(self) -> bool:
        return len(_coalesce(self.n, ("sb", "sc"))) <= 1 and len(_coalesce(self.k, ("sb",))) <= 1


def _dot_geometry(instr: Instruction) -> _DotGeom:
    lhs, rhs = instr.operands
    ld, rd, od = lhs.shape.dims, rhs.shape.dims, instr.shape.dims
    ints = lambda key: tuple(int(x) for x in instr.attrs.get(key, ()) or ())
    lb, rb = ints("lhs_batch_dims"), ints("rhs_batch_dims")
    lc, rc = ints("lhs_contracting_dims"), ints("rhs_contracting_dims")
    lf = [d for d in range(len(ld)) if d not in lb and d not in lc]
    rf = [d for d in range(len(rd)) if d not in rb and d not in rc]
    sa, sb, sc = _row_major(ld), _row_major(rd), _row_major(od)
    if len(od) != len(lb) + len(lf) + len(rf):
        raise Unsupported(f"dot '{instr.name}': result rank {len(od)} does not match its dimension numbers")
    batch = [_Dim(ld[x], sa[x], sb[y], sc[i]) for i, (x, y) in enumerate(zip(lb, rb))]
    o = len(lb)
    m = [_Dim(ld[x], sa[x], 0, sc[o + i]) for i, x in enumerate(lf)]
    o += len(lf)
    n = [_Dim(rd[y], 0, sb[y], sc[o + i]) for i, y in enumerate(rf)]
    k = [_Dim(ld[x], sa[x], sb[y], 0) for x, y in zip(lc, rc)]
    empty = any(d.n == 0 for d in batch + m + n)
    zero = not empty and any(d.n == 0 for d in k)
    keep = lambda ds: [d for d in ds if d.n != 1]
    return _DotGeom(keep(batch), keep(m), keep(n), keep(k), lhs.shape.dtype, rhs.shape.dtype,
                    instr.shape.dtype, empty, zero)


def _canonical_a(g: _DotGeom) -> _DotGeom:
    """The geometry after copying lhs into a dense [batch..., M..., K...] buffer."""
    ext = [d.n for d in g.batch + g.m + g.k]
    s = _row_major(ext)
    nb, nm = len(g.batch), len(g.m)
    return replace(g, batch=[replace(d, sa=s[i]) for i, d in enumerate(g.batch)],
                   m=[replace(d, sa=s[nb + i]) for i, d in enumerate(g.m)],
                   k=[replace(d, sa=s[nb + nm + i]) for i, d in enumerate(g.k)])


def _canonical_b(g: _DotGeom) -> _DotGeom:
    """The geometry after copying rhs into a dense [batch..., K..., N...] buffer."""
    ext = [d.n for d in g.batch + g.k + g.n]
    s = _row_major(ext)
    nb, nk = len(g.batch), len(g.k)
    return replace(g, batch=[replace(d, sb=s[i]) for i, d in enumerate(g.batch)],
                   k=[replace(d, sb=s[nb + i]) for i, d in enumerate(g.k)],
                   n=[replace(d, sb=s[nb + nk + i]) for i, d in enumerate(g.n)])


@dataclass(frozen=True)
class _Core:
    """One 2-D product `C[M,N] = A[M,K] @ B[K,N]`, element strides for all three."""

    M: int
    N: int
    K: int
    sa_m: int
    sa_k: int
    sb_k: int
    sb_n: int
    adt: DType
    bdt: DType
    odt: DType
    sc_m: int
    sc_n: int = 1

    @property
    def flops(self) -> int:
        return 2 * self.M * self.N * self.K

    def swapped(self) -> _Core:
        """The same product as C^T = B^T @ A^T (operands swap places)."""
        return _Core(self.N, self.M, self.K, self.sb_n, self.sb_k, self.sa_k, self.sa_m, self.bdt, self.adt,
                     self.odt, self.sc_n, self.sc_m)

    def loops_form(self) -> str:
        """How `_core_loops` computes it: "axpy" (B rows contiguous), "axpy_t" (A columns
        contiguous: swap), "dot" / "dot_t" (a contiguous reduction for a matrix-vector
        product), or "strided" (none of those: slow for large sizes)."""
        if self.N > 1 and self.sb_n == 1:
            return "axpy"
        if self.M > 1 and self.sa_m == 1:
            return "axpy_t"
        if self.N == 1 and (self.sa_k == 1 or self.K == 1):
            return "dot"
        if self.M == 1 and (self.sb_k == 1 or self.K == 1):
            return "dot_t"
        return "strided"


def _core_of(g: _DotGeom) -> _Core:
    one = _Dim(1, 0, 0, 0)
    m, n, k = (g.m or [one])[0], (g.n or [one])[0], (g.k or [one])[0]
    return _Core(m.n, n.n, k.n, m.sa, k.sa, k.sb, n.sb, g.adt, g.bdt, g.odt, n.n)


# --- dot: strategy ---------------------------------------------------------------------------

DOT_STRATEGIES = ("blas", "packed", "loops", "naive")
# Measured on a 2-core Zen 4 (benchmarks/gemm.py): the loops path runs at ~115 GFLOP/s on one
# core from 32^3 up, so BLAS (two threads) pays only for products large in all three dims, and
# packing only once A no longer fits the caches (the loops path streams A once per NB columns).
BLAS_MIN_FLOPS = 2 * 160 ** 3
BLAS_MIN_DIM = 64  # OpenBLAS is slow when N or K is small (512x16x512 and the like)
PACKED_MIN_A_BYTES = 8 << 20
COPY_MIN_FLOPS = 2 * 16 ** 3  # below this, strided naive loops beat copying an operand


def _blas_args(c: _Core) -> tuple[bool, int, bool, int] | None:
    """(transpose A, lda, transpose B, ldb) for a row-major cblas call, or None when an operand
    has no unit stride or C is not dense."""
    def one(rows: int, cols: int, s_row: int, s_col: int):
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


def _blas_for(c: _Core) -> Blas | None:
    blas = find_blas()
    if blas is None or not (c.adt == c.bdt == c.odt) or c.odt.name not in ("f32", "f64"):
        return None
    return blas if _blas_args(c) is not None else None


@dataclass(frozen=True)
class _Plan:
    strategy: str
    copy_a: bool  # lhs is first copied to a dense [batch..., M, K] buffer
    copy_b: bool  # rhs is first copied to a dense [batch..., K, N] buffer
    geom: _DotGeom  # after those copies, dims merged
    core: _Core


def _plan(g: _DotGeom, strategy: str | None) -> _Plan:
    """The strategy (forced or chosen by size) and the operand copies it needs."""
    if strategy is not None and strategy not in DOT_STRATEGIES:
        raise ValueError(f"strategy must be one of {DOT_STRATEGIES}, got {strategy!r}")

    def make(s: str, ca: bool, cb: bool) -> _Plan:
        h = g
        if ca:
            h = _canonical_a(h)
        if cb:
            h = _canonical_b(h)
        h = h.coalesced()
        return _Plan(s, ca, cb, h, _core_of(h))

    if strategy == "naive":
        return make("naive", False, False)
    # Operands whose groups do not each merge into one dim are copied into canonical order.
    p = make(strategy or "loops", not g.a_flat(), not g.b_flat())
    c = p.core
    if strategy is None:
        csize = _bits(_compute(g.odt)[0]) // 8
        if (p.copy_a or p.copy_b) and c.flops < COPY_MIN_FLOPS:
            return make("naive", False, False)
        if (c.flops >= BLAS_MIN_FLOPS and min(c.N, c.K) >= BLAS_MIN_DIM and c.M >= 16
                and _blas_for(c) is not None):
            return replace(p, strategy="blas")
        if c.M * c.K * csize >= PACKED_MIN_A_BYTES and min(c.M, c.N) >= 16:
            return replace(p, strategy="packed")
        strategy = "loops"
    if strategy == "blas" and _blas_for(c) is None:
        strategy = "packed"
    if strategy == "loops" and c.loops_form() == "strided" and c.flops >= COPY_MIN_FLOPS:
        return make("loops", p.copy_a, True)  # B copied: its rows become contiguous
    return replace(p, strategy=strategy)


def dot_strategy(instr: Instruction) -> str:
    """The way `define_dot` computes `instr` by default (one of DOT_STRATEGIES)."""
    g = _dot_geometry(instr)
    if g.empty or g.zero:
        return "naive"
    return _plan(g, None).strategy


# --- dot: emission ---------------------------------------------------------------------------


def define_dot(module: ir.Module, instr: Instruction, name: str, *, strategy: str | None = None) -> ir.Function:
    """`void name(ptr lhs, ptr rhs, ptr out)` computing the HLO dot `instr` (any DotGeneral
    dimension numbers). `strategy` forces one of DOT_STRATEGIES ("blas" falls back to "packed"
    where BLAS cannot take the operands)."""
    g = _dot_geometry(instr)
    _compute(g.odt)
    for dt in (g.adt, g.bdt):
        _mem_type(dt)
    plan = _plan(g, strategy)
    fn, b = _new_function(module, name, 3)
    a_ptr, b_ptr, c_ptr = fn.args
    if g.empty:
        b.ret_void()
        return fn
    if g.zero:
        _memset0(b, c_ptr, math.prod(instr.shape.dims) * g.odt.itemsize)
        b.ret_void()
        return fn
    if plan.strategy == "naive":
        _dot_naive(b, g.coalesced(), a_ptr, b_ptr, c_ptr)
        b.ret_void()
        return fn

    h, core = plan.geom, plan.core
    nbatch = math.prod(d.n for d in h.batch)
    size_a = nbatch * core.M * core.K * g.adt.itemsize if plan.copy_a else 0
    size_b = nbatch * core.K * core.N * g.bdt.itemsize if plan.copy_b else 0
    pk = _packing(core) if plan.strategy == "packed" else None
    need = (size_a + 64) * plan.copy_a + (size_b + 64) * plan.copy_b + (pk.scratch_bytes if pk else 0)
    if not need:
        _dot_batched(b, name, h, core, plan.strategy, pk, a_ptr, b_ptr, c_ptr, None)
        b.ret_void()
        return fn

    mem = _malloc(b, need)
    ok = b.icmp_unsigned("!=", mem, ir.Constant(PTR, None))
    with b.if_else(ok) as (then, otherwise):
        with then:
            cur = mem
            if plan.copy_a:
                a2 = _align_up(b, cur)
                _dot_copy(b, a_ptr, a2, g.adt, g.batch + g.m + g.k, "sa")
                a_ptr, cur = a2, b.gep(a2, [_i64(size_a)], source_etype=I8)
            if plan.copy_b:
                b2 = _align_up(b, cur)
                _dot_copy(b, b_ptr, b2, g.bdt, g.batch + g.k + g.n, "sb")
                b_ptr, cur = b2, b.gep(b2, [_i64(size_b)], source_etype=I8)
            _dot_batched(b, name, h, core, plan.strategy, pk, a_ptr, b_ptr, c_ptr, cur if pk else None)
            _free(b, mem)
        with otherwise:  # out of memory: the loops that need none
            _dot_naive(b, g.coalesced(), fn.args[0], fn.args[1], c_ptr)
    b.ret_void()
    return fn


def _nest(b: ir.IRBuilder, dims: Sequence[tuple[int, Sequence[int]]], offs: Sequence[ir.Value],
          body: Callable[[list[ir.Value]], None], name: str = "d") -> None:
    """Nested loops over `dims` = [(extent, strides per offset)], calling body(offsets)."""
    if not dims:
        body(list(offs))
        return
    (n, strides), rest = dims[0], dims[1:]
    with _loop(b, n, name=f"{name}{len(dims)}") as i:
        _nest(b, rest, [_add(b, o, _mul(b, i, s)) for o, s in zip(offs, strides)], body, name)


def _dot_copy(b: ir.IRBuilder, src: ir.Value, dst: ir.Value, dt: DType, dims: list[_Dim], key: str) -> None:
    """dst (dense, in the order of `dims`) = src (strided by each dim's `key` stride)."""
    mt = _mem_type(dt)
    dense = _row_major([d.n for d in dims])

    def body(o):
        b.store(b.load(_gep(b, src, o[0], mt), typ=mt), _gep(b, dst, o[1], mt))

    _nest(b, [(d.n, (getattr(d, key), s)) for d, s in zip(dims, dense)], [_i64(0), _i64(0)], body, "cp")


def _dot_naive(b: ir.IRBuilder, g: _DotGeom, a_ptr, b_ptr, c_ptr) -> None:
    """One loop per dim, a scalar accumulator per output element; needs no memory."""
    ct, ck = _compute(g.odt)
    acc = _Var(b, ct, _const(ct, 0), "acc")

    def element(o):
        acc.set(_const(ct, 0))

        def term(k):
            x = _load_c(b, a_ptr, k[0], g.adt, ct, ck)
            y = _load_c(b, b_ptr, k[1], g.bdt, ct, ck)
            acc.set(_muladd(b, x, y, acc.get()))

        _nest(b, [(d.n, (d.sa, d.sb)) for d in g.k], o[:2], term, "k")
        _store_c(b, c_ptr, o[2], g.odt, acc.get(), ck)

    _nest(b, [(d.n, (d.sa, d.sb, d.sc)) for d in g.dims], [_i64(0)] * 3, element, "o")


def _dot_batched(b: ir.IRBuilder, name: str, h: _DotGeom, core: _Core, strategy: str,
                 pk: _Packing | None, a_ptr, b_ptr, c_ptr, scratch) -> None:
    """The 2-D core once per batch element (batch dims as outer loops). The BLAS strategy
    falls back to the loops when the kernel cannot find the BLAS at run time."""
    ukernel = _define_ukernel(b.module, f"{name}.ukernel", core, pk) if pk else None

    def batched(core_fn) -> None:
        def one(o):
            pa = _gep(b, a_ptr, o[0], _mem_type(core.adt))
            pb = _gep(b, b_ptr, o[1], _mem_type(core.bdt))
            pc = _gep(b, c_ptr, o[2], _mem_type(core.odt))
            core_fn(pa, pb, pc)

        _nest(b, [(d.n, (d.sa, d.sb, d.sc)) for d in h.batch], [_i64(0)] * 3, one, "b")

    if strategy == "blas":
        blas = find_blas()
        assert blas is not None
        gemm = _blas_gemm(b, blas, F32 if core.odt.name == "f32" else F64)
        found = b.icmp_unsigned("!=", gemm, b.inttoptr(_i64(_UNAVAILABLE), PTR))
        with b.if_else(found, likely=True) as (then, otherwise):
            with then:
                batched(lambda pa, pb, pc: _core_blas(b, core, gemm, pa, pb, pc))
            with otherwise:
                batched(lambda pa, pb, pc: _core_loops(b, core, pa, pb, pc))
    elif strategy == "packed":
        batched(lambda pa, pb, pc: _core_packed(b, core, pk, ukernel, pa, pb, pc, scratch))
    else:
        batched(lambda pa, pb, pc: _core_loops(b, core, pa, pb, pc))


def _cstring(module: ir.Module, text: str) -> ir.GlobalVariable:
    name = "xla_magic.str." + hashlib.sha1(text.encode()).hexdigest()[:16]
    g = module.globals.get(name)
    if g is None:
        data = bytearray(text.encode() + b"\0")
        g = ir.GlobalVariable(module, ir.ArrayType(I8, len(data)), name)
        g.initializer = ir.Constant(g.value_type, data)
        g.global_constant, g.linkage = True, "private"
    return g


_UNAVAILABLE = 1  # the cached "pointer" meaning: looked for the gemm, it is not there


def _blas_gemm(b: ir.IRBuilder, blas: Blas, ft: ir.Type) -> ir.Value:
    """The gemm's address, found by the kernel itself on its first call (dlopen of numpy's
    BLAS, dlsym) and kept in a module global; `_UNAVAILABLE` when not found. Not an address
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
        none = b.inttoptr(_i64(_UNAVAILABLE), PTR)
        found.set(none)
        with b.if_then(b.icmp_unsigned("!=", handle, ir.Constant(PTR, None))):
            f = b.call(dlsym, [handle, _cstring(module, symbol).bitcast(PTR)])
            found.set(b.select(b.icmp_unsigned("==", f, ir.Constant(PTR, None)), none, f))
        # IRBuilder.store_atomic insists on a typed pointer; the instruction itself does not
        b._insert(ir.instructions.StoreAtomicInstr(b.block, found.get(), slot, "monotonic", 8))
    return found.get()


def _core_blas(b: ir.IRBuilder, c: _Core, gemm: ir.Value, pa, pb, pc) -> None:
    blas = find_blas()
    assert blas is not None
    ta, lda, tb, ldb = _blas_args(c)
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


# Rows and vectors of the loops path's register block: LLVM fully unrolls the constant-trip
# inner loop and keeps the LOOP_ROWS x LOOP_VECTORS accumulator vectors in registers.
LOOP_ROWS, LOOP_VECTORS = 4, 6


def _gemm_axpy(b: ir.IRBuilder, M: int | ir.Value, N: int | ir.Value, K: int, sa: tuple[int, int],
               sb: tuple[int, int], sc: tuple[int, int], pa: ir.Value, pb: ir.Value, pc: ir.Value,
               dts: tuple[DType, DType, DType], accumulate: bool = False, m_max: int = 0, n_max: int = 0) -> None:
    """C[M,N] (+)= A[M,K] @ B[K,N], strides sa = (m, k), sb = (k, n), sc = (m, n) in elements.

    Register-blocked axpy form: `acc[4, NB] += A[m0:m0+4, k] * B[k, n0:n0+NB]` over k, NB a few
    vectors wide. With constant trip counts the vectorized inner loop unrolls fully and the
    accumulators live in registers (a micro-kernel the vectorizer builds), so B's rows should be
    contiguous (sb[1] == 1). M and N may be runtime values bounded by m_max and n_max; the
    partial blocks then run with runtime trip counts. `accumulate` adds to C instead of storing."""
    adt, bdt, odt = dts
    ct, ck = _compute(odt)
    vl = max(1, host().vector_bits // _bits(ct))
    vecs = LOOP_VECTORS if host().vector_bits >= 512 else max(2, LOOP_VECTORS // 2)
    nb_ = max(1, min(N if isinstance(N, int) else n_max, vecs * vl))
    m_ = M if isinstance(M, int) else m_max
    if m_ <= 1:
        # vector-matrix: nothing to reuse in registers; stream B's rows in long contiguous runs
        # (the 16 KB accumulator row stays in L1)
        nb_ = max(1, min(N if isinstance(N, int) else n_max, (16 << 10) // (m_ * (_bits(ct) // 8))))
    # narrow blocks take more rows, so that about LOOP_ROWS x LOOP_VECTORS accumulators stay busy
    rows = max(LOOP_ROWS, min(2 * LOOP_ROWS, LOOP_ROWS * vecs // -(-nb_ // vl)))
    mb = max(1, min(rows, M if isinstance(M, int) else m_max))
    acc = _entry_alloca(b, ct, mb * nb_, "acc", align=64)

    def block(m0: ir.Value, mrows: int, n0: ir.Value, nb: int | ir.Value) -> None:
        crows = [_add(b, _mul(b, _add(b, m0, i), sc[0]), _mul(b, n0, sc[1])) for i in range(mrows)]
        if accumulate:
            for i in range(mrows):
                with _loop(b, nb, name="ld") as n:
                    v = _load_c(b, pc, _add(b, crows[i], _mul(b, n, sc[1])), odt, ct, ck)
                    b.store(v, _gep(b, acc, _add(b, n, i * nb_), ct))
        else:
            _memset0(b, acc, mrows * nb_ * (_bits(ct) // 8))
        with _loop(b, K, name="k") as k:
            xs = [_load_c(b, pa, _add(b, _mul(b, _add(b, m0, i), sa[0]), _mul(b, k, sa[1])), adt, ct, ck)
                  for i in range(mrows)]
            brow = _add(b, _mul(b, k, sb[0]), _mul(b, n0, sb[1]))
            with _loop(b, nb, name="n") as n:
                y = _load_c(b, pb, _add(b, brow, _mul(b, n, sb[1])), bdt, ct, ck)
                for i, x in enumerate(xs):
                    p = _gep(b, acc, _add(b, n, i * nb_), ct)
                    b.store(_muladd(b, x, y, b.load(p, typ=ct)), p)
        for i in range(mrows):
            with _loop(b, nb, name="st") as n:
                v = b.load(_gep(b, acc, _add(b, n, i * nb_), ct), typ=ct)
                _store_c(b, pc, _add(b, crows[i], _mul(b, n, sc[1])), odt, v, ck)

    def columns(n0: ir.Value, nb: int | ir.Value) -> None:
        if isinstance(M, int):
            full = M // mb * mb
            if full:
                with _loop(b, full, step=mb, name="m") as m0:
                    block(m0, mb, n0, nb)
            if full < M:
                block(_i64(full), M - full, n0, nb)
            return
        full = b.mul(b.udiv(M, _i64(mb)), _i64(mb))
        with _loop(b, full, step=mb, name="m") as m0:
            block(m0, mb, n0, nb)
        with _loop(b, M, start=full, name="mr") as m0:
            block(m0, 1, n0, nb)

    if isinstance(N, int):
        nfull = N // nb_ * nb_
        with _loop(b, nfull, step=nb_, name="n0") as n0:
            columns(n0, nb_)
        if nfull < N:
            columns(_i64(nfull), N - nfull)
        return
    nfull = b.mul(b.udiv(N, _i64(nb_)), _i64(nb_))
    with _loop(b, nfull, step=nb_, name="n0") as n0:
        columns(n0, nb_)
    # The rest (< NB columns) in blocks of constant power-of-two widths, each taken when its
    # bit is set in the count, so that these too unroll and keep their sums in registers.
    rest = b.sub(N, nfull)
    start = _Var(b, I64, nfull, "n_rest")
    width = 1 << max(0, (nb_ - 1).bit_length() - 1)
    while width >= 2:
        with b.if_then(b.icmp_unsigned("!=", b.and_(rest, _i64(width)), _i64(0))):
            n0 = start.get()
            columns(n0, width)
            start.set(b.add(n0, _i64(width)))
        width //= 2
    with b.if_then(b.icmp_unsigned("!=", b.and_(rest, _i64(1)), _i64(0))):
        columns(start.get(), 1)


def _core_loops(b: ir.IRBuilder, c: _Core, pa, pb, pc) -> None:
    """Products without packing: `_gemm_axpy` when B's rows are contiguous (or A's columns:
    then C^T = B^T A^T is computed); otherwise (matrix-vector products) a dot-product form
    with a reassociable reduction."""
    form = c.loops_form()
    if form in ("axpy_t", "dot_t"):
        c, pa, pb = c.swapped(), pb, pa
    if form in ("axpy", "axpy_t"):
        _gemm_axpy(b, c.M, c.N, c.K, (c.sa_m, c.sa_k), (c.sb_k, c.sb_n), (c.sc_m, c.sc_n), pa, pb, pc,
                   (c.adt, c.bdt, c.odt))
        return
    ct, ck = _compute(c.odt)
    flags = ("reassoc", "contract") if ck == "f" else ()
    acc = _Var(b, ct, _const(ct, 0), "acc")
    with _loop(b, c.M, name="m") as m:
        with _loop(b, c.N, name="n") as n:
            acc.set(_const(ct, 0))
            arow, bcol = _mul(b, m, c.sa_m), _mul(b, n, c.sb_n)
            with _loop(b, c.K, name="k") as k:
                x = _load_c(b, pa, _add(b, arow, _mul(b, k, c.sa_k)), c.adt, ct, ck)
                y = _load_c(b, pb, _add(b, bcol, _mul(b, k, c.sb_k)), c.bdt, ct, ck)
                acc.set(_muladd(b, x, y, acc.get(), flags))
            _store_c(b, pc, _add(b, _mul(b, m, c.sc_m), _mul(b, n, c.sc_n)), c.odt, acc.get(), ck)


# --- dot: packed GEMM (generated) ------------------------------------------------------------


@dataclass(frozen=True)
class _Packing:
    """Register and cache blocking of the generated GEMM (sizes in elements)."""

    vl: int  # vector lanes
    mr: int  # micro-tile rows
    nv: int  # micro-tile vectors per row; NR = nv * vl
    kc: int
    mc: int
    nc: int
    single_pass: bool  # C is written once (its type differs from the accumulator's)
    csize: int  # bytes per accumulator element

    @property
    def nr(self) -> int:
        return self.nv * self.vl

    @property
    def scratch_bytes(self) -> int:
        return (self.mc * self.kc + self.kc * self.nc) * self.csize + 128  # + 2 alignment pads


# Micro-tile shape per vector width in bits: (rows, vectors per row). 2*rows accumulators plus
# the B vectors fit the register file: 32 registers with AVX-512, 16 below.
MICRO_TILE = {512: (12, 2), 256: (6, 2), 128: (6, 2)}
L1_BYTES, L2_BYTES, L3_BYTES = 32 << 10, 512 << 10, 4 << 20  # per core, conservatively


def _balanced(total: int, block: int, multiple: int = 1) -> int:
    """A block size <= `block` (when possible) splitting `total` into equal parts."""
    parts = max(1, -(-total // block))
    size = -(-total // parts)
    return -(-size // multiple) * multiple


def _packing(c: _Core, tile: tuple[int, int] | None = None, kc: int | None = None) -> _Packing:
    ct, ck = _compute(c.odt)
    csize = _bits(ct) // 8
    vbits = host().vector_bits
    vl = max(1, vbits // (8 * csize))
    mr, nv = tile or MICRO_TILE.get(vbits, (6, 2))
    nr = nv * vl
    single = _mem_type(c.odt) != ct or c.odt.kind == "pred"
    if single:  # one pass over K: no partial sums are stored in C
        kc = c.K
    elif kc is None:
        # B micro-panels of KC x NR about twice L1 measured best (Zen 4: 512 for f32, 12 x 32 tiles)
        kc = _balanced(c.K, max(64, 2 * L1_BYTES // (nr * csize) // 8 * 8))
    mc = _balanced(c.M, max(mr, (L2_BYTES // 2) // (kc * csize) // mr * mr), mr)
    nc = _balanced(c.N, max(nr, (L3_BYTES // 2) // (kc * csize) // nr * nr), nr)
    return _Packing(vl, mr, nv, kc, mc, nc, single, csize)


def _define_ukernel(module: ir.Module, name: str, c: _Core, pk: _Packing) -> ir.Function:
    """`void uk(ptr ap, ptr bp, i64 kc, ptr c, i64 mr, i64 nr, i1 accumulate)`: the MR x NR tile
    of C at `c` (leading dimension N) = (accumulate ? C : 0) + Ap @ Bp, Ap a packed MR x kc panel
    (MR values per k), Bp a packed kc x NR panel. Full tiles are stored with vector stores;
    partial tiles (mr < MR or nr < NR) go through a stack tile."""
    ct, ck = _compute(c.odt)
    mr_, nv, vl = pk.mr, pk.nv, pk.vl
    nr_ = nv * vl
    vt = ir.VectorType(ct, vl)
    fn = ir.Function(module, ir.FunctionType(VOID, [PTR, PTR, I64, PTR, I64, I64, I1]), name=name)
    fn.linkage = "internal"
    fn.attributes.add("nounwind")
    for a in fn.args[:2]:
        a.add_attribute("noalias")
    fn.args[3].add_attribute("noalias")
    ap, bp, kc, cp, mr, nr, accumulate = fn.args
    b = _start(fn)
    entry = b.block
    tile = _entry_alloca(b, ct, mr_ * nr_, "tile", align=64)
    head = fn.append_basic_block("k.head")
    body = fn.append_basic_block("k.body")
    done = fn.append_basic_block("k.end")
    b.branch(head)
    b.position_at_end(head)
    p = b.phi(I64, "p")
    p.add_incoming(_i64(0), entry)
    accs = [[b.phi(vt, f"acc{i}_{v}") for v in range(nv)] for i in range(mr_)]
    zero = _const(vt, 0)
    for row in accs:
        for a in row:
            a.add_incoming(zero, entry)
    b.cbranch(b.icmp_signed("<", p, kc), body, done)

    b.position_at_end(body)
    bo = b.mul(p, _i64(nr_))
    bv = [b.load(_gep(b, bp, b.add(bo, _i64(v * vl)), ct), typ=vt, align=min(64, vl * pk.csize)) for v in range(nv)]
    ao = b.mul(p, _i64(mr_))
    undef = ir.Constant(vt, ir.Undefined)
    mask = ir.Constant(ir.VectorType(I32, vl), [ir.Constant(I32, 0)] * vl)
    new = []
    for i in range(mr_):
        x = b.load(_gep(b, ap, b.add(ao, _i64(i)), ct), typ=ct)
        xs = b.shuffle_vector(b.insert_element(undef, x, ir.Constant(I32, 0)), undef, mask)
        new.append([_muladd(b, xs, bv[v], accs[i][v]) for v in range(nv)])
    p1 = b.add(p, _i64(1), flags=("nsw",))
    p.add_incoming(p1, b.block)
    for i in range(mr_):
        for v in range(nv):
            accs[i][v].add_incoming(new[i][v], b.block)
    b.branch(head)

    b.position_at_end(done)
    full = b.and_(b.icmp_signed("==", mr, _i64(mr_)), b.icmp_signed("==", nr, _i64(nr_)))
    with b.if_else(full) as (then, otherwise):
        with then:
            for i in range(mr_):
                for v in range(nv):
                    ptr = _gep(b, cp, i * c.N + v * vl, _mem_type(c.odt))
                    val = accs[i][v]
                    if pk.single_pass:
                        b.store(_to_storage(b, val, ck, c.odt), ptr, align=c.odt.itemsize)
                    else:
                        with b.if_else(accumulate) as (add, first):
                            with add:
                                old = b.load(ptr, typ=vt, align=pk.csize)  # C is only element-aligned
                                b.store(_muladd_add(b, old, val), ptr, align=pk.csize)
                            with first:
                                b.store(val, ptr, align=pk.csize)
        with otherwise:
            for i in range(mr_):
                for v in range(nv):
                    b.store(accs[i][v], _gep(b, tile, i * nr_ + v * vl, ct))
            with _loop(b, mr, name="ti") as i:
                with _loop(b, nr, name="tj") as j:
                    t = b.load(_gep(b, tile, b.add(b.mul(i, _i64(nr_)), j), ct), typ=ct)
                    ci = b.add(b.mul(i, _i64(c.N)), j)
                    if pk.single_pass:
                        _store_c(b, cp, ci, c.odt, t, ck)
                    else:
                        ptr = _gep(b, cp, ci, ct)
                        old = b.load(ptr, typ=ct)
                        b.store(b.select(accumulate, _muladd_add(b, old, t), t), ptr)
    b.ret_void()
    return fn


def _muladd_add(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> ir.Value:
    return b.fadd(x, y) if _is_float(x.type) else b.add(x, y)


def _core_packed(b: ir.IRBuilder, c: _Core, pk: _Packing, ukernel: ir.Function, pa, pb, pc, scratch) -> None:
    """BLIS loop order: jc (NC) > pc (KC) > pack B > ic (MC) > pack A > jr (NR) > ir (MR)."""
    ct, ck = _compute(c.odt)
    ap = _align_up(b, scratch)
    bp = _align_up(b, _gep(b, ap, pk.mc * pk.kc, ct))
    mr, nr = pk.mr, pk.nr
    zero = _const(ct, 0)
    with _loop(b, c.N, step=pk.nc, name="jc") as jc:
        nc = _min(b, pk.nc, b.sub(_i64(c.N), jc))
        with _loop(b, c.K, step=pk.kc, name="pc") as p0:
            kc = _min(b, pk.kc, b.sub(_i64(c.K), p0))
            # pack B[p0:p0+kc, jc:jc+nc] into NR-wide panels (p-major within a panel), zero-padded
            with _loop(b, nc, step=nr, name="pbj") as jr:
                cols = _min(b, nr, b.sub(nc, jr))
                dst = _gep(b, bp, b.mul(jr, kc), ct)
                col0 = b.add(jc, jr)
                if c.sb_n == 1 or c.N == 1:
                    with _loop(b, kc, name="pbp") as p:
                        src = b.add(_mul(b, b.add(p0, p), c.sb_k), col0)
                        drow = b.mul(p, _i64(nr))
                        with _loop(b, cols, name="pbc") as j:
                            b.store(_load_c(b, pb, b.add(src, j), c.bdt, ct, ck), _gep(b, dst, b.add(drow, j), ct))
                        with _loop(b, nr, start=cols, name="pbz") as j:
                            b.store(zero, _gep(b, dst, b.add(drow, j), ct))
                else:
                    with _loop(b, cols, name="pbc") as j:
                        src = _mul(b, b.add(col0, j), c.sb_n)
                        with _loop(b, kc, name="pbp") as p:
                            v = _load_c(b, pb, b.add(src, _mul(b, b.add(p0, p), c.sb_k)), c.bdt, ct, ck)
                            b.store(v, _gep(b, dst, b.add(b.mul(p, _i64(nr)), j), ct))
                    with _loop(b, kc, name="pbzp") as p:
                        with _loop(b, nr, start=cols, name="pbz") as j:
                            b.store(zero, _gep(b, dst, b.add(b.mul(p, _i64(nr)), j), ct))
            with _loop(b, c.M, step=pk.mc, name="ic") as ic:
                mc = _min(b, pk.mc, b.sub(_i64(c.M), ic))
                # pack A[ic:ic+mc, p0:p0+kc] into MR-tall panels (MR values per k), zero-padded
                with _loop(b, mc, step=mr, name="pai") as ir_:
                    rows = _min(b, mr, b.sub(mc, ir_))
                    dst = _gep(b, ap, b.mul(ir_, kc), ct)
                    row0 = b.add(ic, ir_)
                    if c.sa_k == 1 or c.K == 1 or c.sa_m != 1:
                        with _loop(b, rows, name="pai2") as i:
                            src = _add(b, _mul(b, b.add(row0, i), c.sa_m), _mul(b, p0, c.sa_k))
                            with _loop(b, kc, name="pap") as p:
                                v = _load_c(b, pa, b.add(src, _mul(b, p, c.sa_k)), c.adt, ct, ck)
                                b.store(v, _gep(b, dst, b.add(b.mul(p, _i64(mr)), i), ct))
                    else:
                        with _loop(b, kc, name="pap") as p:
                            src = b.add(row0, _mul(b, b.add(p0, p), c.sa_k))
                            drow = b.mul(p, _i64(mr))
                            with _loop(b, rows, name="pai2") as i:
                                v = _load_c(b, pa, b.add(src, i), c.adt, ct, ck)
                                b.store(v, _gep(b, dst, b.add(drow, i), ct))
                    with _loop(b, kc, name="pazp") as p:
                        with _loop(b, mr, start=rows, name="paz") as i:
                            b.store(zero, _gep(b, dst, b.add(b.mul(p, _i64(mr)), i), ct))
                accumulate = b.icmp_signed("!=", p0, _i64(0))
                with _loop(b, nc, step=nr, name="jr") as jr:
                    nrr = _min(b, nr, b.sub(nc, jr))
                    bpanel = _gep(b, bp, b.mul(jr, kc), ct)
                    with _loop(b, mc, step=mr, name="ir") as ir_:
                        mrr = _min(b, mr, b.sub(mc, ir_))
                        apanel = _gep(b, ap, b.mul(ir_, kc), ct)
                        cofs = b.add(b.mul(b.add(ic, ir_), _i64(c.N)), b.add(jc, jr))
                        b.call(ukernel, [apanel, bpanel, kc, _gep(b, pc, cofs, _mem_type(c.odt)), mrr, nrr, accumulate])


# --- convolution -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spatial:
    """One spatial dim of a convolution: output extent/stride, input extent/stride, kernel
    extent/stride and the window's parameters."""

    s: int
    sc: int
    d: int
    sx: int
    w: int
    sw: int
    win: WindowDim

    @property
    def dilated(self) -> int:
        """Extent of the lhs-dilated input (positions beyond are padding)."""
        return (self.d - 1) * self.win.base_dilation + 1 if self.d > 0 else 0


CONV_GEMM_MIN_FEATURES = 8
CONV_CHUNK = 1024  # accumulator row of the direct loops, in elements


def _conv_as_gemms(b: ir.IRBuilder, sp: list[_Spatial], batch: tuple[int, int, int], feat: tuple[int, int, int],
                   red: tuple[int, int, int], dts: tuple[DType, DType, DType], x_ptr, w_ptr, o_ptr,
                   out_bytes: int) -> bool:
    """An ungrouped convolution as a sum of small GEMMs accumulated into the zeroed output: for
    each output position outside one "pixel" dim P (the batch or a spatial dim) and each
    kernel position, `out[P range, :] += x[P range, :] @ w[:, :]` over input features, with P's
    range limited to the windows that hit the input. Emits nothing and returns False when no
    pixel dim gives `_gemm_axpy` contiguous rows to stream (x along P, or w along features)."""
    n_out, sx_n, sc_n = batch
    n_feat, sw_o, sc_o = feat
    cg, sx_c, sw_i = red
    # (key, extent, x step, out step); spatial keys are ints; lhs dilation makes x not affine in P
    cands = [("n", n_out, sx_n, sc_n)] + [(j, s.s, s.win.stride * s.sx, s.sc) for j, s in enumerate(sp)
                                          if s.win.base_dilation == 1]
    best = None
    for key, ext, xstep, ostep in cands:
        if xstep == 1 or sw_o == 1:
            score = (ext > 1, xstep == 1 and n_feat > 1, ext)
            if best is None or score > best[0]:
                best = (score, key, ext, xstep, ostep)
    if best is None:
        return False
    _, pkey, pext, xstep, ostep = best
    pixels_as_n = xstep == 1 and (sw_o != 1 or n_feat < pext)
    _memset0(b, o_ptr, out_bytes)

    def gemm(count: int | ir.Value, x0, w0, o0) -> None:
        pa, pb, pc = _gep(b, x_ptr, x0, _mem_type(dts[0])), _gep(b, w_ptr, w0, _mem_type(dts[1])), o0
        pc = _gep(b, o_ptr, o0, _mem_type(dts[2]))
        if pixels_as_n:  # out[f, p] += w^T[f, c] @ x[c, p]
            _gemm_axpy(b, n_feat, count, cg, (sw_o, sw_i), (sx_c, xstep), (sc_o, ostep), pb, pa, pc,
                       (dts[1], dts[0], dts[2]), accumulate=True, n_max=pext)
        else:  # out[p, f] += x[p, c] @ w[c, f]
            _gemm_axpy(b, count, n_feat, cg, (xstep, sx_c), (sw_i, sw_o), (ostep, sc_o), pa, pb, pc, dts,
                       accumulate=True, m_max=pext)

    outer = ([] if pkey == "n" else ["n"]) + [j for j in range(len(sp)) if j != pkey]

    def positions(i: int, x0, w0, o0) -> None:
        """Loops over the output position outside P, then over kernel positions."""
        if i < len(outer):
            key = outer[i]
            if key == "n":
                with _loop(b, n_out, name="cn") as v:
                    positions(i + 1, _add(b, x0, _mul(b, v, sx_n)), w0, _add(b, o0, _mul(b, v, sc_n)))
                return
            s = sp[key]
            wd = s.win
            with _loop(b, s.s, name=f"cs{key}") as v:
                base = b.sub(_mul(b, v, wd.stride), _i64(wd.pad_lo))
                k_lo = _max(b, 0, _ceildiv(b, b.sub(_i64(0), base), wd.window_dilation))
                k_hi = _min(b, s.w, b.add(_floordiv(b, b.sub(_i64(s.dilated - 1), base), wd.window_dilation), _i64(1)))
                with _loop(b, k_hi, start=k_lo, name=f"ck{key}") as k:
                    pos = b.add(base, _mul(b, k, wd.window_dilation))
                    kw = b.sub(_i64(s.w - 1), k) if wd.reversal else k
                    w1, o1 = _add(b, w0, _mul(b, kw, s.sw)), _add(b, o0, _mul(b, v, s.sc))
                    if wd.base_dilation == 1:
                        positions(i + 1, _add(b, x0, _mul(b, pos, s.sx)), w1, o1)
                    else:
                        with b.if_then(b.icmp_signed("==", b.srem(pos, _i64(wd.base_dilation)), _i64(0))):
                            q = b.sdiv(pos, _i64(wd.base_dilation))
                            positions(i + 1, _add(b, x0, _mul(b, q, s.sx)), w1, o1)
            return
        if pkey == "n":
            gemm(n_out, x0, w0, o0)
            return
        s = sp[pkey]
        wd = s.win
        with _loop(b, s.w, name="ckp") as k:
            kw = b.sub(_i64(s.w - 1), k) if wd.reversal else k
            off = b.sub(_mul(b, k, wd.window_dilation), _i64(wd.pad_lo))
            # output positions t whose window position t*stride + off lies in [0, extent)
            t_lo = _max(b, 0, _ceildiv(b, b.sub(_i64(0), off), wd.stride))
            t_hi = _min(b, s.s, b.add(_floordiv(b, b.sub(_i64(s.dilated - 1), off), wd.stride), _i64(1)))
            with b.if_then(b.icmp_signed("<", t_lo, t_hi)):
                x1 = _add(b, x0, _mul(b, b.add(_mul(b, t_lo, wd.stride), off), s.sx))
                gemm(b.sub(t_hi, t_lo), x1, _add(b, w0, _mul(b, kw, s.sw)), _add(b, o0, _mul(b, t_lo, s.sc)))

    positions(0, _i64(0), _i64(0), _i64(0))
    return True


def define_convolution(module: ir.Module, instr: Instruction, name: str, *, conv_strategy: str | None = None
                       ) -> ir.Function:
    """`void name(ptr lhs, ptr rhs, ptr out)` computing the HLO convolution `instr`: any
    dim_labels, window stride/padding (negative too)/lhs and rhs dilation/reversal,
    feature_group_count and batch_group_count.

    Two ways (`conv_strategy` forces one; by default the first where it applies):
    - "gemm": ungrouped convolutions with >= CONV_GEMM_MIN_FEATURES input features and f32/f64/
      integer results: a sum of small register-blocked GEMMs (`_conv_as_gemms`);
    - "direct": per output line along the output's most contiguous dim (the "inner" dim), a
      stack accumulator row is zeroed, every (input feature, kernel position) pair adds one
      vectorizable axpy into it, and the row is converted and stored once.
    Both skip kernel positions whose window falls into padding by computing each loop's valid
    range, so no index is ever clamped or checked per element (lhs dilation excepted)."""
    lhs, rhs = instr.operands
    dl = instr.attrs.get("dim_labels")
    if dl is None:
        raise Unsupported(f"convolution '{instr.name}' has no dim_labels")
    xd, kd, od = lhs.shape.dims, rhs.shape.dims, instr.shape.dims
    xs, ks, os_ = _row_major(xd), _row_major(kd), _row_major(od)
    nsp = len(dl.input_spatial)
    win = instr.attrs.get("window")
    wdims = tuple(win.dims) if win is not None and win.dims else tuple(WindowDim(kd[d]) for d in dl.kernel_spatial)
    fg = int(instr.attrs.get("feature_group_count", 1) or 1)
    bg = int(instr.attrs.get("batch_group_count", 1) or 1)
    adt, bdt, odt = lhs.shape.dtype, rhs.shape.dtype, instr.shape.dtype
    ct, ck = _compute(odt)
    for dt in (adt, bdt):
        _mem_type(dt)  # refuses element types without a storage type here
    fn, b = _new_function(module, name, 3)
    x_ptr, w_ptr, o_ptr = fn.args
    if math.prod(od) == 0:
        b.ret_void()
        return fn

    sp = [_Spatial(od[dl.output_spatial[j]], os_[dl.output_spatial[j]], xd[dl.input_spatial[j]],
                   xs[dl.input_spatial[j]], kd[dl.kernel_spatial[j]], ks[dl.kernel_spatial[j]], wdims[j])
          for j in range(nsp)]
    n_out, O = od[dl.output_batch], od[dl.output_feature]
    sc_n, sc_o = os_[dl.output_batch], os_[dl.output_feature]
    sx_n, sx_c = xs[dl.input_batch], xs[dl.input_feature]
    cg, sw_i, sw_o = kd[dl.kernel_input_feature], ks[dl.kernel_input_feature], ks[dl.kernel_output_feature]
    G = fg * bg
    og = O // G
    if conv_strategy not in (None, "gemm", "direct"):
        raise ValueError(f"conv_strategy must be None, 'gemm' or 'direct', got {conv_strategy!r}")
    # GEMMs pay for their accumulator loads and stores once there are enough input features.
    gemm_ok = G == 1 and cg > 0 and _mem_type(odt) == ct and odt.kind != "pred"
    if gemm_ok and (conv_strategy == "gemm" or (conv_strategy is None and cg >= CONV_GEMM_MIN_FEATURES)):
        if _conv_as_gemms(b, sp, (n_out, sx_n, sc_n), (O, sw_o, sc_o), (cg, sx_c, sw_i), (adt, bdt, odt),
                          x_ptr, w_ptr, o_ptr, math.prod(od) * odt.itemsize):
            b.ret_void()
            return fn
    # How the group index moves through the input: batch groups pick input batches, feature
    # groups pick input features.
    gx = n_out * sx_n if bg > 1 else cg * sx_c if fg > 1 else 0

    # Output index dims: (key, extent, out stride, x step, w step). Spatial dims are keyed by j.
    odims: list[tuple[object, int, int, int, int]] = [("g", G, og * sc_o, gx, og * sw_o), ("p", og, sc_o, 0, sw_o),
                                                      ("n", n_out, sc_n, sx_n, 0)]
    odims += [(j, s.s, s.sc, 0, 0) for j, s in enumerate(sp)]
    cand = [d for d in odims if d[1] > 1]
    inner = min(cand, key=lambda d: d[2]) if cand else odims[1]
    outer = sorted((d for d in odims if d is not inner), key=lambda d: -d[2])
    ikey, iext = inner[0], inner[1]
    T = min(iext, CONV_CHUNK)
    acc = _entry_alloca(b, ct, T, "acc", align=64)
    csize = _bits(ct) // 8
    # Reduction dims, the one walking the input most contiguously innermost.
    red = sorted([("c", sx_c)] + [(("k", j), s.sx) for j, s in enumerate(sp)], key=lambda r: -r[1])

    def outer_loops(i: int, iv: dict) -> None:
        if i < len(outer):
            key, ext = outer[i][0], outer[i][1]
            with _loop(b, ext, name=f"o{key}") as v:
                outer_loops(i + 1, {**iv, key: v})
            return
        with _loop(b, iext, step=T, name="t0") as t0:
            te = _min(b, T, b.sub(_i64(iext), t0))
            _memset0(b, acc, b.mul(te, _i64(csize)))
            ivs = {**iv, ikey: t0}  # the inner dim's offsets start at the chunk's first index
            x0, w0, out0 = _i64(0), _i64(0), _i64(0)
            for key, _, sc, sx, sw in odims:
                out0 = _add(b, out0, _mul(b, ivs[key], sc))
                if not isinstance(key, int):  # spatial dims reach x through the kernel loops
                    x0 = _add(b, x0, _mul(b, ivs[key], sx))
                    w0 = _add(b, w0, _mul(b, ivs[key], sw))
            reduce_loops(0, ivs, t0, te, x0, w0)
            ostep = inner[2]
            with _loop(b, te, name="st") as t:
                v = b.load(_gep(b, acc, t, ct), typ=ct)
                _store_c(b, o_ptr, _add(b, out0, _mul(b, t, ostep)), odt, v, ck)

    def reduce_loops(i: int, ivs: dict, t0, te, x0, w0) -> None:
        if i < len(red):
            key = red[i][0]
            if key == "c":
                with _loop(b, cg, name="ci") as ci:
                    reduce_loops(i + 1, ivs, t0, te, _add(b, x0, _mul(b, ci, sx_c)), _add(b, w0, _mul(b, ci, sw_i)))
                return
            j = key[1]
            s = sp[j]
            wd = s.win
            if j == ikey:  # the inner spatial dim: all kernel positions, the t range follows
                with _loop(b, s.w, name=f"k{j}") as k:
                    kw = b.sub(_i64(s.w - 1), k) if wd.reversal else k
                    reduce_loops(i + 1, {**ivs, ("k", j): k}, t0, te, x0, _add(b, w0, _mul(b, kw, s.sw)))
                return
            # pos = s*stride + k*rhs_dilate - pad_lo must lie in [0, dilated): k's valid range
            base = b.sub(_mul(b, ivs[j], wd.stride), _i64(wd.pad_lo))
            k_lo = _max(b, 0, _ceildiv(b, b.sub(_i64(0), base), wd.window_dilation))
            k_hi = _min(b, s.w, b.add(_floordiv(b, b.sub(_i64(s.dilated - 1), base), wd.window_dilation), _i64(1)))
            with _loop(b, k_hi, start=k_lo, name=f"k{j}") as k:
                pos = b.add(base, _mul(b, k, wd.window_dilation))
                kw = b.sub(_i64(s.w - 1), k) if wd.reversal else k
                w1 = _add(b, w0, _mul(b, kw, s.sw))
                if wd.base_dilation == 1:
                    reduce_loops(i + 1, ivs, t0, te, _add(b, x0, _mul(b, pos, s.sx)), w1)
                else:
                    hit = b.icmp_signed("==", b.srem(pos, _i64(wd.base_dilation)), _i64(0))
                    with b.if_then(hit):
                        q = b.sdiv(pos, _i64(wd.base_dilation))
                        reduce_loops(i + 1, ivs, t0, te, _add(b, x0, _mul(b, q, s.sx)), w1)
            return
        innermost(ivs, t0, te, x0, w0)

    def innermost(ivs: dict, t0, te, x0, w0) -> None:
        """acc[t] += x * w for t in the chunk, x and w affine in t (or invariant)."""
        if isinstance(ikey, int):
            s = sp[ikey]
            wd = s.win
            off = b.sub(_mul(b, ivs[("k", ikey)], wd.window_dilation), _i64(wd.pad_lo))
            # (t0 + t)*stride + off in [0, dilated)
            t_lo = _max(b, 0, b.sub(_ceildiv(b, b.sub(_i64(0), off), wd.stride), t0))
            t_hi = _min(b, te, b.sub(b.add(_floordiv(b, b.sub(_i64(s.dilated - 1), off), wd.stride), _i64(1)), t0))
            wv = _load_c(b, w_ptr, w0, bdt, ct, ck)
            pos0 = b.add(_mul(b, t0, wd.stride), off)
            with _loop(b, t_hi, start=t_lo, name="t") as t:
                pos = b.add(pos0, _mul(b, t, wd.stride))
                if wd.base_dilation == 1:
                    xv = _load_c(b, x_ptr, _add(b, x0, _mul(b, pos, s.sx)), adt, ct, ck)
                else:
                    q = b.udiv(pos, _i64(wd.base_dilation))
                    hit = b.icmp_unsigned("==", b.urem(pos, _i64(wd.base_dilation)), _i64(0))
                    xv = _load_c(b, x_ptr, _add(b, x0, _mul(b, q, s.sx)), adt, ct, ck)
                    xv = b.select(hit, xv, _const(ct, 0))
                p = _gep(b, acc, t, ct)
                b.store(_muladd(b, xv, wv, b.load(p, typ=ct)), p)
            return
        xstep, wstep = inner[3], inner[4]
        xv = _load_c(b, x_ptr, x0, adt, ct, ck) if xstep == 0 else None
        wv = _load_c(b, w_ptr, w0, bdt, ct, ck) if wstep == 0 else None
        with _loop(b, te, name="t") as t:
            xt = xv if xv is not None else _load_c(b, x_ptr, _add(b, x0, _mul(b, t, xstep)), adt, ct, ck)
            wt = wv if wv is not None else _load_c(b, w_ptr, _add(b, w0, _mul(b, t, wstep)), bdt, ct, ck)
            p = _gep(b, acc, t, ct)
            b.store(_muladd(b, xt, wt, b.load(p, typ=ct)), p)

    outer_loops(0, {})
    b.ret_void()
    return fn


# --- sort ------------------------------------------------------------------------------------

RUN = 16  # runs sorted by insertion before merging
STACK_SCRATCH = 32 << 10  # bytes of sort scratch taken from the stack rather than malloc


class _Rows:
    """N parallel arrays (one per sorted operand) addressed as element `i` of each; `stride` in
    elements (scratch rows are dense, rows of the caller's buffers may be strided)."""

    def __init__(self, b: ir.IRBuilder, bases: list[ir.Value], types: list[ir.Type], stride: int = 1):
        self.b, self.bases, self.types, self.stride = b, bases, types, stride

    def ptrs(self, i: ir.Value) -> list[ir.Value]:
        return [_gep(self.b, p, _mul(self.b, i, self.stride), t) for p, t in zip(self.bases, self.types)]

    def load(self, i) -> list[ir.Value]:
        return [self.b.load(p, typ=t) for p, t in zip(self.ptrs(_v(i)), self.types)]

    def store(self, i, vals: list[ir.Value]) -> None:
        for p, v in zip(self.ptrs(_v(i)), vals):
            self.b.store(v, p)

    def move(self, dst: _Rows, i, j) -> None:
        dst.store(j, self.load(i))


def _less(b: ir.IRBuilder, cmp: ir.Function, lhs: list[ir.Value], rhs: list[ir.Value]) -> ir.Value:
    """comparator(lhs0, rhs0, lhs1, rhs1, ...): XLA's parameter order."""
    args = []
    for x, y in zip(lhs, rhs):
        args += [x, y]
    return b.call(cmp, args)


@contextmanager
def _while(b: ir.IRBuilder, cond: Callable[[], ir.Value], name: str) -> Iterator[None]:
    """`while (cond())`: the body is what the `with` block emits; cond may emit blocks."""
    fn = b.function
    head = fn.append_basic_block(f"{name}.head")
    body = fn.append_basic_block(f"{name}.body")
    end = fn.append_basic_block(f"{name}.end")
    b.branch(head)
    b.position_at_end(head)
    b.cbranch(cond(), body, end)
    b.position_at_end(body)
    yield
    b.branch(head)
    b.position_at_end(end)


def _and_then(b: ir.IRBuilder, first: ir.Value, second: Callable[[], ir.Value]) -> ir.Value:
    """`first && second()` with second evaluated only when first holds (it may read memory)."""
    pre = b.block
    fn = b.function
    rhs = fn.append_basic_block("and.rhs")
    end = fn.append_basic_block("and.end")
    b.cbranch(first, rhs, end)
    b.position_at_end(rhs)
    r = second()
    rhs_end = b.block
    b.branch(end)
    b.position_at_end(end)
    phi = b.phi(I1)
    phi.add_incoming(ir.Constant(I1, 0), pre)
    phi.add_incoming(r, rhs_end)
    return phi


def _insertion_sort(b: ir.IRBuilder, cmp: ir.Function, rows: _Rows, lo, hi, tmp: list[ir.Value]) -> None:
    """Stable insertion sort of rows[lo:hi] (an element moves left past strictly greater ones)."""
    with _loop(b, hi, start=b.add(_v(lo), _i64(1)), name="ins") as t:
        vals = rows.load(t)
        for p, v in zip(tmp, vals):
            b.store(v, p)
        j = _Var(b, I64, t, "j")

        def cond() -> ir.Value:
            jj = j.get()
            return _and_then(b, b.icmp_signed(">", jj, _v(lo)),
                             lambda: _less(b, cmp, tmp, rows.ptrs(b.sub(j.get(), _i64(1)))))

        with _while(b, cond, "shift"):
            jj = j.get()
            jm = b.sub(jj, _i64(1))
            rows.move(rows, jm, jj)
            j.set(jm)
        rows.store(j.get(), [b.load(p, typ=ty) for p, ty in zip(tmp, rows.types)])


def _merge(b: ir.IRBuilder, cmp: ir.Function, src: _Rows, dst: _Rows, lo, mid, hi) -> None:
    """dst[lo:hi] = stable merge of src[lo:mid] and src[mid:hi] (dense rows)."""
    sizes = [_bits(t) // 8 for t in src.types]

    def copy(frm, to, count) -> None:
        for sp_, dp, n in zip(src.ptrs(frm), dst.ptrs(to), sizes):
            _memcpy(b, dp, sp_, b.mul(count, _i64(n)))

    # Already in order (no right run, or its first element is not before the left run's last)?
    pre = b.block
    fn = b.function
    check = fn.append_basic_block("mg.check")
    join = fn.append_basic_block("mg.join")
    b.cbranch(b.icmp_signed(">=", mid, hi), join, check)
    b.position_at_end(check)
    in_order = b.not_(_less(b, cmp, src.ptrs(mid), src.ptrs(b.sub(mid, _i64(1)))))
    check_end = b.block
    b.branch(join)
    b.position_at_end(join)
    ordered = b.phi(I1)
    ordered.add_incoming(ir.Constant(I1, 1), pre)
    ordered.add_incoming(in_order, check_end)
    with b.if_else(ordered) as (then, otherwise):
        with then:
            copy(lo, lo, b.sub(hi, lo))
        with otherwise:
            i, j, o = _Var(b, I64, lo, "mi"), _Var(b, I64, mid, "mj"), _Var(b, I64, lo, "mo")

            def cond() -> ir.Value:
                return b.and_(b.icmp_signed("<", i.get(), mid), b.icmp_signed("<", j.get(), hi))

            with _while(b, cond, "merge"):
                ii, jj, oo = i.get(), j.get(), o.get()
                take_right = _less(b, cmp, src.ptrs(jj), src.ptrs(ii))
                with b.if_else(take_right) as (right, left):
                    with right:
                        src.move(dst, jj, oo)
                        j.set(b.add(jj, _i64(1)))
                    with left:
                        src.move(dst, ii, oo)
                        i.set(b.add(ii, _i64(1)))
                o.set(b.add(oo, _i64(1)))
            ii, jj, oo = i.get(), j.get(), o.get()
            copy(ii, oo, b.sub(mid, ii))
            copy(jj, b.add(oo, b.sub(mid, ii)), b.sub(hi, jj))


def _merge_sort(b: ir.IRBuilder, cmp: ir.Function, a: _Rows, s: _Rows, n: int, tmp: list[ir.Value]) -> _Rows:
    """Stable bottom-up merge sort of a[0:n] with s as the other buffer; returns the sorted one
    (the number of passes is known from n, so which one is static)."""
    with _loop(b, n, step=RUN, name="run") as r0:
        _insertion_sort(b, cmp, a, r0, _min(b, b.add(r0, _i64(RUN)), n), tmp)
    passes = 0
    while RUN << passes < n:
        passes += 1
    if passes == 0:
        return a
    width = _Var(b, I64, RUN, "width")
    parity = _Var(b, I1, ir.Constant(I1, 0), "parity")
    with _while(b, lambda: b.icmp_signed("<", width.get(), _i64(n)), "pass"):
        w = width.get()
        odd = parity.get()
        src = _Rows(b, [b.select(odd, y, x) for x, y in zip(a.bases, s.bases)], a.types)
        dst = _Rows(b, [b.select(odd, x, y) for x, y in zip(a.bases, s.bases)], a.types)
        lo = _Var(b, I64, 0, "lo")
        with _while(b, lambda: b.icmp_signed("<", lo.get(), _i64(n)), "mgl"):
            l0 = lo.get()
            mid = _min(b, b.add(l0, w), n)
            hi = _min(b, b.add(l0, b.mul(w, _i64(2))), n)
            _merge(b, cmp, src, dst, l0, mid, hi)
            lo.set(hi)
        width.set(b.mul(w, _i64(2)))
        parity.set(b.not_(odd))
    return s if passes % 2 else a


@dataclass(frozen=True)
class _SortOperand:
    """One array sorted along: where its rows come from (None = the iota 0, 1, ...), its element
    type in memory, and where its first `keep` sorted elements go."""

    src: ir.Value | None
    ty: ir.Type
    dst: ir.Value


def _row_sorts(b: ir.IRBuilder, cmp: ir.Function, ops: list[_SortOperand], length: int, keep: int,
               outer: int, inner: int, fallback: Callable[[], None]) -> None:
    """For each of outer*inner rows (stride `inner` elements along the sorted dim): gather the
    row of every operand into scratch, merge sort, scatter the first `keep` elements.
    Scratch is 2 rows per operand, on the stack when small, else malloc'd; `fallback()` runs
    when malloc fails."""
    sizes = [_bits(o.ty) // 8 for o in ops]
    slot = [(length * s + 15) // 16 * 16 for s in sizes]
    nbytes = 2 * sum(slot)
    tmp = [_entry_alloca(b, o.ty, 1, f"tmp{i}") for i, o in enumerate(ops)]

    def run(mem: ir.Value) -> None:
        offs = [sum(slot[:i]) for i in range(len(ops))]
        half = sum(slot)
        a = _Rows(b, [b.gep(mem, [_i64(o)], source_etype=I8) for o in offs], [o.ty for o in ops])
        s = _Rows(b, [b.gep(mem, [_i64(half + o)], source_etype=I8) for o in offs], a.types)
        with _loop(b, outer * inner, name="row") as r:
            hi_, lo_ = (b.udiv(r, _i64(inner)), b.urem(r, _i64(inner))) if inner > 1 else (r, _i64(0))
            src_base = b.add(b.mul(hi_, _i64(length * inner)), lo_)
            dst_base = b.add(b.mul(hi_, _i64(keep * inner)), lo_)
            with _loop(b, length, name="gather") as t:
                vals = []
                for o in ops:
                    if o.src is None:
                        vals.append(b.trunc(t, o.ty) if o.ty.width < 64 else t)
                    else:
                        vals.append(b.load(_gep(b, o.src, b.add(src_base, _mul(b, t, inner)), o.ty), typ=o.ty))
                a.store(t, vals)
            res = _merge_sort(b, cmp, a, s, length, tmp)
            out = _Rows(b, [_gep(b, o.dst, dst_base, o.ty) for o in ops], a.types, inner)
            with _loop(b, keep, name="scatter") as t:
                res.move(out, t, t)

    if nbytes <= STACK_SCRATCH:
        run(_entry_alloca(b, I8, nbytes, "scratch", align=16))
        return
    mem = _malloc(b, nbytes)
    with b.if_else(b.icmp_unsigned("!=", mem, ir.Constant(PTR, None))) as (then, otherwise):
        with then:
            run(mem)
            _free(b, mem)
        with otherwise:
            fallback()


def define_sort(module: ir.Module, instr: Instruction, name: str, comparator: ir.Function) -> ir.Function:
    """`void name(ptr in0, .., ptr inN-1, ptr out0, .., ptr outN-1)`: the N operands sorted
    together along `dimensions[0]` by `comparator` (`i1 less(ptr lhs0, ptr rhs0, ptr lhs1, ...)`,
    pointers to scalars). Stable merge sort (insertion-sorted runs of 16, bottom-up merges that
    skip runs already in order); elements are moved as raw bytes, so any element type works."""
    ops = instr.operands
    n = len(ops)
    dims = ops[0].shape.dims
    if any(o.shape.dims != dims for o in ops):
        raise Unsupported(f"sort '{instr.name}': operands of different dimensions")
    dim_attr = instr.attrs.get("dimensions")
    d = int(dim_attr[0]) if dim_attr else len(dims) - 1
    types = [ir.IntType(8 * o.shape.dtype.itemsize) for o in ops]
    fn, b = _new_function(module, name, 2 * n)
    ins, outs = list(fn.args[:n]), list(fn.args[n:])
    total = math.prod(dims)
    if total == 0:
        b.ret_void()
        return fn
    length = dims[d] if dims else 1
    if length <= 1:
        for i, o in enumerate(ops):
            _memcpy(b, outs[i], ins[i], total * o.shape.dtype.itemsize)
        b.ret_void()
        return fn
    outer, inner = math.prod(dims[:d]), math.prod(dims[d + 1:])

    def fallback() -> None:  # no scratch: copy, then insertion sort each row in place (slow)
        for i, o in enumerate(ops):
            _memcpy(b, outs[i], ins[i], total * o.shape.dtype.itemsize)
        tmp = [_entry_alloca(b, t, 1, f"ftmp{i}") for i, t in enumerate(types)]
        with _loop(b, outer * inner, name="frow") as r:
            base = b.add(b.mul(b.udiv(r, _i64(inner)), _i64(length * inner)), b.urem(r, _i64(inner)))
            rows = _Rows(b, [_gep(b, p, base, t) for p, t in zip(outs, types)], types, inner)
            _insertion_sort(b, comparator, rows, _i64(0), _i64(length), tmp)

    _row_sorts(b, comparator, [_SortOperand(i, t, o) for i, t, o in zip(ins, types, outs)], length, length,
               outer, inner, fallback)
    b.ret_void()
    return fn


# --- top-k -----------------------------------------------------------------------------------


def _total_order_less(module: ir.Module, name: str, dt: DType, largest: bool, index_type: ir.Type) -> ir.Function:
    """`i1 less(ptr a, ptr b, ptr ia, ptr ib)` ordering values by XLA's total order
    (-NaN < -inf < .. < -0 < +0 < .. < inf < NaN), descending when `largest`."""
    fn = ir.Function(module, ir.FunctionType(I1, [PTR] * 4), name=name)
    fn.linkage = "internal"
    fn.attributes.add("alwaysinline")
    b = _start(fn)
    it = ir.IntType(8 * dt.itemsize)
    x, y = (b.load(p, typ=it) for p in fn.args[:2])
    if dt.kind == "f":  # negative floats: flip the magnitude bits so signed order is total order
        mag = ir.Constant(it, (1 << (it.width - 1)) - 1)
        x, y = (b.select(b.icmp_signed("<", v, ir.Constant(it, 0)), b.xor(v, mag), v) for v in (x, y))
        signed = True
    else:
        signed = dt.kind == "s"
    cmp = b.icmp_signed if signed else b.icmp_unsigned
    b.ret(cmp(">" if largest else "<", x, y))
    return fn


def define_topk(module: ir.Module, instr: Instruction, name: str,
                comparator: ir.Function | None = None) -> ir.Function:
    """`void name(ptr x, ptr values, ptr indices)` for HLO `topk` (attrs k, largest) or the
    custom-call TopK of optimized dumps: the k first elements of each last-axis row in the
    comparator's order (default: XLA's total order, largest first), ties to the lower index,
    with their positions. Small k keeps a sorted top-k list per row (insertion); larger k merge
    sorts (value, index) rows."""
    (x,) = instr.operands
    vshape, ishape = instr.shape.tuple_shapes[0], instr.shape.tuple_shapes[1]
    k = vshape.dims[-1] if vshape.dims else 1
    dims = x.shape.dims
    length = dims[-1] if dims else 1
    rows = math.prod(dims[:-1])
    vt = ir.IntType(8 * x.shape.dtype.itemsize)
    it = _mem_type(ishape.dtype)
    if comparator is None:
        largest = bool(instr.attrs.get("largest", True))
        comparator = _total_order_less(module, f"{name}.less", x.shape.dtype, largest, it)
    fn, b = _new_function(module, name, 3)
    xp, vp, ip = fn.args
    if rows == 0 or k == 0 or length == 0:
        b.ret_void()
        return fn
    k = min(k, length)

    def insertion() -> None:
        """Per row a sorted list of the best so far in the outputs (no scratch)."""
        tv, ti = _entry_alloca(b, vt, 1, "cand"), _entry_alloca(b, it, 1, "candi")
        with _loop(b, rows, name="row") as r:
            best = _Rows(b, [_gep(b, vp, b.mul(r, _i64(k)), vt), _gep(b, ip, b.mul(r, _i64(k)), it)], [vt, it])
            with _loop(b, length, name="t") as t:
                b.store(b.load(_gep(b, xp, b.add(b.mul(r, _i64(length)), t), vt), typ=vt), tv)
                b.store(b.trunc(t, it) if it.width < 64 else t, ti)
                count = _min(b, t, k)
                full = b.icmp_signed("==", count, _i64(k))
                last = best.ptrs(_i64(k - 1))
                pre = b.block
                chk = b.function.append_basic_block("tk.chk")
                join = b.function.append_basic_block("tk.join")
                b.cbranch(full, chk, join)
                b.position_at_end(chk)
                better = _less(b, comparator, [tv, ti], last)
                chk_end = b.block
                b.branch(join)
                b.position_at_end(join)
                enter = b.phi(I1)
                enter.add_incoming(ir.Constant(I1, 1), pre)
                enter.add_incoming(better, chk_end)
                with b.if_then(enter):
                    j = _Var(b, I64, b.select(full, _i64(k - 1), count), "j")

                    def cond() -> ir.Value:
                        return _and_then(b, b.icmp_signed(">", j.get(), _i64(0)),
                                         lambda: _less(b, comparator, [tv, ti], best.ptrs(b.sub(j.get(), _i64(1)))))

                    with _while(b, cond, "tkshift"):
                        jj = j.get()
                        best.move(best, b.sub(jj, _i64(1)), jj)
                        j.set(b.sub(jj, _i64(1)))
                    best.store(j.get(), [b.load(tv, typ=vt), b.load(ti, typ=it)])

    if k <= 32:
        insertion()
    else:
        _row_sorts(b, comparator, [_SortOperand(xp, vt, vp), _SortOperand(None, it, ip)], length, k, rows, 1,
                   insertion)
    b.ret_void()
    return fn
