"""Shape inference: what shape each instruction must have, given its operands and attributes.

One rule per opcode in `SHAPE_RULES` (groups of elementwise ops share one), following XLA's
ShapeInference and the stricter checks of its HloVerifier (no implicit broadcast, no mixed
floating-point precision in elementwise ops). A rule takes the instruction and its operands'
shapes and returns the inferred shape, or raises `ShapeError` naming what is wrong. Ops whose
result XLA cannot infer either (convert's target type, broadcast's and reshape's result dims,
custom-call, collectives) read the declared shape and check it against the operands.

Shapes are compared the way XLA's ShapeUtil::Compatible does: element type and dimensions,
ignoring layouts and dynamic-dimension markers."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from . import attrs as A
from .dtypes import DTYPES, PRED, S32, U32, DType
from .ir import Computation, Instruction
from .opcodes import VARIADIC, Opcode
from .shape import Shape, compatible

Op = Opcode
Shapes = Sequence[Shape]
Rule = Callable[[Instruction, Shapes], Shape]


class ShapeError(ValueError):
    """A shape rule's complaint about one instruction (the verifier adds where it is).

    `operand` is the index of the operand at fault, when there is one."""

    def __init__(self, message: str, operand: int | None = None):
        super().__init__(message)
        self.operand = operand


# --- shape helpers ----------------------------------------------------------------------------

def text(s: Shape | None) -> str:
    return "<none>" if s is None else s.to_text(layout=False)


def tuple_depth(s: Shape) -> int:
    """How deeply tuples nest in `s` (0 for an array), computed without recursion."""
    depth, stack = 0, [(s, 0)]
    while stack:
        x, d = stack.pop()
        depth = max(depth, d)
        if x.tuple_shapes is not None:
            stack.extend((t, d + 1) for t in x.tuple_shapes)
    return depth


def _same_type_ignoring_fp(a: DType, b: DType) -> bool:
    """XLA's SameElementTypeIgnoringFpPrecision: equal, or both floating point."""
    return a == b or (a.is_float and b.is_float)


def _higher(a: DType, b: DType) -> DType:
    """XLA's HigherPrecisionElementType for two types that agree up to fp precision."""
    return a if a.bits >= b.bits else b


def _component(dt: DType) -> DType:
    return DTYPES["f64"] if dt.name == "c128" else DTYPES["f32"]


def _scalar(dt: DType) -> Shape:
    return Shape.array(dt, ())


def _array(shapes: Shapes, i: int, what: str) -> Shape:
    s = shapes[i]
    if s.is_tuple:
        raise ShapeError(f"operand {i} of {what} must be an array, got the tuple {text(s)}", i)
    return s


def _arrays(shapes: Shapes, what: str) -> list[Shape]:
    return [_array(shapes, i, what) for i in range(len(shapes))]


def _need_scalar(shapes: Shapes, i: int, what: str, dtype: DType | None = None) -> Shape:
    s = _array(shapes, i, what)
    if s.rank != 0 or (dtype is not None and s.dtype != dtype):
        need = f"a {dtype.name}[] scalar" if dtype is not None else "a scalar"
        raise ShapeError(f"operand {i} has shape {text(s)} but {what} needs {need} there", i)
    return s


def _need_kind(s: Shape, kinds: frozenset[str], i: int, what: str) -> None:
    if s.element_type.kind not in kinds:
        names = "/".join(sorted(_KIND_NAMES[k] for k in kinds))
        raise ShapeError(f"operand {i} has element type {s.element_type.name} but {what} needs {names}", i)


_KIND_NAMES = {"pred": "pred", "s": "signed integer", "u": "unsigned integer", "f": "floating point",
               "c": "complex", "token": "token"}


