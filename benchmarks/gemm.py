"""GEMM speed of the CPU backend's dot kernels next to numpy's matmul (medians, GFLOP/s).

    python benchmarks/gemm.py [--repeat 30] [--sizes 256x1024x1024,64x64x64] [--threads N]

Rows: `numpy` (np.matmul into a preallocated output, numpy's own BLAS with its default thread
count), `numpy 1 thread` (the same BLAS limited to one thread, when the thread count can be
set), then `library.define_dot`: `auto` (the strategy it picks by default, named), `blas` (the
same BLAS called from generated code), `packed` (generated packing + explicit-vector
micro-kernel, one thread), `loops` (generated register-blocked vector loops, one thread).

W5 is tanh(x @ W + b) with x f32[256,1024] and W f32[1024,1024]: its dot is the 256x1024x1024
row; `W5 numpy` times numpy's whole expression and `W5 xla_magic` the whole module compiled by
`xm.compile(target="cpu")` (when that backend compiles it).
"""
from __future__ import annotations

import argparse
import ctypes
import os
import pathlib
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from llvmlite import ir

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import xla_magic as xm  # noqa: E402
from xla_magic.backends.cpu import library  # noqa: E402
from xla_magic.backends.cpu.callpath import make_caller  # noqa: E402
from xla_magic.backends.cpu.jit import compile_ir, host  # noqa: E402

DEFAULT_SIZES = "256x1024x1024,64x64x64,128x128x128,32x32x32,512x512x512,1024x1024x1024,1x1024x1024,100x300x200"


@dataclass
class _Row:
    label: str
    fn: Callable[[], object]
    before: Callable[[], object] | None = None  # untimed, around each timed batch
    after: Callable[[], object] | None = None


def _measure(rows: list[_Row], repeat: int, budget_s: float = 6.0) -> list[float]:
    """Median seconds per call of each row. Rounds interleave the rows (each round times every
    row once), so load from other processes on a shared machine hits all rows alike."""
    numbers, per_round = [], 0.0
    for r in rows:
        r.before and r.before()
        r.fn()  # warm up (first touch, BLAS threads)
        t0 = time.perf_counter()
        r.fn()
        once = time.perf_counter() - t0
        r.after and r.after()
        number = max(1, min(1000, int(0.02 / max(once, 1e-9))))  # batches of about 20 ms
        numbers.append(number)
        per_round += number * once
    rounds = max(5, min(repeat, int(budget_s / max(per_round, 1e-9))))
    times: list[list[float]] = [[] for _ in rows]
    for _ in range(rounds):
        for i, (r, number) in enumerate(zip(rows, numbers)):
            r.before and r.before()
            t0 = time.perf_counter()
            for _ in range(number):
                r.fn()
            times[i].append((time.perf_counter() - t0) / number)
            r.after and r.after()
    return [statistics.median(t) for t in times]


def _dot_module(m: int, k: int, n: int, dt: str) -> str:
    return (f"HloModule gemm\nENTRY e {{\n  x = {dt}[{m},{k}] parameter(0)\n  w = {dt}[{k},{n}] parameter(1)\n"
            f"  ROOT d = {dt}[{m},{n}] dot(x, w), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}\n}}\n")


def _kernel(text: str, strategy: str):
    instr = xm.parse_hlo(text).entry.root
    mod = ir.Module("gemm")
    library.define_dot(mod, instr, "dot", strategy=None if strategy == "auto" else strategy)
    jm = compile_ir(mod, ["dot"])
    return make_caller(jm.address("dot"), 2, 1, keepalive=jm)


