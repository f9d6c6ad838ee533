// A program that uses ptvm only through its umbrella header (included first, alone): assemble a
// program, run it on the transformer checked against the native interpreter, prove the run with
// the fast test profile and verify the proof (the test profile is insecure, so the verifier's
// security floor is lowered explicitly). Exit 0 when all of it worked.
#include <ptvm/ptvm.hpp>

#include <cstdio>
#include <exception>
#include <string>

int api_tour();  // api_tour.cpp: a few symbols of every area of the API

namespace {

// F(0) = 0, F(1) = 1, ...: leaves F(12) = 144 in acc (programs/fibonacci.tvm).
constexpr const char* kFibonacci = R"(
.memory 4
.init 0 0
.init 1 1
.init 2 12
start:
  LOAD 2
  JZ done
  SUB 1
  STORE 2
  LOAD 0
  ADDM 1
  STORE 3
  LOAD 1
  STORE 0
  LOAD 3
  STORE 1
  JMP start
done:
  LOAD 0
  HALT
)";

int fail(const std::string& what) {
  std::fprintf(stderr, "consumer: FAILED: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main() {
  try {
    std::printf("ptvm %s\n", ptvm::version_string());
    if (std::string(ptvm::version_string()) != PTVM_VERSION_STRING)
      return fail("version_string() differs from the header's PTVM_VERSION_STRING");

    const ptvm::vm::Program program = ptvm::vm::assemble_source(kFibonacci, "fibonacci.tvm");

    ptvm::vm::RunOptions run_options;
    run_options.engine = ptvm::vm::EngineKind::Transformer;
    run_options.verify_native = true;
    run_options.max_steps = 1000;
    const ptvm::vm::RunResult run = ptvm::vm::run(program, run_options);
    std::printf("run: steps=%llu acc=%d halted=%d\n", static_cast<unsigned long long>(run.steps),
                run.trace.final_state.acc, run.trace.final_state.halted ? 1 : 0);
    if (run.steps != 148 || run.trace.final_state.acc != 144 || !run.trace.final_state.halted)
      return fail("unexpected run result");

    ptvm::vmair::ProveOptions prove_options;
    prove_options.max_steps = 1000;
    prove_options.profile = ptvm::vmair::profile_by_name("fast-test-insecure");
    const ptvm::vmair::ProvedRun proved = ptvm::vmair::prove_program(program, prove_options);

    // Through the proof file, as a verifier elsewhere would see it.
    const std::string file = ptvm::vmair::proof_file_json(proved.claim, proved.proof);
    const ptvm::vmair::ProofFile read = ptvm::vmair::read_proof_file_json(file);
    ptvm::vmair::VerifyOptions verify_options;
    verify_options.min_security_bits = 0;  // fast-test-insecure is below the default 96-bit floor
    const ptvm::stark::Verdict verdict = ptvm::vmair::verify_proof(read.claim, read.proof, verify_options);
    std::printf("proof: %zu bytes, verify: %s%s\n", file.size(), verdict.accepted ? "accepted" : "rejected: ",
                verdict.reason.c_str());
    if (!verdict.accepted) return fail("the proof was rejected");
    // With the default options (96-bit floor) the same proof must be refused.
    if (ptvm::vmair::verify_proof(read.claim, read.proof).accepted)
      return fail("an insecure-profile proof passed the default security floor");

    if (const int rc = api_tour(); rc != 0) return rc;
    std::printf("consumer: OK\n");
    return 0;
  } catch (const std::exception& e) {
    return fail(std::string("exception: ") + e.what());
  }
}
