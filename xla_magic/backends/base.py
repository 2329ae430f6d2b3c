"""The one small interface every backend's compiled program has."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..hlo.ir import Module
from ..report import Report
from .args import check_args, check_out

_NDARRAY = np.ndarray


class Executable:
    """`exe(*arrays, out=None)`: checks the arguments, runs, returns fresh arrays the caller owns
    (a tuple when the root is a tuple), or writes into `out=` and returns it."""

    def __init__(self, module: Module, run: Callable[[list[np.ndarray], list[np.ndarray] | None], list[np.ndarray]],
                 report: Report, target: str, fresh_results: bool = False):
        self.module, self._run, self.report, self.target = module, run, report, target
        self._params = module.entry.parameters
        self._root = module.entry.root.shape
        self._is_tuple = self._root.is_tuple
        self._fresh = fresh_results  # the backend never returns an argument or a view of one
        # What a well-formed argument looks like, for the fast check: exact type, dtype, shape, strides.
        self._specs = []
        for p in self._params:
            if p.shape.is_tuple:
                self._specs = None
                break
            dt = np.dtype(p.shape.dtype.np)
            self._specs.append((dt, p.shape.dims, _c_strides(p.shape.dims, dt.itemsize)))

    @property
    def parameters(self):
        return self._params

    def __call__(self, *args, out=None):
        # Fast check (the common case): exact ndarray, same dtype object, shape and C-contiguous.
        arrays = args
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
        outs = check_out(self._root, out) if out is not None else None
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


def _c_strides(dims, itemsize: int) -> tuple[int, ...]:
    out, step = [], itemsize
    for d in reversed(dims):
        out.append(step)
        step *= d
    return tuple(reversed(out))
