"""The host's C compiler: finding it, and linking the object into a shared library and, with the
harness shipped in the package (`kernels/aot_harness.c`), a standalone executable."""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

from .errors import AotError, NoCompilerError
from .header import KERNELS
from .result import NPY_DESCR, AotResult


def harness_source() -> Path:
    """The C harness shipped with the package (xla_magic/kernels/aot_harness.c)."""
    return KERNELS / "aot_harness.c"


def find_c_compiler() -> str | None:
    for cand in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cand:
            path = shutil.which(cand.split()[0])
            if path:
                return path
    return None


HARNESS_CFLAGS = ("-Os", "-std=c11", "-ffunction-sections", "-fdata-sections", "-fno-asynchronous-unwind-tables")
# Size: drop unused sections, unneeded libraries, the page-aligned gap between code and headers
# (-z noseparate-code: 31 -> 23 KiB for lstm_cell's executable, 14 -> 10 KiB for its .so) and the
# build id. Not every linker knows them, so a failed link is retried without.
SIZE_LDFLAGS = ("-Wl,--gc-sections", "-Wl,--as-needed", "-Wl,-z,noseparate-code", "-Wl,--build-id=none",
                "-Wl,--hash-style=gnu")


def _link(cc: str, args: list[str], what: str) -> None:
    p = subprocess.run([cc, *args, *SIZE_LDFLAGS], capture_output=True, text=True)
    if p.returncode != 0:
        p = subprocess.run([cc, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise AotError(f"building {what} failed ({' '.join([cc, *args])}):\n{p.stderr.strip()}")


def _link_flags(undefined: list[str]) -> list[str]:
    return ["-lm"] + (["-lpthread"] if any(u.startswith("pthread") for u in undefined) else [])


_HARNESS_OBJECTS: dict[tuple, Path | None] = {}  # (cc, flags, source) -> compiled once per process
_HARNESS_LOCK = threading.Lock()


def _harness_object(cc: str) -> Path | None:
    """The harness compiled without a model (it calls xm_harness_info/xm_harness_run), once per
    process: linking a model against it costs ~20 ms where compiling the harness costs ~150 ms."""
    import atexit
    import hashlib
    import tempfile

    src = harness_source()
    key = (cc, HARNESS_CFLAGS, hashlib.sha256(src.read_bytes() + (src.parent / "xm_model.h").read_bytes()).hexdigest())
    with _HARNESS_LOCK:
        if key not in _HARNESS_OBJECTS:
            d = Path(tempfile.mkdtemp(prefix="xla_magic_harness_"))
            atexit.register(shutil.rmtree, d, True)
            obj = d / "aot_harness.o"
            p = subprocess.run([cc, *HARNESS_CFLAGS, "-I", str(src.parent), "-c", "-o", str(obj), str(src)],
                               capture_output=True, text=True)
            _HARNESS_OBJECTS[key] = obj if p.returncode == 0 else None
        return _HARNESS_OBJECTS[key]


def _build_executable(cc: str, res: AotResult, exe: Path, libs: list[str], strip_flag: list[str]) -> None:
    name = res.name
    obj = _harness_object(cc)
    if obj is not None:
        alias = f"-Wl,--defsym=xm_harness_info={name}_info,--defsym=xm_harness_run={name}_run_array"
        args = ["-o", str(exe), str(obj), str(res.object), alias, *strip_flag, *libs]
        if subprocess.run([cc, *args, *SIZE_LDFLAGS], capture_output=True).returncode == 0 or \
                subprocess.run([cc, *args], capture_output=True).returncode == 0:
            return
    _link(cc, [*HARNESS_CFLAGS, "-I", str(res.out_dir), f'-DXM_HEADER="{name}.h"', f"-DXM_PREFIX={name}",
               "-o", str(exe), str(harness_source()), str(res.object), *strip_flag, *libs], exe.name)


def link_binaries(res: AotResult, strip: bool) -> None:
    """libNAME.so and, where the harness can read and write every buffer, the executable NAME,
    next to the object. NoCompilerError (carrying `res`) when the host has no C compiler."""
    name, out = res.name, res.out_dir
    cc = find_c_compiler()
    if cc is None:
        raise NoCompilerError(
            f"no C compiler found (looked for $CC, cc, gcc, clang): {res.object} and {res.header} were written, "
            f"lib{name}.so and {name} were not; install one (e.g. apt-get install gcc) or link {name}.o yourself",
            res)
    libs = _link_flags(res.undefined)
    strip_flag = ["-s"] if strip else []
    so = out / f"lib{name}.so"
    _link(cc, ["-shared", "-o", str(so), str(res.object), *strip_flag, *libs], so.name)
    res.shared_lib = so
    res.sizes["shared_lib"] = so.stat().st_size
    unsupported = [s for s in res.inputs + res.outputs if s.dtype not in NPY_DESCR]
    if unsupported:
        res.notes.append(f"no executable: the harness reads and writes .npy types only; "
                         f"{unsupported[0].name} is {unsupported[0].dtype}")
    else:
        exe = out / name
        _build_executable(cc, res, exe, libs, strip_flag)
        res.executable = exe
        res.sizes["executable"] = exe.stat().st_size
