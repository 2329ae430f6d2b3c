"""Per-report memo of what is costly to redo on every display: parsed modules, rendered plots.

Kept in the Report's `display_cache` (a field that equality and `replace` ignore); keys that
depend on timings include the Timings object's id."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..hlo.ir import Module
    from ..report import Report

def memo(report: Report, key: tuple, make: Callable[[], Any]) -> Any:
    store = report.display_cache
    if key not in store:
        store[key] = make()
    return store[key]


def pre_fusion_text(report: Report) -> str:
    """The module as the fusion pass received it (fused instructions keep these names)."""
    prev = report.hlo_before
    for rec in report.passes:
        if rec.name == "fusion":
            return prev
        prev = rec.text or prev
    return report.hlo_after


def parsed(report: Report, which: str) -> Module:
    """The module `which` is "before", "after" or "pre_fusion" (as the fusion pass received it)."""
    from ..hlo.parser import parse_hlo

    def make():
        if which == "before":
            text = report.hlo_before
        elif which == "after":
            text = report.hlo_after
        else:
            text = pre_fusion_text(report)
        return parse_hlo(text, verify=False, elided="zeros")  # big constants print as {...}

    return memo(report, ("module", which), make)


def opcodes(report: Report) -> dict[str, str]:
    """Instruction name -> opcode over the modules after optimization, before fusion and as
    written (a kernel's copies of cheap producers get fresh names in the fused computations)."""
    def make():
        out: dict[str, str] = {}
        for which in ("after", "pre_fusion", "before"):
            out.update({i.name: i.opcode.value for c in parsed(report, which).computations for i in c.instructions})
        return out

    return memo(report, ("opcodes",), make)
