"""Writes the reference outputs of tests/test_chlo.py: each chlo op's jax function run by XLA:CPU
on inputs covering its domain and edges. Run once with a Python that has jax (not a dependency):

    python tests/chlo_data/generate.py

Writes cases.json (op, attributes, element types) and cases.npz (inputs and outputs; bf16 stored
as f32, which holds every bf16 exactly)."""
import json
import pathlib

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
from jax import lax

jax.config.update("jax_enable_x64", True)

HERE = pathlib.Path(__file__).parent
FLOATS = ("f32", "f64", "f16", "bf16")
NP = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "bf16": ml_dtypes.bfloat16,
      "c64": np.complex64, "c128": np.complex128, "s32": np.int32, "s64": np.int64, "u32": np.uint32}
EDGES = [0.0, -0.0, np.inf, -np.inf, np.nan]


def sym(*xs):
    return [s * x for x in xs for s in (1, -1)]


def unit():  # [-1, 1] and just outside
    return list(np.linspace(-1, 1, 17)) + sym(1e-20, 1e-5, 0.5, 0.9999, 0.999999, 1.5, 1e10) + EDGES


def wide():
    return sym(1e-30, 1e-10, 1e-4, 0.1, 0.5, 1, 1.5, 2, 3, 10, 100, 1e4, 1e10, 1e19, 1e30, 3e38) + EDGES


def hyper():
    return sym(1e-6, 1e-3, 0.1, 0.5, 0.9, 1, 1.1, 3, 10, 20, 50, 87, 88.5, 89, 90, 100, 700, 710, 800) + EDGES


def gamma_domain():
    return ([-10.5, -4.5, -3.7, -2.5, -2, -1.5, -1, -0.5, -1e-6, 1e-10, 1e-6, 0.1, 0.5, 1, 1.5, 2, 2.5, 3,
             4.5, 7, 10, 20, 35, 100, 1e4, 1e10, 1e20, 1e30]
            + list(np.linspace(-6.9, 12.1, 23)) + EDGES)


def erf_domain():
    return sym(1e-10, 1e-3, 0.1, 0.3, 0.5, 0.9, 1, 1.2, 1.9, 2, 2.5, 3, 4, 5, 7.9, 8, 9, 10, 12, 26, 27, 30) + EDGES


def i1e_domain():
    return sym(1e-10, 1e-3, 0.1, 0.5, 1, 2, 5, 7.99, 8, 8.01, 10, 30, 100, 1e4, 1e10) + EDGES


def grid(xs, ys):
    a, b = np.meshgrid(np.array(xs, np.float64), np.array(ys, np.float64))
    return [a.ravel(), b.ravel()]


def zeta_inputs():
    return grid([1, 1.5, 2, 3, 4, 4.5, 7, 10, 30, 0.5, -2, np.inf, np.nan],
                [0.1, 0.5, 1, 1.7, 2, 10, 100, 0, -1, -2, -1.5, np.inf])


def polygamma_inputs():
    return grid([0, 1, 2, 3, 4, 7, 1.5, -1], [0.1, 0.5, 1, 2.5, 10, 30, -1.5, -2, 0, np.inf])


def next_after_inputs():
    vals = [0.0, -0.0, 1.0, -1.0, 1.5, np.inf, -np.inf, np.nan, 3e38, -1e-3]
    return grid(vals, vals)


def complex_domain():
    re = [0.0, 0.3, -0.7, 1.0, -1.0, 2.5, -3.0, 10.0]
    im = [0.0, 0.2, -0.5, 1.0, -1.0, 3.0, -8.0]
    a, b = np.meshgrid(re, im)
    return [(a + 1j * b).ravel()]


def complex_wide():  # the inverse functions: both parts from tiny to huge, and the branch cuts
    parts = [0.0, -0.0, 1e-30, -1e-20, 1e-4, 0.5, -0.9, 1.0, -1.0, 1.5, -3.0, 1e4, -1e10, 1e19, 3e38, np.inf,
             -np.inf, np.nan]
    a, b = np.meshgrid(parts, parts)
    return [(a + 1j * b).ravel()]


def square_ints():
    return [np.array([0, 1, -1, 7, -12, 46340, 46341, -70000, 2**31 - 1])]


def one(f):
    return lambda: [np.array(f(), np.float64)]


