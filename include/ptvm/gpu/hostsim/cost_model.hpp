// The modeled GPU cost of what host-sim ran (README "GPU cost model"): what an H100 would pay for
// the same launches, kernels and copies. Every figure it gives is modeled, not measured.
//
//   kernel k:  max(bytes_k / HBM bandwidth, ops_k / integer throughput)   (ops: declared by the
//              launchers of compute-bound kernels: BLAKE2s, BLAKE2b, the F128 kernels; 0 for the others)
//   compute stream = sum over kernels + launch_s per launch
//   copy stream    = host -> device bytes issued on streams that run no kernel (the pipeline's copy
//                    stream, ptvm::gpu::DevicePipeline) / PCIe rate: these are the overlapped bytes
//   time = max(compute stream, copy stream)
//        + round_trip_s per device -> host copy (each download is synchronous: the host waits)
//        + the transfers not overlapped (every download, and uploads on a stream that runs
//          kernels) / PCIe rate
// PCIe rate: pinned_bytes_per_s for bytes copied from or into pinned host memory, else
// pageable_bytes_per_s. The max() assumes perfect overlap: each copy-stream upload finishes before
// the compute stream needs it (true in the steady state of a pipeline of groups, where the next
// group's uploads run beside this group's kernels; optimistic for a lone group, whose first
// upload the kernels wait for). Caches are not modeled (every sector from DRAM), nor host work
// between launches.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ptvm/gpu/hostsim/profile.hpp"

namespace ptvm::hostsim {

struct GpuCostModel {
  double hbm_bytes_per_s = 3.35e12;    // H100 SXM HBM3
  double int_ops_per_s = 16.7e12;      // 132 SMs x 64 INT32 lanes x 1.98 GHz
  double launch_s = 4e-6;              // per kernel launch
  double round_trip_s = 10e-6;         // per synchronising device -> host copy
  double pageable_bytes_per_s = 25e9;  // PCIe 5 x16, pageable host memory
  double pinned_bytes_per_s = 50e9;    // PCIe 5 x16, pinned host memory
};

struct ModeledKernel {
  std::string name;
  uint64_t launches = 0, bytes = 0, ops = 0;
  double seconds = 0;  // max(memory, compute) over the kernel's launches
  bool compute_bound = false;
};

struct ModeledCost {
  std::vector<ModeledKernel> kernels;
  uint64_t launches = 0, round_trips = 0, kernel_bytes = 0, kernel_ops = 0;
  uint64_t h2d_copies = 0, h2d_bytes = 0, d2h_bytes = 0;
  uint64_t h2d_pinned_bytes = 0, d2h_pinned_bytes = 0;
  uint64_t overlapped_bytes = 0;  // host -> device bytes on the copy stream(s)
  double kernel_s = 0, launch_s = 0, round_trip_s = 0;
  double copy_stream_s = 0;  // the overlapped transfers
  double transfer_s = 0;     // the transfers not overlapped
  double compute_stream_s() const { return kernel_s + launch_s; }
  double total_s() const {
    return (compute_stream_s() > copy_stream_s ? compute_stream_s() : copy_stream_s) + round_trip_s + transfer_s;
  }
};

// Without stream information: no transfer is overlapped.
ModeledCost model_cost(const std::vector<KernelProfile>& kernels, const TransferProfile& transfers,
                       const GpuCostModel& model = {});
// With the streams of `runtime`: uploads on streams that ran no kernel are overlapped.
ModeledCost model_cost(const std::vector<KernelProfile>& kernels, const TransferProfile& transfers,
                       const RuntimeProfile& runtime, const GpuCostModel& model = {});
// The counters recorded since the last reset_profile().
inline ModeledCost model_cost_now(const GpuCostModel& model = {}) {
  return model_cost(kernel_profiles(), transfer_profile(), runtime_profile(), model);
}

}  // namespace ptvm::hostsim
