// libFuzzer target for the binary STARK proof reader: any byte string -> proof_from_binary, and
// when it parses, verify_proof against a fixed claim (a 4-step program, the insecure test
// profile, floor lowered) so that arbitrary proof shapes reach the verifier. The reader may only
// throw ptvm::Error(Parse); the verifier must return a verdict (it never throws). Acceptance is
// not a bug by itself here: at 4 PoW bits one nonce in 16 is valid, so a mutated nonce can still
// verify (tests/vm_air/soundness_test.cpp and tests/stark/soundness_test.cpp check rejections).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "ptvm/common/error.hpp"
#include "ptvm/stark/proof.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vmair/prove.hpp"

namespace {

const ptvm::vmair::ProvedRun& fixed_run() {
  static const ptvm::vmair::ProvedRun run = [] {
    ptvm::vmair::ProveOptions o;
    o.profile = ptvm::stark::profile_by_name("fast-test-insecure");
    o.lockstep = false;
    return ptvm::vmair::prove_program(ptvm::vm::assemble_source("LOADI 3\nADD 4\nPUSH\nHALT\n"), o);
  }();
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ptvm::vmair::ProvedRun& run = fixed_run();
  try {
    const ptvm::stark::StarkProof proof = ptvm::stark::proof_from_binary(std::span<const uint8_t>(data, size));
    ptvm::vmair::VerifyOptions options;
    options.min_security_bits = 0;
    options.allow_custom_profiles = true;  // the proof's own profile is compared with the claim's
    const ptvm::stark::Verdict v = ptvm::vmair::verify_proof(run.claim, proof, options);
    if (!v.accepted && v.reason.empty()) std::abort();  // a rejection always says why
  } catch (const ptvm::Error& e) {
    if (e.category() != ptvm::ErrorCategory::Parse) {
      std::fprintf(stderr, "unexpected %s error: %s\n", ptvm::category_name(e.category()), e.what());
      std::abort();
    }
  }
  return 0;
}
