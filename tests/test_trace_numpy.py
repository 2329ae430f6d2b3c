"""numpy coverage of the tracer, op by op: ufuncs, promotion, reductions, shapes, indexing,
products and the other functions, each traced, compiled for the CPU and compared with numpy
(values, shapes and dtypes)."""
from __future__ import annotations

import numpy as np
import pytest

import xla_magic as xm
from xla_magic.trace import UnsupportedNumpyError

rng = np.random.default_rng(1)
F32, F64, I32, I64 = np.float32, np.float64, np.int32, np.int64


def randn(*shape, dtype=F32):
    return rng.standard_normal(shape).astype(dtype)


def ints(*shape, lo=-9, hi=9, dtype=I32):
    return rng.integers(lo, hi, shape).astype(dtype)


# Cases to run on the interpreter because the cpu backend cannot take them (none at present).
CPU_BUGS: set[str] = set()


def target_for(case: str) -> str:
    return "interpreter" if case in CPU_BUGS else "cpu"


def check(fn, *args, target="cpu", rtol=2e-5, atol=1e-6):
    """fn traced and compiled gives numpy's values, shapes and dtypes."""
    want = fn(*args)
    got = xm.jit(fn, target=target)(*args)
    want_l = list(want) if isinstance(want, tuple) else [want]
    got_l = list(got) if isinstance(got, tuple) else [got]
    assert len(got_l) == len(want_l)
    for g, w in zip(got_l, want_l):
        w = np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, f"got {g.dtype}{g.shape}, numpy {w.dtype}{w.shape}"
        if w.dtype.kind in "fc":
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
        else:
            np.testing.assert_array_equal(g, w)
    return got


# --- ufuncs -----------------------------------------------------------------------------------------

