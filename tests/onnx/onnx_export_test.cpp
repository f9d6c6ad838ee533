// tvm export-onnx: the files hold exactly the compiled transformer.
//   - a small reference evaluator (this file) runs the exported graphs: the state encoding equals
//     make_ffn_input on a sweep of edge and random states, every block equals evaluate_sparse and
//     evaluate_dense, and its initializers are the dense weights entry for entry;
//   - metadata.json agrees with compiler.hpp's constants, the compiled blocks and the identities;
//   - the graphs use only the operators the format promises, int64 throughout;
//   - verify_with_onnx agrees on a program, and the node check names the first divergence of a
//     tampered block (both skip when onnxruntime-node cannot be installed or loaded);
//   - the CLI's usage and exit codes.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "../vm/random_program.hpp"
#include "onnx_export.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/compiler.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vmair/claim.hpp"

namespace {

namespace fs = std::filesystem;
namespace vm = ptvm::vm;

// ---- a reference evaluator for the int64 graphs the exporter writes ----------------------------

struct Tensor {
  std::vector<int64_t> dims;
  std::vector<int64_t> values;
};

onnx::ModelProto load_model(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto model;
  if (!in || !model.ParseFromIstream(&in))
    throw std::runtime_error(path.string() + ": not an ONNX model");
  return model;
}

Tensor from_proto(const onnx::TensorProto& t) {
  if (t.data_type() != onnx::TensorProto::INT64)
    throw std::runtime_error(t.name() + ": not int64");
  Tensor out;
  out.dims.assign(t.dims().begin(), t.dims().end());
  out.values.assign(t.int64_data().begin(), t.int64_data().end());
  return out;
}

int64_t floor_mod(int64_t a, int64_t b) { // ONNX Mod with fmod = 0: the sign of the divisor
  const int64_t r = a % b;
  return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
}

// Element-wise on 1-D tensors of equal size, or with one side of size 1 (the only broadcasts used).
Tensor elementwise(const std::string& op, const Tensor& a, const Tensor& b) {
  if (a.dims.size() != 1 || b.dims.size() != 1)
    throw std::runtime_error(op + ": operands must be 1-D");
  const size_t n = std::max(a.values.size(), b.values.size());
  if ((a.values.size() != n && a.values.size() != 1) ||
      (b.values.size() != n && b.values.size() != 1))
    throw std::runtime_error(op + ": shapes do not broadcast");
  Tensor out{{static_cast<int64_t>(n)}, std::vector<int64_t>(n)};
  for (size_t i = 0; i < n; ++i) {
    const int64_t x = a.values[a.values.size() == 1 ? 0 : i],
                  y = b.values[b.values.size() == 1 ? 0 : i];
    if (op == "Add")
      out.values[i] = x + y;
    else if (op == "Mul")
      out.values[i] = x * y;
    else if (op == "Div")
      out.values[i] = x / y; // integer Div truncates
    else if (op == "Mod")
      out.values[i] = floor_mod(x, y);
    else
      throw std::runtime_error("unsupported operator " + op);
  }
  return out;
}

std::map<std::string, Tensor> evaluate(const onnx::ModelProto& model,
                                       std::map<std::string, Tensor> values) {
  const onnx::GraphProto& g = model.graph();
  for (const onnx::TensorProto& t : g.initializer())
    values[t.name()] = from_proto(t);
  const auto get = [&](const std::string& name) -> const Tensor& {
    auto it = values.find(name);
    if (it == values.end())
      throw std::runtime_error("no value named " + name + " (nodes out of order?)");
    return it->second;
  };
  for (const onnx::NodeProto& node : g.node()) {
    const std::string& op = node.op_type();
    Tensor out;
    if (op == "MatMul") { // matrix [m, k] times vector [k]
      const Tensor& a = get(node.input(0));
      const Tensor& v = get(node.input(1));
      if (a.dims.size() != 2 || v.dims.size() != 1 || a.dims[1] != v.dims[0])
        throw std::runtime_error("MatMul " + node.name() + ": shapes");
      out.dims = {a.dims[0]};
      out.values.assign(static_cast<size_t>(a.dims[0]), 0);
      for (int64_t i = 0; i < a.dims[0]; ++i)
        for (int64_t k = 0; k < a.dims[1]; ++k)
          out.values[static_cast<size_t>(i)] +=
              a.values[static_cast<size_t>(i * a.dims[1] + k)] * v.values[static_cast<size_t>(k)];
    } else if (op == "Concat") {
      if (node.attribute_size() != 1 || node.attribute(0).name() != "axis" ||
          node.attribute(0).i() != 0)
        throw std::runtime_error("Concat: axis 0 expected");
      for (const std::string& in : node.input()) {
        const Tensor& t = get(in);
        out.values.insert(out.values.end(), t.values.begin(), t.values.end());
      }
      out.dims = {static_cast<int64_t>(out.values.size())};
    } else {
      if (node.input_size() != 2)
        throw std::runtime_error(op + ": two inputs expected");
      out = elementwise(op, get(node.input(0)), get(node.input(1)));
    }
    values[node.output(0)] = std::move(out);
  }
  return values;
}

Tensor scalar(int64_t v) { return Tensor{{1}, {v}}; }

vm::FfnInputVector encode_with_model(const onnx::ModelProto& encoder, const vm::MachineState& s,
                                     int16_t operand) {
  auto values = evaluate(encoder, {{"pc", scalar(s.pc)},
                                   {"acc", scalar(s.acc)},
                                   {"zero_flag", scalar(s.zero_flag)},
                                   {"carry_flag", scalar(s.carry_flag)},
                                   {"halted", scalar(s.halted)},
                                   {"sp", scalar(s.sp)},
                                   {"operand", scalar(operand)}});
  const Tensor& x = values.at("x");
  if (x.values.size() != vm::kFfnInputs)
    throw std::runtime_error("x has the wrong size");
  vm::FfnInputVector out{};
  std::copy(x.values.begin(), x.values.end(), out.begin());
  return out;
}

vm::FfnOutputVector run_block_model(const onnx::ModelProto& block, const vm::FfnInputVector& x) {
  auto values =
      evaluate(block, {{"x", Tensor{{vm::kFfnInputs}, std::vector<int64_t>(x.begin(), x.end())}}});
  const Tensor& y = values.at("y");
  if (y.values.size() != vm::kFfnOutputs)
    throw std::runtime_error("y has the wrong size");
  vm::FfnOutputVector out{};
  std::copy(y.values.begin(), y.values.end(), out.begin());
  return out;
}

// ---- fixtures
// ------------------------------------------------------------------------------------

std::vector<fs::path> shipped_programs() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(PTVM_SOURCE_DIR) / "programs"))
    if (e.path().extension() == ".tvm")
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// blocks/pc_NNN.onnx, as metadata.json names them.
std::string block_file(size_t pc) {
  std::string digits = std::to_string(pc);
  return "blocks/pc_" + std::string(digits.size() < 3 ? 3 - digits.size() : 0, '0') + digits +
         ".onnx";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct Outcome {
  int exit_code = -1;
  std::string out;
};

class OnnxExport : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ptvm_onnx_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A command line (arguments quoted) with stdout and stderr together.
  Outcome command(const std::vector<std::string>& argv) {
    std::string line;
    for (const auto& a : argv)
      line += shell_quote(a) + " ";
    line += '>';
    line += shell_quote((dir_ / "out").string());
    line += " 2>&1";
    const int status = std::system(line.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir_ / "out")};
  }

  fs::path dir_;
};

