"""Ahead-of-time compilation: an HLO module to a relocatable object, a C header, and, for the
host, a shared library and a standalone executable that need no Python at run time.

    res = xm.aot_compile(text, "out/", name="lstm")   # or: xla-magic aot model.hlo -o out/
    res.files            # out/lstm.o, out/lstm.h, out/liblstm.so, out/lstm
    print(res.summary()) # sizes of the object, the stripped library and executable

The object comes from the same pipeline as `xm.compile(target="cpu")` (optimizer, buffer
assignment, `backends.cpu.codegen`) with three differences that make it standalone:
no call into numpy's BLAS (its address is only known inside this process), a thread count fixed
here rather than by the host (1 for other targets), and entry points with C names:

    void NAME_run(const void *arg0, ..., void *out0, ...);            /* arena on stack or heap */
    void NAME_run_with_arena(void *arena, const void *arg0, ..., void *out0, ...);
    void NAME_run_array(void *arena, const void *const *args, void *const *outs);
    const xm_model_info *NAME_info(void);   /* shapes, dtypes, byte sizes, arena size */

Everything else in the object has internal linkage, so several models link into one program.
The `NAME` executable is `kernels/aot_harness.c` (shipped in the package) compiled against
`NAME.h` and linked with `NAME.o`: `NAME arg0.npy ... -o OUTDIR` writes `OUTDIR/out0.npy`...

bf16 has no .npy type code. The convention is the corpus's: the harness writes bf16 outputs as
float32 ('<f4', exact) and reads bf16 inputs either as '<f4' (rounded to nearest even, as
`ml_dtypes` does) or as raw 2-byte values ('<V2', what `np.save` writes for ml_dtypes.bfloat16).
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..hlo.ir import Module

__all__ = ["aot_compile", "AotResult", "AotError", "NoCompilerError", "AotTarget", "resolve_target",
           "harness_source", "CROSS_TRIPLES"]

ARENA_ALIGN = 64  # the buffer assignment's slot alignment (passes.buffers.ALIGN)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# .npy type code per HLO type. bf16 travels as float32 (see the module docstring).
NPY_DESCR = {"pred": "|b1", "s8": "|i1", "u8": "|u1", "s16": "<i2", "u16": "<u2", "s32": "<i4", "u32": "<u4",
             "s64": "<i8", "u64": "<u8", "f16": "<f2", "bf16": "<f4", "f32": "<f4", "f64": "<f8",
             "c64": "<c8", "c128": "<c16"}
# Example triples for other machines, with the CPU and features that make a sensible default.
CROSS_TRIPLES = {
    "aarch64": ("aarch64-unknown-linux-gnu", "generic", "+neon", ""),
    "armv7": ("armv7-unknown-linux-gnueabihf", "generic", "+armv7-a,+vfp3,+neon,+d32", ""),
    "riscv64": ("riscv64-unknown-linux-gnu", "generic-rv64", "+m,+a,+f,+d,+c", "lp64d"),
}


class AotError(RuntimeError):
    """The module cannot be compiled ahead of time, or building the library/executable failed."""


class NoCompilerError(AotError):
    """No C compiler: NAME.o and NAME.h were written, the library and executable were not."""

    def __init__(self, msg: str, result: AotResult):
        super().__init__(msg)
        self.result = result


# --- target ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AotTarget:
    triple: str
    cpu: str
    features: str
    abiname: str
    is_host: bool  # the system C compiler can link it (host architecture and OS)

    def target_machine(self, opt: int):
        import llvmlite.binding as llvm

        # PIC, so that the same object links into a shared library and an executable.
        return llvm.Target.from_triple(self.triple).create_target_machine(
            cpu=self.cpu, features=self.features, opt=opt, reloc="pic", codemodel="default",
            abiname=self.abiname)


def _arch(triple: str) -> str:
    return triple.split("-", 1)[0].lower()


def resolve_target(triple: str | None = None, cpu: str | None = None, features: str | None = None) -> AotTarget:
    """The host (its CPU and features) when `triple` is None or the host's; otherwise `triple`
    (or a short name from CROSS_TRIPLES) for a generic CPU of that architecture. A `cpu` given
    without `features` means that CPU's own features (e.g. cpu="x86-64-v2" for a portable build)."""
    import llvmlite.binding as llvm

    from ..backends.cpu.jit import host

    h = host()
    if triple is None or triple == h.triple:
        if cpu is None:
            return AotTarget(h.triple, h.cpu, h.features if features is None else features, "", True)
        return AotTarget(h.triple, cpu, features or "", "", True)
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    abiname = ""
    if triple in CROSS_TRIPLES:
        triple, d_cpu, d_features, abiname = CROSS_TRIPLES[triple]
    else:
        d_cpu, d_features = "generic", ""
        for full, c, f, a in CROSS_TRIPLES.values():
            if _arch(full) == _arch(triple):
                d_cpu, d_features, abiname = c, f, a
    try:
        llvm.Target.from_triple(triple)
    except RuntimeError as e:
        raise AotError(f"LLVM (as llvmlite carries it) has no target for {triple!r}: {e}") from None
    if cpu is not None and features is None:
        d_features = ""
    # Same architecture and OS as the host (e.g. x86_64-pc-linux-gnu on x86_64-unknown-linux-gnu):
    # the system compiler can still link it.
    same = _arch(triple) == _arch(h.triple) and _os(triple) == _os(h.triple)
    return AotTarget(triple, cpu or d_cpu, d_features if features is None else features, abiname, same)


