"""MLIR attribute values as Python values: integers, floats, strings, lists, dictionaries, dense
literals, `array<i64: ...>`, `#stablehlo<kind VALUE>` enums, `#stablehlo.kind<key = value>`
structs, symbols, types and locations."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy.typing as npt

from ..attrs import ConvDims
from ..shape import Shape
from .cursor import MAX_NESTING, Cursor, balanced, unescape
from .literals import DenseBody, dense_body, to_array
from .locations import parse_loc
from .types import ELEMENT_TYPES, parse_type, type_list


@dataclass(frozen=True)
class Enum:
    """`#stablehlo<comparison_direction LT>` or a bare `LT`: the value's name."""

    value: str


@dataclass(frozen=True)
class Struct:
    """`#stablehlo.gather<offset_dims = [1], index_vector_dim = 1>`: kind and fields."""

    kind: str
    fields: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class Symbol:
    """`@name`: a function or other symbol."""

    name: str


@dataclass(frozen=True)
class Opaque:
    """An attribute the reader does not interpret (other dialects' attributes, affine maps)."""

    text: str


@dataclass(frozen=True)
class FunctionType:
    inputs: tuple[Shape, ...]
    results: tuple[Shape, ...]


@dataclass
class Dense:
    """`dense<...> : tensor<...>`."""

    body: DenseBody
    shape: Shape

    def array(self, cur: Cursor) -> npt.NDArray[Any]:
        try:
            return to_array(self.body, self.shape)
        except ValueError as e:
            raise cur.error(f"bad dense literal: {e}", self.body.pos) from None


_IDENT = re.compile(r"[A-Za-z_][\w$.\-]*")
_NUMBER = re.compile(r"[-+]?(?:0x[0-9a-fA-F]+|(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?|inf|nan)")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_SYMBOL = re.compile(r'@(?:[\w$.\-]+|"(?:[^"\\]|\\.)*")(?:::@[\w$.\-]+)*')
_SCALAR_TYPE = re.compile(r"[a-zA-Z][a-zA-Z0-9]*(?![<\w])")


def typed_number(cur: Cursor, text: str) -> int | float:
    """A number, then an optional `: type` (which only says its width)."""
    value: int | float
    if "0x" in text:
        value = int(text.replace("0x", ""), 16) * (-1 if text.startswith("-") else 1)
    elif re.fullmatch(r"[-+]?\d+", text):
        value = int(text)
    else:
        value = float(text)
    save = cur.pos
    if cur.accept(":") and not cur.peek(":"):
        m = cur.match(_SCALAR_TYPE)  # `: tensor<...>` after a number is an op's signature, not its width
        if m and m.group(0) in ELEMENT_TYPES or m and m.group(0) == "index":
            if ELEMENT_TYPES.get(m.group(0), "").startswith(("f", "bf")) and isinstance(value, int) \
                    and "0x" not in text:
                value = float(value)
            return value
    cur.pos = save
    return value


