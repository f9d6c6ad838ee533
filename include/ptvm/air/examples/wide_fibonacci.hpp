// Example AIR: "wide Fibonacci" (after stwo's wide_fibonacci example). Each row holds a sequence
// c_0, c_1, ..., c_{w-1} with c_{k+2} = c_k^2 + c_{k+1}^2 (w - 2 degree-2 constraints per row).
// Rows are independent; optionally row 0's first two values are bound to public inputs 0 and 1
// (boundary constraints). The benchmark AIR of issue #4 (64 columns).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ptvm/air/component.hpp"

namespace ptvm::air::examples {

struct WideFibonacci {
  uint32_t log_rows = 4;
  uint32_t n_columns = 8;
  bool bind_first_row = false;  // boundary constraints: c_0(row 0) = pub[first_public], c_1(row 0) = pub[first_public + 1]
  uint32_t first_public = 0;
  std::string name = "wide_fibonacci";

  ComponentInfo info() const {
    ComponentInfo i;
    i.name = name;
    i.log_rows = log_rows;
    i.n_main_columns = n_columns;
    i.max_constraint_degree = 2;
    if (bind_first_row) i.boundary_constraints = {{0, 0, first_public}, {1, 0, first_public + 1}};
    return i;
  }

  // What the device evaluates (trivially copyable; the name stays on the host).
  struct DeviceEval {
    uint32_t n_columns;
    template <class E>
    PTVM_HD void evaluate(E& e) const {
      using F = typename E::F;
      F a = e.main(0, 0), b = e.main(1, 0);
      for (uint32_t k = 2; k < n_columns; ++k) {
        F c = e.main(k, 0);
        e.add_constraint(c - (a * a + b * b));
        a = b;
        b = c;
      }
    }
  };
  DeviceEval device_eval() const { return {n_columns}; }
  template <class E>
  PTVM_HD void evaluate(E& e) const {
    DeviceEval{n_columns}.evaluate(e);
  }

  // Row i starts from (first_values[0] + i, first_values[1] + 3i) when i > 0 so rows differ.
  std::vector<std::vector<M31>> generate_trace(M31 start0 = M31::one(), M31 start1 = M31::one()) const {
    const size_t n = size_t{1} << log_rows;
    std::vector<std::vector<M31>> cols(n_columns, std::vector<M31>(n));
    for (size_t r = 0; r < n; ++r) {
      M31 a = start0 + M31::from_u64(r), b = start1 + M31::from_u64(3 * r);
      cols[0][r] = a;
      cols[1][r] = b;
      for (uint32_t k = 2; k < n_columns; ++k) {
        M31 c = a * a + b * b;
        cols[k][r] = c;
        a = b;
        b = c;
      }
    }
    return cols;
  }
};

}  // namespace ptvm::air::examples