def _os(triple: str) -> str:
    parts = triple.lower().split("-")
    return parts[2] if len(parts) > 2 else (parts[1] if len(parts) > 1 else "")


# --- result ----------------------------------------------------------------------------------

@dataclass
class BufferSpec:
    name: str
    dtype: str
    dims: tuple[int, ...]
    nbytes: int

    @property
    def type_text(self) -> str:
        return f"{self.dtype}[{','.join(map(str, self.dims))}]"


@dataclass
class AotResult:
    name: str
    out_dir: Path
    target: AotTarget
    inputs: list[BufferSpec]
    outputs: list[BufferSpec]
    arena_bytes: int
    threads: int
    object: Path
    header: Path
    shared_lib: Path | None = None
    executable: Path | None = None
    sizes: dict[str, int] = field(default_factory=dict)  # bytes; see summary()
    sections: dict[str, int] = field(default_factory=dict)  # object's allocated sections
    undefined: list[str] = field(default_factory=list)  # what the object needs from libc/libm/pthread
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        return [p for p in (self.object, self.header, self.shared_lib, self.executable) if p is not None]

    def summary(self) -> str:
        code = sum(v for k, v in self.sections.items() if k.startswith(".text"))
        data = sum(v for k, v in self.sections.items() if not k.startswith(".text"))
        threads = (f"kernels on up to {self.threads} threads" if "pthread_create" in self.undefined
                   else "one thread")
        rows = [(self.object.name, self.sizes["object"], f"code {code:,} B, data {data:,} B")]
        if self.shared_lib is not None:
            rows.append((f"{self.shared_lib.name} (stripped)", self.sizes["shared_lib"], ""))
        if self.executable is not None:
            rows.append((f"{self.executable.name} (stripped)", self.sizes["executable"], ""))
        rows.append((self.header.name, self.sizes["header"], ""))
        width = max(len(r[0]) for r in rows)
        lines = [f"{self.name}: {len(self.inputs)} inputs, {len(self.outputs)} outputs, "
                 f"{self.arena_bytes:,}-byte arena, {threads}; {self.target.triple} ({self.target.cpu})"]
        lines += [f"  {f:<{width}}  {n:>9,} B {n / 1024:7.1f} KiB  {extra}".rstrip() for f, n, extra in rows]
        lines.append(f"  needs: {', '.join(self.undefined) or 'nothing'} (libc/libm"
                     f"{'/pthread' if 'pthread_create' in self.undefined else ''})")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<AotResult {self.name} in {self.out_dir}: {', '.join(p.name for p in self.files)}>"


# --- code generation -------------------------------------------------------------------------

# The CPU backend's codegen reads two process-wide settings; AOT overrides them for one call.
_CODEGEN_LOCK = threading.Lock()


@contextlib.contextmanager
def _standalone_codegen(threads: int):
    """No BLAS (its address belongs to this process) and a fixed thread count while generating."""
    from ..backends.cpu import kernels, library

    if not callable(getattr(library, "find_blas", None)) or not callable(getattr(kernels, "threads", None)):
        raise AotError("the cpu backend changed: aot expects library.find_blas and kernels.threads")
    with _CODEGEN_LOCK:
        saved = library.find_blas, kernels.threads
        library.find_blas = lambda: None
        kernels.threads = lambda: threads
        try:
            yield
        finally:
            library.find_blas, kernels.threads = saved


