"""A cursor over MLIR text: whitespace and `//` comments skipped, 1-based line and column for errors."""
from __future__ import annotations

import bisect
import re

from ..parser import HloParseError

MAX_NESTING = 64  # regions, lists and types deeper than this are refused, not recursed into

_WS = re.compile(r"(?:\s+|//[^\n]*)*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_ESC = re.compile(r"\\(\\|\"|n|t|[0-9a-fA-F]{2})")
_TOKEN = re.compile(r"[\w.%#@$\-]+|\S")


class StableHloParseError(HloParseError):
    """Malformed StableHLO text, or an op the reader cannot turn into HLO; formatted as HloParseError
    (message, line, column, the source line and a caret)."""


class Cursor:
    def __init__(self, text: str):
        self.text, self.pos, self.n = text, 0, len(text)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(self, pos: int | None = None) -> tuple[int, int]:
        pos = self.pos if pos is None else min(max(pos, 0), self.n)
        line = bisect.bisect_right(self._line_starts, pos)
        return line, pos - self._line_starts[line - 1] + 1

    def error(self, msg: str, pos: int | None = None) -> StableHloParseError:
        line, col = self.where(pos)
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return StableHloParseError(msg, line, col, self.text[start:end if end >= 0 else self.n])

    def found(self) -> str:
        self.ws()
        m = _TOKEN.match(self.text, self.pos)
        return f"'{m.group(0)[:30]}'" if m else "end of text"

    def ws(self) -> None:
        pos = self.pos
        if pos < self.n and self.text[pos] not in " \t\r\n/":  # the common case: nothing to skip
            return
        m = _WS.match(self.text, pos)
        self.pos = m.end() if m else pos

    def next_char(self) -> str:
        """The next character after whitespace ('' at the end)."""
        self.ws()
        return self.text[self.pos] if self.pos < self.n else ""

    def peek(self, s: str) -> bool:
        self.ws()
        return self.text.startswith(s, self.pos)

    def accept(self, s: str) -> bool:
        if self.peek(s):
            self.pos += len(s)
            return True
        return False

    def accept_word(self, word: str) -> bool:
        """`word` as a whole identifier (not the start of a longer one)."""
        self.ws()
        end = self.pos + len(word)
        if self.text.startswith(word, self.pos) and not (end < self.n and (self.text[end].isalnum()
                                                                          or self.text[end] in "_.$")):
            self.pos = end
            return True
        return False

    def expect(self, s: str, what: str | None = None) -> None:
        if not self.accept(s):
            raise self.error(f"expected {what or repr(s)}, found {self.found()}")

    def match(self, rx: re.Pattern[str]) -> re.Match[str] | None:
        self.ws()
        m = rx.match(self.text, self.pos)
        if m:
            self.pos = m.end()
        return m

    def need(self, rx: re.Pattern[str], what: str) -> re.Match[str]:
        m = self.match(rx)
        if m is None:
            raise self.error(f"expected {what}, found {self.found()}")
        return m

    def at_end(self) -> bool:
        self.ws()
        return self.pos >= self.n


def unescape(s: str) -> str:
    """An MLIR string literal's text, quotes included, as a Python str."""
    def one(m: re.Match[str]) -> str:
        c = m.group(1)
        return {"n": "\n", "t": "\t", "\\": "\\", '"': '"'}.get(c) or chr(int(c, 16))
    return _ESC.sub(one, s[1:-1])


def balanced(cur: Cursor, open_: str, close: str) -> str:
    """Skips from an `open_` just consumed to its matching `close` (strings and nesting respected)."""
    start, depth, pos, text = cur.pos, 1, cur.pos, cur.text
    while pos < cur.n:
        c = text[pos]
        if c == '"':
            m = _STRING.match(text, pos)
            if not m:
                raise cur.error("unterminated string", pos)
            pos = m.end()
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                cur.pos = pos + 1
                return text[start:pos]
        elif c == "-" and open_ == "<" and text.startswith("->", pos):
            pos += 1  # '->' inside `<...>` is not a closing bracket
        pos += 1
    raise cur.error(f"expected '{close}' to close this", start - 1)
