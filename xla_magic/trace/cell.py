"""Tracing a notebook cell of Python/numpy code (what `%%hlo --trace` runs).

The cell runs once, with every numpy array it reads from the notebook's namespace replaced by a
traced parameter; the arrays it assigns (and its last expression, if it ends with one) become
the outputs. Parameters the cell never uses are dropped, so a name the cell rebinds before
reading, or one that only a nested function reads, costs nothing. Source lines in the metadata
are the cell's own (`filename`, default "<cell>").

For the magic:

    from xla_magic.trace.cell import trace_cell, is_python_cell
    traced = trace_cell(source, shell.user_ns)
    module, input_names, output_names = traced            # as a 3-tuple
    exe = xm.compile(module, target="cpu")
    results = exe(*[shell.user_ns[n] for n in input_names])
    shell.user_ns.update(traced.assign(results))         # outputs (and "_" for the last expression)
    shell.user_ns.update(traced.values)                  # other names the cell bound (ints, functions)
    fn = traced.compile(target)                          # `-n NAME`: fn(**arrays) or fn(*arrays)
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..hlo.ir import Computation, Instruction, Module
from ..hlo.opcodes import Opcode
from ..hlo.verifier import verify_module
from .builder import ComputationBuilder, ModuleBuilder, active
from .errors import TracingError
from .jit import hlo_name, leaf_spec
from .primitives import local, shape_of
from .promotion import as_tracer
from .pytree import TreeDef, flatten, unflatten
from .tracer import Tracer

EXPRESSION = "_"  # the output name of a cell's last expression (IPython's name for the last result)


def is_python_cell(source: str) -> bool:
    """True when `source` is Python rather than HLO text (HLO never parses as Python)."""
    stripped = source.lstrip()
    if stripped.startswith(("HloModule", "ENTRY", "%")):
        return False
    try:
        ast.parse(source)
    except SyntaxError:
        return False
    return True


@dataclass
class TracedCell:
    """A traced cell. Unpacks as (module, input_names, output_names).

    `output_names` has one entry per module output: an assigned name, "_" for the last
    expression, or `name.0` / `name.key` for the leaves of a tuple or dict the cell assigned.
    `values` holds the names the cell bound to things that are not traced arrays (numbers,
    functions, constant arrays), as running the cell would have."""

    module: Module
    input_names: list[str]
    output_names: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    _trees: list[tuple[str, TreeDef]] = field(default_factory=list, repr=False)

    def __iter__(self):
        return iter((self.module, self.input_names, self.output_names))

    def assign(self, results) -> dict[str, Any]:
        """Name -> value for the outputs of one run (`results` as the executable returns them)."""
        flat = [results] if len(self.output_names) == 1 and not isinstance(results, (tuple, list)) \
            else list(results)
        out, k = {}, 0
        for name, tree in self._trees:
            n = tree.num_leaves
            out[name] = unflatten(tree, flat[k:k + n])
            k += n
        return out

    def compile(self, target: str = "cpu", **options) -> CellFunction:
        from ..api import compile as compile_module

        return CellFunction(compile_module(self.module, target=target, **options), self)


class CellFunction:
    """A compiled cell to call again: positional arrays in `input_names` order, or by name.
    Returns name -> value, as `TracedCell.assign`."""

    def __init__(self, executable, traced: TracedCell):
        self.executable = executable
        self.traced = traced
        self.input_names = traced.input_names
        self.output_names = traced.output_names

    @property
    def report(self):
        return self.executable.report

    def __call__(self, *args, **kwargs) -> dict[str, Any]:
        if args and kwargs:
            raise TypeError("pass the inputs either positionally or by name, not both")
        if kwargs:
            missing = [n for n in self.input_names if n not in kwargs]
            extra = sorted(set(kwargs) - set(self.input_names))
            if missing or extra:
                raise TypeError(f"inputs are {self.input_names}; missing {missing}, unexpected {extra}")
            args = tuple(kwargs[n] for n in self.input_names)
        return self.traced.assign(self.executable(*args))

    def __repr__(self) -> str:
        return f"<compiled cell ({', '.join(self.input_names)}) -> ({', '.join(self.output_names)})>"


def _is_input(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype != object or isinstance(value, np.generic)


def _loaded_names(tree: ast.AST) -> dict[str, int]:
    """Names the cell reads -> the first line reading each, in the order they are first read."""
    first: dict[str, tuple[int, int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            at = (node.lineno, node.col_offset)
            first[node.id] = min(first.get(node.id, at), at)
    return {name: at[0] for name, at in sorted(first.items(), key=lambda kv: kv[1])}


def _assigned_names(body: list[ast.stmt]) -> list[str]:
    """Names the cell's statements bind, in order (loop and with targets included; names local to
    nested functions are listed too, and dropped later because the namespace never holds them)."""
    seen, out = set(), []

    def add(name: str) -> None:
        if name not in seen:
            seen.add(name)
            out.append(name)

    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is stmt:
                add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                add(node.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    add((alias.asname or alias.name).split(".")[0])
    return out


def _drop_unused_parameters(comp: Computation, names: list[str]) -> list[str]:
    """Removes parameters nothing reads and renumbers the rest; returns the kept names."""
    used = {id(o) for i in comp.instructions for o in i.operands} | {id(comp.root)}
    kept: list[Instruction] = []
    keep_names: list[str] = []
    for p, name in zip(comp.parameters, names):
        if id(p) in used:
            p.parameter_number = len(kept)
            kept.append(p)
            keep_names.append(name)
    dropped = {id(p) for p in comp.parameters} - {id(p) for p in kept}
    comp.instructions = [i for i in comp.instructions if id(i) not in dropped]
    return keep_names


def trace_cell(source: str, namespace: dict, filename: str = "<cell>") -> TracedCell:
    """Traces a cell of numpy code against `namespace` (the notebook's variables; not modified)."""
    tree = ast.parse(source, filename)
    last_expr = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    body = ast.Module(body=tree.body[:-1] if last_expr else tree.body, type_ignores=[])
    reads = _loaded_names(tree)
    candidates = [n for n in reads if n in namespace and _is_input(namespace[n])]
    mb = ModuleBuilder("cell")
    entry = ComputationBuilder(mb, what="the cell")
    ns = dict(namespace)
    with active(entry):
        for name in candidates:
            spec = leaf_spec(namespace[name])
            with mb.op(name, (filename, reads[name])):
                p = entry.parameter(shape_of(spec.dtype, spec.shape), hlo_name(name))
            ns[name] = Tracer(entry, p)
        exec(compile(body, filename, "exec"), ns)
        results: list[tuple[str, Any]] = []
        for name in _assigned_names(body.body):
            if name in ns and _holds_tracer(ns[name]):
                results.append((name, ns[name]))
        if last_expr is not None:
            value = eval(compile(ast.Expression(last_expr.value), filename, "eval"), ns)
            if _holds_tracer(value):
                results.append((EXPRESSION, value))
        if not results:
            raise TracingError("the cell computes no traced arrays: assign results to names, or end the cell with "
                               "an expression, that uses the notebook's arrays")
        output_names: list[str] = []
        trees: list[tuple[str, TreeDef]] = []
        instrs: list[Instruction] = []
        last_line = max((getattr(n, "end_lineno", 0) or 0) for n in tree.body) if tree.body else 1
        with mb.op("output", (filename, last_line)):
            for name, value in results:
                leaves, tdef, labels = flatten(value, name)
                trees.append((name, tdef))
                output_names.extend(labels)
                instrs.extend(local(as_tracer(v)) for v in leaves)
            root = instrs[0] if len(instrs) == 1 else entry.emit(Opcode.TUPLE, instrs)
    comp = entry.finish(root, "main", is_entry=True)
    input_names = _drop_unused_parameters(comp, candidates)
    module = Module("cell", list(mb.computations), comp)
    verify_module(module)
    values = {n: ns[n] for n in _assigned_names(body.body) if n in ns and not _holds_tracer(ns[n])}
    return TracedCell(module, input_names, output_names, values, trees)


def _holds_tracer(value) -> bool:
    if isinstance(value, Tracer):
        return True
    if isinstance(value, (tuple, list)):
        return bool(value) and all(_holds_tracer(v) or isinstance(v, (np.ndarray, np.generic)) for v in value) \
            and any(_holds_tracer(v) for v in value)
    if isinstance(value, dict):
        return bool(value) and any(_holds_tracer(v) for v in value.values()) and \
            all(_holds_tracer(v) or isinstance(v, (np.ndarray, np.generic)) for v in value.values())
    return False
