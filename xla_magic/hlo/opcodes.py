"""The opcode table: every HLO opcode XLA prints, with its arity and named groups.

Per-opcode behaviour (shape inference, evaluation, cost, code generation) lives in registries
keyed by `Opcode`, one row per opcode, in the modules that own that behaviour."""
from __future__ import annotations

from enum import Enum

VARIADIC = -1


class Opcode(Enum):
    """Value is the HLO spelling; `arity` is the operand count (VARIADIC when it varies)."""

    _value_: str
    arity: int

    def __new__(cls, text: str, arity: int) -> Opcode:
        obj = object.__new__(cls)
        obj._value_ = text
        obj.arity = arity
        return obj

    # elementwise unary
    ABS = ("abs", 1)
    ACOS = ("acos", 1)
    ACOSH = ("acosh", 1)
    ASIN = ("asin", 1)
    ASINH = ("asinh", 1)
    ATAN = ("atan", 1)
    ATANH = ("atanh", 1)
    CBRT = ("cbrt", 1)
    CEIL = ("ceil", 1)
    CLZ = ("count-leading-zeros", 1)
    COPY = ("copy", 1)
    COS = ("cosine", 1)
    COSH = ("cosh", 1)
    ERF = ("erf", 1)
    EXP = ("exponential", 1)
    EXPM1 = ("exponential-minus-one", 1)
    FLOOR = ("floor", 1)
    IMAG = ("imag", 1)
    IS_FINITE = ("is-finite", 1)
    LOG = ("log", 1)
    LOG1P = ("log-plus-one", 1)
    LOGISTIC = ("logistic", 1)
    NEGATE = ("negate", 1)
    NOT = ("not", 1)
    POPCNT = ("popcnt", 1)
    REAL = ("real", 1)
    ROUND_AFZ = ("round-nearest-afz", 1)
    ROUND_EVEN = ("round-nearest-even", 1)
    RSQRT = ("rsqrt", 1)
    SIGN = ("sign", 1)
    SIN = ("sine", 1)
    SINH = ("sinh", 1)
    SQRT = ("sqrt", 1)
    TAN = ("tan", 1)
    TANH = ("tanh", 1)
    CONVERT = ("convert", 1)
    BITCAST_CONVERT = ("bitcast-convert", 1)
    REDUCE_PRECISION = ("reduce-precision", 1)
    STOCHASTIC_CONVERT = ("stochastic-convert", 2)
    # elementwise binary
    ADD = ("add", 2)
    ATAN2 = ("atan2", 2)
    COMPLEX = ("complex", 2)
    DIVIDE = ("divide", 2)
    MAXIMUM = ("maximum", 2)
    MINIMUM = ("minimum", 2)
    MULTIPLY = ("multiply", 2)
    POWER = ("power", 2)
    REMAINDER = ("remainder", 2)
    SUBTRACT = ("subtract", 2)
    AND = ("and", 2)
    OR = ("or", 2)
    XOR = ("xor", 2)
    SHIFT_LEFT = ("shift-left", 2)
    SHIFT_RIGHT_ARITHMETIC = ("shift-right-arithmetic", 2)
    SHIFT_RIGHT_LOGICAL = ("shift-right-logical", 2)
    COMPARE = ("compare", 2)
    # elementwise ternary
    SELECT = ("select", 3)
    CLAMP = ("clamp", 3)
    # leaves
    PARAMETER = ("parameter", 0)
    CONSTANT = ("constant", 0)
    IOTA = ("iota", 0)
    # shape and data movement
    BITCAST = ("bitcast", 1)
    BROADCAST = ("broadcast", 1)
    CONCATENATE = ("concatenate", VARIADIC)
    DYNAMIC_SLICE = ("dynamic-slice", VARIADIC)
    DYNAMIC_UPDATE_SLICE = ("dynamic-update-slice", VARIADIC)
    GATHER = ("gather", 2)
    PAD = ("pad", 2)
    RESHAPE = ("reshape", 1)
    DYNAMIC_RESHAPE = ("dynamic-reshape", VARIADIC)
    REVERSE = ("reverse", 1)
    SCATTER = ("scatter", VARIADIC)
    SLICE = ("slice", 1)
    TRANSPOSE = ("transpose", 1)
    GET_DIMENSION_SIZE = ("get-dimension-size", 1)
    SET_DIMENSION_SIZE = ("set-dimension-size", 2)
    # reductions, windows and contractions
    REDUCE = ("reduce", VARIADIC)
    REDUCE_WINDOW = ("reduce-window", VARIADIC)
    SELECT_AND_SCATTER = ("select-and-scatter", 3)
    MAP = ("map", VARIADIC)
    DOT = ("dot", 2)
    CONVOLUTION = ("convolution", 2)
    FFT = ("fft", 1)
    SORT = ("sort", VARIADIC)
    TOPK = ("topk", 1)
    CHOLESKY = ("cholesky", 1)
    TRIANGULAR_SOLVE = ("triangular-solve", 2)
    BATCH_NORM_TRAINING = ("batch-norm-training", 3)
    BATCH_NORM_INFERENCE = ("batch-norm-inference", 5)
    BATCH_NORM_GRAD = ("batch-norm-grad", 5)
    # tuples and control flow
    TUPLE = ("tuple", VARIADIC)
    GET_TUPLE_ELEMENT = ("get-tuple-element", 1)
    CALL = ("call", VARIADIC)
    CONDITIONAL = ("conditional", VARIADIC)
    WHILE = ("while", 1)
    FUSION = ("fusion", VARIADIC)
    CUSTOM_CALL = ("custom-call", VARIADIC)
    OPTIMIZATION_BARRIER = ("opt-barrier", 1)
    # random numbers
    RNG = ("rng", VARIADIC)
    RNG_BIT_GENERATOR = ("rng-bit-generator", 1)
    RNG_GET_AND_UPDATE_STATE = ("rng-get-and-update-state", 0)
    # side effects, distribution and scheduling (parsed and printed; not executed)
    ADD_DEPENDENCY = ("add-dependency", 2)
    AFTER_ALL = ("after-all", VARIADIC)
    ALL_GATHER = ("all-gather", VARIADIC)
    ALL_REDUCE = ("all-reduce", VARIADIC)
    ALL_TO_ALL = ("all-to-all", VARIADIC)
    COLLECTIVE_PERMUTE = ("collective-permute", VARIADIC)
    REDUCE_SCATTER = ("reduce-scatter", VARIADIC)
    COPY_START = ("copy-start", 1)
    COPY_DONE = ("copy-done", 1)
    DOMAIN = ("domain", 1)
    INFEED = ("infeed", 1)
    OUTFEED = ("outfeed", 2)
    PARTITION_ID = ("partition-id", 0)
    REPLICA_ID = ("replica-id", 0)
    RECV = ("recv", 1)
    RECV_DONE = ("recv-done", 1)
    SEND = ("send", 2)
    SEND_DONE = ("send-done", 1)

    @property
    def text(self) -> str:
        return self._value_

    def __repr__(self) -> str:
        return f"Opcode.{self.name}"


