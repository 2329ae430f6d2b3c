"""StableHLO text -> HLO Module: functions become computations, ops become instructions through
the rules of `ops.py`, regions become called computations.

Regions of control flow may use values of the enclosing function (MLIR's implicit capture); HLO
computations see only their parameters, so captured values travel in the loop state (while) or in
the branch operand (case, if)."""
from __future__ import annotations

from typing import Any

from ..builder import ComputationBuilder, ModuleBuilder
from ..dtypes import PRED, S32
from ..ir import Computation, Instruction, Module, Names
from ..opcodes import Opcode
from ..shape import Shape
from ..shape_inference import ShapeError
from ..verifier import HloVerifyError
from .attributes import Dense, Enum, Struct, Symbol
from .chlo import CHLO_RULES, ChloContext
from .context import OpContext
from .cursor import Cursor, StableHloParseError
from .locations import Loc, to_metadata
from .ops import OPS
from .syntax import Block, Func, ModuleSyntax, Op, Use, read_module

Scope = dict[str, list[Instruction]]
_TERMINATORS = ("func.return", "stablehlo.return", "mhlo.return")
_SHARDING_OPS = ("sdy.sharding_constraint", "sdy.reshard")
# Attributes of the module header kept, under their HLO names.
_MODULE_ATTRS = {"mhlo.num_partitions": "num_partitions", "mhlo.num_replicas": "replica_count"}


def free_values(block: Block, cache: dict[int, list[str]]) -> list[str]:
    """Names a block uses but does not define (nested regions included), in first-use order."""
    got = cache.get(id(block))
    if got is not None:
        return got
    defined = {name for name, _ in block.args}
    out: list[str] = []
    seen: set[str] = set()
    for op in block.ops:
        names = [u.name for u in op.operands]
        for r in op.regions:
            names.extend(free_values(r, cache))
        for n in names:
            if n not in defined and n not in seen:
                seen.add(n)
                out.append(n)
        defined.update(name for name, _ in op.results)
    cache[id(block)] = out
    return out


