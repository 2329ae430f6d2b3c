"""XLA's own HLO files (tests/xla_files/, see its README): each parses as written, and where
XLA:CPU's outputs are stored beside it (NAME.npz, from generate.py) the interpreter and the cpu
target reproduce them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import xla_magic as xm
from xla_magic.hlo.ir import Module

FILES = Path(__file__).resolve().parent / "xla_files"
NAMES = sorted(p.name for p in FILES.glob("*.hlo"))
WITH_OUTPUTS = [n for n in NAMES if (FILES / n).with_suffix(".npz").exists()]

# Files the parser cannot read yet, with the reason (none: every file parses).
CANNOT_PARSE: dict[str, str] = {}

# Where XLA leaves the answer open, so XLA:CPU's is one of several right ones.
UNSPECIFIED: dict[str, str] = {
    "gpu_emitters__reduce_row__side_output_unsigned.hlo":
        "the reduce's init value (a parameter, 6 here) is no identity of add: XLA may apply it any number of "
        "times, and XLA:CPU applies it once per chunk (67 times)",
}

# Tolerances by element type: reductions run in another order than XLA's (relative to the
# largest magnitude of the expected output, so sums of thousands of terms compare fairly).
_TOL = {"f16": 2e-3, "bf16": 1e-2, "f32": 2e-5, "f64": 1e-12, "c64": 2e-5, "c128": 1e-12}


def _text(name: str) -> str:
    return (FILES / name).read_text()


def _leaves(x: object) -> list[np.ndarray]:
    """The arrays of a result, tuples flattened depth first (as generate.py stores XLA's)."""
    stack, out = [x], []
    while stack:
        v = stack.pop()
        if isinstance(v, tuple):
            stack.extend(reversed(v))
        else:
            out.append(np.asarray(v))
    return out


def _inputs(module: Module, data: np.lib.npyio.NpzFile) -> list[np.ndarray]:
    """arg0.. in the parameters' element types (bf16 and 4-bit ints are stored widened)."""
    params = module.entry.parameters
    return [np.asarray(data[f"arg{k}"]).astype(p.shape.element_type.np) for k, p in enumerate(params)]


def _compare(name: str, got: list[np.ndarray], data: np.lib.npyio.NpzFile, module: Module) -> None:
    want = [data[k] for k in sorted((k for k in data.files if k.startswith("out")), key=lambda k: int(k[3:]))]
    assert len(got) == len(want), f"{name}: {len(got)} outputs, XLA gives {len(want)}"
    leaves = module.entry.root.shape.leaves() if module.entry.root.shape.is_tuple else [module.entry.root.shape]
    for i, (g, w, s) in enumerate(zip(got, want, leaves)):
        dt = s.element_type
        assert g.shape == w.shape, f"{name} out{i}: shape {g.shape}, XLA gives {w.shape}"
        tol = _TOL.get(dt.name)
        if tol is None:
            np.testing.assert_array_equal(g.astype(w.dtype), w, err_msg=f"{name} out{i}")
            continue
        g64, w64 = g.astype(np.complex128 if dt.is_complex else np.float64), w.astype(g.dtype).astype(
            np.complex128 if dt.is_complex else np.float64)
        finite = np.abs(w64[np.isfinite(w64)])
        scale = max(1.0, float(finite.max(initial=0.0)))
        np.testing.assert_allclose(g64, w64, rtol=tol, atol=tol * scale, equal_nan=True, err_msg=f"{name} out{i}")


@pytest.mark.parametrize("name", NAMES)
def test_parses_as_written(name):
    if name in CANNOT_PARSE:
        pytest.xfail(CANNOT_PARSE[name])
    module = xm.parse_hlo(_text(name))
    assert module.entry.is_entry and module.entry.instructions
    again = xm.parse_hlo(module.to_text())  # the canonical text reads back to the same module
    assert again == module


@pytest.mark.parametrize("name", WITH_OUTPUTS)
@pytest.mark.parametrize("target", ["interpreter", "cpu"])
def test_matches_xla_cpu(name, target):
    if name in UNSPECIFIED:
        pytest.skip(UNSPECIFIED[name])
    module = xm.parse_hlo(_text(name))
    data = np.load((FILES / name).with_suffix(".npz"))
    args = _inputs(module, data)
    got = _leaves(xm.compile(module, target=target)(*args))
    _compare(name, got, data, module)
