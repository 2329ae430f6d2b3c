"""CPU library kernels (dot, convolution, sort, top-k) against the reference evaluator.

Each case is a one-instruction HLO module: the kernel is emitted into a fresh LLVM module, JIT
compiled, run on arrays that sit between guard zones (NaN or a byte pattern), and compared with
`xla_magic.interpret`. The guards catch out-of-bounds writes (they must be untouched) and most
out-of-bounds reads (a NaN or a huge value read from them shows in the result)."""
from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest
from llvmlite import ir

import xla_magic as xm
from xla_magic.backends.cpu import library as L
from xla_magic.backends.cpu.callpath import make_caller
from xla_magic.backends.cpu.jit import compile_ir, host

GUARD = 64  # elements of guard zone on each side of every buffer

PTR = ir.PointerType()
I1 = ir.IntType(1)


# --- running a kernel --------------------------------------------------------------------------


def _guarded(shape: tuple[int, ...], dtype: np.dtype, fill=None) -> tuple[np.ndarray, np.ndarray]:
    """(view, backing): a C-contiguous array of `shape` inside a larger buffer whose ends hold a
    guard pattern (NaN for floats, 0xA5 bytes otherwise)."""
    n = math.prod(shape)
    dtype = np.dtype(dtype)
    back = np.empty(n + 2 * GUARD, dtype)
    if dtype.kind == "f" or dtype == np.dtype(ml_dtypes.bfloat16):
        back[:] = np.nan
    else:
        back.view(np.uint8)[:] = 0xA5
    view = back[GUARD:GUARD + n].reshape(shape)
    if fill is not None:
        view[...] = fill
    return view, back


def _guard_intact(back: np.ndarray, label: str) -> None:
    ref = np.empty(GUARD, back.dtype)
    if back.dtype.kind == "f" or back.dtype == np.dtype(ml_dtypes.bfloat16):
        ref[:] = np.nan
    else:
        ref.view(np.uint8)[:] = 0xA5
    for part in (back[:GUARD], back[-GUARD:]):
        assert part.tobytes() == ref.tobytes(), f"{label}: a kernel wrote outside its output buffer"


def run(define, text: str, args: list[np.ndarray], **kw) -> list[np.ndarray]:
    """Emits `define(module, root, "k", **kw)`, runs it on `args` and returns the outputs."""
    m = xm.parse_hlo(text)
    instr = m.entry.root
    mod = ir.Module("test")
    define(mod, instr, "k", **kw)
    jm = compile_ir(mod, ["k"])
    shapes = instr.shape.tuple_shapes if instr.shape.is_tuple else [instr.shape]
    ins = []
    for a in args:
        v, _ = _guarded(a.shape, a.dtype, a)
        ins.append(v)
    outs = [_guarded(tuple(s.dims), s.dtype.np) for s in shapes]
    make_caller(jm.address("k"), len(ins), len(outs), keepalive=jm)([*ins, *(o[0] for o in outs)])
    for i, (_, back) in enumerate(outs):
        _guard_intact(back, f"output {i}")
    return [np.array(o[0]) for o in outs]


def _as_list(r) -> list[np.ndarray]:
    return [np.asarray(x) for x in r] if isinstance(r, tuple) else [np.asarray(r)]


# --- values ------------------------------------------------------------------------------------


def _random(rng: np.random.Generator, shape, dt: str) -> np.ndarray:
    npd = xm.hlo.dtypes.dtype(dt).np
    if dt == "pred":
        return rng.integers(0, 2, shape).astype(np.bool_)
    if dt[0] in "su":
        info = np.iinfo(npd)
        lo, hi = (max(info.min, -100), min(info.max, 100)) if dt in ("s8", "u8", "s16", "u16") else (info.min, info.max)
        return rng.integers(lo, hi, shape, dtype=npd, endpoint=True)
    return rng.uniform(-1, 1, shape).astype(npd)


def _check(got: np.ndarray, ref: np.ndarray, tol: float = 0.0, mag: np.ndarray | None = None, label: str = ""):
    assert got.shape == ref.shape and got.dtype == ref.dtype, label
    if tol == 0.0:
        assert np.array_equal(got, ref, equal_nan=got.dtype.kind == "f"), f"{label}: {got} != {ref}"
        return
    g, r = got.astype(np.float64), ref.astype(np.float64)
    bound = tol * (np.abs(r) if mag is None else mag) + 1e-30
    bad = ~(np.abs(g - r) <= bound) & ~(np.isnan(g) & np.isnan(r))
    assert not bad.any(), f"{label}: {int(bad.sum())}/{g.size} differ; worst {np.abs(g - r)[bad].max()}"


# --- dot ---------------------------------------------------------------------------------------


