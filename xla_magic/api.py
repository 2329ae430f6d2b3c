"""The public functions: parse, interpret, compile, and the compile cache."""
from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from ._version import __version__
from .backends import registry
from .backends.base import Executable
from .hlo.formats import ElidedFill
from .hlo.ir import Module
from .hlo.parser import parse_hlo
from .programs import Source, read_module, source_of

__all__ = ["parse", "parse_hlo", "interpret", "compile", "cache_info", "clear_cache", "set_cache_limit"]


def parse(program: object, verify: bool = True, elided: ElidedFill = None) -> Module:
    """The Module of HLO text, StableHLO text (told apart by content), a Module, or a jax
    `Lowered`/`Compiled` object. `elided` ("random" or "zeros") fills HLO constants printed as `{...}`."""
    return read_module(program, verify, elided)


def interpret(program: object, *args: Any, elided: ElidedFill = None) -> Any:
    """Runs the module one instruction at a time with numpy, exactly as XLA defines each op.

    Takes what `parse` takes. Returns a numpy array, or a tuple of arrays when the root is a tuple."""
    from .backends import interpreter

    return interpreter.executable(read_module(program, elided=elided))(*args)


class _MemoryCache:
    """Compiled executables by key, least recently used first, bounded by count and by an estimate
    of their bytes (machine code, IR and HLO texts, pass records): a notebook that edits and reruns
    a cell for hours keeps only the latest ones."""

    def __init__(self, max_entries: int = 256, max_bytes: int = 256 << 20):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[str, tuple[Executable, int]] = OrderedDict()
        self.nbytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> Executable | None:
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: str, exe: Executable) -> None:
        self.pop(key)
        size = footprint(exe)
        self._items[key] = (exe, size)
        self.nbytes += size
        self.shrink()

    def pop(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self.nbytes -= item[1]

    def shrink(self) -> None:
        """Drops the least recently used until both bounds hold (the newest entry always stays)."""
        while len(self._items) > 1 and (len(self._items) > self.max_entries or self.nbytes > self.max_bytes):
            self.pop(next(iter(self._items)))
        if self.max_entries <= 0:
            self.clear()

    def clear(self) -> None:
        self._items.clear()
        self.nbytes = 0


def footprint(exe: Executable) -> int:
    """Bytes an executable holds, estimated: its report's texts and what its backend declares
    (`backend_state.nbytes`: machine code and IR for native code)."""
    r = exe.report
    texts = len(r.hlo_before) + len(r.hlo_after) + sum(len(p.text) for p in r.passes)
    return texts + int(getattr(exe.backend_state, "nbytes", 0))


_CACHE = _MemoryCache()  # compile cache in memory


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


def set_cache_limit(entries: int | None = None, max_bytes: int | None = None) -> None:
    """Bounds the in-memory compile cache (default 256 executables, 256 MiB); the disk cache's
    bound is `$XLA_MAGIC_CACHE_MAX_BYTES` (see `cache_info`)."""
    if entries is not None:
        _CACHE.max_entries = entries
    if max_bytes is not None:
        _CACHE.max_bytes = max_bytes
    _CACHE.shrink()


def clear_cache(disk: bool = False) -> None:
    """Empties the in-memory compile caches (executables, and the kernels backends keep for later
    compiles), and with `disk=True` the on-disk one too."""
    _CACHE.clear()
    for backend in map(registry.get, registry.names()):
        backend.clear_memory_cache()
    if disk:
        for backend in map(registry.get, registry.names()):
            backend.clear_disk_cache()


def cache_info() -> dict[str, dict[str, Any]]:
    """Both compile caches: {"memory": entries, bytes (estimated), limits; "disk": per target with
    a disk cache, its location, entries, bytes and limit}."""
    info: dict[str, dict[str, Any]] = {"memory": {"entries": len(_CACHE), "bytes": _CACHE.nbytes,
                                                  "max_entries": _CACHE.max_entries, "max_bytes": _CACHE.max_bytes}}
    for backend in map(registry.get, registry.names()):
        disk = backend.disk_cache_info()
        if disk is not None:
            info[f"disk:{backend.name}"] = disk
    return info


def compile(program: object, target: str = "cpu", optimize: bool = True, cache: bool = True,  # noqa: A001
            elided: ElidedFill = None, **options: Any) -> Executable:
    """Verifies, optimizes (unless optimize=False) and compiles for `target`; returns an Executable.

    Takes what `parse` takes. Compiling the same program for the same target and options again
    returns the cached executable."""
    backend = registry.get(target)
    source = source_of(program)
    cacheable = cache and not options.get("dump_to")
    key = ""
    if cacheable:
        text = source.given.digest() if source.given is not None else source.text or ""
        key = _cache_key(text if elided is None else f"elided={elided}\x00{text}", backend, optimize, options)
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
    exe = _compile_uncached(source, backend, optimize, key if cacheable else None, elided, **options)
    if cacheable:
        _CACHE.put(key, exe)
    return exe


def _compile_uncached(source: Source, backend: registry.Backend, optimize: bool, disk_key: str | None,
                      elided: ElidedFill = None, **options: Any) -> Executable:
    """Lowers, then maps the machine code kept on disk under `disk_key` by an earlier process
    (the optimizer runs again: the Report is rebuilt from its results, not read from disk), or
    compiles and stores it there."""
    from .passes.stage import lower

    t0 = time.perf_counter()
    lowered = lower(source.module(elided=elided), backend.name, backend.preset, optimize, **options)
    ok, why = backend.usable()
    if not ok:
        raise RuntimeError(f"target {backend.name!r} is not available here: {why}")
    if disk_key is not None:
        hit = backend.load(disk_key, lowered)
        if hit is not None:
            return _with_source(hit, source)
    exe = backend.compile(lowered)
    exe.report.compile_seconds = time.perf_counter() - t0
    if disk_key is not None:
        backend.store(disk_key, exe)
    return _with_source(exe, source)


def _with_source(exe: Executable, source: Source) -> Executable:
    """The report keeps what the user handed over when it is not HLO text: StableHLO as given, and
    XLA's own optimized module from a jax Compiled."""
    r = exe.report
    r.source_format = source.format
    r.source_text = source.text if source.format == "stablehlo" else None
    r.xla_hlo = source.xla_hlo
    return exe
