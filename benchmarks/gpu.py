"""Benchmarks W1-W6 on an NVIDIA GPU: the gpu target against per-op CuPy dispatch (one CuPy call
per op: the GPU's "interpreted" baseline) and jax.jit where installed, side by side in one run,
with the device-to-device copy bandwidth measured in the same run as the roof.

    python benchmarks/gpu.py [W1 W3 ...] [--quick]

Arrays stay on the device for every contender (CuPy in, CuPy out); times are per call, medians
of repeated calls, the device synchronized around each batch."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

import workloads  # noqa: E402

import xla_magic as xm  # noqa: E402


def median_time(fn, sync, budget: float = 0.5, min_reps: int = 5) -> float:
    fn()
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    one = time.perf_counter() - t0
    inner = max(1, int(1e-3 / max(one, 1e-9)))
    samples = []
    deadline = time.perf_counter() + budget
    while len(samples) < min_reps or time.perf_counter() < deadline:
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        samples.append((time.perf_counter() - t0) / inner)
        if len(samples) > 2000:
            break
    return statistics.median(samples)


def fmt(t: float | None) -> str:
    if t is None:
        return "—"
    return f"{t * 1e6:.1f} µs" if t < 1e-3 else f"{t * 1e3:.2f} ms"


def copy_bandwidth(cp, budget: float) -> float:
    src = cp.ones(64 * 1024 * 1024 // 4, cp.float32)
    dst = cp.empty_like(src)
    t = median_time(lambda: cp.copyto(dst, src), cp.cuda.Device().synchronize, budget)
    return 2 * src.nbytes / t


def _takes_xp(fn) -> bool:
    import inspect

    return "xp" in inspect.signature(fn).parameters


class _module_as:
    """The workload references call `np.` functions: for the duration of a call (or a trace), that
    name is another array module, so the same code runs op by op on CuPy or is traced by jax."""

    def __init__(self, xp):
        self.xp = xp

    def __enter__(self):
        self.saved, workloads.np = workloads.np, self.xp

    def __exit__(self, *exc):
        workloads.np = self.saved
        return False


def _with_module(w, xp):
    if _takes_xp(w.numpy):
        return lambda *a: w.numpy(*a, xp=xp)

    def f(*a):
        with _module_as(xp):
            return w.numpy(*a)
    return f


def jax_contender(w):
    """jax.jit of the workload's reference traced with jax.numpy, when jax has a GPU here."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    if not any(d.platform == "gpu" for d in jax.devices()):
        return None
    return jax.jit(_with_module(w, jnp))


def per_op(w, cp):
    """The reference on CuPy: every numpy call of it becomes one CuPy call (one kernel or more)."""
    return _with_module(w, cp)


def _first(v):
    return v[0] if isinstance(v, tuple) else v


def bench_one(w, cp, rng, bw: float, budget: float) -> dict:
    sync = cp.cuda.Device().synchronize
    host = w.inputs(rng)
    dev = [cp.asarray(a) for a in host]
    exe = xm.compile(w.hlo, target="gpu")
    got = _first(exe(*dev))
    ref = _first(w.numpy(*host))
    err = float(np.max(np.abs(cp.asnumpy(got).astype(np.float64) - np.asarray(ref, np.float64))))
    t_ours = median_time(lambda: exe(*dev), sync, budget)
    t_host = median_time(lambda: exe(*host), sync, budget)  # numpy in and out: copies included
    f_cupy = per_op(w, cp)
    t_perop = median_time(lambda: f_cupy(*dev), sync, budget)
    jf = jax_contender(w)
    t_jax = None
    if jf is not None:
        import jax

        jd = [jax.device_put(a) for a in host]
        t_jax = median_time(lambda: jax.block_until_ready(jf(*jd)), lambda: None, budget)
    moved = sum(a.nbytes for a in host) + got.nbytes
    row = {"name": w.name, "what": w.what, "ours": t_ours, "ours_numpy_io": t_host, "per_op_cupy": t_perop,
           "jax": t_jax, "speedup": t_perop / t_ours, "bandwidth": moved / t_ours, "roof": bw, "max_err": err,
           "kernels": exe.program.kernel_count()}
    print(f"{w.name}: {w.what}\n  xla_magic gpu {fmt(t_ours)} (numpy in/out {fmt(t_host)}), per-op CuPy "
          f"{fmt(t_perop)} -> {row['speedup']:.1f}x, jax.jit {fmt(t_jax)}; {moved / t_ours / 1e9:.0f} GB/s "
          f"({100 * moved / t_ours / bw:.0f}% of copy); max error {err:.2g}; {row['kernels']} kernels")
    return row


def run(names: list[str], quick: bool) -> list[dict]:
    import cupy as cp

    budget = 0.2 if quick else 0.5
    rng = np.random.default_rng(0)
    bw = copy_bandwidth(cp, budget)
    props = cp.cuda.runtime.getDeviceProperties(0)
    card = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    print(f"device: {card}; device-to-device copy: {bw / 1e9:.0f} GB/s")
    rows = []
    for make in workloads.ALL:
        w = make()
        if w.name in names:
            rows.append(bench_one(w, cp, rng, bw, budget))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="*", default=["W1", "W2", "W3", "W4", "W5", "W6"])
    ap.add_argument("--quick", action="store_true")
    ns = ap.parse_args(argv)
    from xla_magic.backends import gpu

    ok, why = gpu.available()
    if not ok:
        print(f"no GPU here: {why}")
        return 0
    run(ns.names, ns.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
