"""xla_magic.trace and xla_magic.jit: signatures and caching, static arguments, containers,
reports, source locations in metadata, and the errors tracing raises."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import xla_magic as xm
from xla_magic.hlo.opcodes import Opcode
from xla_magic.trace import (
    ConcretizationError,
    EscapedTracerError,
    Jitted,
    TracingError,
    UnsupportedNumpyError,
)

F32 = np.float32


def x_(*shape, dtype=F32):
    return np.arange(np.prod(shape), dtype=dtype).reshape(shape) / 7


# --- trace -------------------------------------------------------------------------------------------

def test_trace_returns_a_verified_module_that_round_trips():
    def f(x, w):
        return np.maximum(x @ w, 0)
    m = xm.trace(f, x_(2, 3), x_(3, 4))
    assert isinstance(m, xm.Module) and m.name == "jit_f"
    assert [p.name.split(".")[0] for p in m.entry.parameters] == ["x", "w"]
    assert xm.parse_hlo(m.to_text()).to_text() == m.to_text()
    np.testing.assert_allclose(xm.interpret(m, x_(2, 3), x_(3, 4)), f(x_(2, 3), x_(3, 4)))


def test_trace_accepts_shape_dtype_placeholders_and_keywords():
    class Spec:
        def __init__(self, shape, dtype):
            self.shape, self.dtype = shape, dtype

    m = xm.trace(lambda x, scale=1.0: x * scale, Spec((2, 3), np.float16), scale=2.0)
    assert [p.shape.to_text(layout=False) for p in m.entry.parameters] == ["f16[2,3]", "f64[]"]
    assert m.entry.root.shape.to_text(layout=False) == "f16[2,3]"  # the Python float stays weak


def test_trace_with_static_arguments():
    def f(x, n, mode="sum"):
        y = x
        for _ in range(n):
            y = np.tanh(y)
        return y.sum() if mode == "sum" else y.max()
    m = xm.trace(f, x_(4), 3, mode="max", static_argnums=1, static_argnames="mode")
    text = m.to_text()
    assert text.count(" tanh(") == 3 and "maximum" in text and len(m.entry.parameters) == 1


def test_containers_in_and_out():
    def f(params, xs):
        h = xs[0] @ params["w"] + params["b"]
        return {"out": h, "aux": (h.sum(), xs[1] * 2)}
    params = {"w": x_(3, 2), "b": x_(2)}
    xs = [x_(4, 3), x_(5)]
    m = xm.trace(f, params, xs)
    assert [p.name.rsplit(".", 1)[0] for p in m.entry.parameters] == ["params.b", "params.w", "xs.0", "xs.1"]
    got = xm.jit(f)(params, xs)
    want = f(params, xs)
    assert set(got) == {"out", "aux"} and isinstance(got["aux"], tuple)
    np.testing.assert_allclose(got["out"], want["out"], rtol=1e-6)
    np.testing.assert_allclose(got["aux"][0], want["aux"][0], rtol=1e-6)
    np.testing.assert_allclose(got["aux"][1], want["aux"][1])


def test_unused_instructions_are_not_emitted():
    def f(x):
        np.exp(x)  # computed and dropped
        return x + 1
    assert "exponential" not in xm.trace(f, x_(3)).to_text()


def test_returning_an_input_or_a_constant():
    got = xm.jit(lambda x: (x, np.float32(2.5), np.arange(3)))(x_(2))
    np.testing.assert_array_equal(got[0], x_(2))
    assert got[1] == 2.5 and got[1].dtype == F32 and got[2].dtype == np.int64


# --- jit ---------------------------------------------------------------------------------------------

def test_jit_traces_once_per_signature_and_caches():
    calls = []

    @xm.jit
    def f(x):
        calls.append(x.shape)
        return np.sin(x) * 2

    assert isinstance(f, Jitted) and f.__name__ == "f"
    a, b = x_(3), x_(4)
    np.testing.assert_allclose(f(a), np.sin(a) * 2, rtol=1e-6)
    f(a + 1)
    f(a)
    assert calls == [(3,)]
    f(b)
    f(b.astype(np.float64))
    assert calls == [(3,), (4,), (4,)]
    assert f.report is not None and f.report.target == "cpu"


def test_jit_static_argnums_and_argnames():
    calls = []

    @xm.jit(static_argnums=(1,), static_argnames=("act",))
    def f(x, k, act="tanh"):
        calls.append((k, act))
        return getattr(np, act)(x) * k

    a = x_(3)
    np.testing.assert_allclose(f(a, 2), np.tanh(a) * 2, rtol=1e-6)
    np.testing.assert_allclose(f(a, 3, act="sin"), np.sin(a) * 3, rtol=1e-6)
    f(a, 2)
    f(a, k=2)  # by name: the same static value
    assert calls == [(2, "tanh"), (3, "sin")]
    with pytest.raises(TypeError, match="hashable"):
        f(a, [1])


def test_jit_python_numbers_are_traced_weakly_and_not_retraced():
    calls = []

    @xm.jit
    def f(x, lr):
        calls.append(1)
        return x - lr * x

    a = x_(3)
    out = f(a, 0.5)
    assert out.dtype == F32 and len(calls) == 1
    np.testing.assert_allclose(f(a, 0.25), a - 0.25 * a, rtol=1e-6)
    assert len(calls) == 1


def test_jit_lower_and_trace_give_the_module_without_compiling():
    f = xm.jit(lambda x: x * 2)
    m = f.lower(x_(2, 2))
    assert isinstance(m, xm.Module) and f.trace(x_(2, 2)) is m and f.report is None


def test_jit_target_and_report():
    f = xm.jit(lambda x: np.exp(x).sum(axis=1), target="interpreter")
    np.testing.assert_allclose(f(x_(2, 3)), np.exp(x_(2, 3)).sum(axis=1), rtol=1e-6)
    assert f.report.target == "interpreter"
    g = xm.jit(lambda x: np.exp(x - x.max(axis=1, keepdims=True)))
    g(x_(4, 8))
    assert g.report.fusion_plan is not None and "jit(_lambda_)" in g.report.hlo_before


def test_jit_checks_arguments_through_the_executable():
    f = xm.jit(lambda x: x + 1)
    f(x_(3))
    with pytest.raises(TypeError):
        f("text")
    out = f(np.asfortranarray(x_(3, 2)))  # non-contiguous arrays are fine
    np.testing.assert_allclose(out, x_(3, 2) + 1)


def test_jit_as_a_method_like_wrapper_keeps_signature():
    def f(x, y=2):
        return x * y
    j = xm.jit(f)
    assert inspect.signature(j) == inspect.signature(f)
    np.testing.assert_allclose(j(x_(2), y=3), x_(2) * 3)


# --- metadata --------------------------------------------------------------------------------------------

def test_every_instruction_points_at_the_users_line():
    def f(x, w):
        h = x @ w                                           # line A
        return np.tanh(h).sum(axis=0)                       # line B
    line_a = f.__code__.co_firstlineno + 1
    m = xm.trace(f, x_(2, 3), x_(3, 4))
    by_op = {}
    for instr in m.entry.instructions:
        md = instr.metadata
        assert md is not None and md.source_file == __file__, instr
        by_op.setdefault(instr.opcode, set()).add(md.source_line)
    assert by_op[Opcode.DOT] == {line_a}
    assert by_op[Opcode.TANH] == {line_a + 1} and by_op[Opcode.REDUCE] == {line_a + 1}
    assert by_op[Opcode.PARAMETER] == {f.__code__.co_firstlineno}
    ops = {i.opcode: i.metadata.op_name for i in m.entry.instructions}
    assert ops[Opcode.DOT] == "jit(f)/matmul" and ops[Opcode.TANH] == "jit(f)/tanh"
    assert ops[Opcode.REDUCE] == "jit(f)/sum"


def test_metadata_inside_helpers_and_loops_points_at_user_code():
    def helper(v):
        return np.exp(v)                                    # helper line

    def f(x):
        return xm.fori_loop(0, 3, lambda i, v: helper(v) * 0.5, x)
    m = xm.trace(f, x_(3))
    helper_line = helper.__code__.co_firstlineno + 1
    body = next(c for c in m.computations if c.name.startswith("while_body"))
    exp = next(i for i in body.instructions if i.opcode is Opcode.EXP)
    assert (exp.metadata.source_file, exp.metadata.source_line) == (__file__, helper_line)
    assert exp.metadata.op_name.endswith("/exp")
    assert all(i.metadata is not None for c in m.computations if not c.name.endswith("reducer")
               for i in c.instructions if i.opcode is not Opcode.PARAMETER)


# --- errors ------------------------------------------------------------------------------------------------

def test_data_dependent_if_is_a_clear_error():
    def f(x):
        if x.sum() > 0:
            return x
        return -x
    with pytest.raises(ConcretizationError) as e:
        xm.trace(f, x_(3))
    msg = str(e.value)
    for name in ("xla_magic.cond", "xla_magic.fori_loop", "xla_magic.while_loop", "xla_magic.scan", "np.where",
                 "bool[]"):
        assert name in msg


@pytest.mark.parametrize("fn, what", [
    (lambda x: float(x.sum()), "float()"),
    (lambda x: int(x[0]), "int()"),
    (lambda x: range(x.shape[0] * x[0]), "Python integer"),
    (lambda x: np.asarray(x), "numpy array"),
    (lambda x: x.item(), ".item()"),
    (lambda x: x if x.max() else x, "if"),
    (lambda x: [v for v in range(3) if x[v] > 0], "if"),
    (lambda x: x.sum() > 0 and x, "and"),
])
def test_value_needed_while_tracing(fn, what):
    with pytest.raises(ConcretizationError, match="only known when the compiled code runs") as e:
        xm.trace(fn, x_(3))
    assert what in str(e.value)


@pytest.mark.parametrize("fn, names", [
    (lambda x: np.sort(x), ["'sort'", "np.max"]),
    (lambda x: np.nonzero(x), ["'nonzero'", "np.where(condition, x, y)"]),
    (lambda x: np.linalg.inv(x), ["'linalg.inv'"]),
    (lambda x: np.unique(x), ["'unique'"]),
    (lambda x: np.median(x), ["'median'", "np.mean"]),
    (lambda x: np.fft.fft(x), ["'fft.fft'"]),
    (lambda x: np.gcd(x, x), ["'gcd'"]),
    (lambda x: np.where(x > 0), ["'where'", "np.where(condition, x, y)"]),
    (lambda x: np.exp(x, out=x), ["'exp'", "out="]),
    (lambda x: np.sum(x, out=x), ["'sum'", "out="]),
    (lambda x: np.pad(x, 1, mode="reflect"), ["'pad'", "mode='constant'"]),
    (lambda x: np.add.at(x, [0], 1), ["add.at"]),
    (lambda x: np.take(x, [0], out=x), ["'take'", "out="]),
])
def test_unsupported_numpy_names_the_function_and_an_alternative(fn, names):
    with pytest.raises(UnsupportedNumpyError) as e:
        xm.trace(fn, x_(3, 3).astype(np.int32) if "gcd" in names[0] else x_(3, 3))
    for n in names:
        assert n in str(e.value)
    assert isinstance(e.value, NotImplementedError) and isinstance(e.value, TracingError)


def test_assignment_into_a_traced_array_is_a_clear_error():
    def f(x):
        x[0] = 1
        return x
    with pytest.raises(TracingError, match="immutable.*np.where"):
        xm.trace(f, x_(3))

    def g(x):
        out = np.zeros(3, F32)
        out[:2] = x[:2]
        return out
    with pytest.raises(ConcretizationError, match="ndarray assignment"):
        xm.trace(g, x_(3))


def test_data_dependent_shapes_are_clear_errors():
    with pytest.raises(TracingError, match="boolean mask.*np.where"):
        xm.trace(lambda x: x[x > 0], x_(4))
    with pytest.raises(TracingError, match="slice bounds must be known"):
        xm.trace(lambda x, i: x[i:i + 2], x_(4), np.int32(1))


def test_leaked_tracer_is_a_clear_error():
    leaked = []

    def f(x):
        leaked.append(x * 2)
        return x
    xm.trace(f, x_(3))
    with pytest.raises(EscapedTracerError, match="outside the trace"):
        xm.trace(lambda y: y + leaked[0], x_(3))
    with pytest.raises(EscapedTracerError, match="after its trace finished"):
        np.exp(leaked[0])


def test_shape_errors_read_like_numpy():
    with pytest.raises(ValueError, match="could not be broadcast"):
        xm.trace(lambda x, y: x + y, x_(3), x_(4))
    with pytest.raises(ValueError, match="matmul"):
        xm.trace(lambda x, y: x @ y, x_(2, 3), x_(4, 2))
    with pytest.raises(IndexError, match="out of bounds"):
        xm.trace(lambda x: x[5], x_(3))
    with pytest.raises(ValueError, match="cannot reshape"):
        xm.trace(lambda x: x.reshape(4, 4), x_(3, 5))


def test_bad_arguments_are_clear():
    with pytest.raises(TypeError, match="static_argnums"):
        xm.trace(lambda x, s: x, x_(2), "text")
    with pytest.raises(TracingError, match="returned no arrays"):
        xm.trace(lambda x: None, x_(2))


def test_trace_layering():
    """The trace package builds IR only: passes, backends and display are not imported at module
    level (jit reaches the compiler through xla_magic.api, inside the call)."""
    import ast
    import pathlib

    root = pathlib.Path(xm.__file__).parent / "trace"
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                top = (node.module or "").split(".")[0]
                assert top == "hlo", f"{path.name} imports ..{node.module} at module level"
