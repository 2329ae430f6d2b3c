"""Regenerates the StableHLO samples: each `NAME.mlir` is a jax function lowered to StableHLO (or a
hand-written program), each `NAME.npz` its inputs (`in0`, ...) and XLA:CPU's outputs (`out0`, ...).

Needs jax (not a dependency of the project): `python tests/stablehlo_samples/generate.py`."""
from __future__ import annotations

import pathlib
import sys

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
from jax import lax

jax.config.update("jax_enable_x64", True)
HERE = pathlib.Path(__file__).parent
rng = np.random.default_rng(0)


def f32(*s):
    return rng.standard_normal(s).astype(np.float32)


def i32(lo, hi, *s):
    return rng.integers(lo, hi, s).astype(np.int32)


SAMPLES = {}


def sample(*args, generic=False, debug=False):
    def deco(fn):
        SAMPLES[fn.__name__] = (fn, args, generic, debug)
        return fn
    return deco


@sample(f32(4, 8))
def unary_float(x):
    return (jnp.tanh(x), jnp.exp(x), jnp.log(jnp.abs(x) + 1), jnp.sqrt(jnp.abs(x)), jnp.abs(x), jnp.sign(x),
            jnp.floor(x), jnp.ceil(x), jnp.round(x), lax.round(x, lax.RoundingMethod.AWAY_FROM_ZERO), jnp.sin(x),
            jnp.cos(x), jnp.tan(x), jax.nn.sigmoid(x), jnp.expm1(x), jnp.log1p(jnp.abs(x)), lax.rsqrt(jnp.abs(x) + 1),
            jnp.cbrt(x), jnp.isfinite(x / (x - x[0, 0])), -x)


@sample(f32(3, 5), f32(3, 5))
def binary_float(x, y):
    return (x + y, x - y, x * y, x / y, jnp.maximum(x, y), jnp.minimum(x, y), jnp.arctan2(x, y),
            lax.pow(jnp.abs(x), y), lax.rem(x, y), lax.clamp(np.float32(-0.5), x, np.float32(0.5)),
            jnp.where(x < y, x, y))


