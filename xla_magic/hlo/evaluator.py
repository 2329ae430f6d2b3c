"""The reference evaluator: every HLO op's meaning in numpy, as XLA's HloEvaluator / XLA:CPU has it.

A computation is compiled once into a `Plan`: each instruction becomes a step, a closure over its
decoded attributes plus the value slots of its operands. `run_plan` is a tight loop over the
steps, so the per-op cost is that of a plain numpy dispatcher. Called computations (reducers,
loop bodies, fusions) get their own plans, built once per top-level plan.

`EVALUATORS` maps each opcode to a builder `(instruction, ctx) -> callable(*operand values)`.
Values are numpy arrays (0-d arrays or numpy scalars for scalars) and Python tuples of values.
Where numpy's default differs from XLA (integer division, shifts, max/min with NaN and -0,
converts, ...) the builders say so; see XLA_SEMANTICS.md for the measured behaviour.

Checked against XLA:CPU (jaxlib 0.10.2) op by op on special values: integer ops, shifts,
compares, converts between all types, rounding, max/min, clamp, reduce-precision, bitcasts,
gather/scatter, sort/top-k and rng-bit-generator (three-fry and philox) agree bit for bit; f16
and bf16 sums round after every add as XLA:CPU does. The sub-byte integers (s4, u4, s2, u2) compute
in s8/u8 and wrap to their width after every op; the f8/f4 floats compute in f32 and round to their
format after every op, sums and products of reductions included (tests/test_evaluator_small_types
checks both against XLA:CPU). Not bit-exact, by design of a numpy reference:
- f32 transcendental functions use numpy's implementations (a few ulp from XLA's polynomials);
- `add(multiply(a, b), c)` is not contracted into an FMA (nor on the cpu target, whose results
  must not depend on whether the host has FMA units); f32 sums use numpy's pairwise order,
  where XLA:CPU uses vectorised partial sums or its YNNPACK kernels (differences ~1 ulp of the
  sum of magnitudes); multi-dimensional f16 reduce-windows differ by a few f16 ulp;
- denormal results are not flushed to zero (XLA:CPU runs with FTZ/DAZ; the cpu and gpu targets
  do not flush either); `sign` alone reads denormals of the type it computes in as zero;
  f8e8m0fnu's 2^-127 is an f32 denormal: kept here, flushed (to f8e8m0fnu's NaN) by XLA:CPU;
- f8/f4 sums round at every add, element by element from the init: as XLA:CPU for up to 32
  elements; longer ones XLA:CPU adds in a blocked order not reproduced here. Windowed f8 sums
  (reduce-window) match it for most formats, not all (f8e5m2, f8e8m0fnu: a step of the format);
- `rng` (the stateful op) draws from numpy's generator (XLA:CPU seeds it from process-wide state,
  so its values differ from run to run: there are none to match).
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from time import perf_counter
from typing import Any, Literal, NoReturn, cast

import ml_dtypes
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .attrs import Raw, WindowDim
from .dtypes import DTYPES, DType
from .ir import Computation, Instruction, Module
from .opcodes import Opcode
from .shape import Shape

O = Opcode
# np.ndarray | np.generic | tuple[Value, ...]: numpy hands back scalars or 0-d arrays as it likes, so
# values stay dynamically typed; arrays where a function needs one are np.ndarray.
Value = Any
Fn = Callable[..., Value]
# (arity, fn, a, b, c): a is one operand slot, or a tuple of slots when arity is -1 (variadic).
Step = tuple[int, Fn, Any, int, int]
Trace = list[tuple[Instruction, float, int]]  # (instruction, seconds, output nbytes) per step
Less = Callable[[list[Value], list[Value]], Value]  # a sort comparator on whole arrays


class EvaluationError(Exception):
    """An instruction that cannot be executed (elided constant, unsupported op or target)."""


def _fail(ins: Instruction, msg: str) -> EvaluationError:
    return EvaluationError(f"{ins.opcode.value} '{ins.name}': {msg}")


# --- plans ----------------------------------------------------------------------------------


@dataclass(eq=False)
class Plan:
    """A computation compiled to steps. Slots: parameters first (by number), then constants,
    then one slot per step in order. A step is (arity, fn, a, b, c): operand slots a, b, c for
    arity <= 3, or `a` a tuple of slots when arity is -1 (variadic)."""

    computation: Computation
    n_params: int
    consts: list[Value]
    steps: list[Step]
    step_instrs: list[Instruction]
    root: int
    subplans: dict[int, Plan] = field(default_factory=dict)


class _Ctx:
    """Plan-building context: sub-computation plans are built once and shared."""

    def __init__(self) -> None:
        self.plans: dict[int, Plan] = {}

    def plan(self, comp: Computation) -> Plan:
        p = self.plans.get(id(comp))
        if p is None:
            p = _build(comp, self)
            self.plans[id(comp)] = p
        return p

    def call(self, comp: Computation) -> Fn:
        """A callable running `comp` on positional argument values."""
        p = self.plan(comp)
        return lambda *args: _run(p, args)


def make_plan(comp: Computation) -> Plan:
    """Compiles `comp` (and every computation it calls) into a Plan."""
    ctx = _Ctx()
    plan = ctx.plan(comp)
    plan.subplans = ctx.plans
    return plan


def _parameter_number(p: Instruction) -> int:
    return cast(int, p.parameter_number)  # the verifier numbers every parameter


def _build(comp: Computation, ctx: _Ctx) -> Plan:
    order = comp.post_order()
    params = sorted((i for i in order if i.opcode is O.PARAMETER), key=_parameter_number)
    n_params = max((_parameter_number(p) + 1 for p in params), default=0)
    slot: dict[int, int] = {id(p): _parameter_number(p) for p in params}
    consts: list[Value] = []
    for i in order:
        if i.opcode is O.CONSTANT and i.literal is not None:
            slot[id(i)] = n_params + len(consts)
            consts.append(_frozen(i.literal))
    next_slot = n_params + len(consts)
    steps: list[Step] = []
    instrs: list[Instruction] = []
    for i in order:
        if id(i) in slot:
            continue
        fn = _step_fn(i, ctx)
        ops = [slot[id(o)] for o in i.operands]
        n = len(ops)
        if n <= 3:
            a, b, c = (ops + [0, 0, 0])[:3]
            steps.append((n, fn, a, b, c))
        else:
            steps.append((-1, fn, tuple(ops), 0, 0))
        instrs.append(i)
        slot[id(i)] = next_slot
        next_slot += 1
    return Plan(comp, n_params, consts, steps, instrs, slot[id(comp.root)])


def _step_fn(ins: Instruction, ctx: _Ctx) -> Fn:
    builder = EVALUATORS.get(ins.opcode)
    if builder is None:
        err = _fail(ins, "has no evaluator (not executable here)")
    else:
        try:
            if ins.opcode not in _SUB_BYTE_AS_IS and _has_sub_byte(ins):
                return _sub_byte_step(ins, builder(_widened(ins), ctx))
            return builder(ins, ctx)
        except EvaluationError as e:
            err = e

    def raise_(*_: Value) -> NoReturn:  # deferred, so a plan can be made for a module that never runs the op
        raise err
    return raise_


def _frozen(a: np.ndarray) -> np.ndarray:
    """A read-only view, so no caller can change a plan's constants through a result."""
    v = np.asarray(a).view()
    v.flags.writeable = False
    return v


def _run(plan: Plan, args: Sequence[Value]) -> Value:
    vals = list(args[:plan.n_params])
    vals += plan.consts
    append = vals.append
    for n, fn, a, b, c in plan.steps:
        if n == 2:
            append(fn(vals[a], vals[b]))
        elif n == 1:
            append(fn(vals[a]))
        elif n == 3:
            append(fn(vals[a], vals[b], vals[c]))
        elif n == 0:
            append(fn())
        else:
            append(fn(*[vals[i] for i in a]))
    return vals[plan.root]


def _run_traced(plan: Plan, args: Sequence[Value], trace: Trace) -> Value:
    vals = list(args[:plan.n_params])
    vals += plan.consts
    for (n, fn, a, b, c), ins in zip(plan.steps, plan.step_instrs):
        ops = [vals[i] for i in a] if n < 0 else [vals[a], vals[b], vals[c]][:n]
        t0 = perf_counter()
        out = fn(*ops)
        trace.append((ins, perf_counter() - t0, _nbytes(out)))
        vals.append(out)
    return vals[plan.root]


def _nbytes(v: Value) -> int:
    if isinstance(v, tuple):
        return sum(_nbytes(x) for x in v)
    return int(getattr(v, "nbytes", 0))


def run_plan(plan: Plan, args: Sequence[Value], trace: Trace | None = None) -> Value:
    """Runs a plan. With `trace` a list, appends (instruction, seconds, output nbytes) per step."""
    if len(args) < plan.n_params:
        raise EvaluationError(f"computation '{plan.computation.name}' takes {plan.n_params} arguments, "
                              f"got {len(args)}")
    with np.errstate(all="ignore"):
        out = _run(plan, args) if trace is None else _run_traced(plan, args, trace)
    return _finish(out, args)


def _finish(v: Value, args: Sequence[Value]) -> Value:
    """Results as owned, writable, C-contiguous arrays (never views of inputs or constants)."""
    if isinstance(v, tuple):
        return tuple(_finish(x, args) for x in v)
    if not isinstance(v, np.ndarray):
        return np.asarray(v)
    f = v.flags
    if v.base is not None or not f.writeable or not f.c_contiguous:
        return np.array(v, order="C")
    for a in args:
        if v is a:
            return np.array(v, order="C")
    return v


def evaluate_computation(comp: Computation, args: Sequence[Value]) -> Value:
    return run_plan(make_plan(comp), args)


def evaluate_module(module: Module, args: Sequence[Value]) -> Value:
    return evaluate_computation(module.entry, args)


# --- dtype helpers --------------------------------------------------------------------------

_NATIVE_FLOATS = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.float64, np.complex64, np.complex128))
_F32 = np.dtype(np.float32)
_BF16 = np.dtype(ml_dtypes.bfloat16)


def _via_f32(f: Fn, dt: DType) -> Fn:
    """Elementwise float ops on bf16/f8 run in f32 and round back, as XLA:CPU upcasts them."""
    if not dt.is_float or dt.np in _NATIVE_FLOATS:
        return f
    out = dt.np

    def g(*xs: Value) -> Value:
        return np.asarray(f(*(np.asarray(x, _F32) for x in xs))).astype(out)
    return g


def _signed_of(npd: np.dtype) -> np.dtype:
    return np.dtype(f"i{npd.itemsize}")


def _unsigned_of(npd: np.dtype) -> np.dtype:
    return np.dtype(f"u{npd.itemsize}")


def _total_order_key(x: np.ndarray) -> np.ndarray:
    """Signed integers ordered as XLA's TOTALORDER: -NaN < -inf < ... < -0 < +0 < ... < NaN."""
    x = np.asarray(x)
    si = _signed_of(x.dtype)
    i = x.view(si)
    return np.where(i < 0, i ^ np.array(np.iinfo(si).max, si), i)


def _is_float_np(npd: np.dtype) -> bool:
    return npd.kind == "f" or "float" in npd.name  # ml_dtypes' bfloat16, float8_* have kind 'V'



# --- sub-byte integers -----------------------------------------------------------------------
# s4/u4/s2/u2 (ml_dtypes int4, ...) are computed in s8/u8 holding the value: an instruction
# with such a type is built with its DType's `np` widened (`bits` stays, so the rules that
# depend on the width -- division's INT_MIN, shift counts, saturating converts, clz -- see the
# true width), and every result is wrapped to the width (two's complement for s, modulo for u)
# before it is stored in the narrow type. numpy's own arithmetic on ml_dtypes' integers
# neither wraps nor takes iinfo.

_SUB_BYTE_WIDE = {d: replace(d, np=np.dtype(np.int8 if d.kind == "s" else np.uint8))
                  for d in DTYPES.values() if d.is_int and d.bits < 8}
# Ops that move values without computing on them, and bitcasts, which see the stored bytes.
_SUB_BYTE_AS_IS = frozenset({
    O.PARAMETER, O.CONSTANT, O.TUPLE, O.GET_TUPLE_ELEMENT, O.CALL, O.WHILE, O.CONDITIONAL, O.FUSION,
    O.COPY, O.OPTIMIZATION_BARRIER, O.ADD_DEPENDENCY, O.DOMAIN, O.BITCAST, O.BITCAST_CONVERT,
    O.RESHAPE, O.TRANSPOSE, O.SLICE, O.REVERSE, O.BROADCAST, O.CONCATENATE})


def _is_sub_byte(dt: DType | None) -> bool:
    return dt is not None and dt.bits < 8 and dt.kind in ("s", "u")  # (cheaper than hashing a DType)


def _has_sub_byte_shape(s: Shape) -> bool:
    if s.tuple_shapes is not None:
        return any(_has_sub_byte_shape(e) for e in s.tuple_shapes)
    return _is_sub_byte(s.dtype)


def _has_sub_byte(ins: Instruction) -> bool:
    return _has_sub_byte_shape(ins.shape) or any(_has_sub_byte_shape(o.shape) for o in ins.operands)


def _wide_shape(s: Shape) -> Shape:
    if s.tuple_shapes is not None:
        return replace(s, tuple_shapes=tuple(_wide_shape(e) for e in s.tuple_shapes))
    return replace(s, dtype=_SUB_BYTE_WIDE[s.element_type]) if _is_sub_byte(s.dtype) else s


