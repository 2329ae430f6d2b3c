"""How does compile time grow with program length? (seconds, cpu target)

    python benchmarks/long_chains.py [--sizes 100 1000 10000]

Two shapes of program per size n: a chain `y = tanh(y * 0.5 + b)` of n ops (fused into kernels
of the cpu preset's size limit) and a wide graph of n/2 slices of one parameter summed by n/2
adds. Each row splits the compile: parse, passes (the pipeline, buffer assignment, cost),
codegen (LLVM IR built in Python) and LLVM (optimization and machine code); then one call is
checked against numpy. Times should grow about linearly with n."""
from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from xla_magic.backends.cpu import codegen  # noqa: E402
from xla_magic.backends.cpu.jit import compile_ir  # noqa: E402
from xla_magic.backends.cpu.variants import with_vector_variants  # noqa: E402
from xla_magic.hlo.parser import parse_hlo  # noqa: E402
from xla_magic.passes.stage import lower  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
from test_long_programs import chain, chain_numpy, wide, wide_numpy  # noqa: E402


def measure(text: str) -> dict[str, float]:
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    module = parse_hlo(text)
    t["parse"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    lowered = lower(module, "cpu")
    t["passes"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    program = codegen.generate(lowered.module, lowered.buffers)
    t["codegen"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    compile_ir(with_vector_variants(program.llvm_module), [program.entry], name=module.name)
    t["llvm"] = time.perf_counter() - t0
    t["kernels"] = float(len(program.kernels))
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    a = ap.parse_args()
    import xla_magic as xm

    print("| program | ops | kernels | parse s | passes s | codegen s | LLVM s | total s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    x = np.linspace(-1, 1, 16, dtype=np.float32)
    b = np.full(16, 0.25, np.float32)
    for n in a.sizes:
        xw = np.random.default_rng(0).standard_normal(n // 2 + 15).astype(np.float32)
        for name, text, want, args in (("chain", chain(n), chain_numpy(x, b, n), (x, b)),
                                       ("wide", wide(n), wide_numpy(xw, n), (xw,))):
            t = measure(text)
            total = t["parse"] + t["passes"] + t["codegen"] + t["llvm"]
            print(f"| {name} | {n} | {int(t['kernels'])} | {t['parse']:.2f} | {t['passes']:.2f} | "
                  f"{t['codegen']:.2f} | {t['llvm']:.2f} | {total:.2f} |", flush=True)
            got = xm.compile(text, target="cpu")(*args)
            np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)


if __name__ == "__main__":
    main()
