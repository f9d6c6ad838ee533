// The CPU backend's resident values (SumcheckBackend::upload_matrix): a matrix restricted at its
// offset in them gives the restriction of the same matrix given as a span, and a matrix outside
// them or weights of the wrong count are Usage errors (another backend's handle: the GPU test).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/sumcheck/backend.hpp"

namespace ptvm::sumcheck {
namespace {

std::vector<M31> random_values(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<M31> v(n);
  for (M31& x : v) x = M31::from_u64(rng());
  return v;
}
std::vector<QM31> random_weights(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<QM31> v(n);
  for (QM31& x : v) x = QM31::from_u32(uint32_t(rng() % M31::P), uint32_t(rng() % M31::P),
                                       uint32_t(rng() % M31::P), uint32_t(rng() % M31::P));
  return v;
}

TEST(ResidentMatrix, CpuRestrictionAtAnOffsetIsTheSpansRestriction) {
  auto cpu = make_cpu_sumcheck_backend();
  const std::vector<M31> values = random_values(1000, 1);
  const auto resident = cpu->upload_matrix(values);
  EXPECT_EQ(resident->size(), values.size());
  const size_t offset = 200, rows = 16, cols = 32;
  const std::span<const M31> m = std::span<const M31>(values).subspan(offset, rows * cols);
  const auto wr = random_weights(rows, 2), wc = random_weights(cols, 3);
  EXPECT_EQ(cpu->restrict_rows(*resident, offset, rows, cols, wr), cpu->restrict_rows(m, rows, cols, wr));
  EXPECT_EQ(cpu->restrict_columns(*resident, offset, rows, cols, wc), cpu->restrict_columns(m, rows, cols, wc));
}

TEST(ResidentMatrix, CpuMisuseIsAUsageError) {
  auto cpu = make_cpu_sumcheck_backend();
  const std::vector<M31> values = random_values(256, 4);
  const auto resident = cpu->upload_matrix(values);
  const auto w16 = random_weights(16, 5), w8 = random_weights(8, 6);
  const auto usage = [](auto&& f, const char* needle) {
    try {
      f();
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::Usage);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  // 16 x 16 fills the values exactly; one entry further lies outside them.
  EXPECT_NO_THROW(cpu->restrict_rows(*resident, 0, 16, 16, w16));
  usage([&] { cpu->restrict_rows(*resident, 1, 16, 16, w16); }, "outside");
  usage([&] { cpu->restrict_columns(*resident, 0, 16, 32, w16); }, "outside");
  usage([&] { cpu->restrict_rows(*resident, 0, 16, 16, w8); }, "weights");
  usage([&] { cpu->restrict_columns(*resident, 0, 16, 16, w8); }, "weights");
}

}  // namespace
}  // namespace ptvm::sumcheck
