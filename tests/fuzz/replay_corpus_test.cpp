// Replays one fuzz target's kept corpus (PTVM_FUZZ_CORPUS, at least PTVM_FUZZ_MIN_INPUTS files)
// through its entry point with the ordinary compiler, so every build exercises every saved input:
// none may crash, abort or throw.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

TEST(FuzzCorpus, EveryInputReplaysCleanly) {
  const std::filesystem::path dir = PTVM_FUZZ_CORPUS;
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    SCOPED_TRACE(entry.path().string());
    std::ifstream in(entry.path(), std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(LLVMFuzzerTestOneInput(bytes.data(), bytes.size()), 0);
    ++count;
  }
  EXPECT_GE(count, static_cast<size_t>(PTVM_FUZZ_MIN_INPUTS));
}
