"""The algebraic simplifier: a table of rewrite rules, one per line, each with its algebra.

A rule takes an instruction and a Builder and returns the instruction that replaces it, or
None. Rules see operands that are already simplified (instructions are visited operands
first), so chains such as reshape(reshape(broadcast(x))) collapse in one sweep."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..hlo.dtypes import DType
from ..hlo.ir import Computation, Instruction, Module, NameGen, forward_all_uses, forward_uses, topological_sort
from ..hlo.opcodes import Opcode as O
from ..hlo.shape import Shape

Scalar = bool | int | float | complex  # what a constant holds, as a Python value

# --- what a rule may ask about an operand ----------------------------------------------------


def scalar_value(i: Instruction) -> Scalar | None:
    """The single value of a constant, or of a broadcast of a scalar constant; else None."""
    if i.opcode is O.BROADCAST and i.operands[0].shape.rank == 0:
        i = i.operands[0]
    if i.opcode is not O.CONSTANT or i.literal is None or i.literal.size == 0:
        return None
    flat = i.literal.reshape(-1)
    first = flat[0]
    if flat.size > 1 and not (np.all(flat == first) and not (flat.dtype.kind == "f" and np.isnan(first))):
        return None
    value: Scalar = first.item() if hasattr(first, "item") else first
    return value


def is_const(i: Instruction) -> bool:
    return i.opcode is O.CONSTANT or (i.opcode is O.BROADCAST and i.operands[0].opcode is O.CONSTANT)


def _is(i: Instruction, value: float) -> bool:
    v = scalar_value(i)
    # Same bit pattern matters for 0: -0.0 is not an additive identity for -0.0 + 0 under IEEE,
    # but XLA treats both as zero here; NaN never equals.
    return v is not None and not (isinstance(v, float) and np.isnan(v)) and v == value


def is_zero(i: Instruction) -> bool: return _is(i, 0)
def is_one(i: Instruction) -> bool: return _is(i, 1)


def is_true(i: Instruction) -> bool:
    v = scalar_value(i)
    return v is not None and i.shape.element_type.kind == "pred" and bool(v)


def is_false(i: Instruction) -> bool:
    v = scalar_value(i)
    return v is not None and i.shape.element_type.kind == "pred" and not bool(v)


def is_neg_inf(i: Instruction) -> bool: return _is(i, float("-inf")) and i.shape.element_type.is_float
def is_pos_inf(i: Instruction) -> bool: return _is(i, float("inf")) and i.shape.element_type.is_float


def is_int(i: Instruction) -> bool:
    return i.shape.dtype is not None and i.shape.dtype.kind in ("s", "u")


def is_identity_perm(p: Sequence[int]) -> bool:
    return tuple(p) == tuple(range(len(p)))


class Builder:
    """Makes replacement instructions: fresh names, the metadata of the instruction replaced."""

    def __init__(self, comp: Computation, names: NameGen):
        self.comp, self.names = comp, names
        self.current: Instruction | None = None  # the instruction being rewritten
        self.added: list[Instruction] = []

    def make(self, opcode: O, shape: Shape, operands: Iterable[Instruction], attrs: Mapping[str, object] | None = None,
             literal: npt.NDArray[Any] | None = None) -> Instruction:
        cur = self.current
        i = Instruction(self.names(opcode.value), opcode, shape, list(operands), dict(attrs or {}),
                        cur.metadata if cur else None, literal, None, cur.line if cur else 0)
        self.added.append(i)
        return i

    def constant(self, value: Scalar | npt.NDArray[Any], shape: Shape) -> Instruction:
        literal = np.asarray(value, shape.element_type.np)
        scalar = self.make(O.CONSTANT, Shape(shape.dtype, ()), [], literal=literal)
        return scalar if shape.rank == 0 else self.make(O.BROADCAST, shape.with_dims(shape.dims), [scalar],
                                                        {"dimensions": ()})

    def same(self, i: Instruction, operands: Iterable[Instruction]) -> Instruction:
        return self.make(i.opcode, i.shape, operands, i.attrs)


# --- composite rules (too long for one line) -------------------------------------------------

_COMMUTATIVE = (O.ADD, O.MULTIPLY, O.MAXIMUM, O.MINIMUM, O.AND, O.OR, O.XOR)
_SWAPPED_DIRECTION = {"LT": "GT", "GT": "LT", "LE": "GE", "GE": "LE", "EQ": "EQ", "NE": "NE"}


def constant_to_right(i: Instruction, b: Builder) -> Instruction | None:
    a, c = i.operands
    if is_const(a) and not is_const(c):
        return b.same(i, [c, a])
    return None


def compare_constant_to_right(i: Instruction, b: Builder) -> Instruction | None:
    a, c = i.operands
    if is_const(a) and not is_const(c):
        attrs = dict(i.attrs)
        attrs["direction"] = _SWAPPED_DIRECTION[attrs["direction"]]
        return b.make(O.COMPARE, i.shape, [c, a], attrs)
    return None


def reshape_of_reshape(i: Instruction, b: Builder) -> Instruction | None:
    src = i.operands[0]
    if src.opcode is O.RESHAPE:
        return b.make(O.RESHAPE, i.shape, [src.operands[0]])
    return None


def reshape_of_scalar_broadcast(i: Instruction, b: Builder) -> Instruction | None:
    src = i.operands[0]
    if src.opcode is O.BROADCAST and src.operands[0].shape.rank == 0:
        return b.make(O.BROADCAST, i.shape, [src.operands[0]], {"dimensions": ()})
    return None


def _degenerate_map(src: Shape, dst: Shape) -> list[tuple[int, int]] | None:
    """If dst is src with size-1 dimensions added or removed, for each src dim that is not 1 the
    dst dim it lands in; else None."""
    s = [k for k, d in enumerate(src.dims) if d != 1]
    t = [k for k, d in enumerate(dst.dims) if d != 1]
    if [src.dims[k] for k in s] != [dst.dims[k] for k in t]:
        return None
    return list(zip(s, t))


def broadcast_of_degenerate_reshape(i: Instruction, b: Builder) -> Instruction | None:
    """broadcast(reshape(A)) where the reshape only adds/drops 1-sized dims => broadcast(A)."""
    src = i.operands[0]
    if src.opcode is not O.RESHAPE:
        return None
    a = src.operands[0]
    pairs = _degenerate_map(a.shape, src.shape)
    if pairs is None or any(d == 1 for d in a.shape.dims):
        return None
    dims = i.attrs["dimensions"]
    return b.make(O.BROADCAST, i.shape, [a], {"dimensions": tuple(dims[t] for _, t in pairs)})


def broadcast_of_broadcast(i: Instruction, b: Builder) -> Instruction | None:
    src = i.operands[0]
    if src.opcode is not O.BROADCAST:
        return None
    outer = i.attrs["dimensions"]
    return b.make(O.BROADCAST, i.shape, [src.operands[0]],
                  {"dimensions": tuple(outer[d] for d in src.attrs["dimensions"])})


def transpose_of_transpose(i: Instruction, b: Builder) -> Instruction | None:
    src = i.operands[0]
    if src.opcode is not O.TRANSPOSE:
        return None
    inner, outer = src.attrs["dimensions"], i.attrs["dimensions"]
    return b.make(O.TRANSPOSE, i.shape, [src.operands[0]], {"dimensions": tuple(inner[d] for d in outer)})


def transpose_is_reshape(i: Instruction, b: Builder) -> Instruction | None:
    """A transpose that only moves 1-sized dims keeps the element order: it is a reshape."""
    perm = i.attrs["dimensions"]
    src = i.operands[0].shape
    moved = [p for p in perm if src.dims[p] != 1]
    if moved == sorted(moved) and not is_identity_perm(perm):
        return b.make(O.RESHAPE, i.shape, [i.operands[0]])
    return None


def slice_of_slice(i: Instruction, b: Builder) -> Instruction | None:
    src = i.operands[0]
    if src.opcode is not O.SLICE:
        return None
    spec = []
    for (s0, _, st0), (s1, _, st1), n in zip(src.attrs["slice"], i.attrs["slice"], i.shape.dims):
        start, stride = s0 + s1 * st0, st0 * st1
        spec.append((start, start + (n - 1) * stride + 1 if n else start, stride))
    return b.make(O.SLICE, i.shape, [src.operands[0]], {"slice": tuple(spec)})


def full_slice(i: Instruction, b: Builder) -> Instruction | None:
    src = i.operands[0]
    if i.shape.dims == src.shape.dims and all(s == 0 and st == 1 for s, _, st in i.attrs["slice"]):
        return src
    return None


def convert_of_convert(i: Instruction, b: Builder) -> Instruction | None:
    """convert(convert(A)) => convert(A) when the inner convert loses nothing."""
    src = i.operands[0]
    if src.opcode is not O.CONVERT:
        return None
    a = src.operands[0]
    frm, mid, out = a.shape.element_type, src.shape.element_type, i.shape.element_type
    if not _lossless(frm, mid):
        return None
    if a.shape.dtype == i.shape.dtype:
        return a
    # From a float, converting to an integer saturates; from an integer it wraps: int -> float -> int
    # equals int -> int only when the result type holds every value (s8 -> f32 -> u16 of -2 is 0).
    if frm.is_int and mid.is_float and out.is_int and not _lossless(frm, out):
        return None
    return b.make(O.CONVERT, i.shape, [a])


def _lossless(frm: DType, to: DType) -> bool:
    """Every value of `frm` is exactly representable in `to` (and comes back the same)."""
    if frm == to:
        return True
    if frm.kind == "pred":
        return True
    if frm.is_int and to.is_int:
        if frm.kind == to.kind:
            return to.bits >= frm.bits
        return frm.kind == "u" and to.kind == "s" and to.bits > frm.bits
    if frm.is_int and to.is_float:
        mantissa = {"f16": 11, "bf16": 8, "f32": 24, "f64": 53}.get(to.name, 0)
        return frm.bits - (frm.kind == "s") <= mantissa
    if frm.is_float and to.is_float:
        order = {"bf16": 0, "f32": 1, "f64": 2}, {"f16": 0, "f32": 1, "f64": 2}
        return any(frm.name in o and to.name in o and o[frm.name] <= o[to.name] for o in order)
    return False


def dynamic_slice_to_slice(i: Instruction, b: Builder) -> Instruction | None:
    """dynamic-slice with constant starts => slice, clamping the starts as XLA does."""
    operand, starts = i.operands[0], i.operands[1:]
    values = [scalar_value(s) for s in starts]
    if any(v is None for v in values) or any(s.shape.rank != 0 for s in starts):
        return None
    sizes = i.attrs["dynamic_slice_sizes"]
    spec = []
    for v, size, dim in zip(values, sizes, operand.shape.dims):
        assert v is not None and not isinstance(v, complex), "start indices are integers"
        start = min(max(int(v), 0), dim - size)
        spec.append((start, start + size, 1))
    return b.make(O.SLICE, i.shape, [operand], {"slice": tuple(spec)})


def select_same_branches(i: Instruction, b: Builder) -> Instruction | None:
    _, t, f = i.operands
    return t if t is f else None


def exact_reciprocal(i: Instruction, b: Builder) -> Instruction | None:
    """A / 2^k => A * 2^-k: exact in floating point, and a multiply is cheaper."""
    a, c = i.operands
    v = scalar_value(c)
    dt = i.shape.element_type
    if v is None or not dt.is_float or not isinstance(v, float) or v == 0 or not np.isfinite(v):
        return None
    m, _ = np.frexp(v)
    if abs(m) != 0.5:
        return None
    recip = np.asarray(1.0 / v, dt.np)
    if not np.isfinite(recip) or recip == 0:
        return None
    return b.make(O.MULTIPLY, i.shape, [a, b.constant(recip, i.shape)])


def power_small_integer(i: Instruction, b: Builder) -> Instruction | None:
    a, c = i.operands
    v = scalar_value(c)
    if v == 1 and v is not None:
        return a  # A ^ 1 => A
    if v == 2 and i.shape.element_type.is_float:
        return b.make(O.MULTIPLY, i.shape, [a, a])  # A ^ 2 => A * A
    return None


def gte_of_tuple(i: Instruction, b: Builder) -> Instruction | None:
    src = i.operands[0]
    if src.opcode is O.TUPLE:
        element: Instruction = src.operands[i.attrs["index"]]
        return element
    return None


def tuple_of_gtes(i: Instruction, b: Builder) -> Instruction | None:
    """tuple(gte(T,0), ..., gte(T,n-1)) => T."""
    ops = i.operands
    if not ops or any(o.opcode is not O.GET_TUPLE_ELEMENT for o in ops):
        return None
    t = ops[0].operands[0]
    if all(o.operands[0] is t and o.attrs["index"] == k for k, o in enumerate(ops)) and \
            t.shape.tuple_shapes is not None and len(t.shape.tuple_shapes) == len(ops):
        return t
    return None


def dus_full_update(i: Instruction, b: Builder) -> Instruction | None:
    """dynamic-update-slice whose update covers the whole operand => the update."""
    return i.operands[1] if i.operands[1].shape.dims == i.shape.dims else None


def _identity_broadcast(i: Instruction, b: Builder) -> Instruction | None:
    a = i.operands[0]
    if a.shape.dims == i.shape.dims and is_identity_perm(i.attrs["dimensions"]):
        return a
    return None


def _zero_pad(i: Instruction, b: Builder) -> Instruction | None:
    return i.operands[0] if all(p == (0, 0, 0) for p in i.attrs["padding"]) else None


def _mul_by_zero_int(i: Instruction, b: Builder) -> Instruction | None:
    return i.operands[1] if is_int(i) and is_zero(i.operands[1]) and i.operands[1].shape == i.shape else None


def _static_dimension_size(i: Instruction, b: Builder) -> Instruction | None:
    """get-dimension-size of a dimension that is not `<=` bounded => its size, as XLA's does."""
    d = int(i.attrs["dimensions"][0])
    dynamic = i.operands[0].shape.dynamic
    return None if dynamic and dynamic[d] else b.constant(i.operands[0].shape.dims[d], i.shape)


