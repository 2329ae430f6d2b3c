"""`xla-magic parse|run|compile|bench|aot FILE.hlo ...`, `xla-magic cache info|clear` (also
`python -m xla_magic`).

Every failure is one line on stderr, `xla-magic: error: ...` naming the file or flag at fault
(a syntax error adds the line of HLO and a caret), and a non-zero exit status."""
from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np


class CliError(Exception):
    """A problem with what the command line names: shown as one line, without a traceback."""


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as e:
        raise CliError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise CliError(f"{path} is not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start})") from None


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # an .npz is a zip archive (the second: an empty one)


def _open_npz(path: str):
    """The archive at `path`, or a CliError saying why it is not one."""
    import zipfile

    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as e:
        raise CliError(f"cannot read inputs {path}: {e.strerror}") from None
    if head not in _ZIP_MAGIC:
        raise CliError(f"{path} is not an .npz archive (write one with numpy.savez)")
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise CliError(f"{path} is not a readable .npz archive (truncated?): {e}") from None


def _member(z, path: str, key: str) -> np.ndarray:
    import zipfile
    import zlib

    try:
        return np.asarray(z[key])
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise CliError(f"cannot read '{key}' from {path} (truncated?): {e}") from None


def _load_inputs(path: str | None, params) -> list[np.ndarray]:
    """Inputs arg0, arg1, ... (the corpus convention). Narrow float types stored as float32 are cast
    to the parameter's type when that loses nothing."""
    if path is None:
        if params:
            raise CliError(f"the module takes {len(params)} inputs; give them with --inputs IN.npz")
        return []
    z = _open_npz(path)
    args = []
    for i, p in enumerate(params):
        key = f"arg{i}"
        if key not in z:
            held = ", ".join(z.files[:8]) + (", ..." if len(z.files) > 8 else "") if z.files else "nothing"
            raise CliError(f"{path} has no '{key}' for parameter {i} ('{p.name}': {p.shape.to_text(False)}); "
                           f"it holds {held}")
        a = _member(z, path, key)
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
    from .api import parse

    module = parse(_read(ns.file), verify=not ns.no_verify, elided=ns.elided)
    sys.stdout.write(module.to_text())
    return 0


def cmd_run(ns) -> int:
    from . import api

    module = api.parse(_read(ns.file), elided=ns.elided)
    args = _load_inputs(ns.inputs, module.entry.parameters)
    exe = api.compile(module, target=ns.target, optimize=not ns.no_opt)
    result = exe(*args)
    outs = list(result) if isinstance(result, tuple) else [result]
    if ns.out:
        named: dict[str, Any] = {f"out{i}": _storable(o) for i, o in enumerate(outs)}
        try:
            np.savez(ns.out, **named)
        except OSError as e:
            raise CliError(f"cannot write --out {ns.out}: {e.strerror}") from None
        print(f"wrote {len(outs)} output{'s' if len(outs) != 1 else ''} to {ns.out}")
    else:
        with np.printoptions(threshold=64, edgeitems=3, precision=6):
            for i, o in enumerate(outs):
                print(f"out{i}: {o.dtype}{list(o.shape)}\n{o}")
    return 0


_EMIT = {"llvm": "llvm_ir", "llvm-opt": "llvm_ir_opt", "asm": "asm", "cuda": "cuda", "ptx": "ptx", "sass": "sass"}


def cmd_compile(ns) -> int:
    from . import api

    exe = api.compile(_read(ns.file), target=ns.target, optimize=not ns.no_opt, elided=ns.elided)
    r = exe.report
    if ns.emit == "hlo":
        sys.stdout.write(r.hlo_after)
    elif ns.emit == "plan":
        print(r.fusion_plan.summary() if r.fusion_plan else "no fusion plan (--no-opt)")
        if r.buffers is not None:
            print(r.buffers.summary())
        print(r.cost)
    else:
        key = _EMIT[ns.emit]
        if key not in r.artifacts:
            raise CliError(f"--emit {ns.emit}: the {ns.target} target has no {ns.emit} to show (it has hlo, plan"
                           + "".join(f", {e}" for e, k in _EMIT.items() if k in r.artifacts) + ")")
        sys.stdout.write(r.artifacts[key])
    split = ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in r.compile_phases.items())
    cached = f"; {len(r.cached_kernels)} kernels from the cache" if r.cached_kernels else ""
    print(f"\n; compiled for {ns.target} in {r.compile_seconds * 1e3:.1f} ms{f' ({split})' if split else ''}{cached}",
          file=sys.stderr)
    if exe.unavailable:  # gpu code shown, but nothing here can run it
        print(f"; {ns.target} cannot run here: {exe.unavailable}", file=sys.stderr)
    return 0


