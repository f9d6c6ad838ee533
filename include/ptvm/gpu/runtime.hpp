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
#include <type_traits>
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

// Stream-ordered device memory from the device's pool (CUDA: cudaMallocFromPoolAsync /
// cudaFreeAsync on one cudaMemPool per process whose release threshold keeps freed memory cached,
// so a steady state of same-sized allocations gets its memory back without a cudaMalloc and
// without the device-wide synchronisation of cudaFree; host-sim: a caching pool of the same
// behaviour whose misses are counted as device allocations, ptvm/gpu/hostsim/profile.hpp). The
// memory may be used on `stream` after the allocation, and on other streams once they wait for an
// event recorded on `stream` after it; the free is ordered after the work queued on `stream` before
// it. A zero-byte allocation returns nullptr.
void* device_malloc_async(size_t bytes, stream_t stream);
void device_free_async(void* ptr, stream_t stream) noexcept;
// The bytes the pool may keep cached when freed (CUDA: cudaMemPoolAttrReleaseThreshold; default:
// all of them on CUDA, 4 GiB on host-sim) and a release of what it caches beyond `keep_bytes`.
void set_device_pool_release_threshold(uint64_t bytes);
void trim_device_pool(uint64_t keep_bytes = 0);

// Page-locked ("pinned") host memory (CUDA: cudaMallocHost; host-sim: ordinary memory, counted and
// remembered so that copies from it are charged at the pinned PCIe rate). A zero-byte allocation
// returns nullptr.
void* pinned_malloc(size_t bytes);
void pinned_free(void* ptr) noexcept;
void copy_to_device(void* device_dst, const void* host_src, size_t bytes, stream_t stream);
void copy_to_host(void* host_dst, const void* device_src, size_t bytes, stream_t stream);
void copy_device_to_device(void* dst, const void* src, size_t bytes, stream_t stream);
void memset_device(void* device_dst, int byte_value, size_t bytes, stream_t stream);

// Throws if the most recent kernel launch on this host thread failed (configuration error, fault
// in a host-sim kernel thread, ...). Call it after every launch through PTVM_CHECK_LAUNCH.
void check_last_launch(const char* kernel, const char* file, int line);
#define PTVM_CHECK_LAUNCH(kernel_name) ::ptvm::gpu::check_last_launch(kernel_name, __FILE__, __LINE__)

class Event;

class Stream {
 public:
  Stream();  // a new non-default stream
  // A named one (host-sim profiles count copies, launches and synchronisations per stream name).
  explicit Stream(const char* name);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  stream_t get() const { return stream_; }
  void synchronize() const;

 private:
  stream_t stream_{};
};
// Waits for all work on `stream` (nullptr = the thread's default stream: the legacy default
// stream, or under a PipelineScope the pipeline's compute stream).
void synchronize(stream_t stream);
// Waits for all work on the device (cudaDeviceSynchronize): never in the steady state of the group
// pipeline (host-sim counts these as device-wide synchronisations).
void device_synchronize();
// What a function that frees temporaries right after its launches calls: waits for `stream` when
// the thread's device buffers are freed synchronously (cudaFree), nothing under a PipelineScope,
// whose buffers are freed stream-ordered after the launches that use them.
void synchronize_before_free(stream_t stream);
// Makes later work on `stream` wait for the last record of `event` (cudaStreamWaitEvent).
void stream_wait_event(stream_t stream, const Event& event);

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

// A typed pinned host allocation of `size()` elements. Move-only; frees in the destructor.
template <class T>
class PinnedBuffer {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(size_t count) : data_(static_cast<T*>(pinned_malloc(count * sizeof(T)))), count_(count) {}
  ~PinnedBuffer() { pinned_free(data_); }
  PinnedBuffer(PinnedBuffer&& o) noexcept : data_(o.data_), count_(o.count_) {
    o.data_ = nullptr;
    o.count_ = 0;
  }
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    if (this != &o) {
      pinned_free(data_);
      data_ = o.data_;
      count_ = o.count_;
      o.data_ = nullptr;
      o.count_ = 0;
    }
    return *this;
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  size_t size() const { return count_; }
  T* data() const { return data_; }
  std::span<T> span() const { return {data_, count_}; }

 private:
  T* data_ = nullptr;
  size_t count_ = 0;
};

// The overlapped device pipeline of the group prover (DESIGN.md "Batches and many GPUs"): a
// compute stream for kernels, a copy stream for host -> device uploads, and two pinned host staging
// slots used in turn (double buffering: the host fills one slot while the copy engine drains the
// other). Events order the two streams; nothing in it synchronises the whole device, and the host
// waits only on the event of the slot it is about to refill or of the download it needs.
//
// While a PipelineScope is alive on a thread, that thread's DeviceBuffers are allocated from the
// stream-ordered pool on the compute stream (and freed there, after the work queued before the
// free), their uploads and downloads go through the staging slots, and nullptr as a stream means
// the compute stream (launches, copies, memsets and synchronize of the runtime).
class DevicePipeline {
 public:
  static constexpr size_t kDefaultSlotBytes = size_t{4} << 20;
  explicit DevicePipeline(size_t slot_bytes = kDefaultSlotBytes);
  ~DevicePipeline();  // waits for both streams (the staging slots die with it)
  DevicePipeline(const DevicePipeline&) = delete;
  DevicePipeline& operator=(const DevicePipeline&) = delete;

