"""Syntax highlighting as self-contained HTML (inline styles, so it survives GitHub, nbviewer
and widget HTML alike). pygments comes with IPython; without it the text is shown plain."""
from __future__ import annotations

import re
from functools import lru_cache

from .fmt import esc, truncate_lines

# Which lexer reads which artifact.
LANGUAGES = {"hlo": "hlo", "llvm_ir": "llvm", "llvm_ir_opt": "llvm", "asm": "gas", "cuda": "cuda", "ptx": "ptx",
             "sass": "gas", "diff": "diff"}
STYLE = "friendly"
_MAX_WIDTH = 240
_WHITESPACE_SPAN = re.compile(r'<span class="w">(\s*)</span>')
_PRE = ("margin:0;padding:6px 8px;font-size:12px;line-height:1.35;"
        "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;")


@lru_cache(maxsize=1)
def _hlo_lexer_class():
    from pygments.lexer import RegexLexer, bygroups  # type: ignore[import-untyped]
    from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text  # type: ignore[import-untyped]

    class HloLexer(RegexLexer):
        """XLA's HLO text: shapes as types, opcodes as functions, %names as variables."""

        name = "HLO"
        aliases = ["hlo"]
        tokens = {
            "root": [
                (r"/\*.*?\*/", Comment.Multiline),
                (r"//.*?$", Comment.Single),
                (r"\b(HloModule|ENTRY|ROOT)\b", Keyword),
                (r'"(\\\\|\\"|[^"])*"', String),
                # shape: f32[16,64]{1,0}
                (r"\b(pred|[suf]\d+|bf16|c64|c128|f8e\w+|token)(\[[\d,<=?]*\])(\{[\d,:A-Za-z()]*\})?",
                 bygroups(Keyword.Type, Keyword.Type, Comment)),
                # opcode: the word just before an operand list
                (r"([a-z][\w\-]*)(\()", bygroups(Name.Function, Punctuation)),
                (r"([A-Za-z_][\w\-]*)(=)", bygroups(Name.Attribute, Operator)),
                (r"%?[A-Za-z_][\w.\-]*", Name.Variable),
                (r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|-?inf|nan", Number),
                (r"[{}()\[\],:=]", Punctuation),
                (r"->", Operator),
                (r"\s+", Text),
                (r".", Text),
            ]
        }

    return HloLexer


def _lexer(language: str):
    try:
        if language == "hlo":
            return _hlo_lexer_class()()
        from pygments.lexers import get_lexer_by_name  # type: ignore[import-untyped]

        return get_lexer_by_name(language)
    except Exception:  # pygments missing or no such lexer: plain text
        return None


@lru_cache(maxsize=1)
def style_defs() -> str:
    """The token colours as one <style> block scoped to `.xmhl` (token spans carry short class
    names: a third of the size of inline styles). Where styles are stripped (GitHub), the code
    stays readable, just uncoloured."""
    try:
        from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
    except ImportError:
        return ""
    rules = [r for r in HtmlFormatter(style=STYLE).get_style_defs(".xmhl").splitlines()
             if r.startswith(".xmhl .")]  # nothing that could style the rest of the page
    return "<style>" + "\n".join(rules) + "</style>"


def code_html(text: str, language: str = "text", max_lines: int = 600, max_height: str = "32em") -> str:
    """A scrollable, highlighted block; long texts are cut to `max_lines` with a note."""
    text, left_out = truncate_lines(text or "", max_lines)
    # Vector constants make lines of thousands of characters; nobody reads past the first few.
    text = "\n".join(ln if len(ln) <= _MAX_WIDTH else ln[:_MAX_WIDTH] + " …" for ln in text.split("\n"))
    lexer = _lexer(LANGUAGES.get(language, language))
    body = None
    if lexer is not None:
        try:
            from pygments import highlight  # type: ignore[import-untyped]
            from pygments.formatters import HtmlFormatter

            fmt = HtmlFormatter(style=STYLE, nowrap=True)
            body = _WHITESPACE_SPAN.sub(r"\1", highlight(text, lexer, fmt))  # uncoloured anyway
        except Exception:
            body = None
    if body is None:
        body = esc(text)
    note = (f'<div style="font-size:11px;color:#777;padding:2px 8px">… {left_out} more lines '
            f"(the full text is in the report object)</div>" if left_out else "")
    return (f'{style_defs()}<div class="xmhl" style="max-height:{max_height};overflow:auto;border:1px solid #ddd;'
            f'border-radius:4px;background:#fbfbfb"><pre style="{_PRE}">{body}</pre></div>{note}')