def _dot_text(ld, rd, od, lb, rb, lc, rc, dts) -> str:
    a, b, o = dts
    s = lambda dt, d: f"{dt}[{','.join(map(str, d))}]"
    attrs = []
    if lb:
        attrs.append(f"lhs_batch_dims={{{','.join(map(str, lb))}}}, rhs_batch_dims={{{','.join(map(str, rb))}}}")
    attrs.append(f"lhs_contracting_dims={{{','.join(map(str, lc))}}}, "
                 f"rhs_contracting_dims={{{','.join(map(str, rc))}}}")
    return (f"HloModule m\nENTRY e {{\n  a = {s(a, ld)} parameter(0)\n  b = {s(b, rd)} parameter(1)\n"
            f"  ROOT d = {s(o, od)} dot(a, b), {', '.join(attrs)}\n}}\n")


def _random_dot(rng: np.random.Generator, sizes=(1, 2, 3, 5, 8, 13, 17, 31), n_dims=(0, 1, 2)):
    """Random DotGeneral dimension numbers: batch, free and contracting dims anywhere."""
    nb, nm, nn, nk = (int(rng.choice(n_dims)) for _ in range(4))
    ext = lambda n: [int(rng.choice(sizes)) for _ in range(n)]
    be, me, ne, ke = ext(nb), ext(nm), ext(nn), ext(nk)
    lroles = [("b", i) for i in range(nb)] + [("m", i) for i in range(nm)] + [("k", i) for i in range(nk)]
    rroles = [("b", i) for i in range(nb)] + [("n", i) for i in range(nn)] + [("k", i) for i in range(nk)]
    lroles = [lroles[i] for i in rng.permutation(len(lroles))]
    rroles = [rroles[i] for i in rng.permutation(len(rroles))]
    size = {"b": be, "m": me, "n": ne, "k": ke}
    ld = [size[r][i] for r, i in lroles]
    rd = [size[r][i] for r, i in rroles]
    lb = [lroles.index(("b", i)) for i in range(nb)]
    rb = [rroles.index(("b", i)) for i in range(nb)]
    lc = [lroles.index(("k", i)) for i in range(nk)]
    rc = [rroles.index(("k", i)) for i in range(nk)]
    od = be + [ld[p] for p, (r, _) in enumerate(lroles) if r == "m"] + [rd[p] for p, (r, _) in enumerate(rroles)
                                                                         if r == "n"]
    return ld, rd, od, lb, rb, lc, rc


_FLOAT_TOL = {"f32": 2e-6, "f64": 1e-14}
_NARROW = {"f16": 2.0 ** -10, "bf16": 2.0 ** -7}


def _check_dot(text: str, args, dts, strategy: str | None, label: str = "") -> None:
    (got,) = run(L.define_dot, text, args, strategy=strategy)
    (ref,) = _as_list(xm.interpret(text, *args))
    o = dts[2]
    if o in _FLOAT_TOL or o in _NARROW:
        # the error bound of a K-term sum: eps * K * sum|a||b|, plus one rounding to a narrow type
        instr = xm.parse_hlo(text).entry.root
        k = math.prod(instr.operands[0].shape.dims[d] for d in instr.attrs["lhs_contracting_dims"])
        mag = np.abs(_as_list(xm.interpret(text, *[np.abs(a.astype(np.float64)).astype(a.dtype) for a in args]))[0]
                     .astype(np.float64))
        eps = _FLOAT_TOL.get(o, 2e-6)
        tol = eps * max(k, 1) * 4
        if o in _NARROW:
            mag = mag + np.abs(ref.astype(np.float64)) * _NARROW[o] / (eps * max(k, 1) * 4)
        _check(got, ref, tol, mag, label)
    else:
        _check(got, ref, 0.0, label=label)