def attr_value(cur: Cursor, depth: int = 0) -> Any:
    """One attribute value (recursive; nesting is capped)."""
    if depth > MAX_NESTING:
        raise cur.error(f"attributes nest deeper than {MAX_NESTING}")
    cur.ws()
    start = cur.pos
    text = cur.text
    if cur.accept("["):
        items: list[Any] = []
        if cur.accept("]"):
            return items
        while True:
            items.append(attr_value(cur, depth + 1))
            if cur.accept("]"):
                return items
            cur.expect(",", "',' or ']' in the list")
    if cur.peek("{"):
        return attr_dict(cur, depth + 1)
    if cur.peek('"'):
        m = cur.need(_STRING, "a string")
        return unescape(m.group(0))
    if cur.peek("@"):
        return Symbol(_symbol_name(cur))
    if cur.accept_word("dense_resource"):
        raise cur.error("dense_resource literals (data stored outside the text) are not supported", start)
    if cur.accept("dense<"):
        body = dense_body(cur)
        cur.expect(":", "':' and the type of the dense literal")
        return Dense(body, parse_type(cur))
    if cur.accept("array<"):
        return _array(cur, start)
    if cur.accept_word("loc"):
        return parse_loc(cur, depth)
    if cur.peek("#"):
        return _hash_attr(cur, depth)
    if cur.peek("("):
        return function_type(cur)
    if cur.accept("<"):  # `algorithm = <lhs_precision_type = tf32, ...>`: not needed to run the op
        balanced(cur, "<", ">")
        return Opaque(text[start:cur.pos])
    if cur.accept_word("unit"):
        return True
    if cur.accept_word("true"):
        return True
    if cur.accept_word("false"):
        return False
    num = _NUMBER.match(text, cur.pos)
    if num and not (num.group(0) in ("inf", "nan") and text[num.end():num.end() + 1].isalnum()):
        cur.pos = num.end()
        return typed_number(cur, num.group(0))
    if cur.peek("tensor<") or cur.peek("tuple<") or cur.peek("complex<") or cur.peek("!stablehlo.token"):
        return parse_type(cur)
    if cur.peek("!"):
        cur.need(re.compile(r"![\w.]+"), "a type")
        if text.startswith("<", cur.pos):
            cur.pos += 1
            balanced(cur, "<", ">")
        return Opaque(text[start:cur.pos])
    word = cur.match(_IDENT)
    if word:
        if word.group(0) in ELEMENT_TYPES:
            return Shape.array(ELEMENT_TYPES[word.group(0)])
        if text.startswith("<", cur.pos):  # affine_map<...>, other parametric attributes
            cur.pos += 1
            balanced(cur, "<", ">")
            return Opaque(text[start:cur.pos])
        return Enum(word.group(0))
    raise cur.error(f"expected an attribute value, found {cur.found()}")


def _symbol_name(cur: Cursor) -> str:
    m = cur.need(_SYMBOL, "a symbol such as @main")
    s = m.group(0)[1:]
    return unescape(s) if s.startswith('"') else s


def function_type(cur: Cursor) -> FunctionType:
    inputs = type_list(cur) if cur.peek("(") else [parse_type(cur)]
    cur.expect("->", "'->' in the function type")
    results = type_list(cur) if cur.peek("(") else [parse_type(cur)]
    return FunctionType(tuple(inputs), tuple(results))


