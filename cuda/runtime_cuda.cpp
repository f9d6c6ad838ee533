// The device runtime (ptvm/gpu/runtime.hpp) on the CUDA runtime API. Every call goes through
// PTVM_CUDA_CHECK.
#include <nvtx3/nvToolsExt.h>

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

uint64_t device_free_bytes() {
  size_t free_bytes = 0, total = 0;
  PTVM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
  return free_bytes;
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
  if (bytes) PTVM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream));
}
void copy_to_host(void* dst, const void* src, size_t bytes, stream_t stream) {
  if (bytes) PTVM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream));
}
void copy_device_to_device(void* dst, const void* src, size_t bytes, stream_t stream) {
  if (bytes) PTVM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream));
}
void memset_device(void* dst, int byte_value, size_t bytes, stream_t stream) {
  if (bytes) PTVM_CUDA_CHECK(cudaMemsetAsync(dst, byte_value, bytes, stream));
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
Stream::~Stream() { (void)cudaStreamDestroy(stream_); }
void Stream::synchronize() const { PTVM_CUDA_CHECK(cudaStreamSynchronize(stream_)); }
void synchronize(stream_t stream) { PTVM_CUDA_CHECK(cudaStreamSynchronize(stream)); }

Event::Event() { PTVM_CUDA_CHECK(cudaEventCreate(&event_)); }
Event::~Event() { (void)cudaEventDestroy(event_); }
void Event::record(stream_t stream) { PTVM_CUDA_CHECK(cudaEventRecord(event_, stream)); }
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
