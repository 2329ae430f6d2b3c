"""The call from Python into a generated kernel `void kernel(ptr a0, ..., ptr aN-1)`.

`make_caller(address, n_inputs, n_outputs)` returns `call(arrays)`, where `arrays` is a list (or
tuple) of the inputs then the outputs, already checked by `backends/args.py` (dtype, shape,
C-contiguous, outputs writable): nothing here looks at shapes.

Why not plain ctypes: the foreign call itself is cheap, but getting each array's data pointer
from Python (`a.ctypes.data`, `__array_interface__`) costs more than the call (see
`benchmarks/callpath.py` for the figures). So, as numba's dispatcher does in C, we let machine
code read the pointers: a tiny wrapper, generated with llvmlite once per arity, becomes a real
builtin function (`PyCFunction_NewEx` with `METH_O`), whose `self` is a tuple
`(kernel_address, keepalive)`. Calling it costs one vectorcall; it reads the list items with
the C API, checks each is an ndarray (`PyObject_IsInstance`, exact-type fast path), loads
`PyArrayObject.data` and calls the kernel.

Measured by `benchmarks/callpath.py` (2-core AMD EPYC znver4, CPython 3.11, numpy 2.4), one
f32[1,64] `a + b` kernel, medians per call: this caller 0.06 us (0.32 us with `np.empty` for the
output); plain ctypes 0.10 us with no arguments but 3.3 us with `arr.ctypes.data` for three
arrays; cffi with `ffi.from_buffer` 0.93 us; the portable fallback below 3.8 us.

Crash safety: the only layout assumption is the offset of `data` in `PyArrayObject` (right
after the object header, numpy's public ABI since 1.x). It is measured at import against
`__array_interface__` on several arrays; on any mismatch, on a non-CPython interpreter, or if
the wrapper cannot be built, `make_caller` falls back to a ctypes caller that is slower but
makes no assumption. Wrong count or non-array items raise TypeError rather than crash.
"""
from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from llvmlite import ir

if TYPE_CHECKING:
    from .jit import JitModule

__all__ = ["make_caller", "make_ctypes_caller", "fast_path_available", "ARRAY_DATA_OFFSET"]

Caller = Callable[[Sequence[np.ndarray]], None]

_METH_O = 0x0008
_PTR = ir.PointerType()
_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_ISIZE = ir.IntType(8 * ctypes.sizeof(ctypes.c_ssize_t))


def _array_data_offset() -> int | None:
    """Offset of `data` in PyArrayObject, verified on a few arrays (views, dtypes, empty)."""
    if sys.implementation.name != "cpython" or not hasattr(ctypes, "pythonapi"):
        return None
    off = object.__basicsize__  # sizeof(PyObject): `data` is the first field after the header
    base = np.arange(24, dtype=np.float64)
    probes: list[np.ndarray] = [np.empty(3, np.float32), base[5:], base.reshape(4, 6)[:, 2], np.zeros((2, 3), np.int8),
              np.empty(0), np.float32(1.0) * np.ones(1, np.float32)]
    for a in probes:
        if ctypes.c_void_p.from_address(id(a) + off).value != a.__array_interface__["data"][0]:
            return None
    return off


ARRAY_DATA_OFFSET: int | None = _array_data_offset()

# The C-API functions the wrapper calls, with their LLVM signatures.
_API: dict[str, tuple[ir.Type, list[ir.Type]]] = {
    "PyObject_IsInstance": (_I32, [_PTR, _PTR]),
    "PyList_Size": (_ISIZE, [_PTR]),
    "PyList_GetItem": (_PTR, [_PTR, _ISIZE]),
    "PyTuple_Size": (_ISIZE, [_PTR]),
    "PyTuple_GetItem": (_PTR, [_PTR, _ISIZE]),
    "PyLong_AsVoidPtr": (_PTR, [_PTR]),
    "PyErr_SetString": (ir.VoidType(), [_PTR, _PTR]),
    "PyErr_Occurred": (_PTR, []),
    "Py_IncRef": (ir.VoidType(), [_PTR]),
}


@functools.cache
def _register_api_symbols() -> None:
    import llvmlite.binding as llvm

    from .jit import host

    host()
    for name in _API:
        llvm.add_symbol(name, ctypes.cast(getattr(ctypes.pythonapi, name), ctypes.c_void_p).value)


