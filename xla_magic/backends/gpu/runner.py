"""Running a GPU program's steps on a device: the interpreter of the host program.

One loop serves two devices: CuPy on a real GPU (`device.CupyDevice`) and the host simulation
that runs the same CUDA C compiled for the CPU (`hostsim.HostDevice`), so control flow, buffer
placement and library calls are exercised by the tests even where no GPU exists."""
from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from .program import Conditional, Copy, Dot, Launch, Loc, Program, While


class Device(Protocol):
    def launch(self, kernel: str, ptrs: list[int]) -> None: ...
    def copy(self, dst: int, src: int, nbytes: int) -> None: ...
    def read(self, ptr: int, nbytes: int) -> bytes: ...
    def array(self, ptr: int, shape: tuple[int, ...], dtype: np.dtype[Any]) -> Any: ...  # views device memory

    @property
    def xp(self) -> Any: ...  # the array module: numpy, or cupy (which has no types)


class Bases:
    """Where each kind of Loc lives for one call."""

    __slots__ = ("args", "outs", "arena", "const", "scratch")

    def __init__(self, args: list[int], outs: list[int], arena: int, const: int, scratch: int):
        self.args, self.outs, self.arena, self.const, self.scratch = args, outs, arena, const, scratch

    def __call__(self, loc: Loc) -> int:
        s = loc.space
        if s == "arena":
            return self.arena + loc.offset
        if s == "arg":
            return self.args[loc.index] + loc.offset
        if s == "out":
            return self.outs[loc.index] + loc.offset
        if s == "const":
            return self.const + loc.offset
        return self.scratch + loc.offset


def run_dot(dev: Device, step: Dot, lhs: int, rhs: int, out: int) -> None:
    """The library dot with the device's array module: numpy on the host, cuBLAS through CuPy."""
    xp = dev.xp
    b, m, k, n = step.bmkn
    idt, odt = np.dtype(_np(step.in_dtype)), np.dtype(_np(step.dtype))
    a = dev.array(lhs, step.lhs_dims, idt).transpose(step.lhs_perm).reshape(b, m, k)
    w = dev.array(rhs, step.rhs_dims, idt).transpose(step.rhs_perm).reshape(b, k, n)
    o = dev.array(out, (b, m, n), odt)
    if idt == np.float16:  # accumulate in f32, round once (as the evaluator and cuBLAS's f16 GEMM)
        o[...] = xp.matmul(a.astype(np.float32), w.astype(np.float32)).astype(odt)
    else:
        xp.matmul(a, w, out=o)


def _np(name: str):
    from ...hlo.dtypes import dtype

    return dtype(name).np


def pick_branch(s: Conditional, dev: Device, at: Bases) -> int:
    """The branch a conditional runs: its index read back from the device (true is branch 0)."""
    dt = np.dtype(_np(s.index_dtype))
    v = np.frombuffer(dev.read(at(s.index), dt.itemsize), dt)[0]
    n = len(s.branches)
    if s.index_dtype == "pred":
        return 0 if v else 1
    k = int(v)
    return n - 1 if k < 0 or k >= n else k  # out of range runs the last branch


def run_steps(steps: list, dev: Device, at: Bases) -> None:
    for s in steps:
        if isinstance(s, Launch):
            dev.launch(s.kernel, [at(x) for x in s.args])
        elif isinstance(s, Copy):
            if s.nbytes:
                dev.copy(at(s.dst), at(s.src), s.nbytes)
        elif isinstance(s, Dot):
            run_dot(dev, s, at(s.lhs), at(s.rhs), at(s.out))
        elif isinstance(s, While):
            pred = at(s.pred)
            while True:
                run_steps(s.cond, dev, at)
                if not dev.read(pred, 1)[0]:
                    break
                run_steps(s.body, dev, at)
                run_steps(s.back, dev, at)
        elif isinstance(s, Conditional):
            run_steps(s.branches[pick_branch(s, dev, at)], dev, at)
        else:
            raise TypeError(f"unknown step {s!r}")


def summary(program: Program) -> str:
    """The host program as text: one line per step, nested steps indented."""
    lines: list[str] = []

    def show(steps: list[object], depth: int) -> None:
        pad = "  " * depth
        for s in steps:
            if isinstance(s, Launch):
                k = program.kernels[s.kernel]
                lines.append(f"{pad}launch {s.kernel} <<<{k.grid[0]}x{k.grid[1]}, {k.block[0]}x{k.block[1]}>>> "
                             f"[{k.schedule}] ({', '.join(map(str, s.args))})")
            elif isinstance(s, Copy):
                lines.append(f"{pad}copy {s.nbytes} bytes {s.src} -> {s.dst}")
            elif isinstance(s, Dot):
                lines.append(f"{pad}cublas gemm {s.hlo}: batch {s.bmkn[0]}, {s.bmkn[1]}x{s.bmkn[2]} @ "
                             f"{s.bmkn[2]}x{s.bmkn[3]} ({s.dtype})")
            elif isinstance(s, While):
                lines.append(f"{pad}while {s.hlo}: condition")
                show(s.cond, depth + 1)
                lines.append(f"{pad}  read predicate {s.pred}; body")
                show(s.body + s.back, depth + 1)
            elif isinstance(s, Conditional):
                lines.append(f"{pad}conditional {s.hlo} on {s.index}")
                for n, b in enumerate(s.branches):
                    lines.append(f"{pad}  branch {n}:")
                    show(b, depth + 2)

    show(program.steps, 0)
    return "\n".join(lines)
