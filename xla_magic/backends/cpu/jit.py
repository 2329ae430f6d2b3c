"""llvmlite JIT: LLVM IR text (or an `llvmlite.ir.Module`) in, machine code addresses out.

    jm = compile_ir(ir_text_or_module, ["kernel"])
    jm.address("kernel")            # int; valid while `jm` is alive
    jm.llvm_ir / jm.llvm_ir_opt / jm.asm                  # whole-module texts
    jm.llvm_ir_by_function["kernel"], jm.asm_by_function["kernel"]   # one kernel at a time
    jm.timings                      # seconds per stage: parse, optimize, codegen

The pipeline is LLVM's new pass manager at -O3 with loop and SLP vectorization, for a target
machine of the host's CPU name and features, so AVX2/AVX-512 are used where the host has them.
`XLA_MAGIC_CPU` names a generic CPU model to compile for instead (`x86-64-v2`, `x86-64-v3`, ...,
optionally with extra features: `x86-64-v4,+avx512fp16`): portable code, or code for another
machine whose IR can be inspected here (run it only where the host has those features).
llvmlite >= 0.45 (LLVM 20+) has no `llvm.initialize()` and no legacy PassManagerBuilder.

A program of the cpu backend is compiled in pieces instead (see `units`): `compile_object` turns
one unit's IR into a relocatable object (on any thread: its own LLVM context and target machine,
the long steps outside llvmlite's global lock), and `link` maps the objects with the program's
glue module into one MCJIT engine, a `LinkedModule`, whose texts are made when first read.
`COMPILE_COUNT` counts what LLVM compiled, for the caches' tests.

Each `JitModule` owns its MCJIT engine: the machine code lives exactly as long as the
`JitModule` does, so whoever calls an address must keep a reference to it
(`callpath.make_caller(jm.address(name), ..., keepalive=jm)` does; the call path builds on this
module, not the other way round). Assembly is produced lazily, on first access, because it
costs a second code generation that a program run from a notebook cell rarely needs.
"""
from __future__ import annotations

import collections
import ctypes
import ctypes.util
import functools
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import llvmlite.binding as llvm
from llvmlite import ir

__all__ = ["JitError", "JitModule", "HostTarget", "host", "target_for", "compile_ir", "split_asm", "CPU_ENV",
           "LinkedModule", "LinkedText", "link", "compile_object", "COMPILE_COUNT",
           "CPU_MODELS"]


class JitError(RuntimeError):
    """LLVM refused the IR (parse or verify error), or a requested entry point is missing."""


# LLVM's global context and our pass-builder objects are not meant for concurrent use.
_LOCK = threading.RLock()


@dataclass(frozen=True)
class HostTarget:
    triple: str
    cpu: str
    features: str
    data_layout: str

    def target_machine(self, opt: int = 3) -> llvm.TargetMachine:
        """A fresh target machine: an MCJIT engine takes ownership of the one it is given."""
        target = llvm.Target.from_triple(self.triple)
        return target.create_target_machine(cpu=self.cpu, features=self.features, opt=opt,
                                            codemodel="jitdefault", jit=True)

    @property
    def vector_bits(self) -> int:
        """Widest vector register the features allow (what the loop vectorizer may use)."""
        f = set(self.features.split(","))
        if "+avx512f" in f:
            return 512
        if "+avx" in f or "+avx2" in f:
            return 256
        return 128


CPU_ENV = "XLA_MAGIC_CPU"  # a CPU model to compile for instead of the host ("" or "host": the host)

# The x86-64 psABI micro-architecture levels, each the one before plus its row. LLVM knows these
# names; the features are spelled out because our own choices (vector width, the compile cache's
# key) read them and llvmlite cannot ask LLVM what a CPU name implies.
_X86_LEVELS = (
    ("x86-64", "+cmov,+cx8,+fxsr,+mmx,+sse,+sse2"),  # (and x87, which LLVM does not list)
    ("x86-64-v2", "+cx16,+popcnt,+sahf,+sse3,+sse4.1,+sse4.2,+ssse3"),
    ("x86-64-v3", "+avx,+avx2,+bmi,+bmi2,+f16c,+fma,+lzcnt,+movbe,+xsave"),
    ("x86-64-v4", "+avx512bw,+avx512cd,+avx512dq,+avx512f,+avx512vl"),
)
CPU_MODELS: dict[str, str] = {
    name: ",".join(f for _, feats in _X86_LEVELS[: i + 1] for f in feats.split(","))
    for i, (name, _) in enumerate(_X86_LEVELS)
}


