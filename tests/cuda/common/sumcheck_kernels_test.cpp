// The sumcheck kernels against the CPU sumcheck backend, byte for byte (sizes around the block
// size and the grid caps), and whole protocols (product sumcheck, matmul, GKR, LogUp-GKR) proven
// with the GPU sumcheck backend: the same proofs and channel digests as on the CPU.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <random>

#include "gpu_test_util.hpp"
#include "ptvm/gpu/sumcheck_backend.hpp"
#include "ptvm/gpu/sumcheck_eq_table.hpp"
#include "ptvm/gpu/sumcheck_fix_variable.hpp"
#include "ptvm/gpu/sumcheck_restrict.hpp"
#include "ptvm/gpu/sumcheck_round.hpp"
#include "ptvm/sumcheck/eq.hpp"
#include "ptvm/sumcheck/gkr.hpp"
#include "ptvm/sumcheck/layered_gkr.hpp"
#include "ptvm/sumcheck/logup_gkr.hpp"
#include "ptvm/sumcheck/matmul.hpp"
#include "ptvm/sumcheck/mle.hpp"

namespace ptvm {
namespace {

using gpu::DeviceBuffer;
using sumcheck::ProductShape;

template <class T>
bool same_bytes(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

ProductShape logup_shape() {
  ProductShape s;
  s.n_factors = 5;  // p0, p1, q0, q1, eq
  s.n_terms = 3;
  s.term_masks[0] = 0b11001;
  s.term_masks[1] = 0b10110;
  s.term_masks[2] = 0b11100;
  s.term_coefficients[0] = s.term_coefficients[1] = QM31::one();
  s.term_coefficients[2] = QM31::from_u32(9, 8, 7, 6);
  return s;
}

TEST(SumcheckKernels, RoundAndFixMatchTheCpuBackend) {
  PTVM_REQUIRE_DEVICE();
  auto cpu = sumcheck::make_cpu_sumcheck_backend();
  const ProductShape shape = logup_shape();
  for (unsigned n : {1u, 2u, 5u, 8u, 9u, 12u}) {
    std::vector<std::vector<QM31>> tables;
    for (uint32_t j = 0; j < shape.n_factors; ++j) tables.push_back(test::random_qm31(size_t{1} << n, 100 * n + j));
    auto host = cpu->load_tables(std::span<const std::vector<QM31>>(tables), {});
    std::vector<QM31> flat;
    for (const auto& t : tables) flat.insert(flat.end(), t.begin(), t.end());
    auto dev = DeviceBuffer<QM31>::from_host(flat);
    const size_t stride = size_t{1} << n;
    for (unsigned vars = n; vars >= 1; --vars) {
      const auto expected = cpu->sumcheck_round(*host, shape, shape.degree());
      const auto got = gpu::sumcheck_round(dev.cptr(), stride, shape.n_factors, vars, shape, shape.degree() + 1,
                                            gpu::gptr<const QM31>(), nullptr);
      ASSERT_TRUE(same_bytes(got, expected)) << "n=" << n << " vars=" << vars;
      const QM31 r = QM31::from_u32(vars, 77, 3, 1 << 20);
      cpu->fix_first_variable(*host, r);
      gpu::sumcheck_fix_first_variable(dev.ptr(), stride, shape.n_factors, vars, r, nullptr);
      const auto all = dev.to_host();
      const auto want = host->to_host();
      for (size_t j = 0; j < tables.size(); ++j)
        ASSERT_TRUE(same_bytes(std::vector<QM31>(all.begin() + j * stride, all.begin() + j * stride + (size_t{1} << (vars - 1))),
                               want[j]))
            << "n=" << n << " vars=" << vars << " table " << j;
    }
  }
}

// The eq-weighted round sum against round.hpp's formula on the CPU.
TEST(SumcheckKernels, WeightedRoundMatchesTheFormula) {
  PTVM_REQUIRE_DEVICE();
  ProductShape shape = logup_shape();
  shape.n_factors = 4;  // p0, p1, q0, q1 (the eq factor is the weight)
  for (uint32_t t = 0; t < shape.n_terms; ++t) shape.term_masks[t] &= 0b1111;
  for (unsigned n : {1u, 3u, 9u, 11u}) {
    const size_t size = size_t{1} << n, half = size / 2;
    auto flat = test::random_qm31(4 * size, n + 900);
    auto weights = test::random_qm31(half, n + 901);
    std::vector<QM31> want(shape.degree() + 1, QM31::zero());
    for (size_t x = 0; x < half; ++x) {
      QM31 lo[4], hi[4];
      for (int j = 0; j < 4; ++j) {
        lo[j] = flat[j * size + x];
        hi[j] = flat[j * size + x + half];
      }
      sumcheck::round_accumulate_weighted(shape, shape.degree() + 1, lo, hi, weights[x], want.data());
    }
    auto dev = DeviceBuffer<QM31>::from_host(flat);
    auto dw = DeviceBuffer<QM31>::from_host(weights);
    EXPECT_TRUE(same_bytes(gpu::sumcheck_round(dev.cptr(), size, 4, n, shape, shape.degree() + 1, dw.cptr(), nullptr), want))
        << "n=" << n;
  }
}

TEST(SumcheckKernels, FixM31TablesLiftsAndFolds) {
  PTVM_REQUIRE_DEVICE();
  for (unsigned n : {1u, 4u, 10u}) {
    auto a = test::random_m31(size_t{1} << n, n), b = test::random_m31(size_t{1} << n, n + 50);
    std::vector<M31> flat = a;
    flat.insert(flat.end(), b.begin(), b.end());
    auto in = DeviceBuffer<M31>::from_host(flat);
    const size_t half = size_t{1} << (n - 1);
    DeviceBuffer<QM31> out(2 * half);
    const QM31 r = QM31::from_u32(5, 6, 7, 8);
    gpu::sumcheck_fix_first_variable_m31(in.cptr(), size_t{1} << n, out.ptr(), half, 2, n, r, nullptr);
    auto want = sumcheck::fix_first_variable<M31>(a, r);
    auto want_b = sumcheck::fix_first_variable<M31>(b, r);
    want.insert(want.end(), want_b.begin(), want_b.end());
    EXPECT_TRUE(same_bytes(out.to_host(), want)) << "n=" << n;
  }
}

TEST(SumcheckKernels, EqTableMatchesCpu) {
  PTVM_REQUIRE_DEVICE();
  for (unsigned n : {0u, 1u, 3u, 8u, 9u, 13u}) {
    auto point = test::random_qm31(n == 0 ? 1 : n, 7 + n);
    point.resize(n);
    const QM31 scale = QM31::from_u32(3, 1, 4, 1);
    DeviceBuffer<QM31> p(point.empty() ? 1 : point.size());
    if (!point.empty()) p.upload(point);
    DeviceBuffer<QM31> out(size_t{1} << n);
    gpu::sumcheck_eq_table(p.cptr(), n, scale, out.ptr(), nullptr);
    EXPECT_TRUE(same_bytes(out.to_host(), sumcheck::eq_table(point, scale))) << "n=" << n;
  }
}

TEST(SumcheckKernels, FusedRestrictionMatchesCpu) {
  PTVM_REQUIRE_DEVICE();
  auto cpu = sumcheck::make_cpu_sumcheck_backend();
  const size_t shapes[][2] = {{1, 1}, {1, 64}, {64, 1}, {16, 16}, {2, 512}, {512, 2}, {32, 256}, {8, 1024}, {1024, 8}};
  for (const auto& s : shapes) {
    const size_t rows = s[0], cols = s[1];
    auto m = test::random_m31(rows * cols, rows * 31 + cols);
    auto wr = test::random_qm31(rows, rows + 3), wc = test::random_qm31(cols, cols + 4);
    auto dm = DeviceBuffer<M31>::from_host(m);
    auto dwr = DeviceBuffer<QM31>::from_host(wr), dwc = DeviceBuffer<QM31>::from_host(wc);
    DeviceBuffer<QM31> out_r(cols), out_c(rows);
    gpu::sumcheck_restrict_rows(dm.cptr(), rows, cols, dwr.cptr(), out_r.ptr(), nullptr);
    gpu::sumcheck_restrict_columns(dm.cptr(), rows, cols, dwc.cptr(), out_c.ptr(), nullptr);
    EXPECT_TRUE(same_bytes(out_r.to_host(), cpu->restrict_rows(m, rows, cols, wr))) << rows << "x" << cols;
    EXPECT_TRUE(same_bytes(out_c.to_host(), cpu->restrict_columns(m, rows, cols, wc))) << rows << "x" << cols;
    // One chunk over all rows: every weight tile of 256 rows in turn.
    DeviceBuffer<QM31> one_chunk(cols);
    gpu::sumcheck_restrict_rows(dm.cptr(), rows, cols, dwr.cptr(), one_chunk.ptr(), nullptr, 1);
    EXPECT_TRUE(same_bytes(one_chunk.to_host(), cpu->restrict_rows(m, rows, cols, wr))) << rows << "x" << cols;
  }
}

TEST(SumcheckBackend, ProtocolsGiveByteIdenticalTranscripts) {
  PTVM_REQUIRE_DEVICE();
  auto gpu_backend = gpu::make_gpu_sumcheck_backend();
  auto cpu_backend = sumcheck::make_cpu_sumcheck_backend();
  using sumcheck::Blake2sChannel;
  // Product sumcheck with an eq factor (degree 3).
  {
    ProductShape s;
    s.n_factors = 2;
    s.n_terms = 1;
    s.term_masks[0] = 0b11;
    s.term_coefficients[0] = QM31::one();
    std::vector<std::vector<QM31>> tables = {test::random_qm31(512, 1), test::random_qm31(512, 2)};
    auto z = test::random_qm31(9, 3);
    Blake2sChannel c1, c2;
    auto a = sumcheck::prove_product_sumcheck<QM31>(s, z, tables, c1, *cpu_backend);
    auto b = sumcheck::prove_product_sumcheck<QM31>(s, z, tables, c2, *gpu_backend);
    EXPECT_EQ(c1.digest(), c2.digest());
    EXPECT_EQ(a.proof.final_values, b.proof.final_values);
  }
  // A batched matmul sharing the left operand.
  {
    sumcheck::MatmulStatement st{{{8, 64}, {64, 4}, {64, 16}}, {{0, 1}, {0, 2}}};
    auto x = test::random_m31(8 * 64, 4), w1 = test::random_m31(64 * 4, 5), w2 = test::random_m31(64 * 16, 6);
    const sumcheck::MatrixView ops[] = {{x, 8, 64}, {w1, 64, 4}, {w2, 64, 16}};
    auto c1m = sumcheck::multiply_m31(ops[0], ops[1]), c2m = sumcheck::multiply_m31(ops[0], ops[2]);
    const sumcheck::MatrixView outs[] = {{c1m, 8, 4}, {c2m, 8, 16}};
    Blake2sChannel c1, c2;
    auto a = sumcheck::prove_matmul(st, ops, outs, c1, *cpu_backend);
    auto b = sumcheck::prove_matmul(st, ops, outs, c2, *gpu_backend);
    EXPECT_EQ(c1.digest(), c2.digest());
    Blake2sChannel v;
    EXPECT_TRUE(sumcheck::verify_matmul(st, b.proof, v).accepted);
  }
  // LogUp-GKR of a fraction sum.
  {
    sumcheck::FractionColumns f{test::random_qm31(100, 7), test::random_qm31(100, 8)};
    Blake2sChannel c1, c2;
    auto a = sumcheck::prove_fraction_sum(f, c1, *cpu_backend);
    auto b = sumcheck::prove_fraction_sum(f, c2, *gpu_backend);
    EXPECT_EQ(c1.digest(), c2.digest());
    EXPECT_EQ(a.numerator_claim, b.numerator_claim);
  }
  // M31 tables with an eq factor (the CPU backend's first round is in the base field).
  {
    ProductShape s;
    s.n_factors = 3;
    s.n_terms = 2;
    s.term_masks[0] = 0b011;
    s.term_masks[1] = 0b110;
    s.term_coefficients[0] = QM31::one();
    s.term_coefficients[1] = QM31::from_u32(2, 7, 1, 8);
    std::vector<std::vector<M31>> tables = {test::random_m31(1024, 9), test::random_m31(1024, 10),
                                            test::random_m31(1024, 11)};
    auto z = test::random_qm31(10, 12);
    Blake2sChannel c1, c2;
    auto a = sumcheck::prove_product_sumcheck<M31>(s, z, tables, c1, *cpu_backend);
    auto b = sumcheck::prove_product_sumcheck<M31>(s, z, tables, c2, *gpu_backend);
    EXPECT_EQ(c1.digest(), c2.digest());
    EXPECT_EQ(a.proof.final_values, b.proof.final_values);
  }
  // A layered circuit with arbitrary wiring (both phases of every layer on the backend).
  {
    sumcheck::LayeredCircuit c;
    c.n_inputs = 37;
    std::mt19937_64 rng(13);
    const uint32_t widths[] = {5, 70, 19, 37};  // outputs, two inner layers, inputs
    for (size_t i = 0; i < 3; ++i) c.layers.emplace_back(widths[i]);
    for (size_t i = 0; i < c.layers.size(); ++i)
      for (auto& g : c.layers[i])
        g = {rng() % 2 ? sumcheck::WiredGateKind::Add : sumcheck::WiredGateKind::Mul,
             uint32_t(rng() % widths[i + 1]), uint32_t(rng() % widths[i + 1])};
    const auto input = test::random_qm31(37, 14);
    Blake2sChannel c1, c2;
    auto a = sumcheck::prove_layered_gkr(c, input, c1, *cpu_backend);
    auto b = sumcheck::prove_layered_gkr(c, input, c2, *gpu_backend);
    EXPECT_EQ(c1.digest(), c2.digest());
    Blake2sChannel v;
    EXPECT_TRUE(sumcheck::verify_layered_gkr(c, b.proof, v).accepted);
  }
}

// Resident values (upload_matrix): matrices restricted at their offset on the device give the CPU
// backend's restriction of the same span; misuse is a Usage error naming the call.
TEST(SumcheckBackend, ResidentMatrixRestrictionsMatchTheCpuBackend) {
  PTVM_REQUIRE_DEVICE();
  auto gpu_backend = gpu::make_gpu_sumcheck_backend();
  auto cpu = sumcheck::make_cpu_sumcheck_backend();
  const auto values = test::random_m31(5000, 21);
  const auto resident = gpu_backend->upload_matrix(values);
  EXPECT_EQ(resident->size(), values.size());
  const size_t shapes[][3] = {{0, 1, 1}, {7, 1, 64}, {100, 64, 1}, {900, 16, 256}, {904, 64, 64}};
  for (const auto& sh : shapes) {
    const size_t offset = sh[0], rows = sh[1], cols = sh[2];
    const std::span<const M31> m = std::span<const M31>(values).subspan(offset, rows * cols);
    const auto wr = test::random_qm31(rows, rows + 22), wc = test::random_qm31(cols, cols + 23);
    EXPECT_TRUE(same_bytes(gpu_backend->restrict_rows(*resident, offset, rows, cols, wr), cpu->restrict_rows(m, rows, cols, wr)))
        << offset << ": " << rows << "x" << cols;
    EXPECT_TRUE(same_bytes(gpu_backend->restrict_columns(*resident, offset, rows, cols, wc),
                           cpu->restrict_columns(m, rows, cols, wc)))
        << offset << ": " << rows << "x" << cols;
  }
  const auto usage = [](auto&& f, const char* needle) {
    try {
      f();
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::Usage);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  const auto w64 = test::random_qm31(64, 24), w32 = test::random_qm31(32, 25);
  usage([&] { gpu_backend->restrict_rows(*resident, 4937, 64, 1, w64); }, "outside");  // one entry past the end
  usage([&] { gpu_backend->restrict_columns(*resident, 0, 64, 128, test::random_qm31(128, 26)); }, "outside");
  usage([&] { gpu_backend->restrict_rows(*resident, 0, 64, 64, w32); }, "weights");
  usage([&] { gpu_backend->restrict_columns(*resident, 0, 64, 64, w32); }, "weights");
  const auto on_cpu = cpu->upload_matrix(values);
  usage([&] { gpu_backend->restrict_rows(*on_cpu, 0, 64, 64, w64); }, "another backend");
  usage([&] { cpu->restrict_rows(*resident, 0, 64, 64, w64); }, "another backend");
}

}  // namespace
}  // namespace ptvm

// The GPU int8 GEMM engine (cuBLASLt natively, the CPU GEMM under host-sim) against the CPU
// reference, at the largest exact k and at shapes of the matmul benchmarks' witnesses.
#include "ptvm/gpu/int8_gemm.hpp"

namespace ptvm {
namespace {

TEST(Int8GemmEngine, MatchesTheCpuReference) {
  PTVM_REQUIRE_DEVICE();
  auto gpu_engine = gpu::make_gpu_int8_gemm();
  auto cpu_engine = sumcheck::make_cpu_int8_gemm();
  if (!gpu::gpu_int8_gemm_is_cublaslt()) {
    EXPECT_NE(gpu_engine->name().find("cpu"), std::string::npos);
  }
  std::mt19937_64 rng(5);
  for (auto [m, k, n] : {std::array<size_t, 3>{4, 4, 4}, {64, 256, 8}, {8, 4096, 4}, {1, (size_t{1} << 17) - 4, 4}}) {
    std::vector<int8_t> a(m * k), bt(n * k);
    for (auto& x : a) x = int8_t(rng() % 256 - 128);
    for (auto& x : bt) x = int8_t(rng() % 256 - 128);
    std::vector<int32_t> want(m * n), got(m * n);
    cpu_engine->gemm(a, bt, want, m, k, n);
    gpu_engine->gemm(a, bt, got, m, k, n);
    EXPECT_EQ(got, want) << m << "x" << k << "x" << n << " on " << gpu_engine->name();
  }
  // M31 products on int8 limbs through the GPU engine.
  auto am = test::random_m31(8 * 64, 1), bm = test::random_m31(64 * 4, 2);
  const sumcheck::MatrixView av{am, 8, 64}, bv{bm, 64, 4};
  EXPECT_EQ(sumcheck::multiply_m31_by_int8_limbs(av, bv, *gpu_engine), sumcheck::multiply_m31(av, bv));
}

}  // namespace
}  // namespace ptvm
