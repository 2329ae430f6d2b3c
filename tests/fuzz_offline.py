"""Both fuzzers over many modules, offline (not collected by pytest):

    PYTHONPATH=$PWD python tests/fuzz_offline.py differential 10000 [first_seed]
    PYTHONPATH=$PWD python tests/fuzz_offline.py mutants 10000 [first_seed]

Prints a running count, then every kind of disagreement with the seeds that show it (replay one
with XLA_MAGIC_FUZZ_SEED=<seed> XLA_MAGIC_FUZZ_COUNT=1 on tests/test_fuzz_differential.py)."""
from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fuzz_modules import check_case, random_case  # noqa: E402
from test_fuzz_parser import mutants, run_mutant  # noqa: E402


def main(kind: str, count: int, first: int) -> None:
    found: dict[str, list[int]] = defaultdict(list)
    t0 = time.time()
    cases = ((s, None) for s in range(first, first + count)) if kind == "differential" else mutants(first, count)
    for n, (seed, text) in enumerate(cases, 1):
        try:
            if kind == "differential":
                text, args = random_case(seed)
                why = check_case(text, args)
            else:
                why = run_mutant(text, seed)
        except Exception as e:  # noqa: BLE001 - the harness itself must not stop the run
            why = f"harness {type(e).__name__}: {e}"
        if why is not None:
            found[why.split("\n")[0][:160]].append(seed)
        if n % 500 == 0 or n == count:
            print(f"{n} {kind} in {time.time() - t0:.0f}s, {sum(map(len, found.values()))} disagreements",
                  flush=True)
    for why, seeds in sorted(found.items(), key=lambda x: -len(x[1])):
        print(f"{len(seeds)} x {why}  seeds {seeds[:10]}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0)
