// Witness generation and assembly of the VM AIR (see ptvm/vmair/vm_air.hpp for the design).
#include "ptvm/vmair/vm_air.hpp"

#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/common/thread_pool.hpp"
#include "ptvm/common/threads.hpp"
#include "ptvm/field/batch_inverse.hpp"

namespace ptvm::vmair {
namespace {

using vm::Opcode;

uint32_t log2_ceil_at_least(uint64_t n, uint32_t minimum) {
  uint32_t k = minimum;
  while ((uint64_t{1} << k) < n) ++k;
  return k;
}

bool is_memory_alu(Opcode op) {
  switch (op) {
    case Opcode::AddM: case Opcode::SubM: case Opcode::MulM: case Opcode::AndM:
    case Opcode::OrM: case Opcode::XorM: case Opcode::CmpM: return true;
    default: return false;
  }
}
bool is_immediate_alu(Opcode op) {
  switch (op) {
    case Opcode::AddI: case Opcode::SubI: case Opcode::MulI: case Opcode::AndI:
    case Opcode::OrI: case Opcode::XorI: case Opcode::CmpI: return true;
    default: return false;
  }
}
bool is_bitwise(Opcode op) {
  switch (op) {
    case Opcode::AndI: case Opcode::AndM: case Opcode::OrI: case Opcode::OrM:
    case Opcode::XorI: case Opcode::XorM: return true;
    default: return false;
  }
}
bool accesses_memory(Opcode op) {
  switch (op) {
    case Opcode::Load: case Opcode::Store: case Opcode::Push: case Opcode::Pop:
    case Opcode::Call: case Opcode::Ret: return true;
    default: return is_memory_alu(op);
  }
}

M31 state_field(const vm::MachineState& s, uint32_t c) {
  switch (c) {
    case 0: return M31::from_u32(s.pc);
    case 1: return M31::from_i64(s.acc);
    case 2: return M31::from_u32(s.sp);
    case 3: return M31::from_u32(s.zero_flag);
    case 4: return M31::from_u32(s.carry_flag);
    default: return M31::from_u32(s.halted);
  }
}

}  // namespace

VmStatement statement_from_trace(const vm::ExecutionTrace& trace) {
  VmStatement s;
  s.program = trace.program;
  s.max_steps = trace.max_steps;
  s.steps = trace.steps();
  s.final_state = trace.final_state;
  s.final_memory = trace.final_memory;
  return s;
}

std::optional<std::string> check_statement(const VmStatement& s) {
  if (s.program.instructions.empty()) return "program has no instructions";
  if (s.program.instructions.size() > vm::kMaxInstructions) return "program has more than 256 instructions";
  if (s.program.initial_memory.size() > vm::kMaxMemory) return "memory larger than 255 cells";
  for (size_t i = 0; i < s.program.instructions.size(); ++i) {
    const auto& ins = s.program.instructions[i];
    if (static_cast<int>(ins.op) >= vm::kNumOpcodes) return "instruction " + std::to_string(i) + ": bad opcode";
    switch (vm::opcode_info(ins.op).operand) {
      case vm::OperandKind::None:
        if (ins.operand != 0) return "instruction " + std::to_string(i) + ": operand on an instruction without one";
        break;
      case vm::OperandKind::Immediate:
        if (ins.operand < -32768 || ins.operand > 32767)
          return "instruction " + std::to_string(i) + ": immediate outside i16";
        break;
      default:
        if (ins.operand < 0 || ins.operand > 255)
          return "instruction " + std::to_string(i) + ": address or target outside 0..255";
    }
  }
  if (s.final_memory.size() != s.program.initial_memory.size())
    return "final memory has " + std::to_string(s.final_memory.size()) + " cells, the program " +
           std::to_string(s.program.initial_memory.size());
  if (s.steps > s.max_steps) return "steps exceed max_steps";
  if (s.steps >= kMaxProvableSteps) return "more than 2^24 - 1 steps are not provable";
  if (!s.final_state.halted && s.steps != s.max_steps) return "run neither halted nor reached max_steps";
  if (s.final_state.zero_flag != (s.final_state.acc == 0)) return "final zero_flag disagrees with acc";
  return std::nullopt;
}

VmComponents vm_components(const VmStatement& s) {
  if (auto why = check_statement(s)) throw Error(ErrorCategory::Usage, "VM statement: " + *why);
  return {StepAir{log2_ceil_at_least(s.steps, 2), s.steps},
          RomAir{log2_ceil_at_least(s.program.instructions.size(), 2), s.program.instructions},
          MemoryAir{log2_ceil_at_least(s.program.initial_memory.size(), 2), s.program.initial_memory, s.final_memory},
          TablesAir{}};
}

air::Air build_air(const VmStatement& s) {
  VmComponents c = vm_components(s);
  air::Air a;
  a.relations = {{"vm_rom", 4}, {"vm_memory", 3}, {"vm_byte", 1}, {"vm_bitwise", 4}};
  a.n_public_inputs = kNumPublicInputs;
  a.components.push_back(air::make_component(std::move(c.steps)));
  a.components.push_back(air::make_component(std::move(c.rom)));
  a.components.push_back(air::make_component(std::move(c.memory)));
  a.components.push_back(air::make_component(std::move(c.tables)));
  return a;
}

std::vector<M31> public_inputs(const VmStatement& s, std::span<const uint16_t> digest_words) {
  if (digest_words.size() != kDigestWords) throw Error(ErrorCategory::Usage, "VM public inputs: need 16 digest words");
  std::vector<M31> pub;
  const vm::MachineState initial = vm::initial_state(s.program);
  for (uint32_t c = 0; c < kStateWidth; ++c) pub.push_back(state_field(initial, c));
  for (uint32_t c = 0; c < kStateWidth; ++c) pub.push_back(state_field(s.final_state, c));
  for (uint16_t w : digest_words) pub.push_back(M31::from_u32(w));
  return pub;
}

std::vector<std::vector<std::vector<M31>>> build_witness(const VmStatement& s, const vm::ExecutionTrace& trace) {
  const uint32_t log_rows = log2_ceil_at_least(s.steps, 2);
  const size_t n = size_t{1} << log_rows;
  const size_t real = trace.rows.size() < n ? trace.rows.size() : n;
  std::vector<std::vector<M31>> step(kNumStepColumns, std::vector<M31>(n));
  std::array<uint64_t, 256> byte_count{};
  std::array<std::array<uint64_t, 256>, 3> bit_count{};
  const uint32_t rom_rows = 1u << log2_ceil_at_least(s.program.instructions.size(), 2);
  std::vector<uint64_t> rom_count(rom_rows, 0);
  std::array<uint64_t, 256> last_ts{};
  const M31 inv_two16 = M31::from_u32(65536).inverse();

  const vm::MachineState initial = vm::initial_state(trace.program);  // trace.initial may be unset
  const vm::MachineState final_state = real > 0 ? trace.rows[real - 1].after : initial;

  // Pass 1, in row order: what depends on earlier rows (the previous timestamp of each memory
  // access, the ROM multiplicities).
  for (size_t r = 0; r < n; ++r) {
    const uint64_t ts = r + 1;
    uint64_t prev_ts = ts - 1;
    if (r < real) {
      const vm::TraceRow& row = trace.rows[r];
      const uint32_t pc = r == 0 ? initial.pc : trace.rows[r - 1].after.pc;
      if (pc < rom_rows) ++rom_count[pc];
      if (accesses_memory(row.instruction.op) || row.access.kind != vm::MemoryAccess::Kind::None) {
        prev_ts = last_ts[row.access.address];
        last_ts[row.access.address] = ts;
      }
    }
    step[kMemPrevTs][r] = M31::from_u64(prev_ts);
  }

  // Pass 2, rows in independent chunks on the library's threads: every other column, the range
  // and bitwise multiplicities (per chunk, added up in chunk order), and the three inverses of a
  // row, batch-inverted per chunk (0 stays 0, as M31::inverse() gives).
  constexpr size_t kChunkRows = size_t{1} << 13;
  const size_t n_chunks = (n + kChunkRows - 1) / kChunkRows;
  std::vector<std::array<uint64_t, 256>> chunk_bytes(n_chunks);
  std::vector<std::array<std::array<uint64_t, 256>, 3>> chunk_bits(n_chunks);
  parallel_tasks(n_chunks, configured_thread_count(), [&](size_t chunk) {
    const size_t begin = chunk * kChunkRows, end = std::min(n, begin + kChunkRows);
    auto& bytes = chunk_bytes[chunk];
    auto& bits = chunk_bits[chunk];
    bytes.fill(0);
    for (auto& b : bits) b.fill(0);
    auto count_byte = [&](M31 x) {
      if (x.v < 256) ++bytes[x.v];
    };
    std::vector<M31> mul_denominator(end - begin, M31::zero());
    vm::MachineState state = begin == 0 ? initial : begin - 1 < real ? trace.rows[begin - 1].after : final_state;
    for (size_t r = begin; r < end; ++r) {
      const bool is_real = r < real;
      const vm::TraceRow* row = is_real ? &trace.rows[r] : nullptr;
      const vm::MachineState before = state;
      const vm::MachineState after = is_real ? row->after : state;
      auto set = [&](uint32_t c, M31 v) { step[c][r] = v; };
      for (uint32_t c = 0; c < kStateWidth; ++c) {
        set(kPc + c, state_field(before, c));
        set(kPcNext + c, state_field(after, c));
      }
      const uint64_t ts = r + 1;
      set(kIsReal, r < s.steps ? M31::one() : M31::zero());  // the statement's, like every claim-fixed value
      set(kTimestamp, M31::from_u64(ts));
      const int64_t a = before.acc, acc_next = after.acc;
      int64_t v = 0;
      M31 k = M31::zero();
      if (is_real) {
        const Opcode op = row->instruction.op;
        const int64_t operand = row->instruction.operand;
        set(kSelector0 + static_cast<uint32_t>(op), M31::one());
        set(kOperand, M31::from_i64(operand));
        set(kPcPlusOne, M31::from_u32((before.pc + 1u) % 256u));
        if (is_immediate_alu(op)) v = operand;
        if (is_memory_alu(op)) v = row->access.value;
        set(kValue, M31::from_i64(v));
        if (accesses_memory(op) || row->access.kind != vm::MemoryAccess::Kind::None) {
          const auto& acc = row->access;
          const bool write = acc.kind == vm::MemoryAccess::Kind::Write;
          set(kAddress, M31::from_u32(acc.address));
          set(kMemPrevious, M31::from_i64(write ? acc.previous : acc.value));
          set(kMemValue, M31::from_i64(acc.value));
        }
        int64_t x = 0;
        bool wraps = true;
        switch (op) {
          case Opcode::AddI: case Opcode::AddM: x = a + v; break;
          case Opcode::SubI: case Opcode::SubM: case Opcode::CmpI: case Opcode::CmpM: x = a - v; break;
          case Opcode::MulI: case Opcode::MulM: x = a * v; break;
          default: wraps = false;
        }
        if (wraps) {
          const int64_t d = x - acc_next;
          k = d % 65536 == 0 ? M31::from_i64(d / 65536) : M31::from_i64(d) * inv_two16;
          if (op == Opcode::MulI || op == Opcode::MulM) {
            // acc' / (k - 16384): the numerator now, the denominator inverted with the chunk's.
            set(kMulHelper, M31::from_i64(acc_next));
            mul_denominator[r - begin] = k - M31::from_u32(16384);
          }
        }
        if (is_bitwise(op)) {
          const uint32_t ua = static_cast<uint16_t>(a), uv = static_cast<uint16_t>(v),
                         ur = static_cast<uint16_t>(acc_next);
          const uint32_t bit_op = (op == Opcode::OrI || op == Opcode::OrM) ? 1 : (op == Opcode::XorI || op == Opcode::XorM) ? 2 : 0;
          for (uint32_t i = 0; i < 4; ++i) {
            const uint32_t na = (ua >> (4 * i)) & 15, nv = (uv >> (4 * i)) & 15, nr = (ur >> (4 * i)) & 15;
            set(kNibbleA0 + i, M31::from_u32(na));
            set(kNibbleV0 + i, M31::from_u32(nv));
            set(kNibbleR0 + i, M31::from_u32(nr));
            ++bits[bit_op][na + 16 * nv];
          }
          set(kSignA, M31::from_u32(a < 0));
          set(kSignV, M31::from_u32(v < 0));
        }
      }
      // Timestamp difference bytes.
      const M31 diff = M31::from_u64(ts) - step[kMemPrevTs][r] - M31::one();
      for (uint32_t i = 0; i < 3; ++i) {
        const M31 b = M31::from_u32((diff.v >> (8 * i)) & 255);
        set(kTsDiff0 + i, b);
        count_byte(b);
      }
      // acc' bytes and sign.
      const uint32_t u = static_cast<uint16_t>(acc_next);
      set(kAccLo, M31::from_u32(u & 255));
      set(kAccHi, M31::from_u32(u >> 8));
      set(kAccSign, M31::from_u32(acc_next < 0));
      count_byte(M31::from_u32(u & 255));
      count_byte(M31::from_u32(u >> 8));
      count_byte(M31::from_u32(2 * ((u >> 8) & 127)));
      set(kZeroInverse, M31::from_i64(acc_next));  // inverted below
      // k, its range bytes, inverse (below) and non-zero flag.
      set(kWrap, k);
      const M31 shifted = k + M31::from_u32(16383);
      const M31 wrap_lo = M31::from_u32(shifted.v & 255), wrap_hi = M31::from_u32((shifted.v >> 8) & 255);
      set(kWrapLo, wrap_lo);
      set(kWrapHi, wrap_hi);
      count_byte(wrap_lo);
      count_byte(wrap_hi);
      count_byte(wrap_hi + wrap_hi);
      set(kWrapInverse, k);  // inverted below
      set(kWrapNonZero, k.v != 0 ? M31::one() : M31::zero());
      state = after;
    }
    const size_t len = end - begin;
    for (uint32_t c : {kZeroInverse, kWrapInverse}) {
      std::span<M31> col(step[c].data() + begin, len);
      batch_inverse<M31>(col, col);
    }
    batch_inverse<M31>(mul_denominator, mul_denominator);
    for (size_t i = 0; i < len; ++i) step[kMulHelper][begin + i] *= mul_denominator[i];
  });
  for (size_t c = 0; c < n_chunks; ++c) {
    for (uint32_t x = 0; x < 256; ++x) {
      byte_count[x] += chunk_bytes[c][x];
      for (uint32_t op = 0; op < 3; ++op) bit_count[op][x] += chunk_bits[c][op][x];
    }
  }

  std::vector<std::vector<M31>> rom(1, std::vector<M31>(rom_rows));
  for (uint32_t r = 0; r < rom_rows; ++r) rom[0][r] = M31::from_u64(rom_count[r]);

  const size_t mem_rows = size_t{1} << log2_ceil_at_least(s.program.initial_memory.size(), 2);
  std::vector<std::vector<M31>> memory(1, std::vector<M31>(mem_rows));
  for (size_t r = 0; r < mem_rows && r < 256; ++r) memory[0][r] = M31::from_u64(last_ts[r]);

  std::vector<std::vector<M31>> tables(4, std::vector<M31>(256));
  for (uint32_t x = 0; x < 256; ++x) {
    tables[0][x] = M31::from_u64(byte_count[x]);
    for (uint32_t op = 0; op < 3; ++op) tables[1 + op][x] = M31::from_u64(bit_count[op][x]);
  }
  return {std::move(step), std::move(rom), std::move(memory), std::move(tables)};
}

}  // namespace ptvm::vmair
