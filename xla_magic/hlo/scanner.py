"""What the HLO and the StableHLO readers share: a position in the text, whitespace and comments
skipped, and errors that name the line and column with a caret under the fault."""
from __future__ import annotations

import bisect
import re


class HloParseError(ValueError):
    """A syntax error: `.line` and `.column` are 1-based, `.excerpt` shows the line with a caret."""

    def __init__(self, msg: str, line: int, column: int, source_line: str = ""):
        self.msg, self.line, self.column = msg, line, column
        self.excerpt = ""
        if source_line is not None:
            shown = source_line.expandtabs(1)
            # Long lines: show a window around the fault so the caret stays readable.
            start = max(0, column - 60)
            shown = ("..." if start else "") + shown[start:start + 120]
            caret = column - 1 - start + (3 if start else 0)
            self.excerpt = f"  {shown}\n  {' ' * caret}^"
        super().__init__(f"line {line}, column {column}: {msg}" + (f"\n{self.excerpt}" if self.excerpt else ""))


class Scanner:
    """A cursor over text. Subclasses name what whitespace and comments are (`WS`, matched only
    where the next character is whitespace or '/') and the error type they raise (`ERROR`)."""

    WS: re.Pattern[str] = re.compile(r"(?:\s+|//[^\n]*)*")
    ERROR: type[HloParseError] = HloParseError

    def __init__(self, text: str):
        self.text, self.pos, self.n = text, 0, len(text)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(self, pos: int | None = None) -> tuple[int, int]:
        """1-based (line, column) of `pos` (default: the cursor)."""
        pos = self.pos if pos is None else min(max(pos, 0), self.n)
        line = bisect.bisect_right(self._line_starts, pos)
        return line, pos - self._line_starts[line - 1] + 1

    def error(self, msg: str, pos: int | None = None) -> HloParseError:
        line, col = self.where(pos)
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.ERROR(msg, line, col, self.text[start:end if end >= 0 else self.n])

    def ws(self) -> None:
        pos = self.pos
        if pos < self.n and self.text[pos] != "/" and not self.text[pos].isspace():
            return  # most calls: nothing to skip (what \s matches is what isspace() says)
        m = self.WS.match(self.text, pos)
        self.pos = m.end() if m else pos

    def peek(self, s: str) -> bool:
        self.ws()
        return self.text.startswith(s, self.pos)

    def accept(self, s: str) -> bool:
        if self.peek(s):
            self.pos += len(s)
            return True
        return False

    def found(self) -> str:
        """What stands at the cursor, for error messages."""
        raise NotImplementedError

    def expect(self, s: str, what: str | None = None) -> None:
        if not self.accept(s):
            raise self.error(f"expected {what or repr(s)}, found {self.found()}")

    def match(self, rx: re.Pattern[str]) -> re.Match[str] | None:
        self.ws()
        m = rx.match(self.text, self.pos)
        if m:
            self.pos = m.end()
        return m
