#include "ptvm/vm/format.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "ptvm/common/error.hpp"

namespace ptvm::vm {

std::string format_instruction(const Instruction& instruction) {
  auto index = static_cast<size_t>(instruction.op);
  if (index >= kOpcodeTable.size()) return "<opcode " + std::to_string(index) + ">";
  const OpcodeInfo& info = kOpcodeTable[index];
  std::string out(info.mnemonic);
  if (info.operand != OperandKind::None) {
    out += ' ';
    out += std::to_string(instruction.operand);
  }
  return out;
}

namespace {
std::string shortest(double value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}
}  // namespace

std::string format_attention_mode(const AttentionMode& mode) {
  switch (mode.kind) {
    case AttentionMode::Kind::AverageHard: return "average-hard";
    case AttentionMode::Kind::Softmax: return "softmax";
    case AttentionMode::Kind::HardSoftmax: return "hard-softmax:" + shortest(mode.temperature);
  }
  return "unknown";
}

AttentionMode parse_attention_mode(std::string_view text) {
  AttentionMode mode;
  if (text == "average-hard") return mode;
  if (text == "softmax") {
    mode.kind = AttentionMode::Kind::Softmax;
    return mode;
  }
  constexpr std::string_view prefix = "hard-softmax:";
  if (text.substr(0, prefix.size()) == prefix) {
    std::string_view number = text.substr(prefix.size());
    double t = 0;
    auto result = std::from_chars(number.data(), number.data() + number.size(), t);
    if (number.empty() || result.ec != std::errc() || result.ptr != number.data() + number.size() ||
        !std::isfinite(t) || t <= 0) {
      throw Error(ErrorCategory::Usage, "bad attention mode '" + std::string(text) +
                                            "': hard-softmax needs a temperature T > 0, e.g. "
                                            "hard-softmax:10");
    }
    mode.kind = AttentionMode::Kind::HardSoftmax;
    mode.temperature = t;
    return mode;
  }
  throw Error(ErrorCategory::Usage, "unknown attention mode '" + std::string(text) +
                                        "' (expected average-hard, softmax or hard-softmax:T)");
}

std::string format_memory(std::span<const int16_t> memory) {
  std::string out = "[";
  for (size_t i = 0; i < memory.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(memory[i]);
  }
  return out + "]";
}

std::string format_state(const MachineState& s) {
  auto b = [](bool v) { return v ? "true" : "false"; };
  return "pc=" + std::to_string(s.pc) + " acc=" + std::to_string(s.acc) +
         " sp=" + std::to_string(s.sp) + " zero=" + b(s.zero_flag) + " carry=" + b(s.carry_flag) +
         " halted=" + b(s.halted);
}

std::string format_trace_row(const TraceRow& row) {
  char number[32];
  std::snprintf(number, sizeof number, "%03llu", static_cast<unsigned long long>(row.step));
  std::string out = "trace[" + std::string(number) + "] pc=" + std::to_string(row.pc) + " " +
                    format_instruction(row.instruction) + " -> " + format_state(row.after);
  const MemoryAccess& m = row.access;
  if (m.kind == MemoryAccess::Kind::Read) {
    out += " read mem[" + std::to_string(m.address) + "]=" + std::to_string(m.value);
  } else if (m.kind == MemoryAccess::Kind::Write) {
    out += " write mem[" + std::to_string(m.address) + "]=" + std::to_string(m.value) +
           " (was " + std::to_string(m.previous) + ")";
  }
  return out;
}

}  // namespace ptvm::vm
