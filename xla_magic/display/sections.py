"""The report's tabs as HTML fragments with inline styles, shared by the static HTML view (what
GitHub and nbviewer show) and the widget view."""
from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from functools import partial
from typing import TYPE_CHECKING

from ..backends.artifacts import Artifacts
from .cache import memo, opcodes, parsed
from .fmt import count, esc, kernel_colors, module_name, nbytes, plural, seconds, signature
from .highlight import code_html

if TYPE_CHECKING:
    from ..report import Report

TABS = ("summary", "fusion", "passes", "hlo", "code", "latency", "memory")
TITLES = {"summary": "Summary", "fusion": "Fusion plan", "passes": "Passes", "hlo": "HLO", "code": "Code",
          "latency": "Latency", "memory": "Memory"}

TABLE = "border-collapse:collapse;font-size:12px;margin:4px 0 8px 0"
TH = "text-align:left;padding:3px 10px 3px 0;border-bottom:1px solid #ccc;font-weight:600;white-space:nowrap"
TD = "text-align:left;padding:3px 10px 3px 0;border-bottom:1px solid #eee;vertical-align:top"
TDN = TD + ";text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap"
NOTE = "color:#666;font-size:12px;margin:4px 0"
MONO = "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11.5px"


def normalize_tabs(spec) -> list[str]:
    """'fusion,code' or ['lat', 'mem'] or 'all' -> tab names; prefixes are enough."""
    if spec is None:
        return ["summary"]
    items = spec.replace(",", " ").split() if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for item in items:
        item = item.strip().lower()
        if item == "all":
            return list(TABS)
        hits = [t for t in TABS if t.startswith(item) or TITLES[t].lower().startswith(item)]
        if len(hits) != 1:
            raise ValueError(f"unknown tab {item!r}; choose from {', '.join(TABS)} or 'all'")
        if hits[0] not in out:
            out.append(hits[0])
    return out or ["summary"]


