"""HLO element types as CUDA C types: how each is stored, held in a register, loaded and written.

f16 and bf16 are stored as their 16 bits and computed in f32 (rounded after every op, as XLA's
float normalization does); pred is stored as a byte and held as `bool`."""
from __future__ import annotations

import math

import numpy as np

from ...hlo.dtypes import DType


class Unsupported(NotImplementedError):
    """The gpu backend has no code for this; the message says what."""


STORAGE = {"pred": "xm_u8", "s8": "signed char", "s16": "short", "s32": "int", "s64": "long long",
           "u8": "unsigned char", "u16": "unsigned short", "u32": "unsigned", "u64": "unsigned long long",
           "f16": "xm_u16", "bf16": "xm_u16", "f32": "float", "f64": "double"}
VALUE = {**STORAGE, "pred": "bool", "f16": "float", "bf16": "float"}
# Integer arithmetic happens in an unsigned type of at least 32 bits: it wraps as XLA's does (signed
# overflow is undefined in C, and u16 * u16 would overflow a promoted int).
WIDE_UNSIGNED = {"s8": "unsigned", "s16": "unsigned", "s32": "unsigned", "s64": "unsigned long long",
                 "u8": "unsigned", "u16": "unsigned", "u32": "unsigned", "u64": "unsigned long long"}
SAME_WIDTH_UNSIGNED = {"s8": "unsigned char", "s16": "unsigned short", "s32": "unsigned", "s64": "unsigned long long",
                       "u8": "unsigned char", "u16": "unsigned short", "u32": "unsigned", "u64": "unsigned long long"}


def _check(dt: DType) -> None:
    if dt.name not in STORAGE:
        raise Unsupported(f"element type {dt.name}")


def storage(dt: DType) -> str:
    _check(dt)
    return STORAGE[dt.name]


def value(dt: DType) -> str:
    _check(dt)
    return VALUE[dt.name]


def is_narrow_float(dt: DType) -> bool:
    return dt.name in ("f16", "bf16")


def math_suffix(dt: DType) -> str:
    """`f` for the float versions of libm functions (f16/bf16 compute in f32), `` for double."""
    return "" if dt.name == "f64" else "f"


def load(dt: DType, ptr: str, index: str) -> str:
    if dt.name == "pred":
        return f"({ptr}[{index}] != 0)"
    if dt.name == "f16":
        return f"xm_h2f({ptr}[{index}])"
    if dt.name == "bf16":
        return f"xm_bf2f({ptr}[{index}])"
    return f"{ptr}[{index}]"


def to_storage(dt: DType, v: str) -> str:
    if dt.name == "pred":
        return f"(xm_u8)({v})"
    if dt.name == "f16":
        return f"xm_f2h({v})"
    if dt.name == "bf16":
        return f"xm_f2bf({v})"
    return v


def round_narrow(dt: DType, v: str) -> str:
    """An f32 expression rounded to f16/bf16 precision (kept in f32); others unchanged."""
    if dt.name == "f16":
        return f"xm_rh({v})"
    if dt.name == "bf16":
        return f"xm_rbf({v})"
    return v


def literal(dt: DType, v) -> str:
    """A C literal of the value type holding exactly `v`."""
    _check(dt)
    if dt.kind == "pred":
        return "true" if bool(v) else "false"
    if dt.kind == "f":
        if dt.name == "f64":
            x = float(np.float64(v))
            if math.isfinite(x):
                return x.hex()
            return f"xm_bitsd({int(np.float64(x).view(np.int64))}LL)"
        x32 = np.float32(np.asarray(v).astype(np.float32))
        x = float(x32)
        if math.isfinite(x):
            return x.hex() + "f"
        return f"xm_bitsf({int(x32.view(np.uint32))}u)"
    iv = int(v)
    if dt.name == "s64":
        return "(-9223372036854775807LL - 1)" if iv == -(1 << 63) else f"{iv}LL"
    if dt.name == "s32":
        return "(-2147483647 - 1)" if iv == -(1 << 31) else str(iv)
    if dt.name in ("s8", "s16"):
        return f"(({VALUE[dt.name]}){iv})"
    if dt.name == "u64":
        return f"{iv}ull"
    if dt.name == "u32":
        return f"{iv}u"
    return f"(({VALUE[dt.name]}){iv}u)"
