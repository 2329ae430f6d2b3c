"""Control flow that depends on traced values: `fori_loop`, `while_loop` and `scan` become HLO
`while`; `cond` and `switch` become HLO `conditional`. Their signatures are JAX's.

The loop state is a pytree of arrays; inside, the user's functions get traced arrays of the same
shapes and dtypes. Arrays of the enclosing function that the functions use are captured: they
ride along as extra tuple elements, so closures work. Outside a trace (plain numpy) each function
simply runs the Python loop or branch, so the same code works eagerly and traced."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager

import numpy as np

from ..hlo.opcodes import Opcode
from ..hlo.shape import Shape
from . import primitives as P
from .builder import Captures, ComputationBuilder, active, current, tracing
from .errors import TracingError
from .primitives import local
from .promotion import as_tracer, result_dtype
from .pytree import TreeDef, flatten, unflatten
from .tracer import Tracer

BOOL = np.dtype(np.bool_)
INDEX = np.dtype(np.int32)
_MAX_RETRACES = 4


@contextmanager
def _user_code(builder: ComputationBuilder):
    """Runs user code inside `builder`, its instructions named after the user's own operations."""
    saved = builder.module.op_names
    builder.module.op_names = []
    try:
        with active(builder):
            yield builder
    finally:
        builder.module.op_names = saved


def _avals(leaves: Sequence[Tracer]) -> list[tuple[tuple[int, ...], np.dtype, bool]]:
    return [(t.shape, t.dtype, t.weak) for t in leaves]


def _desc(aval) -> str:
    shape, dtype, weak = aval
    return f"{dtype}{list(shape)}" + (" (weak)" if weak else "")


def _state(builder: ComputationBuilder, avals) -> list[Tracer]:
    return [Tracer(builder, builder.state_element(P.shape_of(dt, shape)), weak) for shape, dt, weak in avals]


def _flatten_out(out, treedef: TreeDef | None, what: str) -> tuple[list[Tracer], TreeDef]:
    leaves, tdef, _ = flatten(out)
    if treedef is not None and tdef != treedef:
        raise TracingError(f"{what} must return the same structure as its input: got {tdef}, expected {treedef}")
    return [as_tracer(v) for v in leaves], tdef


def _reconcile(avals, outs: list[Tracer], what: str, hidden: int = 0):
    """New carry types if a weak carry meets a strong output (then the loop is traced again), else
    None. Weak outputs adopt the carry's dtype; strong ones must match it. Errors count the
    user's values, after the `hidden` internal ones (a loop index)."""
    new, retrace = [], False
    for k, ((shape, dt, weak), o) in enumerate(zip(avals, outs)):
        k -= hidden
        if o.shape != shape:
            raise TracingError(f"{what} changed the shape of loop-carried value #{k}: {_desc((shape, dt, weak))} "
                               f"in, {o.describe()} out. Loop-carried values keep their shapes and dtypes.")
        if o.dtype == dt:
            new.append((shape, dt, weak and o.weak))
            retrace |= weak and not o.weak
        elif o.weak:
            new.append((shape, dt, weak))
        elif weak:
            new.append((shape, o.dtype, False))
            retrace = True
        else:
            raise TracingError(f"{what} changed the dtype of loop-carried value #{k}: {_desc((shape, dt, weak))} "
                               f"in, {o.describe()} out. Make them agree, e.g. with .astype(np.{dt}).")
    return new if retrace else None


def _cast_like(outs: list[Tracer], avals) -> list[Tracer]:
    return [P.convert(o, dt) if o.dtype != dt else o for o, (_, dt, _) in zip(outs, avals)]


def _scalar_pred(p, what: str) -> Tracer:
    t = as_tracer(p)
    if t.shape != ():
        raise TracingError(f"{what} must return a scalar boolean, got {t.describe()}")
    return t if t.dtype == BOOL else P.compare("NE", t, P.full((), 0, t.dtype))


# --- while ----------------------------------------------------------------------------------------

def while_loop(cond_fun: Callable, body_fun: Callable, init_val):
    """Repeats `val = body_fun(val)` while `cond_fun(val)`; returns the final `val` (HLO while)."""
    if current() is None:
        val = init_val
        while cond_fun(val):
            val = body_fun(val)
        return val
    return _while(cond_fun, body_fun, init_val, "while_loop")


