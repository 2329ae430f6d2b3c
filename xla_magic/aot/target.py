"""The machine an object is built for: the host, or another triple LLVM (as llvmlite carries it)
can emit code for."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import AotError

if TYPE_CHECKING:
    import llvmlite.binding as llvm

# Example triples for other machines, with the CPU and features that make a sensible default.
CROSS_TRIPLES = {
    "aarch64": ("aarch64-unknown-linux-gnu", "generic", "+neon", ""),
    "armv7": ("armv7-unknown-linux-gnueabihf", "generic", "+armv7-a,+vfp3,+neon,+d32", ""),
    "riscv64": ("riscv64-unknown-linux-gnu", "generic-rv64", "+m,+a,+f,+d,+c", "lp64d"),
}


@dataclass(frozen=True)
class AotTarget:
    triple: str
    cpu: str
    features: str
    abiname: str
    is_host: bool  # the system C compiler can link it (host architecture and OS)

    def target_machine(self, opt: int) -> llvm.TargetMachine:
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


def pointer_bits(triple: str) -> int:
    """Width of a pointer on the target (32-bit targets get size_t shims and run one thread)."""
    arch = _arch(triple)
    narrow = arch in ("arm", "armv7", "armv7a", "i386", "i686", "riscv32") or arch.startswith(("armv", "thumb"))
    return 32 if narrow else 64
