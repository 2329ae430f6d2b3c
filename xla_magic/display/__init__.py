"""Rendering a `Report`: plain text, static HTML (GitHub, nbviewer), an ipywidgets view with one
tab per part of the report, and matplotlib figures.

    from xla_magic import display
    display.view(exe.report, show="fusion,latency", exe=exe)  # what the %%hlo magic displays
    display.memory_figure(exe.report)                          # a matplotlib Figure

matplotlib, ipywidgets and pygments are imported only when something is drawn."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..report import View
from .sections import TABS, normalize_tabs
from .timings import timings_mimebundle

if TYPE_CHECKING:
    from ..backends.base import Executable
    from ..report import BenchArgs, Report

__all__ = ["TABS", "ReportView", "fusion_figure", "latency_figure", "memory_figure", "mimebundle", "normalize_tabs",
           "per_op_figure", "report_html", "report_text", "report_widget", "timings_mimebundle", "view"]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# None: add the widget view when running in a Jupyter kernel with ipywidgets; True/False: always/never.
WIDGETS: bool | None = None


def report_text(report: Report, show: Sequence[str] = ("summary",)) -> str:
    from .text import report_text as render

    return render(report, show)


def report_html(report: Report, show: Sequence[str] = ("summary",)) -> str:
    from .html import report_html as render

    return render(report, show)


def report_widget(report: Report, show: Sequence[str] = ("summary",), exe: Executable | None = None,
                  args: BenchArgs | None = None, eager: bool = False):
    from .widgets import report_widget as build

    return build(report, show, exe=exe, args=args, eager=eager)


def widgets_wanted() -> bool:
    if WIDGETS is not None:
        return WIDGETS
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None  # a frontend that can show widgets


def mimebundle(report: Report, show: Sequence[str] | None = None, exe: Executable | None = None,
               args: BenchArgs | None = None) -> dict:
    """text/plain and text/html always; the widget view where ipywidgets can show one."""
    prefs = report.view
    show = normalize_tabs(show if show is not None else prefs.show)
    exe = exe if exe is not None else prefs.exe
    args = args if args is not None else prefs.args
    bundle = {"text/plain": report_text(report, show), "text/html": report_html(report, show)}
    if widgets_wanted():
        try:
            w = report_widget(report, show, exe=exe, args=args)
            bundle[WIDGET_MIME] = w._repr_mimebundle_()[WIDGET_MIME]
        except Exception:  # the static views above are complete on their own
            pass
    return bundle


def set_view(report: Report, show: Sequence[str] | str | None = None, exe: Executable | None = None,
             args: BenchArgs | None = None) -> None:
    """How this Report displays from now on: the tab it opens on, and what its Latency tab may run
    (`args`: arrays, or a function returning them, so no arrays are kept alive by the report)."""
    report.view = View(normalize_tabs(show) if show is not None else None, exe,
                       args if args is None or callable(args) else tuple(args))


class ReportView:
    """A Report with display options; displays like the Report itself."""

    def __init__(self, report: Report, show: Sequence[str] | str | None = None, exe: Executable | None = None,
                 args: BenchArgs | None = None):
        self.report, self.show, self.exe, self.args = report, normalize_tabs(show), exe, args

    def _repr_mimebundle_(self, include=None, exclude=None):
        return mimebundle(self.report, self.show, self.exe, self.args)

    def __repr__(self) -> str:
        return report_text(self.report, self.show)


def view(report: Report, show: Sequence[str] | str | None = None, exe: Executable | None = None,
         args: BenchArgs | None = None) -> ReportView:
    return ReportView(report, show, exe, args)




# --- figures (matplotlib Figure objects; display them, or fig.savefig(...)) --------------------

def _timings(obj):
    t = getattr(obj, "timings", obj)
    if t is None:
        raise ValueError("no timings yet: run xm.benchmark(exe, *args) first")
    return t


def latency_figure(report_or_timings):
    """Per-call time, interpreted against compiled."""
    from .plots import latency_figure as draw

    return draw(_timings(report_or_timings))


def per_op_figure(report_or_timings):
    """The interpreter's time per op (coloured by kernel when given a Report)."""
    from .plots import per_op_figure as draw
    from .sections import op_colors

    colors = op_colors(report_or_timings) if hasattr(report_or_timings, "fusion_plan") else None
    return draw(_timings(report_or_timings), colors)


def memory_figure(report: Report):
    """Peak bytes and live bytes over the schedule, interpreted against compiled."""
    from .plots import memory_figure as draw

    return draw(report.buffers)


def fusion_figure(report: Report):
    """The kernel graph drawn with matplotlib (graphviz's picture is in the HTML and widget views)."""
    from .fmt import kernel_colors
    from .graph import fallback_figure, kernel_graph

    return fallback_figure(kernel_graph(report), kernel_colors(report.fusion_plan))
