// A non-VM, non-example AIR registered with the CUDA backend from a test (custom_air_kernels.cu):
// "square chain", main columns (a, b) with b = a^2 + offset on every row, and a LogUp relation that
// uses and yields (a) on every row (claimed sum 0). The AIR holds host-only data (a name, notes), so
// it is not trivially copyable; the device evaluates its trivially copyable DeviceEval view.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ptvm/air/component.hpp"
#include "ptvm/gpu/cuda_backend.hpp"

namespace ptvm::testing {

struct SquareChainAir {
  uint32_t log_rows = 5;
  uint32_t offset = 7;
  std::string name = "square_chain";
  std::vector<std::string> notes{"host-only data the device never sees"};

  air::ComponentInfo info() const {
    air::ComponentInfo i;
    i.name = name;
    i.log_rows = log_rows;
    i.n_main_columns = 2;
    i.max_constraint_degree = 2;
    return i;
  }
  struct DeviceEval {
    uint32_t offset;
    template <class E>
    PTVM_HD void evaluate(E& e) const {
      using F = typename E::F;
      const F a = e.main(0, 0), b = e.main(1, 0);
      e.add_constraint(b - (a * a + F(M31::from_u32(offset))));
      e.add_fraction(0, F(M31::one()), {a});
      e.add_fraction(0, -F(M31::one()), {a});
    }
  };
  DeviceEval device_eval() const { return {offset}; }
  template <class E>
  PTVM_HD void evaluate(E& e) const {
    DeviceEval{offset}.evaluate(e);
  }
  std::vector<std::vector<M31>> generate_trace() const {
    const size_t n = size_t{1} << log_rows;
    std::vector<std::vector<M31>> cols(2, std::vector<M31>(n));
    for (size_t r = 0; r < n; ++r) {
      cols[0][r] = M31::from_u64(3 * r + 1);
      cols[1][r] = cols[0][r] * cols[0][r] + M31::from_u32(offset);
    }
    return cols;
  }
};

// Registers SquareChainAir's device launchers with `backend` (custom_air_kernels.cu).
void register_square_chain(gpu::CudaBackend& backend);

}  // namespace ptvm::testing