@sample(i32(-100, 100, 6), i32(0, 8, 6), np.arange(6, dtype=np.uint8) * 40)
def integer_ops(a, s, u):
    return (a & s, a | s, a ^ s, ~a, lax.shift_left(a, s), lax.shift_right_arithmetic(a, s),
            lax.shift_right_logical(a, s), lax.population_count(a), lax.clz(a), a // (s + 1), a % (s + 1),
            u + u, u // 3, jnp.abs(a), jnp.sign(a), jnp.maximum(a, s), -u)


@sample(f32(6), i32(-3, 3, 6))
def compare_select(x, a):
    return (x < 0, x >= 0.5, x == x, a != 0, jnp.where(a > 0, x, -x), (x > 0) & (a < 0), ~(x > 0),
            lax.select(x > 0, a, -a))


@sample(f32(2, 5) * 100)
def converts(x):
    return (x.astype(jnp.bfloat16), x.astype(jnp.float16), x.astype(jnp.int32), x.astype(jnp.uint8),
            x.astype(jnp.float64), (x > 0).astype(jnp.float32), x.astype(jnp.int8).astype(jnp.float32),
            lax.bitcast_convert_type(x, jnp.int32), lax.reduce_precision(x, exponent_bits=5, mantissa_bits=10),
            x.astype(jnp.float8_e4m3fn).astype(jnp.float32), x.astype(jnp.int64), x.astype(jnp.int16))


@sample(f32(4), f32(4))
def complex_ops(x, y):
    z = lax.complex(x, y)
    return (z * z, jnp.real(z), jnp.imag(z), jnp.abs(z), jnp.exp(z), z.astype(jnp.complex128), jnp.conj(z))


@sample(f32(2, 3, 4), f32(2, 4, 5), f32(5), f32(5, 3))
def dots(a, b, v, m):
    return (jnp.einsum("bij,bjk->bik", a, b), v @ m, jnp.dot(v, v), jnp.einsum("bij,bjk->ki", a, b),
            jnp.dot(a.astype(jnp.bfloat16), b[0].astype(jnp.bfloat16), preferred_element_type=jnp.float32))


@sample(f32(3, 4, 5), i32(0, 10, 7))
def reductions(x, a):
    return (jnp.sum(x), jnp.sum(x, axis=1), jnp.max(x, axis=(0, 2)), jnp.min(x, axis=0), jnp.prod(x[0], 1),
            jnp.argmax(x, axis=1), jnp.argmin(x, axis=2), jnp.any(x > 1), jnp.all(x > -3), jnp.sum(a),
            jnp.mean(x, axis=-1), jnp.max(a))


@sample(f32(2, 6, 6, 3))
def windows(x):
    mx = lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    avg = lax.reduce_window(x, 0.0, lax.add, (1, 3, 3, 1), (1, 1, 1, 1), "SAME")
    dil = lax.reduce_window(x, 0.0, lax.add, (1, 2, 2, 1), (1, 1, 1, 1), ((0, 0), (1, 1), (0, 2), (0, 0)),
                            base_dilation=(1, 2, 1, 1), window_dilation=(1, 1, 2, 1))
    return mx, avg, dil


@sample(f32(2, 6, 6, 3))
def maxpool_grad(x):
    def pool(x):
        return jnp.sum(lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID") ** 2)
    return jax.grad(pool)(x)


@sample(f32(2, 8, 8, 3), f32(3, 3, 3, 4), f32(1, 3, 9), f32(2, 3, 3))
def convolutions(x, k, y, k1):
    a = lax.conv_general_dilated(x, k, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    b = lax.conv_general_dilated(x, k, (2, 2), ((1, 0), (0, 1)), lhs_dilation=(1, 1), rhs_dilation=(2, 1),
                                 dimension_numbers=("NHWC", "HWIO", "NCHW"))
    c = lax.conv_general_dilated(y, k1, (1,), "VALID", dimension_numbers=("NCH", "OIH", "NCH"), feature_group_count=1)
    d = lax.conv_general_dilated(x, k[:, :, :1, :3], (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                 feature_group_count=3)
    return a, b, c, d


@sample(f32(5, 4), i32(0, 5, 3), f32(3, 4), f32(4, 5, 6))
def gather_scatter(x, i, u, y):
    return (x[i], x[:, 1], x.at[i].add(u), x.at[i].set(u), x.at[i, 2].max(u[:, 0]), jnp.take(x, i, axis=1),
            y[i, :, i], x.at[i].mul(u), y[1:3, ::2, i[0]])


@sample(f32(5, 4), i32(0, 100, 9))
def sorting(x, a):
    return (jnp.sort(x, axis=0), jnp.argsort(x, axis=1), lax.sort((a, jnp.arange(9)), num_keys=1),
            jnp.sort(a)[::-1])


@sample(f32(3), np.int32(5))
def control_flow(x, n):
    def body(i, c):
        return c * 0.5 + jnp.sin(c) + i
    w = lax.fori_loop(0, n, body, x)
    cnd = lax.cond(n > 3, lambda v: v * 2.0, lambda v: v - 1.0, x)
    sw = lax.switch(n % 3, [lambda v: v + 1, lambda v: v * v, lambda v: -v], x)
    wl = lax.while_loop(lambda c: c[0] < 10, lambda c: (c[0] + 1, c[1] * 1.1), (n, x))
    sc = lax.scan(lambda c, v: (c + v, c * v), 0.0, x)
    return w, cnd, sw, wl, sc


@sample(f32(8), f32(4, 6))
def ffts(x, y):
    return jnp.fft.fft(x), jnp.fft.rfft(x), jnp.fft.ifft(jnp.fft.fft(x)).real, jnp.fft.irfft(jnp.fft.rfft(y), 6), \
        jnp.fft.fft2(y)


@sample(f32(2, 3, 4), f32(4))
def shapes(x, v):
    return (x.reshape(6, 4), x.transpose(2, 0, 1), x[:, 1:3, ::2], jnp.concatenate([x, x], axis=1),
            jnp.pad(x, ((1, 0), (0, 2), (1, 1))), lax.pad(v, np.float32(0), ((1, 2, 1),)), x[::-1, :, ::-1],
            jnp.broadcast_to(v, (3, 4)), jnp.arange(12).reshape(3, 4), jnp.expand_dims(v, 0) + x,
            lax.dynamic_slice(x, (1, 1, 0), (1, 2, 3)), lax.dynamic_update_slice(x, v[None, None, :3], (1, 2, 1)),
            jnp.broadcast_to(x[:, :1, :], (2, 3, 4)), jnp.eye(3, dtype=jnp.int32), jnp.tile(v, 2))


@sample(np.array([1, 2], np.uint32))
def random_bits(k):
    key = jax.random.wrap_key_data(k, impl="threefry2x32")
    return jax.random.uniform(key, (3, 2)), jax.random.randint(key, (5,), 0, 10)


@sample(np.array([1, 2], np.uint64))
def rng_bits(state):
    s, b = lax.rng_bit_generator(state, (2, 3), dtype=jnp.uint32)
    return s, b


@sample()
def constants():
    return (jnp.array([[1.5, -2.0], [np.inf, -np.inf]], jnp.float32), jnp.array(np.arange(40, dtype=np.float32)),
            jnp.array([True, False, True]), jnp.array(np.arange(20).astype(ml_dtypes.bfloat16)),
            jnp.array([1, -1, 7], jnp.int8), jnp.array([1 + 2j, 3.5 - 1j], jnp.complex64),
            jnp.array(np.arange(20, dtype=np.float16) / 3), jnp.array([2**40, -3], jnp.int64),
            jnp.array([0.5, 448.0, -2.0], jnp.float8_e4m3fn), jnp.array([0.5, 3.0], jnp.float8_e5m2),
            jnp.array([np.nan, 1e-40], jnp.float32), jnp.array(np.arange(24, dtype=np.uint16).reshape(2, 3, 4)),
            jnp.array([1, -2, 7], jnp.int4), jnp.array(np.linspace(0, 1, 30), jnp.float64),
            jnp.array(np.arange(12).reshape(3, 4) % 2 == 0), jnp.array([3, 200], jnp.uint8))


@sample()
def hex_constants():  # more than 100 elements: MLIR prints the raw bytes as a hex string
    n = np.arange(120)
    return (jnp.array(n.astype(ml_dtypes.bfloat16)), jnp.array(n % 3 == 0),
            jnp.array((n % 16 - 8).astype(ml_dtypes.int4)),
            jnp.array((n / 8).astype(jnp.float8_e4m3fn)), jnp.array((n * (1 + 1j)).astype(np.complex64)),
            jnp.array(n.astype(np.int16) - 60), jnp.array(n.astype(np.float64) / 7), jnp.array(n.astype(np.uint32)))


@sample(f32(3, 3))
def nested_calls(x):
    @jax.jit
    def inner(a):
        return jnp.tanh(a) * 2

    @jax.jit
    def outer(a):
        return inner(a) + inner(a.T)
    return outer(x) + inner(x), lax.optimization_barrier((x, x * 2))


@sample(f32(3, 4), generic=True)
def generic_form(x):
    return jnp.sum(jnp.tanh(x) @ x.T, axis=0), jnp.sort(x, axis=1), lax.cond(x[0, 0] > 0, jnp.sin, jnp.cos, x)


SAMPLES["pretty_form"] = (generic_form, SAMPLES["generic_form"][1], False, False)  # the same program, pretty
SAMPLES["control_flow_generic"] = (control_flow, SAMPLES["control_flow"][1], True, False)  # while, case: generic


@sample(f32(3, 4), debug=True)
def with_locations(x):
    y = jnp.tanh(x)
    z = y @ x.T
    return jnp.sum(z, axis=0) * 2


@sample(f32(4, 4).astype(np.float64), f32(3, 5).astype(np.float16), i32(-5, 5, 4).astype(np.int64),
        np.arange(4, dtype=np.uint32), np.arange(6, dtype=np.int16) - 3)
def wide_types(x, h, a, u, s):
    return (x @ x.T + 1, jnp.sum(h * h, axis=1), a * a - 3, u * 7 + 1, s * s, jnp.sqrt(x * x), (h > 0).sum(),
            a.astype(jnp.float64) / 3, u >> 1, s.astype(jnp.int8))


@sample(f32(4, 4), f32(4, 2))
def linalg_ffi(a, b):  # jax lowers these to LAPACK custom calls on cpu, configured by typed FFI attributes
    spd = a @ a.T + 4 * jnp.eye(4, dtype=a.dtype)
    return (jnp.linalg.cholesky(spd), jax.scipy.linalg.solve_triangular(spd, b, lower=True),
            jax.scipy.linalg.solve_triangular(spd, b, lower=False, trans=1, unit_diagonal=True),
            jax.scipy.linalg.lu_factor(spd)[0], jnp.linalg.solve(spd, b))


@sample(f32(4, 5), f32(5))
def composite_op(x, v):
    return lax.composite(lambda a, b: jnp.tanh(a) + b, name="my.tanh_add")(x, v)


def _store(prefix, arrays):
    """npz entries; ml_dtypes arrays (bf16, f8, int4), which npz cannot hold, as their raw bytes plus
    a `dtype_` entry naming the type."""
    out = {}
    for k, a in enumerate(arrays):
        a = np.asarray(a)
        if a.dtype.type.__module__.startswith("ml_dtypes"):
            out[f"dtype_{prefix}{k}"] = np.array(a.dtype.name)
            a = a.view(np.uint8 if a.dtype.itemsize == 1 else np.uint16)
        out[f"{prefix}{k}"] = a
    return out


def _run_text(text, args):
    from jax._src.lib import xla_client as xc
    dev = jax.devices("cpu")[0]
    exe = dev.client.compile_and_load(text, xc.DeviceList((dev,)), xc.CompileOptions())
    res = exe.execute_sharded([jax.device_put(a, dev) for a in args])
    return [np.asarray(o[0]) for o in res.disassemble_into_single_device_arrays()]


def main(only=None):
    for name, (fn, args, generic, debug) in SAMPLES.items():
        if only and name not in only:
            continue
        lowered = jax.jit(fn).lower(*args)
        if generic:
            text = lowered.compiler_ir("stablehlo").operation.get_asm(print_generic_op_form=True)
        else:
            text = lowered.as_text(debug_info=debug)
        assert "chlo." not in text, name
        outs = _run_text(text, args)
        ref = jax.tree_util.tree_leaves(jax.jit(fn)(*args))
        for a, b in zip(outs, ref):
            np.testing.assert_array_equal(a, np.asarray(b))
        text = text.replace(str(HERE) + "/", "")  # locations name the file, not this machine's path
        (HERE / f"{name}.mlir").write_text(text)
        np.savez(HERE / f"{name}.npz", **_store("in", args), **_store("out", outs))
    for path in sorted(HERE.glob("hand_*.mlir")):  # hand-written programs: inputs from a seed
        if only and path.stem not in only:
            continue
        text = path.read_text()
        args = _hand_args(text)
        outs = _run_text(text, args)
        np.savez(HERE / f"{path.stem}.npz", **_store("in", args), **_store("out", outs))


def _hand_args(text):
    import re
    sig = re.search(r"@main\((.*?)\)\s*->", text, re.S).group(1)
    out = []
    g = np.random.default_rng(1)
    names = {"f32": np.float32, "f64": np.float64, "i32": np.int32, "i64": np.int64, "i1": np.bool_,
             "ui32": np.uint32, "f16": np.float16}
    for m in re.finditer(r"tensor<((?:\d+x)*)([a-z0-9]+)>", sig):
        dims = [int(d) for d in m.group(1).split("x") if d]
        dt = names[m.group(2)]
        if np.dtype(dt).kind == "f":
            out.append(g.standard_normal(dims).astype(dt))
        elif np.dtype(dt).kind == "b":
            out.append(g.random(dims) < 0.5)
        else:
            out.append(g.integers(0, 3, dims).astype(dt))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
