// The tensor engine (see ptvm/vm/tensor_engine.hpp).
#include "ptvm/vm/tensor_engine.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/native.hpp"

namespace ptvm::vm {
namespace {

constexpr double kExactLimit = 9007199254740992.0;  // 2^53

int16_t wrap16(int64_t raw) { return static_cast<int16_t>(static_cast<uint16_t>(raw & 0xFFFF)); }

// The largest |x_i| any step can feed the FFN (make_ffn_input's ranges).
std::array<double, kFfnInputs> input_bounds() {
  std::array<double, kFfnInputs> b{};
  b.fill(1);  // 1, the flags and every bit
  b[kInPc] = b[kInNextPc] = b[kInSp] = 255;
  b[kInAcc] = b[kInOperand] = 32768;
  return b;
}

}  // namespace

void gemm_nt(size_t m, size_t n, size_t k, const double* a, const double* b, const double* bias, double* c) {
  for (size_t i = 0; i < m; ++i) {
    const double* ai = a + i * k;
    double* ci = c + i * n;
    for (size_t j = 0; j < n; ++j) {
      const double* bj = b + j * k;
      double sum = bias ? bias[j] : 0.0;
      for (size_t t = 0; t < k; ++t) sum += ai[t] * bj[t];
      ci[j] = sum;
    }
  }
}

namespace {

// The CPU TensorFfn: per group, the gate and value GEMMs, the product in place, the output GEMM.
class CpuTensorFfn final : public TensorFfn {
 public:
  std::string name() const override { return "cpu"; }
  void evaluate(const TensorModel& t, std::span<const TensorRowGroup> groups, std::span<const double> x,
                std::span<double> y) override {
    const size_t H = static_cast<size_t>(t.hidden);
    for (const TensorRowGroup& group : groups) {
      const size_t n = group.rows, pc = group.block;
      const double* xg = x.data() + group.first_row * kFfnInputs;
      g_.resize(n * H);
      v_.resize(n * H);
      gemm_nt(n, H, kFfnInputs, xg, t.gate.data() + pc * H * kFfnInputs, t.gate_bias.data() + pc * H, g_.data());
      gemm_nt(n, H, kFfnInputs, xg, t.value.data() + pc * H * kFfnInputs, t.value_bias.data() + pc * H, v_.data());
      for (size_t i = 0; i < n * H; ++i) g_[i] *= v_[i];  // the bilinear product, in place
      gemm_nt(n, kFfnOutputs, H, g_.data(), t.output.data() + pc * kFfnOutputs * H,
              t.output_bias.data() + pc * kFfnOutputs, y.data() + group.first_row * kFfnOutputs);
    }
  }

