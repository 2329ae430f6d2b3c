"""The compile targets, one record each: how to reach the backend, what the optimizer tunes for,
and what the compile cache needs from it. `api`, `magic` and `cli` find targets only here.

A backend is a module with `available() -> (ok, why)` and `compile(lowered) -> Executable`;
one whose machine code may be kept on disk also has `load(key, lowered)`, `store(key, exe)`,
`disk_cache_info()`, `clear_disk_cache()`, `clear_memory_cache()` and `host_key()` (what, besides the module and
options, the code depends on). The module is imported on first use, so `import xla_magic`
loads neither llvmlite nor CuPy.

A new target: a module with those functions and one `_register(...)` line below."""
from __future__ import annotations

import functools
import importlib
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from ..passes.stage import Lowered
    from .base import Executable


class BackendModule(Protocol):
    def available(self) -> tuple[bool, str]: ...

    def compile(self, lowered: Lowered) -> Executable: ...  # noqa: A003


class CachingBackendModule(BackendModule, Protocol):
    def load(self, key: str, lowered: Lowered) -> Executable | None: ...

    def store(self, key: str, exe: Executable) -> None: ...

    def host_key(self) -> str: ...

    def disk_cache_info(self) -> dict[str, object]: ...

    def clear_disk_cache(self) -> int: ...

    def clear_memory_cache(self) -> None: ...


@dataclass(frozen=True)
class Backend:
    name: str
    module: str  # dotted name of the backend module, imported on first use
    preset: str  # the fusion preset the optimizer tunes for (passes.fusion.PRESETS)
    # Compiles (and shows its code) even where available() says no; calling then raises.
    inspect_without_device: bool = False
    disk_cache: bool = False  # the module has load/store/host_key (see above)

    def _impl(self) -> BackendModule:
        return _import(self.module)

    def _cache(self) -> CachingBackendModule | None:
        return cast(CachingBackendModule, self._impl()) if self.disk_cache else None

    def available(self) -> tuple[bool, str]:
        return self._impl().available()

    def compile(self, lowered: Lowered) -> Executable:  # noqa: A003
        return self._impl().compile(lowered)

    def usable(self) -> tuple[bool, str]:
        """Whether compiling for this target makes sense here, and if not why."""
        ok, why = self.available()
        return ok or self.inspect_without_device, why

    def host_key(self) -> str:
        """What compiled code depends on beyond the module and options (the host CPU for native code)."""
        cache = self._cache()
        return cache.host_key() if cache is not None else ""

    def load(self, key: str, lowered: Lowered) -> Executable | None:
        """The executable of `lowered` kept on disk under `key`, if any (its Report is `lowered`'s)."""
        cache = self._cache()
        return cache.load(key, lowered) if cache is not None else None

    def store(self, key: str, exe: Executable) -> None:
        cache = self._cache()
        if cache is not None:
            cache.store(key, exe)

    def disk_cache_info(self) -> dict[str, object] | None:
        """Location, entries, bytes and limit of the disk cache; None for a target without one."""
        cache = self._cache()
        return cache.disk_cache_info() if cache is not None else None

    def clear_disk_cache(self) -> int:
        """Empties the disk cache; returns how many files went."""
        cache = self._cache()
        return cache.clear_disk_cache() if cache is not None else 0

    def clear_memory_cache(self) -> None:
        """Forgets what the backend keeps in memory between compiles (compiled kernels); a backend
        never imported holds nothing, and is not imported for this."""
        if self.disk_cache and self.module in sys.modules:
            cast(CachingBackendModule, self._impl()).clear_memory_cache()


@functools.cache
def _import(module: str) -> BackendModule:
    return cast(BackendModule, importlib.import_module(module))


_BACKENDS: dict[str, Backend] = {}


def _register(backend: Backend) -> None:
    _BACKENDS[backend.name] = backend


_register(Backend("interpreter", "xla_magic.backends.interpreter", preset="interpreter"))
_register(Backend("cpu", "xla_magic.backends.cpu", preset="cpu", disk_cache=True))
_register(Backend("gpu", "xla_magic.backends.gpu", preset="gpu", inspect_without_device=True))


def names() -> tuple[str, ...]:
    return tuple(_BACKENDS)


def get(name: str) -> Backend:
    try:
        return _BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown target {name!r}; choose one of {', '.join(_BACKENDS)}") from None
