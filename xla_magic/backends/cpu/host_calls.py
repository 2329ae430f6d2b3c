"""Host calls: library work the generated code hands back to Python.

JAX lowers linear algebra on CPU to LAPACK custom calls (`lapack_sgetrf_ffi`, ...), and XLA:CPU
runs `fft`, `cholesky` and `triangular-solve` in libraries. The interpreter implements these
custom-call targets (`evaluator.CUSTOM_CALLS`) and opcodes (`HOST_OPCODES`) with numpy's LAPACK
and pocketfft; rather than a second implementation in LLVM IR, the cpu kernel of such an
instruction stores its buffer pointers in an array and calls a `ctypes` callback, which views the
buffers as numpy arrays and runs the evaluator's plan of that one instruction into the output
buffers. Only these go this way (`runs_on_host`): every other instruction is compiled or refused.

The callback runs on the thread that called the executable, never on a kernel's worker threads (a
host call is a kernel of its own, never split), so taking the GIL cannot deadlock: the caller
either holds it already (the C-API call path) or released it (ctypes), and the workers never
need it. An exception inside the callback cannot cross the C frames: it is kept per thread,
the outputs are zeroed so the rest of the program reads defined values, and `checked` raises it
when the call returns. The callback's address is a constant of the code, so such code is never
stored in the disk cache nor built ahead of time."""
from __future__ import annotations

import ctypes
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from ...hlo.evaluator import CUSTOM_CALLS, Plan, make_plan, run_plan
from ...hlo.ir import Computation, Instruction, Module
from ...hlo.opcodes import Opcode as O
from ..kernel_kinds import is_top_k
from .irtypes import Unsupported

__all__ = ["HOST_OPCODES", "HostCall", "HostCallError", "checked", "collecting", "describe", "first_host_call",
           "host_call", "runs_on_host", "target_of"]

_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p)  # void f(ptr buffers)
_errors = threading.local()  # .pending: the first exception of a host call on this thread


class HostCallError(RuntimeError):
    """A custom call run in Python by a cpu executable failed."""


class _Buffer:
    """One array buffer of a host call, viewed in place (the ctypes type made once: each call counts)."""

    __slots__ = ("dims", "dtype", "raw")

    def __init__(self, dims: tuple[int, ...], dtype: np.dtype):
        self.dims, self.dtype = dims, dtype
        nbytes = math.prod(dims) * dtype.itemsize
        self.raw = ctypes.c_char * nbytes if nbytes else None

    def view(self, address: int | None) -> np.ndarray:
        if self.raw is None or not address:
            return np.empty(self.dims, self.dtype)
        return np.ndarray(self.dims, self.dtype, buffer=memoryview(self.raw.from_address(address)))


@dataclass
class HostCall:
    """One custom call: the evaluator's plan of it, its buffers, and the callback the code calls."""

    name: str  # the HLO instruction
    target: str
    plan: Plan
    inputs: list[_Buffer]
    outputs: list[_Buffer]
    callback: object = field(init=False, repr=False)  # the ctypes function; the code calls its address
    address: int = field(init=False, repr=False)
    pointers: type[ctypes.Array[ctypes.c_void_p]] = field(init=False, repr=False)  # the code's pointer array

    def __post_init__(self) -> None:
        self.pointers = ctypes.c_void_p * (len(self.inputs) + len(self.outputs))
        cb = _CALLBACK(self._run)
        self.callback, self.address = cb, ctypes.cast(cb, ctypes.c_void_p).value or 0

    def _run(self, buffers: int | None) -> None:
        n = len(self.inputs) + len(self.outputs)
        ptrs = list(self.pointers.from_address(buffers)) if n and buffers else [None] * n
        outs = [b.view(p) for b, p in zip(self.outputs, ptrs[len(self.inputs):])]
        try:
            if getattr(_errors, "pending", None) is not None:
                raise HostCallError("an earlier host call of this run failed")
            args = [b.view(p) for b, p in zip(self.inputs, ptrs)]
            res = run_plan(self.plan, args)
            results = list(res) if isinstance(res, tuple) else [res]
            for o, r in zip(outs, results):
                o[...] = r
        except Exception as e:  # noqa: BLE001 - raised again by `checked` once the code returns
            for o in outs:
                o[...] = 0
            if getattr(_errors, "pending", None) is None:
                _errors.pending = HostCallError(f"custom-call {self.target!r} ('{self.name}') failed: "
                                                f"{type(e).__name__}: {e}")


