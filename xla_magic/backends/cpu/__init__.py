"""The CPU backend: llvmlite-generated machine code.

Foundations: `jit` (LLVM IR -> machine code, artifacts), `mathlib` (vectorizable math functions
emitted as LLVM IR), `callpath` (the ~1 us call from Python into generated code)."""