OPCODES: dict[str, Opcode] = {op.value: op for op in Opcode}

O = Opcode
UNARY = frozenset({
    O.ABS, O.ACOS, O.ACOSH, O.ASIN, O.ASINH, O.ATAN, O.ATANH, O.CBRT, O.CEIL, O.CLZ, O.COPY, O.COS, O.COSH,
    O.ERF, O.EXP, O.EXPM1, O.FLOOR, O.IMAG,
    O.IS_FINITE, O.LOG, O.LOG1P, O.LOGISTIC, O.NEGATE, O.NOT, O.POPCNT, O.REAL, O.ROUND_AFZ,
    O.ROUND_EVEN, O.RSQRT, O.SIGN, O.SIN, O.SINH, O.SQRT, O.TAN, O.TANH, O.CONVERT, O.BITCAST_CONVERT,
    O.REDUCE_PRECISION,
})
BINARY = frozenset({
    O.ADD, O.ATAN2, O.COMPLEX, O.DIVIDE, O.MAXIMUM, O.MINIMUM, O.MULTIPLY, O.POWER, O.REMAINDER,
    O.SUBTRACT, O.AND, O.OR, O.XOR, O.SHIFT_LEFT, O.SHIFT_RIGHT_ARITHMETIC,
    O.SHIFT_RIGHT_LOGICAL, O.COMPARE, O.STOCHASTIC_CONVERT,
})
TERNARY = frozenset({O.SELECT, O.CLAMP})
ELEMENTWISE = UNARY | BINARY | TERNARY
# Transcendental in XLA's cost model: counted apart from flops.
TRANSCENDENTAL = frozenset({
    O.EXP, O.EXPM1, O.LOG, O.LOG1P, O.LOGISTIC, O.TANH, O.SIN, O.SINH, O.COS, O.TAN, O.SQRT, O.RSQRT,
    O.CBRT, O.POWER, O.ATAN2, O.ERF, O.ACOS, O.ACOSH, O.ASIN, O.ASINH, O.ATAN, O.ATANH, O.COSH,
})
LEAF = frozenset({O.PARAMETER, O.CONSTANT, O.IOTA, O.PARTITION_ID, O.REPLICA_ID, O.RNG_GET_AND_UPDATE_STATE})
SHAPE_OPS = frozenset({
    O.BITCAST, O.BROADCAST, O.RESHAPE, O.TRANSPOSE, O.SLICE, O.CONCATENATE, O.PAD, O.REVERSE,
    O.DYNAMIC_SLICE, O.DYNAMIC_UPDATE_SLICE, O.GATHER, O.SCATTER, O.DYNAMIC_RESHAPE,
})
CONTROL_FLOW = frozenset({O.CALL, O.CONDITIONAL, O.WHILE})
# Ops whose computation argument is applied to scalars (reducers, comparators).
WITH_REDUCER = frozenset({O.REDUCE, O.REDUCE_WINDOW, O.SELECT_AND_SCATTER, O.SCATTER, O.SORT, O.MAP, O.ALL_REDUCE,
                          O.REDUCE_SCATTER})
# Parsed and printed but outside what a single-device executor runs.
UNEXECUTABLE = frozenset({
    O.ADD_DEPENDENCY, O.AFTER_ALL, O.ALL_GATHER, O.ALL_REDUCE, O.ALL_TO_ALL, O.COLLECTIVE_PERMUTE,
    O.REDUCE_SCATTER, O.COPY_START, O.COPY_DONE, O.DOMAIN, O.INFEED, O.OUTFEED, O.RECV,
    O.RECV_DONE, O.SEND, O.SEND_DONE, O.RNG_GET_AND_UPDATE_STATE,
})
del O
