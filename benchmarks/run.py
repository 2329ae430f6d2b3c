"""Benchmarks W1-W6: the interpreter (per-op dispatch), the cpu target (fresh outputs and out=),
numpy op by op, and jax.jit / numba where installed, side by side in one run, with the
memory-copy bandwidth and sgemm roofs measured in the same run. Prints medians and ratios.

    python benchmarks/run.py [W1 W3 ...] [--quick]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

import workloads  # noqa: E402

import xla_magic as xm  # noqa: E402


def median_time(fn, budget: float = 0.5, min_reps: int = 5, max_reps: int = 2000) -> tuple[float, float]:
    """(median seconds per call, relative spread p90/p10) over repeated calls; small calls are batched."""
    fn()
    t0 = time.perf_counter()
    fn()
    one = time.perf_counter() - t0
    inner = max(1, int(2e-4 / max(one, 1e-9)))  # batch calls shorter than 0.2 ms
    samples = []
    deadline = time.perf_counter() + budget
    while len(samples) < min_reps or (time.perf_counter() < deadline and len(samples) < max_reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    samples.sort()
    p10, p90 = samples[len(samples) // 10], samples[(len(samples) * 9) // 10]
    return statistics.median(samples), (p90 / p10 if p10 else float("nan"))


def fmt(t: float | None) -> str:
    if t is None:
        return "—"
    if t < 1e-3:
        return f"{t * 1e6:.2f} µs"
    if t < 1:
        return f"{t * 1e3:.2f} ms"
    return f"{t:.2f} s"


def roofs(budget: float) -> dict[str, float]:
    n = 16 * 1024 * 1024
    src = np.ones(n, np.float32)
    dst = np.empty_like(src)
    t, _ = median_time(lambda: np.copyto(dst, src), budget)
    bw = 2 * src.nbytes / t  # bytes read + written per second
    a = np.ones((1024, 1024), np.float32)
    b = np.ones((1024, 1024), np.float32)
    c = np.empty((1024, 1024), np.float32)
    tg, _ = median_time(lambda: np.matmul(a, b, out=c), budget)
    return {"copy_bw": bw, "sgemm_flops": 2 * 1024**3 / tg}


def try_jax():
    try:
        import jax

        jax.config.update("jax_platforms", "cpu")
        return jax
    except Exception:  # noqa: BLE001
        return None


def run(names: list[str], budget: float) -> None:
    rng = np.random.default_rng(0)
    jax = try_jax()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; numpy {np.__version__}; "
          f"jax {'not installed' if jax is None else jax.__version__}")
    r = roofs(budget)
    # Compile times below are warm: LLVM's one-time start-up (~0.2 s per process) is paid here.
    t0 = time.perf_counter()
    xm.compile(workloads.WARMUP, target="cpu", cache=False)
    print(f"first compile in this process (LLVM start-up): {fmt(time.perf_counter() - t0)}")
    print(f"roofs: copy {r['copy_bw'] / 1e9:.2f} GB/s (read+write), sgemm {r['sgemm_flops'] / 1e9:.1f} GFLOP/s")
    for make in workloads.ALL:
        w = make()
        if not names or w.name in names:
            bench_one(w, w.inputs(rng), jax, r, budget)


def bench_one(w, args, jax, r, budget) -> None:
    t0 = time.perf_counter()
    exe = xm.compile(w.hlo, target="cpu", cache=False)
    compile_s = time.perf_counter() - t0
    cached_s = _cached(w.hlo)
    interp = xm.compile(w.hlo, target="interpreter", optimize=False)
    want = interp(*args)
    got = exe(*args)
    for g_, w_ in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        np.testing.assert_allclose(g_, w_, rtol=2e-4, atol=2e-5)
    outs = got if isinstance(got, tuple) else (got,)
    out_bufs = tuple(np.empty_like(o) for o in outs)
    out_arg = out_bufs if isinstance(got, tuple) else out_bufs[0]
    t_interp = median_time(lambda: interp(*args), budget)[0]
    t_cpu, spread = median_time(lambda: exe(*args), budget)
    t_out = median_time(lambda: exe(*args, out=out_arg), budget)[0]
    t_np = median_time(lambda: w.numpy(*args), budget)[0]
    t_jax = None
    if jax is not None:
        import functools

        import jax.numpy as jnp

        jf = jax.jit(functools.partial(w.numpy, xp=jnp))
        jargs = [jax.device_put(a) for a in args]
        jax.block_until_ready(jf(*jargs))
        t_jax = median_time(lambda: jax.block_until_ready(jf(*jargs)), budget)[0]
    b = exe.report.buffers
    print(f"{w.name}: {w.what}")
    print(f"   interpreter {fmt(t_interp)}  cpu {fmt(t_cpu)} (spread {spread:.2f})  cpu out= {fmt(t_out)}  "
          f"numpy {fmt(t_np)}  jax.jit {fmt(t_jax)}")
    print(f"   interpreter/cpu {t_interp / t_cpu:.1f}x  numpy/cpu {t_np / t_cpu:.2f}x"
          + (f"  jax/cpu {t_jax / t_cpu:.2f}x" if t_jax else "")
          + f"  compile {fmt(compile_s)} (cached {fmt(cached_s)})  kernels "
          f"{len(exe.report.fusion_plan.kernels) if exe.report.fusion_plan else '?'}  temporaries "
          f"{b.arena_bytes} B (one op at a time: {b.interpreter_peak_bytes} B)")
    if w.name in ("W2", "W3", "W4"):
        nbytes = sum(a.nbytes for a in args) + sum(o.nbytes for o in outs)
        floor = nbytes / r["copy_bw"]
        print(f"   bandwidth floor {fmt(floor)}: out= at {t_out / floor:.2f}x, fresh at {t_cpu / floor:.2f}x")
    if w.name == "W5":
        flops = 2 * 256 * 1024 * 1024
        print(f"   {flops / t_cpu / 1e9:.1f} GFLOP/s "
              f"({flops / t_cpu / r['sgemm_flops'] * 100:.0f}% of numpy sgemm)")


def _cached(text: str) -> float:
    xm.compile(text, target="cpu")
    t0 = time.perf_counter()
    for _ in range(10):
        xm.compile(text, target="cpu")
    return (time.perf_counter() - t0) / 10


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="*")
    ap.add_argument("--quick", action="store_true", help="shorter timing budgets")
    a = ap.parse_args()
    run(a.names, 0.3 if a.quick else 1.0)
