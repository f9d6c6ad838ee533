// The device runtime (ptvm/gpu/runtime.hpp) for host-sim: "device" memory is host memory, streams
// and events are synchronous.
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "hostsim_internal.hpp"
#include "ptvm/gpu/runtime.hpp"

namespace ptvm::hostsim {
struct HostStream {};
struct HostEvent {
  std::chrono::steady_clock::time_point when{};
  bool recorded = false;
};
}  // namespace ptvm::hostsim

PTVM_GPU_NAMESPACE_BEGIN

const char* runtime_name() { return "hostsim"; }
bool device_available() { return true; }
std::string device_description() {
  return "host-sim (CUDA kernels on Boost.Fiber, modeled as an H100 at 3.35 TB/s)";
}

uint64_t device_free_bytes() { return uint64_t{80} << 30; }

void* device_malloc(size_t bytes) {
  if (bytes == 0) return nullptr;
  size_t rounded = (bytes + 255) / 256 * 256;  // cudaMalloc aligns to 256 bytes
  void* p = std::aligned_alloc(256, rounded);
  if (!p)
    throw Error(ErrorCategory::Device,
                "host-sim device_malloc: out of memory allocating " + std::to_string(bytes) + " bytes");
  std::memset(p, 0xcd, rounded);  // fresh device memory is garbage, never a convenient zero
  return p;
}
void device_free(void* ptr) noexcept { std::free(ptr); }

void copy_to_device(void* dst, const void* src, size_t bytes, stream_t) {
  if (bytes) std::memcpy(dst, src, bytes);
  ::ptvm::hostsim::record_copy(true, bytes);
}
void copy_to_host(void* dst, const void* src, size_t bytes, stream_t) {
  if (bytes) std::memcpy(dst, src, bytes);
  ::ptvm::hostsim::record_copy(false, bytes);
}
void copy_device_to_device(void* dst, const void* src, size_t bytes, stream_t) {
  if (bytes) std::memmove(dst, src, bytes);
}
void memset_device(void* dst, int byte_value, size_t bytes, stream_t) {
  if (bytes) std::memset(dst, byte_value, bytes);
}

void check_last_launch(const char* kernel, const char* file, int line) {
  std::string e = ::ptvm::hostsim::take_last_launch_error();
  if (!e.empty())
    throw Error(ErrorCategory::Device, std::string(file) + ":" + std::to_string(line) +
                                           ": kernel " + kernel + " failed: " + e);
}

Stream::Stream() : stream_(new ::ptvm::hostsim::HostStream) {}
Stream::~Stream() { delete stream_; }
void Stream::synchronize() const {}
void synchronize(stream_t) {}

Event::Event() : event_(new ::ptvm::hostsim::HostEvent) {}
Event::~Event() { delete event_; }
void Event::record(stream_t) {
  event_->when = std::chrono::steady_clock::now();
  event_->recorded = true;
}
void Event::synchronize() const {}
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
