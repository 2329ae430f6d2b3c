"""Programs as users hand them over: a Module, HLO or StableHLO text, or a jax stage object.

A jax `Lowered` (`jax.jit(f).lower(x)`) is read through its StableHLO text, a jax `Compiled`
(`.compile()`) through XLA's optimized HLO, which is kept so the report can show XLA's module
beside ours. jax objects are recognised by their type's module and read through their public
`as_text`, so jax is never imported here: a user without jax pays nothing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

from .hlo.formats import ElidedFill, parse_text, text_format
from .hlo.ir import Module

Origin = Literal["module", "text", "jax.Lowered", "jax.Compiled"]


@dataclass(frozen=True)
class Source:
    """What was handed over, before parsing: a Module, or text and where it came from."""

    origin: Origin
    text: str | None = None  # None for a Module handed over as such
    given: Module | None = None
    xla_hlo: str | None = None  # XLA's own optimized module, from a jax Compiled

    @property
    def format(self) -> Literal["module", "hlo", "stablehlo"]:
        return "module" if self.text is None else text_format(self.text)

    def module(self, verify: bool = True, elided: ElidedFill = None) -> Module:
        if self.given is not None:
            return self.given
        assert self.text is not None  # a Source holds a Module or text
        return parse_text(self.text, verify, elided)


def jax_stage(obj: object) -> Literal["Lowered", "Compiled"] | None:
    """Which jax stage `obj` is (jax.stages.Lowered / Compiled), without importing jax."""
    for base in type(obj).__mro__:
        if base.__name__ in ("Lowered", "Compiled") and base.__module__.split(".")[0] == "jax":
            return "Lowered" if base.__name__ == "Lowered" else "Compiled"
    return None


class _Stage(Protocol):
    def as_text(self, *args: Any, **kwargs: Any) -> str: ...


def _lowered_text(obj: _Stage) -> str:
    try:
        return str(obj.as_text(debug_info=True))  # source locations become the report's source lines
    except TypeError:  # a jax without debug_info
        return str(obj.as_text())


def source_of(obj: object) -> Source:
    """`obj` as a Source; TypeError naming what is accepted for anything else."""
    if isinstance(obj, Source):  # read already (the jax text is asked for once)
        return obj
    if isinstance(obj, Module):
        return Source("module", given=obj)
    if isinstance(obj, str):
        return Source("text", obj)
    stage = jax_stage(obj)
    if stage == "Lowered":
        return Source("jax.Lowered", _lowered_text(cast(_Stage, obj)))
    if stage == "Compiled":
        text = str(cast(_Stage, obj).as_text())
        return Source("jax.Compiled", text, xla_hlo=text)
    raise TypeError("expected HLO or StableHLO text, a Module, or a jax Lowered/Compiled object "
                    f"(jax.jit(f).lower(x) or .compile()), got {type(obj).__name__}")


def read_module(obj: object, verify: bool = True, elided: ElidedFill = None) -> Module:
    """The Module of anything `source_of` takes."""
    return source_of(obj).module(verify, elided)
