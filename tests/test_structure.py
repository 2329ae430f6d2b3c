"""The package's structure, checked: no import cycles, the layering of docs/ARCHITECTURE.md, heavy
libraries imported only where used, and every per-opcode table covering the opcodes it should
(each deliberate gap listed here with its reason)."""
from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Collection, Mapping
from pathlib import Path

import import_graph
import pytest

from xla_magic.hlo import opcodes
from xla_magic.hlo.opcodes import Opcode

O = Opcode
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def edges() -> dict[str, set[str]]:
    return import_graph.graph()


@pytest.fixture(scope="module")
def external() -> dict[str, set[str]]:
    return import_graph.external_imports()


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# --- import cycles -------------------------------------------------------------------------------

def test_no_import_cycles(edges):
    found = import_graph.cycles(edges)
    assert not found, "import cycles (lazy imports inside functions count):\n" + "\n".join(
        " -> ".join(import_graph.path_in(comp, edges)) + f"   (among {', '.join(comp)})" for comp in found)


# --- layering --------------------------------------------------------------------------------------

# package -> the parts of xla_magic its modules must not import (docs/ARCHITECTURE.md, "Layers").
FORBIDDEN_INTERNAL: dict[str, tuple[str, ...]] = {
    "xla_magic.trace": ("xla_magic.passes", "xla_magic.backends", "xla_magic.display"),
    "xla_magic.passes": ("xla_magic.backends", "xla_magic.display"),
    "xla_magic.backends": ("xla_magic.display", "xla_magic.magic"),
}
# package -> the libraries its modules must not import, even lazily.
FORBIDDEN_EXTERNAL: dict[str, frozenset[str]] = {
    "xla_magic.backends": frozenset({"IPython"}),
    "xla_magic.api": frozenset({"IPython", "ipywidgets", "matplotlib"}),
}
IPYTHON_USERS = ("xla_magic.magic", "xla_magic.display")
# Not loaded by `import xla_magic`: a notebook, a GPU or the cpu code generator is needed only when used.
NOT_AT_IMPORT = ("llvmlite", "cupy", "IPython", "ipywidgets", "matplotlib")


def test_hlo_imports_nothing_else_of_the_package(edges):
    bad = sorted(f"{m} imports {t}" for m, ts in edges.items() if _in(m, "xla_magic.hlo")
                 for t in ts if not _in(t, "xla_magic.hlo"))
    assert not bad, "xla_magic.hlo must import nothing else of the package:\n" + "\n".join(bad)


@pytest.mark.parametrize("package", sorted(FORBIDDEN_INTERNAL))
def test_layers(edges, package):
    banned = FORBIDDEN_INTERNAL[package]
    bad = sorted(f"{m} imports {t}" for m, ts in edges.items() if _in(m, package)
                 for t in ts if any(_in(t, b) for b in banned))
    assert not bad, f"{package} must not import {', '.join(banned)}:\n" + "\n".join(bad)


@pytest.mark.parametrize("package", sorted(FORBIDDEN_EXTERNAL))
def test_libraries_kept_out(external, package):
    banned = FORBIDDEN_EXTERNAL[package]
    bad = sorted(f"{m} imports {lib}" for m, libs in external.items() if _in(m, package) for lib in libs & banned)
    assert not bad, f"{package} must not import {', '.join(sorted(banned))}:\n" + "\n".join(bad)


def test_only_magic_and_display_import_ipython(external):
    bad = sorted(m for m, libs in external.items() if "IPython" in libs
                 and not any(_in(m, p) for p in IPYTHON_USERS))
    assert not bad, f"only {' and '.join(IPYTHON_USERS)} may import IPython: " + ", ".join(bad)


