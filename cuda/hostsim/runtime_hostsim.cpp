// The device runtime (ptvm/gpu/runtime.hpp) for host-sim: "device" memory is host memory, streams
// and events are synchronous.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "hostsim_internal.hpp"
#include "ptvm/gpu/runtime.hpp"

namespace ptvm::hostsim {
struct HostEvent {
  std::chrono::steady_clock::time_point when{};
  bool recorded = false;
};

namespace {
// The caching pool behind device_malloc_async: freed blocks are kept per rounded size (up to the
// release threshold) and handed out again; a request it cannot serve is a new device allocation.
struct Pool {
  std::mutex mutex;
  std::map<size_t, std::vector<void*>> cached;  // rounded size -> free blocks
  std::unordered_map<void*, size_t> sizes;      // every live or cached block
  uint64_t cached_bytes = 0;
  uint64_t threshold = uint64_t{4} << 30;
};
Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: buffers may be freed during exit
  return *p;
}

// Pinned allocations (so that copies from or into them are charged as pinned).
struct PinnedRegistry {
  std::mutex mutex;
  std::map<uintptr_t, size_t> ranges;  // start -> bytes
};
PinnedRegistry& pinned_registry() {
  static PinnedRegistry* r = new PinnedRegistry;
  return *r;
}
bool is_pinned(const void* p, size_t bytes) {
  PinnedRegistry& r = pinned_registry();
  std::lock_guard lock(r.mutex);
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = r.ranges.upper_bound(a);
  if (it == r.ranges.begin()) return false;
  --it;
  return a >= it->first && a + bytes <= it->first + it->second;
}

void* garbage_block(size_t rounded) {
  void* p = std::aligned_alloc(256, rounded);
  if (!p)
    throw Error(ErrorCategory::Device, "host-sim device memory: out of memory allocating " + std::to_string(rounded) + " bytes");
  return p;
}
size_t round_device(size_t bytes) { return (bytes + 255) / 256 * 256; }  // cudaMalloc aligns to 256 bytes

std::atomic<uint64_t> g_next_stream_id{1};
}  // namespace
}  // namespace ptvm::hostsim

PTVM_GPU_NAMESPACE_BEGIN
namespace hs = ::ptvm::hostsim;

const char* runtime_name() { return "hostsim"; }
bool device_available() { return true; }
std::string device_description() {
  return "host-sim (CUDA kernels on Boost.Fiber, modeled as an H100 at 3.35 TB/s)";
}

uint64_t device_free_bytes() { return uint64_t{80} << 30; }

void* device_malloc(size_t bytes) {
  if (bytes == 0) return nullptr;
  const size_t rounded = hs::round_device(bytes);
  void* p = hs::garbage_block(rounded);
  std::memset(p, 0xcd, rounded);  // fresh device memory is garbage, never a convenient zero
  hs::record_device_allocation(rounded);
  return p;
}
void device_free(void* ptr) noexcept {
  if (!ptr) return;
  std::free(ptr);
  hs::record_device_free();
}

void* device_malloc_async(size_t bytes, stream_t stream) {
  if (bytes == 0) return nullptr;
  stream = resolve_stream(stream);
  hs::record_stream_op(hs::StreamOp::PoolAllocation, stream);
  const size_t rounded = hs::round_device(bytes);
  hs::Pool& pool = hs::pool();
  void* p = nullptr;
  {
    std::lock_guard lock(pool.mutex);
    auto it = pool.cached.find(rounded);
    if (it != pool.cached.end() && !it->second.empty()) {
      p = it->second.back();
      it->second.pop_back();
      pool.cached_bytes -= rounded;
    }
  }
  if (p) {
    hs::record_pool_reuse();
  } else {
    p = hs::garbage_block(rounded);
    hs::record_device_allocation(rounded);
    std::lock_guard lock(pool.mutex);
    pool.sizes[p] = rounded;
  }
  std::memset(p, 0xcd, rounded);  // reused memory holds the last owner's values: garbage again
  return p;
}
void device_free_async(void* ptr, stream_t) noexcept {
  if (!ptr) return;
  hs::Pool& pool = hs::pool();
  std::lock_guard lock(pool.mutex);
  auto it = pool.sizes.find(ptr);
  if (it == pool.sizes.end()) return;  // not from the pool: a bug the CUDA runtime would report
  const size_t rounded = it->second;
  if (pool.cached_bytes + rounded <= pool.threshold) {
    pool.cached[rounded].push_back(ptr);
    pool.cached_bytes += rounded;
  } else {
    pool.sizes.erase(it);
    std::free(ptr);
  }
}
void set_device_pool_release_threshold(uint64_t bytes) {
  hs::Pool& pool = hs::pool();
  std::lock_guard lock(pool.mutex);
  pool.threshold = bytes;
}
void trim_device_pool(uint64_t keep_bytes) {
  hs::Pool& pool = hs::pool();
  std::lock_guard lock(pool.mutex);
  for (auto& [rounded, blocks] : pool.cached)
    while (!blocks.empty() && pool.cached_bytes > keep_bytes) {
      pool.sizes.erase(blocks.back());
      std::free(blocks.back());
      blocks.pop_back();
      pool.cached_bytes -= rounded;
    }
}

