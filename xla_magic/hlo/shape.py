"""Array and tuple shapes, with XLA layouts (minor-to-major)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from math import prod

from .dtypes import DType, dtype


@dataclass(frozen=True)
class Shape:
    """`f32[16,64]{1,0}` is Shape(F32, (16, 64), (1, 0)); a tuple has dtype None and `tuple_shapes`.

    `layout` is minor-to-major as XLA prints it, None when the text gave none. `layout_tail`
    keeps anything after a ':' inside the layout braces (tiling, memory space) verbatim.
    `dynamic` marks `<=N` bounded dimensions."""

    dtype: DType | None
    dims: tuple[int, ...] = ()
    layout: tuple[int, ...] | None = None
    tuple_shapes: tuple[Shape, ...] | None = None
    dynamic: tuple[bool, ...] | None = None
    layout_tail: str = ""

    @staticmethod
    def array(dt: DType | str, dims: Iterable[int] = (), layout: Iterable[int] | None = None) -> Shape:
        dt = dtype(dt) if isinstance(dt, str) else dt
        return Shape(dt, tuple(int(d) for d in dims), None if layout is None else tuple(layout))

    @staticmethod
    def tuple_of(shapes: Iterable[Shape]) -> Shape:
        return Shape(None, (), None, tuple(shapes))

    @property
    def is_tuple(self) -> bool:
        return self.tuple_shapes is not None

    @property
    def element_type(self) -> DType:
        """The element type of an array shape (`dtype` typed as present); a tuple has none."""
        if self.dtype is None:
            raise TypeError("a tuple shape has no element type")
        return self.dtype

    @property
    def elements(self) -> tuple[Shape, ...]:
        """The element shapes of a tuple shape (`tuple_shapes` typed as present); an array has none."""
        if self.tuple_shapes is None:
            raise TypeError("an array shape has no tuple elements")
        return self.tuple_shapes

    @property
    def rank(self) -> int:
        return len(self.dims)

    @property
    def size(self) -> int:
        return prod(self.dims)

    @property
    def strides(self) -> tuple[int, ...]:
        """Row-major element strides of the dimensions (see `row_major_strides`)."""
        return row_major_strides(self.dims)

    @property
    def nbytes(self) -> int:
        if self.tuple_shapes is not None:
            return sum(s.nbytes for s in self.tuple_shapes)
        return self.size * self.element_type.itemsize

    def leaves(self) -> list[Shape]:
        """Array shapes of a (possibly nested) tuple, in order."""
        if self.tuple_shapes is None:
            return [self]
        return [leaf for s in self.tuple_shapes for leaf in s.leaves()]

    def with_dims(self, dims: Iterable[int]) -> Shape:
        return Shape(self.dtype, tuple(dims))

    def with_dtype(self, dt: DType | str) -> Shape:
        return Shape(dtype(dt) if isinstance(dt, str) else dt, self.dims)

    def without_layout(self) -> Shape:
        if self.tuple_shapes is not None:
            return Shape.tuple_of(s.without_layout() for s in self.tuple_shapes)
        return Shape(self.dtype, self.dims, dynamic=self.dynamic)

    def compatible(self, other: Shape) -> bool:
        """Same element type and dimensions, layouts and dynamic markers aside (XLA's ShapeUtil::Compatible)."""
        return compatible(self, other)

    def to_text(self, layout: bool = True) -> str:
        if self.tuple_shapes is not None:
            parts = []
            for i, s in enumerate(self.tuple_shapes):
                prefix = f"/*index={i}*/" if i and i % 5 == 0 else ""
                parts.append(prefix + s.to_text(layout))
            return "(" + ", ".join(parts) + ")"
        dims = ",".join(
            ("<=" if self.dynamic and self.dynamic[i] else "") + str(d) for i, d in enumerate(self.dims)
        )
        name = self.element_type.name
        text = f"{name}[{dims}]"
        if layout and self.layout is not None and name != "token":
            text += "{" + ",".join(map(str, self.layout)) + (":" + self.layout_tail if self.layout_tail else "") + "}"
        return text

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"Shape({self.to_text()})"


def row_major_strides(dims: Sequence[int]) -> tuple[int, ...]:
    """Element strides of a dense row-major array: the last dimension is contiguous."""
    out = [1] * len(dims)
    for k in range(len(dims) - 1, 0, -1):
        out[k - 1] = out[k] * dims[k]
    return tuple(out)


def layout_problem(shape: Shape) -> str | None:
    """Why an array shape's layout is invalid, or None. A layout lists every dimension once,
    minor to major; an empty one (`{}`, or only a tiling after ':') says nothing and reads as
    row-major. Anything else would index dimensions that do not exist."""
    lay = shape.layout
    if not lay or sorted(lay) == list(range(shape.rank)):
        return None
    text = "{" + ",".join(map(str, lay)) + "}"
    if shape.rank == 0:
        return f"layout {text} names dimensions, but a scalar has none"
    return f"layout {text} must list each of the dimensions 0..{shape.rank - 1} once, minor to major"


def compatible(a: Shape, b: Shape) -> bool:
    """Same element types and dimensions, layouts and dynamic markers aside (iterative: tuples
    may nest deeply)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if x.tuple_shapes is not None or y.tuple_shapes is not None:
            if x.tuple_shapes is None or y.tuple_shapes is None or len(x.tuple_shapes) != len(y.tuple_shapes):
                return False
            stack.extend(zip(x.tuple_shapes, y.tuple_shapes))
        elif x.dtype != y.dtype or tuple(x.dims) != tuple(y.dims):
            return False
    return True
