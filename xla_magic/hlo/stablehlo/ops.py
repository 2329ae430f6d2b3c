"""One rule per StableHLO op: the HLO instructions it becomes (one per result).

XLA's own StableHLO -> HLO translation is the model: operand orders, region signatures and
attribute values follow it, so the verifier, the interpreter and the backends take the result
unchanged. Control flow and calls, which need the reader's scopes, live in `control.py`."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import attrs as A
from ..dtypes import S32
from ..ir import Instruction
from ..opcodes import Opcode
from ..shape import Shape
from .attributes import AttrDict, Dense
from .context import OpContext
from .syntax import Block

Rule = Callable[[OpContext], list[Instruction]]

O = Opcode
# stablehlo.X -> the HLO opcode of the same elementwise operation.
ELEMENTWISE: dict[str, Opcode] = {
    "abs": O.ABS, "cbrt": O.CBRT, "ceil": O.CEIL, "count_leading_zeros": O.CLZ, "cosine": O.COS,
    "exponential": O.EXP, "exponential_minus_one": O.EXPM1, "floor": O.FLOOR, "imag": O.IMAG,
    "is_finite": O.IS_FINITE, "log": O.LOG, "log_plus_one": O.LOG1P, "logistic": O.LOGISTIC, "negate": O.NEGATE,
    "not": O.NOT, "popcnt": O.POPCNT, "real": O.REAL, "round_nearest_afz": O.ROUND_AFZ,
    "round_nearest_even": O.ROUND_EVEN, "rsqrt": O.RSQRT, "sign": O.SIGN, "sine": O.SIN, "sqrt": O.SQRT,
    "tan": O.TAN, "tanh": O.TANH,
    "add": O.ADD, "atan2": O.ATAN2, "complex": O.COMPLEX, "divide": O.DIVIDE, "maximum": O.MAXIMUM,
    "minimum": O.MINIMUM, "multiply": O.MULTIPLY, "power": O.POWER, "remainder": O.REMAINDER,
    "subtract": O.SUBTRACT, "and": O.AND, "or": O.OR, "xor": O.XOR, "shift_left": O.SHIFT_LEFT,
    "shift_right_arithmetic": O.SHIFT_RIGHT_ARITHMETIC, "shift_right_logical": O.SHIFT_RIGHT_LOGICAL,
    "select": O.SELECT, "clamp": O.CLAMP,
}
# Ops whose result type the rule passes on as the HLO instruction's shape.
DECLARED_RESULT: dict[str, Opcode] = {
    "convert": O.CONVERT, "bitcast_convert": O.BITCAST_CONVERT, "reshape": O.RESHAPE,
    "dynamic_reshape": O.RESHAPE,
}
_RNG_ALGORITHMS = {"DEFAULT": "rng_default", "THREE_FRY": "rng_three_fry", "PHILOX": "rng_philox"}
_RNG_DISTRIBUTIONS = {"UNIFORM": "rng_uniform", "NORMAL": "rng_normal"}
_API_VERSIONS = {0: "API_VERSION_UNSPECIFIED", 1: "API_VERSION_ORIGINAL", 2: "API_VERSION_STATUS_RETURNING",
                 3: "API_VERSION_STATUS_RETURNING_UNIFIED", 4: "API_VERSION_TYPED_FFI"}


def _elementwise(opcode: Opcode) -> Rule:
    def rule(c: OpContext) -> list[Instruction]:
        c.arity(opcode.arity)
        return [c.b.op(opcode, *c.args)]
    return rule


def _declared(opcode: Opcode) -> Rule:
    def rule(c: OpContext) -> list[Instruction]:
        return [c.b.op(opcode, c.args[0], shape=c.result)]
    return rule


def _split(c: OpContext, x: Instruction) -> list[Instruction]:
    """A multi-result HLO instruction (a tuple) as its elements."""
    if not x.shape.is_tuple:
        return [x]
    return [c.b.get(x, i) for i in range(len(x.shape.elements))]


def _constant(c: OpContext) -> list[Instruction]:
    v = c.attr("value")
    if not isinstance(v, Dense):
        raise c.error("the value must be a dense<...> literal")
    return [c.b.constant(v.array(c.cur), c.result.element_type if not v.shape.is_tuple else S32)]


def _compare(c: OpContext) -> list[Instruction]:
    c.arity(2)
    kind = c.enum("compare_type", "NOTYPE")
    return [c.b.compare(c.args[0], c.args[1], c.enum("comparison_direction"), None if kind == "NOTYPE" else kind)]


def _reduce_precision(c: OpContext) -> list[Instruction]:
    return [c.b.op(O.REDUCE_PRECISION, c.args[0], exponent_bits=c.integer("exponent_bits"),
                   mantissa_bits=c.integer("mantissa_bits"))]


def _broadcast_in_dim(c: OpContext) -> list[Instruction]:
    """HLO's broadcast maps each operand dimension onto an equal one; StableHLO also stretches
    size-1 dimensions, which are reshaped away first."""
    c.arity(1, 2)  # dynamic_broadcast_in_dim's shape operand: the result type is static
    x, out = c.args[0], c.result
    dims = c.ints("broadcast_dimensions")
    if len(dims) != x.shape.rank or any(not 0 <= d < out.rank for d in dims):
        raise c.error(f"broadcast_dimensions {list(dims)} do not fit operand rank {x.shape.rank} and result "
                      f"rank {out.rank}")
    keep = [i for i, d in enumerate(dims) if not (x.shape.dims[i] == 1 and out.dims[d] != 1)]
    if len(keep) != len(dims):
        x = c.b.reshape(x, [x.shape.dims[i] for i in keep])
        dims = tuple(dims[i] for i in keep)
    return [c.b.op(O.BROADCAST, x, shape=out.with_dtype(x.shape.element_type), dimensions=dims)]


def _iota(c: OpContext) -> list[Instruction]:
    return [c.b.op(O.IOTA, shape=c.result, iota_dimension=c.integer("iota_dimension"))]


def _transpose(c: OpContext) -> list[Instruction]:
    return [c.b.op(O.TRANSPOSE, c.args[0], dimensions=c.ints("permutation"))]


def _reverse(c: OpContext) -> list[Instruction]:
    return [c.b.op(O.REVERSE, c.args[0], dimensions=c.ints("dimensions"))]


def _slice(c: OpContext) -> list[Instruction]:
    c.arity(1)
    starts, limits = c.ints("start_indices"), c.ints("limit_indices")
    strides = c.ints("strides", (1,) * len(starts))
    if not len(starts) == len(limits) == len(strides):
        raise c.error("start_indices, limit_indices and strides differ in length")
    return [c.b.op(O.SLICE, c.args[0], slice=tuple(zip(starts, limits, strides)))]


def _constant_ints(c: OpContext, x: Instruction, what: str) -> tuple[int, ...]:
    if x.opcode is not O.CONSTANT or x.literal is None or x.literal.dtype.kind not in "iu":
        raise c.error(f"the {what} operand must be an integer constant (dynamic shapes are not supported)")
    return tuple(int(v) for v in x.literal.reshape(-1))


def _real_dynamic_slice(c: OpContext) -> list[Instruction]:
    c.arity(4)
    x, start, limit, stride = c.args
    strides = _constant_ints(c, stride, "strides")
    if start.opcode is O.CONSTANT and limit.opcode is O.CONSTANT:
        sl = zip(_constant_ints(c, start, "start"), _constant_ints(c, limit, "limit"), strides)
        return [c.b.op(O.SLICE, x, slice=tuple(sl))]
    if any(s != 1 for s in strides) or start.shape.rank != 1:
        raise c.error("a slice with computed start indices needs unit strides")
    idx = [c.b.reshape(c.b.op(O.SLICE, start, slice=((i, i + 1, 1),)), ()) for i in range(start.shape.dims[0])]
    return [c.b.op(O.DYNAMIC_SLICE, x, *idx, dynamic_slice_sizes=c.result.dims)]


def _dynamic_slice(c: OpContext) -> list[Instruction]:
    return [c.b.op(O.DYNAMIC_SLICE, *c.args, dynamic_slice_sizes=c.ints("slice_sizes"))]


def _dynamic_update_slice(c: OpContext) -> list[Instruction]:
    return [c.b.op(O.DYNAMIC_UPDATE_SLICE, *c.args)]


def _concatenate(c: OpContext) -> list[Instruction]:
    return [c.b.op(O.CONCATENATE, *c.args, dimensions=(c.integer("dimension"),))]


def _pad(c: OpContext) -> list[Instruction]:
    c.arity(2)
    lo, hi = c.ints("edge_padding_low"), c.ints("edge_padding_high")
    it = c.ints("interior_padding", (0,) * len(lo))
    if not len(lo) == len(hi) == len(it):
        raise c.error("edge_padding_low, edge_padding_high and interior_padding differ in length")
    return [c.b.op(O.PAD, *c.args, padding=tuple(zip(lo, hi, it)))]


def _dynamic_pad(c: OpContext) -> list[Instruction]:
    c.arity(5)
    x, value, lo, hi, it = c.args
    pads = zip(_constant_ints(c, lo, "low"), _constant_ints(c, hi, "high"), _constant_ints(c, it, "interior"))
    return [c.b.op(O.PAD, x, value, padding=tuple(pads))]


def _dynamic_iota(c: OpContext) -> list[Instruction]:
    return [c.b.op(O.IOTA, shape=c.result, iota_dimension=c.integer("iota_dimension"))]


def _get_dimension_size(c: OpContext) -> list[Instruction]:
    return [c.b.op(O.GET_DIMENSION_SIZE, c.args[0], dimensions=(c.integer("dimension"),))]


def _nonempty(**kw: tuple[int, ...]) -> dict[str, Any]:
    """Batching dimensions only where present, as XLA prints them."""
    return {k: v for k, v in kw.items() if v}


def _gather(c: OpContext) -> list[Instruction]:
    c.arity(2, 3)
    f = c.struct("dimension_numbers", "gather")
    sizes = c.ints("slice_sizes") if len(c.args) == 2 else _constant_ints(c, c.args[2], "slice_sizes")
    return [c.b.op(
        O.GATHER, c.args[0], c.args[1], offset_dims=c.field_ints(f, "offset_dims"),
        collapsed_slice_dims=c.field_ints(f, "collapsed_slice_dims"),
        start_index_map=c.field_ints(f, "start_index_map"), index_vector_dim=int(f.get("index_vector_dim", 0)),
        slice_sizes=sizes, indices_are_sorted=c.flag("indices_are_sorted", False),
        **_nonempty(operand_batching_dims=c.field_ints(f, "operand_batching_dims"),
                    start_indices_batching_dims=c.field_ints(f, "start_indices_batching_dims")))]


def _scatter(c: OpContext) -> list[Instruction]:
    f = c.struct("scatter_dimension_numbers", "scatter")
    (body,) = c.regions(1)
    x = c.b.op(
        O.SCATTER, *c.args, update_window_dims=c.field_ints(f, "update_window_dims"),
        inserted_window_dims=c.field_ints(f, "inserted_window_dims"),
        scatter_dims_to_operand_dims=c.field_ints(f, "scatter_dims_to_operand_dims"),
        index_vector_dim=int(f.get("index_vector_dim", 0)), indices_are_sorted=c.flag("indices_are_sorted", False),
        unique_indices=c.flag("unique_indices", False), to_apply=c.region(body, "scatter_update"),
        **_nonempty(input_batching_dims=c.field_ints(f, "input_batching_dims"),
                    scatter_indices_batching_dims=c.field_ints(f, "scatter_indices_batching_dims")))
    return _split(c, x)


def _dot_general(c: OpContext) -> list[Instruction]:
    c.arity(2)
    f = c.struct("dot_dimension_numbers", "dot")
    dims: dict[str, Any] = dict(lhs_contracting_dims=c.field_ints(f, "lhs_contracting_dimensions"),
                rhs_contracting_dims=c.field_ints(f, "rhs_contracting_dimensions"),
                **_nonempty(lhs_batch_dims=c.field_ints(f, "lhs_batching_dimensions"),
                            rhs_batch_dims=c.field_ints(f, "rhs_batching_dimensions")))
    return [c.b.op(O.DOT, *c.args, shape=c.result, **dims)]


def _dot(c: OpContext) -> list[Instruction]:
    c.arity(2)
    lhs = c.args[0]
    return [c.b.op(O.DOT, *c.args, shape=c.result, lhs_contracting_dims=(max(lhs.shape.rank - 1, 0),),
                   rhs_contracting_dims=(0,))]


def _window(c: OpContext, sizes: tuple[int, ...], strides: str, base: str | None, window: str | None,
            pad_key: str, reversal: str | None = None) -> A.Window:
    """HLO's window from StableHLO's per-attribute lists (a missing one is all ones, or no padding)."""
    n = len(sizes)
    ones = (1,) * n
    st = c.ints(strides, ones)
    bd = c.ints(base, ones) if base else ones
    wd = c.ints(window, ones) if window else ones
    rev = c.bools(reversal, n) if reversal else (False,) * n
    pads = c.pairs(pad_key, n)
    if not len(st) == len(bd) == len(wd) == n:
        raise c.error(f"window attributes must each have {n} entries")
    return A.Window(tuple(A.WindowDim(sizes[i], st[i], pads[i][0], pads[i][1], wd[i], bd[i], rev[i])
                          for i in range(n)))


def _convolution(c: OpContext) -> list[Instruction]:
    c.arity(2, 3)
    labels = c.attr("dimension_numbers")
    if not isinstance(labels, A.ConvDims):
        raise c.error("dimension_numbers must be like [b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]")
    lhs, rhs = c.args[0], c.args[1]
    if len(c.args) == 3:  # dynamic_conv: its padding operand must be constant
        pad = _constant_ints(c, c.args[2], "padding")
        c.op.attrs["padding"] = [list(pad[i:i + 2]) for i in range(0, len(pad), 2)]
    if rhs.shape.is_tuple or rhs.shape.rank != len(labels.kernel_spatial) + 2:
        raise c.error("the kernel's rank does not match the dimension numbers")
    sizes = tuple(rhs.shape.dims[d] for d in labels.kernel_spatial)
    win = _window(c, sizes, "window_strides", "lhs_dilation", "rhs_dilation", "padding", "window_reversal")
    return [c.b.op(O.CONVOLUTION, lhs, rhs, shape=c.result, window=win, dim_labels=labels,
                   feature_group_count=c.integer("feature_group_count", 1),
                   batch_group_count=c.integer("batch_group_count", 1))]


def _single_op_reducer(body: Block) -> Opcode | None:
    """The opcode of a region `(a, b) -> op(a, b)`, the form the pretty syntax prints as
    `applies stablehlo.op`: both forms share the module's reducer."""
    if len(body.ops) != 2 or len(body.args) != 2 or body.args[0][1] != body.args[1][1]:
        return None
    op, ret = body.ops
    opcode = ELEMENTWISE.get(op.name.removeprefix("stablehlo."))
    names = [u.name for u in op.operands]
    if opcode is None or opcode.arity != 2 or names != [a for a, _ in body.args] or op.regions:
        return None
    if len(ret.operands) != 1 or ret.operands[0].name != op.results[0][0] if op.results else True:
        return None
    return opcode


