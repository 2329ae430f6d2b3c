"""Scalar semantics of every elementwise HLO op as CUDA C, one table row per opcode.

The same rows serve loop bodies (one element per thread) and reducer or comparator computations
(inlined into the kernel). A row is `fn(instr, dtypes_of_operands, values) -> C expression`; values
are C expressions of each operand's value type (`ctype.VALUE`). XLA's semantics where C's differ
(`shared/XLA_SEMANTICS.md`) come from helpers in `xm_device.cuh`: integer division by zero,
shifts past the width, NaN-propagating max/min, saturating float-to-int converts, total order."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ...hlo.dtypes import DType
from ...hlo.ir import Computation, Instruction
from ...hlo.opcodes import Opcode as O
from . import ctype as C
from .ctype import Unsupported


class Emitter:
    """Lines of C for one function body, with fresh names and scopes: values cached in a scope
    (see elemental.Elemental) are forgotten when the C block they were defined in closes."""

    def __init__(self, depth: int = 1):
        self.lines: list[str] = []
        self.depth = depth
        self.n = 0
        self.scopes: list[dict] = [{}]
        self.uses_sync = False  # __syncthreads or warp shuffles: the host test runs it with fibers

    def line(self, s: str) -> None:
        self.lines.append("    " * self.depth + s)

    def fresh(self, prefix: str = "v") -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def tmp(self, ctype: str, expr: str, prefix: str = "v") -> str:
        if _is_atom(expr):
            return expr
        name = self.fresh(prefix)
        self.line(f"const {ctype} {name} = {expr};")
        return name

    def var(self, ctype: str, expr: str | None, prefix: str = "a") -> str:
        name = self.fresh(prefix)
        self.line(f"{ctype} {name}" + (f" = {expr};" if expr is not None else ";"))
        return name

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        self.line(header + " {")
        self.depth += 1
        self.scopes.append({})
        try:
            yield
        finally:
            self.scopes.pop()
            self.depth -= 1
            self.line("}")

    def lookup(self, key):
        for s in reversed(self.scopes):
            if key in s:
                return s[key]
        return None

    def remember(self, key, v) -> None:
        self.scopes[-1][key] = v

    def text(self) -> str:
        return "\n".join(self.lines)


def _is_atom(expr: str) -> bool:
    """A name or a literal: nothing to compute, so no temporary is needed."""
    e = expr.strip()
    return e.replace("_", "").isalnum() or (e.startswith("0x") and " " not in e) or e in ("true", "false")


Row = Callable[[Instruction, list[DType], list[str]], str]


def _dt(instr: Instruction) -> DType:
    dt = instr.shape.dtype
    assert dt is not None, f"'{instr.name}' is a tuple"
    return dt


def _wrap_int(dt: DType, expr_of: Callable[..., str], vals: list[str]) -> str:
    """Integer arithmetic in a wide unsigned type, cast back: wraps on overflow like XLA."""
    w = C.WIDE_UNSIGNED[dt.name]
    return f"(({C.VALUE[dt.name]})({expr_of(*[f'({w})({v})' for v in vals])}))"


def _arith(op: str, pred_op: str) -> Row:
    def row(instr, dts, vals):
        a, b = vals
        dt = dts[0]
        if dt.kind == "f":
            return C.round_narrow(_dt(instr), f"({a} {op} {b})")
        if dt.kind == "pred":
            return f"({a} {pred_op} {b})"
        return _wrap_int(dt, lambda x, y: f"{x} {op} {y}", vals)
    return row


def _divide(instr, dts, vals):
    a, b = vals
    dt = dts[0]
    if dt.kind == "f":
        return C.round_narrow(dt, f"({a} / {b})")
    if dt.kind == "pred":
        return a
    t = C.VALUE[dt.name]
    return f"xm_{'s' if dt.kind == 's' else 'u'}div<{t}>({a}, {b})"


def _remainder(instr, dts, vals):
    a, b = vals
    dt = dts[0]
    if dt.kind == "f":
        return C.round_narrow(dt, f"fmod{C.math_suffix(dt)}({a}, {b})")
    if dt.kind == "pred":
        return "false"
    t = C.VALUE[dt.name]
    return f"xm_{'s' if dt.kind == 's' else 'u'}rem<{t}>({a}, {b})"


def _minmax(name: str, pred_op: str) -> Row:
    def row(instr, dts, vals):
        a, b = vals
        dt = dts[0]
        if dt.kind == "f":
            return f"xm_f{name}({a}, {b})"
        if dt.kind == "pred":
            return f"({a} {pred_op} {b})"
        return f"xm_i{name}<{C.VALUE[dt.name]}>({a}, {b})"
    return row


def _power(instr, dts, vals):
    a, b = vals
    dt = dts[0]
    if dt.kind == "f":
        return C.round_narrow(dt, f"pow{C.math_suffix(dt)}({a}, {b})")
    if dt.kind == "pred":
        return f"({a} || !{b})"
    t = C.VALUE[dt.name]
    return f"xm_ipow<{t}, {C.WIDE_UNSIGNED[dt.name]}>({a}, {b}, {'true' if dt.kind == 's' else 'false'})"


def _bitwise(op: str, pred_op: str) -> Row:
    def row(instr, dts, vals):
        a, b = vals
        if dts[0].kind == "pred":
            return f"({a} {pred_op} {b})"
        return f"(({C.VALUE[dts[0].name]})({a} {op} {b}))"
    return row


def _shift(kind: str) -> Row:
    def row(instr, dts, vals):
        dt = dts[0]
        if dt.kind not in ("s", "u"):
            raise Unsupported(f"{instr.opcode.value} on {dt.name}")
        return f"xm_{kind}<{C.VALUE[dt.name]}, {C.SAME_WIDTH_UNSIGNED[dt.name]}>({vals[0]}, {vals[1]})"
    return row


_CMP = {"EQ": "==", "NE": "!=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}


def _compare(instr, dts, vals):
    a, b = vals
    dt = dts[0]
    op = _CMP[instr.attrs["direction"]]
    ctype = instr.attrs.get("type")
    if dt.kind == "f" and ctype == "TOTALORDER":
        f = "(double)" if dt.name == "f64" else "(float)"
        return f"(xm_tokey({f}{a}) {op} xm_tokey({f}{b}))"
    if dt.kind == "s" and ctype == "UNSIGNED":
        u = C.SAME_WIDTH_UNSIGNED[dt.name]
        return f"(({u}){a} {op} ({u}){b})"
    if dt.kind == "u" and ctype == "SIGNED":
        s = {"u8": "signed char", "u16": "short", "u32": "int", "u64": "long long"}[dt.name]
        return f"(({s}){a} {op} ({s}){b})"
    return f"({a} {op} {b})"  # C's float comparisons are ordered except !=, as XLA's


def _select(instr, dts, vals):
    return f"({vals[0]} ? {vals[1]} : {vals[2]})"


def _clamp(instr, dts, vals):
    lo, x, hi = vals
    dt = dts[1]
    if dt.kind == "f":  # any NaN gives NaN; lo > hi gives hi
        return f"xm_fmin(xm_fmax({x}, {lo}), {hi})"
    if dt.kind == "pred":
        return f"(({x} || {lo}) && {hi})"
    t = C.VALUE[dt.name]
    return f"xm_imin<{t}>(xm_imax<{t}>({x}, {lo}), {hi})"


def _math(name: str, arity: int = 1) -> Row:
    def row(instr, dts, vals):
        dt = dts[0]
        if dt.kind != "f":
            raise Unsupported(f"{instr.opcode.value} on {dt.name}")
        return C.round_narrow(dt, f"{name}{C.math_suffix(dt)}({', '.join(vals)})")
    return row


def _helper(name: str) -> Row:
    """A helper of xm_device.cuh overloaded for float and double."""
    def row(instr, dts, vals):
        dt = dts[0]
        if dt.kind != "f":
            raise Unsupported(f"{instr.opcode.value} on {dt.name}")
        return C.round_narrow(dt, f"{name}({vals[0]})")
    return row


def _abs(instr, dts, vals):
    (x,) = vals
    dt = dts[0]
    if dt.kind == "f":
        return f"fabs{C.math_suffix(dt)}({x})"
    if dt.kind in ("u", "pred"):
        return x
    return f"({x} < 0 ? {_wrap_int(dt, lambda v: f'0 - {v}', [x])} : {x})"


def _negate(instr, dts, vals):
    (x,) = vals
    dt = dts[0]
    if dt.kind == "f":
        return f"(-{x})"
    if dt.kind == "pred":
        return x
    return _wrap_int(dt, lambda v: f"0 - {v}", [x])


def _sign(instr, dts, vals):
    (x,) = vals
    dt = dts[0]
    if dt.kind == "f":  # +-0 and NaN are their own sign
        return f"xm_fsign({x})"
    t = C.VALUE[dt.name]
    if dt.kind in ("u", "pred"):
        return f"(({t})({x} != 0))"
    return f"(({t})(({x} > 0) - ({x} < 0)))"


def _rounding(name: str) -> Row:
    def row(instr, dts, vals):
        dt = dts[0]
        if dt.kind != "f":
            return vals[0]  # floor/ceil/round of an integer is itself
        return f"{name}{C.math_suffix(dt)}({vals[0]})"
    return row


def _is_finite(instr, dts, vals):
    return f"xm_finite({vals[0]})"


def _not(instr, dts, vals):
    (x,) = vals
    if dts[0].kind == "pred":
        return f"(!{x})"
    return f"(({C.VALUE[dts[0].name]})~{x})"


def _popcnt(instr, dts, vals):
    dt = dts[0]
    u = "xm_u64" if dt.bits == 64 else "unsigned"
    return f"(({C.VALUE[dt.name]})xm_popc(({u})({C.SAME_WIDTH_UNSIGNED[dt.name]}){vals[0]}))"


def _clz(instr, dts, vals):
    dt = dts[0]
    t = C.VALUE[dt.name]
    if dt.bits == 64:
        return f"(({t})xm_clz((xm_u64){vals[0]}))"
    return f"(({t})(xm_clz((unsigned)({C.SAME_WIDTH_UNSIGNED[dt.name]}){vals[0]}) - {32 - dt.bits}))"


def convert_value(src: DType, dst: DType, x: str) -> str:
    if src == dst:
        return x
    t = C.value(dst)
    if dst.kind == "pred":
        return f"({x} != 0)"  # NaN is true, -0 false
    if src.kind == "pred":
        return f"(({t})({x} ? 1 : 0))"
    if src.kind in ("s", "u") and dst.kind in ("s", "u"):
        return f"(({t}){x})"
    if src.kind in ("s", "u"):  # to float
        if dst.name == "f64":
            return f"((double){x})"
        return C.round_narrow(dst, f"((float){x})")
    if dst.kind in ("s", "u"):  # truncate toward zero, saturate, NaN -> 0
        return f"xm_f2i<{t}>({x})"
    if dst.name == "f64":
        return f"((double){x})"
    if src.name == "f64":
        return C.round_narrow(dst, f"((float){x})")
    return C.round_narrow(dst, x)


def _convert(instr, dts, vals):
    return convert_value(dts[0], _dt(instr), vals[0])


def _bits_of(dt: DType, x: str) -> str:
    """The raw bits of a value, as the same-width unsigned integer."""
    if dt.name == "f16":
        return f"xm_f2h({x})"
    if dt.name == "bf16":
        return f"xm_f2bf({x})"
    if dt.name == "f32":
        return f"xm_fbits({x})"
    if dt.name == "f64":
        return f"((xm_u64)xm_dbits({x}))"
    if dt.kind == "pred":
        return f"((unsigned char)({x} ? 1 : 0))"
    return f"(({C.SAME_WIDTH_UNSIGNED[dt.name]}){x})"


def _from_bits(dt: DType, bits: str) -> str:
    if dt.name == "f16":
        return f"xm_h2f((xm_u16){bits})"
    if dt.name == "bf16":
        return f"xm_bf2f((xm_u16){bits})"
    if dt.name == "f32":
        return f"xm_bitsf((unsigned){bits})"
    if dt.name == "f64":
        return f"xm_bitsd((long long){bits})"
    if dt.kind == "pred":
        return f"({bits} != 0)"
    return f"(({C.VALUE[dt.name]}){bits})"


def _bitcast_convert(instr, dts, vals):
    src, dst = dts[0], _dt(instr)
    if src.bits != dst.bits:
        raise Unsupported(f"bitcast-convert between widths ({src.name} -> {dst.name})")
    return _from_bits(dst, _bits_of(src, vals[0]))


_UNSIGNED = {8: "unsigned char", 16: "xm_u16", 32: "unsigned", 64: "xm_u64"}


def _check_whole_bytes(src: DType, dst: DType) -> None:
    if src.bits not in _UNSIGNED or dst.bits not in _UNSIGNED or "pred" in (src.kind, dst.kind):
        raise Unsupported(f"bitcast-convert between widths ({src.name} -> {dst.name})")


def bitcast_piece(src: DType, dst: DType, x: str, k: str) -> str:
    """Piece k (below src.bits / dst.bits) of a wide element, little-endian: XLA's narrowing
    bitcast-convert."""
    _check_whole_bytes(src, dst)
    return _from_bits(dst, f"(({_UNSIGNED[dst.bits]})({_bits_of(src, x)} >> ((int)({k}) * {dst.bits})))")


def bitcast_join(src: DType, dst: DType, pieces: list[str]) -> str:
    """The wide element whose little-endian pieces are `pieces`: XLA's widening bitcast-convert."""
    _check_whole_bytes(src, dst)
    wide = _UNSIGNED[dst.bits]
    terms = [f"(({wide})({_UNSIGNED[src.bits]}){_bits_of(src, p)} << {j * src.bits})" for j, p in enumerate(pieces)]
    return _from_bits(dst, f"({' | '.join(terms)})")