def _array(cur: Cursor, start: int) -> tuple[Any, ...]:
    elem = cur.need(re.compile(r"i\d+|f\d+|bf16"), "the element type of the array").group(0)
    out: list[Any] = []
    if cur.accept(":"):
        while True:
            m = cur.need(re.compile(r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+)|true|false"), "a number")
            t = m.group(0)
            out.append(t == "true" if t in ("true", "false") else
                       float(t) if elem.startswith(("f", "b")) else int(t, 0) if "x" in t else int(t))
            if not cur.accept(","):
                break
    cur.expect(">", "'>' to close the array")
    return tuple(out)


def _hash_attr(cur: Cursor, depth: int) -> Any:
    start = cur.pos
    m = cur.need(re.compile(r"#([\w$.\-]+)"), "an attribute")
    name = m.group(1)
    if not cur.text.startswith("<", cur.pos):
        if re.fullmatch(r"loc\d*", name):
            return Opaque(m.group(0))  # a location alias, resolved by the reader
        return Opaque(m.group(0))  # an attribute alias
    cur.pos += 1
    if name in ("stablehlo", "chlo", "mhlo"):  # `#stablehlo<comparison_direction LT>`
        km = cur.need(_IDENT, "an enum kind")
        if km.group(0) in ("precision", "comparison_direction", "comparison_type", "fft_type", "rng_algorithm",
                           "rng_distribution", "transpose", "custom_call_api_version", "result_accuracy_mode"):
            vm = cur.need(_IDENT, "an enum value")
            cur.expect(">", "'>' to close the enum")
            return Enum(vm.group(0))
        balanced(cur, "<", ">")
        return Opaque(cur.text[start:cur.pos])
    kind = name.split(".", 1)[1] if name.startswith(("stablehlo.", "mhlo.")) else ""
    if kind == "conv":
        out = conv_dims(cur, start)
        cur.expect(">", "'>' to close the convolution dimensions")
        return out
    if kind in ("dot", "gather", "scatter", "output_operand_alias", "dot_algorithm", "result_accuracy"):
        fields: dict[str, Any] = {}
        if not cur.accept(">"):
            while True:
                key = cur.need(_IDENT, "a field name").group(0)
                cur.expect("=", f"'=' after {key}")
                fields[key] = pretty_value(cur, depth + 1)
                if cur.accept(">"):
                    break
                cur.expect(",", "',' or '>' between fields")
        return Struct(kind, fields)
    balanced(cur, "<", ">")
    return Opaque(cur.text[start:cur.pos])


class AttrDict(dict[str, Any]):
    """A dictionary attribute; `text` keeps it as written (typed FFI configs pass on verbatim)."""

    text: str = "{}"


def attr_dict(cur: Cursor, depth: int = 0) -> AttrDict:
    """`{key = value, unit_key, ...}`."""
    cur.expect("{")
    start = cur.pos - 1
    out = AttrDict()
    if cur.accept("}"):
        return out
    while True:
        cur.ws()
        if cur.peek('"'):
            key = unescape(cur.need(_STRING, "a key").group(0))
        else:
            key = cur.need(_IDENT, "an attribute name").group(0)
        out[key] = attr_value(cur, depth + 1) if cur.accept("=") else True
        if cur.accept("}"):
            out.text = cur.text[start:cur.pos]
            return out
        cur.expect(",", "',' or '}' in the attribute dictionary")


def pretty_value(cur: Cursor, depth: int = 0) -> Any:
    """An attribute value in an op's custom syntax: as attr_value, plus `[1] x [0]` pairs and
    `[b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]` convolution layouts."""
    cur.ws()
    start = cur.pos
    v = attr_value(cur, depth)
    if isinstance(v, list) and cur.accept_word("x"):
        w = attr_value(cur, depth)
        if cur.peek("->"):
            cur.pos = start
            return conv_dims(cur, start)
        return (v, w)
    return v


_LABEL = re.compile(r"\d+|[a-z]")


def conv_dims(cur: Cursor, start: int) -> ConvDims:
    """`[b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]` (or `raw` fields) as HLO's ConvDims."""
    if cur.accept_word("raw"):
        return _raw_conv_dims(cur, start)

    def labels(roles: str) -> tuple[dict[str, int], tuple[int, ...]]:
        cur.expect("[", "'[' to open the dimension labels")
        found: dict[str, int] = {}
        spatial: dict[int, int] = {}
        pos = 0
        while True:
            m = cur.need(_LABEL, "a dimension label")
            t = m.group(0)
            if t.isdigit():
                if int(t) in spatial:
                    raise cur.error(f"spatial dimension {t} appears twice", m.start())
                spatial[int(t)] = pos
            elif t in roles and t not in found:
                found[t] = pos
            else:
                raise cur.error(f"unexpected dimension label '{t}' (expected {', '.join(roles)} or digits)", m.start())
            pos += 1
            if cur.accept("]"):
                break
            cur.expect(",", "',' or ']' in the dimension labels")
        if len(found) != 2 or sorted(spatial) != list(range(len(spatial))):
            raise cur.error(f"dimension labels need {' and '.join(roles)} and spatial dimensions 0..n-1", start)
        return found, tuple(spatial[k] for k in range(len(spatial)))

    lhs, ls = labels("bf")
    if not cur.accept_word("x"):
        cur.expect("x", "'x' between the input and kernel labels")
    rhs, rs = labels("io")
    cur.expect("->", "'->' before the output labels")
    out, os_ = labels("bf")
    if not len(ls) == len(rs) == len(os_):
        raise cur.error("the convolution's labels give different numbers of spatial dimensions", start)
    return ConvDims(lhs["b"], lhs["f"], ls, rhs["i"], rhs["o"], rs, out["b"], out["f"], os_)


def _raw_conv_dims(cur: Cursor, start: int) -> ConvDims:
    fields: dict[str, Any] = {}
    while True:
        key = cur.need(_IDENT, "a field name").group(0)
        cur.expect("=", f"'=' after {key}")
        fields[key] = attr_value(cur)
        if not cur.accept(","):
            break
    try:
        return ConvDims(int(fields["input_batch_dimension"]), int(fields["input_feature_dimension"]),
                        tuple(fields["input_spatial_dimensions"]), int(fields["kernel_input_feature_dimension"]),
                        int(fields["kernel_output_feature_dimension"]), tuple(fields["kernel_spatial_dimensions"]),
                        int(fields["output_batch_dimension"]), int(fields["output_feature_dimension"]),
                        tuple(fields["output_spatial_dimensions"]))
    except (KeyError, TypeError, ValueError) as e:
        raise cur.error(f"incomplete convolution dimensions ({e})", start) from None

