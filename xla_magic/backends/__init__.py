"""Backends: `interpreter` (numpy, one op at a time), `cpu` (llvmlite), `gpu` (CuPy).

Each has `available() -> (bool, reason)` and `compile(lowered) -> Executable`, and is listed in
`registry`, which is how the rest of the package finds it."""
