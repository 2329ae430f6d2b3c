"""Writes a Module in XLA's HLO text format; `parse_hlo(module_to_text(m)) == m`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .attrs import attr_to_text, quote
from .opcodes import Opcode
from .shape import Shape

if TYPE_CHECKING:  # the IR's classes import this module to print themselves
    from .ir import Computation, Instruction, Module

# Texts people read (the report, pass records, dumps) show constants of more elements as `{...}`,
# as XLA's dumps do: a model's weights printed in full cost seconds per print and nobody reads them.
DISPLAY_LITERAL_LIMIT = 64


def _scalar_text(v: Any, kind: str) -> str:  # a numpy scalar of any element type
    if kind == "pred":
        return "true" if v else "false"
    if kind in ("s", "u"):
        return str(int(v))
    if kind == "c":
        return f"({_scalar_text(np.float64(v.real), 'f')}, {_scalar_text(np.float64(v.imag), 'f')})"
    f = float(v)
    if np.isnan(f):
        return "-nan" if np.signbit(f) else "nan"
    if np.isinf(f):
        return "-inf" if f < 0 else "inf"
    # numpy prints the shortest text that reads back to the same value in v's precision.
    text = str(v)
    return text[:-2] if text.endswith(".0") else text


def _printable(lit: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Narrow floats (f16, bf16, f8) print through f32, which holds them exactly."""
    if lit.dtype.kind in "fV" and lit.dtype.itemsize < 4 or lit.dtype.name.startswith(("bfloat", "float8", "float4")):
        return lit.astype(np.float32)
    return lit


def literal_text(lit: npt.NDArray[Any] | None, shape: Shape) -> str:
    """`5`, `{1, 2}`, `{ { 1, 2 }, { 3, 4 } }`; `{...}` for an elided value."""
    if lit is None:
        return "{...}"
    kind = shape.element_type.kind
    lit = _printable(lit)
    if lit.ndim == 0:
        return _scalar_text(lit[()], kind)
    texts = [_scalar_text(x, kind) for x in lit.reshape(-1)]
    for axis, d in enumerate(reversed(lit.shape)):
        inner = axis == 0 and lit.ndim == 1
        groups = max(1, len(texts) // d) if d else max(1, len(texts))
        if d == 0:
            texts = ["{}"] * (int(np.prod(lit.shape[:lit.ndim - axis - 1])) or 1)
            continue
        texts = [("{" if inner else "{ ") + ", ".join(texts[i * d:(i + 1) * d]) + ("}" if inner else " }")
                 for i in range(groups)]
    return texts[0]


def _literal_for_print(instr: Instruction, literal_limit: int | None) -> str:
    if literal_limit is not None and instr.literal is not None and instr.literal.size > literal_limit:
        return "{...}"
    return literal_text(instr.literal, instr.shape)


def instruction_to_text(instr: Instruction, *, metadata: bool = True, root: bool = False,
                        operand_shapes: bool = False, literal_limit: int | None = None) -> str:
    """One instruction's line; constants of more than `literal_limit` elements as `{...}`."""
    if instr.opcode is Opcode.CONSTANT:
        args = _literal_for_print(instr, literal_limit)
    elif instr.opcode is Opcode.PARAMETER:
        args = str(instr.parameter_number)
    elif operand_shapes:
        args = ", ".join(f"{o.shape.to_text()} %{o.name}" for o in instr.operands)
    else:
        args = ", ".join("%" + o.name for o in instr.operands)
    parts = [f"{'ROOT ' if root else ''}%{instr.name} = {instr.shape.to_text()} {instr.opcode.value}({args})"]
    for key, v in instr.attrs.items():
        parts.append(f"{key}={attr_to_text(key, v)}")
    if metadata and instr.metadata is not None:
        parts.append(f"metadata={instr.metadata.to_text()}")
    return ", ".join(parts)


def computation_to_text(comp: Computation, *, metadata: bool = True, literal_limit: int | None = None) -> str:
    params = ", ".join(f"{p.name}: {p.shape.to_text(layout=False)}" for p in comp.parameters)
    head = f"{'ENTRY ' if comp.is_entry else ''}%{comp.name} ({params}) -> {comp.root.shape.to_text(layout=False)} {{"
    lines = [head]
    for instr in comp.instructions:
        lines.append("  " + instruction_to_text(instr, metadata=metadata, root=instr is comp.root,
                                                literal_limit=literal_limit))
    tail = "}"
    for k, v in comp.attrs.items():
        tail += f", {k}={attr_to_text(k, v)}"
    lines.append(tail)
    return "\n".join(lines)


def _layout_text(shape: Shape) -> str:
    """Shape with its layout, defaulting to row-major as XLA's entry_computation_layout does."""
    if shape.tuple_shapes is not None:
        return "(" + ", ".join(_layout_text(s) for s in shape.tuple_shapes) + ")"
    if shape.rank == 0:  # XLA writes scalars without a layout: f32[], never f32[]{}
        return Shape(shape.dtype, ()).to_text()
    if shape.layout is None and shape.element_type.name != "token":
        shape = Shape(shape.dtype, shape.dims, tuple(range(shape.rank - 1, -1, -1)), None, shape.dynamic)
    return shape.to_text()


def module_to_text(module: Module, *, metadata: bool = True, debug_tables: bool = True,
                   literal_limit: int | None = None) -> str:
    entry = module.entry
    params = ", ".join(_layout_text(p.shape) for p in entry.parameters)
    ecl = "{(" + params + ")->" + _layout_text(entry.root.shape) + "}"
    header = f"HloModule {module.name}"
    attrs = list(module.attrs.items())
    # XLA prints is_scheduled first, then the layout, then the rest.
    for k, v in attrs:
        if k == "is_scheduled":
            header += f", {k}={attr_to_text(k, v)}"
    header += f", entry_computation_layout={ecl}"
    for k, v in attrs:
        if k != "is_scheduled":
            header += f", {k}={attr_to_text(k, v)}"
    out = [header, ""]
    d = module.debug
    if debug_tables and d:
        for title, names in (("FileNames", d.file_names), ("FunctionNames", d.function_names)):
            if names:
                out.append(title)
                out.extend(f"{k} {quote(v)}" for k, v in names.items())
                out.append("")
        for title, records in (("FileLocations", d.file_locations), ("StackFrames", d.stack_frames)):
            if records:
                out.append(title)
                out.extend(f"{k} {{" + " ".join(f"{fk}={fv}" for fk, fv in v.items()) + "}" for k, v in records.items())
                out.append("")
        out.append("")
    for comp in module.computations:
        out.append(computation_to_text(comp, metadata=metadata, literal_limit=literal_limit))
        out.append("")
    return "\n".join(out)
