"""Writes xla_reference.npz: XLA:CPU's answers for sub-byte integer ops and converts.

Run with a Python that has jax (never needed by the tests):  python make_reference.py
Every array is stored as plain int64/float64/float32 so the file loads without ml_dtypes.

The small floats' own conversions and arithmetic are checked against ml_dtypes and the
interpreter instead; `python make_reference.py --compare` prints where XLA:CPU (jaxlib 0.10.2)
differs from ml_dtypes there. It agrees bit for bit on f32/f64/s64 -> every f8 format except
f8e8m0fnu below 2^-126 and f4e2m1fn's negative NaN (XLA: 0x8, ml_dtypes: 0x0); f8e5m2 arithmetic
keeps a NaN's payload (0x7F) where ml_dtypes writes 0x7E; f8e8m0fnu arithmetic flushes values
below 2^-126 (f32's denormals) where ml_dtypes keeps them."""
from __future__ import annotations

import itertools
from pathlib import Path

import jax
import ml_dtypes
import numpy as np
from jax._src.lib import xla_client as xc

jax.config.update("jax_enable_x64", True)
DEV = jax.devices("cpu")[0]

INTS = {"s4": ml_dtypes.int4, "u4": ml_dtypes.uint4, "s2": ml_dtypes.int2, "u2": ml_dtypes.uint2}
FLOATS = {"f8e4m3fn": ml_dtypes.float8_e4m3fn, "f8e5m2": ml_dtypes.float8_e5m2,
          "f8e4m3fnuz": ml_dtypes.float8_e4m3fnuz, "f8e5m2fnuz": ml_dtypes.float8_e5m2fnuz,
          "f8e4m3b11fnuz": ml_dtypes.float8_e4m3b11fnuz, "f8e4m3": ml_dtypes.float8_e4m3,
          "f8e3m4": ml_dtypes.float8_e3m4, "f8e8m0fnu": ml_dtypes.float8_e8m0fnu,
          "f4e2m1fn": ml_dtypes.float4_e2m1fn}
BINARY = ["add", "subtract", "multiply", "divide", "remainder", "maximum", "minimum", "power", "and", "or", "xor",
          "shift-left", "shift-right-logical", "shift-right-arithmetic"]
UNARY = ["negate", "abs", "not", "popcnt", "count-leading-zeros", "sign"]


def run(text: str, *args: np.ndarray) -> np.ndarray:
    m = xc.hlo.hlo_module_from_text(text)
    mlir = xc._xla.mlir.hlo_to_stablehlo(m.as_serialized_hlo_module_proto())
    exe = DEV.client.compile_and_load(mlir, xc.DeviceList((DEV,)), xc.CompileOptions())
    res = exe.execute_sharded([jax.device_put(a, DEV) for a in args])
    return np.asarray(res.disassemble_into_single_device_arrays()[0][0])


def try_run(text: str, *args: np.ndarray) -> np.ndarray | None:
    """None where XLA refuses the op for this type (abs of an unsigned type, ...)."""
    try:
        return run(text, *args)
    except jax.errors.JaxRuntimeError:
        return None


def module(params: list[str], root: str) -> str:
    ps = "\n".join(f"  p{i} = {s} parameter({i})" for i, s in enumerate(params))
    return f"HloModule m\n\nENTRY e {{\n{ps}\n  ROOT r = {root}\n}}\n"


def f32_sweep() -> np.ndarray:
    """Every 2^-k step near each small format's grid: halfway cases, subnormals, overflow, specials."""
    rng = np.random.default_rng(0)
    exps = np.arange(-140, 130, dtype=np.float64)
    mant = np.arange(0, 64, dtype=np.float64) / 32.0 + 1.0  # 1 .. 3 in steps of 1/32: every halfway of <= 4 bits
    grid = (mant[None, :] * 2.0 ** exps[:, None]).ravel()
    extra = rng.standard_normal(2000) * 10.0 ** rng.integers(-8, 8, 2000)
    vals = np.concatenate([grid, -grid, extra, [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e-45, -1e-45, 3.4e38]])
    v32 = vals[~(np.abs(vals) > 3.4e38) | ~np.isfinite(vals)].astype(np.float32)
    return np.concatenate([v32, np.nextafter(v32, np.float32(np.inf)), np.nextafter(v32, np.float32(-np.inf))])


