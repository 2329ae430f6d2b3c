"""The public functions: parse, interpret, compile, and the compile cache."""
from __future__ import annotations

import time

from .hlo.ir import Module
from .hlo.parser import parse_hlo
from .report import Report

TARGETS = ("interpreter", "cpu", "gpu")


def _module(m_or_text, verify: bool = True) -> Module:
    if isinstance(m_or_text, Module):
        return m_or_text
    if isinstance(m_or_text, str):
        return parse_hlo(m_or_text, verify=verify)
    raise TypeError(f"expected HLO text or a Module, got {type(m_or_text).__name__}")


def interpret(m_or_text, *args):
    """Runs the module one instruction at a time with numpy, exactly as XLA defines each op.

    Returns a numpy array, or a tuple of arrays when the root is a tuple."""
    from .backends import interpreter

    return interpreter.compile(_module(m_or_text))(*args)


_CACHE: dict[str, object] = {}  # compile cache in memory: key -> Executable
_CACHE_LIMIT = 256


_SOURCE_HASH: list[str] = []


def _source_hash() -> str:
    """A hash of the compiler's own source: an edited compiler never reuses old machine code."""
    if not _SOURCE_HASH:
        import hashlib
        import pathlib

        h = hashlib.sha256()
        root = pathlib.Path(__file__).parent
        for p in sorted(root.rglob("*")):
            if p.suffix in (".py", ".c", ".h", ".cuh") and p.is_file():
                h.update(str(p.relative_to(root)).encode())
                h.update(p.read_bytes())
        _SOURCE_HASH.append(h.hexdigest())
    return _SOURCE_HASH[0]


def _cache_key(text: str, target: str, optimize: bool, options: dict) -> str:
    """The module's text, the target, the options, the host CPU and the compiler's versions."""
    import hashlib
    import platform

    import llvmlite

    from . import __version__

    host = ""
    if target == "cpu":
        from .backends.cpu.jit import host as cpu_host

        h = cpu_host()
        host = f"{h.triple}|{h.cpu}|{h.features}"
    parts = [__version__, _source_hash(), llvmlite.__version__, platform.machine(), host, target, str(optimize),
             repr(sorted(options.items())), text]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def clear_cache() -> None:
    _CACHE.clear()


def compile(m_or_text, target: str = "cpu", optimize: bool = True, cache: bool = True,  # noqa: A001
            **options):
    """Verifies, optimizes (unless optimize=False) and compiles for `target`; returns an Executable.

    Compiling the same text for the same target and options again returns the cached executable."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    cacheable = cache and not options.get("dump_to") and isinstance(m_or_text, (str, Module))
    if cacheable:
        text = m_or_text if isinstance(m_or_text, str) else m_or_text.to_text()
        key = _cache_key(text, target, optimize, options)
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
    if cacheable and target == "cpu":
        from .backends.cpu import load_from_disk

        exe = load_from_disk(key)
        if exe is not None:
            _CACHE[key] = exe
            return exe
    exe = _compile_uncached(m_or_text, target, optimize, **options)
    if cacheable and target == "cpu":
        from .backends.cpu import save_to_disk

        save_to_disk(key, exe)
    if cacheable:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = exe
    return exe


def _compile_uncached(m_or_text, target: str, optimize: bool, **options):
    from .passes.buffers import assign_buffers, interpreter_live_bytes
    from .passes.cost import analyze
    from .passes.fusion import FusionPlan

    t0 = time.perf_counter()
    original = _module(m_or_text)
    module = original
    records: list = []
    if optimize:
        from .passes.pipeline import optimize as run_pipeline

        module, records = run_pipeline(original, target=target, **options)
    plan = next((r.info for r in records if isinstance(r.info, FusionPlan)), None)
    buffers = assign_buffers(module)
    buffers.interpreter_live_bytes = interpreter_live_bytes(original)
    report = Report(target, original.to_text(), module.to_text(), passes=records, fusion_plan=plan,
                    buffers=buffers, cost=analyze(module))
    if target == "interpreter":
        from .backends import interpreter as backend
    elif target == "cpu":
        from .backends import cpu as backend
    else:
        from .backends import gpu as backend
    ok, why = backend.available()
    # The gpu backend still generates (and shows) its code without a device; calls then raise.
    if not ok and not getattr(backend, "INSPECT_WITHOUT_DEVICE", False):
        raise RuntimeError(f"target {target!r} is not available here: {why}")
    exe = backend.compile(module, report)
    report.compile_seconds = time.perf_counter() - t0
    return exe
