"""The compile cache on disk, so that restarting a notebook does not recompile.

One file per compiled module under the user's cache directory (`$XLA_MAGIC_CACHE_DIR`, else
`$XDG_CACHE_HOME/xla_magic`, else `~/.cache/xla_magic`; set the variable to `off` to disable):
a fixed magic, the length of a JSON header, the header (plain data: the key, the LLVM IR texts,
the entry point, the hash of the HLO the code was made from, the keys of the units it links, the
object code's size and SHA-256) and the raw ELF object of its glue. Each unit (a kernel or math
function, see `units`) is a file of its own in the same form (`store_object`, suffix .xmo), shared
by every module that links it. Nothing is unpickled or evaluated: every field is checked for its type
and size, the object's length, hash and ELF header are checked, and a file that fails any check
is removed and recompiled.

Machine code read from here is run, so the cache is only as trustworthy as its directory: it must
be the user's own. A directory owned by someone else or writable by others is neither read nor
written (`trusted()` says why).

The directory is bounded (`$XLA_MAGIC_CACHE_MAX_BYTES`, default 1 GiB): after each store the least
recently used entries (a hit touches its file) go first, and temporary files older than ten
minutes (left by killed processes) are removed."""
from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 3
MAGIC = b"XLAMAGIC-CACHE\x00\x03"
DEFAULT_MAX_BYTES = 1 << 30
STALE_TMP_SECONDS = 600
_MAX_HEADER = 256 << 20  # no sane entry has a bigger header; a bigger length is a forgery
_SUFFIX = ".xmc"
_OBJECT_SUFFIX = ".xmo"
# The directory's size as this process last counted it plus what it wrote since: the directory is
# scanned only when that passes the bound (or on the first store), not on every store.
_SIZE: dict[Path, int] = {}

# What a header holds: each field and the check its value must pass.
_FIELDS: dict[str, Callable[[Any], bool]] = {
    "format": lambda v: v == FORMAT,
    "key": lambda v: isinstance(v, str) and len(v) == 64,
    "entry": lambda v: isinstance(v, str) and 0 < len(v) < 256,
    "n_in": lambda v: type(v) is int and 0 <= v < 1 << 16,
    "n_out": lambda v: type(v) is int and 0 < v < 1 << 16,
    "kernels": lambda v: _str_map(v),
    "glue_opt": lambda v: type(v) is int and 0 <= v <= 3,
    "pieces": lambda v: isinstance(v, list) and all(_piece(p) for p in v),
    "units": lambda v: isinstance(v, list) and all(_is_key(k) for k in v),
    "hlo_sha256": lambda v: isinstance(v, str) and len(v) == 64,
    "compile_seconds": lambda v: type(v) in (int, float) and 0 <= v < 1e6,
    "pass_seconds": lambda v: isinstance(v, list) and all(type(x) in (int, float) for x in v),
    "object_size": lambda v: type(v) is int and 64 <= v < 1 << 31,
    "object_sha256": lambda v: isinstance(v, str) and len(v) == 64,
}


# A unit's object file: its key and the object's size and hash.
_OBJECT_FIELDS: dict[str, Callable[[Any], bool]] = {
    "format": lambda v: v == FORMAT,
    "key": lambda v: _is_key(v),
    "object_size": lambda v: type(v) is int and 64 <= v < 1 << 31,
    "object_sha256": lambda v: _is_key(v),
}


def _is_key(v: Any) -> bool:
    return isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v)


def _piece(v: Any) -> bool:
    """[name, LLVM IR, opt level]: a piece of a linked program as the notebook shows it."""
    return (isinstance(v, list) and len(v) == 3 and isinstance(v[0], str) and isinstance(v[1], str)
            and type(v[2]) is int and 0 <= v[2] <= 3)


def _str_map(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items())


@dataclass(frozen=True)
class Entry:
    """A loaded entry: the header's fields (checked) and the object code."""

    header: dict[str, Any]
    object_code: bytes