void* pinned_malloc(size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = std::malloc(bytes);
  if (!p)
    throw Error(ErrorCategory::Device, "host-sim pinned_malloc: out of memory allocating " + std::to_string(bytes) + " bytes");
  hs::record_pinned_allocation(bytes);
  hs::PinnedRegistry& r = hs::pinned_registry();
  std::lock_guard lock(r.mutex);
  r.ranges[reinterpret_cast<uintptr_t>(p)] = bytes;
  return p;
}
void pinned_free(void* ptr) noexcept {
  if (!ptr) return;
  {
    hs::PinnedRegistry& r = hs::pinned_registry();
    std::lock_guard lock(r.mutex);
    r.ranges.erase(reinterpret_cast<uintptr_t>(ptr));
  }
  std::free(ptr);
}

void copy_to_device(void* dst, const void* src, size_t bytes, stream_t stream) {
  if (bytes) std::memcpy(dst, src, bytes);
  hs::record_copy(hs::CopyKind::HostToDevice, bytes, bytes && hs::is_pinned(src, bytes), resolve_stream(stream));
}
void copy_to_host(void* dst, const void* src, size_t bytes, stream_t stream) {
  if (bytes) std::memcpy(dst, src, bytes);
  hs::record_copy(hs::CopyKind::DeviceToHost, bytes, bytes && hs::is_pinned(dst, bytes), resolve_stream(stream));
}
void copy_device_to_device(void* dst, const void* src, size_t bytes, stream_t stream) {
  if (bytes) std::memmove(dst, src, bytes);
  hs::record_copy(hs::CopyKind::DeviceToDevice, bytes, false, resolve_stream(stream));
}
void memset_device(void* dst, int byte_value, size_t bytes, stream_t stream) {
  if (bytes) std::memset(dst, byte_value, bytes);
  hs::record_copy(hs::CopyKind::Memset, bytes, false, resolve_stream(stream));
}

void check_last_launch(const char* kernel, const char* file, int line) {
  std::string e = ::ptvm::hostsim::take_last_launch_error();
  if (!e.empty())
    throw Error(ErrorCategory::Device, std::string(file) + ":" + std::to_string(line) +
                                           ": kernel " + kernel + " failed: " + e);
}

Stream::Stream() : Stream("stream") {}
Stream::Stream(const char* name) : stream_(new hs::HostStream{hs::g_next_stream_id.fetch_add(1), name}) {}
Stream::~Stream() { delete stream_; }
void Stream::synchronize() const { hs::record_stream_op(hs::StreamOp::Synchronize, stream_); }
void synchronize(stream_t stream) { hs::record_stream_op(hs::StreamOp::Synchronize, resolve_stream(stream)); }
void device_synchronize() { hs::record_device_synchronize(); }
void stream_wait_event(stream_t stream, const Event&) { hs::record_stream_op(hs::StreamOp::EventWait, resolve_stream(stream)); }

Event::Event() : event_(new ::ptvm::hostsim::HostEvent) {}
Event::~Event() { delete event_; }
void Event::record(stream_t stream) {
  event_->when = std::chrono::steady_clock::now();
  event_->recorded = true;
  hs::record_stream_op(hs::StreamOp::EventRecord, resolve_stream(stream));
}
void Event::synchronize() const { hs::record_event_synchronize(); }
float Event::elapsed_ms(const Event& start, const Event& stop) {
  if (!start.event_->recorded || !stop.event_->recorded)
    throw Error(ErrorCategory::Usage, "Event::elapsed_ms: an event was never recorded");
  return std::chrono::duration<float, std::milli>(stop.event_->when - start.event_->when).count();
}

StageScope::StageScope(const char* name, uint64_t min_bytes) : min_bytes_(min_bytes) {
  ::ptvm::hostsim::open_stage(name);
}
StageScope::~StageScope() { ::ptvm::hostsim::close_stage(min_bytes_); }

PTVM_GPU_NAMESPACE_END
