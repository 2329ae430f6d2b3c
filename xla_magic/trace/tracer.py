"""The traced array: a stand-in for an ndarray whose operations append HLO instead of computing.

It speaks numpy's own protocols (`__array_ufunc__`, `__array_function__`), so unmodified numpy
code runs on it: `np.exp(x)`, `x @ w`, `np.sum(x, axis=1)` and `x.T` all land here. Anything
that needs the array's value while tracing (`if x > 0:`, `float(x)`) raises a ConcretizationError
that points to the traced control-flow functions.

The implementations of those protocols sit above this class (they build traced arrays), so the
class reaches them through `PROTOCOLS`, which the package's `__init__` fills."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from ..hlo.ir import Instruction
from .builder import ComputationBuilder
from .errors import ConcretizationError, TracingError


def _unwired(*args: object, **kwargs: object) -> NoReturn:
    raise AssertionError("xla_magic.trace's __init__ wires the Tracer's numpy protocols")


@dataclass
class Protocols:
    """What the traced array's numpy entry points call: ufuncs (`ufunc, method, inputs, kwargs`),
    numpy functions (`func, args, kwargs`), indexing and dtype conversion."""

    ufunc: Callable[[np.ufunc, str, tuple[Any, ...], dict[str, Any]], Any] = _unwired
    function: Callable[[Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any] = _unwired
    getitem: Callable[[Tracer, Any], Tracer] = _unwired
    convert: Callable[[Tracer, np.dtype], Tracer] = _unwired


PROTOCOLS = Protocols()


class Tracer:
    """An array of known shape and dtype, computed by `instr` of the computation `builder` builds.

    `weak` marks values that came from Python scalars (arguments or loop indices): like numpy's
    Python scalars they adopt the dtype of the arrays they meet (`float32 * weak float -> float32`)."""

    __slots__ = ("builder", "instr", "weak", "__weakref__")
    __array_priority__ = 1000  # ndarray binary operators defer to ours

    def __init__(self, builder: ComputationBuilder, instr: Instruction, weak: bool = False):
        self.builder = builder
        self.instr = instr
        self.weak = weak

    # --- what is known while tracing ----------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.instr.shape.dims)

    @property
    def dtype(self) -> np.dtype:
        dt = self.instr.shape.dtype
        if dt is None or dt.np is None:
            raise TracingError(f"{self.instr.name} is a tuple or a token, not an array")
        return dt.np

    @property
    def ndim(self) -> int:
        return len(self.instr.shape.dims)

    @property
    def size(self) -> int:
        return self.instr.shape.size

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d traced array")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tracer]:
        if not self.shape:
            raise TypeError("iteration over a 0-d traced array")
        return (self[i] for i in range(self.shape[0]))  # unrolled: the length is static

    def __repr__(self) -> str:
        weak = ", weak" if self.weak else ""
        return f"Tracer({self.instr.shape.to_text(layout=False)}{weak}, {self.instr.name})"

    def describe(self) -> str:
        return f"{self.dtype}{list(self.shape)}"

    # --- values that are not known while tracing ----------------------------------------------

    def __bool__(self):
        raise ConcretizationError("Python's `if`, `while`, `and`/`or`/`not` or bool()", self.describe())

    def __int__(self):
        raise ConcretizationError("int() (or storing it into a numpy array)", self.describe())

    def __float__(self):
        raise ConcretizationError("float() (or storing it into a numpy array)", self.describe())

    def __complex__(self):
        raise ConcretizationError("complex()", self.describe())

    def __index__(self):
        raise ConcretizationError("using it as a Python integer (range(), list index, shape)", self.describe())

    def __array__(self, dtype=None, copy=None):
        raise ConcretizationError("converting it to a numpy array (np.asarray, np.array, ndarray assignment)",
                                  self.describe())

    def item(self, *args):
        raise ConcretizationError(".item()", self.describe())

    def tolist(self):
        raise ConcretizationError(".tolist()", self.describe())

    def __setitem__(self, key, value):
        raise TracingError("traced arrays are immutable: `x[...] = v` cannot be traced. Build the result "
                           "with np.where(mask, v, x), np.concatenate / np.stack, or np.pad instead.")

    __hash__ = None  # type: ignore[assignment]  # like ndarray: == is elementwise, so unhashable

    # --- numpy's protocols --------------------------------------------------------------------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return PROTOCOLS.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Callable[..., Any], types: object, args: tuple[Any, ...],
                           kwargs: dict[str, Any]) -> Any:
        return PROTOCOLS.function(func, args, kwargs)

    # --- operators ----------------------------------------------------------------------------

    def __add__(self, o): return np.add(self, o)
    def __radd__(self, o): return np.add(o, self)
    def __sub__(self, o): return np.subtract(self, o)
    def __rsub__(self, o): return np.subtract(o, self)
    def __mul__(self, o): return np.multiply(self, o)
    def __rmul__(self, o): return np.multiply(o, self)
    def __truediv__(self, o): return np.true_divide(self, o)
    def __rtruediv__(self, o): return np.true_divide(o, self)
    def __floordiv__(self, o): return np.floor_divide(self, o)
    def __rfloordiv__(self, o): return np.floor_divide(o, self)
    def __mod__(self, o): return np.remainder(self, o)
    def __rmod__(self, o): return np.remainder(o, self)
    def __pow__(self, o): return np.power(self, o)
    def __rpow__(self, o): return np.power(o, self)
    def __matmul__(self, o): return np.matmul(self, o)
    def __rmatmul__(self, o): return np.matmul(o, self)
    def __and__(self, o): return np.bitwise_and(self, o)
    def __rand__(self, o): return np.bitwise_and(o, self)
    def __or__(self, o): return np.bitwise_or(self, o)
    def __ror__(self, o): return np.bitwise_or(o, self)
    def __xor__(self, o): return np.bitwise_xor(self, o)
    def __rxor__(self, o): return np.bitwise_xor(o, self)
    def __lshift__(self, o): return np.left_shift(self, o)
    def __rlshift__(self, o): return np.left_shift(o, self)
    def __rshift__(self, o): return np.right_shift(self, o)
    def __rrshift__(self, o): return np.right_shift(o, self)
    def __neg__(self): return np.negative(self)
    def __pos__(self): return np.positive(self)
    def __abs__(self): return np.absolute(self)
    def __invert__(self): return np.invert(self)
    def __eq__(self, o): return np.equal(self, o)
    def __ne__(self, o): return np.not_equal(self, o)
    def __lt__(self, o): return np.less(self, o)
    def __le__(self, o): return np.less_equal(self, o)
    def __gt__(self, o): return np.greater(self, o)
    def __ge__(self, o): return np.greater_equal(self, o)
    def __divmod__(self, o): return np.divmod(self, o)

    def __getitem__(self, key: Any) -> Tracer:
        return PROTOCOLS.getitem(self, key)

    # --- ndarray methods (each goes through the numpy function of the same name) -------------

    @property
    def T(self): return np.transpose(self)

    @property
    def mT(self): return np.swapaxes(self, -1, -2)

    @property
    def real(self): return np.real(self)

    @property
    def imag(self): return np.imag(self)

    def reshape(self, *shape, order="C"):
        dims = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return np.reshape(self, dims, order=order)

    def transpose(self, *axes):
        perm = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) or axes == (None,) else axes
        return np.transpose(self, perm or None)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return PROTOCOLS.convert(self, np.dtype(dtype))

    def sum(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return np.sum(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return np.mean(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return np.prod(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    def max(self, axis=None, out=None, keepdims=False, **kw):
        return np.max(self, axis=axis, out=out, keepdims=keepdims, **kw)

    def min(self, axis=None, out=None, keepdims=False, **kw):
        return np.min(self, axis=axis, out=out, keepdims=keepdims, **kw)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
        return np.var(self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kw)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
        return np.std(self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kw)

    def argmax(self, axis=None, out=None, keepdims=False):
        return np.argmax(self, axis=axis, out=out, keepdims=keepdims)

    def argmin(self, axis=None, out=None, keepdims=False):
        return np.argmin(self, axis=axis, out=out, keepdims=keepdims)

    def any(self, axis=None, out=None, keepdims=False, **kw):
        return np.any(self, axis=axis, out=out, keepdims=keepdims, **kw)

    def all(self, axis=None, out=None, keepdims=False, **kw):
        return np.all(self, axis=axis, out=out, keepdims=keepdims, **kw)

    def cumsum(self, axis=None, dtype=None, out=None):
        return np.cumsum(self, axis=axis, dtype=dtype, out=out)

    def cumprod(self, axis=None, dtype=None, out=None):
        return np.cumprod(self, axis=axis, dtype=dtype, out=out)

    def clip(self, min=None, max=None, out=None, **kw):  # noqa: A002 (numpy's names)
        return np.clip(self, min, max, out=out, **kw)

    def dot(self, b, out=None):
        return np.dot(self, b, out=out)

    def swapaxes(self, a, b):
        return np.swapaxes(self, a, b)

    def squeeze(self, axis=None):
        return np.squeeze(self, axis=axis)

    def flatten(self, order="C"):
        return np.reshape(self, (-1,), order=order)

    def ravel(self, order="C"):
        return np.ravel(self, order=order)

    def copy(self, order="K"):
        return self

    def round(self, decimals=0, out=None):
        return np.round(self, decimals=decimals, out=out)

    def conj(self):
        return np.conjugate(self)

    def take(self, indices, axis=None, out=None, mode=None):
        return np.take(self, indices, axis=axis, out=out, mode=mode)

    def repeat(self, repeats, axis=None):
        return np.repeat(self, repeats, axis=axis)
