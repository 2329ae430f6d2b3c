"""`dense<...>` literals: splats, nested lists, hex blobs of the raw bytes, complex pairs.

The body is read before its type (the type follows the closing `>`), so reading and converting
are two steps: `dense_body` then `to_array`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..dtypes import DType
from ..shape import Shape
from .cursor import MAX_NESTING, Cursor

_NUMBER = re.compile(r"[-+]?(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf|nan)|true|false")
_HEX_BLOB = re.compile(r'"0x([0-9a-fA-F]*)"')
Scalar = bool | int | float | str  # str: a hex bit pattern "0x7F800000"
Element = Scalar | tuple[Scalar, Scalar]  # complex values are (real, imag)


@dataclass
class DenseBody:
    """A dense literal as read: `hex` bytes, or `values` row-major with the list nesting `dims`
    (None for a splat)."""

    values: list[Element]
    dims: tuple[int, ...] | None
    hex: bytes | None
    pos: int


def _scalar(cur: Cursor) -> Scalar:
    t = cur.need(_NUMBER, "a number, true or false").group(0)
    if t in ("true", "false"):
        return t == "true"
    if "0x" in t:
        return t
    if re.fullmatch(r"[-+]?\d+", t):
        return int(t)
    return float(t)


def _element(cur: Cursor) -> Element:
    if cur.accept("("):
        re_ = _scalar(cur)
        cur.expect(",", "',' between the real and imaginary parts")
        im = _scalar(cur)
        cur.expect(")", "')' after the imaginary part")
        return (re_, im)
    return _scalar(cur)


def dense_body(cur: Cursor) -> DenseBody:
    """The text after `dense<` up to and including the closing `>`."""
    start = cur.pos
    m = cur.match(_HEX_BLOB)
    if m:
        cur.expect(">", "'>' to close the dense literal")
        return DenseBody([], None, bytes.fromhex(m.group(1)) if len(m.group(1)) % 2 == 0 else b"\0", start)
    if cur.peek('"'):
        raise cur.error("expected a hex string like \"0x0000803F\" in the dense literal")
    values: list[Element] = []
    if cur.accept(">"):  # `dense<>`: no elements
        return DenseBody(values, (0,), None, start)
    if not cur.peek("["):
        values.append(_element(cur))
        cur.expect(">", "'>' to close the dense literal")
        return DenseBody(values, None, None, start)
    dims: list[int | None] = []  # list length per nesting level, as first seen
    counts: list[int] = []
    leaf_depth: int | None = None
    after_item = just_comma = False
    cur.expect("[")
    counts.append(0)
    dims.append(None)
    while counts:
        if cur.accept("]"):
            if just_comma:
                raise cur.error("expected a value after ','")
            n = counts.pop()
            if dims[len(counts)] is None:
                dims[len(counts)] = n
            elif dims[len(counts)] != n:
                raise cur.error("the dense literal's lists differ in length")
            if counts:
                counts[-1] += 1
            after_item = True
            continue
        if after_item:
            cur.expect(",", "',' or ']' in the dense literal")
            after_item, just_comma = False, True
            continue
        just_comma = False
        if cur.accept("["):
            if len(counts) >= MAX_NESTING:
                raise cur.error(f"dense literals nest deeper than {MAX_NESTING}")
            counts.append(0)
            if len(dims) < len(counts):
                dims.append(None)
            continue
        if leaf_depth is None:
            leaf_depth = len(counts)
        elif leaf_depth != len(counts):
            raise cur.error("the dense literal's lists nest unevenly")
        values.append(_element(cur))
        counts[-1] += 1
        after_item = True
    cur.expect(">", "'>' to close the dense literal")
    if leaf_depth is not None and leaf_depth != len(dims):
        raise cur.error("the dense literal's lists nest unevenly", start)
    return DenseBody(values, tuple(d or 0 for d in dims), None, start)


def _bits_to_float(bits: int, dt: DType) -> Any:
    width = max(dt.bits, 8)
    raw = np.array([bits & ((1 << width) - 1)], dtype=f"u{width // 8}")
    return raw.view(dt.np_dtype)[0]


def _component(v: Scalar, dt: DType) -> Any:
    """One element as a numpy scalar of `dt` (a real type)."""
    if isinstance(v, str):  # a bit pattern
        bits = int(v, 16)
        if dt.is_float:
            return _bits_to_float(bits, dt)
        if dt.kind == "s" and 1 << (dt.bits - 1) <= bits < 1 << dt.bits:
            bits -= 1 << dt.bits  # two's complement
        v = bits
    if dt.kind == "pred":
        if not isinstance(v, bool) and v not in (0, 1):
            raise ValueError(f"{v} is not a boolean")
        return bool(v)
    if dt.is_int:
        if isinstance(v, float):
            raise ValueError(f"{v} is not an integer")
        iv = int(v)
        lo, hi = (-(1 << (dt.bits - 1)), (1 << (dt.bits - 1)) - 1) if dt.kind == "s" else (0, (1 << dt.bits) - 1)
        if not lo <= iv <= hi:
            if dt.kind == "u" and -(1 << (dt.bits - 1)) <= iv < 0:
                iv += 1 << dt.bits  # MLIR may print unsigned values as their signed bit pattern
            else:
                raise ValueError(f"{iv} does not fit {dt.name}")
        return iv
    with np.errstate(over="ignore"):
        return dt.np_dtype.type(float(v))


def _from_hex(data: bytes, dt: DType, count: int) -> npt.NDArray[Any]:
    size = 1 if dt.bits < 8 or dt.kind == "pred" else dt.itemsize
    if len(data) == size * count:
        n = count
    elif len(data) == size:
        n = 1  # a splat
    else:
        raise ValueError(f"the hex data holds {len(data)} bytes, but {count} elements of {dt.name} need "
                         f"{size * count}")
    if dt.kind == "pred":
        flags: npt.NDArray[Any] = np.frombuffer(data, np.uint8, n) != 0
        return flags
    if dt.bits < 8:
        raw = np.frombuffer(data, np.uint8, n) & ((1 << dt.bits) - 1)
        if dt.is_int:
            signed = raw.astype(np.int16)
            if dt.kind == "s":
                signed = np.where(signed >= 1 << (dt.bits - 1), signed - (1 << dt.bits), signed)
            return signed.astype(dt.np_dtype)
        return raw.view(dt.np_dtype)
    out: npt.NDArray[Any] = np.frombuffer(data, dt.np_dtype.newbyteorder("<"), n).astype(dt.np_dtype)
    return out


def to_array(body: DenseBody, shape: Shape) -> npt.NDArray[Any]:
    """The literal as an array of `shape`; ValueError says why it does not fit."""
    if shape.is_tuple or shape.element_type.np is None:
        raise ValueError(f"a dense literal cannot have type {shape.to_text(False)}")
    dt = shape.element_type
    if body.hex is not None:
        arr = _from_hex(body.hex, dt, shape.size)
    else:
        if body.dims is not None and body.dims != shape.dims and not (shape.size == len(body.values) == 0):
            raise ValueError(f"the literal's lists are {list(body.dims)}, but the type has dimensions "
                             f"{list(shape.dims)}")
        if dt.is_complex:
            comp = DType("f", "f", dt.bits // 2, np.dtype(np.float32 if dt.bits == 64 else np.float64))
            vals = []
            for v in body.values:
                r, i = v if isinstance(v, tuple) else (v, 0.0)
                vals.append(complex(float(_component(r, comp)), float(_component(i, comp))))
            arr = np.array(vals, dtype=dt.np_dtype)
        else:
            if any(isinstance(v, tuple) for v in body.values):
                raise ValueError(f"complex values in a literal of {dt.name}")
            vals_r = [_component(v, dt) for v in body.values if not isinstance(v, tuple)]
            arr = np.array(vals_r, dtype=dt.np_dtype) if vals_r else np.zeros(0, dt.np_dtype)
    if arr.size == 1 and shape.size != 1:
        return np.full(shape.dims, arr.reshape(()), dtype=dt.np_dtype)
    if arr.size != shape.size:
        raise ValueError(f"{arr.size} values for a tensor of {shape.size} elements")
    return arr.reshape(shape.dims)
