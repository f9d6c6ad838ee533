// The modeled GPU cost (ptvm/gpu/hostsim/cost_model.hpp).
#include "ptvm/gpu/hostsim/cost_model.hpp"

#include <algorithm>

namespace ptvm::hostsim {

ModeledCost model_cost(const std::vector<KernelProfile>& kernels, const TransferProfile& transfers,
                       const RuntimeProfile& runtime, const GpuCostModel& model) {
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
  c.h2d_pinned_bytes = transfers.h2d_pinned_bytes;
  c.d2h_pinned_bytes = transfers.d2h_pinned_bytes;
  c.launch_s = static_cast<double>(c.launches) * model.launch_s;
  c.round_trip_s = static_cast<double>(c.round_trips) * model.round_trip_s;
  auto pcie_s = [&](uint64_t pinned, uint64_t pageable) {
    return static_cast<double>(pinned) / model.pinned_bytes_per_s + static_cast<double>(pageable) / model.pageable_bytes_per_s;
  };
  // Uploads on a (non-default) stream that ran no kernel: the copy engine runs them beside the kernels.
  uint64_t overlapped_pinned = 0, overlapped_pageable = 0;
  for (const StreamProfile& st : runtime.streams) {
    if (st.id == 0 || st.launches != 0) continue;
    overlapped_pinned += st.h2d_pinned_bytes;
    overlapped_pageable += st.h2d_bytes - st.h2d_pinned_bytes;
  }
  c.overlapped_bytes = overlapped_pinned + overlapped_pageable;
  c.copy_stream_s = pcie_s(overlapped_pinned, overlapped_pageable);
  const uint64_t serial_h2d_pinned = c.h2d_pinned_bytes - std::min(c.h2d_pinned_bytes, overlapped_pinned);
  const uint64_t serial_h2d_pageable =
      (c.h2d_bytes - c.h2d_pinned_bytes) - std::min(c.h2d_bytes - c.h2d_pinned_bytes, overlapped_pageable);
  c.transfer_s = pcie_s(serial_h2d_pinned + c.d2h_pinned_bytes, serial_h2d_pageable + (c.d2h_bytes - c.d2h_pinned_bytes));
  return c;
}

ModeledCost model_cost(const std::vector<KernelProfile>& kernels, const TransferProfile& transfers,
                       const GpuCostModel& model) {
  return model_cost(kernels, transfers, RuntimeProfile{}, model);
}

}  // namespace ptvm::hostsim
