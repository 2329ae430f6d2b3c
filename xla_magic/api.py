"""The public functions: parse, interpret, compile, and the compile cache."""
from __future__ import annotations

import time
from typing import Any

from ._version import __version__
from .backends import registry
from .backends.base import Executable
from .hlo.ir import Module
from .hlo.parser import parse_hlo


def _module(m_or_text: Module | str, verify: bool = True) -> Module:
    if isinstance(m_or_text, Module):
        return m_or_text
    if isinstance(m_or_text, str):
        return parse_hlo(m_or_text, verify=verify)
    raise TypeError(f"expected HLO text or a Module, got {type(m_or_text).__name__}")


def interpret(m_or_text: Module | str, *args: Any) -> Any:
    """Runs the module one instruction at a time with numpy, exactly as XLA defines each op.

    Returns a numpy array, or a tuple of arrays when the root is a tuple."""
    from .backends import interpreter

    return interpreter.executable(_module(m_or_text))(*args)


_CACHE: dict[str, Executable] = {}  # compile cache in memory: key -> Executable
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


def _cache_key(text: str, backend: registry.Backend, optimize: bool, options: dict[str, Any]) -> str:
    """The module's text, the target, the options, the host (for native code) and the compiler's versions."""
    import hashlib
    import platform

    import llvmlite

    parts = [__version__, _source_hash(), llvmlite.__version__, platform.machine(), backend.host_key(), backend.name,
             str(optimize), repr(sorted(options.items())), text]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def clear_cache() -> None:
    _CACHE.clear()


def compile(m_or_text: Module | str, target: str = "cpu", optimize: bool = True, cache: bool = True,  # noqa: A001
            **options: Any) -> Executable:
    """Verifies, optimizes (unless optimize=False) and compiles for `target`; returns an Executable.

    Compiling the same text for the same target and options again returns the cached executable."""
    backend = registry.get(target)
    cacheable = cache and not options.get("dump_to") and isinstance(m_or_text, (str, Module))
    key = ""
    if cacheable:
        text = m_or_text if isinstance(m_or_text, str) else m_or_text.to_text()
        key = _cache_key(text, backend, optimize, options)
        hit = _CACHE.get(key)
        if hit is None:
            hit = backend.load(key)  # machine code kept on disk by an earlier process
            if hit is not None:
                _CACHE[key] = hit
        if hit is not None:
            return hit
    exe = _compile_uncached(m_or_text, backend, optimize, **options)
    if cacheable:
        backend.store(key, exe)
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = exe
    return exe


def _compile_uncached(m_or_text: Module | str, backend: registry.Backend, optimize: bool,
                      **options: Any) -> Executable:
    from .passes.stage import lower

    t0 = time.perf_counter()
    lowered = lower(_module(m_or_text), backend.name, backend.preset, optimize, **options)
    ok, why = backend.usable()
    if not ok:
        raise RuntimeError(f"target {backend.name!r} is not available here: {why}")
    exe = backend.compile(lowered)
    exe.report.compile_seconds = time.perf_counter() - t0
    return exe
