"""Every tutorial runs top to bottom in a fresh kernel (as on Binder), with its outputs cleared in
the repository."""
from __future__ import annotations

import json
import pathlib
import sys
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = pathlib.Path(__file__).parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
KERNEL = "xla-magic-tests"


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory, request):
    """A kernelspec running this interpreter, so the kernel sees this environment's xla_magic
    (a system-wide 'python3' kernelspec could point at another Python)."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    spec.joinpath("kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "xla_magic tests", "language": "python"}))
    mp = pytest.MonkeyPatch()
    import os

    mp.setenv("JUPYTER_PATH", str(root) + os.pathsep + os.environ.get("JUPYTER_PATH", ""))
    mp.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    request.addfinalizer(mp.undo)
    return KERNEL


def test_the_tutorials_are_numbered():
    numbers = [p.name[:2] for p in PATHS]
    assert {"01", "02", "03", "04"} <= set(numbers) and len(set(numbers)) == len(numbers)


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_outputs_are_cleared(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs(path, kernel_name):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name=kernel_name,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    t0 = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first cell that fails
    seconds = time.perf_counter() - t0
    assert seconds < 60, f"{path.name} took {seconds:.0f} s"
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    reports = [o for o in outputs if "text/html" in o.get("data", {}) and "xla-magic-report" in o.data["text/html"]]
    assert reports, "every tutorial shows at least one report"
    for o in reports:  # inside a kernel the report comes with its widget view and a complete static page
        assert "application/vnd.jupyter.widget-view+json" in o.data
        assert "could not render" not in o.data["text/html"]
