"""Reference bits of XLA:CPU's rng-bit-generator, for tests/test_rng_bit_generator.py.

Run with a python that has jax (never needed by the tests themselves):

    python tests/rng_data/generate.py

It writes `rng_bit_generator.npz` beside itself: for every case (algorithm, state size, output
type, key, shape) the state and the bits XLA:CPU returns, the bits as the unsigned type of their
width. Cases run as HLO text on XLA:CPU (so that u64[3] states and signed outputs, which
jax.lax.rng_bit_generator does not take, are covered); a few are checked against
jax.lax.rng_bit_generator itself."""
from __future__ import annotations

import pathlib

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
from jax import lax  # noqa: E402
from jax._src.lib import xla_client as xc  # noqa: E402

HERE = pathlib.Path(__file__).parent
ALGORITHMS = [("rng_three_fry", 2), ("rng_philox", 2), ("rng_philox", 3), ("rng_default", 2), ("rng_default", 3)]
DTYPES = ["u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64"]
SHAPES = [(), (0,), (1,), (2,), (3,), (5,), (7,), (8,), (3, 5), (2, 0, 3), (4, 6), (3, 1, 5), (1, 7, 1),
          (5, 3, 3), (2, 3, 4, 5), (9, 7)]
KEYS = [[1, 2, 3], [0, 0, 0], [2**64 - 1, 2**64 - 3, 2**64 - 1], [0xDEADBEEFCAFEBABE, 0x123456789, 2**63]]
SHAPES_PER_KEY = {0: SHAPES, 1: [(5,), (3, 4)], 2: [(7,), (2, 3), (4, 4)], 3: [(6,), (5, 3)]}
LARGE = (1001,)  # one long run per algorithm and width


def dims_text(dims: tuple[int, ...]) -> str:
    return ",".join(map(str, dims))


def module_text(alg: str, n_state: int, dt: str, shapes: list[tuple[int, ...]]) -> str:
    st = f"u64[{n_state}]"
    lines = [f"  s = {st} parameter(0)"]
    outs = []
    for i, dims in enumerate(shapes):
        lines.append(f"  g{i} = ({st}, {dt}[{dims_text(dims)}]) rng-bit-generator(s), algorithm={alg}")
        lines.append(f"  state{i} = {st} get-tuple-element(g{i}), index=0")
        lines.append(f"  bits{i} = {dt}[{dims_text(dims)}] get-tuple-element(g{i}), index=1")
        outs += [f"state{i}", f"bits{i}"]
    shapes_text = []
    for dims in shapes:
        shapes_text += [st, f"{dt}[{dims_text(dims)}]"]
    lines.append(f"  ROOT t = ({', '.join(shapes_text)}) tuple({', '.join(outs)})")
    return "HloModule rbg\n\nENTRY e {\n" + "\n".join(lines) + "\n}\n"


def run_on_xla_cpu(text: str, args: list[np.ndarray]) -> list[np.ndarray]:
    m = xc.hlo.hlo_module_from_text(text)
    mlir = xc._xla.mlir.hlo_to_stablehlo(m.as_serialized_hlo_module_proto())
    dev = jax.devices("cpu")[0]
    exe = dev.client.compile_and_load(mlir, xc.DeviceList((dev,)), xc.CompileOptions())
    res = exe.execute_sharded([jax.device_put(a, dev) for a in args])
    return [np.asarray(o[0]) for o in res.disassemble_into_single_device_arrays()]


def case_name(alg: str, n_state: int, dt: str, key: int, dims: tuple[int, ...]) -> str:
    return f"{alg}/{n_state}/{dt}/{key}/{'x'.join(map(str, dims)) or 'scalar'}"


def unsigned(a: np.ndarray, dt: str) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.dtype(f"u{int(dt[1:]) // 8}"))


def main() -> None:
    data: dict[str, np.ndarray] = {}
    for alg, n_state in ALGORITHMS:
        for dt in DTYPES:
            for k, shapes in SHAPES_PER_KEY.items():
                shapes = list(shapes) + ([LARGE] if k == 0 and dt in ("u32", "u64", "u8") else [])
                state = np.array(KEYS[k][:n_state], np.uint64)
                outs = run_on_xla_cpu(module_text(alg, n_state, dt, shapes), [state])
                for i, dims in enumerate(shapes):
                    name = case_name(alg, n_state, dt, k, dims)
                    st, bits = outs[2 * i], outs[2 * i + 1]
                    assert bits.shape == dims, (name, bits.shape)
                    data[name + "/state"] = st.astype(np.uint64)
                    data[name + "/bits"] = unsigned(bits, dt)
    # jax's own entry point agrees with the HLO text runs (its key is a u32[4] holding a u64[2]).
    for alg, name in ((lax.RandomAlgorithm.RNG_THREE_FRY, "rng_three_fry"),
                      (lax.RandomAlgorithm.RNG_PHILOX, "rng_philox"),
                      (lax.RandomAlgorithm.RNG_DEFAULT, "rng_default")):
        for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
            for dims in ((3, 5), (7,), ()):
                key = np.array(KEYS[0][:2], np.uint64).view(np.uint32)
                def draw(kk, dims=dims, dt=dt, alg=alg):
                    return lax.rng_bit_generator(kk, dims, dtype=dt, algorithm=alg)
                st, bits = jax.jit(draw)(key)
                ref = case_name(name, 2, f"u{np.dtype(dt).itemsize * 8}", 0, dims)
                np.testing.assert_array_equal(np.asarray(bits), data[ref + "/bits"])
                np.testing.assert_array_equal(np.asarray(st).view(np.uint64), data[ref + "/state"])
    save(data)
    print(f"{len(data) // 2} cases, jax {jax.__version__}")


def save(data: dict[str, np.ndarray]) -> None:
    """One array per field (an npz member per case would cost more than the bits): case names,
    states padded to 3 words, and all bits as little-endian bytes with per-case offsets."""
    names = sorted({k.rsplit("/", 1)[0] for k in data})
    states = np.zeros((len(names), 3), np.uint64)
    chunks, offsets = [], [0]
    for i, n in enumerate(names):
        st = data[n + "/state"]
        states[i, :len(st)] = st
        raw = data[n + "/bits"].astype(data[n + "/bits"].dtype.newbyteorder("<")).tobytes()
        chunks.append(np.frombuffer(raw, np.uint8))
        offsets.append(offsets[-1] + len(raw))
    np.savez_compressed(HERE / "rng_bit_generator.npz", names=np.array(names), states=states,
                        offsets=np.array(offsets, np.int64), bits=np.concatenate(chunks))


if __name__ == "__main__":
    main()
