"""Ahead-of-time code for other machines needs only libc and libm, and runs there.

f16 conversions are written as integer code where the target has no instructions for them
(backends/cpu/halfconv.py): checked here bit for bit against numpy on every f16 value and on
f32/f64 values around each rounding boundary. Every offered triple's object is checked for the
symbols it needs; where Debian's cross compilers and qemu-user are installed, a few corpus
modules are linked with the harness, run under qemu and compared with the references."""
from __future__ import annotations

import pathlib
import shutil
import subprocess

import numpy as np
import pytest
from conftest import assert_matches, load_case

import xla_magic as xm
from xla_magic import aot
from xla_magic.backends.cpu.halfconv import inline_half_conversions, native_half


def _run(hlo: str, *args: np.ndarray) -> np.ndarray:
    with inline_half_conversions():
        exe = xm.compile(hlo, cache=False)
    return np.asarray(exe(*args))


@pytest.fixture(autouse=True)
def _quiet_numpy():
    with np.errstate(over="ignore", invalid="ignore"):  # the references overflow to inf on purpose
        yield


def _assert_same_f16(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype == np.float16
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    g, w = got.view(np.uint16), want.view(np.uint16)
    bad = np.flatnonzero((g != w) & ~nan)
    assert bad.size == 0, [(hex(w[i]), hex(g[i])) for i in bad[:8]]


def test_f16_to_f32_every_value():
    bits = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.int16)
    hlo = ("HloModule h2f\nENTRY e { x = s16[65536] parameter(0)  h = f16[65536] bitcast-convert(x)\n"
           "  ROOT y = f32[65536] convert(h) }")
    got = _run(hlo, bits)
    want = bits.view(np.float16).astype(np.float32)
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    assert np.array_equal(got.view(np.uint32)[~nan], want.view(np.uint32)[~nan])
    # The payload of a NaN is kept, so bitcast-convert round-trips quiet NaNs.
    hlo_back = ("HloModule h2h\nENTRY e { x = s16[65536] parameter(0)  h = f16[65536] bitcast-convert(x)\n"
                "  n = f16[65536] negate(h)  ROOT y = s16[65536] bitcast-convert(n) }")
    back = _run(hlo_back, bits).view(np.uint16)
    quiet_or_number = ~nan | (bits.view(np.uint16) & 0x200 != 0)
    assert np.array_equal(back[quiet_or_number], (bits.view(np.uint16) ^ 0x8000)[quiet_or_number])


def _boundary_values(dtype, mant: int) -> np.ndarray:
    """Every f16 value's neighbourhood in `dtype`: the value itself, the halfway points to its
    neighbours and one ulp of `dtype` either side of them, plus zeros, infinities, NaNs and
    values beyond f16's range and below its smallest subnormal."""
    h = np.arange(0, 0x7C01, dtype=np.uint16).view(np.float16).astype(dtype)
    nxt = np.nextafter(h.astype(np.float16), np.float16(np.inf)).astype(dtype)
    mid = h + (nxt - h) / 2
    ulp = dtype(2.0) ** -mant
    pts = [h, mid, mid * (1 + ulp), mid * (1 - ulp), np.array([65519.99, 65520.0, 65536.0, 1e6, 1e30, 2.0 ** -25,
                                                               2.0 ** -26, 1e-30, 3e-8, np.inf, np.nan], dtype)]
    if dtype == np.float64:
        pts.append(np.array([1e300, 2.0 ** -25 * (1 + 2.0 ** -40), 5e-324], dtype))
    v = np.concatenate(pts).astype(dtype)
    v = v[np.isfinite(v) | np.isnan(v) | np.isinf(v)]
    return np.concatenate([v, -v])


@pytest.mark.parametrize("src, mant", [("f32", 23), ("f64", 52)])
def test_float_to_f16_rounds_to_nearest_even(src, mant):
    dtype = np.float32 if src == "f32" else np.float64
    x = _boundary_values(dtype, mant)
    n = x.size
    hlo = f"HloModule f2h_{src}\nENTRY e {{ x = {src}[{n}] parameter(0)  ROOT y = f16[{n}] convert(x) }}"
    _assert_same_f16(_run(hlo, x), x.astype(np.float16))


@pytest.mark.parametrize("src", ["s32", "u32", "s64", "s16"])
def test_integer_to_f16_rounds_once(src):
    dt = {"s32": np.int32, "u32": np.uint32, "s64": np.int64, "s16": np.int16}[src]
    info = np.iinfo(dt)
    x = np.concatenate([np.arange(-70000, 70000, 7), np.arange(2040, 2070), 2 ** np.arange(0, 62),
                        -(2 ** np.arange(0, 62))]).astype(np.float64)
    x = np.unique(np.clip(x, info.min, info.max)).astype(dt)
    hlo = f"HloModule i2h_{src}\nENTRY e {{ x = {src}[{x.size}] parameter(0)  ROOT y = f16[{x.size}] convert(x) }}"
    _assert_same_f16(_run(hlo, x), x.astype(np.float16))


