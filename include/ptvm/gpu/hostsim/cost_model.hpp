// The modeled GPU cost of what host-sim ran (README "GPU cost model"): what an H100 would pay for
// the same launches, kernels and copies. Every figure it gives is modeled, not measured.
//
//   kernel k:  max(bytes_k / HBM bandwidth, ops_k / integer throughput)   (ops: declared by the
//              launchers of compute-bound kernels: BLAKE2s, BLAKE2b, the F128 kernels; 0 for the others)
//   + launch_s per launch
//   + round_trip_s per device -> host copy (each download is synchronous: the host waits)
//   + transfers: (h2d + d2h bytes) / PCIe rate (pageable: every copy here is from pageable memory,
//     none overlapped)
// Caches are not modeled (every sector from DRAM), nor host work between launches.
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
  double kernel_s = 0, launch_s = 0, round_trip_s = 0, transfer_s = 0;
  double total_s() const { return kernel_s + launch_s + round_trip_s + transfer_s; }
};

ModeledCost model_cost(const std::vector<KernelProfile>& kernels, const TransferProfile& transfers,
                       const GpuCostModel& model = {});
// The counters recorded since the last reset_profile().
inline ModeledCost model_cost_now(const GpuCostModel& model = {}) {
  return model_cost(kernel_profiles(), transfer_profile(), model);
}

}  // namespace ptvm::hostsim
