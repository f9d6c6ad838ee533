// The tvm binary as a user sees it: output keys and their order, --json, --trace, exit codes
// (0 ok, 1 runtime/input error, 2 usage), run-batch, and no crash on garbage.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int exit_code = -1;
  bool crashed = false;
  std::string out, err;
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ptvm_cli_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Outcome tvm(const std::vector<std::string>& args) {
    std::string command = shell_quote(PTVM_TVM_BINARY);
    for (const auto& a : args) {
      command += ' ';
      command += shell_quote(a);
    }
    command += " >";
    command += shell_quote((dir_ / "out").string());
    command += " 2>";
    command += shell_quote((dir_ / "err").string());
    int status = std::system(command.c_str());
    Outcome o;
    // the shell reports a signal-killed child as 128 + signal
    o.crashed = WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) > 128);
    o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    o.out = slurp(dir_ / "out");
    o.err = slurp(dir_ / "err");
    return o;
  }

  fs::path write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  fs::path dir_;
};

const std::string kFib = std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm";
const std::vector<std::string> kKeys = {"program", "engine", "steps", "halted", "pc", "sp", "acc",
                                        "zero_flag", "carry_flag", "memory", "layers",
                                        "attention_mode", "elapsed_ms", "throughput_steps_per_sec"};

std::vector<std::pair<std::string, std::string>> key_lines(const std::string& out) {
  std::vector<std::pair<std::string, std::string>> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("trace[", 0) == 0) continue;
    size_t colon = line.find(": ");
    if (colon == std::string::npos) continue;
    lines.emplace_back(line.substr(0, colon), line.substr(colon + 2));
  }
  return lines;
}

TEST_F(Cli, RunPrintsTheKeysInOrder) {
  Outcome o = tvm({"run", kFib});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  auto lines = key_lines(o.out);
  ASSERT_EQ(lines.size(), kKeys.size()) << o.out;
  for (size_t i = 0; i < kKeys.size(); ++i) EXPECT_EQ(lines[i].first, kKeys[i]);
  EXPECT_EQ(lines[0].second, kFib);
  EXPECT_EQ(lines[1].second, "transformer");  // the default engine, as in the original
  EXPECT_EQ(lines[2].second, "148");
  EXPECT_EQ(lines[3].second, "true");
  EXPECT_EQ(lines[4].second, "13");
  EXPECT_EQ(lines[5].second, "4");
  EXPECT_EQ(lines[6].second, "144");
  EXPECT_EQ(lines[7].second, "false");
  EXPECT_EQ(lines[8].second, "false");
  EXPECT_EQ(lines[9].second, "[144, 233, 0, 233]");
  EXPECT_EQ(lines[10].second, "1");
  EXPECT_EQ(lines[11].second, "average-hard");
  EXPECT_TRUE(o.err.empty());
}

TEST_F(Cli, ProgramWithoutRunAndTheReadmeCommand) {
  Outcome plain = tvm({kFib});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(key_lines(plain.out)[6].second, "144");
  Outcome readme = tvm({"run", kFib, "--engine", "transformer", "--verify-native"});
  ASSERT_EQ(readme.exit_code, 0) << readme.err;
  auto lines = key_lines(readme.out);
  EXPECT_EQ(lines[1].second, "transformer");
  EXPECT_EQ(lines[6].second, "144");
  Outcome layered = tvm({kFib, "--engine", "transformer", "--layers", "4"});
  ASSERT_EQ(layered.exit_code, 0) << layered.err;
  EXPECT_EQ(key_lines(layered.out)[10].second, "4");
}

