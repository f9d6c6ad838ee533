// tvm export-onnx PROGRAM -o DIR [--layers N] [--json]
//
// The compiled transformer as ONNX files (onnx_export.hpp lists them), written with the onnx
// protobuf classes of Debian's libonnx-dev, and verify_with_onnx, which runs the independent
// ONNX Runtime check in tools/onnx_check/ on them.
#include "onnx_export.hpp"

#include <onnx/onnx_pb.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "cli_common.hpp"
#include "commands.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/version.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/compiler.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/runner.hpp"
#include "ptvm/vmair/claim.hpp"
#include "run_output.hpp"

extern char** environ;

namespace tvm_cli {
namespace {

namespace fs = std::filesystem;
namespace vm = ptvm::vm;
using nlohmann::ordered_json;
using ptvm::Error;
using ptvm::ErrorCategory;

// IR 8 is the newest that Debian's onnx 1.12 (python3-onnx's checker) accepts; ONNX Runtime reads
// it. Opset 13 has every operator used here with int64 support.
constexpr int64_t kIrVersion = 8;
constexpr int64_t kOpsetVersion = 13;
constexpr const char* kStateEncodingFile = "state_encoding.onnx";
constexpr const char* kMetadataFile = "metadata.json";
// Every intermediate of every block stays below this in magnitude (checked per block at export):
// int64 is exact by far, and so would be a double evaluation of the same graph.
constexpr double kExactBound = 9007199254740992.0; // 2^53

// The x layout of compiler.hpp, spelled out; the static_asserts pin it to FfnInput.
static_assert(vm::kFfnInputs == 41 && vm::kInOne == 0 && vm::kInPc == 1 && vm::kInNextPc == 2 &&
              vm::kInAcc == 3 && vm::kInZero == 4 && vm::kInCarry == 5 && vm::kInHalted == 6 &&
              vm::kInSp == 7 && vm::kInOperand == 8 && vm::kInAccBit0 == 9 &&
              vm::kInOperandBit0 == 25 && vm::kInOperandBit0 + 16 == vm::kFfnInputs);
static_assert(vm::kFfnOutputs == 6 && vm::kOutNextPc == 0 && vm::kOutRawAcc == 1 &&
              vm::kOutNextSp == 2 && vm::kOutWriteEnable == 3 && vm::kOutWriteAddress == 4 &&
              vm::kOutWriteValue == 5);

constexpr std::array<const char*, 9> kScalarInputNames = {
    "one", "pc", "next_pc", "acc", "zero_flag", "carry_flag", "halted", "sp", "operand"};
constexpr std::array<const char*, vm::kFfnOutputs> kOutputNames = {
    "next_pc", "raw_acc", "next_sp", "write_enable", "write_address", "write_value"};

std::string input_name(int k) {
  if (k < vm::kInAccBit0)
    return kScalarInputNames[static_cast<size_t>(k)];
  if (k < vm::kInOperandBit0)
    return "acc_bit_" + std::to_string(k - vm::kInAccBit0);
  return "operand_bit_" + std::to_string(k - vm::kInOperandBit0);
}

// The largest |x_k| a reachable state gives (pc, p1, sp are u8; acc and operand i16; bits 0/1).
int64_t input_magnitude(int k) {
  switch (k) {
  case vm::kInPc:
  case vm::kInNextPc:
  case vm::kInSp:
    return 255;
  case vm::kInAcc:
  case vm::kInOperand:
    return 32768;
  default:
    return 1;
  }
}

// The state-encoding model's inputs: name and range (inclusive).
struct EncodingInput {
  const char* name;
  int64_t low, high;
};
constexpr std::array<EncodingInput, 7> kEncodingInputs = {{{"pc", 0, 255},
                                                           {"acc", -32768, 32767},
                                                           {"zero_flag", 0, 1},
                                                           {"carry_flag", 0, 1},
                                                           {"halted", 0, 1},
                                                           {"sp", 0, 255},
                                                           {"operand", -32768, 32767}}};

const char* operand_source_name(vm::OperandSource s) {
  switch (s) {
  case vm::OperandSource::None:
    return "none";
  case vm::OperandSource::Immediate:
    return "immediate";
  case vm::OperandSource::MemoryAtAddress:
    return "memory_at_address";
  case vm::OperandSource::MemoryAtSp:
    return "memory_at_sp";
  }
  return "?";
}

const char* flag_rule_name(vm::FlagRule r) {
  switch (r) {
  case vm::FlagRule::Keep:
    return "keep";
  case vm::FlagRule::ClearCarry:
    return "clear_carry";
  case vm::FlagRule::Overflow:
    return "overflow";
  case vm::FlagRule::SignedLess:
    return "signed_less";
  }
  return "?";
}

const char* stack_check_name(vm::StackCheck c) {
  switch (c) {
  case vm::StackCheck::None:
    return "none";
  case vm::StackCheck::Push:
    return "push";
  case vm::StackCheck::Pop:
    return "pop";
  }
  return "?";
}

// ---- graph building ------------------------------------------------------------------------

void set_int64_type(onnx::ValueInfoProto* info, const std::string& name,
                    const std::vector<int64_t>& dims) {
  info->set_name(name);
  onnx::TypeProto_Tensor* tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::INT64);
  onnx::TensorShapeProto* shape = tensor->mutable_shape();
  for (int64_t d : dims)
    shape->add_dim()->set_dim_value(d);
}

void add_initializer(onnx::GraphProto& graph, const std::string& name,
                     const std::vector<int64_t>& dims, const std::vector<int64_t>& values) {
  onnx::TensorProto* t = graph.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims)
    t->add_dims(d);
  for (int64_t v : values)
    t->add_int64_data(v);
}

