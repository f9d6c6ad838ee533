// The modeled GPU cost (ptvm/gpu/hostsim/cost_model.hpp).
#include "ptvm/gpu/hostsim/cost_model.hpp"

#include <algorithm>

namespace ptvm::hostsim {

ModeledCost model_cost(const std::vector<KernelProfile>& kernels, const TransferProfile& transfers,
                       const GpuCostModel& model) {
  ModeledCost c;
  for (const KernelProfile& k : kernels) {
    ModeledKernel m;
    m.name = k.name;
    m.launches = k.launches;
    m.bytes = k.bytes();
    m.ops = k.ops;
    const double memory_s = static_cast<double>(m.bytes) / model.hbm_bytes_per_s;
    const double compute_s = static_cast<double>(m.ops) / model.int_ops_per_s;
    m.seconds = std::max(memory_s, compute_s);
    m.compute_bound = compute_s > memory_s;
    c.launches += m.launches;
    c.kernel_bytes += m.bytes;
    c.kernel_ops += m.ops;
    c.kernel_s += m.seconds;
    c.kernels.push_back(std::move(m));
  }
  c.round_trips = transfers.d2h_copies;
  c.h2d_copies = transfers.h2d_copies;
  c.h2d_bytes = transfers.h2d_bytes;
  c.d2h_bytes = transfers.d2h_bytes;
  c.launch_s = static_cast<double>(c.launches) * model.launch_s;
  c.round_trip_s = static_cast<double>(c.round_trips) * model.round_trip_s;
  c.transfer_s = static_cast<double>(c.h2d_bytes + c.d2h_bytes) / model.pageable_bytes_per_s;
  return c;
}

}  // namespace ptvm::hostsim
