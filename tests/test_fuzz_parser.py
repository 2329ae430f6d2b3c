"""No input text makes parse_hlo raise anything but HloParseError or HloVerifyError.

Hypothesis mutates, truncates and splices the corpus files (thousands of cases); the parser
verifies by default, so the verifier is fuzzed through the same door. Mutants that verify run on
the interpreter and the cpu and must agree (a new seed each run, printed; XLA_MAGIC_FUZZ_SEED
replays it, XLA_MAGIC_FUZZ_MUTANTS sets how many)."""
from __future__ import annotations

import os
import random
import re
import sys

from conftest import CORPUS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xla_magic as xm
from xla_magic.hlo.evaluator import EvaluationError

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


# --- mutants that verify run the same on the interpreter and the cpu ---------------------------

MUTATION_SEED = int(os.environ.get("XLA_MAGIC_FUZZ_SEED") or random.SystemRandom().randrange(1 << 31))
MUTANTS = int(os.environ.get("XLA_MAGIC_FUZZ_MUTANTS") or 1000)
# Mutations that keep a module valid more often than character noise does.
_SEMANTIC = ["f32", "s32", "add", "multiply", "subtract", "maximum", "negate", "exponential", "tanh",
             "dimensions={0}", "dimensions={1}", "{0,1}", "{1,0}", "2", "3", "1", "0", "LT", "GT"]


def _random_mutation(rng: random.Random, text: str):
    kind = rng.choice(["word", "word", "word", "digit", "dup_line", "swap_lines", "delete", "insert"])
    a = rng.randrange(10**6)
    if kind == "word":  # swap one word for another of the same family
        words = [m for m in re.finditer(r"[a-z][a-z0-9-]*|\d+|[A-Z]{2}", text)]
        if not words:
            return ("insert", a, rng.choice(TOKENS))
        w = words[a % len(words)]
        return ("span", w.start(), (w.end(), rng.choice(_SEMANTIC)))
    if kind == "digit":
        return (kind, a, rng.choice(["0", "1", "2", "7", "-1"]))
    if kind == "delete":
        return (kind, a, rng.randint(1, 20))
    if kind == "insert":
        return (kind, a, rng.choice(TOKENS))
    return (kind, a, rng.randrange(10**6))


def _mutate(text: str, m) -> str:
    if m[0] == "span":
        start, (end, word) = m[1], m[2]
        return text[:start] + word + text[end:]
    return _apply(text, m)


def _args_for(module, rng) -> list:
    import numpy as np

    out = []
    for p in module.entry.parameters:
        sh = p.shape
        if sh.is_tuple:
            return []
        if sh.element_type.np is None:
            return []
        dt = np.dtype(sh.element_type.np)
        if dt.kind == "f":
            out.append(rng.standard_normal(sh.dims).astype(dt))
        elif dt.kind == "b":
            out.append(rng.random(sh.dims) < 0.5)
        else:
            out.append(rng.integers(0, 4, sh.dims).astype(dt))
    return out


def _comparators_are_orders(module) -> bool:
    """Whether every sort comparator is irreflexive and antisymmetric on a few sample values. A
    mutated comparator that is not an order (less(a, b) and less(b, a) both true) leaves the sorted
    order unspecified, in XLA as here: each target may then return its own permutation."""
    import numpy as np

    from xla_magic.hlo.evaluator import make_plan, run_plan
    from xla_magic.hlo.opcodes import Opcode

    for comp in module.computations:
        for i in comp.instructions:
            if i.opcode is not Opcode.SORT:
                continue
            less = i.attrs["to_apply"]
            plan = make_plan(less)
            params = less.parameters
            samples = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0]
            def call(x: float, y: float, plan=plan, params=params) -> bool:
                vals = [np.asarray(x if k % 2 == 0 else y).astype(p.shape.element_type.np_dtype)
                        for k, p in enumerate(params)]
                return bool(run_plan(plan, vals))

            if any(call(a, b) and (a == b or call(b, a)) for a in samples for b in samples):
                return False
    return True


def run_mutant(text: str, seed: int) -> str | None:
    """None when the mutant is refused with a clear error, or verifies and runs the same on the
    interpreter and the cpu; else what went wrong."""
    import numpy as np
    from fuzz_modules import BACKEND_GAPS, close

    try:
        m = xm.parse_hlo(text)
    except (xm.HloParseError, xm.HloVerifyError):
        return None
    except Exception as e:  # noqa: BLE001 - the finding
        return f"parse raised {type(e).__name__}: {e}"
    if any(f" {op}(" in text for op in BACKEND_GAPS) or not _comparators_are_orders(m):
        return None
    args = _args_for(m, np.random.default_rng(seed))
    if len(args) != len(m.entry.parameters):
        return None
    try:
        want = xm.interpret(m, *[a.copy() for a in args])
    except EvaluationError as e:
        if "custom-call" in str(e):  # XLA verifies any target; the interpreter runs the ones it knows
            return None
        return f"the interpreter raised {type(e).__name__}: {e}"
    except Exception as e:  # noqa: BLE001
        return f"the interpreter raised {type(e).__name__}: {e}"
    try:
        got = xm.compile(text, target="cpu", cache=False)(*[a.copy() for a in args])
    except Exception as e:  # noqa: BLE001
        return f"cpu raised {type(e).__name__}: {e}"
    want, got = (want if isinstance(want, tuple) else (want,)), (got if isinstance(got, tuple) else (got,))
    for k, (g, w) in enumerate(zip(got, want)):
        if not close(np.asarray(g), np.asarray(w)):
            return f"cpu output {k} differs"
    return None


def mutants(seed: int, count: int):
    rng = random.Random(seed)
    for k in range(count):
        text = rng.choice(TEXTS)
        for _ in range(rng.randint(1, 2)):
            text = _mutate(text, _random_mutation(rng, text))
        yield seed + k, text


def test_mutants_that_verify_run_the_same_on_the_interpreter_and_cpu():
    print(f"\nmutation seed: XLA_MAGIC_FUZZ_SEED={MUTATION_SEED} ({MUTANTS} mutants)")
    failures = []
    for k, text in mutants(MUTATION_SEED, MUTANTS):
        why = run_mutant(text, k)
        if why is not None:
            failures.append(f"{why}\n{text}")
            if len(failures) >= 3:
                break
    assert not failures, f"mutation seed {MUTATION_SEED}:\n" + "\n\n".join(failures)
