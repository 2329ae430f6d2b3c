"""The compile cache: in memory, and on disk across processes; corrupt entries are recompiled."""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import pickle
import struct
import subprocess
import sys
import time

import numpy as np

import xla_magic as xm
from xla_magic import api
from xla_magic.backends.cpu import objects

TEXT = "HloModule c\n\nENTRY e {\n  x = f32[256] parameter(0)\n  ROOT r = f32[256] tanh(x)\n}\n"


def test_memory_cache_returns_the_same_executable():
    a = xm.compile(TEXT, target="cpu")
    assert xm.compile(TEXT, target="cpu") is a
    assert xm.compile(TEXT, target="cpu", optimize=False) is not a
    assert xm.compile(TEXT, target="cpu", cache=False) is not a


def test_disk_cache_skips_llvm_and_gives_the_same_results(tmp_path, monkeypatch):
    monkeypatch.setenv("XLA_MAGIC_CACHE_DIR", str(tmp_path))
    text = TEXT.replace("tanh", "exponential")
    api.clear_cache()
    first = xm.compile(text, target="cpu")
    files = list(tmp_path.rglob("*.xmc"))
    assert len(files) == 1
    api.clear_cache()
    again = xm.compile(text, target="cpu")
    assert again is not first
    assert again.loaded_from_disk and not first.loaded_from_disk  # machine code mapped, LLVM not run
    x = np.linspace(-3, 3, 256, dtype=np.float32)
    np.testing.assert_array_equal(again(x), first(x))
    assert again.report.hlo_after == first.report.hlo_after and again.report.fusion_plan.kernels
    assert "ret" in again.report.artifacts["asm"]
    # The Report comes back as the notebook showed it: rebuilt from the optimizer, texts as stored.
    a, b = first.report, again.report
    assert (a.hlo_before, a.fusion_plan, a.buffers, a.cost, a.compile_seconds) == \
        (b.hlo_before, b.fusion_plan, b.buffers, b.cost, b.compile_seconds)
    assert [(p.name, p.changed, p.seconds, p.text) for p in a.passes] == \
        [(p.name, p.changed, p.seconds, p.text) for p in b.passes]
    for k in ("llvm_ir", "llvm_ir_opt", "asm"):
        assert a.artifacts[k] == b.artifacts[k], k
    for kernel in a.artifacts.kernels:
        assert a.artifacts.kernel(kernel) == b.artifacts.kernel(kernel)


