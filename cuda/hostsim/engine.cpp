// host-sim engine: runs a kernel grid on Boost.Fiber (see ptvm/gpu/hostsim/prelude.hpp for the
// model). Blocks run one after another on the calling host thread; inside a block every CUDA thread
// is a fiber, scheduled by ShuffleScheduler in a seeded random order.
#include <algorithm>
#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/all.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "hostsim_internal.hpp"
#include "ptvm/gpu/device.hpp"

namespace ptvm::hostsim {

thread_local ThreadState* tls_thread = nullptr;
thread_local void* tls_access_log = nullptr;
thread_local std::string tls_last_launch_error;

namespace {

// splitmix64: a small, well-mixed generator; its state is all the scheduler needs to replay.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
uint64_t hash_string(const char* s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (; *s; ++s) h = (h ^ static_cast<unsigned char>(*s)) * 1099511628211ull;
  return h;
}

thread_local uint64_t tls_shuffle_state = 1;

// Picks the next fiber to run uniformly at random among the ready ones. All fibers of a block live
// on this host thread, so when nothing is ready nothing can ever become ready: that is a bug in the
// engine (barriers detect kernel deadlocks before they wait), reported and aborted, never a hang.
class ShuffleScheduler final : public boost::fibers::algo::algorithm {
 public:
  ShuffleScheduler() { ready_.reserve(2048); }
  void awakened(boost::fibers::context* ctx) noexcept override { ready_.push_back(ctx); }
  boost::fibers::context* pick_next() noexcept override {
    if (ready_.empty()) return nullptr;
    size_t i = splitmix64(tls_shuffle_state) % ready_.size();
    boost::fibers::context* ctx = ready_[i];
    ready_[i] = ready_.back();
    ready_.pop_back();
    return ctx;
  }
  bool has_ready_fibers() const noexcept override { return !ready_.empty(); }
  void suspend_until(std::chrono::steady_clock::time_point const& until) noexcept override {
    if (until == std::chrono::steady_clock::time_point::max()) {
      std::fprintf(stderr, "ptvm host-sim: internal error: no runnable fiber\n");
      std::abort();
    }
    std::this_thread::sleep_until(until);
  }
  void notify() noexcept override {}

 private:
  std::vector<boost::fibers::context*> ready_;
};

struct NoLock {  // all fibers of a block share one host thread: waits need no mutex
  void lock() {}
  void unlock() {}
};
struct AbortBlock {};  // unwinds a fiber whose block was aborted

constexpr size_t kFiberStackBytes = 64 * 1024;
constexpr size_t kMaxSharedBytes = 227 * 1024;  // H100: 227 KB of shared memory per block

}  // namespace

struct WarpState {
  unsigned live = 0;
  unsigned arrived = 0;
  uint64_t generation = 0;
  boost::fibers::condition_variable_any cv;
  uint64_t exchange[32] = {};
};

struct BlockState {
  const char* kernel = "";
  unsigned live = 0;     // threads that have not returned
  unsigned waiting = 0;  // threads blocked at any barrier
  unsigned arrived = 0;  // threads blocked at __syncthreads
  uint64_t generation = 0;
  boost::fibers::condition_variable_any cv;
  std::vector<std::unique_ptr<WarpState>> warps;
  bool aborted = false;
  std::string fault;
  std::vector<std::pair<const void*, std::unique_ptr<unsigned char[]>>> statics;
  size_t static_bytes = 0;
  std::vector<unsigned char> dynamic;

