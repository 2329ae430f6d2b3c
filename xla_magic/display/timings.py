"""How a `Timings` displays: the latency table and plot (what `xm.benchmark` returns shows)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .sections import img, latency_table_html, safe

if TYPE_CHECKING:
    from ..bench import Timings


def timings_mimebundle(timings: Timings) -> dict[str, object]:
    from .plots import figure_png, latency_figure

    html = latency_table_html(timings) + safe(lambda: img(figure_png(latency_figure(timings)), "latency"), "plot")
    return {"text/plain": repr(timings), "text/html": html}