def test_corrupt_or_stale_entries_are_recompiled(tmp_path, monkeypatch):
    monkeypatch.setenv("XLA_MAGIC_CACHE_DIR", str(tmp_path))
    text = TEXT.replace("tanh", "log")
    api.clear_cache()
    xm.compile(text, target="cpu")
    (f,) = tmp_path.rglob("*.xmc")
    raw = bytearray(f.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    f.write_bytes(bytes(raw))
    api.clear_cache()
    exe = xm.compile(text, target="cpu")
    x = np.linspace(0.5, 3, 256, dtype=np.float32)
    np.testing.assert_allclose(exe(x), np.log(x), rtol=1e-6)
    assert not exe.loaded_from_disk  # compiled afresh
    (f2,) = tmp_path.rglob("*.xmc")  # and stored again, intact
    api.clear_cache()
    assert xm.compile(text, target="cpu").loaded_from_disk
    f2.write_bytes(b"garbage")
    api.clear_cache()
    np.testing.assert_allclose(xm.compile(text, target="cpu")(x), np.log(x), rtol=1e-6)


def test_a_new_process_loads_from_disk(tmp_path):
    code = ("import time, numpy as np, xla_magic as xm; t=time.perf_counter(); "
            f"e=xm.compile({TEXT!r}, target='cpu'); "
            "print(e.loaded_from_disk); print(float(e(np.ones(256, np.float32))[0]))")
    env = dict(os.environ, XLA_MAGIC_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
            for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr
    (disk1, v1), (disk2, v2) = (r.stdout.split() for r in runs)
    assert (disk1, disk2) == ("False", "True") and v1 == v2


# --- the disk cache trusts nothing it reads -------------------------------------------------

def _entry_file(tmp_path):
    (f,) = tmp_path.rglob("*.xmc")
    return f


def _compile_and_check(text, x, want):
    api.clear_cache()
    exe = xm.compile(text, target="cpu")
    np.testing.assert_allclose(exe(x), want, rtol=1e-6)
    return exe


class _Touch:
    """Unpickling this creates a file: proof that a loader ran code from the cache."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.path),))


def _forgeries(real: bytes, key: str, marker) -> dict[str, bytes]:
    from xla_magic.backends.cpu import disk_cache

    entry = disk_cache.decode(real, key)
    h, code = dict(entry.header), entry.object_code
    body = pickle.dumps({"format": 1, "key": key, "x": _Touch(marker)})
    at = len(disk_cache.MAGIC) + 8

    def raw(header: dict, object_code: bytes) -> bytes:  # as written, nothing recomputed
        text = json.dumps(header).encode()
        return disk_cache.MAGIC + struct.pack("<Q", len(text)) + text + object_code

    ud2 = bytearray(code)
    ud2[64:] = b"\x0f\x0b" * ((len(code) - 64) // 2) + b"\x0f" * (len(code) % 2)  # would trap if mapped
    return {
        "pickle": hashlib.sha256(body).digest() + body,
        "random": os.urandom(len(real)),
        "wrong size": raw({**h, "object_size": len(code) + 4096}, code),
        "truncated": real[: len(real) - 100],
        "header says more than there is": disk_cache.MAGIC + struct.pack("<Q", 1 << 40) + real[at:],
        "not ELF": disk_cache.encode(h, b"\x00" * len(code)),
        "extra field": disk_cache.encode({**h, "run": "print(1)"}, code),
        "wrong type": disk_cache.encode({**h, "n_in": "1"}, code),
        "another module's key": disk_cache.encode({**h, "key": "0" * 64}, code),
        "code of another module": disk_cache.encode({**h, "hlo_sha256": "f" * 64}, bytes(ud2)),
    }


def test_forged_entries_are_rejected_removed_and_never_run(tmp_path, monkeypatch):
    monkeypatch.setenv("XLA_MAGIC_CACHE_DIR", str(tmp_path / "cache"))
    text = TEXT.replace("tanh", "sqrt")
    x = np.linspace(0.5, 3, 256, dtype=np.float32)
    _compile_and_check(text, x, np.sqrt(x))
    f = _entry_file(tmp_path / "cache")
    real, key = f.read_bytes(), f.stem
    from xla_magic.backends.cpu import disk_cache

    marker = tmp_path / "pwned"
    for what, forged in _forgeries(real, key, marker).items():
        f.write_bytes(forged)
        exe = _compile_and_check(text, x, np.sqrt(x))
        assert not exe.loaded_from_disk, what
        assert not marker.exists(), what
        disk_cache.decode(f.read_bytes(), key)  # the forgery is gone, the recompiled entry stored in its place
    assert _compile_and_check(text, x, np.sqrt(x)).loaded_from_disk


def test_a_cache_directory_others_can_write_is_not_used(tmp_path, monkeypatch):
    d = tmp_path / "shared"
    d.mkdir(mode=0o777)
    d.chmod(0o777)
    monkeypatch.setenv("XLA_MAGIC_CACHE_DIR", str(d))
    text = TEXT.replace("tanh", "negate")
    x = np.linspace(-1, 1, 256, dtype=np.float32)
    _compile_and_check(text, x, -x)
    assert not list(d.rglob("*.xmc"))  # nothing written
    d.chmod(0o700)
    _compile_and_check(text, x, -x)
    f = _entry_file(d)
    d.chmod(0o777)
    assert not _compile_and_check(text, x, -x).loaded_from_disk  # nothing read
    assert f.exists()
    assert api.cache_info()["disk:cpu"]["refused"]


def _module(k: int) -> str:
    return TEXT.replace("tanh(x)", "add(x, b)").replace(
        "  ROOT", f"  c = f32[] constant({k})\n  b = f32[256] broadcast(c), dimensions={{}}\n  ROOT")


def test_disk_cache_stays_within_its_bound_least_recently_used_first(tmp_path, monkeypatch):
    monkeypatch.setenv("XLA_MAGIC_CACHE_DIR", str(tmp_path))
    x = np.zeros(256, np.float32)
    files: dict[int, set[pathlib.Path]] = {}  # a module's entry and its kernels' objects

    def compile_new(k: int) -> None:
        seen = set(tmp_path.rglob("*.xm?"))
        _compile_and_check(_module(k), x, x + k)
        files[k] = set(tmp_path.rglob("*.xm?")) - seen

    def entry_of(k: int) -> pathlib.Path:
        (f,) = (p for p in files[k] if p.suffix == ".xmc")
        return f

    def cache_bytes() -> int:
        return sum(p.stat().st_size for p in tmp_path.rglob("*.xm?"))

    compile_new(1)
    limit = int(cache_bytes() * 3.5)
    monkeypatch.setenv("XLA_MAGIC_CACHE_MAX_BYTES", str(limit))
    for k in (2, 3):
        compile_new(k)
    now = time.time()
    for age, k in ((300, 1), (200, 2), (100, 3)):  # file times say when each was last used: 1 first
        for f in files[k]:
            os.utime(f, (now - age, now - age))
    objects.clear()
    assert _compile_and_check(_module(1), x, x + 1).loaded_from_disk  # a hit: 1 is now the most recent
    for k in (4, 5):
        compile_new(k)
        assert cache_bytes() <= limit
    assert {k for k in files if entry_of(k).exists()} == {1, 4, 5}  # 2 and 3 went first


def test_stale_temporary_files_are_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("XLA_MAGIC_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("XLA_MAGIC_CACHE_MAX_BYTES", "1")  # every store scans the directory
    x = np.zeros(256, np.float32)
    sub = tmp_path / "ab"
    sub.mkdir(mode=0o700)
    old, fresh = sub / "killed.tmp", sub / "writing.tmp"
    old.write_bytes(b"x" * 100)
    fresh.write_bytes(b"x" * 100)
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    _compile_and_check(_module(6), x, x + 6)
    assert not old.exists() and fresh.exists()
    assert not list(tmp_path.rglob("*.xmc"))  # an entry bigger than the bound is not kept either


def test_cache_info_and_clear_from_python_and_the_cli(tmp_path, monkeypatch, capsys):
    from xla_magic import cli

    monkeypatch.setenv("XLA_MAGIC_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("XLA_MAGIC_CACHE_MAX_BYTES", "64M")
    x = np.zeros(256, np.float32)
    for k in (7, 8):
        _compile_and_check(_module(k), x, x + k)
    info = api.cache_info()
    disk = info["disk:cpu"]
    assert (disk["location"], disk["entries"], disk["max_bytes"]) == (str(tmp_path), 2, 64 << 20)
    assert disk["bytes"] == sum(p.stat().st_size for p in tmp_path.rglob("*.xm?"))  # entries and kernel objects
    assert info["memory"]["entries"] == 1 and info["memory"]["bytes"] > 0
    assert cli.main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path) in out and "2 entries" in out and "of 64 MiB" in out
    assert cli.main(["cache", "clear"]) == 0
    assert "0 entries" in capsys.readouterr().out
    assert not list(tmp_path.rglob("*.xmc")) and api.cache_info()["memory"]["entries"] == 0


def test_memory_cache_is_bounded_by_bytes_least_recently_used_first():
    api.clear_cache()
    x = np.zeros(256, np.float32)
    exes = [xm.compile(_module(k), target="cpu", cache=True) for k in (10, 11)]
    per = api.footprint(exes[0])
    assert per > 1000  # machine code and texts are counted
    try:
        api.set_cache_limit(max_bytes=int(per * 2.5))
        assert xm.compile(_module(10), target="cpu") is exes[0]  # 10 used last
        xm.compile(_module(12), target="cpu")
        assert xm.compile(_module(10), target="cpu") is exes[0]
        assert xm.compile(_module(11), target="cpu") is not exes[1]  # 11 went
        assert api.cache_info()["memory"]["bytes"] <= per * 2.5
    finally:
        api.set_cache_limit(max_bytes=256 << 20)
    exes[0](x)


def test_memory_is_given_back_over_many_compiles():
    """Each compile's native memory (LLVM's pipeline, engine, machine code) goes once its
    executable is dropped: measured in a fresh process, RSS growth per compile of distinct modules
    with the in-memory cache full (before: ~270 KiB per compile)."""
    code = ("import sys; sys.path.insert(0, 'benchmarks'); import memory_growth as m; "
            "print(m.growth_per_compile(compiles=120, warmup=30))")
    root = pathlib.Path(__file__).resolve().parent.parent
    env = dict(os.environ, XLA_MAGIC_CACHE_DIR="off")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300, cwd=root)
    assert r.returncode == 0, r.stderr
    assert float(r.stdout.split()[-1]) < 48 * 1024


def test_a_collected_jit_module_closes_its_engine_at_once():
    import gc

    from xla_magic.backends.cpu.jit import compile_ir

    jm = compile_ir("define void @f() {\nentry:\n  ret void\n}\n", ["f"])
    engine = jm._engine  # held here: only the module's finalizer can close it now
    del jm
    gc.collect()
    assert engine.closed


def test_a_dropped_executable_is_freed_without_waiting_for_the_garbage_collector():
    """Reference counting alone frees an executable and its machine code: a notebook that drops
    executables never waits for a cyclic collection to get the memory back."""
    import gc
    import weakref

    text = "HloModule m\nENTRY e {\n  x = f32[4] parameter(0)\n  ROOT y = f32[4] add(x, x)\n}\n"
    gc.disable()
    try:
        for target in ("cpu", "interpreter"):
            exe = xm.compile(text, target=target, cache=False)
            exe(np.ones(4, np.float32))
            refs = [weakref.ref(exe)]
            if target == "cpu":
                refs.append(weakref.ref(exe.backend_state.jit))  # the machine code's owner
            del exe
            assert all(r() is None for r in refs), target
    finally:
        gc.enable()
