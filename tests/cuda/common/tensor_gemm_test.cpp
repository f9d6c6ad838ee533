// The tensor engine's device GEMMs (ptvm/gpu/tensor_gemm.hpp) against the CPU's gemm_nt on random
// integer matrices, compared exactly (FP64 on integers is exact): sizes one below, at and above
// the 32-row / 32-column / 32-deep tiles, odd sizes, 1 to 64+ rows per group, many groups; the
// fused FFN (and, natively, the cuBLAS path) against the CPU TensorFfn on random models.
#include <gtest/gtest.h>

#include <random>

#include "gpu_test_util.hpp"
#include "ptvm/gpu/tensor_batch.hpp"
#include "ptvm/gpu/tensor_gemm.hpp"
#include "ptvm/vm/tensor_engine.hpp"

namespace ptvm {
namespace {

using gpu::DeviceBuffer;
using gpu::GemmGroup;

std::vector<double> random_integers(size_t n, int64_t bound, std::mt19937_64& rng) {
  std::vector<double> v(n);
  for (auto& x : v)
    x = static_cast<double>(static_cast<int64_t>(rng() % (2 * bound + 1)) - bound);
  return v;
}

// Groups of the given row counts, back to back, each on a random matrix.
std::vector<GemmGroup> make_groups(const std::vector<uint32_t>& rows, uint32_t matrices,
                                   std::mt19937_64& rng) {
  std::vector<GemmGroup> groups;
  uint32_t at = 0;
  for (uint32_t r : rows) {
    groups.push_back({at, r, static_cast<uint32_t>(rng() % matrices), 0});
    at += r;
  }
  return groups;
}

// C = A B_g^T + bias_g per group through the device, compared with gemm_nt; rows past the groups
// keep their sentinel.
void check_grouped(size_t n, size_t k, const std::vector<uint32_t>& group_rows, bool with_bias,
                   uint64_t seed) {
  SCOPED_TRACE("n " + std::to_string(n) + " k " + std::to_string(k) + " groups " +
               std::to_string(group_rows.size()) + " seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const uint32_t matrices = 3;
  std::vector<GemmGroup> groups = make_groups(group_rows, matrices, rng);
  const uint32_t tiles = gpu::plan_gemm_groups(groups);
  const size_t rows =
      groups.back().row_begin + groups.back().row_count + 2;  // 2 rows outside every group
  const auto a = random_integers(rows * k, 32768, rng);
  const auto b = random_integers(matrices * n * k, 300, rng);
  const auto bias = random_integers(matrices * n, 1000, rng);
  std::vector<double> expected(rows * n, -7.0);
  for (const GemmGroup& g : groups)
    vm::gemm_nt(g.row_count, n, k, a.data() + g.row_begin * k, b.data() + g.matrix * n * k,
                with_bias ? bias.data() + g.matrix * n : nullptr,
                expected.data() + g.row_begin * n);
  auto da = DeviceBuffer<double>::from_host(a), db = DeviceBuffer<double>::from_host(b);
  auto dbias = DeviceBuffer<double>::from_host(bias);
  auto dc = DeviceBuffer<double>::from_host(std::vector<double>(rows * n, -7.0));
  auto dgroups = DeviceBuffer<GemmGroup>::from_host(groups);
  gpu::dgemm_nt_grouped(n, k, da.cptr(), db.cptr(),
                        with_bias ? dbias.cptr() : gpu::gptr<const double>(), dc.ptr(),
                        dgroups.cptr(), static_cast<uint32_t>(groups.size()), tiles, nullptr);
  const auto c = dc.to_host();
  for (size_t i = 0; i < c.size(); ++i)
    ASSERT_EQ(c[i], expected[i]) << "row " << i / n << " column " << i % n;
}

TEST(TensorGemm, GroupedMatchesGemmNtAcrossTileEdges) {
  PTVM_REQUIRE_DEVICE();
  uint64_t seed = 1;
  for (size_t n : {1u, 6u, 31u, 32u, 33u, 65u})
    check_grouped(n, 41, {1, 33, 3}, true, seed++);
  for (size_t k : {1u, 31u, 32u, 33u, 70u})
    check_grouped(33, k, {31, 32}, true, seed++);
  for (const std::vector<uint32_t>& rows : std::vector<std::vector<uint32_t>>{
           {1}, {3}, {64}, {65}, {1, 1, 1, 1, 1, 1, 1}, {31, 1, 33, 2, 64}})
    check_grouped(7, 41, rows, true, seed++);
  check_grouped(17, 23, {5, 9}, false, seed++);  // no bias
}

TEST(TensorGemm, StridedBatchedMatchesGemmNt) {
  PTVM_REQUIRE_DEVICE();
  std::mt19937_64 rng(5);
  for (size_t batch : {1u, 3u})
    for (size_t m : {1u, 32u, 33u})
      for (size_t n : {6u, 33u}) {
        const size_t k = 41;
        SCOPED_TRACE("batch " + std::to_string(batch) + " m " + std::to_string(m) + " n " +
                     std::to_string(n));
        const auto a = random_integers(batch * m * k, 32768, rng),
                   b = random_integers(batch * n * k, 50, rng);
        const auto bias = random_integers(batch * n, 100, rng);
        std::vector<double> expected(batch * m * n);
        for (size_t i = 0; i < batch; ++i)
          vm::gemm_nt(m, n, k, a.data() + i * m * k, b.data() + i * n * k, bias.data() + i * n,
                      expected.data() + i * m * n);
        auto da = DeviceBuffer<double>::from_host(a), db = DeviceBuffer<double>::from_host(b);
        auto dbias = DeviceBuffer<double>::from_host(bias);
        DeviceBuffer<double> dc(batch * m * n);
        gpu::dgemm_nt_strided_batched(batch, m, n, k, da.cptr(), db.cptr(), dbias.cptr(), dc.ptr(),
                                      nullptr);
        ASSERT_EQ(dc.to_host(), expected);
      }
}

TEST(TensorGemm, PlanNumbersTilesAndRefusesEmptyGroups) {
  std::vector<GemmGroup> groups{{0, 1, 0, 0}, {1, 32, 1, 0}, {33, 33, 0, 0}, {66, 64, 2, 0}};
  EXPECT_EQ(gpu::plan_gemm_groups(groups), 1u + 1u + 2u + 2u);
  EXPECT_EQ(groups[0].first_tile, 0u);
  EXPECT_EQ(groups[1].first_tile, 1u);
  EXPECT_EQ(groups[2].first_tile, 2u);
  EXPECT_EQ(groups[3].first_tile, 4u);
  std::vector<GemmGroup> empty{{0, 0, 0, 0}};
  EXPECT_THROW(gpu::plan_gemm_groups(empty), Error);
}

// A random model in TensorModel's layout (small integers, as the compiler's weights are).
vm::TensorModel random_model(size_t blocks, int hidden, std::mt19937_64& rng) {
  vm::TensorModel t;
  t.n_blocks = blocks;
  t.hidden = hidden;
  const size_t H = static_cast<size_t>(hidden);
  t.gate = random_integers(blocks * H * vm::kFfnInputs, 3, rng);
  t.value = random_integers(blocks * H * vm::kFfnInputs, 3, rng);
  t.gate_bias = random_integers(blocks * H, 50, rng);
  t.value_bias = random_integers(blocks * H, 50, rng);
  t.output = random_integers(blocks * vm::kFfnOutputs * H, 4, rng);
  t.output_bias = random_integers(blocks * vm::kFfnOutputs, 300, rng);
  return t;
}

std::vector<gpu::TensorGemmPath> device_paths() {
  std::vector<gpu::TensorGemmPath> paths{gpu::TensorGemmPath::OwnKernel};
  if (gpu::cublas_available())
    paths.push_back(gpu::TensorGemmPath::Cublas);
  return paths;
}

// Every hidden width around the 32-unit chunk, groups of 1 .. 65 rows on random blocks.
TEST(TensorGemm, FfnMatchesTheCpuTensorFfn) {
  PTVM_REQUIRE_DEVICE();
  std::mt19937_64 rng(9);
  for (int hidden : {1, 31, 32, 33, 70})
    for (gpu::TensorGemmPath path : device_paths()) {
      SCOPED_TRACE(std::string("hidden ") + std::to_string(hidden) + ", " +
                   gpu::tensor_gemm_path_name(path));
      const size_t blocks = 5;
      const vm::TensorModel model = random_model(blocks, hidden, rng);
      gpu::DeviceTensorFfn device(model, path);
      auto cpu = vm::make_cpu_tensor_ffn();
      for (const std::vector<size_t>& sizes :
           std::vector<std::vector<size_t>>{{1}, {3, 1, 2}, {65, 31}, {33, 1, 7, 32, 2}}) {
        std::vector<vm::TensorRowGroup> groups;
        size_t rows = 0, block = 0;
        for (size_t s : sizes) {
          block =
              (block + 1 + rng() % 2) % blocks;  // not always ascending: the device takes any order
          groups.push_back({block, rows, s});
          rows += s;
        }
        // Inputs in make_ffn_input's ranges: small ones, bits, and the operand/acc up to 2^15.
        auto x = random_integers(rows * vm::kFfnInputs, 1, rng);
        for (size_t r = 0; r < rows; ++r)
          x[r * vm::kFfnInputs + 3] =
              static_cast<double>(static_cast<int64_t>(rng() % 65536) - 32768);
        std::vector<double> expected(rows * vm::kFfnOutputs), got(rows * vm::kFfnOutputs, -1);
        cpu->evaluate(model, groups, x, expected);
        device.evaluate(model, groups, x, got);
        ASSERT_EQ(got, expected) << "groups " << sizes.size();
      }
      const auto& c = device.counters();
      EXPECT_EQ(c.steps, 4u);
      EXPECT_EQ(c.uploads, 4u);
      EXPECT_EQ(c.downloads, 4u);
      EXPECT_EQ(c.round_trips, 4u);
      EXPECT_EQ(c.launches, path == gpu::TensorGemmPath::OwnKernel ? 4u : 12u);
      EXPECT_EQ(c.weight_uploads, 4u);
    }
}

TEST(TensorGemm, DeviceFfnRefusesWhatItCannotRun) {
  PTVM_REQUIRE_DEVICE();
  std::mt19937_64 rng(3);
  const vm::TensorModel model = random_model(2, 4, rng);
  if (!gpu::cublas_available()) {
    try {
      gpu::DeviceTensorFfn f(model, gpu::TensorGemmPath::Cublas);
      FAIL() << "the cuBLAS path under " << gpu::runtime_name();
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::Usage);
      EXPECT_NE(std::string(e.what()).find("cuBLAS"), std::string::npos) << e.what();
    }
  }
  gpu::DeviceTensorFfn f(model, gpu::TensorGemmPath::OwnKernel);
  EXPECT_NE(f.name().find(gpu::runtime_name()), std::string::npos);
  const vm::TensorModel other = random_model(3, 4, rng);
  std::vector<vm::TensorRowGroup> groups{{0, 0, 1}};
  std::vector<double> x(vm::kFfnInputs), y(vm::kFfnOutputs);
  EXPECT_THROW(f.evaluate(other, groups, x, y), Error);  // another model
  std::vector<vm::TensorRowGroup> outside{{2, 0, 1}};
  EXPECT_THROW(f.evaluate(model, outside, x, y), Error);  // block 2 of 2
  std::vector<vm::TensorRowGroup> short_groups{{0, 0, 1}};
  std::vector<double> x2(2 * vm::kFfnInputs), y2(2 * vm::kFfnOutputs);
  EXPECT_THROW(f.evaluate(model, short_groups, x2, y2), Error);  // a row without a group
}

}  // namespace
}  // namespace ptvm