def _cstring(module: ir.Module, name: str, text: str) -> ir.GlobalVariable:
    data = bytearray(text.encode() + b"\0")
    g = ir.GlobalVariable(module, ir.ArrayType(ir.IntType(8), len(data)), name)
    g.initializer = ir.Constant(g.value_type, data)
    g.global_constant, g.linkage, g.unnamed_addr = True, "private", True
    return g


def _const_ptr(b: ir.IRBuilder, address: int) -> ir.Value:
    return b.inttoptr(ir.Constant(_I64, address), _PTR)


def _wrapper_ir(n: int, data_offset: int) -> ir.Module:
    """`PyObject *wrap(PyObject *self, PyObject *arrays)`; self = (kernel_address, keepalive)."""
    m = ir.Module(name=f"pycall{n}")
    kernel_type = ir.FunctionType(ir.VoidType(), [_PTR] * n)
    # PyLong_AsVoidPtr is declared returning a typed pointer (it still prints as `ptr`) so that
    # llvmlite knows the signature of the indirect call through its result.
    sigs = {**_API, "PyLong_AsVoidPtr": (kernel_type.as_pointer(), [_PTR])}
    api = {k: ir.Function(m, ir.FunctionType(r, a), k) for k, (r, a) in sigs.items()}
    wrap = ir.Function(m, ir.FunctionType(_PTR, [_PTR, _PTR]), "pycall")
    self_, arg = wrap.args
    msg_seq = _cstring(m, "msg_seq", f"expected a list or tuple of {n} numpy arrays")
    msg_arr = _cstring(m, "msg_arr", "expected numpy arrays only")

    entry = wrap.append_basic_block("entry")
    b = ir.IRBuilder(entry)
    type_error = _const_ptr(b, id(TypeError))
    ndarray = _const_ptr(b, id(np.ndarray))
    null = ir.Constant(_PTR, None)

    fail = wrap.append_basic_block("fail")  # raise TypeError(msg) unless an error is already set
    seq_fail = wrap.append_basic_block("seq_fail")
    arr_fail = wrap.append_basic_block("arr_fail")
    with b.goto_block(fail):
        fail_msg = b.phi(_PTR)
        pending = b.call(api["PyErr_Occurred"], [])
        raise_ = wrap.append_basic_block("raise")
        ret_null = wrap.append_basic_block("ret_null")
        b.cbranch(b.icmp_unsigned("==", pending, null), raise_, ret_null)
        with b.goto_block(raise_):
            b.call(api["PyErr_SetString"], [type_error, fail_msg])
            b.branch(ret_null)
        with b.goto_block(ret_null):
            b.ret(null)
    for blk, g in ((seq_fail, msg_seq), (arr_fail, msg_arr)):
        with b.goto_block(blk):
            b.branch(fail)
        fail_msg.add_incoming(g.bitcast(_PTR), blk)

    # Items through the list or tuple API (both bounds-checked); nothing is borrowed past the call.
    items: dict[str, list[ir.Value]] = {}
    join = wrap.append_basic_block("have_items")
    blocks = {}
    for kind in ("List", "Tuple"):
        blocks[kind] = wrap.append_basic_block(f"is_{kind.lower()}")
    not_list = wrap.append_basic_block("not_list")
    is_list = b.call(api["PyObject_IsInstance"], [arg, _const_ptr(b, id(list))])
    b.cbranch(b.icmp_signed("==", is_list, ir.Constant(_I32, 1)), blocks["List"], not_list)
    with b.goto_block(not_list):
        is_tuple = b.call(api["PyObject_IsInstance"], [arg, _const_ptr(b, id(tuple))])
        b.cbranch(b.icmp_signed("==", is_tuple, ir.Constant(_I32, 1)), blocks["Tuple"], seq_fail)
    ends = {}
    for kind in ("List", "Tuple"):
        with b.goto_block(blocks[kind]):
            size = b.call(api[f"Py{kind}_Size"], [arg])
            got = wrap.append_basic_block(f"{kind.lower()}_items")
            b.cbranch(b.icmp_signed("==", size, ir.Constant(_ISIZE, n)), got, seq_fail)
            b.position_at_end(got)
            items[kind] = [b.call(api[f"Py{kind}_GetItem"], [arg, ir.Constant(_ISIZE, i)]) for i in range(n)]
            ends[kind] = b.block
            b.branch(join)

    b.position_at_end(join)
    pointers = []
    for i in range(n):
        item = b.phi(_PTR, name=f"item{i}")
        for kind in ("List", "Tuple"):
            item.add_incoming(items[kind][i], ends[kind])
        pointers.append(item)
    datas = []
    for i, item in enumerate(pointers):
        ok = b.call(api["PyObject_IsInstance"], [item, ndarray])
        nxt = wrap.append_basic_block(f"array{i}_ok")
        b.cbranch(b.icmp_signed("==", ok, ir.Constant(_I32, 1)), nxt, arr_fail)
        b.position_at_end(nxt)
        slot = b.gep(item, [ir.Constant(_I64, data_offset)], source_etype=ir.IntType(8))
        datas.append(b.load(slot, typ=_PTR))
    target = b.call(api["PyLong_AsVoidPtr"], [b.call(api["PyTuple_GetItem"], [self_, ir.Constant(_ISIZE, 0)])])
    b.call(target, datas)
    none = _const_ptr(b, id(None))
    b.call(api["Py_IncRef"], [none])
    b.ret(none)
    return m


