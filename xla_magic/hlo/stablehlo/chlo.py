"""`chlo` ops (client HLO: the ops JAX emits that HLO has no single opcode for), expanded into HLO.

One rule per op, keyed by the op's name without the `chlo.` prefix. A rule receives the
builder of the computation being read, the operand instructions, the op's attributes as plain
Python values and the declared result types, and returns one instruction per result. An op or
element type no rule can take raises ChloError (a ValueError) naming both.

The rules live beside this table, grouped by what they expand: chlo_trig (acos ... tan, square,
conj), chlo_special (erf ... zeta, bessel_i1e), chlo_float (is_inf family, next_after),
chlo_array (constant, constant_like, top_k) and chlo_broadcast (the broadcast_* ops); chlo_expr
holds the expression wrapper they are written with. Every expansion uses only opcodes each
target runs, as XLA's own chlo legalization does."""
from __future__ import annotations

from .chlo_array import ARRAY_RULES
from .chlo_broadcast import broadcast_rules
from .chlo_expr import ChloContext, ChloError, ChloRule
from .chlo_float import FLOAT_RULES
from .chlo_special import SPECIAL_RULES
from .chlo_trig import TRIG_RULES

__all__ = ["CHLO_RULES", "ChloContext", "ChloError", "ChloRule"]

_ELEMENTWISE: dict[str, ChloRule] = {**TRIG_RULES, **SPECIAL_RULES, **FLOAT_RULES}

CHLO_RULES: dict[str, ChloRule] = {**_ELEMENTWISE, **ARRAY_RULES, **broadcast_rules(_ELEMENTWISE)}
