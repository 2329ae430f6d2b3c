"""`trace(fn, *example_args) -> Module` and the `jit` decorator.

A function is traced by calling it once with Tracers in place of its array arguments (every leaf
of tuple/list/dict arguments, and Python numbers, which stay weakly typed); what it returns
becomes the entry's root. `jit` keeps one compiled executable per argument signature: the
shapes and dtypes of the array leaves, the containers' structure, and the static arguments'
values. As in JAX, the Python body runs only when a new signature is traced."""
from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..hlo.ir import Module
from ..hlo.opcodes import Opcode
from ..hlo.verifier import verify_module
from .builder import ComputationBuilder, ModuleBuilder, active
from .errors import TracingError
from .primitives import local, shape_of
from .promotion import DEFAULT, PY_SCALARS, as_tracer
from .pytree import TreeDef, flatten, unflatten
from .tracer import Tracer


def hlo_name(text: object, fallback: str = "x") -> str:
    """`text` as an HLO identifier ([A-Za-z_][A-Za-z0-9_.-]*)."""
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", str(text)).strip(".")
    if not name or not (name[0].isalpha() or name[0] == "_"):
        name = f"{fallback}_{name}" if name else fallback
    return name


@dataclass(frozen=True)
class ArgSpec:
    """What a traced argument leaf looks like: shape, dtype, and whether it was a Python number."""

    shape: tuple[int, ...]
    dtype: np.dtype
    weak: bool = False


def leaf_spec(x) -> ArgSpec:
    if type(x) in PY_SCALARS:
        return ArgSpec((), DEFAULT[type(x)], True)
    if isinstance(x, np.ndarray | np.generic):
        return ArgSpec(tuple(x.shape), x.dtype)
    if hasattr(x, "shape") and hasattr(x, "dtype"):  # jax.ShapeDtypeStruct-like placeholders
        return ArgSpec(tuple(int(d) for d in x.shape), np.dtype(x.dtype))
    if isinstance(x, Tracer):
        raise TracingError("a traced array was passed to a jitted function inside another trace; call the "
                           "inner function's Python code directly (nested jit is not needed)")
    raise TypeError(f"argument of type {type(x).__name__} cannot be traced: pass arrays or numbers, or mark "
                    "the argument static with static_argnums= / static_argnames=")


def leaf_value(x, spec: ArgSpec) -> np.ndarray:
    """The array an executable receives for an argument leaf."""
    return x if type(x) is np.ndarray else np.asarray(x, dtype=spec.dtype)


@dataclass
class Traced:
    """A traced function: the module, and how to map Python arguments and results onto it."""

    module: Module
    in_names: list[str]
    in_specs: list[ArgSpec]
    out_tree: TreeDef
    single_output: bool


class _Signature:
    """Splits a call's arguments into static values and array leaves, by the function's signature."""

    def __init__(self, fn: Callable, static_argnums: Sequence[int], static_argnames: Sequence[str]):
        self.sig: inspect.Signature | None
        try:
            self.sig = inspect.signature(fn)
        except (TypeError, ValueError):
            self.sig = None
        params = list(self.sig.parameters.values()) if self.sig else []
        positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        nums = {int(i) % len(positional) if positional and int(i) < 0 else int(i) for i in static_argnums}
        names = set(static_argnames)
        names |= {positional[i] for i in nums if i < len(positional)}
        nums |= {positional.index(n) for n in names if n in positional}
        self.static_nums, self.static_names = frozenset(nums), frozenset(names)
        self.positional = positional

    def _positional(self, args: tuple):
        """Positional arguments only: no binding needed (the common call, kept cheap)."""
        entries = [(name, a, i in self.static_nums) for i, (name, a) in enumerate(zip(self.positional, args))]

        def rebuild(vals):
            return tuple(vals), {}
        return entries, rebuild

    def split(self, args: tuple, kwargs: dict):
        """(ordered (name, value, static) entries, rebuild(values) -> (args, kwargs))."""
        if self.sig is None:
            entries = [(f"arg{i}", a, i in self.static_nums) for i, a in enumerate(args)]
            entries += [(k, v, k in self.static_names) for k, v in kwargs.items()]
            n = len(args)

            def rebuild_unnamed(vals):
                return tuple(vals[:n]), dict(zip(kwargs, vals[n:]))
            return entries, rebuild_unnamed
        if not kwargs and len(args) <= len(self.positional):
            return self._positional(args)
        try:
            bound = self.sig.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{e}") from None
        entries = []
        pos = 0
        for name, value in bound.arguments.items():
            p = self.sig.parameters[name]
            static = name in self.static_names
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                static = static or pos in self.static_nums
                pos += 1
            entries.append((name, value, static))

        def rebuild(vals):
            for (name, _, _), v in zip(entries, vals):
                bound.arguments[name] = v
            return bound.args, bound.kwargs
        return entries, rebuild