def _widened(ins: Instruction) -> Instruction:
    """The instruction as the builders see it: operand and result types widened to s8/u8."""
    ops = [replace(o, shape=_wide_shape(o.shape)) for o in ins.operands]
    return replace(ins, shape=_wide_shape(ins.shape), operands=ops)


def _wrapper(dt: DType) -> Fn:
    """Values of any integer type wrapped to the sub-byte type dt's width, stored as dt."""
    wide, narrow = _SUB_BYTE_WIDE[dt].np_dtype, dt.np_dtype
    sh = np.array(8 - dt.bits, wide)

    def wrap(x: Value) -> np.ndarray:
        w = np.asarray(x).astype(wide)
        # (u8 << k) >> k clears the high bits; s8's arithmetic >> copies the sign bit into them
        r: np.ndarray = (w << sh) >> sh
        return r.astype(narrow)
    return wrap


def _widen_value(x: Value) -> Value:
    if isinstance(x, tuple):
        return tuple(_widen_value(v) for v in x)
    a = np.asarray(x)
    d = _SUB_BYTE_NP.get(a.dtype)
    return a if d is None else a.astype(d)


_SUB_BYTE_NP = {d.np_dtype: w.np_dtype for d, w in _SUB_BYTE_WIDE.items()}


def _narrower(s: Shape) -> Fn:
    """Stores a result of shape s: its sub-byte arrays wrapped to their width."""
    if s.tuple_shapes is not None:
        parts = [_narrower(e) for e in s.tuple_shapes]
        return lambda x: tuple(p(v) for p, v in zip(parts, x))
    return _wrapper(s.element_type) if _is_sub_byte(s.dtype) else (lambda x: x)


def _sub_byte_step(ins: Instruction, fn: Fn) -> Fn:
    narrow = _narrower(ins.shape)

    def f(*xs: Value) -> Value:
        return narrow(fn(*(_widen_value(x) for x in xs)))
    return f


def _bit_pattern(x: Value, bits: int) -> np.ndarray:
    """The low `bits` bits of x as an unsigned integer of x's size (a sub-byte value widened
    to s8 carries copies of its sign bit above them)."""
    a = np.asarray(x)
    u = a.view(_unsigned_of(a.dtype))
    return u & np.array((1 << bits) - 1, u.dtype) if bits < 8 * a.dtype.itemsize else u


def _sign_extended(x: Value, bits: int) -> np.ndarray:
    """The low `bits` bits of x as a signed integer of x's size."""
    a = np.asarray(x)
    s = a.view(_signed_of(a.dtype))
    sh = np.array(8 * a.dtype.itemsize - bits, s.dtype)
    return (s << sh) >> sh if bits < 8 * a.dtype.itemsize else s


# --- elementwise: unary ---------------------------------------------------------------------


def _round_afz(x: Value) -> Value:
    t = np.trunc(x)
    # round half away from zero; trunc keeps -0 for (-0.5, -0]
    return np.where(np.abs(x - t) >= 0.5, t + np.copysign(np.ones_like(t), x), t)


def _sign_float(tiny: float) -> Fn:
    def f(x: Value) -> Value:
        r = np.sign(x)
        # sign(-0) = -0 and, with denormals read as zero (XLA:CPU's DAZ), sign(denormal) = +-0
        return np.where(np.abs(x) < tiny, x * 0, r)
    return f


def _sign_complex(x: Value) -> Value:
    a = np.abs(x)
    return np.where(a == 0, x, x / np.where(a == 0, 1, a))


_erf_scalar = np.frompyfunc(math.erf, 1, 1)


def _erf(x: Value) -> Value:
    x = np.asarray(x)
    # (a frompyfunc on a 0-d array returns a Python float, not an array)
    return np.asarray(_erf_scalar(x.astype(np.float64)), np.float64).astype(x.dtype)


def _logistic(x: Value) -> Value:
    one = np.ones((), x.dtype if hasattr(x, "dtype") else None)
    return one / (one + np.exp(-x))


def _rsqrt(x: Value) -> Value:
    return np.ones((), np.asarray(x).dtype) / np.sqrt(x)


def _clz(dt: DType) -> Fn:
    bits = dt.bits

    def f(x: Value) -> Value:
        x = np.asarray(x)
        v = _bit_pattern(x, bits).astype(np.uint64)
        hi = (v >> np.uint64(32)).astype(np.float64)
        lo = (v & np.uint64(0xFFFFFFFF)).astype(np.float64)
        # frexp's exponent is the bit length for exact integers
        bl = np.where(hi > 0, np.frexp(hi)[1] + 32, np.frexp(lo)[1])
        return (bits - bl).astype(x.dtype)
    return f


# XLA (XLA:CPU and its constant folding alike) counts the bits of s4's sign-extended byte:
# popcnt(s4 -8) = 5, popcnt(s4 -1) = 8, which wraps to -8. Other types count their own bits.
_POPCNT_BITS = {"s4": 8}


def _popcnt(dt: DType) -> Fn:
    bits = _POPCNT_BITS.get(dt.name, dt.bits)

    def f(x: Value) -> Value:
        x = np.asarray(x)
        return np.bitwise_count(_bit_pattern(x, bits)).astype(x.dtype)
    return f


_FLOAT_FORMAT = {  # bits: (exponent bits, mantissa bits) of the IEEE-like types
    np.dtype(np.float16): (5, 10), _BF16: (8, 7), _F32: (8, 23), np.dtype(np.float64): (11, 52),
}


def _reduce_precision(dt: DType, ebits: int, mbits: int) -> Fn:
    """XLA's ReducePrecision: round the mantissa to nearest even, then clamp the exponent range."""
    npd = dt.np
    if npd is None or npd not in _FLOAT_FORMAT:
        npd = _F32
    src_e, src_m = _FLOAT_FORMAT[npd]
    nbits = npd.itemsize * 8
    u = _unsigned_of(npd)

    def c(v: Value) -> Value:
        return np.array(v, u)

    def f(x: Value) -> Value:
        x0 = np.asarray(x)
        x = x0.astype(npd, copy=False)
        xi = x.view(u)
        if mbits < src_m:
            shift = src_m - mbits
            last = c(1 << shift)
            last_bit = (xi & last) >> c(shift)
            bias = last_bit + c((1 << (shift - 1)) - 1)
            xi = (xi + bias) & ~c((1 << shift) - 1)
        if ebits < src_e:
            exp_mask = c(((1 << src_e) - 1) << src_m)
            sign = xi & c(1 << (nbits - 1))
            src_bias = (1 << (src_e - 1)) - 1
            red_bias = (1 << (ebits - 1)) - 1
            xe = xi & exp_mask
            over = xe > c((src_bias + red_bias) << src_m)
            under = xe <= c((src_bias - red_bias) << src_m)
            xi = np.where(over, sign | exp_mask, np.where(under, sign, xi))
        r = np.asarray(xi, u).view(npd)
        return np.where(np.isnan(x), x, r).astype(x0.dtype, copy=False)
    return f


def _unary_table() -> dict[Opcode, Callable[[DType, DType], Fn]]:
    def flt(f: Fn) -> Callable[[DType, DType], Fn]:
        return lambda src, out: _via_f32(f, src)

    def sign(src: DType, out: DType) -> Fn:
        if src.is_complex:
            return _sign_complex
        if src.is_float:
            # Denormals of the type the op computes in read as zero (XLA:CPU's DAZ): f32's for
            # f32 and bf16, f64's for f64. f16, f8 and f4 run in f32, where their subnormals are
            # normal and XLA keeps f8e8m0fnu's 2^-127: only their zeros are below the threshold.
            tiny = float(np.finfo(np.float64).tiny if src.np == np.dtype(np.float64)
                         else np.finfo(np.float32).tiny if src.np in (_F32, _BF16)
                         else np.finfo(np.float16).smallest_subnormal if src.np == _F16
                         else np.finfo(np.float32).smallest_subnormal)
            return _via_f32(_sign_float(tiny), src)
        return np.sign

    def round_afz(src: DType, out: DType) -> Fn:
        return _via_f32(_round_afz, src) if src.is_float else (lambda x: x)

    def round_even(src: DType, out: DType) -> Fn:
        return _via_f32(np.rint, src) if src.is_float else (lambda x: x)

    def not_(src: DType, out: DType) -> Fn:
        return np.logical_not if src.kind == "pred" else np.invert

    def real(src: DType, out: DType) -> Fn:
        return np.real

    def is_finite(src: DType, out: DType) -> Fn:  # pred out, so no round trip through the input type
        return np.isfinite if src.np in _NATIVE_FLOATS else (lambda x: np.isfinite(np.asarray(x, _F32)))

    def imag(src: DType, out: DType) -> Fn:
        return np.imag if src.is_complex else (lambda x: np.zeros_like(x))

    return {
        O.ABS: lambda s, o: _via_f32(np.abs, s), O.CBRT: flt(np.cbrt), O.CEIL: flt(np.ceil),
        O.CLZ: lambda s, o: _clz(s), O.COS: flt(np.cos), O.ERF: flt(_erf), O.EXP: flt(np.exp),
        O.EXPM1: flt(np.expm1), O.FLOOR: flt(np.floor), O.IMAG: imag, O.IS_FINITE: is_finite,
        O.LOG: flt(np.log), O.LOG1P: flt(np.log1p), O.LOGISTIC: flt(_logistic),
        O.NEGATE: lambda s, o: _via_f32(np.negative, s), O.NOT: not_, O.POPCNT: lambda s, o: _popcnt(s),
        O.REAL: real, O.ROUND_AFZ: round_afz, O.ROUND_EVEN: round_even, O.RSQRT: flt(_rsqrt),
        O.SIGN: sign, O.SIN: flt(np.sin), O.SQRT: flt(np.sqrt), O.TAN: flt(np.tan), O.TANH: flt(np.tanh),
        O.SINH: flt(np.sinh), O.COSH: flt(np.cosh), O.ACOS: flt(np.arccos), O.ACOSH: flt(np.arccosh),
        O.ASIN: flt(np.arcsin), O.ASINH: flt(np.arcsinh), O.ATAN: flt(np.arctan), O.ATANH: flt(np.arctanh),
    }


UNARY_FNS = _unary_table()


def _b_unary(ins: Instruction, ctx: _Ctx) -> Fn:
    return UNARY_FNS[ins.opcode](ins.operands[0].shape.element_type, ins.shape.element_type)


# --- elementwise: binary --------------------------------------------------------------------


def _fmax(a: Value, b: Value) -> Value:
    r = np.maximum(a, b)  # propagates NaN; the sign of a zero result may be wrong
    z = r == 0
    if np.count_nonzero(z):  # (cheaper than z.any() on small arrays)
        # max(-0, +0) = +0: for equal zeros, a + b has the right sign
        r = np.where(z & (a == b), a + b, r)
    return r


def _fmin(a: Value, b: Value) -> Value:
    r = np.minimum(a, b)
    z = r == 0
    if np.count_nonzero(z):
        # min(-0, +0) = -0: -((-a) - b) has the right sign for equal zeros
        r = np.where(z & (a == b), -(-a - b), r)
    return r


def _int_div(dt: DType) -> Fn:
    """Truncating division; x/0 = -1 (all ones), INT_MIN/-1 = INT_MIN."""
    npd = dt.np
    if dt.kind == "u":
        def udiv(a: Value, b: Value) -> Value:
            z = b == 0
            return np.where(z, np.array((1 << dt.bits) - 1, npd), np.floor_divide(a, np.where(z, 1, b)))
        return udiv
    lo = np.array(-(1 << (dt.bits - 1)), npd)  # (the width's, for sub-byte types computed in s8)

    def sdiv(a: Value, b: Value) -> Value:
        z = b == 0
        bad = z | ((a == lo) & (b == -1))
        sb = np.where(bad, np.array(1, npd), b)
        q = (a - np.fmod(a, sb)) // sb  # exact, so floor == trunc
        return np.where(z, np.array(-1, npd), np.where(bad, lo, q))
    return sdiv


def _int_rem(dt: DType) -> Fn:
    """C remainder (sign of the dividend); x%0 = x, INT_MIN%-1 = 0."""
    npd = dt.np

    def rem(a: Value, b: Value) -> Value:
        z = b == 0
        sb = np.where(z | (b == -1) if dt.kind == "s" else z, np.array(1, npd), b)
        return np.where(z, a, np.fmod(a, sb))
    return rem


def _int_pow(dt: DType) -> Fn:
    """Exponentiation by squaring with wrap-around; negative exponents give 0 except for |a| = 1."""
    npd = dt.np
    one = np.array(1, npd)

    def f(a: Value, b: Value) -> Value:
        a, b = np.broadcast_arrays(np.asarray(a, npd), np.asarray(b, npd))
        e = np.where(b < 0, 0, b) if dt.kind == "s" else b.copy()
        res = np.ones_like(a)
        base = a.copy()
        while (e > 0).any():
            res = np.where((e & one).astype(bool), res * base, res)
            base = base * base
            e = e >> one
        if dt.kind == "s":
            odd = (b & one).astype(bool)
            neg = np.where(a == 1, one, np.where(a == -1, np.where(odd, -one, one), np.zeros_like(a)))
            res = np.where(b < 0, neg, res)
        return res
    return f