def test_import_loads_no_heavy_library():
    code = ("import sys, xla_magic; "
            f"print(' '.join(m for m in {NOT_AT_IMPORT!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    loaded = out.stdout.split()
    assert not loaded, f"`import xla_magic` loads {', '.join(loaded)}; import them where they are used"


# --- per-opcode tables -----------------------------------------------------------------------------
# Each table is read through its public name; when one moves, point the name here at its new home.

def table(module: str, name: str) -> set[Opcode]:
    """The opcodes a per-opcode table (a dict keyed by Opcode) has rows for."""
    mod = importlib.import_module(module)
    rows = getattr(mod, name, None)
    assert isinstance(rows, Mapping), f"{module}.{name} is gone: point tests/test_structure.py at the table's new name"
    return set(rows)


def check(name: str, have: Collection[Opcode], should: Collection[Opcode], gaps: Mapping[Opcode, str]) -> None:
    """`have` == `should` minus the listed gaps; a gap that has a row is stale."""
    want = set(should) - set(gaps)
    missing = sorted(o.value for o in want - set(have))
    extra = sorted(o.value for o in set(have) - want)
    stale = sorted(o.value for o in set(gaps) & set(have))
    assert not (missing or extra), (
        f"{name}: missing rows for {missing or 'none'}; rows beyond what it should cover: {extra or 'none'}"
        + (f" (listed as gaps but now covered, drop them from the gap list: {stale})" if stale else "")
        + ". Add the rows, or list a deliberate gap with its reason in tests/test_structure.py.")


def test_opcode_groups():
    """The named groups of hlo/opcodes.py are consistent: the tables below are checked against them."""
    assert not (opcodes.UNARY & opcodes.BINARY or opcodes.UNARY & opcodes.TERNARY or opcodes.BINARY & opcodes.TERNARY)
    assert opcodes.ELEMENTWISE == opcodes.UNARY | opcodes.BINARY | opcodes.TERNARY
    assert opcodes.TRANSCENDENTAL <= opcodes.ELEMENTWISE
    assert opcodes.WITH_REDUCER | opcodes.UNEXECUTABLE | opcodes.SHAPE_OPS | opcodes.LEAF <= set(Opcode)
    assert set(opcodes.OPCODES.values()) == set(Opcode)


SHAPE_RULE_GAPS: dict[Opcode, str] = {}


def test_shape_rules_cover_every_opcode():
    check("hlo.shape_inference.SHAPE_RULES", table("xla_magic.hlo.shape_inference", "SHAPE_RULES"),
          set(Opcode), SHAPE_RULE_GAPS)


_NO_RUNTIME = "a collective or host transfer: there is one device and no runtime for it"
EVALUATOR_GAPS: dict[Opcode, str] = {
    O.ALL_GATHER: _NO_RUNTIME,
    O.ALL_TO_ALL: _NO_RUNTIME,
    O.COLLECTIVE_PERMUTE: _NO_RUNTIME,
    O.REDUCE_SCATTER: _NO_RUNTIME,
    O.SEND: _NO_RUNTIME,
    O.SEND_DONE: _NO_RUNTIME,
    O.RECV: _NO_RUNTIME,
    O.RECV_DONE: _NO_RUNTIME,
    O.INFEED: _NO_RUNTIME,
    O.OUTFEED: _NO_RUNTIME,
    O.COPY_START: "asynchronous copies appear only in scheduled modules, which are not evaluated",
    O.COPY_DONE: "asynchronous copies appear only in scheduled modules, which are not evaluated",
    O.RNG_GET_AND_UPDATE_STATE: "the generator state belongs to XLA's runtime",
}


def test_evaluator_covers_every_opcode():
    check("hlo.evaluator.EVALUATORS", table("xla_magic.hlo.evaluator", "EVALUATORS"), set(Opcode), EVALUATOR_GAPS)


SCALAR_GAPS: dict[Opcode, str] = {
    O.STOCHASTIC_CONVERT: "rounding with random bits is left to the interpreter: fusion keeps it out of kernels",
}


@pytest.mark.parametrize("backend", ["cpu", "gpu"])
def test_scalar_tables_cover_the_elementwise_opcodes(backend):
    check(f"backends.{backend}.scalar.SCALAR_OPS", table(f"xla_magic.backends.{backend}.scalar", "SCALAR_OPS"),
          opcodes.ELEMENTWISE, SCALAR_GAPS)


def test_scalar_tables_agree():
    assert table("xla_magic.backends.cpu.scalar", "SCALAR_OPS") == table("xla_magic.backends.gpu.scalar", "SCALAR_OPS")


# Opcodes whose element at an index is an operand's element at another index (or the index itself).
INDEXED = opcodes.SHAPE_OPS | {O.IOTA}
INDEXED_GAPS: dict[Opcode, str] = {
    O.SCATTER: "writes many elements per index: emitted as its own kernel, not element by element",
    O.DYNAMIC_RESHAPE: "dynamic shapes are not compiled",
}


def elemental_tables() -> dict[str, set[Opcode]]:
    """The index rules of the elemental emitters: one shared table (backends/indexing.py) when
    there is one, else each backend's own (a literal read in place, CONSTANT, may sit in either)."""
    try:
        shared = importlib.import_module("xla_magic.backends.indexing")
    except ModuleNotFoundError:
        shared = None
    if shared is not None and hasattr(shared, "INDEX_RULES"):
        return {"backends.indexing.INDEX_RULES": set(shared.INDEX_RULES) - {O.CONSTANT}}
    return {f"backends.{b}.elemental.ELEMENTAL": table(f"xla_magic.backends.{b}.elemental", "ELEMENTAL") - {O.CONSTANT}
            for b in ("cpu", "gpu")}


def test_elemental_tables_cover_the_indexing_opcodes():
    tables = elemental_tables()
    for name, have in tables.items():
        check(name, have, INDEXED, INDEXED_GAPS)
    assert len({frozenset(t) for t in tables.values()}) == 1, f"the cpu and gpu tables differ: {tables}"


COST_GAPS: dict[Opcode, str] = {}


def test_cost_has_a_row_per_opcode():
    """passes/cost.py as a table (DESIGN: cost is one of the per-opcode registries), when it is one:
    a row for every opcode, zero costs included."""
    cost = importlib.import_module("xla_magic.passes.cost")
    rows = {name: t for name, t in vars(cost).items() if not name.startswith("_") and isinstance(t, Mapping)
            and t and all(isinstance(k, Opcode) for k in t)}
    if not rows:
        pytest.skip("passes/cost.py has no per-opcode table yet: it counts by the opcode groups and an if-chain")
    for name, t in rows.items():
        check(f"passes.cost.{name}", set(t), set(Opcode), COST_GAPS)