def cache_dir() -> Path | None:
    env = os.environ.get("XLA_MAGIC_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "none") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "xla_magic"


def max_bytes() -> int:
    """`$XLA_MAGIC_CACHE_MAX_BYTES` (bytes, or with a K, M or G suffix: 500M, 2GiB), else 1 GiB."""
    env = os.environ.get("XLA_MAGIC_CACHE_MAX_BYTES", "").strip().upper().removesuffix("IB").removesuffix("B")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(env[-1:], 1)
    try:
        return max(0, int(float(env[:-1] if scale > 1 else env) * scale))
    except ValueError:
        return DEFAULT_MAX_BYTES


def trusted(*dirs: Path) -> str | None:
    """Why these folders must not be used (None: they may): machine code is run from them, so
    they must be owned by this user and writable by nobody else."""
    getuid = getattr(os, "getuid", None)
    for p in dirs:
        st = p.lstat()
        if stat.S_ISLNK(st.st_mode):
            return f"{p} is a symbolic link"
        if getuid is not None and st.st_uid != getuid():
            return f"{p} is owned by another user"
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return f"{p} is writable by other users"
    return None


def _usable_dir(create: bool) -> Path | None:
    d = cache_dir()
    if d is None:
        return None
    try:
        if create:
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
        return d if d.is_dir() and trusted(d) is None else None
    except OSError:
        return None


def _path(d: Path, key: str, suffix: str = _SUFFIX) -> Path:
    return d / key[:2] / f"{key}{suffix}"


def encode(header: dict[str, Any], object_code: bytes) -> bytes:
    header = {**header, "format": FORMAT, "object_size": len(object_code),
              "object_sha256": hashlib.sha256(object_code).hexdigest()}
    text = json.dumps(header, separators=(",", ":")).encode()
    return MAGIC + struct.pack("<Q", len(text)) + text + object_code


def decode(raw: bytes, key: str, fields: dict[str, Callable[[Any], bool]] | None = None) -> Entry:
    """The entry in `raw`, every field checked; ValueError on the first thing that is not as written."""
    fields = _FIELDS if fields is None else fields
    if not raw.startswith(MAGIC):
        raise ValueError("not a cache entry")
    at = len(MAGIC) + 8
    if len(raw) < at:
        raise ValueError("truncated")
    (n,) = struct.unpack_from("<Q", raw, len(MAGIC))
    if n > min(_MAX_HEADER, len(raw) - at):
        raise ValueError("header length out of range")
    header = json.loads(raw[at:at + n].decode("utf-8"))  # plain data only
    if not isinstance(header, dict) or set(header) != set(fields):
        raise ValueError("wrong fields")
    bad = [k for k, check in fields.items() if not check(header[k])]
    if bad:
        raise ValueError(f"bad fields: {bad}")
    if header["key"] != key:
        raise ValueError("entry of another module")
    code = raw[at + n:]
    if len(code) != header["object_size"] or hashlib.sha256(code).hexdigest() != header["object_sha256"]:
        raise ValueError("object code truncated or altered")
    check_elf(code)
    return Entry(header, code)


def check_elf(code: bytes) -> None:
    """A relocatable ELF object of this machine's word size and byte order."""
    if code[:4] != b"\x7fELF":
        raise ValueError("object code is not ELF")
    word = {1: 4, 2: 8}.get(code[4])
    order = {1: "little", 2: "big"}.get(code[5])
    if word != struct.calcsize("P") or order != sys.byteorder:
        raise ValueError("object code for another word size or byte order")
    if int.from_bytes(code[16:18], order) != 1:  # e_type: ET_REL
        raise ValueError("object code is not a relocatable object")


def store(key: str, header: dict[str, Any], object_code: bytes, suffix: str = _SUFFIX) -> None:
    """Writes atomically (a temporary file renamed into place), then keeps the directory within
    its bound; errors only cost the cache."""
    d = _usable_dir(create=True)
    if d is None:
        return
    path = _path(d, key, suffix)
    try:
        body = encode({**header, "key": key}, object_code)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        if trusted(path.parent) is not None:
            return
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
            os.replace(tmp, path)
        except BaseException:
            _remove(Path(tmp))
            raise
        known = _SIZE.get(d)
        _SIZE[d] = -1 if known is None else known + len(body)
        if not 0 <= _SIZE[d] <= max_bytes():
            _SIZE[d] = evict(d, max_bytes(), keep=path)
    except (OSError, TypeError, ValueError):
        return


def store_object(key: str, object_code: bytes) -> None:
    """Stores a unit's object code under its content key."""
    store(key, {}, object_code, _OBJECT_SUFFIX)


def load_object(key: str) -> bytes | None:
    """The unit object stored under `key`, checked (else None, and a bad file removed)."""
    entry = load(key, _OBJECT_SUFFIX)
    return None if entry is None else entry.object_code


def load(key: str, suffix: str = _SUFFIX) -> Entry | None:
    """The entry stored under `key`, checked, its file touched (it is now the most recently used);
    None if absent. An entry that fails a check is removed."""
    d = _usable_dir(create=False)
    if d is None:
        return None
    path = _path(d, key, suffix)
    try:
        if trusted(path.parent) is not None:
            return None
        raw = path.read_bytes()
    except OSError:
        return None
    try:
        entry = decode(raw, key, _OBJECT_FIELDS if suffix == _OBJECT_SUFFIX else _FIELDS)
    except (ValueError, UnicodeDecodeError, RecursionError, struct.error):
        _remove(path)
        return None
    try:
        os.utime(path)
    except OSError:
        pass
    return entry


def discard(key: str) -> None:
    """Removes the entry under `key` (it decoded but could not be used)."""
    d = _usable_dir(create=False)
    if d is not None:
        _remove(_path(d, key))


def _remove(p: Path) -> None:
    try:
        p.unlink()
    except OSError:
        pass


def _files(d: Path) -> tuple[list[tuple[float, int, Path]], list[tuple[float, Path]]]:
    """Entries as (last use, size, path) and temporary files as (mtime, path)."""
    entries, tmps = [], []
    for p in d.glob("*/*"):
        try:
            st = p.stat()
        except OSError:
            continue
        if p.suffix in (_SUFFIX, _OBJECT_SUFFIX):
            entries.append((st.st_mtime, st.st_size, p))
        elif p.suffix == ".tmp":
            tmps.append((st.st_mtime, p))
    return entries, tmps


def evict(d: Path, limit: int, keep: Path | None = None) -> int:
    """Removes stale temporary files, then the least recently used entries until the directory
    holds at most `limit` bytes (`keep`, the entry just written, goes last); returns its size."""
    entries, tmps = _files(d)
    now = time.time()
    for mtime, p in tmps:
        if now - mtime > STALE_TMP_SECONDS:
            _remove(p)
    total = sum(size for _, size, _ in entries)
    for _, size, p in sorted(entries, key=lambda e: (e[2] == keep, e[0])):
        if total <= limit:
            break
        _remove(p)
        total -= size
    return total


def info() -> dict[str, Any]:
    """Location, entries (compiled modules), bytes (theirs and their units' objects) and limit of
    the cache (and why it is not used, if it is not)."""
    d = cache_dir()
    out: dict[str, Any] = {"location": str(d) if d is not None else "off", "entries": 0, "bytes": 0,
                           "max_bytes": max_bytes(), "refused": None}
    if d is None or not d.is_dir():
        return out
    out["refused"] = trusted(d)
    entries, _ = _files(d)
    out["entries"] = sum(1 for _, _, p in entries if p.suffix == _SUFFIX)
    out["bytes"] = sum(size for _, size, _ in entries)
    return out


def clear() -> int:
    """Removes every entry and temporary file; returns how many files went."""
    d = _usable_dir(create=False)
    if d is None:
        return 0
    entries, tmps = _files(d)
    for p in [p for _, _, p in entries] + [p for _, p in tmps]:
        _remove(p)
    _SIZE.pop(d, None)
    return len(entries) + len(tmps)