// A node with one output, which names it; the output's type goes into value_info, or into the
// graph's outputs for the last node.
enum class Role { Intermediate, GraphOutput };
onnx::NodeProto* add_node(onnx::GraphProto& graph, const std::string& op,
                          const std::vector<std::string>& inputs, const std::string& output,
                          const std::vector<int64_t>& dims, Role role = Role::Intermediate) {
  onnx::NodeProto* node = graph.add_node();
  node->set_op_type(op);
  node->set_name(output);
  for (const std::string& in : inputs)
    node->add_input(in);
  node->add_output(output);
  set_int64_type(role == Role::Intermediate ? graph.add_value_info() : graph.add_output(), output,
                 dims);
  return node;
}

onnx::ModelProto new_model(const std::string& graph_name, const std::string& doc) {
  onnx::ModelProto model;
  model.set_ir_version(kIrVersion);
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpsetVersion);
  model.set_producer_name("ptvm");
  model.set_producer_version(ptvm::version_string());
  model.set_domain("ptvm");
  model.set_model_version(1);
  model.set_doc_string(doc);
  model.mutable_graph()->set_name(graph_name);
  return model;
}

void add_property(onnx::ModelProto& model, const std::string& key, const std::string& value) {
  onnx::StringStringEntryProto* p = model.add_metadata_props();
  p->set_key(key);
  p->set_value(value);
}

void write_model(const onnx::ModelProto& model, const fs::path& path) {
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    throw Error(ErrorCategory::Internal, path.string() + ": serializing the ONNX model failed");
  write_output_file(path.string(), bytes);
}