def host() -> HostTarget:
    """The target generated code is compiled for: the host CPU, or the model `XLA_MAGIC_CPU` names
    (read on every call, so setting it takes effect for the next compile)."""
    return target_for(os.environ.get(CPU_ENV, ""))


@functools.cache
def target_for(spec: str) -> HostTarget:
    """"" or "host": the host's CPU name and features. Otherwise a model of `CPU_MODELS`,
    optionally followed by extra features ("x86-64-v4,+avx512fp16")."""
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    llvm.initialize_native_asmparser()
    triple = llvm.get_process_triple()
    name, _, extra = spec.strip().partition(",")
    if name in ("", "host"):
        cpu = llvm.get_host_cpu_name()
        try:
            features = llvm.get_host_cpu_features().flatten()
        except RuntimeError:  # some hosts cannot report features; the CPU name still implies most
            features = ""
    elif name in CPU_MODELS and triple.startswith("x86_64"):
        cpu, features = name, CPU_MODELS[name]
    else:
        raise ValueError(f"{CPU_ENV}={spec!r}: not a CPU model for {triple} "
                         f"(known: host, {', '.join(CPU_MODELS)})")
    features = ",".join(f for f in (features, extra.strip()) if f)
    _register_runtime_helpers()
    target = llvm.Target.from_triple(triple)
    tm = target.create_target_machine(cpu=cpu, features=features, opt=3, codemodel="jitdefault", jit=True)
    return HostTarget(triple, cpu, features, str(tm.target_data))


def missing_features(target: HostTarget) -> list[str]:
    """Features code for `target` may use that this machine lacks (a model named by XLA_MAGIC_CPU
    beyond the host): such code is for reading, and running it would kill the process with an
    illegal instruction. Empty where the host cannot report its features."""
    native = target_for("")
    if not native.features or target.features == native.features:
        return []
    have = {f for f in native.features.split(",") if f.startswith("+")}
    return sorted(f for f in target.features.split(",") if f.startswith("+") and f not in have)


# Without F16C (x86-64-v2 and older) LLVM converts half precision through compiler-runtime calls,
# which MCJIT resolves only among symbols it was given: libgcc_s (GCC >= 12) has them.
_RUNTIME_HELPERS = ("__extendhfsf2", "__truncsfhf2", "__truncdfhf2")


@functools.cache
def _register_runtime_helpers() -> None:
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("gcc_s") or "libgcc_s.so.1")
    except OSError:
        return
    for name in _RUNTIME_HELPERS:
        if hasattr(lib, name):
            llvm.add_symbol(name, ctypes.cast(getattr(lib, name), ctypes.c_void_p).value)


@functools.cache
def _optimizer_tm(target: HostTarget, opt: int) -> llvm.TargetMachine:
    """The target machine the pass builder queries for costs; kept, never handed to an engine."""
    return target.target_machine(opt)


def _optimize(mod: llvm.ModuleRef, target: HostTarget, opt: int) -> None:
    pto = llvm.create_pipeline_tuning_options(speed_level=opt)
    pto.loop_vectorization = opt >= 2
    pto.slp_vectorization = opt >= 2
    pto.loop_interleaving = opt >= 2
    pto.loop_unrolling = opt >= 2
    pb = llvm.create_pass_builder(_optimizer_tm(target, opt), pto)
    mpm = pb.getModulePassManager()
    try:
        mpm.run(mod, pb)
    finally:
        _dispose_pass_manager(mpm)


