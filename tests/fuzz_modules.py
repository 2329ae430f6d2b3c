"""Random valid HLO modules over every opcode family, and the differential check every target
must pass on them: parse -> print -> parse, verify, the reference interpreter against the
optimized interpreter, the cpu target and the gpu target's generated code (optionally run by the
host simulation).

`random_case(seed)` gives (text, args); `check_case(text, args)` returns None or a description
of the first disagreement. Used by tests/test_fuzz_differential.py (a new seed every CI run) and
tests/fuzz_offline.py (thousands of modules)."""
from __future__ import annotations

import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

import ml_dtypes
import numpy as np

import xla_magic as xm

FLOATS = ("f32",)
INTS = ("s32",)
# The 8- and 4-bit floats and the 4- and 2-bit integers run on the interpreters and the cpu target
# (the gpu target has no code for them yet: modules with them skip its stage).
SMALL_FLOATS = ("f8e4m3fn", "f8e5m2", "f8e4m3fnuz", "f8e5m2fnuz", "f8e4m3b11fnuz", "f8e4m3", "f8e3m4", "f8e8m0fnu",
                "f4e2m1fn")
SUB_BYTE_INTS = ("s4", "u4", "s2", "u2")
OTHER_TYPES = ("f16", "bf16", "f64", "s8", "u8", "s16", "u16", "u32", "s64", "u64", "pred", *SMALL_FLOATS,
               *SUB_BYTE_INTS)
# u64 indices of 2^63 and more clamp to the end as XLA reads them unsigned (XLA_MAGIC_FUZZ_HUGE_U64=0
# keeps them below 2^63).
HUGE_U64 = os.environ.get("XLA_MAGIC_FUZZ_HUGE_U64", "1") != "0"
INDEX_TYPES = ("s32", "s8", "u8", "u16", "u64", "s64")
DISCONTINUOUS = {"floor", "ceil", "sign", "round-nearest-even"}
UNARY_F = ["negate", "abs", "exponential", "tanh", "logistic", "sqrt", "log", "log-plus-one", "floor", "ceil",
           "sine", "cosine", "sign", "round-nearest-even", "exponential-minus-one", "rsqrt"]
# Ops whose domain is kept (abs first) so that a chain is not all NaN.
DOMAIN = {"sqrt", "log", "rsqrt", "log-plus-one"}
BINARY_F = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "atan2", "remainder"]
BINARY_I = ["add", "subtract", "multiply", "maximum", "minimum", "and", "or", "xor", "divide", "remainder",
            "shift-left", "shift-right-logical", "shift-right-arithmetic"]
COMPARE = ["EQ", "NE", "LT", "LE", "GT", "GE"]

SPECIALS = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, 1.0, -1.0], np.float32)
# Denormal inputs: sign reads them as zero on every target, no other op flushes them
# (XLA_MAGIC_FUZZ_DENORMALS=0 leaves them out).
DENORMALS = np.array([1e-40, -3e-39], np.float32)
if os.environ.get("XLA_MAGIC_FUZZ_DENORMALS", "1") != "0":
    SPECIALS = np.concatenate([SPECIALS, DENORMALS])


def _text(x: float) -> str:
    """A float constant's text (-0.000 included: it must survive print -> parse)."""
    return f"{x:.3f}"


def _shape(dt: str, dims) -> str:
    return f"{dt}[{','.join(map(str, dims))}]"


def _reducers(dt: str) -> str:
    return (f"add_{dt} {{\n  a = {dt}[] parameter(0)\n  b = {dt}[] parameter(1)\n  ROOT s = {dt}[] add(a, b)\n}}\n"
            f"max_{dt} {{\n  a = {dt}[] parameter(0)\n  b = {dt}[] parameter(1)\n  ROOT s = {dt}[] maximum(a, b)\n}}\n"
            f"ge_{dt} {{\n  a = {dt}[] parameter(0)\n  b = {dt}[] parameter(1)\n"
            f"  ROOT s = pred[] compare(a, b), direction=GE\n}}\n"
            f"lt_{dt} {{\n  a = {dt}[] parameter(0)\n  b = {dt}[] parameter(1)\n"
            f"  ROOT s = pred[] compare(a, b), direction=LT\n}}\n")


INIT = {("add", "f32"): "0", ("max", "f32"): "-inf", ("add", "s32"): "0", ("max", "s32"): "-2147483648"}