@pytest.mark.parametrize("strategy", L.DOT_STRATEGIES)
@pytest.mark.parametrize("seed", range(8))
def test_dot_random_layouts(strategy: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for case in range(4):
        ld, rd, od, lb, rb, lc, rc = _random_dot(rng)
        dts = ("f32", "f32", "f32") if case % 2 == 0 else ("s32", "s32", "s32")
        text = _dot_text(ld, rd, od, lb, rb, lc, rc, dts)
        args = [_random(rng, ld, dts[0]), _random(rng, rd, dts[1])]
        _check_dot(text, args, dts, strategy, f"{strategy} {ld}x{rd} {lb}{rb}{lc}{rc}")


@pytest.mark.parametrize("dts", [("f64", "f64", "f64"), ("s64", "s64", "s64"), ("u32", "u32", "u32"),
                                 ("u8", "u8", "u8"), ("s8", "s8", "s32"), ("s16", "s16", "s16"),
                                 ("f16", "f16", "f16"), ("bf16", "bf16", "bf16"), ("bf16", "bf16", "f32"),
                                 ("f16", "f16", "f32"), ("pred", "pred", "pred"), ("f32", "f32", "f64"),
                                 ("u8", "u8", "s32")])
@pytest.mark.parametrize("strategy", L.DOT_STRATEGIES)
def test_dot_dtypes(dts, strategy: str) -> None:
    rng = np.random.default_rng(hash(dts) % 1000)
    for shape in [((7, 5), (5, 9), [1], [0]), ((40, 33), (33, 70), [1], [0]), ((33, 40), (70, 33), [0], [1]),
                  ((3, 12, 4), (3, 4, 20), [2], [1])]:
        ld, rd, lc, rc = shape
        batch = len(ld) == 3
        lb, rb = ([0], [0]) if batch else ([], [])
        lf = [d for d in range(len(ld)) if d not in lb + lc]
        rf = [d for d in range(len(rd)) if d not in rb + rc]
        od = [ld[d] for d in lb] + [ld[d] for d in lf] + [rd[d] for d in rf]
        text = _dot_text(ld, rd, od, lb, rb, lc, rc, dts)
        args = [_random(rng, ld, dts[0]), _random(rng, rd, dts[1])]
        _check_dot(text, args, dts, strategy, f"{dts} {strategy} {ld}x{rd}")


@pytest.mark.parametrize("strategy", ["packed", "blas", "loops"])
@pytest.mark.parametrize("shape", [(1, 1, 1), (1, 300, 7), (300, 1, 7), (130, 70, 600), (64, 64, 64), (97, 131, 3),
                                   (12, 32, 1), (13, 33, 257), (250, 260, 40)])
@pytest.mark.parametrize("trans", ["nn", "tn", "nt", "tt"])
def test_dot_gemm_shapes(strategy: str, shape, trans: str) -> None:
    """Plain and transposed GEMMs at sizes around the micro-tile and cache blocks."""
    m, n, k = shape
    rng = np.random.default_rng(m * 7 + n * 3 + k)
    ld, lc = ([k, m], [0]) if trans[0] == "t" else ([m, k], [1])
    rd, rc = ([n, k], [1]) if trans[1] == "t" else ([k, n], [0])
    text = _dot_text(ld, rd, [m, n], [], [], lc, rc, ("f32",) * 3)
    _check_dot(text, [_random(rng, ld, "f32"), _random(rng, rd, "f32")], ("f32",) * 3, strategy, f"{shape} {trans}")


def test_dot_packed_small_blocks(monkeypatch) -> None:
    """Cache blocks much smaller than the matrices: every jc/pc/ic loop runs several times."""
    monkeypatch.setattr(L.packed, "L1_BYTES", 1 << 10)
    monkeypatch.setattr(L.packed, "L2_BYTES", 4 << 10)
    monkeypatch.setattr(L.packed, "L3_BYTES", 16 << 10)
    rng = np.random.default_rng(5)
    for dts in [("f32",) * 3, ("s32",) * 3, ("f64",) * 3, ("bf16", "bf16", "bf16")]:
        m, n, k = 101, 203, 150
        text = _dot_text([m, k], [n, k], [m, n], [], [], [1], [1], dts)
        _check_dot(text, [_random(rng, (m, k), dts[0]), _random(rng, (n, k), dts[1])], dts, "packed", str(dts))


def test_dot_zero_sizes() -> None:
    rng = np.random.default_rng(0)
    for ld, rd, od in [([0, 4], [4, 5], [0, 5]), ([3, 0], [0, 5], [3, 5]), ([3, 4], [4, 0], [3, 0])]:
        text = _dot_text(ld, rd, od, [], [], [1], [0], ("f32",) * 3)
        for strategy in L.DOT_STRATEGIES:
            _check_dot(text, [_random(rng, ld, "f32"), _random(rng, rd, "f32")], ("f32",) * 3, strategy)


def test_dot_out_of_memory_falls_back(monkeypatch) -> None:
    """malloc returning NULL: the kernel still computes the product (with the naive loops)."""
    monkeypatch.setattr(L.dot, "_malloc", lambda b, n: ir.Constant(PTR, None))
    rng = np.random.default_rng(1)
    ld, rd, od, lb, rb, lc, rc = [4, 30, 5, 20], [20, 4, 30, 7], [4, 5, 7, 30], [0], [1], [1, 3], [2, 0]
    od = [4, 5, 7]
    text = _dot_text(ld, rd, od, lb, rb, lc, rc, ("f32",) * 3)
    for strategy in ("packed", "loops"):
        _check_dot(text, [_random(rng, ld, "f32"), _random(rng, rd, "f32")], ("f32",) * 3, strategy)


def test_dot_auto_strategy_and_vectorized_loops() -> None:
    small = _dot_text([8, 16], [16, 24], [8, 24], [], [], [1], [0], ("f32",) * 3)
    instr = xm.parse_hlo(small).entry.root
    assert L.dot_strategy(instr) == "loops"
    mod = ir.Module("v")
    L.define_dot(mod, instr, "k")
    jm = compile_ir(mod, ["k"])
    # Products accumulate with llvm.fma (exact on every machine); only a target with FMA
    # instructions can vectorize them, elsewhere each is libm's fmaf.
    if "+fma" in host().features.split(","):
        assert "x float>" in jm.llvm_ir_opt_by_function["k"], "the loop vectorizer did not fire"
    big = _dot_text([256, 512], [512, 256], [256, 256], [], [], [1], [0], ("f32",) * 3)
    expect = "blas" if L.find_blas() is not None else "packed"
    assert L.dot_strategy(xm.parse_hlo(big).entry.root) == expect
    ints = _dot_text([256, 512], [512, 256], [256, 256], [], [], [1], [0], ("s32",) * 3)
    assert L.dot_strategy(xm.parse_hlo(ints).entry.root) == "loops"
    huge = _dot_text([2048, 2048], [2048, 64], [2048, 64], [], [], [1], [0], ("s32",) * 3)
    assert L.dot_strategy(xm.parse_hlo(huge).entry.root) == "packed"  # A beyond the caches


def test_blas_found_where_numpy_has_openblas() -> None:
    cfg = str(np.show_config(mode="dicts")).lower() if hasattr(np, "show_config") else ""
    blas = L.find_blas()
    if "scipy-openblas" in cfg or "openblas" in cfg:
        assert blas is not None and blas.sgemm and blas.dgemm and blas.int_bits in (32, 64)


# --- convolution ---------------------------------------------------------------------------------


def _conv_text(xd, kd, od, labels, window: str, fg: int, bg: int, dts=("f32",) * 3) -> str:
    s = lambda dt, d: f"{dt}[{','.join(map(str, d))}]"
    extra = ""
    if fg > 1:
        extra += f", feature_group_count={fg}"
    if bg > 1:
        extra += f", batch_group_count={bg}"
    w = f"window={{{window}}}, " if window else ""
    return (f"HloModule m\nENTRY e {{\n  x = {s(dts[0], xd)} parameter(0)\n  w = {s(dts[1], kd)} parameter(1)\n"
            f"  ROOT c = {s(dts[2], od)} convolution(x, w), {w}dim_labels={labels}{extra}\n}}\n")


def _random_conv(rng: np.random.Generator, nsp: int, dts=("f32",) * 3):
    """A random convolution: layouts, window, dilations, reversal, feature or batch groups."""
    groups = int(rng.choice([1, 1, 2, 3]))
    kind = rng.choice(["f", "b"])
    fg, bg = (groups, 1) if kind == "f" else (1, groups)
    n_out = int(rng.choice([1, 2, 3]))
    cg = int(rng.choice([1, 2, 3, 5]))
    og = int(rng.choice([1, 2, 4, 7]))
    n_in, c = n_out * bg, cg * fg
    o = og * groups
    wins, sp_in, sp_k, sp_out = [], [], [], []
    for _ in range(nsp):
        d = int(rng.choice([0, 1, 2, 3, 5, 8, 11])) if rng.random() < 0.9 else 0
        w = int(rng.choice([1, 2, 3, 4]))
        st = int(rng.choice([1, 1, 2, 3]))
        pl, ph = int(rng.integers(-1, 3)), int(rng.integers(-1, 3))
        ldl = int(rng.choice([1, 1, 2, 3]))
        rdl = int(rng.choice([1, 1, 2]))
        rev = int(rng.random() < 0.3)
        dil_in = (d - 1) * ldl + 1 if d > 0 else 0
        padded = dil_in + pl + ph
        wd = (w - 1) * rdl + 1
        s = (padded - wd) // st + 1 if padded >= wd else 0
        wins.append((w, st, pl, ph, ldl, rdl, rev))
        sp_in.append(d)
        sp_k.append(w)
        sp_out.append(s)
    # layouts: random permutations of the roles
    def layout(roles):
        perm = rng.permutation(len(roles))
        return [roles[i] for i in perm]
    xl = layout(["b", "f"] + [str(i) for i in range(nsp)])
    kl = layout(["i", "o"] + [str(i) for i in range(nsp)])
    ol = layout(["b", "f"] + [str(i) for i in range(nsp)])
    xsz = {"b": n_in, "f": c, **{str(i): sp_in[i] for i in range(nsp)}}
    ksz = {"i": cg, "o": o, **{str(i): sp_k[i] for i in range(nsp)}}
    osz = {"b": n_out, "f": o, **{str(i): sp_out[i] for i in range(nsp)}}
    xd, kd, od = [xsz[r] for r in xl], [ksz[r] for r in kl], [osz[r] for r in ol]
    labels = f"{''.join(xl)}_{''.join(kl)}->{''.join(ol)}"
    parts = []
    if nsp:
        parts.append("size=" + "x".join(str(w[0]) for w in wins))
        parts.append("stride=" + "x".join(str(w[1]) for w in wins))
        parts.append("pad=" + "x".join(f"{w[2]}_{w[3]}" for w in wins))
        parts.append("lhs_dilate=" + "x".join(str(w[4]) for w in wins))
        parts.append("rhs_dilate=" + "x".join(str(w[5]) for w in wins))
        parts.append("rhs_reversal=" + "x".join(str(w[6]) for w in wins))
    return _conv_text(xd, kd, od, labels, " ".join(parts), fg, bg, dts), xd, kd


def _check_conv(text, xd, kd, dts, rng, label="", strategy=None) -> None:
    args = [_random(rng, xd, dts[0]), _random(rng, kd, dts[1])]
    (got,) = run(L.define_convolution, text, args, conv_strategy=strategy)
    (ref,) = _as_list(xm.interpret(text, *args))
    if dts[2] in ("f32", "f64"):
        absargs = [np.abs(a) for a in args]
        (mag,) = _as_list(xm.interpret(text, *absargs))
        _check(got, ref, 1e-5 if dts[2] == "f32" else 1e-13, mag.astype(np.float64), label)
    elif dts[2] in _NARROW:
        _check(got, ref, _NARROW[dts[2]] * 1.01, None, label)
    else:
        _check(got, ref, 0.0, label=label)


@pytest.mark.parametrize("strategy", [None, "gemm", "direct"])
@pytest.mark.parametrize("nsp", [0, 1, 2, 3])
@pytest.mark.parametrize("seed", range(8))
def test_convolution_random(strategy, nsp: int, seed: int) -> None:
    rng = np.random.default_rng(100 * nsp + seed)
    for _ in range(3 if nsp < 3 else 2):
        text, xd, kd = _random_conv(rng, nsp)
        _check_conv(text, xd, kd, ("f32",) * 3, rng, text, strategy)


@pytest.mark.parametrize("strategy", ["gemm", "direct"])
@pytest.mark.parametrize("dts", [("f64",) * 3, ("s32",) * 3, ("bf16",) * 3, ("f16", "f16", "f32"), ("s8", "s8", "s32")])
def test_convolution_dtypes(dts, strategy) -> None:
    rng = np.random.default_rng(7)
    for nsp in (1, 2):
        text, xd, kd = _random_conv(rng, nsp, dts)
        _check_conv(text, xd, kd, dts, rng, text, strategy)


@pytest.mark.parametrize("case", [
    # (input, kernel, output, labels, window, fg, bg): common layouts
    ((2, 9, 9, 4), (3, 3, 4, 8), (2, 9, 9, 8), "b01f_01io->b01f", "size=3x3 pad=1_1x1_1", 1, 1),
    ((2, 4, 9, 9), (8, 4, 3, 3), (2, 8, 5, 5), "bf01_oi01->bf01", "size=3x3 stride=2x2 pad=1_1x1_1", 1, 1),
    ((1, 8, 8, 6), (3, 3, 1, 6), (1, 8, 8, 6), "b01f_01io->b01f", "size=3x3 pad=1_1x1_1", 6, 1),  # depthwise
    ((4, 7, 7, 3), (4, 7, 7, 5), (1, 1, 3, 5), "f01b_i01o->01bf", "size=7x7", 1, 1),  # weight gradient
    ((2, 5, 5, 4), (3, 3, 4, 3), (2, 11, 11, 3), "b01f_01io->b01f", "size=3x3 pad=2_2x2_2 lhs_dilate=2x2", 1, 1),
    ((1, 300, 2), (5, 2, 3), (1, 296, 3), "b0f_0io->b0f", "size=5", 1, 1),  # long rows: chunked accumulator
    ((6, 5, 5, 2), (3, 3, 2, 6), (2, 3, 3, 6), "b01f_01io->b01f", "size=3x3", 1, 3),  # batch groups
])
@pytest.mark.parametrize("strategy", ["gemm", "direct"])
def test_convolution_layouts(case, strategy) -> None:
    xd, kd, od, labels, window, fg, bg = case
    text = _conv_text(xd, kd, od, labels, window, fg, bg)
    _check_conv(text, xd, kd, ("f32",) * 3, np.random.default_rng(3), text, strategy)


def test_convolution_chunked_accumulator(monkeypatch) -> None:
    """Output lines longer than the direct loops' accumulator row run in chunks."""
    monkeypatch.setattr(L.conv, "CONV_CHUNK", 7)
    rng = np.random.default_rng(9)
    for nsp in (1, 2):
        for _ in range(4):
            text, xd, kd = _random_conv(rng, nsp)
            _check_conv(text, xd, kd, ("f32",) * 3, rng, text, "direct")


def test_convolution_empty_input_and_padding_only() -> None:
    rng = np.random.default_rng(2)
    # every window lies in padding: zeros
    text = _conv_text((1, 0, 2), (1, 2, 3), (1, 2, 3), "b0f_0io->b0f", "size=1 pad=1_1", 1, 1)
    _check_conv(text, (1, 0, 2), (1, 2, 3), ("f32",) * 3, rng)
    text = _conv_text((1, 4, 0), (1, 0, 3), (1, 4, 3), "b0f_0io->b0f", "size=1", 1, 1)
    _check_conv(text, (1, 4, 0), (1, 0, 3), ("f32",) * 3, rng)


# --- sort ----------------------------------------------------------------------------------------

_IR_TYPES = {"f32": ir.FloatType(), "f64": ir.DoubleType(), "s32": ir.IntType(32), "u8": ir.IntType(8),
             "s64": ir.IntType(64), "pred": ir.IntType(8), "bf16": ir.IntType(16), "u32": ir.IntType(32)}


def _key(b: ir.IRBuilder, p: ir.Value, dt: str, total: bool) -> tuple[ir.Value, bool]:
    """(value, signed) to compare; floats under TOTALORDER become signed integers."""
    t = _IR_TYPES[dt]
    v = b.load(p, typ=t)
    if dt == "bf16":
        v = b.bitcast(b.shl(b.zext(v, ir.IntType(32)), ir.Constant(ir.IntType(32), 16)), ir.FloatType())
        dt = "f32"
    if dt in ("f32", "f64") and total:
        it = ir.IntType(32 if dt == "f32" else 64)
        i = b.bitcast(v, it)
        mag = ir.Constant(it, (1 << (it.width - 1)) - 1)
        return b.select(b.icmp_signed("<", i, ir.Constant(it, 0)), b.xor(i, mag), i), True
    return v, dt[0] == "s"


def _ir_comparator(mod: ir.Module, dts: list[str], keys: list[tuple[int, str, bool]]) -> ir.Function:
    """`less` over operands: lexicographic on keys = [(operand, "LT"|"GT", totalorder)]."""
    fn = ir.Function(mod, ir.FunctionType(I1, [PTR] * (2 * len(dts))), name="less")
    fn.linkage = "internal"
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    result = ir.Constant(I1, 0)
    decided = ir.Constant(I1, 0)
    for op, direction, total in keys:
        x, signed = _key(b, fn.args[2 * op], dts[op], total)
        y, _ = _key(b, fn.args[2 * op + 1], dts[op], total)
        if direction == "GT":
            x, y = y, x
        if isinstance(x.type, (ir.FloatType, ir.DoubleType)):
            lt, gt = b.fcmp_ordered("<", x, y), b.fcmp_ordered(">", x, y)
        elif signed:
            lt, gt = b.icmp_signed("<", x, y), b.icmp_signed(">", x, y)
        else:
            lt, gt = b.icmp_unsigned("<", x, y), b.icmp_unsigned(">", x, y)
        result = b.select(decided, result, lt)
        decided = b.or_(decided, b.or_(lt, gt))
    b.ret(result)
    return fn


def _hlo_comparator(dts: list[str], keys: list[tuple[int, str, bool]]) -> str:
    lines = [f"  p{i} = {dts[i // 2]}[] parameter({i})" for i in range(2 * len(dts))]
    res = None
    for j, (op, direction, total) in enumerate(reversed(keys)):
        t = ", type=TOTALORDER" if total else ""
        lhs, rhs = f"p{2 * op}", f"p{2 * op + 1}"
        lines.append(f"  lt{j} = pred[] compare({lhs}, {rhs}), direction={direction}{t}")
        if res is None:
            res = f"lt{j}"
            continue
        other = "LT" if direction == "GT" else "GT"
        lines.append(f"  gt{j} = pred[] compare({lhs}, {rhs}), direction={other}{t}")
        lines.append(f"  eq{j} = pred[] or(lt{j}, gt{j})")
        lines.append(f"  r{j} = pred[] select(eq{j}, lt{j}, {res})")
        res = f"r{j}"
    lines[-1] = lines[-1].replace(f"  {res} =", f"  ROOT {res} =", 1)
    return "cmp {\n" + "\n".join(lines) + "\n}\n"


def _sort_text(dims, dts, dim: int, keys) -> str:
    sh = lambda dt: f"{dt}[{','.join(map(str, dims))}]"
    params = "\n".join(f"  a{i} = {sh(dt)} parameter({i})" for i, dt in enumerate(dts))
    out = sh(dts[0]) if len(dts) == 1 else "(" + ", ".join(sh(dt) for dt in dts) + ")"
    ops = ", ".join(f"a{i}" for i in range(len(dts)))
    return (f"HloModule m\n{_hlo_comparator(dts, keys)}ENTRY e {{\n{params}\n"
            f"  ROOT s = {out} sort({ops}), dimensions={{{dim}}}, is_stable=true, to_apply=cmp\n}}\n")


def _define_sort_with(dts, keys):
    def define(mod, instr, name):
        return L.define_sort(mod, instr, name, _ir_comparator(mod, dts, keys))
    return define


def _sort_values(rng, dims, dt: str, nan: bool = False, dup: bool = False) -> np.ndarray:
    if dup:
        v = rng.integers(0, 4, dims)
        return v.astype(xm.hlo.dtypes.dtype(dt).np)
    a = _random(rng, dims, dt)
    if nan and a.size and dt in ("f32", "f64", "bf16"):
        flat = a.reshape(-1)
        idx = rng.choice(flat.size, size=max(1, flat.size // 5))
        specials = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0], np.float64)
        flat[idx] = specials[rng.integers(0, len(specials), len(idx))].astype(flat.dtype)
    return a


def _check_sort(dims, dts, dim, keys, args) -> None:
    text = _sort_text(dims, dts, dim, keys)
    got = run(_define_sort_with(dts, keys), text, args)
    ref = _as_list(xm.interpret(text, *args))
    for g, r in zip(got, ref):
        assert g.tobytes() == r.tobytes(), f"{dims} {dts} dim={dim} keys={keys}\n{g}\n{r}"


@pytest.mark.parametrize("seed", range(12))
def test_sort_random(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 4))
    dims = [int(rng.choice([0, 1, 2, 3, 7, 16, 17, 40, 100])) if rng.random() < 0.95 else 0 for _ in range(rank)]
    dim = int(rng.integers(0, rank))
    n = int(rng.integers(1, 4))
    dts = [str(rng.choice(["f32", "s32", "u8", "f64", "s64", "bf16", "pred"])) for _ in range(n)]
    keys = [(0, str(rng.choice(["LT", "GT"])), dts[0] in ("f32", "f64", "bf16"))]
    if n > 1:
        keys.append((n - 1, "LT", dts[n - 1] in ("f32", "f64", "bf16")))
    args = [_sort_values(rng, dims, dt, nan=True, dup=(i == 0 and rng.random() < 0.5 and dt != "pred"))
            for i, dt in enumerate(dts)]
    _check_sort(dims, dts, dim, keys, args)


