"""How long does a call from Python into generated code take? (medians, microseconds per call)

    python benchmarks/callpath.py [--repeat 15] [--number 20000]

The kernel is `out = a + b` on f32[1,64] (three arrays), JIT-compiled with llvmlite; each row
is one way of getting the three data pointers to it. cffi rows appear when cffi is installed.
"""
from __future__ import annotations

import argparse
import ctypes
import pathlib
import platform
import statistics
import sys
import timeit
from collections.abc import Callable

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from xla_magic.backends.cpu import callpath  # noqa: E402
from xla_magic.backends.cpu.jit import compile_ir, host  # noqa: E402

KERNEL = r"""
define void @add(ptr noalias %a, ptr noalias %b, ptr noalias %o) {
entry:
  br label %loop
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
  %c = icmp ult i64 %i1, 64
  br i1 %c, label %loop, label %exit
exit:
  ret void
}

define void @nop() {
  ret void
}
"""


def median_us(fn: Callable[[], object], number: int, repeat: int) -> float:
    return statistics.median(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--number", type=int, default=20000)
    opts = ap.parse_args()

    jm = compile_ir(KERNEL, ["add", "nop"])
    addr = jm.address("add")
    a = np.arange(64, dtype=np.float32).reshape(1, 64)
    b = np.ones((1, 64), np.float32)
    o = np.empty((1, 64), np.float32)
    args = [a, b, o]

    vp = ctypes.c_void_p
    nop = ctypes.CFUNCTYPE(None)(jm.address("nop"))
    raw = ctypes.CFUNCTYPE(None, vp, vp, vp)(addr)
    nd = np.ctypeslib.ndpointer(np.float32, flags="C_CONTIGUOUS")
    typed = ctypes.CFUNCTYPE(None, nd, nd, nd)(addr)
    pa, pb, po = (x.ctypes.data for x in args)
    fast = callpath.make_caller(addr, 2, 1, keepalive=jm)
    portable = callpath.make_ctypes_caller(addr, 2, 1, keepalive=jm)

    rows: list[tuple[str, Callable[[], object]]] = [
        ("(timing overhead: an empty lambda, included in every row)", lambda: None),
        ("ctypes, no arguments (the bare foreign call)", lambda: nop()),
        ("ctypes, 3 pointers computed beforehand", lambda: raw(pa, pb, po)),
        ("ctypes, arr.ctypes.data per array", lambda: raw(a.ctypes.data, b.ctypes.data, o.ctypes.data)),
        ("ctypes, arr.__array_interface__['data'][0]",
         lambda: raw(a.__array_interface__["data"][0], b.__array_interface__["data"][0],
                     o.__array_interface__["data"][0])),
        ("ctypes, arr.ctypes._as_parameter_", lambda: raw(a.ctypes._as_parameter_, b.ctypes._as_parameter_,
                                                           o.ctypes._as_parameter_)),
        ("ctypes, argtypes=ndpointer, arrays passed", lambda: typed(a, b, o)),
        ("callpath.make_ctypes_caller (portable fallback)", lambda: portable(args)),
    ]
    try:
        import cffi

        ffi = cffi.FFI()
        cf = ffi.cast("void(*)(void*, void*, void*)", addr)
        fb = ffi.from_buffer
        rows.append(("cffi, ffi.from_buffer per array", lambda: cf(fb(a), fb(b), fb(o))))
        rows.append(("cffi, 3 pointers computed beforehand",
                     lambda: cf(ffi.cast("void*", pa), ffi.cast("void*", pb), ffi.cast("void*", po))))
    except ImportError:
        rows.append(("cffi (not installed)", None))
    rows += [
        ("callpath.make_caller (C-API wrapper), list of 3", lambda: fast(args)),
        ("  ... plus np.empty for the output", lambda: fast([a, b, np.empty((1, 64), np.float32)])),
        ("np.empty((1, 64), f32) alone", lambda: np.empty((1, 64), np.float32)),
        ("numpy reference: np.add(a, b, out=o)", lambda: np.add(a, b, out=o)),
    ]

    fast(args)
    assert np.array_equal(o, a + b)
    t = host()
    print(f"# {platform.processor() or platform.machine()} ({t.cpu}, {t.vector_bits}-bit vectors), "
          f"Python {platform.python_version()}, numpy {np.__version__}")
    print(f"# fast path: {callpath.fast_path_available()[1]}")
    print(f"# median of {opts.repeat} x {opts.number} calls, microseconds per call")
    for label, fn in rows:
        if fn is None:
            print(f"{'-':>8}  {label}")
            continue
        print(f"{median_us(fn, opts.number, opts.repeat):8.3f}  {label}")


if __name__ == "__main__":
    main()