def _dispose_pass_manager(mpm: llvm.ModulePassManager) -> None:
    """Frees the pipeline. llvmlite 0.45-0.50 never does: `ModulePassManager` lists `ObjectRef`
    before `NewPassManager` among its bases, so its `_dispose` is ObjectRef's empty one and each
    -O3 pipeline (~57 KiB of native memory) leaked."""
    if type(mpm)._dispose is _OBJECT_REF_DISPOSE:
        _NEW_PM_DISPOSE(mpm)
        mpm.detach()
    else:  # a fixed llvmlite frees it itself
        mpm.close()


_OBJECT_REF_DISPOSE = llvm.ffi.ObjectRef._dispose
_NEW_PM_DISPOSE = llvm.newpassmanagers.NewPassManager._dispose


_FUNC_END = re.compile(r"^\s*\.size\s+([^,\s]+),\s*\.Lfunc_end\d+-", re.M)


def split_asm(asm: str) -> dict[str, str]:
    """Cuts LLVM's assembly listing into one piece per function, each piece ending at the
    function's `.size` directive and starting right after the previous one, so the constant
    pool a function loads from (emitted just before it) stays with it."""
    out: dict[str, str] = {}
    start = 0
    for m in _FUNC_END.finditer(asm):
        end = asm.find("\n", m.end())
        end = len(asm) if end < 0 else end + 1
        out[m.group(1).strip('"')] = asm[start:end].strip("\n") + "\n"
        start = end
    return out


def _ir_by_function(mod: llvm.ModuleRef) -> dict[str, str]:
    return {f.name: str(f) for f in mod.functions if not f.is_declaration}


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None where the C library has none."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
        return trim
    except (OSError, AttributeError, TypeError):
        return None


def _release_engine(engine: llvm.ExecutionEngine) -> None:
    """Runs when a `JitModule` is collected: frees its engine (machine code, module, target
    machine) now, and hands the freed heap pages back to the system. An engine frees many small
    blocks amid those of live executables, and glibc keeps such pages resident: without the trim a
    session that compiles 1,000 modules holds ~200 MB it no longer uses (0.4 ms per call)."""
    with _LOCK:
        engine.close()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class _Entries:
    """Entry points of compiled code by name."""

    name: str
    addresses: dict[str, int]

    @property
    def entry_names(self) -> list[str]:
        return list(self.addresses)

    def address(self, name: str) -> int:
        try:
            return self.addresses[name]
        except KeyError:
            raise KeyError(f"{name!r} is not an entry of {self.name} (entries: {self.entry_names})") from None

    def ctypes_function(self, name: str, restype, *argtypes):
        """A ctypes view of an entry; it holds a reference to this module so the code stays alive."""
        fn = ctypes.CFUNCTYPE(restype, *argtypes)(self.address(name))
        fn._jit_module = self  # type: ignore[attr-defined]
        return fn


class JitModule(_Entries):
    """One compiled LLVM module: entry addresses, its texts, and the engine that owns the code."""

    def __init__(self, name: str, llvm_ir: str, llvm_ir_opt: str, engine: llvm.ExecutionEngine,
                 addresses: dict[str, int], timings: dict[str, float], ir_funcs: dict[str, str],
                 ir_opt_funcs: dict[str, str], opt: int, target: HostTarget | None = None):
        self.name = name
        self.llvm_ir = llvm_ir
        self.llvm_ir_opt = llvm_ir_opt
        self.addresses = addresses
        self.timings = timings
        self.llvm_ir_by_function = ir_funcs
        self.llvm_ir_opt_by_function = ir_opt_funcs
        self._engine = engine  # keeps the machine code mapped
        weakref.finalize(self, _release_engine, engine)
        self._opt = opt
        self.target = target or host()  # the CPU the code is for (assembly is generated for it too)
        self._asm: str | None = None
        self._keep: list[object] = []  # objects generated code may point at (method tables, ...)
        self.object_code: bytes | None = None  # the machine code, for a cache (see `compile_ir`)

    @property
    def asm(self) -> str:
        """Assembly of the optimized module, generated on first access (a second codegen run)."""
        if self._asm is None:
            with _LOCK:
                mod = llvm.parse_assembly(self.llvm_ir_opt)
                tm = _optimizer_tm(self.target, self._opt)
                t0 = time.perf_counter()
                self._asm = tm.emit_assembly(mod)
                self.timings["asm"] = time.perf_counter() - t0
        return self._asm

    @property
    def asm_by_function(self) -> dict[str, str]:
        return split_asm(self.asm)

    @property
    def artifacts(self) -> dict[str, str]:
        """The texts the notebook shows ("asm" is generated here, lazily)."""
        return {"llvm_ir": self.llvm_ir, "llvm_ir_opt": self.llvm_ir_opt, "asm": self.asm}

    def __repr__(self) -> str:
        ms = sum(v for k, v in self.timings.items() if k != "asm") * 1e3
        return f"<JitModule {self.name}: {', '.join(self.entry_names)}; compiled in {ms:.1f} ms>"