def test_sort_stable_with_duplicate_keys() -> None:
    rng = np.random.default_rng(3)
    for length in (5, 16, 17, 33, 1000, 5000):  # 5000: scratch from malloc
        dims = [length]
        keys = rng.integers(0, 7, dims).astype(np.int32)
        payload = np.arange(length, dtype=np.int32)
        _check_sort(dims, ["s32", "s32"], 0, [(0, "LT", False)], [keys, payload])


def test_sort_totalorder_nans_long_rows_and_strided_dims() -> None:
    rng = np.random.default_rng(4)
    for dims, dim in [([3, 2000, 2], 1), ([9000], 0), ([2, 3, 300], 0)]:
        a = _sort_values(rng, dims, "f32", nan=True)
        _check_sort(dims, ["f32"], dim, [(0, "LT", True)], [a])
        _check_sort(dims, ["f32"], dim, [(0, "GT", True)], [a])


def test_sort_presorted_and_reversed() -> None:
    for n in (100, 4097):
        a = np.arange(n, dtype=np.float32)
        _check_sort([n], ["f32"], 0, [(0, "LT", False)], [a])
        _check_sort([n], ["f32"], 0, [(0, "LT", False)], [a[::-1].copy()])


def test_sort_out_of_memory_falls_back(monkeypatch) -> None:
    monkeypatch.setattr(L.sort, "_malloc", lambda b, n: ir.Constant(PTR, None))
    rng = np.random.default_rng(6)
    dims = [3, 3000]
    keys = rng.integers(0, 50, dims).astype(np.int32)
    vals = rng.uniform(size=dims).astype(np.float32)
    _check_sort(dims, ["s32", "f32"], 1, [(0, "LT", False)], [keys, vals])


