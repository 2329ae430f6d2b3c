"""The pieces a cpu program is compiled in: each kernel, and each math function, an LLVM module of
its own, named by a content key, so that LLVM never compiles the same piece twice.

A unit's key hashes its IR text, the optimization level, the target (triple, CPU, features) and
the compiler's version: equal keys mean equal machine code. The kernel's exported function is
named after the key (`xmk_<key>`), so a program's glue module (`codegen`, split) calls kernels by
names that do not depend on the HLO instruction names, and identical kernels of two modules (or
of an edited cell) are one unit. Math functions are units under their own names (`xm.exp.f32`,
`xm.exp.v16f32`), defined once per target and linked by symbol; a kernel only declares them."""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from llvmlite import ir

from ...hlo.ir import Computation
from ..kernel_kinds import KernelKind, classify

__all__ = ["Unit", "kernel_unit", "math_unit", "content_key", "OPT_BY_KIND", "GLUE_OPT"]

_PLACEHOLDER = "xm.kernel"  # the kernel's name while its key is computed

# LLVM's pipeline per kernel kind, as measured (benchmarks/compile_time.py; per call, CPU time):
# -O2 runs the same vectorizer as -O3 and gave loops, gathers, reductions and dots the same speed
# (W1-W6, graphsage) at a half to a fifth of the compile time (-O3's extra unrolling and
# unswitching of reductions cost up to 200 ms a kernel); convolutions ran 9% slower at -O2
# (ssd_mobilenet), so they keep -O3. -O1 does not vectorize: 70x slower elementwise loops.
OPT_BY_KIND: dict[KernelKind, int] = {kind: 2 for kind in KernelKind} | {KernelKind.CONVOLUTION: 3}
GLUE_OPT = 0  # the entry and control flow: calls, copies and branches; LLVM costs ms even at -O1


@dataclass(frozen=True)
class Unit:
    """One separately compiled LLVM module and what it exports and imports."""

    symbol: str  # the external function it defines
    text: str  # LLVM IR, `symbol` in place
    opt: int
    key: str  # content key (see `content_key`)
    needs: tuple[tuple[str, ir.Type], ...] = ()  # math functions it calls: (name, type)
    math: bool = False  # a math function (compiled once per process, never evicted)
    on_disk: bool = True  # False for code holding this process's addresses (host calls)


def _compiler_version() -> str:
    import llvmlite
    import llvmlite.binding as llvm

    return f"llvmlite {llvmlite.__version__}, LLVM {'.'.join(map(str, llvm.llvm_version_info))}"


@functools.cache
def _salt(target_key: str) -> bytes:
    return f"{target_key}|{_compiler_version()}|".encode()


def content_key(text: str, opt: int, target_key: str) -> str:
    """The key of machine code compiled from `text` at `opt` for the target `target_key`."""
    return hashlib.sha256(_salt(target_key) + f"O{opt}|".encode() + text.encode()).hexdigest()


def _hide_all_but(module: ir.Module, keep: ir.Function) -> None:
    """Everything a unit defines besides its export becomes internal: units loaded into one
    engine must not define the same global symbol twice."""
    for g in module.globals.values():
        defined = not g.is_declaration if isinstance(g, ir.Function) else getattr(g, "initializer", None) is not None
        if g is not keep and defined and g.linkage in ("", "external"):
            g.linkage = "internal"


def fingerprint(comp: Computation) -> Hashable | None:
    """What the kernel generated for `comp` depends on, without instruction names: each
    instruction's opcode, shape, operands (by position), attributes and literal, called
    computations by their own fingerprints. None where an attribute has no exact text."""
    pos: dict[int, int] = {}
    out: list[Hashable] = []
    for k, i in enumerate(comp.instructions):
        pos[id(i)] = k
        attrs: list[Hashable] = []
        for name, v in i.attrs.items():
            if isinstance(v, Computation) or (isinstance(v, (tuple, list)) and v and isinstance(v[0], Computation)):
                fps = tuple(fingerprint(c) for c in (v if isinstance(v, (tuple, list)) else [v]))
                if None in fps:
                    return None
                attrs.append((name, fps))
            else:
                text = repr(v)
                if "..." in text or " at 0x" in text:  # elided or an object's identity: no exact text
                    return None
                attrs.append((name, text))
        lit = None if i.literal is None else (str(i.literal.dtype), i.literal.shape, i.literal.tobytes())
        out.append((i.opcode.value, str(i.shape), tuple(pos[id(o)] for o in i.operands), tuple(attrs), lit,
                    i.parameter_number))
    return (tuple(out), pos[id(comp.root)])