def _shift_ok(b: Value, w: int, signed: bool) -> Value:
    return ((b >= 0) & (b < w)) if signed else (b < w)


def _shl(dt: DType) -> Fn:
    npd, w, s = dt.np, dt.bits, dt.kind == "s"

    def f(a: Value, b: Value) -> Value:
        ok = _shift_ok(b, w, s)
        r = np.left_shift(a, np.where(ok, b, np.array(0, npd)))
        return np.where(ok, r, np.array(0, npd))
    return f


def _sra(dt: DType) -> Fn:
    npd, w, s = dt.np_dtype, dt.bits, dt.kind == "s"
    si = _signed_of(npd)

    def f(a: Value, b: Value) -> Value:
        ok = _shift_ok(b, w, s)
        sh = np.where(ok, b, np.array(w - 1, npd)).astype(si)
        return np.right_shift(_sign_extended(a, w), sh).view(npd)  # w-1 fills with the sign
    return f


def _srl(dt: DType) -> Fn:
    npd, w, s = dt.np_dtype, dt.bits, dt.kind == "s"
    ui = _unsigned_of(npd)

    def f(a: Value, b: Value) -> Value:
        ok = _shift_ok(b, w, s)
        sh = np.where(ok, b, np.array(0, npd)).astype(ui)
        r = np.right_shift(_bit_pattern(a, w), sh).view(npd)
        return np.where(ok, r, np.array(0, npd))
    return f


def _complex_fn(out: DType) -> Fn:
    npd = out.np

    def f(a: Value, b: Value) -> Value:
        a, b = np.broadcast_arrays(a, b)
        r = np.empty(a.shape, npd)
        r.real = a
        r.imag = b
        return r
    return f


def _binary_fn(op: Opcode, dt: DType, out: DType) -> Fn:
    k = dt.kind
    isf = dt.is_float
    if op is O.ADD:
        return _via_f32(np.add, dt) if k != "pred" else np.logical_or
    if op is O.SUBTRACT:
        return _via_f32(np.subtract, dt) if k != "pred" else np.logical_xor
    if op is O.MULTIPLY:
        return _via_f32(np.multiply, dt) if k != "pred" else np.logical_and
    if op is O.DIVIDE:
        return _int_div(dt) if dt.is_int else _via_f32(np.true_divide, dt)
    if op is O.REMAINDER:
        return _int_rem(dt) if dt.is_int else _via_f32(np.fmod, dt)
    if op is O.MAXIMUM:
        return _via_f32(_fmax, dt) if isf else np.maximum
    if op is O.MINIMUM:
        return _via_f32(_fmin, dt) if isf else np.minimum
    if op is O.POWER:
        return _int_pow(dt) if dt.is_int else _via_f32(np.power, dt)
    if op is O.ATAN2:
        return _via_f32(np.arctan2, dt)
    if op is O.COMPLEX:
        return _complex_fn(out)
    if op is O.AND:
        return np.bitwise_and
    if op is O.OR:
        return np.bitwise_or
    if op is O.XOR:
        return np.bitwise_xor
    if op is O.SHIFT_LEFT:
        return _shl(dt)
    if op is O.SHIFT_RIGHT_ARITHMETIC:
        return _sra(dt)
    if op is O.SHIFT_RIGHT_LOGICAL:
        return _srl(dt)
    raise KeyError(op)


_CMP = {"EQ": np.equal, "NE": np.not_equal, "LT": np.less, "LE": np.less_equal, "GT": np.greater,
        "GE": np.greater_equal}


def _compare_fn(direction: str, ctype: str | None, dt: DType) -> Fn:
    cmp = _CMP[direction]
    if dt.is_float and ctype == "TOTALORDER":
        return lambda a, b: cmp(_total_order_key(a), _total_order_key(b))
    w = dt.bits
    if ctype == "UNSIGNED" and dt.kind == "s":
        return lambda a, b: cmp(_bit_pattern(a, w), _bit_pattern(b, w))
    if ctype == "SIGNED" and dt.kind == "u":
        return lambda a, b: cmp(_sign_extended(a, w), _sign_extended(b, w))
    return cmp


def _b_binary(ins: Instruction, ctx: _Ctx) -> Fn:
    return _binary_fn(ins.opcode, ins.operands[0].shape.element_type, ins.shape.element_type)


def _b_compare(ins: Instruction, ctx: _Ctx) -> Fn:
    direction = ins.attrs.get("direction")
    if direction not in _CMP:
        raise _fail(ins, f"unknown comparison direction {direction!r}")
    return _compare_fn(direction, ins.attrs.get("type"), ins.operands[0].shape.element_type)


def _b_select(ins: Instruction, ctx: _Ctx) -> Fn:
    return np.where


def _b_clamp(ins: Instruction, ctx: _Ctx) -> Fn:
    dt = ins.shape.element_type
    if dt.is_float:
        # min(max(x, lo), hi) with NaN-propagating max/min: lo > hi gives hi, any NaN gives NaN
        return _via_f32(lambda lo, x, hi: np.broadcast_to(_fmin(_fmax(x, lo), hi), np.shape(x)), dt)
    return lambda lo, x, hi: np.minimum(np.maximum(x, lo), hi)


# --- converts -------------------------------------------------------------------------------


def _float_to_int(dt: DType) -> Fn:
    """Truncate toward zero, saturate, NaN -> 0 (LLVM's fpto[su]i.sat, as XLA:CPU emits)."""
    dst = dt.np_dtype
    signed = dt.kind == "s"
    # the range of dt's width (dst may be wider: sub-byte types compute in s8/u8)
    lo, hi = (-2.0 ** (dt.bits - 1), 2.0 ** (dt.bits - 1)) if signed else (0.0, 2.0 ** dt.bits)
    top = (1 << (dt.bits - signed)) - 1
    below_hi = np.nextafter(hi, 0.0)

    def f(x: Value) -> Value:
        x = np.asarray(x)
        if x.dtype.kind == "c":
            x = x.real
        t = np.trunc(x.astype(np.float64))
        safe = np.clip(np.where(np.isnan(t), 0.0, t), lo, below_hi)
        r = safe.astype(dst)
        return np.where(t >= hi, np.array(top, dst), r)
    return f


def _convert_fn(src: DType, dst: DType) -> Fn:
    d = dst.np
    if src.np == d:
        return lambda x: x
    if dst.kind == "pred":
        return lambda x: np.not_equal(x, 0)
    if (src.is_float or src.is_complex) and dst.is_int:
        return _float_to_int(dst)
    if src.is_complex and dst.is_float:
        return lambda x: np.real(x).astype(d)
    if dst.is_float and d not in _NATIVE_FLOATS and not src.is_float:
        # ints to bf16/f8: exact in f64, then one rounding
        return lambda x: np.asarray(x).astype(np.float64).astype(d)
    return lambda x: np.asarray(x).astype(d)


def _b_convert(ins: Instruction, ctx: _Ctx) -> Fn:
    return _convert_fn(ins.operands[0].shape.element_type, ins.shape.element_type)


def _b_bitcast_convert(ins: Instruction, ctx: _Ctx) -> Fn:
    d, dims = ins.shape.element_type.np_dtype, ins.shape.dims
    if ins.operands[0].shape.element_type.itemsize == ins.shape.element_type.itemsize:
        # Elementwise: keeps whatever shape it is given (comparators run on whole arrays), 0-d
        # included (np.ascontiguousarray would make a scalar 1-d).
        return lambda x: np.asarray(x, order="C").view(d)

    def f(x: Value) -> Value:
        return np.ascontiguousarray(x).view(d).reshape(dims)
    return f


def _b_reduce_precision(ins: Instruction, ctx: _Ctx) -> Fn:
    return _reduce_precision(ins.shape.element_type, int(ins.attrs["exponent_bits"]), int(ins.attrs["mantissa_bits"]))


def _b_stochastic_convert(ins: Instruction, ctx: _Ctx) -> Fn:
    raise _fail(ins, "stochastic-convert is not supported by the evaluator")


# --- leaves ---------------------------------------------------------------------------------


def _b_constant(ins: Instruction, ctx: _Ctx) -> Fn:
    if ins.literal is None:
        raise _fail(ins, "its literal was elided as {...} in the text, so it cannot be executed")
    lit = _frozen(ins.literal)
    return lambda: lit


def _b_iota(ins: Instruction, ctx: _Ctx) -> Fn:
    dims = ins.shape.dims
    d = int(ins.attrs.get("iota_dimension", 0))
    shape = [1] * len(dims)
    shape[d] = dims[d]
    npd = ins.shape.element_type.np_dtype
    base = np.arange(dims[d], dtype=np.float64 if ins.shape.element_type.is_float else np.int64)
    val = _frozen(np.broadcast_to(base.astype(npd).reshape(shape), dims))
    return lambda: val


def _b_parameter(ins: Instruction, ctx: _Ctx) -> Fn:
    raise _fail(ins, "parameter is not reachable as a step")


# --- shape ops ------------------------------------------------------------------------------


def _major_to_minor(s: Shape) -> tuple[int, ...]:
    if s.layout is None or len(s.layout) != s.rank:
        return tuple(range(s.rank))
    return tuple(reversed(s.layout))


def _b_bitcast(ins: Instruction, ctx: _Ctx) -> Fn:
    """Reinterprets the operand's bytes in its physical (layout) order as the result's."""
    src, dst = ins.operands[0].shape, ins.shape
    if src.size != dst.size or src.element_type.itemsize != dst.element_type.itemsize:
        raise _fail(ins, f"bitcast from {src} to {dst} changes the byte count")
    sp, dp = _major_to_minor(src), _major_to_minor(dst)
    ident = tuple(range(src.rank)) == sp and tuple(range(dst.rank)) == dp
    dims, d = dst.dims, dst.element_type.np_dtype
    retype = src.element_type.np != d
    if not src.rank and not dst.rank:  # elementwise, so it also works in vectorised comparators
        return (lambda x: np.asarray(x).view(d)) if retype else (lambda x: x)
    if ident and not retype:
        return lambda x: np.reshape(x, dims)
    phys_dims = tuple(dims[i] for i in dp)
    inv = tuple(np.argsort(dp))

    def f(x: Value) -> Value:
        p = np.ascontiguousarray(np.transpose(x, sp))
        if retype:
            p = p.view(d)
        return np.transpose(p.reshape(phys_dims), inv)
    return f


def _b_broadcast(ins: Instruction, ctx: _Ctx) -> Fn:
    dims = tuple(ins.attrs.get("dimensions", ()))
    out = ins.shape.dims
    perm = tuple(int(i) for i in np.argsort(dims))
    placed_dims = [1] * len(out)
    for od in sorted(dims):
        placed_dims[od] = out[od]
    placed = tuple(placed_dims)
    if not out:
        return lambda x: x
    if perm == tuple(range(len(dims))):
        return lambda x: np.broadcast_to(np.reshape(x, placed), out)
    return lambda x: np.broadcast_to(np.reshape(np.transpose(x, perm), placed), out)


def _b_reshape(ins: Instruction, ctx: _Ctx) -> Fn:
    dims = ins.shape.dims
    if not dims and not ins.operands[0].shape.rank:
        return lambda x: x  # scalar to scalar: elementwise, for reducers run on arrays
    return lambda x: np.reshape(x, dims)


def _b_dynamic_reshape(ins: Instruction, ctx: _Ctx) -> Fn:
    dims = ins.shape.dims  # the static bound; dynamic sizes are not tracked
    return lambda x, *sizes: np.reshape(x, dims)


def _b_transpose(ins: Instruction, ctx: _Ctx) -> Fn:
    perm = tuple(ins.attrs["dimensions"])
    return lambda x: np.transpose(x, perm)


def _b_reverse(ins: Instruction, ctx: _Ctx) -> Fn:
    axes = tuple(ins.attrs.get("dimensions", ()))
    return lambda x: np.flip(x, axes)


def _b_slice(ins: Instruction, ctx: _Ctx) -> Fn:
    idx = tuple(slice(s, l, st) for s, l, st in ins.attrs["slice"])
    return lambda x: np.asarray(x)[idx]


def _b_concatenate(ins: Instruction, ctx: _Ctx) -> Fn:
    axis = int(ins.attrs["dimensions"][0])
    return lambda *xs: np.concatenate(xs, axis)


def _pad(x: Value, cfg: Sequence[tuple[int, int, int]], value: Value) -> np.ndarray:
    """XLA pad: interior first, then low/high edges (negative ones crop)."""
    x = np.asarray(x)
    inner = [n + (n - 1) * it if n > 0 else 0 for n, (_, _, it) in zip(x.shape, cfg)]
    buf = [max(lo, 0) + n + max(hi, 0) for n, (lo, hi, _) in zip(inner, cfg)]
    out = np.full(buf, value, x.dtype)
    out[tuple(slice(max(lo, 0), max(lo, 0) + n, it + 1) for n, (lo, _, it) in zip(inner, cfg))] = x
    return out[tuple(slice(max(-lo, 0), b - max(-hi, 0)) for b, (lo, hi, _) in zip(buf, cfg))]


def _b_pad(ins: Instruction, ctx: _Ctx) -> Fn:
    cfg = tuple(ins.attrs.get("padding", ()))
    return lambda x, v: _pad(x, cfg, v)