# --- top-k ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dt", ["f32", "s32", "bf16", "u8", "f64"])
@pytest.mark.parametrize("k,length,largest", [(1, 1, True), (3, 10, True), (5, 40, False), (40, 40, True),
                                              (50, 1000, True), (7, 3000, False)])
def test_topk(dt: str, k: int, length: int, largest: bool) -> None:
    rng = np.random.default_rng(k * length)
    dims = [3, length]
    x = _sort_values(rng, dims, dt, nan=True, dup=rng.random() < 0.5)
    text = (f"HloModule m\nENTRY e {{\n  x = {dt}[3,{length}] parameter(0)\n"
            f"  ROOT t = ({dt}[3,{k}], s32[3,{k}]) topk(x), k={k}, largest={'true' if largest else 'false'}\n}}\n")
    got = run(L.define_topk, text, [x])
    ref = _as_list(xm.interpret(text, x))
    for g, r in zip(got, ref):
        assert g.tobytes() == r.tobytes(), f"{g}\n{r}"


@pytest.mark.parametrize("k,length,no_memory", [(5, 40, False), (64, 500, False), (64, 5000, False),
                                                (64, 5000, True)])
def test_topk_custom_call_with_comparator(monkeypatch, k: int, length: int, no_memory: bool) -> None:
    """XLA's optimized TopK custom call (sort-style comparator over values and indices); with
    no memory for the merge sort scratch it keeps a sorted top-k list per row instead."""
    if no_memory:
        monkeypatch.setattr(L.sort, "_malloc", lambda b, n: ir.Constant(PTR, None))
    rng = np.random.default_rng(8)
    keys = [(0, "GT", True)]
    cmp = _hlo_comparator(["f32", "s32"], keys)
    text = (f"HloModule m\n{cmp}ENTRY e {{\n  x = f32[4,{length}] parameter(0)\n"
            f"  ROOT t = (f32[4,{k}], s32[4,{k}]) custom-call(x), custom_call_target=\"TopK\", "
            f"called_computations={{cmp}}\n}}\n")
    x = _sort_values(rng, [4, length], "f32", nan=True)

    def define(mod, instr, name):
        return L.define_topk(mod, instr, name, _ir_comparator(mod, ["f32", "s32"], keys))

    got = run(define, text, [x])
    ref = _as_list(xm.interpret(text, x))
    for g, r in zip(got, ref):
        assert g.tobytes() == r.tobytes()