def _reduce_precision(instr, dts, vals):
    dt = dts[0]
    if dt.name not in ("f32", "f64"):
        raise Unsupported(f"reduce-precision on {dt.name}")
    return f"xm_reduce_precision({vals[0]}, {instr.attrs['exponent_bits']}, {instr.attrs['mantissa_bits']})"


def _unsupported(instr, dts, vals):
    raise Unsupported(f"{instr.opcode.value} on {', '.join(d.name for d in dts)}")


SCALAR_OPS: dict[O, Row] = {
    O.ADD: _arith("+", "||"),
    O.SUBTRACT: _arith("-", "!="),
    O.MULTIPLY: _arith("*", "&&"),
    O.DIVIDE: _divide,
    O.REMAINDER: _remainder,
    O.MAXIMUM: _minmax("max", "||"),
    O.MINIMUM: _minmax("min", "&&"),
    O.POWER: _power,
    O.ATAN2: _math("atan2", 2),
    O.AND: _bitwise("&", "&&"),
    O.OR: _bitwise("|", "||"),
    O.XOR: _bitwise("^", "!="),
    O.SHIFT_LEFT: _shift("shl"),
    O.SHIFT_RIGHT_LOGICAL: _shift("shrl"),
    O.SHIFT_RIGHT_ARITHMETIC: _shift("shra"),
    O.COMPARE: _compare,
    O.SELECT: _select,
    O.CLAMP: _clamp,
    O.ABS: _abs,
    O.NEGATE: _negate,
    O.SIGN: _sign,
    O.FLOOR: _rounding("floor"),
    O.CEIL: _rounding("ceil"),
    O.ROUND_AFZ: _rounding("round"),  # C round(): halves away from zero
    O.ROUND_EVEN: _rounding("rint"),  # rint() in the default rounding mode: halves to even
    O.SQRT: _math("sqrt"),
    O.RSQRT: _helper("xm_rsqrt"),
    O.CBRT: _math("cbrt"),
    O.EXP: _math("exp"),
    O.EXPM1: _math("expm1"),
    O.LOG: _math("log"),
    O.LOG1P: _math("log1p"),
    O.LOGISTIC: _helper("xm_logistic"),
    O.TANH: _math("tanh"),
    O.SINH: _math("sinh"),
    O.COSH: _math("cosh"),
    O.ASINH: _math("asinh"),
    O.ACOSH: _math("acosh"),
    O.ATANH: _math("atanh"),
    O.ASIN: _math("asin"),
    O.ACOS: _math("acos"),
    O.ATAN: _math("atan"),
    O.SIN: _math("sin"),
    O.COS: _math("cos"),
    O.TAN: _math("tan"),
    O.ERF: _math("erf"),
    O.IS_FINITE: _is_finite,
    O.NOT: _not,
    O.POPCNT: _popcnt,
    O.CLZ: _clz,
    O.COPY: lambda instr, dts, vals: vals[0],
    O.CONVERT: _convert,
    O.BITCAST_CONVERT: _bitcast_convert,
    O.REDUCE_PRECISION: _reduce_precision,
    O.REAL: _unsupported,
    O.IMAG: _unsupported,
    O.COMPLEX: _unsupported,
}


