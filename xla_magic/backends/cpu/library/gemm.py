"""The `loops` way to compute a 2-D product: register-blocked loops LLVM vectorizes.

Every trip count is constant, so the inner vector loop unrolls fully and a 4 x 96 (f32,
AVX-512) block of C stays in registers while k runs; ~115 GFLOP/s on one Zen 4 core from 32^3
up (OpenBLAS: ~100 on one core). Matrix-vector products stream or use a vectorized reduction.
Convolution runs its GEMMs through `_gemm_axpy` too."""
from __future__ import annotations

from llvmlite import ir

from ..jit import host
from .geometry import Gemm
from .irutil import (
    I64,
    _add,
    _bits,
    _compute,
    _const,
    _entry_alloca,
    _gep,
    _i64,
    _load_c,
    _loop,
    _memset0,
    _mul,
    _muladd,
    _store_c,
    _Var,
)

# Rows and vectors of the loops path's register block: LLVM fully unrolls the constant-trip
# inner loop and keeps the LOOP_ROWS x LOOP_VECTORS accumulator vectors in registers.
LOOP_ROWS, LOOP_VECTORS = 4, 6


def _gemm_axpy(b: ir.IRBuilder, g: Gemm, pa: ir.Value, pb: ir.Value, pc: ir.Value, *, accumulate: bool = False,
               m: ir.Value | None = None, n: ir.Value | None = None) -> None:
    """C[M,N] (+)= A[M,K] @ B[K,N] for the product `g`.

    Register-blocked axpy form: `acc[4, NB] += A[m0:m0+4, k] * B[k, n0:n0+NB]` over k, NB a few
    vectors wide. With constant trip counts the vectorized inner loop unrolls fully and the
    accumulators live in registers (a micro-kernel the vectorizer builds), so B's rows should be
    contiguous (g.sb_n == 1). `m` and `n`, when given, are runtime row and column counts that
    g.M and g.N bound; the partial blocks then run with runtime trip counts. `accumulate` adds
    to C instead of storing."""
    M: int | ir.Value = g.M if m is None else m
    N: int | ir.Value = g.N if n is None else n
    K, sa, sb, sc = g.K, (g.sa_m, g.sa_k), (g.sb_k, g.sb_n), (g.sc_m, g.sc_n)
    adt, bdt, odt = g.adt, g.bdt, g.odt
    ct, ck = _compute(odt)
    vl = max(1, host().vector_bits // _bits(ct))
    vecs = LOOP_VECTORS if host().vector_bits >= 512 else max(2, LOOP_VECTORS // 2)
    nb_ = max(1, min(g.N, vecs * vl))
    if g.M <= 1:
        # vector-matrix: nothing to reuse in registers; stream B's rows in long contiguous runs
        # (the 16 KB accumulator row stays in L1)
        nb_ = max(1, min(g.N, (16 << 10) // (g.M * (_bits(ct) // 8))))
    # narrow blocks take more rows, so that about LOOP_ROWS x LOOP_VECTORS accumulators stay busy
    rows = max(LOOP_ROWS, min(2 * LOOP_ROWS, LOOP_ROWS * vecs // -(-nb_ // vl)))
    mb = max(1, min(rows, g.M))
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


def _core_loops(b: ir.IRBuilder, c: Gemm, pa: ir.Value, pb: ir.Value, pc: ir.Value) -> None:
    """Products without packing: `_gemm_axpy` when B's rows are contiguous (or A's columns:
    then C^T = B^T A^T is computed); otherwise (matrix-vector products) a dot-product form
    with a reassociable reduction."""
    form = c.loops_form()
    if form in ("axpy_t", "dot_t"):
        c, pa, pb = c.swapped(), pb, pa
    if form in ("axpy", "axpy_t"):
        _gemm_axpy(b, c, pa, pb, pc)
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