# --- BLAS found by the kernel at run time ------------------------------------------------------


@pytest.mark.parametrize("how", ["no library", "no symbol"])
def test_dot_blas_missing_at_run_time_falls_back(monkeypatch, how: str) -> None:
    """The kernel looks the gemm up itself (dlopen/dlsym) and computes with loops without it."""
    real = L.find_blas()
    if real is None:
        pytest.skip("no BLAS in this process")
    from dataclasses import replace

    fake = (replace(real, path="/nonexistent/libnothing.so") if how == "no library"
            else replace(real, sgemm_name="no_such_gemm_symbol", dgemm_name="no_such_gemm_symbol"))
    monkeypatch.setattr(L.blas, "find_blas", lambda: fake)
    rng = np.random.default_rng(11)
    for trans in ("nn", "nt", "tn"):
        m, n, k = 70, 90, 80
        ld, lc = ([k, m], [0]) if trans[0] == "t" else ([m, k], [1])
        rd, rc = ([n, k], [1]) if trans[1] == "t" else ([k, n], [0])
        text = _dot_text(ld, rd, [m, n], [], [], lc, rc, ("f32",) * 3)
        _check_dot(text, [_random(rng, ld, "f32"), _random(rng, rd, "f32")], ("f32",) * 3, "blas", trans)


