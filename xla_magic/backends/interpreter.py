"""The interpreter backend: the module's instructions one at a time through the IR's evaluator.

It is the reference every compiled result is tested against, and the "interpreted per-op
dispatch" baseline the notebook plots."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..hlo.evaluator import make_plan, run_plan
from ..hlo.ir import Module
from ..hlo.printer import DISPLAY_LITERAL_LIMIT
from ..report import Report
from .base import Executable

if TYPE_CHECKING:
    from ..passes.stage import Lowered


def available() -> tuple[bool, str]:
    return True, "numpy is always there"


def _leaves(value: object) -> list[np.ndarray]:
    """Flattens a (nested) tuple result into arrays, in order."""
    out, stack = [], [value]
    while stack:
        v = stack.pop()
        if isinstance(v, tuple):
            stack.extend(reversed(v))
        else:
            out.append(np.asarray(v))
    return out


def compile(lowered: Lowered) -> Executable:  # noqa: A001
    return executable(lowered.module, Report.of(lowered))


def executable(module: Module, report: Report | None = None) -> Executable:
    """The module as it stands, without the optimizer's stage (what `xla_magic.interpret` runs)."""
    plan = make_plan(module.entry)
    root = module.entry.root.shape
    dtypes = [leaf.element_type.np for leaf in root.leaves()]

    def run(args: Sequence[np.ndarray], outs: list[np.ndarray] | None = None) -> list[np.ndarray]:
        value = run_plan(plan, args)
        arrays = _leaves(value) if root.is_tuple else [np.asarray(value)]
        # 0-d numpy scalars come back as arrays of the declared type.
        return [a if a.dtype == d else a.astype(d) for a, d in zip(arrays, dtypes)]

    if report is None:
        text = module.to_text(literal_limit=DISPLAY_LITERAL_LIMIT)
        report = Report("interpreter", text, text)
    return Executable(module, run, report, "interpreter")
