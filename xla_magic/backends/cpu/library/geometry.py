"""The geometry of a dot, the one description every dot strategy works from.

`DotGeometry.of(instr)` groups the dims as XLA's DotGeneral defines them (batch, lhs free `m`,
rhs free `n`, contracting `k`), each a `Dim` with its element strides in lhs, rhs and out,
size-1 dims dropped. `canonical(copy_a, copy_b)` is the same dot after the operands that need
it are copied into dense canonical order and neighbouring dims merged, so that most dots become
a batch of one strided 2-D product, its `gemm`: `C[M,N] = A[M,K] @ B[K,N]`. Convolution builds
`Gemm`s of its own for the register-blocked loops."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ....hlo.dtypes import DType
from ....hlo.ir import Instruction
from ..irtypes import Unsupported
from .irutil import _dtype, _row_major


@dataclass(frozen=True)
class Dim:
    """One logical loop of a dot: extent and the element strides in lhs (a), rhs (b), out (c)."""

    n: int
    sa: int
    sb: int
    sc: int


def _coalesce(dims: Sequence[Dim], keys: tuple[str, ...] = ("sa", "sb", "sc")) -> tuple[Dim, ...]:
    """Neighbouring dims merged where every tensor in `keys` steps over them as over one."""
    out: list[Dim] = []
    for d in dims:
        if out and all(getattr(out[-1], k) == getattr(d, k) * d.n for k in keys):
            out[-1] = replace(d, n=out[-1].n * d.n)
        else:
            out.append(d)
    return tuple(out)


@dataclass(frozen=True)
class Gemm:
    """One 2-D product `C[M,N] = A[M,K] @ B[K,N]`, element strides for all three."""

    M: int
    N: int
    K: int
    sa_m: int
    sa_k: int
    sb_k: int
    sb_n: int
    sc_m: int
    sc_n: int
    adt: DType
    bdt: DType
    odt: DType

    @property
    def flops(self) -> int:
        return 2 * self.M * self.N * self.K

    def swapped(self) -> Gemm:
        """The same product as C^T = B^T @ A^T (operands swap places)."""
        return Gemm(self.N, self.M, self.K, self.sb_n, self.sb_k, self.sa_k, self.sa_m, self.sc_n, self.sc_m,
                    self.bdt, self.adt, self.odt)

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


_ONE = Dim(1, 0, 0, 0)


@dataclass(frozen=True)
class DotGeometry:
    """A dot as loops over its dim groups, with the element types and which operands have been
    copied into canonical order (their `sa` / `sb` strides are then those of the copy)."""

    batch: tuple[Dim, ...]
    m: tuple[Dim, ...]
    n: tuple[Dim, ...]
    k: tuple[Dim, ...]
    adt: DType
    bdt: DType
    odt: DType
    copy_a: bool = False  # lhs is read from a dense [batch..., M..., K...] copy
    copy_b: bool = False  # rhs is read from a dense [batch..., K..., N...] copy

    @staticmethod
    def of(instr: Instruction) -> DotGeometry:
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
        batch = [Dim(ld[x], sa[x], sb[y], sc[i]) for i, (x, y) in enumerate(zip(lb, rb))]
        o = len(lb)
        m = [Dim(ld[x], sa[x], 0, sc[o + i]) for i, x in enumerate(lf)]
        o += len(lf)
        n = [Dim(rd[y], 0, sb[y], sc[o + i]) for i, y in enumerate(rf)]
        k = [Dim(ld[x], sa[x], sb[y], 0) for x, y in zip(lc, rc)]
        keep = lambda ds: tuple(d for d in ds if d.n != 1)
        return DotGeometry(keep(batch), keep(m), keep(n), keep(k), _dtype(lhs.shape), _dtype(rhs.shape),
                           _dtype(instr.shape))

    @property
    def empty(self) -> bool:
        """The output has no elements."""
        return any(d.n == 0 for d in self.batch + self.m + self.n)

    @property
    def zero(self) -> bool:
        """The contraction is empty: the output is all zeros."""
        return not self.empty and any(d.n == 0 for d in self.k)

    @property
    def dims(self) -> tuple[Dim, ...]:
        return self.batch + self.m + self.n

    def coalesced(self) -> DotGeometry:
        return replace(self, batch=_coalesce(self.batch), m=_coalesce(self.m), n=_coalesce(self.n),
                       k=_coalesce(self.k, ("sa", "sb")))

    def a_flat(self) -> bool:
        """lhs is a strided matrix per batch element: its free dims and its contracting dims
        each merge into one."""
        return len(_coalesce(self.m, ("sa", "sc"))) <= 1 and len(_coalesce(self.k, ("sa",))) <= 1

    def b_flat(self) -> bool:
        return len(_coalesce(self.n, ("sb", "sc"))) <= 1 and len(_coalesce(self.k, ("sb",))) <= 1

    def canonical(self, copy_a: bool, copy_b: bool) -> DotGeometry:
        """The geometry after copying the operands named into canonical order, dims merged."""
        g = self
        if copy_a:
            s = _row_major([d.n for d in g.batch + g.m + g.k])
            nb, nm = len(g.batch), len(g.m)
            g = replace(g, batch=tuple(replace(d, sa=s[i]) for i, d in enumerate(g.batch)),
                        m=tuple(replace(d, sa=s[nb + i]) for i, d in enumerate(g.m)),
                        k=tuple(replace(d, sa=s[nb + nm + i]) for i, d in enumerate(g.k)), copy_a=True)
        if copy_b:
            s = _row_major([d.n for d in g.batch + g.k + g.n])
            nb, nk = len(g.batch), len(g.k)
            g = replace(g, batch=tuple(replace(d, sb=s[i]) for i, d in enumerate(g.batch)),
                        k=tuple(replace(d, sb=s[nb + i]) for i, d in enumerate(g.k)),
                        n=tuple(replace(d, sb=s[nb + nk + i]) for i, d in enumerate(g.n)), copy_b=True)
        return g.coalesced()

    @property
    def gemm(self) -> Gemm:
        """The 2-D product of one batch element (meaningful once the groups have merged: each
        of m, n, k is then at most one dim). C is dense: its row stride is N."""
        m, n, k = (self.m or (_ONE,))[0], (self.n or (_ONE,))[0], (self.k or (_ONE,))[0]
        return Gemm(m.n, n.n, k.n, m.sa, k.sa, k.sb, n.sb, n.n, 1, self.adt, self.bdt, self.odt)
