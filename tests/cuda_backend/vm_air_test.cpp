// The VM AIR (all its components, on the device through vmair::register_device_airs()) proven by the CUDA
// backend under host-sim: the same proof bytes as the CPU backend, accepted by the verifier.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "../shared_vectors.hpp"
#include "../vm_air/vm_air_test_util.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/vmair_device.hpp"
#include "require_device.hpp"

namespace ptvm::vmair::testing {
namespace {

void expect_same_vm_proof_of_trace(const vm::ExecutionTrace& trace) {
  const VmStatement statement = statement_from_trace(trace);
  air::Air a = build_air(statement);
  auto digest = test_digest();
  auto pub = public_inputs(statement, digest);
  auto witness = build_witness(statement, trace);
  auto cpu = make_cpu_backend();
  auto cuda = gpu::make_cuda_backend();
  vmair::register_device_airs(*cuda);
  const stark::StarkProof cuda_proof = stark::prove(a, pub, witness, fast_profile(), *cuda);
  const stark::StarkProof cpu_proof = stark::prove(a, pub, witness, fast_profile(), *cpu);
  EXPECT_TRUE(stark::proof_to_binary(cuda_proof) == stark::proof_to_binary(cpu_proof));
  const stark::Verdict v = stark::verify(a, pub, cuda_proof, fast_profile());
  EXPECT_TRUE(v.accepted) << v.reason;
}

void expect_same_vm_proof(const std::string& source, uint64_t max_steps) {
  SCOPED_TRACE(source);
  expect_same_vm_proof_of_trace(run_source(source, max_steps));
}

// max_steps from a programs/ header line "; expect: max_steps=N ..." (512 if absent).
uint64_t header_max_steps(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const size_t at = line.find("max_steps=");
    if (line.rfind(";", 0) == 0 && at != std::string::npos) return std::stoull(line.substr(at + 10));
  }
  return vm::kDefaultMaxSteps;
}

TEST(CudaBackendVmAir, ProofBytesEqualCpu) {
  PTVM_REQUIRE_DEVICE();
  expect_same_vm_proof("LOADI -1\nAND 255\nOR -256\nXOR 21845\nCMP 7\nMUL 300\nHALT\n", 64);
  expect_same_vm_proof(".memory 4\n.init 0 -32768\n.init 1 3\nLOADI 5\nADDM 1\nSUBM 0\nMULM 1\nSTORE 2\nLOAD 2\n"
                       "PUSH\nPOP\nHALT\n", 64);
}

// Every shipped program and every compatibility vector: the CUDA backend (host-sim here) writes the
// CPU backend's proof bytes. Runs longer than 4096 steps only with PTVM_LARGE_TESTS=1.
TEST(CudaBackendVmAir, EveryProgramAndVectorProvesToCpuBytes) {
  PTVM_REQUIRE_DEVICE();
  const bool large = std::getenv("PTVM_LARGE_TESTS") != nullptr;
  size_t proven = 0;
  const std::pair<std::string, uint64_t> folders[] = {{std::string(PTVM_SOURCE_DIR) + "/programs", 0},
                                                      {ptvm::testing::shared_vectors_dir().string(), 100000}};
  const bool shared = ptvm::testing::shared_vectors_present();
  if (!shared) std::cout << "[ skipped  ] " << folders[1].first << " not found: only programs/ is checked\n";
  for (const auto& [folder, fixed_max_steps] : folders) {
    if (!shared && fixed_max_steps) continue;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
      if (entry.path().extension() != ".tvm") continue;
      SCOPED_TRACE(entry.path().string());
      const uint64_t max_steps = fixed_max_steps ? fixed_max_steps : header_max_steps(entry.path());
      vm::ExecutionTrace trace = run_native(vm::assemble_file(entry.path().string()), max_steps);
      if (trace.steps() > 4096 && !large) continue;
      expect_same_vm_proof_of_trace(trace);
      ++proven;
    }
  }
  EXPECT_GE(proven, shared ? 25u : 11u);
}

}  // namespace
}  // namespace ptvm::vmair::testing
