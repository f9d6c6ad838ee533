// The fused stages of the CUDA backend (extend_and_commit: LDE + leaf hashes; fri_fold_*_and_commit:
// fold + the next layer's leaves) against the CPU backend's plain stages: the same extensions,
// roots and openings; the fused kernels run in every proof (single job and group), the proofs are
// the CPU's bytes at edge sizes, and a proof whose fused-stage commitments are tampered with is
// rejected.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "../stark/stark_test_util.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/group_backend.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/profile.hpp"
#endif
#include "require_device.hpp"

namespace ptvm {
namespace {

using stark::testing::Statement;

std::vector<std::vector<M31>> random_columns(size_t n_columns, uint32_t log, uint64_t seed) {
  std::vector<std::vector<M31>> cols(n_columns, std::vector<M31>(size_t{1} << log));
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (auto& c : cols)
    for (auto& v : c) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      v = M31::from_u32(static_cast<uint32_t>(x % M31::P));
    }
  return cols;
}

TEST(CudaFusedStages, ExtendAndCommitEqualsCpuEvaluateAndCommit) {
  PTVM_REQUIRE_DEVICE();
  auto cpu = make_cpu_backend();
  auto cuda = gpu::make_cuda_backend();
  // Three sets of one tree: 17 columns of the largest size (two BLAKE2s blocks per leaf), 3 and 1
  // smaller ones that enter the tree above its leaves.
  const std::vector<std::pair<size_t, uint32_t>> shapes = {{17, 4}, {3, 2}, {1, 4}, {2, 1}};
  for (uint32_t ext : {1u, 2u}) {
    std::vector<Coefficients> cpu_coeffs, cuda_coeffs;
    for (size_t s = 0; s < shapes.size(); ++s) {
      const auto rows = random_columns(shapes[s].first, shapes[s].second, 10 * s + ext);
      cpu_coeffs.push_back(cpu->interpolate(cpu->upload_rows(rows)));
      cuda_coeffs.push_back(cuda->interpolate(cuda->upload_rows(rows)));
    }
    std::vector<const Coefficients*> cpu_sets, cuda_sets;
    for (size_t s = 0; s < shapes.size(); ++s) {
      cpu_sets.push_back(&cpu_coeffs[s]);
      cuda_sets.push_back(&cuda_coeffs[s]);
    }
    const Backend::ExtendedTree want = cpu->extend_and_commit(cpu_sets, ext);
    const Backend::ExtendedTree got = cuda->extend_and_commit(cuda_sets, ext);
    ASSERT_EQ(got.extensions.size(), want.extensions.size());
    for (size_t s = 0; s < want.extensions.size(); ++s)
      for (size_t c = 0; c < want.extensions[s].n_columns(); ++c)
        EXPECT_EQ(got.extensions[s].to_host(c), want.extensions[s].to_host(c)) << "set " << s << " column " << c;
    EXPECT_EQ(got.tree->root(), want.tree->root()) << "extension " << ext;
    EXPECT_EQ(got.tree->column_log_sizes(), want.tree->column_log_sizes());
    const hash::QueriesPerLogSize queries = {{4 + ext, {0, 3, (size_t{1} << (4 + ext)) - 1}}, {1 + ext, {1}}};
    const auto a = got.tree->open(queries), b = want.tree->open(queries);
    EXPECT_EQ(a.queried_values, b.queried_values);
    EXPECT_EQ(a.decommitment.hash_witness, b.decommitment.hash_witness);
    EXPECT_EQ(a.decommitment.column_witness, b.decommitment.column_witness);
  }
}

TEST(CudaFusedStages, FoldAndCommitEqualsCpuFoldThenCommit) {
  PTVM_REQUIRE_DEVICE();
  auto cpu = make_cpu_backend();
  auto cuda = gpu::make_cuda_backend();
  const QM31 alpha = QM31::from_m31(M31::from_u32(3), M31::from_u32(5), M31::from_u32(7), M31::from_u32(11));
  for (uint32_t log : {1u, 2u, 6u}) {
    const auto q = random_columns(4, log + 1, log), acc = random_columns(4, log, log + 50);
    auto cpu_q = SecureEvaluations::from_coordinates(cpu->upload_rows(q)),
         cuda_q = SecureEvaluations::from_coordinates(cuda->upload_rows(q));
    auto cpu_acc = LineEvaluations::from_coordinates(cpu->upload_rows(acc)),
         cuda_acc = LineEvaluations::from_coordinates(cuda->upload_rows(acc));
    const auto want = cpu->fri_fold_circle_and_commit(cpu_q, alpha, &cpu_acc);
    const auto got = cuda->fri_fold_circle_and_commit(cuda_q, alpha, &cuda_acc);
    EXPECT_EQ(got.tree->root(), want.tree->root()) << "circle fold of log " << log + 1;
    for (size_t c = 0; c < 4; ++c) EXPECT_EQ(got.column.to_host(c), want.column.to_host(c));
    const circle::LineDomain domain{circle::CanonicCoset{log + 1}.half_coset()};
    const auto want_line = cpu->fri_fold_line_and_commit(want.column, domain, alpha);
    const auto got_line = cuda->fri_fold_line_and_commit(got.column, domain, alpha);
    if (log >= 1) {
      EXPECT_EQ(got_line.tree->root(), want_line.tree->root()) << "line fold of log " << log;
      for (size_t c = 0; c < 4; ++c) EXPECT_EQ(got_line.column.to_host(c), want_line.column.to_host(c));
    }
  }
}

#if defined(PTVM_HOSTSIM)
std::map<std::string, uint64_t> launches_of_proof(const Statement& s, const stark::Profile& p, Backend& backend,
                                                  std::vector<uint8_t>& bytes) {
  hostsim::reset_profile();
  hostsim::set_profiling(true);
  bytes = stark::proof_to_binary(stark::prove(s.air, s.public_inputs, s.traces, p, backend));
  hostsim::set_profiling(false);
  std::map<std::string, uint64_t> out;
  for (const auto& k : hostsim::kernel_profiles()) out[k.name] = k.launches;
  return out;
}

TEST(CudaFusedStages, FusedKernelsRunInEveryProofAndProofsEqualCpu) {
  const stark::Profile p = stark::profile_by_name("fast-test-insecure");
  auto cpu = make_cpu_backend();
  auto cuda = gpu::make_cuda_backend();
  // Edge sizes: 4 trace rows (the smallest component), 17 columns (two leaf blocks), mixed component sizes.
  for (const Statement& s : {stark::testing::wide_fibonacci(2, 4), stark::testing::wide_fibonacci(3, 17),
                             stark::testing::mixed_sizes(4)}) {
    const auto want = stark::proof_to_binary(stark::prove(s.air, s.public_inputs, s.traces, p, *cpu));
    std::vector<uint8_t> single;
    const auto launches = launches_of_proof(s, p, *cuda, single);
    EXPECT_TRUE(single == want);
    // Every PCS tree with columns (tree 0 only with committed preprocessed columns, the
    // interaction tree only with LogUp) is extended and
    // leaf-hashed in the fused kernel, one launch each; the FRI layers' leaves
    // come from the fold kernels (every inner layer but the ones right after a circle fold).
    // Tree 0 holds only committed preprocessed columns (boundary selectors are succinct).
    bool committed_preprocessed = false;
    for (const auto& c : s.air.components) committed_preprocessed |= c->shape().n_committed_preprocessed > 0;
    const uint64_t trees = (committed_preprocessed ? 1 : 0) + (s.air.relations.empty() ? 2 : 3);
    EXPECT_EQ(launches.count("circle_evaluate_leaves_many_kernel") ? launches.at("circle_evaluate_leaves_many_kernel") : 0,
              trees);
    EXPECT_GT(launches.count("fri_fold_circle_leaves_many_kernel") + launches.count("fri_fold_line_leaves_many_kernel"), 0u);
    // The group path runs the same kernels, one launch set for all its jobs.
    hostsim::reset_profile();
    hostsim::set_profiling(true);
    std::vector<std::vector<uint8_t>> proofs(3);
    auto errors = gpu::run_group(*cuda, 3, [&](size_t j, Backend& b) {
      proofs[j] = stark::proof_to_binary(stark::prove(s.air, s.public_inputs, s.traces, p, b));
    });
    hostsim::set_profiling(false);
    std::map<std::string, uint64_t> group;
    for (const auto& k : hostsim::kernel_profiles()) group[k.name] = k.launches;
    for (size_t j = 0; j < 3; ++j) {
      EXPECT_FALSE(errors[j]);
      EXPECT_TRUE(proofs[j] == want) << "job " << j;
    }
    EXPECT_EQ(group.at("circle_evaluate_leaves_many_kernel"), trees);
  }
}
#endif

TEST(CudaFusedStages, TamperedFusedCommitmentsAreRejected) {
  PTVM_REQUIRE_DEVICE();
  const stark::Profile p = stark::profile_by_name("fast-test-insecure");
  const Statement s = stark::testing::wide_fibonacci(5, 6);
  auto cuda = gpu::make_cuda_backend();
  const stark::StarkProof proof = stark::prove(s.air, s.public_inputs, s.traces, p, *cuda);
  ASSERT_TRUE(stark::verify(s.air, s.public_inputs, proof, p).accepted);
  ASSERT_FALSE(proof.fri.inner_layers.empty());
  {
    stark::StarkProof bad = proof;  // a PCS root from extend_and_commit
    bad.commitments[1].bytes[0] ^= 1;
    EXPECT_FALSE(stark::verify(s.air, s.public_inputs, bad, p).accepted);
  }
  {
    stark::StarkProof bad = proof;  // a FRI layer root from a fused fold
    bad.fri.inner_layers[0].commitment.bytes[31] ^= 0x80;
    EXPECT_FALSE(stark::verify(s.air, s.public_inputs, bad, p).accepted);
  }
}

}  // namespace
}  // namespace ptvm
