"""`chlo` ops (client HLO: the ops JAX emits that HLO has no single opcode for), expanded into HLO.

One rule per op, keyed by the op's name without the `chlo.` prefix. A rule receives the
builder of the computation being read, the operand instructions, the op's attributes as plain
Python values and the declared result types, and returns one instruction per result."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..builder import ComputationBuilder, ModuleBuilder
from ..ir import Instruction
from ..shape import Shape


@dataclass
class ChloContext:
    b: ComputationBuilder  # where the expansion's instructions go
    module: ModuleBuilder  # for reducer and comparator computations


# Attribute values as the reader hands them over: integer -> int, float -> float, bool -> bool,
# string -> str, unit attribute -> True, `array<i64: 1, 2>` and integer `dense<...>` -> tuple of ints
# (other dense literals -> numpy arrays), enums such as `#chlo<comparison_direction LT>` -> "LT".
ChloRule = Callable[[ChloContext, list[Instruction], Mapping[str, object], list[Shape]], list[Instruction]]

CHLO_RULES: dict[str, ChloRule] = {}
