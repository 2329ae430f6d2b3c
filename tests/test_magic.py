"""%%hlo and %hlo_config, driven through a real IPython InteractiveShell."""
from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import load_case

pytest.importorskip("IPython")
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

import xla_magic as xm  # noqa: E402
from xla_magic import display  # noqa: E402

CELL = """HloModule m
ENTRY e {
  x = f32[8] parameter(0)
  e = f32[8] exponential(x)
  ROOT y = f32[8] add(e, x)
}"""

TUPLE_CELL = """HloModule t
ENTRY e {
  x = f32[4] parameter(0)
  w = f32[4] parameter(1)
  s = f32[4] add(x, w)
  p = f32[4] multiply(x, w)
  ROOT t = (f32[4], f32[4]) tuple(s, p)
}"""


@pytest.fixture
def ip():
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "xla_magic")
    shell.run_line_magic("hlo_config", "--reset")
    shell.user_ns["x"] = np.linspace(-1, 1, 8, dtype=np.float32)
    yield shell
    for name in ("y", "f", "rep", "a", "b", "z", "out"):
        shell.user_ns.pop(name, None)


def run(ip, line: str, cell: str = CELL):
    return ip.run_cell(f"%%hlo {line}\n{cell}")


def expected(x):
    return np.exp(x) + x


def test_args_run_the_module_and_outputs_become_the_value(ip, capsys):
    res = run(ip, "--args x --out y")
    assert res.success, res.error_in_exec
    np.testing.assert_allclose(res.result, expected(ip.user_ns["x"]), rtol=1e-6)
    np.testing.assert_array_equal(ip.user_ns["y"], res.result)
    np.testing.assert_array_equal(ip.user_ns["_"], res.result)
    shown = capsys.readouterr().out
    assert "exponential_add_fusion" in shown  # the report was displayed (text/plain in a terminal)


def test_tuple_outputs_named(ip):
    ip.user_ns["w"] = np.ones(4, np.float32)
    ip.user_ns["x4"] = np.arange(4, dtype=np.float32)
    res = run(ip, "--args x4,w --out a b -q", TUPLE_CELL)
    assert res.success and res.result is None
    np.testing.assert_array_equal(ip.user_ns["a"], np.arange(4) + 1)
    np.testing.assert_array_equal(ip.user_ns["b"], np.arange(4))
    assert isinstance(ip.user_ns["_"], tuple)
    res = run(ip, "--args x4 w --out a b c -q", TUPLE_CELL)
    assert not res.success and "3 variables" in str(res.error_in_exec)


def test_o_returns_the_report_and_name_and_v_store(ip, capsys):
    res = run(ip, "-o -q -n f -v rep --target interpreter")
    assert res.success
    r = res.result
    assert isinstance(r, xm.Report) and r.target == "interpreter"
    assert ip.user_ns["rep"] is r
    f = ip.user_ns["f"]
    x = ip.user_ns["x"]
    np.testing.assert_allclose(f(x), expected(x), rtol=1e-6)
    capsys.readouterr()
    res = run(ip, "-q")
    assert res.success and res.result is None
    assert capsys.readouterr().out == ""


def test_no_opt_passes_skip(ip):
    r = run(ip, "-o -q --no-opt").result
    assert r.passes == [] and r.fusion_plan is None
    r = run(ip, "-o -q --passes fusion,dce").result
    assert {p.name for p in r.passes} == {"fusion", "dce"}
    r = run(ip, "-o -q --skip fusion").result
    assert "fusion" not in {p.name for p in r.passes}
    res = run(ip, "-q --passes nosuchpass")
    assert not res.success and "unknown pass 'nosuchpass'" in str(res.error_in_exec)


def test_bench_fills_latency(ip):
    r = run(ip, "--args x -o -q --bench --show latency").result
    assert r.timings is not None and r.timings.compiled.size
    html = display.mimebundle(r)["text/html"]
    opened = [c.split("</summary>")[0] for c in html.split("<details open")[1:]]
    sections = [o for o in opened if "font-weight:600" in o]  # the report's own sections, not nested ones
    assert len(sections) == 1 and "Latency" in sections[0]


def _error_text(ip, capsys, res) -> str:
    assert not res.success
    return re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)  # without colours


def test_parse_error_points_at_the_cell_line(ip, capsys):
    res = run(ip, "", CELL.replace("add(e, x)", "add(e x)"))
    out = _error_text(ip, capsys, res)
    assert "HLO syntax error" in out and "cell line 6" in out
    assert "   6 |   ROOT y = f32[8] add(e x)" in out
    caret_line = out.split("add(e x)")[1].splitlines()[1]
    assert caret_line.index("^") == "   6 |   ROOT y = f32[8] add(e x)".index("x)")
    assert "Traceback" not in out and "xla_magic/" not in out


