"""Small formatting helpers shared by the text, HTML and widget views."""
from __future__ import annotations

import html
import re

# One colour per kernel, the same in the graph, the tables and the code view. Pastel fills
# keep black labels readable; the border colour is the saturated twin.
PALETTE = [
    ("#aec7e8", "#1f77b4"), ("#ffbb78", "#ff7f0e"), ("#98df8a", "#2ca02c"), ("#ff9896", "#d62728"),
    ("#c5b0d5", "#9467bd"), ("#c49c94", "#8c564b"), ("#f7b6d2", "#e377c2"), ("#dbdb8d", "#bcbd22"),
    ("#9edae5", "#17becf"), ("#fdd0a2", "#e6550d"), ("#a1d99b", "#31a354"), ("#bcbddc", "#756bb1"),
]  # no grey: grey is for library calls
LIBRARY_COLOR = ("#e0e0e0", "#606060")


def esc(s: object) -> str:
    return html.escape(str(s), quote=True)


def nbytes(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def seconds(t: float | None) -> str:
    """0.0000034 -> '3.40 µs'."""
    if t is None:
        return "—"
    a = abs(t)
    if a >= 1:
        return f"{t:.2f} s"
    if a >= 1e-3:
        return f"{t * 1e3:.2f} ms"
    if a >= 1e-6:
        return f"{t * 1e6:.2f} µs"
    return f"{t * 1e9:.0f} ns"


def count(n: float) -> str:
    """1671488 -> '1.67 M'."""
    n = float(n)
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:.0f}"


def kernel_colors(plan) -> dict[str, tuple[str, str]]:
    """Kernel name -> (fill, border). Library calls are grey: they are not generated code."""
    out: dict[str, tuple[str, str]] = {}
    if plan is None:
        return out
    n = 0
    for k in plan.kernels:
        if k.kind == "library":
            out[k.name] = LIBRARY_COLOR
        else:
            out[k.name] = PALETTE[n % len(PALETTE)]
            n += 1
    return out


_HEADER = re.compile(r"^\s*HloModule\s+([\w.\-]+)")


def module_name(text: str) -> str:
    m = _HEADER.match(text or "")
    return m.group(1) if m else "module"


def signature(text: str) -> str:
    """'(f32[16,64]) -> (f32[16,64], f32[16,64])' from the module's entry_computation_layout."""
    first = (text or "").split("\n", 1)[0]
    i = first.find("entry_computation_layout={")
    if i < 0:
        return ""
    j, depth = i + len("entry_computation_layout={"), 1
    start = j
    while j < len(first) and depth:
        depth += {"{": 1, "}": -1}.get(first[j], 0)
        j += 1
    layout = first[start:j - 1]
    return re.sub(r"\{[\d,]*\}", "", layout).replace("->", " -> ")


def truncate_lines(text: str, limit: int) -> tuple[str, int]:
    """The first `limit` lines and how many were left out."""
    lines = text.split("\n")
    if len(lines) <= limit:
        return text, 0
    return "\n".join(lines[:limit]), len(lines) - limit


def plural(n: int, word: str) -> str:
    """plural(1, 'kernel') -> '1 kernel'; plural(3, 'kernel') -> '3 kernels'."""
    return f"{n} {word}{'' if n == 1 else 's'}"
