"""LLVM IR helpers shared by the library kernels: constants and integer arithmetic on i64
indices, counted and while loops, stack and heap memory, and loads/stores that convert between
an element type in memory and the type a kernel computes in.

The names keep their leading underscore: they are the package's own vocabulary, not part of
what `library` offers to the rest of the backend."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeAlias

from llvmlite import ir

from ....hlo.dtypes import DType
from ....hlo.shape import Shape, row_major_strides
from ..halfconv import f16_to_float, float_to_f16
from ..irtypes import Unsupported, storage_type
from ..smallfloat import FORMATS as SMALL_FLOATS
from ..smallfloat import f_to_small_bits, small_bits_to_f32

PTR = ir.PointerType()
I1, I8, I16, I32, I64 = (ir.IntType(n) for n in (1, 8, 16, 32, 64))
F16, F32, F64 = ir.HalfType(), ir.FloatType(), ir.DoubleType()
VOID = ir.VoidType()

Index: TypeAlias = "ir.Value | int"  # an i64 index: emitted, or a constant still to emit


def _i64(v: int) -> ir.Constant:
    return ir.Constant(I64, int(v))


def _v(x: ir.Value | int) -> ir.Value:
    return _i64(x) if isinstance(x, int) else x


def _const(ty: ir.Type, v: float | int) -> ir.Constant:
    """A constant of `ty`; a splat when `ty` is a vector type."""
    if isinstance(ty, ir.VectorType):
        return ir.Constant(ty, [ir.Constant(ty.element, v)] * ty.count)
    return ir.Constant(ty, v)


def _elem(ty: ir.Type) -> ir.Type:
    return ty.element if isinstance(ty, ir.VectorType) else ty


def _like(ty: ir.Type, elem: ir.Type) -> ir.Type:
    """`elem`, or a vector of `elem` as wide as `ty`."""
    return ir.VectorType(elem, ty.count) if isinstance(ty, ir.VectorType) else elem


def _is_float(ty: ir.Type) -> bool:
    return isinstance(_elem(ty), (ir.HalfType, ir.FloatType, ir.DoubleType))


def _bits(ty: ir.Type) -> int:
    e = _elem(ty)
    if isinstance(e, ir.IntType):
        return e.width
    return {ir.HalfType: 16, ir.FloatType: 32, ir.DoubleType: 64}[type(e)]


def _add(b: ir.IRBuilder, x: Index, y: Index) -> ir.Value:
    return b.add(_v(x), _v(y))


def _mul(b: ir.IRBuilder, x: Index, y: Index) -> ir.Value:
    if isinstance(y, int):
        if y == 0:
            return _i64(0)
        if y == 1:
            return _v(x)
    return b.mul(_v(x), _v(y))


def _min(b: ir.IRBuilder, x: Index, y: Index) -> ir.Value:
    x, y = _v(x), _v(y)
    return b.select(b.icmp_signed("<", x, y), x, y)


def _max(b: ir.IRBuilder, x: Index, y: Index) -> ir.Value:
    x, y = _v(x), _v(y)
    return b.select(b.icmp_signed(">", x, y), x, y)


def _floordiv(b: ir.IRBuilder, x: ir.Value, d: int) -> ir.Value:
    """floor(x / d) for a signed x and a constant d > 0 (sdiv truncates toward zero)."""
    if d == 1:
        return x
    neg = b.icmp_signed("<", x, _i64(0))
    return b.sdiv(b.select(neg, b.sub(x, _i64(d - 1)), x), _i64(d))


def _ceildiv(b: ir.IRBuilder, x: ir.Value, d: int) -> ir.Value:
    return _floordiv(b, b.add(x, _i64(d - 1)), d) if d > 1 else x


def _gep(b: ir.IRBuilder, ptr: ir.Value, index: Index, ty: ir.Type) -> ir.Value:
    return b.gep(ptr, [_v(index)], inbounds=True, source_etype=ty)


@contextmanager
def _loop(b: ir.IRBuilder, stop: Index, start: Index = 0, step: int = 1, name: str = "i") -> Iterator[ir.Value]:
    """`for (i = start; i < stop; i += step)`; the body is what the `with` block emits."""
    start, stop = _v(start), _v(stop)
    fn = b.function
    pre = b.block
    head = fn.append_basic_block(f"{name}.head")
    body = fn.append_basic_block(f"{name}.body")
    end = fn.append_basic_block(f"{name}.end")
    b.branch(head)
    b.position_at_end(head)
    iv = b.phi(I64, name=name)
    iv.add_incoming(start, pre)
    b.cbranch(b.icmp_signed("<", iv, stop), body, end)
    b.position_at_end(body)
    yield iv
    nxt = b.add(iv, _i64(step), name=f"{name}.next", flags=("nsw",))
    iv.add_incoming(nxt, b.block)
    b.branch(head)
    b.position_at_end(end)


def _entry_alloca(b: ir.IRBuilder, ty: ir.Type, count: int = 1, name: str = "", align: int = 0) -> ir.Value:
    """Stack memory for `count` values of `ty`, allocated once in the entry block (which holds
    only allocas and the branch to the code, see `_start`)."""
    entry = b.function.entry_basic_block
    assert b.block is not entry and entry.is_terminated
    eb = ir.IRBuilder(entry)
    eb.position_before(entry.terminator)
    a = eb.alloca(ir.ArrayType(ty, max(count, 1)) if count != 1 else ty, name=name)
    if align:
        a.align = align
    a.type = PTR  # opaque, like every other pointer here: loads and stores name their types
    return a


def _start(fn: ir.Function) -> ir.IRBuilder:
    """A builder for `fn`'s code, after an entry block kept for allocas."""
    entry = fn.append_basic_block("entry")
    body = fn.append_basic_block("start")
    ir.IRBuilder(entry).branch(body)
    return ir.IRBuilder(body)