def test_verify_error_points_at_the_instruction(ip, capsys):
    res = run(ip, "", CELL.replace("ROOT y = f32[8]", "ROOT y = f32[9]"))
    out = _error_text(ip, capsys, res)
    assert "HLO verify error" in out and "instruction 'y'" in out and "cell line 6" in out
    assert "f32[9]" in out and "^" in out and "Traceback" not in out


@pytest.mark.parametrize("line,message", [
    ("--args nope", "'nope' is not defined"),
    ("--args x x", "expected 1 argument"),
    ("--args z64", "expected dtype f32"),
    ("--target tpu", "choose one of"),
    ("--show nonsense", "unknown tab"),
    ("--out y", "--out needs --args"),
])
def test_usage_errors_are_short(ip, capsys, line, message):
    ip.user_ns["z64"] = np.zeros(8)
    res = run(ip, line)
    out = _error_text(ip, capsys, res)
    assert message in out and "Traceback" not in out


def test_empty_cell(ip, capsys):
    out = _error_text(ip, capsys, ip.run_cell("%%hlo\n   \n"))
    assert "no HLO text" in out


def test_bad_flag_is_a_usage_error(ip, capsys):
    res = run(ip, "--frobnicate")
    assert not res.success
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err


def test_config_sets_defaults(ip, capsys):
    ip.run_line_magic("hlo_config", "--target interpreter --show fusion,memory")
    assert "target='interpreter'" in capsys.readouterr().out
    r = run(ip, "-o -q").result
    assert r.target == "interpreter"
    assert r.view.show == ["fusion", "memory"]
    assert run(ip, "-o -q --target cpu").result.target == "cpu"  # a flag beats the default
    ip.run_line_magic("hlo_config", "--reset")
    assert run(ip, "-o -q").result.target == "cpu"
    res = ip.run_cell("%hlo_config --show nope")
    assert not res.success


def test_help_documents_the_flags():
    from xla_magic.magic import HloMagics

    doc = HloMagics.hlo.__doc__
    for flag in ("--target", "--args", "--name", "--no-opt", "--passes", "--show", "--bench", "-o", "-v", "-q"):
        assert flag in doc


def test_reload_ext(ip):
    ip.run_line_magic("reload_ext", "xla_magic")
    assert "hlo" in ip.magics_manager.magics["cell"]
    assert "hlo_config" in ip.magics_manager.magics["line"]
    assert run(ip, "-q --args x").success


def test_real_jax_module_with_args_returns_a_report_showing_its_kernels(ip):
    """The issue's acceptance check: a JAX-exported module in a %%hlo cell with --args and -o."""
    text, args, outs, _ = load_case("lstm_cell")
    names = [f"arg{i}" for i in range(len(args))]
    for n, a in zip(names, args):
        ip.user_ns[n] = a
    res = run(ip, f"--target cpu --args {','.join(names)} --out out -o", text)
    assert res.success, res.error_in_exec
    r = res.result
    got = ip.user_ns["out"]
    got = got if isinstance(got, tuple) else (got,)
    for g, e in zip(got, outs):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)
    html = r._repr_mimebundle_()["text/html"]
    w = display.report_widget(r, eager=True)
    from test_display import _strings

    widget_text = "\n".join(_strings(w))
    for k in r.fusion_plan.kernels:
        assert k.name in html and k.name in widget_text


def test_gpu_target_shows_code_even_without_a_device(ip, capsys):
    from xla_magic.backends import gpu, registry

    if not registry.get("gpu").inspect_without_device:
        pytest.skip("the gpu backend needs its device")
    res = run(ip, "--target gpu -o -q")
    assert res.success, res.error_in_exec
    r = res.result
    assert "cuda" in r.artifacts
    html = display.report_html(r, show=["code"])
    assert "CUDA C" in html and "could not render" not in html
    if gpu.available()[0]:
        assert run(ip, "--target gpu -q --args x").success
    else:
        out = _error_text(ip, capsys, run(ip, "--target gpu -q --args x"))
        assert "cannot run here" in out and "Traceback" not in out


def test_passes_inside_groups(ip):
    r = run(ip, "-o -q --passes algsimp,dce").result
    assert {p.name for p in r.passes} == {"algsimp", "dce"}


