"""Differential fuzzing with a new seed every run: random modules over every opcode family
(tests/fuzz_modules.py) through parse -> print -> parse, the verifier, the reference interpreter,
the optimized interpreter, the cpu target and the gpu target's code generation; a few also run
the generated CUDA in the host simulation.

The seed is printed (pytest -s, or in the failure); replay a run with XLA_MAGIC_FUZZ_SEED=<seed>,
and make it longer with XLA_MAGIC_FUZZ_COUNT=<modules>. About half a minute of CI (600 modules)."""
from __future__ import annotations

import os
import random

from fuzz_modules import check_case, random_case

from xla_magic.backends.gpu import hostsim

SEED = int(os.environ.get("XLA_MAGIC_FUZZ_SEED") or random.SystemRandom().randrange(1 << 31))
COUNT = int(os.environ.get("XLA_MAGIC_FUZZ_COUNT") or 600)
SIMULATED = 3  # modules (the first ones) also run in the host simulation: each is a C++ build


def _failure(seed: int, why: str, text: str) -> str:
    return f"module seed {seed} (replay: XLA_MAGIC_FUZZ_SEED={seed} XLA_MAGIC_FUZZ_COUNT=1): {why}\n{text}"


def test_random_modules_agree_on_every_target():
    print(f"\nfuzz seed: XLA_MAGIC_FUZZ_SEED={SEED} ({COUNT} modules)")
    sim = hostsim.available()[0]
    failures = []
    for k in range(COUNT):
        seed = SEED + k
        text, args = random_case(seed)
        why = check_case(text, args, hostsim=sim and k < SIMULATED)
        if why is not None:
            failures.append(_failure(seed, why, text))
            if len(failures) >= 3:
                break
    assert not failures, f"fuzz seed {SEED}:\n" + "\n\n".join(failures)