// x = [1, pc, p1, acc, zero, carry, halted, sp, operand, acc bits 0..15, operand bits 0..15] from
// the registers and the operand, as make_ffn_input builds it. The u16 view of a value v in
// [-32768, 32767] is (v + 65536) mod 65536 (the sum is positive, so Mod's sign convention does not
// matter), and bit k is (u16 div 2^k) mod 2 (Div truncates; the operands are non-negative).
onnx::ModelProto state_encoding_model(const std::string& program_hash) {
  onnx::ModelProto model =
      new_model("ptvm_state_encoding", "ptvm state encoding: (pc, acc, zero_flag, carry_flag, "
                                       "halted, sp, operand) -> x[41] = [1, pc, (pc+1) mod "
                                       "256, acc, zero_flag, carry_flag, halted, sp, operand, "
                                       "u16(acc) bits 0..15, u16(operand) bits 0..15], "
                                       "ptvm::vm::make_ffn_input; int64, exact.");
  add_property(model, "program_hash", program_hash);
  onnx::GraphProto& g = *model.mutable_graph();
  for (const EncodingInput& in : kEncodingInputs)
    set_int64_type(g.add_input(), in.name, {1});
  add_initializer(g, "one", {1}, {1});
  add_initializer(g, "pc_modulus", {1}, {256});
  add_initializer(g, "u16_modulus", {1}, {65536});
  add_initializer(g, "two", {1}, {2});
  std::vector<int64_t> powers;
  for (int k = 0; k < 16; ++k)
    powers.push_back(int64_t{1} << k);
  add_initializer(g, "bit_weights", {16}, powers);

  add_node(g, "Add", {"pc", "one"}, "pc_plus_one", {1});
  add_node(g, "Mod", {"pc_plus_one", "pc_modulus"}, "next_pc", {1});
  for (const char* name : {"acc", "operand"}) {
    const std::string v = name;
    add_node(g, "Add", {v, "u16_modulus"}, v + "_plus_65536", {1});
    add_node(g, "Mod", {v + "_plus_65536", "u16_modulus"}, v + "_u16", {1});
    add_node(g, "Div", {v + "_u16", "bit_weights"}, v + "_shifted", {16});
    add_node(g, "Mod", {v + "_shifted", "two"}, v + "_bits", {16});
  }
  // The pieces of x in the order of FfnInput: the nine scalars, then the two 16-bit groups.
  std::vector<std::string> pieces(kScalarInputNames.begin(), kScalarInputNames.end());
  pieces.push_back("acc_bits");
  pieces.push_back("operand_bits");
  onnx::NodeProto* concat = add_node(g, "Concat", pieces, "x", {vm::kFfnInputs}, Role::GraphOutput);
  onnx::AttributeProto* axis = concat->add_attribute();
  axis->set_name("axis");
  axis->set_type(onnx::AttributeProto::INT);
  axis->set_i(0);
  return model;
}

// The largest magnitude any node of the block can produce for inputs in their ranges: each gate and
// value pre-activation (and every partial sum of its MatMul) is at most |b| + sum |w_k| max|x_k|,
// a hidden unit at most the product of its two, an output at most |bo| + sum |Wo| max|h|.
double block_magnitude_bound(const vm::DenseBlock& d) {
  double worst = 0;
  std::vector<double> hidden(static_cast<size_t>(d.hidden_width));
  for (int j = 0; j < d.hidden_width; ++j) {
    double gate = std::abs(static_cast<double>(d.gate_bias[j]));
    double value = std::abs(static_cast<double>(d.value_bias[j]));
    for (int k = 0; k < vm::kFfnInputs; ++k) {
      gate += std::abs(static_cast<double>(d.gate(j, k))) * static_cast<double>(input_magnitude(k));
      value +=
          std::abs(static_cast<double>(d.value(j, k))) * static_cast<double>(input_magnitude(k));
    }
    hidden[static_cast<size_t>(j)] = gate * value;
    worst = std::max({worst, gate, value, gate * value});
  }
  for (int o = 0; o < vm::kFfnOutputs; ++o) {
    double sum = std::abs(static_cast<double>(d.output_bias[static_cast<size_t>(o)]));
    for (int j = 0; j < d.hidden_width; ++j)
      sum += std::abs(static_cast<double>(d.output(o, j))) * hidden[static_cast<size_t>(j)];
    worst = std::max(worst, sum);
  }
  return worst;
}

