// An independent, deliberately naive TVM interpreter used as the oracle for NativeEngine:
// plain int arithmetic straight from ISA.md's table, full write histories for every attention mode
// (no shortcuts), results as plain values. It shares no code with host/vm/.
#pragma once
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ptvm/vm/isa.hpp"

namespace ptvm::vm::testing {

struct ReferenceResult {
  std::vector<MachineState> states;   // state after each step
  std::vector<int> access_kind;       // 0 none, 1 read, 2 write (per step)
  std::vector<int> access_address;
  std::vector<int> access_value;
  std::optional<uint64_t> error_step; // the step that raised a runtime error
  std::vector<int> final_memory;      // latest writes
};

inline ReferenceResult reference_run(const Program& p, AttentionMode mode, uint64_t max_steps) {
  ReferenceResult out;
  const int size = static_cast<int>(p.initial_memory.size());
  std::vector<std::vector<std::pair<long, int>>> history(size);  // (step, value)
  for (int a = 0; a < size; ++a) history[a].push_back({0, p.initial_memory[a]});
  double t = mode.kind == AttentionMode::Kind::HardSoftmax ? mode.temperature : 1.0;
  auto read = [&](int a) -> int {
    const auto& h = history[a];
    if (mode.kind == AttentionMode::Kind::AverageHard) return h.back().second;
    double num = 0, den = 0;
    for (const auto& [s, v] : h) {
      double w = std::exp(static_cast<double>(s - h.back().first) / t);
      num += w * v;
      den += w;
    }
    double r = std::round(num / den);
    return static_cast<int>(std::fmax(-32768.0, std::fmin(32767.0, r)));
  };
  auto wrap = [](long r) { return static_cast<int>(static_cast<int16_t>(static_cast<uint16_t>(r & 0xffff))); };
  int pc = 0, acc = 0, sp = size;
  bool zero = true, carry = false, halted = false;
  for (uint64_t step = 1; step <= max_steps && !halted; ++step) {
    if (pc >= static_cast<int>(p.instructions.size())) { out.error_step = step; break; }
    const Instruction ins = p.instructions[pc];
    const long x = ins.operand;
    int kind = 0, addr = 0, val = 0;
    bool error = false;
    int next_pc = (pc + 1) % 256, next_sp = sp;
    auto set = [&](long r, bool c) { acc = wrap(r); zero = acc == 0; carry = c; };
    auto ovf = [](long r) { return r < -32768 || r > 32767; };
    auto mem_read = [&](long a) -> long {
      if (a < 0 || a >= size) { error = true; return 0; }
      kind = 1; addr = static_cast<int>(a); val = read(addr); return val;
    };
    auto mem_write = [&](long a, int v) {
      if (a < 0 || a >= size) { error = true; return; }
      kind = 2; addr = static_cast<int>(a); val = v;
    };
    const int a = acc;
    long v = 0;
    switch (ins.op) {
      case Opcode::Nop: break;
      case Opcode::LoadI: set(x, false); break;
      case Opcode::Load: v = mem_read(x); if (!error) set(v, false); break;
      case Opcode::Store: mem_write(x, acc); break;
      case Opcode::Push: if (sp == 0) error = true; else { mem_write(sp - 1, acc); next_sp = sp - 1; } break;
      case Opcode::Pop: if (sp >= size) error = true; else { v = mem_read(sp); set(v, false); next_sp = sp + 1; } break;
      case Opcode::AddI: set(a + x, ovf(a + x)); break;
      case Opcode::SubI: set(a - x, ovf(a - x)); break;
      case Opcode::MulI: set(a * x, ovf(a * x)); break;
      case Opcode::AndI: set(a & x, false); break;
      case Opcode::OrI: set(a | x, false); break;
      case Opcode::XorI: set(a ^ x, false); break;
      case Opcode::CmpI: set(a - x, a < x); break;
      case Opcode::AddM: v = mem_read(x); if (!error) set(a + v, ovf(a + v)); break;
      case Opcode::SubM: v = mem_read(x); if (!error) set(a - v, ovf(a - v)); break;
      case Opcode::MulM: v = mem_read(x); if (!error) set(a * v, ovf(a * v)); break;
      case Opcode::AndM: v = mem_read(x); if (!error) set(a & v, false); break;
      case Opcode::OrM: v = mem_read(x); if (!error) set(a | v, false); break;
      case Opcode::XorM: v = mem_read(x); if (!error) set(a ^ v, false); break;
      case Opcode::CmpM: v = mem_read(x); if (!error) set(a - v, a < v); break;
      case Opcode::Call: if (sp == 0) error = true; else { mem_write(sp - 1, next_pc); next_sp = sp - 1; next_pc = static_cast<int>(x); } break;
      case Opcode::Ret:
        if (sp >= size) { error = true; break; }
        v = mem_read(sp);
        if (v < 0 || v > 255) error = true; else { next_pc = static_cast<int>(v); next_sp = sp + 1; }
        break;
      case Opcode::Jmp: next_pc = static_cast<int>(x); break;
      case Opcode::Jz: if (zero) next_pc = static_cast<int>(x); break;
      case Opcode::Jnz: if (!zero) next_pc = static_cast<int>(x); break;
      case Opcode::Halt: halted = true; next_pc = pc; break;
    }
    if (error) { out.error_step = step; break; }
    if (kind == 2) history[addr].push_back({static_cast<long>(step), val});
    pc = next_pc;
    sp = next_sp;
    MachineState s;
    s.pc = static_cast<uint8_t>(pc); s.acc = static_cast<int16_t>(acc); s.sp = static_cast<uint8_t>(sp);
    s.zero_flag = zero; s.carry_flag = carry; s.halted = halted;
    out.states.push_back(s);
    out.access_kind.push_back(kind);
    out.access_address.push_back(addr);
    out.access_value.push_back(val);
  }
  for (int c = 0; c < size; ++c) out.final_memory.push_back(history[c].back().second);
  return out;
}

}  // namespace ptvm::vm::testing
