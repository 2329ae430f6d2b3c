"""Typed values of instruction attributes, and their text form.

Each known attribute name maps to one value kind (`ATTR_KINDS`); a kind knows how to read its
value from text and how to print it back. Unknown attributes are kept verbatim as `Raw`."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

_T = TypeVar("_T")


class AttrError(ValueError):
    """A malformed attribute value; `offset` is where in the value text it went wrong."""

    def __init__(self, msg: str, offset: int = 0):
        super().__init__(msg)
        self.offset = offset


@dataclass(frozen=True)
class Raw:
    """An attribute value kept as XLA wrote it (backend_config, sharding, unknown keys)."""

    text: str


class Referable:
    """An IR object that attribute values name by reference (a computation, an instruction).

    The IR's classes derive from it so that attribute text (`%name`) is written here, below
    the IR, without this module importing it."""

    __slots__ = ()
    name: str


@dataclass(frozen=True)
class CompRef:
    """A computation named in an attribute before names are resolved (parser-internal)."""

    name: str


@dataclass(frozen=True)
class WindowDim:
    size: int
    stride: int = 1
    pad_lo: int = 0
    pad_hi: int = 0
    window_dilation: int = 1  # rhs_dilate
    base_dilation: int = 1  # lhs_dilate
    reversal: bool = False


@dataclass(frozen=True)
class Window:
    dims: tuple[WindowDim, ...]

    def to_text(self) -> str:
        if not self.dims:
            return "{}"
        d = self.dims
        parts = ["size=" + "x".join(str(w.size) for w in d)]
        if any(w.stride != 1 for w in d):
            parts.append("stride=" + "x".join(str(w.stride) for w in d))
        if any(w.pad_lo or w.pad_hi for w in d):
            parts.append("pad=" + "x".join(f"{w.pad_lo}_{w.pad_hi}" for w in d))
        if any(w.base_dilation != 1 for w in d):
            parts.append("lhs_dilate=" + "x".join(str(w.base_dilation) for w in d))
        if any(w.window_dilation != 1 for w in d):
            parts.append("rhs_dilate=" + "x".join(str(w.window_dilation) for w in d))
        if any(w.reversal for w in d):
            parts.append("rhs_reversal=" + "x".join(str(int(w.reversal)) for w in d))
        return "{" + " ".join(parts) + "}"


@dataclass(frozen=True)
class ConvDims:
    """`dim_labels=b01f_01io->b01f`: which dimension of each operand plays which role."""

    input_batch: int
    input_feature: int
    input_spatial: tuple[int, ...]
    kernel_input_feature: int
    kernel_output_feature: int
    kernel_spatial: tuple[int, ...]
    output_batch: int
    output_feature: int
    output_spatial: tuple[int, ...]

    def to_text(self) -> str:
        n = len(self.input_spatial)

        def labels(rank: int, roles: dict[int, str], spatial: tuple[int, ...]) -> str:
            out = ["?"] * rank
            for pos, ch in roles.items():
                out[pos] = ch
            for i, pos in enumerate(spatial):
                out[pos] = str(i)
            return "".join(out)

        lhs = labels(n + 2, {self.input_batch: "b", self.input_feature: "f"}, self.input_spatial)
        rhs = labels(n + 2, {self.kernel_input_feature: "i", self.kernel_output_feature: "o"}, self.kernel_spatial)
        out = labels(n + 2, {self.output_batch: "b", self.output_feature: "f"}, self.output_spatial)
        return f"{lhs}_{rhs}->{out}"


@dataclass(frozen=True)
class Metadata:
    """`metadata={op_name="..." source_file="..." source_line=12 stack_frame_id=3}`."""

    op_type: str | None = None
    op_name: str | None = None
    source_file: str | None = None
    source_line: int | None = None
    stack_frame_id: int | None = None
    extra: tuple[tuple[str, str], ...] = ()  # other keys, value text verbatim

    def to_text(self) -> str:
        parts = []
        for key, v in (("op_type", self.op_type), ("op_name", self.op_name), ("source_file", self.source_file)):
            if v is not None:
                parts.append(f"{key}={quote(v)}")
        if self.source_line is not None:
            parts.append(f"source_line={self.source_line}")
        parts.extend(f"{k}={v}" for k, v in self.extra)
        if self.stack_frame_id is not None:
            parts.append(f"stack_frame_id={self.stack_frame_id}")
        return "{" + " ".join(parts) + "}"


# --- small text helpers ---------------------------------------------------------------------

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t"}
_UNESCAPE = re.compile(r"\\(.)", re.S)


def quote(s: str) -> str:
    return '"' + "".join(_ESCAPES.get(c, c) for c in s) + '"'


def unquote(s: str) -> str:
    """`"a\\"b"` -> `a"b`; the argument includes its quotes."""
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        raise AttrError("expected a quoted string")
    return _UNESCAPE.sub(lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s[1:-1])


_INT = re.compile(r"\s*(-?\d+)\s*")


def parse_int(text: str) -> int:
    m = re.fullmatch(r"\s*(-?\d+)\s*", text)
    if not m:
        raise AttrError(f"expected an integer, got '{text[:40]}'")
    return int(m.group(1))


def parse_int_list(text: str) -> tuple[int, ...]:
    t = text.strip()
    if not (t.startswith("{") and t.endswith("}")):
        raise AttrError("expected a list like {0,1}")
    body = t[1:-1].strip()
    if not body:
        return ()
    out = []
    for part in body.split(","):
        m = re.fullmatch(r"\s*(-?\d+)\s*", part)
        if not m:
            raise AttrError(f"expected an integer in the list, got '{part.strip()[:40]}'", text.find(part))
        out.append(int(m.group(1)))
    return tuple(out)


def int_list_text(v: Iterable[int]) -> str:
    return "{" + ",".join(map(str, v)) + "}"


def parse_bool(text: str) -> bool:
    if text in ("true", "false"):
        return text == "true"
    raise AttrError(f"expected true or false, got '{text[:40]}'")


_SLICE_DIM = re.compile(r"\s*\[\s*(-?\d+)\s*:\s*(-?\d+)\s*(?::\s*(-?\d+)\s*)?\]\s*")


def parse_slice(text: str) -> tuple[tuple[int, int, int], ...]:
    t = text.strip()
    if not (t.startswith("{") and t.endswith("}")):
        raise AttrError("expected slice={[start:limit:stride], ...}")
    body = t[1:-1].strip()
    if not body:
        return ()
    out = []
    for part in body.split(","):
        m = _SLICE_DIM.fullmatch(part)
        if not m:
            raise AttrError(f"expected [start:limit] or [start:limit:stride], got '{part.strip()[:40]}'")
        out.append((int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)))
    return tuple(out)


def slice_text(v: Iterable[tuple[int, int, int]]) -> str:
    return "{" + ", ".join(f"[{a}:{b}" + (f":{s}]" if s != 1 else "]") for a, b, s in v) + "}"


def parse_padding(text: str) -> tuple[tuple[int, int, int], ...]:
    """`0_0x1_2_1`: per dimension low_high[_interior]."""
    t = text.strip()
    if not t:
        return ()
    out = []
    for part in t.split("x"):
        m = re.fullmatch(r"(-?\d+)_(-?\d+)(?:_(-?\d+))?", part)
        if not m:
            raise AttrError(f"expected low_high or low_high_interior, got '{part[:40]}'")
        out.append((int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)))
    return tuple(out)


def padding_text(v: Iterable[tuple[int, int, int]]) -> str:
    return "x".join(f"{lo}_{hi}" + (f"_{it}" if it else "") for lo, hi, it in v)


def _xs(value: str, key: str) -> list[str]:
    parts = value.split("x")
    if not all(parts):
        raise AttrError(f"malformed window {key}={value}")
    return parts


def parse_window(text: str) -> Window:
    t = text.strip()
    if not (t.startswith("{") and t.endswith("}")):
        raise AttrError("expected window={size=... stride=... pad=...}")
    fields: dict[str, str] = {}
    for item in t[1:-1].split():
        k, eq, v = item.partition("=")
        if not eq or not v:
            raise AttrError(f"expected key=value in window, got '{item[:40]}'")
        fields[k] = v
    unknown = set(fields) - {"size", "stride", "pad", "lhs_dilate", "rhs_dilate", "rhs_reversal"}
    if unknown:
        raise AttrError(f"unknown window field {sorted(unknown)[0]}")
    if "size" not in fields:
        if fields:
            raise AttrError("window needs size=")
        return Window(())
    try:
        size = [int(x) for x in _xs(fields["size"], "size")]
        n = len(size)

        def per_dim(key: str, default: _T, conv: Callable[[str], _T]) -> list[_T]:
            if key not in fields:
                return [default] * n
            vals = [conv(x) for x in _xs(fields[key], key)]
            if len(vals) != n:
                raise AttrError(f"window {key} has {len(vals)} dimensions, size has {n}")
            return vals

        stride = per_dim("stride", 1, int)
        no_pad: tuple[int, ...] = (0, 0)
        pads = per_dim("pad", no_pad, lambda s: tuple(int(p) for p in s.split("_", 1)))
        if any(len(p) != 2 for p in pads):
            raise AttrError("window pad must be low_high per dimension")
        lhs = per_dim("lhs_dilate", 1, int)
        rhs = per_dim("rhs_dilate", 1, int)
        rev = per_dim("rhs_reversal", 0, int)
    except ValueError as e:
        if isinstance(e, AttrError):
            raise
        raise AttrError(f"malformed window: {e}") from None
    return Window(tuple(
        WindowDim(size[i], stride[i], pads[i][0], pads[i][1], rhs[i], lhs[i], bool(rev[i])) for i in range(n)
    ))


def parse_dim_labels(text: str) -> ConvDims:
    m = re.fullmatch(r"([a-z0-9]+)_([a-z0-9]+)->([a-z0-9]+)", text.strip())
    if not m:
        raise AttrError("expected dim_labels like b01f_01io->b01f")
    lhs, rhs, out = m.groups()

    def roles(labels: str, letters: str, what: str) -> tuple[dict[str, int], tuple[int, ...]]:
        if len(set(labels)) != len(labels):
            raise AttrError(f"repeated label in {what} '{labels}'")
        found = {}
        for ch in letters:
            if labels.count(ch) != 1:
                raise AttrError(f"{what} labels '{labels}' need exactly one '{ch}'")
            found[ch] = labels.index(ch)
        digits = sorted((int(c), i) for i, c in enumerate(labels) if c.isdigit())
        if len(digits) + len(letters) != len(labels) or [d for d, _ in digits] != list(range(len(digits))):
            raise AttrError(f"{what} labels '{labels}' must be {letters} plus spatial digits 0..n-1")
        return found, tuple(i for _, i in digits)

    (lr, ls), (rr, rs), (orr, os_) = roles(lhs, "bf", "input"), roles(rhs, "io", "kernel"), roles(out, "bf", "output")
    if not (len(ls) == len(rs) == len(os_)):
        raise AttrError("dim_labels give different numbers of spatial dimensions")
    return ConvDims(lr["b"], lr["f"], ls, rr["i"], rr["o"], rs, orr["b"], orr["f"], os_)


_META_ITEM = re.compile(r'\s*([A-Za-z_][\w]*)=("(?:[^"\\]|\\.)*"|[^\s"]+)')


def parse_metadata(text: str) -> Metadata:
    t = text.strip()
    if not (t.startswith("{") and t.endswith("}")):
        raise AttrError("expected metadata={...}")
    body, pos = t[1:-1], 0
    strings: dict[str, str] = {}
    ints: dict[str, int] = {}
    extra: list[tuple[str, str]] = []
    while True:
        while pos < len(body) and body[pos].isspace():
            pos += 1
        if pos >= len(body):
            break
        m = _META_ITEM.match(body, pos)
        if not m:
            raise AttrError("expected key=value in metadata", pos + 1)
        k, v = m.group(1), m.group(2)
        pos = m.end()
        if k in ("op_type", "op_name", "source_file"):
            strings[k] = unquote(v)
        elif k in ("source_line", "stack_frame_id") and re.fullmatch(r"-?\d+", v):
            ints[k] = int(v)
        else:
            extra.append((k, v))
    return Metadata(strings.get("op_type"), strings.get("op_name"), strings.get("source_file"),
                    ints.get("source_line"), ints.get("stack_frame_id"), tuple(extra))


def comp_list_text(comps: Iterable[Referable | CompRef]) -> str:
    return "{" + ", ".join("%" + c.name for c in comps) + "}"


# --- the table ------------------------------------------------------------------------------
# kind -> (parse(text) -> value, print(value) -> text); computation kinds are resolved by the parser.

_INT_LISTS = (
    "dimensions", "lhs_contracting_dims", "rhs_contracting_dims", "lhs_batch_dims", "rhs_batch_dims",
    "offset_dims", "collapsed_slice_dims", "start_index_map", "slice_sizes", "operand_batching_dims",
    "start_indices_batching_dims", "update_window_dims", "inserted_window_dims",
    "scatter_dims_to_operand_dims", "input_batching_dims", "scatter_indices_batching_dims",
    "dynamic_slice_sizes", "fft_length",
)
_INTS = ("index", "iota_dimension", "index_vector_dim", "feature_group_count", "batch_group_count",
         "k", "exponent_bits", "mantissa_bits")
_BOOLS = ("is_stable", "largest", "indices_are_sorted", "unique_indices", "constrain_layout")
_IDENTS = ("direction", "type", "kind", "distribution", "algorithm", "fft_type", "api_version",
           "custom_call_schedule", "rng_algorithm")
_STRINGS = ("custom_call_target",)
COMP_ATTRS = ("to_apply", "calls", "condition", "body", "true_computation", "false_computation", "select",
              "scatter")
COMP_LIST_ATTRS = ("branch_computations", "called_computations")


def _ident(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][\w.\-]*", text):
        raise AttrError(f"expected an identifier, got '{text[:40]}'")
    return text


# One row: parse(text) -> value, print(value) -> text. The value type differs from row to row,
# so the printing side takes Any.
AttrKind = tuple[Callable[[str], object], Callable[[Any], str]]


def _bool_text(v: bool) -> str:
    return "true" if v else "false"


ATTR_KINDS: dict[str, AttrKind] = {
    **{k: (parse_int_list, int_list_text) for k in _INT_LISTS},
    **{k: (parse_int, str) for k in _INTS},
    **{k: (parse_bool, _bool_text) for k in _BOOLS},
    **{k: (_ident, str) for k in _IDENTS},
    **{k: (unquote, quote) for k in _STRINGS},
    "slice": (parse_slice, slice_text),
    "padding": (parse_padding, padding_text),
    "window": (parse_window, Window.to_text),
    "dim_labels": (parse_dim_labels, ConvDims.to_text),
}


def attr_to_text(key: str, value: object) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Referable):
        return "%" + value.name
    if isinstance(value, tuple) and value and all(isinstance(c, Referable) for c in value):
        return comp_list_text(value)
    if key in COMP_LIST_ATTRS:
        return comp_list_text(cast("Iterable[Referable]", value))  # empty, or not yet resolved
    kind = ATTR_KINDS.get(key)
    if kind is None:
        return str(value)
    return kind[1](value)
