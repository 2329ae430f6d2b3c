"""A cursor over MLIR text: whitespace and `//` comments skipped, 1-based line and column for errors."""
from __future__ import annotations

import re
from typing import cast

from ..scanner import HloParseError, Scanner

MAX_NESTING = 64  # regions, lists and types deeper than this are refused, not recursed into

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_ESC = re.compile(r"\\(\\|\"|n|t|[0-9a-fA-F]{2})")
_TOKEN = re.compile(r"[\w.%#@$\-]+|\S")


class StableHloParseError(HloParseError):
    """Malformed StableHLO text, or an op the reader cannot turn into HLO; formatted as HloParseError
    (message, line, column, the source line and a caret)."""


class Cursor(Scanner):
    ERROR = StableHloParseError

    def error(self, msg: str, pos: int | None = None) -> StableHloParseError:
        return cast(StableHloParseError, super().error(msg, pos))

    def found(self) -> str:
        self.ws()
        m = _TOKEN.match(self.text, self.pos)
        return f"'{m.group(0)[:30]}'" if m else "end of text"

    def next_char(self) -> str:
        """The next character after whitespace ('' at the end)."""
        self.ws()
        return self.text[self.pos] if self.pos < self.n else ""

    def accept_word(self, word: str) -> bool:
        """`word` as a whole identifier (not the start of a longer one)."""
        self.ws()
        end = self.pos + len(word)
        if self.text.startswith(word, self.pos) and not (end < self.n and (self.text[end].isalnum()
                                                                          or self.text[end] in "_.$")):
            self.pos = end
            return True
        return False

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
