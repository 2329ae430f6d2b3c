"""What the optimizer hands a backend: a module lowered for one target, with everything the
target-independent passes worked out about it. Backends compile a `Lowered`; the Report shown
in the notebook is built from it afterwards."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..hlo.ir import Module
from .buffers import BufferAssignment, assign_buffers, interpreter_live_bytes
from .cost import Cost, analyze
from .fusion import FusionPlan
from .pipeline import PassRecord, expand_only, optimize_with_plan


@dataclass(frozen=True)
class Lowered:
    target: str
    original: Module  # as given (parsed, verified)
    module: Module  # after the pipeline (the original itself when not optimized)
    passes: tuple[PassRecord, ...]
    fusion_plan: FusionPlan | None
    buffers: BufferAssignment  # of `module`; its interpreter_live_bytes are those of `original`
    cost: Cost
    interpreter_live_bytes: tuple[int, ...]  # the original run one op at a time, per step


def lower(original: Module, target: str, preset: str | None = None, optimize: bool = True,
          **options: Any) -> Lowered:
    """Runs the pipeline tuned for `preset` (default: `target`'s own) unless `optimize` is false
    (then only the expanders, for a code generator: the interpreter runs the module as given),
    then assigns buffers and measures the cost of the result."""
    module, plan = original, None
    records: list[PassRecord] = []
    if optimize:
        module, records, plan = optimize_with_plan(original, target=preset or target, **options)
    elif target != "interpreter":
        module = expand_only(original)
    live = interpreter_live_bytes(original)
    buffers = assign_buffers(module)
    buffers.interpreter_live_bytes = live
    return Lowered(target, original, module, tuple(records), plan, buffers, analyze(module), tuple(live))
