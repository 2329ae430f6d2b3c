"""The HLO verifier: is a Module well formed, and does every instruction have the shape its
operands and attributes imply?

Checks, in the order they run (the first failure is raised):
  1. the entry computation exists; computation names are unique;
  2. per computation: instructions, opcodes and shapes are real; names are unique; every operand
     (and control predecessor) is defined earlier in the same computation, so there are no cycles;
     parameters are numbered 0..n-1 without gaps or repeats; tuple shapes nest at most
     MAX_TUPLE_DEPTH deep; layouts list every dimension once (`shape.layout_problem`);
  3. the call graph: called computations belong to the module and no computation calls itself,
     directly or through others;
  4. per instruction, callees first: operand counts, attribute ranges and computation signatures,
     and declared shape == inferred shape (layouts aside), through shape_inference.SHAPE_RULES.

Every failure is an HloVerifyError naming the line, instruction and computation; nothing here
recurses, so deep call chains or long computations cannot exhaust Python's stack."""
from __future__ import annotations

from .attrs import COMP_ATTRS, COMP_LIST_ATTRS
from .ir import Computation, Instruction, Module
from .opcodes import Opcode
from .shape import Shape, compatible, layout_problem
from .shape_inference import ShapeError, infer_shape, text, tuple_depth

MAX_TUPLE_DEPTH = 64  # as the parser's MAX_NESTING: deeper tuples are refused, not recursed into


class HloVerifyError(ValueError):
    """A well-formed text that is not a valid module.

    `.instruction` and `.computation` are names (None when the fault is not in one), `.line` the
    instruction's (or computation's) line in the parsed text, 0 for hand-built IR."""

    def __init__(self, msg: str, instruction: str | None = None, computation: str | None = None,
                 line: int = 0, column: int = 0):
        self.msg, self.instruction, self.computation = msg, instruction, computation
        self.line, self.column = line, column
        where = []
        if line:
            where.append(f"line {line}")
        if instruction is not None:
            where.append(f"instruction '{instruction}'" + (f" in computation '{computation}'" if computation else ""))
        elif computation is not None:
            where.append(f"computation '{computation}'")
        super().__init__(": ".join(where + [msg]))


def _fail(msg: str, comp: Computation | None = None, instr: Instruction | None = None) -> HloVerifyError:
    if instr is not None:
        return HloVerifyError(msg, instr.name, comp.name if comp else None, instr.line, instr.column)
    return HloVerifyError(msg, None, comp.name if comp else None, comp.line if comp else 0)


def verify_module(module: Module) -> None:
    """Raises HloVerifyError at the first problem; returns None for a valid module."""
    try:
        _check_module(module)
        for comp in module.computations:
            _check_structure(comp)
        order = _check_call_graph(module)
        for comp in order:
            _check_shapes(comp)
    except HloVerifyError:
        raise
    except Exception as e:  # a hand-built IR this code did not foresee: still one error type
        raise HloVerifyError(f"the verifier could not check this module ({type(e).__name__}: {e})") from e


# --- 1. the module -------------------------------------------------------------------------------

def _check_module(module: Module) -> None:
    if not isinstance(module, Module):
        raise HloVerifyError(f"expected a Module, got {type(module).__name__}")
    if not module.computations:
        raise HloVerifyError(f"module '{module.name}' has no computations")
    for c in module.computations:
        if not isinstance(c, Computation):
            raise HloVerifyError(f"module '{module.name}' lists {type(c).__name__} as a computation")
    if module.entry is None or not any(c is module.entry for c in module.computations):
        raise HloVerifyError(f"module '{module.name}' has no entry computation among its computations")
    seen: set[str] = set()
    for c in module.computations:
        if c.name in seen:
            raise _fail(f"computation name '{c.name}' is used twice", c)
        seen.add(c.name)


# --- 2. one computation's structure ---------------------------------------------------------------

def _check_structure(comp: Computation) -> None:
    if not comp.instructions:
        raise _fail("computation has no instructions", comp)
    position: dict[int, int] = {}
    names: set[str] = set()
    for i, instr in enumerate(comp.instructions):
        if not isinstance(instr, Instruction):
            raise _fail(f"instruction {i} is a {type(instr).__name__}, not an Instruction", comp)
        if not isinstance(instr.opcode, Opcode):
            raise _fail(f"unknown opcode {instr.opcode!r}", comp, instr)
        if not isinstance(instr.shape, Shape):
            raise _fail(f"shape {instr.shape!r} is not a Shape", comp, instr)
        if tuple_depth(instr.shape) > MAX_TUPLE_DEPTH:
            raise _fail(f"tuple shapes nest deeper than {MAX_TUPLE_DEPTH} levels", comp, instr)
        for leaf in instr.shape.leaves():
            problem = layout_problem(leaf)
            if problem is not None:
                raise _fail(f"shape {leaf.to_text(layout=False)}: {problem}", comp, instr)
        if instr.name in names:
            raise _fail(f"instruction name '{instr.name}' is defined twice", comp, instr)
        names.add(instr.name)
        if id(instr) in position:
            raise _fail("the same instruction object appears twice in the computation", comp, instr)
        position[id(instr)] = i
    if id(comp.root) not in position:
        root = getattr(comp.root, "name", comp.root)
        raise _fail(f"root '{root}' is not one of the computation's instructions", comp)
    for i, instr in enumerate(comp.instructions):
        preds = instr.attrs.get("control-predecessors", ())
        for what, refs in (("operand", instr.operands), ("control predecessor", preds)):
            for k, op in enumerate(refs):
                at = position.get(id(op))
                if at is not None and at < i:
                    continue  # the common case: the message below is built only for a failure
                label = f"{what} {k}" if what == "operand" else what
                name = op.name if hasattr(op, "name") else repr(op)
                if at is None:
                    raise _fail(f"{label} '{name}' is not defined in computation '{comp.name}'", comp, instr)
                if at == i:
                    raise _fail(f"{label} '{name}' is the instruction itself (a cycle)", comp, instr)
                if at > i:
                    raise _fail(f"{label} '{name}' is used before its definition on line "
                                f"{comp.instructions[at].line} (instructions must come after their operands)",
                                comp, instr)
    _check_parameters(comp)


