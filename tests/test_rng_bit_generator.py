"""rng-bit-generator bit for bit as XLA:CPU draws it: the interpreter's numpy generators, their
expansion into HLO (`passes.rng_bits`) and the cpu backend running that expansion, against
reference bits from jaxlib 0.10.2 (`rng_data/generate.py` made them)."""
from __future__ import annotations

import pathlib
from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest

import xla_magic as xm
from xla_magic.backends.gpu import hostsim
from xla_magic.hlo.evaluator import EvaluationError
from xla_magic.hlo.verifier import verify_module
from xla_magic.passes.pipeline import optimize
from xla_magic.passes.rng_bits import expand_rng_bit_generators, split_halves

DATA = pathlib.Path(__file__).parent / "rng_data" / "rng_bit_generator.npz"
# The states the generator script used, indexed by a case's key number (a 2-word state: the first two).
KEYS = [[1, 2, 3], [0, 0, 0], [2**64 - 1, 2**64 - 3, 2**64 - 1], [0xDEADBEEFCAFEBABE, 0x123456789, 2**63]]
GROUPS = [(a, n, dt) for a, n in [("rng_three_fry", 2), ("rng_philox", 2), ("rng_philox", 3), ("rng_default", 2),
                                  ("rng_default", 3)]
          for dt in ["u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64"]]


@dataclass(frozen=True)
class Case:
    algorithm: str
    words: int  # of the u64 state
    dtype: str
    key: int
    dims: tuple[int, ...]
    state: np.ndarray  # after the call
    bits: np.ndarray  # as the unsigned type of the output's width

    @property
    def state_in(self) -> np.ndarray:
        return np.array(KEYS[self.key][:self.words], np.uint64)


@cache
def cases() -> tuple[Case, ...]:
    d = np.load(DATA)
    names, states, offsets, raw = d["names"], d["states"], d["offsets"], d["bits"]
    out = []
    for i, name in enumerate(names):
        alg, words, dt, key, shape = str(name).split("/")
        dims = () if shape == "scalar" else tuple(int(x) for x in shape.split("x"))
        width = int(dt[1:]) // 8
        bits = np.frombuffer(raw[offsets[i]:offsets[i + 1]].tobytes(), np.dtype(f"<u{width}")).reshape(dims)
        out.append(Case(alg, int(words), dt, int(key), dims, states[i][:int(words)], bits.astype(f"u{width}")))
    return tuple(out)


def group(alg: str, words: int, dt: str) -> list[Case]:
    return [c for c in cases() if (c.algorithm, c.words, c.dtype) == (alg, words, dt)]


def module_text(alg: str, words: int, dt: str, shapes: list[tuple[int, ...]]) -> str:
    """One rng-bit-generator per shape, all on the state parameter; the root holds their results."""
    st = f"u64[{words}]"
    lines, results = [f"  s = {st} parameter(0)"], []
    for i, dims in enumerate(shapes):
        lines.append(f"  g{i} = ({st}, {dt}[{','.join(map(str, dims))}]) rng-bit-generator(s), algorithm={alg}")
        results.append(f"({st}, {dt}[{','.join(map(str, dims))}])")
    lines.append(f"  ROOT t = ({', '.join(results)}) tuple({', '.join(f'g{i}' for i in range(len(shapes)))})")
    return "HloModule rbg\n\nENTRY e {\n" + "\n".join(lines) + "\n}\n"


def assert_case(c: Case, got_state: np.ndarray, got_bits: np.ndarray) -> None:
    label = f"{c.algorithm} u64[{c.words}] {c.dtype}{list(c.dims)} key {c.key}"
    got_bits = np.asarray(got_bits)
    assert got_bits.dtype == np.dtype(xm.hlo.dtypes.dtype(c.dtype).np), label
    assert got_bits.shape == c.dims, label
    np.testing.assert_array_equal(np.asarray(got_state), c.state, err_msg=label + " (state)")
    np.testing.assert_array_equal(got_bits.view(c.bits.dtype), c.bits, err_msg=label)