def _and_false(i: Instruction, b: Builder) -> Instruction | None:
    return i.operands[1] if is_false(i.operands[1]) and i.operands[1].shape == i.shape else None


def _or_true(i: Instruction, b: Builder) -> Instruction | None:
    return i.operands[1] if is_true(i.operands[1]) and i.operands[1].shape == i.shape else None


# --- the table -------------------------------------------------------------------------------
# (opcode, rule). `i.operands[k]` is written A, B, ...; C is a constant.

def _op(k: int) -> Callable[[Instruction], Instruction]:
    return lambda i: i.operands[k]


A_, B_ = _op(0), _op(1)

Rule = Callable[[Instruction, Builder], "Instruction | None"]
RULES: list[tuple[O, Rule]] = [
    *[(op, constant_to_right) for op in _COMMUTATIVE],                              # C op A => A op C
    (O.COMPARE, compare_constant_to_right),                                         # C < A => A > C
    (O.ADD, lambda i, b: A_(i) if is_zero(B_(i)) else None),                        # A + 0 => A
    (O.SUBTRACT, lambda i, b: A_(i) if is_zero(B_(i)) else None),                   # A - 0 => A
    (O.MULTIPLY, lambda i, b: A_(i) if is_one(B_(i)) else None),                    # A * 1 => A
    (O.MULTIPLY, _mul_by_zero_int),                                                 # A * 0 => 0 (integers)
    (O.DIVIDE, lambda i, b: A_(i) if is_one(B_(i)) else None),                      # A / 1 => A
    (O.DIVIDE, exact_reciprocal),                                                   # A / 2^k => A * 2^-k
    (O.POWER, power_small_integer),                                                 # A^1 => A, A^2 => A*A
    (O.MAXIMUM, lambda i, b: A_(i) if is_neg_inf(B_(i)) else None),                 # max(A, -inf) => A
    (O.MINIMUM, lambda i, b: A_(i) if is_pos_inf(B_(i)) else None),                 # min(A, +inf) => A
    (O.MAXIMUM, lambda i, b: A_(i) if A_(i) is B_(i) else None),                    # max(A, A) => A
    (O.MINIMUM, lambda i, b: A_(i) if A_(i) is B_(i) else None),                    # min(A, A) => A
    (O.AND, lambda i, b: A_(i) if is_true(B_(i)) else None),                        # A & true => A
    (O.AND, _and_false),                                                            # A & false => false
    (O.OR, lambda i, b: A_(i) if is_false(B_(i)) else None),                        # A | false => A
    (O.OR, _or_true),                                                               # A | true => true
    (O.NEGATE, lambda i, b: A_(A_(i)) if A_(i).opcode is O.NEGATE else None),       # -(-A) => A
    (O.NOT, lambda i, b: A_(A_(i)) if A_(i).opcode is O.NOT else None),             # !!A => A
    (O.COPY, lambda i, b: A_(i)),                                                   # copy(A) => A
    (O.CONVERT, lambda i, b: A_(i) if A_(i).shape.dtype == i.shape.dtype else None),  # convert<T>(A:T) => A
    (O.CONVERT, convert_of_convert),                                                # convert(convert(A)) => convert(A)
    (O.BITCAST_CONVERT, lambda i, b: A_(i) if A_(i).shape.dtype == i.shape.dtype else None),  # same type => A
    (O.RESHAPE, lambda i, b: A_(i) if A_(i).shape.dims == i.shape.dims else None),  # reshape to own shape => A
    (O.RESHAPE, reshape_of_reshape),                                                # reshape(reshape(A)) => reshape(A)
    (O.RESHAPE, reshape_of_scalar_broadcast),                                       # reshape(bcast(s)) => bcast(s)
    (O.BITCAST, lambda i, b: A_(i) if A_(i).shape.compatible(i.shape) else None),   # bitcast to own shape => A
    (O.BROADCAST, _identity_broadcast),                                             # broadcast to own shape => A
    (O.BROADCAST, broadcast_of_broadcast),                                          # bcast(bcast(A)) => bcast(A)
    (O.BROADCAST, broadcast_of_degenerate_reshape),                                 # bcast(reshape(A)) => bcast(A)
    (O.TRANSPOSE, lambda i, b: A_(i) if is_identity_perm(i.attrs["dimensions"]) else None),  # transpose id => A
    (O.TRANSPOSE, transpose_of_transpose),                                          # T(T(A)) => T(A)
    (O.TRANSPOSE, transpose_is_reshape),                                            # moves only 1-dims => reshape
    (O.SLICE, full_slice),                                                          # A[:] => A
    (O.SLICE, slice_of_slice),                                                      # A[s][t] => A[s∘t]
    (O.DYNAMIC_SLICE, dynamic_slice_to_slice),                                      # ds(A, consts) => slice
    (O.DYNAMIC_UPDATE_SLICE, dus_full_update),                                      # dus(A, U) whole => U
    (O.PAD, _zero_pad),                                                             # pad(A, 0_0) => A
    (O.SELECT, lambda i, b: i.operands[1] if is_true(A_(i)) else None),             # select(true, A, B) => A
    (O.SELECT, lambda i, b: i.operands[2] if is_false(A_(i)) else None),            # select(false, A, B) => B
    (O.SELECT, select_same_branches),                                               # select(p, A, A) => A
    (O.CONCATENATE, lambda i, b: A_(i) if len(i.operands) == 1 else None),          # concat(A) => A
    (O.GET_DIMENSION_SIZE, _static_dimension_size),                                 # size(A, d) static => C
    (O.REVERSE, lambda i, b: A_(i) if all(A_(i).shape.dims[d] <= 1 for d in i.attrs["dimensions"]) else None),
    (O.GET_TUPLE_ELEMENT, gte_of_tuple),                                            # gte(tuple(A, B), 1) => B
    (O.TUPLE, tuple_of_gtes),                                                       # tuple(gte(T,0..n)) => T
]

