"""From the generated LLVM module to an object file for the target, and what an ELF object holds
(`elf_info`: sections and the symbols it needs, for the report and the tests)."""
from __future__ import annotations

import re
import struct
from typing import TYPE_CHECKING, Any

from .errors import AotError
from .target import AotTarget

if TYPE_CHECKING:
    import llvmlite.binding as llvm


# 32-bit targets: the backend declares libc's size_t arguments as i64; these shims narrow them.
_SIZE_T_FUNCS = {"malloc": ("ptr", ["i64"]), "aligned_alloc": ("ptr", ["i64", "i64"]),
                 "calloc": ("ptr", ["i64", "i64"]), "realloc": ("ptr", ["ptr", "i64"])}


def shim_size_t(text: str) -> str:
    """`text` with libc's size_t functions called through shims that narrow i64 to i32."""
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
PROCESS_BOUND = ("dlopen", "dlsym")  # e.g. numpy's BLAS found at run time by its path here


def find_absolute_address(text: str) -> str | None:
    """An address of this process written into the IR as a constant, if there is one."""
    m = _ABSOLUTE.search(text)
    return m.group(1) if m else None


def _optimize(mod: llvm.ModuleRef, tm: llvm.TargetMachine, opt: int, size: bool) -> None:
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


def emit_object(text: str, target: AotTarget, api: set[str], opt: int, size: bool) -> tuple[bytes, str]:
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

def elf_info(data: bytes) -> dict[str, Any]:
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
