// The native interpreter: ISA.md's instruction table executed directly on the machine state, with
// memory reads through AttentionMemory so that soft attention modes change what it reads exactly as
// they change what the transformer reads.
#include "ptvm/vm/native.hpp"

#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/format.hpp"

namespace ptvm::vm {
namespace {

int16_t wrap16(int32_t r) { return static_cast<int16_t>(static_cast<uint16_t>(r)); }
bool overflows16(int32_t r) { return r < -32768 || r > 32767; }

}  // namespace

NativeEngine::NativeEngine(const Program& program, AttentionMode attention)
    : program_((validate_program(program), program)),
      state_(initial_state(program)),
      memory_(program.initial_memory, (validate_attention_mode(attention), attention)) {}

void NativeEngine::fail(const Instruction* instruction, const std::string& reason) const {
  std::string where = program_.source_name + ": runtime error at step " +
                      std::to_string(steps_ + 1) + " (pc " + std::to_string(state_.pc);
  if (instruction != nullptr) where += ", " + format_instruction(*instruction);
  throw Error(ErrorCategory::Runtime, where + "): " + reason);
}

TraceRow NativeEngine::step() {
  if (state_.halted) {
    throw Error(ErrorCategory::Internal, program_.source_name + ": step() on a halted machine");
  }
  const size_t memory_size = memory_.size();
  if (state_.pc >= program_.instructions.size()) {
    fail(nullptr, "pc " + std::to_string(state_.pc) + " outside the program (" +
                      std::to_string(program_.instructions.size()) + " instructions)");
  }
  const Instruction& ins = program_.instructions[state_.pc];
  const uint64_t step_number = steps_ + 1;

  TraceRow row;
  row.step = step_number;
  row.pc = state_.pc;
  row.instruction = ins;

  MachineState next = state_;
  next.pc = static_cast<uint8_t>(state_.pc + 1);  // p1, mod 256
  next.halted = false;
  const int32_t a = state_.acc;

  auto set = [&next](int32_t r, bool carry) {
    next.acc = wrap16(r);
    next.zero_flag = next.acc == 0;
    next.carry_flag = carry;
  };
  auto check_address = [&](int32_t address) {
    if (address < 0 || static_cast<size_t>(address) >= memory_size) {
      fail(&ins, "memory address " + std::to_string(address) + " >= memory size " +
                     std::to_string(memory_size));
    }
  };
  auto read = [&](int32_t address) -> int32_t {
    check_address(address);
    int16_t v = memory_.read(static_cast<size_t>(address));
    row.access = {MemoryAccess::Kind::Read, static_cast<uint8_t>(address), v, v};
    return v;
  };
  // Writes are recorded after the step's checks have all passed (see the end).
  bool writes = false;
  uint8_t write_address = 0;
  int16_t write_value = 0;
  auto write = [&](int32_t address, int16_t value) {
    check_address(address);
    writes = true;
    write_address = static_cast<uint8_t>(address);
    write_value = value;
  };

  switch (ins.op) {
    case Opcode::Nop: break;
    case Opcode::LoadI: set(ins.operand, false); break;
    case Opcode::Load: set(read(ins.operand), false); break;
    case Opcode::Store: write(ins.operand, state_.acc); break;
    case Opcode::Push:
      if (state_.sp == 0) fail(&ins, "stack overflow: PUSH with sp == 0");
      write(state_.sp - 1, state_.acc);
      next.sp = static_cast<uint8_t>(state_.sp - 1);
      break;
    case Opcode::Pop:
      if (state_.sp >= memory_size) {
        fail(&ins, "stack underflow: POP with sp " + std::to_string(state_.sp) +
                       " >= memory size " + std::to_string(memory_size));
      }
      set(read(state_.sp), false);
      next.sp = static_cast<uint8_t>(state_.sp + 1);
      break;
    case Opcode::AddI: set(a + ins.operand, overflows16(a + ins.operand)); break;
    case Opcode::AddM: {
      int32_t v = read(ins.operand);
      set(a + v, overflows16(a + v));
      break;
    }
    case Opcode::SubI: set(a - ins.operand, overflows16(a - ins.operand)); break;
    case Opcode::SubM: {
      int32_t v = read(ins.operand);
      set(a - v, overflows16(a - v));
      break;
    }
    case Opcode::MulI: set(a * ins.operand, overflows16(a * ins.operand)); break;
    case Opcode::MulM: {
      int32_t v = read(ins.operand);
      set(a * v, overflows16(a * v));
      break;
    }
    case Opcode::AndI: set(wrap16(a & ins.operand), false); break;
    case Opcode::AndM: set(wrap16(a & read(ins.operand)), false); break;
    case Opcode::OrI: set(wrap16(a | ins.operand), false); break;
    case Opcode::OrM: set(wrap16(a | read(ins.operand)), false); break;
    case Opcode::XorI: set(wrap16(a ^ ins.operand), false); break;
    case Opcode::XorM: set(wrap16(a ^ read(ins.operand)), false); break;
    case Opcode::CmpI: set(a - ins.operand, a < ins.operand); break;
    case Opcode::CmpM: {
      int32_t v = read(ins.operand);
      set(a - v, a < v);
      break;
    }
    case Opcode::Call:
      if (state_.sp == 0) fail(&ins, "stack overflow: CALL with sp == 0");
      write(state_.sp - 1, static_cast<int16_t>(next.pc));
      next.sp = static_cast<uint8_t>(state_.sp - 1);
      next.pc = static_cast<uint8_t>(ins.operand);
      break;
    case Opcode::Ret: {
      if (state_.sp >= memory_size) {
        fail(&ins, "stack underflow: RET with sp " + std::to_string(state_.sp) +
                       " >= memory size " + std::to_string(memory_size));
      }
      int32_t target = read(state_.sp);
      if (target < 0 || target > 255) {
        fail(&ins, "RET to " + std::to_string(target) + ", outside 0..255");
      }
      next.pc = static_cast<uint8_t>(target);
      next.sp = static_cast<uint8_t>(state_.sp + 1);
      break;
    }
    case Opcode::Jmp: next.pc = static_cast<uint8_t>(ins.operand); break;
    case Opcode::Jz:
      if (state_.zero_flag) next.pc = static_cast<uint8_t>(ins.operand);
      break;
    case Opcode::Jnz:
      if (!state_.zero_flag) next.pc = static_cast<uint8_t>(ins.operand);
      break;
    case Opcode::Halt:
      next.pc = state_.pc;
      next.halted = true;
      break;
    default:
      fail(&ins, "invalid opcode " + std::to_string(static_cast<int>(ins.op)));
  }

  if (writes) {
    row.access = {MemoryAccess::Kind::Write, write_address, write_value,
                  memory_.latest(write_address)};
    memory_.write(write_address, write_value, step_number);
  }
  state_ = next;
  steps_ = step_number;
  row.after = next;
  return row;
}

std::unique_ptr<Engine> make_native_engine(const Program& program, AttentionMode attention) {
  return std::make_unique<NativeEngine>(program, attention);
}

}  // namespace ptvm::vm
