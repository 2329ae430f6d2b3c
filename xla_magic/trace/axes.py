"""numpy's axis arguments made concrete: negative axes wrapped, None meaning every axis."""
from __future__ import annotations

import operator
from typing import SupportsIndex

import numpy as np

from .errors import TracingError


def normalize_axis(axis: SupportsIndex, ndim: int, what: str = "axis") -> int:
    """`axis` in [0, ndim); what the user passed, when not an integer, is reported in their terms."""
    try:
        a = operator.index(axis)
    except TypeError:
        raise TracingError(f"{what} must be a Python integer while tracing, got {type(axis).__name__}") from None
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(a, ndim) if hasattr(np, "exceptions") else IndexError(
            f"axis {a} is out of bounds for array of dimension {ndim}")
    return a % ndim


def normalize_axes(axis: SupportsIndex | tuple[SupportsIndex, ...] | list[SupportsIndex] | None,
                   ndim: int) -> tuple[int, ...]:
    """None -> every axis; an int or a sequence -> sorted, non-negative, no repeats."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(normalize_axis(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError("repeated axis")
        return tuple(sorted(axes))
    return (normalize_axis(axis, ndim),)
