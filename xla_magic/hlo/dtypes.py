"""HLO element types and their numpy counterparts.

bf16 and the f8/f4/int4 types come from ml_dtypes (the package jax itself uses)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ml_dtypes
import numpy as np
import numpy.typing as npt

NpDType = np.dtype[Any]  # (the field `np` below hides the module inside the class)


@dataclass(frozen=True)
class DType:
    name: str  # HLO spelling: "f32", "pred", ...
    kind: str  # "pred" | "s" | "u" | "f" | "c" | "token"
    bits: int
    np: NpDType | None  # None for token

    @property
    def is_float(self) -> bool:
        return self.kind == "f"

    @property
    def is_int(self) -> bool:
        return self.kind in ("s", "u")

    @property
    def is_complex(self) -> bool:
        return self.kind == "c"

    @property
    def np_dtype(self) -> NpDType:
        """`np` typed as present: every element type but token has a numpy counterpart."""
        if self.np is None:
            raise TypeError(f"{self.name} has no numpy type")
        return self.np

    @property
    def itemsize(self) -> int:
        return self.np.itemsize if self.np is not None else 0

    def __repr__(self) -> str:
        return self.name


def _d(name: str, kind: str, bits: int, npd: npt.DTypeLike | None) -> DType:
    return DType(name, kind, bits, None if npd is None else np.dtype(npd))


_TABLE = [
    _d("pred", "pred", 8, np.bool_),
    _d("s8", "s", 8, np.int8), _d("s16", "s", 16, np.int16),
    _d("s32", "s", 32, np.int32), _d("s64", "s", 64, np.int64),
    _d("u8", "u", 8, np.uint8), _d("u16", "u", 16, np.uint16),
    _d("u32", "u", 32, np.uint32), _d("u64", "u", 64, np.uint64),
    _d("s4", "s", 4, ml_dtypes.int4), _d("u4", "u", 4, ml_dtypes.uint4),
    _d("s2", "s", 2, ml_dtypes.int2), _d("u2", "u", 2, ml_dtypes.uint2),
    _d("f16", "f", 16, np.float16), _d("bf16", "f", 16, ml_dtypes.bfloat16),
    _d("f32", "f", 32, np.float32), _d("f64", "f", 64, np.float64),
    _d("c64", "c", 64, np.complex64), _d("c128", "c", 128, np.complex128),
    _d("f8e4m3fn", "f", 8, ml_dtypes.float8_e4m3fn),
    _d("f8e5m2", "f", 8, ml_dtypes.float8_e5m2),
    _d("f8e4m3fnuz", "f", 8, ml_dtypes.float8_e4m3fnuz),
    _d("f8e5m2fnuz", "f", 8, ml_dtypes.float8_e5m2fnuz),
    _d("f8e4m3b11fnuz", "f", 8, ml_dtypes.float8_e4m3b11fnuz),
    _d("f8e4m3", "f", 8, ml_dtypes.float8_e4m3),
    _d("f8e3m4", "f", 8, ml_dtypes.float8_e3m4),
    _d("f8e8m0fnu", "f", 8, ml_dtypes.float8_e8m0fnu),
    _d("f4e2m1fn", "f", 4, ml_dtypes.float4_e2m1fn),
    _d("token", "token", 0, None),
]

DTYPES: dict[str, DType] = {d.name: d for d in _TABLE}
_BY_NP: dict[np.dtype[Any], DType] = {}
for _dt in _TABLE:
    if _dt.np is not None:
        _BY_NP.setdefault(_dt.np, _dt)

PRED, S32, S64, U32, F16, BF16, F32, F64 = (
    DTYPES[n] for n in ("pred", "s32", "s64", "u32", "f16", "bf16", "f32", "f64"))


def dtype(name: str) -> DType:
    """The DType called `name` (HLO spelling). KeyError for an unknown name."""
    return DTYPES[name]


def from_numpy(npd: npt.DTypeLike) -> DType:
    """The HLO type of a numpy dtype; TypeError when there is none."""
    d = _BY_NP.get(np.dtype(npd))
    if d is None:
        raise TypeError(f"no HLO element type for numpy dtype {np.dtype(npd)}")
    return d
