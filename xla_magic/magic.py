"""The notebook magics: `%%hlo` compiles the HLO or StableHLO text of its cell and shows the
Report (`%hlo --from NAME` the program a notebook variable holds: a jax Lowered or Compiled
object, text, or a Module); `%hlo_config` sets the defaults of its flags.

    %load_ext xla_magic

    %%hlo --target cpu --args x -o
    HloModule m
    ENTRY e { x = f32[8] parameter(0)  ROOT y = f32[8] exponential(x) }

A mistake in the cell (its text, its module, or the arguments given with --args) shows a
short message with the line of the cell and a caret, never a traceback of xla_magic's
internals: the exception carries `_render_traceback_`, which IPython shows instead."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from . import display as xm_display
from .api import compile as xm_compile
from .api import parse as xm_parse
from .backends import registry
from .backends.base import Executable
from .hlo.parser import HloParseError
from .hlo.verifier import HloVerifyError
from .programs import Source, source_of

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

BUILTIN_DEFAULTS = {"target": "cpu", "no_opt": False, "passes": None, "skip": None, "show": None, "bench": False,
                    "quiet": False}
_RED, _BOLD, _RESET = "\x1b[31m", "\x1b[1m", "\x1b[0m"


class HloCellError(Exception):
    """A problem with what the cell says. IPython shows `_render_traceback_`'s lines, not a traceback."""

    def __init__(self, kind: str, message: str, excerpt: str = ""):
        self.kind, self.message, self.excerpt = kind, message, excerpt
        super().__init__(f"{kind}: {message}" + (f"\n{excerpt}" if excerpt else ""))

    def _render_traceback_(self) -> list[str]:
        lines = [f"{_RED}{_BOLD}{self.kind}{_RESET}: {self.message}"]
        if self.excerpt:
            lines.append(self.excerpt)
        return lines


def _excerpt(cell: str, line: int, column: int = 0, name: str | None = None) -> str:
    """The HLO line `line` (1-based) of the cell and a caret under `column` (or under `name`)."""
    lines = cell.split("\n")
    if not 1 <= line <= len(lines):
        return ""
    text = lines[line - 1].expandtabs(1)
    if column <= 0 and name:
        at = text.find(name)
        column = at + 1 if at >= 0 else 0
    start = max(0, column - 60)
    shown = ("..." if start else "") + text[start:start + 120]
    gutter = f"{line + 1:>4} | "  # the cell's own line number: the %%hlo line is line 1
    caret = ""
    if column > 0:
        caret = "\n" + " " * (len(gutter) + column - 1 - start + (3 if start else 0)) + f"{_RED}^{_RESET}"
    return f"{gutter}{shown}{caret}"


def cell_error(err: Exception, cell: str) -> HloCellError:
    """The short message for an error from parsing or verifying the cell's text."""
    if isinstance(err, HloParseError):
        from .hlo.formats import text_format

        kind = "StableHLO syntax error" if text_format(cell) == "stablehlo" else "HLO syntax error"
        return HloCellError(kind, f"cell line {err.line + 1}, column {err.column}: {err.msg}",
                            _excerpt(cell, err.line, err.column))
    if isinstance(err, HloVerifyError):
        where = []
        if err.line:
            where.append(f"cell line {err.line + 1}")
        if err.instruction:
            where.append(f"instruction '{err.instruction}'")
        elif err.computation:
            where.append(f"computation '{err.computation}'")
        return HloCellError("HLO verify error", ", ".join(where) + (": " if where else "") + err.msg,
                            _excerpt(cell, err.line, err.column, err.instruction) if err.line else "")
    return HloCellError(type(err).__name__, str(err))


def _split(values) -> list[str]:
    """`--args x w`, `--args x,w` and `--args "x, w"` all mean ['x', 'w']."""
    out: list[str] = []
    for v in values or ():
        out += [p.strip() for p in v.split(",") if p.strip()]
    return out


def _check_target(target: str) -> None:
    if target not in registry.names():
        raise HloCellError("UsageError", f"--target {target!r}: choose one of {', '.join(registry.names())}")
    try:
        # A backend that can show its code without its device (gpu) still compiles; running says why not.
        ok, why = registry.get(target).usable()
    except ImportError as e:
        raise HloCellError("UsageError", f"target {target!r} is not part of this installation ({e})") from None
    if not ok:
        raise HloCellError("UsageError", f"target {target!r} is not available here: {why}")