def _specs(module: Module) -> tuple[list[BufferSpec], list[BufferSpec]]:
    ins = []
    for p in module.entry.parameters:
        if p.shape.is_tuple:
            raise AotError(f"parameter '{p.name}' is a tuple; aot takes array parameters only")
        ins.append(BufferSpec(p.name, p.shape.dtype.name, tuple(p.shape.dims), p.shape.nbytes))
    outs = [BufferSpec(f"out{k}", s.dtype.name, tuple(s.dims), s.nbytes)
            for k, s in enumerate(module.entry.root.shape.leaves())]
    return ins, outs


def _entry_computation(m, entry: str):
    """The computation function `xm_entry` calls with its arena: `void comp(ptr arena, ptr..)`."""
    from llvmlite import ir

    fn = m.get_global(entry)
    for block in fn.blocks:
        for ins in block.instructions:
            if isinstance(ins, ir.CallInstr) and ins.callee.name.startswith("comp."):
                return ins.callee
    raise AotError(f"cannot find the computation that {entry} runs")


def _add_api(m, program, name: str, triple: str, module_name: str, ins: list[BufferSpec],
             outs: list[BufferSpec], arena_bytes: int, threads: int) -> None:
    """NAME_run_with_arena, NAME_run_array and NAME_info, next to the backend's xm_entry."""
    from llvmlite import ir

    from ..backends.cpu.irtypes import I64, PTR, VOID

    n_in, n_out = program.n_inputs, program.n_outputs
    entry = m.get_global(program.entry)
    comp = _entry_computation(m, program.entry)
    # NAME_run_with_arena(arena, args.., outs..): a NULL arena means "allocate one" (NAME_run).
    fa = ir.Function(m, ir.FunctionType(VOID, [PTR] * (1 + n_in + n_out)), name=f"{name}_run_with_arena")
    b = ir.IRBuilder(fa.append_basic_block("entry"))
    given = b.icmp_unsigned("!=", fa.args[0], ir.Constant(PTR, None))
    with b.if_else(given) as (yes, no):
        with yes:
            b.call(comp, list(fa.args))
        with no:
            b.call(entry, list(fa.args[1:]))
    b.ret_void()
    # NAME_run_array(arena, args[], outs[]): one signature for every model (harness, FFI users).
    fv = ir.Function(m, ir.FunctionType(VOID, [PTR, PTR, PTR]), name=f"{name}_run_array")
    b = ir.IRBuilder(fv.append_basic_block("entry"))
    ptrs = [b.load(b.gep(fv.args[1], [ir.Constant(I64, k)], source_etype=PTR), typ=PTR) for k in range(n_in)]
    ptrs += [b.load(b.gep(fv.args[2], [ir.Constant(I64, k)], source_etype=PTR), typ=PTR) for k in range(n_out)]
    b.call(fa, [fv.args[0], *ptrs])
    b.ret_void()

    # NAME_info(): the xm_model_info / xm_buffer_info tables of the header, as constants.
    i8 = ir.IntType(8)
    counter = [0]

    def const_global(value: ir.Constant, tag: str) -> ir.GlobalVariable:
        counter[0] += 1
        g = ir.GlobalVariable(m, value.type, name=f"{name}.info.{tag}.{counter[0]}")
        g.global_constant, g.linkage, g.initializer = True, "private", value
        return g

    def cstr(s: str) -> ir.GlobalVariable:
        data = bytearray(s.encode() + b"\0")
        return const_global(ir.Constant(ir.ArrayType(i8, len(data)), data), "str")

    buf_t = ir.LiteralStructType([PTR, PTR, PTR, PTR, I64, I64, I64])
    info_t = ir.LiteralStructType([I64, I64, I64, I64, I64, I64, PTR, PTR, PTR, PTR, PTR])

    def table(specs: list[BufferSpec], tag: str) -> ir.Value:
        if not specs:
            return ir.Constant(PTR, None)
        rows = []
        for s in specs:
            dims = (const_global(ir.Constant(ir.ArrayType(I64, len(s.dims)), [ir.Constant(I64, d) for d in s.dims]),
                                 "dims") if s.dims else ir.Constant(PTR, None))
            elem = max(1, (_itemsize(s.dtype)))
            rows.append(ir.Constant(buf_t, [cstr(s.name), cstr(s.dtype), cstr(NPY_DESCR.get(s.dtype, "")), dims,
                                            ir.Constant(I64, len(s.dims)), ir.Constant(I64, elem),
                                            ir.Constant(I64, s.nbytes)]))
        return const_global(ir.Constant(ir.ArrayType(buf_t, len(rows)), rows), tag)

    info = const_global(ir.Constant(info_t, [
        ir.Constant(I64, 1), ir.Constant(I64, n_in), ir.Constant(I64, n_out), ir.Constant(I64, arena_bytes),
        ir.Constant(I64, ARENA_ALIGN), ir.Constant(I64, threads), cstr(name), cstr(module_name), cstr(triple),
        table(ins, "inputs"), table(outs, "outputs")]), "model")
    fi = ir.Function(m, ir.FunctionType(PTR, []), name=f"{name}_info")
    ir.IRBuilder(fi.append_basic_block("entry")).ret(info)


