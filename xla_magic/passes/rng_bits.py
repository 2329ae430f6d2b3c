"""rng-bit-generator expanded into plain HLO, as XLA's RngBitGeneratorExpander does with the
generators of xla/hlo/builder/lib/prng.cc: Threefry-2x32 (20 rounds) and Philox-4x32 (10 rounds)
become u32/u64 arithmetic on iota counters, so every code generator runs them as ordinary fused
loops and nothing backend-specific knows the algorithms. The evaluator computes the same bits
directly in numpy; tests hold both to XLA:CPU's output bit for bit.

The layout of the bits is XLA's, which the tests pin down:
- Threefry, outputs of up to 32 bits: the shape is split in halves along its first even dimension
  (else its largest), counters `state[1] + i` run over the half shape, and the two output words of
  one counter land side by side along the split dimension; narrower outputs keep the low bits of
  a 32-bit word. 64-bit outputs: one counter per element, words (lo, hi).
- Philox: 128-bit counters (lo = state[1], hi = state[0] for a 2-word state, state[2] for 3 words)
  numbered from 0 in row-major order, each giving four 32-bit words (or two 64-bit ones).
- The new state is the key followed by the advanced counter; `rng_default` is Philox, as on
  XLA:CPU and XLA:GPU.

Where prng.cc draws whole blocks and concatenates, reshapes and slices them into place, the
expansion computes each element's counter from its position (iotas) and picks its word: one
elementwise loop with no index arithmetic, which the loop vectorizer takes."""
from __future__ import annotations

from collections.abc import Callable
from math import prod

from ..hlo.builder import ComputationBuilder
from ..hlo.dtypes import DType, dtype
from ..hlo.evaluator import RNG_STATE_WORDS, rng_algorithm, split_halves
from ..hlo.ir import Computation, Instruction, Module, Names, replace_uses, topological_sort
from ..hlo.opcodes import Opcode as O
from ..hlo.shape import Shape, row_major_strides

U32, U64 = dtype("u32"), dtype("u64")
_THREEFRY_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_THREEFRY_PARITY = 0x1BD11BDA
_PHILOX_M = (0xD2511F53, 0xCD9E8D57)
_PHILOX_W = (0x9E3779B9, 0xBB67AE85)


class _Arith:
    """Element arithmetic on instructions; an int operand is a constant of the other's type."""

    def __init__(self, b: ComputationBuilder):
        self.b = b

    def bin(self, op: O, x: Instruction, y: Instruction | int) -> Instruction:
        if isinstance(y, int):
            y = self.b.scalar_like(y, x)
        elif y.shape.dims != x.shape.dims:  # a scalar key word against an array of counters
            y = self.b.broadcast(y, x.shape.dims)
        return self.b.op(op, x, y)

    def add(self, x: Instruction, y: Instruction | int) -> Instruction:
        return self.bin(O.ADD, x, y)

    def xor(self, x: Instruction, y: Instruction | int) -> Instruction:
        return self.bin(O.XOR, x, y)

    def rotl(self, x: Instruction, d: int) -> Instruction:
        return self.bin(O.OR, self.bin(O.SHIFT_LEFT, x, d), self.bin(O.SHIFT_RIGHT_LOGICAL, x, 32 - d))

    def lo32(self, x: Instruction) -> Instruction:
        return self.b.convert(x, U32)  # integer converts wrap: the low word

    def hi32(self, x: Instruction) -> Instruction:
        return self.b.convert(self.bin(O.SHIFT_RIGHT_LOGICAL, x, 32), U32)

    def u64(self, lo: Instruction, hi: Instruction) -> Instruction:
        return self.bin(O.OR, self.b.convert(lo, U64), self.bin(O.SHIFT_LEFT, self.b.convert(hi, U64), 32))

    def word(self, state: Instruction, k: int) -> Instruction:
        """state[k] as a scalar."""
        return self.b.reshape(self.b.op(O.SLICE, state, slice=((k, k + 1, 1),)), ())

    def iota(self, dt: DType, dims: tuple[int, ...], d: int) -> Instruction:
        return self.b.op(O.IOTA, shape=Shape.array(dt, dims), iota_dimension=d)

    def positions(self, dims: tuple[int, ...], halved: int = -1) -> Instruction:
        """u64[dims]: the row-major position of each element, as prng.cc numbers them (a sum of
        iotas times strides); with `halved`, positions in `dims` with that dimension halved
        (rounded up), its index halved, so that neighbours along it share a position."""
        counted = list(dims)
        if halved >= 0:
            counted[halved] = (dims[halved] + 1) // 2
        total: Instruction | None = None
        for d, stride in enumerate(row_major_strides(counted)):
            if counted[d] <= 1:
                continue  # its index into the counted shape is 0
            term = self.iota(U64, dims, d)
            if d == halved:
                term = self.bin(O.SHIFT_RIGHT_LOGICAL, term, 1)
            if stride != 1:
                term = self.bin(O.MULTIPLY, term, stride)
            total = term if total is None else self.add(total, term)
        return total if total is not None else self.b.broadcast(self.b.constant(0, U64), dims)

    def pick(self, which: Instruction, words: list[Instruction]) -> Instruction:
        """words[which] per element (`which` a u64 array below len(words))."""
        out = words[-1]
        for k in range(len(words) - 2, -1, -1):
            out = self.b.op(O.SELECT, self.b.compare(which, self.b.scalar_like(k, which), "EQ"), words[k], out)
        return out


