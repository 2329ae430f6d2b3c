"""MLIR types as HLO shapes: `tensor<4x8xf32>`, `tensor<complex<f32>>`, `tuple<...>`, `!stablehlo.token`.

Dynamic (`?`), bounded and unranked tensors and quantized element types have no HLO shape here:
they are refused with an error naming them."""
from __future__ import annotations

import re

from ..dtypes import DTYPES, DType
from ..shape import Shape
from .cursor import MAX_NESTING, Cursor

# MLIR element type spelling -> HLO element type name.
ELEMENT_TYPES: dict[str, str] = {
    "i1": "pred", "i2": "s2", "i4": "s4", "i8": "s8", "i16": "s16", "i32": "s32", "i64": "s64",
    "ui2": "u2", "ui4": "u4", "ui8": "u8", "ui16": "u16", "ui32": "u32", "ui64": "u64",
    "si8": "s8", "si16": "s16", "si32": "s32", "si64": "s64",
    "f16": "f16", "bf16": "bf16", "f32": "f32", "f64": "f64",
    "f8E4M3FN": "f8e4m3fn", "f8E5M2": "f8e5m2", "f8E4M3FNUZ": "f8e4m3fnuz", "f8E5M2FNUZ": "f8e5m2fnuz",
    "f8E4M3B11FNUZ": "f8e4m3b11fnuz", "f8E4M3": "f8e4m3", "f8E3M4": "f8e3m4", "f8E8M0FNU": "f8e8m0fnu",
    "f4E2M1FN": "f4e2m1fn", "complex<f32>": "c64", "complex<f64>": "c128",
    "index": "s64",  # in attributes only (layouts of custom calls)
}
_ELEMENT = re.compile(r"complex<\s*(f32|f64)\s*>|[a-zA-Z][a-zA-Z0-9]*")
_DIM = re.compile(r"(\d+)x|\?x?|\*x?")
TOKEN = Shape.array("token")


def element_type(cur: Cursor) -> DType:
    start = cur.pos
    m = cur.need(_ELEMENT, "an element type such as f32")
    spelled = "complex<" + m.group(1) + ">" if m.group(1) else m.group(0)
    name = ELEMENT_TYPES.get(spelled)
    if name is None:
        if spelled.startswith("complex"):
            raise cur.error(f"unsupported complex element type '{spelled}'", start)
        raise cur.error(f"unknown or unsupported element type '{spelled}'", start)
    return DTYPES[name]


def tensor_type(cur: Cursor) -> Shape:
    """After `tensor<`: dimensions `4x8x`, the element type, an optional encoding, `>`."""
    start = cur.pos
    dims: list[int] = []
    while True:
        cur.ws()
        m = _DIM.match(cur.text, cur.pos)
        if not m:
            break
        if m.group(1) is None:
            what = "unranked" if m.group(0).startswith("*") else "dynamic ('?')"
            raise cur.error(f"{what} dimensions are not supported: give the tensor a static shape", m.start())
        cur.pos = m.end()
        dims.append(int(m.group(1)))
    if cur.peek("!quant"):
        raise cur.error("quantized element types are not supported", cur.pos)
    dt = element_type(cur)
    if cur.accept(","):  # an encoding: bounds of a dynamic shape, sparsity
        raise cur.error("tensor encodings (bounded or sparse tensors) are not supported", start)
    cur.expect(">", "'>' to close the tensor type")
    return Shape.array(dt, dims)


_STATIC_TENSOR = re.compile(r"tensor<((?:\d+x)*)([a-zA-Z][a-zA-Z0-9]*)>")
_TENSOR_CACHE: dict[str, Shape] = {}  # `tensor<16x64xf32>` -> its shape: programs repeat few types


def _static_tensor(cur: Cursor) -> Shape | None:
    """The common `tensor<4x8xf32>` read at once; None for anything else (read the long way)."""
    m = _STATIC_TENSOR.match(cur.text, cur.pos)
    if m is None:
        return None
    shape = _TENSOR_CACHE.get(m.group(0))
    if shape is None:
        name = ELEMENT_TYPES.get(m.group(2))
        if name is None:
            return None
        shape = Shape.array(DTYPES[name], [int(d) for d in m.group(1).split("x")[:-1]])
        if len(_TENSOR_CACHE) < 4096:
            _TENSOR_CACHE[m.group(0)] = shape
    cur.pos = m.end()
    return shape


def parse_type(cur: Cursor) -> Shape:
    """One type; tuples are read with an explicit stack."""
    cur.ws()
    fast = _static_tensor(cur)
    if fast is not None:
        return fast
    stack: list[list[Shape]] = []
    while True:
        start = cur.pos
        if cur.accept("tuple<"):
            if len(stack) >= MAX_NESTING:
                raise cur.error(f"tuple types nest deeper than {MAX_NESTING}")
            if cur.accept(">"):
                done = Shape.tuple_of(())
            else:
                stack.append([])
                continue
        elif cur.accept("tensor<"):
            done = tensor_type(cur)
        elif cur.accept("!stablehlo.token") or cur.accept("!mhlo.token"):
            done = TOKEN
        elif cur.peek("!"):
            raise cur.error(f"unsupported type {cur.found()}", start)
        else:
            cur.ws()
            if cur.peek("memref<") or cur.peek("vector<"):
                raise cur.error(f"unsupported type {cur.found()}: only tensors, tuples and tokens are", start)
            done = Shape.array(element_type(cur))  # a bare element type: a scalar (attribute types)
        while True:
            if not stack:
                return done
            stack[-1].append(done)
            if cur.accept(","):
                break
            cur.expect(">", "',' or '>' in the tuple type")
            done = Shape.tuple_of(stack.pop())


def starts_type(cur: Cursor) -> bool:
    cur.ws()
    return bool(re.compile(r"tensor<|tuple<|!|complex<|(?:i|ui|si|bf|f)\d").match(cur.text, cur.pos))


def type_list(cur: Cursor) -> list[Shape]:
    """`T, T, ...` or `(T, ...)` (possibly empty)."""
    if cur.accept("("):
        out: list[Shape] = []
        if cur.accept(")"):
            return out
        while True:
            out.append(parse_type(cur))
            if cur.accept(")"):
                return out
            cur.expect(",", "',' or ')' in the type list")
    out = [parse_type(cur)]
    while cur.peek(","):
        save = cur.pos
        cur.accept(",")
        if not starts_type(cur):
            cur.pos = save
            break
        out.append(parse_type(cur))
    return out
