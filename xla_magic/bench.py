"""`xm.benchmark(exe, *args)`: the interpreted program against the compiled one, with spread.

The interpreted baseline is the *unoptimized* module run one op at a time through the
reference evaluator (what a framework without a compiler does); the compiled side is `exe`
itself. Fast calls are timed in batches, as `timeit` does, so each sample is the mean of a
batch of calls long enough for the clock to resolve; the per-op samples come from the
evaluator's own trace (`run_plan(..., trace=)`)."""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

_SAMPLE_SECONDS = 2e-4  # a batch of calls at least this long, so timer resolution is < 0.1 %
_BOOKKEEPING = frozenset({"tuple", "get-tuple-element", "bitcast", "parameter", "constant"})
_PROGRESS_AFTER = 1.5  # seconds: longer benchmarks show a progress bar (when tqdm is there)


@dataclass
class OpTime:
    """One instruction of the interpreted program: its median time per run and output size."""

    name: str
    opcode: str
    shape: str
    seconds: float
    nbytes: int


@dataclass
class Timings:
    """Per-call samples in seconds (each the mean of a batch of `*_batch` calls)."""

    target: str
    interpreted: np.ndarray
    compiled: np.ndarray
    per_op: list[OpTime] = field(default_factory=list)  # in execution order
    interpreted_batch: int = 1
    compiled_batch: int = 1
    wall_seconds: float = 0.0

    @property
    def interpreted_median(self) -> float:
        return float(np.median(self.interpreted))

    @property
    def compiled_median(self) -> float:
        return float(np.median(self.compiled))

    @property
    def interpreted_spread(self) -> tuple[float, float]:
        """The 10th and 90th percentiles."""
        return _spread(self.interpreted)

    @property
    def compiled_spread(self) -> tuple[float, float]:
        return _spread(self.compiled)

    @property
    def speedup(self) -> float:
        return self.interpreted_median / self.compiled_median if self.compiled_median > 0 else math.inf

    @property
    def per_op_total(self) -> float:
        return float(sum(o.seconds for o in self.per_op))

    @property
    def cheapest_op(self) -> float:
        """The fastest op that computes something: roughly what dispatching any op costs before it
        does work (tuples and get-tuple-elements only move references, so they do not count)."""
        work = [o.seconds for o in self.per_op if o.opcode not in _BOOKKEEPING]
        return min(work or [o.seconds for o in self.per_op] or [0.0])

    def summary(self) -> str:
        from .display.fmt import seconds

        lo_i, hi_i = self.interpreted_spread
        lo_c, hi_c = self.compiled_spread
        return (f"interpreted {seconds(self.interpreted_median)} per call ({seconds(lo_i)}–{seconds(hi_i)}, "
                f"{len(self.per_op)} ops), compiled for {self.target} {seconds(self.compiled_median)} "
                f"({seconds(lo_c)}–{seconds(hi_c)}): {self.speedup:.1f}× faster")

    def __repr__(self) -> str:
        return f"<Timings: {self.summary()}>"

    def _repr_mimebundle_(self, include=None, exclude=None):
        from .display.timings import timings_mimebundle

        return timings_mimebundle(self)