// y = Wo ((Wg x + bg) * (Wv x + bv)) + bo with the dense weights (hidden width ff_dim; the rows
// past the block's own units are zero). x and y are 1-D, so each MatMul is a matrix-vector product.
onnx::ModelProto block_model(const vm::CompiledBlock& block, const vm::DenseBlock& d,
                             const std::string& program_hash) {
  const std::string text = vm::format_instruction(block.instruction);
  onnx::ModelProto model =
      new_model("ptvm_block_pc_" + std::to_string(block.pc),
                "ptvm compiled FFN block of pc " + std::to_string(block.pc) + " (" + text +
                    "): y[6] = Wo ((Wg x + bg) * (Wv x + bv)) + bo; int64, exact.");
  add_property(model, "program_hash", program_hash);
  add_property(model, "pc", std::to_string(block.pc));
  add_property(model, "instruction", text);
  add_property(model, "operand_source", operand_source_name(block.operand_source));
  add_property(model, "flag_rule", flag_rule_name(block.flag_rule));
  add_property(model, "stack_check", stack_check_name(block.stack_check));
  add_property(model, "halts", block.halts ? "true" : "false");
  onnx::GraphProto& g = *model.mutable_graph();
  const int64_t h = d.hidden_width;
  set_int64_type(g.add_input(), "x", {vm::kFfnInputs});
  add_initializer(g, "Wg", {h, vm::kFfnInputs}, d.gate_weights);
  add_initializer(g, "bg", {h}, d.gate_bias);
  add_initializer(g, "Wv", {h, vm::kFfnInputs}, d.value_weights);
  add_initializer(g, "bv", {h}, d.value_bias);
  add_initializer(g, "Wo", {vm::kFfnOutputs, h}, d.output_weights);
  add_initializer(g, "bo", {vm::kFfnOutputs},
                  std::vector<int64_t>(d.output_bias.begin(), d.output_bias.end()));
  add_node(g, "MatMul", {"Wg", "x"}, "gate_linear", {h});
  add_node(g, "Add", {"gate_linear", "bg"}, "gate", {h});
  add_node(g, "MatMul", {"Wv", "x"}, "value_linear", {h});
  add_node(g, "Add", {"value_linear", "bv"}, "value", {h});
  add_node(g, "Mul", {"gate", "value"}, "hidden", {h});
  add_node(g, "MatMul", {"Wo", "hidden"}, "output_linear", {vm::kFfnOutputs});
  add_node(g, "Add", {"output_linear", "bo"}, "y", {vm::kFfnOutputs}, Role::GraphOutput);
  return model;
}

// blocks/pc_NNN.onnx (pc < 256: three digits sort in pc order).
std::string block_file(size_t pc) {
  const std::string digits = std::to_string(pc);
  return "blocks/pc_" + std::string(digits.size() < 3 ? 3 - digits.size() : 0, '0') + digits +
         ".onnx";
}

ordered_json state_json(const vm::MachineState& s) {
  return {{"pc", s.pc},
          {"acc", s.acc},
          {"sp", s.sp},
          {"zero_flag", s.zero_flag},
          {"carry_flag", s.carry_flag},
          {"halted", s.halted}};
}

// ---- running the check ----------------------------------------------------------------------

