"""Backends: `interpreter` (numpy, one op at a time), `cpu` (llvmlite), `gpu` (CuPy).

Each has `available() -> (bool, reason)` and `compile(module, ...) -> Executable`."""
