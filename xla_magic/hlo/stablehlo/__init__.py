"""Reading StableHLO (MLIR text, as `jax.jit(f).lower(x).as_text()` prints it) into HLO modules."""
from __future__ import annotations

import re

from .cursor import StableHloParseError
from .reader import parse_stablehlo

_MLIR = re.compile(r"\s*(?:#\w+\s*=|module\b|func\.func\b|\"builtin\.module\"|\"func\.func\")")
_HLO = re.compile(r"\s*HloModule\b")


def looks_like_stablehlo(text: str) -> bool:
    """Whether `text` is MLIR (a module, func.func, stablehlo ops, %arg values) rather than HLO text."""
    if not isinstance(text, str) or _HLO.match(text):
        return False
    head = re.sub(r"//[^\n]*", "", text[:4000])
    return bool(_MLIR.match(head) or "stablehlo." in head or "%arg" in head and "func." in head)


__all__ = ["StableHloParseError", "looks_like_stablehlo", "parse_stablehlo"]
