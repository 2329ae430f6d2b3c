"""What goes wrong in an ahead-of-time build."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .result import AotResult


class AotError(RuntimeError):
    """The module cannot be compiled ahead of time, or building the library/executable failed."""


class NoCompilerError(AotError):
    """No C compiler: NAME.o and NAME.h were written, the library and executable were not."""

    def __init__(self, msg: str, result: AotResult):
        super().__init__(msg)
        self.result = result
