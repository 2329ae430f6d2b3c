// xla_magic device helpers, prepended to every generated CUDA module.
//
// XLA's semantics where C's differ (shared/XLA_SEMANTICS.md): integer division by zero, shifts
// past the width, NaN-propagating max/min, saturating float->int converts, IEEE total order,
// f16/bf16 kept in f32 registers and rounded after every op. No #include: NVRTC compiles this
// with no CUDA headers on its path, and the host test build (xm_host.h) defines what differs.

typedef unsigned char xm_u8;
typedef unsigned short xm_u16;
typedef unsigned long long xm_u64;

// --- bits ------------------------------------------------------------------------------------
__device__ __forceinline__ unsigned xm_fbits(float x) { return __float_as_uint(x); }
__device__ __forceinline__ float xm_bitsf(unsigned b) { return __uint_as_float(b); }
__device__ __forceinline__ long long xm_dbits(double x) { return __double_as_longlong(x); }
__device__ __forceinline__ double xm_bitsd(long long b) { return __longlong_as_double(b); }

// --- f16 and bf16: storage is the 16 bits, arithmetic is f32 ---------------------------------
#if defined(__CUDA_ARCH__)
__device__ __forceinline__ xm_u16 xm_f2h(float x) { xm_u16 r; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(r) : "f"(x)); return r; }
__device__ __forceinline__ float xm_h2f(xm_u16 h) { float r; asm("cvt.f32.f16 %0, %1;" : "=f"(r) : "h"(h)); return r; }
#else
// Round to nearest even, subnormals kept, overflow to inf, NaN stays NaN (host build only).
static inline xm_u16 xm_f2h(float x) {
    unsigned u = xm_fbits(x), sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (xm_u16)(sign | 0x7e00u);
    if (a >= 0x477ff000u) return (xm_u16)(sign | 0x7c00u);  // rounds to >= 65520: inf
    if (a < 0x38800000u) {  // below the smallest normal half: a subnormal (or zero)
        if (a < 0x33000000u) return (xm_u16)sign;
        // value = m * 2^(e-150), and a half subnormal counts units of 2^-24: m >> (126 - e)
        unsigned e = a >> 23, m = (a & 0x7fffffu) | 0x800000u, shift = 126 - e;
        unsigned q = m >> shift, r = m & ((1u << shift) - 1);
        unsigned half = 1u << (shift - 1);
        if (r > half || (r == half && (q & 1))) q++;
        return (xm_u16)(sign | q);
    }
    unsigned r = a + 0xc8000fffu + ((a >> 13) & 1);  // rebias exponent by -112<<23, round to even
    return (xm_u16)(sign | (r >> 13));
}
static inline float xm_h2f(xm_u16 h) {
    unsigned sign = (unsigned)(h & 0x8000u) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e == 0) {
        float v = (float)m * 5.9604644775390625e-08f;  // m * 2^-24, exact
        return sign ? -v : v;
    }
    if (e == 31) return xm_bitsf(sign | 0x7f800000u | (m << 13));
    return xm_bitsf(sign | ((e + 112) << 23) | (m << 13));
}
#endif
__device__ __forceinline__ xm_u16 xm_f2bf(float x) {
    unsigned b = xm_fbits(x);
    if (x != x) return (xm_u16)((b >> 16) | 0x40u);
    return (xm_u16)((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
}
__device__ __forceinline__ float xm_bf2f(xm_u16 h) { return xm_bitsf((unsigned)h << 16); }
__device__ __forceinline__ float xm_rh(float x) { return xm_h2f(xm_f2h(x)); }
__device__ __forceinline__ float xm_rbf(float x) { return xm_bf2f(xm_f2bf(x)); }

// --- floats ----------------------------------------------------------------------------------
// maximum/minimum: NaN from either side; -0 < +0.
template <class F> __device__ __forceinline__ F xm_fmax(F a, F b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a > b) return a;
    if (b > a) return b;
    return signbit(a) ? b : a;
}
template <class F> __device__ __forceinline__ F xm_fmin(F a, F b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a < b) return a;
    if (b < a) return b;
    return signbit(a) ? a : b;
}
// +-0 and NaN are their own sign; denormals read as +-0 (XLA:CPU's DAZ, and the interpreter's).
__device__ __forceinline__ float xm_tiny(float) { return 1.17549435e-38f; }
__device__ __forceinline__ double xm_tiny(double) { return 2.2250738585072014e-308; }
template <class F> __device__ __forceinline__ F xm_fsign(F x) {
  return x >= xm_tiny(x) ? (F)1 : (x <= -xm_tiny(x) ? (F)-1 : x * (F)0);
}
__device__ __forceinline__ bool xm_finite(float x) { return fabsf(x) <= 3.402823466e38f; }
__device__ __forceinline__ bool xm_finite(double x) { return fabs(x) <= 1.7976931348623157e308; }
__device__ __forceinline__ float xm_logistic(float x) { return 1.0f / (1.0f + expf(-x)); }
__device__ __forceinline__ double xm_logistic(double x) { return 1.0 / (1.0 + exp(-x)); }
__device__ __forceinline__ float xm_rsqrt(float x) { return 1.0f / sqrtf(x); }
__device__ __forceinline__ double xm_rsqrt(double x) { return 1.0 / sqrt(x); }
// IEEE totalOrder as a signed integer: -NaN < -inf < ... < -0 < +0 < ... < inf < NaN.
__device__ __forceinline__ int xm_tokey(float x) { int b = (int)xm_fbits(x); return b < 0 ? b ^ 0x7fffffff : b; }
__device__ __forceinline__ long long xm_tokey(double x) {
    long long b = xm_dbits(x); return b < 0 ? b ^ 0x7fffffffffffffffLL : b;
}

