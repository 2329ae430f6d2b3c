"""No silent wrong answers at the edges: `out=` overlapping the inputs or another output,
unsigned 64-bit indices past 2^63, scalar shapes in the interpreter, and what the verifier and the
parser must refuse before anything runs."""
from __future__ import annotations

import numpy as np
import pytest

import xla_magic as xm
from xla_magic.backends.gpu import hostsim
from xla_magic.hlo.parser import parse_hlo
from xla_magic.passes.pipeline import optimize

HAVE_CXX = hostsim.available()[0]
TARGETS = ["interpreter", "cpu"]


def _hostsim(text: str):
    """The gpu target's generated code, run on the host."""
    return hostsim.compile(optimize(parse_hlo(text), target="gpu")[0])


# --- out= overlapping the inputs --------------------------------------------------------------

TRANSPOSE = """HloModule t
ENTRY e {
  p = f32[8,8] parameter(0)
  ROOT t = f32[8,8] transpose(p), dimensions={1,0}
}
"""
REVERSE = """HloModule r
ENTRY e {
  p = f32[1000] parameter(0)
  ROOT r = f32[1000] reverse(p), dimensions={0}
}
"""
DOT = """HloModule d
ENTRY e {
  a = f32[16,16] parameter(0)
  b = f32[16,16] parameter(1)
  ROOT d = f32[16,16] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}
"""
SHIFT = """HloModule s
ENTRY e {
  p = f32[63] parameter(0)
  q = f32[63] parameter(1)
  ROOT a = f32[63] add(p, q)
}
"""
TWO = """HloModule two
ENTRY e {
  p = f32[8] parameter(0)
  n = f32[8] negate(p)
  ROOT t = (f32[8], f32[8]) tuple(p, n)
}
"""


