"""Vector variants of the math functions, handed to LLVM's loop vectorizer.

Inlining a polynomial exp or tanh at every use makes big kernels slow to compile (a chain of
100 ops with 33 transcendentals spent ~100 ms in LLVM's optimizer). Instead each scalar math
function stays out of line (`noinline`) and names its vector versions with LLVM's
`vector-function-abi-variant` attribute: the vectorizer replaces the scalar call in a
vectorized loop by a call to `xm.tanh.v16f32`, compiled once per module. The scalar versions
serve the loops' remainders."""
from __future__ import annotations

import re

from llvmlite import ir

from .irtypes import F32, F64

# Widths offered: what AVX2 and AVX-512 loops pick.
WIDTHS = {"f32": (8, 16), "f64": (4, 8)}
_SCALAR = re.compile(r'^define internal (float|double) @"?(xm\.(\w+)\.(f32|f64))"?\(([^)]*)\)([^{\n]*)$', re.M)


def _variants(module: ir.Module) -> dict[str, list[tuple[int, str]]]:
    """Emits vector versions of every scalar math function the module uses."""
    from .mathlib import ARITY, declare_math, math_function_name

    out: dict[str, list[tuple[int, str]]] = {}
    for g in list(module.globals.values()):
        m = re.fullmatch(r"xm\.(\w+)\.(f32|f64)", g.name)
        if not m or not isinstance(g, ir.Function) or m.group(1) not in ARITY:
            continue
        name, suffix = m.groups()
        elem = F32 if suffix == "f32" else F64
        out[g.name] = []
        for w in WIDTHS[suffix]:
            vt = ir.VectorType(elem, w)
            declare_math(module, name, vt)
            out[g.name].append((w, math_function_name(name, vt)))
    return out


def with_vector_variants(module: ir.Module) -> str:
    """The module's IR text, math functions out of line with their vector variants attached."""
    variants = _variants(module)
    if not variants:
        return str(module)
    text = str(module)
    vector_names = {v for vs in variants.values() for _, v in vs}

    def scalar_def(m: re.Match) -> str:
        name = m.group(2)
        if name not in variants:
            return m.group(0)
        arity = len([a for a in m.group(5).split(",") if a.strip()])
        abi = ",".join(f"_ZGV_LLVM_N{w}{'v' * arity}_{name}({v})" for w, v in variants[name])
        attrs = m.group(6).replace("alwaysinline", "noinline")
        return f'define internal {m.group(1)} @"{name}"({m.group(5)}){attrs} "vector-function-abi-variant"="{abi}"'

    text = _SCALAR.sub(scalar_def, text)
    # Vector versions: out of line too, and kept alive until the vectorizer has used them.
    for v in vector_names:
        text = re.sub(rf'^(define internal <\d+ x (?:float|double)> @"{re.escape(v)}"\([^)]*\))([^{{\n]*)',
                      lambda m: m.group(1) + m.group(2).replace("alwaysinline", "noinline"), text, flags=re.M)
    # Kept as they are until the vectorizer has used them: the vector versions would otherwise be
    # deleted as unused, and interprocedural passes would rewrite a scalar function's signature
    # (a constant argument propagated in, then dropped), which breaks its variant mapping.
    keep = sorted(vector_names | set(variants))
    used = ", ".join(f'ptr @"{v}"' for v in keep)
    text += f'\n@"llvm.compiler.used" = appending global [{len(keep)} x ptr] [{used}], section "llvm.metadata"\n'
    return text


_SCALAR_DECL = re.compile(r'^declare (float|double) @"(xm\.(\w+)\.(f32|f64))"\(([^)]*)\)$', re.M)
# What a math function's callers may assume: it touches no memory but constant tables (LLVM's own
# inference says the same of a definition it can see), always returns and never unwinds.
_PURE = "memory(none) nounwind willreturn"


def with_vector_declarations(module: ir.Module) -> tuple[str, list[tuple[str, ir.Type]]]:
    """For a module generated under `mathlib.declarations_only`: its IR text, each scalar math
    declaration naming its vector versions (declared too) for the loop vectorizer, and the math
    functions it calls as (name, type), scalar and vector, to be linked in."""
    from .mathlib import declarations_only

    with declarations_only():
        variants = _variants(module)
    needs: list[tuple[str, ir.Type]] = []
    for g in module.globals.values():
        m = re.fullmatch(r"xm\.(\w+)\.(?:v\d+)?(f32|f64)", g.name)
        if m and isinstance(g, ir.Function) and g.is_declaration:
            needs.append((m.group(1), g.function_type.return_type))
    text = str(module)
    if not variants:
        return text, needs

    def scalar_decl(m: re.Match) -> str:
        name = m.group(2)
        arity = len([a for a in m.group(5).split(",") if a.strip()])
        abi = ",".join(f"_ZGV_LLVM_N{w}{'v' * arity}_{name}({v})" for w, v in variants[name])
        return f'{m.group(0)} {_PURE} "vector-function-abi-variant"="{abi}"'

    text = _SCALAR_DECL.sub(scalar_decl, text)
    vector_names = sorted({v for vs in variants.values() for _, v in vs})
    text = re.sub(r'^(declare <\d+ x (?:float|double)> @"xm\.[\w.]+"\([^)]*\))$', rf"\1 {_PURE}", text, flags=re.M)
    # The vector declarations are unused until the vectorizer calls them: kept from deletion.
    used = ", ".join(f'ptr @"{v}"' for v in vector_names)
    text += (f'\n@"llvm.compiler.used" = appending global [{len(vector_names)} x ptr] [{used}], '
             'section "llvm.metadata"\n')
    return text, needs
