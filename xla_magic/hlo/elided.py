"""Values for constants whose text elides them as `{...}` (XLA's benchmark models print their
weights that way): zeros, or deterministic pseudo-random values, so such a module can still run.

The random values depend only on the constant's name and shape (the same text gives the same
module on every machine) and stay in a mild range: floats uniform in [-1, 1) scaled by
1/sqrt(fan-in) (every dimension but the last, as for weights), so a model of many layers neither
overflows nor vanishes; integers small and non-negative (valid as indices into most tables);
pred uniform."""
from __future__ import annotations

import hashlib
import math
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .shape import Shape

ElidedMode = Literal["random", "zeros"]
MODES: tuple[str, ...] = ("random", "zeros")
SMALL_INT_LIMIT = 8  # random integers lie in [0, SMALL_INT_LIMIT)


def _seed(name: str, shape: Shape) -> int:
    digest = hashlib.sha256(f"{name}:{shape.to_text(layout=False)}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def fill(name: str, shape: Shape, mode: ElidedMode) -> npt.NDArray[Any]:
    """The value that stands for the elided constant `name` of array shape `shape`."""
    dt = shape.element_type
    npd = dt.np
    if mode == "zeros":
        return np.zeros(shape.dims, npd)
    rng = np.random.default_rng(_seed(name, shape))
    if dt.kind == "pred":
        return rng.integers(0, 2, shape.dims).astype(np.bool_)
    if dt.is_int:
        return rng.integers(0, SMALL_INT_LIMIT, shape.dims).astype(npd)
    fan_in = math.prod(shape.dims[:-1]) if len(shape.dims) >= 2 else 1
    scale = 1.0 / math.sqrt(max(fan_in, 1))
    values = rng.uniform(-1.0, 1.0, shape.dims) * scale
    if dt.is_complex:
        values = values + 1j * rng.uniform(-1.0, 1.0, shape.dims) * scale
    return np.asarray(values).astype(npd)