def _while(cond_fun: Callable, body_fun: Callable, init_val, what: str, hidden: int = 0):
    """The HLO while behind while_loop, fori_loop and scan (`hidden` leading state values are theirs)."""
    parent = tracing()
    leaves, treedef, _ = flatten(init_val)
    init = [as_tracer(v) for v in leaves]
    avals = _avals(init)
    for _ in range(_MAX_RETRACES):
        caps = Captures()
        cb = ComputationBuilder(parent.module, parent, caps, f"the condition of {what}")
        with _user_code(cb):
            pred = _scalar_pred(cond_fun(unflatten(treedef, _state(cb, avals))), f"the {what} condition")
            pred_instr = local(pred)
        bb = ComputationBuilder(parent.module, parent, caps, f"the body of {what}")
        with _user_code(bb):
            outs, _ = _flatten_out(body_fun(unflatten(treedef, _state(bb, avals))), treedef, f"the {what} body")
            changed = _reconcile(avals, outs, f"the {what} body", hidden)
            if changed is None:
                outs = _cast_like(outs, avals)
                out_instrs = [local(o) for o in outs]
        if changed is None:
            break
        avals = changed
    else:
        raise TracingError(f"the {what} state's dtypes did not settle; give the initial values explicit dtypes")
    cond_comp = cb.seal("while_cond", None, root=pred_instr)
    body_comp = bb.seal("while_body", out_instrs)
    with active(parent):
        start = [local(P.convert(t, dt)) for t, (_, dt, _) in zip(init, avals)] + caps.outer
        state = parent.emit(Opcode.TUPLE, start)
        w = parent.emit(Opcode.WHILE, [state], condition=cond_comp, body=body_comp)
        results = [Tracer(parent, parent.emit(Opcode.GET_TUPLE_ELEMENT, [w], index=k), weak)
                   for k, (_, _, weak) in enumerate(avals)]
    return unflatten(treedef, results)


def fori_loop(lower, upper, body_fun: Callable, init_val):
    """`for i in range(lower, upper): val = body_fun(i, val)`, as one HLO while (not unrolled)."""
    if current() is None:
        val = init_val
        for i in range(int(lower), int(upper)):
            val = body_fun(i, val)
        return val
    # the index is weak, like the Python int it replaces: `x * i` keeps x's dtype
    if isinstance(lower, Tracer) or isinstance(upper, Tracer):
        i0 = as_tracer(lower, result_dtype(lower, upper)[0])
        i0 = Tracer(i0.builder, i0.instr, weak=True)
    else:
        i0 = as_tracer(int(lower))

    def cond(state):
        return state[0] < upper

    def body(state):
        i, val = state
        return i + 1, body_fun(i, val)

    return _while(cond, body, (i0, init_val), "fori_loop", hidden=1)[1]


# --- scan -----------------------------------------------------------------------------------------

def scan(f: Callable, init, xs=None, length: int | None = None, reverse: bool = False):
    """`carry, y = f(carry, x)` over the leading axis of `xs`; returns (carry, stacked ys), as
    jax.lax.scan. Per-step inputs are read with dynamic-slice, outputs written with
    dynamic-update-slice, all in one HLO while."""
    x_leaves, x_tree, _ = flatten(xs)
    lengths = {np.shape(x)[0] if not isinstance(x, Tracer) else x.shape[0] for x in x_leaves}
    if length is not None:
        lengths.add(int(length))
    if len(lengths) != 1:
        raise ValueError(f"scan needs xs with one leading length (or length=), got lengths {sorted(lengths)}")
    n = lengths.pop()
    if current() is None:
        carry, ys = init, []
        for k in (range(n - 1, -1, -1) if reverse else range(n)):
            carry, y = f(carry, unflatten(x_tree, [x[k] for x in x_leaves]))
            ys.append(y)
        if reverse:
            ys.reverse()
        y_leaves, y_tree, _ = flatten(ys[0]) if ys else ([], flatten(None)[1], [])
        stacked = [np.stack([flatten(y)[0][j] for y in ys]) for j in range(len(y_leaves))]
        return carry, unflatten(y_tree, stacked)
    xs_t = [as_tracer(x) for x in x_leaves]
    c_leaves, c_tree, _ = flatten(init)
    carry0 = [as_tracer(v) for v in c_leaves]

    def step(i, carry):
        k = (n - 1) - i if reverse else i
        x = unflatten(x_tree, [t[k] for t in xs_t])
        out = f(unflatten(c_tree, carry), x)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TracingError("the scan function must return a pair (new_carry, y)")
        return out

    # the per-step outputs' shapes are known only once f has been traced: trace it once to see them
    y_avals, y_tree = _probe(step, carry0, c_tree)

    def body(state):
        i, carry, ys = state
        new_carry, y = step(i, carry)
        c_out, _ = _flatten_out(new_carry, c_tree, "the scan function's new carry")
        y_out, _ = _flatten_out(y, y_tree, "the scan function's per-step output")
        k = (n - 1) - i if reverse else i
        kk = P.convert(as_tracer(k), INDEX)
        zero = P.constant(0, INDEX)
        new_ys = [P.dynamic_update_slice(buf, P.reshape(P.convert(v, buf.dtype), (1,) + v.shape),
                                         [kk] + [zero] * v.ndim) for buf, v in zip(ys, y_out)]
        return i + 1, c_out, new_ys

    bufs = [P.full((n,) + shape, 0, dt) for shape, dt, _ in y_avals]

    def cond(state):
        return state[0] < n

    _, carry, ys = _while(cond, body, (as_tracer(0), list(carry0), bufs), "scan", hidden=1)
    ys = [Tracer(t.builder, t.instr, weak) for t, (_, _, weak) in zip(ys, y_avals)]
    return unflatten(c_tree, carry), unflatten(y_tree, ys)


