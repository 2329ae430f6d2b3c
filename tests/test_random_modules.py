"""Random HLO modules (elementwise chains, reductions over any dims with broadcasts back,
transposes, strided slices, reshapes, constants; several outputs) through the optimizer and the
cpu target, against the reference interpreter: programs nobody wrote by hand."""
from __future__ import annotations

import random

import numpy as np
import pytest

import xla_magic as xm

UNARY = ["negate", "abs", "exponential", "tanh", "logistic", "sqrt", "log", "floor", "sine", "cosine", "sign"]
BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "power", "atan2"]
REDUCERS = ("add_r {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT s = f32[] add(a, b)\n}\n"
            "maximum_r {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT s = f32[] maximum(a, b)\n}\n")


def f32(dims) -> str:
    return f"f32[{','.join(map(str, dims))}]"


class _Builder:
    def __init__(self, rng: random.Random, dims: list[int]):
        self.rng, self.n = rng, 0
        self.lines = [f"  p0 = {f32(dims)} parameter(0)", f"  p1 = {f32(dims)} parameter(1)"]
        self.values = [("p0", dims), ("p1", dims)]

    def emit(self, text: str, name: str | None = None, dims=None) -> None:
        self.lines.append("  " + text)
        if name is not None:
            self.values.append((name, dims))

    def step(self) -> None:
        rng = self.rng
        self.n += 1
        n, name = self.n, f"v{self.n}"
        a, dims = rng.choice([v for v in self.values if v[1]])  # scalars only as results
        kind = rng.random()
        if kind < 0.3:
            op = rng.choice(UNARY)
            if op in ("sqrt", "log"):  # keep to their domains, like the binary power below
                self.emit(f"a{n} = {f32(dims)} abs({a})")
                a = f"a{n}"
            self.emit(f"{name} = {f32(dims)} {op}({a})", name, dims)
        elif kind < 0.6:
            b, _ = rng.choice([v for v in self.values if v[1] == dims])
            op = rng.choice(BINARY)
            if op == "power":
                self.emit(f"a{n} = {f32(dims)} abs({a})")
                a = f"a{n}"
            self.emit(f"{name} = {f32(dims)} {op}({a}, {b})", name, dims)
        elif kind < 0.72:
            reduced = sorted(rng.sample(range(len(dims)), rng.randint(1, len(dims))))
            kept = [k for k in range(len(dims)) if k not in reduced]
            out = [dims[k] for k in kept]
            fn = rng.choice(["add", "maximum"])
            self.emit(f"c{n} = f32[] constant({'0' if fn == 'add' else '-inf'})")
            self.emit(f"{name} = {f32(out)} reduce({a}, c{n}), dimensions={{{','.join(map(str, reduced))}}}, "
                      f"to_apply={fn}_r", name, out)
            self.emit(f"b{n} = {f32(dims)} broadcast({name}), dimensions={{{','.join(map(str, kept))}}}",
                      f"b{n}", dims)
        elif kind < 0.8 and len(dims) >= 2:
            perm = list(range(len(dims)))
            rng.shuffle(perm)
            out = [dims[p] for p in perm]
            self.emit(f"{name} = {f32(out)} transpose({a}), dimensions={{{','.join(map(str, perm))}}}", name, out)
        elif kind < 0.88:
            spec, out = [], []
            for d in dims:
                start = rng.randint(0, d - 1)
                stride, limit = rng.choice([1, 1, 2]), rng.randint(start + 1, d)
                spec.append(f"[{start}:{limit}:{stride}]")
                out.append(len(range(start, limit, stride)))
            self.emit(f"{name} = {f32(out)} slice({a}), slice={{{', '.join(spec)}}}", name, out)
        elif kind < 0.94:
            size = int(np.prod(dims))
            self.emit(f"{name} = f32[{size}] reshape({a})", name, [size])
        else:
            self.emit(f"k{n} = f32[] constant({rng.uniform(-2, 2):.4f})")
            self.emit(f"kb{n} = {f32(dims)} broadcast(k{n}), dimensions={{}}")
            self.emit(f"{name} = {f32(dims)} multiply({a}, kb{n})", name, dims)


def random_module(rng: random.Random) -> tuple[str, list[int]]:
    dims = [rng.choice([1, 2, 3, 5, 8, 16, 33]) for _ in range(rng.randint(1, 3))]
    b = _Builder(rng, dims)
    for _ in range(rng.randint(3, 14)):
        b.step()
    made = b.values[2:]
    outs = rng.sample(made, min(len(made), rng.randint(1, 3))) if made else b.values[:1]
    b.emit(f"ROOT out = ({', '.join(f32(d) for _, d in outs)}) tuple({', '.join(o for o, _ in outs)})")
    return "HloModule r\n\n" + REDUCERS + "ENTRY e {\n" + "\n".join(b.lines) + "\n}\n", dims


@pytest.mark.parametrize("seed", range(80))
def test_random_module_on_cpu_matches_the_interpreter(seed):
    text, dims = random_module(random.Random(seed * 7919 + 13))
    nr = np.random.default_rng(seed)
    args = [nr.standard_normal(dims).astype(np.float32) for _ in range(2)]
    want = xm.interpret(text, *args)
    for exe in (xm.compile(text, target="cpu", cache=False), xm.compile(text, target="interpreter")):
        got = exe(*args)
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(w, np.float64), rtol=2e-4, atol=1e-5,
                                       equal_nan=True, err_msg=text)


def test_the_cases_that_once_broke_fusion():
    # A reduce's value read by a cheap broadcast copied into another kernel, after the reduce's own
    # kernel took it over: the copy must read the kernel's output.
    text = "HloModule r\n\n" + REDUCERS + """ENTRY e {
  p0 = f32[8] parameter(0)
  c = f32[] constant(-inf)
  r = f32[] reduce(p0, c), dimensions={0}, to_apply=maximum_r
  b = f32[8] broadcast(r), dimensions={}
  s = f32[3] slice(b), slice={[1:6:2]}
  z = f32[] constant(0)
  r2 = f32[] reduce(b, z), dimensions={0}, to_apply=add_r
  b2 = f32[8] broadcast(r2), dimensions={}
  ROOT out = (f32[3], f32[8], f32[]) tuple(s, b2, r2)
}
"""
    x = np.random.default_rng(0).standard_normal(8).astype(np.float32)
    for g, w in zip(xm.compile(text, target="cpu", cache=False)(x), xm.interpret(text, x)):
        np.testing.assert_allclose(g, w, rtol=1e-6)
