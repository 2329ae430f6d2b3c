"""The C entry points added to the generated module next to the backend's `xm_entry`:
NAME_run_with_arena, NAME_run_array and NAME_info (the header's xm_model_info tables)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import AotError
from .result import ARENA_ALIGN, NPY_DESCR, AotResult, BufferSpec

if TYPE_CHECKING:
    from llvmlite import ir

    from ..backends.cpu.codegen import Program


def _entry_computation(m: ir.Module, entry: str) -> ir.Function:
    """The computation function `xm_entry` calls with its arena: `void comp(ptr arena, ptr..)`."""
    from llvmlite import ir

    fn = m.get_global(entry)
    for block in fn.blocks:
        for ins in block.instructions:
            if isinstance(ins, ir.CallInstr) and ins.callee.name.startswith("comp."):
                return ins.callee
    raise AotError(f"cannot find the computation that {entry} runs")


def add_api(program: Program, res: AotResult, module_name: str) -> None:
    """NAME_run_with_arena, NAME_run_array and NAME_info, next to the backend's xm_entry in
    `program`'s LLVM module; the tables describe `res`'s buffers."""
    from llvmlite import ir

    from ..backends.cpu.irtypes import I64, PTR, VOID

    m, name, ins, outs = program.llvm_module, res.name, res.inputs, res.outputs
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
        ir.Constant(I64, 1), ir.Constant(I64, n_in), ir.Constant(I64, n_out), ir.Constant(I64, res.arena_bytes),
        ir.Constant(I64, ARENA_ALIGN), ir.Constant(I64, res.threads), cstr(name), cstr(module_name),
        cstr(res.target.triple),
        table(ins, "inputs"), table(outs, "outputs")]), "model")
    fi = ir.Function(m, ir.FunctionType(PTR, []), name=f"{name}_info")
    ir.IRBuilder(fi.append_basic_block("entry")).ret(info)


def _itemsize(dtype: str) -> int:
    from ..hlo.dtypes import dtype as lookup

    return lookup(dtype).itemsize
