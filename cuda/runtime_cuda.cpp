// The device runtime (ptvm/gpu/runtime.hpp) on the CUDA runtime API. Every call goes through
// PTVM_CUDA_CHECK.
#include <nvtx3/nvToolsExt.h>

#include <atomic>

#include "ptvm/gpu/cuda_check.hpp"
#include "ptvm/gpu/runtime.hpp"

PTVM_GPU_NAMESPACE_BEGIN

const char* runtime_name() { return "cuda"; }

bool device_available() {
  int count = 0;
  // No driver or no device is an answer here, not an error.
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no device" status
    return false;
  }
  return count > 0;
}

std::string device_description() {
  if (!device_available()) return "no CUDA device";
  int device = 0;
  PTVM_CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  PTVM_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return std::string(prop.name) + ", sm_" + std::to_string(prop.major) + std::to_string(prop.minor) +
         ", " + std::to_string(prop.multiProcessorCount) + " SMs";
}

namespace {
// The process's stream-ordered pool on the current device (created on first use): freed memory
// stays cached up to the release threshold (default: all of it), so the steady state of the group
// pipeline allocates nothing from the driver.
cudaMemPool_t device_pool() {
  static cudaMemPool_t pool = [] {
    int device = 0;
    PTVM_CUDA_CHECK(cudaGetDevice(&device));
    cudaMemPoolProps props{};
    props.allocType = cudaMemAllocationTypePinned;
    props.location.type = cudaMemLocationTypeDevice;
    props.location.id = device;
    cudaMemPool_t p = nullptr;
    PTVM_CUDA_CHECK(cudaMemPoolCreate(&p, &props));
    uint64_t threshold = UINT64_MAX;
    PTVM_CUDA_CHECK(cudaMemPoolSetAttribute(p, cudaMemPoolAttrReleaseThreshold, &threshold));
    return p;
  }();
  return pool;
}
std::atomic<bool> g_pool_used{false};
}  // namespace

uint64_t device_free_bytes() {
  size_t free_bytes = 0, total = 0;
  PTVM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
  // Memory the pool caches is free for the pipeline's next allocations.
  if (g_pool_used) {
    uint64_t reserved = 0, used = 0;
    PTVM_CUDA_CHECK(cudaMemPoolGetAttribute(device_pool(), cudaMemPoolAttrReservedMemCurrent, &reserved));
    PTVM_CUDA_CHECK(cudaMemPoolGetAttribute(device_pool(), cudaMemPoolAttrUsedMemCurrent, &used));
    if (reserved > used) free_bytes += reserved - used;
  }
  return free_bytes;
}

void* device_malloc_async(size_t bytes, stream_t stream) {
  if (bytes == 0) return nullptr;
  g_pool_used = true;
  void* p = nullptr;
  PTVM_CUDA_CHECK(cudaMallocFromPoolAsync(&p, bytes, device_pool(), resolve_stream(stream)));
  return p;
}
void device_free_async(void* ptr, stream_t stream) noexcept {
  if (ptr) (void)cudaFreeAsync(ptr, resolve_stream(stream));
}
void set_device_pool_release_threshold(uint64_t bytes) {
  PTVM_CUDA_CHECK(cudaMemPoolSetAttribute(device_pool(), cudaMemPoolAttrReleaseThreshold, &bytes));
}
void trim_device_pool(uint64_t keep_bytes) { PTVM_CUDA_CHECK(cudaMemPoolTrimTo(device_pool(), keep_bytes)); }

void* pinned_malloc(size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  PTVM_CUDA_CHECK(cudaMallocHost(&p, bytes));
  return p;
}
void pinned_free(void* ptr) noexcept {
  if (ptr) (void)cudaFreeHost(ptr);
}

void* device_malloc(size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  PTVM_CUDA_CHECK(cudaMalloc(&p, bytes));
  return p;
}
void device_free(void* ptr) noexcept {
  if (ptr) (void)cudaFree(ptr);  // destructors never throw; a failing free leaves a sticky error
}

void copy_to_device(void* dst, const void* src, size_t bytes, stream_t stream) {
  if (bytes) PTVM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, resolve_stream(stream)));
}
void copy_to_host(void* dst, const void* src, size_t bytes, stream_t stream) {
  if (bytes) PTVM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, resolve_stream(stream)));
}
void copy_device_to_device(void* dst, const void* src, size_t bytes, stream_t stream) {
  if (bytes) PTVM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, resolve_stream(stream)));
}
void memset_device(void* dst, int byte_value, size_t bytes, stream_t stream) {
  if (bytes) PTVM_CUDA_CHECK(cudaMemsetAsync(dst, byte_value, bytes, resolve_stream(stream)));
}

void check_last_launch(const char* kernel, const char* file, int line) {
  cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess)
    throw Error(ErrorCategory::Device, std::string(file) + ":" + std::to_string(line) +
                                           ": kernel " + kernel + " failed: " +
                                           cudaGetErrorName(status) + ": " +
                                           cudaGetErrorString(status));
}

Stream::Stream() { PTVM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
Stream::Stream(const char*) : Stream() {}
Stream::~Stream() { (void)cudaStreamDestroy(stream_); }
void Stream::synchronize() const { PTVM_CUDA_CHECK(cudaStreamSynchronize(stream_)); }
void synchronize(stream_t stream) { PTVM_CUDA_CHECK(cudaStreamSynchronize(resolve_stream(stream))); }
void device_synchronize() { PTVM_CUDA_CHECK(cudaDeviceSynchronize()); }
void stream_wait_event(stream_t stream, const Event& event) {
  PTVM_CUDA_CHECK(cudaStreamWaitEvent(resolve_stream(stream), event.get(), 0));
}

Event::Event() { PTVM_CUDA_CHECK(cudaEventCreate(&event_)); }
Event::~Event() { (void)cudaEventDestroy(event_); }
void Event::record(stream_t stream) { PTVM_CUDA_CHECK(cudaEventRecord(event_, resolve_stream(stream))); }
void Event::synchronize() const { PTVM_CUDA_CHECK(cudaEventSynchronize(event_)); }
float Event::elapsed_ms(const Event& start, const Event& stop) {
  float ms = 0;
  PTVM_CUDA_CHECK(cudaEventElapsedTime(&ms, start.event_, stop.event_));
  return ms;
}

StageScope::StageScope(const char* name, uint64_t min_bytes) : min_bytes_(min_bytes) {
  nvtxRangePushA(name);
}
StageScope::~StageScope() { nvtxRangePop(); }

PTVM_GPU_NAMESPACE_END
