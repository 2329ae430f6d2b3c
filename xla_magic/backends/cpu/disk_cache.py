"""The compile cache on disk, so that restarting a notebook does not recompile.

One file per compiled module under the user's cache directory (`$XLA_MAGIC_CACHE_DIR`, else
`$XDG_CACHE_HOME/xla_magic`, else `~/.cache/xla_magic`; set the variable to `off` to disable).
A file holds the optimized HLO, the Report (without its lazily produced texts), the LLVM IR and
the machine code, behind a SHA-256 of its contents. A file that fails to read, does not match
its checksum or its key, or comes from another format version is removed and recompiled, never
trusted."""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

FORMAT = 1


def cache_dir() -> Path | None:
    env = os.environ.get("XLA_MAGIC_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "none") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "xla_magic"


def _path(key: str) -> Path | None:
    d = cache_dir()
    return None if d is None else d / key[:2] / f"{key}.xmc"


def store(key: str, payload: dict) -> None:
    """Writes atomically (a temporary file renamed into place); errors only cost the cache."""
    path = _path(key)
    if path is None:
        return
    try:
        body = pickle.dumps({"format": FORMAT, "key": key, **payload}, protocol=pickle.HIGHEST_PROTOCOL)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(hashlib.sha256(body).digest())
            fh.write(body)
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return


def load(key: str) -> dict | None:
    path = _path(key)
    if path is None or not path.exists():
        return None
    try:
        raw = path.read_bytes()
        digest, body = raw[:32], raw[32:]
        if hashlib.sha256(body).digest() != digest:
            raise ValueError("checksum mismatch")
        data = pickle.loads(body)
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
            raise ValueError("stale entry")
        return data
    except Exception:  # noqa: BLE001 - a corrupt or stale entry is dropped and recompiled
        try:
            path.unlink()
        except OSError:
            pass
        return None
