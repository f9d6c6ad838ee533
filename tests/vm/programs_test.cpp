// Every program in programs/ on every engine (native, transformer, tensor, and in lockstep against
// the others), checked against its header:
//   ; expect: max_steps=N steps=S halted=B pc=P sp=Q acc=A zero_flag=B carry_flag=B memory=[a,b,...]
//   ; expect[MODE]: acc=A          (optional, per attention mode)
// Together the programs must use all 26 instructions.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/runner.hpp"

namespace ptvm::vm {
namespace {

struct Expectation {
  std::string mode;  // "" for the main line (average-hard)
  std::map<std::string, std::string> fields;
};

std::vector<Expectation> read_expectations(const std::filesystem::path& path) {
  std::vector<Expectation> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("; expect", 0) != 0) continue;
    Expectation e;
    size_t colon = line.find(':');
    if (line.rfind("; expect[", 0) == 0) {  // the mode itself may hold a colon (hard-softmax:T)
      size_t close = line.find("]:");
      if (close == std::string::npos) continue;
      e.mode = line.substr(9, close - 9);
      colon = close + 1;
    }
    std::istringstream fields(line.substr(colon + 1));
    std::string token;
    while (fields >> token) {
      size_t eq = token.find('=');
      if (eq != std::string::npos) e.fields[token.substr(0, eq)] = token.substr(eq + 1);
    }
    out.push_back(e);
  }
  return out;
}

std::string bool_text(bool v) { return v ? "true" : "false"; }

std::string memory_text(const std::vector<int16_t>& memory) {
  std::string s = "[";
  for (size_t i = 0; i < memory.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(memory[i]);
  }
  return s + "]";
}

void check_fields(const Expectation& e, const RunResult& r) {
  const MachineState& s = r.trace.final_state;
  const std::map<std::string, std::string> actual = {
      {"steps", std::to_string(r.steps)},
      {"halted", bool_text(s.halted)},
      {"pc", std::to_string(s.pc)},
      {"sp", std::to_string(s.sp)},
      {"acc", std::to_string(s.acc)},
      {"zero_flag", bool_text(s.zero_flag)},
      {"carry_flag", bool_text(s.carry_flag)},
      {"memory", memory_text(r.trace.final_memory)},
  };
  for (const auto& [key, value] : e.fields) {
    if (key == "max_steps") continue;
    auto found = actual.find(key);
    ASSERT_NE(found, actual.end()) << "unknown expect field " << key;
    EXPECT_EQ(found->second, value) << "field " << key;
  }
}

TEST(Programs, EveryProgramMatchesItsHeaderOnEveryEngine) {
  const std::filesystem::path dir = std::filesystem::path(PTVM_SOURCE_DIR) / "programs";
  std::vector<bool> opcode_used(kNumOpcodes, false);
  size_t count = 0;
  bool has_long_run = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".tvm") continue;
    ++count;
    SCOPED_TRACE(entry.path().string());
    Program program = assemble_file(entry.path().string());
    for (const Instruction& ins : program.instructions) opcode_used[static_cast<size_t>(ins.op)] = true;
    std::vector<Expectation> expectations = read_expectations(entry.path());
    ASSERT_FALSE(expectations.empty()) << "no '; expect:' header";
    ASSERT_EQ(expectations[0].mode, "") << "the first expect line is for average-hard";
    ASSERT_EQ(expectations[0].fields.size(), 9u) << "every field and max_steps must be given";
    const uint64_t max_steps = std::stoull(expectations[0].fields.at("max_steps"));
    has_long_run |= std::stoull(expectations[0].fields.at("steps")) >= 100000;
    for (const Expectation& e : expectations) {
      SCOPED_TRACE("mode " + (e.mode.empty() ? std::string("average-hard") : e.mode));
      RunOptions options;
      options.max_steps = max_steps;
      options.record_trace = false;
      if (!e.mode.empty()) options.attention = parse_attention_mode(e.mode);
      // native, transformer, transformer in lockstep with native, tensor, and all three in lockstep.
      for (int variant = 0; variant < 5; ++variant) {
        options.engine = variant == 0 ? EngineKind::Native : variant == 3 ? EngineKind::Tensor : EngineKind::Transformer;
        options.verify_native = variant == 2 || variant == 4;
        options.verify_tensor = variant == 4;
        SCOPED_TRACE(std::string(engine_name(options.engine)) + (options.verify_native ? " --verify-native" : "") +
                     (options.verify_tensor ? " --verify-tensor" : ""));
        check_fields(e, run(program, options));
      }
    }
  }
  EXPECT_GE(count, 10u);
  EXPECT_TRUE(has_long_run) << "at least one program must run 100000+ steps";
  for (int op = 0; op < kNumOpcodes; ++op) {
    EXPECT_TRUE(opcode_used[op]) << "no program uses " << opcode_info(static_cast<Opcode>(op)).mnemonic;
  }
}

}  // namespace
}  // namespace ptvm::vm