def _check_passes(target: str, names: list[str]) -> None:
    from .passes.pipeline import default_pipeline, pass_names

    pipeline = default_pipeline(registry.get(target).preset)
    known = set(pass_names(pipeline)) | {name for name, _ in pipeline}
    bad = [n for n in names if n not in known]
    if bad:
        raise HloCellError("UsageError", f"unknown pass {', '.join(map(repr, bad))}; the pipeline has "
                                         f"{', '.join(sorted(known))}")


def _check_names(opts) -> None:
    """--out, -n and -v name notebook variables: refuse what could not be one (before compiling)."""
    for flag, names in (("--out", _split(opts.out)), ("-n", [opts.name] if opts.name else []),
                        ("-v", [opts.var] if opts.var else [])):
        bad = [n for n in names if not n.isidentifier()]
        if bad:
            raise HloCellError("UsageError", f"{flag}: {bad[0]!r} is not a variable name")


def _common_flags(fn):
    """The flags %%hlo and %hlo_config share (defaults None, so a config can fill what is not given)."""
    for arg in reversed([
        argument("-t", "--target", default=None, help="where to run: cpu (default), gpu or interpreter"),
        argument("--no-opt", dest="no_opt", action="store_const", const=True, default=None,
                 help="skip the optimizer (the module runs as written)"),
        argument("--opt", dest="no_opt", action="store_const", const=False, help="run the optimizer (the default)"),
        argument("--passes", nargs="+", default=None, metavar="PASS",
                 help="run only these passes (comma or space separated), e.g. --passes fusion,dce"),
        argument("--skip", nargs="+", default=None, metavar="PASS", help="run every pass but these"),
        argument("--show", nargs="+", default=None, metavar="TAB",
                 help="tabs the report opens with: summary, fusion, passes, hlo, code, latency, memory, or all"),
        argument("--bench", action="store_const", const=True, default=None,
                 help="time interpreted against compiled execution (xm.benchmark); fills the Latency tab"),
        argument("--no-bench", dest="bench", action="store_const", const=False, help="do not time (the default)"),
        argument("-q", "--quiet", dest="quiet", action="store_const", const=True, default=None,
                 help="show nothing (the outputs still go to _ and --out)"),
    ]):
        fn = arg(fn)
    return fn