def _itemsize(dtype: str) -> int:
    from ..hlo.dtypes import dtype as lookup

    return lookup(dtype).itemsize


# 32-bit targets: the backend declares libc's size_t arguments as i64; these shims narrow them.
_SIZE_T_FUNCS = {"malloc": ("ptr", ["i64"]), "aligned_alloc": ("ptr", ["i64", "i64"]),
                 "calloc": ("ptr", ["i64", "i64"]), "realloc": ("ptr", ["ptr", "i64"])}


def _shim_size_t(text: str) -> str:
    for fn, (ret, args) in _SIZE_T_FUNCS.items():
        if not re.search(rf'@"?{fn}"?\(', text):
            continue
        text = re.sub(rf'^declare [^@\n]*@"?{fn}"?\([^)\n]*\)[^\n]*\n', "", text, flags=re.M)
        text = re.sub(rf'@"?{fn}"?(?=\()', f'@"xm.shim.{fn}"', text)
        params = ", ".join(f"{t} %a{k}" for k, t in enumerate(args))
        narrowed = [(f"%n{k}", f"%n{k} = trunc i64 %a{k} to i32") if t == "i64" else (f"%a{k}", "")
                    for k, t in enumerate(args)]
        body = "\n".join(f"  {line}" for _, line in narrowed if line)
        call_args = ", ".join(("i32 " if t == "i64" else f"{t} ") + v for (v, _), t in zip(narrowed, args))
        decl_args = ", ".join("i32" if t == "i64" else t for t in args)
        text += (f'\ndeclare {ret} @"{fn}"({decl_args})\n'
                 f'define internal {ret} @"xm.shim.{fn}"({params}) alwaysinline {{\n{body}\n'
                 f'  %r = call {ret} @"{fn}"({call_args})\n  ret {ret} %r\n}}\n')
    return text


_ABSOLUTE = re.compile(r"inttoptr \(?i64 (-?\d{6,})")  # an address of this process as a constant
_PROCESS_BOUND = ("dlopen", "dlsym")  # e.g. numpy's BLAS found at run time by its path here


def _optimize(mod, tm, opt: int, size: bool) -> None:
    import llvmlite.binding as llvm

    if size:  # -Os: the pipeline's vectorizer, unroller and inliner honour these attributes
        for f in mod.functions:
            if not f.is_declaration:
                f.add_function_attribute("optsize")
    pto = llvm.create_pipeline_tuning_options(speed_level=opt)
    for flag in ("loop_vectorization", "slp_vectorization", "loop_interleaving", "loop_unrolling"):
        setattr(pto, flag, opt >= 2)
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(mod, pb)


