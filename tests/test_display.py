"""The Report's views: text, static HTML, the widget tree, the plots and the fusion picture,
checked for what they say (kernel names, pass names), not only that they exist."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import load_case

import xla_magic as xm
from xla_magic import display
from xla_magic.display import graph, sections
from xla_magic.display.highlight import code_html

ipywidgets = pytest.importorskip("ipywidgets")


@pytest.fixture(scope="module")
def softmax():
    text, args, _, _ = load_case("softmax")
    exe = xm.compile(text, target="cpu")
    xm.benchmark(exe, *args, seconds=0.05, max_samples=20)
    return exe, args


def _strings(w) -> list[str]:
    """Every string a widget tree shows: HTML values, tab titles, option labels, descriptions."""
    out = []
    stack = [w]
    while stack:
        w = stack.pop()
        for attr in ("value", "description"):
            v = getattr(w, attr, None)
            if isinstance(v, str):
                out.append(v)
        out += [str(t) for t in getattr(w, "titles", ()) or ()]
        out += [str(o[0] if isinstance(o, tuple) else o) for o in getattr(w, "options", ()) or ()]
        stack.extend(getattr(w, "children", ()) or ())
    return out


def _widgets(w, cls):
    stack, found = [w], []
    while stack:
        w = stack.pop()
        if isinstance(w, cls):
            found.append(w)
        stack.extend(getattr(w, "children", ()) or ())
    return found


def test_mimebundle_text_and_html_name_kernels_and_passes(softmax):
    exe, _ = softmax
    r = exe.report
    bundle = display.mimebundle(r)
    assert set(bundle) >= {"text/plain", "text/html"}
    kernels = [k.name for k in r.fusion_plan.kernels]
    assert len(kernels) == 2
    for k in kernels:
        assert k in bundle["text/plain"]
        assert k in bundle["text/html"]
    html = bundle["text/html"]
    for name in ("algsimp", "cse", "dce", "fusion"):
        assert f">{name}<" in html or f"{name}:" in html
    for title in sections.TITLES.values():
        assert f">{title}" in html
    assert "could not render" not in html
    assert "data:image/png;base64," in html  # memory and latency plots inline
    assert "× faster" in html
    assert "<script" not in html  # readable where scripts are stripped
    assert r._repr_mimebundle_()["text/html"] == html  # what Jupyter calls


def test_widget_view_only_inside_a_kernel_unless_asked(softmax, monkeypatch):
    r = softmax[0].report
    assert display.WIDGET_MIME not in display.mimebundle(r)  # plain Python: no frontend to draw it
    monkeypatch.setattr(display, "WIDGETS", True)
    bundle = display.mimebundle(r)
    assert bundle[display.WIDGET_MIME]["model_id"]
    monkeypatch.setattr(display, "WIDGETS", False)
    assert display.WIDGET_MIME not in display.mimebundle(r)


def test_widget_tree_shows_every_tab(softmax):
    exe, args = softmax
    r = exe.report
    w = display.report_widget(r, eager=True)
    tab = _widgets(w, ipywidgets.Tab)[0]
    assert list(tab.titles) == [sections.TITLES[t] for t in sections.TABS]
    text = "\n".join(_strings(w))
    for k in r.fusion_plan.kernels:
        assert k.name in text
    for p in r.passes:
        assert p.name in text
    assert "could not render" not in text
    assert "k.reduce_broadcast_fusion" in text  # kernel functions in the Code tab's chooser
    assert len(_widgets(w, ipywidgets.Image)) == 3  # latency x2, memory


def test_widget_tabs_are_built_when_opened(softmax):
    r = softmax[0].report
    w = display.report_widget(r, show=["memory"])
    tab = _widgets(w, ipywidgets.Tab)[0]
    assert tab.selected_index == sections.TABS.index("memory")
    built = [bool(box.children) for box in tab.children]
    assert built == [t == "memory" for t in sections.TABS]
    tab.selected_index = sections.TABS.index("fusion")
    assert tab.children[sections.TABS.index("fusion")].children


def test_passes_tab_diff_follows_the_selection(softmax):
    r = softmax[0].report
    w = display.report_widget(r, show=["passes"])
    select = _widgets(w, ipywidgets.Select)[0]
    fusion_at = [p.name for p in r.passes].index("fusion")
    select.value = fusion_at
    html = [h.value for h in _widgets(w, ipywidgets.HTML) if "after fusion" in h.value]
    assert html and "fused_computation" in html[0] and "#e6ffec" in html[0]  # added lines in green
    mode = _widgets(w, ipywidgets.ToggleButtons)[0]
    mode.value = mode.options[1]  # the HLO after the pass, highlighted
    assert any("xmhl" in h.value and "fusion" in h.value for h in _widgets(w, ipywidgets.HTML))


def test_code_tab_per_kernel(softmax):
    r = softmax[0].report
    w = display.report_widget(r, show=["code"])
    which = _widgets(w, ipywidgets.Dropdown)[0]
    kind = _widgets(w, ipywidgets.ToggleButtons)[0]
    fn = next(iter(r.artifacts.kernels))
    which.value = fn
    for key in ("llvm_ir", "asm"):
        kind.value = key
        shown = [h.value for h in _widgets(w, ipywidgets.HTML) if "xmhl" in h.value]
        assert shown and fn in shown[0]


def test_latency_tab_runs_the_benchmark_on_click():
    text, args, _, _ = load_case("gelu_tanh")
    exe = xm.compile(text, target="cpu", cache=False)
    w = display.report_widget(exe.report, show=["latency"], exe=exe, args=args)
    button = _widgets(w, ipywidgets.Button)[0]
    button.click()
    assert exe.report.timings is not None
    assert _widgets(w, ipywidgets.Image)  # the tab was rebuilt with its plots


def test_show_opens_sections(softmax):
    r = softmax[0].report
    html = display.report_html(r, show=["fusion"])
    opened = [chunk.split("</summary>")[0] for chunk in html.split("<details open")[1:]]
    assert any("Fusion plan" in o for o in opened)
    assert not any(">Summary" in o for o in opened)
    assert display.normalize_tabs("lat, mem") == ["latency", "memory"]
    assert display.normalize_tabs("all") == list(sections.TABS)
    with pytest.raises(ValueError, match="unknown tab"):
        display.normalize_tabs("nope")


@pytest.mark.parametrize("case", ["fori_loop", "cond", "mlp_train_step", "argsort", "scalar_input", "tuple_output"])
def test_html_renders_varied_modules(case):
    text, args, _, _ = load_case(case)
    r = xm.compile(text, target="cpu").report
    html = display.report_html(r, show=sections.TABS)
    assert "could not render" not in html
    for k in r.fusion_plan.kernels:
        assert k.name in html


def test_interpreter_and_unoptimized_reports_render():
    text, _, _, _ = load_case("softmax")
    for exe in (xm.compile(text, target="interpreter"), xm.compile(text, target="cpu", optimize=False)):
        r = exe.report
        bundle = display.mimebundle(r, show=sections.TABS)
        assert "could not render" not in bundle["text/html"]
        w = display.report_widget(r, eager=True)
        assert "could not render" not in "\n".join(_strings(w))
    assert "no fusion plan" in display.report_text(xm.compile(text, target="cpu", optimize=False).report)


def test_figures_are_plain_matplotlib_figures(softmax):
    from matplotlib.figure import Figure

    from xla_magic.display.plots import figure_png

    r = softmax[0].report
    for fig in (display.latency_figure(r), display.per_op_figure(r), display.memory_figure(r),
                display.fusion_figure(r)):
        assert isinstance(fig, Figure)
        assert fig.canvas.manager is None  # not registered with pyplot
        assert figure_png(fig).startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="benchmark"):
        display.latency_figure(xm.compile(load_case("gelu_tanh")[0], cache=False).report)


def test_fusion_picture_both_ways(softmax):
    r = softmax[0].report
    mime, png = graph.fusion_picture(r, use_dot=False)
    assert mime == "image/png" and png.startswith(b"\x89PNG")
    if not graph.dot_available():
        pytest.skip("graphviz dot is not installed")
    mime, svg = graph.fusion_picture(r, use_dot=True)
    assert mime == "image/svg+xml"
    for k in r.fusion_plan.kernels:
        assert k.name.encode() in svg


def test_instruction_graph_groups_each_kernel():
    text, _, _, _ = load_case("mlp_train_step")
    r = xm.compile(text, target="cpu").report
    g = graph.instruction_graph(r)
    nodes = {n.id: n for n in g.nodes}
    assert all(a in nodes and b in nodes for a, b in g.edges)
    entry = graph.pre_fusion_module(r).entry.name
    for k in r.fusion_plan.kernels:
        if k.computation != entry:
            continue
        assert nodes[k.root].kernel == k.name
        for name in k.instructions:  # every instruction fused into k is drawn inside k
            if name in k.duplicated:
                assert nodes[f"{name}@{k.name}"].kernel == k.name
            elif name in nodes:
                assert nodes[name].kernel == k.name
    dot = graph.to_dot(g)
    assert dot.count("subgraph cluster_k") == len({n.kernel for n in g.nodes if n.kernel})


def test_kernel_graph_for_large_modules_and_loops():
    text, _, _, _ = load_case("fori_loop")
    r = xm.compile(text, target="cpu").report
    g = graph.fusion_graph(r, max_nodes=5)
    assert g.level == "kernel"
    kinds = {n.kind for n in g.nodes}
    assert {"parameter", "control", "output"} <= kinds
    whiles = [n for n in g.nodes if n.kind == "control"]
    assert any("kernel" in line for n in whiles for line in n.lines)  # body kernels counted
    ids = {n.id for n in g.nodes}
    assert all(a in ids and b in ids for a, b in g.edges)
    assert any(b == "outputs" for _, b in g.edges)


def test_diff_and_code_html():
    d = sections.diff_html("a\nb\nc", "a\nB\nc")
    assert "#e6ffec" in d and "#ffebe9" in d
    assert "No change" in sections.diff_html("a", "a")
    h = code_html("\n".join(f"line {i}" for i in range(50)), "text", max_lines=10)
    assert "40 more lines" in h and "line 9" in h and "line 10" not in h
    assert "<script" not in code_html("<script>alert(1)</script>", "hlo")


def test_display_is_not_imported_by_the_package():
    code = ("import sys, xla_magic; bad = [m for m in ('IPython', 'ipywidgets', 'matplotlib', 'pygments', "
            "'xla_magic.display', 'xla_magic.magic') if m in sys.modules]; print(bad); assert not bad")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_timings_display(softmax):
    t = softmax[0].report.timings
    bundle = t._repr_mimebundle_()
    assert "faster" in bundle["text/plain"] and "data:image/png" in bundle["text/html"]
    assert np.isfinite(t.speedup)


def test_fallback_columns_follow_the_data_flow():
    text, _, _, _ = load_case("attention_multihead")
    g = graph.kernel_graph(xm.compile(text, target="cpu").report)
    level = graph._levels(g)
    assert all(level[a] < level[b] for a, b in g.edges)
