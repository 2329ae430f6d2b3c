"""What an ahead-of-time build produces (`AotResult`) and the conventions its buffers follow."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .target import AotTarget

ARENA_ALIGN = 64  # the buffer assignment's slot alignment (passes.buffers.ALIGN)
# .npy type code per HLO type. bf16 travels as float32 (see the module docstring).
NPY_DESCR = {"pred": "|b1", "s8": "|i1", "u8": "|u1", "s16": "<i2", "u16": "<u2", "s32": "<i4", "u32": "<u4",
             "s64": "<i8", "u64": "<u8", "f16": "<f2", "bf16": "<f4", "f32": "<f4", "f64": "<f8",
             "c64": "<c8", "c128": "<c16"}
# The 8- and 4-bit floats and s4/u4/s2/u2 have no .npy type code either: one byte per element (the
# byte ml_dtypes stores; uint8_t in C), read and written as raw 1-byte values, which is what
# `np.save` writes for their ml_dtypes arrays ('<V1'; view the loaded array as the ml_dtypes type).
NPY_DESCR.update({t: "|V1" for t in ("s4", "u4", "s2", "u2", "f8e4m3fn", "f8e5m2", "f8e4m3fnuz", "f8e5m2fnuz",
                                     "f8e4m3b11fnuz", "f8e4m3", "f8e3m4", "f8e8m0fnu", "f4e2m1fn")})


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
