"""The IR builder: names, inferred shapes, reducers, and a built module that verifies and runs."""
import numpy as np
import pytest

import xla_magic as xm
from xla_magic.hlo.builder import ModuleBuilder
from xla_magic.hlo.dtypes import dtype
from xla_magic.hlo.ir import Names
from xla_magic.hlo.opcodes import Opcode
from xla_magic.hlo.shape import Shape
from xla_magic.hlo.shape_inference import ShapeError
from xla_magic.hlo.verifier import verify_module as verify


def test_names_are_unique_and_reserved_names_kept():
    n = Names(["add.1"])
    assert n("add") == "add.2"
    assert n.reserve("x") == "x"
    assert n.reserve("x") == "x.1"


def test_built_module_verifies_and_runs():
    mb = ModuleBuilder()
    f32 = dtype("f32")
    b = mb.computation("main")
    x = b.parameter(0, Shape.array(f32, (2, 3)), "x")
    y = b.op(Opcode.MULTIPLY, x, b.scalar_like(2.0, x))
    s = b.op(Opcode.REDUCE, y, b.constant(0.0, f32), dimensions=(1,), to_apply=mb.reducer(Opcode.ADD, f32))
    assert s.shape == Shape.array(f32, (2,))
    m = mb.build("built", b.finish(b.tuple(s, b.convert(s, dtype("s32")))))
    verify(m)
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    got = xm.interpret(m.to_text(), a)
    np.testing.assert_array_equal(got[0], (2 * a).sum(1))
    assert mb.reducer(Opcode.ADD, f32) is mb.reducer(Opcode.ADD, f32)


def test_declared_shapes_are_required_and_wrong_operands_named():
    b = ModuleBuilder().computation("main")
    x = b.parameter(0, Shape.array("f32", (2,)))
    with pytest.raises(ValueError, match="reshape needs its result shape"):
        b.op(Opcode.RESHAPE, x)
    with pytest.raises(ShapeError):
        b.op(Opcode.ADD, x, b.parameter(1, Shape.array("s32", (2,))))
