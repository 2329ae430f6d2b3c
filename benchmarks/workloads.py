"""The benchmark workloads W1-W6 as HLO text, with inputs and a numpy op-by-op reference.

Each workload is (name, hlo_text, make_inputs(rng) -> list of arrays, numpy_fn(*arrays) -> result)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

ADD = "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT s = f32[] add(a, b)\n}\n"
MAX = "max {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT s = f32[] maximum(a, b)\n}\n"


@dataclass
class Workload:
    name: str
    what: str
    hlo: str
    inputs: Callable[[np.random.Generator], list]
    numpy: Callable  # fn(*arrays, xp=np): numpy op by op, or jax.numpy under jax.jit


def _chain(n_ops: int = 100, shape=(1, 64)) -> tuple[str, Callable]:
    """A SyntaxNet-like chain: scaling, adds, tanh, max, negate, exp, on a small vector."""
    dims = ",".join(map(str, shape))
    t = f"f32[{dims}]"
    lines = [f"  x = {t} parameter(0)", f"  w = {t} parameter(1)"]
    steps = []
    cur = "x"
    for k in range(n_ops):
        kind = k % 6
        name = f"v{k}"
        if kind == 0:
            lines.append(f"  c{k} = f32[] constant({0.5 + 0.01 * k})")
            lines.append(f"  b{k} = {t} broadcast(c{k}), dimensions={{}}")
            lines.append(f"  {name} = {t} multiply({cur}, b{k})")
            steps.append(("mul", 0.5 + 0.01 * k))
        elif kind == 1:
            lines.append(f"  {name} = {t} add({cur}, w)")
            steps.append(("addw", None))
        elif kind == 2:
            lines.append(f"  {name} = {t} tanh({cur})")
            steps.append(("tanh", None))
        elif kind == 3:
            lines.append(f"  {name} = {t} maximum({cur}, w)")
            steps.append(("maxw", None))
        elif kind == 4:
            lines.append(f"  {name} = {t} negate({cur})")
            steps.append(("neg", None))
        else:
            lines.append(f"  {name} = {t} exponential({cur})")
            steps.append(("exp", None))
        cur = name
    lines.append(f"  ROOT out = {t} copy({cur})")
    text = "HloModule w1_chain\n\nENTRY main {\n" + "\n".join(lines) + "\n}\n"

    def ref(x, w, xp=np):
        v = x
        for kind, c in steps:
            if kind == "mul":
                v = v * np.float32(c)
            elif kind == "addw":
                v = v + w
            elif kind == "tanh":
                v = xp.tanh(v)
            elif kind == "maxw":
                v = xp.maximum(v, w)
            elif kind == "neg":
                v = -v
            else:
                v = xp.exp(v)
        return v

    return text, ref


def w1() -> Workload:
    text, ref = _chain()
    return Workload("W1", "chain of 100 elementwise ops, f32[1,64]", text,
                    lambda r: [r.standard_normal((1, 64)).astype(np.float32) * 0.1,
                               r.standard_normal((1, 64)).astype(np.float32) * 0.1], ref)


def w2(n: int = 16 * 1024 * 1024) -> Workload:
    t = f"f32[{n}]"
    text = f"""HloModule w2_gelu

ENTRY main {{
  x = {t} parameter(0)
  half = f32[] constant(0.5)
  one = f32[] constant(1)
  k = f32[] constant(0.7978845608)
  c = f32[] constant(0.044715)
  hb = {t} broadcast(half), dimensions={{}}
  ob = {t} broadcast(one), dimensions={{}}
  kb = {t} broadcast(k), dimensions={{}}
  cb = {t} broadcast(c), dimensions={{}}
  x2 = {t} multiply(x, x)
  x3 = {t} multiply(x2, x)
  cx3 = {t} multiply(cb, x3)
  inner = {t} add(x, cx3)
  s = {t} multiply(kb, inner)
  th = {t} tanh(s)
  onep = {t} add(ob, th)
  hx = {t} multiply(hb, x)
  ROOT y = {t} multiply(hx, onep)
}}
"""

    def ref(x, xp=np):
        return np.float32(0.5) * x * (np.float32(1) + xp.tanh(np.float32(0.7978845608) *
                                                             (x + np.float32(0.044715) * x * x * x)))

    return Workload("W2", f"gelu-tanh, f32[{n}]", text, lambda r: [r.standard_normal(n).astype(np.float32)], ref)


def w3(rows: int = 4096, cols: int = 1024) -> Workload:
    t, v = f"f32[{rows},{cols}]", f"f32[{rows}]"
    text = f"""HloModule w3_softmax

{ADD}{MAX}ENTRY main {{
  x = {t} parameter(0)
  ninf = f32[] constant(-inf)
  zero = f32[] constant(0)
  m = {v} reduce(x, ninf), dimensions={{1}}, to_apply=max
  mb = {t} broadcast(m), dimensions={{0}}
  d = {t} subtract(x, mb)
  e = {t} exponential(d)
  s = {v} reduce(e, zero), dimensions={{1}}, to_apply=add
  sb = {t} broadcast(s), dimensions={{0}}
  ROOT y = {t} divide(e, sb)
}}
"""

    def ref(x, xp=np):
        e = xp.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return Workload("W3", f"softmax over rows, {t}", text,
                    lambda r: [r.standard_normal((rows, cols)).astype(np.float32)], ref)


def w4(rows: int = 4096, cols: int = 1024) -> Workload:
    t, v, g = f"f32[{rows},{cols}]", f"f32[{rows}]", f"f32[{cols}]"
    text = f"""HloModule w4_layernorm