def _check_parameters(comp: Computation) -> None:
    """XLA's parser aborts the process on these; we raise."""
    numbers: dict[int, Instruction] = {}
    for instr in comp.instructions:
        if instr.opcode is not Opcode.PARAMETER:
            continue
        n = instr.parameter_number
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise _fail(f"parameter number {n!r} must be a non-negative integer", comp, instr)
        if n in numbers:
            raise _fail(f"parameter number {n} is already taken by '{numbers[n].name}'", comp, instr)
        numbers[n] = instr
    for n in range(len(numbers)):
        if n not in numbers:
            last = max(numbers)
            raise _fail(f"parameters must be numbered 0..{len(numbers) - 1} without gaps, but parameter {n} is "
                        f"missing (found parameter {last})", comp, numbers[last])


# --- 3. the call graph -------------------------------------------------------------------------------

def _callees(module_comps: dict[int, Computation], comp: Computation) -> list[tuple[Instruction, Computation]]:
    out = []
    for instr in comp.instructions:
        for key, value in instr.attrs.items():
            if key in COMP_ATTRS:
                values = (value,)
            elif key in COMP_LIST_ATTRS:
                values = value if isinstance(value, tuple) else (value,)
            else:
                continue
            for v in values:
                if not isinstance(v, Computation):
                    raise _fail(f"{key} must name a computation, got {v!r}", comp, instr)
                if id(v) not in module_comps:
                    raise _fail(f"{key} calls computation '{v.name}', which is not in the module", comp, instr)
                out.append((instr, v))
    return out


MAX_CALL_DEPTH = 100


def _check_call_graph(module: Module) -> list[Computation]:
    """Rejects calls outside the module and call cycles; returns the computations callees-first."""
    comps = {id(c): c for c in module.computations}
    edges = {id(c): _callees(comps, c) for c in module.computations}
    state: dict[int, int] = {}  # absent: unvisited, 1: on the DFS path, 2: done
    order: list[Computation] = []
    for start in module.computations:
        if id(start) in state:
            continue
        state[id(start)] = 1
        path = [start]
        stack = [(start, iter(edges[id(start)]))]
        while stack:
            comp, it = stack[-1]
            step = next(it, None)
            if step is None:
                stack.pop()
                path.pop()
                state[id(comp)] = 2
                order.append(comp)
                continue
            instr, callee = step
            s = state.get(id(callee))
            if s == 1:
                cycle = path[[id(c) for c in path].index(id(callee)):] + [callee]
                raise _fail("the call graph has a cycle: " + " -> ".join(c.name for c in cycle), comp, instr)
            if s is None:
                state[id(callee)] = 1
                path.append(callee)
                stack.append((callee, iter(edges[id(callee)])))
    # The longest chain of calls, callees first: evaluation recurses once per level.
    depth: dict[int, int] = {}
    for comp in order:
        depth[id(comp)] = 1 + max((depth[id(c)] for _, c in edges[id(comp)]), default=0)
        if depth[id(comp)] > MAX_CALL_DEPTH:
            instr = next(i for i, c in edges[id(comp)] if depth[id(c)] == MAX_CALL_DEPTH)
            raise _fail(f"computations call each other more than {MAX_CALL_DEPTH} deep "
                        f"(the limit keeps evaluation off Python's recursion limit)", comp, instr)
    return order


# --- 4. shapes ---------------------------------------------------------------------------------------

def _check_shapes(comp: Computation) -> None:
    for instr in comp.instructions:
        try:
            inferred = infer_shape(instr)
        except ShapeError as e:
            raise _fail(str(e), comp, instr) from None
        except Exception as e:  # a rule tripped over malformed attributes: report it here
            raise _fail(f"{instr.opcode.value} could not be checked ({type(e).__name__}: {e})", comp, instr) from e
        if not compatible(inferred, instr.shape):
            raise _fail(f"declared shape {text(instr.shape)} does not match the shape {text(inferred)} that "
                        f"{instr.opcode.value} of its operands produces", comp, instr)