def _emit_object(text: str, target: AotTarget, api: set[str], opt: int, size: bool) -> tuple[bytes, str]:
    """Parse, internalize all but the API, optimize for the target, drop what is left unused
    (the math functions' vector variants nobody called), emit an ELF object."""
    import llvmlite.binding as llvm

    from ..backends.cpu.jit import _LOCK

    with _LOCK:
        tm = target.target_machine(opt)
        try:
            mod = llvm.parse_assembly(text)
            mod.triple = target.triple
            mod.data_layout = str(tm.target_data)
            mod.verify()
        except RuntimeError as e:
            raise AotError(f"LLVM rejected the generated module: {e}") from None
        for f in mod.functions:
            if not f.is_declaration and f.name not in api and f.linkage != llvm.Linkage.internal:
                f.linkage = llvm.Linkage.internal
        if opt:
            _optimize(mod, tm, opt, size)
        # The vector variants were kept alive for the vectorizer only: let global DCE drop the unused.
        optimized = re.sub(r'^@"?llvm\.compiler\.used"? = [^\n]*\n', "", str(mod), flags=re.M)
        mod = llvm.parse_assembly(optimized)
        mod.triple = target.triple
        mod.data_layout = str(tm.target_data)
        pm = llvm.create_new_module_pass_manager()
        pm.add_global_dead_code_eliminate_pass()
        pm.add_strip_dead_prototype_pass()
        pb = llvm.create_pass_builder(tm, llvm.create_pipeline_tuning_options(speed_level=max(opt, 1)))
        pm.run(mod, pb)
        return tm.emit_object(mod), str(mod)


# --- ELF (what the object holds, for the report and for the tests) --------------------------

