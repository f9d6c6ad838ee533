// The overlapped device pipeline (ptvm/gpu/runtime.hpp, DevicePipeline): written once on the
// runtime interface, built into both ptvm::cuda and ptvm::hostsim.
#include <algorithm>
#include <cstring>

#include "ptvm/gpu/runtime.hpp"

PTVM_GPU_NAMESPACE_BEGIN

namespace {
thread_local DevicePipeline* tls_pipeline = nullptr;
}  // namespace

DevicePipeline* active_pipeline() { return tls_pipeline; }

PipelineScope::PipelineScope(DevicePipeline& pipeline) : previous_(tls_pipeline) { tls_pipeline = &pipeline; }
PipelineScope::~PipelineScope() { tls_pipeline = previous_; }

DevicePipeline::DevicePipeline(size_t slot_bytes)
    : compute_("compute"), copy_("copy"), slot_bytes_(std::max<size_t>(slot_bytes, 4096)) {}

DevicePipeline::~DevicePipeline() {
  // The slots' pinned memory and the streams die here: every copy and launch must be finished.
  try {
    copy_.synchronize();
    compute_.synchronize();
  } catch (...) {
    // a destructor never throws; a failing synchronize leaves a sticky device error
  }
}

DevicePipeline::Slot& DevicePipeline::next_slot() {
  Slot& s = slots_[next_];
  next_ ^= 1;
  if (s.in_flight) {
    s.done.synchronize();  // the copy that last used this slot (the other one may still run)
    s.in_flight = false;
  }
  if (!s.pinned.data()) s.pinned = PinnedBuffer<unsigned char>(slot_bytes_);
  return s;
}

void DevicePipeline::upload(void* device_dst, const void* host_src, size_t bytes, stream_t consumer) {
  if (bytes == 0) return;
  consumer = consumer ? consumer : compute();
  // The copy may overwrite memory the consumer's queued work reads, or memory it just allocated.
  if (consumer != copy()) {
    ordered_.record(consumer);
    stream_wait_event(copy(), ordered_);
  }
  auto* dst = static_cast<unsigned char*>(device_dst);
  const auto* src = static_cast<const unsigned char*>(host_src);
  Slot* last = nullptr;
  for (size_t off = 0; off < bytes; off += slot_bytes_) {
    const size_t n = std::min(slot_bytes_, bytes - off);
    Slot& s = next_slot();
    std::memcpy(s.pinned.data(), src + off, n);
    copy_to_device(dst + off, s.pinned.data(), n, copy());
    s.done.record(copy());
    s.in_flight = true;
    last = &s;
  }
  // The copy stream is in order: its last chunk's event covers them all.
  if (consumer != copy()) stream_wait_event(consumer, last->done);
}

void DevicePipeline::download(void* host_dst, const void* device_src, size_t bytes, stream_t producer) {
  if (bytes == 0) return;
  producer = producer ? producer : compute();
  auto* dst = static_cast<unsigned char*>(host_dst);
  const auto* src = static_cast<const unsigned char*>(device_src);
  for (size_t off = 0; off < bytes; off += slot_bytes_) {
    const size_t n = std::min(slot_bytes_, bytes - off);
    Slot& s = next_slot();
    copy_to_host(s.pinned.data(), src + off, n, producer);
    s.done.record(producer);
    s.done.synchronize();  // the host needs these bytes now: wait for this copy, nothing else
    std::memcpy(dst + off, s.pinned.data(), n);
  }
}

void synchronize_before_free(stream_t stream) {
  if (!active_pipeline()) synchronize(stream);
}

PTVM_GPU_NAMESPACE_END