def test_f16_arithmetic_and_dot_with_inline_conversions():
    """Elementwise work and the library's dot read and write f16 through the same conversions."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((16, 24)).astype(np.float16), rng.standard_normal((24, 8)).astype(np.float16)
    hlo = ("HloModule h_dot\nENTRY e { a = f16[16,24] parameter(0)  b = f16[24,8] parameter(1)\n"
           "  d = f16[16,8] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
           "  ROOT t = f16[16,8] tanh(d) }")
    with inline_half_conversions():
        got = np.asarray(xm.compile(hlo, cache=False)(a, b))
    want = np.asarray(xm.interpret(hlo, a, b))
    np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), rtol=2e-3, atol=2e-3)


def test_native_half_per_target():
    assert native_half("aarch64-unknown-linux-gnu", "+neon")
    assert not native_half("riscv64-unknown-linux-gnu", "+m,+a,+f,+d,+c")
    assert native_half("riscv64-unknown-linux-gnu", "+m,+zfhmin")
    assert not native_half("armv7-unknown-linux-gnueabihf", "+armv7-a,+vfp3,+neon,+d32")
    assert not native_half("x86_64-unknown-linux-gnu", "+sse2,+avx")
    assert native_half("x86_64-unknown-linux-gnu", "+sse2,+f16c")


# --- objects for every offered triple ---------------------------------------------------------

# What a standalone object may call: libc, libm and pthreads. Compiler runtime helpers (__truncsfhf2,
# __gnu_f2h_ieee, ...) are not in every target's libgcc.
LIBC_LIBM = {"memcpy", "memset", "memmove", "malloc", "free", "aligned_alloc", "calloc", "realloc", "abort",
             "pthread_create", "pthread_join", "fmodf", "fmod", "fmaf", "fma", "floor", "floorf", "ceil", "ceilf",
             "rint", "rintf", "expm1", "expm1f", "log1p", "log1pf", "nearbyint", "nearbyintf", "round", "roundf",
             "trunc", "truncf", "sqrt", "sqrtf", "fabs", "fabsf"}
TRIPLES = [None, "aarch64", "armv7", "riscv64"]
SYMBOL_CASES = ["convert_float", "convert_int_bool", "lstm_cell"]  # the f16 ones, and math-heavy code


@pytest.fixture(scope="module")
def cross_objects(tmp_path_factory):
    """(triple, case) -> AotResult, objects only."""
    root = tmp_path_factory.mktemp("cross")
    out = {}
    for t in TRIPLES + ["generic-cpu"]:
        for c in SYMBOL_CASES:
            text, *_ = load_case(c)
            kw = {"cpu": "generic"} if t == "generic-cpu" else {"target_triple": t}
            out[t, c] = xm.aot_compile(text, root / f"{t}_{c}", name=f"m_{c}", build=False, **kw)
    return out


@pytest.mark.parametrize("triple", TRIPLES + ["generic-cpu"])
def test_objects_need_only_libc_and_libm(triple, cross_objects):
    """Every triple aot offers (and the host's architecture with a generic CPU, e.g. x86-64
    without F16C): the f16 modules call no compiler runtime helper."""
    for c in SYMBOL_CASES:
        res = cross_objects[triple, c]
        extra = set(res.undefined) - LIBC_LIBM
        assert not extra, f"{c} for {res.target.triple} ({res.target.cpu}) needs {sorted(extra)}"


# --- run under qemu-user ----------------------------------------------------------------------

# Debian's cross toolchains: gcc-<gnu>-gcc, its C library under /usr/<gnu>, qemu-<arch>.
QEMU = {"aarch64": ("aarch64-linux-gnu", "qemu-aarch64"), "riscv64": ("riscv64-linux-gnu", "qemu-riscv64")}
QEMU_CASES = ["convert_float", "convert_int_bool", "lstm_cell", "softmax", "fori_loop", "sort"]


def _cross_tools(arch: str) -> tuple[str, str, str]:
    gnu, qemu = QEMU[arch]
    cc, run = shutil.which(f"{gnu}-gcc"), shutil.which(qemu)
    sysroot = pathlib.Path("/usr") / gnu
    if cc is None or run is None or not (sysroot / "lib").is_dir():
        pytest.skip(f"no {gnu}-gcc, {qemu} or {sysroot}/lib here (Debian: apt-get install qemu-user "
                    f"gcc-{gnu} libc6-dev-{'arm64' if arch == 'aarch64' else arch}-cross)")
    return cc, run, str(sysroot)


@pytest.mark.parametrize("arch", sorted(QEMU))
@pytest.mark.parametrize("case", QEMU_CASES)
def test_cross_executable_under_qemu_matches_reference(arch, case, tmp_path):
    cc, qemu, sysroot = _cross_tools(arch)
    text, args, outs, meta = load_case(case)
    res = xm.aot_compile(text, tmp_path, name=f"m_{case}", target_triple=arch)
    exe = tmp_path / res.name
    build = subprocess.run([cc, "-O1", "-std=c11", "-I", str(tmp_path), f'-DXM_HEADER="{res.name}.h"',
                            f"-DXM_PREFIX={res.name}", "-o", str(exe), str(aot.harness_source()), str(res.object),
                            "-lm", "-lpthread"], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    files = []
    for k, a in enumerate(args):
        files.append(str(tmp_path / f"arg{k}.npy"))
        np.save(files[-1], a)
    p = subprocess.run([qemu, "-L", sysroot, str(exe), *files, "-o", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    for k, (spec, want, om) in enumerate(zip(res.outputs, outs, meta["outputs"])):
        got = np.load(tmp_path / "out" / f"out{k}.npy")
        if spec.dtype == "bf16":
            got = got.astype(want.dtype)
        assert_matches(got, want, om, label=f"{arch} ")
