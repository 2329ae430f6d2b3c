"""select-and-scatter on the cpu backend against the interpreter: windows of rank 1, 2 and 4,
strides, padding, overlapping windows, dilation, ties under GE/GT/LE selects, several dtypes."""
from __future__ import annotations

import numpy as np
import pytest

import xla_magic as xm

pytest.importorskip("llvmlite")

_SELECT = """select_{d} {{
  a = {t}[] parameter(0)
  b = {t}[] parameter(1)
  ROOT c = pred[] compare(a, b), direction={d}
}}
"""
_SCATTER = """scatter_{op} {{
  a = {t}[] parameter(0)
  b = {t}[] parameter(1)
  ROOT c = {t}[] {op}(a, b)
}}
"""


def _text(dt: str, dims: tuple[int, ...], size: tuple[int, ...], stride: tuple[int, ...],
          pad: tuple[tuple[int, int], ...], direction: str, scatter: str,
          dilation: tuple[int, ...] | None) -> tuple[str, tuple[int, ...]]:
    dil = dilation or (1,) * len(dims)
    src = tuple((n + lo + hi - ((s - 1) * w + 1)) // st + 1
                for n, s, st, (lo, hi), w in zip(dims, size, stride, pad, dil))
    shape = lambda d: f"{dt}[{','.join(map(str, d))}]"  # noqa: E731
    window = f"size={'x'.join(map(str, size))} stride={'x'.join(map(str, stride))} " \
             f"pad={'x'.join(f'{lo}_{hi}' for lo, hi in pad)}"
    if dilation:
        window += f" rhs_dilate={'x'.join(map(str, dilation))}"
    text = (f"HloModule sas\n\n{_SELECT.format(d=direction, t=dt)}\n{_SCATTER.format(op=scatter, t=dt)}\n"
            f"ENTRY e {{\n  x = {shape(dims)} parameter(0)\n  s = {shape(src)} parameter(1)\n"
            f"  i = {dt}[] parameter(2)\n"
            f"  ROOT r = {shape(dims)} select-and-scatter(x, s, i), window={{{window}}}, "
            f"select=select_{direction}, scatter=scatter_{scatter}\n}}\n")
    return text, src


def _values(rng: np.random.Generator, dt: str, shape: tuple[int, ...], ties: bool) -> np.ndarray:
    npd = {"f32": np.float32, "f64": np.float64, "s32": np.int32, "u8": np.uint8, "s64": np.int64}.get(dt)
    if npd is None:
        import ml_dtypes

        npd = {"f16": np.float16, "bf16": ml_dtypes.bfloat16}[dt]
    if ties or np.dtype(npd).kind in "iu":
        return rng.integers(0, 4, shape).astype(npd)  # many equal values in a window
    return rng.standard_normal(shape).astype(npd)