  void abort(std::string why) {
    if (!aborted) fault = std::move(why);
    aborted = true;
    cv.notify_all();
    for (auto& w : warps) w->cv.notify_all();
  }
  void release_block_barrier() {
    waiting -= arrived;
    arrived = 0;
    ++generation;
    cv.notify_all();
  }
  void release_warp_barrier(WarpState& w) {
    waiting -= w.arrived;
    w.arrived = 0;
    ++w.generation;
    w.cv.notify_all();
  }
  // Called when `live` or `waiting` changed without a release: if every live thread waits, no
  // barrier can ever complete.
  void check_deadlock() {
    if (live > 0 && waiting == live && !aborted)
      abort("deadlock: every live thread waits at a barrier that cannot complete (a "
            "__syncthreads or warp collective not reached by all threads of the block or warp)");
  }
};

namespace {

inline void resume_as(ThreadState* me, std::vector<Access>* log) {
  tls_thread = me;
  tls_access_log = log;
}

thread_local std::vector<std::vector<Access>>* tls_logs = nullptr;

std::vector<Access>* log_of(ThreadState* me) {
  return tls_logs ? &(*tls_logs)[me->linear] : nullptr;
}

void wait_until(ThreadState* me, boost::fibers::condition_variable_any& cv,
                const uint64_t& generation, uint64_t seen) {
  BlockState& b = *me->block;
  std::vector<Access>* log = log_of(me);
  NoLock lock;
  while (generation == seen && !b.aborted) cv.wait(lock);
  resume_as(me, log);
  if (b.aborted) throw AbortBlock{};
}

// A barrier in the calling thread's access log (the profiler's reload rule stops at it).
void log_barrier() {
  if (tls_access_log) static_cast<std::vector<Access>*>(tls_access_log)->push_back(Access{0, 0, 0, false});
}

}  // namespace

void syncthreads() {
  log_barrier();
  ThreadState* me = tls_thread;
  BlockState& b = *me->block;
  if (b.aborted) throw AbortBlock{};
  if (b.arrived + 1 == b.live) {
    b.release_block_barrier();
    // The last arrival also lets the scheduler choose who runs first after the barrier.
    std::vector<Access>* log = log_of(me);
    boost::this_fiber::yield();
    resume_as(me, log);
    if (b.aborted) throw AbortBlock{};
    return;
  }
  ++b.arrived;
  ++b.waiting;
  b.check_deadlock();
  wait_until(me, b.cv, b.generation, b.generation);
}

void syncwarp() {
  log_barrier();
  ThreadState* me = tls_thread;
  BlockState& b = *me->block;
  if (b.aborted) throw AbortBlock{};
  WarpState& w = *b.warps[me->warp];
  if (w.arrived + 1 == w.live) {
    b.release_warp_barrier(w);
    std::vector<Access>* log = log_of(me);
    boost::this_fiber::yield();
    resume_as(me, log);
    if (b.aborted) throw AbortBlock{};
    return;
  }
  ++w.arrived;
  ++b.waiting;
  b.check_deadlock();
  wait_until(me, w.cv, w.generation, w.generation);
}

uint64_t warp_shuffle_bits(uint64_t mine, unsigned src_lane) {
  ThreadState* me = tls_thread;
  WarpState& w = *me->block->warps[me->warp];
  w.exchange[me->lane] = mine;
  syncwarp();  // every lane has written
  uint64_t value = w.exchange[src_lane & 31];
  syncwarp();  // every lane has read before the buffer is reused
  return value;
}

unsigned warp_ballot(bool predicate) {
  ThreadState* me = tls_thread;
  WarpState& w = *me->block->warps[me->warp];
  w.exchange[me->lane] = predicate ? 1 : 0;
  syncwarp();
  unsigned bits = 0;
  unsigned lanes = std::min(32u, me->block_dim.x * me->block_dim.y * me->block_dim.z - me->warp * 32);
  for (unsigned l = 0; l < lanes; ++l)
    if (w.exchange[l]) bits |= 1u << l;
  syncwarp();
  return bits;
}

void* static_shared(const void* tag, size_t bytes, size_t alignment) {
  BlockState& b = *tls_thread->block;
  for (auto& [t, mem] : b.statics)
    if (t == tag) return mem.get();
  b.static_bytes += (bytes + alignment - 1) / alignment * alignment;
  if (b.static_bytes + b.dynamic.size() > kMaxSharedBytes)
    throw Error(ErrorCategory::Device,
                "shared memory of the block exceeds " + std::to_string(kMaxSharedBytes) + " bytes");
  // operator new[] aligns to __STDCPP_DEFAULT_NEW_ALIGNMENT__ (16), enough for every device type.
  auto mem = std::make_unique<unsigned char[]>(bytes ? bytes : 1);
  std::memset(mem.get(), 0xa5, bytes);  // shared memory starts as garbage, not zero
  void* p = mem.get();
  b.statics.emplace_back(tag, std::move(mem));
  return p;
}

void* dynamic_shared() { return tls_thread->block->dynamic.data(); }

namespace {

std::string dim_string(dim3 d) {
  char text[48];  // snprintf: GCC 12 warns falsely (-Wrestrict) on "(" + std::to_string(...)
  std::snprintf(text, sizeof text, "(%u, %u, %u)", d.x, d.y, d.z);
  return text;
}

std::string config_error(const LaunchRequest& r) {
  const dim3 g = r.grid, t = r.block;
  if (g.x == 0 || g.y == 0 || g.z == 0) return "grid " + dim_string(g) + " has a zero dimension";
  if (t.x == 0 || t.y == 0 || t.z == 0) return "block " + dim_string(t) + " has a zero dimension";
  if (g.x > 0x7fffffffu || g.y > 65535 || g.z > 65535) return "grid " + dim_string(g) + " too large";
  if (t.x > 1024 || t.y > 1024 || t.z > 64 || uint64_t(t.x) * t.y * t.z > 1024)
    return "block " + dim_string(t) + " exceeds 1024 threads";
  if (r.dynamic_shared_bytes > kMaxSharedBytes)
    return "dynamic shared memory " + std::to_string(r.dynamic_shared_bytes) + " bytes exceeds " +
           std::to_string(kMaxSharedBytes);
  return {};
}

}  // namespace

void launch(const LaunchRequest& r) {
  auto fail = [&](const std::string& why) {
    if (tls_last_launch_error.empty())
      tls_last_launch_error = std::string(r.file) + ":" + std::to_string(r.line) + ": launch of " +
                              r.kernel + ": " + why;
  };
  if (tls_thread != nullptr) return fail("a kernel launched from inside a kernel (not supported)");
  if (std::string e = config_error(r); !e.empty()) return fail("invalid configuration: " + e);

  static thread_local bool scheduler_installed = false;
  if (!scheduler_installed) {
    boost::fibers::use_scheduling_algorithm<ShuffleScheduler>();
    scheduler_installed = true;
  }
  static thread_local boost::fibers::pooled_fixedsize_stack stacks(kFiberStackBytes);

  const bool profile = profiling();
  const unsigned threads_per_block = r.block.x * r.block.y * r.block.z;
  const unsigned warps_per_block = (threads_per_block + 31) / 32;
  std::vector<ThreadState> threads(threads_per_block);
  std::vector<std::vector<Access>> logs(profile ? threads_per_block : 0);
  tls_logs = profile ? &logs : nullptr;
  LaunchCounters counters;

  BlockState block;
  block.kernel = r.kernel;
  for (unsigned w = 0; w < warps_per_block; ++w) block.warps.push_back(std::make_unique<WarpState>());
  std::vector<boost::fibers::fiber> fibers;
  fibers.reserve(threads_per_block);
  const uint64_t kernel_seed = seed() ^ hash_string(r.kernel);

  for (unsigned bz = 0; bz < r.grid.z && !block.aborted; ++bz)
    for (unsigned by = 0; by < r.grid.y && !block.aborted; ++by)
      for (unsigned bx = 0; bx < r.grid.x && !block.aborted; ++bx) {
        const uint64_t block_linear = (uint64_t(bz) * r.grid.y + by) * r.grid.x + bx;
        tls_shuffle_state = kernel_seed ^ (block_linear * 0xd1b54a32d192ed03ull);
        block.live = threads_per_block;
        block.waiting = block.arrived = 0;
        block.statics.clear();
        block.static_bytes = 0;
        block.dynamic.assign(r.dynamic_shared_bytes, 0xa5);
        for (unsigned w = 0; w < warps_per_block; ++w) {
          block.warps[w]->live = std::min(32u, threads_per_block - 32 * w);
          block.warps[w]->arrived = 0;
        }
        for (unsigned t = 0; t < threads_per_block; ++t) {
          ThreadState& ts = threads[t];
          ts.thread_idx = uint3{t % r.block.x, (t / r.block.x) % r.block.y, t / (r.block.x * r.block.y)};
          ts.block_idx = uint3{bx, by, bz};
          ts.block_dim = r.block;
          ts.grid_dim = r.grid;
          ts.linear = t;
          ts.lane = t % 32;
          ts.warp = t / 32;
          ts.block = &block;
          if (profile) logs[t].clear();
          fibers.emplace_back(std::allocator_arg, stacks, [&r, &ts, &block, &logs, profile] {
            resume_as(&ts, profile ? &logs[ts.linear] : nullptr);
            try {
              r.invoke(r.closure);
            } catch (const AbortBlock&) {
            } catch (const std::exception& e) {
              block.abort(std::string("thread ") + dim_string(dim3(ts.thread_idx.x, ts.thread_idx.y,
                                                                   ts.thread_idx.z)) +
                          ": " + e.what());
            }
            resume_as(nullptr, nullptr);
            // The thread returns: barriers now wait for one thread fewer.
            --block.live;
            WarpState& w = *block.warps[ts.warp];
            --w.live;
            if (!block.aborted) {
              if (block.arrived > 0 && block.arrived == block.live) block.release_block_barrier();
              if (w.arrived > 0 && w.arrived == w.live) block.release_warp_barrier(w);
              block.check_deadlock();
            }
          });
        }
        for (auto& f : fibers) f.join();
        fibers.clear();
        if (block.aborted) {
          fail("block " + dim_string(dim3(bx, by, bz)) + ", " + block.fault);
        } else if (profile) {
          for (unsigned w = 0; w < warps_per_block; ++w)
            count_warp_requests(logs, w * 32, std::min(threads_per_block, w * 32 + 32), counters);
        }
      }
  tls_logs = nullptr;
  resume_as(nullptr, nullptr);
  if (profile) record_launch(r.kernel, counters, r.stream);
}

void record_access(const void* address, uint32_t bytes, bool is_store, uint64_t site) {
  static_cast<std::vector<Access>*>(tls_access_log)
      ->push_back(Access{reinterpret_cast<uintptr_t>(address), site, bytes, is_store});
}

[[noreturn]] void global_out_of_bounds(const void* base, size_t index, size_t count, bool is_store) {
  char where[32];
  std::snprintf(where, sizeof where, "%p", base);
  throw Error(ErrorCategory::Device, std::string("global ") + (is_store ? "store" : "load") +
                                         " out of bounds: index " + std::to_string(index) +
                                         " of a buffer of " + std::to_string(count) +
                                         " elements at " + where);
}

std::string take_last_launch_error() {
  std::string e = std::move(tls_last_launch_error);
  tls_last_launch_error.clear();
  return e;
}

}  // namespace ptvm::hostsim
