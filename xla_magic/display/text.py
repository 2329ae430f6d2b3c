"""The plain-text view: what a terminal, a log or a notebook without HTML shows."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .fmt import module_name, plural, seconds, truncate_lines
from .sections import artifact_keys, artifact_text, summary_facts

if TYPE_CHECKING:
    from ..report import Report


def report_text(report: Report, show=("summary",), max_lines: int = 200) -> str:
    plan = report.fusion_plan
    head = (f"xla_magic report: {module_name(report.hlo_before)} on {report.target}"
            + (f", {plural(plan.num_kernels, 'kernel')}" if plan is not None else "")
            + f", compiled in {report.compile_seconds * 1e3:.1f} ms")
    lines = [head]
    width = max(len(k) for k, _ in summary_facts(report))
    lines += [f"  {k:<{width}}  {v}" for k, v in summary_facts(report)]
    if plan is not None:
        lines.append("")
        lines += ["  " + s for s in plan.summary().splitlines()]
    if "passes" in show and report.passes:
        lines += ["", "  passes:"]
        lines += [f"    {n + 1:>3}. {p.name:<24} {'changed' if p.changed else '-':<8} {seconds(p.seconds)}"
                  for n, p in enumerate(report.passes)]
    if "memory" in show and report.buffers is not None:
        lines += ["", "  memory: " + report.buffers.summary()]
    if "latency" in show and report.timings is not None:
        lines += ["", "  latency: " + report.timings.summary()]
    if "hlo" in show:
        text, more = truncate_lines(report.hlo_after, max_lines)
        lines += ["", text] + ([f"... {more} more lines"] if more else [])
    if "code" in show:
        for key in artifact_keys(report)[-1:]:  # the assembly (or the last artifact) is what people ask for
            text, more = truncate_lines(artifact_text(report, key), max_lines)
            lines += ["", f"  {key}:", text] + ([f"... {more} more lines"] if more else [])
    return "\n".join(lines)