def _defined_externals(mod: llvm.ModuleRef) -> list[str]:
    return [f.name for f in mod.functions
            if not f.is_declaration and f.linkage in (llvm.Linkage.external, llvm.Linkage.weak_odr)]


def compile_ir(source: str | ir.Module, entries: Iterable[str] | None = None, *, opt: int = 3,
               name: str | None = None, object_code: bytes | None = None) -> JitModule:
    """Parses, verifies, optimizes and JIT-compiles `source`. `entries` are the functions whose
    addresses are wanted (default: every defined function with external linkage).

    With `object_code` (what `JitModule.object_code` held after an earlier compile of the same,
    already optimized, IR) the optimizer and code generation are skipped: the engine maps the
    stored machine code. `JitModule.object_code` always holds the machine code produced."""
    if not 0 <= opt <= 3:
        raise ValueError(f"opt must be 0..3, got {opt}")
    text = str(source)
    if name is None:
        name = source.name if isinstance(source, ir.Module) else "module"
    target = host()
    with _LOCK:
        t0 = time.perf_counter()
        try:
            mod = llvm.parse_assembly(text)
            mod.triple = target.triple
            mod.data_layout = target.data_layout
            mod.verify()
        except RuntimeError as e:
            raise JitError(f"LLVM rejected module {name!r}: {e}") from None
        wanted: Sequence[str] = list(entries) if entries is not None else _defined_externals(mod)
        for w in wanted:
            try:
                fn = mod.get_function(w)
            except NameError:
                fn = None
            if fn is None or fn.is_declaration:
                raise JitError(f"module {name!r} defines no function {w!r}")
        ir_funcs = _ir_by_function(mod)
        t1 = time.perf_counter()
        if opt and object_code is None:
            _optimize(mod, target, opt)
        # Captured before the engine runs codegen: codegen-prepare rewrites the module in place.
        text_opt = str(mod)
        ir_opt_funcs = _ir_by_function(mod)
        t2 = time.perf_counter()
        engine = llvm.create_mcjit_compiler(mod, target.target_machine(opt))
        produced: list[bytes] = []
        engine.set_object_cache(lambda _m, data: produced.append(bytes(data)),
                                (lambda _m: object_code) if object_code is not None else (lambda _m: None))
        engine.finalize_object()
        addresses = {w: engine.get_function_address(w) for w in wanted}
        t3 = time.perf_counter()
    missing = [w for w, a in addresses.items() if not a]
    if missing:
        raise JitError(f"module {name!r}: no machine code for {missing}")
    timings = {"parse": t1 - t0, "optimize": t2 - t1, "codegen": t3 - t2}
    jm = JitModule(name, text, text_opt, engine, addresses, timings, ir_funcs, ir_opt_funcs, opt, target)
    jm.object_code = object_code if object_code is not None else (produced[0] if produced else None)
    return jm


# --- separately compiled units, linked into one engine ------------------------------------------

# How often LLVM compiled something, by what: "unit" (a kernel or math function to an object)
# and "glue" (a program's entry and control flow). The caches are judged by these counts.
COMPILE_COUNT: collections.Counter[str] = collections.Counter()


_PER_THREAD = threading.local()


def _object_tm(target: HostTarget, opt: int) -> llvm.TargetMachine:
    """A target machine emitting objects an engine of `target` can load; one per thread (LLVM's
    target machines are not for concurrent use), freed with the thread."""
    tms: dict[tuple[HostTarget, int], llvm.TargetMachine] | None = getattr(_PER_THREAD, "tms", None)
    if tms is None:
        tms = _PER_THREAD.tms = {}
    tm = tms.get((target, opt))
    if tm is None:
        tm = tms[(target, opt)] = target.target_machine(opt)
    return tm


