"""batch-norm-training, -inference and -grad expanded into reduces, broadcasts and elementwise
ops, as XLA's BatchNormExpander does before fusion on CPU and GPU: no code generator knows them,
and the expanded ops are simplified and fused like any others. The evaluator keeps its direct
implementation; the tests hold the two, and XLA:CPU, to the same results.

The formulas are XLA's, in the operand's own element type (f16/bf16 included) like XLA's:
- training: mean = Σx / N, var = Σx² / N − mean² (one pass, E[x²] − E[x]²),
  y = (x − mean) · rsqrt(var + ε) · scale + offset; the result is (y, mean, var).
- inference: k = scale · rsqrt(var + ε), y = x · k + (offset − mean · k).
- grad: grad_offset = Σdy, grad_scale = Σ(dy · (x − mean)) · rsqrt(var + ε),
  grad_x = (scale · rsqrt(var + ε) / N) · (N · dy − Σdy − (x − mean) · Σ(dy · (x − mean)) / (var + ε)).
Sums run over every dimension but `feature_index`; N is the number of elements per feature; ε is
the instruction's f32 epsilon converted to the element type.

bf16 is computed in f32 and rounded once at the end: XLA:CPU's float normalization makes every
bf16 op an f32 one between converts, and its simplify-fp-conversions then drops the round trips
between them (the tests match XLA:CPU exactly so). f16 stays f16, as on XLA:CPU."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import prod

import numpy as np

from ..hlo.attrs import Raw
from ..hlo.builder import ComputationBuilder, ModuleBuilder
from ..hlo.dtypes import dtype
from ..hlo.ir import Computation, Instruction, Module, Names, replace_uses, topological_sort
from ..hlo.opcodes import Opcode as O

_COMPUTED_IN = {"bf16": dtype("f32")}  # element types whose arithmetic runs in a wider one (see above)


@dataclass
class _Norm:
    """What every expansion needs about one batch-norm instruction."""

    b: ComputationBuilder
    mb: ModuleBuilder  # holds the scalar add reducer
    x: Instruction  # the operand (activations)
    feature: int
    epsilon: float

    @property
    def dims(self) -> tuple[int, ...]:
        return self.x.shape.dims

    @property
    def others(self) -> tuple[int, ...]:
        return tuple(d for d in range(len(self.dims)) if d != self.feature)

    def scalar(self, value: float) -> Instruction:
        return self.b.constant(value, self.x.shape.element_type)

    def eps(self) -> Instruction:
        return self.scalar(float(np.float32(self.epsilon)))  # XLA keeps epsilon as an f32

    def count(self) -> Instruction:
        """N, the elements per feature, in the element type. XLA multiplies get-dimension-sizes
        for `<=` bounded dims; arrays here always hold their bound, so the count is static."""
        return self.scalar(prod(self.dims[d] for d in self.others))

    def full(self, v: Instruction) -> Instruction:
        """A per-feature vector (or a scalar) broadcast to the operand's shape."""
        return self.b.broadcast(v, self.dims, (self.feature,) if v.shape.dims else ())

    def per_feature(self, s: Instruction) -> Instruction:
        """A scalar broadcast to the per-feature shape."""
        return self.b.broadcast(s, (self.dims[self.feature],))

    def sum(self, v: Instruction) -> Instruction:
        """Σ over every dimension but the feature one."""
        add = self.mb.reducer(O.ADD, self.x.shape.element_type)
        return self.b.op(O.REDUCE, v, self.scalar(0.0), dimensions=self.others, to_apply=add)

    def op(self, opcode: O, a: Instruction, c: Instruction) -> Instruction:
        return self.b.op(opcode, a, c)


def _training(n: _Norm, scale: Instruction, offset: Instruction) -> Instruction:
    o, mul, sub = n.op, O.MULTIPLY, O.SUBTRACT
    count = n.per_feature(n.count())
    mean = o(O.DIVIDE, n.sum(n.x), count)  # E[x]
    var = o(sub, o(O.DIVIDE, n.sum(o(mul, n.x, n.x)), count), o(mul, mean, mean))  # E[x²] − E[x]²
    rsqrt = n.b.op(O.RSQRT, o(O.ADD, n.full(var), n.full(n.eps())))  # 1 / √(var + ε)
    normalized = o(mul, o(sub, n.x, n.full(mean)), rsqrt)  # (x − E[x]) / √(var + ε)
    y = o(O.ADD, o(mul, normalized, n.full(scale)), n.full(offset))  # · scale + offset
    return n.b.tuple(y, mean, var)


