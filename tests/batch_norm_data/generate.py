"""Writes xla_cpu.npz: batch-norm-training, -inference and -grad run on XLA:CPU, one module per
(element type, rank, feature_index), epsilons cycling through EPSILONS. Run with a Python that has
jax (not a dependency of the project):  python tests/batch_norm_data/generate.py
Each case `k` is stored as `text{k}` (the HLO module), `in{k}_{j}` and `out{k}_{j}`; bf16 arrays
as their raw uint16 bits, their element type in `dtypes{k}`."""
from __future__ import annotations

from pathlib import Path

import jax
import ml_dtypes
import numpy as np
from jax._src.lib import xla_client as xc

jax.config.update("jax_enable_x64", True)
HERE = Path(__file__).parent
DIMS = (5, 3, 4, 2)
EPSILONS = (1e-3, 1e-5, 0.25)
TYPES = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "bf16": ml_dtypes.bfloat16}


def module_text(t: str, dims: tuple[int, ...], fi: int, eps: float) -> str:
    a = f"{t}[{','.join(map(str, dims))}]"
    f = f"{t}[{dims[fi]}]"
    attrs = f"epsilon={eps!r}, feature_index={fi}"
    return f"""HloModule bn_{t}_r{len(dims)}_f{fi}

ENTRY main {{
  x = {a} parameter(0)
  scale = {f} parameter(1)
  offset = {f} parameter(2)
  mean = {f} parameter(3)
  var = {f} parameter(4)
  dy = {a} parameter(5)
  train = ({a}, {f}, {f}) batch-norm-training(x, scale, offset), {attrs}
  y = {a} get-tuple-element(train), index=0
  m = {f} get-tuple-element(train), index=1
  v = {f} get-tuple-element(train), index=2
  norm = {a} batch-norm-inference(x, scale, offset, mean, var), {attrs}
  grad = ({a}, {f}, {f}) batch-norm-grad(x, scale, mean, var, dy), {attrs}
  dx = {a} get-tuple-element(grad), index=0
  dscale = {f} get-tuple-element(grad), index=1
  doffset = {f} get-tuple-element(grad), index=2
  ROOT out = ({a}, {f}, {f}, {a}, {a}, {f}, {f}) tuple(y, m, v, norm, dx, dscale, doffset)
}}
"""


def inputs(rng: np.random.Generator, npt: type, dims: tuple[int, ...], fi: int) -> list[np.ndarray]:
    nf = dims[fi]
    shape = [1] * len(dims)
    shape[fi] = nf
    centre = rng.uniform(-2, 2, nf).reshape(shape)
    x = rng.standard_normal(dims) * rng.uniform(0.5, 2, nf).reshape(shape) + centre
    scale, offset = rng.uniform(0.5, 2, nf), rng.standard_normal(nf)
    mean, var = rng.uniform(-2, 2, nf), rng.uniform(0.5, 3, nf)
    dy = rng.standard_normal(dims)
    return [np.asarray(a).astype(npt) for a in (x, scale, offset, mean, var, dy)]


def run_on_xla_cpu(text: str, args: list[np.ndarray]) -> list[np.ndarray]:
    m = xc.hlo.hlo_module_from_text(text)
    mlir = xc._xla.mlir.hlo_to_stablehlo(m.as_serialized_hlo_module_proto())
    dev = jax.devices("cpu")[0]
    exe = dev.client.compile_and_load(mlir, xc.DeviceList((dev,)), xc.CompileOptions())
    res = exe.execute_sharded([jax.device_put(a, dev) for a in args])
    return [np.asarray(o[0]) for o in res.disassemble_into_single_device_arrays()]


def raw(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint16) if a.dtype == ml_dtypes.bfloat16 else a


def main() -> None:
    rng = np.random.default_rng(2026)
    entries: dict[str, np.ndarray] = {}
    k = 0
    for t, npt in TYPES.items():
        for rank in (2, 3, 4):
            dims = DIMS[:rank]
            for fi in range(rank):
                text = module_text(t, dims, fi, EPSILONS[k % len(EPSILONS)])
                args = inputs(rng, npt, dims, fi)
                outs = run_on_xla_cpu(text, args)
                entries[f"text{k}"] = np.array(text)
                entries[f"dtype{k}"] = np.array(t)
                entries.update({f"in{k}_{j}": raw(a) for j, a in enumerate(args)})
                entries.update({f"out{k}_{j}": raw(a) for j, a in enumerate(outs)})
                k += 1
    np.savez_compressed(HERE / "xla_cpu.npz", **entries)
    print(f"{k} cases")


if __name__ == "__main__":
    main()
