"""bitcast-convert between element widths on the cpu, against the interpreter: narrowing adds a
minor dimension of the width ratio, widening removes it, pieces in little-endian order; alone and
fused between elementwise producers and consumers."""
from __future__ import annotations

import numpy as np
import pytest

import xla_magic as xm
from xla_magic.hlo.dtypes import DTYPES

# (source, destination) element types XLA accepts (whole bytes, no complex).
PAIRS = [
    ("f32", "u8"), ("f32", "s16"), ("f32", "f16"), ("f32", "bf16"), ("f64", "f32"), ("f64", "u8"),
    ("u64", "u32"), ("u64", "s8"), ("s64", "f16"), ("f16", "s8"), ("bf16", "u8"), ("s32", "s8"),
    ("u8", "f32"), ("s8", "f16"), ("u32", "f64"), ("f16", "u32"), ("bf16", "f32"), ("s8", "u64"),
    ("f32", "f64"), ("u16", "s64"),
]


def _data(dt: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Finite values whose bits vary in every byte (NaNs may be quietened by float arithmetic)."""
    np_dt = DTYPES[dt].np_dtype
    if dt[0] in "fb":
        return (rng.standard_normal(shape) * 100).astype(np_dt)
    return rng.integers(np.iinfo(np_dt).min, np.iinfo(np_dt).max, size=shape, dtype=np_dt, endpoint=True)


def _case(src: str, dst: str, fused: bool, rng: np.random.Generator) -> tuple[str, list[np.ndarray]]:
    sb, db = DTYPES[src].bits, DTYPES[dst].bits
    dims = [3, 5]
    if sb > db:
        in_dims, out_dims = dims, [*dims, sb // db]
    else:
        in_dims, out_dims = [*dims, db // sb], dims
    ins, outs = ",".join(map(str, in_dims)), ",".join(map(str, out_dims))
    if sb < db:  # widening into a float: take the pieces of real values of the wide type
        wide = _data(dst, tuple(dims), rng)
        arg = wide.view(DTYPES[src].np_dtype).reshape(in_dims)
    else:
        arg = _data(src, tuple(in_dims), rng)
    if not fused:
        body = f"  ROOT b = {dst}[{outs}] bitcast-convert(p)\n"
    else:  # a producer (negate / xor) feeds the bitcast, a consumer (select on itself) reads it
        op = "negate" if src[0] in "fb" or src[0] == "s" else "not"
        body = (f"  n = {src}[{ins}] {op}(p)\n  b = {dst}[{outs}] bitcast-convert(n)\n"
                f"  c = pred[] constant(true)\n  t = pred[{outs}] broadcast(c), dimensions={{}}\n"
                f"  ROOT r = {dst}[{outs}] select(t, b, b)\n")
    return f"HloModule m\n\nENTRY e {{\n  p = {src}[{ins}] parameter(0)\n{body}}}\n", [arg]


@pytest.mark.parametrize("fused", [False, True], ids=["alone", "fused"])
@pytest.mark.parametrize("src,dst", PAIRS, ids=[f"{s}-{d}" for s, d in PAIRS])
def test_bitcast_convert_between_widths_matches_interpreter(src: str, dst: str, fused: bool) -> None:
    text, args = _case(src, dst, fused, np.random.default_rng(len(src) * 7 + len(dst)))
    module = xm.parse_hlo(text)
    want = np.asarray(xm.interpret(module, *args))
    got = np.asarray(xm.compile(module, target="cpu")(*args))
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes()


def test_narrowing_pieces_are_little_endian() -> None:
    module = xm.parse_hlo("HloModule m\n\nENTRY e {\n  p = u32[2] parameter(0)\n"
                          "  ROOT b = u8[2,4] bitcast-convert(p)\n}\n")
    x = np.array([0x04030201, 0xA0B0C0D0], np.uint32)
    got = np.asarray(xm.compile(module, target="cpu")(x))
    np.testing.assert_array_equal(got, [[1, 2, 3, 4], [0xD0, 0xC0, 0xB0, 0xA0]])
