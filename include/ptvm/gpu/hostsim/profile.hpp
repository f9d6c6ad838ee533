// host-sim profile counters: what a GPU profiler would report, counted from the global-memory
// accesses that kernels make through gptr<T>.
//
// Model: the k-th global access of each of a warp's 32 lanes forms one request (one warp-wide
// load or store instruction on a GPU); its cost is the number of distinct 32-byte sectors its lanes
// touch. A lane's load of an element (<= 16 bytes) it loaded within its last 1024 accesses, with no
// store of its own to it and no barrier (__syncthreads, __syncwarp, a warp shuffle) since, is no
// access: the compiler keeps the value in a register (or L1 serves it), as when an AIR reads one
// column in several constraints. A kernel's bytes are sectors * 32 summed over requests; its
// modeled H100 time is
// bytes / 3.35 TB/s (HBM3 bandwidth), i.e. every sector goes to DRAM. Caches are not modeled, so a
// value that many warps re-read (a twiddle) is charged each time: the figure is an upper bound on
// DRAM traffic when the re-reads hit L2. Compute time is not modeled.
//
// Turn it on with the environment variable PTVM_HOSTSIM_PROFILE=1 (a table is printed to stderr at
// exit) or with set_profiling(true).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ptvm::hostsim {

inline constexpr double kH100BytesPerSecond = 3.35e12;

struct KernelProfile {
  std::string name;
  uint64_t launches = 0;
  uint64_t load_requests = 0;
  uint64_t store_requests = 0;
  uint64_t sectors = 0;          // 32-byte sectors over all requests
  uint64_t requested_bytes = 0;  // bytes the lanes asked for (<= sectors * 32)
  // Integer operations the launcher declared for compute-bound kernels (BLAKE2s: ~1200 per
  // compression), 0 for the others (declare_kernel_ops).
  uint64_t ops = 0;
  uint64_t requests() const { return load_requests + store_requests; }
  uint64_t bytes() const { return sectors * 32; }
  double sectors_per_request() const {
    return requests() ? static_cast<double>(sectors) / static_cast<double>(requests()) : 0.0;
  }
  double modeled_seconds() const { return static_cast<double>(bytes()) / kH100BytesPerSecond; }
};

// A StageScope (ptvm/gpu/runtime.hpp): the kernels launched inside it, against the fewest bytes the
// stage must move.
struct StageProfile {
  std::string name;
  uint64_t scopes = 0;
  uint64_t launches = 0;
  uint64_t bytes = 0;
  uint64_t min_bytes = 0;
  double modeled_seconds() const { return static_cast<double>(bytes) / kH100BytesPerSecond; }
  double min_seconds() const { return static_cast<double>(min_bytes) / kH100BytesPerSecond; }
};

// Host <-> device copies while profiling (every download is synchronous: one host round trip).
// Pinned bytes: copied from or into pinned host memory (ptvm::gpu::pinned_malloc).
struct TransferProfile {
  uint64_t h2d_copies = 0, h2d_bytes = 0, h2d_pinned_bytes = 0;
  uint64_t d2h_copies = 0, d2h_bytes = 0, d2h_pinned_bytes = 0;
};
TransferProfile transfer_profile();

// What the runtime did on one stream while profiling. The legacy default stream is "default"
// (id 0); ptvm::gpu::Stream(name) names the others (ids in creation order).
struct StreamProfile {
  std::string name;
  uint64_t id = 0;
  uint64_t launches = 0;
  uint64_t h2d_copies = 0, h2d_bytes = 0, h2d_pinned_bytes = 0;
  uint64_t d2h_copies = 0, d2h_bytes = 0, d2h_pinned_bytes = 0;
  uint64_t d2d_copies = 0, memsets = 0;
  uint64_t synchronizations = 0;  // host waits for the whole stream (Stream::synchronize, synchronize())
  uint64_t event_records = 0;     // Event::record on it
  uint64_t event_waits = 0;       // stream_wait_event on it (device-side waits, the host goes on)
  uint64_t pool_allocations = 0;  // device_malloc_async on it (served from the cache or not)
  uint64_t uses() const {
    return launches + h2d_copies + d2h_copies + d2d_copies + memsets + synchronizations + event_records +
           event_waits + pool_allocations;
  }
};

// Allocations and synchronisations of the runtime while profiling, and the streams' counters.
struct RuntimeProfile {
  uint64_t device_synchronizations = 0;  // ptvm::gpu::device_synchronize (cudaDeviceSynchronize)
  uint64_t event_synchronizations = 0;   // host waits on one event (Event::synchronize)
  // New device memory: device_malloc, and device_malloc_async the pool could not serve from its
  // cache (cudaMalloc / the pool growing on CUDA).
  uint64_t device_allocations = 0, device_allocated_bytes = 0;
  uint64_t pool_reuses = 0;  // device_malloc_async served from memory the pool cached
  uint64_t device_frees = 0;  // device_free (cudaFree: synchronises the device on CUDA)
  uint64_t pinned_allocations = 0, pinned_allocated_bytes = 0;
  std::vector<StreamProfile> streams;  // by id, the default stream first
  // The stream of that name with the most uses, or nullptr.
  const StreamProfile* stream(const std::string& name) const;
};
RuntimeProfile runtime_profile();

// A launcher's declaration of a compute-bound kernel's work (added to its KernelProfile::ops).
void declare_kernel_ops(const char* kernel, uint64_t ops);
// Integer operations of one BLAKE2s compression: 10 rounds x 8 G functions x 14 (adds, xors,
// rotates) plus message scheduling, rounded up.
inline constexpr uint64_t kBlake2sCompressionOps = 1200;
// One BLAKE2b compression: 12 rounds x 8 G functions of 64-bit adds, xors and rotates (each about
// two 32-bit operations), plus message scheduling, rounded up.
inline constexpr uint64_t kBlake2bCompressionOps = 3072;
// One F128 Montgomery multiplication (ptvm/field/f128.hpp): the 256-bit product of 16 32x32-bit
// partial products (lo and hi: 32 multiply-adds), the reduction as much again, carries; rounded.
// The F128 kernels declare their multiplications times this (additions not counted).
inline constexpr uint64_t kF128MulOps = 80;

void set_profiling(bool on);
bool profiling();
void reset_profile();
std::vector<KernelProfile> kernel_profiles();  // sorted by name
std::vector<StageProfile> stage_profiles();    // sorted by name
std::string format_profile();                   // the table printed at exit

// Seed of the fiber shuffle (default 1, or the environment variable PTVM_HOSTSIM_SEED).
void set_seed(uint64_t seed);
uint64_t seed();

}  // namespace ptvm::hostsim
