// The aggregate proof (ptvm/vmair/aggregate.hpp: the jobs' components relabelled into one AIR) on
// the CUDA backend under host-sim: the relabelled components' device evaluators registered by
// vmair::register_device_airs, the same proof bytes as the CPU backend, accepted.
#include <gtest/gtest.h>

#include "../vm_air/vm_air_test_util.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/vmair_device.hpp"
#include "ptvm/stark/proof.hpp"
#include "ptvm/vmair/aggregate.hpp"
#include "require_device.hpp"

namespace ptvm::vmair::testing {
namespace {

TEST(CudaAggregate, SameBytesAsTheCpuBackend) {
  PTVM_REQUIRE_DEVICE();
  const std::vector<vm::ExecutionTrace> traces = {
      run_source("LOADI 0\nloop:\nADD 3\nCMP 60\nJZ done\nJMP loop\ndone:\nHALT\n"),
      run_source(".memory 4\n.init 2 9\nLOADI 5\nSTORE 1\nLOAD 2\nADDM 1\nSTORE 3\nHALT\n"),
      run_source("LOADI 12\nAND 10\nXOR 3\nHALT\n")};
  std::vector<AggregateRun> runs;
  for (const auto& t : traces) runs.push_back({&t, 1, false});
  AggregateProveOptions o;
  o.profile = fast_profile();
  const AggregateProof cpu = prove_aggregate(runs, o);
  auto cuda = gpu::make_cuda_backend();
  vmair::register_device_airs(*cuda);
  o.backend = cuda.get();
  const AggregateProof dev = prove_aggregate(runs, o);
  EXPECT_TRUE(stark::proof_to_binary(dev.proof) == stark::proof_to_binary(cpu.proof));
  VerifyOptions v;
  v.min_security_bits = 0;
  EXPECT_TRUE(verify_aggregate(dev.claims, dev.proof, v).accepted);
}

}  // namespace
}  // namespace ptvm::vmair::testing