struct ProcessResult {
  int spawn_error = 0; // errno of a failed spawn (ENOENT: no such program)
  int exit_code = -1;  // -1 when killed by a signal
  std::string output;  // stdout and stderr together
};

ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::vector<std::string>& environment) {
  ProcessResult result;
  int fds[2];
  if (::pipe(fds) != 0)
    throw Error(ErrorCategory::Internal, std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> args, env;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const std::string& e : environment)
    env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    result.spawn_error = rc;
    return result;
  }
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n > 0) {
      result.output.append(buffer, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos)
    return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// check.mjs: $PTVM_ONNX_CHECK_SCRIPT, the source tree of this build, or an installed copy.
std::string find_check_script() {
  const std::string from_env = env_or("PTVM_ONNX_CHECK_SCRIPT", "");
  if (!from_env.empty())
    return from_env;
  std::vector<fs::path> candidates;
#ifdef PTVM_ONNX_CHECK_DIR
  candidates.emplace_back(fs::path(PTVM_ONNX_CHECK_DIR) / "check.mjs");
#endif
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    candidates.push_back(exe.parent_path() / ".." / "share" / "ptvm" / "onnx_check" / "check.mjs");
  for (const fs::path& p : candidates)
    if (fs::is_regular_file(p, ec))
      return p.string();
  return {};
}

// A temporary folder that is removed unless kept.
class TemporaryFolder {
public:
  TemporaryFolder() {
    std::string pattern = (fs::temp_directory_path() / "ptvm-onnx-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw Error(ErrorCategory::Io,
                  pattern + ": cannot create a temporary folder (" + std::strerror(errno) + ")");
    path_ = pattern;
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  ~TemporaryFolder() {
    if (keep_)
      return;
    std::error_code ec;
    fs::remove_all(path_, ec); // never throws
  }
  const fs::path& path() const { return path_; }
  void keep() { keep_ = true; }

private:
  fs::path path_;
  bool keep_ = false;
};

struct ExportArguments {
  std::string program;
  std::string output;
  int64_t layers = 1;
  bool json = false;
};

} // namespace

void export_onnx(const vm::Program& program, int layers, const std::string& dir) {
  check_layers(layers);
  const vm::TransformerConfig config = ptvm::vmair::provable_transformer_config(layers);
  const vm::CompiledModel model = vm::compile_program(program, config);
  const ptvm::vmair::ClaimIdentities ids =
      ptvm::vmair::compute_identities(program, config, vm::AttentionMode{});
  prepare_output_folder(dir);
  prepare_output_folder((fs::path(dir) / "blocks").string());
  GOOGLE_PROTOBUF_VERIFY_VERSION;

  write_model(state_encoding_model(ids.program_hash), fs::path(dir) / kStateEncodingFile);

  ordered_json blocks = ordered_json::array();
  ordered_json banks = ordered_json::array();
  for (size_t layer = 0; layer < model.layers.size(); ++layer) {
    const vm::TransformerLayer& bank = model.layers[layer];
    banks.push_back({{"layer", layer}, {"pc_begin", bank.pc_begin}, {"pc_end", bank.pc_end}});
    for (const vm::CompiledBlock& block : bank.blocks) {
      const vm::DenseBlock dense = model.dense_block(block.pc);
      const double bound = block_magnitude_bound(dense);
      if (!(bound < kExactBound))
        throw Error(ErrorCategory::Internal,
                    program.source_name + ": block of pc " + std::to_string(block.pc) +
                        " may reach 2^53 in magnitude; its ONNX form would not be exact");
      write_model(block_model(block, dense, ids.program_hash),
                  fs::path(dir) / block_file(block.pc));
      const vm::OpcodeInfo& info = vm::opcode_info(block.instruction.op);
      ordered_json b;
      b["pc"] = block.pc;
      b["layer"] = layer;
      b["file"] = block_file(block.pc);
      b["instruction"] = vm::format_instruction(block.instruction);
      b["opcode"] = std::string(info.mnemonic);
      b["operand"] = block.instruction.operand;
      b["operand_source"] = operand_source_name(block.operand_source);
      b["flag_rule"] = flag_rule_name(block.flag_rule);
      b["stack_check"] = stack_check_name(block.stack_check);
      b["halts"] = block.halts;
      b["hidden_units_used"] = block.hidden_width();
      b["magnitude_bound"] = static_cast<int64_t>(bound);
      blocks.push_back(std::move(b));
    }
  }

  // Blocks of an earlier, longer export into the same folder would read as part of this one.
  std::error_code ec;
  for (size_t pc = model.num_instructions(); pc < vm::kMaxInstructions; ++pc)
    fs::remove(fs::path(dir) / block_file(pc), ec);

  ordered_json input_layout = ordered_json::array();
  for (int k = 0; k < vm::kFfnInputs; ++k)
    input_layout.push_back(input_name(k));
  ordered_json encoding_inputs = ordered_json::array();
  for (const EncodingInput& in : kEncodingInputs)
    encoding_inputs.push_back({{"name", in.name},
                               {"shape", ordered_json::array({1})},
                               {"type", "int64"},
                               {"range", ordered_json::array({in.low, in.high})}});
  // A list of one tensor description (spelled out: a braced single json element is ambiguous).
  const auto one_tensor = [](const std::string& name, int64_t size) {
    ordered_json t;
    t["name"] = name;
    t["shape"] = ordered_json::array({size});
    t["type"] = "int64";
    return ordered_json::array({t});
  };
  const auto shape = [](std::vector<int64_t> dims) { return ordered_json(dims); };

  ordered_json m;
  m["format"] = "ptvm-onnx-export";
  m["format_version"] = 1;
  m["producer"] = std::string("ptvm ") + ptvm::version_string();
  m["program"] = program.source_name;
  m["program_hash"] = ids.program_hash;
  m["transformer_config_hash"] = ids.transformer_config_hash;
  m["deterministic_model_hash"] = ids.deterministic_model_hash;
  m["transformer_config"] = {
      {"d_model", config.d_model},       {"num_heads", config.num_heads},
      {"num_layers", config.num_layers}, {"ff_dim", config.ff_dim},
      {"vocab_size", config.vocab_size}, {"max_seq_len", config.max_seq_len}};
  m["attention_mode"] = vm::format_attention_mode(vm::AttentionMode{});
  m["onnx"] = {{"ir_version", kIrVersion}, {"opset", kOpsetVersion}, {"element_type", "int64"}};
  m["num_instructions"] = model.num_instructions();
  m["memory_size"] = program.initial_memory.size();
  m["initial_memory"] = program.initial_memory;
  m["initial_state"] = state_json(vm::initial_state(program));
  m["input_layout"] = input_layout;
  m["output_layout"] = kOutputNames;
  m["state_encoding"] = {{"file", kStateEncodingFile},
                         {"inputs", encoding_inputs},
                         {"outputs", one_tensor("x", vm::kFfnInputs)},
                         {"formula",
                          "x = [1, pc, (pc + 1) mod 256, acc, zero_flag, carry_flag, halted, sp, "
                          "operand, bit k of (acc + 65536) mod 65536 for k = 0..15, the same of "
                          "operand]"}};
  m["block_model"] = {{"inputs", one_tensor("x", vm::kFfnInputs)},
                      {"outputs", one_tensor("y", vm::kFfnOutputs)},
                      {"hidden_width", config.ff_dim},
                      {"weights",
                       {{"Wg", shape({config.ff_dim, vm::kFfnInputs})},
                        {"bg", shape({config.ff_dim})},
                        {"Wv", shape({config.ff_dim, vm::kFfnInputs})},
                        {"bv", shape({config.ff_dim})},
                        {"Wo", shape({vm::kFfnOutputs, config.ff_dim})},
                        {"bo", shape({vm::kFfnOutputs})}}},
                      {"formula", "y = Wo ((Wg x + bg) * (Wv x + bv)) + bo"},
                      {"exactness", "int64 throughout; every intermediate of a block is below its "
                                    "magnitude_bound, itself below 2^53"}};
  // What a runner does around each block (ISA.md "The compiled transformer").
  m["outside_ffn"] = {
      {"stack_check",
       "before the block: push: sp == 0 is a stack overflow; pop: sp >= memory_size is a "
       "stack underflow"},
      {"operand_source",
       "none: 0; immediate: the block's operand; memory_at_address: the latest write of "
       "MEM[operand] (attention, query (1, 0) over (step, value) keys; initial memory is "
       "written at step 0); memory_at_sp: the same of MEM[sp]; an address >= memory_size "
       "is a runtime error"},
      {"next_pc", "y[0] (0..255; for RET outside that range a runtime error)"},
      {"next_sp", "y[2]"},
      {"acc", "wrap16(y[1]): the i16 of y[1] mod 65536"},
      {"flag_rule",
       "keep: zero and carry unchanged; clear_carry: zero = (acc == 0), carry = false; "
       "overflow: zero = (acc == 0), carry = y[1] outside [-32768, 32767]; signed_less: "
       "zero = (acc == 0), carry = y[1] < 0"},
      {"halted", "the block's halts"},
      {"write",
       "when y[3] >= 0.5: MEM[y[4]] := wrap16(y[5]) at this step (y[4] >= memory_size is a runtime "
       "error)"}};
  m["layers"] = banks;
  m["blocks"] = blocks;
  write_output_file((fs::path(dir) / kMetadataFile).string(), ptvm::dump_json_safe(m, 2) + "\n");
}

OnnxVerdict verify_with_onnx(const std::string& program_path, uint64_t max_steps, int layers) {
  check_layers(layers);
  const vm::Program program = vm::assemble_file(program_path);
  const std::string script = find_check_script();
  if (script.empty())
    return {OnnxVerdict::Unavailable, "the ONNX check script tools/onnx_check/check.mjs was not "
                                      "found (set PTVM_ONNX_CHECK_SCRIPT)"};

  TemporaryFolder temp;
  const fs::path models = temp.path() / "models";
  export_onnx(program, layers, models.string());

  // The reference: the native interpreter's trace, in the form `tvm run --trace --json` prints.
  RunReport report;
  report.program = program_path;
  report.options.engine = vm::EngineKind::Native;
  report.options.max_steps = max_steps;
  report.options.layers = layers;
  report.options.record_trace = true;
  report.result = vm::run(program, report.options);
  const fs::path trace = temp.path() / "trace.json";
  write_output_file(trace.string(), ptvm::dump_json_safe(report_json(report, true)) + "\n");

  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e)
    environment.emplace_back(*e);
#ifdef PTVM_ONNX_CACHE_DEFAULT
  if (std::getenv("PTVM_ONNX_CACHE") == nullptr)
    environment.push_back(std::string("PTVM_ONNX_CACHE=") + PTVM_ONNX_CACHE_DEFAULT);
#endif
  const std::string node = env_or("PTVM_NODE", "node");
  const ProcessResult r =
      run_process({node, script, "--model-dir", models.string(), "--trace", trace.string(),
                   "--max-steps", std::to_string(max_steps), "--quiet"},
                  environment);
  if (r.spawn_error != 0)
    return {OnnxVerdict::Unavailable,
            "cannot run '" + node + "' (" + std::strerror(r.spawn_error) +
                "): the ONNX check needs Node.js and npm (apt-get install nodejs npm, "
                "or set PTVM_NODE)"};
  const std::string output = trim(r.output);
  switch (r.exit_code) {
  case 0:
    return {OnnxVerdict::Agreed, output};
  case 1:
    temp.keep();
    return {OnnxVerdict::Diverged,
            output + " (models and trace kept in " + temp.path().string() + ")"};
  case 77:
    return {OnnxVerdict::Unavailable, output};
  default:
    throw Error(ErrorCategory::Runtime, "the ONNX check (" + script + ") failed with exit code " +
                                            std::to_string(r.exit_code) + ": " + output);
  }
}

