// libFuzzer target for the batch manifest reader (run-batch and prove-batch): any byte string ->
// parse_manifest, as either kind. The only acceptable failure is a ptvm::Error(Parse) for the file
// as a whole; per-job problems come back as entries with an error. Nothing is assembled or run.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto kind : {ptvm::vm::ManifestKind::Run, ptvm::vm::ManifestKind::Prove}) {
    try {
      const auto entries = ptvm::vm::parse_manifest(text, "fuzz.json", "/nonexistent", kind);
      for (const auto& e : entries)
        if (!e.job && e.error.empty()) std::abort();  // every rejected job says why
    } catch (const ptvm::Error& e) {
      if (e.category() != ptvm::ErrorCategory::Parse) {
        std::fprintf(stderr, "unexpected %s error: %s\n", ptvm::category_name(e.category()), e.what());
        std::abort();
      }
    }
  }
  return 0;
}
