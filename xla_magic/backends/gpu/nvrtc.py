"""NVRTC through ctypes, and SASS through nvdisasm: CUDA C to PTX and cubin with no GPU and no CuPy.

NVRTC is a library that needs no device and no driver, so every generated kernel can be compiled
on any machine that has it (pip's `nvidia-cuda-nvrtc-cu12`, a CUDA toolkit, or CuPy's wheel
dependencies). Calling it directly, rather than through `cupy.cuda.nvrtc`, keeps the offline
check independent of CuPy (a 100 MB wheel that CI would otherwise install only for this).
SASS comes from `nvdisasm` (pip's `nvidia-cuda-nvdisasm`, or a toolkit's) run on the cubin."""
from __future__ import annotations

import ctypes
import functools
import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

ARCHS = ("sm_80", "sm_90")  # what the offline check compiles for: A100 and H100


class NvrtcError(RuntimeError):
    """Compilation failed; the message carries NVRTC's log."""

    def __init__(self, msg: str, log: str = "", source: str = ""):
        super().__init__(msg + (f"\n--- NVRTC log ---\n{log}" if log else ""))
        self.log, self.source = log, source


def _site_dirs() -> list[str]:
    """Folders of pip's `nvidia` namespace packages (nvidia/cuda_nvrtc, nvidia/cu13, ...)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("nvidia")
    except (ImportError, ValueError):
        return []
    return list(spec.submodule_search_locations or []) if spec else []


def _nvrtc_candidates() -> list[str]:
    out = []
    env = os.environ.get("XLA_MAGIC_NVRTC")
    if env:
        out.append(env)
    for d in _site_dirs():
        out += sorted(glob.glob(os.path.join(d, "cuda_nvrtc", "lib", "libnvrtc.so*")))
        out += sorted(glob.glob(os.path.join(d, "cu1*", "lib", "libnvrtc.so*")))
    for root in (os.environ.get("CUDA_PATH"), os.environ.get("CUDA_HOME"), "/usr/local/cuda"):
        if root:
            out += sorted(glob.glob(os.path.join(root, "lib64", "libnvrtc.so*")))
    out += ["libnvrtc.so", "libnvrtc.so.12", "libnvrtc.so.13"]
    # Real libraries before the alternative builds and builtins that share the prefix.
    return [p for p in out if "builtins" not in p and ".alt." not in p]


@functools.lru_cache(maxsize=1)
def _load() -> tuple[ctypes.CDLL | None, str]:
    errors = []
    for path in _nvrtc_candidates():
        try:
            lib = ctypes.CDLL(path)
            lib.nvrtcGetErrorString.restype = ctypes.c_char_p
            return lib, path
        except OSError as e:
            errors.append(f"{path}: {e}")
    return None, "; ".join(errors[-3:]) or "no libnvrtc found"


def available() -> tuple[bool, str]:
    lib, where = _load()
    if lib is None:
        return False, ("NVRTC is not installed (pip install nvidia-cuda-nvrtc-cu12, or a CUDA toolkit; "
                       f"XLA_MAGIC_NVRTC may name the library): {where}")
    return True, f"NVRTC {'.'.join(map(str, version()))} ({where})"


def version() -> tuple[int, int]:
    lib, _ = _load()
    if lib is None:
        return (0, 0)
    a, b = ctypes.c_int(), ctypes.c_int()
    lib.nvrtcVersion(ctypes.byref(a), ctypes.byref(b))
    return a.value, b.value


@dataclass
class Compiled:
    arch: str
    ptx: str
    cubin: bytes
    log: str
    seconds: float


def _check(lib, rc: int, what: str) -> None:
    if rc != 0:
        raise NvrtcError(f"NVRTC {what} failed: {lib.nvrtcGetErrorString(rc).decode()}")


def compile_cuda(source: str, arch: str = "sm_90", name: str = "xla_magic.cu",
                 options: tuple[str, ...] = ()) -> Compiled:
    """PTX and cubin of `source` for one architecture; NvrtcError with the log on failure."""
    import time

    lib, where = _load()
    if lib is None:
        raise NvrtcError(f"NVRTC is not available: {where}")
    t0 = time.perf_counter()
    prog = ctypes.c_void_p()
    _check(lib, lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), name.encode(), 0, None, None), "create")
    try:
        opts = [f"--gpu-architecture={arch}", "-std=c++17", "--diag-suppress=177,550", *options]
        arr = (ctypes.c_char_p * len(opts))(*[o.encode() for o in opts])
        rc = lib.nvrtcCompileProgram(prog, len(opts), arr)
        n = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(prog, ctypes.byref(n))
        buf = ctypes.create_string_buffer(n.value)
        lib.nvrtcGetProgramLog(prog, buf)
        log = buf.value.decode(errors="replace")
        if rc != 0:
            raise NvrtcError(f"NVRTC could not compile {name} for {arch} "
                             f"({lib.nvrtcGetErrorString(rc).decode()})", log, source)
        _check(lib, lib.nvrtcGetPTXSize(prog, ctypes.byref(n)), "PTX size")
        ptx = ctypes.create_string_buffer(n.value)
        _check(lib, lib.nvrtcGetPTX(prog, ptx), "PTX")
        cubin = b""
        if arch.startswith("sm_") and lib.nvrtcGetCUBINSize(prog, ctypes.byref(n)) == 0 and n.value:
            cb = ctypes.create_string_buffer(n.value)
            _check(lib, lib.nvrtcGetCUBIN(prog, cb), "CUBIN")
            cubin = cb.raw
        return Compiled(arch, ptx.value.decode(), cubin, log, time.perf_counter() - t0)
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))


# --- SASS ------------------------------------------------------------------------------------

def find_tool(name: str) -> str | None:
    """nvdisasm or cuobjdump: from pip's nvidia packages, a CUDA toolkit, or PATH."""
    for d in _site_dirs():
        for p in sorted(glob.glob(os.path.join(d, "*", "bin", name))):
            if os.access(p, os.X_OK):
                return p
    for root in (os.environ.get("CUDA_PATH"), os.environ.get("CUDA_HOME"), "/usr/local/cuda"):
        if root and os.access(os.path.join(root, "bin", name), os.X_OK):
            return os.path.join(root, "bin", name)
    return shutil.which(name)


def sass(cubin: bytes) -> str:
    """The cubin disassembled (nvdisasm, else cuobjdump -sass), or a line saying why there is none."""
    if not cubin:
        return "// no cubin to disassemble"
    tool = find_tool("nvdisasm")
    args: list[str]
    if tool:
        args = [tool, "-c", "-g"]
    else:
        tool = find_tool("cuobjdump")
        if not tool:
            return "// SASS needs nvdisasm or cuobjdump: pip install nvidia-cuda-nvdisasm (no GPU needed)"
        args = [tool, "-sass"]
    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        try:
            r = subprocess.run(args + [f.name], capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"// {os.path.basename(tool)} failed: {e}"
    if r.returncode != 0:
        # -g (line info) is not in every version; try once more without it.
        if "-g" in args:
            args.remove("-g")
            with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
                f.write(cubin)
                f.flush()
                r = subprocess.run(args + [f.name], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            return f"// {os.path.basename(tool)} failed: {r.stderr.strip()}"
    return r.stdout
