"""The cpu target compiles each kernel once: unchanged kernels of an edited module, and equal
kernels of different modules, come from the unit object cache (in memory, on disk across
processes), which stays bounded and shrugs off damaged files. Compiles are counted by the jit's
counter, never timed."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import xla_magic as xm
from xla_magic.backends.cpu import objects
from xla_magic.backends.cpu.jit import COMPILE_COUNT

# Three kernels: a tanh loop, a dot, and a scaled exponential of the dot.
TEXT = """HloModule inc

ENTRY e {
  x = f32[8,32] parameter(0)
  w = f32[32,16] parameter(1)
  t = f32[8,32] tanh(x)
  d = f32[8,16] dot(t, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  e = f32[8,16] exponential(d)
  c = f32[] constant(SCALE)
  b = f32[8,16] broadcast(c), dimensions={}
  ROOT r = f32[8,16] multiply(e, b)
}
"""


def _text(scale: float, suffix: str = "") -> str:
    text = TEXT.replace("SCALE", repr(scale))
    for name in ("t", "d", "e", "b", "r"):  # other instruction names, the same program
        text = text.replace(f"  {name} = ", f"  {name}{suffix} = ").replace(f"({name},", f"({name}{suffix},")
        text = text.replace(f"({name})", f"({name}{suffix})").replace(f", {name})", f", {name}{suffix})")
    return text


def _args() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.uniform(-1, 1, (8, 32)).astype(np.float32), rng.uniform(-0.2, 0.2, (32, 16)).astype(np.float32)]


def _want(scale: float) -> np.ndarray:
    x, w = _args()
    return np.exp(np.tanh(x) @ w) * np.float32(scale)


def _compile(text: str) -> tuple[xm.Executable, int]:
    """The executable and how many units LLVM compiled for it."""
    before = COMPILE_COUNT["unit"]
    exe = xm.compile(text, target="cpu", cache=False)  # no executable reused: only unit objects
    return exe, COMPILE_COUNT["unit"] - before


@pytest.fixture
def no_disk(monkeypatch):
    monkeypatch.setenv("XLA_MAGIC_CACHE_DIR", "off")


def test_an_edited_instruction_recompiles_only_its_kernel(no_disk):
    first, n_first = _compile(_text(1.25))
    assert len(first.report.artifacts.kernels) == 3
    np.testing.assert_allclose(first(*_args()), _want(1.25), rtol=1e-5)
    again, n_again = _compile(_text(1.25))
    assert n_again == 0 and sorted(again.report.cached_kernels) == sorted(again.report.artifacts.kernels)
    edited, n_edited = _compile(_text(2.5))
    assert n_edited == 1  # the scaled exponential; the tanh loop and the dot are reused
    assert len(edited.report.cached_kernels) == 2
    np.testing.assert_allclose(edited(*_args()), _want(2.5), rtol=1e-5)
    np.testing.assert_allclose(first(*_args()), _want(1.25), rtol=1e-5)  # the first still runs its own code


def test_equal_kernels_of_two_modules_are_compiled_once(no_disk):
    a, _ = _compile(_text(3.5))
    b, n = _compile(_text(3.5, suffix="_renamed"))
    assert n == 0  # instruction names are not part of a kernel's key
    assert len(b.report.cached_kernels) == 3
    np.testing.assert_array_equal(a(*_args()), b(*_args()))


def test_the_report_splits_the_compile_time(no_disk):
    exe, _ = _compile(_text(4.5))
    phases = exe.report.compile_phases
    assert {"passes", "ir", "optimize", "codegen", "link"} <= set(phases)
    assert all(v >= 0 for v in phases.values())
    assert sum(phases.values()) <= exe.report.compile_seconds * 1.05 + 1e-3


def test_kernel_texts_name_the_kernel_not_its_symbol(no_disk):
    exe, _ = _compile(_text(5.5))
    arts = exe.report.artifacts
    for fn in arts.kernels:
        assert f'@"{fn}"' in arts.kernel(fn)["llvm_ir"] and "xmk_" not in arts.kernel(fn)["llvm_ir"]
    assert "xm_entry" in arts["llvm_ir"] and "define" in arts["llvm_ir_opt"] and arts["asm"].strip()


_CHILD = """
import sys, numpy as np, xla_magic as xm
from xla_magic.backends.cpu.jit import COMPILE_COUNT
exe = xm.compile(sys.argv[1], target="cpu", cache=False)
x = np.ones((8, 32), np.float32); w = np.full((32, 16), 0.01, np.float32)
print(COMPILE_COUNT["unit"], len(exe.report.cached_kernels), float(exe(x, w)[0, 0]))
"""


def test_unit_objects_are_reused_by_another_process(tmp_path):
    env = dict(os.environ, XLA_MAGIC_CACHE_DIR=str(tmp_path))

    def child(text: str) -> list[str]:
        r = subprocess.run([sys.executable, "-c", _CHILD, text], capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        return r.stdout.split()

    n1, cached1, v1 = child(_text(6.5))
    assert int(n1) >= 3 and cached1 == "0"  # the kernels and the math functions they call
    assert len(list(tmp_path.rglob("*.xmo"))) == int(n1)
    n2, cached2, v2 = child(_text(6.5, suffix="_other"))  # another module with the same kernels
    assert (n2, cached2, v2) == ("0", "3", v1)


def test_a_damaged_object_file_is_ignored_and_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("XLA_MAGIC_CACHE_DIR", str(tmp_path))
    objects.clear(math=True)
    _, n = _compile(_text(7.5))
    files = sorted(tmp_path.rglob("*.xmo"), key=lambda p: p.stat().st_size)
    assert len(files) == n >= 3
    for k, f in enumerate(files):  # every kind of damage, one file each
        raw = bytearray(f.read_bytes())
        if k % 3 == 0:
            raw[len(raw) // 2] ^= 0xFF
        elif k % 3 == 1:
            raw = raw[: len(raw) - 17]
        else:
            raw = bytearray(b"garbage")
        f.write_bytes(bytes(raw))
    objects.clear(math=True)
    exe, n_again = _compile(_text(7.5))
    assert n_again == len(files)  # nothing damaged was mapped: each unit compiled again
    np.testing.assert_allclose(exe(*_args()), _want(7.5), rtol=1e-5)
    objects.clear(math=True)
    _, n_third = _compile(_text(7.5))
    assert n_third == 0  # and stored again, intact


def test_the_disk_and_memory_caches_stay_bounded(tmp_path, monkeypatch):
    monkeypatch.setenv("XLA_MAGIC_CACHE_DIR", str(tmp_path))
    _compile(_text(8.5))
    one = sum(p.stat().st_size for p in tmp_path.rglob("*.xm?"))
    limit = int(one * 2.5)
    monkeypatch.setenv("XLA_MAGIC_CACHE_MAX_BYTES", str(limit))
    for k in range(6):
        _compile(_text(9.5 + k))
        assert sum(p.stat().st_size for p in tmp_path.rglob("*.xm?")) <= limit
    limit_memory = objects.info()["bytes"] // 2
    objects.set_limit(limit_memory)
    try:
        for k in range(4):
            _compile(_text(20.5 + k))
            assert objects.info()["bytes"] <= limit_memory
    finally:
        objects.set_limit(objects.DEFAULT_MAX_BYTES)


@pytest.mark.parametrize("reducer, fn", [("add", np.sum), ("maximum", np.max), ("minimum", np.min)])
def test_kernels_differing_only_in_a_called_computation_are_told_apart(no_disk, reducer, fn):
    text = f"""HloModule red

r {{
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT c = f32[] {reducer}(a, b)
}}

ENTRY e {{
  x = f32[16,64] parameter(0)
  z = f32[] constant(0)
  ROOT s = f32[16] reduce(x, z), dimensions={{1}}, to_apply=r
}}
"""
    x = np.random.default_rng(1).uniform(-1, 1, (16, 64)).astype(np.float32)
    want = fn(np.concatenate([x, np.zeros((16, 1), np.float32)], axis=1), axis=1)
    np.testing.assert_allclose(xm.compile(text, target="cpu", cache=False)(x), want, rtol=1e-5, atol=1e-6)


def _compile_in_child(scale: float, out) -> None:
    objects.clear(math=True)  # every unit compiled again: several at once
    exe, _ = _compile(_text(scale))
    out.put(float(np.max(np.abs(exe(*_args()) - _want(scale)))))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_process_compiles_on_threads_of_its_own(no_disk):
    import multiprocessing

    objects.clear()
    _compile(_text(30.5))  # the parent's compile threads exist now
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_compile_in_child, args=(31.5, out))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked process hung compiling")
    assert child.exitcode == 0 and out.get(timeout=5) < 1e-4


def test_clear_cache_forgets_the_kernels_kept_for_later_compiles(no_disk):
    text = "HloModule c\nENTRY e {\n  x = f32[7] parameter(0)\n  ROOT y = f32[7] cosine(x)\n}\n"
    _compile(text)
    assert _compile(text)[1] == 0  # the kernel's object was kept
    xm.clear_cache()
    assert _compile(text)[1] == 1