class _Skip(Exception):
    """No value fits the family drawn: draw another."""


@dataclass
class Value:
    name: str
    dt: str
    dims: tuple[int, ...]


# Ops whose f32 result is exactly the same on every target when their operands are. The rest
# (transcendentals, divisions, sums that may be reassociated or contracted into fused
# multiply-adds) may differ by an ulp, which a discontinuous op (compare, floor, convert to an
# integer, a sort key) would turn into a different answer: those ops read exact values only.
EXACT_OPS = frozenset({"negate", "abs", "maximum", "minimum", "select", "compare", "clamp", "broadcast", "transpose",
                       "slice", "pad", "concatenate", "reshape", "reverse", "dynamic-slice", "dynamic-update-slice",
                       "gather", "get-tuple-element", "convert", "iota", "constant", "floor", "ceil", "sign",
                       "round-nearest-even", "parameter", "and", "or", "xor"})
_OPERANDS = re.compile(r"\b([pv]\d+)\b")


class _Builder:
    def __init__(self, rng: random.Random, dims: tuple[int, ...]):
        self.rng, self.n = rng, 0
        self.lines: list[str] = []
        self.values: list[Value] = []
        self.params: list[Value] = []
        self.extra: list[str] = []  # computations beside the entry (loop bodies, branches)
        self.exact: dict[str, bool] = {}  # value name -> the same on every target (see EXACT_OPS)
        for dt, d in (("f32", dims), ("f32", dims), ("f32", ()), ("s32", dims)):
            v = Value(f"p{len(self.params)}", dt, d)
            self.lines.append(f"  {v.name} = {_shape(dt, d)} parameter({len(self.params)})")
            self.exact[v.name] = True
            self.params.append(v)
            self.values.append(v)

    def fresh(self, prefix: str = "v") -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def emit(self, dt: str, dims, rhs: str, keep: bool = True) -> Value:
        v = Value(self.fresh(), dt, tuple(dims))
        op, _, rest = rhs.partition("(")
        operands = _OPERANDS.findall(rest.split(")")[0])
        same = op in EXACT_OPS or dt[0] in "sup" or "to_apply=max" in rhs
        self.exact[v.name] = same and all(self.exact.get(o, False) for o in operands)
        self.lines.append(f"  {v.name} = {_shape(dt, dims)} {rhs}")
        if keep:
            self.values.append(v)
        return v

    def pick(self, dt: str | None = None, rank_min: int = 0, pred: Callable[[Value], bool] | None = None,
             exact: bool = False) -> Value:
        """A value; `exact`: one computed the same on every target (see EXACT_OPS)."""
        ok = [v for v in self.values if not exact or self.exact.get(v.name, False)]
        c = [v for v in ok if (dt is None or v.dt == dt) and len(v.dims) >= rank_min and (pred is None or pred(v))]
        if not c:
            c = [v for v in ok if v.dt == (dt or "f32") and len(v.dims) >= rank_min]
        if not c:
            raise _Skip
        return self.rng.choice(c)

    def const(self, dt: str, value: str) -> Value:
        return self.emit(dt, (), f"constant({value})", keep=False)

    def index_value(self, hi: int, dt: str) -> str:
        """An index of type dt, sometimes out of range (XLA clamps it), sometimes the type's extreme."""
        if self.rng.random() < 0.15:
            info = np.iinfo(np.dtype({"s": "int", "u": "uint"}[dt[0]] + dt[1:]))
            top = int(info.max)
            if dt == "u64" and not HUGE_U64:
                top = (1 << 63) - 1
            return str(self.rng.choice([int(info.min), top]))
        info = np.iinfo(np.dtype({"s": "int", "u": "uint"}[dt[0]] + dt[1:]))
        return str(min(self.rng.randint(-3 if dt[0] == "s" else 0, hi + 3), int(info.max)))

    def index_const(self, hi: int, dt: str) -> Value:
        return self.const(dt, self.index_value(hi, dt))

    # --- the families ---

    def unary(self) -> None:
        op = self.rng.choice(UNARY_F)
        a = self.pick("f32", exact=op in DISCONTINUOUS)
        if op in DOMAIN:
            a = self.emit("f32", a.dims, f"abs({a.name})", keep=False)
        self.emit("f32", a.dims, f"{op}({a.name})")

    def binary(self) -> None:
        dt = self.rng.choice(["f32", "f32", "s32"])
        a = self.pick(dt)
        b = self.pick(dt, pred=lambda v: v.dims == a.dims)
        if b.dims != a.dims:
            b = self.emit(dt, a.dims, f"broadcast({self.scalar_of(b).name}), dimensions={{}}", keep=False)
        op = self.rng.choice(BINARY_F if dt == "f32" else BINARY_I)
        self.emit(dt, a.dims, f"{op}({a.name}, {b.name})")

    def scalar_of(self, v: Value) -> Value:
        """The first element of v as a scalar."""
        if not v.dims:
            return v
        spec = ", ".join("[0:1]" for _ in v.dims)
        one = self.emit(v.dt, (1,) * len(v.dims), f"slice({v.name}), slice={{{spec}}}", keep=False)
        return self.emit(v.dt, (), f"reshape({one.name})", keep=False)

    def compare_select(self) -> None:
        a = self.pick("f32", exact=True)
        b = self.pick("f32", pred=lambda v: v.dims == a.dims, exact=True)
        if b.dims != a.dims:
            b = self.emit("f32", a.dims, f"broadcast({self.scalar_of(b).name}), dimensions={{}}", keep=False)
        c = self.emit("pred", a.dims, f"compare({a.name}, {b.name}), direction={self.rng.choice(COMPARE)}",
                      keep=False)
        if self.rng.random() < 0.3 and a.dims:  # a scalar predicate with array operands
            c = self.scalar_of(c)
        self.emit("f32", a.dims, f"select({c.name}, {a.name}, {b.name})")

    def convert(self) -> None:
        a = self.pick(exact=True)
        to = {"f32": "s32", "s32": "f32"}.get(a.dt, "f32")
        if a.dt == "f32" and self.rng.random() < 0.5:
            to = "pred"
        v = self.emit(to, a.dims, f"convert({a.name})", keep=to != "pred")
        if to == "pred":
            self.emit("f32", a.dims, f"convert({v.name})")

    def retype(self) -> None:
        """Work in another element type: a convert, one op of that type, and the value kept."""
        dt = self.rng.choice(OTHER_TYPES)
        a = self.pick(self.rng.choice(["f32", "s32"]), exact=dt[0] in "sup")
        c = self.emit(dt, a.dims, f"convert({a.name})")
        b = self.pick(dt, pred=lambda v: v.dims == c.dims)
        if b.dims != c.dims:
            b = c
        if dt == "pred":
            op = self.rng.choice(["and", "or", "xor"])
        elif dt[0] in "fb":
            op = self.rng.choice(["add", "multiply", "subtract", "maximum", "minimum", "divide"])
        else:
            op = self.rng.choice(BINARY_I)
        v = self.emit(dt, c.dims, f"{op}({c.name}, {b.name})")
        back = self.rng.choice(["f32", "s32"])
        if back == "f32" and dt[0] in "su":
            # Integers up to 2^64 as floats: a fused multiply-add (XLA contracts them; one rounding
            # fewer) then cancels to absolute errors of hundreds. Kept below 1024 by an exact fmod.
            w = self.emit("f32", v.dims, f"convert({v.name})", keep=False)
            k = self.emit("f32", v.dims, f"broadcast({self.const('f32', '1024').name}), dimensions={{}}", keep=False)
            self.emit("f32", v.dims, f"remainder({w.name}, {k.name})")
        else:
            self.emit(back, v.dims, f"convert({v.name})")

    def clamp(self) -> None:
        a = self.pick("f32")
        lo, hi = self.const("f32", _text(self.rng.uniform(-2, 0))), self.const("f32", _text(self.rng.uniform(0, 2)))
        self.emit("f32", a.dims, f"clamp({lo.name}, {a.name}, {hi.name})")

    def reduce(self) -> None:
        a = self.pick(self.rng.choice(["f32", "f32", "s32"]), rank_min=1)
        if not a.dims:
            return
        rank = len(a.dims)
        reduced = sorted(self.rng.sample(range(rank), self.rng.randint(1, rank)))
        kept = [k for k in range(rank) if k not in reduced]
        out = [a.dims[k] for k in kept]
        fn = self.rng.choice(["add", "max"])
        init = self.const(a.dt, INIT[(fn, a.dt)])
        r = self.emit(a.dt, out, f"reduce({a.name}, {init.name}), dimensions={{{','.join(map(str, reduced))}}}, "
                                 f"to_apply={fn}_{a.dt}")
        if self.rng.random() < 0.7:  # back along the rows, as softmax does
            self.emit(a.dt, a.dims, f"broadcast({r.name}), dimensions={{{','.join(map(str, kept))}}}")

    def broadcast(self) -> None:
        a = self.pick()
        if len(a.dims) >= 3:
            return
        new = self.rng.choice([2, 3, 5])
        at = self.rng.randint(0, len(a.dims))
        dims = list(a.dims)
        dims.insert(at, new)
        mapping = [k if k < at else k + 1 for k in range(len(a.dims))]
        self.emit(a.dt, dims, f"broadcast({a.name}), dimensions={{{','.join(map(str, mapping))}}}")

    def transpose(self) -> None:
        a = self.pick(rank_min=2)
        if len(a.dims) < 2:
            return
        perm = list(range(len(a.dims)))
        self.rng.shuffle(perm)
        self.emit(a.dt, [a.dims[p] for p in perm], f"transpose({a.name}), dimensions={{{','.join(map(str, perm))}}}")

    def slice(self) -> None:
        a = self.pick(rank_min=1)
        spec, out = [], []
        for d in a.dims:
            start = self.rng.randint(0, d - 1)
            stride, limit = self.rng.choice([1, 1, 2]), self.rng.randint(start + 1, d)
            spec.append(f"[{start}:{limit}:{stride}]")
            out.append(len(range(start, limit, stride)))
        self.emit(a.dt, out, f"slice({a.name}), slice={{{', '.join(spec)}}}")

    def pad(self) -> None:
        a = self.pick(rank_min=1)
        pv = self.const(a.dt, "0" if a.dt != "f32" else "-1.5")
        spec, out = [], []
        for d in a.dims:
            lo, hi, interior = self.rng.randint(-1, 2), self.rng.randint(-1, 2), self.rng.randint(0, 1)
            n = d + lo + hi + interior * (d - 1)
            if n < 1:
                lo, hi = 0, 0
                n = d + interior * (d - 1)
            spec.append(f"{lo}_{hi}" + (f"_{interior}" if interior else ""))
            out.append(n)
        self.emit(a.dt, out, f"pad({a.name}, {pv.name}), padding={'x'.join(spec)}")

    def concatenate(self) -> None:
        a = self.pick(rank_min=1)
        if not a.dims:
            return
        axis = self.rng.randrange(len(a.dims))
        b = self.pick(a.dt, pred=lambda v: len(v.dims) == len(a.dims) and
                      all(x == y for k, (x, y) in enumerate(zip(v.dims, a.dims)) if k != axis))
        if len(b.dims) != len(a.dims) or any(x != y for k, (x, y) in enumerate(zip(b.dims, a.dims)) if k != axis):
            b = a
        out = list(a.dims)
        out[axis] += b.dims[axis]
        self.emit(a.dt, out, f"concatenate({a.name}, {b.name}), dimensions={{{axis}}}")

    def reshape(self) -> None:
        a = self.pick()
        size = int(np.prod(a.dims))
        shapes = [(size,), ()] if size == 1 else [(size,)]
        for f in (2, 3, 4):
            if size % f == 0 and size > f:
                shapes.append((f, size // f))
        self.emit(a.dt, self.rng.choice(shapes), f"reshape({a.name})")

    def reverse(self) -> None:
        a = self.pick(rank_min=1)
        dims = sorted(self.rng.sample(range(len(a.dims)), self.rng.randint(1, len(a.dims))))
        self.emit(a.dt, a.dims, f"reverse({a.name}), dimensions={{{','.join(map(str, dims))}}}")

    def iota(self) -> None:
        a = self.pick("f32", rank_min=1)
        d = self.rng.randrange(len(a.dims))
        io = self.emit(self.rng.choice(["f32", "s32"]), a.dims, f"iota(), iota_dimension={d}", keep=False)
        if io.dt == "s32":
            io = self.emit("f32", a.dims, f"convert({io.name})", keep=False)
        self.emit("f32", a.dims, f"add({a.name}, {io.name})")

    def dynamic_slice(self) -> None:
        a = self.pick(rank_min=1)
        sizes = [self.rng.randint(1, d) for d in a.dims]
        dt = self.rng.choice(INDEX_TYPES)  # one type for all starts, as the verifier asks
        starts = [self.index_const(d, dt) for d in a.dims]
        self.emit(a.dt, sizes, f"dynamic-slice({a.name}, {', '.join(s.name for s in starts)}), "
                               f"dynamic_slice_sizes={{{','.join(map(str, sizes))}}}")

    def dynamic_update_slice(self) -> None:
        a = self.pick(rank_min=1)
        sizes = tuple(self.rng.randint(1, d) for d in a.dims)
        u = self.pick(a.dt, pred=lambda v: v.dims == sizes)
        if u.dims != sizes:
            u = self.emit(a.dt, sizes, f"broadcast({self.scalar_of(u).name}), dimensions={{}}", keep=False)
        dt = self.rng.choice(INDEX_TYPES)  # one type for all starts, as the verifier asks
        starts = [self.index_const(d, dt) for d in a.dims]
        self.emit(a.dt, a.dims, f"dynamic-update-slice({a.name}, {u.name}, {', '.join(s.name for s in starts)})")

    def gather(self) -> None:
        a = self.pick(rank_min=2, pred=lambda v: len(v.dims) == 2)
        if len(a.dims) != 2:
            return
        n = self.rng.randint(1, 4)
        dt = self.rng.choice(INDEX_TYPES)
        vals = ", ".join(f"{{{self.index_value(a.dims[0], dt)}}}" for _ in range(n))
        idx = self.emit(dt, (n, 1), f"constant({{{vals}}})", keep=False)
        self.emit(a.dt, (n, a.dims[1]), f"gather({a.name}, {idx.name}), offset_dims={{1}}, "
                                        f"collapsed_slice_dims={{0}}, start_index_map={{0}}, index_vector_dim=1, "
                                        f"slice_sizes={{1,{a.dims[1]}}}")

    def scatter(self) -> None:
        a = self.pick("f32", rank_min=2, pred=lambda v: len(v.dims) == 2)
        if len(a.dims) != 2:
            return
        n = self.rng.randint(1, 4)
        dt = self.rng.choice(INDEX_TYPES)
        vals = ", ".join(f"{{{self.index_value(a.dims[0], dt)}}}" for _ in range(n))
        idx = self.emit(dt, (n, 1), f"constant({{{vals}}})", keep=False)
        src = self.pick("f32")
        u = self.emit("f32", (n, a.dims[1]), f"broadcast({self.scalar_of(src).name}), dimensions={{}}", keep=False)
        fn = self.rng.choice(["add", "max"])
        self.emit("f32", a.dims, f"scatter({a.name}, {idx.name}, {u.name}), update_window_dims={{1}}, "
                                 f"inserted_window_dims={{0}}, scatter_dims_to_operand_dims={{0}}, "
                                 f"index_vector_dim=1, to_apply={fn}_f32")

    def ordered(self, a: Value) -> Value:
        """a without NaN and -0.0. Known differences, not of fusion: with NaN a less-than
        comparator is no strict weak order, so each sort algorithm returns its own permutation;
        the interpreter's and the cpu's top-k order -0.0 against +0.0 differently."""
        z = self.emit("f32", a.dims, f"broadcast({self.const('f32', '0').name}), dimensions={{}}", keep=False)
        ok = self.emit("pred", a.dims, f"compare({a.name}, {a.name}), direction=EQ", keep=False)
        a = self.emit("f32", a.dims, f"select({ok.name}, {a.name}, {z.name})", keep=False)
        # -0.0 == 0 picks +0 (x + 0 would not do: the simplifier drops it)
        zero = self.emit("pred", a.dims, f"compare({a.name}, {z.name}), direction=EQ", keep=False)
        return self.emit("f32", a.dims, f"select({zero.name}, {z.name}, {a.name})", keep=False)

    def sort(self) -> None:
        a = self.pick("f32", rank_min=1, exact=True)
        if not a.dims:
            return
        a = self.ordered(a)
        d = len(a.dims) - 1 if self.rng.random() < 0.7 else self.rng.randrange(len(a.dims))
        if self.rng.random() < 0.5:
            self.emit("f32", a.dims, f"sort({a.name}), dimensions={{{d}}}, is_stable=true, to_apply=lt_f32")
            return
        io = self.emit("s32", a.dims, f"iota(), iota_dimension={d}", keep=False)
        shape = f"({_shape('f32', a.dims)}, {_shape('s32', a.dims)})"
        s = Value(self.fresh(), "tuple", a.dims)
        self.exact[s.name] = True  # keys of exact values
        self.lines.append(f"  {s.name} = {shape} sort({a.name}, {io.name}), dimensions={{{d}}}, is_stable=true, "
                          f"to_apply=lt2_f32")
        self.emit("f32", a.dims, f"get-tuple-element({s.name}), index=0")
        self.emit("s32", a.dims, f"get-tuple-element({s.name}), index=1")

    def topk(self) -> None:
        a = self.pick("f32", rank_min=1, exact=True)
        if not a.dims:
            return
        k = self.rng.randint(1, a.dims[-1])
        out = a.dims[:-1] + (k,)
        a = self.ordered(a)
        s = Value(self.fresh(), "tuple", out)
        self.exact[s.name] = True  # keys of exact values
        self.lines.append(f"  {s.name} = ({_shape('f32', out)}, {_shape('s32', out)}) topk({a.name}), k={k}, "
                          f"largest={'true' if self.rng.random() < 0.7 else 'false'}")
        self.emit("f32", out, f"get-tuple-element({s.name}), index=0")
        self.emit("s32", out, f"get-tuple-element({s.name}), index=1")

    def reduce_window(self) -> None:
        a = self.pick(self.rng.choice(["f32", "s32"]), rank_min=1)
        if not a.dims:
            return
        size = [self.rng.randint(1, min(3, d)) for d in a.dims]
        stride = [self.rng.randint(1, 2) for _ in a.dims]
        pad = [(self.rng.randint(0, 1), self.rng.randint(0, 1)) for _ in a.dims]
        out = [(d + lo + hi - s) // st + 1 for d, s, st, (lo, hi) in zip(a.dims, size, stride, pad)]
        fn = self.rng.choice(["add", "max"])
        init = self.const(a.dt, INIT[(fn, a.dt)])
        win = (f"size={'x'.join(map(str, size))} stride={'x'.join(map(str, stride))} "
               f"pad={'x'.join(f'{lo}_{hi}' for lo, hi in pad)}")
        self.emit(a.dt, out, f"reduce-window({a.name}, {init.name}), window={{{win}}}, to_apply={fn}_{a.dt}")

    def select_and_scatter(self) -> None:
        a = self.pick("f32", rank_min=1, exact=True)
        if not a.dims:
            return
        size = [self.rng.randint(1, min(2, d)) for d in a.dims]
        stride = list(size)
        out = [(d - s) // st + 1 for d, s, st in zip(a.dims, size, stride)]
        src = self.pick("f32", pred=lambda v: list(v.dims) == out)
        if list(src.dims) != out:
            src = self.emit("f32", out, f"broadcast({self.scalar_of(src).name}), dimensions={{}}", keep=False)
        z = self.const("f32", "0")
        win = f"size={'x'.join(map(str, size))} stride={'x'.join(map(str, stride))}"
        self.emit("f32", a.dims, f"select-and-scatter({a.name}, {src.name}, {z.name}), window={{{win}}}, "
                                 f"select=ge_f32, scatter=add_f32")

    def while_loop(self) -> None:
        a = self.pick("f32")
        k = len(self.extra)
        sh = _shape("f32", a.dims)
        st = f"(s32[], {sh})"
        trips = self.rng.randint(0, 3)
        self.extra.append(
            f"cond{k} {{\n  s = {st} parameter(0)\n  i = s32[] get-tuple-element(s), index=0\n"
            f"  n = s32[] constant({trips})\n  ROOT c = pred[] compare(i, n), direction=LT\n}}\n"
            f"body{k} {{\n  s = {st} parameter(0)\n  i = s32[] get-tuple-element(s), index=0\n"
            f"  x = {sh} get-tuple-element(s), index=1\n  one = s32[] constant(1)\n  j = s32[] add(i, one)\n"
            f"  h = f32[] constant(0.5)\n  hb = {sh} broadcast(h), dimensions={{}}\n"
            f"  y = {sh} multiply(x, hb)\n  t = {sh} tanh(y)\n  z = {sh} add(t, x)\n"
            f"  ROOT r = {st} tuple(j, z)\n}}\n")
        zero = self.const("s32", "0")
        init = Value(self.fresh(), "tuple", ())
        self.lines.append(f"  {init.name} = {st} tuple({zero.name}, {a.name})")
        w = Value(self.fresh(), "tuple", ())
        self.lines.append(f"  {w.name} = {st} while({init.name}), condition=cond{k}, body=body{k}")
        self.emit("f32", a.dims, f"get-tuple-element({w.name}), index=1")

    def conditional(self) -> None:
        a = self.pick("f32")
        k = len(self.extra)
        sh = _shape("f32", a.dims)
        self.extra.append(
            f"br{k}_0 {{\n  x = {sh} parameter(0)\n  ROOT y = {sh} negate(x)\n}}\n"
            f"br{k}_1 {{\n  x = {sh} parameter(0)\n  ROOT y = {sh} exponential(x)\n}}\n"
            f"br{k}_2 {{\n  x = {sh} parameter(0)\n  ROOT y = {sh} multiply(x, x)\n}}\n")
        if self.rng.random() < 0.5:
            s = self.scalar_of(self.pick("s32", exact=True))
            c = self.emit("s32", (), f"remainder({s.name}, {self.const('s32', '5').name})", keep=False)
            self.emit("f32", a.dims, f"conditional({c.name}, {a.name}, {a.name}, {a.name}), "
                                     f"branch_computations={{br{k}_0, br{k}_1, br{k}_2}}")
        else:
            s = self.scalar_of(self.pick("f32", exact=True))
            c = self.emit("pred", (), f"compare({s.name}, {self.const('f32', '0').name}), direction=GT", keep=False)
            self.emit("f32", a.dims, f"conditional({c.name}, {a.name}, {a.name}), "
                                     f"true_computation=br{k}_1, false_computation=br{k}_0")


# Families and their weights: elementwise work dominates, as in real programs.
FAMILIES: list[tuple[str, int]] = [
    ("unary", 8), ("binary", 8), ("compare_select", 3), ("convert", 2), ("retype", 3), ("clamp", 1), ("reduce", 6),
    ("broadcast", 3), ("transpose", 2), ("slice", 3), ("pad", 2), ("concatenate", 2), ("reshape", 2),
    ("reverse", 1), ("iota", 1), ("dynamic_slice", 2), ("dynamic_update_slice", 2), ("gather", 1),
    ("scatter", 1), ("sort", 1), ("topk", 1), ("reduce_window", 1), ("select_and_scatter", 1),
    ("while_loop", 1), ("conditional", 1)]


def random_module(rng: random.Random) -> tuple[str, list[tuple[str, tuple[int, ...]]]]:
    """(text, parameter specs) of a random valid module."""
    dims = tuple(rng.choice([1, 2, 3, 5, 8, 16]) for _ in range(rng.randint(0, 3)))
    b = _Builder(rng, dims)
    names = [f for f, _ in FAMILIES]
    weights = [w for _, w in FAMILIES]
    for _ in range(rng.randint(2, 14)):
        try:
            getattr(b, rng.choices(names, weights)[0])()
        except _Skip:
            pass
    made = b.values[4:]
    outs = rng.sample(made, min(len(made), rng.randint(1, 3))) if made else b.values[:1]
    b.lines.append(f"  ROOT out = ({', '.join(_shape(o.dt, o.dims) for o in outs)}) "
                   f"tuple({', '.join(o.name for o in outs)})")
    lt2 = ("lt2_f32 {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  c = s32[] parameter(2)\n"
           "  d = s32[] parameter(3)\n  ROOT s = pred[] compare(a, b), direction=LT\n}\n")
    text = ("HloModule fuzz\n\n" + _reducers("f32") + _reducers("s32") + lt2 + "".join(b.extra) +
            "ENTRY e {\n" + "\n".join(b.lines) + "\n}\n")
    return text, [(p.dt, p.dims) for p in b.params]


def random_args(rng: np.random.Generator, specs, specials: bool) -> list[np.ndarray]:
    out = []
    for dt, dims in specs:
        if dt == "f32":
            a = rng.standard_normal(dims).astype(np.float32)
            if specials and a.size:
                m = rng.random(dims) < 0.2
                a = np.where(m, rng.choice(SPECIALS, size=dims), a).astype(np.float32)
        else:
            a = rng.integers(-40, 40, dims).astype(np.int32)
        out.append(np.asarray(a))
    return out


def random_case(seed: int) -> tuple[str, list[np.ndarray]]:
    rng = random.Random(seed)
    text, specs = random_module(rng)
    return text, random_args(np.random.default_rng(seed), specs, specials=rng.random() < 0.5)


# --- the check -------------------------------------------------------------------------------

RTOL, ATOL = 2e-3, 1e-4  # f32: polynomial math, fused multiply-adds and reassociated sums
# 16-bit floats: a few ulps of the narrow type, whose rounding after each op amplifies f32 differences.
NARROW = {"float16": (1e-2, 1e-2), "bfloat16": (5e-2, 5e-2)}
# The 8- and 4-bit floats: one step of the format (f32 differences before the rounding may flip it).
NARROW.update({n: (float(ml_dtypes.finfo(n).eps), float(ml_dtypes.finfo(n).smallest_subnormal))
               for n in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e4m3b11fnuz",
                         "float8_e4m3", "float8_e3m4", "float8_e8m0fnu", "float4_e2m1fn")})
HUGE = 1e30  # past this both sides agree to "overflowed"; the last bits of exp(88) are not a finding


def close(got: np.ndarray, want: np.ndarray) -> bool:
    g, w = np.asarray(got), np.asarray(want)
    if g.shape != w.shape or g.dtype != w.dtype:
        return False
    rtol, atol = NARROW.get(g.dtype.name, (RTOL, ATOL))
    if g.dtype.kind != "f" and g.dtype.name not in NARROW:
        return bool(np.array_equal(g, w))
    g64, w64 = g.astype(np.float64), w.astype(np.float64)
    both_nan = np.isnan(g64) & np.isnan(w64)
    both_huge = (np.abs(g64) > HUGE) & (np.abs(w64) > HUGE) & (np.sign(g64) == np.sign(w64))
    with np.errstate(invalid="ignore"):
        near = np.abs(g64 - w64) <= atol + rtol * np.abs(w64)
    return bool(np.all(both_nan | both_huge | near | (g64 == w64)))


def _tuple(x) -> tuple:
    return x if isinstance(x, tuple) else (x,)


# Opcodes no code generator has yet: modules with them are checked on the interpreters only.
BACKEND_GAPS = {"select-and-scatter": "neither the cpu nor the gpu backend emits it"}


def check_case(text: str, args: list[np.ndarray], hostsim: bool = False, gpu: bool = True) -> str | None:
    """None when every stage agrees with the reference interpreter; else what disagreed."""
    m = xm.parse_hlo(text)
    compiled = not any(f" {op}(" in text for op in BACKEND_GAPS)
    again = xm.parse_hlo(m.to_text())
    if again != m:
        return "parse -> print -> parse changed the module"
    want = _tuple(xm.interpret(m, *[a.copy() for a in args]))
    runs: list[tuple[str, Callable[[], tuple]]] = [
        ("optimized interpreter",
         lambda: _tuple(xm.compile(xm.parse_hlo(text), target="interpreter")(*[a.copy() for a in args]))),
    ]
    if compiled:
        runs.append(("cpu", lambda: _tuple(
            xm.compile(xm.parse_hlo(text), target="cpu", cache=False)(*[a.copy() for a in args]))))
    if gpu and compiled and not any(f"{t}[" in text for t in SMALL_FLOATS + SUB_BYTE_INTS):
        runs.append(("gpu generation", lambda: _gpu(text, args, hostsim, want)))
    for label, run in runs:
        try:
            got = run()
        except Exception as e:  # noqa: BLE001 - any exception is the finding
            return f"{label} raised {type(e).__name__}: {e}"
        for k, (g, w) in enumerate(zip(got, want)):
            if not close(g, w):
                return f"{label} output {k} differs:\n got {np.asarray(g)!r}\nwant {np.asarray(w)!r}"
    return None


def _gpu(text: str, args, hostsim: bool, want: tuple) -> tuple:
    from xla_magic.backends import gpu
    from xla_magic.backends.gpu import hostsim as hs
    from xla_magic.passes.pipeline import optimize

    module, _ = optimize(xm.parse_hlo(text), target="gpu")
    gpu.generate(module)  # every kernel of the plan has code
    if not hostsim or not hs.available()[0]:
        return want
    return _tuple(hs.compile(module)(*[a.copy() for a in args]))
