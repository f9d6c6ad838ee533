// Random TVM programs for differential tests (native vs reference, transformer vs native).
// Programs use every opcode; operands favour values that exercise wraps and flags (0, ±1, the i16
// extremes, small numbers), addresses mostly inside memory, branch targets inside the program.
// Runs may loop forever or hit runtime errors; callers bound them with max_steps and compare
// errors too. Deterministic for a given seed on every platform (only mt19937_64 raw draws are used,
// never std::*_distribution, whose output is implementation-defined).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "ptvm/vm/isa.hpp"

namespace ptvm::vm::testing {

struct RandomProgramOptions {
  size_t min_instructions = 1;
  size_t max_instructions = 48;   // <= 256
  size_t min_memory = 1;
  size_t max_memory = 16;         // <= 255
  double out_of_range_address_rate = 0.02;  // addresses >= memory size (runtime errors)
  double out_of_program_target_rate = 0.02; // targets >= instruction count (runtime errors)
  double halt_rate = 0.06;        // extra weight of HALT so that many runs end
};

class RandomProgramGenerator {
 public:
  explicit RandomProgramGenerator(uint64_t seed) : rng_(seed) {}

  // Uniform in [lo, hi] (inclusive) from raw draws (modulo bias is irrelevant here).
  uint64_t uniform(uint64_t lo, uint64_t hi) { return lo + rng_() % (hi - lo + 1); }
  bool chance(double p) { return static_cast<double>(rng_() >> 11) * 0x1.0p-53 < p; }

  int16_t interesting_i16() {
    static constexpr int16_t kSpecial[] = {0, 1, -1, 2, -2, 32767, -32768, 32766, -32767, 255, 256,
                                           181, 182, -181, 300, 1000, 0x5555, 0x2aaa};
    switch (uniform(0, 3)) {
      case 0: return kSpecial[uniform(0, std::size(kSpecial) - 1)];
      case 1: return static_cast<int16_t>(static_cast<uint16_t>(rng_()));
      default: return static_cast<int16_t>(static_cast<int64_t>(uniform(0, 40)) - 20);
    }
  }

  std::vector<int16_t> random_memory(size_t size) {
    std::vector<int16_t> memory(size);
    for (auto& cell : memory) cell = interesting_i16();
    return memory;
  }

  Program program(const RandomProgramOptions& options = {}) {
    Program p;
    p.source_name = "<random>";
    const size_t n = uniform(options.min_instructions, options.max_instructions);
    const size_t memory_size = uniform(options.min_memory, options.max_memory);
    p.initial_memory = random_memory(memory_size);
    p.instructions.resize(n);
    for (size_t i = 0; i < n; ++i) {
      Instruction& ins = p.instructions[i];
      ins.op = chance(options.halt_rate) ? Opcode::Halt
                                         : static_cast<Opcode>(uniform(0, kNumOpcodes - 1));
      switch (opcode_info(ins.op).operand) {
        case OperandKind::None: ins.operand = 0; break;
        case OperandKind::Immediate: ins.operand = interesting_i16(); break;
        case OperandKind::Address:
          ins.operand = (memory_size == 0 || chance(options.out_of_range_address_rate))
                            ? static_cast<int32_t>(uniform(memory_size, 255))
                            : static_cast<int32_t>(uniform(0, memory_size - 1));
          break;
        case OperandKind::Target:
          ins.operand = chance(options.out_of_program_target_rate)
                            ? static_cast<int32_t>(uniform(0, 255))
                            : static_cast<int32_t>(uniform(0, n - 1));
          break;
      }
    }
    return p;
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

}  // namespace ptvm::vm::testing