def run_cases(run, cs: list[Case]) -> None:
    """`run(text, state)` on modules holding the cases of one state each."""
    for key in sorted({c.key for c in cs}):
        mine = [c for c in cs if c.key == key]
        out = run(module_text(mine[0].algorithm, mine[0].words, mine[0].dtype, [c.dims for c in mine]),
                  mine[0].state_in)
        leaves = list(_leaves(out))
        assert len(leaves) == 2 * len(mine)
        for k, c in enumerate(mine):
            assert_case(c, leaves[2 * k], leaves[2 * k + 1])


def _leaves(v):
    if isinstance(v, tuple):
        for x in v:
            yield from _leaves(x)
    else:
        yield v


def test_reference_data_covers_every_group():
    assert len(DATA.read_bytes()) < 300_000
    for g in GROUPS:
        cs = group(*g)
        assert len(cs) >= 20 and {c.key for c in cs} == {0, 1, 2, 3}, g
    assert any(c.dims == () for c in cases()) and any(0 in c.dims for c in cases())


@pytest.mark.parametrize("alg,words,dt", GROUPS, ids=[f"{a}-{n}-{d}" for a, n, d in GROUPS])
def test_interpreter_matches_xla(alg, words, dt):
    run_cases(lambda text, s: xm.interpret(text, s), group(alg, words, dt))


def _interpret_expanded(text: str, state: np.ndarray):
    m = xm.parse_hlo(text)
    assert expand_rng_bit_generators(m)
    verify_module(m)
    assert "rng-bit-generator" not in m.to_text()
    return xm.interpret(m, state)


# The expansion interpreted: every group on the shapes that exercise the layout rules.
LAYOUT_SHAPES = [(), (0,), (1,), (7,), (3, 1, 5), (5, 3, 3), (2, 3, 4, 5)]


@pytest.mark.parametrize("alg,words,dt", GROUPS, ids=[f"{a}-{n}-{d}" for a, n, d in GROUPS])
def test_expansion_matches_xla(alg, words, dt):
    cs = [c for c in group(alg, words, dt) if c.dims in LAYOUT_SHAPES or c.key == 2]
    run_cases(_interpret_expanded, cs)


# The cpu backend: every algorithm, width and signedness; scalars, empty and odd shapes, a long
# run, and counters that wrap around (key 2). One compile per case: each costs.
CPU_CASES = [("rng_three_fry", 2, "u32", (3, 1, 5), 0), ("rng_three_fry", 2, "u32", (1001,), 0),
             ("rng_three_fry", 2, "u32", (7,), 2), ("rng_three_fry", 2, "u64", (), 0),
             ("rng_three_fry", 2, "u64", (2, 3), 2), ("rng_three_fry", 2, "s8", (4, 6), 0),
             ("rng_three_fry", 2, "s16", (2, 0, 3), 0), ("rng_philox", 2, "u32", (1001,), 0),
             ("rng_philox", 2, "u32", (7,), 2), ("rng_philox", 2, "s64", (3, 1, 5), 0),
             ("rng_philox", 3, "u8", (7,), 0), ("rng_philox", 3, "u8", (4, 4), 2),
             ("rng_philox", 3, "u64", (1001,), 0), ("rng_philox", 3, "u64", (2, 3), 2),
             ("rng_philox", 3, "s32", (), 0), ("rng_default", 2, "u16", (5, 3, 3), 0),
             ("rng_default", 3, "u32", (2, 3, 4, 5), 0)]


@pytest.mark.parametrize("alg,words,dt,dims,key", CPU_CASES,
                         ids=[f"{a}-{n}-{d}-{'x'.join(map(str, s))}-{k}" for a, n, d, s, k in CPU_CASES])
