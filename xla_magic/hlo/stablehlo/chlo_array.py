"""The `chlo` ops that make or pick whole arrays: constant, constant_like, top_k, ragged_dot."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..ir import Instruction
from ..opcodes import Opcode
from ..shape import Shape
from .chlo_expr import ChloContext, ChloError, ChloRule


def _one_result(name: str, result_types: list[Shape]) -> Shape:
    if len(result_types) != 1 or result_types[0].is_tuple:
        raise ChloError(f"chlo.{name} needs one array result type, got {len(result_types)}")
    return result_types[0]


def _value(name: str, attrs: Mapping[str, object]) -> np.ndarray:
    if "value" not in attrs:
        raise ChloError(f"chlo.{name} needs a value attribute")
    return np.asarray(attrs["value"])


def _constant(ctx: ChloContext, operands: list[Instruction], attrs: Mapping[str, object],
              result_types: list[Shape]) -> list[Instruction]:
    out = _one_result("constant", result_types)
    v = _value("constant", attrs)
    try:
        v = np.broadcast_to(v, out.dims)  # a splat `dense<1.0>` holds one value for every element
    except ValueError:
        raise ChloError(f"chlo.constant value of shape {v.shape} does not fit {out}") from None
    return [ctx.b.constant(v, out.element_type)]


def _constant_like(ctx: ChloContext, operands: list[Instruction], attrs: Mapping[str, object],
                   result_types: list[Shape]) -> list[Instruction]:
    if len(operands) != 1:
        raise ChloError(f"chlo.constant_like takes 1 operand, got {len(operands)}")
    out = _one_result("constant_like", result_types)
    v = _value("constant_like", attrs)
    if v.size != 1:
        raise ChloError(f"chlo.constant_like needs a scalar value, got shape {v.shape}")
    c = ctx.b.constant(v.reshape(()), out.element_type)
    dims = operands[0].shape.dims  # the operand's shape with the value's type
    return [ctx.b.broadcast(c, dims) if dims else c]


def _top_k(ctx: ChloContext, operands: list[Instruction], attrs: Mapping[str, object],
           result_types: list[Shape]) -> list[Instruction]:
    # XLA keeps chlo.top_k as HLO's topk instruction (values and s32 indices along the last axis)
    if len(operands) != 1:
        raise ChloError(f"chlo.top_k takes 1 operand, got {len(operands)}")
    k, largest = attrs.get("k"), attrs.get("largest", True)
    if not isinstance(k, int) or isinstance(k, bool):
        raise ChloError(f"chlo.top_k needs an integer k attribute, got {k!r}")
    x = operands[0]
    if x.shape.is_tuple or x.shape.rank < 1 or not 0 <= k <= x.shape.dims[-1]:
        raise ChloError(f"chlo.top_k k={k} does not fit operand {x.shape}")
    t = ctx.b.op(Opcode.TOPK, x, k=k, largest=bool(largest))
    return [ctx.b.get(t, 0), ctx.b.get(t, 1)]


def _ragged_dot(ctx: ChloContext, operands: list[Instruction], attrs: Mapping[str, object],
                result_types: list[Shape]) -> list[Instruction]:
    raise ChloError("chlo.ragged_dot is not supported (jax expands lax.ragged_dot into dot_general "
                    "itself on cpu; export without chlo.ragged_dot)")


ARRAY_RULES: dict[str, ChloRule] = {
    "constant": _constant,
    "constant_like": _constant_like,
    "top_k": _top_k,
    "ragged_dot": _ragged_dot,
}