class Reader:
    def __init__(self, syntax: ModuleSyntax, cur: Cursor):
        self.syntax, self.cur = syntax, cur
        self.mb = ModuleBuilder(Names())
        self.funcs: dict[str, Func] = {}
        for f in syntax.funcs:
            if f.name in self.funcs:
                raise cur.error(f"function @{f.name} is defined twice", f.pos)
            self.funcs[f.name] = f
        self.built: dict[str, Computation] = {}
        self.free_cache: dict[int, list[str]] = {}
        self.meta_cache: dict[int, Any] = {}

    # -- functions --
    def entry(self) -> Func:
        if "main" in self.funcs:
            return self.funcs["main"]
        public = [f for f in self.syntax.funcs if f.public]
        if len(public) != 1:
            raise self.cur.error("no @main function, and not exactly one public function to take as the entry", 0)
        return public[0]

    def callees(self, f: Func) -> list[tuple[str, int]]:
        """(function, position of the call) for each call and composite in `f`, nested regions included."""
        out: list[tuple[str, int]] = []
        blocks = [f.body]
        while blocks:
            for op in blocks.pop().ops:
                for key in ("callee", "decomposition"):
                    v = op.attrs.get(key)
                    if isinstance(v, Symbol) and op.name in ("func.call", "stablehlo.composite"):
                        out.append((v.name, op.pos))
                blocks.extend(op.regions)
        return out

    def build_functions(self, entry: Func) -> Computation:
        """Every function the entry reaches, callees before callers (an explicit stack: call chains
        may be long)."""
        stack: list[tuple[Func, list[tuple[str, int]]]] = [(entry, self.callees(entry))]
        on_stack = {entry.name}
        while stack:
            f, todo = stack[-1]
            if todo:
                name, pos = todo.pop()
                if name in self.built:
                    continue
                callee = self.funcs.get(name)
                if callee is None:
                    raise self.cur.error(f"function @{name} is not defined", pos)
                if name in on_stack:
                    raise self.cur.error(f"function @{name} is called recursively (HLO has no recursion)", pos)
                on_stack.add(name)
                stack.append((callee, self.callees(callee)))
                continue
            stack.pop()
            on_stack.discard(f.name)
            self.build_function(f)
        return self.built[entry.name]

    def function(self, name: str, pos: int) -> Computation:
        comp = self.built.get(name)
        if comp is None:  # build_functions builds every callee first
            raise self.cur.error(f"function @{name} is not defined", pos)
        return comp

    def build_function(self, f: Func) -> None:
        name = f.name
        b = self.mb.computation(name)
        b.line, b.column = self.cur.where(f.pos)
        params = [b.parameter(i, t, f"Arg_{i}") for i, (_, t) in enumerate(f.args)]
        scope: Scope = {n: [p] for (n, _), p in zip(f.args, params)}
        outs = self.block(b, f.body, scope)
        got = [o.shape for o in outs]
        if len(got) != len(f.results) or not all(g.compatible(r) for g, r in zip(got, f.results)):
            shown = ", ".join(s.to_text(False) for s in got)
            declared = ", ".join(s.to_text(False) for s in f.results)
            raise self.cur.error(f"@{name} returns ({shown}) but declares ({declared})", f.body.ops[-1].pos)
        root = outs[0] if len(outs) == 1 else b.tuple(*outs)
        self.built[name] = self.mb.add(b.finish(root))

    # -- blocks and regions --
    def block(self, b: ComputationBuilder, block: Block, scope: Scope) -> list[Instruction]:
        """Builds the block's ops into `b`; returns the values of its terminator."""
        if not block.ops or block.ops[-1].name not in _TERMINATORS:
            raise self.cur.error("the region must end with a return", block.pos)
        for op in block.ops[:-1]:
            if op.name in _TERMINATORS:
                raise self.cur.error("return must be the last op of its region", op.pos)
            self.op(b, op, scope)
        term = block.ops[-1]
        return [self.value(u, scope) for u in term.operands]

    def region(self, block: Block, name: str, scope: Scope) -> Computation:
        """A reducer or comparator region: block arguments become parameters, values returned the
        root (a tuple when several). Captured constants are copied in; other captures are refused."""
        b = self.mb.computation(name)
        b.line, b.column = self.cur.where(block.pos)
        inner: Scope = {n: [b.parameter(i, t, f"Arg_{i}")] for i, (n, t) in enumerate(block.args)}
        for n in free_values(block, self.free_cache):
            if n in inner:
                continue
            outer = scope.get(n)
            if outer is None:
                continue  # reported as undefined where it is used
            copies = []
            for x in outer:
                if x.opcode is not Opcode.CONSTANT or x.literal is None:
                    raise self.cur.error(f"this region uses %{n} from outside; HLO reducers and comparators can "
                                         "only use their arguments and constants", block.pos)
                copies.append(b.constant(x.literal, x.shape.element_type))
            inner[n] = copies
        outs = self.block(b, block, inner)
        if not outs:
            raise self.cur.error("the region returns nothing", block.pos)
        return self.mb.add(b.finish(outs[0] if len(outs) == 1 else b.tuple(*outs)))

    def tuple_region(self, block: Block, name: str, arg_shapes: list[Shape], captures: list[str],
                     scope: Scope, passthrough: bool) -> tuple[Computation, list[Instruction]]:
        """A while or branch region over one tuple parameter: the block's arguments, then the
        captured values. With `passthrough` (a loop body) the captures are returned unchanged
        after the results."""
        b = self.mb.computation(name)
        b.line, b.column = self.cur.where(block.pos)
        cap_shapes = [x.shape for n in captures for x in scope[n]]
        state = b.parameter(0, Shape.tuple_of(arg_shapes + cap_shapes), "state")
        if len(block.args) != len(arg_shapes):
            raise self.cur.error(f"the region has {len(block.args)} arguments, expected {len(arg_shapes)}",
                                 block.pos)
        inner: Scope = {n: [b.get(state, i)] for i, (n, _) in enumerate(block.args)}
        k = len(arg_shapes)
        cap_values: list[Instruction] = []
        for n in captures:
            vals = []
            for _ in scope[n]:
                vals.append(b.get(state, k))
                k += 1
            inner.setdefault(n, vals)
            cap_values.extend(vals)
        outs = self.block(b, block, inner)
        if passthrough:
            root = b.tuple(*outs, *cap_values)
        else:
            root = outs[0] if len(outs) == 1 else b.tuple(*outs)
        return self.mb.add(b.finish(root)), outs

    def captures(self, blocks: list[Block], scope: Scope) -> list[str]:
        """Values of `scope` the blocks use, in first-use order."""
        out: dict[str, None] = {}
        for blk in blocks:
            own = {n for n, _ in blk.args}
            for n in free_values(blk, self.free_cache):
                if n in scope and n not in own:
                    out.setdefault(n)
        return list(out)

    # -- values and ops --
    def value(self, use: Use, scope: Scope) -> Instruction:
        vals = scope.get(use.name)
        if vals is None:
            raise self.cur.error(f"%{use.name} is not defined", use.pos)
        if use.index >= len(vals):
            raise self.cur.error(f"%{use.name} has {len(vals)} result(s); #{use.index} does not exist", use.pos)
        return vals[use.index]

    def metadata(self, loc: Loc | None) -> Any:
        if loc is None:
            return None
        key = id(loc)
        if key not in self.meta_cache:
            self.meta_cache[key] = to_metadata(loc, self.syntax.loc_aliases)
        return self.meta_cache[key]

    def op(self, b: ComputationBuilder, op: Op, scope: Scope) -> None:
        args = [self.value(u, scope) for u in op.operands]
        if len(op.operand_types) == len(args):  # the signature `(T, U) -> R` names each operand's type
            for use, arg, t in zip(op.operands, args, op.operand_types):
                if not arg.shape.compatible(t):
                    raise self.cur.error(f"%{use.name} is {arg.shape.to_text(False)}, but {op.name}'s signature "
                                         f"says {t.to_text(False)}", use.pos)
        b.line, b.column = self.cur.where(op.pos)
        b.metadata = self.metadata(op.loc)
        results = op.result_types or self._short_results(op)
        ctx = OpContext(b, self.mb, op, args, results, self.cur, lambda blk, name: self.region(blk, name, scope))
        n_before = len(b.instructions)
        try:
            outs = self._dispatch(ctx, scope)
        except ShapeError as e:
            made = b.instructions[n_before:]
            name = made[-1].name if made else None
            raise HloVerifyError(f"{op.name}: {e}", name, b.name, b.line, b.column) from None
        except (StableHloParseError, HloVerifyError):
            raise
        except (KeyError, TypeError, ValueError, IndexError, OverflowError) as e:
            raise ctx.error(f"malformed op ({type(e).__name__}: {e})") from None
        b.metadata = None
        want = sum(n for _, n in op.results)
        if len(outs) != want:
            raise ctx.error(f"produces {len(outs)} values but the text names {want} results")
        k = 0
        for name, n in op.results:
            if name in scope:
                raise self.cur.error(f"%{name} is defined twice", op.pos)
            scope[name] = outs[k:k + n]
            k += n

    def _short_results(self, op: Op) -> list[Shape]:
        """Result types of the short signature `: T` or `: P, T`."""
        short: list[Shape] = op.extra.get("short_types", [])
        want = sum(n for _, n in op.results)
        if not short:
            return []
        if len(short) == want or want == 0:
            return list(short)
        return [short[-1]]

    def _dispatch(self, c: OpContext, scope: Scope) -> list[Instruction]:
        name = c.op.name
        if name.startswith("stablehlo.") or name.startswith("mhlo."):
            short = name.split(".", 1)[1]
            control = _CONTROL.get(short)
            if control is not None:
                return control(self, c, scope)
            rule = OPS.get(short)
            if rule is None:
                raise c.error("unknown or unsupported op")
            return rule(c)
        if name == "func.call":
            return _call(self, c, scope)
        if name in _SHARDING_OPS:  # on one device a sharding annotation leaves the value as it is
            c.arity(1)
            return list(c.args)
        if name.startswith("chlo."):
            chlo = CHLO_RULES.get(name[5:])
            if chlo is None:
                raise c.error("no expansion of this chlo op into HLO is known")
            attrs = {k: plain(v, c) for k, v in c.op.attrs.items()}
            return chlo(ChloContext(c.b, self.mb), c.args, attrs, c.results)
        raise c.error("unknown or unsupported op")


