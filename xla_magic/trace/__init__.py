"""Tracing Python/numpy code into HLO: `trace`, `jit`, and the traced control flow.

    import numpy as np, xla_magic as xm

    @xm.jit
    def softmax(x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    softmax(np.ones((4, 8), np.float32))   # traced, compiled for the CPU, cached
    softmax.report                         # what the compiler did
    xm.trace(softmax.fn, x)                # just the HLO Module
"""
from . import functions, indexing, primitives, ufuncs
from .control_flow import cond, fori_loop, scan, switch, while_loop
from .errors import ConcretizationError, EscapedTracerError, TracingError, UnsupportedNumpyError
from .jit import Jitted, jit, trace
from .tracer import PROTOCOLS, Tracer

# The Tracer class sits below the modules that implement numpy on it; it reaches them through here.
PROTOCOLS.ufunc = ufuncs.apply_ufunc
PROTOCOLS.function = functions.apply_function
PROTOCOLS.getitem = indexing.getitem
PROTOCOLS.convert = primitives.convert

__all__ = [
    "trace", "jit", "Jitted", "fori_loop", "while_loop", "scan", "cond", "switch", "Tracer",
    "TracingError", "ConcretizationError", "UnsupportedNumpyError", "EscapedTracerError",
]
