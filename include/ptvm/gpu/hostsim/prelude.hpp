// host-sim prelude: CUDA's device built-ins for kernels compiled by the HOST compiler.
//
// Included (through ptvm/gpu/device.hpp) only by kernel translation units built for host-sim, never
// by ordinary host code: it defines macros such as threadIdx and __global__.
//
// Model (DESIGN.md "host-sim"): every CUDA thread of a block is a Boost.Fiber; the fibers of one
// block run on one host thread and are picked in a seeded random order after every barrier, so a
// missing __syncthreads() shows up as a wrong result. __syncthreads() is a barrier among the block's
// live fibers, warp collectives a barrier among the 32 fibers of a warp with a per-warp exchange
// buffer. Shared memory is a per-block arena. Atomics act on host atomics. A barrier that can never
// complete (threads waiting at different barriers) aborts the block with a launch error instead of
// hanging. Warp collectives assume that every live lane of the warp takes part (full mask).
#pragma once
#if !defined(PTVM_HOSTSIM)
#error "ptvm/gpu/hostsim/prelude.hpp is for host-sim builds (PTVM_HOSTSIM) only"
#endif

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ptvm/gpu/config.hpp"

struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};
struct alignas(8) uint2 {
  unsigned x, y;
};
struct alignas(16) uint4 {
  unsigned x, y, z, w;
};

namespace ptvm::hostsim {

struct BlockState;

// What one fiber (one CUDA thread) knows about itself.
struct ThreadState {
  uint3 thread_idx;
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
  unsigned linear = 0;  // x + y * bx + z * bx * by, as CUDA linearizes threads into warps
  unsigned lane = 0;
  unsigned warp = 0;
  BlockState* block = nullptr;
};
// The fiber running on this host thread (re-set by every fiber when it resumes).
extern thread_local ThreadState* tls_thread;

void syncthreads();
void syncwarp();
// Every live lane of the warp passes `mine`; returns the value passed by `src_lane`.
uint64_t warp_shuffle_bits(uint64_t mine, unsigned src_lane);
// Bit l set when lane l passed a true predicate.
unsigned warp_ballot(bool predicate);
void* static_shared(const void* tag, size_t bytes, size_t alignment);
void* dynamic_shared();

struct LaunchRequest {
  const char* kernel;
  const char* file;
  int line;
  dim3 grid, block;
  size_t dynamic_shared_bytes;
  void (*invoke)(const void* closure);
  const void* closure;
  ::ptvm::gpu::stream_t stream = nullptr;  // counted per stream by the profile
};
// Runs the whole grid before returning (streams are synchronous). Errors are reported through
// ptvm::gpu::check_last_launch, as on CUDA.
void launch(const LaunchRequest& request);

template <class... Params>
struct Launcher {
  void (*kernel)(Params...);
  LaunchRequest request;

  template <class... Args>
  void operator()(Args&&... args) const {
    static_assert(sizeof...(Args) == sizeof...(Params), "wrong number of kernel arguments");
    struct Closure {
      void (*kernel)(Params...);
      std::tuple<std::decay_t<Params>...> args;
    };
    // Converted once, like the argument buffer of a real launch; each thread gets its own copy.
    Closure closure{kernel, std::tuple<std::decay_t<Params>...>(std::forward<Args>(args)...)};
    LaunchRequest r = request;
    r.closure = &closure;
    r.invoke = [](const void* p) {
      const Closure* c = static_cast<const Closure*>(p);
      std::apply(c->kernel, c->args);
    };
    launch(r);
  }
};

template <class... Params>
Launcher<Params...> make_launcher(void (*kernel)(Params...), const char* name, dim3 grid,
                                  dim3 block, size_t smem, ::ptvm::gpu::stream_t stream,
                                  const char* file, int line) {
  return Launcher<Params...>{kernel, LaunchRequest{name, file, line, grid, block, smem, nullptr,
                                                   nullptr, stream}};
}

template <class T>
inline uint64_t to_bits(T v) {
  static_assert(std::is_arithmetic_v<T> && sizeof(T) <= 8,
                "CUDA shuffles take arithmetic values of at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  return bits;
}
template <class T>
inline T from_bits(uint64_t bits) {
  T v;
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}

}  // namespace ptvm::hostsim

// ---- CUDA's names -------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define threadIdx (::ptvm::hostsim::tls_thread->thread_idx)
#define blockIdx (::ptvm::hostsim::tls_thread->block_idx)
#define blockDim (::ptvm::hostsim::tls_thread->block_dim)
#define gridDim (::ptvm::hostsim::tls_thread->grid_dim)
#define warpSize 32

inline void __syncthreads() { ::ptvm::hostsim::syncthreads(); }
inline void __syncwarp(unsigned /*mask*/ = 0xffffffffu) { ::ptvm::hostsim::syncwarp(); }
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }

