// Runs generated CUDA C on the host CPU, for tests on machines without a GPU.
//
// Compiled with g++ in front of xm_device.cuh and a generated module. A launch runs its blocks
// one after another. Kernels that never synchronize run each thread as a plain call; kernels
// with __syncthreads or warp shuffles run each thread of a block as a fiber (ucontext) that
// yields at every barrier, so a block behaves as on the device: shared memory is per block
// (`__shared__` is `static`, and only one block runs at a time), a barrier waits for every live
// thread of its block (or warp), and a barrier that some threads never reach is reported as a
// deadlock instead of hanging.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)

struct dim3 {
    unsigned x, y, z;
};

// CUDA's built-in vector types, as the vectorized loop kernels use them.
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(16) int4 { int x, y, z, w; };
struct alignas(16) uint4 { unsigned x, y, z, w; };
static inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
static inline int4 make_int4(int x, int y, int z, int w) { return int4{x, y, z, w}; }
static inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }

struct xm_fiber {
    dim3 tid;
    int lin, done;
    ucontext_t ctx;
    char* stack;
};

static const size_t XM_STACK = 128 * 1024;

static struct {
    dim3 grid, block, bid;
    int n, fibers, cap;
    xm_fiber* th;
    xm_fiber* cur;
    ucontext_t main;
    void (*fn)(void*);
    void* arg;
    int live, bar_count;
    unsigned long bar_gen;
    int wlive[32], wcount[32];
    unsigned long wgen[32];
    unsigned long long slot[1024];
    long progress;
    char error[512];
} xm_s;

#define threadIdx (xm_s.cur->tid)
#define blockIdx (xm_s.bid)
#define blockDim (xm_s.block)
#define gridDim (xm_s.grid)
#define warpSize 32

static void xm_fail(const char* what) {
    if (!xm_s.error[0]) snprintf(xm_s.error, sizeof xm_s.error, "%s", what);
}

static inline void xm_yield() { swapcontext(&xm_s.cur->ctx, &xm_s.main); }

static void xm_barrier_block() {
    if (!xm_s.fibers) { xm_fail("__syncthreads in a kernel launched as non-cooperative"); return; }
    unsigned long g = xm_s.bar_gen;
    xm_s.progress++;
    if (++xm_s.bar_count == xm_s.live) { xm_s.bar_count = 0; xm_s.bar_gen++; return; }
    while (xm_s.bar_gen == g && !xm_s.error[0]) xm_yield();
}

static void xm_barrier_warp() {
    if (!xm_s.fibers) { xm_fail("warp shuffle in a kernel launched as non-cooperative"); return; }
    int w = xm_s.cur->lin / 32;
    unsigned long g = xm_s.wgen[w];
    xm_s.progress++;
    if (++xm_s.wcount[w] == xm_s.wlive[w]) { xm_s.wcount[w] = 0; xm_s.wgen[w]++; return; }
    while (xm_s.wgen[w] == g && !xm_s.error[0]) xm_yield();
}

static inline void __syncthreads() { xm_barrier_block(); }
static inline void __syncwarp(unsigned = 0xffffffffu) { xm_barrier_warp(); }

template <class T> static T xm_exchange(T v, int src_lane, bool ok) {
    int lin = xm_s.cur->lin, base = lin & ~31;
    memcpy(&xm_s.slot[lin], &v, sizeof(T));
    xm_barrier_warp();
    T r = v;
    if (ok && base + src_lane < xm_s.n) memcpy(&r, &xm_s.slot[base + src_lane], sizeof(T));
    xm_barrier_warp();
    return r;
}
template <class T> static T __shfl_down_sync(unsigned, T v, int d) {
    int lane = xm_s.cur->lin & 31;
    return xm_exchange(v, lane + d, lane + d < 32);
}
template <class T> static T __shfl_xor_sync(unsigned, T v, int m) { return xm_exchange(v, (xm_s.cur->lin & 31) ^ m, true); }
template <class T> static T __shfl_sync(unsigned, T v, int src) { return xm_exchange(v, src & 31, true); }

// One host thread runs everything: atomics are plain read-modify-writes.
template <class T> static T atomicCAS(T* p, T cmp, T val) { T old = *p; if (old == cmp) *p = val; return old; }
template <class T> static T atomicAdd(T* p, T v) { T old = *p; *p = old + v; return old; }

