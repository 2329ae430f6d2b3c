"""Runs the corpus through XLA's own StableHLO -> HLO conversion and the project's HLO path.

Needs jax (for the conversion) and the project's dependencies; from the repository root:

    PYTHONPATH=$PWD JAX_PYTHON tests/stablehlo_corpus/check_via_hlo.py [-k REGEX]

Each case's `.mlir` goes through `mlir_module_to_xla_computation` to HLO text, then
`xla_magic.parse_hlo`, `interpret` and `compile(target="cpu")`, compared with the stored outputs by
the corpus rule. A failure here is the interpreter's or the cpu backend's, not a StableHLO
reader's. With `--reader` the project's StableHLO reader (`parse_stablehlo`) reads the `.mlir`
instead (no jax needed): a case failing only then is the reader's. Cases run in a worker process,
so a crash fails one row. Prints a row per failure and a summary; `--json PATH` writes every row.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import re
import sys
import time
from typing import Any

import corpus


def to_hlo_text(mlir: str) -> str:
    from jax._src.lib import xla_client as xc

    return xc._xla.mlir.mlir_module_to_xla_computation(mlir, use_tuple_args=False, return_tuple=False).as_hlo_text(
        print_large_constants=True)


def first_line(e: BaseException) -> str:
    msg = str(e).strip().splitlines()
    return f"{type(e).__name__}: {msg[0][:240] if msg else ''}"


def read(text: str, reader: bool) -> Any:
    if reader:
        from xla_magic.hlo.stablehlo import parse_stablehlo

        return parse_stablehlo(text)
    import xla_magic as xm

    return xm.parse_hlo(to_hlo_text(text))


def run_case(name: str, reader: bool = False) -> dict[str, Any]:
    import xla_magic as xm

    text, args, outs, meta = corpus.load(name)
    row: dict[str, Any] = {"name": name}
    try:
        module = read(text, reader)
    except Exception as e:  # noqa: BLE001 - every failure becomes a row
        row["parse"] = first_line(e)
        return row
    t = time.process_time()
    try:
        row["interpret"] = corpus.compare(xm.interpret(module, *args), outs, meta["family"])
    except Exception as e:  # noqa: BLE001
        row["interpret"] = first_line(e)
    row["interpret_s"] = time.process_time() - t
    t = time.process_time()  # cpu seconds: wall time on a shared machine says little
    try:
        exe = xm.compile(module, target="cpu", cache=False)
        row["compile_s"] = time.process_time() - t
        row["cpu"] = corpus.compare(exe(*args), outs, meta["family"])
    except Exception as e:  # noqa: BLE001
        row["cpu"] = first_line(e)
    return row


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", default="", help="only cases whose name matches this regex")
    ap.add_argument("--json", help="write every row to this file")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    ap.add_argument("--reader", action="store_true", help="read the .mlir with the project's StableHLO reader")
    opts = ap.parse_args(argv)
    names = [n for n in corpus.CASE_NAMES if re.search(opts.k, n)]
    rows: list[dict[str, Any]] = []
    pool = cf.ProcessPoolExecutor(max_workers=1)
    for name in names:
        try:
            row = pool.submit(run_case, name, opts.reader).result(timeout=opts.timeout)
        except Exception as e:  # noqa: BLE001 - a crashed or hung worker fails this case only
            row = {"name": name, "parse": None, "cpu": f"worker died: {first_line(e)}"}
            for p in list(getattr(pool, "_processes", {}).values()):
                p.kill()
            pool.shutdown(wait=False, cancel_futures=True)
            pool = cf.ProcessPoolExecutor(max_workers=1)
        rows.append(row)
        problems = {k: row[k] for k in ("parse", "interpret", "cpu") if row.get(k)}
        if problems:
            print(f"FAIL {name}: " + "; ".join(f"{k}: {v}" for k, v in problems.items()), flush=True)
    pool.shutdown()
    ok = [r for r in rows if not any(r.get(k) for k in ("parse", "interpret", "cpu"))]
    print(f"{len(ok)}/{len(rows)} cases pass {'through the StableHLO reader' if opts.reader else 'on the HLO path'} "
          f"(parse failures {sum(bool(r.get('parse')) for r in rows)}, "
          f"interpret {sum(bool(r.get('interpret')) for r in rows)}, cpu {sum(bool(r.get('cpu')) for r in rows)}); "
          f"interpret {sum(r.get('interpret_s', 0) for r in rows):.1f}s, "
          f"cpu compile {sum(r.get('compile_s', 0) for r in rows):.1f}s (cpu seconds)")
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0 if len(ok) == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
