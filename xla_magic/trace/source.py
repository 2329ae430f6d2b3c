"""Where in the user's code an operation was called from: the innermost frame outside xla_magic
and numpy, so metadata points at the user's line, not at the tracer's machinery."""
from __future__ import annotations

import os
import sys
from types import FrameType

import numpy as np

_SKIP_DIRS = tuple(
    os.path.dirname(os.path.abspath(p)) + os.sep
    for p in (os.path.dirname(__file__), np.__file__)
)
_SKIP_FILES = ("<__array_function__ internals>",)


def _skipped(filename: str) -> bool:
    return filename.startswith(_SKIP_DIRS) or filename in _SKIP_FILES


def user_location() -> tuple[str, int] | None:
    """(file, line) of the nearest caller outside xla_magic and numpy, or None."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _skipped(filename):
            return filename, frame.f_lineno
        frame = frame.f_back
    return None