class _Var:
    """A mutable local (an alloca that mem2reg turns into SSA values)."""

    def __init__(self, b: ir.IRBuilder, ty: ir.Type, init: Index, name: str = "") -> None:
        self.b, self.ty = b, ty
        self.ptr = _entry_alloca(b, ty, name=name)
        self.set(init)

    def get(self) -> ir.Value:
        return self.b.load(self.ptr, typ=self.ty)

    def set(self, v: Index) -> None:
        self.b.store(_v(v) if self.ty == I64 else v, self.ptr)


def _declare(module: ir.Module, name: str, ret: ir.Type, args: list[ir.Type]) -> ir.Function:
    g = module.globals.get(name)
    if g is None:
        g = ir.Function(module, ir.FunctionType(ret, args), name=name)
    return g


def _malloc(b: ir.IRBuilder, nbytes: int) -> ir.Value:
    return b.call(_declare(b.module, "malloc", PTR, [I64]), [_i64(max(nbytes, 1))])


def _free(b: ir.IRBuilder, p: ir.Value) -> None:
    b.call(_declare(b.module, "free", VOID, [PTR]), [p])


def _memcpy(b: ir.IRBuilder, dst: ir.Value, src: ir.Value, nbytes: Index) -> None:
    f = b.module.declare_intrinsic("llvm.memcpy", [PTR, PTR, I64])
    b.call(f, [dst, src, _v(nbytes), ir.Constant(I1, 0)])


def _memset0(b: ir.IRBuilder, dst: ir.Value, nbytes: Index) -> None:
    f = b.module.declare_intrinsic("llvm.memset", [PTR, I64])
    b.call(f, [dst, ir.Constant(I8, 0), _v(nbytes), ir.Constant(I1, 0)])


def _align_up(b: ir.IRBuilder, p: ir.Value, align: int = 64) -> ir.Value:
    """`p` rounded up to a multiple of `align` (the buffer must have `align` bytes to spare)."""
    a = b.ptrtoint(p, I64)
    pad = b.and_(b.sub(_i64(0), a), _i64(align - 1))
    return b.gep(p, [pad], source_etype=I8)


def _new_function(module: ir.Module, name: str, n_args: int) -> tuple[ir.Function, ir.IRBuilder]:
    """`void name(ptr, ...)` whose arguments alias none of the others."""
    fn = ir.Function(module, ir.FunctionType(VOID, [PTR] * n_args), name=name)
    fn.attributes.add("nounwind")
    for a in fn.args:
        a.add_attribute("noalias")
    return fn, _start(fn)


def _fma_fn(module: ir.Module, ty: ir.Type) -> ir.Function:
    e = _elem(ty)
    suffix = f"v{ty.count}{e.intrinsic_name}" if isinstance(ty, ir.VectorType) else e.intrinsic_name
    return _declare(module, f"llvm.fma.{suffix}", ty, [ty, ty, ty])