CASES = {
    # name: dtype, operand dims, window size, stride, padding, select direction, scatter, dilation, ties
    "1d": ("f32", (10,), (3,), (2,), ((0, 0),), "GE", "add", None, False),
    "1d_padded": ("f32", (9,), (3,), (2,), ((1, 2),), "GE", "add", None, False),
    "1d_all_padding_windows": ("f32", (3,), (2,), (1,), ((3, 3),), "GE", "add", None, False),
    "2d_pool": ("f32", (8, 8), (2, 2), (2, 2), ((0, 0), (0, 0)), "GE", "add", None, False),
    "2d_overlapping": ("f32", (7, 6), (3, 3), (1, 2), ((0, 0), (0, 0)), "GE", "add", None, False),
    "2d_padded_overlapping": ("f64", (6, 5), (3, 2), (2, 1), ((1, 1), (0, 1)), "GE", "add", None, False),
    "2d_ties_ge": ("f32", (6, 6), (3, 3), (1, 1), ((1, 1), (1, 1)), "GE", "add", None, True),
    "2d_ties_gt": ("f32", (6, 6), (3, 3), (1, 1), ((1, 1), (1, 1)), "GT", "add", None, True),
    "2d_min_le": ("f32", (6, 7), (2, 3), (2, 2), ((0, 1), (1, 1)), "LE", "add", None, True),
    "2d_scatter_max": ("f32", (6, 6), (3, 3), (1, 1), ((0, 0), (0, 0)), "GE", "maximum", None, False),
    "2d_dilated": ("f32", (9, 8), (2, 2), (1, 2), ((0, 0), (1, 0)), "GE", "add", (2, 3), False),
    "4d_nhwc_pool": ("f32", (2, 6, 6, 3), (1, 2, 2, 1), (1, 2, 2, 1), ((0, 0),) * 4, "GE", "add", None, False),
    "4d_nhwc_same": ("f32", (2, 5, 5, 2), (1, 3, 3, 1), (1, 2, 2, 1), ((0, 0), (1, 1), (1, 1), (0, 0)), "GE",
                     "add", None, False),
    "s32": ("s32", (8, 6), (2, 3), (2, 1), ((0, 0), (1, 1)), "GE", "add", None, True),
    "u8_gt": ("u8", (7,), (3,), (1,), ((1, 1),), "GT", "add", None, True),
    "s64": ("s64", (6, 4), (2, 2), (1, 1), ((0, 0), (0, 0)), "GE", "multiply", None, True),
    "f16": ("f16", (6, 6), (2, 2), (2, 2), ((0, 0), (0, 0)), "GE", "add", None, False),
    "bf16_ties": ("bf16", (5, 5), (3, 3), (1, 1), ((1, 1), (1, 1)), "GE", "add", None, True),
}


@pytest.mark.parametrize("case", list(CASES))
def test_select_and_scatter_matches_the_interpreter(case):
    dt, dims, size, stride, pad, direction, scatter, dilation, ties = CASES[case]
    text, src = _text(dt, dims, size, stride, pad, direction, scatter, dilation)
    m = xm.parse_hlo(text)
    rng = np.random.default_rng(sum(map(ord, case)))
    x = _values(rng, dt, dims, ties)
    s = _values(rng, dt, src, False) if dt not in ("u8", "s32", "s64") else rng.integers(1, 3, src).astype(x.dtype)
    init = np.asarray(1 if scatter == "multiply" else 0, x.dtype)
    want = xm.interpret(m, x, s, init)
    got = xm.compile(m, target="cpu", cache=False)(x, s, init)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(np.asarray(got, np.float64), np.asarray(want, np.float64))
    assert np.any(np.asarray(got, np.float64) != float(init)) or np.prod(src) == 0 or case == "1d_all_padding_windows"


def test_a_window_only_over_padding_selects_nothing():
    text, src = _text("f32", (3,), (2,), (1,), ((3, 3),), "GE", "add", None)
    m = xm.parse_hlo(text)
    x = np.arange(3, dtype=np.float32)
    s = np.ones(src, np.float32)
    got = xm.compile(m, target="cpu", cache=False)(x, s, np.float32(0.5))
    # Windows 0-1 and 7-8 lie wholly in the padding; each other one picks its largest element.
    np.testing.assert_array_equal(got, xm.interpret(m, x, s, np.float32(0.5)))
    assert got[2] > got[0]


def test_the_gpu_backend_rejects_select_and_scatter_by_name():
    from xla_magic.backends.gpu.ctype import Unsupported
    from xla_magic.backends.gpu.elemental import Constants
    from xla_magic.backends.gpu.kernels import define_kernel
    from xla_magic.backends.program_values import as_computation

    text, _ = _text("f32", (8,), (2,), (2,), ((0, 0),), "GE", "add", None)
    root = xm.parse_hlo(text).entry.root
    with pytest.raises(Unsupported, match=r"select-and-scatter \('r'\)"):
        define_kernel("k", "", as_computation(root), Constants())
