// Device-wide scans and reductions for host-sim: host loops. They are not kernels, so their profile
// entry is the traffic of a bandwidth-bound device-wide pass: n elements read, n (scan) or one
// (reduce) written, all coalesced.
#include "hostsim_internal.hpp"
#include "ptvm/gpu/device_wide.hpp"
#include "ptvm/gpu/runtime.hpp"

namespace ptvm::hostsim {
namespace {

template <class T>
using gptr_t = ::ptvm::gpu::gptr<T>;

template <class F>
void record_pass(const char* name, size_t n_read, size_t n_written, const HostStream* stream) {
  if (!profiling()) return;
  LaunchCounters c;
  auto sectors = [](size_t bytes) { return (bytes + 31) / 32; };
  c.load_requests = (n_read + 31) / 32;
  c.store_requests = (n_written + 31) / 32;
  c.sectors = sectors(n_read * sizeof(F)) + sectors(n_written * sizeof(F));
  c.requested_bytes = (n_read + n_written) * sizeof(F);
  // The audit: every sector used in full and touched once (a coalesced single pass).
  c.main.requests = c.load_requests + c.store_requests;
  c.main.sectors = c.main.declared_unique = c.sectors;
  c.main.used_bytes = c.sectors * 32;
  record_launch(name, c, stream);
}

template <class F>
void scan(gptr_t<const F> in, gptr_t<F> out, size_t n, const char* name, const HostStream* stream) {
  F running = F::zero();
  for (size_t i = 0; i < n; ++i) {
    running += in.load(i);
    out.store(i, running);
  }
  record_pass<F>(name, n, n, stream);
}

template <class F>
void reduce(gptr_t<const F> in, gptr_t<F> result, size_t n, const char* name, const HostStream* stream) {
  F sum = F::zero();
  for (size_t i = 0; i < n; ++i) sum += in.load(i);
  result.store(0, sum);
  record_pass<F>(name, n, 1, stream);
}

}  // namespace
}  // namespace ptvm::hostsim

PTVM_GPU_NAMESPACE_BEGIN

void inclusive_scan_add(gptr<const M31> in, gptr<M31> out, size_t n, stream_t stream) {
  ::ptvm::hostsim::scan<M31>(in, out, n, "cub::DeviceScan::InclusiveScan<M31>", resolve_stream(stream));
}
void inclusive_scan_add(gptr<const QM31> in, gptr<QM31> out, size_t n, stream_t stream) {
  ::ptvm::hostsim::scan<QM31>(in, out, n, "cub::DeviceScan::InclusiveScan<QM31>", resolve_stream(stream));
}
void reduce_add(gptr<const M31> in, gptr<M31> result, size_t n, stream_t stream) {
  ::ptvm::hostsim::reduce<M31>(in, result, n, "cub::DeviceReduce::Reduce<M31>", resolve_stream(stream));
}
void reduce_add(gptr<const QM31> in, gptr<QM31> result, size_t n, stream_t stream) {
  ::ptvm::hostsim::reduce<QM31>(in, result, n, "cub::DeviceReduce::Reduce<QM31>", resolve_stream(stream));
}

PTVM_GPU_NAMESPACE_END