def _set_blas_threads(n: int | None) -> bool:
    blas = library.find_blas()
    if blas is None or blas.set_num_threads is None:
        return False
    ctypes.CFUNCTYPE(None, ctypes.c_int)(blas.set_num_threads)(n)
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--sizes", default=DEFAULT_SIZES, help="MxKxN,... (x f32[M,K] @ W f32[K,N])")
    ap.add_argument("--dtype", default="f32", choices=["f32", "f64", "s32"])
    ap.add_argument("--strategies", default="auto,blas,packed,loops", help="auto: what define_dot picks")
    ap.add_argument("--threads", type=int, default=None, help="BLAS threads for the default rows")
    args = ap.parse_args()

    blas = library.find_blas()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, LLVM cpu {host().cpu}, "
          f"{host().vector_bits}-bit vectors, numpy {np.__version__}")
    print(f"# BLAS: {blas.path if blas else 'not found'}"
          + (" (ILP64)" if blas and blas.int_bits == 64 else ""))
    print(f"# load average {os.getloadavg()[0]:.2f} (other work on the machine skews the rows alike: they"
          " interleave)")
    if args.threads is not None:
        _set_blas_threads(args.threads)
    strategies = [s for s in args.strategies.split(",") if s]
    print(f"{'M x K x N':>18} {'path':>16} {'time':>11} {'GFLOP/s':>8} {'vs numpy':>9}")
    for size in args.sizes.split(","):
        m, k, n = (int(v) for v in size.split("x"))
        rows = _bench_size(m, k, n, args.dtype, strategies, args.repeat, args.threads)
        t_np = rows[0][1]
        for label, t in rows:
            print(f"{size:>18} {label:>16} {t * 1e6:9.1f}us {2.0 * m * n * k / t / 1e9:8.1f} {t / t_np:8.2f}x")
        print()


W5 = """HloModule w5
ENTRY e {
  x = f32[256,1024] parameter(0)
  w = f32[1024,1024] parameter(1)
  b = f32[1024] parameter(2)
  d = f32[256,1024] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  bb = f32[256,1024] broadcast(b), dimensions={1}
  s = f32[256,1024] add(d, bb)
  ROOT t = f32[256,1024] tanh(s)
}
"""


def _bench_size(m: int, k: int, n: int, dtype: str, strategies: list[str], repeat: int,
                threads: int | None) -> list[tuple[str, float]]:
    """[(label, median seconds)], numpy's matmul first."""
    npd = xm.hlo.dtypes.dtype(dtype).np
    rng = np.random.default_rng(0)
    if dtype == "s32":
        x, w = rng.integers(-9, 9, (m, k), dtype=npd), rng.integers(-9, 9, (k, n), dtype=npd)
    else:
        x, w = rng.standard_normal((m, k)).astype(npd), rng.standard_normal((k, n)).astype(npd)
    out = np.empty((m, n), npd)
    rows = [_Row("numpy", lambda: np.matmul(x, w, out=out))]
    if dtype != "s32" and _set_blas_threads(1):
        _set_blas_threads(threads or os.cpu_count() or 1)
        rows.append(_Row("numpy 1 thread", lambda: np.matmul(x, w, out=out), lambda: _set_blas_threads(1),
                         lambda: _set_blas_threads(threads or os.cpu_count() or 1)))
    text = _dot_module(m, k, n, dtype)
    ref = x.astype(np.float64) @ w.astype(np.float64)
    blas = library.find_blas()
    for s in strategies:
        if s == "blas" and (blas is None or dtype == "s32"):
            continue
        if s == "loops" and m * n * k > 512 ** 3:
            continue  # tens of milliseconds of single-threaded loops say nothing new
        call = _kernel(text, s)
        call([x, w, out])
        err = np.abs(out - ref).max() / max(1.0, np.abs(ref).max())
        assert err < 1e-4, f"{s} {m}x{k}x{n}: wrong result (relative error {err})"
        label = f"auto: {library.dot_strategy(xm.parse_hlo(text).entry.root)}" if s == "auto" else s
        rows.append(_Row(label, lambda call=call: call([x, w, out])))
    if (m, k, n) == (256, 1024, 1024) and dtype == "f32":
        bias = rng.standard_normal(n).astype(npd)
        rows.append(_Row("W5 numpy", lambda: np.tanh(np.add(np.matmul(x, w, out=out), bias, out=out), out=out)))
        try:  # the whole W5 module through the cpu backend, where it compiles
            exe = xm.compile(W5, target="cpu")
            got = exe(x, w, bias)
            assert np.allclose(got, np.tanh(ref + bias), atol=1e-4), "W5: wrong result"
            rows.append(_Row("W5 xla_magic", lambda: exe(x, w, bias)))
        except Exception as e:  # the backend is still being written: say why the row is missing
            print(f"# W5 through xm.compile(target='cpu') skipped: {type(e).__name__}: {str(e)[:100]}")
    return [(r.label, t) for r, t in zip(rows, _measure(rows, repeat))]


if __name__ == "__main__":
    main()
