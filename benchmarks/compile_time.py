"""Compile time on the cpu target: cold, warm process, cached and after a one-op edit, per workload
and model, with where the time went, beside XLA:CPU's compile where jax is importable.

    python benchmarks/compile_time.py [--repeats N] [--no-models] [FILE.hlo ...]

Columns (medians of N compiles, the disk cache off, `cache=False` so the executable is never reused):
  cold         nothing compiled before: kernel and math objects forgotten first
  warm         a warm process: math functions compiled, kernel objects forgotten first
  cached       the same module again: every unit object from memory (passes, IR, link only)
  edit         one instruction changed (a constant: a new value each time) after compiling the
               original: only the changed kernels are compiled
  one module   the program as one LLVM module at -O3, as the cpu target compiled it before units
               (and as ahead-of-time builds still do): parse, passes, IR, LLVM
  XLA          XLA:CPU compiling the same HLO (jax.jit's backend; a fresh compile each time)
The split of the warm compile (passes, ir, cache, optimize, codegen, link) follows in ms."""
from __future__ import annotations

import argparse
import os
import pathlib
import re
import statistics
import sys
import time
from collections.abc import Callable

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
os.environ["XLA_MAGIC_CACHE_DIR"] = "off"

import workloads as W  # noqa: E402
from models import weights_as_parameters  # noqa: E402

import xla_magic as xm  # noqa: E402
from xla_magic.backends.cpu import objects  # noqa: E402

# XLA's models, in the shared folder beside the checkout (the nearest one up the tree).
MODELS = next((p / "shared" / "models" for p in HERE.parents if (p / "shared" / "models").is_dir()), HERE)
def _edit_constant(pattern: str, value: Callable[[float, int], float]) -> Callable[[str, int], str]:
    """The text with the first scalar constant matching `pattern` given value(old, k)."""
    rx = re.compile(pattern)

    def edit(text: str, k: int) -> str:
        m = rx.search(text)
        assert m, pattern
        return text[:m.start(1)] + repr(value(float(m.group(1)), k)) + text[m.end(1):]
    return edit


# One instruction each: W1's first scaling constant, graphsage's l2-normalize epsilon (powers of
# two apart, so bf16 keeps them distinct). Workloads without an entry are not edited.
EDITS: dict[str, Callable[[str, int], str]] = {
    "W1": _edit_constant(r"c0 = f32\[\] constant\(([\d.e+-]+)\)", lambda v, k: v + (k + 1) / 1024),
    "graphsage_tf": _edit_constant(r"%Maximum\.3 = bf16\[\] constant\(([\d.e+-]+)\)", lambda v, k: v * 2.0 ** (k + 1)),
}


def _compile(text: str) -> xm.Executable:
    return xm.compile(text, target="cpu", cache=False)


def _median(fn: Callable[[], object], before: Callable[[], object], n: int) -> float:
    times = []
    for _ in range(n):
        before()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def one_module(text: str) -> None:
    """The whole program as one LLVM module, optimized at -O3 and compiled by MCJIT."""
    from xla_magic.backends import registry
    from xla_magic.backends.cpu import _prepare
    from xla_magic.backends.cpu.codegen import generate
    from xla_magic.backends.cpu.jit import compile_ir
    from xla_magic.backends.cpu.variants import with_vector_variants
    from xla_magic.passes.stage import lower

    prep = _prepare(lower(xm.parse_hlo(text), "cpu", registry.get("cpu").preset, True))
    program = generate(prep.module, prep.buffers)
    compile_ir(with_vector_variants(program.llvm_module), [program.entry])


def xla_compile_time(text: str, n: int) -> float | None:
    try:
        import jax
        from jax._src.lib import xla_client as xc
    except ImportError:
        return None
    dev = jax.devices("cpu")[0]

    def compile_() -> object:
        module = xc.hlo.hlo_module_from_text(text)
        mlir = xc._xla.mlir.hlo_to_stablehlo(module.as_serialized_hlo_module_proto())
        return dev.client.compile_and_load(mlir, xc.DeviceList((dev,)), xc.CompileOptions())
    try:
        compile_()
    except Exception as e:  # noqa: BLE001 - a module XLA cannot take: say so, keep measuring ours
        print(f"  (XLA:CPU refused it: {str(e).splitlines()[0][:80]})")
        return None
    return _median(compile_, lambda: None, n)


def ms(s: float | None) -> str:
    return "-" if s is None else f"{s * 1e3:.1f}"


def bench(name: str, text: str, n: int) -> None:
    _compile(text)  # imports and one-time setup out of the way
    cold = _median(lambda: _compile(text), lambda: objects.clear(math=True), n)
    warm = _median(lambda: _compile(text), objects.clear, n)
    cached = _median(lambda: _compile(text), lambda: None, n)
    edit_t = None
    if name in EDITS:
        k = iter(range(10 ** 6))
        edited: list[str] = []
        edit_t = _median(lambda: _compile(edited[-1]), lambda: edited.append(EDITS[name](text, next(k))), n)
    objects.clear()
    phases = _compile(text).report.compile_phases
    before = _median(lambda: one_module(text), lambda: None, n)
    xla = xla_compile_time(text, n)
    ratio = f"{warm / xla:.2f}" if xla else "-"
    print(f"{name:<14}{ms(cold):>9}{ms(warm):>9}{ms(cached):>9}{ms(edit_t):>9}{ms(before):>11}{ms(xla):>9}{ratio:>9}   "
          + " ".join(f"{k} {v * 1e3:.1f}" for k, v in phases.items()), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("files", nargs="*")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--no-models", action="store_true")
    p.add_argument("--only", help="comma-separated workload names (W1,...,graphsage_tf)")
    ns = p.parse_args()
    cases = [(w.name, w.hlo) for w in (f() for f in (W.w1, W.w2, W.w3, W.w4, W.w5, W.w6))]
    files = ns.files or ([] if ns.no_models else sorted(str(f) for f in MODELS.glob("*.hlo")))
    cases += [(pathlib.Path(f).stem, weights_as_parameters(pathlib.Path(f).read_text())[0]) for f in files]
    if ns.only:
        keep = set(ns.only.split(","))
        cases = [c for c in cases if c[0] in keep]
    print(f"{'ms':<14}{'cold':>9}{'warm':>9}{'cached':>9}{'edit':>9}{'one module':>11}{'XLA':>9}{'warm/XLA':>9}"
          "   warm split (ms)")
    for name, text in cases:
        bench(name, text, ns.repeats)


if __name__ == "__main__":
    main()