def _key_of(value) -> Any:
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"static argument {value!r:.60} must be hashable (use a tuple instead of a list)") from None
    return (type(value), value)


def trace_function(fn: Callable, args: tuple, kwargs: dict, static_argnums: Sequence[int] = (),
                   static_argnames: Sequence[str] = (), name: str | None = None,
                   signature: _Signature | None = None) -> Traced:
    """Traces `fn(*args, **kwargs)` into a verified Module."""
    signature = signature or _Signature(fn, static_argnums, static_argnames)
    entries, rebuild = signature.split(args, kwargs)
    mb = ModuleBuilder(hlo_name(name or getattr(fn, "__name__", "fn"), "fn"))
    code = getattr(fn, "__code__", None)
    where = (code.co_filename, code.co_firstlineno) if code else None  # parameters and outputs: the def line
    entry = ComputationBuilder(mb, what=f"the traced function {mb.fn_name}")
    in_names, in_specs, values = [], [], []
    with active(entry):
        for arg_name, value, static in entries:
            if static:
                values.append(value)
                continue
            leaves, tree, names = flatten(value, arg_name)
            tracers = []
            for leaf, leaf_name in zip(leaves, names):
                spec = leaf_spec(leaf)
                with mb.op(leaf_name, where):
                    p = entry.parameter(shape_of(spec.dtype, spec.shape), hlo_name(leaf_name))
                tracers.append(Tracer(entry, p, spec.weak))
                in_names.append(leaf_name)
                in_specs.append(spec)
            values.append(unflatten(tree, tracers))
        call_args, call_kwargs = rebuild(values)
        out = fn(*call_args, **call_kwargs)
        with mb.op("output", where):
            leaves, out_tree, _ = flatten(out)
            if not leaves:
                raise TracingError(f"{mb.fn_name} returned no arrays ({out!r:.60}); return the arrays to compute")
            instrs = [local(as_tracer(v)) for v in leaves]
            single = out_tree.kind == "leaf"
            root = instrs[0] if single else entry.emit(Opcode.TUPLE, instrs)
    comp = entry.finish(root, "main", is_entry=True)
    module = Module(f"jit_{mb.fn_name}", list(mb.computations), comp)
    verify_module(module)
    return Traced(module, in_names, in_specs, out_tree, single)


def trace(fn: Callable, *example_args, static_argnums: Sequence[int] = (), static_argnames: Sequence[str] = (),
          **example_kwargs) -> Module:
    """The HLO module of `fn` for arguments like `example_args` (arrays, numbers, or anything with
    .shape and .dtype; tuples, lists and dicts of them)."""
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    if isinstance(static_argnames, str):
        static_argnames = (static_argnames,)
    return trace_function(fn, example_args, example_kwargs, static_argnums, static_argnames).module


# --- jit -------------------------------------------------------------------------------------------

@dataclass
class _Compiled:
    traced: Traced
    executable: Any


