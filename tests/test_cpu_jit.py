"""The llvmlite JIT wrapper (backends/cpu/jit.py) and the call path (backends/cpu/callpath.py).

No timings here (benchmarks/callpath.py has them): only behaviour, artifacts and safety."""
from __future__ import annotations

import ctypes
import gc
import re
import sys
import weakref

import numpy as np
import pytest
from llvmlite import ir

from xla_magic.backends.cpu import callpath
from xla_magic.backends.cpu.jit import JitError, JitModule, compile_ir, host, split_asm

ADD = r"""
define void @add(ptr noalias %a, ptr noalias %b, ptr noalias %o, i64 %n) {
entry:
  %empty = icmp sle i64 %n, 0
  br i1 %empty, label %exit, label %loop
loop:
  %i = phi i64 [0, %entry], [%i1, %loop]
  %pa = getelementptr float, ptr %a, i64 %i
  %pb = getelementptr float, ptr %b, i64 %i
  %po = getelementptr float, ptr %o, i64 %i
  %x = load float, ptr %pa
  %y = load float, ptr %pb
  %z = fadd float %x, %y
  store float %z, ptr %po
  %i1 = add i64 %i, 1
  %c = icmp slt i64 %i1, %n
  br i1 %c, label %loop, label %exit
exit:
  ret void
}

define double @twice(double %x) {
  %y = fmul double %x, 2.0
  ret double %y
}

define internal double @helper(double %x) {
  ret double %x
}
"""


def fixed_add(n: int, name: str = "k") -> str:
    """A kernel with the call path's signature: void name(ptr a, ptr b, ptr out) over n floats."""
    return ADD.split("define double")[0].replace("@add(", f"@{name}_n(") + f"""
define void @{name}(ptr noalias %a, ptr noalias %b, ptr noalias %o) {{
  call void @{name}_n(ptr %a, ptr %b, ptr %o, i64 {n})
  ret void
}}
"""


@pytest.fixture(scope="module")
def jm() -> JitModule:
    return compile_ir(ADD, name="adder")


def test_entries_default_to_external_definitions(jm):
    assert sorted(jm.entry_names) == ["add", "twice"]
    assert all(isinstance(a, int) and a for a in jm.addresses.values())
    twice = jm.ctypes_function("twice", ctypes.c_double, ctypes.c_double)
    assert twice(21.0) == 42.0


def test_runs_a_vectorized_loop(jm):
    add = jm.ctypes_function("add", None, *[ctypes.c_void_p] * 3, ctypes.c_int64)
    for n in (0, 1, 7, 64, 1001):
        a = np.arange(n, dtype=np.float32)
        b = np.full(n, 0.5, np.float32)
        o = np.zeros(n, np.float32)
        add(a.ctypes.data, b.ctypes.data, o.ctypes.data, n)
        assert np.array_equal(o, a + b)


def test_artifacts(jm):
    assert "define void @add" in jm.llvm_ir and "fadd float" in jm.llvm_ir
    assert jm.llvm_ir_opt != jm.llvm_ir
    if "+avx" in host().features.split(","):
        assert re.search(r"<\d+ x float>", jm.llvm_ir_opt_by_function["add"]), "loop not vectorized"
    assert set(jm.llvm_ir_by_function) >= {"add", "twice", "helper"}
    assert "helper" not in jm.llvm_ir_opt_by_function  # unused internal function removed
    asm = jm.asm
    assert "add:" in asm and "twice:" in asm
    per = jm.asm_by_function
    assert set(per) == {"add", "twice"}
    assert "add:" in per["add"] and "twice:" not in per["add"]
    assert set(jm.artifacts) == {"llvm_ir", "llvm_ir_opt", "asm"}
    assert {"parse", "optimize", "codegen", "asm"} <= set(jm.timings)
    assert "compiled in" in repr(jm)


def test_host_target():
    h = host()
    assert h.triple and h.cpu and h.data_layout
    assert h.vector_bits in (128, 256, 512)


def test_accepts_llvmlite_module():
    m = ir.Module(name="built")
    f = ir.Function(m, ir.FunctionType(ir.IntType(64), [ir.IntType(64)]), "inc")
    b = ir.IRBuilder(f.append_basic_block())
    b.ret(b.add(f.args[0], ir.Constant(ir.IntType(64), 1)))
    jm = compile_ir(m)
    assert jm.name == "built"
    assert jm.ctypes_function("inc", ctypes.c_int64, ctypes.c_int64)(41) == 42


@pytest.mark.parametrize("opt", [0, 1, 2, 3])
def test_opt_levels(opt):
    jm = compile_ir(ADD, ["twice"], opt=opt)
    assert jm.ctypes_function("twice", ctypes.c_double, ctypes.c_double)(1.5) == 3.0


def test_errors():
    with pytest.raises(JitError, match="parsing error|expected"):
        compile_ir("define void @f( {")
    with pytest.raises(JitError, match="no function 'nope'"):
        compile_ir(ADD, ["nope"])
    bad_ssa = ("define i32 @f(i1 %c) {\nentry:\n  br i1 %c, label %a, label %b\na:\n  %x = add i32 1, 2\n"
               "  br label %b\nb:\n  ret i32 %x\n}\n")
    with pytest.raises(JitError, match="dominate"):  # parses, fails the verifier
        compile_ir(bad_ssa)
    with pytest.raises(ValueError):
        compile_ir(ADD, opt=4)
    with pytest.raises(KeyError, match="not an entry"):
        compile_ir(ADD, ["twice"]).address("add")