def _probe(step: Callable, carry0: list[Tracer], c_tree: TreeDef):
    """Traces one step in a throwaway computation: the per-step outputs' (shape, dtype, weak)."""
    parent = tracing()
    pb = ComputationBuilder(parent.module, parent, Captures(), "the scan function")
    with _user_code(pb):
        i = Tracer(pb, pb.state_element(Shape.array("s64", ())), weak=True)
        carry = _state(pb, _avals(carry0))
        _, y = step(i, carry)
        y_out, y_tree = _flatten_out(y, None, "the scan function")
    return _avals(y_out), y_tree


# --- conditionals ---------------------------------------------------------------------------------

def cond(pred, true_fun: Callable, false_fun: Callable, *operands):
    """`true_fun(*operands) if pred else false_fun(*operands)`, as one HLO conditional when `pred`
    is traced (both branches are traced; one runs). A pred known while tracing picks directly."""
    if not isinstance(pred, Tracer):
        return true_fun(*operands) if pred else false_fun(*operands)
    p = _scalar_pred(pred, "cond's predicate")
    return _conditional(p, [true_fun, false_fun][::-1], operands, "cond")


def switch(index, branches: Sequence[Callable], *operands):
    """`branches[index](*operands)` with the index clamped into range, as one HLO conditional."""
    branches = list(branches)
    if not branches:
        raise ValueError("switch needs at least one branch")
    if not isinstance(index, Tracer):
        return branches[min(max(int(index), 0), len(branches) - 1)](*operands)
    i = as_tracer(index)
    if i.shape != () or i.dtype.kind not in "iu":
        raise TracingError(f"switch's index must be a scalar integer, got {i.describe()}")
    i = P.clamp(P.constant(0, INDEX), P.convert(i, INDEX), P.constant(len(branches) - 1, INDEX))
    return _conditional(i, branches, operands, "switch")


def _conditional(selector: Tracer, branches: list[Callable], operands: tuple, what: str):
    """HLO conditional; with a pred selector, branches are [false, true] (index order)."""
    parent = tracing()
    leaves, treedef, _ = flatten(operands)
    args = [as_tracer(v) for v in leaves]
    avals = _avals(args)
    caps = Captures()
    builders: list[ComputationBuilder] = []
    outs_per: list[list[Tracer]] = []
    out_tree: TreeDef | None = None
    for k, fn in enumerate(branches):
        bb = ComputationBuilder(parent.module, parent, caps, f"branch {k} of {what}")
        with _user_code(bb):
            outs, tdef = _flatten_out(fn(*unflatten(treedef, _state(bb, avals))), out_tree,
                                      f"every branch of {what}")
        if out_tree is None:
            out_tree = tdef
        builders.append(bb)
        outs_per.append(outs)
    # the branches must agree: same shapes; dtypes promoted as numpy would (weak ones adopt)
    final = []
    for j in range(len(outs_per[0])):
        vals = [outs[j] for outs in outs_per]
        if len({v.shape for v in vals}) != 1:
            raise TracingError(f"the branches of {what} return different shapes for output #{j}: "
                               + ", ".join(v.describe() for v in vals))
        dt, weak = result_dtype(*vals)
        final.append((vals[0].shape, dt, weak))
    roots = []
    for bb, outs in zip(builders, outs_per):
        with _user_code(bb):
            instrs = [local(P.convert(o, dt)) for o, (_, dt, _) in zip(outs, final)]
            roots.append(instrs[0] if len(instrs) == 1 else bb.emit(Opcode.TUPLE, instrs))
    sealed = [bb.seal(f"{what}_branch", None, root=root) for bb, root in zip(builders, roots)]
    with active(parent):
        operand = parent.emit(Opcode.TUPLE, [local(a) for a in args] + caps.outer)
        attrs = ({"true_computation": sealed[1], "false_computation": sealed[0]} if selector.dtype == BOOL
                 else {"branch_computations": tuple(sealed)})
        c = parent.emit(Opcode.CONDITIONAL, [local(selector)] + [operand] * len(sealed), **attrs)
        if len(final) == 1:
            results = [Tracer(parent, c, final[0][2])]
        else:
            results = [Tracer(parent, parent.emit(Opcode.GET_TUPLE_ELEMENT, [c], index=k), weak)
                       for k, (_, _, weak) in enumerate(final)]
    assert out_tree is not None  # set by the first branch (switch and cond have at least one)
    return unflatten(out_tree, results)
