"""One entry point for programs: HLO or StableHLO text told apart by content, jax stage objects
read without importing jax, `%%hlo --from`, and the CLI on StableHLO files."""
from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import xla_magic as xm
from xla_magic.cli import main
from xla_magic.hlo.formats import text_format
from xla_magic.programs import jax_stage, source_of

ROOT = Path(__file__).resolve().parent.parent

STABLEHLO = """module @jit_f attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4xf32>) -> (tensor<4xf32> {jax.result_info = "result"}) {
    %0 = stablehlo.sine %arg0 : tensor<4xf32>
    %cst = stablehlo.constant dense<2.000000e+00> : tensor<f32>
    %1 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<4xf32>
    %2 = stablehlo.multiply %0, %1 : tensor<4xf32>
    return %2 : tensor<4xf32>
  }
}
"""

HLO = """HloModule jit_f
ENTRY main {
  x = f32[4] parameter(0)
  s = f32[4] sine(x)
  c = f32[] constant(2)
  b = f32[4] broadcast(c), dimensions={}
  ROOT m = f32[4] multiply(s, b)
}
"""

X = np.linspace(-2, 2, 4, dtype=np.float32)


def _stage_class(name: str) -> type:
    """A class that looks like jax's stage `name` to a reader that does not import jax."""
    return types.new_class(name, (), {}, lambda ns: ns.update({"__module__": "jax._src.stages"}))


class FakeLowered(_stage_class("Lowered")):  # type: ignore[misc]
    def as_text(self, dialect=None, *, debug_info=False):
        return STABLEHLO


class FakeCompiled(_stage_class("Compiled")):  # type: ignore[misc]
    def as_text(self):
        return HLO


def test_formats_are_told_apart_by_content():
    assert text_format(STABLEHLO) == "stablehlo"
    assert text_format(HLO) == "hlo"
    assert text_format("ENTRY e { ROOT x = f32[] parameter(0) }") == "hlo"


def test_parse_reads_both_formats_to_the_same_program():
    a, b = xm.parse(STABLEHLO), xm.parse(HLO)
    np.testing.assert_allclose(xm.interpret(a, X), xm.interpret(b, X), rtol=1e-6)
    np.testing.assert_allclose(xm.compile(STABLEHLO)(X), np.sin(X) * 2, rtol=1e-6)


def test_jax_stages_are_recognised_by_their_type_only():
    assert jax_stage(FakeLowered()) == "Lowered" and jax_stage(FakeCompiled()) == "Compiled"
    assert jax_stage(object()) is None and jax_stage("text") is None
    with pytest.raises(TypeError, match="jax Lowered/Compiled"):
        source_of(42)


def test_compile_takes_a_lowered_and_keeps_the_stablehlo():
    exe = xm.compile(FakeLowered(), target="cpu")
    np.testing.assert_allclose(exe(X), np.sin(X) * 2, rtol=1e-6)
    assert exe.report.source_format == "stablehlo"
    assert exe.report.source_text == STABLEHLO
    assert exe.report.xla_hlo is None


def test_compile_takes_a_compiled_and_keeps_xlas_module():
    exe = xm.compile(FakeCompiled(), target="interpreter")
    np.testing.assert_allclose(exe(X), np.sin(X) * 2, rtol=1e-6)
    assert exe.report.xla_hlo == HLO
    from xla_magic.display.sections import hlo_html, hlo_texts

    labels = [label for label, _, _ in hlo_texts(exe.report)]
    assert "XLA's optimized HLO" in labels
    assert "XLA&#x27;s optimized HLO" in hlo_html(exe.report) or "XLA's optimized HLO" in hlo_html(exe.report)


def test_reading_programs_never_imports_jax():
    code = ("import sys, types, xla_magic as xm\n"
            "L = types.new_class('Lowered', (), {}, lambda ns: ns.update({'__module__': 'jax._src.stages'}))\n"
            f"L.as_text = lambda self, *a, **k: {STABLEHLO!r}\n"
            "xm.parse(L()); xm.parse('HloModule m ENTRY e { ROOT x = f32[] parameter(0) }')\n"
            "print('jax' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_cli_runs_a_stablehlo_file(tmp_path, capsys):
    f = tmp_path / "f.mlir"
    f.write_text(STABLEHLO)
    np.savez(tmp_path / "in.npz", arg0=X)
    assert main(["run", str(f), "--inputs", str(tmp_path / "in.npz"), "--out", str(tmp_path / "out.npz")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "out.npz")["out0"], np.sin(X) * 2, rtol=1e-6)
    assert main(["parse", str(f)]) == 0
    assert "sine" in capsys.readouterr().out


def test_cli_stablehlo_syntax_error_is_one_line_with_a_caret(tmp_path, capsys):
    f = tmp_path / "bad.mlir"
    f.write_text(STABLEHLO.replace("stablehlo.sine %arg0", "stablehlo.sine %arg9"))
    assert main(["run", str(f)]) == 1
    err = capsys.readouterr().err
    assert "xla-magic: error:" in err and "^" in err


# --- %%hlo --from -----------------------------------------------------------------------------

IPython = pytest.importorskip("IPython")


@pytest.fixture
def ip():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "xla_magic")
    shell.run_line_magic("hlo_config", "--reset")
    shell.user_ns["x"] = X
    yield shell
    for name in ("lowered", "compiled", "text", "y", "x"):
        shell.user_ns.pop(name, None)


def test_magic_from_a_variable_holding_a_lowered(ip):
    ip.user_ns["lowered"] = FakeLowered()
    res = ip.run_cell("%hlo --from lowered --args x --out y")
    assert res.success, res.error_in_exec
    np.testing.assert_allclose(ip.user_ns["y"], np.sin(X) * 2, rtol=1e-6)


def test_magic_stablehlo_cell_and_its_errors(ip):
    res = ip.run_cell(f"%%hlo --args x --out y\n{STABLEHLO}")
    assert res.success, res.error_in_exec
    np.testing.assert_allclose(ip.user_ns["y"], np.sin(X) * 2, rtol=1e-6)
    res = ip.run_cell("%%hlo\n" + STABLEHLO.replace("%arg0 :", "%arg7 :", 1))
    assert not res.success and "StableHLO syntax error" in str(res.error_in_exec)


@pytest.mark.parametrize("source, message", [
    ("%hlo --from nowhere", "no such variable"),
    ("%hlo --from x", "expected HLO or StableHLO text"),
    ("%%hlo --from text\nHloModule m", "use the line magic %hlo --from NAME"),
    ("%hlo --args x", "takes the program from a variable"),
])
def test_magic_from_usage_errors(ip, source, message):
    ip.user_ns["text"] = HLO
    res = ip.run_cell(source)
    assert not res.success and message in str(res.error_in_exec)


def test_magic_from_a_variable_holding_text(ip):
    ip.user_ns["text"] = STABLEHLO
    res = ip.run_cell("%hlo --from text --args x --out y")
    assert res.success, res.error_in_exec
    np.testing.assert_allclose(ip.user_ns["y"], np.sin(X) * 2, rtol=1e-6)
