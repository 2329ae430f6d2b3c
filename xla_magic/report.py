"""What compiling a module produced and measured, for people to read: plain data. It is built
from the optimizer's `Lowered` stage and the backend's texts, and drawn by `xla_magic.display`
through a renderer that the package installs (so this module imports no rendering code)."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from .hlo.printer import DISPLAY_LITERAL_LIMIT

if TYPE_CHECKING:
    import numpy as np

    from .backends.base import Executable
    from .bench import Timings
    from .passes.buffers import BufferAssignment
    from .passes.cost import Cost
    from .passes.fusion import FusionPlan
    from .passes.pipeline import PassRecord
    from .passes.stage import Lowered

MimeBundle = dict[str, object]
Renderer = Callable[["Report"], MimeBundle]
_RENDERER: list[Renderer] = []


def set_renderer(render: Renderer) -> None:
    """What `Report._repr_mimebundle_` draws with (xla_magic installs `display.mimebundle`)."""
    _RENDERER[:] = [render]


# What a Latency tab's benchmark runs on: arrays, or a function returning them when clicked.
BenchArgs: TypeAlias = "Sequence[np.ndarray] | Callable[[], Sequence[np.ndarray]]"


@dataclass
class View:
    """How a Report displays: the tabs it opens on, and what its Latency tab may run."""

    show: list[str] | None = None
    exe: Executable | None = None
    args: BenchArgs | None = None


@dataclass
class Report:
    target: str
    hlo_before: str
    hlo_after: str
    passes: list[PassRecord] = field(default_factory=list)  # one record per pass run: name, changed, seconds, text
    fusion_plan: FusionPlan | None = None
    buffers: BufferAssignment | None = None
    cost: Cost | None = None
    # llvm_ir, llvm_ir_opt, asm, cuda, ptx, sass: produced on first read (backends.artifacts.Artifacts)
    artifacts: Mapping[str, str] = field(default_factory=dict)
    compile_seconds: float = 0.0
    # Seconds per step of the compile (cpu: passes, ir, cache, optimize, codegen, link) and the
    # kernels whose machine code came from a cache instead of the compiler.
    compile_phases: dict[str, float] = field(default_factory=dict)
    cached_kernels: list[str] = field(default_factory=list)
    timings: Timings | None = None  # filled by xla_magic.benchmark
    source_format: str = "hlo"  # what the program came as: "hlo", "stablehlo" or "module"
    source_text: str | None = None  # the StableHLO text as given (the HLO read from it is hlo_before)
    xla_hlo: str | None = None  # XLA's own optimized module, when a jax Compiled brought it
    # Display state, not compile results: the view the magic asked for (tab, executable, arguments)
    # and a memo of costly renderings. Not compared, not copied by dataclasses.replace.
    view: View = field(default_factory=lambda: View(), init=False, repr=False, compare=False)
    display_cache: dict[object, object] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def of(cls, lowered: Lowered, artifacts: Mapping[str, str] | None = None) -> Report:
        """The report of a lowered module (the compile time is added once the backend is done)."""
        shown = DISPLAY_LITERAL_LIMIT  # a model's weights print as {...}, as in XLA's dumps
        return cls(lowered.target, lowered.original.to_text(literal_limit=shown),
                   lowered.module.to_text(literal_limit=shown), passes=list(lowered.passes),
                   fusion_plan=lowered.fusion_plan, buffers=lowered.buffers, cost=lowered.cost,
                   artifacts=artifacts if artifacts is not None else {})

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> MimeBundle:
        if not _RENDERER:
            return {"text/plain": repr(self)}
        return _RENDERER[0](self)

    def __repr__(self) -> str:
        n_pass = sum(1 for p in self.passes if p.changed)
        return (f"<Report target={self.target}: {len(self.passes)} passes ({n_pass} changed), "
                f"compiled in {self.compile_seconds * 1e3:.1f} ms>")
