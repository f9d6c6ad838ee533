// tvm prove --statement statement-v1 / tvm verify through the binary: profiles, overrides, the
// floors and their options, the scope lists, exit codes (0 ok, 2 usage, 3 rejected).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Result {
  int code = -1;
  std::string out;
};

Result tvm(const std::string& arguments) {
  const fs::path out = fs::temp_directory_path() / ("ptvm_sv1_cli_" + std::to_string(::getpid()) + ".out");
  const std::string command = std::string(PTVM_TVM_BINARY) + " " + arguments + " > " + out.string() + " 2>/dev/null";
  const int status = std::system(command.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  r.out = ss.str();
  fs::remove(out);
  return r;
}

class StatementV1Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ptvm_sv1_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  const std::string fib_ = std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm";
  fs::path dir_;
};

TEST_F(StatementV1Cli, ProveVerifyFloorsAndScope) {
  Result p = tvm("prove " + fib_ + " --statement statement-v1 -o " + path("fib.json") + " --json");
  ASSERT_EQ(p.code, 0) << p.out;
  const json pj = json::parse(p.out);
  EXPECT_EQ(pj["statement_version"], "statement-v1");
  EXPECT_EQ(pj["stark_profile"], "production-v1");
  EXPECT_EQ(pj["conjectured_security_bits"], 32);

  // Default floor 96: rejected, and the message names the option that lowers it.
  Result low = tvm("verify " + path("fib.json") + " --json");
  EXPECT_EQ(low.code, 3);
  EXPECT_NE(json::parse(low.out)["reason"].get<std::string>().find("--min-conjectured-security"), std::string::npos);
  EXPECT_EQ(tvm("verify " + path("fib.json") + " --strict").code, 3);  // 80 bits
  Result ok = tvm("verify " + path("fib.json") + " --verification-profile production-v1 --json");
  ASSERT_EQ(ok.code, 0) << ok.out;
  const json vj = json::parse(ok.out);
  EXPECT_EQ(vj["verdict"], "accepted");
  EXPECT_EQ(vj["reexecuted"], true);
  EXPECT_FALSE(vj["proven"].empty());
  EXPECT_FALSE(vj["reexecuted_parts"].empty());
  EXPECT_EQ(tvm("verify " + path("fib.json") + " --min-conjectured-security 32").code, 0);
  EXPECT_EQ(tvm("verify " + path("fib.json") + " --min-security 32").code, 0);
  EXPECT_EQ(tvm("verify " + path("fib.json") + " --verification-profile nope").code, 2);

  // The 96-bit profile passes the default floor; prove-stark is the original's alias.
  ASSERT_EQ(tvm("prove-stark " + fib_ + " --statement statement-v1 --stark-profile ptvm-96 -o " + path("f96.json")).code, 0);
  EXPECT_EQ(tvm("verify " + path("f96.json")).code, 0);
  EXPECT_EQ(tvm("verify " + path("f96.json") + " --strict").code, 0);

  // Overrides make a custom profile; options that cannot reach their security level are refused.
  Result o = tvm("prove " + fib_ + " --statement statement-v1 --stark-profile heavier --stark-num-colinearity-checks 32 -o " +
                 path("c.json") + " --json");
  ASSERT_EQ(o.code, 0) << o.out;
  EXPECT_EQ(json::parse(o.out)["stark_profile"], "custom");
  EXPECT_EQ(json::parse(o.out)["conjectured_security_bits"], 96);
  EXPECT_EQ(tvm("verify " + path("c.json")).code, 0);
  EXPECT_EQ(tvm("prove " + fib_ + " --statement statement-v1 --stark-expansion-factor 6 -o " + path("x.json")).code, 2);
  EXPECT_EQ(tvm("prove " + fib_ + " --statement statement-v1 --stark-security-level 64 -o " + path("x.json")).code, 2);
  EXPECT_EQ(tvm("prove " + fib_ + " --stark-expansion-factor 8 -o " + path("x.json")).code, 2);
  EXPECT_EQ(tvm("prove " + fib_ + " --statement nope -o " + path("x.json")).code, 2);
  EXPECT_EQ(tvm("prove " + fib_ + " --statement statement-v1 --backend tpu -o " + path("x.json")).code, 2);
  EXPECT_EQ(tvm("prove " + fib_ + " --statement statement-v1 --proof-format binary -o " + path("x.json")).code, 2);

  // A changed claim is rejected (exit 3), a malformed file too.
  std::ifstream in(path("f96.json"));
  json file = json::parse(in);
  file["claim"]["final_state"]["acc"] = file["claim"]["final_state"]["acc"].get<int>() + 1;
  std::ofstream(path("changed.json")) << file.dump();
  EXPECT_EQ(tvm("verify " + path("changed.json")).code, 3);
  file["claim"]["extra"] = 1;
  std::ofstream(path("extra.json")) << file.dump();
  EXPECT_EQ(tvm("verify " + path("extra.json")).code, 3);
}