def _data(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("text,shape", [(TRANSPOSE, (8, 8)), (REVERSE, (1000,))])
def test_out_aliasing_the_input(target, text, shape):
    x = _data(shape)
    want = xm.interpret(text, x.copy())
    exe = xm.compile(text, target=target)
    got = exe(x, out=x)
    assert got is x
    np.testing.assert_array_equal(x, want)


@pytest.mark.parametrize("target", TARGETS)
def test_out_aliasing_a_dot_operand(target):
    a, b = _data((16, 16), 1), _data((16, 16), 2)
    want = a @ b
    exe = xm.compile(DOT, target=target)
    exe(a, b, out=a)
    np.testing.assert_allclose(a, want, rtol=1e-5, atol=1e-5)
    a, b = _data((16, 16), 1), _data((16, 16), 2)
    exe(a, b, out=b)
    np.testing.assert_allclose(b, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("target", TARGETS)
def test_out_a_shifted_view_of_the_inputs(target):
    buf = _data(64)
    p, q = buf[:-1].copy(), buf[1:].copy()
    want = p + q
    exe = xm.compile(SHIFT, target=target)
    exe(buf[:-1], buf[1:], out=buf[1:])  # out overlaps both inputs, one element apart
    np.testing.assert_array_equal(buf[1:], want)
    buf = _data(64)
    want = buf[1:] + buf[:-1]
    exe(buf[1:], buf[:-1], out=buf[:-1])
    np.testing.assert_array_equal(buf[:-1], want)


@pytest.mark.parametrize("target", TARGETS)
def test_outputs_overlapping_each_other_are_refused(target):
    exe = xm.compile(TWO, target=target)
    x, o = _data(8), np.empty(8, np.float32)
    with pytest.raises(ValueError, match=r"out\[0\].*out\[1\]"):
        exe(x, out=(o, o))
    big = np.empty(12, np.float32)
    with pytest.raises(ValueError, match=r"out\[0\].*out\[1\]"):
        exe(x, out=(big[:8], big[4:]))
    a, b = np.empty(8, np.float32), np.empty(8, np.float32)
    exe(x, out=(a, b))
    np.testing.assert_array_equal(a, x)
    np.testing.assert_array_equal(b, -x)


@pytest.mark.skipif(not HAVE_CXX, reason="no C++ compiler for the host simulation")
def test_out_aliasing_the_input_in_the_gpu_host_simulation():
    x = _data((8, 8))
    want = x.T.copy()
    _hostsim(TRANSPOSE)(x, out=x)
    np.testing.assert_array_equal(x, want)
    o = np.empty(8, np.float32)
    with pytest.raises(ValueError, match=r"out\[0\].*out\[1\]"):
        _hostsim(TWO)(_data(8), out=(o, o))


# --- unsigned 64-bit indices past 2^63 clamp to the end (XLA reads them as unsigned) ----------

DS = """HloModule ds
ENTRY e {
  x = f32[10] parameter(0)
  i = u64[] parameter(1)
  ROOT d = f32[3] dynamic-slice(x, i), dynamic_slice_sizes={3}
}
"""
DUS = """HloModule dus
ENTRY e {
  x = f32[10] parameter(0)
  u = f32[3] parameter(1)
  i = u64[] parameter(2)
  ROOT d = f32[10] dynamic-update-slice(x, u, i)
}
"""
GATHER = """HloModule g
ENTRY e {
  x = f32[5,3] parameter(0)
  i = u64[2,1] parameter(1)
  ROOT g = f32[2,3] gather(x, i), offset_dims={1}, collapsed_slice_dims={0}, start_index_map={0},
    index_vector_dim=1, slice_sizes={1,3}
}
"""
SCATTER = """HloModule s
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}
ENTRY e {
  x = f32[5] parameter(0)
  i = u64[3,1] parameter(1)
  u = f32[3] parameter(2)
  ROOT s = f32[5] scatter(x, i, u), update_window_dims={}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0},
    index_vector_dim=1, to_apply=add
}
"""
HUGE = [np.uint64(2**63), np.uint64(2**64 - 1), np.uint64(2**63 + 5)]


def _runners():
    out = [("interpreter", lambda t, *a: xm.interpret(t, *a)),
           ("cpu", lambda t, *a: xm.compile(t, target="cpu")(*a))]
    if HAVE_CXX:
        out.append(("gpu-hostsim", lambda t, *a: _hostsim(t)(*a)))
    return out


@pytest.mark.parametrize("name,run", _runners(), ids=lambda v: v if isinstance(v, str) else "")
def test_huge_unsigned_indices_clamp_to_the_end(name, run):
    x = np.arange(10, dtype=np.float32)
    for i in HUGE:
        np.testing.assert_array_equal(run(DS, x, np.array(i)), [7, 8, 9], err_msg=f"{name} dynamic-slice {i}")
        want = x.copy()
        want[7:] = [-1, -2, -3]
        got = run(DUS, x, np.array([-1, -2, -3], np.float32), np.array(i))
        np.testing.assert_array_equal(got, want, err_msg=f"{name} dynamic-update-slice {i}")
    np.testing.assert_array_equal(run(DS, x, np.array(np.uint64(3))), [3, 4, 5], err_msg=f"{name} in range")
    table = np.arange(15, dtype=np.float32).reshape(5, 3)
    got = run(GATHER, table, np.array([[2**63], [1]], np.uint64))
    np.testing.assert_array_equal(got, [[12, 13, 14], [3, 4, 5]], err_msg=f"{name} gather")
    # Scatter skips out-of-bounds windows: a huge index is past the end, not negative and wrapped.
    got = run(SCATTER, np.zeros(5, np.float32), np.array([[2**64 - 1], [2], [2**63]], np.uint64),
              np.array([1, 10, 100], np.float32))
    np.testing.assert_array_equal(got, [0, 0, 10, 0, 0], err_msg=f"{name} scatter")


# --- scalars stay scalars in the interpreter ---------------------------------------------------

_TYPES = ["f32", "s32", "u32", "pred", "c64"]
_ATTRS = {"compare": ", direction=LT", "reduce-precision": ", exponent_bits=5, mantissa_bits=10"}
_VALUES = {"f32": np.float32(1.5), "s32": np.int32(3), "u32": np.uint32(3), "pred": np.bool_(True),
           "c64": np.complex64(1 + 2j)}


# Accepted by the verifier on c64, evaluated by no target (the cpu has no complex types).
_NO_COMPLEX = {"atan2", "cbrt", "remainder"}


def _scalar_module(op, arity, tin, tout):
    params = "".join(f"  a{k} = {'pred' if op == 'select' and k == 0 else tin}[] parameter({k})\n"
                     for k in range(arity))
    args = ", ".join(f"a{k}" for k in range(arity))
    return f"HloModule m\nENTRY e {{\n{params}  ROOT r = {tout}[] {op}({args}){_ATTRS.get(op, '')}\n}}\n"


def _scalar_cases():
    from xla_magic.hlo.opcodes import BINARY, ELEMENTWISE, UNARY
    from xla_magic.hlo.verifier import verify_module

    cases = []
    for op in sorted(ELEMENTWISE, key=lambda o: o.value):
        if op.value == "stochastic-convert":  # not evaluated (no random bits source)
            continue
        arity = 1 if op in UNARY else 2 if op in BINARY else 3
        for tin in _TYPES:
            for tout in _TYPES:
                text = _scalar_module(op.value, arity, tin, tout)
                try:
                    verify_module(parse_hlo(text))
                except ValueError:
                    continue
                marks = []
                if op.value in _NO_COMPLEX and tin == "c64":
                    marks.append(pytest.mark.xfail(raises=TypeError, strict=True, reason="no complex " + op.value))
                cases.append(pytest.param(text, tin, arity, id=f"{op.value}-{tin}-{tout}", marks=marks))
    return cases


@pytest.mark.parametrize("text,tin,arity", _scalar_cases())
def test_elementwise_ops_keep_scalars_0d(text, tin, arity):
    args = [np.asarray(np.bool_(True) if k == 0 and " select(" in text else _VALUES[tin]) for k in range(arity)]
    got = xm.interpret(text, *args)
    assert type(got) is np.ndarray and got.shape == (), text


def test_exponent_of_a_float_scalar_is_a_scalar():
    text = """HloModule m
ENTRY e {
  p = f32[] parameter(0)
  w = s32[] parameter(1)
  b = s32[] bitcast-convert(p)
  c = s32[] constant(23)
  s = s32[] shift-right-logical(b, c)
  m = s32[] constant(255)
  a = s32[] and(s, m)
  ROOT r = s32[] shift-right-arithmetic(a, w)
}
"""
    got = xm.interpret(text, np.float32(3.0), np.int32(1))
    assert got.shape == () and got == 64
    assert xm.compile(text, target="cpu")(np.float32(3.0), np.int32(1)).shape == ()


# --- the verifier checks every comparator and reducer signature ---------------------------------

_CMP_S32 = """cmp {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  i = s32[] parameter(2)
  j = s32[] parameter(3)
  ROOT r = s32[] constant(1)
}
"""
_CMP_OK = """cmp {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  i = s32[] parameter(2)
  j = s32[] parameter(3)
  ROOT r = pred[] compare(a, b), direction=GT
}
"""
_CMP_TWO = """cmp {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT r = pred[] compare(a, b), direction=GT
}
"""
_ADD_S32 = """add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT r = s32[] constant(0)
}
"""
_TOPK = """ENTRY e {
  x = f32[4,6] parameter(0)
  ROOT t = (f32[4,2], s32[4,2]) custom-call(x), custom_call_target="TopK", called_computations={cmp}
}
"""
_SORT2 = """ENTRY e {
  x = f32[6] parameter(0)
  i = s32[6] iota(), iota_dimension=0
  ROOT t = (f32[6], s32[6]) sort(x, i), dimensions={0}, to_apply=cmp
}
"""
_REDUCERS = {
    "reduce": """ENTRY e {
  x = f32[6] parameter(0)
  z = f32[] constant(0)
  ROOT r = f32[] reduce(x, z), dimensions={0}, to_apply=add
}
""",
    "reduce-window": """ENTRY e {
  x = f32[6] parameter(0)
  z = f32[] constant(0)
  ROOT r = f32[3] reduce-window(x, z), window={size=2 stride=2}, to_apply=add
}
""",
    "scatter": """ENTRY e {
  x = f32[6] parameter(0)
  i = s32[1,1] constant({{2}})
  u = f32[1] constant({5})
  ROOT s = f32[6] scatter(x, i, u), update_window_dims={}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0},
    index_vector_dim=1, to_apply=add
}
""",
    "map": """ENTRY e {
  x = s32[6] parameter(0)
  ROOT m = s32[6] map(x, x), dimensions={0}, to_apply=add
}
""",
}


def _module(*parts):
    return "HloModule m\n\n" + "\n".join(parts)


def test_topk_comparator_must_return_pred():
    from xla_magic.hlo.verifier import HloVerifyError, verify_module

    with pytest.raises(HloVerifyError, match=r"instruction 't'.*TopK comparator 'cmp' must return pred\[\]"):
        verify_module(parse_hlo(_module(_CMP_S32, _TOPK)))
    with pytest.raises(HloVerifyError, match=r"TopK comparator 'cmp' must take 4 parameters"):
        verify_module(parse_hlo(_module(_CMP_TWO, _TOPK)))
    with pytest.raises(HloVerifyError, match=r"declared shape"):
        verify_module(parse_hlo(_module(_CMP_OK, _TOPK.replace("s32[4,2]) custom", "s32[4,3]) custom"))))
    with pytest.raises(HloVerifyError, match=r"TopK indices must be integers"):
        verify_module(parse_hlo(_module(_CMP_OK, _TOPK.replace("s32[4,2])", "f32[4,2])"))))
    ok = _module(_CMP_OK, _TOPK)
    verify_module(parse_hlo(ok))
    x = _data((4, 6))
    want = np.sort(x, axis=1)[:, ::-1][:, :2]
    for target in TARGETS:
        values, idx = xm.compile(ok, target=target)(x)
        np.testing.assert_array_equal(values, want, err_msg=target)
        np.testing.assert_array_equal(np.take_along_axis(x, idx, 1), want, err_msg=target)


def test_sort_comparator_must_return_pred():
    from xla_magic.hlo.verifier import HloVerifyError, verify_module

    with pytest.raises(HloVerifyError, match=r"sort comparator 'cmp' must return pred\[\]"):
        verify_module(parse_hlo(_module(_CMP_S32, _SORT2)))


@pytest.mark.parametrize("op", sorted(_REDUCERS))
def test_reducer_signatures_are_checked(op):
    from xla_magic.hlo.verifier import HloVerifyError, verify_module

    with pytest.raises(HloVerifyError, match="add"):
        verify_module(parse_hlo(_module(_ADD_S32, _REDUCERS[op])))


# --- layouts that name dimensions that do not exist --------------------------------------------

BAD_LAYOUTS = ["{5,0}", "{0,0}", "{-1,0}", "{0}", "{2,1,0}"]


@pytest.mark.parametrize("layout", BAD_LAYOUTS)
def test_parser_rejects_invalid_layouts(layout):
    from xla_magic.hlo.parser import HloParseError

    text = f"HloModule m\nENTRY e {{\n  p = f32[2,3] parameter(0)\n  ROOT n = f32[2,3]{layout} negate(p)\n}}\n"
    with pytest.raises(HloParseError, match=r"instruction 'n': layout \{") as e:
        parse_hlo(text)
    assert (e.value.line, e.value.column) == (4, text.splitlines()[3].index("{") + 1)
    assert e.value.excerpt.splitlines()[1].index("^") == e.value.excerpt.splitlines()[0].index("{")
    with pytest.raises(HloParseError, match="layout"):  # inside a tuple shape too
        parse_hlo(text.replace(f"ROOT n = f32[2,3]{layout} negate(p)",
                               f"n = f32[2,3] negate(p)\n  ROOT t = (f32[2,3]{layout}) tuple(n)"))


def test_parser_keeps_valid_layouts():
    for layout in ["{1,0}", "{0,1}", "{}", "{1,0:T(8,128)}"]:
        m = parse_hlo(f"HloModule m\nENTRY e {{\n  ROOT p = f32[2,3]{layout} parameter(0)\n}}\n")
        assert m.entry.root.shape.dims == (2, 3)
    parse_hlo("HloModule m\nENTRY e {\n  ROOT p = f32[]{} parameter(0)\n}\n")


@pytest.mark.parametrize("layout", [(5, 0), (0, 0), (-1, 0), (0,)])
def test_verifier_rejects_invalid_layouts(layout):
    from xla_magic.hlo.shape import Shape
    from xla_magic.hlo.verifier import HloVerifyError, verify_module

    m = parse_hlo("HloModule m\nENTRY e {\n  p = f32[2,3] parameter(0)\n  ROOT n = f32[2,3] negate(p)\n}\n")
    m.entry.root.shape = Shape.array("f32", (2, 3), layout)
    with pytest.raises(HloVerifyError, match=r"instruction 'n'.*layout"):
        verify_module(m)


def test_device_arrays_overlap_by_address_range():
    from types import SimpleNamespace

    from xla_magic.backends.args import separate

    class Dev:  # what separate reads of a CuPy array
        def __init__(self, ptr, nbytes):
            self.data, self.nbytes = SimpleNamespace(ptr=ptr), nbytes

        def copy(self):
            return Dev(10_000, self.nbytes)

    a, b, c = Dev(100, 40), Dev(136, 4), Dev(140, 8)  # b is the last 4 bytes of a; c starts past both
    assert separate([a, c], [b])[0] is not a
    assert separate([a, c], [b])[1] is c
    assert separate([a], [c])[0] is a
    with pytest.raises(ValueError, match=r"out\[0\] and out\[1\] share memory"):
        separate([], [a, b])
    separate([], [a, c, Dev(0, 0)])