def _muladd(b: ir.IRBuilder, x: ir.Value, y: ir.Value, acc: ir.Value, flags: tuple[str, ...] = ()) -> ir.Value:
    """acc + x*y: one fused multiply-add for floats (XLA contracts these too), wrapping for ints."""
    if _is_float(x.type):
        if flags:  # a reassociable reduction: keep mul/add apart so the vectorizer recognizes it
            return b.fadd(acc, b.fmul(x, y, flags=flags), flags=flags)
        return b.call(_fma_fn(b.module, x.type), [x, y, acc])
    return b.add(acc, b.mul(x, y))


def _dtype(shape: Shape) -> DType:
    """The element type of an array shape (a library kernel's operands and results are arrays)."""
    if shape.dtype is None:
        raise Unsupported("a tuple where the kernel takes an array")
    return shape.dtype


def _mem_type(dt: DType) -> ir.Type:
    return storage_type(dt)


def _compute(out: DType) -> tuple[ir.Type, str]:
    """Accumulation type and its kind ('f', 's', 'u'), as the evaluator's `_compute_dtype`:
    narrow floats accumulate in f32, pred in s32, everything else in its own type."""
    if out.kind == "f":
        _mem_type(out)  # refuses the types the cpu backend has no storage for
        return (F64 if out.name == "f64" else F32), "f"
    if out.kind == "pred":
        return I32, "s"
    if out.kind in ("s", "u"):
        return _mem_type(out), out.kind
    raise Unsupported(f"element type {out.name}")


def _convert(b: ir.IRBuilder, v: ir.Value, skind: str, dst: ir.Type, dkind: str) -> ir.Value:
    """numpy's `astype` between numeric LLVM types (scalars or vectors alike)."""
    dty = _like(v.type, _elem(dst))
    if v.type == dty:
        return v
    sf, df = _is_float(v.type), _is_float(dty)
    if sf and df:
        if _elem(v.type) == F16:
            return f16_to_float(b, v, dty)
        if _elem(dty) == F16:
            return float_to_f16(b, v)
        return b.fpext(v, dty) if _bits(dty) > _bits(v.type) else b.fptrunc(v, dty)
    if sf and _elem(v.type) == F16:  # through f32, which holds every f16 value exactly
        return _convert(b, f16_to_float(b, v, _like(v.type, F32)), "f", dst, dkind)
    if not sf and df:
        if _elem(dty) == F16:
            return float_to_f16(b, b.sitofp(v, _like(dty, F32)) if skind == "s" else b.uitofp(v, _like(dty, F32)))
        return b.sitofp(v, dty) if skind == "s" else b.uitofp(v, dty)
    if sf:
        return b.fptosi(v, dty) if dkind == "s" else b.fptoui(v, dty)
    if _bits(dty) < _bits(v.type):
        return b.trunc(v, dty)
    return b.sext(v, dty) if skind == "s" else b.zext(v, dty)


def _bf16_to_f32(b: ir.IRBuilder, raw: ir.Value) -> ir.Value:
    i32 = _like(raw.type, I32)
    return b.bitcast(b.shl(b.zext(raw, i32), _const(i32, 16)), _like(raw.type, F32))


def _f32_to_bf16(b: ir.IRBuilder, v: ir.Value) -> ir.Value:
    """Round to nearest even on the bits; NaN stays a quiet NaN (as ml_dtypes does)."""
    i32 = _like(v.type, I32)
    bits = b.bitcast(v, i32)
    hi = b.lshr(bits, _const(i32, 16))
    rounded = b.lshr(b.add(b.add(bits, _const(i32, 0x7FFF)), b.and_(hi, _const(i32, 1))), _const(i32, 16))
    nan = b.or_(hi, _const(i32, 0x40))
    return b.trunc(b.select(b.fcmp_unordered("uno", v, v), nan, rounded), _like(v.type, I16))


def _to_compute(b: ir.IRBuilder, raw: ir.Value, src: DType, ct: ir.Type, ck: str) -> ir.Value:
    """A value loaded from memory (storage type of `src`) converted to the compute type."""
    if src.name == "bf16":
        return _convert(b, _bf16_to_f32(b, raw), "f", ct, ck)
    if src.name in SMALL_FLOATS:
        return _convert(b, small_bits_to_f32(b, SMALL_FLOATS[src.name], raw), "f", ct, ck)
    if src.kind in ("s", "u") and src.bits < 8:  # s4/u4/s2/u2: the low bits of the byte
        return _convert(b, b.trunc(raw, _like(raw.type, ir.IntType(src.bits))), src.kind, ct, ck)
    if src.kind == "pred":
        return _convert(b, raw, "u", ct, ck)
    return _convert(b, raw, src.kind, ct, ck)


