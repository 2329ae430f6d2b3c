"""The one small interface every backend's compiled program has.

Every field a caller may read is declared here: what a backend needs beyond that lives in
`backend_state`, which only that backend reads."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..hlo.ir import Instruction, Module
from ..hlo.shape import Shape, row_major_strides
from ..report import Report
from .args import check_args, check_out, separate

_NDARRAY = np.ndarray
_may_share = np.may_share_memory  # compares address ranges only (no search): enough for C-contiguous arrays


# run(arguments, outputs or None) -> the result leaves (the outputs when given)
RunFn = Callable[[Sequence[np.ndarray], list[np.ndarray] | None], list[np.ndarray]]
DirectFn = Callable[[list[np.ndarray]], None]  # the program on raw arrays: inputs, then outputs
ArgSpec = tuple[np.dtype[Any], tuple[int, ...], tuple[int, ...]]  # dtype, dims, C strides


class Executable:
    """`exe(*arrays, out=None)`: checks the arguments, runs, returns fresh arrays the caller owns
    (a tuple when the root is a tuple), or writes into `out=` and returns it.


    `unavailable`: why this target cannot run here although its code was generated (calls raise);
    None when it runs. `loaded_from_disk`: the machine code came from the on-disk compile cache."""

    module: Module
    report: Report
    target: str
    unavailable: str | None
    loaded_from_disk: bool
    backend_state: object  # the backend's own (its JIT module, its program); no one else reads it

    def __init__(self, module: Module, run: RunFn, report: Report, target: str, fresh_results: bool = False,
                 direct: DirectFn | None = None, *, unavailable: str | None = None,
                 loaded_from_disk: bool = False, backend_state: object = None,
                 release_memory: Callable[[], None] | None = None):
        self.module, self._run, self.report, self.target = module, run, report, target
        self.unavailable, self.loaded_from_disk, self.backend_state = unavailable, loaded_from_disk, backend_state
        self._release = release_memory
        self._params = module.entry.parameters
        self._n_params = len(self._params)
        self._root = module.entry.root.shape
        self._is_tuple = self._root.is_tuple
        self._fresh = fresh_results  # the backend never returns an argument or a view of one
        # What a well-formed argument looks like, for the fast check: exact type, dtype, shape, strides.
        self._specs: list[ArgSpec] | None = None
        if not any(p.shape.is_tuple for p in self._params):
            self._specs = [_arg_spec(p.shape) for p in self._params]
        # `direct(inputs + outputs)` runs the program on raw arrays: then the common call (right
        # arguments, no out=) takes a path generated for exactly this signature.
        self._fast = _fast_path(self._specs, self._root, direct) if direct is not None else None

    @property
    def parameters(self) -> list[Instruction]:
        return self._params

    def release_memory(self) -> None:
        """Drops the output arrays kept for reuse between calls (a no-op for backends that keep none)."""
        if self._release is not None:
            self._release()

    def __call__(self, *args: Any, out: Any = None) -> Any:
        """Runs the program on `args`; with `out=` (one array per result leaf) writes there.

        `out=` may be, or overlap, an argument (`exe(x, out=x)`, shifted views of one buffer): the
        result is what fresh outputs would hold, because an argument sharing memory with an output
        is copied before the program runs (generated code reads inputs while writing outputs, in
        its own loop order). Outputs sharing memory with each other raise a ValueError naming
        both. Without `out=` nothing is checked for overlap (results are fresh arrays)."""
        if out is None and self._fast is not None and len(args) == self._n_params:
            result = self._fast(*args)
            if result is not _MISS:
                return result
        # Fast check (the common case): exact ndarray, same dtype object, shape and C-contiguous.
        arrays: Sequence[np.ndarray] | None = args
        specs = self._specs
        if specs is not None and len(args) == len(specs):
            for a, (dt, dims, _) in zip(args, specs):
                if a.__class__ is not _NDARRAY or a.dtype is not dt or a.shape != dims or not a.flags.c_contiguous:
                    arrays = None
                    break
        else:
            arrays = None
        if arrays is None:  # the full check: names the parameter at fault, copies strided inputs
            arrays = check_args(self._params, args)
        outs = None
        if out is not None:
            outs = check_out(self._root, out)
            if _may_alias(arrays, outs):
                arrays = separate(arrays, outs, _may_share)
        results = self._run(arrays, outs)
        if outs is not None:
            for o, r in zip(outs, results):
                if r is not o:
                    np.copyto(o, r, casting="no")
            return out
        if not self._fresh:  # results aliasing an argument (a ROOT parameter, a view) are copied
            results = [r if r.flags.owndata and not any(r is a for a in arrays) else np.array(r) for r in results]
        return tuple(results) if self._is_tuple else results[0]

    def __repr__(self) -> str:
        sig = ", ".join(p.shape.to_text(layout=False) for p in self._params)
        return f"<Executable {self.module.name} on {self.target}: ({sig}) -> {self._root.to_text(layout=False)}>"


def _may_alias(arrays: Sequence[np.ndarray], outs: list[np.ndarray]) -> bool:
    """False when one output and inputs that each own their memory (no `base`: not views) are
    distinct objects, so distinct allocations; the common case pays two attribute reads per
    array, and anything else goes to the address-range comparison of `separate`."""
    if len(outs) > 1:
        return True
    o = outs[0]
    if o.base is not None:
        return True
    for a in arrays:
        if a is o or a.base is not None:
            return True
    return False


def _arg_spec(shape: Shape) -> ArgSpec:
    dt = np.dtype(shape.element_type.np)
    return dt, shape.dims, _c_strides(shape.dims, dt.itemsize)


def _c_strides(dims: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    return tuple(s * itemsize for s in row_major_strides(dims))


_MISS = object()


def _fast_path(specs: list[ArgSpec] | None, root: Shape, direct: DirectFn) -> Callable[..., Any] | None:
    """A function checking and running exactly this signature, generated once (as attrs generates
    __init__): each argument must be an exact ndarray with the dtype object, shape and C order
    expected, else it returns _MISS and the general path (which explains what is wrong) runs."""
    if specs is None:
        return None
    leaves = root.leaves()
    if any(s.nbytes >= (1 << 20) for s in leaves):  # big outputs come from the pool instead
        return None
    env: dict[str, Any] = {"ND": np.ndarray, "empty": np.empty, "direct": direct, "MISS": _MISS}
    names = [f"x{k}" for k in range(len(specs))]
    checks = []
    for k, (name, (dt, dims, _)) in enumerate(zip(names, specs)):
        env[f"D{k}"], env[f"S{k}"] = dt, dims
        checks.append(f"{name}.__class__ is ND and {name}.dtype is D{k} and {name}.shape == S{k} "
                      f"and {name}.flags.c_contiguous")
    outs = []
    for k, leaf in enumerate(leaves):
        env[f"OD{k}"], env[f"OS{k}"] = np.dtype(leaf.element_type.np), leaf.dims
        outs.append(f"o{k} = empty(OS{k}, OD{k})")
    result = f"({', '.join(f'o{k}' for k in range(len(leaves)))},)" if root.is_tuple else "o0"
    src = (f"def fast({', '.join(names)}):\n"
           f"    if not ({' and '.join(checks) or 'True'}):\n"
           f"        return MISS\n"
           + "".join(f"    {o}\n" for o in outs)
           + f"    direct([{', '.join(names + [f'o{k}' for k in range(len(leaves))])}])\n"
           f"    return {result}\n")
    exec(compile(src, "<xla_magic fast call>", "exec"), env)  # noqa: S102 - generated from shapes only
    return env.pop("fast")  # the function keeps env as its globals: popping it leaves no reference cycle