def plain(v: object, c: OpContext) -> object:
    """An attribute value as chlo rules receive it (see chlo.py)."""
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, Dense):
        arr = v.array(c.cur)
        return tuple(int(x) for x in arr.reshape(-1)) if arr.dtype.kind in "iu" else arr
    if isinstance(v, Symbol):
        return v.name
    if isinstance(v, list):
        return [plain(x, c) for x in v]
    if isinstance(v, Struct):
        return {k: plain(x, c) for k, x in v.fields.items()}
    return v


# --- calls and control flow ------------------------------------------------------------------------

def _call(r: Reader, c: OpContext, scope: Scope) -> list[Instruction]:
    comp = r.function(c.symbol("callee"), c.op.pos)
    x = c.b.op(Opcode.CALL, *c.args, to_apply=comp)
    if len(c.op.results) == 1 and c.op.results[0][1] == 1 and not x.shape.is_tuple:
        return [x]
    return [c.b.get(x, i) for i in range(len(x.shape.elements))] if x.shape.is_tuple else [x]


def _composite(r: Reader, c: OpContext, scope: Scope) -> list[Instruction]:
    """A composite is its decomposition function, called."""
    comp = r.function(c.symbol("decomposition"), c.op.pos)
    x = c.b.op(Opcode.CALL, *c.args, to_apply=comp)
    return [c.b.get(x, i) for i in range(len(x.shape.elements))] if x.shape.is_tuple else [x]


