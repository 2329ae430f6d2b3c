"""Modules and computations under construction.

A `ModuleBuilder` owns names, finished computations and the small reducer computations; a
`ComputationBuilder` collects the instructions of one computation while the user's code runs.
Builders nest: the body of a loop or a branch is a child of the computation that holds the loop.
A child reads values of its ancestors by *capturing* them: they travel in as extra elements of its
tuple parameter, so a loop body can use any array of the enclosing function, as in JAX."""
from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import numpy as np

from ..hlo.attrs import Metadata
from ..hlo.dtypes import from_numpy
from ..hlo.ir import Computation, Instruction
from ..hlo.opcodes import Opcode
from ..hlo.shape import Shape
from ..hlo.shape_inference import ShapeError, infer_shape
from .errors import EscapedTracerError, TracingError
from .source import user_location

# The shape of an instruction whose shape is not known yet: set from the shape rule (emit) or once the
# captures are final (seal).
_PENDING = cast(Shape, None)

# Opcodes whose result shape XLA does not infer from the operands: the caller declares it.
_DECLARED = frozenset({Opcode.BROADCAST, Opcode.RESHAPE, Opcode.CONVERT, Opcode.IOTA, Opcode.BITCAST_CONVERT})


class ModuleBuilder:
    """Names, finished computations (callees first) and shared reducers of one traced module."""

    def __init__(self, fn_name: str):
        self.fn_name = fn_name
        self.computations: list[Computation] = []
        self._ids = itertools.count(1)
        self._reducers: dict[tuple, Computation] = {}
        self._metadata: dict[tuple, Metadata] = {}
        self.op_names: list[str] = []  # numpy-level operations being traced, outermost first
        self.location: tuple[str, int] | None = None  # overrides the caller's line (parameters, outputs)

    def fresh(self, base: str) -> str:
        """A module-unique instruction or computation name."""
        return f"{base}.{next(self._ids)}"

    def metadata(self) -> Metadata:
        """The user's line and the outermost numpy operation being traced, as JAX's op_name."""
        op = self.op_names[0] if self.op_names else "op"
        loc = self.location or user_location()
        key = (op,) + (loc or ())
        md = self._metadata.get(key)
        if md is None:
            md = Metadata(op_name=f"jit({self.fn_name})/{op}", source_file=loc[0] if loc else None,
                          source_line=loc[1] if loc else None)
            self._metadata[key] = md
        return md

    @contextmanager
    def op(self, name: str, location: tuple[str, int] | None = None) -> Iterator[None]:
        """Names what is emitted inside after the numpy operation `name` (the outermost one wins);
        `location` pins its source line (for parameters and outputs, which have no caller line)."""
        self.op_names.append(name)
        saved = self.location
        self.location = location or saved
        try:
            yield
        finally:
            self.op_names.pop()
            self.location = saved

    def add(self, comp: Computation) -> Computation:
        self.computations.append(comp)
        return comp

    def reducer(self, opcode: Opcode, dtype: np.dtype) -> Computation:
        """`(a, b) -> opcode(a, b)` on scalars of `dtype`, one per module and kind."""
        key = (opcode, np.dtype(dtype))
        comp = self._reducers.get(key)
        if comp is None:
            s = Shape.array(from_numpy(dtype), ())
            a = Instruction(self.fresh("lhs"), Opcode.PARAMETER, s, parameter_number=0)
            b = Instruction(self.fresh("rhs"), Opcode.PARAMETER, s, parameter_number=1)
            root = Instruction(self.fresh(opcode.value), opcode, s, [a, b])
            comp = self.add(Computation(self.fresh(f"{opcode.value}_reducer"), [a, b, root], root))
            self._reducers[key] = comp
        return comp

    def arg_reducer(self, direction: str, dtype: np.dtype, index_dtype: np.dtype) -> Computation:
        """The (value, index) reducer of argmax (direction GT) / argmin (LT), as JAX writes it:
        NaN wins, ties go to the smaller index."""
        key = ("arg" + direction, np.dtype(dtype), np.dtype(index_dtype))
        comp = self._reducers.get(key)
        if comp is not None:
            return comp
        vs, xs = Shape.array(from_numpy(dtype), ()), Shape.array(from_numpy(index_dtype), ())
        ps = Shape.array(from_numpy(np.bool_), ())
        instrs: list[Instruction] = []

        def mk(opcode, shape, ops=(), **attrs):
            i = Instruction(self.fresh(opcode.value), opcode, shape, list(ops), attrs)
            instrs.append(i)
            return i

        v0 = Instruction(self.fresh("value"), Opcode.PARAMETER, vs, parameter_number=0)
        i0 = Instruction(self.fresh("index"), Opcode.PARAMETER, xs, parameter_number=1)
        v1 = Instruction(self.fresh("value"), Opcode.PARAMETER, vs, parameter_number=2)
        i1 = Instruction(self.fresh("index"), Opcode.PARAMETER, xs, parameter_number=3)
        instrs += [v0, i0, v1, i1]
        better = mk(Opcode.COMPARE, ps, (v0, v1), direction=direction)
        if np.dtype(dtype).kind in "fc":
            nan = mk(Opcode.COMPARE, ps, (v0, v0), direction="NE")
            better = mk(Opcode.OR, ps, (better, nan))
        value = mk(Opcode.SELECT, vs, (better, v0, v1))
        eq = mk(Opcode.COMPARE, ps, (v0, v1), direction="EQ")
        lt = mk(Opcode.COMPARE, ps, (i0, i1), direction="LT")
        take = mk(Opcode.OR, ps, (better, mk(Opcode.AND, ps, (eq, lt))))
        index = mk(Opcode.SELECT, xs, (take, i0, i1))
        root = mk(Opcode.TUPLE, Shape.tuple_of([vs, xs]), (value, index))
        comp = self.add(Computation(self.fresh(f"arg{direction.lower()}_reducer"), instrs, root))
        self._reducers[key] = comp
        return comp