def scalar_op(instr: Instruction, dts: list[DType], vals: list[str]) -> str:
    row = SCALAR_OPS.get(instr.opcode)
    if row is None:
        raise Unsupported(f"{instr.opcode.value} ('{instr.name}') as an elementwise op")
    return row(instr, dts, vals)


def inline_computation(em: Emitter, comp: Computation, args: list[str]) -> list[str]:
    """A computation on scalars (a reducer, a comparator) inlined: the values of its root's leaves."""
    env: dict[int, _Tree] = {}
    for i in comp.instructions:
        if i.opcode is O.PARAMETER:
            assert i.parameter_number is not None
            env[id(i)] = args[i.parameter_number]
        elif i.opcode is O.CONSTANT:
            if i.literal is None or i.literal.size != 1:
                raise Unsupported(f"constant {i.name} in a scalar computation")
            env[id(i)] = C.literal(_dt(i), i.literal.reshape(()).item())
        elif i.opcode is O.TUPLE:
            env[id(i)] = [env[id(o)] for o in i.operands]
        elif i.opcode is O.GET_TUPLE_ELEMENT:
            t = env[id(i.operands[0])]
            assert isinstance(t, list)
            env[id(i)] = t[i.attrs["index"]]
        elif i.opcode in (O.BROADCAST, O.RESHAPE, O.BITCAST, O.COPY) and i.shape.size == 1:
            env[id(i)] = env[id(i.operands[0])]
        else:
            dts = [_dt(o) for o in i.operands]
            env[id(i)] = em.tmp(C.value(_dt(i)), scalar_op(i, dts, [_leaf(env[id(o)]) for o in i.operands]))
    root = env[id(comp.root)]
    return [_leaf(r) for r in root] if isinstance(root, list) else [root]


_Tree = str | list["_Tree"]  # a scalar's C expression, or a tuple of them


def _leaf(v: _Tree) -> str:
    assert isinstance(v, str), "a tuple where a scalar was expected"
    return v
