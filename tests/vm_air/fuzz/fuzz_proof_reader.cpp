// libFuzzer target for `tvm verify`'s reader: any byte string -> read_proof_file (JSON or the
// binary container, told apart by the magic), and when it
// parses, verify_proof. Neither may crash, hang or throw anything but ptvm::Error(Parse) from the
// reader; verify_proof never throws.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "ptvm/common/error.hpp"
#include "ptvm/vmair/prove.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    // Either encoding (the binary container's claim goes through the same strict JSON reader).
    ptvm::vmair::ProofFile file = ptvm::vmair::read_proof_file(std::span<const uint8_t>(data, size));
    // No floor and custom profiles allowed, so that mutated claims get as deep into the verifier as
    // they can; the default LDE-size policy stays.
    ptvm::vmair::VerifyOptions options;
    options.min_security_bits = 0;
    options.allow_custom_profiles = true;
    ptvm::stark::Verdict v = ptvm::vmair::verify_proof(file.claim, file.proof, options);
    (void)v;
  } catch (const ptvm::Error& e) {
    if (e.category() != ptvm::ErrorCategory::Parse) std::abort();  // the reader only reports Parse errors
  }
  return 0;
}
