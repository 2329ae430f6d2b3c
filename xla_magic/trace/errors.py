"""The errors tracing raises. Each says what went wrong in the user's terms and what to do instead."""
from __future__ import annotations

CONTROL_FLOW_HINT = (
    "Python control flow can only depend on values known while tracing (shapes, dtypes, Python "
    "numbers, static arguments). For control flow that depends on array values use "
    "np.where(cond, a, b) for elementwise choices, xla_magic.cond(pred, true_fn, false_fn, *operands) "
    "for branches, xla_magic.fori_loop(lower, upper, body, init) or xla_magic.while_loop(cond_fn, body, "
    "init) for loops, and xla_magic.scan(f, init, xs) for loops that collect per-step outputs; or mark "
    "the argument static with jit(..., static_argnums=...)."
)


class TracingError(TypeError):
    """Something in the traced function cannot become HLO."""


class ConcretizationError(TracingError):
    """A traced array's value was needed while tracing (bool(), int(), float(), np.asarray, ...)."""

    def __init__(self, what: str, tracer_desc: str):
        super().__init__(f"{what} needs the value of the traced array {tracer_desc}, which is only known when "
                         f"the compiled code runs. {CONTROL_FLOW_HINT}")


class UnsupportedNumpyError(TracingError, NotImplementedError):
    """A numpy function, ufunc or argument that tracing does not cover."""

    def __init__(self, name: str, alternative: str | None = None, detail: str | None = None):
        msg = f"numpy function '{name}' is not supported while tracing"
        if detail:
            msg += f": {detail}"
        if alternative:
            msg += f". Instead, use {alternative}"
        super().__init__(msg + ".")
        self.name = name


class EscapedTracerError(TracingError):
    """A traced array was used outside the trace (or the loop body) that made it."""