  stream_t compute() const { return compute_.get(); }
  stream_t copy() const { return copy_.get(); }
  size_t slot_bytes() const { return slot_bytes_; }

  // host -> device: the bytes pass through the staging slots in chunks of slot_bytes(), each copied
  // on the copy stream after the work already queued on `consumer` (the destination may be in use
  // there or just allocated there); `consumer` then waits for the last chunk. Returns once the
  // bytes are in pinned memory: host_src may die at once.
  void upload(void* device_dst, const void* host_src, size_t bytes, stream_t consumer);
  // device -> host after the work queued on `producer`, through the staging slots; returns with the
  // bytes in host_dst (the host waits for each chunk's copy event, nothing else).
  void download(void* host_dst, const void* device_src, size_t bytes, stream_t producer);

 private:
  struct Slot {
    PinnedBuffer<unsigned char> pinned;  // allocated on first use
    Event done;                          // the slot's last copy
    bool in_flight = false;
  };
  Slot& next_slot();  // the next slot, its previous copy finished, its memory allocated
  Stream compute_, copy_;
  size_t slot_bytes_;
  Slot slots_[2];
  Event ordered_;  // recorded on the consumer before a copy
  size_t next_ = 0;
};

// Makes `pipeline` the thread's pipeline (see DevicePipeline) until destroyed; scopes nest.
class PipelineScope {
 public:
  explicit PipelineScope(DevicePipeline& pipeline);
  ~PipelineScope();
  PipelineScope(const PipelineScope&) = delete;
  PipelineScope& operator=(const PipelineScope&) = delete;

 private:
  DevicePipeline* previous_;
};
// The thread's pipeline, or nullptr outside every PipelineScope.
DevicePipeline* active_pipeline();
// `stream`, or the thread's default stream when it is nullptr (see synchronize()).
inline stream_t resolve_stream(stream_t stream) {
  if (stream) return stream;
  DevicePipeline* p = active_pipeline();
  return p ? p->compute() : stream;
}

// A typed device allocation of `size()` elements. Move-only; frees in the destructor. Under a
// PipelineScope it comes from the stream-ordered pool and is freed on the pipeline's compute stream.
template <class T>
class DeviceBuffer {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t count) : count_(count) {
    if (DevicePipeline* p = active_pipeline()) {
      pool_stream_ = p->compute();
      data_ = static_cast<T*>(device_malloc_async(count * sizeof(T), pool_stream_));
    } else {
      data_ = static_cast<T*>(device_malloc(count * sizeof(T)));
    }
  }
  // Allocates and uploads; returns after the copy.
  static DeviceBuffer from_host(std::span<const T> host, stream_t stream = nullptr) {
    DeviceBuffer b(host.size());
    b.upload(host, stream);
    return b;
  }
  ~DeviceBuffer() { release(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : data_(o.data_), count_(o.count_), pool_stream_(o.pool_stream_) {
    o.data_ = nullptr;
    o.count_ = 0;
    o.pool_stream_ = nullptr;
  }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = o.data_;
      count_ = o.count_;
      pool_stream_ = o.pool_stream_;
      o.data_ = nullptr;
      o.count_ = 0;
      o.pool_stream_ = nullptr;
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

  // Copies host -> device into elements [offset, offset + host.size()); returns when the host
  // span may die (after the copy; under a PipelineScope once it is staged, the copy ordered
  // before later work on `stream`).
  void upload(std::span<const T> host, stream_t stream = nullptr, size_t offset = 0) {
    require_range(offset, host.size(), "upload");
    if (DevicePipeline* p = active_pipeline()) {
      p->upload(data_ + offset, host.data(), host.size_bytes(), resolve_stream(stream));
      return;
    }
    copy_to_device(data_ + offset, host.data(), host.size_bytes(), stream);
    synchronize(stream);  // the host span may die right after this call
  }
  // Copies device -> host from elements [offset, offset + host.size()); returns after the copy.
  void download(std::span<T> host, stream_t stream = nullptr, size_t offset = 0) const {
    require_range(offset, host.size(), "download");
    if (DevicePipeline* p = active_pipeline()) {
      p->download(host.data(), data_ + offset, host.size_bytes(), resolve_stream(stream));
      return;
    }
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
  void release() noexcept {
    if (pool_stream_)
      device_free_async(data_, pool_stream_);
    else
      device_free(data_);
  }
  T* data_ = nullptr;
  size_t count_ = 0;
  stream_t pool_stream_{};  // non-null: pooled, freed stream-ordered on it
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