def _clamped_starts(starts: Sequence[Value], dims: Sequence[int], sizes: Sequence[int]) -> list[int]:
    return [min(max(int(s), 0), d - z) for s, d, z in zip(starts, dims, sizes)]


def _b_dynamic_slice(ins: Instruction, ctx: _Ctx) -> Fn:
    sizes = tuple(ins.attrs.get("dynamic_slice_sizes", ins.shape.dims))

    def f(x: Value, *starts: Value) -> Value:
        x = np.asarray(x)
        st = _clamped_starts(starts, x.shape, sizes)
        return x[tuple(slice(s, s + z) for s, z in zip(st, sizes))]
    return f


def _b_dynamic_update_slice(ins: Instruction, ctx: _Ctx) -> Fn:
    def f(x: Value, upd: Value, *starts: Value) -> Value:
        upd = np.asarray(upd)
        out = np.array(x)
        st = _clamped_starts(starts, out.shape, upd.shape)
        out[tuple(slice(s, s + z) for s, z in zip(st, upd.shape))] = upd
        return out
    return f


def _ints(ins: Instruction, key: str) -> tuple[int, ...]:
    return tuple(int(v) for v in ins.attrs.get(key, ()))


_I64_MAX = np.iinfo(np.int64).max


def _index_vectors(indices: Value, ivd: int) -> np.ndarray:
    """Start indices with the index vector as the last dimension, as int64. A u64 index past
    2^63 saturates rather than wrapping negative: it is past the end (gather clamps it to the
    last position, scatter skips its window), as XLA reads it unsigned."""
    idx = np.asarray(indices)
    if idx.dtype == np.uint64:
        idx = np.minimum(idx, np.uint64(_I64_MAX))
    if ivd >= idx.ndim:
        return idx[..., None].astype(np.int64)
    return np.moveaxis(idx, ivd, -1).astype(np.int64)


def _batch_iota(batch_shape: tuple[int, ...], pos: int) -> np.ndarray:
    shape = [1] * len(batch_shape)
    shape[pos] = batch_shape[pos]
    return np.arange(batch_shape[pos]).reshape(shape)


def _b_gather(ins: Instruction, ctx: _Ctx) -> Fn:
    offset_dims = _ints(ins, "offset_dims")
    collapsed = _ints(ins, "collapsed_slice_dims")
    start_map = _ints(ins, "start_index_map")
    sizes = _ints(ins, "slice_sizes")
    obd = _ints(ins, "operand_batching_dims")
    sbd = _ints(ins, "start_indices_batching_dims")
    ivd = int(ins.attrs.get("index_vector_dim", ins.operands[1].shape.rank))
    drop = set(collapsed) | set(obd)

    def f(operand: Value, indices: Value) -> Value:
        operand = np.asarray(operand)
        idx = _index_vectors(indices, ivd)
        bshape = idx.shape[:-1]
        nb, rank = len(bshape), operand.ndim
        starts: list[Any] = [0] * rank
        for k, d in enumerate(start_map):
            starts[d] = idx[..., k]
        for od, sd in zip(obd, sbd):
            starts[od] = _batch_iota(bshape, sd if sd < ivd else sd - 1)
        ix = []
        for d in range(rank):
            s = np.clip(np.broadcast_to(starts[d], bshape), 0, operand.shape[d] - sizes[d])
            w = np.arange(sizes[d]).reshape((1,) * (nb + d) + (-1,) + (1,) * (rank - d - 1))
            ix.append(s.reshape(bshape + (1,) * rank) + w)
        g = operand[tuple(ix)] if rank else np.broadcast_to(operand, bshape)
        g = g.reshape(bshape + tuple(sizes[d] for d in range(rank) if d not in drop))
        out_rank = nb + len(offset_dims)
        perm, bi = [], 0
        for j in range(out_rank):
            if j in offset_dims:
                perm.append(nb + offset_dims.index(j))
            else:
                perm.append(bi)
                bi += 1
        return np.transpose(g, perm)
    return f


# --- called computations: reducer recognition ------------------------------------------------

_REDUCER_UFUNC = {O.ADD: np.add, O.MULTIPLY: np.multiply, O.MAXIMUM: np.maximum, O.MINIMUM: np.minimum,
                  O.AND: np.bitwise_and, O.OR: np.bitwise_or, O.XOR: np.bitwise_xor}


def _reducer_kind(comp: Computation) -> str | Opcode | None:
    """The binary op a two-parameter scalar computation applies to its parameters, if that is
    all it does: Opcode, or 'first'/'second' for a computation returning a parameter."""
    params = comp.parameters
    if len(params) != 2 or any(p.shape.is_tuple or p.shape.rank for p in params):
        return None
    root = comp.root
    if root is params[1]:
        return "second"
    if root is params[0]:
        return "first"
    if root.opcode in _REDUCER_UFUNC and {id(o) for o in root.operands} == {id(p) for p in params}:
        return root.opcode
    return None


def _reducer_ufunc(kind: str | Opcode | None, dt: DType) -> np.ufunc | None:
    """The numpy ufunc for a recognised reducer on `dt` (NaN-propagating max/min)."""
    if not isinstance(kind, Opcode):
        return None
    if dt.kind == "pred":
        return {O.ADD: np.logical_or, O.OR: np.logical_or, O.MAXIMUM: np.logical_or, O.AND: np.logical_and,
                O.MULTIPLY: np.logical_and, O.MINIMUM: np.logical_and, O.XOR: np.logical_xor}.get(kind)
    if dt.is_complex and kind in (O.MAXIMUM, O.MINIMUM):
        return None
    if (dt.is_float or dt.is_complex) and kind in (O.AND, O.OR, O.XOR):
        return None
    return _REDUCER_UFUNC[kind]


def _ufunc_identity(uf: np.ufunc, npd: np.dtype) -> bool | int | float:
    if uf is np.maximum:
        return -np.inf if npd.kind == "f" or _is_float_np(npd) else np.iinfo(npd).min
    if uf is np.minimum:
        return np.inf if npd.kind == "f" or _is_float_np(npd) else np.iinfo(npd).max
    if uf is np.bitwise_and:
        return -1 if npd.kind == "i" else np.iinfo(npd).max
    if uf is np.logical_and:
        return True
    if uf is np.multiply:
        return 1
    return 0


def _combine(uf: np.ufunc, acc: Value, x: Value) -> Value:
    """acc (+) x with XLA's max/min (NaN-propagating, -0 < +0)."""
    if uf is np.maximum and _is_float_np(np.asarray(x).dtype):
        return _fmax(acc, x)
    if uf is np.minimum and _is_float_np(np.asarray(x).dtype):
        return _fmin(acc, x)
    return uf(acc, x)


# --- reduce ---------------------------------------------------------------------------------

_F16 = np.dtype(np.float16)
_NARROW_SUM = frozenset({_F16, _BF16})
LANES = 128  # XLA:CPU sums f16/bf16 in 128 interleaved partial sums: [2048, 1 x 2048] -> 4080 in f16


def _ufunc_reduce(uf: np.ufunc, x: np.ndarray, axes: tuple[int, ...], init: Value) -> Value:
    npd = x.dtype
    if not axes:
        return _combine(uf, np.asarray(init, npd), x).astype(npd, copy=False)
    n = math.prod(x.shape[a] for a in axes)
    keep = [d for d in range(x.ndim) if d not in axes]
    if n == 0:
        return np.broadcast_to(np.asarray(init, npd), tuple(x.shape[d] for d in keep))
    if uf is np.add and npd in _NARROW_SUM:
        r = _narrow_sum(x, axes, keep)
    elif npd in _NATIVE_FLOATS or npd.kind in "iub":
        r = uf.reduce(x, axis=axes, dtype=npd)
    elif uf in _ROUNDING:  # f8/f4 sums and products
        return _rounding_reduce(uf, x, axes, init)
    else:  # bf16/f8 max, min: exact in f32
        r = uf.reduce(x.astype(_F32), axis=axes)
        if uf in _SIGNED_ZERO:
            r = _signed_zero_extremum(uf, x, axes, r)
        return np.asarray(_combine(uf, np.asarray(init, npd).astype(_F32), r)).astype(npd)
    if uf in _SIGNED_ZERO and _is_float_np(npd):
        r = _signed_zero_extremum(uf, x, axes, r)
    return np.asarray(_combine(uf, np.asarray(init, npd), r)).astype(npd, copy=False)


_ROUNDING = frozenset({np.add, np.multiply})


def _rounding_step(uf: np.ufunc, npd: np.dtype) -> Fn:
    def step(a: Value, b: Value) -> Value:
        return np.asarray(uf(np.asarray(a, _F32), np.asarray(b, _F32))).astype(npd)
    return step


def _rounding_reduce(uf: np.ufunc, x: np.ndarray, axes: tuple[int, ...], init: Value) -> np.ndarray:
    """The reducer as written: from init on, element after element, each result rounded to the
    element type (XLA:CPU's f8/f4 reductions of up to 32 elements; not exact in f32)."""
    return _generic_reduce(_rounding_step(uf, x.dtype), [x], [init], axes)[0]


_SIGNED_ZERO: dict[np.ufunc, bool] = {np.maximum: False, np.minimum: True}  # the zero each prefers: its sign bit


def _signed_zero_extremum(uf: np.ufunc, x: np.ndarray, axes: tuple[int, ...], r: Value) -> Value:
    """numpy's max/min.reduce return whichever zero they meet first; XLA orders -0 < +0, so a
    zero extremum is +0 for max (-0 for min) exactly when some reduced element is that zero."""
    r = np.asarray(r)
    z = r == 0
    if not np.count_nonzero(z):
        return r
    want = _SIGNED_ZERO[uf]
    xf = x.astype(_F32) if x.dtype not in _NATIVE_FLOATS else x
    present = np.any((xf == 0) & (np.signbit(xf) == want), axis=axes)
    zero = np.asarray(-0.0 if want else 0.0).astype(r.dtype)
    return np.where(z & present, zero, np.where(z, -zero, r)).astype(r.dtype, copy=False)


def _narrow_sum(x: np.ndarray, axes: tuple[int, ...], keep: list[int]) -> np.ndarray:
    """A sum rounded to the element type after every add: element i goes to partial sum
    i % LANES, the partial sums are then added one after another (as measured on XLA:CPU)."""
    npd = x.dtype
    y = np.transpose(x, keep + list(axes))
    out_shape: tuple[int, ...] = y.shape[:len(keep)]
    y = y.reshape(out_shape + (-1,))
    n = y.shape[-1]
    pad = (-n) % LANES if n > LANES else 0
    if pad:
        y = np.concatenate([y, np.zeros(out_shape + (pad,), npd)], -1)
    lanes = y.shape[-1] if n <= LANES else LANES
    rows = y.reshape(out_shape + (-1, lanes))
    part = np.add.reduce(rows, axis=-2, dtype=npd)  # reducing a non-inner axis: row after row, rounding each
    acc: np.ndarray = part[..., 0]
    for i in range(1, min(n, lanes)):
        acc = np.add(acc, part[..., i], dtype=npd)
    return acc