{ADD}ENTRY main {{
  x = {t} parameter(0)
  gamma = {g} parameter(1)
  beta = {g} parameter(2)
  zero = f32[] constant(0)
  n = f32[] constant({1.0 / cols})
  eps = f32[] constant(1e-5)
  s = {v} reduce(x, zero), dimensions={{1}}, to_apply=add
  nb = {v} broadcast(n), dimensions={{}}
  mean = {v} multiply(s, nb)
  mb = {t} broadcast(mean), dimensions={{0}}
  d = {t} subtract(x, mb)
  d2 = {t} multiply(d, d)
  ss = {v} reduce(d2, zero), dimensions={{1}}, to_apply=add
  var = {v} multiply(ss, nb)
  eb = {v} broadcast(eps), dimensions={{}}
  ve = {v} add(var, eb)
  r = {v} rsqrt(ve)
  rb = {t} broadcast(r), dimensions={{0}}
  y0 = {t} multiply(d, rb)
  gb = {t} broadcast(gamma), dimensions={{1}}
  bb = {t} broadcast(beta), dimensions={{1}}
  y1 = {t} multiply(y0, gb)
  ROOT y = {t} add(y1, bb)
}}
"""

    def ref(x, gamma, beta, xp=np):
        mean = x.mean(axis=1, keepdims=True)
        d = x - mean
        var = (d * d).mean(axis=1, keepdims=True)
        return d / xp.sqrt(var + np.float32(1e-5)) * gamma + beta

    return Workload("W4", f"layernorm, {t}", text,
                    lambda r: [r.standard_normal((rows, cols)).astype(np.float32),
                               r.standard_normal(cols).astype(np.float32), r.standard_normal(cols).astype(np.float32)],
                    ref)


def w5(m: int = 256, k: int = 1024, n: int = 1024) -> Workload:
    text = f"""HloModule w5_dense

ENTRY main {{
  x = f32[{m},{k}] parameter(0)
  w = f32[{k},{n}] parameter(1)
  b = f32[{n}] parameter(2)
  d = f32[{m},{n}] dot(x, w), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}
  bb = f32[{m},{n}] broadcast(b), dimensions={{1}}
  a = f32[{m},{n}] add(d, bb)
  ROOT y = f32[{m},{n}] tanh(a)
}}
"""
    return Workload("W5", f"tanh(x@W+b), x f32[{m},{k}], W f32[{k},{n}]", text,
                    lambda r: [r.standard_normal((m, k)).astype(np.float32) * 0.05,
                               r.standard_normal((k, n)).astype(np.float32) * 0.05,
                               r.standard_normal(n).astype(np.float32)],
                    lambda x, w, b, xp=np: xp.tanh(x @ w + b))


def w6(hidden: int = 256) -> Workload:
    h4 = 4 * hidden
    v, g = f"f32[1,{hidden}]", f"f32[1,{h4}]"
    text = f"""HloModule w6_lstm

ENTRY main {{
  x = {v} parameter(0)
  h = {v} parameter(1)
  c = {v} parameter(2)
  wih = f32[{hidden},{h4}] parameter(3)
  whh = f32[{hidden},{h4}] parameter(4)
  b = f32[{h4}] parameter(5)
  xw = {g} dot(x, wih), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}
  hw = {g} dot(h, whh), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}
  s = {g} add(xw, hw)
  bb = {g} broadcast(b), dimensions={{1}}
  z = {g} add(s, bb)
  zi = {v} slice(z), slice={{[0:1], [0:{hidden}]}}
  zf = {v} slice(z), slice={{[0:1], [{hidden}:{2 * hidden}]}}
  zg = {v} slice(z), slice={{[0:1], [{2 * hidden}:{3 * hidden}]}}
  zo = {v} slice(z), slice={{[0:1], [{3 * hidden}:{h4}]}}
  i = {v} logistic(zi)
  f = {v} logistic(zf)
  gg = {v} tanh(zg)
  o = {v} logistic(zo)
  fc = {v} multiply(f, c)
  ig = {v} multiply(i, gg)
  c2 = {v} add(fc, ig)
  tc = {v} tanh(c2)
  h2 = {v} multiply(o, tc)
  ROOT out = ({v}, {v}) tuple(h2, c2)
}}
"""

    def ref(x, h, c, wih, whh, b, xp=np):
        z = x @ wih + h @ whh + b
        sig = lambda a: 1 / (1 + xp.exp(-a))  # noqa: E731
        i, f, g_, o = (z[:, k * hidden:(k + 1) * hidden] for k in range(4))
        c2 = sig(f) * c + sig(i) * xp.tanh(g_)
        return sig(o) * xp.tanh(c2), c2

    def inputs(r):
        return [r.standard_normal((1, hidden)).astype(np.float32), r.standard_normal((1, hidden)).astype(np.float32),
                r.standard_normal((1, hidden)).astype(np.float32),
                (r.standard_normal((hidden, h4)) * 0.05).astype(np.float32),
                (r.standard_normal((hidden, h4)) * 0.05).astype(np.float32), r.standard_normal(h4).astype(np.float32)]

    return Workload("W6", f"LSTM cell step, batch 1, hidden {hidden}", text, inputs, ref)


ALL = [w1, w2, w3, w4, w5, w6]

# A module unlike the workloads, compiled once so that compile times are measured warm.
WARMUP = ("HloModule warmup\n\nENTRY e {\n  x = f32[8] parameter(0)\n  y = f32[8] parameter(1)\n"
          "  t = f32[8] tanh(x)\n  e = f32[8] exponential(y)\n  l = f32[8] logistic(t)\n"
          "  ROOT r = f32[8] add(l, e)\n}\n")