std::mt19937_64& rng() {
  static std::mt19937_64 r(20240601);
  return r;
}

vm::MachineState random_state() {
  std::uniform_int_distribution<int> byte(0, 255), bit(0, 1), word(-32768, 32767);
  vm::MachineState s;
  s.pc = static_cast<uint8_t>(byte(rng()));
  s.acc = static_cast<int16_t>(word(rng()));
  s.sp = static_cast<uint8_t>(byte(rng()));
  s.zero_flag = bit(rng()) != 0;
  s.carry_flag = bit(rng()) != 0;
  s.halted = bit(rng()) != 0;
  return s;
}

// ---- the tests
// -----------------------------------------------------------------------------------

TEST_F(OnnxExport, StateEncodingModelIsMakeFfnInput) {
  const vm::Program program =
      vm::assemble_file(std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm");
  tvm_cli::export_onnx(program, 1, dir_.string());
  const onnx::ModelProto encoder = load_model(dir_ / "state_encoding.onnx");
  const std::vector<int> edges = {-32768, -32767, -256, -2,    -1,    0,    1,
                                  2,      255,    256,  12345, 32766, 32767};
  const std::vector<int> bytes = {0, 1, 127, 128, 254, 255};
  for (int acc : edges)
    for (int operand : edges)
      for (int pc : bytes) {
        vm::MachineState s;
        s.pc = static_cast<uint8_t>(pc);
        s.acc = static_cast<int16_t>(acc);
        s.sp = static_cast<uint8_t>(255 - pc);
        s.zero_flag = acc == 0;
        s.carry_flag = (pc & 1) != 0;
        s.halted = pc == 255;
        ASSERT_EQ(encode_with_model(encoder, s, static_cast<int16_t>(operand)),
                  vm::make_ffn_input(s, static_cast<int16_t>(operand)))
            << vm::format_state(s) << " operand " << operand;
      }
  std::uniform_int_distribution<int> word(-32768, 32767);
  for (int i = 0; i < 2000; ++i) {
    const vm::MachineState s = random_state();
    const auto operand = static_cast<int16_t>(word(rng()));
    ASSERT_EQ(encode_with_model(encoder, s, operand), vm::make_ffn_input(s, operand))
        << vm::format_state(s) << " operand " << operand << " (seed 20240601, draw " << i << ")";
  }
}

TEST_F(OnnxExport, EveryBlockOfEveryProgramIsItsCompiledFfn) {
  std::uniform_int_distribution<int> word(-32768, 32767);
  std::set<vm::Opcode> seen;
  for (const fs::path& path : shipped_programs()) {
    SCOPED_TRACE(path.string());
    const vm::Program program = vm::assemble_file(path.string());
    const fs::path out = dir_ / path.stem();
    tvm_cli::export_onnx(program, 1, out.string());
    const vm::CompiledModel model =
        vm::compile_program(program, ptvm::vmair::provable_transformer_config(1));
    for (size_t pc = 0; pc < program.instructions.size(); ++pc) {
      const onnx::ModelProto block = load_model(out / block_file(pc));
      const vm::DenseBlock dense = model.dense_block(pc);
      seen.insert(program.instructions[pc].op);
      // The initializers are the dense weights, entry for entry.
      std::map<std::string, Tensor> init;
      for (const auto& t : block.graph().initializer())
        init[t.name()] = from_proto(t);
      const int64_t h = dense.hidden_width;
      ASSERT_EQ(init.at("Wg").dims, (std::vector<int64_t>{h, vm::kFfnInputs}));
      ASSERT_EQ(init.at("Wo").dims, (std::vector<int64_t>{vm::kFfnOutputs, h}));
      ASSERT_EQ(init.at("Wg").values, dense.gate_weights);
      ASSERT_EQ(init.at("bg").values, dense.gate_bias);
      ASSERT_EQ(init.at("Wv").values, dense.value_weights);
      ASSERT_EQ(init.at("bv").values, dense.value_bias);
      ASSERT_EQ(init.at("Wo").values, dense.output_weights);
      ASSERT_EQ(init.at("bo").values,
                std::vector<int64_t>(dense.output_bias.begin(), dense.output_bias.end()));
      // And they compute the block: random states at this pc, random operands.
      for (int i = 0; i < 64; ++i) {
        vm::MachineState s = random_state();
        s.pc = static_cast<uint8_t>(pc);
        const auto operand = static_cast<int16_t>(word(rng()));
        const vm::FfnInputVector x = vm::make_ffn_input(s, operand);
        const vm::FfnOutputVector y = run_block_model(block, x);
        ASSERT_EQ(y, vm::evaluate_sparse(model.block(pc), x))
            << "pc " << pc << " " << vm::format_state(s);
        ASSERT_EQ(y, vm::evaluate_dense(dense, x)) << "pc " << pc;
      }
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(vm::kNumOpcodes))
      << "the shipped programs use every instruction";
}

TEST_F(OnnxExport, MetadataMatchesTheCompilerAndTheIdentities) {
  const std::string path = std::string(PTVM_SOURCE_DIR) + "/programs/stack_calls.tvm";
  const vm::Program program = vm::assemble_file(path);
  const int layers = 3;
  tvm_cli::export_onnx(program, layers, dir_.string());
  const nlohmann::json m = nlohmann::json::parse(slurp(dir_ / "metadata.json"));
  const vm::TransformerConfig config = ptvm::vmair::provable_transformer_config(layers);
  const vm::CompiledModel model = vm::compile_program(program, config);
  const auto ids = ptvm::vmair::compute_identities(program, config, vm::AttentionMode{});

  EXPECT_EQ(m["format"], "ptvm-onnx-export");
  EXPECT_EQ(m["program_hash"], ids.program_hash);
  EXPECT_EQ(m["transformer_config_hash"], ids.transformer_config_hash);
  EXPECT_EQ(m["deterministic_model_hash"], ids.deterministic_model_hash);
  EXPECT_EQ(m["onnx"]["ir_version"], 8);
  EXPECT_EQ(m["onnx"]["opset"], 13);
  EXPECT_EQ(m["num_instructions"], program.instructions.size());
  EXPECT_EQ(m["memory_size"], program.initial_memory.size());
  EXPECT_EQ(m["initial_memory"].get<std::vector<int16_t>>(), program.initial_memory);
  EXPECT_EQ(m["initial_state"]["sp"], vm::initial_state(program).sp);

  // The layouts name compiler.hpp's positions.
  const auto& in = m["input_layout"];
  ASSERT_EQ(in.size(), static_cast<size_t>(vm::kFfnInputs));
  const std::map<std::string, int> positions = {
      {"one", vm::kInOne},       {"pc", vm::kInPc},          {"next_pc", vm::kInNextPc},
      {"acc", vm::kInAcc},       {"zero_flag", vm::kInZero}, {"carry_flag", vm::kInCarry},
      {"halted", vm::kInHalted}, {"sp", vm::kInSp},          {"operand", vm::kInOperand}};
  for (const auto& [name, k] : positions)
    EXPECT_EQ(in[static_cast<size_t>(k)], name);
  for (int k = 0; k < 16; ++k) {
    EXPECT_EQ(in[static_cast<size_t>(vm::kInAccBit0 + k)], "acc_bit_" + std::to_string(k));
    EXPECT_EQ(in[static_cast<size_t>(vm::kInOperandBit0 + k)], "operand_bit_" + std::to_string(k));
  }
  const auto& out = m["output_layout"];
  ASSERT_EQ(out.size(), static_cast<size_t>(vm::kFfnOutputs));
  EXPECT_EQ(out[vm::kOutNextPc], "next_pc");
  EXPECT_EQ(out[vm::kOutRawAcc], "raw_acc");
  EXPECT_EQ(out[vm::kOutNextSp], "next_sp");
  EXPECT_EQ(out[vm::kOutWriteEnable], "write_enable");
  EXPECT_EQ(out[vm::kOutWriteAddress], "write_address");
  EXPECT_EQ(out[vm::kOutWriteValue], "write_value");
  EXPECT_EQ(m["block_model"]["hidden_width"], config.ff_dim);
  EXPECT_EQ(m["state_encoding"]["outputs"][0]["shape"], nlohmann::json::array({vm::kFfnInputs}));

  // Banks as the compiler splits them; per pc the block's rules.
  const auto banks = vm::layer_banks(program.instructions.size(), layers);
  ASSERT_EQ(m["layers"].size(), banks.size());
  for (size_t l = 0; l < banks.size(); ++l) {
    EXPECT_EQ(m["layers"][l]["pc_begin"], banks[l].first);
    EXPECT_EQ(m["layers"][l]["pc_end"], banks[l].second);
  }
  const std::map<vm::OperandSource, std::string> sources = {
      {vm::OperandSource::None, "none"},
      {vm::OperandSource::Immediate, "immediate"},
      {vm::OperandSource::MemoryAtAddress, "memory_at_address"},
      {vm::OperandSource::MemoryAtSp, "memory_at_sp"}};
  const std::map<vm::FlagRule, std::string> rules = {{vm::FlagRule::Keep, "keep"},
                                                     {vm::FlagRule::ClearCarry, "clear_carry"},
                                                     {vm::FlagRule::Overflow, "overflow"},
                                                     {vm::FlagRule::SignedLess, "signed_less"}};
  const std::map<vm::StackCheck, std::string> checks = {
      {vm::StackCheck::None, "none"}, {vm::StackCheck::Push, "push"}, {vm::StackCheck::Pop, "pop"}};
  ASSERT_EQ(m["blocks"].size(), program.instructions.size());
  for (size_t pc = 0; pc < program.instructions.size(); ++pc) {
    const auto& b = m["blocks"][pc];
    const vm::CompiledBlock& block = model.block(pc);
    EXPECT_EQ(b["pc"], pc);
    EXPECT_EQ(b["instruction"], vm::format_instruction(block.instruction));
    EXPECT_EQ(b["operand"], block.instruction.operand);
    EXPECT_EQ(b["operand_source"], sources.at(block.operand_source)) << "pc " << pc;
    EXPECT_EQ(b["flag_rule"], rules.at(block.flag_rule)) << "pc " << pc;
    EXPECT_EQ(b["stack_check"], checks.at(block.stack_check)) << "pc " << pc;
    EXPECT_EQ(b["halts"], block.halts);
    EXPECT_LT(b["magnitude_bound"].get<double>(), 9007199254740992.0);
    EXPECT_TRUE(fs::is_regular_file(dir_ / b["file"].get<std::string>()));
    const int64_t layer = b["layer"];
    EXPECT_GE(pc, banks[static_cast<size_t>(layer)].first);
    EXPECT_LT(pc, banks[static_cast<size_t>(layer)].second);
  }
}

TEST_F(OnnxExport, GraphsUseOnlyTheFfnOperatorsInInt64) {
  const vm::Program program =
      vm::assemble_file(std::string(PTVM_SOURCE_DIR) + "/programs/bitwise.tvm");
  tvm_cli::export_onnx(program, 1, dir_.string());
  const auto check = [](const onnx::ModelProto& model, const std::set<std::string>& allowed) {
    EXPECT_EQ(model.ir_version(), 8);
    ASSERT_EQ(model.opset_import_size(), 1);
    EXPECT_EQ(model.opset_import(0).domain(), "");
    EXPECT_EQ(model.opset_import(0).version(), 13);
    for (const auto& node : model.graph().node())
      EXPECT_TRUE(allowed.count(node.op_type())) << node.op_type();
    for (const auto& t : model.graph().initializer())
      EXPECT_EQ(t.data_type(), onnx::TensorProto::INT64);
    for (const auto& v : model.graph().input())
      EXPECT_EQ(v.type().tensor_type().elem_type(), onnx::TensorProto::INT64);
    for (const auto& v : model.graph().output())
      EXPECT_EQ(v.type().tensor_type().elem_type(), onnx::TensorProto::INT64);
  };
  check(load_model(dir_ / "state_encoding.onnx"), {"Add", "Mod", "Div", "Concat"});
  for (size_t pc = 0; pc < program.instructions.size(); ++pc) {
    const onnx::ModelProto block = load_model(dir_ / block_file(pc));
    check(block, {"MatMul", "Add", "Mul"});
    ASSERT_EQ(block.graph().input_size(), 1);
    EXPECT_EQ(block.graph().input(0).name(), "x");
    ASSERT_EQ(block.graph().output_size(), 1);
    EXPECT_EQ(block.graph().output(0).name(), "y");
    EXPECT_EQ(block.graph().output(0).type().tensor_type().shape().dim(0).dim_value(),
              vm::kFfnOutputs);
  }
}

TEST_F(OnnxExport, VerifyWithOnnxAgrees) {
  for (int layers : {1, 4}) {
    const tvm_cli::OnnxVerdict v = tvm_cli::verify_with_onnx(
        std::string(PTVM_SOURCE_DIR) + "/programs/factorial_recursive.tvm", 1000, layers);
    if (v.kind == tvm_cli::OnnxVerdict::Unavailable)
      GTEST_SKIP() << v.message;
    EXPECT_EQ(v.kind, tvm_cli::OnnxVerdict::Agreed) << v.message;
    EXPECT_NE(v.message.find("55 steps agree"), std::string::npos) << v.message;
  }
  // Stopping at max_steps before the halt agrees too.
  const tvm_cli::OnnxVerdict v =
      tvm_cli::verify_with_onnx(std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm", 20, 1);
  if (v.kind == tvm_cli::OnnxVerdict::Unavailable)
    GTEST_SKIP() << v.message;
  EXPECT_EQ(v.kind, tvm_cli::OnnxVerdict::Agreed) << v.message;
  EXPECT_NE(v.message.find("20 steps agree"), std::string::npos) << v.message;
}

// Sets an environment variable for one scope.
class ScopedEnv {
public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name))
      old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

private:
  const char* name_;
  std::optional<std::string> old_;
};

// Without a runtime the verdict says so (and why), it is not a divergence.
TEST_F(OnnxExport, VerifyWithOnnxSaysWhenTheRuntimeIsMissing) {
  const std::string fib = std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm";
  {
    ScopedEnv node("PTVM_NODE", (dir_ / "no-such-node").string());
    const tvm_cli::OnnxVerdict v = tvm_cli::verify_with_onnx(fib, 100, 1);
    EXPECT_EQ(v.kind, tvm_cli::OnnxVerdict::Unavailable) << v.message;
    EXPECT_NE(v.message.find("Node.js"), std::string::npos) << v.message;
  }
  const std::string node = PTVM_NODE_EXECUTABLE;
  if (node.find("NOTFOUND") != std::string::npos)
    GTEST_SKIP() << "node (Node.js) was not found at configure time";
  ScopedEnv cache("PTVM_ONNX_CACHE", (dir_ / "empty-cache").string());
  ScopedEnv npm("PTVM_NPM", (dir_ / "no-such-npm").string());
  const tvm_cli::OnnxVerdict v = tvm_cli::verify_with_onnx(fib, 100, 1);
  EXPECT_EQ(v.kind, tvm_cli::OnnxVerdict::Unavailable) << v.message;
  EXPECT_NE(v.message.find("onnxruntime-node is not installed"), std::string::npos) << v.message;
}

// A tampered block is caught at the first step that runs it, naming the field.
TEST_F(OnnxExport, TheCheckNamesTheFirstDivergence) {
  const std::string program = std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm";
  const fs::path models = dir_ / "models";
  tvm_cli::export_onnx(vm::assemble_file(program), 1, models.string());
  // fibonacci.tvm's pc 5 is ADDM 1 (the first run of it is step 6): raise its raw acc by one.
  const fs::path file = models / "blocks" / "pc_005.onnx";
  onnx::ModelProto block = load_model(file);
  for (auto& t : *block.mutable_graph()->mutable_initializer())
    if (t.name() == "bo")
      t.set_int64_data(vm::kOutRawAcc, t.int64_data(vm::kOutRawAcc) + 1);
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    ASSERT_TRUE(block.SerializeToOstream(&out));
  }
  const std::string node = PTVM_NODE_EXECUTABLE;
  if (node.find("NOTFOUND") != std::string::npos)
    GTEST_SKIP() << "node (Node.js) was not found at configure time";
  const std::vector<std::string> base = {node,
                                         std::string(PTVM_ONNX_CHECK_DIR) + "/check.mjs",
                                         program,
                                         "--tvm",
                                         PTVM_TVM_BINARY,
                                         "--max-steps",
                                         "1000",
                                         "--model-dir",
                                         models.string()};
  Outcome o = command(base);
  if (o.exit_code == 77)
    GTEST_SKIP() << o.out;
  EXPECT_EQ(o.exit_code, 1) << o.out;
  EXPECT_NE(o.out.find("diverged at step 6 (pc 5, ADDM 1): after.acc: onnx 2, native 1"),
            std::string::npos)
      << o.out;

  // The untouched export agrees; a bad option is exit 2.
  tvm_cli::export_onnx(vm::assemble_file(program), 1, models.string());
  o = command(base);
  EXPECT_EQ(o.exit_code, 0) << o.out;
  EXPECT_NE(o.out.find("148 steps agree"), std::string::npos) << o.out;
  o = command({node, std::string(PTVM_ONNX_CHECK_DIR) + "/check.mjs", "--max-steps", "-3"});
  EXPECT_EQ(o.exit_code, 2) << o.out;
}

