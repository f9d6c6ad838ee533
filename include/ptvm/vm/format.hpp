// Text forms of VM values shared by the CLI, tests and error messages.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ptvm/vm/isa.hpp"
#include "ptvm/vm/trace.hpp"

namespace ptvm::vm {

// "LOADI 5", "JMP 3", "HALT" (upper-case mnemonic, numeric operand).
std::string format_instruction(const Instruction& instruction);

// "average-hard", "softmax", "hard-softmax:T" (T printed in shortest round-trip form).
std::string format_attention_mode(const AttentionMode& mode);

// Parses the forms above; throws ptvm::Error(ErrorCategory::Usage) naming the bad text.
// "hard-softmax:T" needs a finite T > 0; "softmax" has T = 1.
AttentionMode parse_attention_mode(std::string_view text);

// "[a, b, c]"
std::string format_memory(std::span<const int16_t> memory);

// "pc=3 acc=5 sp=4 zero=false carry=false halted=false"
std::string format_state(const MachineState& state);

// "trace[001] pc=0 LOADI 5 -> pc=1 acc=5 ... [write mem[2]=5]"
std::string format_trace_row(const TraceRow& row);

}  // namespace ptvm::vm