class Captures:
    """Values of an enclosing computation used inside sibling computations (a loop's condition
    and body, a conditional's branches); they become trailing elements of the shared tuple state."""

    def __init__(self) -> None:
        self.outer: list[Instruction] = []
        self._index: dict[int, int] = {}

    def index(self, outer: Instruction) -> int:
        k = self._index.get(id(outer))
        if k is None:
            k = self._index[id(outer)] = len(self.outer)
            self.outer.append(outer)
        return k


class ComputationBuilder:
    """The instructions of one computation, in the order the user's code made them."""

    def __init__(self, module: ModuleBuilder, parent: ComputationBuilder | None = None,
                 captures: Captures | None = None, what: str = "the traced function"):
        self.module = module
        self.parent = parent
        self.captures = captures
        self.what = what
        self.instructions: list[Instruction] = []
        self._consts: dict[tuple, Instruction] = {}
        self._n_params = 0
        # tuple-parameter state (children only): fixed elements, then captures
        self.tuple_param: Instruction | None = None
        self.fixed: list[Instruction] = []
        self._capture_gtes: dict[int, Instruction] = {}

    # --- leaves -------------------------------------------------------------------------------

    def parameter(self, shape: Shape, name: str) -> Instruction:
        p = Instruction(self.module.fresh(name), Opcode.PARAMETER, shape, parameter_number=self._n_params,
                        metadata=self.module.metadata())
        self._n_params += 1
        self.instructions.append(p)
        return p

    def constant(self, value: np.ndarray) -> Instruction:
        value = np.asarray(value)
        key = None
        if value.size <= 1:
            key = (value.dtype.str, value.shape, value.tobytes())
            hit = self._consts.get(key)
            if hit is not None:
                return hit
        shape = Shape.array(from_numpy(value.dtype), value.shape)
        c = Instruction(self.module.fresh("constant"), Opcode.CONSTANT, shape, literal=np.array(value),
                        metadata=self.module.metadata())
        self.instructions.append(c)
        if key is not None:
            self._consts[key] = c
        return c

    def emit(self, opcode: Opcode, operands: Sequence[Instruction], shape: Shape | None = None,
             **attrs: Any) -> Instruction:
        """Appends one instruction; its shape comes from XLA's shape rules unless the opcode needs
        it declared. A rule's complaint here is a bug in the tracer, reported with the details."""
        if shape is None and opcode in _DECLARED:
            raise AssertionError(f"{opcode.value} needs a declared shape")
        instr = Instruction(self.module.fresh(opcode.value), opcode, _PENDING if shape is None else shape,
                            list(operands), attrs,
                            metadata=self.module.metadata())
        try:
            inferred = infer_shape(instr)
        except ShapeError as e:
            raise TracingError(f"internal error: tracing produced an invalid {opcode.value}: {e} "
                               f"(operands {[o.shape.to_text() for o in operands]}, attributes {attrs})") from e
        if shape is None:
            instr.shape = inferred
        self.instructions.append(instr)
        return instr

    # --- values of enclosing computations -----------------------------------------------------

    def local(self, instr: Instruction, owner: ComputationBuilder) -> Instruction:
        """`instr` (made in `owner`) as a value of this computation, captured through every level
        in between."""
        if owner is self:
            return instr
        if self.parent is None or self.captures is None:
            raise EscapedTracerError(
                f"a traced array from {owner.what} was used in {self.what}, outside the trace or the loop "
                "body / branch that made it. Values computed inside xla_magic.fori_loop, while_loop, scan or "
                "cond can only leave through the function's return value; values of a finished trace cannot be "
                "reused by another one.")
        outer = self.parent.local(instr, owner)
        k = self.captures.index(outer)
        gte = self._capture_gtes.get(k)
        if gte is None:
            gte = self._gte(outer.shape, None)
            self._capture_gtes[k] = gte
        return gte

    # --- tuple-parameter state (children) -----------------------------------------------------

    def _ensure_tuple_param(self) -> Instruction:
        if self.tuple_param is None:  # its shape is set by seal(), once the captures are known
            self.tuple_param = Instruction(self.module.fresh("state"), Opcode.PARAMETER, _PENDING,
                                           parameter_number=0)
            self.instructions.insert(0, self.tuple_param)
            self._n_params = 1
        return self.tuple_param

    def _gte(self, shape: Shape, index: int | None) -> Instruction:
        param = self._ensure_tuple_param()
        g = Instruction(self.module.fresh("get-tuple-element"), Opcode.GET_TUPLE_ELEMENT, shape,
                        [param], {"index": index}, metadata=self.module.metadata())
        self.instructions.append(g)
        return g

    def state_element(self, shape: Shape) -> Instruction:
        """The next fixed element of the tuple parameter (loop state, branch operand)."""
        g = self._gte(shape, len(self.fixed))
        self.fixed.append(g)
        return g

    def seal(self, name: str, outputs: Sequence[Instruction] | None, root: Instruction | None = None) -> Computation:
        """Finishes the computation once every sibling is traced (captures are final).

        `outputs`: the new fixed state of a loop body, returned as a tuple followed by every
        capture unchanged; otherwise `root` is the root as it is."""
        n_fixed = len(self.fixed)
        shapes = [g.shape for g in self.fixed]
        if self.captures is not None:
            for k, outer in enumerate(self.captures.outer):
                shapes.append(outer.shape)
                if k not in self._capture_gtes and outputs is not None:
                    self._capture_gtes[k] = self._gte(outer.shape, None)
            for k, g in self._capture_gtes.items():
                g.attrs["index"] = n_fixed + k
        self._ensure_tuple_param().shape = Shape.tuple_of(shapes)
        if outputs is not None:
            caps = [self._capture_gtes[k] for k in range(len(self.captures.outer))] if self.captures else []
            elems = list(outputs) + caps
            root = self.emit(Opcode.TUPLE, elems)
        if root is None:
            raise AssertionError("seal() needs the outputs or the root")
        return self.finish(root, self.module.fresh(name))

    def finish(self, root: Instruction, name: str, is_entry: bool = False) -> Computation:
        """Keeps the instructions the root needs (and every parameter), in the order they were made."""
        comp = Computation(name, self.instructions, root, is_entry=is_entry)
        live = {id(i) for i in comp.post_order()}
        comp.instructions = [i for i in self.instructions if id(i) in live]
        return self.module.add(comp)


# --- the active computation ------------------------------------------------------------------

class _Active(threading.local):
    def __init__(self) -> None:
        self.stack: list[ComputationBuilder] = []


_ACTIVE = _Active()


def current() -> ComputationBuilder | None:
    return _ACTIVE.stack[-1] if _ACTIVE.stack else None


def tracing() -> ComputationBuilder:
    """The computation being traced now, for code that only runs inside a trace."""
    b = current()
    if b is None:
        raise TracingError("no trace is active")
    return b


@contextmanager
def active(builder: ComputationBuilder) -> Iterator[ComputationBuilder]:
    _ACTIVE.stack.append(builder)
    try:
        yield builder
    finally:
        _ACTIVE.stack.pop()