def test_cpu_matches_xla(alg, words, dt, dims, key):
    (c,) = [c for c in group(alg, words, dt) if c.dims == dims and c.key == key]
    run_cases(lambda text, s: xm.compile(text, target="cpu")(s), [c])


@pytest.mark.parametrize("alg,words,dt,dims,key", [("rng_three_fry", 2, "u16", (3, 1, 5), 0),
                                                    ("rng_philox", 3, "u64", (2, 3), 2),
                                                    ("rng_default", 2, "u32", (1001,), 0)])
def test_gpu_code_on_the_host_matches_xla(alg, words, dt, dims, key):
    if not hostsim.available()[0]:
        pytest.skip("no C++ compiler for the host simulation")
    (c,) = [c for c in group(alg, words, dt) if c.dims == dims and c.key == key]
    run_cases(lambda text, s: hostsim.compile(optimize(xm.parse_hlo(text), target="gpu")[0])(s), [c])


def test_cpu_runs_the_expansion_in_one_loop_kernel():
    exe = xm.compile(module_text("rng_philox", 2, "u32", [(3, 5)]), target="cpu")
    assert "rng-bit-generator" not in exe.report.hlo_after
    assert "rng-bit-generator-expander" in [r.name for r in exe.report.passes if r.changed]


def test_split_halves_follows_prng():
    assert split_halves(()) == ((1,), -1)
    assert split_halves((3, 4, 6)) == ((3, 2, 1, 6), 1)  # the first even dimension
    assert split_halves((3, 7, 7)) == ((3, 4, 1, 7), 1)  # else the first largest


@pytest.mark.parametrize("state,data,alg,message", [
    ("u32[4]", "u32[5]", "rng_philox", "u64[2 or 3], not u32[4]"),
    ("u64[3]", "u32[5]", "rng_three_fry", "u64[2], not u64[3]"),
    ("u64[1]", "u32[5]", "rng_default", "u64[2 or 3], not u64[1]"),
    ("u64[2]", "pred[5]", "rng_philox", "not pred"),
])
def test_states_and_outputs_xla_refuses_are_clear_errors(state, data, alg, message):
    text = f"HloModule t\nENTRY e {{\n  s = {state} parameter(0)\n  ROOT r = ({state}, {data}) rng-bit-generator(s), " \
           f"algorithm={alg}\n}}"
    m = xm.parse_hlo(text)
    assert not expand_rng_bit_generators(m)  # left to the backend, which refuses it by name
    with pytest.raises(EvaluationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        xm.interpret(text, np.zeros(int(state.split("[")[1][:-1]), state[0] + "int" + state[1:3]))


@pytest.mark.parametrize("spelling,same_as", [("THREE_FRY", "rng_three_fry"), ("philox", "rng_philox"),
                                              ("DEFAULT", "rng_philox")])
def test_stablehlo_spellings_of_the_algorithm(spelling, same_as):
    (c,) = [c for c in group(same_as, 2, "u32") if c.dims == (3, 5) and c.key == 0]
    text = module_text(spelling, 2, "u32", [(3, 5)])
    st, bits = xm.interpret(text, c.state_in)
    assert_case(c, st, bits)
    m = xm.parse_hlo(text)
    assert expand_rng_bit_generators(m)
    st, bits = xm.interpret(m, c.state_in)
    assert_case(c, st, bits)


def test_four_bit_outputs_keep_the_low_bits_as_xla():
    # XLA:CPU (jaxlib 0.10.2): u4[5] from rng_default with the state u64[2] {1, 2}
    text = "HloModule t\nENTRY e {\n  s = u64[2] parameter(0)\n  ROOT r = (u64[2], u4[5]) rng-bit-generator(s), " \
           "algorithm=rng_default\n}"
    st, bits = xm.interpret(text, np.uint64([1, 2]))
    np.testing.assert_array_equal(st, [1, 4])
    np.testing.assert_array_equal(bits.astype(np.uint8), [9, 8, 7, 9, 14])
