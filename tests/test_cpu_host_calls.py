"""Library work the cpu backend runs in Python (host calls): every LAPACK target the interpreter
runs and fft, on each dtype, batched, against the interpreter; errors, threads, and who refuses them."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import xla_magic as xm

pytest.importorskip("llvmlite")

from xla_magic.backends.base import Executable  # noqa: E402
from xla_magic.backends.cpu import host_calls  # noqa: E402
from xla_magic.hlo.ir import Module  # noqa: E402

_TYPES = {"s": ("f32", np.float32), "d": ("f64", np.float64), "c": ("c64", np.complex64), "z": ("c128", np.complex128)}
_CHARS = {"uplo": {"L": 76, "U": 85}, "side": {"L": 76, "R": 82}, "trans_x": {"N": 78, "T": 84, "C": 67},
          "diag": {"N": 78, "U": 85}, "mode": {"V": 86, "N": 78}}


def _config(**cfg: str) -> str:
    return ", ".join(f"{k} = {_CHARS[k][v]} : ui8" for k, v in cfg.items())


def _shape(t: str, dims: tuple[int, ...]) -> str:
    return f"{t}[{','.join(map(str, dims))}]"


def _module(target: str, operands: list[tuple[str, tuple[int, ...]]], results: list[tuple[str, tuple[int, ...]]],
            config: str = "") -> Module:
    params = "\n".join(f"  p{k} = {_shape(t, d)} parameter({k})" for k, (t, d) in enumerate(operands))
    out = [_shape(t, d) for t, d in results]
    shape = out[0] if len(out) == 1 else f"({', '.join(out)})"
    args = ", ".join(f"p{k}" for k in range(len(operands)))
    return xm.parse_hlo(f"HloModule lapack\n\nENTRY e {{\n{params}\n  ROOT c = {shape} custom-call({args}), "
                        f"custom_call_target=\"{target}\", backend_config=\"{{{config}}}\"\n}}\n")


def _matrix(rng: np.random.Generator, npd: type, dims: tuple[int, ...]) -> np.ndarray:
    a = rng.standard_normal(dims)
    if np.dtype(npd).kind == "c":
        a = a + 1j * rng.standard_normal(dims)
    return a.astype(npd)


def _spd(rng: np.random.Generator, npd: type, dims: tuple[int, ...]) -> np.ndarray:
    a = _matrix(rng, npd, dims)
    n = dims[-1]
    return (a @ np.swapaxes(a, -1, -2).conj() + n * np.eye(n)).astype(npd)


def _same(exe: Executable, m: Module, *args: np.ndarray) -> None:
    want = xm.interpret(m, *args)
    got = exe(*args)
    want, got = (want, got) if isinstance(want, tuple) else ((want,), (got,))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)  # the same numpy code ran on the same values


BATCHES = {"single": (), "batched": (3,), "batched_2d": (2, 2)}


@pytest.mark.parametrize("t", list(_TYPES))
@pytest.mark.parametrize("batch", list(BATCHES))
def test_getrf(t, batch):
    name, npd = _TYPES[t]
    dims = BATCHES[batch] + (5, 4)  # a rectangular LU: min(m, n) pivots
    m = _module(f"lapack_{t}getrf_ffi", [(name, dims)], [(name, dims), ("s32", dims[:-2] + (4,)),
                                                           ("s32", dims[:-2])])
    exe = xm.compile(m, target="cpu", cache=False)
    rng = np.random.default_rng(1)
    _same(exe, m, _matrix(rng, npd, dims))
    singular = np.zeros(dims, npd)
    _same(exe, m, singular)
    assert (exe(singular)[2] == 1).all()  # info: the first zero pivot, 1-based


@pytest.mark.parametrize("t", list(_TYPES))
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_potrf(t, uplo):
    name, npd = _TYPES[t]
    dims = (3, 4, 4) if uplo == "L" else (4, 4)
    m = _module(f"lapack_{t}potrf_ffi", [(name, dims)], [(name, dims), ("s32", dims[:-2])], _config(uplo=uplo))
    exe = xm.compile(m, target="cpu", cache=False)
    rng = np.random.default_rng(2)
    _same(exe, m, _spd(rng, npd, dims))
    indefinite = -_spd(rng, npd, dims)
    _same(exe, m, indefinite)
    assert (exe(indefinite)[1] > 0).all()


TRSM = [dict(side="L", uplo="L", trans_x="N", diag="N"), dict(side="L", uplo="U", trans_x="T", diag="U"),
        dict(side="R", uplo="L", trans_x="C", diag="N"), dict(side="R", uplo="U", trans_x="N", diag="U")]


@pytest.mark.parametrize("t", list(_TYPES))
@pytest.mark.parametrize("cfg", range(len(TRSM)))
def test_trsm(t, cfg):
    name, npd = _TYPES[t]
    c = TRSM[cfg]
    a_dims = (2, 4, 4) if cfg % 2 else (4, 4)
    b_dims = a_dims[:-2] + ((4, 3) if c["side"] == "L" else (3, 4))
    m = _module(f"lapack_{t}trsm_ffi", [(name, a_dims), (name, b_dims)], [(name, b_dims)], _config(**c))
    exe = xm.compile(m, target="cpu", cache=False)
    rng = np.random.default_rng(3)
    a = _matrix(rng, npd, a_dims) + 4 * np.eye(4, dtype=npd)
    _same(exe, m, a, _matrix(rng, npd, b_dims))


@pytest.mark.parametrize("t", list(_TYPES))
@pytest.mark.parametrize("batch", list(BATCHES))
def test_geqrf_and_orgqr(t, batch):
    name, npd = _TYPES[t]
    dims = BATCHES[batch] + (5, 3)  # a tall QR: min(m, n) reflectors
    qr = _module(f"lapack_{t}geqrf_ffi", [(name, dims)], [(name, dims), (name, dims[:-2] + (3,))])
    form = _module(f"lapack_{t}{'ung' if t in 'cz' else 'org'}qr_ffi", [(name, dims), (name, dims[:-2] + (3,))],
                   [(name, dims)])
    a = _matrix(np.random.default_rng(4), npd, dims)
    packed, tau = xm.compile(qr, target="cpu", cache=False)(a)
    _same(xm.compile(qr, target="cpu", cache=False), qr, a)
    q = xm.compile(form, target="cpu", cache=False)(packed, tau)
    _same(xm.compile(form, target="cpu", cache=False), form, packed, tau)
    want_q, want_r = np.linalg.qr(a)  # LAPACK's geqrf + orgqr: the same signs
    tol = 1e-5 if npd in (np.float32, np.complex64) else 1e-12
    np.testing.assert_allclose(np.triu(packed[..., :3, :]), want_r, atol=tol)
    np.testing.assert_allclose(q, want_q, atol=tol)
    np.testing.assert_allclose(q @ np.triu(packed[..., :3, :]), a, atol=tol * 10)


@pytest.mark.parametrize("t", list(_TYPES))
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_syevd_and_heevd(t, uplo):
    name, npd = _TYPES[t]
    real = {"s": ("f32", np.float32), "d": ("f64", np.float64), "c": ("f32", np.float32), "z": ("f64", np.float64)}[t]
    dims = (2, 4, 4) if uplo == "L" else (4, 4)
    target = f"lapack_{t}{'he' if t in 'cz' else 'sy'}evd_ffi"
    m = _module(target, [(name, dims)], [(name, dims), (real[0], dims[:-1]), ("s32", dims[:-2])],
                _config(uplo=uplo, mode="V"))
    exe = xm.compile(m, target="cpu", cache=False)
    a = _matrix(np.random.default_rng(5), npd, dims)
    a = (a + np.swapaxes(a, -1, -2).conj()) / 2
    _same(exe, m, a)
    v, w, info = exe(a)
    assert w.dtype == real[1] and (np.diff(w, axis=-1) >= 0).all() and (info == 0).all()  # ascending
    tol = 1e-4 if real[1] is np.float32 else 1e-10
    np.testing.assert_allclose(w, np.linalg.eigvalsh(a), atol=tol)
    np.testing.assert_allclose(a @ v, v * w[..., None, :], atol=tol)
    bad = np.full(dims, np.nan, npd)
    _same(exe, m, bad)
    assert (exe(bad)[2] > 0).all() and np.isnan(exe(bad)[1]).all()  # info reports it, values are NaN


@pytest.mark.parametrize("t", list(_TYPES))
@pytest.mark.parametrize("mode", ["A", "S", "N"])
def test_gesdd(t, mode):
    name, npd = _TYPES[t]
    real = {"s": "f32", "d": "f64", "c": "f32", "z": "f64"}[t]
    dims = (2, 5, 3) if mode == "S" else (5, 3)
    batch = dims[:-2]
    u_dims, vt_dims = (batch + (5, 3), batch + (3, 3)) if mode == "S" else (batch + (5, 5), batch + (3, 3))
    m = _module(f"lapack_{t}gesdd_ffi", [(name, dims)],
                [(name, dims), (real, batch + (3,)), (name, u_dims), (name, vt_dims), ("s32", batch)],
                f"mode = {ord(mode)} : ui8")
    exe = xm.compile(m, target="cpu", cache=False)
    a = _matrix(np.random.default_rng(6), npd, dims)
    _same(exe, m, a)
    _, s, u, vt, info = exe(a)
    tol = 1e-4 if npd in (np.float32, np.complex64) else 1e-10
    assert (info == 0).all() and (np.diff(s, axis=-1) <= 0).all()  # descending
    np.testing.assert_allclose(s, np.linalg.svd(a, compute_uv=False), atol=tol)
    if mode != "N":
        np.testing.assert_allclose((u[..., :, :3] * s[..., None, :]) @ vt, a, atol=tol * 10)


def _lu_and_more() -> Module:
    """A big threaded elementwise kernel, then an LU of a slice of its result, in one program."""
    return xm.parse_hlo("""HloModule mixed

