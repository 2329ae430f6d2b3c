"""The ipywidgets view: one tab per part of the report, each built when first opened (plots,
graph layout and assembly cost time, and most people look at two or three tabs)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .fmt import esc
from .highlight import code_html
from .sections import (
    ARTIFACT_TITLES,
    TABS,
    TITLES,
    artifact_keys,
    artifact_text,
    diff_html,
    fusion_picture_html,
    header_html,
    hlo_texts,
    kernel_functions,
    kernel_table_html,
    latency_pngs,
    latency_table_html,
    memory_png,
    memory_table_html,
    note,
    pass_texts,
    reasons_html,
    safe,
    summary_html,
)

if TYPE_CHECKING:
    from ..backends.base import Executable
    from ..report import BenchArgs, Report

CODE_LINES = 4000  # per view; the full texts stay in report.artifacts


def report_widget(report: Report, show: Sequence[str] = ("summary",), exe: Executable | None = None,
                  args: BenchArgs | None = None, eager: bool = False):
    """A VBox: a header line and a Tab. `show[0]` is the tab it opens on. With `exe`, the Latency
    tab offers to run the benchmark when there are no timings yet, on `args` (arrays, or a
    function returning them; none: random inputs)."""
    import ipywidgets as W

    boxes = [W.VBox() for _ in TABS]
    tabs = W.Tab(children=boxes)
    tabs.titles = [TITLES[t] for t in TABS]
    built: set[int] = set()
    state = {"exe": exe, "args": args if callable(args) else tuple(args or ())}

    def build(i: int | None, force: bool = False) -> None:
        if i is None or (i in built and not force):
            return
        built.add(i)
        try:
            boxes[i].children = [BUILDERS[TABS[i]](report, W, state, rebuild)]
        except Exception as e:  # never raise into the notebook from a click
            boxes[i].children = [W.HTML(note(f"(could not render {TITLES[TABS[i]]}: {esc(type(e).__name__)}: "
                                             f"{esc(e)})"))]

    def rebuild(*names: str) -> None:
        for name in names:
            i = TABS.index(name)
            if i in built:
                build(i, force=True)

    tabs.observe(lambda change: build(change["new"]), names="selected_index")
    first = TABS.index(show[0]) if show else 0
    build(first)
    tabs.selected_index = first
    if eager:
        for i in range(len(TABS)):
            build(i)
    header = W.HTML(header_html(report))
    return W.VBox([header, tabs])


def _html(W, value: str):
    # min_width 0: a flex child may shrink below its content, so wide code scrolls inside its own
    # box instead of pushing a scrollbar onto the whole tab.
    return W.HTML(value, layout=W.Layout(min_width="0"))


def _summary(report: Report, W, state, rebuild):
    return _html(W, summary_html(report))


def _fusion(report: Report, W, state, rebuild):
    return W.VBox([_html(W, safe(lambda: fusion_picture_html(report), "the fusion graph")),
                   _html(W, "<h4 style='margin:6px 0 2px'>Kernels</h4>" + kernel_table_html(report)),
                   _html(W, "<h4 style='margin:6px 0 2px'>Unfused producers</h4>" + reasons_html(report))])


def _passes(report: Report, W, state, rebuild):
    if not report.passes:
        return _html(W, note("The optimizer did not run (--no-opt, or optimize=False)."))
    texts = pass_texts(report)
    options = [(f"{n + 1:>2}. {p.name}{'  ✓ changed' if p.changed else ''}", n) for n, p in enumerate(report.passes)]
    first = next((n for n, p in enumerate(report.passes) if p.changed), 0)
    select = W.Select(options=options, value=first, rows=min(16, len(options)), layout=W.Layout(width="250px"))
    mode = W.ToggleButtons(options=["diff against the step before", "HLO after the pass"], value=(
        "diff against the step before"), style={"button_width": "auto"})
    out = _html(W, "")

    def refresh(*_):
        n = select.value
        p = report.passes[n]
        head = (f"<b>{esc(p.name)}</b>: {'changed the module' if p.changed else 'no change'}, "
                f"{p.seconds * 1e3:.2f} ms")
        if mode.value.startswith("diff"):
            body = diff_html(texts[n], texts[n + 1], max_lines=CODE_LINES, from_name=f"before {p.name}",
                             to_name=f"after {p.name}")
        else:
            body = code_html(texts[n + 1], "hlo", max_lines=CODE_LINES)
        out.value = f"<div style='margin:0 0 4px'>{head}</div>{body}"

    select.observe(refresh, names="value")
    mode.observe(refresh, names="value")
    refresh()
    return W.HBox([select, W.VBox([mode, out], layout=W.Layout(flex="1", min_width="0"))])


def _hlo(report: Report, W, state, rebuild):
    texts = {label: (text, language) for label, text, language in hlo_texts(report)}
    mode = W.ToggleButtons(options=[*texts, "diff"], style={"button_width": "auto"})
    out = _html(W, "")

    def refresh(*_):
        if mode.value == "diff":
            out.value = diff_html(report.hlo_before, report.hlo_after, max_lines=CODE_LINES)
        else:
            text, language = texts[mode.value]
            out.value = code_html(text, language, max_lines=CODE_LINES)

    mode.observe(refresh, names="value")
    refresh()
    return W.VBox([mode, out])


def _code(report: Report, W, state, rebuild):
    keys = artifact_keys(report)
    if not keys:
        return _html(W, note(f"The {esc(report.target)} target produces no generated code to show."))
    kernels = kernel_functions(report)
    which = W.Dropdown(options=[("whole module", "")] + [(f"{fn}  ({instr})", fn) for fn, instr in kernels.items()],
                       description="code of", layout=W.Layout(width="auto"))
    kind = W.ToggleButtons(options=[(ARTIFACT_TITLES.get(k, k), k) for k in keys], value=keys[-1],
                           style={"button_width": "auto"})
    out = _html(W, "")

    def refresh(*_):
        text = safe(lambda: code_html(artifact_text(report, kind.value, which.value or None), kind.value,
                                      max_lines=CODE_LINES, max_height="40em"), ARTIFACT_TITLES.get(kind.value, ""))
        out.value = text

    which.observe(refresh, names="value")
    kind.observe(refresh, names="value")
    refresh()
    return W.VBox([W.HBox([which, kind]), out])


def _image(W, png: bytes):
    return W.Image(value=png, format="png", layout=W.Layout(max_width="100%", height="auto"))


def _latency(report: Report, W, state, rebuild):
    t = report.timings
    if t is not None:
        pngs = latency_pngs(report)
        return W.VBox([_html(W, latency_table_html(t))] + [_image(W, p) for p in pngs])
    msg = _html(W, note("Not measured yet. Run <code>xm.benchmark(exe, *args)</code>, or add <code>--bench</code> "
                        "to the <code>%%hlo</code> cell."))
    if state.get("exe") is None:
        return msg
    button = W.Button(description="Run the benchmark", icon="play", button_style="primary")
    status = _html(W, "")

    def run(_):
        from ..bench import benchmark

        button.disabled = True
        status.value = note("running…")
        try:
            args = state["args"]() if callable(state["args"]) else state["args"]
            benchmark(state["exe"], *args)
        except Exception as e:
            status.value = note(f"benchmark failed: {esc(type(e).__name__)}: {esc(e)}")
            button.disabled = False
            return
        rebuild("latency", "summary")

    button.on_click(run)
    return W.VBox([msg, button, status])


def _memory(report: Report, W, state, rebuild):
    if report.buffers is None:
        return _html(W, note("No buffer assignment in this report."))
    return W.VBox([_html(W, memory_table_html(report)), _image(W, memory_png(report))])


BUILDERS: dict[str, Callable] = {"summary": _summary, "fusion": _fusion, "passes": _passes, "hlo": _hlo,
                                 "code": _code, "latency": _latency, "memory": _memory}
