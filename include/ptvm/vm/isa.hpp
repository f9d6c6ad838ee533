// The TVM instruction set and machine state (see ../shared/ISA.md, the contract).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ptvm::vm {

// The 26 instructions. The numeric values are part of the proof format (AIR opcode selectors);
// never reorder.
enum class Opcode : uint8_t {
  Nop = 0, LoadI, Load, Store, Push, Pop,
  AddI, AddM, SubI, SubM, MulI, MulM,
  AndI, AndM, OrI, OrM, XorI, XorM, CmpI, CmpM,
  Call, Ret, Jmp, Jz, Jnz, Halt,
};
inline constexpr int kNumOpcodes = 26;

enum class OperandKind : uint8_t { None, Immediate, Address, Target };

struct OpcodeInfo {
  Opcode op;
  std::string_view mnemonic;        // upper case, as printed in traces
  OperandKind operand;
  std::string_view original_name;   // the original's JSON encoding (ISA.md "Claim commitments")
};

inline constexpr std::array<OpcodeInfo, kNumOpcodes> kOpcodeTable = {{
    {Opcode::Nop, "NOP", OperandKind::None, "Nop"},
    {Opcode::LoadI, "LOADI", OperandKind::Immediate, "LoadImmediate"},
    {Opcode::Load, "LOAD", OperandKind::Address, "Load"},
    {Opcode::Store, "STORE", OperandKind::Address, "Store"},
    {Opcode::Push, "PUSH", OperandKind::None, "Push"},
    {Opcode::Pop, "POP", OperandKind::None, "Pop"},
    {Opcode::AddI, "ADD", OperandKind::Immediate, "AddImmediate"},
    {Opcode::AddM, "ADDM", OperandKind::Address, "AddMemory"},
    {Opcode::SubI, "SUB", OperandKind::Immediate, "SubImmediate"},
    {Opcode::SubM, "SUBM", OperandKind::Address, "SubMemory"},
    {Opcode::MulI, "MUL", OperandKind::Immediate, "MulImmediate"},
    {Opcode::MulM, "MULM", OperandKind::Address, "MulMemory"},
    {Opcode::AndI, "AND", OperandKind::Immediate, "AndImmediate"},
    {Opcode::AndM, "ANDM", OperandKind::Address, "AndMemory"},
    {Opcode::OrI, "OR", OperandKind::Immediate, "OrImmediate"},
    {Opcode::OrM, "ORM", OperandKind::Address, "OrMemory"},
    {Opcode::XorI, "XOR", OperandKind::Immediate, "XorImmediate"},
    {Opcode::XorM, "XORM", OperandKind::Address, "XorMemory"},
    {Opcode::CmpI, "CMP", OperandKind::Immediate, "CmpImmediate"},
    {Opcode::CmpM, "CMPM", OperandKind::Address, "CmpMemory"},
    {Opcode::Call, "CALL", OperandKind::Target, "Call"},
    {Opcode::Ret, "RET", OperandKind::None, "Ret"},
    {Opcode::Jmp, "JMP", OperandKind::Target, "Jump"},
    {Opcode::Jz, "JZ", OperandKind::Target, "JumpIfZero"},
    {Opcode::Jnz, "JNZ", OperandKind::Target, "JumpIfNotZero"},
    {Opcode::Halt, "HALT", OperandKind::None, "Halt"},
}};

inline constexpr const OpcodeInfo& opcode_info(Opcode op) {
  return kOpcodeTable[static_cast<size_t>(op)];
}

inline constexpr size_t kMaxInstructions = 256;  // pc is 8-bit
inline constexpr size_t kMaxMemory = 255;        // sp is 8-bit and starts at the memory size
inline constexpr size_t kDefaultMemory = 16;
inline constexpr uint64_t kDefaultMaxSteps = 512;

struct Instruction {
  Opcode op = Opcode::Nop;
  int32_t operand = 0;  // immediate (i16 range), address (0..255) or target (0..255); 0 if none
  uint32_t line = 0;    // source line (1-based), 0 when built in code
  friend bool operator==(const Instruction& a, const Instruction& b) {
    return a.op == b.op && a.operand == b.operand;  // the source line is not semantic
  }
};

struct Program {
  std::vector<Instruction> instructions;
  std::vector<int16_t> initial_memory;  // its size is the memory size
  std::string source_name;              // file name for messages ("<memory>" if none)
};

// The registers of the machine (memory is separate: it lives in the attention KV cache).
struct MachineState {
  uint8_t pc = 0;
  int16_t acc = 0;
  uint8_t sp = 0;
  bool zero_flag = true;
  bool carry_flag = false;
  bool halted = false;
  friend bool operator==(const MachineState&, const MachineState&) = default;
};

inline MachineState initial_state(const Program& p) {
  MachineState s;
  s.sp = static_cast<uint8_t>(p.initial_memory.size());
  return s;
}

// Attention mode for memory reads. Only AverageHard is provable.
struct AttentionMode {
  enum class Kind : uint8_t { AverageHard, Softmax, HardSoftmax } kind = Kind::AverageHard;
  double temperature = 1.0;  // Softmax: 1; HardSoftmax: T > 0
  friend bool operator==(const AttentionMode&, const AttentionMode&) = default;
};

}  // namespace ptvm::vm