# op: (jax function, inputs, element types, attributes)
CASES = {
    "acos": (jnp.arccos, one(unit), FLOATS, {}),
    "asin": (jnp.arcsin, one(unit), FLOATS, {}),
    "atanh": (jnp.arctanh, one(unit), FLOATS, {}),
    "acosh": (jnp.arccosh, one(lambda: [1, 1 + 1e-6, 1.0001, 1.5, 2, 10, 1e10, 1e19, 1e30, 3e38, 1e300,
                                       0.5, -1, -2] + EDGES), FLOATS, {}),
    "asinh": (jnp.arcsinh, one(wide), FLOATS, {}),
    "atan": (jnp.arctan, one(wide), FLOATS, {}),
    "cosh": (jnp.cosh, one(hyper), FLOATS, {}),
    "sinh": (jnp.sinh, one(hyper), FLOATS, {}),
    "tan": (jnp.tan, one(lambda: list(np.linspace(-10, 10, 41)) + sym(1e-8, 1.5707963, 100, 1e4) + EDGES),
            FLOATS, {}),
    "square": (jnp.square, one(wide), FLOATS, {}),
    "erf": (lax.erf, one(erf_domain), FLOATS, {}),
    "erfc": (lax.erfc, one(erf_domain), FLOATS, {}),
    "erf_inv": (lax.erf_inv, one(unit), FLOATS, {}),
    "lgamma": (lax.lgamma, one(gamma_domain), FLOATS, {}),
    "digamma": (lax.digamma, one(gamma_domain), FLOATS, {}),
    "bessel_i1e": (lax.bessel_i1e, one(i1e_domain), FLOATS, {}),
    "zeta": (lax.zeta, zeta_inputs, FLOATS, {}),
    "polygamma": (lax.polygamma, polygamma_inputs, FLOATS, {}),
    "next_after": (lax.nextafter, next_after_inputs, FLOATS, {}),
    "is_inf": (jnp.isinf, one(wide), FLOATS, {}),
    "is_pos_inf": (jnp.isposinf, one(wide), FLOATS, {}),
    "is_neg_inf": (jnp.isneginf, one(wide), FLOATS, {}),
    "square_int": (jnp.square, square_ints, ("s32",), {"op": "square"}),

    "acos_complex": (jnp.arccos, complex_wide, ("c64", "c128"), {"op": "acos"}),
    "asin_complex": (jnp.arcsin, complex_wide, ("c64", "c128"), {"op": "asin"}),
    "acosh_complex": (jnp.arccosh, complex_wide, ("c64", "c128"), {"op": "acosh"}),
    "asinh_complex": (jnp.arcsinh, complex_wide, ("c64", "c128"), {"op": "asinh"}),
    "atanh_complex": (jnp.arctanh, complex_wide, ("c64", "c128"), {"op": "atanh"}),
    "atan_complex": (jnp.arctan, complex_wide, ("c64", "c128"), {"op": "atan"}),
    "cosh_complex": (jnp.cosh, complex_domain, ("c64", "c128"), {"op": "cosh"}),
    "sinh_complex": (jnp.sinh, complex_domain, ("c64", "c128"), {"op": "sinh"}),
    "tan_complex": (jnp.tan, complex_domain, ("c64", "c128"), {"op": "tan"}),
    "square_complex": (jnp.square, complex_domain, ("c64", "c128"), {"op": "square"}),
    "conj_complex": (jnp.conj, complex_domain, ("c64", "c128"), {"op": "conj"}),
}


def bcast(op):
    return lambda *xs: op(*jnp.broadcast_arrays(*xs))


def row_bcast(op):  # broadcast_dimensions = (0,): the vector runs along the matrix's rows
    return lambda a, v: op(a, jnp.broadcast_to(v[:, None], a.shape))


