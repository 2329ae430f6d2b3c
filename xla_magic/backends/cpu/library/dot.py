"""The dot kernel: `define_dot` picks a strategy by size (or takes the one forced), copies the
operands whose dims do not merge into canonical order, and runs the 2-D product once per batch
element with that strategy.

- `loops`: register-blocked loops LLVM vectorizes (`gemm.py`); the default for all but large
  f32/f64 products;
- `blas`: a call into the BLAS numpy ships (`blas.py`) for large f32/f64 products, falling back
  to the loops when the kernel cannot find it at run time;
- `packed`: BLIS-style generated code (`packed.py`); the default once A outgrows the caches
  without BLAS;
- `naive`: one nested loop per dim with strided loads; needs no memory (the fallback when
  malloc fails, and tiny products with awkward layouts)."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from llvmlite import ir

from ....hlo.dtypes import DType
from ....hlo.ir import Instruction
from . import blas
from .gemm import _core_loops
from .geometry import Dim, DotGeometry
from .irutil import (
    F32,
    F64,
    I8,
    PTR,
    _align_up,
    _bits,
    _compute,
    _const,
    _free,
    _gep,
    _i64,
    _load_c,
    _malloc,
    _mem_type,
    _memset0,
    _muladd,
    _nest,
    _new_function,
    _row_major,
    _store_c,
    _Var,
)
from .packed import _core_packed, _define_ukernel, _Packing, _packing

DOT_STRATEGIES = ("blas", "packed", "loops", "naive")
# Measured on a 2-core Zen 4 (benchmarks/gemm.py): the loops path runs at ~115 GFLOP/s on one
# core from 32^3 up, so BLAS (two threads) pays only for products large in all three dims, and
# packing only once A no longer fits the caches (the loops path streams A once per NB columns).
BLAS_MIN_FLOPS = 2 * 160 ** 3
BLAS_MIN_DIM = 64  # OpenBLAS is slow when N or K is small (512x16x512 and the like)
PACKED_MIN_A_BYTES = 8 << 20
COPY_MIN_FLOPS = 2 * 16 ** 3  # below this, strided naive loops beat copying an operand


def _plan(g: DotGeometry, strategy: str | None) -> tuple[str, DotGeometry]:
    """The strategy (forced or chosen by size) and the geometry it computes on: `g` with the
    operands it needs copied into canonical order, dims merged."""
    if strategy is not None and strategy not in DOT_STRATEGIES:
        raise ValueError(f"strategy must be one of {DOT_STRATEGIES}, got {strategy!r}")
    if strategy == "naive":
        return "naive", g.canonical(False, False)
    # Operands whose groups do not each merge into one dim are copied into canonical order.
    h = g.canonical(not g.a_flat(), not g.b_flat())
    c = h.gemm
    if strategy is None:
        csize = _bits(_compute(g.odt)[0]) // 8
        if (h.copy_a or h.copy_b) and c.flops < COPY_MIN_FLOPS:
            return "naive", g.canonical(False, False)
        if (c.flops >= BLAS_MIN_FLOPS and min(c.N, c.K) >= BLAS_MIN_DIM and c.M >= 16
                and blas.blas_for(c) is not None):
            return "blas", h
        if c.M * c.K * csize >= PACKED_MIN_A_BYTES and min(c.M, c.N) >= 16:
            return "packed", h
        strategy = "loops"
    if strategy == "blas" and blas.blas_for(c) is None:
        strategy = "packed"
    if strategy == "loops" and c.loops_form() == "strided" and c.flops >= COPY_MIN_FLOPS:
        return "loops", g.canonical(h.copy_a, True)  # B copied: its rows become contiguous
    return strategy, h


def dot_strategy(instr: Instruction) -> str:
    """The way `define_dot` computes `instr` by default (one of DOT_STRATEGIES)."""
    g = DotGeometry.of(instr)
    if g.empty or g.zero:
        return "naive"
    return _plan(g, None)[0]


def define_dot(module: ir.Module, instr: Instruction, name: str, *, strategy: str | None = None) -> ir.Function:
    """`void name(ptr lhs, ptr rhs, ptr out)` computing the HLO dot `instr` (any DotGeneral
    dimension numbers). `strategy` forces one of DOT_STRATEGIES ("blas" falls back to "packed"
    where BLAS cannot take the operands)."""
    g = DotGeometry.of(instr)
    _compute(g.odt)
    for dt in (g.adt, g.bdt):
        _mem_type(dt)
    strategy, h = _plan(g, strategy)
    fn, b = _new_function(module, name, 3)
    a_ptr, b_ptr, c_ptr = fn.args
    if g.empty:
        b.ret_void()
        return fn
    if g.zero:
        _memset0(b, c_ptr, math.prod(instr.shape.dims) * g.odt.itemsize)
        b.ret_void()
        return fn
    if strategy == "naive":
        _dot_naive(b, g.coalesced(), a_ptr, b_ptr, c_ptr)
        b.ret_void()
        return fn

    core = h.gemm
    nbatch = math.prod(d.n for d in h.batch)
    size_a = nbatch * core.M * core.K * g.adt.itemsize if h.copy_a else 0
    size_b = nbatch * core.K * core.N * g.bdt.itemsize if h.copy_b else 0
    pk = _packing(core) if strategy == "packed" else None
    need = (size_a + 64) * h.copy_a + (size_b + 64) * h.copy_b + (pk.scratch_bytes if pk else 0)
    if not need:
        _dot_batched(b, name, h, strategy, pk, (a_ptr, b_ptr, c_ptr), None)
        b.ret_void()
        return fn

    mem = _malloc(b, need)
    ok = b.icmp_unsigned("!=", mem, ir.Constant(PTR, None))
    with b.if_else(ok) as (then, otherwise):
        with then:
            cur = mem
            if h.copy_a:
                a2 = _align_up(b, cur)
                _dot_copy(b, a_ptr, a2, g.adt, g.batch + g.m + g.k, "sa")
                a_ptr, cur = a2, b.gep(a2, [_i64(size_a)], source_etype=I8)
            if h.copy_b:
                b2 = _align_up(b, cur)
                _dot_copy(b, b_ptr, b2, g.bdt, g.batch + g.k + g.n, "sb")
                b_ptr, cur = b2, b.gep(b2, [_i64(size_b)], source_etype=I8)
            _dot_batched(b, name, h, strategy, pk, (a_ptr, b_ptr, c_ptr), cur if pk else None)
            _free(b, mem)
        with otherwise:  # out of memory: the loops that need none
            _dot_naive(b, g.coalesced(), fn.args[0], fn.args[1], c_ptr)
    b.ret_void()
    return fn


def _dot_copy(b: ir.IRBuilder, src: ir.Value, dst: ir.Value, dt: DType, dims: Sequence[Dim], key: str) -> None:
    """dst (dense, in the order of `dims`) = src (strided by each dim's `key` stride)."""
    mt = _mem_type(dt)
    dense = _row_major([d.n for d in dims])

    def body(o: list[ir.Value]) -> None:
        b.store(b.load(_gep(b, src, o[0], mt), typ=mt), _gep(b, dst, o[1], mt))

    _nest(b, [(d.n, (getattr(d, key), s)) for d, s in zip(dims, dense)], [_i64(0), _i64(0)], body, "cp")


def _dot_naive(b: ir.IRBuilder, g: DotGeometry, a_ptr: ir.Value, b_ptr: ir.Value, c_ptr: ir.Value) -> None:
    """One loop per dim, a scalar accumulator per output element; needs no memory."""
    ct, ck = _compute(g.odt)
    acc = _Var(b, ct, _const(ct, 0), "acc")

    def element(o: list[ir.Value]) -> None:
        acc.set(_const(ct, 0))

        def term(k: list[ir.Value]) -> None:
            x = _load_c(b, a_ptr, k[0], g.adt, ct, ck)
            y = _load_c(b, b_ptr, k[1], g.bdt, ct, ck)
            acc.set(_muladd(b, x, y, acc.get()))

        _nest(b, [(d.n, (d.sa, d.sb)) for d in g.k], o[:2], term, "k")
        _store_c(b, c_ptr, o[2], g.odt, acc.get(), ck)

    _nest(b, [(d.n, (d.sa, d.sb, d.sc)) for d in g.dims], [_i64(0)] * 3, element, "o")


def _dot_batched(b: ir.IRBuilder, name: str, h: DotGeometry, strategy: str, pk: _Packing | None,
                 ptrs: tuple[ir.Value, ir.Value, ir.Value], scratch: ir.Value | None) -> None:
    """The 2-D product once per batch element (batch dims as outer loops). The BLAS strategy
    falls back to the loops when the kernel cannot find the BLAS at run time."""
    core = h.gemm
    a_ptr, b_ptr, c_ptr = ptrs
    ukernel = _define_ukernel(b.module, f"{name}.ukernel", core, pk) if pk else None

    def batched(core_fn: Callable[[ir.Value, ir.Value, ir.Value], None]) -> None:
        def one(o: list[ir.Value]) -> None:
            pa = _gep(b, a_ptr, o[0], _mem_type(core.adt))
            pb = _gep(b, b_ptr, o[1], _mem_type(core.bdt))
            pc = _gep(b, c_ptr, o[2], _mem_type(core.odt))
            core_fn(pa, pb, pc)

        _nest(b, [(d.n, (d.sa, d.sb, d.sc)) for d in h.batch], [_i64(0)] * 3, one, "b")

    if strategy == "blas":
        found_blas = blas.find_blas()
        assert found_blas is not None
        gemm = blas.gemm_address(b, found_blas, F32 if core.odt.name == "f32" else F64)
        found = b.icmp_unsigned("!=", gemm, b.inttoptr(_i64(blas.UNAVAILABLE), PTR))
        with b.if_else(found, likely=True) as (then, otherwise):
            with then:
                batched(lambda pa, pb, pc: blas.call_gemm(b, core, gemm, pa, pb, pc))
            with otherwise:
                batched(lambda pa, pb, pc: _core_loops(b, core, pa, pb, pc))
    elif strategy == "packed":
        assert pk is not None and ukernel is not None and scratch is not None
        batched(lambda pa, pb, pc: _core_packed(b, core, pk, ukernel, pa, pb, pc, scratch))
    else:
        batched(lambda pa, pb, pc: _core_loops(b, core, pa, pb, pc))
