"""Writes evaluator_reference.npz: small HLO modules on the sub-byte integers and the small
floats, their inputs and XLA:CPU's outputs, for the interpreter to match (test_evaluator_small_types).

Run with a Python that has jax (never needed by the tests):  python make_evaluator_reference.py
Each case `k` stores `k/text` (the module, as bytes), `k/in0`, `k/in1`, ... and `k/out0`, ... as plain
int8/float32/bool arrays (exact for every value of these types), so the file loads without
ml_dtypes. Ops XLA refuses for a type (abs of an unsigned type, ...) are left out."""
from __future__ import annotations

import itertools
from pathlib import Path

import jax
import ml_dtypes
import numpy as np
from jax._src.lib import xla_client as xc

jax.config.update("jax_enable_x64", True)
DEV = jax.devices("cpu")[0]

INTS = {"s4": ml_dtypes.int4, "u4": ml_dtypes.uint4, "s2": ml_dtypes.int2, "u2": ml_dtypes.uint2}
FLOATS = {"f8e4m3fn": ml_dtypes.float8_e4m3fn, "f8e5m2": ml_dtypes.float8_e5m2,
          "f8e4m3fnuz": ml_dtypes.float8_e4m3fnuz, "f8e5m2fnuz": ml_dtypes.float8_e5m2fnuz,
          "f8e4m3b11fnuz": ml_dtypes.float8_e4m3b11fnuz, "f8e4m3": ml_dtypes.float8_e4m3,
          "f8e3m4": ml_dtypes.float8_e3m4, "f8e8m0fnu": ml_dtypes.float8_e8m0fnu,
          "f4e2m1fn": ml_dtypes.float4_e2m1fn}
TYPES = {**INTS, **FLOATS}
OTHERS = {"pred": np.bool_, "s8": np.int8, "s32": np.int32, "u8": np.uint8, "u64": np.uint64, "f16": np.float16,
          "bf16": ml_dtypes.bfloat16, "f32": np.float32, "f64": np.float64}
ALL = {**OTHERS, **TYPES}
BINARY = ["add", "subtract", "multiply", "divide", "remainder", "maximum", "minimum", "power", "atan2", "and", "or",
          "xor", "shift-left", "shift-right-logical", "shift-right-arithmetic"]
UNARY = ["negate", "abs", "sign", "not", "popcnt", "count-leading-zeros", "floor", "ceil", "round-nearest-even",
         "round-nearest-afz", "sqrt", "rsqrt", "exponential", "log", "tanh", "logistic", "sine", "cosine",
         "exponential-minus-one", "log-plus-one", "cbrt", "erf"]
PRED_UNARY = ["is-finite"]


def run(text: str, *args: np.ndarray) -> list[np.ndarray]:
    m = xc.hlo.hlo_module_from_text(text)
    mlir = xc._xla.mlir.hlo_to_stablehlo(m.as_serialized_hlo_module_proto())
    exe = DEV.client.compile_and_load(mlir, xc.DeviceList((DEV,)), xc.CompileOptions())
    res = exe.execute_sharded([jax.device_put(a, DEV) for a in args])
    return [np.asarray(o[0]) for o in res.disassemble_into_single_device_arrays()]


def plain(x: np.ndarray) -> np.ndarray:
    """int8 for the integers that fit, int64 for the rest, float32 (or f64) for floats, bool for pred."""
    if x.dtype == np.bool_:
        return x
    name = next(k for k, v in ALL.items() if np.dtype(v) == x.dtype)
    if name in ("f64",):
        return x
    if name[0] in "su":
        return x.astype(np.int8 if name in INTS or name in ("s8",) else np.int64)
    return x.astype(np.float32)


def module(params: list[str], roots: list[str], comps: str = "") -> str:
    ps = "\n".join(f"  p{i} = {s} parameter({i})" for i, s in enumerate(params))
    body = "\n".join(f"  c{i} = {r}" for i, r in enumerate(roots))
    shapes = ", ".join(r.split(" ")[0] for r in roots)
    names = ", ".join(f"c{i}" for i in range(len(roots)))
    return f"HloModule m\n{comps}\nENTRY e {{\n{ps}\n{body}\n  ROOT r = ({shapes}) tuple({names})\n}}\n"


def values(t: str) -> np.ndarray:
    """Every value of a sub-byte integer; a spread of bit patterns (specials included) of a float."""
    npt = TYPES[t]
    if t in INTS:
        info = ml_dtypes.iinfo(npt)
        return np.arange(int(info.min), int(info.max) + 1).astype(npt)
    n = 16 if t == "f4e2m1fn" else 256
    pats = np.arange(n, dtype=np.uint8)
    if n == 256:
        rng = np.random.default_rng(7)
        pats = np.unique(np.concatenate([rng.choice(pats, 12, replace=False), [0, 1, 0x7F, 0x80, 0x81, 0xFF, 0x7E,
                                                                               0xFE, 0x38, 0x3C, 0x40, 0xB8]]))
    if t == "f8e8m0fnu":  # (2^-127 is an f32 denormal, which XLA:CPU flushes and this project keeps)
        pats = pats[pats != 0]
    return pats.astype(np.uint8).view(npt)


Case = tuple[list[str], list[str], str, list[np.ndarray]]  # parameter shapes, root expressions, computations, inputs


