// Random M31 and QM31 tables for the sumcheck suites (one mt19937_64 stream per test).
#pragma once
#include <random>
#include <vector>

#include "ptvm/field/qm31.hpp"

namespace ptvm::sumcheck::test {

inline std::vector<QM31> random_qm31(size_t n, std::mt19937_64& rng) {
  std::vector<QM31> v(n);
  auto r = [&] { return M31::from_u64(rng()); };
  for (auto& x : v) x = QM31::from_m31(r(), r(), r(), r());
  return v;
}

inline std::vector<M31> random_m31(size_t n, std::mt19937_64& rng) {
  std::vector<M31> v(n);
  for (auto& x : v) x = M31::from_u64(rng());
  return v;
}

}  // namespace ptvm::sumcheck::test
