"""No input text makes parse_stablehlo raise anything but StableHloParseError (malformed text) or
HloVerifyError (shapes that do not agree): mutants of the samples in tests/stablehlo_samples, with
fixed seeds."""
from __future__ import annotations

import pathlib
import random
import re
import sys

import pytest

import xla_magic as xm
from xla_magic.hlo.stablehlo import StableHloParseError, parse_stablehlo

SAMPLES = pathlib.Path(__file__).parent / "stablehlo_samples"
TEXTS = [p.read_text() for p in sorted(SAMPLES.glob("*.mlir")) if p.stat().st_size < 12000]
TOKENS = ["(", ")", "{", "}", "[", "]", "<", ">", ",", "=", ":", "%", "%0", "%arg0", "#0", "#7", ":2", "->", "x",
          "tensor<f32>", "tensor<?xf32>", "tensor<*xf32>", "tuple<>", "!stablehlo.token", "complex<f32>", "i1", "ui4",
          "dense<", "dense<[1, 2]>", 'dense<"0x0000">', "array<i64: 1>", "#stablehlo<", "loc(", "#loc9", "@main",
          "stablehlo.return", "return", "func.func", "^bb0(", "dims = [0]", "dim = 9", "-1", "99999999999999999999",
          "0x7FC00000", "nan", "inf", "\n", " ", '"', "\\", "(%x init: %c)", "applies", "cond", "do", "reducer",
          "x[0]", "[0:1]", "\x00", "é", "{-#", "#-}", "//"]
WORDS = ["stablehlo.add", "stablehlo.tanh", "stablehlo.reduce", "stablehlo.while", "stablehlo.case", "f32", "i32",
         "i1", "f64", "bf16", "0", "1", "2", "LT", "GE", "FLOAT", "SIGNED", "[0]", "[1, 0]", "@main", "%0", "%arg0"]


def _mutate(rng: random.Random, text: str) -> str:
    kind = rng.choice(["delete", "insert", "char", "dup_line", "swap_lines", "digit", "word", "word", "truncate"])
    i = rng.randrange(len(text) + 1)
    if kind == "delete":
        return text[:i] + text[i + rng.randint(1, 40):]
    if kind == "insert":
        return text[:i] + rng.choice(TOKENS) + text[i:]
    if kind == "char":
        return text[:i] + chr(rng.randrange(32, 127)) + text[i + 1:]
    if kind == "truncate":
        return text[:i]
    if kind == "digit":
        m = re.compile(r"\d+").search(text, i)
        return text if m is None else text[:m.start()] + rng.choice(["0", "1", "3", "-1", "65536"]) + text[m.end():]
    if kind == "word":
        words = list(re.finditer(r"[\w.%@]+|\[[\d, ]*\]", text))
        if not words:
            return text
        w = rng.choice(words)
        return text[:w.start()] + rng.choice(WORDS) + text[w.end():]
    lines = text.split("\n")
    a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
    if kind == "dup_line":
        lines.insert(b, lines[a])
    else:
        lines[a], lines[b] = lines[b], lines[a]
    return "\n".join(lines)


def _check(text: str) -> None:
    try:
        parse_stablehlo(text)
    except StableHloParseError as e:
        assert e.line >= 1 and e.column >= 1 and str(e)
    except xm.HloVerifyError as e:
        assert str(e)


@pytest.mark.parametrize("seed", range(8))
def test_mutants_give_only_clear_errors(seed):
    rng = random.Random(seed)
    for _ in range(100):
        text = rng.choice(TEXTS)
        for _ in range(rng.randint(1, 3)):
            text = _mutate(rng, text)
        _check(text)


def test_deep_nesting_stays_below_the_recursion_limit():
    n = sys.getrecursionlimit() * 2
    body = "func.func @main(%arg0: {t}) -> tensor<f32> {{\n  return %arg0 : tensor<f32>\n}}"
    texts = [
        body.format(t="tuple<" * n + "tensor<f32>" + ">" * n),
        "func.func @main() -> tensor<1xf32> {\n  %0 = stablehlo.constant dense<" + "[" * n + "1.0" + "]" * n
        + "> : tensor<1xf32>\n  return %0 : tensor<1xf32>\n}",
        "func.func @main(%arg0: tensor<f32>) -> tensor<f32> {\n  %0 = stablehlo.custom_call @f(%arg0) {x = "
        + "[" * n + "]" * n + "} : (tensor<f32>) -> tensor<f32>\n  return %0 : tensor<f32>\n}",
        "func.func @main(%arg0: tensor<f32>) -> tensor<f32> {\n  return %arg0 : tensor<f32> loc("
        + "\"a\"(" * n + "unknown" + ")" * n + ")\n}",
        "func.func @main(%arg0: tensor<i1>) -> tensor<f32> {\n" + '  %0 = "stablehlo.if"(%arg0) ({\n' * n + "}",
    ]
    for text in texts:
        _check(text)


def test_long_call_chains_do_not_recurse():
    n = 3000  # each function calls the next: reading must not recurse per level
    parts = ["func.func private @f0(%a: tensor<f32>) -> tensor<f32> {\n  %0 = stablehlo.negate %a : tensor<f32>\n"
             "  return %0 : tensor<f32>\n}"]
    for k in range(1, n):
        parts.append(f"func.func private @f{k}(%a: tensor<f32>) -> tensor<f32> {{\n  %0 = call @f{k - 1}(%a) : "
                     f"(tensor<f32>) -> tensor<f32>\n  return %0 : tensor<f32>\n}}")
    parts.append(f"func.func @main(%a: tensor<f32>) -> tensor<f32> {{\n  %0 = call @f{n - 1}(%a) : "
                 "(tensor<f32>) -> tensor<f32>\n  return %0 : tensor<f32>\n}")
    try:
        m = parse_stablehlo("\n".join(parts))
    except xm.HloVerifyError as e:  # the verifier's depth cap is a clear error too
        assert "deep" in str(e) or "depth" in str(e)
    else:
        assert len(m.computations) == n + 1


def test_recursive_functions_are_refused():
    text = ("func.func @main(%a: tensor<f32>) -> tensor<f32> {\n  %0 = call @g(%a) : (tensor<f32>) -> tensor<f32>\n"
            "  return %0 : tensor<f32>\n}\nfunc.func private @g(%a: tensor<f32>) -> tensor<f32> {\n"
            "  %0 = call @main(%a) : (tensor<f32>) -> tensor<f32>\n  return %0 : tensor<f32>\n}")
    with pytest.raises(StableHloParseError, match="recursively") as info:
        parse_stablehlo(text)
    assert info.value.line == 6
