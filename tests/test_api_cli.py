"""The public API's argument checks and the command line, as a user drives them."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import CASE_NAMES, CORPUS, assert_matches, load_case

import xla_magic as xm

SMALL = """HloModule m

ENTRY main {
  x = f32[2,3] parameter(0)
  y = f32[2,3] parameter(1)
  ROOT r = f32[2,3] add(x, y)
}
"""


def test_interpret_checks_argument_count_shape_and_dtype_by_name():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(TypeError, match=r"expected 2 arguments \(x: f32\[2,3\], y: f32\[2,3\]\), got 1"):
        xm.interpret(SMALL, x)
    with pytest.raises(ValueError, match=r"argument 1 \('y'\): expected shape \(2, 3\)"):
        xm.interpret(SMALL, x, np.ones((3, 2), np.float32))
    with pytest.raises(TypeError, match=r"argument 1 \('y'\): expected dtype f32"):
        xm.interpret(SMALL, x, np.ones((2, 3), np.float64))
    with pytest.raises(TypeError, match=r"argument 0 \('x'\)"):
        xm.interpret(SMALL, "not an array", x)


def test_non_contiguous_inputs_are_copied_and_results_are_fresh():
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = base[:2, :3]  # a strided view
    y = np.ones((2, 3), np.float32)
    out = xm.interpret(SMALL, x, y)
    np.testing.assert_array_equal(out, x + 1)
    ident = "HloModule m\n\nENTRY e {\n  ROOT x = f32[3] parameter(0)\n}\n"
    a = np.arange(3, dtype=np.float32)
    r = xm.interpret(ident, a)
    assert r is not a and not np.shares_memory(r, a)


def test_python_scalars_take_the_parameter_type():
    text = "HloModule m\n\nENTRY e {\n  x = f32[] parameter(0)\n  ROOT n = f32[] negate(x)\n}\n"
    r = xm.interpret(text, 2.5)
    assert r.dtype == np.float32 and r == -2.5


def test_compile_interpreter_out_argument():
    exe = xm.compile(SMALL, target="interpreter")
    out = np.empty((2, 3), np.float32)
    res = exe(np.ones((2, 3), np.float32), np.ones((2, 3), np.float32), out=out)
    assert res is out and (out == 2).all()
    with pytest.raises(ValueError, match="out: expected shape"):
        exe(np.ones((2, 3), np.float32), np.ones((2, 3), np.float32), out=np.empty((3, 2), np.float32))
    with pytest.raises(ValueError, match="unknown target"):
        xm.compile(SMALL, target="tpu")


def test_tuple_results_come_back_as_tuples():
    text, args, outs, meta = load_case("tuple_output")
    got = xm.interpret(text, *args)
    assert isinstance(got, tuple) and len(got) == len(outs)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_interpreter_matches_the_corpus(case):
    text, args, outs, meta = load_case(case)
    got = xm.interpret(text, *[a.copy() for a in args])
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(outs)
    for g, e, om in zip(got, outs, meta["outputs"]):
        assert_matches(g, e, om)


def _cli(*argv, cwd=None):
    return subprocess.run([sys.executable, "-m", "xla_magic", *argv], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_cli_parse_prints_canonical_text():
    r = _cli("parse", str(CORPUS / "softmax.hlo"))
    assert r.returncode == 0, r.stderr
    assert xm.parse_hlo(r.stdout) == xm.parse_hlo((CORPUS / "softmax.hlo").read_text())


def test_cli_parse_reports_the_error_with_a_caret(tmp_path):
    bad = tmp_path / "bad.hlo"
    bad.write_text("HloModule m\nENTRY e {\n  x = f32[2] parameter(0)\n  ROOT y = f32[2] frob(x)\n}\n")
    r = _cli("parse", str(bad))
    assert r.returncode == 1
    assert "line 4, column 19: unknown opcode 'frob'" in r.stderr and "^" in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_run_writes_the_corpus_convention(tmp_path):
    out = tmp_path / "out.npz"
    r = _cli("run", str(CORPUS / "layernorm.hlo"), "--inputs", str(CORPUS / "layernorm.npz"), "--out", str(out))
    assert r.returncode == 0, r.stderr
    text, args, outs, meta = load_case("layernorm")
    z = np.load(out)
    for k, (e, om) in enumerate(zip(outs, meta["outputs"])):
        assert_matches(z[f"out{k}"], e, om)


def test_cli_run_every_corpus_case(tmp_path):
    # One process for the whole corpus: the CLI's main() called in-process.
    from xla_magic.cli import main

    for case in CASE_NAMES:
        out = tmp_path / f"{case}.npz"
        assert main(["run", str(CORPUS / f"{case}.hlo"), "--inputs", str(CORPUS / f"{case}.npz"),
                     "--out", str(out)]) == 0
        text, args, outs, meta = load_case(case)
        z = np.load(out)
        for k, (e, om) in enumerate(zip(outs, meta["outputs"])):
            got = z[f"out{k}"]
            if e.dtype != got.dtype:  # bf16 outputs are stored as float32, exactly
                assert got.dtype == np.float32 and np.array_equal(got.astype(e.dtype).astype(np.float32), got)
                got = got.astype(e.dtype)
            assert_matches(got, e, om)


def test_cli_run_missing_inputs_is_a_clear_error():
    r = _cli("run", str(CORPUS / "softmax.hlo"))
    assert r.returncode != 0 and "--inputs" in (r.stderr + r.stdout) and "Traceback" not in r.stderr


def test_cli_compile_emits_plan_ir_and_asm():
    r = _cli("compile", str(CORPUS / "softmax.hlo"), "--emit", "plan")
    assert r.returncode == 0, r.stderr
    assert "kernels on cpu" in r.stdout and "arena" in r.stdout
    r = _cli("compile", str(CORPUS / "softmax.hlo"), "--emit", "asm")
    assert r.returncode == 0 and "k.reduce" in r.stdout
    r = _cli("compile", str(CORPUS / "softmax.hlo"), "--emit", "hlo")
    assert xm.parse_hlo(r.stdout).entry.root is not None and "fusion(" in r.stdout


def test_cli_bench_reports_medians_and_speedup():
    r = _cli("bench", str(CORPUS / "layernorm.hlo"), "--inputs", str(CORPUS / "layernorm.npz"), "--seconds", "0.05")
    assert r.returncode == 0, r.stderr
    assert "median" in r.stdout and "speedup" in r.stdout


# --- every failure is one line: `xla-magic: error: ...`, a non-zero status, no traceback ------

def _cli_error(capsys, *argv) -> str:
    """stderr's one line of the failing command (main() in-process: an exception would escape)."""
    from xla_magic.cli import main

    assert main([str(a) for a in argv]) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("xla-magic: error: ") and len(err.splitlines()) == 1, err
    return err


