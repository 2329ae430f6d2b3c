"""Object code of units (see `units`), by content key: from memory, else from the disk cache, else
compiled by LLVM, several at once where that pays.

In memory: an LRU bounded in bytes (`set_limit`), shared by every program of the process, so an
edited cell recompiles only its changed kernels and math functions are compiled once. On disk:
`disk_cache.store_object`, so a new process compiles only what no process compiled before."""
from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .jit import HostTarget, compile_object
from .units import Unit

__all__ = ["Fetched", "fetch", "cached", "set_limit", "clear", "info", "PARALLEL_MIN_UNITS"]

DEFAULT_MAX_BYTES = 256 << 20
# Threads compile units at once only when there are this many to compile and cores to spare:
# a thread costs ~0.1 ms to hand work to, a kernel at least ~2 ms to compile.
PARALLEL_MIN_UNITS = 2
_MAX_THREADS = 4


class _LRU:
    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            obj = self._items.get(key)
            if obj is not None:
                self._items.move_to_end(key)
            return obj

    def put(self, key: str, obj: bytes) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = obj
            self._bytes += len(obj)
            while self._bytes > self.max_bytes and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self._bytes -= len(old)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def info(self) -> dict[str, int]:
        with self._lock:
            return {"entries": len(self._items), "bytes": self._bytes, "max_bytes": self.max_bytes}


_MEMORY = _LRU(DEFAULT_MAX_BYTES)
# Math function objects: compiled once per process and target, kept (a few dozen at most).
_MATH: dict[str, bytes] = {}


def set_limit(max_bytes: int) -> None:
    """Bounds the in-memory object cache (least recently used objects go first)."""
    _MEMORY.max_bytes = max_bytes


def clear(math: bool = False) -> None:
    """Forgets the kernel objects held in memory (and with `math`, the math functions' too)."""
    _MEMORY.clear()
    if math:
        _MATH.clear()


def info() -> dict[str, int]:
    return {**_MEMORY.info(), "math": len(_MATH)}


def _remember(u: Unit, obj: bytes) -> None:
    if u.math:
        _MATH[u.key] = obj
    else:
        _MEMORY.put(u.key, obj)


def cached(key: str) -> bytes | None:
    """The object under `key` from memory or disk, or None: nothing is compiled."""
    from . import disk_cache

    obj = _MATH.get(key) or _MEMORY.get(key)
    if obj is None:
        obj = disk_cache.load_object(key)
        if obj is not None:
            _MEMORY.put(key, obj)
    return obj


@dataclass
class Fetched:
    """Objects by key, where each came from, and the seconds each step took."""

    objects: dict[str, bytes] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)  # key -> "memory", "disk" or "llvm"
    timings: dict[str, float] = field(default_factory=dict)


_POOL: dict[int, ThreadPoolExecutor] = {}  # by process id: a forked child has none of its parent's threads


def _pool() -> ThreadPoolExecutor:
    pid = os.getpid()
    if pid not in _POOL:
        _POOL.clear()
        _POOL[pid] = ThreadPoolExecutor(max_workers=_MAX_THREADS, thread_name_prefix="xla_magic-llvm")
    return _POOL[pid]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def fetch(units: Sequence[Unit], target: HostTarget) -> Fetched:
    """The object code of every unit (each key once)."""
    from . import disk_cache

    out = Fetched()
    todo: dict[str, Unit] = {}
    t0 = time.perf_counter()
    for u in units:
        if u.key in out.objects or u.key in todo:
            continue
        obj = _MATH.get(u.key) if u.math else _MEMORY.get(u.key)
        if obj is not None:
            out.objects[u.key], out.source[u.key] = obj, "memory"
            continue
        obj = disk_cache.load_object(u.key) if u.on_disk else None
        if obj is not None:
            _remember(u, obj)
            out.objects[u.key], out.source[u.key] = obj, "disk"
            continue
        todo[u.key] = u
    out.timings["cache"] = time.perf_counter() - t0
    if not todo:
        return out
    work = list(todo.values())
    per_unit: list[dict[str, float]] = [{} for _ in work]

    def one(k: int) -> bytes:
        return compile_object(work[k].text, work[k].opt, target, work[k].symbol, per_unit[k])

    threads = min(_MAX_THREADS, _cores())
    t1 = time.perf_counter()
    if threads > 1 and len(work) >= PARALLEL_MIN_UNITS:
        objects = list(_pool().map(one, range(len(work))))
    else:
        objects = [one(k) for k in range(len(work))]
    wall = time.perf_counter() - t1
    for u, obj in zip(work, objects):
        _remember(u, obj)
        if u.on_disk:
            disk_cache.store_object(u.key, obj)
        out.objects[u.key], out.source[u.key] = obj, "llvm"
    # Each step's share of the wall time the compiles took (they overlap when run in parallel).
    total = {k: sum(t.get(k, 0.0) for t in per_unit) for k in ("parse", "optimize", "codegen")}
    busy = sum(total.values()) or 1.0
    for k, v in total.items():
        out.timings[k] = wall * v / busy
    out.timings["store"] = time.perf_counter() - t1 - wall
    return out
