"""The static HTML view: every tab as a collapsible section, images inline, no scripts, so it
reads the same in JupyterLab, nbviewer and GitHub."""
from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from .fmt import esc
from .sections import SECTION_HTML, TABS, TITLES, header_html, safe, section_subtitle

if TYPE_CHECKING:
    from ..report import Report

CONTAINER = ("font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:13px;"
             "line-height:1.45;color:#1f2328;background:#fff;max-width:100%;border:1px solid #d0d7de;"
             "border-radius:6px;overflow:hidden")
HEADER = "padding:6px 10px;background:#f3f6fa;border-bottom:1px solid #d0d7de"
SECTION = "padding:2px 10px;border-bottom:1px solid #eaeef2"
SUMMARY = "cursor:pointer;font-weight:600;padding:4px 0"


def _subtitle(report: Report, tab: str) -> str:
    return esc(section_subtitle(report, tab))


def report_html(report: Report, show: Sequence[str] = ("summary",)) -> str:
    """Sections listed in `show` start open; the others are one click away."""
    head = f'<div style="{HEADER}">{header_html(report)}</div>'
    parts = [head]
    for tab in TABS:
        opened = " open" if tab in show else ""
        sub = safe(partial(_subtitle, report, tab), "")
        sub = f' <span style="font-weight:normal;color:#656d76">— {sub}</span>' if sub else ""
        body = safe(partial(SECTION_HTML[tab], report), TITLES[tab])
        parts.append(f'<details{opened} style="{SECTION}"><summary style="{SUMMARY}">{TITLES[tab]}{sub}</summary>'
                     f'<div style="padding:2px 0 8px 0">{body}</div></details>')
    return f'<div class="xla-magic-report" style="{CONTAINER}">{"".join(parts)}</div>'