F = np.array([[-2.5], [0.0], [3.0]], np.float32)
G = np.array([-0.0, 1.0, np.nan, 2.0], np.float32)
I = np.array([[-7], [5], [2**31 - 1]], np.int32)
J = np.array([-2, 0, 3, 33], np.int32)
P = np.array([[True], [False], [True]])
Q = np.array([True, False, True, False])
# case: (jax function, operands, attributes); the op is the case name before any "/"
BROADCASTS = {
    "broadcast_add": (bcast(lax.add), [F, G], {}),
    "broadcast_subtract/rows": (row_bcast(lax.sub), [np.arange(6, dtype=np.float32).reshape(2, 3),
                                                     np.array([10, 20], np.float32)], {"broadcast_dimensions": [0]}),
    "broadcast_multiply/scalar": (bcast(lax.mul), [np.float32(3), G], {}),
    "broadcast_divide": (bcast(lax.div), [F, G], {}),
    "broadcast_divide/s32": (bcast(lax.div), [I, J], {}),
    "broadcast_maximum": (bcast(lax.max), [F, G], {}),
    "broadcast_minimum": (bcast(lax.min), [F, G], {}),
    "broadcast_power": (bcast(lax.pow), [F, G], {}),
    "broadcast_remainder": (bcast(lax.rem), [I, J], {}),
    "broadcast_atan2": (bcast(lax.atan2), [F, G], {}),
    "broadcast_and": (bcast(lax.bitwise_and), [I, J], {}),
    "broadcast_or": (bcast(lax.bitwise_or), [P, Q], {}),
    "broadcast_xor": (bcast(lax.bitwise_xor), [I, J], {}),
    "broadcast_shift_left": (bcast(lax.shift_left), [I, J], {}),
    "broadcast_shift_right_arithmetic": (bcast(lax.shift_right_arithmetic), [I, J], {}),
    "broadcast_shift_right_logical": (bcast(lax.shift_right_logical), [I, J], {}),
    "broadcast_compare": (bcast(lax.lt), [F, G], {"comparison_direction": "LT"}),
    "broadcast_compare/s32": (bcast(lax.ge), [I, J], {"comparison_direction": "GE", "compare_type": "SIGNED"}),
    "broadcast_select": (bcast(lax.select), [P, F, G], {}),
    "broadcast_next_after": (bcast(lax.nextafter), [F, G], {}),
    "broadcast_zeta": (bcast(lax.zeta), [np.array([[2.0], [3.5]], np.float32), np.array([0.5, 1, 4], np.float32)], {}),
    "broadcast_polygamma": (bcast(lax.polygamma), [np.array([[0.0], [2.0]], np.float32),
                                                   np.array([0.5, 1, 4], np.float32)], {}),
    "broadcast_complex": (bcast(lax.complex), [F, G], {}),
}


def stored(a):
    a = np.asarray(a)
    return a.astype(np.float32) if a.dtype == ml_dtypes.bfloat16 else a


def main():
    meta, arrays = {}, {}
    for case, (fn, inputs, dtypes, attrs) in CASES.items():
        meta[case] = {"op": attrs.get("op", case), "dtypes": list(dtypes)}
        for dt in dtypes:
            xs = [np.asarray(x).astype(NP[dt]) for x in inputs()]
            out = jax.jit(fn)(*xs)
            for i, x in enumerate(xs):
                arrays[f"{case}/{dt}/in{i}"] = stored(x)
            arrays[f"{case}/{dt}/out0"] = stored(out)
    for case, (fn, xs, attrs) in BROADCASTS.items():
        dt = {"float32": "f32", "int32": "s32", "bool": "pred"}[str(np.asarray(xs[-1]).dtype)]
        meta[case] = {"op": case.split("/")[0], "dtypes": [dt], "attrs": attrs}
        for i, x in enumerate(xs):
            arrays[f"{case}/{dt}/in{i}"] = np.asarray(x)
        arrays[f"{case}/{dt}/out0"] = np.asarray(jax.jit(fn)(*xs))
    # top_k: values and indices along the last axis (ties keep the lower index first)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 9)).astype(np.float32)
    x[1, :4] = [2.0, 2.0, -np.inf, np.inf]
    meta["top_k"] = {"op": "top_k", "dtypes": ["f32"], "attrs": {"k": 4}}
    v, i = jax.jit(lambda a: lax.top_k(a, 4))(x)
    arrays["top_k/f32/in0"], arrays["top_k/f32/out0"], arrays["top_k/f32/out1"] = x, np.asarray(v), np.asarray(i)
    (HERE / "cases.json").write_text(json.dumps(meta, indent=1) + "\n")
    np.savez_compressed(HERE / "cases.npz", **arrays)


if __name__ == "__main__":
    main()