def cases(t: str) -> dict[str, Case]:
    """Groups of roots, each a module; a root whose parameters are unused reads p{k} of its own."""
    npt = TYPES[t]
    v = values(t)
    a, b = (np.array(list(p), npt) for p in zip(*itertools.product(v, v)))
    n, m = a.size, v.size
    out: dict[str, Case] = {}
    two = [f"{t}[{n}]", f"{t}[{n}]"]
    out[f"{t}/binary"] = (two, [f"{t}[{n}] {op}(p0, p1)" for op in BINARY], "", [a, b])
    out[f"{t}/compare"] = (two, [f"pred[{n}] compare(p0, p1), direction={d}"
                                 for d in ("EQ", "NE", "LT", "LE", "GT", "GE")], "", [a, b])
    out[f"{t}/select-clamp"] = (two, [f"{t}[{n}] select(c0, p0, p1)", f"{t}[{n}] clamp(p1, p0, p1)",
                                      f"{t}[{n}] clamp(p0, p1, p0)"], "", [a, b])
    out[f"{t}/unary"] = ([f"{t}[{m}]"], [f"{t}[{m}] {op}(p0)" for op in UNARY] + [f"pred[{m}] is-finite(p0)"],
                         "", [v])
    others = [d for d in ALL if d != t]
    out[f"{t}/convert-to"] = ([f"{t}[{m}]"], [f"{d}[{m}] convert(p0)" for d in others], "", [v])
    # (from the small types: their convert-to, every pair)
    src = np.concatenate([np.arange(-20, 21), [0.3, -0.7, 2.5, -2.5, 1e30, -1e30, 300]])
    with np.errstate(all="ignore"):
        xs = [src.astype(OTHERS[d]) for d in OTHERS]
    out[f"{t}/convert-from"] = ([f"{d}[{src.size}]" for d in OTHERS],
                                [f"{t}[{src.size}] convert(p{i})" for i in range(len(OTHERS))], "", xs)
    # reductions, windows, scatter, sort, dot, iota, constants on small values
    small = [1, 2, 3, 0, -1, -2] if t[0] == "s" else [1, 2, 3, 0] if t[0] == "u" else (
        [0.5, 1, 2, 4, 0.25] if t == "f8e8m0fnu" else [0.5, 1, 2, 1.5, 0, -1, -0.5, 3])
    rng = np.random.default_rng(sum(map(ord, t)))
    x = rng.choice(small, (6, 8)).astype(npt)
    y = rng.choice(small, (8, 4)).astype(npt)
    comps = "".join(f"{k} {{ a = {t}[] parameter(0) b = {t}[] parameter(1) ROOT c = {t}[] {op}(a, b) }}\n"
                    for k, op in (("add", "add"), ("mx", "maximum"), ("mn", "minimum"), ("mul", "multiply")))
    comps += f"lt {{ a = {t}[] parameter(0) b = {t}[] parameter(1) ROOT c = pred[] compare(a, b), direction=LT }}\n"
    idx = np.array([[0], [2], [0], [5], [2]], np.int32)
    upd = rng.choice(small, (5, 8)).astype(npt)
    roots = [f"{t}[] constant(1)"]
    roots += [f"{t}[6] reduce(p0, c0), dimensions={{1}}, to_apply={k}" for k in ("add", "mx", "mn", "mul")]
    roots += [f"{t}[8] reduce(p0, c0), dimensions={{0}}, to_apply=add"]
    roots += [f"{t}[6,4] reduce-window(p0, c0), window={{size=2x3 pad=1_0x0_1 stride=1x2}}, to_apply={k}"
              for k in ("add", "mx", "mn")]
    roots += [*([] if t in ("s2", "u2") else [f"{t}[6,8] sort(p0), dimensions={{1}}, to_apply=lt"]),  # (XLA:CPU
              # corrupts its heap sorting 2-bit types)
              f"{t}[6,4] dot(p0, p1), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}",
              f"{t}[20] iota(), iota_dimension=0",
              f"{t}[4] constant({{0, 1, 1, 0}})",
              f"{t}[8,10] pad(p0, c0), padding=1_1x1_1"]
    roots += [f"{t}[6,8] scatter(p0, p2, p3), update_window_dims={{1}}, inserted_window_dims={{0}}, "
              f"scatter_dims_to_operand_dims={{0}}, index_vector_dim=1, to_apply={k}" for k in ("add", "mx")]
    out[f"{t}/structured"] = ([f"{t}[6,8]", f"{t}[8,4]", "s32[5,1]", f"{t}[5,8]"], roots, comps, [x, y, idx, upd])
    return out


def accepted(params: list[str], roots: list[str], comps: str, args: list[np.ndarray]) -> list[str]:
    """The roots XLA compiles for these types (each alone; c0 stays the first root)."""
    keep = []
    for r in roots:
        try:
            run(module(params, [*keep[:1], r] if "c0" in r else [r], comps), *args)
            keep.append(r)
        except jax.errors.JaxRuntimeError:
            print("refused:", r.split(",")[0])
    return keep


def main() -> None:
    store: dict[str, np.ndarray] = {}
    for t in TYPES:
        for k, (params, roots, comps, args) in cases(t).items():
            if k.endswith("select-clamp"):
                roots = [f"pred[{args[0].size}] compare(p0, p1), direction=LT", *roots]
            else:
                roots = accepted(params, roots, comps, args)
            text = module(params, roots, comps)
            store[f"{k}/text"] = np.array(text.encode())
            for i, x in enumerate(args):
                store[f"{k}/in{i}"] = plain(x)
            for i, o in enumerate(run(text, *args)):
                store[f"{k}/out{i}"] = plain(o)
    np.savez_compressed(Path(__file__).with_name("evaluator_reference.npz"), **store)
    print(len(store), "arrays")


if __name__ == "__main__":
    main()
