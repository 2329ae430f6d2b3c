"""Runs each HLO file here on XLA:CPU and stores its inputs and outputs beside it as NAME.npz.

Run with a Python that has jax (jax is no dependency of the project or its tests):

    python tests/xla_files/generate.py [NAME.hlo ...]

Inputs are deterministic (a seed from the file's name): floats uniform in [-2, 2), integers in
[0, 8) (valid indices for most gathers and scatters), pred uniform. An .npz holds arg0.. and
out0.. (the leaves of a tuple result, depth first). bf16, f8 and complex-free narrow floats are
stored as float32 and 4-bit integers as int8, which hold them exactly; the test converts them
back to the parameter's type. Files whose inputs and outputs together exceed MAX_BYTES are
skipped (the corpus stays small), as are files XLA refuses: both are listed in SKIPPED.txt."""
from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import jax
import ml_dtypes
import numpy as np
from jax._src.lib import xla_client as xc

HERE = Path(__file__).resolve().parent
MAX_BYTES = 250_000

jax.config.update("jax_enable_x64", True)

DTYPES = {
    "pred": np.bool_, "s8": np.int8, "s16": np.int16, "s32": np.int32, "s64": np.int64, "u8": np.uint8,
    "u16": np.uint16, "u32": np.uint32, "u64": np.uint64, "f16": np.float16, "f32": np.float32,
    "f64": np.float64, "bf16": ml_dtypes.bfloat16, "c64": np.complex64, "c128": np.complex128,
    "s4": ml_dtypes.int4, "u4": ml_dtypes.uint4, "f8e4m3fn": ml_dtypes.float8_e4m3fn,
    "f8e5m2": ml_dtypes.float8_e5m2,
}
_ARRAY = re.compile(r"([a-z0-9]+)\[([0-9,]*)\]")


def _split_top(text: str) -> list[str]:
    """Comma-separated items of `text` at bracket depth 0."""
    items, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [s.strip() for s in items if s.strip()]


def _array_shape(text: str) -> tuple[str, tuple[int, ...]]:
    m = _ARRAY.match(text)
    if not m or m.group(1) not in DTYPES:
        raise ValueError(f"parameter shape {text!r} is not an array of a supported type")
    return m.group(1), tuple(int(d) for d in m.group(2).split(",") if d)


def parameter_shapes(module: object) -> list[tuple[str, tuple[int, ...]]]:
    """The entry's parameter shapes, from XLA's own printing of the module's layout."""
    header = re.sub(r"/\*.*?\*/", "", module.to_string().split("\n", 1)[0])  # type: ignore[attr-defined]
    m = re.search(r"entry_computation_layout=\{\((.*)\)->", header)
    if m is None:
        raise ValueError("no entry_computation_layout in XLA's text")
    return [_array_shape(p) for p in _split_top(m.group(1))]


def make_input(name: str, k: int, dtype: str, dims: tuple[int, ...]) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(f"{name}:{k}".encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    npd = np.dtype(DTYPES[dtype])
    if dtype == "pred":
        return rng.integers(0, 2, dims).astype(np.bool_)
    if npd.kind in "iu" or dtype in ("s4", "u4"):
        return rng.integers(0, 8, dims).astype(npd)
    if npd.kind == "c":
        return (rng.uniform(-2, 2, dims) + 1j * rng.uniform(-2, 2, dims)).astype(npd)
    return rng.uniform(-2, 2, dims).astype(npd)


def storable(a: np.ndarray) -> np.ndarray:
    if a.dtype in (np.dtype(ml_dtypes.int4), np.dtype(ml_dtypes.uint4)):
        return a.astype(np.int8)
    return a.astype(np.float32) if a.dtype.kind == "V" or a.dtype.name.startswith(("bfloat", "float8")) else a


def run_on_xla(text: str, args: list[np.ndarray]) -> list[np.ndarray]:
    module = xc.hlo.hlo_module_from_text(text)
    mlir = xc._xla.mlir.hlo_to_stablehlo(module.as_serialized_hlo_module_proto())
    dev = jax.devices("cpu")[0]
    exe = dev.client.compile_and_load(mlir, xc.DeviceList((dev,)), xc.CompileOptions())
    res = exe.execute_sharded([jax.device_put(a, dev) for a in args])
    return [np.asarray(o[0]) for o in res.disassemble_into_single_device_arrays()]


def generate(path: Path) -> str | None:
    """Writes NAME.npz; returns why it was skipped, or None."""
    text = path.read_text()
    try:
        module = xc.hlo.hlo_module_from_text(text)
        shapes = parameter_shapes(module)
    except Exception as e:  # XLA's own parser or an unsupported parameter
        return f"not parsed by XLA here: {str(e).splitlines()[0][:160]}"
    args = [make_input(path.stem, k, dt, dims) for k, (dt, dims) in enumerate(shapes)]
    if sum(a.nbytes for a in args) > MAX_BYTES:
        return f"inputs over {MAX_BYTES} bytes"
    try:
        outs = run_on_xla(text, args)
    except Exception as e:
        return f"XLA:CPU refuses it: {str(e).splitlines()[0][:160]}"
    if sum(a.nbytes for a in args) + sum(o.nbytes for o in outs) > MAX_BYTES:
        return f"inputs and outputs over {MAX_BYTES} bytes"
    arrays = {f"arg{k}": storable(a) for k, a in enumerate(args)}
    arrays.update({f"out{k}": storable(o) for k, o in enumerate(outs)})
    np.savez_compressed(path.with_suffix(".npz"), **arrays)
    return None


def generate_in_child(path: Path) -> str | None:
    """`generate` in a child process: XLA aborts the process on some modules (failed CHECKs)."""
    import subprocess

    try:
        r = subprocess.run([sys.executable, __file__, "--one", path.name], capture_output=True, text=True,
                           timeout=300)
    except subprocess.TimeoutExpired:
        return "XLA:CPU took over 300 s"
    if r.returncode == 0:
        return r.stdout.strip() or None
    check = [ln for ln in r.stderr.splitlines() if "Check failed" in ln or "error" in ln.lower()]
    return f"XLA:CPU crashes on it: {(check or ['exit status ' + str(r.returncode)])[0][:160]}"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        why = generate(HERE / argv[1])
        print(why or "")
        return 0
    paths = [HERE / a for a in argv] if argv else sorted(HERE.glob("*.hlo"))
    skipped_file = HERE / "SKIPPED.txt"
    skipped = {}
    if argv and skipped_file.exists():
        for line in skipped_file.read_text().splitlines():
            name, _, why = line.partition(": ")
            skipped[name] = why
    for p in paths:
        p.with_suffix(".npz").unlink(missing_ok=True)
        why = generate_in_child(p)
        skipped.pop(p.name, None)
        if why is not None:
            skipped[p.name] = why
        print(f"{p.name}: {why or 'ok'}", flush=True)
    skipped_file.write_text("".join(f"{n}: {w}\n" for n, w in sorted(skipped.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