def _tree_reduce(fn: Fn, xs: list[np.ndarray],
                 valid: np.ndarray | None = None) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Reduces the last axis of every array in xs with a (variadic) binary computation, pairwise.
    `valid` masks elements that must not take part (window padding); returns (values, valid)."""
    n_ops = len(xs)
    while xs[0].shape[-1] > 1:
        n = xs[0].shape[-1]
        h = n // 2
        a = [x[..., 0:2 * h:2] for x in xs]
        b = [x[..., 1:2 * h:2] for x in xs]
        r = fn(*a, *b)
        r = list(r) if isinstance(r, tuple) else [r]
        r = [np.broadcast_to(v, a[0].shape).astype(x.dtype, copy=False) for v, x in zip(r, xs)]
        if valid is not None:
            va, vb = valid[..., 0:2 * h:2], valid[..., 1:2 * h:2]
            r = [np.where(va & vb, v, np.where(va, p, q)) for v, p, q in zip(r, a, b)]
            nv = va | vb
        if n % 2:
            r = [np.concatenate([v, x[..., -1:]], -1) for v, x in zip(r, xs)]
            if valid is not None:
                nv = np.concatenate([nv, valid[..., -1:]], -1)
        xs = r
        if valid is not None:
            valid = nv
    assert len(xs) == n_ops
    return [x[..., 0] for x in xs], (None if valid is None else valid[..., 0])


SEQUENTIAL_LIMIT = 1024  # generic reducers: in element order up to this length, pairwise beyond


def _generic_reduce(fn: Fn, xs: list[np.ndarray], inits: list[Value], axes: tuple[int, ...],
                    valid: np.ndarray | None = None) -> list[np.ndarray]:
    """Any reducer computation, applied to whole arrays (it is elementwise in its scalars).

    Like XLA (HloEvaluator, and XLA:CPU's loops for reducers it does not vectorise) the
    accumulator starts at init and takes the elements in order, which matters for reducers that
    round or are not associative; very long reductions go pairwise instead, to stay fast."""
    rank = xs[0].ndim
    keep = [d for d in range(rank) if d not in axes]
    out_shape = tuple(xs[0].shape[d] for d in keep)
    flat = [np.transpose(x, keep + list(axes)).reshape(out_shape + (-1,)) for x in xs]
    inits = [np.asarray(i, x.dtype) for i, x in zip(inits, xs)]
    if valid is not None:
        valid = np.transpose(valid, keep + list(axes)).reshape(out_shape + (-1,))
    n = flat[0].shape[-1]

    def apply(acc: Value, vals: Value) -> list[np.ndarray]:
        r = fn(*acc, *vals)
        r = r if isinstance(r, tuple) else (r,)
        return [np.broadcast_to(v, out_shape).astype(x.dtype, copy=False) for v, x in zip(r, xs)]

    if n <= SEQUENTIAL_LIMIT:
        acc = [np.broadcast_to(i, out_shape) for i in inits]
        for k in range(n):
            r = apply(acc, [f[..., k] for f in flat])
            acc = r if valid is None else [np.where(valid[..., k], v, a) for v, a in zip(r, acc)]
        return acc
    vals, ok = _tree_reduce(fn, flat, valid)
    r = apply(inits, vals)
    if ok is not None:
        r = [np.where(ok, v, i) for v, i in zip(r, inits)]
    return r


def _b_reduce(ins: Instruction, ctx: _Ctx) -> Fn:
    n = len(ins.operands) // 2
    axes = tuple(sorted(_ints(ins, "dimensions")))
    comp = ins.attrs["to_apply"]
    kind = _reducer_kind(comp) if n == 1 else None
    uf = _reducer_ufunc(kind, ins.operands[0].shape.element_type) if kind is not None else None
    if uf is not None:
        return lambda x, init: _ufunc_reduce(uf, np.asarray(x), axes, init)
    call = ctx.call(comp)

    def f(*args: Value) -> Value:
        r = _generic_reduce(call, [np.asarray(x) for x in args[:n]], list(args[n:]), axes)
        return tuple(r) if n > 1 else r[0]
    return f


# --- reduce-window and select-and-scatter ---------------------------------------------------


def _window_dims(ins: Instruction, rank: int) -> tuple[WindowDim, ...]:
    w = ins.attrs.get("window")
    dims = tuple(w.dims) if w is not None else ()
    return dims if dims else tuple(WindowDim(1) for _ in range(rank))


def _windows(x: np.ndarray, wd: Sequence[WindowDim]) -> np.ndarray | None:
    """View of shape out_dims + window_dims over an already padded/dilated array; None if empty."""
    eff = [(w.size - 1) * w.window_dilation + 1 for w in wd]
    if any(e > n for e, n in zip(eff, x.shape)):
        return None
    if x.ndim and _is_float_np(x.dtype) and x.dtype not in _NATIVE_FLOATS:
        # (numpy's strided views cannot take some ml_dtypes types: f8e5m2's '<f1' is ambiguous)
        u = _windows(x.view(_unsigned_of(x.dtype)), wd)
        return None if u is None else u.view(x.dtype)
    v = sliding_window_view(x, eff) if x.ndim else x
    return v[tuple(slice(None, None, w.stride) for w in wd) + tuple(slice(None, None, w.window_dilation) for w in wd)]


def _window_pad_cfg(wd: Sequence[WindowDim]) -> list[tuple[int, int, int]]:
    return [(w.pad_lo, w.pad_hi, w.base_dilation - 1) for w in wd]


def _b_reduce_window(ins: Instruction, ctx: _Ctx) -> Fn:
    n = len(ins.operands) // 2
    rank = ins.operands[0].shape.rank
    wd = _window_dims(ins, rank)
    cfg = _window_pad_cfg(wd)
    padded = any(lo or hi or it for lo, hi, it in cfg)
    comp = ins.attrs["to_apply"]
    kind = _reducer_kind(comp) if n == 1 else None
    uf = _reducer_ufunc(kind, ins.operands[0].shape.element_type) if kind is not None else None
    out_shapes = [s.dims for s in ins.shape.leaves()]
    axes = tuple(range(rank, 2 * rank))
    npd0 = ins.operands[0].shape.element_type.np_dtype
    if uf in _ROUNDING and _is_float_np(npd0) and npd0 not in _NATIVE_FLOATS and npd0 not in _NARROW_SUM:
        # f8/f4 sums round at every step, from the init on, the window's first dimension
        # fastest (as measured on XLA:CPU); padding is skipped, not added
        call: Fn | None = _rounding_step(uf, npd0)
        uf = None
        axes = axes[::-1]
    else:
        call = None if uf is not None else ctx.call(comp)

    def f(*args: Value) -> Value:
        xs, inits = [np.asarray(x) for x in args[:n]], args[n:]
        if uf is not None:
            npd = xs[0].dtype
            # f8/f4 windows in f32, as their reduce (which rounds once; the formats without
            # infinities pad with f32's -inf)
            in_f32 = _is_float_np(npd) and npd not in _NATIVE_FLOATS and npd not in _NARROW_SUM
            x = xs[0].astype(_F32) if in_f32 else xs[0]
            init = np.asarray(inits[0]).astype(x.dtype)
            ident = _ufunc_identity(uf, x.dtype)
            v = _windows(_pad(x, cfg, ident) if padded else x, wd)
            if v is None:
                return np.full(out_shapes[0], inits[0], npd)
            return np.asarray(_ufunc_reduce(uf, v, axes, init)).astype(npd, copy=False)
        views = [_windows(_pad(x, cfg, i) if padded else x, wd) for x, i in zip(xs, inits)]
        if views[0] is None:
            r = [np.full(s, i, x.dtype) for s, i, x in zip(out_shapes, inits, xs)]
        else:
            valid = _windows(_pad(np.ones(xs[0].shape, bool), cfg, False), wd) if padded else None
            assert call is not None  # made whenever there is no ufunc
            # All views exist when the first does: the operands have one shape.
            r = _generic_reduce(call, cast("list[np.ndarray]", views), list(inits), axes, valid)
        return tuple(r) if n > 1 else r[0]
    return f


def _b_select_and_scatter(ins: Instruction, ctx: _Ctx) -> Fn:
    rank = ins.operands[0].shape.rank
    wd = _window_dims(ins, rank)
    cfg = [(w.pad_lo, w.pad_hi, 0) for w in wd]
    select = ctx.call(ins.attrs["select"]) if "select" in ins.attrs else None
    scatter_comp = ins.attrs.get("scatter")
    if select is None or scatter_comp is None:
        raise _fail(ins, "needs select= and scatter= computations")
    kind = _reducer_kind(scatter_comp)
    uf = _reducer_ufunc(kind, ins.shape.element_type)
    scatter = ctx.call(scatter_comp)

    def f(operand: Value, source: Value, init: Value) -> Value:
        operand, source = np.asarray(operand), np.asarray(source)
        win = _windows(_pad(operand, cfg, 0), wd)
        ok = _windows(_pad(np.ones(operand.shape, bool), cfg, False), wd)
        out = np.full(operand.shape, init, operand.dtype)
        if win is None or ok is None or source.size == 0:  # (ok is None exactly when win is)
            return out
        src_shape = win.shape[:rank]
        k_total = math.prod(w.size for w in wd)
        win = win.reshape(src_shape + (k_total,))
        ok = ok.reshape(src_shape + (k_total,))
        sel_val = win[..., 0]
        sel_k = np.where(ok[..., 0], 0, -1)
        for k in range(1, k_total):
            cand = win[..., k]
            keep = np.broadcast_to(np.asarray(select(sel_val, cand), bool), src_shape)
            take = ok[..., k] & ((sel_k < 0) | ~keep)
            sel_val = np.where(take, cand, sel_val)
            sel_k = np.where(take, k, sel_k)
        has = sel_k >= 0
        offs = np.unravel_index(np.where(has, sel_k, 0), tuple(w.size for w in wd))
        pos = np.indices(src_shape)
        ix = tuple((pos[d] * w.stride + offs[d] * w.window_dilation - w.pad_lo)[has] for d, w in enumerate(wd))
        vals = source[has]
        return _scatter_apply(out, ix, vals, uf, kind, scatter)
    return f


def _scatter_apply(out: np.ndarray, ix: tuple[np.ndarray, ...], vals: np.ndarray, uf: np.ufunc | None,
                   kind: str | Opcode | None, fn: Fn) -> np.ndarray:
    """out[ix] = fn(out[ix], vals) element by element in order (ix may repeat)."""
    if uf is not None:  # (max/min keep numpy's choice between -0 and +0 here)
        uf.at(out, ix, vals)
        return out
    if kind == "second":
        out[ix] = vals
        return out
    if kind == "first":
        return out
    for j in range(vals.shape[0]):
        at = tuple(i[j] for i in ix)
        out[at] = fn(out[at], vals[j])
    return out


# --- scatter --------------------------------------------------------------------------------


def _b_scatter(ins: Instruction, ctx: _Ctx) -> Fn:
    n = (len(ins.operands) - 1) // 2
    uwd = _ints(ins, "update_window_dims")
    iwd = _ints(ins, "inserted_window_dims")
    sd2od = _ints(ins, "scatter_dims_to_operand_dims")
    ibd = _ints(ins, "input_batching_dims")
    sibd = _ints(ins, "scatter_indices_batching_dims")
    ivd = int(ins.attrs.get("index_vector_dim", ins.operands[n].shape.rank))
    comp = ins.attrs["to_apply"]
    kind = _reducer_kind(comp) if n == 1 else None
    uf = _reducer_ufunc(kind, ins.operands[0].shape.element_type) if kind is not None else None
    call = ctx.call(comp)
    rank = ins.operands[0].shape.rank
    win_op_dims = [d for d in range(rank) if d not in iwd and d not in ibd]

    def f(*args: Value) -> Value:
        operands = [np.array(x) for x in args[:n]]
        idx = _index_vectors(args[n], ivd)
        updates = [np.asarray(u) for u in args[n + 1:]]
        ushape = updates[0].shape
        sshape = idx.shape[:-1]
        starts: list[Any] = [np.zeros(sshape, np.int64)] * rank
        for k, d in enumerate(sd2od):
            starts[d] = idx[..., k]
        for od, sd in zip(ibd, sibd):
            starts[od] = np.broadcast_to(_batch_iota(sshape, sd if sd < ivd else sd - 1), sshape)
        wsize = [1] * rank
        for j, d in enumerate(win_op_dims):
            wsize[d] = ushape[uwd[j]]
        valid = np.ones(sshape, bool)
        for d in range(rank):
            valid &= (starts[d] >= 0) & (starts[d] <= operands[0].shape[d] - wsize[d])
        # index of every update element in the operand; scatter dims of the update follow sshape
        ix = []
        for d in range(rank):
            s = np.expand_dims(starts[d], uwd) if uwd else starts[d]
            if d in win_op_dims:
                u = uwd[win_op_dims.index(d)]
                s = s + np.arange(ushape[u]).reshape((1,) * u + (-1,) + (1,) * (len(ushape) - u - 1))
            ix.append(np.broadcast_to(s, ushape))
        ok = np.broadcast_to(np.expand_dims(valid, uwd) if uwd else valid, ushape)
        if uf is not None or kind in ("first", "second"):
            sel = tuple(i[ok] for i in ix)
            return _scatter_apply(operands[0], sel, updates[0][ok], uf, kind, call)
        return _scatter_generic(call, operands, ix, updates, ok, uwd, valid)
    return f


def _scatter_generic(call: Fn, operands: list[np.ndarray], ix: list[np.ndarray], updates: list[np.ndarray],
                     ok: np.ndarray, uwd: tuple[int, ...], valid: np.ndarray) -> Value:
    """In update order, one scatter index at a time, vectorised over its window."""
    urank = updates[0].ndim
    sdims = [d for d in range(urank) if d not in uwd]
    perm = sdims + list(uwd)
    ns = int(valid.size)

    def rows(a: Value) -> Value:
        return np.transpose(a, perm).reshape(ns, -1)
    ixr = [rows(i) for i in ix]
    ur = [rows(u) for u in updates]
    for s in np.flatnonzero(valid.reshape(-1)):
        at = tuple(i[s] for i in ixr)
        r = call(*[o[at] for o in operands], *[u[s] for u in ur])
        r = r if isinstance(r, tuple) else (r,)
        for o, v in zip(operands, r):
            o[at] = v
    return tuple(operands) if len(operands) > 1 else operands[0]


# --- map ------------------------------------------------------------------------------------


def _b_map(ins: Instruction, ctx: _Ctx) -> Fn:
    call = ctx.call(ins.attrs["to_apply"])
    dims, npd = ins.shape.dims, ins.shape.element_type.np_dtype
    return lambda *xs: np.broadcast_to(np.asarray(call(*xs)), dims).astype(npd, copy=False)


# --- dot and convolution --------------------------------------------------------------------


def _compute_dtype(out: DType) -> np.dtype:
    """Accumulation type: narrow floats in f32 (XLA:CPU upcasts them), everything else as is."""
    if out.is_float and out.np not in _NATIVE_FLOATS:
        return _F32
    if out.np == _F16:
        return _F32
    if out.kind == "pred":
        return np.dtype(np.int32)
    return out.np_dtype


def _b_dot(ins: Instruction, ctx: _Ctx) -> Fn:
    ls, rs = ins.operands[0].shape.dims, ins.operands[1].shape.dims
    lb, rb = _ints(ins, "lhs_batch_dims"), _ints(ins, "rhs_batch_dims")
    lc, rc = _ints(ins, "lhs_contracting_dims"), _ints(ins, "rhs_contracting_dims")
    lf = [d for d in range(len(ls)) if d not in lb and d not in lc]
    rf = [d for d in range(len(rs)) if d not in rb and d not in rc]
    lperm, rperm = list(lb) + lf + list(lc), list(rb) + list(rc) + rf
    B = math.prod(ls[d] for d in lb)
    M, K, N = math.prod(ls[d] for d in lf), math.prod(ls[d] for d in lc), math.prod(rs[d] for d in rf)
    dims, out = ins.shape.dims, ins.shape.element_type
    cdt = _compute_dtype(out)

    def f(a: Value, b: Value) -> Value:
        a = np.transpose(a, lperm).reshape(B, M, K).astype(cdt, copy=False)
        b = np.transpose(b, rperm).reshape(B, K, N).astype(cdt, copy=False)
        r = np.matmul(a, b)
        if out.kind == "pred":
            r = r != 0
        return r.reshape(dims).astype(out.np_dtype, copy=False)
    return f


def _b_convolution(ins: Instruction, ctx: _Ctx) -> Fn:
    dl = ins.attrs.get("dim_labels")
    if dl is None:
        raise _fail(ins, "needs dim_labels")
    nsp = len(dl.input_spatial)
    wd = _window_dims(ins, nsp) if nsp else ()
    fg = int(ins.attrs.get("feature_group_count", 1))
    bg = int(ins.attrs.get("batch_group_count", 1))
    out = ins.shape.element_type
    cdt = _compute_dtype(out)
    in_perm = (dl.input_batch, dl.input_feature, *dl.input_spatial)
    k_perm = (dl.kernel_output_feature, dl.kernel_input_feature, *dl.kernel_spatial)
    out_pos = [0] * (nsp + 2)
    out_pos[dl.output_batch], out_pos[dl.output_feature] = 0, 1
    for i, d in enumerate(dl.output_spatial):
        out_pos[d] = 2 + i
    rev = tuple(2 + i for i, w in enumerate(wd) if w.reversal)
    cfg = [(0, 0, 0), (0, 0, 0)] + _window_pad_cfg(wd)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # spatial; lower case names batch/group/features
    o_l, k_l = letters[:nsp], letters[nsp:2 * nsp]
    out_dims = ins.shape.dims

    def f(lhs: Value, rhs: Value) -> Value:
        x = np.transpose(lhs, in_perm).astype(cdt, copy=False)
        k = np.transpose(rhs, k_perm).astype(cdt, copy=False)
        if rev:
            k = np.flip(k, rev)
        x = _pad(x, cfg, 0)
        Nn, C = x.shape[:2]
        Oo, Ii = k.shape[:2]
        win = _windows(x, (WindowDim(1), WindowDim(1), *wd))
        if win is None:
            return np.zeros(out_dims, out.np_dtype)
        win = win[(slice(None), slice(None)) + (slice(None),) * nsp + (0, 0)]  # drop batch/feature windows
        if bg > 1:
            w = win.reshape((bg, Nn // bg, C) + win.shape[2:])
            kk = k.reshape((bg, Oo // bg, Ii) + k.shape[2:])
            r = np.einsum(f"gnc{o_l}{k_l},gpc{k_l}->ngp{o_l}", w, kk, optimize=True)
            r = r.reshape((Nn // bg, Oo) + r.shape[3:])
        else:
            w = win.reshape((Nn, fg, C // fg) + win.shape[2:])
            kk = k.reshape((fg, Oo // fg, Ii) + k.shape[2:])
            r = np.einsum(f"ngc{o_l}{k_l},gpc{k_l}->ngp{o_l}", w, kk, optimize=True)
            r = r.reshape((Nn, Oo) + r.shape[3:])
        return np.transpose(r, out_pos).astype(out.np_dtype, copy=False)
    return f


def _b_fft(ins: Instruction, ctx: _Ctx) -> Fn:
    kind = str(ins.attrs.get("fft_type", "FFT")).upper()
    lengths = _ints(ins, "fft_length")
    axes = tuple(range(-len(lengths), 0))
    npd = ins.shape.element_type.np_dtype
    fns: dict[str, Fn] = {
        "FFT": lambda x: np.fft.fftn(x, axes=axes),
        "IFFT": lambda x: np.fft.ifftn(x, axes=axes),
        "RFFT": lambda x: np.fft.rfftn(x, s=lengths, axes=axes),
        "IRFFT": lambda x: np.fft.irfftn(x, s=lengths, axes=axes),
    }
    if kind not in fns:
        raise _fail(ins, f"unknown fft_type {kind}")
    g = fns[kind]
    return lambda x: g(x).astype(npd)


# --- sort and top-k -------------------------------------------------------------------------


def _sort_last_axis(xs: list[np.ndarray], less: Less) -> list[np.ndarray]:
    """Stable sort of the last axis of every array in xs together, by a comparator on arrays:
    a bitonic network on the length padded to a power of two, ties broken by position."""
    n = xs[0].shape[-1]
    if n <= 1:
        return xs
    m = 1 << (n - 1).bit_length()
    batch = xs[0].shape[:-1]
    pos = np.broadcast_to(np.arange(m), batch + (m,))
    if m != n:
        xs = [np.concatenate([x, np.repeat(x[..., -1:], m - n, -1)], -1) for x in xs]
    arrs = xs + [pos]
    k = 2
    while k <= m:
        j = k // 2
        while j >= 1:
            shaped = [a.reshape(batch + (m // (2 * j), 2, j)) for a in arrs]
            A = [s[..., 0, :] for s in shaped]
            B = [s[..., 1, :] for s in shaped]
            asc = ((np.arange(m // (2 * j)) * 2 * j) & k) == 0
            b_first = _ordered_before(less, B, A, n)
            a_first = _ordered_before(less, A, B, n)
            swap = np.where(asc[:, None], b_first, a_first)
            arrs = [np.stack([np.where(swap, b, a), np.where(swap, a, b)], -2).reshape(batch + (m,))
                    for a, b in zip(A, B)]
            j //= 2
        k *= 2
    return [a[..., :n] for a in arrs[:-1]]


def _ordered_before(less: Less, X: list[Value], Y: list[Value], n: int) -> np.ndarray:
    """X strictly before Y: by the comparator, then by original position; padding goes last."""
    px: np.ndarray = X[-1]
    py: np.ndarray = Y[-1]
    cxy = np.broadcast_to(np.asarray(less(X[:-1], Y[:-1]), bool), px.shape)
    cyx = np.broadcast_to(np.asarray(less(Y[:-1], X[:-1]), bool), px.shape)
    before = cxy | (~cyx & (px < py))
    real_x, real_y = px < n, py < n
    return (real_x & ~real_y) | (real_x & real_y & before)


def _comparator(call: Fn) -> Less:
    def less(X: list[Value], Y: list[Value]) -> Value:
        args: list[Value] = []
        for x, y in zip(X, Y):
            args += [x, y]
        return call(*args)
    return less


def _b_sort(ins: Instruction, ctx: _Ctx) -> Fn:
    dim = int(ins.attrs["dimensions"][0]) if ins.attrs.get("dimensions") else ins.operands[0].shape.rank - 1
    less = _comparator(ctx.call(ins.attrs["to_apply"]))
    multi = ins.shape.is_tuple

    def f(*xs: Value) -> Value:
        arrs = [np.moveaxis(np.asarray(x), dim, -1) for x in xs]
        out = [np.moveaxis(a, -1, dim) for a in _sort_last_axis(arrs, less)]
        return tuple(out) if multi else out[0]
    return f


def _order_key(x: np.ndarray) -> np.ndarray:
    """Unsigned integers in the order of x (total order for floats)."""
    x = np.asarray(x)
    if _is_float_np(x.dtype):
        k = _total_order_key(x)
    elif x.dtype.kind == "b":
        return x.astype(np.uint8)
    else:
        k = x
    if k.dtype.kind == "u":
        return k
    u = _unsigned_of(k.dtype)
    flipped: np.ndarray = k.view(u) ^ np.array(1 << (k.dtype.itemsize * 8 - 1), u)  # flip the sign bit
    return flipped


def _topk(x: np.ndarray, k: int, largest: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """XLA TopK: along the last axis, by total order, ties to the lower index."""
    x = np.asarray(x)
    key = _order_key(x)
    order = np.argsort(~key if largest else key, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, order, -1), order


def _b_topk(ins: Instruction, ctx: _Ctx) -> Fn:
    k = int(ins.attrs.get("k", ins.shape.elements[0].dims[-1]))
    largest = bool(ins.attrs.get("largest", True))
    idx_dt = ins.shape.elements[1].element_type.np_dtype

    def f(x: Value) -> Value:
        v, i = _topk(x, k, largest)
        return v, i.astype(idx_dt)
    return f


# --- control flow ---------------------------------------------------------------------------


def _b_tuple(ins: Instruction, ctx: _Ctx) -> Fn:
    return lambda *xs: xs


def _b_gte(ins: Instruction, ctx: _Ctx) -> Fn:
    i = int(ins.attrs["index"])
    return lambda t: t[i]


def _b_call(ins: Instruction, ctx: _Ctx) -> Fn:
    comp = ins.attrs.get("to_apply") or ins.attrs.get("calls")
    if comp is None:
        raise _fail(ins, "names no computation")
    return ctx.call(comp)


def _b_while(ins: Instruction, ctx: _Ctx) -> Fn:
    cond, body = ctx.call(ins.attrs["condition"]), ctx.call(ins.attrs["body"])

    def f(x: Value) -> Value:
        while bool(cond(x)):
            x = body(x)
        return x
    return f


def _b_conditional(ins: Instruction, ctx: _Ctx) -> Fn:
    if "branch_computations" in ins.attrs:
        comps = list(ins.attrs["branch_computations"])
    else:
        comps = [ins.attrs["true_computation"], ins.attrs["false_computation"]]
    branches = [ctx.call(c) for c in comps]
    last = len(branches) - 1
    by_pred = ins.operands[0].shape.element_type.kind == "pred"

    def f(index: Value, *ops: Value) -> Value:
        if by_pred:
            b = 0 if bool(index) else 1  # branch 0 is the true computation
        else:
            b = int(index)
            b = b if 0 <= b <= last else last  # out of range runs the last branch
        return branches[b](ops[b])
    return f


def _b_identity(ins: Instruction, ctx: _Ctx) -> Fn:
    return lambda x, *_: x


# --- custom calls ---------------------------------------------------------------------------


def _cc_topk(ins: Instruction, ctx: _Ctx) -> Fn:
    comps = ins.attrs.get("called_computations") or ()
    k = ins.shape.elements[0].dims[-1]
    idx_dt = ins.shape.elements[1].element_type.np_dtype
    if not comps:
        def by_order(x: Value) -> Value:
            v, i = _topk(x, k)
            return v, i.astype(idx_dt)
        return by_order
    less = _comparator(ctx.call(comps[0]))

    def f(x: Value) -> Value:
        x = np.asarray(x)
        iota = np.broadcast_to(np.arange(x.shape[-1], dtype=idx_dt), x.shape)
        v, i = _sort_last_axis([x, iota], less)
        return v[..., :k], i[..., :k]
    return f


def _lapack_config(ins: Instruction) -> dict[str, str]:
    """`backend_config={uplo = 76 : ui8, ...}` of jax's LAPACK FFI calls, as characters."""
    v = ins.attrs.get("backend_config")
    text = v.text if isinstance(v, Raw) else str(v or "")
    return {k: chr(int(c)) for k, c in re.findall(r"(\w+)\s*=\s*(\d+)\s*:\s*ui8", text)}


def _cc_potrf(ins: Instruction, ctx: _Ctx) -> Fn:
    """Cholesky: the uplo triangle gets the factor, the other keeps the input; info > 0 if not PD."""
    lower = _lapack_config(ins).get("uplo", "L") == "L"
    info_dt = ins.shape.elements[1].element_type.np_dtype

    def f(a: Value) -> Value:
        a = np.asarray(a)
        tri = np.tril(a) if lower else np.swapaxes(np.triu(a), -1, -2).conj()
        full = tri + np.swapaxes(np.tril(tri, -1), -1, -2).conj()
        flat = full.reshape((-1,) + a.shape[-2:])
        fac = np.empty_like(flat)
        info = np.zeros(flat.shape[0], info_dt)
        for i, m in enumerate(flat):
            try:
                fac[i] = np.linalg.cholesky(m)
            except np.linalg.LinAlgError:
                fac[i], info[i] = np.nan, 1
        fac = fac.reshape(a.shape)
        fac = fac if lower else np.swapaxes(fac, -1, -2).conj()
        keep = np.tril(np.ones(a.shape[-2:], bool)) if lower else np.triu(np.ones(a.shape[-2:], bool))
        return np.where(keep, fac, a).astype(a.dtype), info.reshape(a.shape[:-2])
    return f


def _cc_trsm(ins: Instruction, ctx: _Ctx) -> Fn:
    """op(A) X = B (side L) or X op(A) = B (side R) with A triangular (uplo, unit diag)."""
    cfg = _lapack_config(ins)
    left, lower = cfg.get("side", "L") == "L", cfg.get("uplo", "L") == "L"
    unit, trans = cfg.get("diag", "N") == "U", cfg.get("trans_x", "N")

    def f(a: Value, b: Value) -> Value:
        a, b = np.asarray(a), np.asarray(b)
        t = np.tril(a) if lower else np.triu(a)
        if unit:
            eye = np.eye(a.shape[-1], dtype=bool)
            t = np.where(eye, np.ones((), a.dtype), t)
        if trans in "TC":
            t = np.swapaxes(t, -1, -2)
            t = t.conj() if trans == "C" else t
        if left:
            x = np.linalg.solve(t, b)
        else:
            x = np.swapaxes(np.linalg.solve(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)
        return x.astype(b.dtype)
    return f


def _cc_getrf(ins: Instruction, ctx: _Ctx) -> Fn:
    """LU with partial pivoting (LAPACK getrf): (packed L\\U, 1-based row pivots, info)."""
    piv_dt = ins.shape.elements[1].element_type.np_dtype
    info_dt = ins.shape.elements[2].element_type.np_dtype

    def f(a: Value) -> Value:
        a = np.asarray(a)
        m, n = a.shape[-2:]
        lu = np.array(a.reshape((-1, m, n)), np.promote_types(a.dtype, np.float32))
        nb, k = lu.shape[0], min(m, n)
        piv = np.zeros((nb, k), piv_dt)
        info = np.zeros(nb, info_dt)
        rows = np.arange(nb)
        for j in range(k):
            p = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)  # first largest, as i?amax
            piv[:, j] = p + 1
            lu[rows, [j] * nb], lu[rows, p] = lu[rows, p], lu[rows, [j] * nb].copy()
            d = lu[:, j, j]
            zero = d == 0
            info = np.where(zero & (info == 0), j + 1, info).astype(info_dt)
            scale = np.where(zero, 1, d)
            lu[:, j + 1:, j] = np.where(zero[:, None], lu[:, j + 1:, j], lu[:, j + 1:, j] / scale[:, None])
            lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
        return lu.reshape(a.shape).astype(a.dtype), piv.reshape(a.shape[:-2] + (k,)), info.reshape(a.shape[:-2])
    return f


def _cc_geqrf(ins: Instruction, ctx: _Ctx) -> Fn:
    """Householder QR (LAPACK geqrf): R on and above the diagonal, the reflectors' tails below, tau.

    numpy's `qr(mode='raw')` is LAPACK's geqrf itself; its h is the Fortran-order (transposed)
    matrix, so the packed result is h's swapaxes."""
    def f(a: Value) -> Value:
        a = np.asarray(a)
        h, tau = np.linalg.qr(a, mode="raw")
        return np.swapaxes(h, -1, -2).astype(a.dtype), tau.astype(a.dtype)
    return f


def _cc_orgqr(ins: Instruction, ctx: _Ctx) -> Fn:
    """Q's first n columns from geqrf's reflectors: Q = H_1 ... H_k, H_i = I - tau_i v_i v_i^H."""
    def f(a: Value, tau: Value) -> Value:
        a, tau = np.asarray(a), np.asarray(tau)
        m, n = a.shape[-2:]
        wide = np.promote_types(a.dtype, np.float64)
        q = np.broadcast_to(np.eye(m, n, dtype=wide), a.shape).copy()
        below = np.tril(np.ones((m, n), bool), -1)
        v_all = np.where(below, a, np.eye(m, n, dtype=a.dtype)).astype(wide)  # unit diagonal, tails below
        for i in reversed(range(tau.shape[-1])):  # H_i applied last to first builds the product
            v = v_all[..., :, i:i + 1]
            t = tau[..., i, None, None].astype(wide)
            q = q - t * v @ (np.swapaxes(v, -1, -2).conj() @ q)
        return q.astype(a.dtype)
    return f


def _cc_syevd(ins: Instruction, ctx: _Ctx) -> Fn:
    """Symmetric / Hermitian eigensolver (LAPACK syevd/heevd): (eigenvectors in columns, eigenvalues
    ascending, info). numpy's eigh is LAPACK's syevd/heevd, so the vectors' signs are LAPACK's."""
    cfg = _lapack_config(ins)
    uplo: Literal["L", "U"] = "U" if cfg.get("uplo") == "U" else "L"
    vectors = cfg.get("mode", "V") == "V"
    w_dt = ins.shape.elements[1].element_type.np_dtype
    info_dt = ins.shape.elements[2].element_type.np_dtype

    def f(a: Value) -> Value:
        a = np.asarray(a)
        flat = a.reshape((-1,) + a.shape[-2:])
        v, w = flat.copy(), np.empty(flat.shape[:2], w_dt)
        info = np.zeros(flat.shape[0], info_dt)
        for i, m in enumerate(flat):
            try:  # jobz='N' leaves a unspecified in LAPACK; it is returned unchanged
                if vectors:
                    w[i], v[i] = np.linalg.eigh(m, UPLO=uplo)
                else:
                    w[i] = np.linalg.eigvalsh(m, UPLO=uplo)
            except np.linalg.LinAlgError:  # no convergence (NaNs): info > 0, as LAPACK reports it
                w[i], v[i], info[i] = np.nan, np.nan, 1
        return v.reshape(a.shape), w.reshape(a.shape[:-1]), info.reshape(a.shape[:-2])
    return f


def _cc_gesdd(ins: Instruction, ctx: _Ctx) -> Fn:
    """Singular values, descending, and vectors (LAPACK gesdd): (a, s, u, vt, info); mode 'A' full
    u (m x m) and vt (n x n), 'S' reduced (m x k, k x n), 'N' values only (u, vt unspecified:
    zeros). numpy's svd is LAPACK's gesdd, so the vectors' signs are LAPACK's. A matrix gesdd
    cannot factor gets info 1 and NaNs."""
    mode = _lapack_config(ins).get("mode", "A")
    s_dt = ins.shape.elements[1].element_type.np_dtype
    u_shape, vt_shape = ins.shape.elements[2].dims, ins.shape.elements[3].dims
    info_dt = ins.shape.elements[4].element_type.np_dtype

    def one(m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if mode == "N":
            return np.linalg.svd(m, compute_uv=False), np.zeros(u_shape[-2:]), np.zeros(vt_shape[-2:])
        u, sv, vt = np.linalg.svd(m, full_matrices=mode == "A")
        return sv, u, vt

    def f(a: Value) -> Value:
        a = np.asarray(a)
        flat = a.reshape((-1,) + a.shape[-2:])
        s = np.empty((flat.shape[0],) + ins.shape.elements[1].dims[-1:], s_dt)
        u = np.empty((flat.shape[0],) + tuple(u_shape[-2:]), a.dtype)
        vt = np.empty((flat.shape[0],) + tuple(vt_shape[-2:]), a.dtype)
        info = np.zeros(flat.shape[0], info_dt)
        for i, m in enumerate(flat):
            try:
                s[i], u[i], vt[i] = one(m)
            except np.linalg.LinAlgError:
                s[i], u[i], vt[i], info[i] = np.nan, np.nan, np.nan, 1
        batch = a.shape[:-2]
        return a, s.reshape(batch + s.shape[1:]), u.reshape(tuple(u_shape)), vt.reshape(tuple(vt_shape)), \
            info.reshape(batch)
    return f


CUSTOM_CALLS: dict[str, Callable[[Instruction, _Ctx], Fn]] = {
    "TopK": _cc_topk,
    **{f"lapack_{t}potrf_ffi": _cc_potrf for t in "sdcz"},
    **{f"lapack_{t}trsm_ffi": _cc_trsm for t in "sdcz"},
    **{f"lapack_{t}getrf_ffi": _cc_getrf for t in "sdcz"},
    **{f"lapack_{t}geqrf_ffi": _cc_geqrf for t in "sdcz"},
    **{f"lapack_{t}orgqr_ffi": _cc_orgqr for t in "sd"},
    **{f"lapack_{t}ungqr_ffi": _cc_orgqr for t in "cz"},
    **{f"lapack_{t}syevd_ffi": _cc_syevd for t in "sd"},
    **{f"lapack_{t}heevd_ffi": _cc_syevd for t in "cz"},
    **{f"lapack_{t}gesdd_ffi": _cc_gesdd for t in "sdcz"},
    "Sharding": _b_identity,
    "SPMDFullToShardShape": _b_identity,
    "SPMDShardToFullShape": _b_identity,
}


def _b_custom_call(ins: Instruction, ctx: _Ctx) -> Fn:
    target = ins.attrs.get("custom_call_target", "")
    builder = CUSTOM_CALLS.get(target)
    if builder is None:
        raise _fail(ins, f"custom-call target {target!r} is not supported by the evaluator")
    return builder(ins, ctx)


# --- random numbers -------------------------------------------------------------------------

_U32, _U64 = np.dtype(np.uint32), np.dtype(np.uint64)


def _rotl(v: np.ndarray, d: int) -> np.ndarray:
    return (v << np.uint32(d)) | (v >> np.uint32(32 - d))


def _threefry2x32(x0: np.ndarray, x1: np.ndarray, k0: int, k1: int) -> tuple[np.ndarray, np.ndarray]:
    """Threefry-2x32 with 20 rounds, as xla/hlo/builder/lib/prng.cc."""
    rot = (13, 15, 26, 6, 17, 29, 16, 24)
    k0, k1 = int(k0), int(k1)
    ks = (k0, k1, 0x1BD11BDA ^ k0 ^ k1)
    x0, x1 = x0 + np.uint32(ks[0]), x1 + np.uint32(ks[1])
    for i in range(5):
        for r in (rot[:4] if i % 2 == 0 else rot[4:]):
            x0 = x0 + x1
            x1 = _rotl(x1, r) ^ x0
        x0 = x0 + np.uint32(ks[(i + 1) % 3])
        x1 = x1 + np.uint32((ks[(i + 2) % 3] + i + 1) & 0xFFFFFFFF)
    return x0, x1


def split_halves(dims: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """prng.cc's SplitShapeIntoHalves: (half dims with a trivial dim after the split, split dim)."""
    if not dims:
        return (1,), -1
    split = next((i for i, d in enumerate(dims) if d % 2 == 0), -1)
    if split < 0:
        split = max(range(len(dims)), key=lambda i: (dims[i], -i))
    half = list(dims)
    half[split] = (dims[split] + 1) // 2
    half.insert(split + 1, 1)
    return tuple(half), split


def _threefry_bits(key: int, state: int, dims: tuple[int, ...], bits: int) -> tuple[np.ndarray, int]:
    k0, k1 = key & 0xFFFFFFFF, key >> 32
    if bits == 64:
        n = math.prod(dims)
        ctr = (np.uint64(state) + np.arange(n, dtype=np.uint64)).reshape(dims)
        o0, o1 = _threefry2x32(ctr.astype(_U32), (ctr >> np.uint64(32)).astype(_U32), k0, k1)
        return o0.astype(_U64) | (o1.astype(_U64) << np.uint64(32)), (state + n) % 2**64
    half, split = split_halves(dims)
    n = math.prod(half)
    ctr = (np.uint64(state) + np.arange(n, dtype=np.uint64)).reshape(half)
    o0, o1 = _threefry2x32(ctr.astype(_U32), (ctr >> np.uint64(32)).astype(_U32), k0, k1)
    if split < 0:
        return o0.reshape(()), (state + n) % 2**64
    both = np.concatenate([o0, o1], split + 1)
    full = list(dims)
    full[split] = 2 * half[split]
    r = both.reshape(full)[tuple(slice(0, d) for d in dims)]
    return r, (state + n) % 2**64


_PHILOX_M = (np.uint64(0xD2511F53), np.uint64(0xCD9E8D57))


def _philox4x32(x: list[np.ndarray], k0: int, k1: int) -> list[np.ndarray]:
    u0, u1 = np.uint32(k0), np.uint32(k1)
    for _ in range(10):
        p0 = x[0].astype(_U64) * _PHILOX_M[0]
        p1 = x[2].astype(_U64) * _PHILOX_M[1]
        hi0, lo0 = (p0 >> np.uint64(32)).astype(_U32), p0.astype(_U32)
        hi1, lo1 = (p1 >> np.uint64(32)).astype(_U32), p1.astype(_U32)
        x = [hi1 ^ x[1] ^ u0, lo1, hi0 ^ x[3] ^ u1, lo0]
        u0, u1 = np.uint32((int(u0) + 0x9E3779B9) & 0xFFFFFFFF), np.uint32((int(u1) + 0xBB67AE85) & 0xFFFFFFFF)
    return x


def _philox_blocks(key: int, lo: int, hi: int, n_blocks: int) -> tuple[list[np.ndarray], int, int]:
    """n_blocks 128-bit Philox outputs for counters (hi:lo) + 0..n-1; the counter after them."""
    i = np.arange(n_blocks, dtype=np.uint64)
    new_lo = np.uint64(lo) + i
    new_hi = np.where(new_lo < np.uint64(lo), np.uint64((hi + 1) % 2**64), np.uint64(hi))
    x = [new_lo.astype(_U32), (new_lo >> np.uint64(32)).astype(_U32),
         new_hi.astype(_U32), (new_hi >> np.uint64(32)).astype(_U32)]
    out = _philox4x32(x, key & 0xFFFFFFFF, key >> 32)
    end_lo = (lo + n_blocks) % 2**64
    end_hi = (hi + 1) % 2**64 if end_lo < lo else hi
    return out, end_lo, end_hi


def _rng_bit_generator(algorithm: str, state: np.ndarray, dims: tuple[int, ...],
                       out: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    state = np.asarray(state).astype(_U64)
    s = [int(v) for v in state.reshape(-1)]
    bits = out.itemsize * 8
    key = s[0]
    if algorithm == "rng_three_fry":
        vals, new = _threefry_bits(key, s[1], dims, 64 if bits == 64 else 32)
        new_state = np.array([key, new] + s[2:], _U64)
    elif algorithm == "rng_philox":
        lo, hi = (s[1], s[2]) if len(s) >= 3 else (s[1], s[0])
        n = math.prod(dims)
        if bits == 64:
            blocks, end_lo, end_hi = _philox_blocks(key, lo, hi, (2 * n + 3) // 4)
            b64 = [blocks[0].astype(_U64) | (blocks[1].astype(_U64) << np.uint64(32)),
                   blocks[2].astype(_U64) | (blocks[3].astype(_U64) << np.uint64(32))]
            vals = np.stack(b64, 1).reshape(-1)[:n].reshape(dims)
        else:
            blocks, end_lo, end_hi = _philox_blocks(key, lo, hi, (n + 3) // 4)
            vals = np.stack(blocks, 1).reshape(-1)[:n].reshape(dims)
        new_state = np.array([key, end_lo, end_hi] if len(s) >= 3 else [key, end_lo], _U64)
    else:
        raise EvaluationError(f"rng-bit-generator: unknown algorithm {algorithm!r}")
    if bits < 32:
        vals = vals.astype(np.dtype(f"u{bits // 8}"))
    vals = np.ascontiguousarray(vals).reshape(dims)  # (ascontiguousarray makes 0-d 1-d)
    if vals.dtype != out:
        vals = vals.view(out) if vals.dtype.itemsize == out.itemsize else vals.astype(out)
    return new_state.astype(np.asarray(state).dtype), vals


# The states XLA's generators take (u64 words), and the widths of the numbers they draw.
RNG_STATE_WORDS = {"rng_three_fry": (2,), "rng_philox": (2, 3)}
RNG_BITS = (4, 8, 16, 32, 64)


def rng_algorithm(ins: Instruction) -> str:
    """The generator an rng-bit-generator runs: `rng_default` is Philox, as on XLA:CPU and XLA:GPU
    (RngBitGeneratorExpander(RNG_PHILOX)); StableHLO's spellings (THREE_FRY, ..) are read too."""
    alg = ins.attrs.get("algorithm", "rng_default")
    name = str(alg.text if isinstance(alg, Raw) else alg).lower()
    name = name if name.startswith("rng_") else f"rng_{name or 'default'}"
    return "rng_philox" if name == "rng_default" else name


def _b_rng_bit_generator(ins: Instruction, ctx: _Ctx) -> Fn:
    data = ins.shape.elements[1]
    state = ins.operands[0].shape
    state_dt = ins.shape.elements[0].element_type.np_dtype
    resolved = rng_algorithm(ins)
    words = RNG_STATE_WORDS.get(resolved)
    if words is None:
        raise _fail(ins, f"unknown algorithm {ins.attrs.get('algorithm')!r}")
    if state.element_type.name != "u64" or state.dims[0] not in words:
        raise _fail(ins, f"{resolved} takes a state of u64[{' or '.join(map(str, words))}], not {state}")
    if data.element_type.kind not in "usf" or data.element_type.bits not in RNG_BITS:
        widths = ", ".join(map(str, RNG_BITS))
        raise _fail(ins, f"draws integers or floats of {widths} bits, not {data.element_type.name}")

    def f(state: Value) -> Value:
        s, v = _rng_bit_generator(resolved, state, data.dims, data.element_type.np_dtype)
        return s.astype(state_dt), v
    return f


def _b_rng(ins: Instruction, ctx: _Ctx) -> Fn:
    dist = str(ins.attrs.get("distribution", "rng_uniform")).lower()
    dims, npd = ins.shape.dims, ins.shape.element_type.np_dtype
    gen = np.random.default_rng(0)

    def f(a: Value, b: Value) -> Value:
        if "normal" in dist:
            return (gen.standard_normal(dims) * np.float64(b) + np.float64(a)).astype(npd)
        if npd.kind in "iu":
            return gen.integers(int(a), int(b), size=dims, dtype=npd)
        return gen.uniform(float(a), float(b), dims).astype(npd)
    return f


# --- linear algebra and batch norm ------------------------------------------------------------


def _attr_text(ins: Instruction, key: str, default: str) -> str:
    v = ins.attrs.get(key, default)
    return str(v.text if isinstance(v, Raw) else v)


def _b_cholesky(ins: Instruction, ctx: _Ctx) -> Fn:
    lower = _attr_text(ins, "lower", "false").lower() == "true"

    def f(a: Value) -> Value:
        a = np.asarray(a)
        m = np.tril(a) if lower else np.swapaxes(np.triu(a), -1, -2).conj()
        full = m + np.swapaxes(np.tril(m, -1), -1, -2).conj()
        try:
            L = np.linalg.cholesky(full.astype(np.promote_types(a.dtype, np.float32)))
        except np.linalg.LinAlgError:
            L = np.full(a.shape, np.nan)
        r = L if lower else np.swapaxes(L, -1, -2).conj()
        return r.astype(a.dtype)
    return f


def _b_triangular_solve(ins: Instruction, ctx: _Ctx) -> Fn:
    left = _attr_text(ins, "left_side", "false").lower() == "true"
    lower = _attr_text(ins, "lower", "false").lower() == "true"
    unit = _attr_text(ins, "unit_diagonal", "false").lower() == "true"
    trans = _attr_text(ins, "transpose_a", "NO_TRANSPOSE").upper()

    def f(a: Value, b: Value) -> Value:
        a, b = np.asarray(a), np.asarray(b)
        t = np.tril(a) if lower else np.triu(a)
        if unit:
            n = a.shape[-1]
            t = t * (1 - np.eye(n, dtype=a.dtype)) + np.eye(n, dtype=a.dtype)
        if trans == "TRANSPOSE":
            t = np.swapaxes(t, -1, -2)
        elif trans == "ADJOINT":
            t = np.swapaxes(t, -1, -2).conj()
        if left:
            x = np.linalg.solve(t, b)
        else:  # x t = b  <=>  t^T x^T = b^T
            x = np.swapaxes(np.linalg.solve(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)
        return x.astype(b.dtype)
    return f


def _bn_attrs(ins: Instruction) -> tuple[float, int]:
    return float(_attr_text(ins, "epsilon", "0.001")), int(_attr_text(ins, "feature_index", "0"))


def _bn_shape(x: np.ndarray, fi: int) -> tuple[tuple[int, ...], list[int]]:
    axes = tuple(d for d in range(x.ndim) if d != fi)
    shape = [1] * x.ndim
    shape[fi] = x.shape[fi]
    return axes, shape


def _b_bn_training(ins: Instruction, ctx: _Ctx) -> Fn:
    eps, fi = _bn_attrs(ins)

    def f(x: Value, scale: Value, offset: Value) -> Value:
        x = np.asarray(x)
        axes, shape = _bn_shape(x, fi)
        mean = x.mean(axis=axes, dtype=np.float64)
        var = x.var(axis=axes, dtype=np.float64)
        y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * np.reshape(scale, shape) \
            + np.reshape(offset, shape)
        return y.astype(x.dtype), mean.astype(x.dtype), var.astype(x.dtype)
    return f


def _b_bn_inference(ins: Instruction, ctx: _Ctx) -> Fn:
    eps, fi = _bn_attrs(ins)

    def f(x: Value, scale: Value, offset: Value, mean: Value, var: Value) -> Value:
        x = np.asarray(x)
        _, shape = _bn_shape(x, fi)
        r = np.reshape
        y = (x - r(mean, shape)) / np.sqrt(r(var, shape) + x.dtype.type(eps)) * r(scale, shape) + r(offset, shape)
        return y.astype(x.dtype)
    return f


def _b_bn_grad(ins: Instruction, ctx: _Ctx) -> Fn:
    eps, fi = _bn_attrs(ins)

    def f(x: Value, scale: Value, mean: Value, var: Value, dy: Value) -> Value:
        x, dy = np.asarray(x, np.float64), np.asarray(dy, np.float64)
        axes, shape = _bn_shape(x, fi)
        n = x.size // x.shape[fi]
        inv = 1.0 / np.sqrt(np.asarray(var, np.float64) + eps)
        xc = x - np.reshape(mean, shape)
        dscale = (dy * xc).sum(axis=axes) * inv
        doffset = dy.sum(axis=axes)
        dx = np.reshape(np.asarray(scale) * inv, shape) / n * (
            n * dy - np.reshape(doffset, shape) - xc * np.reshape(inv ** 2 * (dy * xc).sum(axis=axes), shape))
        dt = np.asarray(scale).dtype
        return dx.astype(dt), dscale.astype(dt), doffset.astype(dt)
    return f


# --- misc -----------------------------------------------------------------------------------


def _b_zero_id(ins: Instruction, ctx: _Ctx) -> Fn:
    z = _frozen(np.zeros((), ins.shape.element_type.np_dtype))
    return lambda: z  # one replica, one partition


def _b_get_dimension_size(ins: Instruction, ctx: _Ctx) -> Fn:
    d = int(ins.attrs["dimensions"][0])
    npd = ins.shape.element_type.np_dtype
    return lambda x: np.asarray(np.shape(x)[d], npd)


def _b_after_all(ins: Instruction, ctx: _Ctx) -> Fn:
    return lambda *_: ()


def _b_all_reduce(ins: Instruction, ctx: _Ctx) -> Fn:
    return lambda *xs: xs if ins.shape.is_tuple else xs[0]  # a single replica reduces over itself


def _fusion(ins: Instruction, ctx: _Ctx) -> Fn:
    comp = ins.attrs.get("calls")
    if comp is None:
        raise _fail(ins, "fusion names no computation (calls=)")
    return ctx.call(comp)


# --- the registry ---------------------------------------------------------------------------

_BINARY_OPS = (O.ADD, O.ATAN2, O.COMPLEX, O.DIVIDE, O.MAXIMUM, O.MINIMUM, O.MULTIPLY, O.POWER, O.REMAINDER,
               O.SUBTRACT, O.AND, O.OR, O.XOR, O.SHIFT_LEFT, O.SHIFT_RIGHT_ARITHMETIC, O.SHIFT_RIGHT_LOGICAL)

EVALUATORS: dict[Opcode, Callable[[Instruction, _Ctx], Fn]] = {
    **{op: _b_unary for op in UNARY_FNS},  # one row per unary op there
    **{op: _b_binary for op in _BINARY_OPS},
    O.COPY: _b_identity,
    O.CONVERT: _b_convert,
    O.BITCAST_CONVERT: _b_bitcast_convert,
    O.REDUCE_PRECISION: _b_reduce_precision,
    O.STOCHASTIC_CONVERT: _b_stochastic_convert,
    O.COMPARE: _b_compare,
    O.SELECT: _b_select,
    O.CLAMP: _b_clamp,
    O.PARAMETER: _b_parameter,
    O.CONSTANT: _b_constant,
    O.IOTA: _b_iota,
    O.BITCAST: _b_bitcast,
    O.BROADCAST: _b_broadcast,
    O.CONCATENATE: _b_concatenate,
    O.DYNAMIC_SLICE: _b_dynamic_slice,
    O.DYNAMIC_UPDATE_SLICE: _b_dynamic_update_slice,
    O.GATHER: _b_gather,
    O.PAD: _b_pad,
    O.RESHAPE: _b_reshape,
    O.DYNAMIC_RESHAPE: _b_dynamic_reshape,
    O.REVERSE: _b_reverse,
    O.SCATTER: _b_scatter,
    O.SLICE: _b_slice,
    O.TRANSPOSE: _b_transpose,
    O.GET_DIMENSION_SIZE: _b_get_dimension_size,
    O.SET_DIMENSION_SIZE: _b_identity,
    O.REDUCE: _b_reduce,
    O.REDUCE_WINDOW: _b_reduce_window,
    O.SELECT_AND_SCATTER: _b_select_and_scatter,
    O.MAP: _b_map,
    O.DOT: _b_dot,
    O.CONVOLUTION: _b_convolution,
    O.FFT: _b_fft,
    O.SORT: _b_sort,
    O.TOPK: _b_topk,
    O.CHOLESKY: _b_cholesky,
    O.TRIANGULAR_SOLVE: _b_triangular_solve,
    O.BATCH_NORM_TRAINING: _b_bn_training,
    O.BATCH_NORM_INFERENCE: _b_bn_inference,
    O.BATCH_NORM_GRAD: _b_bn_grad,
    O.TUPLE: _b_tuple,
    O.GET_TUPLE_ELEMENT: _b_gte,
    O.CALL: _b_call,
    O.CONDITIONAL: _b_conditional,
    O.WHILE: _b_while,
    O.FUSION: _fusion,
    O.CUSTOM_CALL: _b_custom_call,
    O.OPTIMIZATION_BARRIER: _b_identity,
    O.RNG: _b_rng,
    O.RNG_BIT_GENERATOR: _b_rng_bit_generator,
    O.ADD_DEPENDENCY: _b_identity,
    O.AFTER_ALL: _b_after_all,
    O.DOMAIN: _b_identity,
    O.PARTITION_ID: _b_zero_id,
    O.REPLICA_ID: _b_zero_id,
    O.ALL_REDUCE: _b_all_reduce,
}