def table(headers: list[str] | None, rows: list[list[str]], numeric: AbstractSet[int] = frozenset()) -> str:
    """Cells are HTML already; `headers` None: a list of facts without a header row."""
    head = ""
    if headers is not None:
        head = "<thead><tr>" + "".join(f'<th style="{TH}">{h}</th>' for h in headers) + "</tr></thead>"
    body = "".join("<tr>" + "".join(f'<td style="{TDN if i in numeric else TD}">{c}</td>' for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f'<table style="{TABLE}">{head}<tbody>{body}</tbody></table>'


def note(text: str) -> str:
    return f'<div style="{NOTE}">{text}</div>'


def chip(name: str, colors: dict) -> str:
    fill, border = colors.get(name, ("#eeeeee", "#999999"))
    return (f'<span style="background:{fill};border:1px solid {border};border-radius:3px;padding:0 4px;{MONO}">'
            f"{esc(name)}</span>")


def safe(fn: Callable[[], str], what: str) -> str:
    """A section that fails to render says so in one line instead of breaking the whole report."""
    try:
        return fn()
    except Exception as e:  # display must never raise into the notebook
        return note(f"(could not render {esc(what)}: {esc(type(e).__name__)}: {esc(e)})")


def header_html(report: Report) -> str:
    """The one line above the tabs: module, target, kernels, compile time."""
    plan = report.fusion_plan
    return (f"<b>xla_magic</b> · <code>{esc(module_name(report.hlo_before))}</code> on <b>{esc(report.target)}</b>"
            + (f" · {plural(plan.num_kernels, 'kernel')}" if plan is not None else "")
            + f" · compiled in {report.compile_seconds * 1e3:.1f} ms")


# --- summary ----------------------------------------------------------------------------------

def ops_one_at_a_time(report: Report) -> int:
    from ..passes.fusion import count_kernels

    return memo(report, ("ops_before",), lambda: count_kernels(parsed(report, "before")))


def memory_numbers(report: Report) -> tuple[int, int]:
    b = report.buffers
    if b is None:
        return 0, 0
    return b.interpreter_peak_bytes, max(b.live_bytes, default=0)


def compile_split(report: Report) -> str:
    """' (passes 1.2 ms, ir 0.4 ms, ...; 3 kernels from the cache)': where the compile time went."""
    parts = ", ".join(f"{k} {seconds(v)}" for k, v in report.compile_phases.items())
    if report.cached_kernels:
        n = len(report.cached_kernels)
        parts += f"{'; ' if parts else ''}{n} kernel{'s' if n != 1 else ''} from the cache"
    return f" ({parts})" if parts else ""


def summary_facts(report: Report) -> list[tuple[str, str]]:
    """(label, text) pairs: the numbers a person wants first."""
    plan = report.fusion_plan
    facts = [("program", f"{module_name(report.hlo_before)} {signature(report.hlo_after)}")]
    n_ops = ops_one_at_a_time(report)
    if plan is not None:
        kinds = Counter(k.kind for k in plan.kernels)
        detail = ", ".join(f"{n} {kind}" for kind, n in kinds.most_common())
        facts.append(("kernels", f"{plan.num_kernels} ({detail}), from {n_ops} ops run one at a time"))
    else:
        facts.append(("kernels", f"no fusion plan (the fusion pass did not run); {n_ops} ops"))
    changed = [p.name for p in report.passes if p.changed]
    if report.passes:
        opt_s = sum(p.seconds for p in report.passes)
        names = ", ".join(dict.fromkeys(changed)) or "none"
        facts.append(("optimizer", f"{len(report.passes)} passes in {seconds(opt_s)}; changed by {names}"))
    else:
        facts.append(("optimizer", "not run"))
    facts.append(("compile", f"{seconds(report.compile_seconds)} for target {report.target}" + compile_split(report)))
    if report.cost is not None:
        c = report.cost
        facts.append(("work", f"{count(c.flops)} flops, {count(c.transcendentals)} transcendentals, "
                              f"{nbytes(c.bytes_accessed)} accessed"))
    peak_i, peak_c = memory_numbers(report)
    if report.buffers is not None:
        saved = f": {1 - peak_c / peak_i:.0%} less" if peak_i and peak_c < peak_i else ""
        facts.append(("memory", f"peak {nbytes(peak_c)} compiled vs {nbytes(peak_i)} interpreted{saved}"))
    t = report.timings
    if t is not None:
        facts.append(("latency", f"{seconds(t.compiled_median)} compiled vs {seconds(t.interpreted_median)} "
                                 f"interpreted per call: {t.speedup:.1f}× faster"))
    else:
        facts.append(("latency", "not measured yet: xm.benchmark(exe, *args) or %%hlo --bench"))
    return facts


def summary_html(report: Report) -> str:
    rows = [[f"<b>{esc(k)}</b>", esc(v)] for k, v in summary_facts(report)]
    out = table(None, rows)
    if report.fusion_plan is not None and report.fusion_plan.kernels:
        colors = kernel_colors(report.fusion_plan)
        out += '<div style="margin:2px 0 6px 0;line-height:1.9">' + " ".join(
            chip(k.name, colors) for k in report.fusion_plan.kernels) + "</div>"
    return out


# --- fusion -----------------------------------------------------------------------------------

def fusion_picture_html(report: Report) -> str:
    from .graph import fusion_picture
    from .plots import data_uri

    mime, data = memo(report, ("fusion_picture",), lambda: fusion_picture(report))
    how = "graphviz dot" if mime == "image/svg+xml" else "matplotlib (install graphviz for the full graph)"
    return (f'<div style="overflow:auto;max-height:48em;border:1px solid #eee;border-radius:4px;padding:4px">'
            f'<img alt="fusion graph" style="max-width:100%" src="{data_uri(data, mime)}"></div>'
            + note(f"Each coloured group is one kernel; grey ones are library calls. Layout: {how}."))


def _ops_cell(names: list[str], opcode_of: dict[str, str]) -> str:
    hist = Counter(opcode_of.get(n, "?") for n in names)
    hist.pop("constant", None)
    parts = [f"{n}× {op}" if n > 1 else op for op, n in hist.items()]
    return f'<span title="{esc(", ".join(names))}">{esc(", ".join(parts))}</span>'


def _source_cell(lines) -> str:
    by_file: dict[str, list[int]] = {}
    for f, ln in lines:
        by_file.setdefault(str(f).rsplit("/", 1)[-1], []).append(int(ln))
    return esc("; ".join(f"{f}:{','.join(str(x) for x in sorted(set(ls)))}" for f, ls in by_file.items()))


def kernel_table_html(report: Report) -> str:
    plan = report.fusion_plan
    if plan is None:
        return note("No fusion plan: the fusion pass did not run.")
    colors = kernel_colors(plan)
    opcode_of = opcodes(report)
    entry = module_entry(report)
    rows = []
    with_lines = any(k.source_lines for k in plan.kernels)  # JAX's unoptimized text often has no metadata
    for k in plan.kernels:
        where = "" if k.computation == entry else f'<br><span style="{NOTE}">in {esc(k.computation)}</span>'
        row = [chip(k.name, colors) + where, esc(k.kind), _ops_cell(k.instructions, opcode_of),
               f"{len(k.inputs)} → {len(k.outputs)}", nbytes(k.bytes_read), nbytes(k.bytes_written),
               count(k.flops) + (f" (+{count(k.transcendentals)} tr.)" if k.transcendentals else "")]
        rows.append(row + [_source_cell(k.source_lines)] if with_lines else row)
    headers = ["kernel", "kind", "ops", "in → out", "read", "written", "flops"]
    return table(headers + ["source lines"] if with_lines else headers, rows, numeric={4, 5, 6})


def module_entry(report: Report) -> str:
    return parsed(report, "pre_fusion").entry.name


def reasons_html(report: Report) -> str:
    plan = report.fusion_plan
    if plan is None or not plan.reasons:
        return note("Every producer was fused into its consumers.")
    rows = [[f'<span style="{MONO}">{esc(p)}</span>', esc(why)] for p, why in plan.reasons.items()]
    return table(["producer", "why it stayed apart"], rows)


def fusion_html(report: Report) -> str:
    return (safe(lambda: fusion_picture_html(report), "the fusion graph") + "<h4 style='margin:8px 0 2px'>Kernels</h4>"
            + safe(lambda: kernel_table_html(report), "the kernel table")
            + "<h4 style='margin:8px 0 2px'>Unfused producers</h4>" + safe(lambda: reasons_html(report), "reasons"))


# --- passes and HLO ---------------------------------------------------------------------------

def pass_texts(report: Report) -> list[str]:
    """The module before each pass (index 0) and after every pass."""
    out = [report.hlo_before]
    for p in report.passes:
        out.append(p.text or out[-1])
    return out


def diff_stats(a: str, b: str) -> tuple[int, int]:
    plus = minus = 0
    for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            plus += 1
        elif line.startswith("-") and not line.startswith("---"):
            minus += 1
    return plus, minus


def diff_html(a: str, b: str, context: int = 2, max_lines: int = 400, from_name: str = "before",
              to_name: str = "after") -> str:
    """A unified diff, one coloured row per line."""
    lines = list(difflib.unified_diff(a.splitlines(), b.splitlines(), from_name, to_name, lineterm="", n=context))
    if not lines:
        return note("No change.")
    shown = lines[:max_lines]
    rows = []
    for line in shown:
        if line.startswith(("+++", "---")):
            style = "color:#666"
        elif line.startswith("+"):
            style = "background:#e6ffec;color:#14532d"
        elif line.startswith("-"):
            style = "background:#ffebe9;color:#7f1d1d"
        elif line.startswith("@@"):
            style = "background:#f0f4ff;color:#555"
        else:
            style = "color:#333"
        rows.append(f'<div style="{style};white-space:pre;padding:0 6px">{esc(line) or " "}</div>')
    more = note(f"… {len(lines) - max_lines} more diff lines") if len(lines) > max_lines else ""
    return (f'<div style="{MONO};line-height:1.35;max-height:32em;overflow:auto;border:1px solid #ddd;'
            f'border-radius:4px">{"".join(rows)}</div>{more}')


def passes_table_html(report: Report) -> str:
    if not report.passes:
        return note("The optimizer did not run (--no-opt, or optimize=False).")
    texts = pass_texts(report)
    rows = []
    for n, p in enumerate(report.passes):
        plus, minus = diff_stats(texts[n], texts[n + 1]) if p.changed else (0, 0)
        name = f"<b>{esc(p.name)}</b>" if p.changed else esc(p.name)
        rows.append([str(n + 1), name, "changed" if p.changed else '<span style="color:#999">no change</span>',
                     seconds(p.seconds), f'<span style="color:#1a7f37">+{plus}</span> '
                     f'<span style="color:#cf222e">−{minus}</span>' if p.changed else ""])
    return table(["#", "pass", "", "time", "lines"], rows, numeric={0, 3})


def passes_html(report: Report, max_diff_lines: int = 200) -> str:
    """The table, then each changed pass's diff against the step before it."""
    out = safe(lambda: passes_table_html(report), "the pass table")
    texts = pass_texts(report)
    for n, p in enumerate(report.passes):
        if p.changed:
            body = safe(partial(diff_html, texts[n], texts[n + 1], max_lines=max_diff_lines,
                                from_name=f"before {p.name}", to_name=f"after {p.name}"), "a diff")
            out += (f'<details style="margin:2px 0"><summary style="cursor:pointer">{n + 1}. {esc(p.name)}: '
                    f"diff against the step before</summary>{body}</details>")
    return out


def hlo_texts(report: Report) -> list[tuple[str, str, str]]:
    """(label, text, language) of every module text the HLO tab offers: ours after and before
    optimization, the StableHLO it was read from, and XLA's own optimized module when at hand."""
    out = [("after optimization", report.hlo_after, "hlo"), ("before optimization", report.hlo_before, "hlo")]
    if report.source_text is not None:
        out.append(("StableHLO as given", report.source_text, "stablehlo"))
    if report.xla_hlo is not None:
        out.append(("XLA's optimized HLO", report.xla_hlo, "hlo"))
    return out


def hlo_html(report: Report, max_lines: int = 300) -> str:
    out = ""
    for n, (label, text, language) in enumerate(hlo_texts(report)):
        opened = " open" if n == 0 else ""
        out += (f'<details{opened} style="margin:2px 0"><summary style="cursor:pointer">{label}</summary>'
                f'{code_html(text, language, max_lines=max_lines)}</details>')
    out += (f'<details style="margin:2px 0"><summary style="cursor:pointer">diff</summary>'
            f"{diff_html(report.hlo_before, report.hlo_after, max_lines=max_lines)}</details>")
    return out


# --- code -------------------------------------------------------------------------------------

ARTIFACT_TITLES = {"llvm_ir": "LLVM IR", "llvm_ir_opt": "optimized LLVM IR", "asm": "assembly", "cuda": "CUDA C",
                   "ptx": "PTX", "sass": "SASS",
                   "host_program": "host program"}


def artifact_keys(report: Report) -> list[str]:
    arts = report.artifacts or {}
    return [k for k in arts if isinstance(k, str)]


def kernel_functions(report: Report) -> dict[str, str]:
    """Kernel function -> the HLO instruction it computes (backends that compile per kernel)."""
    arts = report.artifacts
    return dict(arts.kernels) if isinstance(arts, Artifacts) else {}


def artifact_text(report: Report, key: str, kernel: str | None = None) -> str:
    arts = report.artifacts
    if kernel is None:
        value = arts[key]
    elif isinstance(arts, Artifacts):
        value = arts.kernel(kernel)[key]
    else:
        raise KeyError(kernel)  # no per-kernel texts from this backend
    return value if isinstance(value, str) else str(value)


def _code_html(report: Report, key: str, max_lines: int) -> str:
    return code_html(artifact_text(report, key), key, max_lines=max_lines)


def code_section_html(report: Report, max_lines: int = 80) -> str:
    keys = artifact_keys(report)
    if not keys:
        return note(f"The {esc(report.target)} target produces no generated code to show "
                    "(the interpreter runs the HLO itself).")
    out = ""
    for n, key in enumerate(keys):
        body = safe(partial(_code_html, report, key, max_lines), key)
        out += (f'<details{" open" if n == 0 else ""} style="margin:2px 0"><summary style="cursor:pointer">'
                f"{esc(ARTIFACT_TITLES.get(key, key))}</summary>{body}</details>")
    kernels = kernel_functions(report)
    if kernels:
        out += note("Kernel functions: " + ", ".join(f'<span style="{MONO}">{esc(f)}</span> ({esc(i)})'
                                                     for f, i in kernels.items())
                    + ". Each kernel's own code is in the widget view and in report.artifacts.kernel(name).")
    return out


# --- latency and memory -----------------------------------------------------------------------

def op_colors(report: Report) -> dict[str, str]:
    """Instruction name -> the border colour of the kernel it was fused into."""
    plan = report.fusion_plan
    if plan is None:
        return {}
    colors = kernel_colors(plan)
    out: dict[str, str] = {}
    for k in plan.kernels:
        for name in k.instructions:
            out.setdefault(name, colors[k.name][0] if k.kind != "library" else colors[k.name][1])
    return out


def latency_pngs(report: Report) -> list[bytes]:
    from .plots import figure_png, latency_figure, per_op_figure

    t = report.timings
    return memo(report, ("latency_png", id(t)), lambda: [figure_png(latency_figure(t)),
                                                          figure_png(per_op_figure(t, op_colors(report)))])


def memory_png(report: Report) -> bytes:
    from .plots import figure_png, memory_figure

    return memo(report, ("memory_png",), lambda: figure_png(memory_figure(report.buffers)))


def img(data: bytes, alt: str) -> str:
    from .plots import data_uri

    return f'<img alt="{esc(alt)}" style="max-width:100%" src="{data_uri(data)}">'


def latency_table_html(t) -> str:
    lo_i, hi_i = t.interpreted_spread
    lo_c, hi_c = t.compiled_spread
    rows = [["interpreted (one op at a time)", seconds(t.interpreted_median), f"{seconds(lo_i)} – {seconds(hi_i)}",
             str(len(t.interpreted)), str(t.interpreted_batch)],
            [f"compiled ({esc(t.target)})", seconds(t.compiled_median), f"{seconds(lo_c)} – {seconds(hi_c)}",
             str(len(t.compiled)), str(t.compiled_batch)]]
    return (table(["", "median per call", "10th – 90th percentile", "samples", "calls per sample"], rows,
                  numeric={1, 2, 3, 4})
            + note(f"Compiled is <b>{t.speedup:.1f}×</b> faster. The interpreter spends "
                   f"{seconds(t.per_op_total)} per call inside its {len(t.per_op)} ops; even its cheapest op takes "
                   f"{seconds(t.cheapest_op)}."))


def latency_html(report: Report) -> str:
    t = report.timings
    if t is None:
        return note("Not measured yet. Run <code>xm.benchmark(exe, *args)</code> (it stores its result in "
                    "<code>exe.report.timings</code>), or add <code>--bench</code> to the <code>%%hlo</code> cell.")
    pngs = safe(lambda: "".join(img(p, "latency plot") for p in latency_pngs(report)), "the latency plots")
    return latency_table_html(t) + pngs


def memory_table_html(report: Report) -> str:
    b = report.buffers
    if b is None:
        return note("No buffer assignment in this report.")
    peak_i, peak_c = memory_numbers(report)
    temps = [x for x in b.buffers if x.kind == "temp"]
    rows = [["peak live bytes, interpreted (every value materialized)", nbytes(peak_i)],
            ["peak live bytes, compiled", nbytes(peak_c)]]
    if temps:
        rows += [["arena for temporaries (slots reused when lifetimes allow)", nbytes(b.arena_bytes)],
                 [f"the same {len(temps)} temporaries without reuse", nbytes(sum(x.size for x in temps))]]
    else:
        rows.append(["temporaries", "none: every intermediate stays inside a kernel"])
    rows += [["outputs", nbytes(b.output_bytes)], ["in-place updates", esc(", ".join(b.in_place) or "none")]]
    return table(None, rows, numeric={1})


def memory_html(report: Report) -> str:
    if report.buffers is None:
        return note("No buffer assignment in this report.")
    return (safe(lambda: memory_table_html(report), "the memory table")
            + safe(lambda: img(memory_png(report), "memory plot"), "the memory plot"))


SECTION_HTML: dict[str, Callable] = {"summary": summary_html, "fusion": fusion_html, "passes": passes_html,
                                     "hlo": hlo_html, "code": code_section_html, "latency": latency_html,
                                     "memory": memory_html}


def section_subtitle(report: Report, tab: str) -> str:
    """A few words after each section title."""
    plan = report.fusion_plan
    if tab == "fusion":
        return plural(plan.num_kernels, "kernel") if plan else "not run"
    if tab == "passes":
        return f"{len(report.passes)} run, {sum(p.changed for p in report.passes)} changed the module"
    if tab == "code":
        return ", ".join(ARTIFACT_TITLES.get(k, k) for k in artifact_keys(report)) or "none"
    if tab == "latency":
        t = report.timings
        return f"{t.speedup:.1f}× faster compiled" if t else "not measured"
    if tab == "memory":
        peak_i, peak_c = memory_numbers(report)
        return f"peak {nbytes(peak_c)} vs {nbytes(peak_i)}" if report.buffers else ""
    return ""