ENTRY e {
  x = f32[2048,1024] parameter(0)
  y = f32[2048,1024] multiply(x, x)
  s = f32[4,4] slice(y), slice={[0:4], [0:4]}
  lu = (f32[4,4], s32[4], s32[]) custom-call(s), custom_call_target="lapack_sgetrf_ffi"
  f = f32[4,4] get-tuple-element(lu), index=0
  ROOT t = (f32[2048,1024], f32[4,4]) tuple(y, f)
}
""")


def test_host_calls_from_several_threads_with_threaded_kernels():
    m = _lu_and_more()
    exe = xm.compile(m, target="cpu", cache=False)
    rng = np.random.default_rng(4)
    xs = [rng.standard_normal((2048, 1024)).astype(np.float32) for _ in range(4)]
    want = [xm.interpret(m, x) for x in xs]
    got: list[object] = [None] * len(xs)

    def work(k: int) -> None:
        for _ in range(5):
            got[k] = exe(xs[k])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(xs))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not any(th.is_alive() for th in threads)
    for g, w in zip(got, want):
        assert isinstance(g, tuple)
        for a, b in zip(g, w):
            np.testing.assert_array_equal(a, b)


def test_modules_compiled_on_several_threads_keep_their_own_host_calls():
    mods = [_module(f"lapack_{t}getrf_ffi", [(_TYPES[t][0], (3, 3))],
                    [(_TYPES[t][0], (3, 3)), ("s32", (3,)), ("s32", ())]) for t in "sdsd"]
    exes: list[object] = [None] * len(mods)

    def build(k: int) -> None:
        exes[k] = xm.compile(mods[k], target="cpu", cache=False)

    threads = [threading.Thread(target=build, args=(k,)) for k in range(len(mods))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    rng = np.random.default_rng(5)
    for m, exe in zip(mods, exes):
        assert exe is not None and len(exe.backend_state.host_calls) == 1
        _same(exe, m, _matrix(rng, _TYPES["s" if "f32" in m.to_text() else "d"][1], (3, 3)))


def test_an_error_in_a_host_call_is_raised_by_the_call(monkeypatch):
    m = _module("lapack_sgetrf_ffi", [("f32", (3, 3))], [("f32", (3, 3)), ("s32", (3,)), ("s32", ())])
    exe = xm.compile(m, target="cpu", cache=False)
    a = np.eye(3, dtype=np.float32) * 2

    def broken(plan, args):
        raise FloatingPointError("no")

    monkeypatch.setattr(host_calls, "run_plan", broken)
    with pytest.raises(host_calls.HostCallError, match=r"'lapack_sgetrf_ffi' \('c'\) failed: FloatingPointError: no"):
        exe(a)
    monkeypatch.undo()
    _same(exe, m, a)  # the next call runs normally


def test_only_custom_calls_the_interpreter_runs_become_host_calls():
    m = _module("my_own_kernel", [("f32", (3,))], [("f32", (3,))])
    with pytest.raises(NotImplementedError, match=r"custom-call 'my_own_kernel' \('c'\)"):
        xm.compile(m, target="cpu", cache=False)


def test_code_with_host_calls_is_kept_out_of_the_disk_cache(tmp_path, monkeypatch):
    from xla_magic.backends import cpu
    from xla_magic.backends.cpu import disk_cache

    stored: list[str] = []
    monkeypatch.setattr(disk_cache, "store", lambda key, *a: stored.append(key))
    m = _module("lapack_spotrf_ffi", [("f32", (2, 2))], [("f32", (2, 2)), ("s32", ())], _config(uplo="L"))
    exe = xm.compile(m, target="cpu", cache=False)
    assert exe.backend_state.host_calls
    cpu.store("key", exe)
    assert stored == []  # its code holds this process's callback addresses


def test_aot_refuses_host_calls_by_name(tmp_path):
    from xla_magic import aot

    m = _module("lapack_sgetrf_ffi", [("f32", (3, 3))], [("f32", (3, 3)), ("s32", (3,)), ("s32", ())])
    with pytest.raises(aot.AotError, match=r"custom-call 'lapack_sgetrf_ffi' \('c'\) runs in Python"):
        xm.aot_compile(m.to_text(), tmp_path)


def test_the_gpu_backend_rejects_host_calls_by_name():
    from xla_magic.backends.gpu.ctype import Unsupported
    from xla_magic.backends.gpu.elemental import Constants
    from xla_magic.backends.gpu.kernels import define_kernel
    from xla_magic.backends.program_values import as_computation

    m = _module("lapack_sgetrf_ffi", [("f32", (3, 3))], [("f32", (3, 3)), ("s32", (3,)), ("s32", ())])
    with pytest.raises(Unsupported, match=r"custom-call lapack_sgetrf_ffi ?\('c'\)"):
        define_kernel("k", "", as_computation(m.entry.root), Constants())


FFTS = [("FFT", "c64", np.complex64, (3, 16), (16,)), ("IFFT", "c128", np.complex128, (2, 4, 6), (4, 6)),
        ("RFFT", "f32", np.float32, (5, 12), (12,)), ("IRFFT", "c64", np.complex64, (2, 3, 5), (3, 8))]


@pytest.mark.parametrize("kind, t, npd, dims, length", FFTS, ids=[f[0] for f in FFTS])
def test_fft_runs_as_a_host_call(kind, t, npd, dims, length):
    rng = np.random.default_rng(0)
    x = _matrix(rng, npd, dims)
    out_dims = list(dims)
    if kind == "RFFT":
        out_dims[-1] = length[-1] // 2 + 1
    elif kind == "IRFFT":
        out_dims[-1] = length[-1]
    out_t = {"RFFT": "c64", "IRFFT": "f32"}.get(kind, t)
    m = xm.parse_hlo(f"HloModule f\nENTRY e {{\n  x = {_shape(t, dims)} parameter(0)\n"
                     f"  ROOT f = {_shape(out_t, tuple(out_dims))} fft(x), fft_type={kind}, "
                     f"fft_length={{{','.join(map(str, length))}}}\n}}\n")
    exe = xm.compile(m, target="cpu", cache=False)
    assert [c.target for c in exe.backend_state.host_calls] == ["fft"]
    _same(exe, m, x)


def test_aot_refuses_fft_by_name(tmp_path):
    from xla_magic import aot

    text = ("HloModule f\nENTRY e {\n  x = c64[8] parameter(0)\n"
            "  ROOT f = c64[8] fft(x), fft_type=FFT, fft_length={8}\n}\n")
    with pytest.raises(aot.AotError, match=r"fft \('f'\) runs in Python"):
        xm.aot_compile(text, tmp_path)
