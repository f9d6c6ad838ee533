// ptvm::Error: the one exception type of the library. The CLI catches it once, prints
// "error: <what>" and exits non-zero (1 runtime, 2 usage, 3 verification failed).
#pragma once
#include <stdexcept>
#include <string>

namespace ptvm {

enum class ErrorCategory {
  Parse,        // malformed .tvm source, manifest, proof file
  Runtime,      // VM runtime error (bad pc, memory out of range, stack over/underflow)
  Divergence,   // engines disagree in lockstep
  Usage,        // bad command-line or API arguments
  Io,           // files
  Verification, // a proof was rejected
  Internal,     // a bug: an invariant of ptvm itself broke
  Device,       // CUDA / host-sim errors
};

inline const char* category_name(ErrorCategory c) {
  switch (c) {
    case ErrorCategory::Parse: return "parse";
    case ErrorCategory::Runtime: return "runtime";
    case ErrorCategory::Divergence: return "divergence";
    case ErrorCategory::Usage: return "usage";
    case ErrorCategory::Io: return "io";
    case ErrorCategory::Verification: return "verification";
    case ErrorCategory::Internal: return "internal";
    case ErrorCategory::Device: return "device";
  }
  return "unknown";
}

class Error : public std::runtime_error {
 public:
  Error(ErrorCategory category, const std::string& message)
      : std::runtime_error(message), category_(category) {}
  ErrorCategory category() const noexcept { return category_; }

 private:
  ErrorCategory category_;
};

}  // namespace ptvm
