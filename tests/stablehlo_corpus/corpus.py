"""Reading the StableHLO corpus (see generate.py) and the rule its outputs are compared by.

Tolerance: integer and bool outputs exactly; floating outputs of the `exact` family bit for bit
(NaN for NaN, the sign of zero included); otherwise NaN where NaN, ±inf exactly and
|got - expected| <= ulps(family) * eps(dtype) * (|expected| + scale), where scale is 1 for
elementwise families (absolute error near zero crossings) and max|expected| of the output for
the families that sum many terms (reductions, dots, fft, models)."""
from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass
from typing import Any

import ml_dtypes
import numpy as np

HERE = pathlib.Path(__file__).parent
MANIFEST: dict[str, Any] = json.loads((HERE / "manifest.json").read_text())
CASES: dict[str, dict[str, Any]] = MANIFEST["cases"]
CASE_NAMES = sorted(CASES)

DTYPES: dict[str, np.dtype] = {n: np.dtype(getattr(ml_dtypes, n)) for n in (
    "bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e4m3b11fnuz",
    "float8_e3m4", "float8_e4m3", "float8_e8m0fnu", "float4_e2m1fn", "int4", "uint4")}

# unit roundoff of each floating dtype (complex: of its parts)
EPS = {np.dtype(t): float(ml_dtypes.finfo(t).eps) for t in (
    np.float16, np.float32, np.float64, ml_dtypes.bfloat16)} | {
    np.dtype(np.complex64): float(np.finfo(np.float32).eps), np.dtype(np.complex128): float(np.finfo(np.float64).eps)}


@dataclass(frozen=True)
class Tolerance:
    ulps: float
    relative_to_max: bool  # scale the allowance by the output's largest magnitude (sums of many terms)


# Through XLA's own StableHLO -> HLO conversion the project is within 1-8 ulp of XLA:CPU in every
# family; the margins leave room for the reader's own chlo expansions and other summation orders.
FAMILIES: dict[str, Tolerance] = {
    "exact": Tolerance(0, False),
    "elementwise": Tolerance(4, False),  # one rounding, maybe an FMA contraction
    "transcendental": Tolerance(8, False),  # libm-quality approximations differ by an ulp or two
    "special": Tolerance(256, False),  # lgamma/digamma/igamma ... are series and rational fits
    "reduction": Tolerance(16, True),  # summation order
    "dot": Tolerance(16, True),
    "fft": Tolerance(32, True),
    "model": Tolerance(64, True),
    "linalg": Tolerance(256, True),
}


# f16/bf16 results are f32 computations rounded: their error is a few of their own (wide) ulps
HALF_ULPS_CAP = {np.dtype(np.float16): 32.0, np.dtype(ml_dtypes.bfloat16): 8.0}


def dtype(name: str) -> np.dtype:
    return DTYPES.get(name) or np.dtype(name)


def load(name: str) -> tuple[str, list[np.ndarray], list[np.ndarray], dict[str, Any]]:
    """(StableHLO text, inputs, XLA:CPU's outputs, manifest entry) of one case."""
    meta = CASES[name]
    text = (HERE / f"{name}.mlir").read_text()
    z = np.load(HERE / f"{name}.npz")
    args = [np.asarray(z[f"arg{i}"]).view(dtype(d)).reshape(s) for i, (d, s) in enumerate(meta["args"])]
    outs = [np.asarray(z[f"out{i}"]).view(dtype(d)).reshape(s) for i, (d, s) in enumerate(meta["outs"])]
    return text, args, outs, meta


def leaves(result: Any) -> list[np.ndarray]:
    """The outputs of interpret()/an executable as a flat list (a tuple root gives its elements)."""
    if isinstance(result, (tuple, list)):
        return [a for r in result for a in leaves(r)]
    return [np.asarray(result)]


def mismatch(got: np.ndarray, expected: np.ndarray, family: str) -> str | None:
    """Why `got` is not `expected` under the family's tolerance, or None when it matches."""
    got = np.asarray(got)
    if got.shape != expected.shape or got.dtype != expected.dtype:
        return f"got {got.dtype}{list(got.shape)}, expected {expected.dtype}{list(expected.shape)}"
    if expected.dtype.kind in "biu":
        bad = got != expected
        return f"{int(bad.sum())}/{got.size} elements differ" if bad.any() else None
    if expected.dtype not in EPS:  # float8/float4/int4 (opaque to numpy): exactly, by value
        g8, e8 = got.astype(np.float64), expected.astype(np.float64)
        bad = ~(((g8 == e8) & (np.signbit(g8) == np.signbit(e8))) | (np.isnan(g8) & np.isnan(e8)))
        return f"{int(bad.sum())}/{got.size} elements differ" if bad.any() else None
    if expected.dtype.kind == "c":
        for part in (np.real, np.imag):
            why = mismatch(part(got), part(expected), family)
            if why:
                return f"{part.__name__} part: {why}"
        return None
    g, e = got.astype(np.float64), expected.astype(np.float64)
    if not np.array_equal(np.isnan(g), np.isnan(e)):
        return f"NaN at {np.argwhere(np.isnan(g) != np.isnan(e))[:3].tolist()}"
    inf = np.isinf(e) | np.isinf(g)
    if not np.array_equal(g[inf], e[inf]):
        return f"inf at {np.argwhere(inf & (g != e))[:3].tolist()}"
    tol = FAMILIES[family]
    fin = np.isfinite(e) & np.isfinite(g)
    if tol.ulps == 0:
        same = (g[fin] == e[fin]) & (np.signbit(g[fin]) == np.signbit(e[fin]))
        if not same.all():
            i = int(np.argmin(same))
            return f"{int((~same).sum())}/{got.size} differ, e.g. {g[fin][i]!r} for {e[fin][i]!r}"
        return None
    eps = EPS.get(expected.dtype, float(np.finfo(np.float32).eps))
    ulps = min(tol.ulps, HALF_ULPS_CAP.get(expected.dtype, tol.ulps))
    scale = float(np.abs(e[fin]).max(initial=0.0)) if tol.relative_to_max else 1.0
    err = np.abs(g[fin] - e[fin])
    allowed = ulps * eps * (np.abs(e[fin]) + scale)
    bad = err > allowed
    if bad.any():
        i = int(np.argmax(err - allowed))
        return (f"{int(bad.sum())}/{got.size} outside {ulps:g} ulp, worst {g[fin][i]!r} for {e[fin][i]!r} "
                f"(err {err[i]:.3g})")
    return None


def compare(result: Any, expected: list[np.ndarray], family: str) -> str | None:
    got = leaves(result)
    if len(got) != len(expected):
        return f"{len(got)} outputs, expected {len(expected)}"
    for i, (g, e) in enumerate(zip(got, expected)):
        why = mismatch(g, e, family)
        if why:
            return f"out{i}: {why}"
    return None
