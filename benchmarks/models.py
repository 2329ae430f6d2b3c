"""XLA's own CPU benchmark models (HLO text with elided weights), compiled and run here and, where
jax is importable, by XLA:CPU on the same inputs, side by side in one run.

    python benchmarks/models.py [FILE.hlo ...] [--calls N] [--compiles N]

Without files it takes the models in ../shared/models. Each elided `constant({...})` of the entry
becomes a parameter fed the same random values on both sides (so neither compiler folds weights it
would not have seen), the other parameters get small non-negative integers or values in [-1, 1).
Prints medians of the compile times (cold: a fresh compile, caches off) and of the calls."""
from __future__ import annotations

import argparse
import os
import pathlib
import re
import statistics
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
os.environ.setdefault("XLA_MAGIC_CACHE_DIR", "off")  # compile times are cold: nothing from disk

from run import fmt, median_time  # noqa: E402

import xla_magic as xm  # noqa: E402
from xla_magic.hlo.dtypes import dtype  # noqa: E402
from xla_magic.hlo.shape import Shape  # noqa: E402

_ELIDED = re.compile(r"^(\s*(?:ROOT\s+)?%?[\w.\-]+\s*=\s*)(\S+?)(\{[\d,]*\})?\s+constant\(\{\.\.\.\}\)", re.M)


def _without_entry_layout(header: str) -> str:
    """The header without `entry_computation_layout={...}` (balanced braces)."""
    at = header.find(", entry_computation_layout={")
    if at < 0:
        return header
    i, depth = header.index("{", at), 0
    for j in range(i, len(header)):
        depth += {"{": 1, "}": -1}.get(header[j], 0)
        if depth == 0:
            return header[:at] + header[j + 1:]
    return header


def weights_as_parameters(text: str) -> tuple[str, list[Shape]]:
    """The module with each elided constant of the entry turned into a trailing parameter (and the
    header's entry layout dropped: the signature changed), and the new parameters' shapes."""
    entry_at = text.index("\nENTRY")
    end = text.find("\n}", entry_at)
    head, entry, tail = text[:entry_at], text[entry_at:end], text[end:]
    n_params = len(re.findall(r"\bparameter\(\d+\)", entry))
    shapes: list[Shape] = []

    def to_param(m: re.Match[str]) -> str:
        shape_text = m.group(2)
        dt, _, dims = shape_text.partition("[")
        shapes.append(Shape.array(dtype(dt), tuple(int(d) for d in dims.rstrip("]").split(",") if d)))
        return f"{m.group(1)}{shape_text}{m.group(3) or ''} parameter({n_params + len(shapes) - 1})"

    entry = _ELIDED.sub(to_param, entry)
    return _without_entry_layout(head) + entry + tail, shapes


def inputs_for(shapes: list[Shape], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        dt = s.element_type
        if dt.kind in ("s", "u"):
            a = rng.integers(0, 8, s.dims)
        elif dt.kind == "pred":
            a = rng.random(s.dims) < 0.5
        else:
            a = rng.uniform(-1, 1, s.dims) * 0.1
        out.append(np.asarray(a).astype(dt.np_dtype))
    return out


def xla_runner(text: str):
    """(compile, run) through XLA:CPU, or None without jax."""
    try:
        import jax
        from jax._src.lib import xla_client as xc
    except ImportError:
        return None
    dev = jax.devices("cpu")[0]

    def compile_():
        module = xc.hlo.hlo_module_from_text(text)
        mlir = xc._xla.mlir.hlo_to_stablehlo(module.as_serialized_hlo_module_proto())
        return dev.client.compile_and_load(mlir, xc.DeviceList((dev,)), xc.CompileOptions())

    def runner(exe, args):
        bufs = [jax.device_put(a, dev) for a in args]

        def call():
            res = exe.execute_sharded(bufs)
            outs = res.disassemble_into_single_device_arrays()
            for o in outs:
                o[0].block_until_ready()
            return outs
        return call
    return compile_, runner


def timed(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_model(path: str, calls: float, compiles: int) -> None:
    name = pathlib.Path(path).stem
    text, weights = weights_as_parameters(pathlib.Path(path).read_text())
    module = xm.parse(text)
    args = inputs_for([prm.shape for prm in module.entry.parameters], 0)
    t_ours = timed(lambda: (xm.clear_cache(), xm.compile(text, target="cpu", cache=False)), compiles)  # cold
    exe = xm.compile(text, target="cpu", cache=False)
    ours = exe(*args)
    call, spread = median_time(lambda: exe(*args), calls)
    print(f"{name:<22}{'xla_magic':<12}{fmt(t_ours):>10}{fmt(call):>12}{spread:>8.2f}")
    xla = xla_runner(text)
    if xla is None:
        print(f"{name:<22}{'XLA:CPU':<12}{'(jax not importable)':>30}")
        return
    compile_, runner = xla
    t_xla = timed(compile_, compiles)
    run = runner(compile_(), args)
    theirs = [np.asarray(o[0]) for o in run()]
    call_x, spread_x = median_time(run, calls)
    print(f"{name:<22}{'XLA:CPU':<12}{fmt(t_xla):>10}{fmt(call_x):>12}{spread_x:>8.2f}")
    mine = list(ours) if isinstance(ours, tuple) else [ours]
    worst = max(float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))
                for a, b in zip(mine, theirs))
    print(f"{name:<22}{'ratio':<12}{t_ours / t_xla:>10.2f}{call / call_x:>12.2f}"
          f"   largest difference {worst:.2e} ({len(weights)} weights as parameters)")


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("files", nargs="*")
    p.add_argument("--calls", type=float, default=2.0, help="seconds of calls per side")
    p.add_argument("--compiles", type=int, default=3, help="cold compiles per side")
    ns = p.parse_args()
    models = next((p / "shared" / "models" for p in HERE.parents if (p / "shared" / "models").is_dir()), HERE)
    files = ns.files or sorted(str(f) for f in models.glob("*.hlo"))
    print(f"{'model':<22}{'side':<12}{'compile':>10}{'per call':>12}{'spread':>8}")
    for path in files:
        bench_model(path, ns.calls, ns.compiles)


if __name__ == "__main__":
    main()