_RELOAD = r"""
import sys, numpy as np
from xla_magic.backends.cpu.callpath import make_caller
from xla_magic.backends.cpu.jit import compile_ir
ir_text, obj = open(sys.argv[1]).read(), open(sys.argv[2], "rb").read()
jm = compile_ir(ir_text, ["k"], object_code=obj)
a = np.arange(96 * 80, dtype=np.float32).reshape(96, 80) % 7
b = np.arange(80 * 100, dtype=np.float32).reshape(80, 100) % 5
out = np.empty((96, 100), np.float32)
make_caller(jm.address("k"), 2, 1, keepalive=jm)([a, b, out])
assert np.array_equal(out, a @ b), "wrong product"
import ctypes
from xla_magic.backends.cpu.library import find_blas
engine = getattr(jm, "_engine", None)  # where the kernel keeps the gemm it found
if engine is not None:
    slot = engine.get_global_value_address("xla_magic.blas." + find_blas().sgemm_name)
    assert ctypes.c_void_p.from_address(slot).value == find_blas().sgemm, "the kernel did not find the BLAS"
print("ok")
"""


def test_dot_blas_machine_code_runs_in_another_process(tmp_path) -> None:
    """Machine code cached on disk and loaded by a fresh process finds the BLAS again."""
    import subprocess
    import sys

    if L.find_blas() is None:
        pytest.skip("no BLAS in this process")
    text = _dot_text([96, 80], [80, 100], [96, 100], [], [], [1], [0], ("f32",) * 3)
    mod = ir.Module("reload")
    L.define_dot(mod, xm.parse_hlo(text).entry.root, "k", strategy="blas")
    jm = compile_ir(mod, ["k"])
    if getattr(jm, "object_code", None) is None:
        pytest.skip("this jit keeps no object code")
    (tmp_path / "k.ll").write_text(jm.llvm_ir_opt)
    (tmp_path / "k.o").write_bytes(jm.object_code)
    r = subprocess.run([sys.executable, "-c", _RELOAD, str(tmp_path / "k.ll"), str(tmp_path / "k.o")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-2000:]


@pytest.mark.parametrize("bits", [128, 256])
def test_narrower_vector_units(monkeypatch, bits: int) -> None:
    """The blockings chosen for SSE and AVX2 hosts compute the same (run on this host)."""
    from types import SimpleNamespace

    for m in (L.gemm, L.packed):  # the two blockings that follow the vector width
        monkeypatch.setattr(m, "host", lambda: SimpleNamespace(vector_bits=bits))
    rng = np.random.default_rng(bits)
    for dts in [("f32",) * 3, ("f64",) * 3, ("s32",) * 3]:
        for m, n, k in [(37, 45, 29), (5, 130, 17)]:
            text = _dot_text([m, k], [k, n], [m, n], [], [], [1], [0], dts)
            for strategy in ("loops", "packed"):
                _check_dot(text, [_random(rng, (m, k), dts[0]), _random(rng, (k, n), dts[1])], dts, strategy)
    text = _conv_text((2, 9, 9, 16), (3, 3, 16, 8), (2, 9, 9, 8), "b01f_01io->b01f", "size=3x3 pad=1_1x1_1", 1, 1)
    _check_conv(text, (2, 9, 9, 16), (3, 3, 16, 8), ("f32",) * 3, rng, text, "gemm")