TEST_F(Cli, JsonHasTheSameKeysInOrder) {
  Outcome o = tvm({"run", kFib, "--json", "--attention-mode", "hard-softmax:10"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(o.out);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, kKeys);
  EXPECT_EQ(j["attention_mode"], "hard-softmax:10");
  EXPECT_EQ(j["memory"].size(), 4u);
  EXPECT_TRUE(j["elapsed_ms"].is_number());
  EXPECT_TRUE(j["throughput_steps_per_sec"].is_number());
}

TEST_F(Cli, TraceAddsOneLinePerStep) {
  Outcome o = tvm({"run", kFib, "--trace"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  size_t trace_lines = 0;
  std::istringstream in(o.out);
  std::string line, first;
  while (std::getline(in, line)) {
    if (line.rfind("trace[", 0) == 0) {
      if (trace_lines++ == 0) first = line;
    }
  }
  EXPECT_EQ(trace_lines, 148u);
  EXPECT_EQ(first.rfind("trace[001] pc=0 LOAD 2 -> pc=1 acc=12", 0), 0u) << first;
  Outcome j = tvm({"run", kFib, "--trace", "--json", "--max-steps", "5"});
  ASSERT_EQ(j.exit_code, 0);
  auto parsed = nlohmann::json::parse(j.out);
  EXPECT_EQ(parsed["trace"].size(), 5u);
  EXPECT_EQ(parsed["halted"], false);
  EXPECT_EQ(parsed["trace"][0]["instruction"], "LOAD 2");
}

// Help as users expect it: every subcommand has a usage line starting with "tvm <command>",
// examples and the exit codes; value types are words; `tvm help [COMMAND]` works.
TEST_F(Cli, HelpForEveryCommand) {
  for (const std::string cmd : {"run", "run-batch", "prove", "verify", "prove-batch", "hash"}) {
    SCOPED_TRACE(cmd);
    Outcome o = tvm({cmd, "--help"});
    EXPECT_EQ(o.exit_code, 0) << o.err;
    EXPECT_NE(o.out.find("Usage: tvm " + cmd + " "), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("Example"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("Exit codes: 0"), std::string::npos) << o.out;
    EXPECT_EQ(o.out.find("UINT"), std::string::npos) << o.out;
    EXPECT_EQ(o.out.find("TEXT"), std::string::npos) << o.out;
    Outcome h = tvm({"help", cmd});
    EXPECT_EQ(h.exit_code, 0);
    EXPECT_EQ(h.out, o.out);
  }
  Outcome prove = tvm({"help", "prove"});
  EXPECT_NE(prove.out.find("vm-small (96 bits)"), std::string::npos) << prove.out;
  EXPECT_NE(prove.out.find("--max-steps N"), std::string::npos) << prove.out;
  Outcome top = tvm({"help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("Usage: tvm"), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("PTVM_THREADS"), std::string::npos);
  EXPECT_EQ(tvm({"help", "prove", "extra"}).exit_code, 2);
}

// The rough edges a new user hit, each with the message it must give.
TEST_F(Cli, UsersRoughEdges) {
  Outcome bogus = tvm({"--bogus"});
  EXPECT_EQ(bogus.exit_code, 2);
  EXPECT_NE(bogus.err.find("unknown option '--bogus'"), std::string::npos) << bogus.err;
  // --layers is worded the same everywhere.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"run", kFib, "--layers", "0"}, {"run", kFib, "--layers", "300"},
        {"prove", kFib, "--layers", "0"}, {"prove", kFib, "--layers", "300"}, {"hash", kFib, "--layers", "300"}}) {
    Outcome o = tvm(args);
    EXPECT_EQ(o.exit_code, 2) << args[0];
    EXPECT_EQ(o.err.rfind("error: --layers must be in 1..256 (got ", 0), 0u) << o.err;
  }
  write("m.json", "[]");
  EXPECT_EQ(tvm({"run-batch", dir_.string(), "--layers", "0"}).err.rfind("error: --layers must be in 1..256", 0), 0u);
  Outcome dir = tvm({"run-batch", dir_.string()});
  EXPECT_EQ(dir.exit_code, 1);
  EXPECT_NE(dir.err.find("is a directory"), std::string::npos) << dir.err;
  Outcome prove_dir = tvm({"prove-batch", dir_.string(), "--out", (dir_ / "o").string()});
  EXPECT_NE(prove_dir.err.find("is a directory"), std::string::npos) << prove_dir.err;
  // --out naming a file is an input error, not an internal one.
  const fs::path manifest = write("jobs.json", "[{\"program\": \"" + kFib + "\"}]");
  const fs::path file = write("a_file", "x");
  Outcome out_file = tvm({"prove-batch", manifest.string(), "--out", file.string()});
  EXPECT_EQ(out_file.exit_code, 1);
  EXPECT_NE(out_file.err.find("exists and is not a directory"), std::string::npos) << out_file.err;
  EXPECT_EQ(out_file.err.find("internal"), std::string::npos) << out_file.err;
  // What the AIR cannot prove is refused before anything runs.
  Outcome huge = tvm({"prove", kFib, "--max-steps", "100000000000"});
  EXPECT_EQ(huge.exit_code, 2);
  EXPECT_NE(huge.err.find("above the largest provable run (16777215 steps"), std::string::npos) << huge.err;
  EXPECT_EQ(tvm({"prove-batch", manifest.string(), "--out", (dir_ / "o").string(), "--max-steps", "16777216"}).exit_code, 2);
}

// The third and fourth engines from the command line: --engine tensor, --verify-tensor,
// --verify-all (native, tensor and, when its runtime can run, ONNX), run-batch --engine tensor.
TEST_F(Cli, TensorEngineAndVerifyAll) {
  Outcome t = tvm({"run", kFib, "--engine", "tensor", "--json"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const auto tj = nlohmann::json::parse(t.out);
  EXPECT_EQ(tj["engine"], "tensor");
  EXPECT_EQ(tj["acc"], 144);
  EXPECT_EQ(tj["steps"], 148);
  Outcome vt = tvm({"run", kFib, "--verify-tensor", "--json"});
  ASSERT_EQ(vt.exit_code, 0) << vt.err;
  EXPECT_EQ(nlohmann::json::parse(vt.out)["verified_with"], nlohmann::json::parse(R"(["tensor"])"));
  // With the ONNX runtime made unreachable, --verify-all still checks the engines and says what it skipped.
  const std::string command = std::string("PTVM_NODE=/nonexistent/node ") + PTVM_TVM_BINARY + " run " + kFib +
                              " --verify-all --json >" + (dir_ / "out").string() + " 2>" + (dir_ / "err").string();
  ASSERT_EQ(std::system(command.c_str()), 0) << slurp(dir_ / "err");
  const auto all = nlohmann::json::parse(slurp(dir_ / "out"));
  EXPECT_EQ(all["verified_with"], nlohmann::json::parse(R"(["native", "tensor"])"));
  EXPECT_TRUE(all["onnx_skipped"].is_string());
  EXPECT_NE(slurp(dir_ / "err").find("warning: --verify-all: the ONNX check was skipped"), std::string::npos);
  // --verify-onnx alone cannot silently skip.
  const std::string only = std::string("PTVM_NODE=/nonexistent/node ") + PTVM_TVM_BINARY + " run " + kFib +
                           " --verify-onnx >/dev/null 2>/dev/null";
  const int status = std::system(only.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
  // run-batch: the tensor jobs run as one lockstep batch, with the results of the other engines.
  nlohmann::json manifest = nlohmann::json::array();
  for (int i = 0; i < 4; ++i)
    manifest.push_back({{"program", kFib}, {"engine", i % 2 ? "native" : "tensor"}, {"max_steps", 100 + i}});
  write("tensor.json", manifest.dump());
  Outcome b = tvm({"run-batch", (dir_ / "tensor.json").string()});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  std::istringstream lines(b.out);
  std::string line;
  std::vector<nlohmann::json> rows;
  while (std::getline(lines, line)) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["engine"], "tensor");
  EXPECT_EQ(rows[0]["steps"], 100);
  EXPECT_EQ(rows[1]["steps"], 101);
  EXPECT_EQ(rows[2]["steps"], 102);
  Outcome native = tvm({"run", kFib, "--engine", "native", "--max-steps", "100", "--json"});
  const auto nj = nlohmann::json::parse(native.out);
  for (const char* key : {"pc", "sp", "acc", "zero_flag", "carry_flag", "halted", "memory"})
    EXPECT_EQ(rows[0][key], nj[key]) << key;
}

// --tensor-device: the tensor engine's GEMMs through host-sim's run of the GPU kernel, verified
// step by step against native and against the CPU tensor engine's results; run-batch on it; bad
// names are usage errors, gpu without a device (or without CUDA) a clear error.
TEST_F(Cli, TensorDevice) {
  Outcome h = tvm({"run", kFib, "--engine", "tensor", "--tensor-device", "hostsim", "--verify-native", "--json"});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  const auto hj = nlohmann::json::parse(h.out);
  EXPECT_EQ(hj["engine"], "tensor");
  EXPECT_EQ(hj["tensor_device"], "hostsim");
  EXPECT_EQ(hj["acc"], 144);
  EXPECT_EQ(hj["steps"], 148);
  EXPECT_EQ(hj["verified_with"], nlohmann::json::parse(R"(["native"])"));
  Outcome cpu = tvm({"run", kFib, "--engine", "tensor", "--json"});
  const auto cj = nlohmann::json::parse(cpu.out);
  EXPECT_FALSE(cj.contains("tensor_device"));
  for (const char* key : {"pc", "sp", "acc", "zero_flag", "carry_flag", "halted", "memory", "steps"})
    EXPECT_EQ(hj[key], cj[key]) << key;
  // The transformer checked against the device tensor engine.
  Outcome vt = tvm({"run", kFib, "--verify-tensor", "--tensor-device", "hostsim", "--json"});
  ASSERT_EQ(vt.exit_code, 0) << vt.err;
  EXPECT_EQ(nlohmann::json::parse(vt.out)["tensor_device"], "hostsim");
  // Without a tensor engine the flag does nothing, and says so.
  Outcome unused = tvm({"run", kFib, "--tensor-device", "hostsim"});
  EXPECT_EQ(unused.exit_code, 0) << unused.err;
  EXPECT_NE(unused.err.find("--tensor-device hostsim has no effect"), std::string::npos) << unused.err;
  Outcome bad = tvm({"run", kFib, "--engine", "tensor", "--tensor-device", "tpu"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--tensor-device must be cpu, hostsim, gpu or gpu-own"), std::string::npos) << bad.err;
  // gpu: runs where a device is visible; elsewhere a usage (no CUDA built) or device error.
  Outcome gpu = tvm({"run", kFib, "--engine", "tensor", "--tensor-device", "gpu", "--json"});
  if (gpu.exit_code == 0) {
    EXPECT_EQ(nlohmann::json::parse(gpu.out)["acc"], 144);
  } else {
    EXPECT_TRUE(gpu.exit_code == 1 || gpu.exit_code == 2) << gpu.exit_code;
    EXPECT_NE(gpu.err.find("--tensor-device gpu: "), std::string::npos) << gpu.err;
    EXPECT_FALSE(gpu.crashed);
  }
  // run-batch: tensor jobs as one lockstep batch on host-sim, equal to their native twins.
  nlohmann::json manifest = nlohmann::json::array();
  for (int i = 0; i < 4; ++i)
    manifest.push_back({{"program", kFib}, {"engine", i % 2 ? "native" : "tensor"}, {"max_steps", 90 + i}});
  write("device.json", manifest.dump());
  Outcome b = tvm({"run-batch", (dir_ / "device.json").string(), "--tensor-device", "hostsim"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  std::istringstream lines(b.out);
  std::string line;
  std::vector<nlohmann::json> rows;
  while (std::getline(lines, line)) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["tensor_device"], "hostsim");
  EXPECT_FALSE(rows[1].contains("tensor_device"));  // a native job
  Outcome native = tvm({"run", kFib, "--engine", "native", "--max-steps", "92", "--json"});
  const auto nj = nlohmann::json::parse(native.out);
  for (const char* key : {"pc", "sp", "acc", "zero_flag", "carry_flag", "halted", "memory", "steps"})
    EXPECT_EQ(rows[2][key], nj[key]) << key;
  EXPECT_EQ(tvm({"run-batch", (dir_ / "device.json").string(), "--tensor-device", "tpu"}).exit_code, 2);
}

// Progress lines: run --progress every 2^16 steps, -v turns progress on everywhere, -q silences it.
TEST_F(Cli, ProgressAndLogLevel) {
  const std::string counter = std::string(PTVM_SOURCE_DIR) + "/programs/counter_100k.tvm";
  Outcome run = tvm({"run", counter, "--engine", "native", "--max-steps", "140000", "--progress"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("[run] 65536 steps"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("[run] 131072 steps"), std::string::npos) << run.err;
  Outcome verbose = tvm({"-v", "run", counter, "--engine", "native", "--max-steps", "70000"});
  EXPECT_NE(verbose.err.find("[run] 65536 steps"), std::string::npos) << verbose.err;
  Outcome quiet = tvm({"-q", "run", counter, "--engine", "native", "--max-steps", "70000", "--progress"});
  EXPECT_TRUE(quiet.err.empty()) << quiet.err;
  Outcome plain = tvm({"run", counter, "--engine", "native", "--max-steps", "70000"});
  EXPECT_TRUE(plain.err.empty()) << plain.err;
  EXPECT_EQ(tvm({"-v", "-q", "run", kFib}).exit_code, 2);
}

TEST_F(Cli, BadThreadCountIsRefused) {
  for (const char* bad : {"abc", "0", "257", "-1", "4x", ""}) {
    const std::string command = std::string("PTVM_THREADS='") + bad + "' " + PTVM_TVM_BINARY + " run " + kFib +
                                " >/dev/null 2>" + (dir_ / "err").string();
    const int status = std::system(command.c_str());
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 2) << bad;
    EXPECT_NE(slurp(dir_ / "err").find("PTVM_THREADS must be an integer in 1..256"), std::string::npos) << bad;
  }
  const std::string ok = std::string("PTVM_THREADS=2 ") + PTVM_TVM_BINARY + " run " + kFib + " >/dev/null";
  EXPECT_EQ(std::system(ok.c_str()), 0);
}

TEST_F(Cli, ExitCodes) {
  EXPECT_EQ(tvm({"--version"}).exit_code, 0);
  EXPECT_NE(tvm({"--version"}).out.find("0.1.0"), std::string::npos);
  EXPECT_EQ(tvm({"--help"}).exit_code, 0);
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string message;
  };
  const std::string bad = std::string(PTVM_VM_TEST_DIR) + "/bad/";
  const std::vector<Case> cases = {
      {{}, 2, "error: "},
      {{"run"}, 2, "error: "},
      {{"--bogus"}, 2, "error: "},
      {{"run", kFib, "--engine", "gpu"}, 2, "error: unknown engine 'gpu'"},
      {{"run", kFib, "--attention-mode", "hard-softmax:0"}, 2, "error: bad attention mode"},
      {{"run", kFib, "--max-steps", "-1"}, 2, "error: --max-steps"},
      {{"run", kFib, "--max-steps", "abc"}, 2, "error: "},
      {{"run", kFib, "--max-steps", "18446744073709551616"}, 2, "error: --max-steps"},
      {{"run", kFib, "--layers", "0"}, 2, "error: --layers must be in 1..256"},
      {{"run", kFib, "--layers", "999999999", "--engine", "transformer"}, 2, "error: --layers must be in 1..256"},
      {{"run", kFib, "--layers", "2147483648"}, 2, "error: "},
      {{"run", kFib, "--unknown"}, 2, "error: "},
      {{"run", "/nonexistent.tvm"}, 1, "error: /nonexistent.tvm: cannot open file"},
      {{"run", bad + "unknown_instruction.tvm"}, 1, "unknown_instruction.tvm:4: unknown instruction 'LOADX'"},
      {{"run", bad + "push_overflow.tvm"}, 1, "runtime error at step 5"},
      {{bad + "ret_out_of_range.tvm", "--engine", "transformer", "--verify-native"}, 1, "RET to 1000"},
      {{"run-batch"}, 2, "error: "},
      {{"run-batch", "/nonexistent.json"}, 1, "error: /nonexistent.json: cannot open manifest"},
  };
  for (const Case& c : cases) {
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    SCOPED_TRACE(joined);
    Outcome o = tvm(c.args);
    EXPECT_FALSE(o.crashed);
    EXPECT_EQ(o.exit_code, c.code) << o.err;
    EXPECT_EQ(o.err.rfind("error: ", 0), 0u) << o.err;
    EXPECT_NE(o.err.find(c.message), std::string::npos) << o.err;
    EXPECT_TRUE(o.out.empty()) << o.out;
  }
}

TEST_F(Cli, RunBatchJsonLinesInJobOrder) {
  fs::create_directories(dir_ / "progs");
  write("progs/sum.tvm",
        ".memory 2\nloop: LOAD 0\nJZ done\nADDM 1\nSTORE 1\nLOAD 0\nSUB 1\nSTORE 0\nJMP loop\n"
        "done: LOAD 1\nHALT\n");
  write("progs/bad.tvm", "FROB\n");
  write("progs/crash.tvm", "LOAD 200\n");
  nlohmann::json manifest = nlohmann::json::array();
  for (int i = 0; i < 12; ++i) {
    manifest.push_back({{"program", "progs/sum.tvm"}, {"initial_memory", {i, 0}}, {"max_steps", 1000}});
  }
  manifest[3] = {{"program", "progs/bad.tvm"}};
  manifest[5] = {{"program", "progs/crash.tvm"}};
  manifest[7] = {{"program", "progs/missing.tvm"}};
  manifest[8] = {{"program", "progs/sum.tvm"}, {"initial_memory", {8, 0}}, {"engine", "transformer"},
                 {"attention_mode", "softmax"}, {"max_steps", 1000}};
  manifest[9] = {{"program", "progs/sum.tvm"}, {"max_step", 10}};
  manifest[10] = {{"program", "progs/sum.tvm"}, {"initial_memory", {70000}}};
  manifest[11] = {{"program", "progs/sum.tvm"}, {"initial_memory", {10, 0}}, {"max_steps", 7}};
  write("manifest.json", manifest.dump());
  Outcome o = tvm({"run-batch", (dir_ / "manifest.json").string(), "--threads", "3"});
  EXPECT_EQ(o.exit_code, 1) << o.err;
  std::istringstream in(o.out);
  std::string line;
  std::vector<nlohmann::ordered_json> results;
  while (std::getline(in, line)) results.push_back(nlohmann::ordered_json::parse(line));
  ASSERT_EQ(results.size(), 12u) << o.out;
  for (size_t i = 0; i < results.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(results[i]["job"], i);
    const bool should_fail = i == 3 || i == 5 || i == 7 || i == 9 || i == 10;
    EXPECT_EQ(results[i].contains("error"), should_fail) << results[i].dump();
    if (should_fail) continue;
    std::vector<std::string> keys;
    for (const auto& [k, v] : results[i].items()) keys.push_back(k);
    keys.erase(keys.begin());  // "job"
    EXPECT_EQ(keys, kKeys);
    int n = static_cast<int>(i);
    if (i == 11) {
      EXPECT_EQ(results[i]["halted"], false);
      EXPECT_EQ(results[i]["steps"], 7);
    } else if (i != 8) {
      EXPECT_EQ(results[i]["acc"], n * (n + 1) / 2);
      EXPECT_EQ(results[i]["halted"], true);
    } else {
      EXPECT_EQ(results[i]["engine"], "transformer");
      EXPECT_EQ(results[i]["attention_mode"], "softmax");
    }
  }
  EXPECT_NE(results[3]["error"].get<std::string>().find("bad.tvm:1: unknown instruction"), std::string::npos);
  EXPECT_NE(results[5]["error"].get<std::string>().find("runtime error at step 1"), std::string::npos);
  EXPECT_NE(results[7]["error"].get<std::string>().find("cannot open file"), std::string::npos);
  EXPECT_NE(results[9]["error"].get<std::string>().find("job 9: unknown field 'max_step'"), std::string::npos);
  EXPECT_NE(results[10]["error"].get<std::string>().find("initial_memory"), std::string::npos);

  // all good -> exit 0; not a list -> exit 1
  nlohmann::json good = nlohmann::json::array({manifest[0], manifest[1]});
  write("good.json", good.dump());
  EXPECT_EQ(tvm({"run-batch", (dir_ / "good.json").string()}).exit_code, 0);
  write("object.json", "{\"program\": \"x\"}");
  Outcome not_list = tvm({"run-batch", (dir_ / "object.json").string()});
  EXPECT_EQ(not_list.exit_code, 1);
  EXPECT_NE(not_list.err.find("must be a JSON list"), std::string::npos);
  write("broken.json", "[{\"program\": ");
  Outcome broken = tvm({"run-batch", (dir_ / "broken.json").string()});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.err.find("not valid JSON"), std::string::npos);
}

TEST_F(Cli, GarbageInputNeverCrashes) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 12; ++i) {
    std::string bytes;
    size_t n = rng() % 400;
    for (size_t k = 0; k < n; ++k) {
      // mostly assembly-like text, some raw bytes
      static const std::string alphabet = "LOADISTREPUHMCJZNXAT:.;# \n\r,-+0123456789abcmemoryinit";
      bytes += (rng() % 8 == 0) ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    }
    fs::path p = write("garbage" + std::to_string(i) + ".tvm", bytes);
    Outcome o = tvm({"run", p.string(), "--max-steps", "2000"});
    EXPECT_FALSE(o.crashed) << p;
    EXPECT_TRUE(o.exit_code == 0 || o.exit_code == 1) << o.exit_code << " " << o.err;
    Outcome m = tvm({"run-batch", p.string()});
    EXPECT_FALSE(m.crashed);
    EXPECT_EQ(m.exit_code, 1);
  }
}

}  // namespace