def cmd_bench(ns) -> int:
    import statistics
    import time

    from . import api

    module = api.parse(_read(ns.file), elided=ns.elided)
    args = _load_inputs(ns.inputs, module.entry.parameters)
    rows = [("interpreter (one op at a time)", api.compile(module, target="interpreter", optimize=False)),
            (f"{ns.target} (compiled)", api.compile(module, target=ns.target))]
    medians = []
    for label, exe in rows:
        exe(*args)
        samples: list[float] = []
        deadline = time.perf_counter() + ns.seconds
        while len(samples) < 5 or time.perf_counter() < deadline:
            t0 = time.perf_counter()
            exe(*args)
            samples.append(time.perf_counter() - t0)
        med = statistics.median(samples)
        medians.append(med)
        print(f"{label:34s} median {med * 1e6:10.1f} µs over {len(samples)} calls")
    print(f"speedup {medians[0] / medians[1]:.1f}x")
    return 0


def cmd_aot(ns) -> int:
    from pathlib import Path

    from .aot import NoCompilerError, aot_compile

    name = ns.name or "".join(c if c.isalnum() else "_" for c in Path(ns.file).stem)
    if name[:1].isdigit():
        name = "m_" + name
    try:
        res = aot_compile(_read(ns.file), ns.out, name=name, target_triple=ns.target_triple, cpu=ns.cpu,
                          opt=ns.opt, size=ns.size, threads=ns.threads, vector_math=ns.vector_math)
    except NoCompilerError as e:
        print(e.result.summary())
        print(f"xla-magic: error: {e}", file=sys.stderr)
        return 1
    print(res.summary())
    return 0


def cmd_cache(ns) -> int:
    from . import api

    if ns.action == "clear":
        api.clear_cache(disk=True)
    for name, d in api.cache_info().items():
        if not name.startswith("disk:"):
            continue
        line = (f"{name[5:]}: {d['location']}: {d['entries']} entries, {d['bytes'] / 2**20:.1f} MiB "
                f"of {d['max_bytes'] / 2**20:.0f} MiB")
        print(line + (f" (not used: {d['refused']})" if d["refused"] else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    from .backends import registry

    targets = registry.names()
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
    r.add_argument("--target", default="cpu", choices=targets)
    r.add_argument("--no-opt", action="store_true", help="skip the optimizer")
    r.set_defaults(fn=cmd_run)
    c = sub.add_parser("compile", help="optimize and compile FILE.hlo, print what was produced")
    c.add_argument("file")
    c.add_argument("--target", default="cpu", choices=targets)
    c.add_argument("--emit", default="hlo", choices=("hlo", "plan", "llvm", "llvm-opt", "asm", "cuda", "ptx", "sass"))
    c.add_argument("--no-opt", action="store_true", help="skip the optimizer")
    c.set_defaults(fn=cmd_compile)
    bch = sub.add_parser("bench", help="time FILE.hlo one op at a time against compiled")
    bch.add_argument("file")
    bch.add_argument("--inputs", help="an .npz holding arg0, arg1, ...")
    bch.add_argument("--target", default="cpu", choices=targets)
    bch.add_argument("--seconds", type=float, default=1.0, help="time budget per variant")
    bch.set_defaults(fn=cmd_bench)
    a = sub.add_parser("aot", help="compile FILE.hlo ahead of time: NAME.o, NAME.h, libNAME.so, executable NAME")
    a.add_argument("file")
    a.add_argument("-o", "--out", required=True, metavar="OUTDIR", help="folder for the files (created)")
    a.add_argument("--name", help="C name of the model (default: the file's stem)")
    a.add_argument("--target-triple", help="e.g. aarch64-unknown-linux-gnu, or aarch64 / armv7 / riscv64 "
                   "(default: the host; only .o and .h for other machines)")
    a.add_argument("--cpu", help="LLVM CPU name (default: the host's; e.g. x86-64-v2 for a portable build)")
    a.add_argument("--opt", type=int, default=3, choices=(0, 1, 2, 3), help="LLVM optimization level")
    a.add_argument("--size", action="store_true", help="optimize for size (optsize on every function)")
    a.add_argument("--threads", type=int, help="most threads a kernel may use (default: the host's; 1 off-host)")
    a.add_argument("--vector-math", action="store_true", help="out-of-line math with vector variants")
    a.set_defaults(fn=cmd_aot)
    for sp in (p, r, c, bch):
        sp.add_argument("--elided", choices=("random", "zeros"),
                        help="fill constants elided as {...} with deterministic random values or zeros")
    k = sub.add_parser("cache", help="the on-disk compile cache: where, entries, size and limit; or empty it")
    k.add_argument("action", choices=("info", "clear"))
    k.set_defaults(fn=cmd_cache)
    ns = ap.parse_args(argv)
    from .hlo.evaluator import EvaluationError
    from .hlo.parser import HloParseError
    from .hlo.verifier import HloVerifyError

    try:
        return ns.fn(ns)
    except (HloParseError, HloVerifyError) as e:
        print(f"xla-magic: error: {ns.file}: {e}", file=sys.stderr)  # the message, then the line and a caret
    except CliError as e:
        print(f"xla-magic: error: {e}", file=sys.stderr)
    except OSError as e:  # a file the command writes (the aot folder's, --out's)
        where = f"{e.filename}: " if e.filename else ""
        print(f"xla-magic: error: {where}{e.strerror or e}", file=sys.stderr)
    except (TypeError, ValueError, RuntimeError, EvaluationError) as e:
        print(f"xla-magic: error: {e}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
