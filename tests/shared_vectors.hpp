// The original's programs and expected results live in ../shared/vectors, beside the repository,
// not in it. Tests that read them skip, naming the folder, when it is absent, so that a clone of
// this repository alone passes; the repository's own programs/ carry their expected results in
// their "; expect:" headers and are checked everywhere. PTVM_SHARED_DIR in the environment
// overrides the compiled-in location (how the skip itself is tested).
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace ptvm::testing {

inline std::filesystem::path shared_vectors_dir() {
  if (const char* env = std::getenv("PTVM_SHARED_DIR")) return std::filesystem::path(env) / "vectors";
  return std::filesystem::path(PTVM_SHARED_DIR) / "vectors";
}

inline bool shared_vectors_present() { return std::filesystem::exists(shared_vectors_dir() / "expected.json"); }

}  // namespace ptvm::testing

#define PTVM_REQUIRE_SHARED_VECTORS()                                                                     \
  do {                                                                                                    \
    if (!::ptvm::testing::shared_vectors_present())                                                       \
      GTEST_SKIP() << "the original's vectors are not at " << ::ptvm::testing::shared_vectors_dir().string() \
                   << " (../shared beside the repository); skipping";                                   \
  } while (0)
