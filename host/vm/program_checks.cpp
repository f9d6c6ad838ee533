#include <cmath>
#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/native.hpp"

namespace ptvm::vm {

void validate_program(const Program& program) {
  const std::string& name = program.source_name;
  if (program.instructions.size() > kMaxInstructions) {
    throw Error(ErrorCategory::Usage, name + ": " + std::to_string(program.instructions.size()) +
                                          " instructions exceed the limit of " +
                                          std::to_string(kMaxInstructions));
  }
  if (program.initial_memory.size() > kMaxMemory) {
    throw Error(ErrorCategory::Usage, name + ": memory of " +
                                          std::to_string(program.initial_memory.size()) +
                                          " cells exceeds the limit of " +
                                          std::to_string(kMaxMemory));
  }
  for (size_t i = 0; i < program.instructions.size(); ++i) {
    const Instruction& ins = program.instructions[i];
    auto where = [&] { return name + ": instruction " + std::to_string(i) + ": "; };
    if (static_cast<int>(ins.op) >= kNumOpcodes) {
      throw Error(ErrorCategory::Usage,
                  where() + "invalid opcode " + std::to_string(static_cast<int>(ins.op)));
    }
    switch (opcode_info(ins.op).operand) {
      case OperandKind::None:
        if (ins.operand != 0) throw Error(ErrorCategory::Usage, where() + "operand must be 0");
        break;
      case OperandKind::Immediate:
        if (ins.operand < -32768 || ins.operand > 32767) {
          throw Error(ErrorCategory::Usage, where() + "immediate " + std::to_string(ins.operand) +
                                                " outside i16");
        }
        break;
      case OperandKind::Address:
      case OperandKind::Target:
        if (ins.operand < 0 || ins.operand > 255) {
          throw Error(ErrorCategory::Usage, where() + "operand " + std::to_string(ins.operand) +
                                                " outside 0..255");
        }
        break;
    }
  }
}

void validate_attention_mode(const AttentionMode& mode) {
  switch (mode.kind) {
    case AttentionMode::Kind::AverageHard: return;
    case AttentionMode::Kind::Softmax:
      if (mode.temperature != 1.0) {
        throw Error(ErrorCategory::Usage, "attention mode softmax has temperature 1");
      }
      return;
    case AttentionMode::Kind::HardSoftmax:
      if (!(std::isfinite(mode.temperature) && mode.temperature > 0)) {
        throw Error(ErrorCategory::Usage,
                    "attention mode hard-softmax needs a finite temperature T > 0");
      }
      return;
  }
  throw Error(ErrorCategory::Usage, "invalid attention mode kind");
}

}  // namespace ptvm::vm
