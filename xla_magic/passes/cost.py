"""Cost analysis after optimization: flops, transcendentals and bytes accessed, per instruction,
per kernel and in total (taken on the optimized module, so fused intermediates cost no bytes)."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from ..hlo.ir import Instruction, Module
from ..hlo.opcodes import ELEMENTWISE, TRANSCENDENTAL
from ..hlo.opcodes import Opcode as O
from ..hlo.walk import control_flow_computations

# Values that move no data: they name other buffers or parts of them.
_FREE = frozenset({O.PARAMETER, O.CONSTANT, O.TUPLE, O.GET_TUPLE_ELEMENT, O.BITCAST, O.WHILE, O.CONDITIONAL,
                   O.CALL, O.AFTER_ALL})


CostRule = Callable[[Instruction], tuple[int, int]]  # -> (flops, transcendentals)


def _nothing(i: Instruction) -> tuple[int, int]:
    return 0, 0


def _elementwise(i: Instruction) -> tuple[int, int]:  # one flop per output element
    return i.shape.size, 0


def _transcendental(i: Instruction) -> tuple[int, int]:  # one transcendental per output element
    return 0, i.shape.size


def _fusion(i: Instruction) -> tuple[int, int]:  # the sum of what it fuses
    f = t = 0
    for j in i.attrs["calls"].instructions:
        a, b = instruction_cost(j)
        f, t = f + a, t + b
    return f, t


def _dot(i: Instruction) -> tuple[int, int]:  # a multiply and an add per output element and contracted element
    k = 1
    for d in i.attrs.get("lhs_contracting_dims", ()):
        k *= i.operands[0].shape.dims[d]
    return 2 * i.shape.size * k, 0


def _convolution(i: Instruction) -> tuple[int, int]:  # 2 * outputs * kernel elements per output feature
    w = i.operands[1].shape
    dl = i.attrs.get("dim_labels")
    per_out = w.size // max(1, w.dims[dl.kernel_output_feature]) if dl else w.size
    return 2 * i.shape.size * per_out, 0


def _reduce(i: Instruction) -> tuple[int, int]:  # one reducer application per input element and operand
    return i.operands[0].shape.size * (len(i.operands) // 2), 0


def _reduce_window(i: Instruction) -> tuple[int, int]:  # the window's size per output element
    size = 1
    for d in i.attrs["window"].dims:
        size *= d.size
    return i.shape.leaves()[0].size * size, 0


def _sort(i: Instruction) -> tuple[int, int]:  # n log2 n comparisons
    n = i.operands[0].shape.size
    return int(n * max(1.0, math.log2(max(2, n)))), 0


# One row per opcode. Converts and copies move data but compute nothing, as in XLA's HloCostAnalysis;
# every opcode not named here (data movement, control flow, names of buffers) costs no flops.
COST_RULES: dict[O, CostRule] = {
    **{op: _transcendental for op in TRANSCENDENTAL},
    **{op: _elementwise for op in ELEMENTWISE - TRANSCENDENTAL - {O.CONVERT, O.BITCAST_CONVERT, O.COPY}},
    O.FUSION: _fusion,
    O.DOT: _dot,
    O.CONVOLUTION: _convolution,
    O.REDUCE: _reduce,
    O.REDUCE_WINDOW: _reduce_window,
    O.SORT: _sort,
}
COST_RULES.update({op: _nothing for op in O if op not in COST_RULES})

# Tuple-shaped results are bookkeeping, except for the ops that compute several arrays at once.
_TUPLE_COMPUTES = frozenset({O.FUSION, O.REDUCE, O.SORT})


def instruction_cost(i: Instruction) -> tuple[int, int]:
    """(flops, transcendentals) of one instruction, as XLA's HloCostAnalysis counts them."""
    if i.shape.is_tuple and i.opcode not in _TUPLE_COMPUTES:
        return 0, 0
    return COST_RULES[i.opcode](i)


def bytes_accessed(i: Instruction) -> int:
    """Bytes read from operands plus bytes written, for an instruction that runs as a kernel."""
    if i.opcode in _FREE:
        return 0
    return sum(o.shape.nbytes for o in i.operands) + i.shape.nbytes


@dataclass
class Cost:
    flops: int = 0
    transcendentals: int = 0
    bytes_accessed: int = 0
    per_instruction: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # name -> (flops, trans, bytes)

    def __repr__(self) -> str:
        return (f"<Cost: {self.flops} flops, {self.transcendentals} transcendentals, "
                f"{self.bytes_accessed} bytes accessed>")


def analyze(module: Module) -> Cost:
    """Costs of the kernels the module runs: the entry and its control-flow computations, with a
    fusion counted as one kernel (its internal values never touch memory)."""
    cost = Cost()
    for comp in control_flow_computations(module):
        for i in comp.instructions:
            f, t = instruction_cost(i)
            b = bytes_accessed(i)
            if f or t or b:
                cost.per_instruction[i.name] = (f, t, b)
                cost.flops += f
                cost.transcendentals += t
                cost.bytes_accessed += b
    return cost
