"""The StableHLO corpus (tests/stablehlo_corpus): programs as JAX emits them, each read by the
StableHLO reader, run on the interpreter and compiled for the cpu target, against XLA:CPU's outputs.

One test per case runs every stage, so a case reads and compiles once. What the project cannot
run yet is listed in EXPECTED_FAILURES, by case (the reader refuses it) or by `case/stage`
(`interpret` or `cpu`): such a stage must fail, and the test fails when it starts passing, so the
table shrinks as the project grows."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from stablehlo_corpus import corpus

import xla_magic as xm

# Measured by running every case through XLA's own StableHLO -> HLO conversion and the project's
# HLO path (stablehlo_corpus/check_via_hlo.py): what fails there is the interpreter's or the cpu
# backend's; what fails only here is the StableHLO reader's.
EXPECTED_FAILURES: dict[str, str] = {}


def _stage(run: Any, expected: list[np.ndarray], family: str) -> str | None:
    """None when the stage matches XLA:CPU; otherwise why not."""
    try:
        return corpus.compare(run(), expected, family)
    except Exception as e:  # noqa: BLE001 - an error is this stage's failure, reported with the case
        return f"{type(e).__name__}: {str(e).strip().splitlines()[0][:300] if str(e).strip() else ''}"


@pytest.mark.parametrize("name", corpus.CASE_NAMES)
def test_stablehlo_case(name: str) -> None:
    from xla_magic.hlo.stablehlo import parse_stablehlo

    text, args, outs, meta = corpus.load(name)
    if name in EXPECTED_FAILURES:
        with pytest.raises(Exception):  # noqa: B017 - any refusal; a case the reader now reads must leave the table
            parse_stablehlo(text)
        pytest.xfail(EXPECTED_FAILURES[name])
    module = parse_stablehlo(text)
    family = meta["family"]
    failures = {
        "interpret": _stage(lambda: xm.interpret(module, *args), outs, family),
        "cpu": _stage(lambda: xm.compile(module, target="cpu")(*args), outs, family),
    }
    unexpected = [f"{s}: {why}" for s, why in failures.items() if why and f"{name}/{s}" not in EXPECTED_FAILURES]
    now_pass = [s for s, why in failures.items() if not why and f"{name}/{s}" in EXPECTED_FAILURES]
    assert not unexpected, f"{name}: " + "; ".join(unexpected)
    assert not now_pass, f"{name}: {', '.join(now_pass)} now matches XLA: remove it from EXPECTED_FAILURES"
    known = [EXPECTED_FAILURES[f"{name}/{s}"] for s, why in failures.items() if why]
    if known:
        pytest.xfail("; ".join(known))


def test_expected_failures_name_real_cases() -> None:
    stages = {"interpret", "cpu"}
    for key in EXPECTED_FAILURES:
        name, _, stage = key.partition("/")
        assert name in corpus.CASES, f"{key}: no such case"
        assert not stage or stage in stages, f"{key}: stage is one of {sorted(stages)}"


def test_corpus_files_agree_with_manifest() -> None:
    names = {p.name.split(".")[0] for p in corpus.HERE.iterdir() if p.suffix in (".mlir", ".npz")}
    assert names == set(corpus.CASES)
    assert not corpus.MANIFEST["refused"], "cases JAX refused to lower are left out of the table"


def test_comparison_rule_catches_differences() -> None:
    e = np.array([1.0, np.nan, -0.0, np.inf], np.float32)
    assert corpus.mismatch(e.copy(), e, "exact") is None
    assert corpus.mismatch(np.array([1.0, np.nan, 0.0, np.inf], np.float32), e, "exact")  # sign of zero
    assert corpus.mismatch(np.array([1.0, 0.0, -0.0, np.inf], np.float32), e, "elementwise")  # NaN lost
    assert corpus.mismatch(np.array([1.0 + 1e-7, np.nan, -0.0, np.inf], np.float32), e, "elementwise") is None
    assert corpus.mismatch(np.array([1.001, np.nan, -0.0, np.inf], np.float32), e, "elementwise")
    assert corpus.mismatch(e.astype(np.float64), e, "exact")  # dtype
    assert corpus.mismatch(np.array([1, 2], np.int32), np.array([1, 3], np.int32), "model")
    assert corpus.compare((e, e), [e], "exact")  # output count
    f8 = corpus.dtype("float8_e4m3fn")
    assert corpus.mismatch(e.astype(f8), e.astype(f8), "exact") is None
    assert corpus.mismatch(np.abs(e).astype(f8), e.astype(f8), "exact")  # -0 in float8