def _parse(text: str, name: str, context: llvm.ContextRef | None = None) -> llvm.ModuleRef:
    try:
        mod = llvm.parse_assembly(text, context)
        mod.verify()
    except RuntimeError as e:
        raise JitError(f"LLVM rejected module {name!r}: {e}") from None
    return mod


def compile_object(text: str, opt: int, target: HostTarget, name: str = "unit",
                   timings: dict[str, float] | None = None) -> bytes:
    """LLVM IR text -> relocatable object code for `target` at `opt` (parse, optimize, codegen).
    Safe to call from several threads at once: each call has its own LLVM context, pass pipeline
    and target machine, and the two long steps run outside llvmlite's lock (see `_unlocked`)."""
    t0 = time.perf_counter()
    context = llvm.create_context()
    mod = _parse(text, name, context)
    mod.triple, mod.data_layout = target.triple, target.data_layout
    t1 = time.perf_counter()
    tm = _object_tm(target, opt)
    pto = llvm.create_pipeline_tuning_options(speed_level=opt)
    pto.loop_vectorization = pto.slp_vectorization = pto.loop_interleaving = pto.loop_unrolling = opt >= 2
    pb = llvm.create_pass_builder(tm, pto)
    mpm = pb.getModulePassManager()
    try:
        _unlocked("LLVMPY_RunNewModulePassManager")(mpm, mod, pb)
    finally:
        _dispose_pass_manager(mpm)
    t2 = time.perf_counter()
    with llvm.ffi.OutputString() as err:
        buf = _unlocked("LLVMPY_TargetMachineEmitToMemory")(tm, mod, 1, err)
        if not buf:
            raise JitError(f"LLVM could not compile {name!r}: {err}")
    try:
        obj = ctypes.string_at(llvm.ffi.lib.LLVMPY_GetBufferStart(buf), llvm.ffi.lib.LLVMPY_GetBufferSize(buf))
    finally:
        llvm.ffi.lib.LLVMPY_DisposeMemoryBuffer(buf)
    t3 = time.perf_counter()
    with _COUNT_LOCK:
        COMPILE_COUNT["unit"] += 1
    if timings is not None:
        for k, v in (("parse", t1 - t0), ("optimize", t2 - t1), ("codegen", t3 - t2)):
            timings[k] = timings.get(k, 0.0) + v
    return obj


_COUNT_LOCK = threading.Lock()


@functools.cache
def _unlocked(name: str) -> Callable[..., object]:
    """llvmlite's C function `name` without the lock llvmlite takes around every call into LLVM
    (which would run compiles on several threads one after another). LLVM itself supports
    concurrent work on modules of separate contexts with separate target machines, which is all
    `compile_object` does outside the lock; ctypes releases the GIL for the call. Where llvmlite
    keeps its functions differently, the locked call is used."""
    wrapper = getattr(llvm.ffi.lib, name)
    raw: Callable[..., object] | None = getattr(wrapper, "_cfn", None)
    return raw if raw is not None else wrapper


def optimized_text(text: str, opt: int, target: HostTarget) -> str:
    """What the optimizer makes of `text` (for reading: the texts a notebook shows)."""
    with _LOCK:
        mod = _parse(text, "unit")
        mod.triple, mod.data_layout = target.triple, target.data_layout
        if opt:
            _optimize(mod, target, opt)
        return str(mod)


def assembly(text: str, opt: int, target: HostTarget) -> str:
    """The assembly `compile_object` makes of `text` (a second code generation)."""
    with _LOCK:
        mod = _parse(text, "unit")
        mod.triple, mod.data_layout = target.triple, target.data_layout
        if opt:
            _optimize(mod, target, opt)
        return _optimizer_tm(target, opt).emit_assembly(mod)


@dataclass(frozen=True)
class LinkedText:
    """A piece of a linked program as the notebook reads it: IR, and how it was compiled."""

    name: str
    text: str
    opt: int