# Per thread: modules compiled at once on two threads must each keep their own callbacks.
_collectors = threading.local()  # .stack: the lists of collecting(), innermost last


def _stack() -> list[list[HostCall]]:
    stack: list[list[HostCall]] | None = getattr(_collectors, "stack", None)
    if stack is None:
        stack = _collectors.stack = []
    return stack


@contextmanager
def collecting() -> Iterator[list[HostCall]]:
    """Code generated inside (on this thread) may contain host calls; they are appended to the
    list, which must live as long as the code (their callbacks' addresses are its constants)."""
    calls: list[HostCall] = []
    _stack().append(calls)
    try:
        yield calls
    finally:
        _stack().pop()


def target_of(instr: Instruction) -> str:
    return str(instr.attrs.get("custom_call_target", ""))


# Opcodes whose work is a numerical library's, run by the evaluator's numpy implementation.
HOST_OPCODES = frozenset({O.FFT, O.CHOLESKY, O.TRIANGULAR_SOLVE})


def runs_on_host(instr: Instruction) -> bool:
    """Whether the cpu backend runs `instr` in Python (a host call)."""
    if instr.opcode in HOST_OPCODES:
        return True
    return instr.opcode is O.CUSTOM_CALL and not is_top_k(instr) and target_of(instr) in CUSTOM_CALLS


def describe(instr: Instruction) -> str:
    """`custom-call 'lapack_sgetrf_ffi' ('c')` or `fft ('f')`: how errors name a host call."""
    if instr.opcode is O.CUSTOM_CALL:
        return f"custom-call {target_of(instr)!r} ('{instr.name}')"
    return f"{instr.opcode.value} ('{instr.name}')"


def first_host_call(module: Module) -> Instruction | None:
    """The first instruction of `module` the cpu backend would run in Python, if any."""
    return next((i for c in module.computations for i in c.instructions if runs_on_host(i)), None)


def host_call(comp: Computation) -> HostCall:
    """The host call computing `comp`, a custom call wrapped in a computation of its own."""
    instr = comp.root
    target = target_of(instr) if instr.opcode is O.CUSTOM_CALL else instr.opcode.value
    if not runs_on_host(instr):
        raise Unsupported(describe(instr))
    stack = _stack()
    if not stack:
        raise Unsupported(f"{describe(instr)} runs in Python (a host call), "
                          "which only code compiled by the cpu backend in this process can do")
    if any(p.shape.is_tuple for p in comp.parameters):
        raise Unsupported(f"{describe(instr)} with a tuple-shaped operand")
    call = HostCall(instr.name, target, make_plan(comp),
                    [_Buffer(p.shape.dims, np.dtype(p.shape.element_type.np)) for p in comp.parameters],
                    [_Buffer(s.dims, np.dtype(s.element_type.np)) for s in instr.shape.leaves()])
    stack[-1].append(call)
    return call


def checked(caller: Callable[[Sequence[np.ndarray]], None],
            calls: Sequence[HostCall]) -> Callable[[Sequence[np.ndarray]], None]:
    """`caller` that raises, once the code returns, what a host call of the run raised; it keeps
    the calls' callbacks alive as long as itself."""
    def call(arrays: Sequence[np.ndarray], _keep: Sequence[HostCall] = calls) -> None:
        _errors.pending = None
        caller(arrays)
        err = _errors.pending
        if err is not None:
            _errors.pending = None
            raise err

    return call
