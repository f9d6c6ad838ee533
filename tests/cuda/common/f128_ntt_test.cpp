// Device coset NTT over F128 against ptvm::ntt (CPU), byte for byte, every log size up to 11 and
// zero-padded coefficient counts; interpolate(evaluate(c)) == c.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "gpu_test_util.hpp"
#include "ptvm/gpu/f128_ntt.hpp"
#include "ptvm/ntt/ntt.hpp"

namespace ptvm {
namespace {

using gpu::DeviceBuffer;

std::vector<F128> random_f128(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<F128> v(n);
  for (auto& x : v) x = F128::from_words_reduce(rng(), rng());
  return v;
}

bool same(const std::vector<F128>& a, const std::vector<F128>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(F128)) == 0;
}

TEST(F128Ntt, CosetEvaluateAndInterpolateMatchCpu) {
  PTVM_REQUIRE_DEVICE();
  const F128 offsets[] = {F128::one(), F128::generator(), random_f128(1, 99)[0]};
  for (uint32_t log = 0; log <= 11; ++log) {
    const size_t n = size_t{1} << log;
    const auto roots = gpu::DeviceNttRoots::upload(log);
    for (const F128& offset : offsets)
      for (size_t n_coeffs : {size_t{1}, (n + 1) / 2, n}) {
        auto coeffs = random_f128(n_coeffs, log * 7 + n_coeffs);
        std::vector<F128> values(n), back(n);
        ntt::coset_evaluate_natural(coeffs, values, offset);
        auto dcoeffs = DeviceBuffer<F128>::from_host(coeffs);
        DeviceBuffer<F128> dvalues(n), dback(n);
        gpu::f128_coset_evaluate_natural(dcoeffs.cptr(), n_coeffs, dvalues.ptr(), log, offset,
                                         roots, nullptr);
        EXPECT_TRUE(same(dvalues.to_host(), values)) << "evaluate log=" << log << " n_coeffs=" << n_coeffs;
        ntt::coset_interpolate_natural(values, back, offset);
        gpu::f128_coset_interpolate_natural(dvalues.cptr(), dback.ptr(), log, offset, roots, nullptr);
        EXPECT_TRUE(same(dback.to_host(), back)) << "interpolate log=" << log;
        coeffs.resize(n, F128::zero());
        EXPECT_TRUE(same(back, coeffs)) << "round trip log=" << log;
      }
  }
}

TEST(F128Ntt, RejectsMismatchedRootsAndZeroOffset) {
  PTVM_REQUIRE_DEVICE();
  const auto roots = gpu::DeviceNttRoots::upload(4);
  DeviceBuffer<F128> a(32);
  EXPECT_THROW(gpu::f128_coset_evaluate_natural(a.cptr(), 8, a.ptr(), 5, F128::one(), roots, nullptr), Error);
  EXPECT_THROW(gpu::f128_coset_evaluate_natural(a.cptr(), 17, a.ptr(), 4, F128::one(), roots, nullptr), Error);
  EXPECT_THROW(gpu::f128_coset_interpolate_natural(a.cptr(), a.ptr(), 4, F128::zero(), roots, nullptr), Error);
}

}  // namespace
}  // namespace ptvm
