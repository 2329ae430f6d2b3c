"""xla_magic: an XLA-style tensor compiler you drive from a notebook.

    import xla_magic as xm
    m = xm.parse(text)                # HLO or StableHLO text, or a jax Lowered/Compiled object;
                                      # HloParseError / HloVerifyError on bad text
    xm.interpret(m, x)                # numpy, one op at a time, XLA's exact semantics
    exe = xm.compile(m, target="cpu") # optimized and compiled; exe(x), exe.report
    xm.benchmark(exe, x)              # interpreted per op vs compiled per call -> exe.report.timings
    xm.aot_compile(m, "out/")         # NAME.o, NAME.h, libNAME.so, executable NAME: no Python to run
    f = xm.jit(numpy_fn)              # traced to HLO, compiled and cached per argument signature
    xm.trace(numpy_fn, x)             # -> Module; xm.fori_loop / while_loop / cond / scan inside
"""
from ._version import __version__ as __version__
from .aot import aot_compile
from .api import cache_info, clear_cache, compile, interpret, parse
from .bench import Timings, benchmark
from .hlo.ir import Computation, Instruction, Module
from .hlo.parser import HloParseError, parse_hlo
from .hlo.shape import Shape
from .hlo.verifier import HloVerifyError
from .report import MimeBundle as _MimeBundle
from .report import Report
from .report import set_renderer as _set_renderer
from .trace import cond, fori_loop, jit, scan, trace, while_loop

__all__ = [
    "compile", "interpret", "cache_info", "clear_cache", "aot_compile", "parse", "parse_hlo", "HloParseError",
    "HloVerifyError", "Module", "Computation",
    "Instruction", "Shape", "Report", "benchmark", "Timings",
    "trace", "jit", "fori_loop", "while_loop", "cond", "scan",
]


def _render_report(report: Report) -> _MimeBundle:
    from .display import mimebundle  # matplotlib, ipywidgets and pygments only once something is drawn

    return mimebundle(report)


_set_renderer(_render_report)


def load_ipython_extension(ipython: object) -> None:  # %load_ext xla_magic
    from .magic import load_ipython_extension as _load

    _load(ipython)
