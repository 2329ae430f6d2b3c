"""The text formats a program may come in, told apart by content, and one entry point that reads both.

HLO text is what XLA prints (`HloModule m ...`, or computations alone); StableHLO is MLIR text
(`module @jit_f { func.func public @main(...) ... stablehlo.add ... }`), what
`jax.jit(f).lower(x).as_text()` prints."""
from __future__ import annotations

from typing import Literal

from .elided import ElidedMode
from .ir import Module

TextFormat = Literal["hlo", "stablehlo"]
ElidedFill = ElidedMode | None


def text_format(text: str) -> TextFormat:
    """"stablehlo" for MLIR text, "hlo" otherwise (HLO's own errors then say what is wrong)."""
    from .stablehlo import looks_like_stablehlo

    return "stablehlo" if looks_like_stablehlo(text) else "hlo"


def parse_text(text: str, verify: bool = True, elided: ElidedFill = None) -> Module:
    """The module of HLO or StableHLO text. `elided` fills HLO constants printed as `{...}`
    ("random" or "zeros"); without it such a constant is an error naming it."""
    if text_format(text) == "stablehlo":
        from .stablehlo import parse_stablehlo

        return parse_stablehlo(text, verify=verify)
    from .parser import parse_hlo

    return parse_hlo(text, verify=verify, elided=elided)