template <class T>
inline T __shfl_sync(unsigned /*mask*/, T var, int src_lane, int width = 32) {
  unsigned lane = ::ptvm::hostsim::tls_thread->lane;
  unsigned src = (lane & ~unsigned(width - 1)) + (unsigned(src_lane) & unsigned(width - 1));
  return ::ptvm::hostsim::from_bits<T>(
      ::ptvm::hostsim::warp_shuffle_bits(::ptvm::hostsim::to_bits(var), src));
}
template <class T>
inline T __shfl_xor_sync(unsigned /*mask*/, T var, int lane_mask, int width = 32) {
  unsigned lane = ::ptvm::hostsim::tls_thread->lane;
  unsigned src = lane ^ unsigned(lane_mask);
  // A source outside the caller's width-segment yields the caller's own value, as on CUDA.
  if ((src & ~unsigned(width - 1)) != (lane & ~unsigned(width - 1))) src = lane;
  return ::ptvm::hostsim::from_bits<T>(
      ::ptvm::hostsim::warp_shuffle_bits(::ptvm::hostsim::to_bits(var), src));
}
template <class T>
inline T __shfl_down_sync(unsigned /*mask*/, T var, unsigned delta, int width = 32) {
  unsigned lane = ::ptvm::hostsim::tls_thread->lane;
  unsigned src = (lane % unsigned(width)) + delta < unsigned(width) ? lane + delta : lane;
  return ::ptvm::hostsim::from_bits<T>(
      ::ptvm::hostsim::warp_shuffle_bits(::ptvm::hostsim::to_bits(var), src));
}
template <class T>
inline T __shfl_up_sync(unsigned /*mask*/, T var, unsigned delta, int width = 32) {
  unsigned lane = ::ptvm::hostsim::tls_thread->lane;
  unsigned src = (lane % unsigned(width)) >= delta ? lane - delta : lane;
  return ::ptvm::hostsim::from_bits<T>(
      ::ptvm::hostsim::warp_shuffle_bits(::ptvm::hostsim::to_bits(var), src));
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  return ::ptvm::hostsim::warp_ballot(predicate != 0) & mask;
}
inline int __any_sync(unsigned mask, int predicate) {
  return (::ptvm::hostsim::warp_ballot(predicate != 0) & mask) != 0;
}
inline int __all_sync(unsigned mask, int predicate) {
  return (::ptvm::hostsim::warp_ballot(predicate == 0) & mask) == 0;
}

// Integer intrinsics (host versions of what nvcc provides as built-ins).
inline unsigned __umulhi(unsigned a, unsigned b) {
  return static_cast<unsigned>((static_cast<uint64_t>(a) * b) >> 32);
}
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return static_cast<unsigned long long>((static_cast<unsigned __int128>(a) * b) >> 64);
}
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(unsigned x) { return x == 0 ? 32 : __builtin_clz(x); }
inline int __ffs(unsigned x) { return __builtin_ffs(static_cast<int>(x)); }
inline unsigned __brev(unsigned x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
  x = ((x >> 8) & 0x00ff00ffu) | ((x & 0x00ff00ffu) << 8);
  return (x >> 16) | (x << 16);
}

// Atomics with CUDA's signatures, on host atomics (blocks may run on several host threads).
#define PTVM_HOSTSIM_ATOMICS(T)                                                          \
  inline T atomicAdd(T* a, T v) { return std::atomic_ref<T>(*a).fetch_add(v); }          \
  inline T atomicSub(T* a, T v) { return std::atomic_ref<T>(*a).fetch_sub(v); }          \
  inline T atomicExch(T* a, T v) { return std::atomic_ref<T>(*a).exchange(v); }          \
  inline T atomicOr(T* a, T v) { return std::atomic_ref<T>(*a).fetch_or(v); }            \
  inline T atomicAnd(T* a, T v) { return std::atomic_ref<T>(*a).fetch_and(v); }          \
  inline T atomicXor(T* a, T v) { return std::atomic_ref<T>(*a).fetch_xor(v); }          \
  inline T atomicCAS(T* a, T compare, T v) {                                             \
    std::atomic_ref<T>(*a).compare_exchange_strong(compare, v);                          \
    return compare;                                                                      \
  }                                                                                      \
  inline T atomicMin(T* a, T v) {                                                        \
    std::atomic_ref<T> r(*a);                                                            \
    T old = r.load();                                                                    \
    while (v < old && !r.compare_exchange_weak(old, v)) {                                \
    }                                                                                    \
    return old;                                                                          \
  }                                                                                      \
  inline T atomicMax(T* a, T v) {                                                        \
    std::atomic_ref<T> r(*a);                                                            \
    T old = r.load();                                                                    \
    while (v > old && !r.compare_exchange_weak(old, v)) {                                \
    }                                                                                    \
    return old;                                                                          \
  }
PTVM_HOSTSIM_ATOMICS(int)
PTVM_HOSTSIM_ATOMICS(unsigned)
PTVM_HOSTSIM_ATOMICS(unsigned long long)
#undef PTVM_HOSTSIM_ATOMICS
