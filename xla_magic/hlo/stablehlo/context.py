"""What an op rule sees: the builder, the op's operands as HLO instructions, its attributes with
typed accessors (errors name the op and point at it), its result types, and its regions."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..builder import ComputationBuilder, ModuleBuilder
from ..ir import Computation, Instruction
from ..shape import Shape
from .attributes import Dense, Enum, Struct, Symbol
from .cursor import Cursor, StableHloParseError
from .syntax import Block, Op

_MISSING: Any = object()

# How a region becomes an HLO computation: its block arguments as parameters ("scalar": reducers,
# comparators) and the values it returns as the root.
RegionBuilder = Callable[[Block, str], Computation]


@dataclass
class OpContext:
    b: ComputationBuilder
    module: ModuleBuilder
    op: Op
    args: list[Instruction]
    results: list[Shape]
    cur: Cursor
    region: RegionBuilder

    @property
    def short(self) -> str:
        return self.op.name.split(".", 1)[-1]

    def error(self, msg: str) -> StableHloParseError:
        return self.cur.error(f"{self.op.name}: {msg}", self.op.extra.get("name_pos", self.op.pos))

    @property
    def result(self) -> Shape:
        """The single declared result type."""
        if len(self.results) != 1:
            raise self.error(f"expected one result type, found {len(self.results)}")
        return self.results[0]

    def arity(self, *counts: int) -> None:
        if len(self.args) not in counts:
            raise self.error(f"takes {' or '.join(map(str, counts))} operands, got {len(self.args)}")

    def has(self, key: str) -> bool:
        return key in self.op.attrs

    def attr(self, key: str, default: Any = _MISSING) -> Any:
        if key in self.op.attrs:
            return self.op.attrs[key]
        if default is _MISSING:
            raise self.error(f"missing attribute '{key}'")
        return default

    def ints(self, key: str, default: Any = _MISSING) -> tuple[int, ...]:
        return self.as_ints(self.attr(key, default), key)

    def as_ints(self, v: Any, what: str) -> tuple[int, ...]:
        if isinstance(v, Dense):
            arr = v.array(self.cur)
            if arr.dtype.kind not in "iu":
                raise self.error(f"'{what}' must hold integers")
            return tuple(int(x) for x in arr.reshape(-1))
        if isinstance(v, (list, tuple)) and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            return tuple(v)
        if isinstance(v, int) and not isinstance(v, bool):
            return (v,)
        raise self.error(f"'{what}' must be a list of integers")

    def integer(self, key: str, default: Any = _MISSING) -> int:
        v = self.attr(key, default)
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.error(f"'{key}' must be an integer")
        return v

    def flag(self, key: str, default: Any = _MISSING) -> bool:
        v = self.attr(key, default)
        if not isinstance(v, bool):
            raise self.error(f"'{key}' must be true or false")
        return v

    def number(self, key: str, default: Any = _MISSING) -> float:
        v = self.attr(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.error(f"'{key}' must be a number")
        return float(v)

    def enum(self, key: str, default: Any = _MISSING) -> str:
        v = self.attr(key, default)
        if isinstance(v, Enum):
            return v.value
        if isinstance(v, str):
            return v
        raise self.error(f"'{key}' must be an enum value such as #stablehlo<...>")

    def struct(self, key: str, kind: str) -> dict[str, Any]:
        v = self.attr(key)
        if not isinstance(v, Struct) or v.kind != kind:
            raise self.error(f"'{key}' must be a #stablehlo.{kind}<...> attribute")
        return v.fields

    def field_ints(self, fields: dict[str, Any], key: str) -> tuple[int, ...]:
        return self.as_ints(fields.get(key, ()), key)

    def symbol(self, key: str) -> str:
        v = self.attr(key)
        if not isinstance(v, Symbol):
            raise self.error(f"'{key}' must name a function like @f")
        return v.name

    def pairs(self, key: str, rank: int) -> list[tuple[int, int]]:
        """`padding`: dense<[[lo, hi], ...]> or [[lo, hi], ...]; all zeros when absent."""
        v = self.attr(key, None)
        if v is None:
            return [(0, 0)] * rank
        if isinstance(v, Dense):
            flat = self.as_ints(v, key)
            if len(flat) == 1 and rank != 1:  # a splat
                flat = flat * (2 * rank)
        elif isinstance(v, list) and all(isinstance(p, list) for p in v):
            flat = tuple(x for p in v for x in self.as_ints(p, key))
        else:
            raise self.error(f"'{key}' must be pairs of integers")
        if len(flat) != 2 * rank:
            raise self.error(f"'{key}' needs {rank} (low, high) pairs, got {len(flat) / 2:g}")
        return [(flat[2 * i], flat[2 * i + 1]) for i in range(rank)]

    def bools(self, key: str, n: int) -> tuple[bool, ...]:
        v = self.attr(key, None)
        if v is None:
            return (False,) * n
        if isinstance(v, Dense):
            v = [bool(x) for x in v.array(self.cur).reshape(-1)]
        if not isinstance(v, (list, tuple)) or len(v) != n or not all(isinstance(x, (bool, np.bool_)) for x in v):
            raise self.error(f"'{key}' must be {n} booleans")
        return tuple(bool(x) for x in v)

    def regions(self, n: int) -> Sequence[Block]:
        if len(self.op.regions) != n:
            raise self.error(f"needs {n} region{'s' if n != 1 else ''}, found {len(self.op.regions)}")
        return self.op.regions