def test_split_asm():
    asm = (".text\n.file \"x\"\n.section .rodata\n.LCPI0_0:\n .long 1\n.text\n.globl f\nf:\n ret\n"
           ".Lfunc_end0:\n .size f, .Lfunc_end0-f\n.globl g\ng:\n ret\n.Lfunc_end1:\n .size g, .Lfunc_end1-g\n"
           ".section .note\n")
    parts = split_asm(asm)
    assert list(parts) == ["f", "g"]
    assert ".LCPI0_0" in parts["f"] and "g:" in parts["g"] and "f:" not in parts["g"]


# ---- the call path ---------------------------------------------------------------------------

def arrays(n: int = 64):
    a = np.arange(n, dtype=np.float32)
    return [a, np.full(n, 2.0, np.float32), np.zeros(n, np.float32)]


def test_fast_path_on_cpython():
    ok, why = callpath.fast_path_available()
    if sys.implementation.name == "cpython":
        assert ok, why
        assert callpath.ARRAY_DATA_OFFSET == object.__basicsize__


@pytest.mark.parametrize("container", [list, tuple])
def test_make_caller_runs_kernel(container):
    jm = compile_ir(fixed_add(64))
    call = callpath.make_caller(jm.address("k"), 2, 1, keepalive=jm)
    a, b, o = arrays()
    assert call(container([a, b, o])) is None
    assert np.array_equal(o, a + b)


def test_caller_reads_views_and_2d_arrays():
    jm = compile_ir(fixed_add(6))
    call = callpath.make_caller(jm.address("k"), 2, 1, keepalive=jm)
    base = np.arange(20, dtype=np.float32)
    a = base[4:10]  # data pointer is inside another array's buffer
    b = np.ones((2, 3), np.float32)
    o = np.empty((3, 2), np.float32)
    call([a, b, o])
    assert np.array_equal(o.ravel(), a + 1)


def test_caller_rejects_bad_arguments_without_crashing():
    jm = compile_ir(fixed_add(64))
    call = callpath.make_caller(jm.address("k"), 2, 1, keepalive=jm)
    a, b, o = arrays()
    for bad in ([a, b], [a, b, o, o], (), [a, b, 3.0], [a, None, o], "abc", None, 3, {a.tobytes()}, b"xyz"):
        with pytest.raises(TypeError):
            call(bad)
    with pytest.raises(TypeError):
        call()
    with pytest.raises(TypeError):
        call([a, b, o], [a])
    assert np.array_equal(o, np.zeros(64, np.float32))  # nothing ran


def test_caller_accepts_ndarray_subclasses():
    class Tagged(np.ndarray):
        pass

    jm = compile_ir(fixed_add(64))
    call = callpath.make_caller(jm.address("k"), 2, 1, keepalive=jm)
    a, b, o = arrays()
    call([a.view(Tagged), b, o.view(Tagged)])
    assert np.array_equal(o, a + b)


def test_caller_keeps_code_alive():
    jm = compile_ir(fixed_add(64))
    call = callpath.make_caller(jm.address("k"), 2, 1, keepalive=jm)
    ref = weakref.ref(jm)
    del jm
    gc.collect()
    assert ref() is not None  # the caller holds the JitModule
    a, b, o = arrays()
    call([a, b, o])
    assert np.array_equal(o, a + b)
    del call
    gc.collect()
    assert ref() is None  # and lets it go with itself


def test_caller_does_not_leak_references():
    jm = compile_ir(fixed_add(64))
    call = callpath.make_caller(jm.address("k"), 2, 1, keepalive=jm)
    args = arrays()
    before = [sys.getrefcount(x) for x in args] + [sys.getrefcount(args)]
    for _ in range(1000):
        call(args)
    after = [sys.getrefcount(x) for x in args] + [sys.getrefcount(args)]
    assert before == after


@pytest.mark.parametrize("n_in, n_out", [(0, 1), (1, 1), (3, 2), (9, 1)])
def test_arities(n_in, n_out):
    """A kernel that writes sum(inputs) + j into output j, for many argument counts."""
    n = n_in + n_out
    m = ir.Module()
    f32 = ir.FloatType()
    fn = ir.Function(m, ir.FunctionType(ir.VoidType(), [ir.PointerType()] * n), "k")
    b = ir.IRBuilder(fn.append_basic_block())
    acc = ir.Constant(f32, 0.0)
    for p in fn.args[:n_in]:
        acc = b.fadd(acc, b.load(p, typ=f32))
    for j, p in enumerate(fn.args[n_in:]):
        b.store(b.fadd(acc, ir.Constant(f32, float(j))), p)
    b.ret_void()
    jm = compile_ir(m)
    call = callpath.make_caller(jm.address("k"), n_in, n_out, keepalive=jm)
    ins = [np.array([i + 1], np.float32) for i in range(n_in)]
    outs = [np.zeros(1, np.float32) for _ in range(n_out)]
    call(ins + outs)
    total = sum(range(1, n_in + 1))
    assert [o[0] for o in outs] == [total + j for j in range(n_out)]
    fallback = callpath.make_ctypes_caller(call.__self__[0], n_in, n_out)
    outs2 = [np.zeros(1, np.float32) for _ in range(n_out)]
    fallback(ins + outs2)
    assert [o[0] for o in outs2] == [o[0] for o in outs]


def test_ctypes_fallback_checks_count():
    jm = compile_ir(fixed_add(64))
    call = callpath.make_ctypes_caller(jm.address("k"), 2, 1, keepalive=jm)
    a, b, o = arrays()
    with pytest.raises(TypeError):
        call([a, b])
    call([a, b, o])
    assert np.array_equal(o, a + b)


def test_make_caller_validates():
    with pytest.raises(ValueError):
        callpath.make_caller(0, 1, 1)
    with pytest.raises(ValueError):
        callpath.make_caller(1234, -1, 1)
