"""The planner and the code generators agree: every fused computation the planner makes passes
`passes.emittable` (the rules the backends enforce), and both backends then build it."""
from __future__ import annotations

import numpy as np
import pytest
from fuzz_modules import random_case

import xla_magic as xm
from xla_magic.backends import gpu
from xla_magic.hlo.opcodes import Opcode as O
from xla_magic.passes.emittable import emittable
from xla_magic.passes.pipeline import optimize

REDUCERS = "add_r {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT s = f32[] add(a, b)\n}\n"

# A dynamic-update-slice whose buffer is a cheap broadcast that is also an output: the update's
# producers read the broadcast, which must not be copied into the in-place kernel.
DUS_OF_A_COMPUTED_BUFFER = """HloModule m

ENTRY e {
  p = f32[] parameter(0)
  v1 = f32[3] broadcast(p), dimensions={}
  v2 = f32[1] slice(v1), slice={[0:1]}
  v3 = f32[] reshape(v2)
  v4 = f32[1] broadcast(v3), dimensions={}
  i = s8[] constant(-3)
  v6 = f32[3] dynamic-update-slice(v1, v4, i)
  ROOT out = (f32[3], f32[3]) tuple(v6, v1)
}
"""

# A reduction over a slice of exp(p0): the exp joined the reduction's kernel, and a second kernel
# copying in the cheap slice then needed exp's value, an output of shape f32[8,2,5] in a reduction
# over (1,1,1).
OUTPUT_OF_ANOTHER_SPACE = "HloModule m\n\n" + REDUCERS + """br_t {
  x = f32[8,2,5] parameter(0)
  ROOT y = f32[8,2,5] exponential(x)
}
br_f {
  x = f32[8,2,5] parameter(0)
  ROOT y = f32[8,2,5] negate(x)
}
ENTRY e {
  p0 = f32[8,2,5] parameter(0)
  v2 = f32[8,2,5] exponential(p0)
  v6 = f32[1,1,1] slice(v2), slice={[7:8:1], [0:1:2], [2:4:2]}
  z = f32[] constant(0)
  v8 = f32[1,1] reduce(v6, z), dimensions={0}, to_apply=add_r
  v9 = f32[1,1,1] broadcast(v8), dimensions={1,2}
  v18 = f32[1,1,1] slice(v6), slice={[0:1], [0:1], [0:1]}
  v19 = f32[] reshape(v18)
  v21 = pred[] compare(v19, z), direction=GT
  v22 = f32[8,2,5] conditional(v21, p0, p0), true_computation=br_t, false_computation=br_f
  ROOT out = (f32[8,2,5], f32[1,1,1]) tuple(v22, v9)
}
"""

# A per-row sum broadcast back along its rows, then reversed across rows: inside the row kernel
# only the current row's sum exists, so the reverse must not join it.
ROW_VALUE_READ_AT_ANOTHER_ROW = "HloModule m\n\n" + REDUCERS + """ENTRY e {
  p1 = f32[5,3,2] parameter(0)
  z = f32[] constant(0)
  v2 = f32[5,3] reduce(p1, z), dimensions={2}, to_apply=add_r
  v3 = f32[5,3,2] broadcast(v2), dimensions={0,1}
  v10 = f32[5,3,2] reverse(v3), dimensions={0}
  ROOT v14 = f32[5,3,2] divide(v10, p1)
}
"""


def _fusions_emittable(text: str, target: str) -> None:
    m, _ = optimize(xm.parse_hlo(text), target=target)
    for c in m.computations:
        for i in c.instructions:
            if i.opcode is O.FUSION:
                assert emittable(i.attrs["calls"]) is None, (i.name, emittable(i.attrs["calls"]))


@pytest.mark.parametrize("text", [DUS_OF_A_COMPUTED_BUFFER, OUTPUT_OF_ANOTHER_SPACE, ROW_VALUE_READ_AT_ANOTHER_ROW],
                         ids=["dus", "reduction", "other-row"])
def test_plans_the_backends_once_refused(text):
    rng = np.random.default_rng(0)
    m = xm.parse_hlo(text)
    args = [rng.standard_normal(p.shape.dims).astype(np.float32) for p in m.entry.parameters]
    want = xm.interpret(text, *args)
    got = xm.compile(text, target="cpu", cache=False)(*args)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)
    for target in ("cpu", "gpu"):
        _fusions_emittable(text, target)
    gpu.generate(optimize(xm.parse_hlo(text), target="gpu")[0])  # no Unsupported, no device needed


@pytest.mark.parametrize("seed", range(40))
def test_every_fused_computation_of_random_modules_is_emittable(seed):
    text, _ = random_case(seed)
    for target in ("cpu", "gpu"):
        _fusions_emittable(text, target)


def test_the_contract_names_what_a_backend_refuses():
    m = xm.parse_hlo("HloModule m\n\n" + REDUCERS + """fused {
  p = f32[5] parameter(0)
  l = f32[5] log-plus-one(p)
  z = f32[] constant(0)
  pd = f32[9] pad(l, z), padding=0_4
  r = f32[] reduce(pd, z), dimensions={0}, to_apply=add_r
  ROOT t = (f32[], f32[5]) tuple(r, l)
}
ENTRY e {
  p = f32[5] parameter(0)
  ROOT f = (f32[], f32[5]) fusion(p), kind=kInput, calls=fused
}
""")
    why = emittable(m.computation("fused"))
    assert why is not None and "output l of shape f32[5] in a reduction over (9,)" in why


def test_the_contract_refuses_a_per_row_value_read_at_another_row():
    m, _ = optimize(xm.parse_hlo(ROW_VALUE_READ_AT_ANOTHER_ROW), target="cpu")
    fused = [c for c in m.computations if any(i.opcode is O.REDUCE for i in c.instructions) and
             any(i.opcode is O.REVERSE for i in c.instructions)]
    assert not fused  # the reverse reads the broadcast sums from memory