def threefry2x32(a: _Arith, x0: Instruction, x1: Instruction, k0: Instruction,
                 k1: Instruction) -> tuple[Instruction, Instruction]:
    """Threefry-2x32, 20 rounds, on u32 counter words (arrays) with u32 key words (scalars)."""
    ks = (k0, k1, a.xor(a.xor(k0, _THREEFRY_PARITY), k1))
    x0, x1 = a.add(x0, ks[0]), a.add(x1, ks[1])
    for i in range(5):
        for r in _THREEFRY_ROTATIONS[i % 2]:
            x0 = a.add(x0, x1)
            x1 = a.xor(a.rotl(x1, r), x0)
        # key injection i+1: (ks[i+1], ks[i+2] + i+1), the sum on scalars
        x0 = a.add(x0, ks[(i + 1) % 3])
        x1 = a.add(x1, a.add(ks[(i + 2) % 3], i + 1))
    return x0, x1


def philox4x32(a: _Arith, x: list[Instruction], k0: Instruction, k1: Instruction) -> list[Instruction]:
    """Philox-4x32, 10 rounds: (x0..x3) <- (hi(x2*B) ^ x1 ^ k0, lo(x2*B), hi(x0*A) ^ x3 ^ k1, lo(x0*A)),
    the key raised by the Weyl constants after each round."""
    for _ in range(10):
        p0 = a.bin(O.MULTIPLY, a.b.convert(x[0], U64), _PHILOX_M[0])
        p1 = a.bin(O.MULTIPLY, a.b.convert(x[2], U64), _PHILOX_M[1])
        x = [a.xor(a.xor(a.hi32(p1), x[1]), k0), a.lo32(p1), a.xor(a.xor(a.hi32(p0), x[3]), k1), a.lo32(p0)]
        k0, k1 = a.add(k0, _PHILOX_W[0]), a.add(k1, _PHILOX_W[1])
    return x


# (arith, key, state, dims, wide) -> (the state after the key, the bits as u32 or u64 (wide))
Generator = Callable[[_Arith, Instruction, Instruction, tuple[int, ...], bool], tuple[list[Instruction], Instruction]]


def _threefry(a: _Arith, key: Instruction, state: Instruction, dims: tuple[int, ...],
              wide: bool) -> tuple[list[Instruction], Instruction]:
    b = a.b
    k0, k1 = a.lo32(key), a.hi32(key)
    start = a.word(state, 1)
    if wide:
        ctr = a.add(a.positions(dims), start)
        o0, o1 = threefry2x32(a, a.lo32(ctr), a.hi32(ctr), k0, k1)
        return [b.reshape(a.add(start, prod(dims)), (1,))], a.u64(o0, o1)
    half, split = split_halves(dims)
    # Element p along the split dimension is word p % 2 of counter p // 2 (prng.cc concatenates
    # the two words' halves along a new dimension after it); one Threefry call per element.
    ctr = a.add(a.positions(dims, split), start)
    o0, o1 = threefry2x32(a, a.lo32(ctr), a.hi32(ctr), k0, k1)
    bits = o0 if split < 0 else a.pick(a.bin(O.AND, a.iota(U64, dims, split), 1), [o0, o1])
    return [b.reshape(a.add(start, prod(half)), (1,))], bits