static inline unsigned __float_as_uint(float x) { unsigned u; memcpy(&u, &x, 4); return u; }
static inline float __uint_as_float(unsigned u) { float x; memcpy(&x, &u, 4); return x; }
static inline long long __double_as_longlong(double x) { long long u; memcpy(&u, &x, 8); return u; }
static inline double __longlong_as_double(long long u) { double x; memcpy(&x, &u, 8); return x; }
static inline int __popc(unsigned x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
static inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
template <class T> static inline T __ldg(const T* p) { return *p; }

static void xm_fiber_main() {
    xm_s.fn(xm_s.arg);
    xm_fiber* f = xm_s.cur;
    f->done = 1;
    xm_s.progress++;
    // A thread that exits no longer holds back its block's or its warp's barrier.
    xm_s.live--;
    if (xm_s.bar_count > 0 && xm_s.bar_count == xm_s.live) { xm_s.bar_count = 0; xm_s.bar_gen++; }
    int w = f->lin / 32;
    xm_s.wlive[w]--;
    if (xm_s.wcount[w] > 0 && xm_s.wcount[w] == xm_s.wlive[w]) { xm_s.wcount[w] = 0; xm_s.wgen[w]++; }
}

static void xm_set_tid(xm_fiber* f, int lin) {
    f->lin = lin;
    f->tid.x = lin % xm_s.block.x;
    f->tid.y = (lin / xm_s.block.x) % xm_s.block.y;
    f->tid.z = lin / (xm_s.block.x * xm_s.block.y);
}

static void xm_run_block() {
    int n = xm_s.n;
    if (!xm_s.fibers) {
        xm_fiber f;
        xm_s.cur = &f;
        for (int t = 0; t < n && !xm_s.error[0]; t++) {
            xm_set_tid(&f, t);
            xm_s.fn(xm_s.arg);
        }
        return;
    }
    xm_s.live = n;
    xm_s.bar_count = 0;
    for (int w = 0; w < 32; w++) {
        xm_s.wcount[w] = 0;
        xm_s.wlive[w] = n - 32 * w < 0 ? 0 : (n - 32 * w > 32 ? 32 : n - 32 * w);
    }
    for (int t = 0; t < n; t++) {
        xm_fiber* f = &xm_s.th[t];
        xm_set_tid(f, t);
        f->done = 0;
        getcontext(&f->ctx);
        f->ctx.uc_stack.ss_sp = f->stack;
        f->ctx.uc_stack.ss_size = XM_STACK;
        f->ctx.uc_link = &xm_s.main;
        makecontext(&f->ctx, xm_fiber_main, 0);
    }
    for (;;) {
        long before = xm_s.progress;
        int running = 0;
        for (int t = 0; t < n; t++) {
            if (xm_s.th[t].done) continue;
            running = 1;
            xm_s.cur = &xm_s.th[t];
            swapcontext(&xm_s.main, &xm_s.th[t].ctx);
        }
        if (!running || xm_s.error[0]) return;
        if (xm_s.progress == before) {
            xm_fail("deadlock: a barrier that some threads of the block never reach");
            // Let every waiting fiber see the error and return, so none is left mid-kernel.
            for (int t = 0; t < n; t++)
                if (!xm_s.th[t].done) { xm_s.cur = &xm_s.th[t]; swapcontext(&xm_s.main, &xm_s.th[t].ctx); }
            return;
        }
    }
}

// Runs `fn(arg)` as a kernel over the grid; returns 0, or 1 with the reason in xm_error().
static int xm_launch(void (*fn)(void*), void* arg, dim3 grid, dim3 block, int cooperative) {
    xm_s.error[0] = 0;
    xm_s.fn = fn;
    xm_s.arg = arg;
    xm_s.grid = grid;
    xm_s.block = block;
    xm_s.n = (int)(block.x * block.y * block.z);
    xm_s.fibers = cooperative;
    if (xm_s.n > 1024) { xm_fail("more than 1024 threads in a block"); return 1; }
    if (cooperative && xm_s.cap < xm_s.n) {
        xm_s.th = (xm_fiber*)realloc(xm_s.th, sizeof(xm_fiber) * xm_s.n);
        for (int t = xm_s.cap; t < xm_s.n; t++) xm_s.th[t].stack = (char*)malloc(XM_STACK);
        xm_s.cap = xm_s.n;
    }
    for (unsigned z = 0; z < grid.z; z++)
        for (unsigned y = 0; y < grid.y; y++)
            for (unsigned x = 0; x < grid.x; x++) {
                xm_s.bid.x = x; xm_s.bid.y = y; xm_s.bid.z = z;
                xm_run_block();
                if (xm_s.error[0]) return 1;
            }
    return 0;
}

extern "C" const char* xm_error() { return xm_s.error; }
