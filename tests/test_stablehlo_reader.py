"""StableHLO text (as jax prints it) read into HLO modules: each sample in tests/stablehlo_samples
parses, verifies and runs on the interpreter as XLA:CPU ran it (`generate.py` made the data)."""
from __future__ import annotations

import pathlib

import ml_dtypes
import numpy as np
import pytest

import xla_magic as xm
from xla_magic.hlo.stablehlo import StableHloParseError, looks_like_stablehlo, parse_stablehlo

SAMPLES = pathlib.Path(__file__).parent / "stablehlo_samples"
NAMES = sorted(p.stem for p in SAMPLES.glob("*.mlir"))
# (rtol, atol) per output dtype; the interpreter computes transcendentals in numpy, XLA in its own code.
TOLERANCE = {"float16": (2e-3, 2e-3), "bfloat16": (2e-2, 2e-2), "float32": (2e-5, 2e-5), "float64": (1e-12, 1e-12),
             "complex64": (2e-5, 2e-5), "complex128": (1e-12, 1e-12)}


def _sample(name: str) -> tuple[str, list[np.ndarray], list[np.ndarray]]:
    text = (SAMPLES / f"{name}.mlir").read_text()
    data = np.load(SAMPLES / f"{name}.npz")
    return text, _arrays(data, "in"), _arrays(data, "out")


def _arrays(data, prefix: str) -> list[np.ndarray]:
    """`in0`, `in1`, ...; ml_dtypes arrays are stored as raw bytes beside a `dtype_` entry."""
    out = []
    for k in range(sum(1 for f in data.files if f.startswith(prefix))):
        a = data[f"{prefix}{k}"]
        if f"dtype_{prefix}{k}" in data.files:
            a = a.view(getattr(ml_dtypes, str(data[f"dtype_{prefix}{k}"])))
        out.append(a)
    return out


def assert_matches(got: np.ndarray, want: np.ndarray, what: str) -> None:
    got = np.asarray(got)
    assert got.shape == want.shape and got.dtype == want.dtype, f"{what}: {got.dtype}{got.shape} != " \
                                                                 f"{want.dtype}{want.shape}"
    tol = TOLERANCE.get(want.dtype.name)
    if tol is None:  # integers, booleans, f8: exact
        np.testing.assert_array_equal(got.astype(np.float64) if want.dtype.kind == "V" else got,
                                      want.astype(np.float64) if want.dtype.kind == "V" else want, err_msg=what)
    else:
        np.testing.assert_allclose(got, want, rtol=tol[0], atol=tol[1], err_msg=what)


@pytest.mark.parametrize("name", NAMES)
def test_sample_runs_as_on_xla_cpu(name):
    text, ins, outs = _sample(name)
    assert looks_like_stablehlo(text)
    module = parse_stablehlo(text)
    got = xm.interpret(module, *ins)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(outs)
    for k, (g, w) in enumerate(zip(got, outs)):
        assert_matches(g, w, f"{name} output {k}")
