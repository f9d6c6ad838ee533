// The device runtime interface of ptvm's GPU side: device buffers, streams, events, errors, device
// discovery, NVTX ranges. Two implementations share this header: cuda/runtime_cuda.cpp (the CUDA
// runtime, library ptvm::cuda) and cuda/hostsim/runtime_hostsim.cpp (host memory, synchronous
// streams, library ptvm::hostsim). Every failing call throws ptvm::Error (category Device) naming
// the file:line of the call site and the call.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// "cuda" or "hostsim": which implementation this program is linked with.
const char* runtime_name();
// True when kernels can run: always under host-sim; under CUDA when a device is visible.
bool device_available();
// One line describing the device ("NVIDIA H100 80GB HBM3, sm_90, 132 SMs" / "host-sim ...").
std::string device_description();

// Free device memory in bytes (CUDA: cudaMemGetInfo on the current device; host-sim: the modeled
// H100's 80 GB).
uint64_t device_free_bytes();

// Raw device memory. Sizes in bytes; a zero-byte allocation returns nullptr.
void* device_malloc(size_t bytes);
void device_free(void* ptr) noexcept;
void copy_to_device(void* device_dst, const void* host_src, size_t bytes, stream_t stream);
void copy_to_host(void* host_dst, const void* device_src, size_t bytes, stream_t stream);
void copy_device_to_device(void* dst, const void* src, size_t bytes, stream_t stream);
void memset_device(void* device_dst, int byte_value, size_t bytes, stream_t stream);

// Throws if the most recent kernel launch on this host thread failed (configuration error, fault
// in a host-sim kernel thread, ...). Call it after every launch through PTVM_CHECK_LAUNCH.
void check_last_launch(const char* kernel, const char* file, int line);
#define PTVM_CHECK_LAUNCH(kernel_name) ::ptvm::gpu::check_last_launch(kernel_name, __FILE__, __LINE__)

class Stream {
 public:
  Stream();  // a new non-default stream
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  stream_t get() const { return stream_; }
  void synchronize() const;

 private:
  stream_t stream_{};
};
// Waits for all work on `stream` (nullptr = the legacy default stream).
void synchronize(stream_t stream);

class Event {
 public:
  Event();
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  void record(stream_t stream);
  void synchronize() const;
  // Milliseconds between two recorded events (host-sim: host wall clock between the records).
  static float elapsed_ms(const Event& start, const Event& stop);
  event_t get() const { return event_; }

 private:
  event_t event_{};
};

// A typed device allocation of `size()` elements. Move-only; frees in the destructor.
template <class T>
class DeviceBuffer {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t count)
      : data_(static_cast<T*>(device_malloc(count * sizeof(T)))), count_(count) {}
  // Allocates and uploads; returns after the copy.
  static DeviceBuffer from_host(std::span<const T> host, stream_t stream = nullptr) {
    DeviceBuffer b(host.size());
    b.upload(host, stream);
    return b;
  }
  ~DeviceBuffer() { device_free(data_); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : data_(o.data_), count_(o.count_) {
    o.data_ = nullptr;
    o.count_ = 0;
  }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      device_free(data_);
      data_ = o.data_;
      count_ = o.count_;
      o.data_ = nullptr;
      o.count_ = 0;
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  size_t size() const { return count_; }
  size_t size_bytes() const { return count_ * sizeof(T); }
  T* data() const { return data_; }
  gptr<T> ptr() const { return gptr<T>(data_, count_); }
  gptr<const T> cptr() const { return gptr<const T>(data_, count_); }

  // Copies host -> device into elements [offset, offset + host.size()); returns after the copy.
  void upload(std::span<const T> host, stream_t stream = nullptr, size_t offset = 0) {
    require_range(offset, host.size(), "upload");
    copy_to_device(data_ + offset, host.data(), host.size_bytes(), stream);
    synchronize(stream);  // the host span may die right after this call
  }
  // Copies device -> host from elements [offset, offset + host.size()); returns after the copy.
  void download(std::span<T> host, stream_t stream = nullptr, size_t offset = 0) const {
    require_range(offset, host.size(), "download");
    copy_to_host(host.data(), data_ + offset, host.size_bytes(), stream);
    synchronize(stream);
  }
  std::vector<T> to_host(stream_t stream = nullptr) const {
    std::vector<T> host(count_);
    download(host, stream);
    return host;
  }
  // Sets every byte of the buffer to byte_value.
  void memset(int byte_value, stream_t stream = nullptr) {
    memset_device(data_, byte_value, size_bytes(), stream);
  }

 private:
  void require_range(size_t offset, size_t n, const char* what) const {
    if (offset > count_ || n > count_ - offset)
      throw Error(ErrorCategory::Usage, std::string("DeviceBuffer::") + what + ": elements [" +
                                            std::to_string(offset) + ", " +
                                            std::to_string(offset + n) + ") outside a buffer of " +
                                            std::to_string(count_));
  }
  T* data_ = nullptr;
  size_t count_ = 0;
};

// One named stage of GPU work: an NVTX range on CUDA; under host-sim also a profile stage that
// sums the bytes of the kernels launched inside it and compares them with `min_bytes`, the fewest
// bytes the stage must move (its unavoidable reads and writes).
class StageScope {
 public:
  explicit StageScope(const char* name, uint64_t min_bytes = 0);
  ~StageScope();
  StageScope(const StageScope&) = delete;
  StageScope& operator=(const StageScope&) = delete;

 private:
  uint64_t min_bytes_;
};

PTVM_GPU_NAMESPACE_END