// --backend for statement-v1: host-sim (the CUDA backend's kernels on the CPU) and hostsim-dual
// write the CPU's proof file byte for byte (the ctest statement_v1_hostsim_proof_cmp cmp's them
// too); cuda without a device (or without nvcc) is a clear error, no proof file.
TEST_F(StatementV1Cli, DeviceBackendsWriteTheCpuProofFile) {
  auto read = [](const std::string& f) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  Result cpu = tvm("prove " + fib_ + " --statement statement-v1 --backend cpu -o " + path("cpu.json") + " --json");
  ASSERT_EQ(cpu.code, 0) << cpu.out;
  EXPECT_EQ(json::parse(cpu.out)["backend"], "cpu");
  for (const char* backend : {"hostsim", "hostsim-dual"}) {
    const std::string file = path(std::string(backend) + ".json");
    const std::string verb = std::string(backend) == "hostsim" ? "prove " : "prove-stark ";  // the original's alias
    Result r = tvm(verb + fib_ + " --statement statement-v1 --backend " + backend + " -o " + file + " --json");
    if (r.code == 2) GTEST_SKIP() << "this tvm was built without host-sim";
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(json::parse(r.out)["backend"], backend);
    EXPECT_EQ(read(file), read(path("cpu.json"))) << backend << ": the proof file differs from the CPU's";
  }
  const fs::path err = dir_ / "cuda.err";
  const int status = std::system((std::string(PTVM_TVM_BINARY) + " prove " + fib_ +
                                  " --statement statement-v1 --backend cuda -o " + path("cuda.json") + " > " +
                                  err.string() + " 2>&1")
                                     .c_str());
  const std::string message = read(err.string());
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    EXPECT_EQ(read(path("cuda.json")), read(path("cpu.json")));  // a machine with a GPU
  } else {
    EXPECT_TRUE(message.find("no CUDA device is visible") != std::string::npos ||
                message.find("built without the CUDA backend") != std::string::npos)
        << message;
    EXPECT_FALSE(fs::exists(path("cuda.json")));
  }
}

// The circle-STARK claim's verify output says what was proven and what only attested.
TEST_F(StatementV1Cli, CircleClaimScope) {
  ASSERT_EQ(tvm("prove " + fib_ + " -o " + path("circle.json") + " --profile fast-test-insecure").code, 0);
  Result v = tvm("verify " + path("circle.json") + " --min-security 0 --json");
  ASSERT_EQ(v.code, 0) << v.out;
  const json j = json::parse(v.out);
  EXPECT_FALSE(j["proven"].empty());
  EXPECT_TRUE(j["reexecuted_parts"].empty());
  EXPECT_NE(j["attested"][0].get<std::string>().find("equivalence"), std::string::npos);
  // The claim states the engines' agreement as its equivalence record, both fingerprints equal.
  EXPECT_EQ(j["equivalence_checked_steps"], j["steps"]);
  EXPECT_EQ(j["transformer_fingerprint"], j["native_fingerprint"]);
  EXPECT_EQ(j["transformer_fingerprint"].get<std::string>().size(), 64u);
  Result r = tvm("verify " + path("circle.json") + " --min-security 0 --reexecute --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_FALSE(json::parse(r.out)["reexecuted_parts"].empty());
}

}  // namespace

namespace {
// The circle-STARK claim's floor message names the option too.
TEST_F(StatementV1Cli, CircleFloorMessageNamesTheOption) {
  ASSERT_EQ(tvm("prove " + fib_ + " -o " + path("circle.json") + " --profile fast-test-insecure").code, 0);
  Result v = tvm("verify " + path("circle.json") + " --json");
  EXPECT_EQ(v.code, 3);
  EXPECT_NE(v.out.find("--min-conjectured-security"), std::string::npos) << v.out;
  EXPECT_EQ(tvm("verify " + path("circle.json") + " --min-conjectured-security 0").code, 0);
}
}  // namespace
