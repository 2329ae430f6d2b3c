"""The implicit-broadcast `chlo` ops (`broadcast_add` ... `broadcast_zeta`, `broadcast_select`):
operands broadcast numpy-style to one shape (the lower-rank one of two through
`broadcast_dimensions` when given), then the plain elementwise op."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..ir import Instruction
from ..opcodes import Opcode
from ..shape import Shape
from .chlo_expr import ChloContext, ChloError, ChloRule


def _axes(name: str, x: Instruction, rank: int, attrs: Mapping[str, object], lower: bool) -> tuple[int, ...]:
    """Which result axis each axis of `x` lands on: `broadcast_dimensions` for the lower-rank
    operand of a binary op when given, else numpy's trailing alignment."""
    r = x.shape.rank
    given = attrs.get("broadcast_dimensions")
    if lower and given is not None:
        dims = list(given) if isinstance(given, (tuple, list)) else None
        if dims is None or len(dims) != r or any(not isinstance(d, int) or not 0 <= d < rank for d in dims) \
                or dims != sorted(set(dims)):
            raise ChloError(f"chlo.{name} broadcast_dimensions={given!r} do not fit an operand of rank {r} "
                            f"into rank {rank}")
        return tuple(dims)
    return tuple(range(rank - r, rank))


def _broadcast_to(ctx: ChloContext, x: Instruction, axes: Sequence[int], dims: Sequence[int]) -> Instruction:
    """`x` stretched to `dims`: axes of size 1 that grow are dropped by a reshape first, since a
    broadcast only adds axes."""
    keep = [i for i, d in enumerate(x.shape.dims) if d == dims[axes[i]]]
    if tuple(x.shape.dims) == tuple(dims):
        return x
    if len(keep) < x.shape.rank:
        x = ctx.b.reshape(x, [x.shape.dims[i] for i in keep])
    return ctx.b.broadcast(x, dims, [axes[i] for i in keep])


def broadcast_operands(ctx: ChloContext, name: str, operands: list[Instruction],
                       attrs: Mapping[str, object]) -> list[Instruction]:
    """The operands broadcast to their common shape; a ChloError names sizes that do not match."""
    if any(o.shape.is_tuple for o in operands):
        raise ChloError(f"chlo.{name} takes array operands")
    rank = max(o.shape.rank for o in operands)
    low = min(range(len(operands)), key=lambda i: operands[i].shape.rank)
    binary_lower = len(operands) == 2 and operands[low].shape.rank < rank
    axes = [_axes(name, o, rank, attrs, binary_lower and i == low) for i, o in enumerate(operands)]
    dims = [1] * rank
    for o, ax in zip(operands, axes, strict=True):
        for d, a in zip(o.shape.dims, ax, strict=True):
            if d != 1 and dims[a] not in (1, d):
                raise ChloError(f"chlo.{name} cannot broadcast "
                                + " and ".join(str(p.shape) for p in operands) + " together")
            dims[a] = max(dims[a], d) if d != 1 else dims[a]
    return [_broadcast_to(ctx, o, ax, dims) for o, ax in zip(operands, axes, strict=True)]


Apply = Callable[[ChloContext, list[Instruction], Mapping[str, object], list[Shape]], list[Instruction]]


def _opcode(op: Opcode) -> Apply:
    return lambda ctx, xs, attrs, types: [ctx.b.op(op, *xs)]


def _compare(ctx: ChloContext, xs: list[Instruction], attrs: Mapping[str, object],
             types: list[Shape]) -> list[Instruction]:
    direction, ctype = attrs.get("comparison_direction"), attrs.get("compare_type")
    if direction not in ("EQ", "NE", "LT", "LE", "GT", "GE"):
        raise ChloError(f"chlo.broadcast_compare needs comparison_direction EQ, NE, LT, LE, GT or GE, "
                        f"got {direction!r}")
    if ctype not in (None, "NOTYPE", "FLOAT", "TOTALORDER", "SIGNED", "UNSIGNED"):
        raise ChloError(f"chlo.broadcast_compare has an unknown compare_type {ctype!r}")
    return [ctx.b.compare(xs[0], xs[1], str(direction), None if ctype in (None, "NOTYPE") else str(ctype))]


def broadcasting(name: str, apply: Apply, arity: int = 2) -> ChloRule:
    def rule(ctx: ChloContext, operands: list[Instruction], attrs: Mapping[str, object],
             result_types: list[Shape]) -> list[Instruction]:
        if len(operands) != arity:
            raise ChloError(f"chlo.{name} takes {arity} operands, got {len(operands)}")
        out = apply(ctx, broadcast_operands(ctx, name, operands, attrs), attrs, result_types)
        for got, want in zip(out, result_types, strict=False):
            if (got.shape.dtype, got.shape.dims) != (want.dtype, want.dims):
                raise ChloError(f"chlo.{name} gives {got.shape} but its declared type is {want}")
        return out
    return rule


def broadcast_rules(elementwise: Mapping[str, ChloRule]) -> dict[str, ChloRule]:
    """The broadcast_* rules; the ones over chlo ops (next_after, polygamma, zeta) apply the
    rules in `elementwise` after broadcasting."""
    plain = {"add": Opcode.ADD, "and": Opcode.AND, "atan2": Opcode.ATAN2, "complex": Opcode.COMPLEX,
             "divide": Opcode.DIVIDE, "maximum": Opcode.MAXIMUM, "minimum": Opcode.MINIMUM,
             "multiply": Opcode.MULTIPLY, "or": Opcode.OR, "power": Opcode.POWER,
             "remainder": Opcode.REMAINDER, "shift_left": Opcode.SHIFT_LEFT,
             "shift_right_arithmetic": Opcode.SHIFT_RIGHT_ARITHMETIC,
             "shift_right_logical": Opcode.SHIFT_RIGHT_LOGICAL, "subtract": Opcode.SUBTRACT,
             "xor": Opcode.XOR}
    rules = {f"broadcast_{n}": broadcasting(f"broadcast_{n}", _opcode(op)) for n, op in plain.items()}
    for n in ("next_after", "polygamma", "zeta"):
        rules[f"broadcast_{n}"] = broadcasting(f"broadcast_{n}", elementwise[n])
    rules["broadcast_compare"] = broadcasting("broadcast_compare", _compare)
    rules["broadcast_select"] = broadcasting("broadcast_select", _opcode(Opcode.SELECT), arity=3)
    return rules