def _spread(a: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(a, [10, 90])
    return float(lo), float(hi)


def example_args(parameters: Sequence, seed: int = 0) -> list[np.ndarray]:
    """Random inputs of the parameters' shapes: normal floats, small non-negative integers (so
    indices stay in range), random booleans."""
    rng = np.random.default_rng(seed)
    out = []
    for p in parameters:
        dt = np.dtype(p.shape.dtype.np)
        dims = p.shape.dims
        if dt.kind == "b":
            a = rng.random(dims) < 0.5
        elif dt.kind in "iu":
            a = rng.integers(0, 4, size=dims)
        elif dt.kind == "c":
            a = rng.standard_normal(dims) + 1j * rng.standard_normal(dims)
        else:
            a = rng.standard_normal(dims)
        out.append(np.array(a, dtype=dt, order="C"))  # (ascontiguousarray would make 0-d arrays 1-d)
    return out


class _Progress:
    """tqdm.auto when there is enough work to watch and tqdm is installed; otherwise nothing."""

    def __init__(self, total: int, show: bool):
        self.bar = None
        if show:
            try:
                from tqdm.auto import tqdm  # type: ignore[import-untyped]
            except ImportError:
                return
            self.bar = tqdm(total=total, desc="xm.benchmark", unit="sample", leave=False)

    def update(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _time_batch(fn: Callable[[], object], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def _batch_size(one_call: float) -> int:
    return max(1, math.ceil(_SAMPLE_SECONDS / max(one_call, 1e-9)))


def benchmark(exe, *args, seconds: float = 1.0, min_samples: int = 5, max_samples: int = 200,
              progress: bool | None = None) -> Timings:
    """Times `exe(*args)` against the unoptimized module interpreted one op at a time.

    Spends up to about `seconds` (less once `max_samples` samples per side are taken; more when
    `min_samples` interpreted calls take longer), stores the result in `exe.report.timings` and
    returns it. Without arguments, random
    inputs of the parameters' shapes are used. `progress`: None shows a bar only for runs
    expected to take over ~1.5 s (and only where tqdm is installed)."""
    from .api import compile as xm_compile
    from .backends.args import check_args
    from .hlo.evaluator import make_plan, run_plan

    report = exe.report
    if not args:
        args = tuple(example_args(exe.parameters))
    arrays = check_args(exe.parameters, args)
    interp = xm_compile(report.hlo_before, target="interpreter", optimize=False)
    plan = make_plan(interp.module.entry)
    start = time.perf_counter()

    # One warm call each (first calls pay for page faults and lazy set-up) and a first estimate.
    exe(*arrays)
    t_compiled = min(_time_batch(lambda: exe(*arrays), 1) for _ in range(5))  # the best of a few: no hiccups
    t0 = time.perf_counter()
    interp(*arrays)
    t_interp = time.perf_counter() - t0
    b_c, b_i = _batch_size(t_compiled), _batch_size(t_interp)
    # Budget: half for interpreted calls, a quarter each for per-op traces and compiled calls.
    n_i = int(min(max_samples, max(min_samples, seconds * 0.5 / (t_interp * b_i))))
    n_op = int(min(max_samples // 4 or 1, max(3, seconds * 0.25 / (t_interp * 1.2))))
    n_c = int(min(max_samples, max(min_samples, seconds * 0.25 / max(t_compiled * b_c, 1e-9))))
    expected = n_i * b_i * t_interp + n_op * t_interp * 1.2 + n_c * b_c * t_compiled
    show = expected > _PROGRESS_AFTER if progress is None else progress
    bar = _Progress(n_i + n_op + n_c, show)
    try:
        interpreted = np.empty(n_i)
        for k in range(n_i):
            interpreted[k] = _time_batch(lambda: interp(*arrays), b_i)
            bar.update()
        per_op: dict[int, list[float]] = {}
        instrs: dict[int, tuple] = {}
        for _ in range(n_op):
            trace: list = []
            run_plan(plan, arrays, trace=trace)
            for step, (ins, dt, nb) in enumerate(trace):
                per_op.setdefault(step, []).append(dt)
                instrs[step] = (ins, nb)
            bar.update()
        compiled = np.empty(n_c)
        for k in range(n_c):
            compiled[k] = _time_batch(lambda: exe(*arrays), b_c)
            bar.update()
    finally:
        bar.close()
    ops = [OpTime(ins.name, ins.opcode.value, ins.shape.to_text(layout=False), float(np.median(per_op[s])), nb)
           for s, (ins, nb) in sorted(instrs.items())]
    timings = Timings(exe.target, interpreted, compiled, ops, b_i, b_c, time.perf_counter() - start)
    report.timings = timings
    return timings