def _window_dims(base: Sequence[int], window: A.Window, what: str) -> tuple[int, ...]:
    """XLA's InferWindowOutputShape: dilate and pad the base, then count strided windows."""
    if len(window.dims) != len(base):
        raise ShapeError(f"{what} window has {len(window.dims)} dimensions but the operand has rank {len(base)}")
    out = []
    for i, (b, w) in enumerate(zip(base, window.dims)):
        if w.size <= 0 or w.stride <= 0 or w.base_dilation < 1 or w.window_dilation < 1:
            raise ShapeError(f"{what} window dimension {i} has a non-positive size, stride or dilation")
        dilated_base = 0 if b == 0 else (b - 1) * w.base_dilation + 1
        padded = w.pad_lo + dilated_base + w.pad_hi
        dilated_window = (w.size - 1) * w.window_dilation + 1
        out.append(0 if dilated_window > padded else (padded - dilated_window) // w.stride + 1)
    return tuple(out)


# --- attribute access (typed values; tolerate Raw text where the parser kept it) ---------------

_MISSING: Any = object()


def _attr(instr: Instruction, key: str, default: Any = _MISSING) -> Any:
    if key in instr.attrs:
        return instr.attrs[key]
    if default is _MISSING:
        raise ShapeError(f"{instr.opcode.value} needs the attribute {key}=")
    return default


def _int(instr: Instruction, key: str, default: Any = _MISSING) -> int:
    v = _attr(instr, key, default)
    if isinstance(v, A.Raw):
        try:
            v = A.parse_int(v.text)
        except A.AttrError:
            raise ShapeError(f"attribute {key}={v.text} must be an integer") from None
    if isinstance(v, bool) or not isinstance(v, int):
        raise ShapeError(f"attribute {key} must be an integer, got {v!r}")
    return v


def _ints(instr: Instruction, key: str, default: Any = _MISSING) -> tuple[int, ...]:
    v = _attr(instr, key, default)
    if isinstance(v, A.Raw):
        try:
            v = A.parse_int_list(v.text)
        except A.AttrError:
            raise ShapeError(f"attribute {key}={v.text} must be a list of integers") from None
    if not isinstance(v, tuple) or not all(isinstance(d, int) and not isinstance(d, bool) for d in v):
        raise ShapeError(f"attribute {key} must be a list of integers, got {v!r}")
    return v


def _bool(instr: Instruction, key: str, default: bool) -> bool:
    v = _attr(instr, key, default)
    if isinstance(v, A.Raw):
        v = v.text.strip()
        if v not in ("true", "false"):
            raise ShapeError(f"attribute {key}={v} must be true or false")
        return v == "true"
    return bool(v)


def _ident(instr: Instruction, key: str, default: Any = _MISSING) -> str:
    v = _attr(instr, key, default)
    return v.text.strip() if isinstance(v, A.Raw) else v


def _comp(instr: Instruction, key: str) -> Computation:
    v = _attr(instr, key)
    if not isinstance(v, Computation):
        raise ShapeError(f"attribute {key} must name a computation of the module, got {v!r}")
    return v


def _comps(instr: Instruction, key: str) -> tuple[Computation, ...]:
    v = _attr(instr, key)
    if not isinstance(v, tuple) or not all(isinstance(c, Computation) for c in v):
        raise ShapeError(f"attribute {key} must list computations of the module, got {v!r}")
    return v


def _window(instr: Instruction) -> A.Window:
    w = _attr(instr, "window", A.Window(()))
    if not isinstance(w, A.Window):
        raise ShapeError(f"window must be like {{size=2x2 stride=2x2}}, got {w!r}")
    return w


def _declared(instr: Instruction) -> Shape:
    if not isinstance(instr.shape, Shape):
        raise ShapeError(f"{instr.opcode.value} cannot be inferred without a declared shape")
    return instr.shape


def _declared_array(instr: Instruction) -> Shape:
    s = _declared(instr)
    if s.is_tuple:
        raise ShapeError(f"{instr.opcode.value} produces an array, but the declared shape is {text(s)}")
    return s


def _check_dims(dims: Sequence[int], rank: int, what: str, *, ascending: bool = False) -> None:
    """Dimension numbers must lie in [0, rank), not repeat, and (where XLA says so) ascend."""
    for d in dims:
        if not 0 <= d < rank:
            raise ShapeError(f"{what} {{{','.join(map(str, dims))}}}: dimension {d} is out of range [0, {rank})")
    if len(set(dims)) != len(dims):
        raise ShapeError(f"{what} {{{','.join(map(str, dims))}}} repeats a dimension")
    if ascending and list(dims) != sorted(dims):
        raise ShapeError(f"{what} {{{','.join(map(str, dims))}}} must be in ascending order")


# --- computation signatures -----------------------------------------------------------------

def _signature(comp: Computation) -> tuple[list[Shape], Shape]:
    params = [i for i in comp.instructions if i.opcode is Op.PARAMETER]
    if any(not isinstance(p.parameter_number, int) for p in params):
        raise ShapeError(f"computation '{comp.name}' has a parameter without a number")
    params.sort(key=lambda p: cast(int, p.parameter_number))  # checked just above
    return [p.shape for p in params], comp.root.shape


def _check_call(comp: Computation, args: Shapes, what: str, first_operand: int = 0) -> Shape:
    """A called computation takes exactly the argument shapes; returns its root shape."""
    params, root = _signature(comp)
    if len(params) != len(args):
        raise ShapeError(f"{what} computation '{comp.name}' takes {len(params)} parameters "
                         f"but is given {len(args)} operands")
    for i, (p, a) in enumerate(zip(params, args)):
        if not compatible(p, a):
            raise ShapeError(f"operand {first_operand + i} has shape {text(a)} but parameter {i} of "
                             f"{what} computation '{comp.name}' is {text(p)}", first_operand + i)
    return root


def _check_reducer(comp: Computation, inits: Sequence[Shape], inputs: Sequence[DType], what: str) -> list[DType]:
    """XLA's VerifyReducerShape: (acc_0..acc_{n-1}, x_0..x_{n-1}) -> acc scalars (a tuple when n > 1).

    Returns the accumulator element types."""
    n = len(inits)
    params, root = _signature(comp)
    where = f"{what} computation '{comp.name}'"
    if len(params) != 2 * n:
        raise ShapeError(f"{where} must take {2 * n} parameters, but takes {len(params)}")
    if root.tuple_shapes is not None:
        accs = list(root.tuple_shapes)
        if len(accs) != n:
            raise ShapeError(f"{where} must return {n} values, but returns {text(root)}")
    else:
        if n != 1:
            raise ShapeError(f"{where} must return a tuple of {n} scalars, but returns {text(root)}")
        accs = [root]
    for acc in accs:
        if acc.is_tuple or acc.rank != 0:
            raise ShapeError(f"{where} must return scalars, but returns {text(root)}")
    for i in range(n):
        if not compatible(accs[i], params[i]):
            raise ShapeError(f"{where}: parameter {i} is {text(params[i])} but the result {i} is {text(accs[i])}")
        init = inits[i]
        if init.is_tuple or init.rank != 0 or not _same_type_ignoring_fp(init.element_type, accs[i].element_type):
            raise ShapeError(f"init value {i} has shape {text(init)} but {where} accumulates {text(accs[i])}")
        p = params[n + i]
        if p.is_tuple or p.rank != 0 or not _same_type_ignoring_fp(p.element_type, inputs[i]):
            raise ShapeError(f"{where}: parameter {n + i} is {text(p)} but the input {i} has element type "
                             f"{inputs[i].name}")
        if not _same_type_ignoring_fp(p.element_type, accs[i].element_type):
            raise ShapeError(f"{where}: parameter {n + i} is {text(p)} but the result {i} is {text(accs[i])}")
    return [a.element_type for a in accs]


def _check_comparator(comp: Computation, operands: Sequence[Shape], what: str) -> None:
    """A sort comparator: (a_0, b_0, a_1, b_1, ...) scalars of each operand's type -> pred[]."""
    params, root = _signature(comp)
    where = f"{what} comparator '{comp.name}'"
    if len(params) != 2 * len(operands):
        raise ShapeError(f"{where} must take {2 * len(operands)} parameters, but takes {len(params)}")
    for i, p in enumerate(params):
        dt = operands[i // 2].element_type
        if p.is_tuple or p.rank != 0 or not _same_type_ignoring_fp(p.element_type, dt):
            raise ShapeError(f"{where}: parameter {i} is {text(p)} but operand {i // 2} has element type {dt.name}")
    if not compatible(root, _scalar(PRED)):
        raise ShapeError(f"{where} must return pred[], but returns {text(root)}")


# --- operand counts -----------------------------------------------------------------------------
# Variadic opcodes: (fewest, most, extra rule or None). Fixed arities come from Opcode.arity.

def _even(n: int) -> str | None:
    return None if n % 2 == 0 else "an even number of operands (inputs, then as many init values)"


def _odd(n: int) -> str | None:
    return None if n % 2 == 1 else "2N+1 operands (N operands, the indices, N updates)"


VARIADIC_COUNTS: dict[Opcode, tuple[int, int | None, Callable[[int], str | None] | None]] = {
    Op.CONCATENATE: (1, None, None),
    Op.DYNAMIC_SLICE: (2, None, None),
    Op.DYNAMIC_UPDATE_SLICE: (3, None, None),
    Op.DYNAMIC_RESHAPE: (1, None, None),
    Op.SCATTER: (3, None, _odd),
    Op.REDUCE: (2, None, _even),
    Op.REDUCE_WINDOW: (2, None, _even),
    Op.MAP: (1, None, None),
    Op.SORT: (1, None, None),
    Op.TUPLE: (0, None, None),
    Op.CALL: (0, None, None),
    Op.CONDITIONAL: (2, None, None),
    Op.FUSION: (0, None, None),
    Op.CUSTOM_CALL: (0, None, None),
    Op.RNG: (2, 2, None),
    Op.AFTER_ALL: (0, None, None),
    Op.ALL_GATHER: (1, None, None),
    Op.ALL_REDUCE: (1, None, None),
    Op.ALL_TO_ALL: (1, None, None),
    Op.COLLECTIVE_PERMUTE: (1, 2, None),
    Op.REDUCE_SCATTER: (1, None, None),
}


def operand_count_error(opcode: Opcode, n: int) -> str | None:
    """Why `n` operands are wrong for `opcode`, or None when they are fine."""
    if opcode.arity != VARIADIC:
        if n != opcode.arity:
            return f"{opcode.value} takes {opcode.arity} operand{'s' * (opcode.arity != 1)}, got {n}"
        return None
    lo, hi, extra = VARIADIC_COUNTS.get(opcode, (0, None, None))
    if n < lo or (hi is not None and n > hi):
        want = f"{lo}" if lo == hi else f"at least {lo}" if hi is None else f"{lo} to {hi}"
        return f"{opcode.value} takes {want} operands, got {n}"
    why = extra(n) if extra else None
    return f"{opcode.value} takes {why}, got {n}" if why else None


# --- elementwise ---------------------------------------------------------------------------------

_NUM = frozenset({"s", "u", "f", "c"})
_ANY = frozenset({"pred", "s", "u", "f", "c"})
_INT = frozenset({"s", "u"})
_FLOAT = frozenset({"f"})
_FC = frozenset({"f", "c"})

# Element kinds each unary op accepts (XLA's InferUnaryOpShape).
_UNARY_KINDS: dict[Opcode, frozenset[str]] = {
    Op.FLOOR: _FLOAT, Op.CEIL: _FLOAT, Op.ROUND_AFZ: _FLOAT, Op.ROUND_EVEN: _FLOAT, Op.IS_FINITE: _FLOAT,
    Op.ERF: _FLOAT,
    Op.COS: _FC, Op.SIN: _FC, Op.TAN: _FC, Op.EXP: _FC, Op.EXPM1: _FC, Op.LOG: _FC, Op.LOG1P: _FC,
    Op.LOGISTIC: _FC, Op.RSQRT: _FC, Op.SQRT: _FC, Op.CBRT: _FC, Op.TANH: _FC, Op.SINH: _FC, Op.REAL: _FC, Op.IMAG: _FC,
    Op.ACOS: _FC, Op.ACOSH: _FC, Op.ASIN: _FC, Op.ASINH: _FC, Op.ATAN: _FC, Op.ATANH: _FC, Op.COSH: _FC,
    Op.ABS: frozenset({"s", "f", "c"}), Op.SIGN: frozenset({"s", "f", "c"}),
    Op.NEGATE: _NUM, Op.CLZ: _INT, Op.POPCNT: _INT, Op.NOT: frozenset({"pred", "s", "u"}),
}


def _unary(instr: Instruction, shapes: Shapes) -> Shape:
    op = instr.opcode
    x = _array(shapes, 0, op.value)
    _need_kind(x, _UNARY_KINDS[op], 0, op.value)
    if op is Op.IS_FINITE:
        return x.with_dtype(PRED)
    if op in (Op.ABS, Op.REAL, Op.IMAG) and x.element_type.is_complex:
        return x.with_dtype(_component(x.element_type))  # |z|, re z, im z are real
    return x.with_dims(x.dims)


def _copy(instr: Instruction, shapes: Shapes) -> Shape:
    return shapes[0]  # copy, domain, opt-barrier: anything, tuples included


_BINARY_KINDS: dict[Opcode, frozenset[str]] = {
    Op.ADD: _ANY, Op.MULTIPLY: _ANY, Op.MAXIMUM: _ANY, Op.MINIMUM: _ANY, Op.COMPARE: _ANY,
    Op.SUBTRACT: _NUM, Op.DIVIDE: _NUM, Op.REMAINDER: _NUM, Op.POWER: _NUM, Op.ATAN2: _FC,
    Op.SHIFT_LEFT: _INT, Op.SHIFT_RIGHT_ARITHMETIC: _INT, Op.SHIFT_RIGHT_LOGICAL: _INT,
    Op.AND: frozenset({"pred", "s", "u"}), Op.OR: frozenset({"pred", "s", "u"}), Op.XOR: frozenset({"pred", "s", "u"}),
    Op.COMPLEX: _FLOAT,
}
_DIRECTIONS = frozenset({"EQ", "NE", "LT", "LE", "GT", "GE"})
_COMPARE_TYPES = frozenset({"FLOAT", "TOTALORDER", "SIGNED", "UNSIGNED"})


def _binary(instr: Instruction, shapes: Shapes) -> Shape:
    op = instr.opcode
    lhs, rhs = _array(shapes, 0, op.value), _array(shapes, 1, op.value)
    _need_kind(lhs, _BINARY_KINDS[op], 0, op.value)
    if lhs.dims != rhs.dims or lhs.dtype != rhs.dtype:
        raise ShapeError(f"operand 1 has shape {text(rhs)} but {op.value} needs {text(lhs)} "
                         "(elementwise operands must have the same shape and type; HLO has no implicit "
                         "broadcast)", 1)
    if op is Op.COMPARE:
        direction = _ident(instr, "direction")
        if direction not in _DIRECTIONS:
            raise ShapeError(f"compare direction must be one of EQ, NE, LT, LE, GT, GE, got {direction}")
        ctype = _ident(instr, "type", None)
        if ctype is not None and ctype not in _COMPARE_TYPES:
            raise ShapeError(f"compare type must be FLOAT, TOTALORDER, SIGNED or UNSIGNED, got {ctype}")
        return lhs.with_dtype(PRED)
    if op is Op.COMPLEX:
        if lhs.element_type.name not in ("f32", "f64"):
            raise ShapeError(f"complex needs f32 or f64 parts, got {lhs.element_type.name}", 0)
        return lhs.with_dtype("c64" if lhs.element_type.name == "f32" else "c128")
    return lhs.with_dims(lhs.dims)


def _select(instr: Instruction, shapes: Shapes) -> Shape:
    pred, on_true, on_false = _arrays(shapes, "select")
    if pred.dtype != PRED:
        raise ShapeError(f"operand 0 has shape {text(pred)} but select needs a pred predicate", 0)
    if not compatible(on_true, on_false):
        raise ShapeError(f"operand 2 has shape {text(on_false)} but select needs {text(on_true)} "
                         "(both branches must have the same shape)", 2)
    if pred.rank != 0 and pred.dims != on_true.dims:
        raise ShapeError(f"operand 0 has shape {text(pred)} but select needs {text(on_true.with_dtype(PRED))} "
                         "or pred[]", 0)
    return on_true.with_dims(on_true.dims)


def _clamp(instr: Instruction, shapes: Shapes) -> Shape:
    lo, x, hi = _arrays(shapes, "clamp")
    for i, bound in ((0, lo), (2, hi)):
        if bound.dtype != x.dtype or (bound.rank != 0 and bound.dims != x.dims):
            raise ShapeError(f"operand {i} has shape {text(bound)} but clamp needs {text(x)} or "
                             f"{x.element_type.name}[] (the bounds must match the operand or be scalars)", i)
    return x.with_dims(x.dims)


def _convert(instr: Instruction, shapes: Shapes) -> Shape:
    x = _array(shapes, 0, "convert")
    dt = _declared_array(instr).element_type
    if x.element_type.is_complex and not dt.is_complex:
        raise ShapeError(f"convert from complex {x.element_type.name} to {dt.name} is not defined (use real/imag)", 0)
    if dt.kind == "token" or x.element_type.kind == "token":
        raise ShapeError("convert cannot convert tokens")
    return x.with_dtype(dt)


def _bitcast_convert(instr: Instruction, shapes: Shapes) -> Shape:
    """Same bits, new type: a wider source grows a minor dimension, a narrower one loses it."""
    x = _array(shapes, 0, "bitcast-convert")
    dt = _declared_array(instr).element_type
    if x.element_type.is_complex != dt.is_complex:
        raise ShapeError(f"bitcast-convert between complex and real types ({x.element_type.name} -> {dt.name})", 0)
    a, b = x.element_type.bits, dt.bits
    if not a or not b or max(a, b) % min(a, b):
        raise ShapeError(f"bitcast-convert between {x.element_type.name} and {dt.name}: bit widths do not divide", 0)
    if a > b:
        return Shape.array(dt, x.dims + (a // b,))
    if a < b:
        if not x.dims or x.dims[-1] != b // a:
            raise ShapeError(f"operand 0 has shape {text(x)} but bitcast-convert to {dt.name} needs its last "
                             f"dimension to be {b // a}", 0)
        return Shape.array(dt, x.dims[:-1])
    return x.with_dtype(dt)


def _stochastic_convert(instr: Instruction, shapes: Shapes) -> Shape:
    x, bits = _arrays(shapes, "stochastic-convert")
    _need_kind(x, _FLOAT, 0, "stochastic-convert")
    _need_kind(bits, frozenset({"u"}), 1, "stochastic-convert")
    if bits.dims != x.dims or bits.element_type.bits != x.element_type.bits:
        raise ShapeError(f"operand 1 has shape {text(bits)} but stochastic-convert needs u{x.element_type.bits}"
                         f"[{','.join(map(str, x.dims))}]", 1)
    return x.with_dtype(_declared_array(instr).element_type)


def _reduce_precision(instr: Instruction, shapes: Shapes) -> Shape:
    x = _array(shapes, 0, "reduce-precision")
    _need_kind(x, _FLOAT, 0, "reduce-precision")
    if _int(instr, "exponent_bits") < 1:
        raise ShapeError("reduce-precision needs exponent_bits >= 1")
    if _int(instr, "mantissa_bits") < 0:
        raise ShapeError("reduce-precision needs mantissa_bits >= 0")
    return x.with_dims(x.dims)


# --- leaves --------------------------------------------------------------------------------------

def _parameter(instr: Instruction, shapes: Shapes) -> Shape:
    return _declared(instr)


def _constant(instr: Instruction, shapes: Shapes) -> Shape:
    s = _declared(instr)
    lit = instr.literal
    if lit is None or s.is_tuple:
        return s  # elided `{...}` constants keep their declared shape
    lit = np.asarray(lit)
    if tuple(lit.shape) != tuple(s.dims):
        raise ShapeError(f"the literal has dimensions [{','.join(map(str, lit.shape))}] but the declared shape "
                         f"is {text(s)}")
    if s.element_type.np is not None and lit.dtype != s.element_type.np:
        raise ShapeError(f"the literal has numpy type {lit.dtype} but the declared shape is {text(s)}")
    return s


def _iota(instr: Instruction, shapes: Shapes) -> Shape:
    s = _declared_array(instr)
    if s.rank == 0:
        raise ShapeError("iota needs an array of rank >= 1, not a scalar")
    d = _int(instr, "iota_dimension")
    if not 0 <= d < s.rank:
        raise ShapeError(f"iota_dimension {d} is out of range [0, {s.rank})")
    return s


def _fixed(shape: Shape) -> Rule:
    return lambda instr, shapes: shape


# --- shape changes and data movement ----------------------------------------------------------------

def _bitcast(instr: Instruction, shapes: Shapes) -> Shape:
    x, s = _array(shapes, 0, "bitcast"), _declared_array(instr)
    if x.nbytes != s.nbytes:
        raise ShapeError(f"operand 0 has shape {text(x)} ({x.nbytes} bytes) but bitcast to {text(s)} needs "
                         f"{s.nbytes} bytes", 0)
    return s


def _broadcast(instr: Instruction, shapes: Shapes) -> Shape:
    x, s = _array(shapes, 0, "broadcast"), _declared_array(instr)
    dims = _ints(instr, "dimensions")
    if len(dims) != x.rank:
        raise ShapeError(f"broadcast dimensions={{{','.join(map(str, dims))}}} has {len(dims)} entries but the "
                         f"operand {text(x)} has rank {x.rank}")
    _check_dims(dims, s.rank, "broadcast dimensions")  # XLA's HLO allows them in any order
    for i, d in enumerate(dims):
        if x.dims[i] != s.dims[d]:
            raise ShapeError(f"operand 0 has shape {text(x)}: its dimension {i} (size {x.dims[i]}) maps to "
                             f"result dimension {d} of size {s.dims[d]}", 0)
    return s.with_dtype(x.element_type)


def _reshape(instr: Instruction, shapes: Shapes) -> Shape:
    x, s = _array(shapes, 0, "reshape"), _declared_array(instr)
    if x.size != s.size:
        raise ShapeError(f"operand 0 has shape {text(x)} ({x.size} elements) but the result {text(s)} has "
                         f"{s.size}", 0)
    return s.with_dtype(x.element_type)


def _dynamic_reshape(instr: Instruction, shapes: Shapes) -> Shape:
    x, s = _array(shapes, 0, "dynamic-reshape"), _declared_array(instr)
    if len(shapes) != 1 + s.rank:
        raise ShapeError(f"dynamic-reshape to rank {s.rank} takes {1 + s.rank} operands, got {len(shapes)}")
    for i in range(1, len(shapes)):
        _need_scalar(shapes, i, "dynamic-reshape", S32)
    return s.with_dtype(x.element_type)


def _transpose(instr: Instruction, shapes: Shapes) -> Shape:
    x = _array(shapes, 0, "transpose")
    perm = _ints(instr, "dimensions")
    if sorted(perm) != list(range(x.rank)):
        raise ShapeError(f"transpose dimensions={{{','.join(map(str, perm))}}} is not a permutation of the "
                         f"dimensions of {text(x)}")
    return x.with_dims(x.dims[p] for p in perm)


def _slice(instr: Instruction, shapes: Shapes) -> Shape:
    x = _array(shapes, 0, "slice")
    bounds = _attr(instr, "slice")
    if not isinstance(bounds, tuple):
        raise ShapeError(f"slice must be like {{[0:4], [1:8:2]}}, got {bounds!r}")
    if len(bounds) != x.rank:
        raise ShapeError(f"slice gives {len(bounds)} ranges but the operand {text(x)} has rank {x.rank}")
    out = []
    for d, (start, limit, stride) in enumerate(bounds):
        if stride <= 0:
            raise ShapeError(f"slice dimension {d}: stride {stride} must be positive")
        if not 0 <= start <= limit <= x.dims[d]:
            raise ShapeError(f"slice dimension {d}: [{start}:{limit}] is out of bounds for size {x.dims[d]} "
                             "(need 0 <= start <= limit <= size)")
        out.append(-(-(limit - start) // stride))
    return x.with_dims(out)


def _concatenate(instr: Instruction, shapes: Shapes) -> Shape:
    xs = _arrays(shapes, "concatenate")
    dims = _ints(instr, "dimensions")
    if len(dims) != 1:
        raise ShapeError("concatenate needs exactly one dimension in dimensions={d}")
    d = dims[0]
    first = xs[0]
    if not 0 <= d < first.rank:
        raise ShapeError(f"concatenate dimension {d} is out of range [0, {first.rank})")
    total = 0
    for i, x in enumerate(xs):
        if x.dtype != first.dtype or x.rank != first.rank or any(
                a != b for k, (a, b) in enumerate(zip(x.dims, first.dims)) if k != d):
            want: list[int | str] = list(first.dims)
            want[d] = x.dims[d] if x.rank == first.rank else "*"
            raise ShapeError(f"operand {i} has shape {text(x)} but concatenate along dimension {d} needs "
                             f"{first.element_type.name}[{','.join(map(str, want))}]", i)
        total += x.dims[d]
    out = list(first.dims)
    out[d] = total
    return first.with_dims(out)


def _pad(instr: Instruction, shapes: Shapes) -> Shape:
    x = _array(shapes, 0, "pad")
    v = _need_scalar(shapes, 1, "pad")
    if v.dtype != x.dtype:
        raise ShapeError(f"operand 1 has shape {text(v)} but pad needs a {x.element_type.name}[] padding value", 1)
    config = _attr(instr, "padding")
    if not isinstance(config, tuple):
        raise ShapeError(f"padding must be like 0_0x1_2_1, got {config!r}")
    if len(config) != x.rank:
        raise ShapeError(f"padding has {len(config)} dimensions but the operand {text(x)} has rank {x.rank}")
    out = []
    for d, (lo, hi, interior) in enumerate(config):
        if interior < 0:
            raise ShapeError(f"padding dimension {d}: interior padding {interior} must not be negative")
        n = x.dims[d]
        size = lo + hi + n + max(n - 1, 0) * interior  # negative lo/hi crop
        if size < 0:
            raise ShapeError(f"padding dimension {d}: {lo}_{hi}_{interior} makes size {n} negative ({size})")
        out.append(size)
    return x.with_dims(out)


def _reverse(instr: Instruction, shapes: Shapes) -> Shape:
    x = _array(shapes, 0, "reverse")
    _check_dims(_ints(instr, "dimensions"), x.rank, "reverse dimensions")
    return x.with_dims(x.dims)


def _start_indices(shapes: Shapes, first: int, rank: int, what: str) -> None:
    """rank integral scalars (XLA's current form) or one rank-1 vector of them (the old form)."""
    idx = list(range(first, len(shapes)))
    if len(idx) == 1 and not shapes[first].is_tuple and shapes[first].rank == 1:
        s = shapes[first]
        if s.dims[0] != rank or not s.element_type.is_int:
            raise ShapeError(f"operand {first} has shape {text(s)} but {what} needs s32[{rank}] start indices", first)
        return
    if len(idx) != rank:
        raise ShapeError(f"{what} of a rank-{rank} operand takes {rank} start indices, got {len(idx)}")
    for i in idx:
        s = _array(shapes, i, what)
        if s.rank != 0 or not s.element_type.is_int:
            raise ShapeError(f"operand {i} has shape {text(s)} but {what} needs an integer scalar start index", i)
        if s.dtype != shapes[first].dtype:
            raise ShapeError(f"operand {i} has shape {text(s)} but {what} needs {text(shapes[first])} "
                             "(start indices must all have one type)", i)


def _dynamic_slice(instr: Instruction, shapes: Shapes) -> Shape:
    x = _array(shapes, 0, "dynamic-slice")
    _start_indices(shapes, 1, x.rank, "dynamic-slice")
    sizes = _ints(instr, "dynamic_slice_sizes")
    if len(sizes) != x.rank:
        raise ShapeError(f"dynamic_slice_sizes has {len(sizes)} entries but the operand {text(x)} has rank {x.rank}")
    for d, n in enumerate(sizes):
        if not 0 <= n <= x.dims[d]:
            raise ShapeError(f"dynamic_slice_sizes[{d}] = {n} is out of bounds for size {x.dims[d]}")
    return x.with_dims(sizes)


def _dynamic_update_slice(instr: Instruction, shapes: Shapes) -> Shape:
    x, u = _array(shapes, 0, "dynamic-update-slice"), _array(shapes, 1, "dynamic-update-slice")
    if u.dtype != x.dtype or u.rank != x.rank or any(a > b for a, b in zip(u.dims, x.dims)):
        raise ShapeError(f"operand 1 has shape {text(u)} but dynamic-update-slice into {text(x)} needs an update "
                         f"of type {x.element_type.name}, rank {x.rank} and no larger in any dimension", 1)
    _start_indices(shapes, 2, x.rank, "dynamic-update-slice")
    return x.with_dims(x.dims)


def _indices(shapes: Shapes, i: int, ivd: int, what: str) -> list[int]:
    """Index operand dims with the index vector dimension made explicit (a trailing 1 if implicit)."""
    idx = _array(shapes, i, what)
    if not idx.element_type.is_int:
        raise ShapeError(f"operand {i} has shape {text(idx)} but {what} needs integer indices", i)
    if not 0 <= ivd <= idx.rank:
        raise ShapeError(f"index_vector_dim {ivd} is out of range [0, {idx.rank}] for indices {text(idx)}")
    return list(idx.dims) + ([1] if ivd == idx.rank else [])


def _batching(operand: Shape, idx: Shape, ivd: int, obatch: Sequence[int], ibatch: Sequence[int],
              names: tuple[str, str]) -> None:
    """Operand batching dims pair up with index batching dims of the same sizes."""
    if len(obatch) != len(ibatch):
        raise ShapeError(f"{names[0]} and {names[1]} must have the same length")
    _check_dims(ibatch, idx.rank, names[1])
    if ivd in ibatch:
        raise ShapeError(f"{names[1]} must not contain index_vector_dim {ivd}")
    for o, i in zip(obatch, ibatch):
        if operand.dims[o] != idx.dims[i]:
            raise ShapeError(f"batching dimension sizes differ: operand dimension {o} is {operand.dims[o]} but "
                             f"index dimension {i} is {idx.dims[i]}")


def _gather(instr: Instruction, shapes: Shapes) -> Shape:
    x, idx = _array(shapes, 0, "gather"), _array(shapes, 1, "gather")
    offset_dims = _ints(instr, "offset_dims", ())
    collapsed = _ints(instr, "collapsed_slice_dims", ())
    start_map = _ints(instr, "start_index_map", ())
    obatch = _ints(instr, "operand_batching_dims", ())
    ibatch = _ints(instr, "start_indices_batching_dims", ())
    sizes = _ints(instr, "slice_sizes")
    ivd = _int(instr, "index_vector_dim")
    expanded = _indices(shapes, 1, ivd, "gather")
    out_rank = len(offset_dims) + len(expanded) - 1
    _check_dims(offset_dims, out_rank, "offset_dims", ascending=True)
    if len(start_map) != expanded[ivd]:
        raise ShapeError(f"start_index_map has {len(start_map)} entries but the index vector (dimension {ivd} of "
                         f"{text(idx)}) has {expanded[ivd]}")
    _check_dims(start_map, x.rank, "start_index_map")
    _check_dims(collapsed, x.rank, "collapsed_slice_dims", ascending=True)
    _check_dims(obatch, x.rank, "operand_batching_dims", ascending=True)
    if set(collapsed) & set(obatch):
        raise ShapeError("collapsed_slice_dims and operand_batching_dims must not share a dimension")
    if set(start_map) & set(obatch):
        raise ShapeError("start_index_map must not contain an operand batching dimension")
    if len(sizes) != x.rank:
        raise ShapeError(f"slice_sizes has {len(sizes)} entries but the operand {text(x)} has rank {x.rank}")
    if len(sizes) != len(offset_dims) + len(collapsed) + len(obatch):
        raise ShapeError("every operand dimension must be an offset dimension, collapsed or a batching dimension: "
                         f"rank {x.rank} != {len(offset_dims)} offset + {len(collapsed)} collapsed + "
                         f"{len(obatch)} batching")
    for d, n in enumerate(sizes):
        if not 0 <= n <= x.dims[d]:
            raise ShapeError(f"slice_sizes[{d}] = {n} is out of bounds for size {x.dims[d]}")
    for d in collapsed + obatch:
        if sizes[d] > 1:
            raise ShapeError(f"collapsed or batching dimension {d} must have slice size 0 or 1, got {sizes[d]}")
    _batching(x, idx, ivd, obatch, ibatch, ("operand_batching_dims", "start_indices_batching_dims"))
    window = iter(sizes[d] for d in range(x.rank) if d not in collapsed and d not in obatch)
    batch = iter(n for d, n in enumerate(expanded) if d != ivd)
    offsets = set(offset_dims)
    return Shape.array(x.element_type, [next(window) if i in offsets else next(batch) for i in range(out_rank)])


def _scatter(instr: Instruction, shapes: Shapes) -> Shape:
    n = len(shapes) // 2
    xs, updates = _arrays(shapes[:n], "scatter"), [_array(shapes, n + 1 + i, "scatter") for i in range(n)]
    idx = _array(shapes, n, "scatter")
    uwd = _ints(instr, "update_window_dims", ())
    inserted = _ints(instr, "inserted_window_dims", ())
    to_operand = _ints(instr, "scatter_dims_to_operand_dims", ())
    ibatch = _ints(instr, "input_batching_dims", ())
    sbatch = _ints(instr, "scatter_indices_batching_dims", ())
    ivd = _int(instr, "index_vector_dim")
    expanded = _indices(shapes, n, ivd, "scatter")
    x = xs[0]
    for i, o in enumerate(xs[1:], 1):
        if o.dims != x.dims:
            raise ShapeError(f"operand {i} has shape {text(o)} but scatter needs the dimensions of {text(x)}", i)
    _check_dims(inserted, x.rank, "inserted_window_dims", ascending=True)
    _check_dims(ibatch, x.rank, "input_batching_dims", ascending=True)
    if set(inserted) & set(ibatch):
        raise ShapeError("inserted_window_dims and input_batching_dims must not share a dimension")
    if len(uwd) + len(inserted) + len(ibatch) != x.rank:
        raise ShapeError(f"scatter window has {len(uwd)} update + {len(inserted)} inserted + {len(ibatch)} batching "
                         f"dimensions; the operand {text(x)} has rank {x.rank}")
    if len(to_operand) != expanded[ivd]:
        raise ShapeError(f"scatter_dims_to_operand_dims has {len(to_operand)} entries but the index vector "
                         f"(dimension {ivd} of {text(idx)}) has {expanded[ivd]}")
    _check_dims(to_operand, x.rank, "scatter_dims_to_operand_dims")
    if set(to_operand) & set(ibatch):
        raise ShapeError("scatter_dims_to_operand_dims must not contain an input batching dimension")
    _batching(x, idx, ivd, ibatch, sbatch, ("input_batching_dims", "scatter_indices_batching_dims"))
    window_bounds = [x.dims[d] for d in range(x.rank) if d not in inserted and d not in ibatch]
    scatter_bounds = [b for d, b in enumerate(expanded) if d != ivd]
    for k, u in enumerate(updates):
        i = n + 1 + k
        if u.rank != len(uwd) + len(scatter_bounds):
            raise ShapeError(f"operand {i} has shape {text(u)} but scatter needs updates of rank "
                             f"{len(uwd) + len(scatter_bounds)}", i)
        _check_dims(uwd, u.rank, "update_window_dims", ascending=True)
        for j, d in enumerate(uwd):
            if u.dims[d] > window_bounds[j]:
                raise ShapeError(f"operand {i} has shape {text(u)}: update window dimension {d} (size {u.dims[d]}) "
                                 f"exceeds the operand's bound {window_bounds[j]}", i)
        scatter_dims = [b for d, b in enumerate(u.dims) if d not in uwd]
        if scatter_dims != scatter_bounds:
            raise ShapeError(f"operand {i} has shape {text(u)} but its scatter dimensions must be "
                             f"[{','.join(map(str, scatter_bounds))}] to match the indices {text(idx)}", i)
    _check_reducer(_comp(instr, "to_apply"), [_scalar(o.element_type) for o in xs], [u.element_type for u in updates],
                   "scatter")
    return xs[0].with_dims(x.dims) if n == 1 else Shape.tuple_of(xs)


def _get_dimension_size(instr: Instruction, shapes: Shapes) -> Shape:
    x = _array(shapes, 0, "get-dimension-size")
    dims = _ints(instr, "dimensions")
    if len(dims) != 1:
        raise ShapeError("get-dimension-size needs exactly one dimension")
    _check_dims(dims, x.rank, "get-dimension-size dimensions")
    return _scalar(S32)


def _set_dimension_size(instr: Instruction, shapes: Shapes) -> Shape:
    x = _array(shapes, 0, "set-dimension-size")
    _need_scalar(shapes, 1, "set-dimension-size", S32)
    dims = _ints(instr, "dimensions")
    if len(dims) != 1:
        raise ShapeError("set-dimension-size needs exactly one dimension")
    _check_dims(dims, x.rank, "set-dimension-size dimensions")
    return x.with_dims(x.dims)


# --- reductions, windows, contractions -----------------------------------------------------------

def _inputs_and_inits(shapes: Shapes, what: str) -> tuple[list[Shape], list[Shape]]:
    n = len(shapes) // 2
    xs = _arrays(shapes, what)
    for i in range(1, n):
        if xs[i].dims != xs[0].dims:
            raise ShapeError(f"operand {i} has shape {text(xs[i])} but {what} needs the dimensions of "
                             f"{text(xs[0])} (all inputs must have the same dimensions)", i)
    for i in range(n, 2 * n):
        _need_scalar(shapes, i, f"{what} (an init value)")
    return xs[:n], xs[n:]


def _reduce(instr: Instruction, shapes: Shapes) -> Shape:
    xs, inits = _inputs_and_inits(shapes, "reduce")
    dims = _ints(instr, "dimensions")
    _check_dims(dims, xs[0].rank, "reduce dimensions")
    types = _check_reducer(_comp(instr, "to_apply"), inits, [x.element_type for x in xs], "reduce")
    kept = [n for d, n in enumerate(xs[0].dims) if d not in dims]
    outs = [Shape.array(dt, kept) for dt in types]
    return outs[0] if len(outs) == 1 else Shape.tuple_of(outs)


def _reduce_window(instr: Instruction, shapes: Shapes) -> Shape:
    xs, inits = _inputs_and_inits(shapes, "reduce-window")
    window = _window(instr)
    out = _window_dims(xs[0].dims, window, "reduce-window")
    _check_reducer(_comp(instr, "to_apply"), inits, [x.element_type for x in xs], "reduce-window")
    outs = [Shape.array(init.element_type, out) for init in inits]
    return outs[0] if len(outs) == 1 else Shape.tuple_of(outs)


def _select_and_scatter(instr: Instruction, shapes: Shapes) -> Shape:
    x, source = _array(shapes, 0, "select-and-scatter"), _array(shapes, 1, "select-and-scatter")
    init = _need_scalar(shapes, 2, "select-and-scatter")
    window = _window(instr)
    out = _window_dims(x.dims, window, "select-and-scatter")
    if source.dims != out or not _same_type_ignoring_fp(source.element_type, x.element_type):
        raise ShapeError(f"operand 1 has shape {text(source)} but select-and-scatter needs the windowed shape "
                         f"{text(Shape.array(x.element_type, out))}", 1)
    # `select`/`scatter` name computations; older IRs keep them as Raw text, then only shapes are checked.
    select = instr.attrs.get("select")
    if isinstance(select, Computation):
        params, root = _signature(select)
        if len(params) != 2 or any(p.is_tuple or p.rank or not _same_type_ignoring_fp(p.element_type, x.element_type)
                                   for p in params):
            raise ShapeError(f"select computation '{select.name}' must take two {x.element_type.name}[] scalars")
        if not compatible(root, _scalar(PRED)):
            raise ShapeError(f"select computation '{select.name}' must return pred[], returns {text(root)}")
    scatter = instr.attrs.get("scatter")
    if isinstance(scatter, Computation):
        _check_reducer(scatter, [init], [source.element_type], "scatter")
    return x.with_dims(x.dims)


def _map(instr: Instruction, shapes: Shapes) -> Shape:
    xs = _arrays(shapes, "map")
    for i, x in enumerate(xs):
        if x.dims != xs[0].dims:
            raise ShapeError(f"operand {i} has shape {text(x)} but map needs the dimensions of {text(xs[0])}", i)
    dims = _ints(instr, "dimensions", tuple(range(xs[0].rank)))
    if list(dims) != list(range(xs[0].rank)):
        raise ShapeError("map dimensions must be all the operand dimensions in order")
    comp = _comp(instr, "to_apply")
    params, root = _signature(comp)
    if len(params) != len(xs):
        raise ShapeError(f"map computation '{comp.name}' takes {len(params)} parameters but is given {len(xs)}")
    for i, (p, x) in enumerate(zip(params, xs)):
        if p.is_tuple or p.rank or not _same_type_ignoring_fp(p.element_type, x.element_type):
            raise ShapeError(f"operand {i} has shape {text(x)} but parameter {i} of map computation '{comp.name}' "
                             f"is {text(p)} (it must be a scalar of the operand's type)", i)
    if root.is_tuple or root.rank:
        raise ShapeError(f"map computation '{comp.name}' must return a scalar, returns {text(root)}")
    return Shape.array(root.element_type, xs[0].dims)


def _result_type(instr: Instruction, lhs: Shape, rhs: Shape, what: str) -> DType:
    """XLA's MaybeUpcast: the declared (preferred) type, unless it narrows an integer result."""
    if not _same_type_ignoring_fp(lhs.element_type, rhs.element_type):
        raise ShapeError(f"operand 1 has shape {text(rhs)} but {what} needs element type {lhs.element_type.name}", 1)
    base = _higher(lhs.element_type, rhs.element_type)
    if not isinstance(instr.shape, Shape) or instr.shape.is_tuple:
        return base
    want = instr.shape.element_type
    if want != base and not base.is_float and want.bits < base.bits:
        raise ShapeError(f"{what} result type {want.name} is narrower than its operands' {base.name}")
    return want


def _dot(instr: Instruction, shapes: Shapes) -> Shape:
    lhs, rhs = _array(shapes, 0, "dot"), _array(shapes, 1, "dot")
    lc, rc = _ints(instr, "lhs_contracting_dims", ()), _ints(instr, "rhs_contracting_dims", ())
    lb, rb = _ints(instr, "lhs_batch_dims", ()), _ints(instr, "rhs_batch_dims", ())
    _check_dims(lb + lc, lhs.rank, "lhs batch and contracting dims")
    _check_dims(rb + rc, rhs.rank, "rhs batch and contracting dims")
    if len(lc) != len(rc) or any(lhs.dims[a] != rhs.dims[b] for a, b in zip(lc, rc)):
        raise ShapeError(f"operand 1 has shape {text(rhs)} but dot needs its contracting dimensions "
                         f"{{{','.join(map(str, rc))}}} to match the lhs {text(lhs)} dimensions "
                         f"{{{','.join(map(str, lc))}}}", 1)
    if len(lb) != len(rb) or any(lhs.dims[a] != rhs.dims[b] for a, b in zip(lb, rb)):
        raise ShapeError(f"operand 1 has shape {text(rhs)} but dot needs its batch dimensions "
                         f"{{{','.join(map(str, rb))}}} to match the lhs {text(lhs)} dimensions "
                         f"{{{','.join(map(str, lb))}}}", 1)
    dims = [lhs.dims[d] for d in lb]
    dims += [n for d, n in enumerate(lhs.dims) if d not in lb and d not in lc]
    dims += [n for d, n in enumerate(rhs.dims) if d not in rb and d not in rc]
    return Shape.array(_result_type(instr, lhs, rhs, "dot"), dims)


def _convolution(instr: Instruction, shapes: Shapes) -> Shape:
    lhs, rhs = _array(shapes, 0, "convolution"), _array(shapes, 1, "convolution")
    dn: A.ConvDims = _attr(instr, "dim_labels")
    if not isinstance(dn, A.ConvDims):
        raise ShapeError(f"convolution dim_labels must be like b01f_01io->b01f, got {dn!r}")
    window = _window(instr)
    fgc, bgc = _int(instr, "feature_group_count", 1), _int(instr, "batch_group_count", 1)
    ns = len(dn.input_spatial)
    if fgc < 1 or bgc < 1:
        raise ShapeError("feature_group_count and batch_group_count must be positive")
    if fgc > 1 and bgc > 1:
        raise ShapeError("feature_group_count and batch_group_count cannot both exceed 1")
    if len(window.dims) != ns:
        raise ShapeError(f"convolution window has {len(window.dims)} dimensions but dim_labels have {ns} spatial")
    for i, x in ((0, lhs), (1, rhs)):
        if x.rank != ns + 2:
            raise ShapeError(f"operand {i} has shape {text(x)} but dim_labels need rank {ns + 2}", i)
    batch, features = lhs.dims[dn.input_batch], lhs.dims[dn.input_feature]
    k_in, k_out = rhs.dims[dn.kernel_input_feature], rhs.dims[dn.kernel_output_feature]
    if features % fgc or features // fgc != k_in:
        raise ShapeError(f"operand 1 has shape {text(rhs)} but convolution needs {features // max(fgc, 1)} kernel "
                         f"input features (input features {features} / feature_group_count {fgc})", 1)
    if k_out % fgc:
        raise ShapeError(f"kernel output features {k_out} must be a multiple of feature_group_count {fgc}", 1)
    if k_out % bgc:
        raise ShapeError(f"kernel output features {k_out} must be a multiple of batch_group_count {bgc}", 1)
    if batch % bgc:
        raise ShapeError(f"input batch {batch} must be a multiple of batch_group_count {bgc}", 0)
    kernel_spatial = [rhs.dims[d] for d in dn.kernel_spatial]
    if kernel_spatial != [w.size for w in window.dims]:
        raise ShapeError(f"operand 1 has shape {text(rhs)} but the window sizes are "
                         f"{'x'.join(str(w.size) for w in window.dims)}", 1)
    spatial = _window_dims([lhs.dims[d] for d in dn.input_spatial], window, "convolution")
    out = [0] * (ns + 2)
    out[dn.output_batch], out[dn.output_feature] = batch // bgc, k_out
    for i, d in enumerate(dn.output_spatial):
        out[d] = spatial[i]
    return Shape.array(_result_type(instr, lhs, rhs, "convolution"), out)


def _fft(instr: Instruction, shapes: Shapes) -> Shape:
    x = _array(shapes, 0, "fft")
    kind = _ident(instr, "fft_type")
    length = _ints(instr, "fft_length")
    if not 1 <= len(length) <= 3 or x.rank < len(length):
        raise ShapeError(f"fft_length {{{','.join(map(str, length))}}} needs 1 to 3 entries, at most the rank")
    tail = list(x.dims[x.rank - len(length):])
    if kind in ("FFT", "IFFT"):
        _need_kind(x, frozenset({"c"}), 0, kind)
        return x.with_dims(x.dims)
    if kind == "RFFT":
        if x.element_type.name not in ("f32", "f64") or tail != list(length):
            raise ShapeError(f"operand 0 has shape {text(x)} but RFFT needs f32/f64 ending in {list(length)}", 0)
        last = length[-1] // 2 + 1 if length[-1] else 0
        return Shape.array("c64" if x.element_type.name == "f32" else "c128", x.dims[:-1] + (last,))
    if kind == "IRFFT":
        want = list(length[:-1]) + [length[-1] // 2 + 1 if length[-1] else 0]
        if not x.element_type.is_complex or tail != want:
            raise ShapeError(f"operand 0 has shape {text(x)} but IRFFT needs complex ending in {want}", 0)
        return Shape.array(_component(x.element_type), x.dims[:-1] + (length[-1],))
    raise ShapeError(f"fft_type must be FFT, IFFT, RFFT or IRFFT, got {kind}")


def _sort(instr: Instruction, shapes: Shapes) -> Shape:
    xs = _arrays(shapes, "sort")
    for i, x in enumerate(xs):
        if x.dims != xs[0].dims:
            raise ShapeError(f"operand {i} has shape {text(x)} but sort needs the dimensions of {text(xs[0])} "
                             "(keys and values must have the same dimensions)", i)
    dims = _ints(instr, "dimensions")
    if len(dims) != 1:
        raise ShapeError("sort needs exactly one dimension in dimensions={d}")
    _check_dims(dims, xs[0].rank, "sort dimensions")
    _check_comparator(_comp(instr, "to_apply"), xs, "sort")
    return xs[0].with_dims(xs[0].dims) if len(xs) == 1 else Shape.tuple_of(xs)


def _topk(instr: Instruction, shapes: Shapes) -> Shape:
    x = _array(shapes, 0, "topk")
    k = _int(instr, "k")
    if x.rank < 1:
        raise ShapeError(f"operand 0 has shape {text(x)} but topk needs rank >= 1", 0)
    if not 0 <= k <= x.dims[-1]:
        raise ShapeError(f"topk k={k} is out of range [0, {x.dims[-1]}] for {text(x)}")
    dims = x.dims[:-1] + (k,)
    return Shape.tuple_of([Shape.array(x.element_type, dims), Shape.array(S32, dims)])


def _cholesky(instr: Instruction, shapes: Shapes) -> Shape:
    x = _array(shapes, 0, "cholesky")
    _need_kind(x, _FC, 0, "cholesky")
    if x.rank < 2 or x.dims[-1] != x.dims[-2]:
        raise ShapeError(f"operand 0 has shape {text(x)} but cholesky needs square matrices [..., n, n]", 0)
    return x.with_dims(x.dims)


def _triangular_solve(instr: Instruction, shapes: Shapes) -> Shape:
    a, b = _array(shapes, 0, "triangular-solve"), _array(shapes, 1, "triangular-solve")
    _need_kind(a, _FC, 0, "triangular-solve")
    if a.rank < 2 or a.dims[-1] != a.dims[-2]:
        raise ShapeError(f"operand 0 has shape {text(a)} but triangular-solve needs square matrices", 0)
    m = b.dims[-2] if _bool(instr, "left_side", False) else (b.dims[-1] if b.rank else -1)
    if b.dtype != a.dtype or b.rank != a.rank or b.dims[:-2] != a.dims[:-2] or m != a.dims[-1]:
        raise ShapeError(f"operand 1 has shape {text(b)} which does not fit the matrices {text(a)}", 1)
    return b.with_dims(b.dims)


def _batch_norm(n_features_operands: int, result: str) -> Rule:
    """batch-norm-training/inference/grad: operand, then per-feature vectors (and grad's output grad)."""

    def rule(instr: Instruction, shapes: Shapes) -> Shape:
        what = instr.opcode.value
        xs = _arrays(shapes, what)
        x = xs[0]
        _need_kind(x, _FLOAT, 0, what)
        f = _int(instr, "feature_index")
        if not 0 <= f < x.rank:
            raise ShapeError(f"feature_index {f} is out of range [0, {x.rank})")
        feature = Shape.array(x.element_type, (x.dims[f],))
        for i in range(1, 1 + n_features_operands):
            if not compatible(xs[i], feature):
                raise ShapeError(f"operand {i} has shape {text(xs[i])} but {what} needs {text(feature)}", i)
        for i in range(1 + n_features_operands, len(xs)):  # grad's output gradient
            if not compatible(xs[i], x):
                raise ShapeError(f"operand {i} has shape {text(xs[i])} but {what} needs {text(x)}", i)
        return x if result == "operand" else Shape.tuple_of([x, feature, feature])

    return rule


# --- tuples and control flow ---------------------------------------------------------------------

def _tuple(instr: Instruction, shapes: Shapes) -> Shape:
    return Shape.tuple_of(shapes)


def _get_tuple_element(instr: Instruction, shapes: Shapes) -> Shape:
    t = shapes[0]
    if not t.is_tuple:
        raise ShapeError(f"operand 0 has shape {text(t)} but get-tuple-element needs a tuple", 0)
    i = _int(instr, "index")
    elements = t.elements
    if not 0 <= i < len(elements):
        raise ShapeError(f"get-tuple-element index {i} is out of range for the {len(elements)}-tuple {text(t)}")
    return elements[i]


def _call(instr: Instruction, shapes: Shapes) -> Shape:
    return _check_call(_comp(instr, "to_apply"), shapes, "called")


def _fusion(instr: Instruction, shapes: Shapes) -> Shape:
    return _check_call(_comp(instr, "calls"), shapes, "fused")


def _while(instr: Instruction, shapes: Shapes) -> Shape:
    state = shapes[0]
    cond, body = _comp(instr, "condition"), _comp(instr, "body")
    root = _check_call(cond, shapes, "while condition")
    if not compatible(root, _scalar(PRED)):
        raise ShapeError(f"while condition '{cond.name}' must return pred[], returns {text(root)}")
    root = _check_call(body, shapes, "while body")
    if not compatible(root, state):
        raise ShapeError(f"while body '{body.name}' returns {text(root)} but the loop state is {text(state)}")
    return state


def _conditional(instr: Instruction, shapes: Shapes) -> Shape:
    selector = _array(shapes, 0, "conditional")
    if "branch_computations" in instr.attrs:
        branches = _comps(instr, "branch_computations")
    else:
        branches = (_comp(instr, "true_computation"), _comp(instr, "false_computation"))
    if selector.rank != 0 or selector.dtype not in (PRED, S32):
        raise ShapeError(f"operand 0 has shape {text(selector)} but conditional needs pred[] or s32[]", 0)
    if selector.dtype == PRED and len(branches) != 2:
        raise ShapeError(f"a conditional on pred[] needs 2 branches, got {len(branches)}")
    if not branches:
        raise ShapeError("conditional needs at least one branch")
    if len(shapes) != 1 + len(branches):
        raise ShapeError(f"conditional with {len(branches)} branches takes {1 + len(branches)} operands, "
                         f"got {len(shapes)}")
    result: Shape | None = None
    for k, comp in enumerate(branches):
        root = _check_call(comp, [shapes[1 + k]], f"branch {k}", first_operand=1 + k)
        if result is None:
            result = root
        elif not compatible(root, result):
            raise ShapeError(f"branch {k} '{comp.name}' returns {text(root)} but branch 0 returns {text(result)}")
    assert result is not None  # there is at least one branch
    return result


def _cc_topk(instr: Instruction, shapes: Shapes) -> Shape:
    """XLA's TopK custom-call: (values, indices) of the k first elements of each last-axis row,
    ordered by the sort comparator it names, which compares (value, index) pairs."""
    if len(shapes) != 1:
        raise ShapeError(f"TopK takes one operand, got {len(shapes)}")
    x = _array(shapes, 0, "TopK")
    s = _declared(instr)
    if x.rank < 1 or s.tuple_shapes is None or len(s.tuple_shapes) != 2 or any(e.is_tuple for e in s.tuple_shapes):
        raise ShapeError(f"TopK of {text(x)} produces (values, indices) of rank >= 1, but the declared shape is "
                         f"{text(s)}")
    k = s.tuple_shapes[0].dims[-1] if s.tuple_shapes[0].rank else -1
    if not 0 <= k <= x.dims[-1]:
        raise ShapeError(f"TopK of {text(x)} cannot produce {text(s)}")
    idx = s.tuple_shapes[1].element_type
    if not idx.is_int:
        raise ShapeError(f"TopK indices must be integers, but the declared shape is {text(s)}")
    comps = instr.attrs.get("called_computations") or ()
    if len(comps) > 1:
        raise ShapeError(f"TopK takes at most one comparator, got {len(comps)}")
    for comp in comps:
        _check_comparator(comp, [x, Shape.array(idx, x.dims)], "TopK")
    dims = x.dims[:-1] + (k,)
    return Shape.tuple_of([Shape.array(x.element_type, dims), Shape.array(idx, dims)])


# Custom-call targets whose meaning this compiler knows: their operands, result and called
# computations are checked as an opcode's would be. Others are opaque (the declared shape holds).
CUSTOM_CALL_RULES: dict[str, Rule] = {"TopK": _cc_topk}


def _custom_call(instr: Instruction, shapes: Shapes) -> Shape:
    rule = CUSTOM_CALL_RULES.get(str(instr.attrs.get("custom_call_target", "")))
    return rule(instr, shapes) if rule is not None else _declared(instr)


def _rng(instr: Instruction, shapes: Shapes) -> Shape:
    a = _need_scalar(shapes, 0, "rng")
    b = _need_scalar(shapes, 1, "rng", a.dtype)
    s = _declared_array(instr)
    dist = _ident(instr, "distribution", "rng_uniform")
    if dist == "rng_normal":
        _need_kind(a, _FLOAT, 0, "rng_normal")
    return Shape.array(b.element_type, s.dims)


def _rng_bit_generator(instr: Instruction, shapes: Shapes) -> Shape:
    state = _array(shapes, 0, "rng-bit-generator")
    s = _declared(instr)
    if s.tuple_shapes is None or len(s.tuple_shapes) != 2 or s.tuple_shapes[1].is_tuple:
        raise ShapeError(f"rng-bit-generator produces (state, bits), but the declared shape is {text(s)}")
    if state.rank != 1 or state.element_type.kind != "u":
        raise ShapeError(f"operand 0 has shape {text(state)} but rng-bit-generator needs an unsigned state vector", 0)
    return Shape.tuple_of([state, s.tuple_shapes[1]])


def _after_all(instr: Instruction, shapes: Shapes) -> Shape:
    for i, s in enumerate(shapes):
        if s.is_tuple or s.element_type.kind != "token":
            raise ShapeError(f"operand {i} has shape {text(s)} but after-all joins tokens", i)
    return _TOKEN


def _add_dependency(instr: Instruction, shapes: Shapes) -> Shape:
    return shapes[0]


def _all_reduce(instr: Instruction, shapes: Shapes) -> Shape:
    """Each operand reduced elementwise across devices: same shapes out, a scalar reducer per type."""
    xs = _arrays(shapes, instr.opcode.value)
    comp = _comp(instr, "to_apply")
    for x in xs:
        _check_reducer(comp, [_scalar(x.element_type)], [x.element_type], instr.opcode.value)
    if instr.opcode is Op.REDUCE_SCATTER:
        return _declared(instr)  # the scattered dimension shrinks by the (unknown) group size
    return xs[0].with_dims(xs[0].dims) if len(xs) == 1 else Shape.tuple_of(xs)


def _declared_rule(instr: Instruction, shapes: Shapes) -> Shape:
    return _declared(instr)  # distributed/side-effecting ops: nothing to infer on one device


_TOKEN = Shape.array(DTYPES["token"], ())

SHAPE_RULES: dict[Opcode, Rule] = {
    **{op: _unary for op in _UNARY_KINDS},
    **{op: _binary for op in _BINARY_KINDS},
    Op.COPY: _copy,
    Op.DOMAIN: _copy,
    Op.OPTIMIZATION_BARRIER: _copy,
    Op.CONVERT: _convert,
    Op.BITCAST_CONVERT: _bitcast_convert,
    Op.STOCHASTIC_CONVERT: _stochastic_convert,
    Op.REDUCE_PRECISION: _reduce_precision,
    Op.SELECT: _select,
    Op.CLAMP: _clamp,
    Op.PARAMETER: _parameter,
    Op.CONSTANT: _constant,
    Op.IOTA: _iota,
    Op.PARTITION_ID: _fixed(Shape.array(U32, ())),
    Op.REPLICA_ID: _fixed(Shape.array(U32, ())),
    Op.RNG_GET_AND_UPDATE_STATE: _declared_rule,
    Op.BITCAST: _bitcast,
    Op.BROADCAST: _broadcast,
    Op.RESHAPE: _reshape,
    Op.DYNAMIC_RESHAPE: _dynamic_reshape,
    Op.TRANSPOSE: _transpose,
    Op.SLICE: _slice,
    Op.CONCATENATE: _concatenate,
    Op.PAD: _pad,
    Op.REVERSE: _reverse,
    Op.DYNAMIC_SLICE: _dynamic_slice,
    Op.DYNAMIC_UPDATE_SLICE: _dynamic_update_slice,
    Op.GATHER: _gather,
    Op.SCATTER: _scatter,
    Op.GET_DIMENSION_SIZE: _get_dimension_size,
    Op.SET_DIMENSION_SIZE: _set_dimension_size,
    Op.REDUCE: _reduce,
    Op.REDUCE_WINDOW: _reduce_window,
    Op.SELECT_AND_SCATTER: _select_and_scatter,
    Op.MAP: _map,
    Op.DOT: _dot,
    Op.CONVOLUTION: _convolution,
    Op.FFT: _fft,
    Op.SORT: _sort,
    Op.TOPK: _topk,
    Op.CHOLESKY: _cholesky,
    Op.TRIANGULAR_SOLVE: _triangular_solve,
    Op.BATCH_NORM_TRAINING: _batch_norm(2, "tuple"),  # operand, scale, offset
    Op.BATCH_NORM_INFERENCE: _batch_norm(4, "operand"),  # operand, scale, offset, mean, variance
    Op.BATCH_NORM_GRAD: _batch_norm(3, "tuple"),  # operand, scale, mean, variance, grad_output
    Op.TUPLE: _tuple,
    Op.GET_TUPLE_ELEMENT: _get_tuple_element,
    Op.CALL: _call,
    Op.CONDITIONAL: _conditional,
    Op.WHILE: _while,
    Op.FUSION: _fusion,
    Op.CUSTOM_CALL: _custom_call,
    Op.RNG: _rng,
    Op.RNG_BIT_GENERATOR: _rng_bit_generator,
    Op.AFTER_ALL: _after_all,
    Op.ADD_DEPENDENCY: _add_dependency,
    Op.ALL_REDUCE: _all_reduce,
    Op.REDUCE_SCATTER: _all_reduce,
    **{op: _declared_rule for op in (
        Op.ALL_GATHER, Op.ALL_TO_ALL, Op.COLLECTIVE_PERMUTE, Op.COPY_START,
        Op.COPY_DONE, Op.INFEED, Op.OUTFEED, Op.RECV, Op.RECV_DONE, Op.SEND, Op.SEND_DONE)},
}


def infer_shape(instr: Instruction, operand_shapes: Shapes | None = None) -> Shape:
    """The shape `instr` must have. Raises ShapeError when its operands or attributes are invalid.

    `operand_shapes` defaults to the operands' declared shapes."""
    shapes = [o.shape for o in instr.operands] if operand_shapes is None else list(operand_shapes)
    why = operand_count_error(instr.opcode, len(shapes))
    if why:
        raise ShapeError(why)
    rule = SHAPE_RULES.get(instr.opcode)
    if rule is None:
        raise ShapeError(f"no shape rule for opcode {instr.opcode.value}")
    return rule(instr, shapes)

