"""The fusion plan as a picture: the program's graph with each kernel's instructions grouped
and coloured.

Two levels of detail: the instruction graph (every instruction of the module as the fusion
pass saw it, one cluster per kernel) when it is small enough to read, else the kernel graph
(one box per kernel listing its ops, arrows for the arrays between kernels). graphviz's
`dot` lays them out where it is installed; without it, a plain matplotlib drawing of the
kernel graph in columns stands in."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..hlo.ir import Instruction, Module
from ..hlo.opcodes import Opcode as O
from .cache import opcodes, parsed
from .fmt import LIBRARY_COLOR, kernel_colors, plural

if TYPE_CHECKING:
    from ..report import Report

MAX_INSTRUCTION_NODES = 120  # beyond this the instruction graph is a hairball: draw kernels instead
_TRANSPARENT = frozenset({O.TUPLE, O.GET_TUPLE_ELEMENT, O.BITCAST, O.CONSTANT})


@dataclass
class Node:
    id: str
    label: str
    kind: str  # "op" | "parameter" | "constant" | "kernel" | "control" | "output"
    kernel: str | None = None
    computation: str = ""
    lines: list[str] = field(default_factory=list)  # a kernel's ops, for the kernel graph


@dataclass
class Graph:
    level: str  # "instruction" | "kernel"
    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    computations: dict[str, str] = field(default_factory=dict)  # name -> title, entry first
    kernels: dict[str, str] = field(default_factory=dict)  # kernel name -> kind


def pre_fusion_module(report: Report) -> Module:
    return parsed(report, "pre_fusion")


def _computations(module: Module) -> list:
    from ..hlo.walk import control_flow_computations

    return control_flow_computations(module)


def _titles(module: Module) -> dict[str, str]:
    titles = {module.entry.name: f"ENTRY {module.entry.name}"}
    for comp in _computations(module):
        for i in comp.instructions:
            if i.opcode is O.WHILE:
                body, cond = i.attrs.get("body"), i.attrs.get("condition")
                for c, what in ((body, "body"), (cond, "condition")):
                    if c is not None:
                        titles.setdefault(c.name, f"{i.name}: while {what} {c.name}")
            elif i.opcode in (O.CONDITIONAL, O.CALL):
                for c in i.called:
                    titles.setdefault(c.name, f"{i.name}: {i.opcode.value} {c.name}")
    return {c.name: titles.get(c.name, c.name) for c in _computations(module)}


def _membership(plan) -> tuple[dict[str, str], dict[str, set[str]]]:
    """home: instruction -> the kernel that computes it for others; dups: kernel -> the cheap
    producers it computes again for itself."""
    home: dict[str, str] = {}
    dups: dict[str, set[str]] = {}
    if plan is None:
        return home, dups
    for k in plan.kernels:
        dups[k.name] = set(k.duplicated)
        for name in k.instructions:
            if name not in k.duplicated:
                home.setdefault(name, k.name)
    return home, dups


def instruction_graph(report: Report, module: Module | None = None) -> Graph:
    module = module or pre_fusion_module(report)
    plan = report.fusion_plan
    home, dups = _membership(plan)
    g = Graph("instruction", computations=_titles(module),
              kernels={k.name: k.kind for k in (plan.kernels if plan else [])})
    kernels_of = {k.name: k for k in (plan.kernels if plan else [])}
    ids: set[str] = set()
    for comp in _computations(module):
        by_name = {i.name: i for i in comp.instructions}
        consumers: list[tuple[str, Instruction, str | None]] = []  # (node id, instruction, kernel)
        for i in comp.instructions:
            kind = {O.PARAMETER: "parameter", O.CONSTANT: "constant"}.get(i.opcode, "op")
            if i.opcode in (O.WHILE, O.CONDITIONAL, O.CALL):
                kind = "control"
            k = home.get(i.name)
            if k is not None or not any(i.name in d for d in dups.values()):
                g.nodes.append(Node(i.name, _label(i), kind, k, comp.name))
                ids.add(i.name)
                consumers.append((i.name, i, k))
        for kname, names in dups.items():
            if kernels_of[kname].computation != comp.name:
                continue
            for d in sorted(names):
                if d in by_name:
                    nid = f"{d}@{kname}"
                    g.nodes.append(Node(nid, _label(by_name[d]) + "\n(copy)", "op", kname, comp.name))
                    ids.add(nid)
                    consumers.append((nid, by_name[d], kname))
        for nid, i, k in consumers:
            for o in i.operands:
                src = f"{o.name}@{k}" if k and o.name in dups.get(k, ()) else o.name
                if src not in ids:  # duplicated everywhere: take any copy
                    src = next((f"{o.name}@{kk}" for kk, d in dups.items() if o.name in d), src)
                if src in ids:
                    g.edges.append((src, nid))
    return g


def _label(i) -> str:
    shape = i.shape.to_text(layout=False)
    if len(shape) > 28:
        shape = shape[:25] + "..."
    return f"{i.opcode.value}\n{i.name}\n{shape}"


def kernel_graph(report: Report, module: Module | None = None) -> Graph:
    """One node per kernel (and per parameter and control-flow op) of the entry computation;
    tuples, get-tuple-elements, bitcasts and constants are looked through."""
    module = module or pre_fusion_module(report)
    plan = report.fusion_plan
    home, _ = _membership(plan)
    comp = module.entry
    g = Graph("kernel", computations=_titles(module), kernels={k.name: k.kind for k in (plan.kernels if plan else [])})
    kernels = {k.name: k for k in (plan.kernels if plan else [])}
    opcode_of = opcodes(report)
    nested: dict[str, list[str]] = {}
    if plan is not None:
        for k in plan.kernels:
            if k.computation != comp.name:
                nested.setdefault(k.computation, []).append(k.name)

    def unit(i) -> str | None:
        if i.name in home:
            return home[i.name]
        if i.opcode in _TRANSPARENT or any(i.name in k.duplicated for k in kernels.values()):
            return None
        return i.name

    seen: set[str] = set()
    for i in comp.instructions:
        u = unit(i)
        if u is None or u in seen:
            continue
        seen.add(u)
        if u in kernels:
            k = kernels[u]
            lines = [f"{opcode_of[n]} {n}" for n in k.instructions if opcode_of.get(n, "constant") != "constant"]
            g.nodes.append(Node(u, u, "kernel", u, comp.name, lines))
        elif i.opcode is O.PARAMETER:
            g.nodes.append(Node(u, f"{i.name}\n{i.shape.to_text(layout=False)}", "parameter", None, comp.name))
        else:
            lines = []
            if i.opcode in (O.WHILE, O.CONDITIONAL, O.CALL):
                for c in i.called:
                    if c.name in nested:
                        lines.append(f"{c.name}: {plural(len(nested[c.name]), 'kernel')}")
            g.nodes.append(Node(u, f"{i.opcode.value} {i.name}", "control", None, comp.name, lines))
    memo: dict[int, set[str]] = {}

    def sources(i) -> set[str]:
        # Post-order on an explicit stack: a looked-through chain may be as long as the program.
        stack = [i]
        while stack:
            x = stack[-1]
            if id(x) in memo:
                stack.pop()
                continue
            u = unit(x)
            pending = [o for o in x.operands if id(o) not in memo] if u is None else []
            if pending:
                stack.extend(pending)
                continue
            memo[id(x)] = {u} if u is not None else set().union(*(memo[id(o)] for o in x.operands))
            stack.pop()
        return memo[id(i)]

    edges: set[tuple[str, str]] = set()
    for i in comp.instructions:
        u = unit(i)
        if u is None:
            continue
        for o in i.operands:
            for s in sources(o):
                if s != u:
                    edges.add((s, u))
    g.nodes.append(Node("outputs", "outputs", "output", None, comp.name))
    for s in sources(comp.root):
        edges.add((s, "outputs"))
    order = {n.id: k for k, n in enumerate(g.nodes)}
    g.edges = sorted(edges, key=lambda e: (order.get(e[0], 0), order.get(e[1], 0)))
    return g


def fusion_graph(report: Report, max_nodes: int = MAX_INSTRUCTION_NODES) -> Graph:
    module = pre_fusion_module(report)
    n = sum(len(c.instructions) for c in _computations(module))
    if n <= max_nodes:
        return instruction_graph(report, module)
    return kernel_graph(report, module)


# --- graphviz ---------------------------------------------------------------------------------

def dot_available() -> bool:
    return shutil.which("dot") is not None


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(g: Graph, colors: dict[str, tuple[str, str]] | None = None) -> str:
    colors = colors or {}
    out = ["digraph fusion {", '  graph [rankdir=TB, fontname="Helvetica", fontsize=10, nodesep=0.2, ranksep=0.3, '
           'bgcolor="white"];',
           '  node [fontname="Helvetica", fontsize=9, shape=box, style="rounded,filled", fillcolor="white", '
           'color="#555555", margin="0.06,0.03", height=0.3];',
           '  edge [color="#888888", arrowsize=0.6];']
    by_comp: dict[str, list[Node]] = {}
    for n in g.nodes:
        by_comp.setdefault(n.computation, []).append(n)
    for ci, (comp, nodes) in enumerate(by_comp.items()):
        nested = len(by_comp) > 1
        if nested:
            out.append(f"  subgraph cluster_comp{ci} {{ label={_q(g.computations.get(comp, comp))}; "
                       'style="dashed,rounded"; color="#999999"; fontcolor="#555555";')
        by_kernel: dict[str | None, list[Node]] = {}
        for n in nodes:
            by_kernel.setdefault(n.kernel, []).append(n)
        for ki, (k, members) in enumerate(by_kernel.items()):
            if k is not None and g.level == "instruction":
                fill, border = colors.get(k, LIBRARY_COLOR)
                out.append(f"    subgraph cluster_k{ci}_{ki} {{ label={_q(k + ' (' + g.kernels.get(k, '') + ')')}; "
                           f'style="filled,rounded"; fillcolor="{fill}"; color="{border}"; penwidth=1.5;')
            for n in members:
                out.append("      " + _dot_node(n, colors))
            if k is not None and g.level == "instruction":
                out.append("    }")
        if nested:
            out.append("  }")
    for a, b in g.edges:
        out.append(f"  {_q(a)} -> {_q(b)};")
    out.append("}")
    return "\n".join(out)


def _dot_node(n: Node, colors) -> str:
    if n.kind == "parameter":
        return f'{_q(n.id)} [label={_q(n.label)}, shape=ellipse, fillcolor="#eeeeee"];'
    if n.kind == "constant":
        return f'{_q(n.id)} [label={_q(n.label)}, shape=box, style="rounded", fontsize=7, color="#bbbbbb"];'
    if n.kind == "output":
        return f'{_q(n.id)} [label="outputs", shape=ellipse, fillcolor="#eeeeee"];'
    if n.kind == "kernel":
        fill, border = colors.get(n.kernel, LIBRARY_COLOR)
        body = _kernel_lines(n, 8)
        label = n.label + "\n" + "\n".join(body)
        return f'{_q(n.id)} [label={_q(label)}, fillcolor="{fill}", color="{border}", penwidth=1.5];'
    if n.kind == "control":
        label = n.label + ("\n" + "\n".join(n.lines) if n.lines else "")
        return f'{_q(n.id)} [label={_q(label)}, shape=box3d, fillcolor="#f4f4f4"];'
    return f"{_q(n.id)} [label={_q(n.label)}];"


def _kernel_lines(n: Node, limit: int) -> list[str]:
    lines = n.lines[:limit]
    if len(n.lines) > limit:
        lines.append(f"... {len(n.lines) - limit} more")
    return lines


def render_dot(source: str, fmt: str = "svg", timeout: float = 20.0) -> bytes | None:
    """The picture from graphviz, or None when dot is missing, slow or fails."""
    exe = shutil.which("dot")
    if exe is None:
        return None
    try:
        res = subprocess.run([exe, f"-T{fmt}"], input=source.encode(), capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return res.stdout if res.returncode == 0 and res.stdout else None


# --- the plain fallback: matplotlib, kernel graph in columns ----------------------------------

def _levels(g: Graph) -> dict[str, int]:
    """Longest path from a source. A kernel appears where its first instruction is defined, which
    can be before its other operands, so node order is not topological: relax to a fixed point."""
    preds: dict[str, list[str]] = {n.id: [] for n in g.nodes}
    for a, b in g.edges:
        if a in preds and b in preds:
            preds[b].append(a)
    level = {n.id: 0 for n in g.nodes}
    for _ in range(len(g.nodes)):  # the DAG's depth bounds the rounds
        changed = False
        for n in g.nodes:
            want = 1 + max((level[p] for p in preds[n.id]), default=-1)
            if want > level[n.id]:
                level[n.id], changed = want, True
        if not changed:
            break
    # Sources (parameters) sit just before their first consumer, not all in the first column.
    succs: dict[str, list[str]] = {}
    for a, b in g.edges:
        succs.setdefault(a, []).append(b)
    for n in g.nodes:
        if not preds[n.id] and succs.get(n.id):
            level[n.id] = max(0, min(level[s] for s in succs[n.id]) - 1)
    return level


def fallback_figure(g: Graph, colors: dict[str, tuple[str, str]] | None = None, max_lines: int = 6):
    """Columns by depth; each kernel a coloured box listing its ops; arrows for data flow."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    colors = colors or {}
    level = _levels(g)
    columns: dict[int, list[Node]] = {}
    for n in g.nodes:
        columns.setdefault(level[n.id], []).append(n)
    # Within a column, order by the mean row of the predecessors (fewer crossings).
    preds: dict[str, list[str]] = {}
    for a, b in g.edges:
        preds.setdefault(b, []).append(a)
    row_of: dict[str, float] = {}
    body_h, box_w, col_gap, box_gap = 0.118, 2.3, 0.7, 0.22  # inches (6.8 pt text at 1.25 line spacing)
    heights = {}
    for n in g.nodes:
        shown = len(_kernel_lines(n, max_lines))
        if n.kind == "kernel":
            heights[n.id] = 0.4 + body_h * shown + 0.08
        else:
            heights[n.id] = 0.1 + 0.135 * (n.label.count("\n") + 1 + shown)
    pos: dict[str, tuple[float, float, float]] = {}  # id -> (x, y_top, height)
    col_heights = []
    for c in sorted(columns):
        nodes = columns[c]
        nodes.sort(key=lambda n: sum(row_of.get(p, 0) for p in preds.get(n.id, [])) / max(1, len(preds.get(n.id, []))))
        y = 0.0
        for r, n in enumerate(nodes):
            row_of[n.id] = r
            pos[n.id] = (c * (box_w + col_gap), y, heights[n.id])
            y += heights[n.id] + box_gap
        col_heights.append(y)
    width = max(len(columns), 1) * (box_w + col_gap) - col_gap + 0.4
    height = max(col_heights, default=1.0) + 0.4
    fig = Figure(figsize=(width, height), dpi=80 if width > 14 else 96)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-0.2, width - 0.2)
    ax.set_ylim(height - 0.2, -0.2)
    ax.axis("off")
    for n in g.nodes:
        x, y, h = pos[n.id]
        if n.kind == "kernel":
            fill, border = colors.get(n.kernel or "", LIBRARY_COLOR)
        elif n.kind in ("parameter", "output"):
            fill, border = "#eeeeee", "#999999"
        else:
            fill, border = "#f8f8f8", "#777777"
        ax.add_patch(FancyBboxPatch((x, y), box_w, h, boxstyle="round,pad=0,rounding_size=0.08", fc=fill, ec=border,
                                    lw=1.3 if n.kind == "kernel" else 0.8))
        if n.kind == "kernel":
            ax.text(x + 0.08, y + 0.06, n.label, va="top", ha="left", fontsize=8.5, weight="bold")
            ax.text(x + 0.08, y + 0.22, f"{g.kernels.get(n.kernel or '', '')} · {len(n.lines)} ops", va="top",
                    ha="left", fontsize=7, color="#444444")
            body = "\n".join(_kernel_lines(n, max_lines))
            ax.text(x + 0.08, y + 0.4, body, va="top", ha="left", fontsize=6.8, family="monospace",
                    linespacing=1.25)
        else:
            text = n.label + ("\n" + "\n".join(_kernel_lines(n, max_lines)) if n.lines else "")
            ax.text(x + 0.08, y + 0.06, text, va="top", ha="left", fontsize=7.2, linespacing=1.25)
    for a, b in g.edges:
        if a not in pos or b not in pos:
            continue
        xa, ya, ha = pos[a]
        xb, yb, hb = pos[b]
        ax.add_patch(FancyArrowPatch((xa + box_w, ya + min(ha / 2, 0.2)), (xb, yb + min(hb / 2, 0.2)),
                                     arrowstyle="-|>", mutation_scale=8, color="#777777", lw=0.8, alpha=0.8,
                                     connectionstyle="arc3,rad=0.05", shrinkA=1, shrinkB=1))
    return fig


def fusion_picture(report: Report, use_dot: bool | None = None) -> tuple[str, bytes]:
    """(mime type, bytes): graphviz SVG where `dot` is installed, else a matplotlib PNG."""
    colors = kernel_colors(report.fusion_plan)
    if use_dot is None:
        use_dot = dot_available()
    if use_dot:
        svg = render_dot(to_dot(fusion_graph(report), colors), "svg")
        if svg is not None:
            return "image/svg+xml", svg
    from .plots import figure_png

    fig = fallback_figure(kernel_graph(report), colors)
    return "image/png", figure_png(fig, dpi=int(fig.dpi))
