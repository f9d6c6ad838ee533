// The kernel audit (ptvm/gpu/hostsim/kernel_audit.hpp) of the VM's group proofs under host-sim:
// every kernel a group proof launches moves at most 1.5x its minimal bytes (its compulsory traffic:
// the distinct sectors it loads and stores per launch) and uses at least 90% of every sector it
// fetches, on its main accesses (per-thread data; warp-uniform loads of arguments, column
// references, coefficients and challenges, and single-lane stores of per-block results are
// excluded: see the header; audit_bounds() names the few kernels held to other bounds, and why).
// Proofs: a group of fibonacci jobs (../shared/vectors/fibonacci.tvm) and a group of one 2^14 - 1
// step counter run; each proof is also the CPU backend's.
#include <gtest/gtest.h>

#if defined(PTVM_HOSTSIM)
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "../shared_vectors.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/group_backend.hpp"
#include "ptvm/gpu/hostsim/kernel_audit.hpp"
#include "ptvm/gpu/hostsim/profile.hpp"
#include "ptvm/gpu/vmair_device.hpp"
#include "ptvm/stark/proof.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vmair/prove.hpp"

namespace ptvm {
namespace {

// Proves `jobs` copies of the program's run in one group with profiling on; checks every proof
// against the CPU backend's and returns the audit of the group's kernels.
std::vector<hostsim::KernelAudit> audit_group(const vm::Program& program, uint64_t max_steps, size_t jobs) {
  vmair::ProveOptions options;
  options.max_steps = max_steps;
  const vmair::RecordedRun run = vmair::record_run(program, options);
  const std::vector<uint8_t> expected = stark::proof_to_binary(vmair::prove_trace(run.trace, options, run.execute_ms).proof);
  auto device = gpu::make_cuda_backend();
  vmair::register_device_airs(*device);
  std::vector<std::vector<uint8_t>> proofs(jobs);
  hostsim::reset_profile();
  hostsim::set_profiling(true);
  auto errors = gpu::run_group(*device, jobs, [&](size_t j, Backend& backend) {
    vmair::ProveOptions o = options;
    o.backend = &backend;
    proofs[j] = stark::proof_to_binary(vmair::prove_trace(run.trace, o, run.execute_ms).proof);
  });
  std::vector<hostsim::KernelAudit> audits = hostsim::kernel_audits();
  hostsim::set_profiling(false);
  for (size_t j = 0; j < jobs; ++j) {
    EXPECT_FALSE(errors[j]) << "job " << j;
    EXPECT_TRUE(proofs[j] == expected) << "job " << j << ": not the CPU backend's proof";
  }
  return audits;
}

// The kernels held to other bounds, each with its reason. Every other kernel of the proofs is held
// to 1.5x and 90%.
hostsim::KernelAuditBounds audit_bounds() {
  hostsim::KernelAuditBounds b;
  // Inherent: a decommitment gathers the words of the queried rows, random positions chosen by
  // the channel; each lane reads one word of its own sector. Its bytes stay bounded (1.5x).
  b.allowances.push_back({"gather_words_kernel", 1.5, 0.5, "random query positions: one word per sector"});
  return b;
}

void expect_within_bounds(const std::vector<hostsim::KernelAudit>& audits) {
  ASSERT_FALSE(audits.empty()) << "no kernel was profiled";
  const std::vector<std::string> violations = hostsim::kernel_audit_violations(audits, audit_bounds());
  std::string report;
  for (const std::string& v : violations) report += "  " + v + "\n";
  EXPECT_TRUE(violations.empty()) << "kernels outside the audit's bounds:\n"
                                  << report << hostsim::format_kernel_audit();
}

vm::Program counter() {
  std::ifstream in(std::string(PTVM_SOURCE_DIR) + "/programs/counter_100k.tvm");
  std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return vm::assemble_source(source, "counter_100k.tvm");
}

TEST(KernelAudit, FibonacciGroupKernelsMoveNearTheirMinimalBytes) {
  PTVM_REQUIRE_SHARED_VECTORS();
  const auto program = vm::assemble_file((testing::shared_vectors_dir() / "fibonacci.tvm").string());
  expect_within_bounds(audit_group(program, vm::kDefaultMaxSteps, 2));
}

TEST(KernelAudit, Steps14GroupKernelsMoveNearTheirMinimalBytes) {
  expect_within_bounds(audit_group(counter(), (uint64_t{1} << 14) - 1, 1));
}

// The audit itself: a kernel that reads its input twice, or one lane in eight, breaks the bounds.
TEST(KernelAudit, ViolationsNameTheKernelAndTheBound) {
  hostsim::KernelAudit twice;
  twice.name = "reads_twice";
  twice.main.sectors = 200;
  twice.main.unique_sectors = 100;
  twice.main.used_bytes = 200 * 32;
  hostsim::KernelAudit strided;
  strided.name = "strided";
  strided.main.sectors = 100;
  strided.main.unique_sectors = 100;
  strided.main.used_bytes = 100 * 4;
  hostsim::KernelAudit good;
  good.name = "good";
  good.main.sectors = 140;
  good.main.unique_sectors = 100;
  good.main.used_bytes = 140 * 31;
  good.scalar.sectors = 1000;  // scalar requests are outside the bounds
  const auto v = hostsim::kernel_audit_violations({twice, strided, good});
  ASSERT_EQ(v.size(), 2u);
  EXPECT_NE(v[0].find("reads_twice: main accesses move 2.000x"), std::string::npos) << v[0];
  EXPECT_NE(v[1].find("strided: main accesses use 12.5%"), std::string::npos) << v[1];
  // An allowance moves one kernel's bounds, not the others'.
  hostsim::KernelAuditBounds b;
  b.allowances.push_back({"reads_twice", 2.0, 0.9, "test"});
  const auto w = hostsim::kernel_audit_violations({twice, strided, good}, b);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("strided"), std::string::npos) << w[0];
  b.allowances.back().max_bytes_ratio = 1.9;
  EXPECT_EQ(hostsim::kernel_audit_violations({twice}, b).size(), 1u);
}

}  // namespace
}  // namespace ptvm
#endif