def _philox(a: _Arith, key: Instruction, state: Instruction, dims: tuple[int, ...],
            wide: bool) -> tuple[list[Instruction], Instruction]:
    b = a.b
    words = state.shape.dims[0]
    lo, hi = a.word(state, 1), a.word(state, 2 if words >= 3 else 0)
    n = prod(dims)
    per_block = 2 if wide else 4  # numbers of a 128-bit block
    m = (n + per_block - 1) // per_block
    # Element q is number q % per_block of block q // per_block, counted from (hi:lo); the high
    # word carries where the low one wraps. One Philox call per element.
    pos = a.positions(dims)
    ctr_lo = a.add(a.bin(O.SHIFT_RIGHT_LOGICAL, pos, per_block.bit_length() - 1), lo)
    wrapped = b.compare(ctr_lo, b.broadcast(lo, dims), "LT")
    ctr_hi = b.op(O.SELECT, wrapped, b.broadcast(a.add(hi, 1), dims), b.broadcast(hi, dims))
    x = philox4x32(a, [a.lo32(ctr_lo), a.hi32(ctr_lo), a.lo32(ctr_hi), a.hi32(ctr_hi)], a.lo32(key), a.hi32(key))
    numbers = [a.u64(x[0], x[1]), a.u64(x[2], x[3])] if wide else x
    bits = a.pick(a.bin(O.AND, pos, per_block - 1), numbers)
    end_lo = a.add(lo, m)
    end_hi = b.op(O.SELECT, b.compare(end_lo, lo, "LT"), a.add(hi, 1), hi)
    return [b.reshape(end_lo, (1,)), b.reshape(end_hi, (1,))][:words - 1], bits


GENERATORS: dict[str, Generator] = {
    "rng_three_fry": _threefry,
    "rng_philox": _philox,
}


def expandable(instr: Instruction) -> bool:
    """A known algorithm on a state XLA takes for it, drawing numbers of 8 to 64 bits (the
    interpreter refuses other states by name; 4-bit numbers it draws itself)."""
    state = instr.operands[0].shape
    data = instr.shape.tuple_shapes[1] if instr.shape.tuple_shapes else None
    alg = rng_algorithm(instr)
    if data is None or data.dtype is None or alg not in GENERATORS or state.dtype != U64:
        return False
    return (state.dims[0] in RNG_STATE_WORDS[alg] and data.dtype.kind in "usf"
            and data.dtype.bits in (8, 16, 32, 64))


def _expand(b: ComputationBuilder, instr: Instruction) -> Instruction:
    a = _Arith(b)
    state = instr.operands[0]
    data = instr.shape.elements[1]
    dt: DType = data.element_type
    dims = data.dims
    if data.size == 0:  # nothing drawn, the counter stays
        zero = b.constant(0, dt)
        return b.tuple(state, b.broadcast(zero, dims))
    key = a.word(state, 0)
    wide = dt.bits == 64
    new, bits = GENERATORS[rng_algorithm(instr)](a, key, state, dims, wide)
    if dt.bits < 32:
        bits = b.convert(bits, dtype(f"u{dt.bits}"))  # the low bits of each 32-bit word
    if bits.shape.element_type != dt:
        bits = b.op(O.BITCAST_CONVERT, bits, shape=bits.shape.with_dtype(dt))
    new_state = b.op(O.CONCATENATE, b.reshape(key, (1,)), *new, dimensions=(0,))
    return b.tuple(new_state, bits)


def expand_rng_bit_generators(module: Module) -> bool:
    """Replaces every expandable rng-bit-generator by its expansion; others stay as they are."""
    names: Names | None = None
    changed = False
    for comp in module.computations:
        for instr in [i for i in comp.instructions if i.opcode is O.RNG_BIT_GENERATOR and expandable(i)]:
            if names is None:
                names = Names(i.name for c in module.computations for i in c.instructions)
            _replace(comp, instr, names)
            changed = True
    return changed


def _replace(comp: Computation, instr: Instruction, names: Names) -> None:
    b = ComputationBuilder(names, comp.name)
    b.metadata = instr.metadata
    b.line, b.column = instr.line, instr.column
    result = _expand(b, instr)
    pos = comp.instructions.index(instr)
    comp.instructions[pos:pos] = b.instructions
    replace_uses(comp, instr, result)
    comp.instructions.remove(instr)
    topological_sort(comp)
