"""The pass pipeline: a plain list of passes, a capped fixed point for the simplification
group, and a record of what every pass did (the notebook's "what did the optimizer do")."""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..hlo.ir import Module, clone_module
from ..hlo.printer import DISPLAY_LITERAL_LIMIT

if TYPE_CHECKING:
    from .fusion import FusionPlan

# A pass mutates the module in place and returns whether it changed (fusion also its plan).
Pass = Callable[[Module], "bool | tuple[bool, FusionPlan]"]
PassGroup = list[tuple[str, Pass]]  # run to a capped fixed point
Pipeline = list[tuple[str, "Pass | PassGroup"]]


@dataclass
class PassRecord:
    name: str
    changed: bool
    seconds: float
    text: str  # the module after the pass
    info: FusionPlan | None = None

    def __repr__(self) -> str:
        return f"<{self.name}: {'changed' if self.changed else 'no change'}, {self.seconds * 1e3:.2f} ms>"


@dataclass
class PipelineOptions:
    passes: Sequence[str] | None = None  # run only these (by name), in pipeline order
    skip: Sequence[str] = ()
    dump_to: str | None = None  # write the module after every pass there, like --xla_dump_to
    verify: bool = False  # run the verifier after every pass (the tests do)
    max_iterations: int = 8  # cap of the simplification fixed point
    record_text: bool = True
    extra: dict[str, object] = field(default_factory=dict)


def _simplification_group() -> PassGroup:
    from .cse import cse
    from .dce import dce
    from .dot import canonicalize_dots
    from .fold import fold_constants
    from .simplify import simplify

    return [("algsimp", simplify), ("constant-folding", fold_constants), ("dot-canonicalizer", canonicalize_dots),
            ("cse", cse), ("dce", dce)]


def expanders() -> list[tuple[str, Pass]]:
    """The passes that rewrite ops no code generator emits into plain HLO, in pipeline order."""
    from .batch_norm import expand_batch_norm
    from .rng_bits import expand_rng_bit_generators

    return [("rng-bit-generator-expander", expand_rng_bit_generators),  # the generators as plain HLO
            ("batchnorm-expander", expand_batch_norm)]  # batch norms as reduces and elementwise ops


def expand_only(module: Module) -> Module:
    """`module` with only the expanders run (on a copy, when it has an op they expand): what a
    code generator compiles when the optimizer is off."""
    from ..hlo.opcodes import Opcode
    from .batch_norm import EXPANDED

    ops = EXPANDED | {Opcode.RNG_BIT_GENERATOR}
    if not any(i.opcode in ops for c in module.computations for i in c.instructions):
        return module
    copy = clone_module(module)
    for _, fn in expanders():
        fn(copy)
    return copy


def default_pipeline(target: str = "cpu", on_plan: Callable[[FusionPlan], None] | None = None) -> Pipeline:
    """Target-independent passes first; a list entry is a group run to a capped fixed point.
    `on_plan` receives the fusion pass's plan (the backends and the report need it)."""
    from .conditional import conditional_to_select
    from .dce import dce
    from .fusion import PRESETS, fuse
    from .inline import defuse, inline_calls
    from .loops import while_loop_optimizations

    config = PRESETS.get(target, PRESETS["cpu"])
    from .layout import decompose_layout_bitcasts

    def fusion(m: Module) -> tuple[bool, FusionPlan]:
        changed, plan = fuse(m, config)
        if on_plan is not None:
            on_plan(plan)
        return changed, plan

    return [
        ("bitcast-decomposer", decompose_layout_bitcasts),
        ("defuser", defuse),  # fusions in the input (XLA's optimized dumps) are decided afresh
        ("call-inliner", inline_calls),
        *expanders(),
        ("simplification", _simplification_group()),
        ("while-loop-optimizer", while_loop_optimizations),
        ("conditional-to-select", conditional_to_select),
        ("simplification-2", _simplification_group()),
        ("fusion", fusion),
        ("dce", dce),
    ]


def pass_names(pipeline: Pipeline) -> list[str]:
    out: list[str] = []
    for name, p in pipeline:
        out.extend(n for n, _ in p) if isinstance(p, list) else out.append(name)
    return out


def run_pipeline(module: Module, pipeline: Pipeline, options: PipelineOptions) -> list[PassRecord]:
    records: list[PassRecord] = []
    only = set(options.passes) if options.passes is not None else None
    known = set(pass_names(pipeline)) | {name for name, _ in pipeline}
    for n in list(only or ()) + list(options.skip):
        if n not in known:
            raise ValueError(f"unknown pass {n!r}; the pipeline has {', '.join(sorted(known))}")
    if options.dump_to:
        os.makedirs(options.dump_to, exist_ok=True)
    shown = DISPLAY_LITERAL_LIMIT  # records are read: a model's weights print as {...}, as in XLA's dumps
    last_text = [module.to_text(literal_limit=shown) if options.record_text else ""]

    def wanted(name: str) -> bool:
        return name not in options.skip and (only is None or name in only)

    def run_one(name: str, fn: Pass) -> bool:
        t0 = time.perf_counter()
        result = fn(module)
        changed, info = result if isinstance(result, tuple) else (result, None)
        changed = bool(changed)
        dt = time.perf_counter() - t0
        if options.verify:
            from ..hlo.verifier import verify_module

            verify_module(module)
        text = module.to_text(literal_limit=shown) if options.record_text and changed else last_text[0]
        last_text[0] = text
        records.append(PassRecord(name, changed, dt, text, info))
        if options.dump_to:
            fname = f"{len(records):03d}.{name}.{'changed' if changed else 'same'}.hlo"
            with open(os.path.join(options.dump_to, fname), "w", encoding="utf-8") as fh:
                fh.write(text or module.to_text(literal_limit=shown))
        return changed

    for name, p in pipeline:
        if isinstance(p, list):
            # A group runs when it, or any pass in it, is wanted (then only the wanted ones).
            if name in options.skip or (only is not None and name not in only and
                                        not any(n in only for n, _ in p)):
                continue
            for _ in range(options.max_iterations):
                changed = False
                for sub_name, fn in p:
                    if sub_name not in options.skip and (only is None or name in only or sub_name in only):
                        changed |= run_one(sub_name, fn)
                if not changed:
                    break
        elif wanted(name):
            run_one(name, p)
    return records


def optimize(module: Module, target: str = "cpu", passes: Sequence[str] | None = None, skip: Sequence[str] = (),
             dump_to: str | None = None, verify: bool = False, **extra: object) -> tuple[Module, list[PassRecord]]:
    """Runs the default pipeline on a copy of `module`; returns (optimized module, records)."""
    module, records, _ = optimize_with_plan(module, target, passes, skip, dump_to, verify, **extra)
    return module, records


def optimize_with_plan(module: Module, target: str = "cpu", passes: Sequence[str] | None = None,
                       skip: Sequence[str] = (), dump_to: str | None = None, verify: bool = False,
                       **extra: object) -> tuple[Module, list[PassRecord], FusionPlan | None]:
    """`optimize`, and the fusion plan (None when the fusion pass did not run)."""
    module = clone_module(module)
    plans: list[FusionPlan] = []
    opts = PipelineOptions(passes=passes, skip=tuple(skip), dump_to=dump_to, verify=verify, extra=extra)
    records = run_pipeline(module, default_pipeline(target, plans.append), opts)
    return module, records, plans[-1] if plans else None
