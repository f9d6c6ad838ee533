// The batch manifest reader shared by run-batch and prove-batch: whole-file problems throw a
// Parse error naming the file; a bad job is that job's error and the others are still read.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/manifest.hpp"

namespace ptvm::vm {
namespace {

std::vector<ManifestEntry> parse(const std::string& text, ManifestKind kind = ManifestKind::Run) {
  return parse_manifest(text, "m.json", "/jobs", kind);
}

std::string file_error(const std::string& text, ManifestKind kind = ManifestKind::Run) {
  try {
    parse(text, kind);
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::Parse);
    return e.what();
  }
  ADD_FAILURE() << "accepted " << text;
  return "";
}

TEST(Manifest, ReadsEveryField) {
  const auto entries = parse(R"([{"program":"a.tvm","max_steps":7,"engine":"transformer",
      "attention_mode":"softmax","initial_memory":[1,-2,32767,-32768],"layers":3,"verify_native":true},
      {"program":"/abs/b.tvm"}])");
  ASSERT_EQ(entries.size(), 2u);
  ASSERT_TRUE(entries[0].job);
  const ManifestJob& j = *entries[0].job;
  EXPECT_EQ(j.program, "a.tvm");
  EXPECT_EQ(j.program_path, std::filesystem::path("/jobs/a.tvm"));
  EXPECT_EQ(j.max_steps, 7u);
  EXPECT_EQ(j.engine, EngineKind::Transformer);
  EXPECT_EQ(j.attention->kind, AttentionMode::Kind::Softmax);
  EXPECT_EQ(*j.initial_memory, (std::vector<int16_t>{1, -2, 32767, -32768}));
  EXPECT_EQ(j.layers, 3);
  EXPECT_EQ(j.verify_native, true);
  ASSERT_TRUE(entries[1].job);
  EXPECT_EQ(entries[1].job->program_path, std::filesystem::path("/abs/b.tvm"));
  EXPECT_FALSE(entries[1].job->max_steps);
}

TEST(Manifest, ABadJobIsThatJobsErrorOnly) {
  const auto entries = parse(R"([{"program":"ok.tvm"}, 5, {"program":3}, {"program":"x","layers":0},
      {"program":"x","layers":257}, {"program":"x","max_steps":-1}, {"program":"x","initial_memory":[40000]},
      {"program":"x","engine":"tensorflow"}, {"program":"x","bogus":1}, {"program":"x","verify_native":1},
      {"program":""}, {"program":"x","initial_memory":[1.5]}])");
  ASSERT_EQ(entries.size(), 12u);
  EXPECT_TRUE(entries[0].job);
  const char* expected[] = {"", "a job must be a JSON object", "field 'program'", "field 'layers'", "field 'layers'",
                            "field 'max_steps'", "field 'initial_memory'", "field 'engine'", "unknown field 'bogus'",
                            "field 'verify_native'", "is empty", "field 'initial_memory'"};
  for (size_t i = 1; i < entries.size(); ++i) {
    EXPECT_FALSE(entries[i].job) << i;
    EXPECT_EQ(entries[i].error.rfind("job " + std::to_string(i) + ": ", 0), 0u) << entries[i].error;
    EXPECT_NE(entries[i].error.find(expected[i]), std::string::npos) << entries[i].error;
  }
  EXPECT_EQ(entries[3].program, "x");
}

TEST(Manifest, ProveManifestsRefuseRunOnlyFields) {
  const auto entries = parse(R"([{"program":"a","engine":"native"},{"program":"a","attention_mode":"softmax"},
      {"program":"a","verify_native":false},{"program":"a","max_steps":9,"layers":2,"initial_memory":[]}])",
                             ManifestKind::Prove);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(entries[i].job);
    EXPECT_NE(entries[i].error.find("not accepted by prove-batch"), std::string::npos) << entries[i].error;
  }
  EXPECT_TRUE(entries[3].job);
}

TEST(Manifest, WholeFileProblems) {
  EXPECT_NE(file_error(R"({"program":"x"})").find("must be a JSON list"), std::string::npos);
  EXPECT_NE(file_error(R"([{"program": )").find("m.json: not valid JSON"), std::string::npos);
  // Duplicate keys: a first-wins and a last-wins reader would run different programs.
  EXPECT_NE(file_error(R"([{"program":"a.tvm","program":"b.tvm"}])").find("duplicate key \"program\" in [0]"),
            std::string::npos);
  EXPECT_NE(file_error(std::string(1000, '[') + std::string(1000, ']')).find("nested deeper"), std::string::npos);
  EXPECT_NE(file_error(std::string(kMaxManifestBytes + 1, ' ')).find("oversized"), std::string::npos);
}

TEST(Manifest, Files) {
  const auto dir = std::filesystem::temp_directory_path() / "ptvm_manifest_test";
  std::filesystem::create_directories(dir);
  try {
    read_manifest_file(dir.string(), ManifestKind::Run);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::Io);
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos);
  }
  EXPECT_THROW(read_manifest_file((dir / "missing.json").string(), ManifestKind::Run), Error);
  std::ofstream(dir / "m.json") << R"([{"program":"p.tvm"}])";
  const auto entries = read_manifest_file((dir / "m.json").string(), ManifestKind::Prove);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].job->program_path, dir / "p.tvm");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ptvm::vm