// --- integers --------------------------------------------------------------------------------
template <class T> struct xm_lim;
#define XM_LIM(T, LO, HI) template <> struct xm_lim<T> { static __device__ __forceinline__ T lo() { return LO; } \
    static __device__ __forceinline__ T hi() { return HI; } };
XM_LIM(signed char, -128, 127)
XM_LIM(short, -32768, 32767)
XM_LIM(int, (-2147483647 - 1), 2147483647)
XM_LIM(long long, (-9223372036854775807LL - 1), 9223372036854775807LL)
XM_LIM(unsigned char, 0, 255)
XM_LIM(unsigned short, 0, 65535)
XM_LIM(unsigned, 0u, 4294967295u)
XM_LIM(unsigned long long, 0ull, 18446744073709551615ull)
#undef XM_LIM

// Signed division: x/0 = -1, INT_MIN/-1 = INT_MIN (truncating otherwise).
template <class T> __device__ __forceinline__ T xm_sdiv(T a, T b) {
    if (b == 0) return (T)-1;
    if (b == (T)-1 && a == xm_lim<T>::lo()) return a;
    return (T)(a / b);
}
template <class T> __device__ __forceinline__ T xm_srem(T a, T b) {
    if (b == 0) return a;
    if (b == (T)-1) return (T)0;
    return (T)(a % b);
}
template <class T> __device__ __forceinline__ T xm_udiv(T a, T b) { return b == 0 ? (T)~(T)0 : (T)(a / b); }
template <class T> __device__ __forceinline__ T xm_urem(T a, T b) { return b == 0 ? a : (T)(a % b); }
// Shifts: amounts at or past the width (negative ones are huge) give 0, or the sign for arithmetic.
template <class T, class U> __device__ __forceinline__ T xm_shl(T a, T n) {
    return (U)n >= (U)(8 * sizeof(T)) ? (T)0 : (T)((U)a << (U)n);
}
template <class T, class U> __device__ __forceinline__ T xm_shrl(T a, T n) {
    return (U)n >= (U)(8 * sizeof(T)) ? (T)0 : (T)((U)a >> (U)n);
}
template <class T, class U> __device__ __forceinline__ T xm_shra(T a, T n) {
    return (T)(a >> ((U)n >= (U)(8 * sizeof(T)) ? (U)(8 * sizeof(T) - 1) : (U)n));
}
// Integer power by squaring; negative exponents: 1 for 1, +-1 for -1, 0 otherwise.
template <class T, class U> __device__ __forceinline__ T xm_ipow(T x, T n, bool is_signed) {
    if (is_signed && n < (T)0) {
        if (x == (T)1) return (T)1;
        if (x == (T)-1) return (n & 1) ? (T)-1 : (T)1;
        return (T)0;
    }
    U acc = 1, base = (U)x, e = (U)n;
    while (e) { if (e & 1) acc *= base; base *= base; e >>= 1; }
    return (T)acc;
}
template <class T> __device__ __forceinline__ T xm_imax(T a, T b) { return a > b ? a : b; }
template <class T> __device__ __forceinline__ T xm_imin(T a, T b) { return a < b ? a : b; }
// Float to integer: truncate toward zero, saturate, NaN -> 0.
template <class I, class F> __device__ __forceinline__ I xm_f2i(F x) {
    if (x != x) return (I)0;
    if (x <= (F)xm_lim<I>::lo()) return xm_lim<I>::lo();
    if (x >= (F)xm_lim<I>::hi()) return xm_lim<I>::hi();
    return (I)x;
}
__device__ __forceinline__ int xm_popc(unsigned x) { return __popc(x); }
__device__ __forceinline__ int xm_popc(xm_u64 x) { return __popcll(x); }
__device__ __forceinline__ int xm_clz(unsigned x) { return __clz((int)x); }
__device__ __forceinline__ int xm_clz(xm_u64 x) { return __clzll((long long)x); }