def _reduce(c: OpContext) -> list[Instruction]:
    n = len(c.args) // 2
    if n == 0 or len(c.args) != 2 * n:
        raise c.error("takes inputs and as many init values")
    applies = c.op.extra.get("applies")
    if applies is not None:
        short = applies.split(".", 1)[1] if applies.startswith("stablehlo.") else applies
        opcode = ELEMENTWISE.get(short)
        if n != 1 or opcode is None or opcode.arity != 2:
            raise c.error(f"cannot apply {applies} as a reducer")
        comp = c.module.reducer(opcode, c.args[1].shape.element_type)
    else:
        (body,) = c.regions(1)
        opcode = _single_op_reducer(body)
        if n == 1 and opcode is not None:
            comp = c.module.reducer(opcode, c.args[1].shape.element_type)
        else:
            comp = c.region(body, "region")
    x = c.b.op(O.REDUCE, *c.args, dimensions=c.ints("dimensions"), to_apply=comp)
    return _split(c, x)


def _reduce_window(c: OpContext) -> list[Instruction]:
    n = len(c.args) // 2
    if n == 0 or len(c.args) != 2 * n:
        raise c.error("takes inputs and as many init values")
    (body,) = c.regions(1)
    win = _window(c, c.ints("window_dimensions"), "window_strides", "base_dilations", "window_dilations", "padding")
    x = c.b.op(O.REDUCE_WINDOW, *c.args, window=win, to_apply=c.region(body, "region"))
    return _split(c, x)