def compare_small_floats() -> None:
    """Where XLA:CPU's small-float converts and arithmetic differ from ml_dtypes."""
    sweep = f32_sweep()
    for t, npt in FLOATS.items():
        for src in (np.float32, np.float64):
            x = sweep.astype(src)
            name = "f32" if src is np.float32 else "f64"
            r = run(module([f"{name}[{x.size}]"], f"{t}[{x.size}] convert(p0)"), x).view(np.uint8)
            bad = np.nonzero(r != x.astype(npt).view(np.uint8))[0]
            print(f"{name} -> {t}: {bad.size} of {x.size} differ", x[bad[:3]])
        if t == "f4e2m1fn":
            continue
        allb = np.arange(256, dtype=np.uint8)
        a, b = (np.array(list(p), np.uint8) for p in zip(*itertools.product(allb, allb)))
        for op, f in (("add", np.add), ("multiply", np.multiply), ("divide", np.divide)):
            text = module([f"{t}[{a.size}]", f"{t}[{a.size}]"], f"{t}[{a.size}] {op}(p0, p1)")
            r = run(text, a.view(npt), b.view(npt))
            with np.errstate(all="ignore"):
                want = f(a.view(npt).astype(np.float32), b.view(npt).astype(np.float32)).astype(npt)
            print(f"{t} {op}: {np.count_nonzero(r.view(np.uint8) != want.view(np.uint8))} of {a.size} differ")


def main() -> None:
    out: dict[str, np.ndarray] = {}
    for t, npt in INTS.items():
        info = ml_dtypes.iinfo(npt)
        vals = np.arange(int(info.min), int(info.max) + 1)
        a, b = (np.array(list(p)) for p in zip(*itertools.product(vals, vals)))
        n = a.size
        for op in BINARY:
            r = try_run(module([f"{t}[{n}]", f"{t}[{n}]"], f"{t}[{n}] {op}(p0, p1)"), a.astype(npt), b.astype(npt))
            if r is not None:
                out[f"{t}/{op}"] = r.astype(np.int64)
        for d in ("LT", "GE", "EQ"):
            r = run(module([f"{t}[{n}]", f"{t}[{n}]"], f"pred[{n}] compare(p0, p1), direction={d}"),
                    a.astype(npt), b.astype(npt))
            out[f"{t}/compare-{d}"] = r.astype(np.int64)
        m = vals.size
        for op in UNARY:
            r = try_run(module([f"{t}[{m}]"], f"{t}[{m}] {op}(p0)"), vals.astype(npt))
            if r is not None:
                out[f"{t}/{op}"] = r.astype(np.int64)
        for dst in ["s8", "u8", "s32", "u64", "f32", "f16", "bf16", "pred", *INTS, *FLOATS]:
            if dst == t:
                continue
            r = try_run(module([f"{t}[{m}]"], f"{dst}[{m}] convert(p0)"), vals.astype(npt))
            if r is not None:
                out[f"{t}/convert-{dst}"] = r.astype(np.float64 if dst in FLOATS or dst[0] in "fb" else np.int64)
    sweep = f32_sweep()[::9]
    out["sweep"] = sweep
    ints = np.array([-1000, -129, -128, -17, -9, -8, -5, -3, -2, -1, 0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 127,
                     128, 255, 256, 1000, 65535, 1 << 20], np.int64)
    out["ints"] = ints
    for t in INTS:
        r = run(module([f"f32[{sweep.size}]"], f"{t}[{sweep.size}] convert(p0)"), sweep)
        out[f"f32-to-{t}"] = r.astype(np.int64)
        r = run(module([f"s64[{ints.size}]"], f"{t}[{ints.size}] convert(p0)"), ints)
        out[f"s64-to-{t}"] = r.astype(np.int64)
    for t, npt in FLOATS.items():
        allb = np.arange(16 if t == "f4e2m1fn" else 256, dtype=np.uint8)
        x = allb.view(npt)
        for dst in ["f32", "s32", "u8", "s4", "f16", "bf16"]:
            r = run(module([f"{t}[{x.size}]"], f"{dst}[{x.size}] convert(p0)"), x)
            out[f"{t}/convert-{dst}"] = r.astype(np.float64)
    np.savez_compressed(Path(__file__).with_name("xla_reference.npz"), **out)
    print(len(out), "arrays")


if __name__ == "__main__":
    import sys

    compare_small_floats() if "--compare" in sys.argv else main()