# Kernel units by the hash of their fingerprint and of everything else code generation reads
# (target, threads, f16 conversions, BLAS): an unchanged kernel of an edited module is not even
# generated again. Bounded in entries and in bytes of IR text, least recently used first.
_MEMO: OrderedDict[bytes, tuple[Unit, ir.FunctionType]] = OrderedDict()
_MEMO_BYTES = 0
MEMO_ENTRIES = 4096
MEMO_MAX_BYTES = 32 << 20
_MEMO_LOCK = threading.Lock()


def clear_memo() -> None:
    """Forgets the kernels' generated IR."""
    global _MEMO_BYTES
    with _MEMO_LOCK:
        _MEMO.clear()
        _MEMO_BYTES = 0


def kernel_unit(comp: Computation, target_key: str) -> tuple[Unit, ir.FunctionType]:
    """The unit computing `comp` as a kernel, and its function's type (what the glue declares)."""
    global _MEMO_BYTES
    from .halfconv import inlined
    from .kernels import threads
    from .library.blas import find_blas

    # A host call's kernel holds its callback's address, made afresh with each compile: never
    # reused from the memo, never stored on disk.
    if classify(comp) is KernelKind.HOST_CALL:
        unit, ftype = _generate(comp, target_key)
        return dataclasses.replace(unit, on_disk=False), ftype
    fp = fingerprint(comp)
    blas = find_blas()
    memo_key = None if fp is None else hashlib.sha256(
        repr((fp, target_key, threads(), inlined(), blas.path if blas else None)).encode()).digest()
    if memo_key is not None:
        with _MEMO_LOCK:
            hit = _MEMO.get(memo_key)
            if hit is not None:
                _MEMO.move_to_end(memo_key)
                return hit
    made = _generate(comp, target_key)
    if memo_key is not None:
        with _MEMO_LOCK:
            _MEMO[memo_key] = made
            _MEMO_BYTES += len(made[0].text)
            while len(_MEMO) > 1 and (len(_MEMO) > MEMO_ENTRIES or _MEMO_BYTES > MEMO_MAX_BYTES):
                _MEMO_BYTES -= len(_MEMO.popitem(last=False)[1][0].text)
    return made


def _generate(comp: Computation, target_key: str) -> tuple[Unit, ir.FunctionType]:
    from .kernels import define_kernel
    from .mathlib import declarations_only
    from .variants import with_vector_declarations

    module = ir.Module(name="xla_magic.kernel")
    with declarations_only():
        fn = define_kernel(module, _PLACEHOLDER, comp)
    fn.linkage = ""
    fn.attributes.discard("noinline")
    _hide_all_but(module, fn)
    text, needs = with_vector_declarations(module)
    opt = OPT_BY_KIND[classify(comp)]
    key = content_key(text, opt, target_key)
    symbol = f"xmk_{key[:32]}"
    return Unit(symbol, text.replace(f'@"{_PLACEHOLDER}', f'@"{symbol}'), opt, key, tuple(needs)), fn.function_type


@functools.cache
def math_unit(name: str, ty: ir.Type, target_key: str) -> Unit:
    """`xm.<name>.<type>` defined on its own, at -O3 (built once per process and target)."""
    from .mathlib import define_math_unit

    module = ir.Module(name="xla_magic.math")
    fn = define_math_unit(module, name, ty)
    _hide_all_but(module, fn)
    text = str(module)
    return Unit(fn.name, text, 3, content_key(text, 3, target_key), math=True)