@magics_class
class HloMagics(Magics):
    def __init__(self, shell=None):
        super().__init__(shell)
        self.defaults: dict[str, object] = {}

    @property
    def _ip(self) -> InteractiveShell:
        assert self.shell is not None  # magics are registered with a shell
        return self.shell

    def _option(self, opts, key: str):
        v = getattr(opts, key, None)
        if v is not None:
            return v
        return self.defaults.get(key, BUILTIN_DEFAULTS[key])

    @magic_arguments()
    @_common_flags
    @argument("--from", dest="source", default=None, metavar="NAME",
              help="compile the program held by this notebook variable instead of the cell's text: a jax "
                   "Lowered or Compiled object (jax.jit(f).lower(x)), HLO or StableHLO text, or a Module")
    @argument("-a", "--args", nargs="*", default=None, metavar="NAME",
              help="notebook variables bound to the entry parameters, in order; the cell then runs the module")
    @argument("--out", nargs="+", default=None, metavar="NAME",
              help="store the outputs under these names (one per output of a tuple result, or one for all)")
    @argument("-n", "--name", default=None, help="store the compiled executable under this name, as a callable")
    @argument("-o", dest="return_report", action="store_true",
              help="return the Report as the cell's value (as %%timeit -o does)")
    @argument("-v", dest="var", default=None, metavar="NAME", help="store the Report in this variable")
    @argument("--trace", action="store_true",
              help="the cell is Python/numpy: trace it into HLO (also chosen when the cell parses as Python); "
                   "the arrays it reads are the inputs, the names it assigns and its last expression the outputs")
    @argument("--elided", default=None, choices=("random", "zeros"),
              help="fill constants elided as {...} in the text with deterministic random values or zeros")
    @argument("--aot", default=None, metavar="OUTDIR",
              help="also compile ahead of time into OUTDIR: NAME.o, NAME.h, libNAME.so and an executable")
    @line_cell_magic
    def hlo(self, line: str, cell: str | None = None):
        """Compile the HLO text of this cell, show the Report, and run it on --args.

        The Report shows the fusion plan, every pass's effect, the generated code, latency
        and memory. With --args the outputs become the cell's value (and `_`); -o makes the
        Report the value instead. Defaults of the flags can be set with %hlo_config."""
        opts = parse_argstring(self.hlo, line)
        target = self._option(opts, "target")
        _check_target(target)
        passes, skip = _split(self._option(opts, "passes")) or None, _split(self._option(opts, "skip"))
        _check_passes(target, (passes or []) + skip)
        try:
            show = xm_display.normalize_tabs(_split(self._option(opts, "show")) or None)
        except ValueError as e:
            raise HloCellError("UsageError", f"--show: {e}") from None
        _check_names(opts)
        program = self._program(opts, cell)
        options: dict[str, Any] = {"passes": passes, "skip": tuple(skip)} if passes or skip else {}
        from .trace.cell import is_python_cell

        if cell is not None and opts.source is None and (opts.trace or is_python_cell(cell)):
            return self._traced_cell(cell, opts, target, options, show)
        try:
            exe = xm_compile(program, target=target, optimize=not self._option(opts, "no_opt"), elided=opts.elided,
                             **options)
        except (HloParseError, HloVerifyError) as e:
            raise cell_error(e, program.text or "") from None
        except NotImplementedError as e:
            raise HloCellError(f"not supported on {target}", str(e)) from None
        report = exe.report
        ns = self._ip.user_ns
        names = _split(opts.args)
        arrays = self._arguments(exe, names) if opts.args is not None else None
        outputs = None
        if arrays is not None:
            outputs = self._run(exe, arrays)
            self._store_outputs(outputs, _split(opts.out))
        elif opts.out:
            raise HloCellError("UsageError", "--out needs --args: the cell runs only when given its arguments")
        if self._option(opts, "bench"):
            from .bench import benchmark

            self._runnable(exe)
            benchmark(exe, *(arrays or ()))
        if opts.name:
            ns[opts.name] = exe
        if opts.var:
            ns[opts.var] = report
        if opts.aot:
            self._aot(xm_parse(program, elided=opts.elided), opts.aot)
        # The Latency tab's button reads the variables again when clicked, rather than holding them.
        bench_args = (lambda: self._arguments(exe, names)) if arrays is not None else None
        xm_display.set_view(report, show, exe, bench_args)
        quiet = self._option(opts, "quiet")
        if not quiet and not opts.return_report:
            from IPython.display import display

            display(xm_display.view(report, show, exe, bench_args))
        if opts.return_report:
            return report
        if outputs is not None:
            if quiet:
                ns["_"] = outputs
                return None
            return outputs
        return None

    def _program(self, opts, cell: str | None) -> Source:
        """The cell's text, or with --from the notebook variable it names (`%hlo --from NAME`, a line)."""
        if opts.source is None:
            if cell is None:
                raise HloCellError("UsageError", "%hlo on one line takes the program from a variable: "
                                                 "%hlo --from NAME; or write the program in a %%hlo cell")
            if not cell.strip():
                raise HloCellError("UsageError", "the cell holds no HLO text (or name a variable with --from)")
            return Source("text", cell)
        if cell is not None and cell.strip():
            raise HloCellError("UsageError", f"--from {opts.source}: the program comes from the variable; "
                                             "use the line magic %hlo --from NAME")
        ns = self._ip.user_ns
        if opts.source not in ns:
            raise HloCellError("UsageError", f"--from {opts.source}: no such variable in the notebook")
        try:
            return source_of(ns[opts.source])
        except TypeError as e:
            raise HloCellError("UsageError", f"--from {opts.source}: {e}") from None

    def _traced_cell(self, cell: str, opts, target: str, options: dict, show):
        """`%%hlo --trace`: the cell's numpy code, traced, compiled and run; outputs back in the notebook."""
        from .trace.cell import trace_cell
        from .trace.errors import TracingError

        ns = self._ip.user_ns
        try:
            traced = trace_cell(cell, ns, filename="<cell>")
        except TracingError as e:
            raise HloCellError("cannot trace", str(e)) from None
        module, inputs, _ = traced
        try:
            exe = xm_compile(module, target=target, optimize=not self._option(opts, "no_opt"), **options)
        except NotImplementedError as e:
            raise HloCellError(f"not supported on {target}", str(e)) from None
        results = self._run(exe, [ns[n] for n in inputs])
        ns.update(traced.assign(results))
        ns.update(traced.values)
        if self._option(opts, "bench"):
            from .bench import benchmark

            benchmark(exe, *[ns[n] for n in inputs])
        if opts.name:
            ns[opts.name] = traced.compile(target)
        if opts.var:
            ns[opts.var] = exe.report
        if opts.aot:
            self._aot(module, opts.aot)
        xm_display.set_view(exe.report, show, exe, None)
        if opts.return_report:
            return exe.report
        if not self._option(opts, "quiet"):
            from IPython.display import display

            display(xm_display.view(exe.report, show, exe, None))
        return None

    def _aot(self, module_or_text, out_dir: str) -> None:
        from .aot import AotError, aot_compile

        try:
            result = aot_compile(module_or_text, out_dir)
        except AotError as e:
            raise HloCellError("ahead-of-time build failed", str(e)) from None
        except OSError as e:  # writing the files into a folder that exists but refuses them
            where = f"cannot write {e.filename}: " if e.filename else ""
            raise HloCellError("ahead-of-time build failed", f"--aot {out_dir}: {where}{e.strerror or e}") from None
        print(result.summary() if hasattr(result, "summary") else result)

    def _arguments(self, exe: Executable, names: list[str]) -> list[np.ndarray]:
        from .backends.args import check_args

        values = []
        for name in names:
            try:
                values.append(self._ip.ev(name))
            except NameError:
                raise HloCellError("UsageError", f"--args: {name!r} is not defined in the notebook") from None
            except SyntaxError:
                raise HloCellError("UsageError", f"--args: {name!r} is not a variable name") from None
        try:
            return check_args(exe.parameters, values)
        except (TypeError, ValueError) as e:
            hint = ""
            if "expected dtype" in str(e):
                hint = " (convert with .astype(...))"
            raise HloCellError("argument mismatch", f"--args {', '.join(names)}: {e}{hint}") from None

    @staticmethod
    def _runnable(exe: Executable) -> None:
        why = exe.unavailable
        if why:
            raise HloCellError("cannot run", f"target {exe.target!r} cannot run here: {why}. The report (without "
                                             "--args and --bench) still shows the code it generated.")

    def _run(self, exe: Executable, arrays: list[np.ndarray]) -> Any:
        from .hlo.evaluator import EvaluationError

        self._runnable(exe)
        try:
            return exe(*arrays)
        except EvaluationError as e:
            raise HloCellError("cannot run", str(e)) from None

    def _store_outputs(self, outputs, names: list[str]) -> None:
        if not names:
            return
        ns = self._ip.user_ns
        if len(names) == 1:
            ns[names[0]] = outputs
            return
        if not isinstance(outputs, tuple) or len(outputs) != len(names):
            n = len(outputs) if isinstance(outputs, tuple) else 1
            raise HloCellError("UsageError", f"--out names {len(names)} variables but the module has {n} "
                                             f"output{'s' if n != 1 else ''}")
        for name, value in zip(names, outputs):
            ns[name] = value

    @magic_arguments()
    @_common_flags
    @argument("--reset", action="store_true", help="forget the defaults set so far")
    @line_magic
    def hlo_config(self, line: str = ""):
        """Set the defaults of %%hlo's flags for this session, e.g. `%hlo_config --target interpreter
        --show fusion --bench`; with no flags, show them."""
        opts = parse_argstring(self.hlo_config, line)
        # Checked as a whole before anything is kept: a rejected value changes nothing.
        defaults = {} if opts.reset else dict(self.defaults)
        for key in BUILTIN_DEFAULTS:
            v = getattr(opts, key, None)
            if v is not None:
                defaults[key] = v
        target = str(defaults.get("target", BUILTIN_DEFAULTS["target"]))
        _check_target(target)
        _check_passes(target, _split(defaults.get("passes")) + _split(defaults.get("skip")))
        try:
            xm_display.normalize_tabs(_split(defaults.get("show")) or None)
        except ValueError as e:
            raise HloCellError("UsageError", f"--show: {e}") from None
        self.defaults = defaults
        current = {k: self.defaults.get(k, v) for k, v in BUILTIN_DEFAULTS.items()}
        print("%%hlo defaults: " + ", ".join(f"{k}={v!r}" for k, v in current.items()))


def _figure_png(fig) -> bytes:
    from .display.plots import figure_png

    return figure_png(fig)


def load_ipython_extension(ipython) -> None:
    ipython.register_magics(HloMagics)
    # The report's figures are plain matplotlib Figures (no pyplot), which IPython only draws once
    # a pyplot backend has registered a formatter; register one, unless something already did.
    png = ipython.display_formatter.formatters["image/png"]
    try:
        png.lookup_by_type("matplotlib.figure.Figure")
    except KeyError:
        png.for_type_by_name("matplotlib.figure", "Figure", _figure_png)


def unload_ipython_extension(ipython) -> None:
    """%reload_ext: the next load registers fresh magics over these."""
