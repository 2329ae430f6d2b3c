"""Parse + verify time of HLO text and of StableHLO text, at 1,000 and 10,000 instructions.

    .venv/bin/python benchmarks/parse_speed.py [--repeat N]

Both programs are the same chain of elementwise ops, broadcasts and reductions over a few
parameters, written once as HLO text and once as StableHLO (pretty syntax, as jax prints it).
Prints the median time of each (parse and verify together) and the time per instruction."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))

from xla_magic import parse_hlo  # noqa: E402
from xla_magic.hlo.stablehlo import parse_stablehlo  # noqa: E402

_UNARY = ["tanh", "exponential", "negate", "sine"]


def stablehlo_program(n: int) -> str:
    """About `n` ops: a chain over a [16, 64] value, with a reduction and a broadcast every 16 ops."""
    t = "tensor<16x64xf32>"
    lines = ["module @bench attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {",
             f"  func.func public @main(%arg0: {t}, %arg1: {t}) -> ({t} {{jax.result_info = \"result\"}}) {{",
             "    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>"]
    prev = "%arg0"
    k = 0
    while k < n:
        if k % 16 == 15:
            lines.append(f"    %{k} = stablehlo.reduce({prev} init: %cst) applies stablehlo.add across dimensions = [1]"
                         f" : ({t}, tensor<f32>) -> tensor<16xf32>")
            lines.append(f"    %{k + 1} = stablehlo.broadcast_in_dim %{k}, dims = [0] : (tensor<16xf32>) -> {t}")
            prev, k = f"%{k + 1}", k + 2
            continue
        if k % 2:
            lines.append(f"    %{k} = stablehlo.add {prev}, %arg1 : {t}")
        else:
            lines.append(f"    %{k} = stablehlo.{_UNARY[k // 2 % 4]} {prev} : {t}")
        prev, k = f"%{k}", k + 1
    lines += [f"    return {prev} : {t}", "  }", "}"]
    return "\n".join(lines)


def hlo_program(n: int) -> str:
    """The same program as HLO text."""
    s = "f32[16,64]{1,0}"
    lines = ["HloModule bench", "", "add_f32 {", "  lhs = f32[] parameter(0)", "  rhs = f32[] parameter(1)",
             "  ROOT add = f32[] add(lhs, rhs)", "}", "", "ENTRY main {", f"  p0 = {s} parameter(0)",
             f"  p1 = {s} parameter(1)", "  cst = f32[] constant(0)"]
    prev = "p0"
    k = 0
    names = {"exponential": "exponential", "tanh": "tanh", "negate": "negate", "sine": "sine"}
    while k < n:
        if k % 16 == 15:
            lines.append(f"  v{k} = f32[16]{{0}} reduce({prev}, cst), dimensions={{1}}, to_apply=add_f32")
            lines.append(f"  v{k + 1} = {s} broadcast(v{k}), dimensions={{0}}")
            prev, k = f"v{k + 1}", k + 2
            continue
        if k % 2:
            lines.append(f"  v{k} = {s} add({prev}, p1)")
        else:
            lines.append(f"  v{k} = {s} {names[_UNARY[k // 2 % 4]]}({prev})")
        prev, k = f"v{k}", k + 1
    lines.append(f"  ROOT out = {s} copy({prev})")
    lines.append("}")
    return "\n".join(lines)


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"{'format':<10} {'ops':>7} {'median ms':>10} {'us/op':>7}")
    for n in (1000, 10000):
        for fmt, text, parse in (("HLO", hlo_program(n), parse_hlo), ("StableHLO", stablehlo_program(n),
                                                                       parse_stablehlo)):
            sec = median_seconds(lambda text=text, parse=parse: parse(text), args.repeat)
            print(f"{fmt:<10} {n:>7} {sec * 1e3:>10.1f} {sec / n * 1e6:>7.1f}")


if __name__ == "__main__":
    main()