 private:
  std::vector<double> g_, v_;  // scratch, reused across steps
};

}  // namespace

std::unique_ptr<TensorFfn> make_cpu_tensor_ffn() { return std::make_unique<CpuTensorFfn>(); }

TensorModel TensorModel::build(const CompiledModel& model) {
  TensorModel t;
  t.n_blocks = model.num_instructions();
  t.hidden = std::max(1, model.max_hidden_width());
  const size_t H = static_cast<size_t>(t.hidden), n = t.n_blocks;
  t.gate.assign(n * H * kFfnInputs, 0);
  t.value.assign(n * H * kFfnInputs, 0);
  t.gate_bias.assign(n * H, 0);
  t.value_bias.assign(n * H, 0);
  t.output.assign(n * kFfnOutputs * H, 0);
  t.output_bias.assign(n * kFfnOutputs, 0);
  const auto xb = input_bounds();
  for (size_t pc = 0; pc < n; ++pc) {
    const CompiledBlock& block = model.block(pc);
    t.blocks.push_back(block);
    const DenseBlock d = to_dense(block, t.hidden);
    std::vector<double> hidden_bound(H, 0);
    for (size_t j = 0; j < H; ++j) {
      double gb = std::fabs(static_cast<double>(d.gate_bias[j])), vb = std::fabs(static_cast<double>(d.value_bias[j]));
      t.gate_bias[pc * H + j] = static_cast<double>(d.gate_bias[j]);
      t.value_bias[pc * H + j] = static_cast<double>(d.value_bias[j]);
      for (int i = 0; i < kFfnInputs; ++i) {
        t.gate[(pc * H + j) * kFfnInputs + i] = static_cast<double>(d.gate(static_cast<int>(j), i));
        t.value[(pc * H + j) * kFfnInputs + i] = static_cast<double>(d.value(static_cast<int>(j), i));
        gb += std::fabs(static_cast<double>(d.gate(static_cast<int>(j), i))) * xb[i];
        vb += std::fabs(static_cast<double>(d.value(static_cast<int>(j), i))) * xb[i];
      }
      hidden_bound[j] = gb * vb;
      t.max_abs_value = std::max({t.max_abs_value, gb, vb, hidden_bound[j]});
    }
    for (int o = 0; o < kFfnOutputs; ++o) {
      double ob = std::fabs(static_cast<double>(d.output_bias[o]));
      t.output_bias[pc * kFfnOutputs + o] = static_cast<double>(d.output_bias[o]);
      for (size_t j = 0; j < H; ++j) {
        const auto w = static_cast<double>(d.output(o, static_cast<int>(j)));
        t.output[(pc * kFfnOutputs + o) * H + j] = w;
        ob += std::fabs(w) * hidden_bound[j];
      }
      t.max_abs_value = std::max(t.max_abs_value, ob);
    }
  }
  // The bounds are sums of absolute values, so every partial sum of a GEMM is below them too.
  if (!(t.max_abs_value < kExactLimit))
    throw Error(ErrorCategory::Usage, "tensor engine: a block's values could reach 2^53, beyond exact FP64");
  return t;
}

TensorBatch::TensorBatch(const CompiledModel& model, const std::vector<std::vector<int16_t>>& initial_memories,
                         uint64_t max_steps, AttentionMode attention, bool record_trace,
                         const TensorFfnFactory& ffn)
    : tensor_(TensorModel::build(model)),
      ffn_(ffn ? ffn(tensor_) : make_cpu_tensor_ffn()),
      source_(model.program.source_name.empty() ? std::string("<memory>") : model.program.source_name),
      record_(record_trace) {
  validate_attention_mode(attention);
  for (const auto& memory : initial_memories) {
    if (memory.size() > kMaxMemory) throw Error(ErrorCategory::Usage, "tensor engine: memory larger than 255 cells");
    Program p = model.program;
    p.initial_memory = memory;
    Machine m{initial_state(p), HullKvMemory(memory, attention), 0, max_steps, std::nullopt, ErrorCategory::Runtime, {}};
    machines_.push_back(std::move(m));
  }
  if (!ffn_) throw Error(ErrorCategory::Internal, "tensor engine: the TensorFfn factory made nothing");
  last_rows_.resize(machines_.size());
}

bool TensorBatch::all_done() const {
  return std::all_of(machines_.begin(), machines_.end(), [](const Machine& m) { return m.done(); });
}

size_t TensorBatch::step() {
  const TensorModel& t = tensor();
  groups_.resize(t.n_blocks);
  for (auto& g : groups_) g.clear();
  x_.resize(machines_.size() * kFfnInputs);
  pending_.resize(machines_.size());
  size_t stepped = 0;

  // Per machine: bounds checks and the attention read, then its state encoding into X.
  for (size_t b = 0; b < machines_.size(); ++b) {
    Machine& m = machines_[b];
    last_rows_[b].reset();
    if (m.done()) continue;
    const MachineState& cur = m.state;
    const uint64_t step_number = m.steps + 1;
    auto fail = [&](const Instruction* ins, const std::string& why) {
      std::string where = source_ + ": runtime error at step " + std::to_string(step_number) + " (pc " +
                          std::to_string(cur.pc);
      if (ins) where += ", " + format_instruction(*ins);
      m.error = where + "): " + why;
    };
    if (cur.pc >= t.n_blocks) {
      fail(nullptr, "pc " + std::to_string(cur.pc) + " outside the program (" + std::to_string(t.n_blocks) +
                        " instructions)");
      continue;
    }
    const CompiledBlock& block = t.blocks[cur.pc];
    const Instruction& ins = block.instruction;
    const size_t memory_size = m.memory.size();
    TraceRow& row = pending_[b];
    row = TraceRow{};
    row.step = step_number;
    row.pc = cur.pc;
    row.instruction = ins;
    if (block.stack_check == StackCheck::Push && cur.sp == 0) {
      fail(&ins, "stack overflow: " + std::string(opcode_info(ins.op).mnemonic) + " with sp == 0");
      continue;
    }
    if (block.stack_check == StackCheck::Pop && cur.sp >= memory_size) {
      fail(&ins, "stack underflow: " + std::string(opcode_info(ins.op).mnemonic) + " with sp " +
                     std::to_string(cur.sp) + " >= memory size " + std::to_string(memory_size));
      continue;
    }
    int16_t operand = 0;
    if (block.operand_source == OperandSource::Immediate) {
      operand = static_cast<int16_t>(ins.operand);
    } else if (block.operand_source != OperandSource::None) {
      const size_t address =
          block.operand_source == OperandSource::MemoryAtSp ? cur.sp : static_cast<size_t>(ins.operand);
      if (address >= memory_size) {
        fail(&ins, "memory address " + std::to_string(address) + " >= memory size " + std::to_string(memory_size));
        continue;
      }
      operand = m.memory.read(address);
      row.access = {MemoryAccess::Kind::Read, static_cast<uint8_t>(address), operand, operand};
    }
    const FfnInputVector x = make_ffn_input(cur, operand);
    for (int i = 0; i < kFfnInputs; ++i) x_[b * kFfnInputs + i] = static_cast<double>(x[i]);
    groups_[cur.pc].push_back(b);
  }

  // The machines' rows of X gathered group by group (ascending pc), then the FFN of every group.
  row_groups_.clear();
  size_t rows = 0;
  for (size_t pc = 0; pc < t.n_blocks; ++pc) {
    const std::vector<size_t>& members = groups_[pc];
    if (members.empty()) continue;
    row_groups_.push_back({pc, rows, members.size()});
    rows += members.size();
  }
  if (rows == 0) return 0;
  xg_.resize(rows * kFfnInputs);
  y_.resize(rows * kFfnOutputs);
  for (const TensorRowGroup& group : row_groups_)
    for (size_t r = 0; r < group.rows; ++r)
      std::copy_n(x_.data() + groups_[group.block][r] * kFfnInputs, kFfnInputs,
                  xg_.data() + (group.first_row + r) * kFfnInputs);
  ffn_->evaluate(t, row_groups_, xg_, y_);
  gemm_calls_ += 3 * row_groups_.size();

  for (const TensorRowGroup& group : row_groups_) {
    const size_t pc = group.block, n = group.rows;
    const std::vector<size_t>& members = groups_[pc];
    const CompiledBlock& block = t.blocks[pc];
    const Instruction& ins = block.instruction;
    for (size_t r = 0; r < n; ++r) {
      Machine& m = machines_[members[r]];
      TraceRow& row = pending_[members[r]];
      const MachineState cur = m.state;
      int64_t y[kFfnOutputs];
      for (int o = 0; o < kFfnOutputs; ++o)
        y[o] = static_cast<int64_t>(y_[(group.first_row + r) * kFfnOutputs + o]);  // exact integers
      auto fail = [&](ErrorCategory category, const std::string& why) {
        m.error = source_ + ": runtime error at step " + std::to_string(row.step) + " (pc " + std::to_string(cur.pc) +
                  ", " + format_instruction(ins) + "): " + why;
        m.error_category = category;
      };
      if (y[kOutNextPc] < 0 || y[kOutNextPc] > 255) {
        if (ins.op == Opcode::Ret)
          fail(ErrorCategory::Runtime, "RET to " + std::to_string(y[kOutNextPc]) + ", outside 0..255");
        else
          fail(ErrorCategory::Internal, "compiled block produced pc " + std::to_string(y[kOutNextPc]));
        continue;
      }
      if (y[kOutNextSp] < 0 || y[kOutNextSp] > 255) {
        fail(ErrorCategory::Internal, "compiled block produced sp " + std::to_string(y[kOutNextSp]));
        continue;
      }
      MachineState next;
      next.pc = static_cast<uint8_t>(y[kOutNextPc]);
      next.sp = static_cast<uint8_t>(y[kOutNextSp]);
      const int64_t raw_acc = y[kOutRawAcc];
      next.acc = wrap16(raw_acc);
      apply_flag_rule(block.flag_rule, cur, raw_acc, next);
      next.halted = block.halts;
      if (2 * y[kOutWriteEnable] >= 1) {
        if (y[kOutWriteAddress] < 0 || static_cast<uint64_t>(y[kOutWriteAddress]) >= m.memory.size()) {
          fail(ErrorCategory::Runtime, "memory address " + std::to_string(y[kOutWriteAddress]) + " >= memory size " +
                                           std::to_string(m.memory.size()));
          continue;
        }
        const auto address = static_cast<size_t>(y[kOutWriteAddress]);
        const int16_t value = wrap16(y[kOutWriteValue]);
        row.access = {MemoryAccess::Kind::Write, static_cast<uint8_t>(address), value, m.memory.latest(address)};
        m.memory.write(address, row.step, value);
      }
      m.state = next;
      m.steps = row.step;
      row.after = next;
      if (record_) m.rows.push_back(row);
      last_rows_[members[r]] = row;
      ++stepped;
    }
  }
  return stepped;
}

void TensorBatch::run() {
  while (!all_done()) step();
}

namespace {

class TensorEngine final : public Engine {
 public:
  TensorEngine(const Program& program, AttentionMode attention, const TransformerConfig& config,
               const TensorFfnFactory& ffn)
      : batch_(compile_program(program, config), {program.initial_memory}, UINT64_MAX, attention, false, ffn) {}
  EngineKind kind() const override { return EngineKind::Tensor; }
  const MachineState& state() const override { return batch_.machine(0).state; }
  uint64_t steps_taken() const override { return batch_.machine(0).steps; }
  std::vector<int16_t> memory() const override { return batch_.machine(0).memory.latest_values(); }
  TraceRow step() override {
    if (batch_.machine(0).state.halted) throw Error(ErrorCategory::Internal, "tensor engine: step() on a halted machine");
    batch_.step();
    const auto& m = batch_.machine(0);
    if (m.error) throw Error(m.error_category, *m.error);
    return *batch_.last_row(0);
  }

 private:
  TensorBatch batch_;
};

}  // namespace

std::unique_ptr<Engine> make_tensor_engine(const Program& program, AttentionMode attention,
                                           const TransformerConfig& config, const TensorFfnFactory& ffn) {
  return std::make_unique<TensorEngine>(program, attention, config, ffn);
}

}  // namespace ptvm::vm