def _to_storage(b: ir.IRBuilder, v: ir.Value, ck: str, out: DType) -> ir.Value:
    """A compute-type value converted to what `out` stores (pred: != 0; bf16 rounded)."""
    if out.kind == "pred":
        zero = _const(v.type, 0.0 if ck == "f" else 0)
        ne = b.fcmp_unordered("une", v, zero) if ck == "f" else b.icmp_unsigned("!=", v, zero)
        return b.zext(ne, _like(v.type, I8))
    if out.name == "bf16":
        return _f32_to_bf16(b, _convert(b, v, ck, F32, "f"))
    if out.name in SMALL_FLOATS:
        return f_to_small_bits(b, SMALL_FLOATS[out.name], _convert(b, v, ck, F32, "f"))
    if out.kind in ("s", "u") and out.bits < 8:  # the low bits, the rest zero (as ml_dtypes writes)
        narrow = _convert(b, v, ck, ir.IntType(out.bits), out.kind)
        return b.zext(narrow, _like(narrow.type, I8))
    return _convert(b, v, ck, _mem_type(out), out.kind)


def _load_c(b: ir.IRBuilder, ptr: ir.Value, index: Index, dt: DType, ct: ir.Type, ck: str) -> ir.Value:
    mt = _mem_type(dt)
    return _to_compute(b, b.load(_gep(b, ptr, index, mt), typ=mt), dt, ct, ck)


def _store_c(b: ir.IRBuilder, ptr: ir.Value, index: Index, dt: DType, v: ir.Value, ck: str) -> None:
    b.store(_to_storage(b, v, ck, dt), _gep(b, ptr, index, _mem_type(dt)))


def _row_major(dims: Sequence[int]) -> list[int]:
    return list(row_major_strides(dims))


@contextmanager
def _while(b: ir.IRBuilder, cond: Callable[[], ir.Value], name: str) -> Iterator[None]:
    """`while (cond())`: the body is what the `with` block emits; cond may emit blocks."""
    fn = b.function
    head = fn.append_basic_block(f"{name}.head")
    body = fn.append_basic_block(f"{name}.body")
    end = fn.append_basic_block(f"{name}.end")
    b.branch(head)
    b.position_at_end(head)
    b.cbranch(cond(), body, end)
    b.position_at_end(body)
    yield
    b.branch(head)
    b.position_at_end(end)


def _and_then(b: ir.IRBuilder, first: ir.Value, second: Callable[[], ir.Value]) -> ir.Value:
    """`first && second()` with second evaluated only when first holds (it may read memory)."""
    pre = b.block
    fn = b.function
    rhs = fn.append_basic_block("and.rhs")
    end = fn.append_basic_block("and.end")
    b.cbranch(first, rhs, end)
    b.position_at_end(rhs)
    r = second()
    rhs_end = b.block
    b.branch(end)
    b.position_at_end(end)
    phi = b.phi(I1)
    phi.add_incoming(ir.Constant(I1, 0), pre)
    phi.add_incoming(r, rhs_end)
    return phi


def _nest(b: ir.IRBuilder, dims: Sequence[tuple[int, Sequence[int]]], offs: Sequence[ir.Value],
          body: Callable[[list[ir.Value]], None], name: str = "d") -> None:
    """Nested loops over `dims` = [(extent, strides per offset)], calling body(offsets)."""
    if not dims:
        body(list(offs))
        return
    (n, strides), rest = dims[0], dims[1:]
    with _loop(b, n, name=f"{name}{len(dims)}") as i:
        _nest(b, rest, [_add(b, o, _mul(b, i, s)) for o, s in zip(offs, strides)], body, name)


def _cstring(module: ir.Module, text: str) -> ir.GlobalVariable:
    name = "xla_magic.str." + hashlib.sha1(text.encode()).hexdigest()[:16]
    g = module.globals.get(name)
    if g is None:
        data = bytearray(text.encode() + b"\0")
        g = ir.GlobalVariable(module, ir.ArrayType(I8, len(data)), name)
        g.initializer = ir.Constant(g.value_type, data)
        g.global_constant, g.linkage = True, "private"
    return g