// XLA's ReducePrecision on the bits: round the mantissa to nearest even, then flush exponents.
template <class I> __device__ __forceinline__ I xm_rp_bits(I bits, int ebits, int mbits, int mant, int expo) {
    if (mbits < mant) {
        I last = (I)1 << (mant - mbits), bias = (last >> 1) - 1;
        I last_bit = (bits & last) >> (mant - mbits);
        bits = (bits + last_bit + bias) & ~(last - 1);
    }
    if (ebits < expo) {
        I ebias = ((I)1 << (expo - 1)) - 1, rbias = ((I)1 << (ebits - 1)) - 1;
        I exp_mask = (((I)1 << expo) - 1) << mant, sign = (I)1 << (mant + expo);
        I x_exp = bits & exp_mask;
        if (x_exp > ((ebias + rbias) << mant)) bits = (bits & sign) | exp_mask;
        else if (x_exp <= ((ebias - rbias) << mant)) bits = bits & sign;
    }
    return bits;
}
__device__ __forceinline__ float xm_reduce_precision(float x, int ebits, int mbits) {
    if (x != x) return mbits > 0 ? x : xm_bitsf(0x7f800000u);
    return xm_bitsf(xm_rp_bits<unsigned>(xm_fbits(x), ebits, mbits, 23, 8));
}
__device__ __forceinline__ double xm_reduce_precision(double x, int ebits, int mbits) {
    if (x != x) return mbits > 0 ? x : xm_bitsd(0x7ff0000000000000LL);
    return xm_bitsd((long long)xm_rp_bits<xm_u64>((xm_u64)xm_dbits(x), ebits, mbits, 52, 11));
}

// --- warp reductions: shuffles of any value type --------------------------------------------
template <class T> __device__ __forceinline__ T xm_shfl_down(T v, int d) { return __shfl_down_sync(0xffffffffu, v, d); }
template <> __device__ __forceinline__ bool xm_shfl_down(bool v, int d) {
    return __shfl_down_sync(0xffffffffu, (int)v, d) != 0;
}
template <> __device__ __forceinline__ signed char xm_shfl_down(signed char v, int d) {
    return (signed char)__shfl_down_sync(0xffffffffu, (int)v, d);
}
template <> __device__ __forceinline__ short xm_shfl_down(short v, int d) {
    return (short)__shfl_down_sync(0xffffffffu, (int)v, d);
}
template <> __device__ __forceinline__ unsigned char xm_shfl_down(unsigned char v, int d) {
    return (unsigned char)__shfl_down_sync(0xffffffffu, (unsigned)v, d);
}
template <> __device__ __forceinline__ unsigned short xm_shfl_down(unsigned short v, int d) {
    return (unsigned short)__shfl_down_sync(0xffffffffu, (unsigned)v, d);
}
template <class T> __device__ __forceinline__ T xm_shfl0(T v) { return __shfl_sync(0xffffffffu, v, 0); }
template <> __device__ __forceinline__ bool xm_shfl0(bool v) { return __shfl_sync(0xffffffffu, (int)v, 0) != 0; }
template <> __device__ __forceinline__ signed char xm_shfl0(signed char v) {
    return (signed char)__shfl_sync(0xffffffffu, (int)v, 0);
}
template <> __device__ __forceinline__ short xm_shfl0(short v) { return (short)__shfl_sync(0xffffffffu, (int)v, 0); }
template <> __device__ __forceinline__ unsigned char xm_shfl0(unsigned char v) {
    return (unsigned char)__shfl_sync(0xffffffffu, (unsigned)v, 0);
}
template <> __device__ __forceinline__ unsigned short xm_shfl0(unsigned short v) {
    return (unsigned short)__shfl_sync(0xffffffffu, (unsigned)v, 0);
}
