// tvm prove / verify / prove-batch end to end through the binary: outputs, aliases, exit codes
// (0 ok, 1 error, 2 usage, 3 rejected).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "ptvm/stark/proof.hpp"

namespace {

namespace fs = std::filesystem;

struct Result {
  int code = -1;
  std::string out;
};

Result tvm(const std::string& arguments) {
  const fs::path out = fs::temp_directory_path() / ("ptvm_vm_air_cli_" + std::to_string(::getpid()) + ".out");
  const std::string command = std::string(PTVM_TVM_BINARY) + " " + arguments + " > " + out.string() + " 2>&1";
  int status = std::system(command.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  r.out = ss.str();
  fs::remove(out);
  return r;
}

class ProveCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ptvm_vm_air_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  const std::string fib_ = std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm";
  fs::path dir_;
};

TEST_F(ProveCli, ProveVerifyAndReject) {
  Result p = tvm("prove " + fib_ + " -o " + path("fib.json") + " --profile fast-test-insecure");
  ASSERT_EQ(p.code, 0) << p.out;
  EXPECT_NE(p.out.find("halted: true"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("program_hash: "), std::string::npos);
  EXPECT_NE(p.out.find("proof_bytes: "), std::string::npos);
  EXPECT_NE(p.out.find("prove_ms: "), std::string::npos);

  // The default floor is 96 bits: the test profile's proof is rejected unless asked for less.
  Result floor = tvm("verify " + path("fib.json"));
  EXPECT_EQ(floor.code, 3) << floor.out;
  EXPECT_NE(floor.out.find("below the required 96"), std::string::npos) << floor.out;
  Result v = tvm("verify " + path("fib.json") + " --reexecute --min-security 0");
  EXPECT_EQ(v.code, 0) << v.out;
  EXPECT_NE(v.out.find("verdict: accepted"), std::string::npos) << v.out;
  Result vj = tvm("verify-stark " + path("fib.json") + " --json --min-security 0");
  EXPECT_EQ(vj.code, 0) << vj.out;
  auto j = nlohmann::json::parse(vj.out);
  EXPECT_EQ(j["verdict"], "accepted");
  EXPECT_EQ(j["acc"], 144);

  // --strict needs 96 bits: the test profile has 12.
  Result strict = tvm("verify " + path("fib.json") + " --strict");
  EXPECT_EQ(strict.code, 3) << strict.out;
  EXPECT_NE(strict.out.find("below the required 96"), std::string::npos) << strict.out;

  // A changed claim and a truncated file are rejections (exit 3), not crashes.
  std::ifstream in(path("fib.json"));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto changed = nlohmann::json::parse(text);
  changed["claim"]["final_state"]["acc"] = 145;
  std::ofstream(path("changed.json")) << changed.dump();
  Result c = tvm("verify " + path("changed.json") + " --min-security 0");
  EXPECT_EQ(c.code, 3) << c.out;
  EXPECT_NE(c.out.find("verdict: rejected"), std::string::npos) << c.out;
  std::ofstream(path("cut.json")) << text.substr(0, text.size() / 2);
  Result t = tvm("verify " + path("cut.json"));
  EXPECT_EQ(t.code, 3) << t.out;
  EXPECT_NE(t.out.find("malformed proof file"), std::string::npos) << t.out;

  EXPECT_EQ(tvm("verify " + path("missing.json")).code, 1);
  // An oversized file is a malformed proof: rejected (3), not an error (1). Sparse, so cheap.
  std::ofstream(path("huge.json")) << "{";
  fs::resize_file(path("huge.json"), ptvm::stark::kMaxProofBytes + 1);
  Result huge = tvm("verify " + path("huge.json"));
  EXPECT_EQ(huge.code, 3) << huge.out;
  EXPECT_NE(huge.out.find("oversized"), std::string::npos) << huge.out;
  EXPECT_EQ(tvm("verify").code, 2);
  EXPECT_EQ(tvm("prove " + fib_ + " --profile nonsense").code, 2);
  EXPECT_EQ(tvm("prove " + fib_ + " --backend nonsense").code, 2);
  // The CUDA backend's kernels under host-sim give the same proof bytes as the CPU backend.
  Result hs = tvm("prove " + fib_ + " -o " + path("fib_hostsim.json") + " --profile fast-test-insecure --backend hostsim --json");
  ASSERT_EQ(hs.code, 0) << hs.out;
  EXPECT_EQ(nlohmann::json::parse(hs.out)["backend"], "hostsim");
  auto slurp = [](const std::string& f) {
    std::ifstream i(f);
    std::stringstream b;
    b << i.rdbuf();
    return b.str();
  };
  EXPECT_EQ(slurp(path("fib_hostsim.json")), slurp(path("fib.json")));
  Result alias = tvm("prove-stark " + fib_ + " -o " + path("a.json") + " --stark-profile fast-test-insecure --json");
  EXPECT_EQ(alias.code, 0) << alias.out;
  EXPECT_EQ(nlohmann::json::parse(alias.out)["steps"], 148);
  // The automatic profile: 96 bits, accepted by --strict.
  Result automatic = tvm("prove " + fib_ + " -o " + path("auto.json"));
  ASSERT_EQ(automatic.code, 0) << automatic.out;
  EXPECT_NE(automatic.out.find("profile: vm-small"), std::string::npos) << automatic.out;
  EXPECT_NE(automatic.out.find("security_bits: 96"), std::string::npos) << automatic.out;
  Result strict_ok = tvm("verify " + path("auto.json") + " --strict");
  EXPECT_EQ(strict_ok.code, 0) << strict_ok.out;
}

// The hardened verifier through the binary: invalid UTF-8 still gives JSON on --json, duplicate
// keys are rejections, custom profiles need --allow-custom-profile, the size policy is a flag.
TEST_F(ProveCli, VerifyHardening) {
  Result p = tvm("prove " + fib_ + " -o " + path("fib.json") + " --profile fast-test-insecure");
  ASSERT_EQ(p.code, 0) << p.out;
  std::ifstream in(path("fib.json"));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();

  std::string bad_utf8 = text;
  bad_utf8.replace(bad_utf8.find("\"prover_build\":\"") + 16, 0, "\xff\xc3\x28");
  std::ofstream(path("utf8.json"), std::ios::binary) << bad_utf8;
  Result u = tvm("verify " + path("utf8.json") + " --json --min-security 0");
  EXPECT_EQ(u.code, 3) << u.out;
  const auto uj = nlohmann::json::parse(u.out);  // one valid JSON object, nothing else
  EXPECT_EQ(uj["verdict"], "rejected");
  EXPECT_NE(uj["reason"].get<std::string>().find("not valid JSON at byte"), std::string::npos) << u.out;

  std::string dup = text;
  dup.replace(dup.find("\"acc\":"), 0, "\"acc\":145,");
  std::ofstream(path("dup.json")) << dup;
  Result d = tvm("verify " + path("dup.json") + " --min-security 0");
  EXPECT_EQ(d.code, 3) << d.out;
  EXPECT_NE(d.out.find("duplicate key \"acc\""), std::string::npos) << d.out;

  Result small = tvm("verify " + path("fib.json") + " --min-security 0 --max-lde-log-size 8");
  EXPECT_EQ(small.code, 3) << small.out;
  EXPECT_NE(small.out.find("above this verifier's limit 2^8"), std::string::npos) << small.out;
  EXPECT_EQ(tvm("verify " + path("fib.json") + " --max-lde-log-size 0").code, 2);

  // fast-test-insecure is a named profile; verify reports what the queries opened.
  Result ok = tvm("verify " + path("fib.json") + " --min-security 0 --json");
  ASSERT_EQ(ok.code, 0) << ok.out;
  const auto okj = nlohmann::json::parse(ok.out);
  EXPECT_EQ(okj["queries_opened"], 8);
  EXPECT_EQ(okj["security_bits_achieved"], 12);
}

TEST_F(ProveCli, ProveBatch) {
  nlohmann::json manifest = nlohmann::json::array();
  manifest.push_back({{"program", fib_}});
  manifest.push_back({{"program", std::string(PTVM_SOURCE_DIR) + "/programs/addition.tvm"}, {"max_steps", 2}});
  manifest.push_back({{"program", path("does_not_exist.tvm")}});
  manifest.push_back({{"program", std::string(PTVM_SOURCE_DIR) + "/programs/multiply.tvm"}, {"initial_memory", {3, 4, 0}}});
  std::ofstream(path("manifest.json")) << manifest.dump();
  Result r = tvm("prove-batch " + path("manifest.json") + " --out " + path("out") + " --profile fast-test-insecure --threads 2");
  EXPECT_EQ(r.code, 1) << r.out;  // one job failed
  std::ifstream in(path("out/summary.json"));
  ASSERT_TRUE(in);
  auto summary = nlohmann::json::parse(in);
  EXPECT_EQ(summary["jobs_total"], 4);
  EXPECT_EQ(summary["jobs_proven"], 3);
  EXPECT_EQ(summary["jobs"][2]["ok"], false);
  EXPECT_FALSE(summary["jobs"][2]["error"].get<std::string>().empty());
  EXPECT_EQ(summary["jobs"][1]["steps"], 2);
  EXPECT_EQ(summary["jobs"][1]["halted"], false);
  for (int i : {0, 1, 3}) {
    Result v = tvm("verify " + path("out/job-" + std::to_string(i) + ".proof.json") + " --min-security 0");
    EXPECT_EQ(v.code, 0) << i << v.out;
  }
}

}  // namespace
