// Replays the proof-reader fuzz corpus (and mutations of a real proof file) through the fuzz entry
// point in every build; the libFuzzer binary itself needs PTVM_BUILD_FUZZ=ON and clang.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/runner.hpp"
#include "ptvm/vmair/aggregate.hpp"
#include "ptvm/vmair/prove.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int feed(const std::string& s) { return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

TEST(VmProofReaderFuzz, CorpusReplays) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(PTVM_VM_AIR_FUZZ_DIR) + "/corpus_proof_reader")) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(feed(ss.str()), 0) << e.path();
    ++n;
  }
  EXPECT_GE(n, 3u);
}

TEST(VmProofReaderFuzz, MutatedRealProofFile) {
  ptvm::vmair::ProveOptions o;
  o.profile = ptvm::stark::profile_by_name("fast-test-insecure");
  o.lockstep = false;
  auto run = ptvm::vmair::prove_program(ptvm::vm::assemble_source("LOADI 3\nADD 4\nPUSH\nHALT\n"), o);
  const std::string text = ptvm::vmair::proof_file_json(run.claim, run.proof);
  EXPECT_EQ(feed(text), 0);
  uint64_t seed = 12345;
  for (int i = 0; i < 300; ++i) {
    std::string m = text;
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    size_t at = (seed >> 20) % m.size();
    switch (i % 4) {
      case 0: m[at] = static_cast<char>(seed >> 56); break;       // byte flip
      case 1: m.erase(at, (seed >> 8) % 40); break;                // deletion
      case 2: m.insert(at, "9999999999999"); break;                // huge number
      default: m = m.substr(0, at); break;                         // truncation
    }
    EXPECT_EQ(feed(m), 0) << "mutation " << i;
  }
}

TEST(VmProofReaderFuzz, MutatedRealAggregateFile) {
  ptvm::vm::RunOptions ro;
  ro.engine = ptvm::vm::EngineKind::Native;
  ro.record_trace = true;
  const auto a = ptvm::vm::run(ptvm::vm::assemble_source("LOADI 3\nADD 4\nPUSH\nHALT\n"), ro).trace;
  const auto b = ptvm::vm::run(ptvm::vm::assemble_source("LOADI 9\nXOR 5\nHALT\n"), ro).trace;
  const std::vector<ptvm::vmair::AggregateRun> runs = {{&a, 1}, {&b, 1}};
  ptvm::vmair::AggregateProveOptions o;
  o.profile = ptvm::stark::profile_by_name("fast-test-insecure");
  const auto agg = ptvm::vmair::prove_aggregate(runs, o);
  const std::string text = ptvm::vmair::aggregate_file_json(agg.claims, agg.proof);
  const auto bin = ptvm::vmair::aggregate_file_binary(agg.claims, agg.proof);
  EXPECT_EQ(feed(text), 0);
  uint64_t seed = 777;
  for (int i = 0; i < 200; ++i) {
    std::string m = i % 2 ? text : std::string(bin.begin(), bin.end());
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    const size_t at = 8 + (seed >> 20) % (m.size() - 8);  // keep the magic or format prefix mostly
    switch (i % 3) {
      case 0: m[at] = static_cast<char>(seed >> 56); break;
      case 1: m.erase(at, (seed >> 8) % 40); break;
      default: m = m.substr(0, at); break;
    }
    EXPECT_EQ(feed(m), 0) << "mutation " << i;
  }
}

}  // namespace