@pytest.fixture
def bad_files(tmp_path):
    good = CORPUS / "softmax.npz"
    (tmp_path / "truncated.npz").write_bytes(good.read_bytes()[:300])
    data = bytearray(good.read_bytes())
    data[1500] ^= 0xFF  # inside arg0's compressed bytes: the archive opens, the member does not
    (tmp_path / "corrupt.npz").write_bytes(bytes(data))
    (tmp_path / "latin1.hlo").write_bytes(b"HloModule m\n// caf\xe9\nENTRY e { ROOT x = f32[2] parameter(0) }\n")
    np.savez(tmp_path / "names.npz", x=np.zeros((16, 64), np.float32))
    np.savez(tmp_path / "shape.npz", arg0=np.zeros((3, 3), np.float32))
    np.save(tmp_path / "one.npy", np.zeros((16, 64), np.float32))
    return tmp_path


@pytest.mark.parametrize("argv, message", [
    (["run", "{softmax}", "--inputs", "{d}/truncated.npz"], "{d}/truncated.npz is not a readable .npz archive"),
    (["bench", "{softmax}", "--inputs", "{d}/truncated.npz"], "{d}/truncated.npz is not a readable .npz archive"),
    (["run", "{softmax}", "--inputs", "{d}/corrupt.npz"], "cannot read 'arg0' from {d}/corrupt.npz"),
    (["run", "{softmax}", "--inputs", "{d}/one.npy"], "{d}/one.npy is not an .npz archive"),
    (["run", "{softmax}", "--inputs", "{d}/missing.npz"], "cannot read inputs {d}/missing.npz: No such file"),
    (["run", "{softmax}", "--inputs", "{d}/names.npz"], "{d}/names.npz has no 'arg0' for parameter 0 "
                                                        "('x.1': f32[16,64]); it holds x"),
    (["run", "{softmax}", "--inputs", "{d}/shape.npz"], "expected shape (16, 64)"),
    (["run", "{softmax}", "--inputs", "{softmax_npz}", "--out", "{d}/no/such/dir/o.npz"],
     "cannot write --out {d}/no/such/dir/o.npz: No such file or directory"),
    (["parse", "{d}/latin1.hlo"], "{d}/latin1.hlo is not UTF-8 text (byte 0xe9 at offset 18)"),
    (["parse", "{d}/missing.hlo"], "cannot read {d}/missing.hlo: No such file or directory"),
    (["parse", "{d}"], "cannot read {d}: Is a directory"),
    (["compile", "{softmax}", "--emit", "sass"], "--emit sass: the cpu target has no sass to show (it has hlo"),
    (["aot", "{softmax}", "-o", "{softmax_npz}"], "cannot write into {softmax_npz}: it exists and is not a folder"),
    (["aot", "{softmax}", "-o", "{d}/truncated.npz/sub"], "cannot create the folder {d}/truncated.npz/sub"),
])
def test_cli_errors_are_one_line(capsys, bad_files, argv, message):
    names = {"d": bad_files, "softmax": CORPUS / "softmax.hlo", "softmax_npz": CORPUS / "softmax.npz"}
    err = _cli_error(capsys, *[a.format(**names) for a in argv])
    assert message.format(**names) in err


def test_cli_error_exit_status_and_stderr(tmp_path):
    (tmp_path / "t.npz").write_bytes(b"PK\x03\x04 not really")
    r = _cli("run", str(CORPUS / "softmax.hlo"), "--inputs", str(tmp_path / "t.npz"))
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("xla-magic: error: ") and "Traceback" not in r.stderr
