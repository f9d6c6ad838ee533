// libFuzzer target for `tvm verify`'s reader: any byte string -> read_proof_file (JSON or the
// binary container, told apart by the magic) or, for an aggregate file, read_aggregate_file, and
// when it parses, verify_proof / verify_aggregate. Neither may crash, hang or throw anything but ptvm::Error(Parse) from the
// reader; verify_proof never throws.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "ptvm/common/error.hpp"
#include "ptvm/vmair/aggregate.hpp"
#include "ptvm/vmair/prove.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const std::span<const uint8_t> bytes(data, size);
    if (ptvm::vmair::is_aggregate_file(bytes)) {
      ptvm::vmair::AggregateFile file = ptvm::vmair::read_aggregate_file(bytes);
      ptvm::vmair::VerifyOptions options;
      options.min_security_bits = 0;
      options.allow_custom_profiles = true;
      (void)ptvm::vmair::verify_aggregate(file.claims, file.proof, options);
      return 0;
    }
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