RULES_BY_OPCODE: dict[O, list[Rule]] = {}
for _op_, _rule in RULES:
    RULES_BY_OPCODE.setdefault(_op_, []).append(_rule)


def _shapes_agree(old: Instruction, new: Instruction) -> bool:
    if old.shape.is_tuple or new.shape.is_tuple:
        return old.shape.without_layout() == new.shape.without_layout()
    return old.shape.dtype == new.shape.dtype and old.shape.dims == new.shape.dims


def simplify_computation(comp: Computation, names: NameGen, max_rewrites_per_instr: int = 8) -> bool:
    b = Builder(comp, names)
    changed = False
    work = list(comp.instructions)
    forward: dict[int, Instruction] = {}  # replaced -> replacement
    for instr in work:
        forward_uses(instr, forward)  # rules see the replacements of its operands
        current = instr
        for _ in range(max_rewrites_per_instr):
            rules = RULES_BY_OPCODE.get(current.opcode, ())
            replacement: Instruction | None = None
            b.current = current
            for rule in rules:
                replacement = rule(current, b)
                if replacement is not None:
                    break
            if replacement is None or replacement is current:
                break
            if not _shapes_agree(current, replacement):
                raise AssertionError(f"rule {rule} changed the shape of {current.name}")
            current = replacement
        if current is not instr:
            comp.instructions.extend(b.added)
            b.added = []
            forward[id(instr)] = current
            changed = True
        elif b.added:  # a rule built instructions and then declined: drop them
            b.added = []
    if changed:
        forward_all_uses(comp, forward)
        topological_sort(comp)
    return changed


def simplify(module: Module) -> bool:
    names = NameGen(module)
    changed = False
    for comp in module.computations:
        changed |= simplify_computation(comp, names)
    return changed