def _select_and_scatter(c: OpContext) -> list[Instruction]:
    c.arity(3)
    select, scatter = c.regions(2)
    win = _window(c, c.ints("window_dimensions"), "window_strides", None, None, "padding")
    return [c.b.op(O.SELECT_AND_SCATTER, *c.args, window=win, select=c.region(select, "select"),
                   scatter=c.region(scatter, "scatter"))]


def _sort(c: OpContext) -> list[Instruction]:
    (body,) = c.regions(1)
    x = c.b.op(O.SORT, *c.args, dimensions=(c.integer("dimension", -1) % max(c.args[0].shape.rank, 1),),
               is_stable=c.flag("is_stable", False), to_apply=c.region(body, "compare"))
    return _split(c, x)


def _map(c: OpContext) -> list[Instruction]:
    (body,) = c.regions(1)
    return [c.b.op(O.MAP, *c.args, dimensions=c.ints("dimensions"), to_apply=c.region(body, "map"))]


def _fft(c: OpContext) -> list[Instruction]:
    return [c.b.op(O.FFT, c.args[0], fft_type=c.enum("fft_type"), fft_length=c.ints("fft_length"))]


def _raw_bool(v: bool) -> A.Raw:
    return A.Raw("true" if v else "false")


def _triangular_solve(c: OpContext) -> list[Instruction]:
    c.arity(2)
    return [c.b.op(O.TRIANGULAR_SOLVE, *c.args, left_side=_raw_bool(c.flag("left_side")),
                   lower=_raw_bool(c.flag("lower")), unit_diagonal=_raw_bool(c.flag("unit_diagonal")),
                   transpose_a=A.Raw(c.enum("transpose_a")))]


