"""Building HLO modules in code: fresh names, shapes from XLA's shape rules, scalar reducers.

Readers of other formats (StableHLO) and rewrites that expand one op into many (the `chlo`
decompositions) build instructions through this one place, so every built instruction has a
unique name and a shape the verifier agrees with."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .attrs import Metadata
from .dtypes import DType
from .ir import Computation, Instruction, Module, Names
from .opcodes import Opcode
from .shape import Shape
from .shape_inference import infer_shape

# Opcodes whose result shape XLA does not infer from the operands alone: the caller declares it.
DECLARED = frozenset({
    Opcode.BROADCAST, Opcode.RESHAPE, Opcode.CONVERT, Opcode.IOTA, Opcode.BITCAST_CONVERT,
    Opcode.BITCAST, Opcode.CUSTOM_CALL, Opcode.RNG, Opcode.RNG_BIT_GENERATOR, Opcode.DYNAMIC_RESHAPE,
    Opcode.STOCHASTIC_CONVERT, Opcode.INFEED, Opcode.RECV, Opcode.ALL_GATHER, Opcode.REDUCE_SCATTER,
    Opcode.ALL_TO_ALL,
})


class ComputationBuilder:
    """The instructions of one computation, appended in definition order (operands first).

    `metadata`, `line` and `column` are stamped on every instruction made while they are set
    (a reader sets them to the source location of the op it is expanding)."""

    def __init__(self, names: Names, name: str):
        self.names = names
        self.name = name
        self.instructions: list[Instruction] = []
        self.metadata: Metadata | None = None
        self.line = 0
        self.column = 0

    def _add(self, instr: Instruction) -> Instruction:
        instr.metadata = instr.metadata or self.metadata
        instr.line, instr.column = self.line, self.column
        self.instructions.append(instr)
        return instr

    def parameter(self, number: int, shape: Shape, name: str = "parameter") -> Instruction:
        return self._add(Instruction(self.names.reserve(name), Opcode.PARAMETER, shape, parameter_number=number))

    def constant(self, value: npt.ArrayLike, dtype: DType) -> Instruction:
        """A constant holding `value` (a scalar or an array) converted to `dtype`."""
        lit = np.asarray(value, dtype=dtype.np_dtype)
        return self._add(Instruction(self.names("constant"), Opcode.CONSTANT, Shape.array(dtype, lit.shape),
                                     literal=lit))

    def scalar_like(self, value: float | int | bool, like: Instruction) -> Instruction:
        """`value` in `like`'s element type, broadcast to `like`'s shape (a scalar when it is one)."""
        s = like.shape
        c = self.constant(value, s.element_type)
        return c if not s.dims else self.broadcast(c, s.dims)

    def op(self, opcode: Opcode, *operands: Instruction, shape: Shape | None = None, name: str | None = None,
           **attrs: Any) -> Instruction:
        """One instruction. Its shape is inferred by XLA's rules unless given (and must be given for
        the opcodes in DECLARED); a given shape is checked against the rules where they apply."""
        if shape is None and opcode in DECLARED:
            raise ValueError(f"{opcode.value} needs its result shape")
        instr = Instruction(self.names(name or opcode.value), opcode, shape or Shape.array("f32"),
                            list(operands), attrs)
        inferred = infer_shape(instr)  # ShapeError names what is wrong
        if shape is None:
            instr.shape = inferred
        return self._add(instr)

    def broadcast(self, x: Instruction, dims: Sequence[int], dimensions: Sequence[int] = ()) -> Instruction:
        """`x` broadcast to `dims`; `dimensions` maps x's axes to result axes."""
        return self.op(Opcode.BROADCAST, x, shape=Shape.array(x.shape.element_type, dims),
                       dimensions=tuple(dimensions))

    def convert(self, x: Instruction, dtype: DType) -> Instruction:
        if x.shape.element_type == dtype:
            return x
        return self.op(Opcode.CONVERT, x, shape=x.shape.with_dtype(dtype))

    def reshape(self, x: Instruction, dims: Sequence[int]) -> Instruction:
        return self.op(Opcode.RESHAPE, x, shape=Shape.array(x.shape.element_type, dims))

    def compare(self, a: Instruction, b: Instruction, direction: str, type: str | None = None) -> Instruction:
        attrs: dict[str, Any] = {"direction": direction}
        if type is not None:
            attrs["type"] = type
        return self.op(Opcode.COMPARE, a, b, **attrs)

    def tuple(self, *elements: Instruction) -> Instruction:
        return self.op(Opcode.TUPLE, *elements)

    def get(self, x: Instruction, index: int) -> Instruction:
        return self.op(Opcode.GET_TUPLE_ELEMENT, x, index=index)

    def finish(self, root: Instruction, *, is_entry: bool = False) -> Computation:
        """The computation, keeping every instruction made (dead ones included: DCE drops them)."""
        return Computation(self.name, list(self.instructions), root, is_entry=is_entry)


class ModuleBuilder:
    """Computations of one module, callees added before their callers; scalar reducers shared."""

    def __init__(self, names: Names | None = None):
        self.names = names or Names()
        self.computations: list[Computation] = []
        self._reducers: dict[tuple[Opcode, str], Computation] = {}

    def computation(self, name: str) -> ComputationBuilder:
        return ComputationBuilder(self.names, self.names.reserve(name))

    def add(self, comp: Computation) -> Computation:
        self.computations.append(comp)
        return comp

    def reducer(self, opcode: Opcode, dtype: DType) -> Computation:
        """`(a, b) -> opcode(a, b)` on scalars of `dtype`, made once per module."""
        key = (opcode, dtype.name)
        comp = self._reducers.get(key)
        if comp is None:
            b = self.computation(f"{opcode.value}_{dtype.name}")
            s = Shape.array(dtype)
            lhs, rhs = b.parameter(0, s, "lhs"), b.parameter(1, s, "rhs")
            comp = self._reducers[key] = self.add(b.finish(b.op(opcode, lhs, rhs)))
        return comp

    def build(self, name: str, entry: Computation, attrs: dict[str, Any] | None = None) -> Module:
        entry.is_entry = True
        if entry not in self.computations:
            self.computations.append(entry)
        return Module(name, list(self.computations), entry, dict(attrs or {}))