// Random programs (every opcode, wraps, flags, runtime errors, endless loops) agree on ONNX Runtime
// with the native trace, or stop with the same runtime error at the same step (16 programs, 200
// with PTVM_LARGE_TESTS=1).
TEST_F(OnnxExport, RandomProgramsAgreeOnOnnxRuntime) {
  const std::string node = PTVM_NODE_EXECUTABLE;
  if (node.find("NOTFOUND") != std::string::npos)
    GTEST_SKIP() << "node (Node.js) was not found at configure time";
  constexpr uint64_t kSeed = 77;
  vm::testing::RandomProgramGenerator generator(kSeed);
  int with_error = 0;
  const char* large = std::getenv("PTVM_LARGE_TESTS");
  const int count = large != nullptr && std::string(large) == "1" ? 200 : 16;
  for (int i = 0; i < count; ++i) {
    const vm::Program p = generator.program();
    std::string source = ".memory " + std::to_string(p.initial_memory.size()) + "\n";
    for (size_t a = 0; a < p.initial_memory.size(); ++a)
      source += ".init " + std::to_string(a) + " " + std::to_string(p.initial_memory[a]) + "\n";
    for (const vm::Instruction& ins : p.instructions)
      source += vm::format_instruction(ins) + "\n";
    const fs::path file = dir_ / ("random_" + std::to_string(i) + ".tvm");
    std::ofstream(file) << source;
    const Outcome o = command({node, std::string(PTVM_ONNX_CHECK_DIR) + "/check.mjs", file.string(),
                               "--tvm", PTVM_TVM_BINARY, "--max-steps", "300", "--quiet"});
    if (o.exit_code == 77)
      GTEST_SKIP() << o.out;
    ASSERT_EQ(o.exit_code, 0) << "seed " << kSeed << ", program " << i << ":\n" << source << o.out;
    with_error += o.out.find("runtime error") != std::string::npos;
  }
  EXPECT_GT(with_error, 0) << "some random programs should end in a runtime error";
}