def _cholesky(c: OpContext) -> list[Instruction]:
    return [c.b.op(O.CHOLESKY, c.args[0], lower=_raw_bool(c.flag("lower", False)))]


def _rng(c: OpContext) -> list[Instruction]:
    c.arity(3)
    dist = c.enum("rng_distribution")
    if dist not in _RNG_DISTRIBUTIONS:
        raise c.error(f"unknown distribution {dist}")
    return [c.b.op(O.RNG, c.args[0], c.args[1], shape=c.result, distribution=_RNG_DISTRIBUTIONS[dist])]


def _rng_bit_generator(c: OpContext) -> list[Instruction]:
    c.arity(1)
    alg = c.enum("rng_algorithm", "DEFAULT")
    if alg not in _RNG_ALGORITHMS or len(c.results) != 2:
        raise c.error(f"needs an algorithm of {', '.join(_RNG_ALGORITHMS)} and two results")
    x = c.b.op(O.RNG_BIT_GENERATOR, c.args[0], shape=Shape.tuple_of(c.results),
               algorithm=_RNG_ALGORITHMS[alg])
    return _split(c, x)


def _batch_norm(opcode: Opcode, results: int) -> Rule:
    def rule(c: OpContext) -> list[Instruction]:
        x = c.b.op(opcode, *c.args, epsilon=A.Raw(repr(c.number("epsilon"))),
                   feature_index=A.Raw(str(c.integer("feature_index"))))  # as the HLO parser keeps them
        return _split(c, x) if results > 1 else [x]
    return rule