class _PyMethodDef(ctypes.Structure):
    _fields_ = [("ml_name", ctypes.c_char_p), ("ml_meth", ctypes.c_void_p),
                ("ml_flags", ctypes.c_int), ("ml_doc", ctypes.c_char_p)]


@functools.cache
def _wrapper(n: int) -> tuple[JitModule, _PyMethodDef]:
    """(JitModule, PyMethodDef) for arity n; built once per process and kept forever."""
    from .jit import compile_ir

    if ARRAY_DATA_OFFSET is None:
        raise RuntimeError("the offset of PyArrayObject.data is not known")
    _register_api_symbols()
    jm = compile_ir(_wrapper_ir(n, ARRAY_DATA_OFFSET), ["pycall"], opt=2, name=f"pycall{n}")
    mdef = _PyMethodDef(f"kernel_call{n}".encode(), jm.address("pycall"), _METH_O,
                        b"call(arrays): runs the kernel on the arrays' data pointers")
    return jm, mdef


@functools.cache
def _new_cfunction():
    fn = ctypes.pythonapi.PyCFunction_NewEx
    fn.argtypes = [ctypes.POINTER(_PyMethodDef), ctypes.py_object, ctypes.py_object]
    fn.restype = ctypes.py_object  # ctypes balances the new reference it returns
    return fn


@functools.lru_cache(maxsize=1)
def fast_path_available() -> tuple[bool, str]:
    if ARRAY_DATA_OFFSET is None:
        return False, "PyArrayObject.data offset could not be verified (not CPython, or unexpected layout)"
    try:
        _wrapper(1)
    except Exception as e:  # the fallback still works; say why we are on it
        return False, f"could not build the C-API wrapper: {type(e).__name__}: {e}"
    return True, f"C-API wrapper (PyArrayObject.data at offset {ARRAY_DATA_OFFSET})"


def make_ctypes_caller(address: int, n_inputs: int, n_outputs: int, keepalive: object = None) -> Caller:
    """The portable caller: ctypes with `c_void_p` arguments from `__array_interface__`."""
    n = n_inputs + n_outputs
    fn = ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * n)(address)

    def call(arrays: Sequence[np.ndarray], _fn=fn, _n=n, _keep=keepalive) -> None:
        if len(arrays) != _n:
            raise TypeError(f"expected {_n} numpy arrays, got {len(arrays)}")
        _fn(*[a.__array_interface__["data"][0] for a in arrays])

    return call


def make_caller(address: int, n_inputs: int, n_outputs: int, keepalive: object = None) -> Caller:
    """`call(arrays)` runs `void kernel(ptr in0, .., ptr out0, ..)` at `address` on the arrays'
    data. `keepalive` (e.g. the JitModule owning the code) lives as long as the caller does."""
    if not address:
        raise ValueError("null kernel address")
    n = n_inputs + n_outputs
    if n_inputs < 0 or n_outputs < 0:
        raise ValueError("negative argument count")
    ok, _ = fast_path_available()
    if not ok:
        return make_ctypes_caller(address, n_inputs, n_outputs, keepalive)
    jm, mdef = _wrapper(n)
    # `self` of the builtin: what the wrapper reads (the address) plus what must outlive it.
    self_obj = (address, keepalive, jm, mdef)
    return _new_cfunction()(ctypes.byref(mdef), self_obj, None)
