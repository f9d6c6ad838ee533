// The VM AIR (all its components, on the device through vm_air_kernels()) proven by the CUDA
// backend under host-sim: the same proof bytes as the CPU backend, accepted by the verifier.
#include <gtest/gtest.h>

#include "../vm_air/vm_air_test_util.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "require_device.hpp"

namespace ptvm::vmair::testing {
namespace {

void expect_same_vm_proof(const std::string& source, uint64_t max_steps) {
  SCOPED_TRACE(source);
  vm::ExecutionTrace trace = run_source(source, max_steps);
  const VmStatement statement = statement_from_trace(trace);
  air::Air a = build_air(statement);
  auto digest = test_digest();
  auto pub = public_inputs(statement, digest);
  auto witness = build_witness(statement, trace);
  auto cpu = make_cpu_backend();
  auto cuda = gpu::make_cuda_backend();
  const stark::StarkProof cuda_proof = stark::prove(a, pub, witness, fast_profile(), *cuda);
  const stark::StarkProof cpu_proof = stark::prove(a, pub, witness, fast_profile(), *cpu);
  EXPECT_TRUE(stark::proof_to_binary(cuda_proof) == stark::proof_to_binary(cpu_proof));
  const stark::Verdict v = stark::verify(a, pub, cuda_proof, fast_profile());
  EXPECT_TRUE(v.accepted) << v.reason;
}

TEST(CudaBackendVmAir, ProofBytesEqualCpu) {
  PTVM_REQUIRE_DEVICE();
  expect_same_vm_proof("LOADI -1\nAND 255\nOR -256\nXOR 21845\nCMP 7\nMUL 300\nHALT\n", 64);
  expect_same_vm_proof(".memory 4\n.init 0 -32768\n.init 1 3\nLOADI 5\nADDM 1\nSUBM 0\nMULM 1\nSTORE 2\nLOAD 2\n"
                       "PUSH\nPOP\nHALT\n", 64);
}

}  // namespace
}  // namespace ptvm::vmair::testing
