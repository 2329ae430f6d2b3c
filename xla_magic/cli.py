"""`xla-magic parse|run FILE.hlo ...` (also `python -m xla_magic`)."""
from __future__ import annotations

import argparse
import sys

import numpy as np


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as e:
        raise SystemExit(f"xla-magic: cannot read {path}: {e.strerror}") from None


def _load_inputs(path: str | None, params) -> list[np.ndarray]:
    """Inputs arg0, arg1, ... (the corpus convention). Narrow float types stored as float32 are cast
    to the parameter's type when that loses nothing."""
    if path is None:
        if params:
            raise SystemExit(f"xla-magic: the module takes {len(params)} inputs; give them with --inputs IN.npz")
        return []
    try:
        z = np.load(path)
    except (OSError, ValueError) as e:
        raise SystemExit(f"xla-magic: cannot read inputs {path}: {e}") from None
    args = []
    for i, p in enumerate(params):
        key = f"arg{i}"
        if key not in z:
            raise SystemExit(f"xla-magic: {path} has no '{key}' for parameter {i} "
                             f"('{p.name}': {p.shape.to_text(False)})")
        a = np.asarray(z[key])
        want = p.shape.dtype.np
        if a.dtype != want and a.dtype.kind == "f" and p.shape.dtype.kind == "f":
            cast = a.astype(want)
            if np.array_equal(cast.astype(a.dtype), a, equal_nan=True):
                a = cast
        args.append(a)
    return args


def _storable(a: np.ndarray) -> np.ndarray:
    """bf16 and the f8 types have no .npy type code: they are stored as float32, which holds them
    exactly (the corpus convention)."""
    return a.astype(np.float32) if a.dtype.kind == "V" else a


def cmd_parse(ns) -> int:
    from .hlo.parser import parse_hlo

    module = parse_hlo(_read(ns.file), verify=not ns.no_verify)
    sys.stdout.write(module.to_text())
    return 0


def cmd_run(ns) -> int:
    from . import api

    module = api.parse_hlo(_read(ns.file))
    args = _load_inputs(ns.inputs, module.entry.parameters)
    exe = api.compile(module, target=ns.target, optimize=not ns.no_opt)
    result = exe(*args)
    outs = list(result) if isinstance(result, tuple) else [result]
    if ns.out:
        np.savez(ns.out, **{f"out{i}": _storable(o) for i, o in enumerate(outs)})
        print(f"wrote {len(outs)} output{'s' if len(outs) != 1 else ''} to {ns.out}")
    else:
        with np.printoptions(threshold=64, edgeitems=3, precision=6):
            for i, o in enumerate(outs):
                print(f"out{i}: {o.dtype}{list(o.shape)}\n{o}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="xla-magic", description="An XLA-style compiler for HLO text.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("parse", help="parse and verify FILE.hlo, print the canonical text")
    p.add_argument("file")
    p.add_argument("--no-verify", action="store_true", help="only check the syntax")
    p.set_defaults(fn=cmd_parse)
    r = sub.add_parser("run", help="run FILE.hlo on inputs arg0.. from an .npz")
    r.add_argument("file")
    r.add_argument("--inputs", help="an .npz holding arg0, arg1, ...")
    r.add_argument("--out", help="write the outputs out0, out1, ... to this .npz")
    r.add_argument("--target", default="interpreter", choices=("interpreter", "cpu", "gpu"))
    r.add_argument("--no-opt", action="store_true", help="skip the optimizer")
    r.set_defaults(fn=cmd_run)
    ns = ap.parse_args(argv)
    from .hlo.parser import HloParseError
    from .hlo.verifier import HloVerifyError

    try:
        return ns.fn(ns)
    except (HloParseError, HloVerifyError) as e:
        print(f"{ns.file}: {e}", file=sys.stderr)
        return 1
    except (TypeError, ValueError, RuntimeError) as e:
        print(f"xla-magic: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
