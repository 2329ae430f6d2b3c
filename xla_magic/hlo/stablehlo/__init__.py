"""Reading StableHLO (MLIR text, as `jax.jit(f).lower(x).as_text()` prints it) into HLO modules."""