POS = np.abs(randn(24)) + 0.1
UNIT = np.clip(randn(24) * 0.4, -0.95, 0.95).astype(F32)
X, Y = randn(24), randn(24)
UNARY = {
    "negative": X, "positive": X, "absolute": X, "fabs": X, "sign": X, "exp": X, "exp2": X, "expm1": X,
    "log": POS, "log2": POS, "log10": POS, "log1p": POS, "sqrt": POS, "cbrt": X, "square": X,
    "reciprocal": POS, "sin": X, "cos": X, "tan": UNIT, "arcsin": UNIT, "arccos": UNIT, "arctan": X,
    "sinh": X, "cosh": X, "tanh": X, "arcsinh": X, "arccosh": POS + 1, "arctanh": UNIT, "deg2rad": X,
    "rad2deg": X, "floor": X * 3, "ceil": X * 3, "rint": X * 3, "trunc": X * 3, "isnan": X, "isinf": X,
    "isfinite": X, "signbit": X, "logical_not": X, "conjugate": X,
}
BINARY = {
    "add": (X, Y), "subtract": (X, Y), "multiply": (X, Y), "divide": (X, Y), "true_divide": (X, Y),
    "floor_divide": (X * 5, Y), "remainder": (X * 5, Y), "fmod": (X * 5, Y), "power": (POS, Y),
    "float_power": (POS, Y), "maximum": (X, Y), "minimum": (X, Y), "fmax": (X, Y), "fmin": (X, Y),
    "arctan2": (X, Y), "hypot": (X, Y), "logaddexp": (X, Y), "logaddexp2": (X, Y), "copysign": (X, Y),
    "equal": (X, np.where(X > 0, X, Y)), "not_equal": (X, Y), "less": (X, Y), "less_equal": (X, Y),
    "greater": (X, Y), "greater_equal": (X, Y), "logical_and": (X > 0, Y > 0), "logical_or": (X > 0, Y > 0),
    "logical_xor": (X > 0, Y > 0), "heaviside": (np.round(X), Y),
}
INT_BINARY = {
    "floor_divide": (ints(30), ints(30, lo=1, hi=5) * np.where(rng.random(30) > 0.5, 1, -1).astype(I32)),
    "remainder": (ints(30), ints(30, lo=1, hi=5) * np.where(rng.random(30) > 0.5, 1, -1).astype(I32)),
    "bitwise_and": (ints(30), ints(30)), "bitwise_or": (ints(30), ints(30)), "bitwise_xor": (ints(30), ints(30)),
    "left_shift": (ints(30), ints(30, lo=0, hi=4)), "right_shift": (ints(30), ints(30, lo=0, hi=4)),
    "power": (ints(30, lo=-3, hi=4), ints(30, lo=0, hi=4)), "maximum": (ints(30), ints(30)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ufunc(name):
    rtol = 1e-4 if name in ("arccosh", "arcsinh") else 2e-5
    check(getattr(np, name), UNARY[name], target=target_for(name), rtol=rtol)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ufunc(name):
    check(getattr(np, name), *BINARY[name], target=target_for(name), rtol=3e-5)


@pytest.mark.parametrize("name", sorted(INT_BINARY))
def test_integer_ufunc(name):
    check(getattr(np, name), *INT_BINARY[name])


def test_int_unary_and_divmod():
    a, b = ints(20), ints(20, lo=1, hi=6)
    check(lambda x, y: (np.invert(x), np.abs(x), np.sign(x), -x, *np.divmod(x, y), np.square(x), x // 4, x % 4),
          a, b)


def test_modf_and_ldexp():
    check(lambda x, e: (*np.modf(x), np.ldexp(x, e)), X * 3, ints(24, lo=-3, hi=3), target=target_for("ldexp"))


def test_scipy_style_ufunc_names():
    special = pytest.importorskip("scipy.special")
    check(lambda x: (special.erf(x), special.expit(x)), X)


def test_powers_by_multiplication():
    m = xm.trace(lambda x: (x ** 2, x ** 3, x ** -1, x ** 0.5), POS)
    assert " power(" not in m.to_text()
    check(lambda x: (x ** 2, x ** 3, x ** -1, x ** 0, np.power(x, 4)), POS)


def test_operators_and_reflected_operators():
    check(lambda x, y: (x + 1, 1 + x, x - 2, 2 - x, 3 * x, x * 3, x / 2, 2 / x, x // 0.5, 7 % x, x ** 2, 2 ** x,
                        -x, +x, abs(x), x < y, x <= 0.5, x > y, x >= y, x == y, x != y, (x > 0) & (y > 0),
                        (x > 0) | (y > 0), (x > 0) ^ (y > 0), ~(x > 0)), POS, Y, target=target_for("rpow"))


def test_ufunc_methods():
    a = randn(4, 5)
    check(lambda x: (np.add.reduce(x), np.maximum.reduce(x, axis=1), np.multiply.reduce(x, axis=None),
                     np.add.accumulate(x, axis=1), np.multiply.outer(x[0], x[1]), np.subtract.outer(x[0], x[:, 0])),
          a, rtol=1e-4)


# --- dtype promotion (numpy 2's rules, NEP 50) ---------------------------------------------------------

@pytest.mark.parametrize("fn, args", [
    (lambda x: x * 2.0, (randn(3),)),                               # weak float keeps float32
    (lambda x: x * np.float64(2.0), (randn(3),)),                   # numpy scalar is strong: float64
    (lambda x: x + 1, (ints(3),)),                                  # weak int keeps int32
    (lambda x: x + 1.5, (ints(3),)),                                # int32 + Python float -> float64
    (lambda x, y: x / y, (ints(3), ints(3, lo=1))),                 # true division of ints -> float64
    (lambda x, y: x + y, (randn(3), ints(3, dtype=I64))),           # float32 + int64 -> float64
    (lambda x, y: x + y, (randn(3), randn(3, dtype=np.float16))),   # float32 + float16 -> float32
    (lambda x: x + 3, (ints(3, lo=0, hi=9, dtype=np.uint8),)),      # uint8 + weak int -> uint8
    (lambda x: (x > 0) + (x < 1), (randn(3),)),                     # bool + bool -> bool (or)
    (lambda x: (x > 0) * 2.5, (randn(3),)),                         # bool * float -> float64
    (lambda x: np.exp(x), (ints(3),)),                              # exp of int -> float64
    (lambda x: np.sqrt(x), (randn(3, dtype=np.float16) ** 2,)),     # float16 stays float16
    (lambda x: x.astype(np.int8) * 2, (randn(3) * 10,)),
    (lambda x, y: np.where(x > 0, x, y), (randn(3), ints(3))),      # where promotes like numpy
    (lambda x: np.where(x > 0, x, 0), (randn(3),)),                 # weak 0 keeps float32
    (lambda x, s: x * s, (randn(3), 0.5)),                          # Python float argument stays weak
    (lambda x, s: x + s, (ints(3), 2)),                             # Python int argument stays weak
    (lambda s, t: s * t + 1, (2.0, 3)),                             # only weak values: numpy's defaults
])
def test_promotion_matches_numpy(fn, args):
    check(fn, *args)


def test_float32_in_float32_out_through_a_model():
    def f(x, w):
        return np.mean(np.tanh(x @ w / np.sqrt(x.shape[1])) ** 2, axis=0) * 0.5 + 1
    out = check(f, randn(4, 8), randn(8, 3))
    # np.sqrt of a Python int is a float64 numpy scalar: strong, as in numpy
    assert out.dtype == np.float64
    out = check(lambda x, w: np.mean(np.tanh(x @ w / 8 ** 0.5) ** 2, axis=0) * 0.5 + 1, randn(4, 8), randn(8, 3))
    assert out.dtype == np.float32


# --- reductions --------------------------------------------------------------------------------------

A = randn(3, 4, 5)


REDUCTIONS = ["sum", "mean", "max", "min", "prod", "var", "std", "any", "all", "ptp", "count_nonzero", "nansum",
              "nanmean"]
REDUCTION_CASES = (
    [(n, axis, keep) for n in REDUCTIONS for axis in (None, 0, -1, (0, 2)) for keep in (False, True)]
    + [(n, axis, keep) for n in ("argmax", "argmin") for axis in (None, 0, -1) for keep in (False, True)]
    + [(n, axis, False) for n in ("cumsum", "cumprod") for axis in (None, 0, -1)]
)


@pytest.mark.parametrize("name, axis, keepdims", REDUCTION_CASES)
def test_reduction(name, axis, keepdims):
    fn = getattr(np, name)
    kw = {} if name in ("cumsum", "cumprod") else {"keepdims": keepdims}
    x = A if name not in ("any", "all", "count_nonzero") else np.round(A)
    check(lambda a: fn(a, axis=axis, **kw), x, rtol=1e-4, atol=1e-5)


def test_reduction_options():
    x, m = randn(4, 6), randn(4, 6) > 0
    check(lambda a, w: (a.sum(axis=1, where=w), a.max(axis=0, initial=0.5), a.mean(where=w),
                        a.var(ddof=1), a.std(axis=1, ddof=1), a.sum(dtype=np.float64), np.sum(a, axis=(0, 1)),
                        np.average(a, axis=1, weights=np.arange(6.0, dtype=F32)), a.min(initial=-1.0)),
          x, m, rtol=1e-4)


def test_integer_and_bool_reductions_use_numpy_dtypes():
    x = ints(4, 5)
    check(lambda a: (a.sum(), a.sum(axis=0), a.mean(axis=1), a.max(axis=1), a.prod(axis=0), a.var(),
                     np.cumsum(a, axis=1), (a > 0).sum(axis=1), np.argmax(a, axis=1)), x)


def test_argmax_ties_and_nan_follow_numpy():
    x = np.array([[1, 3, 3, 0], [np.nan, 1, np.nan, 2], [5, 5, 5, 5]], dtype=F32)
    check(lambda a: (np.argmax(a, axis=1), np.argmin(a, axis=1), a.max(axis=1), np.argmax(a)), x)


@pytest.mark.parametrize("kw", [{}, {"ord": 1}, {"ord": np.inf}, {"ord": -np.inf}, {"ord": 0}, {"ord": 3},
                                {"axis": 1}, {"axis": 0, "keepdims": True}, {"ord": 1, "axis": 1},
                                {"axis": (0, 1)}, {"ord": "fro"}, {"ord": 1, "axis": (0, 1)},
                                {"ord": np.inf, "axis": (0, 1)}])
def test_linalg_norm(kw):
    x = randn(4, 5)
    if "axis" not in kw and kw.get("ord") not in (None, "fro"):
        x = x[0]
    check(lambda a: np.linalg.norm(a, **kw), x, rtol=1e-5, target=target_for(f"norm_ord{kw.get('ord')}"))


# --- shapes ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda x: x.reshape(6, 4), lambda x: x.reshape(-1), lambda x: np.reshape(x, (2, -1, 3)), lambda x: x.T,
    lambda x: x.transpose(1, 0, 2), lambda x: np.transpose(x, (2, 0, 1)), lambda x: np.swapaxes(x, 0, 2),
    lambda x: np.moveaxis(x, 0, -1), lambda x: np.expand_dims(x, (0, 2)), lambda x: x[:, :1].squeeze(1),
    lambda x: np.squeeze(x[None]), lambda x: x.ravel(), lambda x: x.flatten(),
    lambda x: np.concatenate([x, x * 2], axis=1), lambda x: np.concatenate([x, x], axis=None),
    lambda x: np.stack([x, x + 1], axis=-1), lambda x: np.vstack([x[0], x[1]]), lambda x: np.hstack([x[0], x[1]]),
    lambda x: np.column_stack([x[0, 0], x[1, 1]]), lambda x: tuple(np.split(x, 2, axis=0)),
    lambda x: tuple(np.array_split(x, 3, axis=1)), lambda x: tuple(np.split(x, [1, 3], axis=1)),
    lambda x: np.flip(x, 1), lambda x: np.flip(x), lambda x: np.fliplr(x[0]), lambda x: np.roll(x, 2, axis=1),
    lambda x: np.roll(x, -1), lambda x: np.tile(x[0], (2, 1)), lambda x: np.tile(x[0, 0], 3),
    lambda x: np.repeat(x, 2, axis=2), lambda x: np.repeat(x[0], 2), lambda x: np.pad(x, ((1, 0), (0, 2), (1, 1))),
    lambda x: np.pad(x[0], 1, constant_values=-1.0), lambda x: np.tril(x[0]), lambda x: np.triu(x[0], 1),
    lambda x: np.broadcast_to(x[0, :, :1], (3, 4, 2)), lambda x: np.atleast_2d(x[0, 0]),
    lambda x: tuple(np.broadcast_arrays(x[0, 0], x[:, :1, 0])), lambda x: np.atleast_3d(x[0]),
    lambda x: np.diff(x, axis=1), lambda x: np.diff(x[0, 0], n=2, prepend=0.0),
])
def test_shape_function(fn):
    check(fn, randn(2, 4, 3))


# --- indexing ----------------------------------------------------------------------------------------

B = randn(5, 6, 4)


@pytest.mark.parametrize("key", [
    0, -1, (1, 2), (1, 2, 3), (-2, -3, -4), slice(1, 4), slice(None, None, 2), slice(None, None, -1),
    slice(-1, 0, -2), (slice(1, None), slice(None, -1), slice(None, None, 3)), (Ellipsis, 1), (0, Ellipsis),
    (None, 1), (slice(None), None, 2, None), (Ellipsis, None), np.array([0, 2, 2]), np.array([-1, 0]),
    [1, 3], (np.array([0, 1]), np.array([2, 3])), (slice(None), np.array([0, 5, 1])),
    (np.array([[0, 1], [2, 3]]), slice(None), 0), (0, slice(None), np.array([1, 3])),
    (np.array([0, 1]), slice(1, 3), np.array([2, 3])), (Ellipsis, np.array([3, 0])),
    (np.array([1, 2])[:, None], np.array([0, 1, 2])), B[:, 0, 0] > 0, (slice(None), B[0, :, 0] > 0),
    (np.array([True, False, True, False, True]), 1), (None, np.array([0, 1]), None, 2), (2, None, np.array([1])),
])
def test_static_index(key):
    check(lambda x: x[key], B)


def test_traced_indices_are_gathers_and_dynamic_slices():
    idx = np.array([4, 0, -1, 2], dtype=np.int64)

    def f(x, i, j):
        return x[i], x[:, i], x[j], x[j, 1:3], x[i, j], x[i[:, None], i[None, :2]], x[-j]
    check(f, B, idx, np.int32(3))


def test_take_and_take_along_axis():
    x, i = randn(5, 6), rng.integers(0, 6, (5, 2))
    check(lambda a, j: (np.take(a, j[:, 0], axis=1), np.take(a, [1, -1]), np.take_along_axis(a, j, axis=1),
                        np.take(a, 7, mode="wrap"), a.take(j[0], axis=1), np.take(a, j[0, 0], axis=1)), x, i)


def test_iterating_a_tracer_unrolls():
    check(lambda x: sum(row * k for k, row in enumerate(x)), randn(4, 3))


# --- products ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, shapes", [
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("ij,jk", [(3, 4), (4, 5)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij->ji", [(3, 4)]), ("ij->", [(3, 4)]), ("ii->i", None), ("i,i->", [(4,), (4,)]), ("i,j->ij", [(3,), (4,)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]), ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("ijk,ik->j", [(2, 3, 4), (2, 4)]), ("ab,cb->ac", [(3, 4), (5, 4)]),
])
def test_einsum(spec, shapes):
    if shapes is None:
        with pytest.raises(UnsupportedNumpyError, match="repeated index"):
            xm.trace(lambda x: np.einsum(spec, x), randn(3, 3))
        return
    arrays = [randn(*s) for s in shapes]
    check(lambda *a: np.einsum(spec, *a), *arrays, rtol=1e-4)


def test_dot_family():
    a, b, v = randn(3, 4), randn(4, 5), randn(4)
    check(lambda a, b, v: (np.dot(a, b), np.dot(v, v), np.dot(a, v), a.dot(b), np.vdot(a, a), np.inner(v, v),
                           np.inner(a, a), np.outer(v, v), np.tensordot(a, b, axes=1),
                           np.tensordot(a, a, axes=([0, 1], [0, 1])), np.dot(2.0, v), a @ b, v @ b, a @ v,
                           np.matmul(a[None], b), np.trace(a[:, :3]), np.diag(v), np.diag(v, k=1),
                           np.diag(a), np.diagonal(a, offset=1), np.diag(v, -2)),
          a, b, v, rtol=1e-4)


# --- other functions ---------------------------------------------------------------------------------

@np.errstate(divide="ignore", invalid="ignore")
def test_elementwise_functions():
    x, y = randn(4, 5) * 2, randn(4, 5)
    check(lambda a, b: (np.where(a > b, a, b), np.clip(a, -1, 1), np.clip(a, None, 0.5), a.clip(min=0),
                        np.round(a, 2), np.around(a), np.isclose(a, a + 1e-9), np.allclose(a, a),
                        np.select([a > 1, a < -1], [a, b], 0.0), np.nan_to_num(a / (b > 0)),
                        np.zeros_like(a), np.ones_like(a, dtype=np.int32), np.full_like(a, 3), np.copy(a),
                        np.real(a), np.imag(a), np.fix(a), np.astype(a, np.float16) if hasattr(np, "astype") else a,
                        a.astype(np.int32)),
          x, y)


def test_static_facts_do_not_emit_code():
    def f(x):
        assert np.shape(x) == (4, 5) and np.ndim(x) == 2 and np.size(x) == 20 and len(x) == 4
        assert np.result_type(x, 1.0) == np.float32 and x.nbytes == 80
        return x * x.shape[1]
    check(f, randn(4, 5))