def test_latency_button_reads_the_args_variables_when_clicked(ip):
    import ipywidgets
    from test_display import _widgets

    cell = CELL.replace("HloModule m", "HloModule m_button")  # a report of its own (the cache shares them)
    r = run(ip, "--args x -o -q", cell).result
    prefs = r.view
    assert callable(prefs.args)  # the report keeps no arrays alive
    w = display.report_widget(r, ["latency"], exe=prefs.exe, args=prefs.args)
    ip.user_ns["x"] = np.ones(8, np.float32)
    _widgets(w, ipywidgets.Button)[0].click()
    assert r.timings is not None


NUMPY_CELL = """h = np.tanh(x @ w + b)
e = np.exp(h - h.max(axis=1, keepdims=True))
probs = e / e.sum(axis=1, keepdims=True)
"""


def test_python_cells_are_traced_and_outputs_come_back(ip):
    rng = np.random.default_rng(0)
    ip.user_ns.update(np=np, x=rng.standard_normal((4, 8)).astype(np.float32),
                      w=rng.standard_normal((8, 5)).astype(np.float32), b=np.zeros(5, np.float32))
    try:
        res = run(ip, "-q -n f -v rep", NUMPY_CELL)  # detected as Python: no --trace needed
        assert res.success, res.error_in_exec
        x, w, b = (ip.user_ns[k] for k in "xwb")
        h = np.tanh(x @ w + b)
        e = np.exp(h - h.max(axis=1, keepdims=True))
        np.testing.assert_allclose(ip.user_ns["probs"], e / e.sum(axis=1, keepdims=True), rtol=1e-5)
        report = ip.user_ns["rep"]
        assert report.fusion_plan.kernels and any(k.source_lines for k in report.fusion_plan.kernels)
        again = ip.user_ns["f"](x=x, w=w, b=b)
        np.testing.assert_allclose(again["probs"], ip.user_ns["probs"], rtol=1e-6)
        res = run(ip, "--trace -o -q", NUMPY_CELL)
        assert res.success and res.result.fusion_plan is not None
    finally:
        for k in ("np", "w", "b", "h", "e", "probs"):
            ip.user_ns.pop(k, None)


def test_aot_flag_builds_next_to_the_report(ip, tmp_path, capsys):
    res = run(ip, f"-q --aot {tmp_path}")
    assert res.success, res.error_in_exec
    assert list(tmp_path.glob("*.o")) and list(tmp_path.glob("*.h"))
    assert "KiB" in capsys.readouterr().out or list(tmp_path.glob("lib*.so"))


@pytest.mark.parametrize("line, message", [
    ("--target bogus", "choose one of"),
    ("--passes nope", "unknown pass 'nope'"),
    ("--skip fusion,nope", "unknown pass 'nope'"),
    ("--show nope", "unknown tab"),
    ("--target cpu --passes nope --bench", "unknown pass 'nope'"),
    ("--reset --target bogus", "choose one of"),
])
def test_rejected_config_changes_nothing(ip, capsys, line, message):
    ip.run_line_magic("hlo_config", "--target interpreter --show fusion")
    before = capsys.readouterr().out
    out = _error_text(ip, capsys, ip.run_cell(f"%hlo_config {line}"))
    assert message in out and "Traceback" not in out
    assert len([s for s in out.splitlines() if s.strip()]) == 1, out
    assert ip.run_cell("%hlo_config").success
    assert capsys.readouterr().out == before  # the same defaults as before the rejected line
    res = run(ip, "-o -q")
    assert res.success, res.error_in_exec
    assert res.result.target == "interpreter" and res.result.view.show == ["fusion"]


def test_aot_into_a_folder_that_cannot_be_made_is_one_line(ip, capsys, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    for where, message in ((tmp_path / "file" / "sub", "cannot create the folder {}"),
                           (tmp_path / "file", "cannot write into {}: it exists and is not a folder")):
        out = _error_text(ip, capsys, run(ip, f"-q --aot {where}"))
        assert "ahead-of-time build failed: " + message.format(where) in out
        assert "Traceback" not in out and len([s for s in out.splitlines() if s.strip()]) == 1, out


@pytest.mark.parametrize("line, message", [
    ("--args x --out 1y", "--out: '1y' is not a variable name"),
    ("-n my-exe", "-n: 'my-exe' is not a variable name"),
    ("-v rep.x", "-v: 'rep.x' is not a variable name"),
])
def test_names_of_variables_are_checked(ip, capsys, line, message):
    out = _error_text(ip, capsys, run(ip, line))
    assert message in out and "Traceback" not in out
    assert "1y" not in ip.user_ns and "my-exe" not in ip.user_ns