def _custom_call(c: OpContext) -> list[Instruction]:
    target = c.symbol("callee") if c.has("callee") else c.attr("call_target_name")
    if not isinstance(target, str):
        raise c.error("call_target_name must be a string")
    shape = c.results[0] if len(c.results) == 1 else Shape.tuple_of(c.results)
    attrs: dict[str, Any] = {"custom_call_target": target}
    config = c.attr("backend_config", None)
    ffi_config = c.attr("mhlo.backend_config", None)  # typed FFI calls (jax's LAPACK kernels on cpu)
    if isinstance(ffi_config, AttrDict):
        attrs["backend_config"] = A.Raw(ffi_config.text)
        attrs["api_version"] = _API_VERSIONS[4]
    elif isinstance(config, AttrDict):
        attrs["backend_config"] = A.Raw(config.text)
    elif isinstance(config, str) and config:
        attrs["backend_config"] = A.Raw(A.quote(config))
    version = c.attr("api_version", None)
    if isinstance(version, int) and not isinstance(version, bool) and version in _API_VERSIONS:
        attrs["api_version"] = _API_VERSIONS[version]
    x = c.b.op(O.CUSTOM_CALL, *c.args, shape=shape, **attrs)
    return _split(c, x) if len(c.results) != 1 else [x]


