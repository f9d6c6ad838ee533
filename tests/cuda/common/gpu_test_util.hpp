// Helpers shared by the GPU test suites: the same test sources run under host-sim (tests/cuda,
// always) and natively (tests/gpu, when a device is visible).
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/gpu/runtime.hpp"

#define PTVM_REQUIRE_DEVICE()                                                         \
  do {                                                                                \
    if (!::ptvm::gpu::device_available()) GTEST_SKIP() << "no CUDA device visible"; \
  } while (0)

namespace ptvm::test {

inline bool large_tests() {
  const char* env = std::getenv("PTVM_LARGE_TESTS");
  return env && env[0] == '1';
}

inline std::vector<M31> random_m31(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<M31> v(n);
  for (auto& x : v) x = M31::raw(static_cast<uint32_t>(rng() % M31::P));
  return v;
}

inline std::vector<QM31> random_qm31(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<QM31> v(n);
  auto r = [&] { return M31::raw(static_cast<uint32_t>(rng() % M31::P)); };
  for (auto& x : v) x = QM31::from_m31(r(), r(), r(), r());
  return v;
}

}  // namespace ptvm::test
