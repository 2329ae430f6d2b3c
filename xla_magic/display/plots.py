"""The report's plots as matplotlib `Figure` objects (no pyplot, so no global state), and PNGs
of them for HTML and widgets."""
from __future__ import annotations

import base64
import io
import re
from typing import TYPE_CHECKING

import numpy as np

from .fmt import nbytes, seconds

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INTERPRETED = "#d62728"
COMPILED = "#1f77b4"
DPI = 96
_ZEROS = re.compile(r"\.0+ ")


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def figure_png(fig: Figure, dpi: int = DPI) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _seconds_axis(ax, axis: str = "x") -> None:
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: _ZEROS.sub(" ", seconds(v)) if v > 0 else "0")  # "10 µs", not "10.00 µs"
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def _bytes_axis(ax, top: float) -> None:
    """Ticks at powers of two (4 KiB, 8 KiB, ...), which is how buffers are sized."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    step = 2.0 ** max(0, int(np.floor(np.log2(max(top, 1) / 4))))
    ax.yaxis.set_major_locator(MultipleLocator(step))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _ZEROS.sub(" ", nbytes(v)) if v > 0 else "0"))


def _hbox(ax, samples, y: float, color: str) -> None:
    """A horizontal box of the 10th-90th percentiles (matplotlib 3.10 renamed vert= to orientation=)."""
    import matplotlib

    kw = {"positions": [y], "widths": 0.55, "whis": (10, 90), "showfliers": False,
          "medianprops": {"color": "black", "lw": 1.6}, "boxprops": {"color": color},
          "whiskerprops": {"color": color}, "capprops": {"color": color}}
    if tuple(int(p) for p in matplotlib.__version__.split(".")[:2]) >= (3, 10):
        kw["orientation"] = "horizontal"
    else:
        kw["vert"] = False
    ax.boxplot([samples], **kw)


def latency_figure(timings) -> Figure:
    """Per-call time, interpreted against compiled: every sample as a dot over a box of the
    10th-90th percentiles, on a log scale (the two are often 10-1000x apart)."""
    fig = _figure(7.5, 2.6)
    ax = fig.add_subplot()
    rows = [("compiled\n(" + timings.target + ")", timings.compiled, COMPILED),
            ("interpreted\n(one op at a time)", timings.interpreted, INTERPRETED)]
    rng = np.random.default_rng(0)
    for y, (_, samples, color) in enumerate(rows):
        ax.scatter(samples, y + rng.uniform(-0.18, 0.18, len(samples)), s=9, color=color, alpha=0.45, lw=0)
        _hbox(ax, samples, y, color)
        med = float(np.median(samples))
        ax.annotate(f"median {seconds(med)}", (med, y + 0.33), ha="center", va="bottom", fontsize=9)
    ax.set_xscale("log")
    _seconds_axis(ax)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=9)
    ax.set_ylim(-0.6, len(rows) - 0.1)
    lo = min(timings.compiled.min(), timings.interpreted.min())
    hi = max(timings.compiled.max(), timings.interpreted.max())
    ax.set_xlim(lo / 2, hi * 2)
    ax.set_xlabel("time per call (log scale)")
    ax.grid(axis="x", which="major", alpha=0.3)
    ax.set_title(f"Per call: compiled is {timings.speedup:.1f}× faster than interpreted", fontsize=11)
    return fig


def per_op_figure(timings, colors: dict[str, str] | None = None, max_ops: int = 40) -> Figure:
    """The interpreter's time per op, in execution order (the slowest `max_ops` when there are
    more), against the whole compiled call: each op pays a fixed dispatch cost before any work.
    `colors` maps op names to the colour of the kernel they were fused into."""
    ops = list(timings.per_op)
    rest = []
    if len(ops) > max_ops:
        keep = set(sorted(range(len(ops)), key=lambda i: -ops[i].seconds)[:max_ops])
        rest = [o for i, o in enumerate(ops) if i not in keep]
        ops = [o for i, o in enumerate(ops) if i in keep]
    colors = colors or {}
    labels = [f"{o.name}  ({o.opcode})" for o in ops]
    values = [o.seconds for o in ops]
    bar_colors = [colors.get(o.name, "#bbbbbb") for o in ops]
    if rest:
        labels.append(f"{len(rest)} other ops")
        values.append(sum(o.seconds for o in rest))
        bar_colors.append("#dddddd")
    fig = _figure(7.5, 1.2 + 0.19 * len(values))
    ax = fig.add_subplot()
    y = np.arange(len(values))
    ax.barh(y, values, color=bar_colors, edgecolor="#555555", lw=0.4)
    ax.set_yticks(y, labels, fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xscale("log")
    _seconds_axis(ax)
    c = timings.compiled_median
    ax.axvline(c, color=COMPILED, ls="--", lw=1.3, label=f"whole compiled call: {seconds(c)}")
    floor = timings.cheapest_op
    ax.axvline(floor, color="#555555", ls=":", lw=1.2, label=f"cheapest op (≈ dispatch cost): {seconds(floor)}")
    ax.set_xlim(min(min(values), c, floor) / 2, max(values) * 2)
    handles, _ = ax.get_legend_handles_labels()
    if colors and any(o.name not in colors for o in ops):
        from matplotlib.patches import Patch

        handles.append(Patch(facecolor="#bbbbbb", edgecolor="#555555", label="in no kernel: simplified away"))
    ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel("interpreter time per op (median, log scale)" +
                  ("; bar colour: the kernel it was fused into" if colors else ""))
    n_slower = sum(1 for o in timings.per_op if o.seconds > c)
    ax.set_title(f"Interpreter: {len(timings.per_op)} ops, {seconds(timings.per_op_total)} per call in ops;\n"
                 f"{n_slower} of them alone take longer than the whole compiled call", fontsize=10)
    return fig


def memory_figure(buffers) -> Figure:
    """Peak bytes and live bytes over the schedule: interpreted (the unoptimized program, every
    value materialized, one op at a time) against compiled (fused, temporaries sharing one arena)."""
    from matplotlib.gridspec import GridSpec

    interp = list(buffers.interpreter_live_bytes or [0])
    comp = list(buffers.live_bytes or [0])
    peak_i, peak_c = max(interp), max(comp)
    fig = _figure(8.5, 2.9)
    gs = GridSpec(1, 2, figure=fig, width_ratios=[1, 3])
    ax = fig.add_subplot(gs[0])
    bars = ax.bar([0, 1], [peak_i, peak_c], color=[INTERPRETED, COMPILED], width=0.6)
    for b, v in zip(bars, (peak_i, peak_c)):
        ax.annotate(nbytes(v), (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=8)
    ax.set_xticks([0, 1], ["interpreted", "compiled"], fontsize=9)
    _bytes_axis(ax, max(peak_i, peak_c))
    ax.set_ylim(0, max(peak_i, peak_c, 1) * 1.2)
    saved = 1 - peak_c / peak_i if peak_i else 0.0
    ax.set_title(f"Peak live bytes\n({saved:.0%} less)" if saved > 0 else "Peak live bytes", fontsize=10)
    ax.tick_params(axis="y", labelsize=8)

    ax = fig.add_subplot(gs[1])
    for data, color, label in ((interp, INTERPRETED, "interpreted"), (comp, COMPILED, "compiled")):
        x = np.arange(len(data) + 1)
        ax.stairs(data, x, color=color, lw=1.5, label=f"{label}: {len(data)} steps, peak {nbytes(max(data))}")
        ax.stairs(data, x, color=color, alpha=0.12, fill=True)
    _bytes_axis(ax, max(peak_i, peak_c))
    ax.set_xlabel("schedule step (instruction run order)")
    ax.set_ylim(0, max(peak_i, peak_c, 1) * 1.15)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)
    ax.set_title("Live bytes over the schedule (temporaries and outputs)", fontsize=10)
    return fig