def _optimization_barrier(c: OpContext) -> list[Instruction]:
    x = c.b.op(O.OPTIMIZATION_BARRIER, c.b.tuple(*c.args))
    return _split(c, x)


def _tuple(c: OpContext) -> list[Instruction]:
    return [c.b.tuple(*c.args)]


def _get_tuple_element(c: OpContext) -> list[Instruction]:
    c.arity(1)
    return [c.b.get(c.args[0], c.integer("index"))]


def _after_all(c: OpContext) -> list[Instruction]:
    return [c.b.op(O.AFTER_ALL, *c.args)]


def _leaf(opcode: Opcode) -> Rule:
    def rule(c: OpContext) -> list[Instruction]:
        c.arity(0)
        return [c.b.op(opcode)]
    return rule


def _refused(why: str) -> Rule:
    def rule(c: OpContext) -> list[Instruction]:
        raise c.error(why)
    return rule


OPS: dict[str, Rule] = {
    **{name: _elementwise(opcode) for name, opcode in ELEMENTWISE.items()},
    **{name: _declared(opcode) for name, opcode in DECLARED_RESULT.items()},
    "constant": _constant,
    "compare": _compare,
    "reduce_precision": _reduce_precision,
    "broadcast_in_dim": _broadcast_in_dim,
    "dynamic_broadcast_in_dim": _broadcast_in_dim,
    "iota": _iota,
    "dynamic_iota": _dynamic_iota,
    "transpose": _transpose,
    "reverse": _reverse,
    "slice": _slice,
    "real_dynamic_slice": _real_dynamic_slice,
    "dynamic_slice": _dynamic_slice,
    "dynamic_update_slice": _dynamic_update_slice,
    "concatenate": _concatenate,
    "pad": _pad,
    "dynamic_pad": _dynamic_pad,
    "get_dimension_size": _get_dimension_size,
    "gather": _gather,
    "dynamic_gather": _gather,
    "scatter": _scatter,
    "dot_general": _dot_general,
    "dot": _dot,
    "convolution": _convolution,
    "dynamic_conv": _convolution,
    "reduce": _reduce,
    "reduce_window": _reduce_window,
    "select_and_scatter": _select_and_scatter,
    "sort": _sort,
    "map": _map,
    "fft": _fft,
    "triangular_solve": _triangular_solve,
    "cholesky": _cholesky,
    "rng": _rng,
    "rng_bit_generator": _rng_bit_generator,
    "batch_norm_training": _batch_norm(O.BATCH_NORM_TRAINING, 3),
    "batch_norm_inference": _batch_norm(O.BATCH_NORM_INFERENCE, 1),
    "batch_norm_grad": _batch_norm(O.BATCH_NORM_GRAD, 3),
    "custom_call": _custom_call,
    "optimization_barrier": _optimization_barrier,
    "tuple": _tuple,
    "get_tuple_element": _get_tuple_element,
    "after_all": _after_all,
    "create_token": _after_all,
    "replica_id": _leaf(O.REPLICA_ID),
    "partition_id": _leaf(O.PARTITION_ID),
    "uniform_quantize": _refused("quantized types are not supported"),
    "uniform_dequantize": _refused("quantized types are not supported"),
    "einsum": _refused("einsum is not supported: lower it with jax (it becomes dot_general)"),
    "unary_einsum": _refused("unary_einsum is not supported: lower it with jax (it becomes dot_general)"),
    "compute_reshape_shape": _refused("dynamic shapes are not supported"),
    "cstr_reshapable": _refused("dynamic shapes are not supported"),
}