Action add_export_onnx_command(CLI::App& app) {
  auto args = std::make_shared<ExportArguments>();
  CLI::App* cmd = app.add_subcommand(
      "export-onnx",
      "Write the compiled FFN blocks and the state encoding as ONNX models, with metadata.json");
  cmd->add_option("program", args->program, "the .tvm program")->required()->type_name("PROGRAM");
  cmd->add_option("-o,--output", args->output,
                  "output folder (created if needed): state_encoding.onnx, blocks/pc_NNN.onnx, "
                  "metadata.json")
      ->required()
      ->type_name("DIR");
  cmd->add_option(
         "--layers", args->layers,
         "transformer layers, 1..256 (default 1): the banks and identities in metadata.json")
      ->type_name("N");
  cmd->add_flag("--json", args->json, "print one JSON object");
  cmd->footer(
      "One model per pc, x (int64 [41]) -> y (int64 [6]), exactly the block's FFN (MatMul, Add, "
      "Mul),\n"
      "and the state encoding (pc, acc, zero_flag, carry_flag, halted, sp, operand) -> x; ONNX IR "
      "8,\n"
      "opset 13, every value an exact int64. metadata.json holds the shapes, the layouts, the\n"
      "program hash and per pc the operand source, flag rule, stack check and halt bit.\n"
      "Examples:\n"
      "  tvm export-onnx programs/fibonacci.tvm -o fib-onnx\n"
      "  node tools/onnx_check/check.mjs programs/fibonacci.tvm --model-dir fib-onnx   (ONNX "
      "Runtime)\n"
      "Exit codes: 0 ok, 1 input or output error, 2 usage (bad command line).");
  return [cmd, args]() -> int {
    if (!cmd->parsed())
      return -1;
    check_layers(args->layers);
    const vm::Program program = vm::assemble_file(args->program);
    export_onnx(program, static_cast<int>(args->layers), args->output);
    const ptvm::vmair::ClaimIdentities ids = ptvm::vmair::compute_identities(
        program, ptvm::vmair::provable_transformer_config(static_cast<int>(args->layers)),
        vm::AttentionMode{});
    ordered_json j;
    j["program"] = args->program;
    j["output"] = args->output;
    j["blocks"] = program.instructions.size();
    j["state_encoding"] = (fs::path(args->output) / kStateEncodingFile).string();
    j["metadata"] = (fs::path(args->output) / kMetadataFile).string();
    j["layers"] = args->layers;
    j["program_hash"] = ids.program_hash;
    print_facts(j, args->json);
    return 0;
  };
}

} // namespace tvm_cli
