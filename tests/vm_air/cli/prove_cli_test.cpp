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
  Result hs = tvm("-q prove " + fib_ + " -o " + path("fib_hostsim.json") + " --profile fast-test-insecure --backend hostsim --json");
  ASSERT_EQ(hs.code, 0) << hs.out;
  EXPECT_EQ(nlohmann::json::parse(hs.out)["backend"], "hostsim");
  auto slurp = [](const std::string& f) {
    std::ifstream i(f);
    std::stringstream b;
    b << i.rdbuf();
    return b.str();
  };
  EXPECT_EQ(slurp(path("fib_hostsim.json")), slurp(path("fib.json")));
  Result alias = tvm("prove-stark " + fib_ + " -o " + path("a.json") + " --stark-profile fast-test-insecure --json -q");
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

// Binary proof files, program checks on verify, `tvm hash`, memory as a list, stage times, the
// insecure-profile warning and -q.
TEST_F(ProveCli, FormatsHashesAndWarnings) {
  Result p = tvm("prove " + fib_ + " -o " + path("fib.bin") + " --proof-format binary --profile fast-test-insecure --json");
  ASSERT_EQ(p.code, 0) << p.out;
  // stderr (merged here) carries the warning first, then the JSON line.
  const std::string warning = "warning: profile 'fast-test-insecure' gives 12 conjectured security bits";
  EXPECT_NE(p.out.find(warning), std::string::npos) << p.out;
  const auto pj = nlohmann::json::parse(p.out.substr(p.out.find('{')));
  EXPECT_EQ(pj["proof_format"], "binary");
  EXPECT_TRUE(pj["memory"].is_array());
  EXPECT_EQ(pj["memory"], nlohmann::json::parse("[144, 233, 0, 233]"));
  EXPECT_TRUE(pj["stages_ms"]["lde"].is_number());
  EXPECT_TRUE(pj["stages_ms"]["total"].is_number());
  EXPECT_EQ(tvm("-q prove " + fib_ + " -o " + path("q.json") + " --profile fast-test-insecure").out.find("warning"),
            std::string::npos);
  {
    std::ifstream in(path("fib.bin"), std::ios::binary);
    char magic[8] = {};
    in.read(magic, 8);
    EXPECT_EQ(std::string(magic, 8), "PTVMTVMB");
  }
  Result v = tvm("verify " + path("fib.bin") + " --min-security 0 --json");
  ASSERT_EQ(v.code, 0) << v.out;
  const auto vj = nlohmann::json::parse(v.out);
  EXPECT_EQ(vj["proof_format"], "binary");
  EXPECT_TRUE(vj["memory"].is_array());
  EXPECT_EQ(vj["acc"], 144);
  // The same claim in both encodings.
  Result pjson = tvm("prove " + fib_ + " -o " + path("fib.json") + " --profile fast-test-insecure --json");
  const auto jj = nlohmann::json::parse(pjson.out.substr(pjson.out.find('{')));
  EXPECT_EQ(jj["program_hash"], pj["program_hash"]);
  EXPECT_EQ(jj["proof_bytes"], pj["proof_bytes"]);
  // A truncated binary file is a rejection with a reason.
  {
    std::ifstream in(path("fib.bin"), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    std::ofstream(path("cut.bin"), std::ios::binary) << bytes.substr(0, bytes.size() - 7);
  }
  Result cut = tvm("verify " + path("cut.bin") + " --min-security 0");
  EXPECT_EQ(cut.code, 3) << cut.out;
  EXPECT_NE(cut.out.find("malformed proof file: proof:"), std::string::npos) << cut.out;

  // tvm hash prints the claim's identities.
  Result h = tvm("hash " + fib_ + " --json");
  ASSERT_EQ(h.code, 0) << h.out;
  const auto hj = nlohmann::json::parse(h.out);
  EXPECT_EQ(hj["program_hash"], pj["program_hash"]);
  EXPECT_EQ(hj["transformer_config_hash"], pj["transformer_config_hash"]);
  EXPECT_EQ(hj["deterministic_model_hash"], pj["deterministic_model_hash"]);
  EXPECT_NE(tvm("hash " + fib_ + " --layers 2 --json").out, h.out);  // the config names the layers

  // verify --program / --expect-program-hash.
  EXPECT_EQ(tvm("verify " + path("fib.bin") + " --min-security 0 --program " + fib_).code, 0);
  const std::string other = std::string(PTVM_SOURCE_DIR) + "/programs/addition.tvm";
  Result wrong = tvm("verify " + path("fib.bin") + " --min-security 0 --program " + other);
  EXPECT_EQ(wrong.code, 3) << wrong.out;
  EXPECT_NE(wrong.out.find("not the expected"), std::string::npos) << wrong.out;
  EXPECT_EQ(tvm("verify " + path("fib.json") + " --min-security 0 --expect-program-hash " +
                hj["program_hash"].get<std::string>()).code, 0);
  EXPECT_EQ(tvm("verify " + path("fib.json") + " --min-security 0 --expect-program-hash " + std::string(64, '0')).code, 3);
  EXPECT_EQ(tvm("verify " + path("fib.json") + " --expect-program-hash xyz").code, 2);
  EXPECT_EQ(tvm("verify " + path("fib.json") + " --program " + fib_ + " --expect-program-hash " + std::string(64, '0')).code, 2);
  EXPECT_EQ(tvm("prove " + fib_ + " --proof-format yaml").code, 2);
}

TEST_F(ProveCli, ProgressLines) {
  Result p = tvm("prove " + fib_ + " -o " + path("p.json") + " --profile fast-test-insecure --progress");
  ASSERT_EQ(p.code, 0) << p.out;
  for (const char* stage : {"[prove] 0% lde", "% interaction", "% composition", "% fri", "% queries", "[prove] 100% total"})
    EXPECT_NE(p.out.find(stage), std::string::npos) << stage << "\n" << p.out;
  nlohmann::json manifest = nlohmann::json::array();
  manifest.push_back({{"program", fib_}});
  manifest.push_back({{"program", path("missing.tvm")}});
  std::ofstream(path("m.json")) << manifest.dump();
  Result b = tvm("prove-batch " + path("m.json") + " --out " + path("out") +
                 " --profile fast-test-insecure --progress --json");
  EXPECT_EQ(b.code, 1) << b.out;
  EXPECT_NE(b.out.find("[prove-batch] 1/2 job 0 proven"), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("[prove-batch] 2/2 job 1 failed: "), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("ETA"), std::string::npos) << b.out;
  // --json: the summary on stdout (the last line here).
  const std::string last = b.out.substr(b.out.rfind("{\"manifest\""));
  const auto summary = nlohmann::json::parse(last);
  EXPECT_EQ(summary["jobs_total"], 2);
  EXPECT_EQ(summary["jobs_failed"], 1);
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

TEST_F(ProveCli, ProveBatchAcrossRanks) {
  nlohmann::json manifest = nlohmann::json::array();
  manifest.push_back({{"program", fib_}});
  manifest.push_back({{"program", std::string(PTVM_SOURCE_DIR) + "/programs/addition.tvm"}, {"max_steps", 2}});
  manifest.push_back({{"program", path("does_not_exist.tvm")}});
  manifest.push_back({{"program", std::string(PTVM_SOURCE_DIR) + "/programs/bitwise.tvm"}});
  std::ofstream(path("m.json")) << manifest.dump();
  const std::string common = " --profile fast-test-insecure --backend cpu";
  EXPECT_EQ(tvm("prove-batch " + path("m.json") + " --out " + path("one") + common).code, 1);
  Result r = tvm("prove-batch " + path("m.json") + " --out " + path("three") + common + " --ranks 3 --json");
  EXPECT_EQ(r.code, 1) << r.out;
  const auto summary = nlohmann::json::parse(r.out.substr(r.out.rfind("{\"manifest\"")));
  EXPECT_EQ(summary["ranks"], 3);
  EXPECT_EQ(summary["jobs_proven"], 3);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(summary["jobs"][i]["job"], i);
    EXPECT_TRUE(summary["jobs"][i].contains("rank"));
  }
  EXPECT_EQ(summary["jobs"][2]["ok"], false);
  for (int i : {0, 1, 3}) {
    auto read = [&](const std::string& dir) {
      std::ifstream in(path(dir + "/job-" + std::to_string(i) + ".proof.json"), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      return ss.str();
    };
    EXPECT_FALSE(read("one").empty());
    EXPECT_EQ(read("one"), read("three")) << "job " << i << ": 3 ranks gave other proof bytes";
  }
  // Device lists: a CUDA backend is needed (or, in a build without CUDA, CUDA itself).
  Result devices = tvm("prove-batch " + path("m.json") + " --out " + path("d") + common + " --devices 0");
  EXPECT_EQ(devices.code, 2) << devices.out;
  EXPECT_NE(devices.out.find("--devices"), std::string::npos) << devices.out;
  EXPECT_EQ(tvm("prove-batch " + path("m.json") + " --out " + path("d") + " --ranks 5000").code, 2);
}

// --backend hostsim proves in lockstep device groups: the CPU's proof bytes, job by job; a bad
// --group-size is a usage error.
TEST_F(ProveCli, ProveBatchHostsimGroups) {
  nlohmann::json manifest = nlohmann::json::array();
  manifest.push_back({{"program", fib_}});
  manifest.push_back({{"program", std::string(PTVM_SOURCE_DIR) + "/programs/addition.tvm"}, {"max_steps", 2}});
  manifest.push_back({{"program", path("does_not_exist.tvm")}});
  manifest.push_back({{"program", fib_}});
  std::ofstream(path("g.json")) << manifest.dump();
  const std::string common = " --profile fast-test-insecure";
  EXPECT_EQ(tvm("prove-batch " + path("g.json") + " --out " + path("cpu") + common + " --backend cpu").code, 1);
  Result r = tvm("prove-batch " + path("g.json") + " --out " + path("hs") + common + " --backend hostsim --group-size 4 --json");
  EXPECT_EQ(r.code, 1) << r.out;
  const auto summary = nlohmann::json::parse(r.out.substr(r.out.rfind("{\"manifest\"")));
  EXPECT_EQ(summary["backend"], "hostsim");
  EXPECT_EQ(summary["jobs_proven"], 3);
  EXPECT_EQ(summary["jobs"][2]["ok"], false);
  for (int i : {0, 1, 3}) {
    auto read = [&](const std::string& dir) {
      std::ifstream in(path(dir + "/job-" + std::to_string(i) + ".proof.json"), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      return ss.str();
    };
    EXPECT_FALSE(read("cpu").empty());
    EXPECT_EQ(read("cpu"), read("hs")) << "job " << i << ": the group gave other proof bytes";
  }
  EXPECT_EQ(tvm("prove-batch " + path("g.json") + " --out " + path("x") + " --backend hostsim --group-size 0").code, 2);
}

// --aggregate: one proof for the jobs that ran (a failing job reported, exit 1), verified with
// every claim; a changed claim in the file is rejected; binary and JSON files alike.
TEST_F(ProveCli, ProveBatchAggregate) {
  nlohmann::json manifest = nlohmann::json::array();
  manifest.push_back({{"program", fib_}});
  manifest.push_back({{"program", path("does_not_exist.tvm")}});
  manifest.push_back({{"program", std::string(PTVM_SOURCE_DIR) + "/programs/multiply.tvm"}, {"initial_memory", {3, 4, 0}}});
  manifest.push_back({{"program", std::string(PTVM_SOURCE_DIR) + "/programs/addition.tvm"}, {"max_steps", 2}});
  std::ofstream(path("m.json")) << manifest.dump();
  for (const std::string format : {"json", "binary"}) {
    SCOPED_TRACE(format);
    const std::string out = path("agg-" + format);
    Result r = tvm("prove-batch " + path("m.json") + " --out " + out + " --aggregate --profile fast-test-insecure --proof-format " + format);
    EXPECT_EQ(r.code, 1) << r.out;  // job 1 failed; the others are in the proof
    std::ifstream in(out + "/summary.json");
    ASSERT_TRUE(in);
    auto summary = nlohmann::json::parse(in);
    EXPECT_EQ(summary["jobs_proven"], 3);
    EXPECT_EQ(summary["jobs"][1]["ok"], false);
    EXPECT_EQ(summary["jobs"][3]["aggregate_index"], 2);
    EXPECT_EQ(summary["jobs"][3]["steps"], 2);
    const std::string file = out + "/" + summary["aggregate_proof"]["proof_file"].get<std::string>();
    EXPECT_EQ(summary["aggregate_proof"]["jobs"], 3);

    Result v = tvm("verify " + file + " --min-security 0 --reexecute --json");
    EXPECT_EQ(v.code, 0) << v.out;
    auto j = nlohmann::json::parse(v.out);
    EXPECT_EQ(j["verdict"], "accepted");
    EXPECT_EQ(j["jobs"], 3);
    EXPECT_EQ(j["claims"][2]["steps"], 2);
    EXPECT_EQ(tvm("verify " + file).code, 3);  // the 96-bit floor holds for aggregates too
    // Only the programs named: --program must match every claim.
    EXPECT_EQ(tvm("verify " + file + " --min-security 0 --program " + fib_).code, 3);
  }
  // A claim changed inside the JSON file: job 2's steps.
  std::ifstream in(path("agg-json/aggregate.proof.json"));
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::ordered_json f = nlohmann::ordered_json::parse(ss.str());
  f["claims"][0]["final_state"]["acc"] = 145;
  std::ofstream(path("bad.json")) << f.dump();
  Result bad = tvm("verify " + path("bad.json") + " --min-security 0");
  EXPECT_EQ(bad.code, 3) << bad.out;
  EXPECT_NE(bad.out.find("verdict: rejected"), std::string::npos) << bad.out;
  // Options that cannot go with one proof.
  EXPECT_EQ(tvm("prove-batch " + path("m.json") + " --out " + path("x") + " --aggregate --ranks 2").code, 2);
}

}  // namespace
