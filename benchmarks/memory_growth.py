"""Native memory kept per compile over a long session: RSS growth per compile of distinct small
modules, with the in-memory cache full (a small limit) and the disk cache off.

    python benchmarks/memory_growth.py [--compiles 1000] [--warmup 100]

Prints KiB of resident memory gained per compile after warm-up. A dropped executable should
give its memory back, so this stays far below the size of one compiled module."""
from __future__ import annotations

import argparse
import gc
import os
import sys

os.environ["XLA_MAGIC_CACHE_DIR"] = "off"


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def module(k: int) -> str:
    return (f"HloModule m{k}\n\nENTRY e {{\n  x = f32[64] parameter(0)\n"
            f"  c = f32[] constant({k})\n  b = f32[64] broadcast(c), dimensions={{}}\n"
            f"  ROOT r = f32[64] add(x, b)\n}}\n")


def growth_per_compile(compiles: int, warmup: int, cache_entries: int = 8) -> float:
    """Bytes of RSS gained per compile over `compiles` compiles after `warmup` ones."""
    import numpy as np

    import xla_magic as xm
    from xla_magic import api

    api.set_cache_limit(entries=cache_entries)
    x = np.ones(64, np.float32)
    for k in range(warmup):
        xm.compile(module(k), target="cpu")(x)
    gc.collect()
    before = rss_bytes()
    for k in range(warmup, warmup + compiles):
        xm.compile(module(k), target="cpu")(x)
    gc.collect()
    return (rss_bytes() - before) / compiles


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--compiles", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=100)
    a = ap.parse_args()
    per = growth_per_compile(a.compiles, a.warmup)
    print(f"{per / 1024:.1f} KiB of RSS per compile over {a.compiles} compiles "
          f"(after {a.warmup} to warm up)")
    sys.exit(0)