TEST_F(OnnxExport, CommandLine) {
  const std::string tvm = PTVM_TVM_BINARY;
  const std::string fib = std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm";
  Outcome o = command({tvm, "export-onnx", fib, "-o", (dir_ / "x").string(), "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.out;
  const nlohmann::json j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["blocks"], 14);
  EXPECT_EQ(j["program_hash"].get<std::string>().size(), 64u);
  EXPECT_TRUE(fs::is_regular_file(dir_ / "x" / "metadata.json"));
  EXPECT_TRUE(fs::is_regular_file(dir_ / "x" / "state_encoding.onnx"));
  EXPECT_TRUE(fs::is_regular_file(dir_ / "x" / "blocks" / "pc_013.onnx"));
  // A shorter program exported over it leaves no stale blocks behind.
  o = command({tvm, "export-onnx", std::string(PTVM_SOURCE_DIR) + "/programs/addition.tvm", "-o",
               (dir_ / "x").string()});
  ASSERT_EQ(o.exit_code, 0) << o.out;
  EXPECT_TRUE(fs::is_regular_file(dir_ / "x" / "blocks" / "pc_003.onnx"));
  EXPECT_FALSE(fs::exists(dir_ / "x" / "blocks" / "pc_004.onnx"));

  EXPECT_EQ(command({tvm, "export-onnx", fib}).exit_code, 2); // -o is required
  o = command({tvm, "export-onnx", fib, "-o", (dir_ / "y").string(), "--layers", "0"});
  EXPECT_EQ(o.exit_code, 2) << o.out;
  EXPECT_NE(o.out.find("--layers must be in 1..256"), std::string::npos) << o.out;
  EXPECT_EQ(
      command({tvm, "export-onnx", (dir_ / "missing.tvm").string(), "-o", (dir_ / "z").string()})
          .exit_code,
      1);
  std::ofstream(dir_ / "file") << "x";
  o = command({tvm, "export-onnx", fib, "-o", (dir_ / "file").string()});
  EXPECT_EQ(o.exit_code, 1) << o.out;
  EXPECT_NE(o.out.find("not a directory"), std::string::npos) << o.out;
  o = command({tvm, "help", "export-onnx"});
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_NE(o.out.find("Exit codes:"), std::string::npos);
}

} // namespace