class LinkedModule(_Entries):
    """A program compiled in pieces: the glue module (entry and control flow) and unit objects,
    linked by symbol in one MCJIT engine that owns the machine code (kept as long as this is).
    The texts are made on first read, per piece, from the IR each piece was compiled from."""

    def __init__(self, name: str, engine: llvm.ExecutionEngine, addresses: dict[str, int],
                 pieces: dict[str, LinkedText], target: HostTarget, timings: dict[str, float],
                 glue_object: bytes | None, objects_nbytes: int):
        self.name = name
        self.addresses = addresses
        self.pieces = pieces  # readable name -> piece; the glue is first
        self.target = target
        self.timings = timings
        self.object_code = glue_object  # the glue's machine code (the units are cached on their own)
        self._engine = engine
        weakref.finalize(self, _release_engine, engine)
        self._objects_nbytes = objects_nbytes
        self._opt_texts: dict[str, str] = {}
        self._asm: dict[str, str] = {}
        self._keep: list[object] = []

    @property
    def nbytes(self) -> int:
        return (len(self.object_code or b"") + self._objects_nbytes + sum(len(p.text) for p in self.pieces.values())
                + sum(map(len, self._opt_texts.values())) + sum(map(len, self._asm.values())))

    def piece_ir(self, name: str) -> str:
        return self.pieces[name].text

    def piece_ir_opt(self, name: str) -> str:
        if name not in self._opt_texts:
            p = self.pieces[name]
            self._opt_texts[name] = optimized_text(p.text, p.opt, self.target)
        return self._opt_texts[name]

    def piece_asm(self, name: str) -> str:
        if name not in self._asm:
            p = self.pieces[name]
            t0 = time.perf_counter()
            self._asm[name] = assembly(p.text, p.opt, self.target)
            self.timings["asm"] = self.timings.get("asm", 0.0) + time.perf_counter() - t0
        return self._asm[name]

    @property
    def llvm_ir(self) -> str:
        return "\n".join(self.piece_ir(n) for n in self.pieces)

    @property
    def llvm_ir_opt(self) -> str:
        return "\n".join(self.piece_ir_opt(n) for n in self.pieces)

    @property
    def asm(self) -> str:
        return "\n".join(self.piece_asm(n) for n in self.pieces)

    def __repr__(self) -> str:
        ms = sum(v for k, v in self.timings.items() if k != "asm") * 1e3
        return f"<LinkedModule {self.name}: {len(self.pieces)} pieces; linked in {ms:.1f} ms>"


def link(glue: str, objects: Sequence[bytes], entries: Sequence[str], pieces: dict[str, LinkedText], *,
         glue_opt: int, name: str, glue_object: bytes | None = None) -> LinkedModule:
    """Compiles the glue module (or maps `glue_object`, its machine code from an earlier compile)
    and links it with the unit objects, whose symbols it calls, in one engine."""
    target = host()
    timings: dict[str, float] = {}
    with _LOCK:
        t0 = time.perf_counter()
        mod = _parse(glue, name)
        mod.triple, mod.data_layout = target.triple, target.data_layout
        t1 = time.perf_counter()
        if glue_object is None:
            _optimize(mod, target, glue_opt)
            COMPILE_COUNT["glue"] += 1
        t2 = time.perf_counter()
        engine = llvm.create_mcjit_compiler(mod, target.target_machine(glue_opt))
        for obj in objects:
            engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
        produced: list[bytes] = []
        engine.set_object_cache(lambda _m, data: produced.append(bytes(data)),
                                (lambda _m: glue_object) if glue_object is not None else (lambda _m: None))
        engine.finalize_object()
        addresses = {w: engine.get_function_address(w) for w in entries}
        t3 = time.perf_counter()
    missing = [w for w, a in addresses.items() if not a]
    if missing:
        engine.close()
        raise JitError(f"module {name!r}: no machine code for {missing}")
    timings.update({"parse": t1 - t0, "optimize": t2 - t1, "link": t3 - t2})
    code = glue_object if glue_object is not None else (produced[0] if produced else None)
    return LinkedModule(name, engine, addresses, pieces, target, timings, code, sum(map(len, objects)))
