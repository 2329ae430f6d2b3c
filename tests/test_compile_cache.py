"""The compile cache: in memory, and on disk across processes; corrupt entries are recompiled."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

import xla_magic as xm
from xla_magic import api

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
