"""The one small interface every backend's compiled program has."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..hlo.ir import Module
from ..report import Report
from .args import check_args, check_out


class Executable:
    """`exe(*arrays, out=None)`: checks the arguments, runs, returns fresh arrays the caller owns
    (a tuple when the root is a tuple), or writes into `out=` and returns it."""

    def __init__(self, module: Module, run: Callable[[list[np.ndarray], list[np.ndarray] | None], list[np.ndarray]],
                 report: Report, target: str):
        self.module, self._run, self.report, self.target = module, run, report, target
        self._params = module.entry.parameters
        self._root = module.entry.root.shape

    @property
    def parameters(self):
        return self._params

    def __call__(self, *args, out=None):
        arrays = check_args(self._params, args)
        outs = check_out(self._root, out) if out is not None else None
        results = self._run(arrays, outs)
        if outs is not None:
            for o, r in zip(outs, results):
                if r is not o:
                    np.copyto(o, r, casting="no")
            return out
        # Results that alias an argument (a ROOT that is a parameter, a reshape view) are copied.
        fresh = [r if r.flags.owndata and not any(r is a for a in arrays) else np.array(r) for r in results]
        return tuple(fresh) if self._root.is_tuple else fresh[0]

    def __repr__(self) -> str:
        sig = ", ".join(p.shape.to_text(layout=False) for p in self._params)
        return f"<Executable {self.module.name} on {self.target}: ({sig}) -> {self._root.to_text(layout=False)}>"