def elf_info(data: bytes) -> dict:
    """e_machine, class (32/64), allocated section sizes and undefined global symbols of an ELF
    relocatable object (little-endian, as every target here)."""
    if data[:4] != b"\x7fELF":
        raise ValueError("not an ELF file")
    is64 = data[4] == 2
    e_machine = struct.unpack_from("<H", data, 18)[0]
    if is64:
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    else:
        shoff, = struct.unpack_from("<I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    secs = []
    for k in range(shnum):
        o = shoff + k * shentsize
        if is64:
            name, typ, flags, _addr, off, size, link, _info, _al, entsize = struct.unpack_from("<IIQQQQIIQQ", data, o)
        else:
            name, typ, flags, _addr, off, size, link, _info, _al, entsize = struct.unpack_from("<IIIIIIIIII", data, o)
        secs.append((name, typ, flags, off, size, link, entsize))

    def cstr(table_off: int, i: int) -> str:
        end = data.index(b"\0", table_off + i)
        return data[table_off + i:end].decode()

    strtab = secs[shstrndx][3]
    sections: dict[str, int] = {}
    undefined: list[str] = []
    for name, typ, flags, off, size, link, entsize in secs:
        sname = cstr(strtab, name)
        if flags & 0x2 and size:  # SHF_ALLOC
            key = sname if not sname.startswith(".text.") else ".text"
            sections[key] = sections.get(key, 0) + size
        if typ == 2:  # SHT_SYMTAB
            names = secs[link][3]
            for s in range(1, size // entsize):
                o = off + s * entsize
                if is64:
                    st_name, st_info, _other, st_shndx = struct.unpack_from("<IBBH", data, o)
                else:
                    st_name, = struct.unpack_from("<I", data, o)
                    st_info, _other, st_shndx = struct.unpack_from("<BBH", data, o + 12)
                if st_shndx == 0 and st_info >> 4 in (1, 2):  # undefined, global or weak
                    undefined.append(cstr(names, st_name))
    return {"machine": e_machine, "bits": 64 if is64 else 32, "sections": sections,
            "undefined": sorted(set(u for u in undefined if u))}


# --- header ----------------------------------------------------------------------------------

def _common_types() -> str:
    """The xm_model_info / xm_buffer_info types, from the header the harness also includes."""
    return (Path(__file__).parent.parent / "kernels" / "xm_model.h").read_text()


def _macro(s: str) -> str:
    return re.sub(r"\W", "_", s).upper()


def _prototype(ret: str, fn: str, params: list[str]) -> str:
    if not params:
        return f"{ret} {fn}(void);"
    return f"{ret} {fn}(\n    " + ",\n    ".join(params) + ");"


def _memory_note(undefined: list[str], threaded: bool) -> str:
    extra = []
    if "malloc" in undefined:
        extra.append("scratch from malloc (while-loop state, GEMM packing, big sorts or row scratch)")
    if threaded:
        extra.append("thread stacks (pthread_create)")
    return "Nothing else is allocated." if not extra else "This model also uses " + " and ".join(extra) + "."


def _header(name: str, module_name: str, target: AotTarget, ins: list[BufferSpec], outs: list[BufferSpec],
            arena_bytes: int, threads: int, undefined: list[str]) -> str:
    M = name.upper()
    guard = f"XM_{M}_H"
    threaded = "pthread_create" in undefined
    params = [f"const void *{_c_arg(s.name, k)}" for k, s in enumerate(ins)] + [f"void *out{k}"
                                                                               for k in range(len(outs))]
    needs = ["-lm"] + (["-lpthread"] if threaded else [])
    lines = [f"/* {name}.h: generated by xla_magic (ahead of time) from HLO module '{module_name}'",
             f" * for {target.triple} ({target.cpu}). Link with {name}.o (or lib{name}.so) and {' '.join(needs)}.",
             " *",
             " * Buffers are dense row-major (C order) arrays of the sizes below; inputs are only read.",
             " * Calls are independent: concurrent calls are safe when each has its own arena.",
             f" * The object needs from the C library: {', '.join(undefined) or 'nothing'}. */",
             f"#ifndef {guard}", f"#define {guard}", "", "#include <stdint.h>", "",
             "#ifdef __cplusplus", 'extern "C" {', "#endif", "", _common_types(),
             f"#define {M}_NUM_INPUTS {len(ins)}", f"#define {M}_NUM_OUTPUTS {len(outs)}",
             f"#define {M}_ARENA_BYTES {arena_bytes} /* temporaries */",
             f"#define {M}_ARENA_ALIGN {ARENA_ALIGN}",
             f"#define {M}_THREADS {threads if threaded else 1} /* most threads a call runs on */", ""]
    for tag, specs in (("ARG", ins), ("OUT", outs)):
        for k, s in enumerate(specs):
            what = f"arg{k} '{s.name}'" if tag == "ARG" else f"out{k}"
            lines.append(f"/* {what}: {s.type_text} */")
            lines.append(f"#define {M}_{tag}{k}_BYTES {s.nbytes}")
            lines.append(f"#define {M}_{tag}{k}_RANK {len(s.dims)}")
            if s.dims:
                lines.append(f"#define {M}_{tag}{k}_DIMS {{{', '.join(map(str, s.dims))}}}")
    heap = arena_bytes > 256 * 1024
    lines += ["",
              f"/* Runs the model. Its temporaries ({arena_bytes} bytes) go in an arena "
              f"{'from aligned_alloc, freed on return' if heap else 'on the stack'}. */",
              _prototype("void", f"{name}_run", params), "",
              f"/* The same in the caller's arena: {M}_ARENA_BYTES bytes aligned to {M}_ARENA_ALIGN, used only",
              f"   during the call (NULL: as {name}_run). {_memory_note(undefined, threaded)} */",
              _prototype("void", f"{name}_run_with_arena", ["void *arena"] + params), "",
              f"/* The same with the pointers in arrays: args[{M}_NUM_INPUTS], outs[{M}_NUM_OUTPUTS]. */",
              _prototype("void", f"{name}_run_array", ["void *arena", "const void *const *args",
                                                      "void *const *outs"]), "",
              "/* Shapes, dtypes and byte sizes of every input and output, and the arena's size. */",
              _prototype("const xm_model_info *", f"{name}_info", []).replace("* ", "*"), "",
              "#ifdef __cplusplus", "}", "#endif", f"#endif /* {guard} */", ""]
    return "\n".join(lines)


def _c_arg(param: str, k: int) -> str:
    s = re.sub(r"\W", "_", param)
    return f"arg{k}_{s}" if s else f"arg{k}"


# --- C compiler ------------------------------------------------------------------------------

def harness_source() -> Path:
    """The C harness shipped with the package (xla_magic/kernels/aot_harness.c)."""
    return Path(__file__).parent.parent / "kernels" / "aot_harness.c"


def find_c_compiler() -> str | None:
    for cand in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cand:
            path = shutil.which(cand.split()[0])
            if path:
                return path
    return None


HARNESS_CFLAGS = ("-Os", "-std=c11", "-ffunction-sections", "-fdata-sections", "-fno-asynchronous-unwind-tables")
# Size: drop unused sections, unneeded libraries, the page-aligned gap between code and headers
# (-z noseparate-code: 31 -> 23 KiB for lstm_cell's executable, 14 -> 10 KiB for its .so) and the
# build id. Not every linker knows them, so a failed link is retried without.
SIZE_LDFLAGS = ("-Wl,--gc-sections", "-Wl,--as-needed", "-Wl,-z,noseparate-code", "-Wl,--build-id=none",
                "-Wl,--hash-style=gnu")


def _link(cc: str, args: list[str], what: str) -> None:
    p = subprocess.run([cc, *args, *SIZE_LDFLAGS], capture_output=True, text=True)
    if p.returncode != 0:
        p = subprocess.run([cc, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise AotError(f"building {what} failed ({' '.join([cc, *args])}):\n{p.stderr.strip()}")


def _link_flags(undefined: list[str]) -> list[str]:
    return ["-lm"] + (["-lpthread"] if any(u.startswith("pthread") for u in undefined) else [])


_HARNESS_OBJECTS: dict[tuple, Path | None] = {}  # (cc, flags, source) -> compiled once per process
_HARNESS_LOCK = threading.Lock()


def _harness_object(cc: str) -> Path | None:
    """The harness compiled without a model (it calls xm_harness_info/xm_harness_run), once per
    process: linking a model against it costs ~20 ms where compiling the harness costs ~150 ms."""
    import atexit
    import hashlib
    import tempfile

    src = harness_source()
    key = (cc, HARNESS_CFLAGS, hashlib.sha256(src.read_bytes() + (src.parent / "xm_model.h").read_bytes()).hexdigest())
    with _HARNESS_LOCK:
        if key not in _HARNESS_OBJECTS:
            d = Path(tempfile.mkdtemp(prefix="xla_magic_harness_"))
            atexit.register(shutil.rmtree, d, True)
            obj = d / "aot_harness.o"
            p = subprocess.run([cc, *HARNESS_CFLAGS, "-I", str(src.parent), "-c", "-o", str(obj), str(src)],
                               capture_output=True, text=True)
            _HARNESS_OBJECTS[key] = obj if p.returncode == 0 else None
        return _HARNESS_OBJECTS[key]


def _build_executable(cc: str, res: AotResult, libs: list[str], strip_flag: list[str]) -> None:
    exe, name = res.executable, res.name
    obj = _harness_object(cc)
    if obj is not None:
        alias = f"-Wl,--defsym=xm_harness_info={name}_info,--defsym=xm_harness_run={name}_run_array"
        args = ["-o", str(exe), str(obj), str(res.object), alias, *strip_flag, *libs]
        if subprocess.run([cc, *args, *SIZE_LDFLAGS], capture_output=True).returncode == 0 or \
                subprocess.run([cc, *args], capture_output=True).returncode == 0:
            return
    _link(cc, [*HARNESS_CFLAGS, "-I", str(res.out_dir), f'-DXM_HEADER="{name}.h"', f"-DXM_PREFIX={name}",
               "-o", str(exe), str(harness_source()), str(res.object), *strip_flag, *libs], exe.name)


# --- the entry point -------------------------------------------------------------------------

def aot_compile(module_or_text: Module | str, out_dir: str | os.PathLike, name: str | None = None,
                target_triple: str | None = None, *, cpu: str | None = None, features: str | None = None,
                opt: int = 3, size: bool = False, threads: int | None = None, vector_math: bool = False,
                build: bool = True, strip: bool = True) -> AotResult:
    """Compiles an HLO module ahead of time into `out_dir`: NAME.o and NAME.h always; for the
    host (unless build=False) also libNAME.so and the executable NAME, built with the system C
    compiler. Raises NoCompilerError (with `.result`) when there is none, after writing .o and .h.

    target_triple: None for the host, a full triple, or "aarch64" / "armv7" / "riscv64".
    cpu, features: LLVM's names; default: the host's, or a generic CPU for other triples.
    opt: LLVM's level 0-3; size=True adds `optsize` to every function (like -Os).
    threads: kernels over big outer extents may run on this many pthreads; default: the host's
    count for the host, 1 for other triples. vector_math: keep exp/tanh/.. out of line with vector
    variants, as the JIT does to compile faster; off by default, because inlined math gave smaller
    code here and was as fast (lstm_cell: 4.8 KiB of code against 8.9 KiB, 2.6 against 2.8 us)."""
    from ..api import _module
    from ..backends.cpu.codegen import generate
    from ..backends.cpu.irtypes import Unsupported
    from ..backends.cpu.kernels import threads as host_threads
    from ..backends.cpu.variants import with_vector_variants
    from ..passes.buffers import assign_buffers
    from ..passes.pipeline import optimize

    t0 = time.perf_counter()
    source = _module(module_or_text)
    name = name or re.sub(r"\W", "_", source.name).strip("_") or "model"
    if not _IDENT.match(name):
        raise ValueError(f"name {name!r} is not a C identifier")
    if not 0 <= opt <= 3:
        raise ValueError(f"opt must be 0..3, got {opt}")
    target = resolve_target(target_triple, cpu, features)
    if threads is None:
        threads = host_threads() if target.is_host else 1
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    ptr_bits = 32 if _arch(target.triple) in ("arm", "armv7", "armv7a", "i386", "i686", "riscv32") or \
        _arch(target.triple).startswith(("armv", "thumb")) else 64
    if ptr_bits == 32 and threads > 1:
        threads = 1  # the backend passes pthread_t as i64; one thread keeps 32-bit targets correct
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    module, _records = optimize(source, target="cpu")
    buffers = assign_buffers(module)
    ins, outs = _specs(module)
    t1 = time.perf_counter()
    try:
        with _standalone_codegen(threads):
            program = generate(module, buffers)
    except Unsupported as e:
        raise AotError(f"the cpu backend cannot compile this module: {e}") from None
    _add_api(program.llvm_module, program, name, target.triple, source.name, ins, outs, buffers.arena_bytes,
             threads)
    text = with_vector_variants(program.llvm_module) if vector_math else str(program.llvm_module)
    text = re.sub(r'@"?xm_entry"?(?=[(\s,])', f'@"{name}_run"', text)
    bad = _ABSOLUTE.search(text)
    if bad:
        raise AotError(f"the generated code refers to an address in this process ({bad.group(1)}); "
                       "it cannot be compiled ahead of time")
    if ptr_bits == 32:
        text = _shim_size_t(text)
    api = {f"{name}_run", f"{name}_run_with_arena", f"{name}_run_array", f"{name}_info"}
    t2 = time.perf_counter()
    obj, _ = _emit_object(text, target, api, opt, size)
    t3 = time.perf_counter()
    elf = elf_info(obj)
    bound = sorted(set(_PROCESS_BOUND) & set(elf["undefined"]))
    if bound:
        raise AotError(f"the generated code calls {', '.join(bound)} (a library of this Python installation); "
                       "it cannot run standalone")
    res = AotResult(name, out, target, ins, outs, buffers.arena_bytes, threads, out / f"{name}.o", out / f"{name}.h",
                    sections=elf["sections"], undefined=elf["undefined"])
    res.object.write_bytes(obj)
    res.header.write_text(_header(name, source.name, target, ins, outs, buffers.arena_bytes, threads,
                                  elf["undefined"]))
    res.sizes = {"object": len(obj), "header": res.header.stat().st_size}
    res.timings = {"optimize_hlo": t1 - t0, "codegen": t2 - t1, "llvm": t3 - t2}
    if not (build and target.is_host):
        if build:
            res.notes.append(f"{target.triple} is not the host: link {name}.o with that machine's C compiler")
        res.timings["total"] = time.perf_counter() - t0
        return res
    cc = find_c_compiler()
    if cc is None:
        raise NoCompilerError(
            f"no C compiler found (looked for $CC, cc, gcc, clang): {res.object} and {res.header} were written, "
            f"lib{name}.so and {name} were not; install one (e.g. apt-get install gcc) or link {name}.o yourself",
            res)
    libs = _link_flags(elf["undefined"])
    strip_flag = ["-s"] if strip else []
    so = out / f"lib{name}.so"
    _link(cc, ["-shared", "-o", str(so), str(res.object), *strip_flag, *libs], so.name)
    res.shared_lib = so
    res.sizes["shared_lib"] = so.stat().st_size
    unsupported = [s for s in ins + outs if s.dtype not in NPY_DESCR]
    if unsupported:
        res.notes.append(f"no executable: the harness reads and writes .npy types only; "
                         f"{unsupported[0].name} is {unsupported[0].dtype}")
    else:
        res.executable = out / name
        _build_executable(cc, res, libs, strip_flag)
        res.sizes["executable"] = res.executable.stat().st_size
    res.timings["cc"] = time.perf_counter() - t3
    res.timings["total"] = time.perf_counter() - t0
    return res
