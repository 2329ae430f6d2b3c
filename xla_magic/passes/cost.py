"""Cost analysis after optimization: flops, transcendentals and bytes accessed, per instruction,
per kernel and in total (taken on the optimized module, so fused intermediates cost no bytes)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..hlo.ir import Instruction, Module
from ..hlo.opcodes import ELEMENTWISE, TRANSCENDENTAL
from ..hlo.opcodes import Opcode as O
from ..hlo.walk import control_flow_computations

# Values that move no data: they name other buffers or parts of them.
_FREE = frozenset({O.PARAMETER, O.CONSTANT, O.TUPLE, O.GET_TUPLE_ELEMENT, O.BITCAST, O.WHILE, O.CONDITIONAL,
                   O.CALL, O.AFTER_ALL})


def instruction_cost(i: Instruction) -> tuple[int, int]:
    """(flops, transcendentals) of one instruction, as XLA's HloCostAnalysis counts them."""
    op = i.opcode
    if op is O.FUSION:
        f = t = 0
        for j in i.attrs["calls"].instructions:
            a, b = instruction_cost(j)
            f, t = f + a, t + b
        return f, t
    if i.shape.is_tuple and op not in (O.REDUCE, O.SORT):
        return 0, 0
    if op is O.DOT:
        k = 1
        for d in i.attrs.get("lhs_contracting_dims", ()):
            k *= i.operands[0].shape.dims[d]
        return 2 * i.shape.size * k, 0
    if op is O.CONVOLUTION:
        w = i.operands[1].shape
        dl = i.attrs.get("dim_labels")
        per_out = w.size // max(1, w.dims[dl.kernel_output_feature]) if dl else w.size
        return 2 * i.shape.size * per_out, 0
    if op is O.REDUCE:
        return i.operands[0].shape.size * (len(i.operands) // 2), 0
    if op is O.REDUCE_WINDOW:
        size = 1
        for d in i.attrs["window"].dims:
            size *= d.size
        leaf = i.shape.leaves()[0]
        return leaf.size * size, 0
    if op is O.SORT:
        import math

        n = i.operands[0].shape.size
        return int(n * max(1.0, math.log2(max(2, n)))), 0
    if op in TRANSCENDENTAL:
        return 0, i.shape.size
    if op in ELEMENTWISE and op not in (O.CONVERT, O.BITCAST_CONVERT, O.COPY):
        return i.shape.size, 0
    return 0, 0


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
