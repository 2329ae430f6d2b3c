"""No input text makes parse_hlo raise anything but HloParseError or HloVerifyError.

Hypothesis mutates, truncates and splices the corpus files (thousands of cases); the parser
verifies by default, so the verifier is fuzzed through the same door."""
from __future__ import annotations

import sys

from conftest import CORPUS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xla_magic as xm

# Small and mid-sized files keep thousands of cases quick; big ones appear through splices.
TEXTS = [p.read_text() for p in sorted(CORPUS.glob("*.hlo")) if p.stat().st_size < 6000]
ALL_TEXTS = [p.read_text() for p in sorted(CORPUS.glob("*.hlo"))]
TOKENS = ["(", ")", "{", "}", "[", "]", ",", "=", "%", "ROOT ", "ENTRY ", "f32[]", "s32[2,3]{1,0}", "pred[]",
          "parameter(0)", "parameter(7)", "constant({...})", "constant(1e400)", "{...}", "/*", "*/", '"', "\\",
          "dimensions={9}", "dimensions={-1}", "slice={[0:99]}", "to_apply=%main", "index=42", "tuple()",
          "->", "x", "0", "-1", "99999999999999999999", "nan", "inf", "\n", " ", "\t", "<=", "{1,0:T(8,128)}",
          "window={size=0x0}", "dim_labels=b01f_01io->b01f", "padding=-5_-5_0", "calls=%e",
          "fusion(", "while(", "kind=kLoop", "( ( ( (", "} } }", "\x00", "é"]


def _check(text: str) -> None:
    try:
        xm.parse_hlo(text)
    except (xm.HloParseError, xm.HloVerifyError) as e:
        assert str(e)  # every error has a message
        if isinstance(e, xm.HloParseError):
            assert e.line >= 1 and e.column >= 1


mutation = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 200)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.sampled_from(TOKENS)),
    st.tuples(st.just("insert_text"), st.integers(0, 10**6), st.text(max_size=8)),
    st.tuples(st.just("replace_char"), st.integers(0, 10**6), st.characters()),
    st.tuples(st.just("dup_line"), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.just("swap_lines"), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.just("digit"), st.integers(0, 10**6), st.sampled_from(["0", "1", "7", "-1", "65536", "2147483648"])),
)


def _apply(text: str, m) -> str:
    kind, a, b = m
    if not text:
        return text
    i = a % (len(text) + 1)
    if kind == "delete":
        return text[:i] + text[i + b:]
    if kind in ("insert", "insert_text"):
        return text[:i] + b + text[i:]
    if kind == "replace_char":
        return text[:i] + b + text[i + 1:]
    if kind == "digit":
        j = next((k for k in range(i, len(text)) if text[k].isdigit()), None)
        return text if j is None else text[:j] + b + text[j + 1:]
    lines = text.split("\n")
    x, y = a % len(lines), b % len(lines)
    if kind == "dup_line":
        lines.insert(y, lines[x])
    else:
        lines[x], lines[y] = lines[y], lines[x]
    return "\n".join(lines)


@settings(max_examples=2500, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.integers(0, len(TEXTS) - 1), st.lists(mutation, min_size=1, max_size=4))
def test_mutated_corpus_gives_only_clear_errors(idx, mutations):
    text = TEXTS[idx]
    for m in mutations:
        text = _apply(text, m)
    _check(text)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.integers(0, len(ALL_TEXTS) - 1), st.integers(0, 10**6))
def test_truncated_corpus_gives_only_clear_errors(idx, cut):
    text = ALL_TEXTS[idx]
    _check(text[: cut % (len(text) + 1)])


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.integers(0, len(TEXTS) - 1), st.integers(0, len(TEXTS) - 1), st.integers(0, 10**6),
       st.integers(0, 10**6))
def test_spliced_corpus_gives_only_clear_errors(i, j, a, b):
    s, t = TEXTS[i], TEXTS[j]
    _check(s[: a % (len(s) + 1)] + t[b % (len(t) + 1):])


def test_deep_nesting_stays_below_the_recursion_limit():
    n = sys.getrecursionlimit() * 2
    for text in ["HloModule m\nENTRY e {\n  x = " + "(" * n + "f32[]" + ")" * n + " parameter(0)\n}",
                 "HloModule m\nENTRY e {\n  x = f32[1] constant(" + "{" * n + "1" + "}" * n + ")\n}",
                 "HloModule m\nENTRY e {\n  x = f32[] parameter(0), metadata=" + "{" * n + "}" * n + "\n}",
                 "HloModule m\nENTRY e {\n  x = f32[] parameter(0), metadata=" + "/*" * n + "\n}"]:
        _check(text)


def test_long_call_chains_do_not_recurse():
    # 3000 computations each calling the next: verifying and interpreting must not recurse per level.
    n = 3000
    parts = ["HloModule chain"]
    parts.append("c0 {\n  p = f32[] parameter(0)\n  ROOT n = f32[] negate(p)\n}")
    for k in range(1, n):
        parts.append(f"c{k} {{\n  p = f32[] parameter(0)\n  ROOT r = f32[] call(p), to_apply=c{k - 1}\n}}")
    parts.append(f"ENTRY e {{\n  p = f32[] parameter(0)\n  ROOT r = f32[] call(p), to_apply=c{n - 1}\n}}")
    text = "\n".join(parts)
    try:
        m = xm.parse_hlo(text)
    except xm.HloVerifyError as e:  # a depth cap is acceptable: it must be a clear error
        assert "deep" in str(e) or "depth" in str(e)
        return
    import numpy as np

    try:
        out = xm.interpret(m, np.float32(2))
    except Exception as e:  # noqa: BLE001 - only a clear, non-recursion error is acceptable
        assert not isinstance(e, RecursionError), e
        assert "deep" in str(e) or "depth" in str(e)
    else:
        assert out == np.float32(2)  # 3000 negations