def _while(r: Reader, c: OpContext, scope: Scope) -> list[Instruction]:
    cond, body = c.regions(2)
    caps = r.captures([cond, body], scope)
    shapes = [a.shape for a in c.args]
    cond_c, _ = r.tuple_region(cond, "region_cond", shapes, caps, scope, passthrough=False)
    body_c, _ = r.tuple_region(body, "region_body", shapes, caps, scope, passthrough=True)
    init = c.b.tuple(*c.args, *(x for n in caps for x in scope[n]))
    loop = c.b.op(Opcode.WHILE, init, condition=cond_c, body=body_c)
    return [c.b.get(loop, i) for i in range(len(c.args))]


def _branches(r: Reader, c: OpContext, scope: Scope, selector: Instruction, names: list[str]
              ) -> list[Instruction]:
    blocks = list(c.op.regions)
    if len(blocks) != len(names):
        raise c.error(f"needs {len(names)} branches, found {len(blocks)}")
    caps = r.captures(blocks, scope)
    comps = []
    for blk, name in zip(blocks, names):
        comp, _ = r.tuple_region(blk, name, [], caps, scope, passthrough=False)
        comps.append(comp)
    operand = c.b.tuple(*(x for n in caps for x in scope[n]))
    attrs: dict[str, Any]
    if selector.shape.element_type == PRED:
        attrs = {"true_computation": comps[0], "false_computation": comps[1]}
    else:
        attrs = {"branch_computations": tuple(comps)}
    x = c.b.op(Opcode.CONDITIONAL, selector, *([operand] * len(comps)), **attrs)
    if len(c.results) == 1 and not c.results[0].is_tuple:
        return [x]
    return [c.b.get(x, i) for i in range(len(x.shape.elements))] if x.shape.is_tuple else [x]


def _if(r: Reader, c: OpContext, scope: Scope) -> list[Instruction]:
    c.arity(1)
    # stablehlo.if runs its first region when the predicate is true, as HLO's true_computation.
    return _branches(r, c, scope, c.args[0], ["region_true", "region_false"])


def _case(r: Reader, c: OpContext, scope: Scope) -> list[Instruction]:
    c.arity(1)
    index = c.b.convert(c.args[0], S32)
    return _branches(r, c, scope, index, [f"region_branch_{k}" for k in range(len(c.op.regions))])


_CONTROL = {"while": _while, "if": _if, "case": _case, "composite": _composite}


def build_module(syntax: ModuleSyntax, cur: Cursor) -> Module:
    r = Reader(syntax, cur)
    entry_func = r.entry()
    entry = r.build_functions(entry_func)
    attrs: dict[str, Any] = {}
    from ..attrs import Raw

    for key, hlo_key in _MODULE_ATTRS.items():
        v = syntax.attrs.get(key)
        if isinstance(v, int) and not isinstance(v, bool):
            attrs[hlo_key] = Raw(str(v))
    module = r.mb.build(syntax.name, entry, attrs)
    return module


def parse_stablehlo(text: str, verify: bool = True) -> Module:
    """Reads StableHLO text (as `jax.jit(f).lower(x).as_text()` prints it) into an HLO Module, and
    verifies it unless told not to. Malformed text raises StableHloParseError (an HloParseError);
    a well-formed program whose shapes do not agree raises HloVerifyError."""
    if not isinstance(text, str):
        raise TypeError(f"parse_stablehlo expects StableHLO text (str), got {type(text).__name__}")
    syntax, cur = read_module(text)
    module = build_module(syntax, cur)
    if verify:
        from ..verifier import verify_module

        verify_module(module)
    return module


__all__ = ["parse_stablehlo"]
