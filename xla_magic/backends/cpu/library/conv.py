"""The convolution kernel: ungrouped convolutions with enough input features run as small
GEMMs through the register-blocked loops (`gemm._gemm_axpy`); the rest through direct loops
with a vectorized accumulator row."""
from __future__ import annotations

import math
from dataclasses import dataclass

from llvmlite import ir

from ....hlo.attrs import WindowDim
from ....hlo.dtypes import DType
from ....hlo.ir import Instruction
from ..irtypes import Unsupported
from .gemm import _gemm_axpy
from .geometry import Gemm
from .irutil import (
    Index,
    _add,
    _bits,
    _ceildiv,
    _compute,
    _const,
    _dtype,
    _entry_alloca,
    _floordiv,
    _gep,
    _i64,
    _load_c,
    _loop,
    _max,
    _mem_type,
    _memset0,
    _min,
    _mul,
    _muladd,
    _new_function,
    _row_major,
    _store_c,
)


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


@dataclass(frozen=True)
class ConvGeometry:
    """A convolution as loops: its spatial dims, then batch, output features and input features
    (of one group), each with its extent and element strides in the input x, the kernel w and
    the output; the group counts and the element types."""

    spatial: tuple[_Spatial, ...]
    n_out: int  # batch
    sx_n: int
    sc_n: int
    O: int  # output features, all groups
    sw_o: int
    sc_o: int
    cg: int  # input features of one group
    sx_c: int
    sw_i: int
    fg: int  # feature_group_count
    bg: int  # batch_group_count
    adt: DType
    bdt: DType
    odt: DType
    out_elems: int

    @staticmethod
    def of(instr: Instruction) -> ConvGeometry:
        lhs, rhs = instr.operands
        dl = instr.attrs.get("dim_labels")
        if dl is None:
            raise Unsupported(f"convolution '{instr.name}' has no dim_labels")
        xd, kd, od = lhs.shape.dims, rhs.shape.dims, instr.shape.dims
        xs, ks, os_ = _row_major(xd), _row_major(kd), _row_major(od)
        win = instr.attrs.get("window")
        wdims = tuple(win.dims) if win is not None and win.dims else tuple(WindowDim(kd[d]) for d in dl.kernel_spatial)
        sp = tuple(_Spatial(od[dl.output_spatial[j]], os_[dl.output_spatial[j]], xd[dl.input_spatial[j]],
                            xs[dl.input_spatial[j]], kd[dl.kernel_spatial[j]], ks[dl.kernel_spatial[j]], wdims[j])
                   for j in range(len(dl.input_spatial)))
        return ConvGeometry(
            sp, od[dl.output_batch], xs[dl.input_batch], os_[dl.output_batch],
            od[dl.output_feature], ks[dl.kernel_output_feature], os_[dl.output_feature],
            kd[dl.kernel_input_feature], xs[dl.input_feature], ks[dl.kernel_input_feature],
            int(instr.attrs.get("feature_group_count", 1) or 1), int(instr.attrs.get("batch_group_count", 1) or 1),
            _dtype(lhs.shape), _dtype(rhs.shape), _dtype(instr.shape), math.prod(od))


CONV_GEMM_MIN_FEATURES = 8
CONV_CHUNK = 1024  # accumulator row of the direct loops, in elements


def _conv_as_gemms(b: ir.IRBuilder, c: ConvGeometry, x_ptr: ir.Value, w_ptr: ir.Value, o_ptr: ir.Value) -> bool:
    """An ungrouped convolution as a sum of small GEMMs accumulated into the zeroed output: for
    each output position outside one "pixel" dim P (the batch or a spatial dim) and each
    kernel position, `out[P range, :] += x[P range, :] @ w[:, :]` over input features, with P's
    range limited to the windows that hit the input. Emits nothing and returns False when no
    pixel dim gives `_gemm_axpy` contiguous rows to stream (x along P, or w along features)."""
    sp, n_out, sx_n, sc_n = c.spatial, c.n_out, c.sx_n, c.sc_n
    n_feat, sw_o, sc_o = c.O, c.sw_o, c.sc_o
    cg, sx_c, sw_i = c.cg, c.sx_c, c.sw_i
    dts = (c.adt, c.bdt, c.odt)
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
    _memset0(b, o_ptr, c.out_elems * c.odt.itemsize)

    def gemm(count: int | ir.Value, x0: Index, w0: Index, o0: Index) -> None:
        pa, pb = _gep(b, x_ptr, x0, _mem_type(dts[0])), _gep(b, w_ptr, w0, _mem_type(dts[1]))
        pc = _gep(b, o_ptr, o0, _mem_type(dts[2]))
        # a runtime pixel count is bounded by P's extent
        bound, runtime = (count, None) if isinstance(count, int) else (pext, count)
        if pixels_as_n:  # out[f, p] += w^T[f, c] @ x[c, p]
            g = Gemm(n_feat, bound, cg, sw_o, sw_i, sx_c, xstep, sc_o, ostep, dts[1], dts[0], dts[2])
            _gemm_axpy(b, g, pb, pa, pc, accumulate=True, n=runtime)
        else:  # out[p, f] += x[p, c] @ w[c, f]
            g = Gemm(bound, n_feat, cg, xstep, sx_c, sw_i, sw_o, ostep, sc_o, *dts)
            _gemm_axpy(b, g, pa, pb, pc, accumulate=True, m=runtime)

    outer = ([] if pkey == "n" else ["n"]) + [j for j in range(len(sp)) if j != pkey]

    def positions(i: int, x0: Index, w0: Index, o0: Index) -> None:
        """Loops over the output position outside P, then over kernel positions."""
        if i < len(outer):
            key = outer[i]
            if isinstance(key, str):  # "n": the batch dim
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
        if isinstance(pkey, str):  # "n": the batch dim
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
    c = ConvGeometry.of(instr)
    adt, bdt, odt = c.adt, c.bdt, c.odt
    ct, ck = _compute(odt)
    for dt in (adt, bdt):
        _mem_type(dt)  # refuses element types without a storage type here
    fn, b = _new_function(module, name, 3)
    x_ptr, w_ptr, o_ptr = fn.args
    if c.out_elems == 0:
        b.ret_void()
        return fn

    sp, n_out, O, cg, fg, bg = c.spatial, c.n_out, c.O, c.cg, c.fg, c.bg
    sc_n, sc_o, sx_n, sx_c, sw_i, sw_o = c.sc_n, c.sc_o, c.sx_n, c.sx_c, c.sw_i, c.sw_o
    G = fg * bg
    og = O // G
    if conv_strategy not in (None, "gemm", "direct"):
        raise ValueError(f"conv_strategy must be None, 'gemm' or 'direct', got {conv_strategy!r}")
    # GEMMs pay for their accumulator loads and stores once there are enough input features.
    gemm_ok = G == 1 and cg > 0 and _mem_type(odt) == ct and odt.kind != "pred"
    if gemm_ok and (conv_strategy == "gemm" or (conv_strategy is None and cg >= CONV_GEMM_MIN_FEATURES)):
        if _conv_as_gemms(b, c, x_ptr, w_ptr, o_ptr):
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

    def outer_loops(i: int, iv: dict[object, ir.Value]) -> None:
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

    def reduce_loops(i: int, ivs: dict[object, ir.Value], t0: ir.Value, te: ir.Value, x0: Index,
                     w0: Index) -> None:
        if i < len(red):
            key = red[i][0]
            if isinstance(key, str):  # "c": the input features
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

    def innermost(ivs: dict[object, ir.Value], t0: ir.Value, te: ir.Value, x0: Index, w0: Index) -> None:
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
