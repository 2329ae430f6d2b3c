"""Library-call kernels of the CPU backend: dot, convolution, sort and top-k, each emitted as one
LLVM function into a given llvmlite module.

    define_dot(module, instr, name)                   void name(ptr lhs, ptr rhs, ptr out)
    define_convolution(module, instr, name)           void name(ptr lhs, ptr rhs, ptr out)
    define_sort(module, instr, name, comparator)      void name(ptr in0, .., ptr out0, ..)
    define_topk(module, instr, name, comparator)      void name(ptr x, ptr values, ptr indices)

Buffers are dense row-major arrays of the instruction's shapes (layouts are ignored); outputs
alias no input. Every loop bound is a compile-time constant or derived from one, so no shape can
make the code read or write out of bounds. Scratch memory comes from malloc and is checked: when
it is NULL the kernel takes a slower path that needs none, never a crash.

Modules: `irutil` (IR helpers: loops, allocas, converts, loads/stores), `geometry` (a dot's
dims and strides as one `DotGeometry`, its 2-D product `Gemm`), `dot` (`define_dot`: strategy
choice, operand copies, batching), the strategies `gemm` (register-blocked loops), `packed`
(BLIS-style packing and micro-kernel) and `blas` (numpy's BLAS, found at run time), then `conv`,
`sort` and `topk`. `define_dot(..., strategy=...)` forces a strategy (tests and benchmarks),
`dot_strategy(instr)` says which the sizes pick. `XLA_MAGIC_BLAS=0` disables the BLAS lookup.
"""
from __future__ import annotations

from .blas import Blas, find_blas
from .conv import define_convolution
from .dot import DOT_STRATEGIES, define_dot, dot_strategy
from .sort import define_sort
from .topk import define_topk

__all__ = ["define_dot", "define_convolution", "define_sort", "define_topk", "find_blas", "Blas",
           "DOT_STRATEGIES", "dot_strategy"]