class Jitted:
    """A function traced, compiled and cached per argument signature. Call it like the function.

    `.report` is the Report of the executable the last call used; `.lower(*args)` (or `.trace`)
    returns the Module for those arguments without compiling."""

    def __init__(self, fn: Callable, static_argnums: int | Sequence[int] = (),
                 static_argnames: str | Sequence[str] = (),
                 target: str = "cpu", optimize: bool = True, **compile_options):
        if isinstance(static_argnums, int):
            static_argnums = (static_argnums,)
        if isinstance(static_argnames, str):
            static_argnames = (static_argnames,)
        self.fn = fn
        self.target = target
        self.optimize = optimize
        self.compile_options = compile_options
        self._signature = _Signature(fn, static_argnums, static_argnames)
        self._plain = not (static_argnums or static_argnames)
        self._traced: dict[Any, Traced] = {}
        self._compiled: dict[Any, _Compiled] = {}
        self._last: _Compiled | None = None
        functools.update_wrapper(self, fn)

    def _key(self, args: tuple, kwargs: dict) -> tuple[tuple, list]:
        """(cache key, the array leaves in parameter order) of one call."""
        entries, _ = self._signature.split(args, kwargs)
        parts: list[tuple[str, Any, Any]] = []
        leaves: list[Any] = []
        for name, value, static in entries:
            if static:
                parts.append((name, "static", _key_of(value)))
            else:
                vals, tree, _ = flatten(value, name)
                parts.append((name, tree, tuple(leaf_spec(v) for v in vals)))
                leaves.extend(vals)
        return tuple(parts), leaves

    def _traced_for(self, key, args: tuple, kwargs: dict) -> Traced:
        t = self._traced.get(key)
        if t is None:
            t = trace_function(self.fn, args, kwargs, signature=self._signature)
            self._traced[key] = t
        return t

    def lower(self, *args, **kwargs) -> Module:
        """The traced Module for these arguments (cached; nothing is compiled)."""
        return self._traced_for(self._key(args, kwargs)[0], args, kwargs).module

    trace = lower

    def compiled(self, *args, **kwargs):
        """The Executable these arguments run on (traced and compiled when new)."""
        return self._entry(args, kwargs)[0].executable

    def _entry(self, args: tuple, kwargs: dict) -> tuple[_Compiled, list | tuple]:
        """The compiled entry for this call, and the arrays to pass it."""
        leaves: list | tuple
        if self._plain and not kwargs and all(type(a) is np.ndarray for a in args):
            key, leaves = ("arrays", tuple((a.shape, a.dtype) for a in args)), args  # the common case, kept cheap
        else:
            key, leaves = self._key(args, kwargs)
        hit = self._compiled.get(key)
        if hit is None:
            from ..api import compile as compile_module

            traced = self._traced_for(key, args, kwargs)
            exe = compile_module(traced.module, target=self.target, optimize=self.optimize,
                                 **self.compile_options)
            hit = self._compiled[key] = _Compiled(traced, exe)
        if leaves is not args:
            leaves = [leaf_value(v, s) for v, s in zip(leaves, hit.traced.in_specs)]
        return hit, leaves

    def __call__(self, *args, **kwargs):
        entry, leaves = self._entry(args, kwargs)
        self._last = entry
        traced = entry.traced
        out = entry.executable(*leaves)
        return unflatten(traced.out_tree, [out] if traced.single_output else list(out))

    @property
    def report(self):
        """The Report of the executable the last call ran (None before the first call)."""
        return None if self._last is None else self._last.executable.report

    def clear_cache(self) -> None:
        self._traced.clear()
        self._compiled.clear()
        self._last = None

    def __repr__(self) -> str:
        return f"<xla_magic.jit of {getattr(self.fn, '__qualname__', self.fn)}: {len(self._compiled)} compiled>"


def jit(fn: Callable | None = None, *, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = (), target: str = "cpu", optimize: bool = True,
        **compile_options):
    """Decorator: trace `fn` once per argument signature, compile for `target` ("cpu",
    "interpreter", "gpu"), cache, and run. Use as `@jit` or `@jit(static_argnums=1)`."""
    def wrap(f: Callable) -> Jitted:
        return Jitted(f, static_argnums, static_argnames, target, optimize, **compile_options)

    return wrap if fn is None else wrap(fn)
