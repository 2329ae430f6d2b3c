"""Shared fixtures: the conformance corpus (copied from ../shared/conformance/public)."""
from __future__ import annotations

import json
import os
import pathlib
import tempfile

import ml_dtypes
import numpy as np
import pytest

CORPUS = pathlib.Path(__file__).parent / "corpus"

# The compile cache on disk goes to a folder of this test session, not the user's cache.
if "XLA_MAGIC_CACHE_DIR" not in os.environ:
    os.environ["XLA_MAGIC_CACHE_DIR"] = tempfile.mkdtemp(prefix="xla_magic_cache_")
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
CASES = {c["name"]: c for c in MANIFEST["cases"]}
CASE_NAMES = sorted(CASES)


def np_dtype(name: str) -> np.dtype:
    return np.dtype(ml_dtypes.bfloat16) if name == "bfloat16" else np.dtype(name)


def load_case(name: str, opt: bool = False):
    """(hlo_text, inputs, expected_outputs, manifest_entry) for one corpus case."""
    c = CASES[name]
    text = (CORPUS / c["files"]["opt_hlo" if opt else "hlo"]).read_text()
    z = np.load(CORPUS / c["files"]["npz"])
    args = [np.asarray(z[i["name"]]).astype(np_dtype(i["dtype"])) for i in c["inputs"]]
    outs = [np.asarray(z[o["name"]]).astype(np_dtype(o["dtype"])) for o in c["outputs"]]
    return text, args, outs, c


def assert_matches(got, expected, meta, label="") -> None:
    """The corpus rule: exact dtype and shape; ints exact; floats NaN/inf exact, else atol + rtol*|e|."""
    got = np.asarray(got)
    assert got.shape == expected.shape, f"{label}{meta['name']}: shape {got.shape} != {expected.shape}"
    assert got.dtype == expected.dtype, f"{label}{meta['name']}: dtype {got.dtype} != {expected.dtype}"
    if expected.dtype.kind not in "fc" and expected.dtype != np.dtype(ml_dtypes.bfloat16):
        bad = int((got != expected).sum())
        assert bad == 0, f"{label}{meta['name']}: {bad}/{got.size} elements differ"
        return
    g, e = got.astype(np.float64), expected.astype(np.float64)
    assert np.array_equal(np.isnan(g), np.isnan(e)), f"{label}{meta['name']}: NaN positions differ"
    inf = np.isinf(e)
    assert np.array_equal(g[inf], e[inf]) and not np.isinf(g[~inf]).any(), f"{label}{meta['name']}: inf differ"
    fin = np.isfinite(e)
    err = np.abs(g[fin] - e[fin])
    tol = float(meta["atol"]) + float(meta["rtol"]) * np.abs(e[fin])
    bad = err > tol
    assert not bad.any(), (f"{label}{meta['name']}: {int(bad.sum())}/{got.size} outside tolerance, "
                           f"max err {err.max():.3g}")


@pytest.fixture(params=CASE_NAMES)
def case_name(request) -> str:
    return request.param