def _inference(n: _Norm, scale: Instruction, offset: Instruction, mean: Instruction,
               var: Instruction) -> Instruction:
    o = n.op
    k = o(O.MULTIPLY, scale, n.b.op(O.RSQRT, o(O.ADD, var, n.per_feature(n.eps()))))  # scale / √(var + ε)
    shift = o(O.SUBTRACT, offset, o(O.MULTIPLY, mean, k))  # offset − mean · k
    return o(O.ADD, o(O.MULTIPLY, n.x, n.full(k)), n.full(shift))  # x · k + shift


def _grad(n: _Norm, scale: Instruction, mean: Instruction, var: Instruction, dy: Instruction) -> Instruction:
    o, mul, sub, add = n.op, O.MULTIPLY, O.SUBTRACT, O.ADD
    count, eps = n.count(), n.eps()
    var_eps = o(add, n.full(var), n.full(eps))  # var + ε, full size
    centered = o(sub, n.x, n.full(mean))  # x − E[x]
    sum_dy_centered = n.sum(o(mul, dy, centered))  # Σ dy · (x − E[x])
    grad_offset = n.sum(dy)  # Σ dy
    grad_scale = o(mul, sum_dy_centered, n.b.op(O.RSQRT, o(add, var, n.per_feature(eps))))
    i5 = o(O.DIVIDE, o(mul, n.full(sum_dy_centered), centered), var_eps)  # (x − E[x]) · Σ dy (x − E[x]) / (var + ε)
    coef = o(O.DIVIDE, o(mul, n.full(scale), n.b.op(O.RSQRT, var_eps)), n.full(count))  # scale / √(var + ε) / N
    i6 = o(sub, o(sub, o(mul, dy, n.full(count)), n.full(grad_offset)), i5)  # N · dy − Σ dy − i5
    return n.b.tuple(o(mul, coef, i6), grad_scale, grad_offset)


_EXPANSIONS: dict[O, Callable[..., Instruction]] = {
    O.BATCH_NORM_TRAINING: _training,  # (x, scale, offset) -> (y, mean, var)
    O.BATCH_NORM_INFERENCE: _inference,  # (x, scale, offset, mean, var) -> y
    O.BATCH_NORM_GRAD: _grad,  # (x, scale, mean, var, dy) -> (dx, dscale, doffset)
}
EXPANDED = frozenset(_EXPANSIONS)


def _number(instr: Instruction, key: str, default: str) -> str:
    v = instr.attrs.get(key, default)
    return str(v.text if isinstance(v, Raw) else v)


def expand_batch_norm(module: Module) -> bool:
    """Replaces every batch-norm instruction by its expansion."""
    names: Names | None = None
    mb: ModuleBuilder | None = None
    for comp in module.computations:
        for instr in [i for i in comp.instructions if i.opcode in _EXPANSIONS]:
            if names is None or mb is None:
                names = Names([c.name for c in module.computations] +
                              [i.name for c in module.computations for i in c.instructions])
                mb = ModuleBuilder(names)
            _replace(comp, instr, names, mb)
    if mb is None:
        return False
    module.computations[0:0] = mb.computations  # the reducers, before their callers
    return True


def _replace(comp: Computation, instr: Instruction, names: Names, mb: ModuleBuilder) -> None:
    b = ComputationBuilder(names, comp.name)
    b.metadata = instr.metadata
    b.line, b.column = instr.line, instr.column
    given = instr.operands[0].shape.element_type
    wide = _COMPUTED_IN.get(given.name)
    operands = [b.convert(o, wide) for o in instr.operands] if wide is not None else list(instr.operands)
    n = _Norm(b, mb, operands[0], int(_number(instr, "feature_index", "0")),
              float(_number(instr, "epsilon", "0.001")))
    result = _EXPANSIONS[instr.opcode](n, *operands[1:])
    if wide is not None:  # rounded once, at the results
        if result.opcode is O.TUPLE:
            result = b.tuple(*(b.convert(r, given) for r in result.operands))
        else:
            result = b.convert(result, given)
    pos = comp.instructions.index(instr)
    comp.instructions[pos:pos] = b.instructions
    replace_uses(comp, instr, result)
    comp.instructions.remove(instr)
    topological_sort(comp)
