// The VM AIR: a circle-STARK statement that a TVM program, run from its initial state for `steps`
// steps (average-hard attention), ends in a given final state and final memory. Every one of the
// 26 instructions, every i16 wrap and both flags exactly as ISA.md defines them.
//
// Components (one proof, different sizes):
//   * "vm_steps" (2^n >= steps rows): one row per executed step, then inert padding rows. A row
//     holds the state before and after the step, the decoded instruction (26 one-hot selectors and
//     the operand), the step's memory access and helper columns, is_real (row < steps) and ts
//     (= row + 1, the step number and memory timestamp). Its preprocessed columns are all
//     succinct row selectors (ptvm/air/succinct.hpp), so nothing of this component's size is
//     committed in tree 0 and verification stays polylog in the steps: is_first (row 0),
//     not_last (all rows but the last), at_last_real (row (steps - 1) mod 2^n) and
//     at_first_padding (row steps mod 2^n). They pin the committed is_real and ts:
//       is_first * (ts - 1) = 0,  not_last * (ts' - ts - 1) = 0            => ts = row + 1;
//       not_last * is_real' * (1 - is_real) = 0  (is_real' != 0 forces is_real = 1: monotone),
//       at_last_real * (is_real - [steps > 0]) = 0, at_first_padding * (is_real - [steps = 2^n]) = 0
//     => is_real = 1 on rows < steps and 0 after (walk back from row steps - 1, forward from row
//     steps; with steps = 0 or 2^n both pin the same end). Boolean-ness follows, so every other
//     constraint sees exactly the values the preprocessed columns had before.
//   * "vm_rom" (program padded to 2^n rows): preprocessed (pc, opcode, operand, (pc + 1) mod 256)
//     derived by the verifier from the program; main: a multiplicity column. Padding rows carry
//     opcode 26, which no step can use.
//   * "vm_memory" (memory padded to 2^n rows): preprocessed (address, initial value, final value,
//     is_cell) from the claim; main: the timestamp of each cell's last access.
//   * "vm_tables" (256 rows): a byte range table and a 4-bit AND/OR/XOR table.
//
// Value encoding: an i16 is the field element x mod p (negative values are p - |x|). Every acc
// after a step is range-checked by acc = lo + 256 hi - 65536 s (lo, hi bytes; s the sign, forced
// by the lookup of 2 (hi - 128 s) < 256). Memory values are i16 by induction (initial values come
// from the claim, writes are acc or a pc); operands come from the ROM.
//
// ADD/SUB/CMP/MUL: acc' = X - 65536 k with X = a + v, a - v or a * v and k range-checked to
// [-16383, 16384] (k + 16383 = lo + 256 hi, hi < 128). With acc' an i16 this identity mod p has
// only the integer solution, except one: a * v = -32768 * 32767 also satisfies it with acc' =
// 32767, k = 16384 (the integer sides differ by exactly p), excluded for MUL
// (the true k = 16384 only for a = v = -32768 whose product wraps to 0) by acc' = (k - 16384) h
// with a helper column h. carry = (k != 0) for
// ADD/SUB/MUL (nz = k * kinv, k (1 - nz) = 0); CMP: carry = a < v = s(acc') if k = 0 else k == -1.
// zero' = (acc' == 0) on every row (acc' zinv = 1 - zero', acc' zero' = 0): ISA.md's invariant.
// AND/OR/XOR: a, v and acc' in 4-bit nibbles of their u16 forms; each nibble triple is looked up
// in the 4-bit table (which also range-checks the nibbles).
//
// Relations (LogUp, positive = use, negative = yield):
//   ROM (pc, opcode, operand, p1): each real step uses its instruction; the ROM yields it m times.
//   MEM (address, value, ts): offline memory checking. The memory table yields the initial value
//     at ts 0 and uses the final value at its last-access ts; an access at step t uses (address,
//     previous value, previous ts) and yields (address, new value, t), with t - previous ts - 1 in
//     [0, 2^24) (three byte lookups). Timestamps are unique per cell, so every read sees the last
//     write; an address outside the memory (including sp - 1 = -1 on a full stack) has no initial
//     tuple and cannot balance.
//   BYTE (x), BIT (op, a, b, a op b) with op 0 AND, 1 OR, 2 XOR.
//
// The state: row 0's "before" and the last row's "after" are boundary constraints against the
// public inputs (initial state derived from the program, final state from the claim); next.before
// = this.after is gated by not_last, so the cyclic wrap constrains nothing. Padding rows change
// nothing. A real row must not start halted. Public inputs after the two states are the claim's
// digest (16-bit words), which binds the claim into the channel before the first challenge.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ptvm/air/component.hpp"
#include "ptvm/common/hd.hpp"
#include "ptvm/field/f128.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/vm/isa.hpp"
#include "ptvm/vm/trace.hpp"

namespace ptvm::vmair {

// Relation indices of the VM AIR.
enum Relation : uint32_t { kRomRelation = 0, kMemoryRelation = 1, kByteRelation = 2, kBitwiseRelation = 3 };

// Main columns of the step component.
enum StepColumn : uint32_t {
  // State before the step.
  kPc = 0, kAcc, kSp, kZero, kCarry, kHalted,
  // State after the step.
  kPcNext, kAccNext, kSpNext, kZeroNext, kCarryNext, kHaltedNext,
  kOperand,      // instruction operand (immediate as i16 field element, address or target)
  kPcPlusOne,    // (pc + 1) mod 256, from the ROM
  kValue,        // ALU operand v: the immediate or the memory value read
  kAddress,      // memory access address
  kMemPrevious,  // value of the cell before the access
  kMemValue,     // value of the cell after the access (== previous for a read)
  kMemPrevTs,    // timestamp of the cell's previous access
  kTsDiff0, kTsDiff1, kTsDiff2,  // bytes of ts - prev_ts - 1
  kAccLo, kAccHi, kAccSign,      // acc' = lo + 256 hi - 65536 sign
  kZeroInverse,                  // 1 / acc' (0 when acc' == 0)
  kWrap, kWrapLo, kWrapHi, kWrapInverse, kWrapNonZero,  // k, k + 16383 = lo + 256 hi, 1/k, k != 0
  kMulHelper,    // MUL: acc' / (k - 16384), so that k = 16384 forces acc' = 0
  kNibbleA0, kNibbleA1, kNibbleA2, kNibbleA3,
  kNibbleV0, kNibbleV1, kNibbleV2, kNibbleV3,
  kNibbleR0, kNibbleR1, kNibbleR2, kNibbleR3,
  kSignA, kSignV,
  kSelector0,  // + opcode: one-hot instruction selectors (all zero on padding rows)
  kIsReal = kSelector0 + vm::kNumOpcodes,  // row < steps (pinned by the succinct selectors)
  kTimestamp,                              // row + 1
  kNumStepColumns,
};
// All succinct (row selectors the verifier evaluates itself).
enum StepPreprocessed : uint32_t { kIsFirst = 0, kNotLast, kAtLastReal, kAtFirstPadding, kNumStepPreprocessed };

inline constexpr uint32_t kStateWidth = 6;           // pc, acc, sp, zero, carry, halted
inline constexpr uint32_t kDigestWords = 16;         // claim digest as 16-bit words
inline constexpr uint32_t kNumPublicInputs = 2 * kStateWidth + kDigestWords;
inline constexpr uint64_t kMaxProvableSteps = uint64_t{1} << 24;  // timestamp differences use 3 bytes
inline constexpr uint32_t kRomPaddingOpcode = 26;

// The AIR's constants in its column type: M31 (and the types built on it) for the circle STARK,
// F128 for the F128 STARK (statement-v1). An integer x is x mod p of the field; half() is 1/2.
template <class F>
struct AirConstants {
  PTVM_HD static F from_i64(int64_t x) { return F(M31::from_i64(x)); }
  PTVM_HD static F half() { return from_i64((M31::P + 1) / 2); }
};
template <>
struct AirConstants<F128> {
  PTVM_HD static F128 from_i64(int64_t x) {
    return x >= 0 ? F128::from_u64(static_cast<uint64_t>(x)) : -F128::from_u64(static_cast<uint64_t>(-x));
  }
  PTVM_HD static F128 half() { return F128::from_canonical_words_unchecked(1, F128::P_HI >> 1); }  // (p + 1) / 2
};
template <class F>
PTVM_HD inline F constant(int64_t x) {
  return AirConstants<F>::from_i64(x);
}

struct StepAir {
  uint32_t log_rows = 2;
  uint64_t steps = 0;

  air::ComponentInfo info() const {
    air::ComponentInfo i;
    i.name = "vm_steps";
    i.log_rows = log_rows;
    i.n_main_columns = kNumStepColumns;
    i.n_preprocessed_columns = kNumStepPreprocessed;
    i.succinct_columns = succinct_columns();
    i.max_constraint_degree = 3;
    const uint32_t last = (1u << log_rows) - 1;
    for (uint32_t c = 0; c < kStateWidth; ++c) {
      i.boundary_constraints.push_back({kPc + c, 0, c});
      i.boundary_constraints.push_back({kPcNext + c, last, kStateWidth + c});
    }
    return i;
  }

  // Rows are taken mod 2^n: steps = 0 puts at_last_real on the last row, steps = 2^n puts
  // at_first_padding on row 0 (see the header comment).
  std::vector<air::SuccinctColumn> succinct_columns() const {
    const uint64_t mask = (uint64_t{1} << log_rows) - 1;
    return {{0, false},
            {static_cast<uint32_t>(mask), true},
            {static_cast<uint32_t>((steps + mask) & mask), false},
            {static_cast<uint32_t>(steps & mask), false}};
  }
  // Row values (the F128 STARK commits them; the circle STARK's verifier evaluates them).
  std::vector<std::vector<M31>> preprocessed_columns() const {
    std::vector<std::vector<M31>> cols;
    for (const auto& c : succinct_columns()) cols.push_back(air::succinct_column_rows(log_rows, c));
    return cols;
  }

  template <class E>
  PTVM_HD void evaluate(E& e) const {
    using F = typename E::F;
    using vm::Opcode;
    auto sel = [&](Opcode op) { return e.main(kSelector0 + static_cast<uint32_t>(op), 0); };
    const F one = constant<F>(1);

    const F is_real = e.main(kIsReal, 0), ts = e.main(kTimestamp, 0);
    const F pc = e.main(kPc, 0), a = e.main(kAcc, 0), sp = e.main(kSp, 0), zero = e.main(kZero, 0),
            carry = e.main(kCarry, 0), halted = e.main(kHalted, 0);
    const F pc_n = e.main(kPcNext, 0), acc_n = e.main(kAccNext, 0), sp_n = e.main(kSpNext, 0),
            zero_n = e.main(kZeroNext, 0), carry_n = e.main(kCarryNext, 0),
            halted_n = e.main(kHaltedNext, 0);
    const F operand = e.main(kOperand, 0), p1 = e.main(kPcPlusOne, 0), v = e.main(kValue, 0);
    const F addr = e.main(kAddress, 0), mem_prev = e.main(kMemPrevious, 0),
            mem_val = e.main(kMemValue, 0), prev_ts = e.main(kMemPrevTs, 0);
    const F k = e.main(kWrap, 0), nz = e.main(kWrapNonZero, 0);
    const F acc_sign = e.main(kAccSign, 0), acc_lo = e.main(kAccLo, 0), acc_hi = e.main(kAccHi, 0);

    // Selectors: boolean, one-hot on real rows, all zero on padding rows; the opcode they encode.
    F sum_sel = constant<F>(0), opcode = constant<F>(0);
    for (int op = 0; op < vm::kNumOpcodes; ++op) {
      F s = e.main(kSelector0 + op, 0);
      e.add_constraint(s * (s - one));
      sum_sel = sum_sel + s;
      opcode = opcode + s * constant<F>(op);
    }
    e.add_constraint(sum_sel - is_real);
    const F pad = one - is_real;

    const F add = sel(Opcode::AddI) + sel(Opcode::AddM);
    const F sub = sel(Opcode::SubI) + sel(Opcode::SubM);
    const F mul = sel(Opcode::MulI) + sel(Opcode::MulM);
    const F cmp = sel(Opcode::CmpI) + sel(Opcode::CmpM);
    const F op_and = sel(Opcode::AndI) + sel(Opcode::AndM);
    const F op_or = sel(Opcode::OrI) + sel(Opcode::OrM);
    const F op_xor = sel(Opcode::XorI) + sel(Opcode::XorM);
    const F bitwise = op_and + op_or + op_xor;
    const F load_value = sel(Opcode::Load) + sel(Opcode::Pop);
    const F sets_acc = sel(Opcode::LoadI) + load_value + add + sub + mul + cmp + bitwise;
    const F imm_alu = sel(Opcode::AddI) + sel(Opcode::SubI) + sel(Opcode::MulI) + sel(Opcode::AndI) +
                      sel(Opcode::OrI) + sel(Opcode::XorI) + sel(Opcode::CmpI);
    const F mem_alu = sel(Opcode::AddM) + sel(Opcode::SubM) + sel(Opcode::MulM) + sel(Opcode::AndM) +
                      sel(Opcode::OrM) + sel(Opcode::XorM) + sel(Opcode::CmpM);
    const F reads = sel(Opcode::Load) + sel(Opcode::Pop) + sel(Opcode::Ret) + mem_alu;
    const F push_like = sel(Opcode::Push) + sel(Opcode::Call);
    const F pop_like = sel(Opcode::Pop) + sel(Opcode::Ret);
    const F writes = sel(Opcode::Store) + push_like;
    const F accesses = reads + writes;
    const F jumps_to_operand = sel(Opcode::Jmp) + sel(Opcode::Call);
    const F jz = sel(Opcode::Jz), jnz = sel(Opcode::Jnz), ret = sel(Opcode::Ret), halt = sel(Opcode::Halt);
    const F falls_through = is_real - jumps_to_operand - jz - jnz - ret - halt;
    const F two16 = constant<F>(65536);

    // The ALU operand and the memory access.
    e.add_constraint(imm_alu * (v - operand) + mem_alu * (v - mem_val));
    e.add_constraint((sel(Opcode::Load) + sel(Opcode::Store) + mem_alu) * (addr - operand) +
                     push_like * (addr - sp + one) + pop_like * (addr - sp));
    e.add_constraint(reads * (mem_val - mem_prev) +
                     (sel(Opcode::Store) + sel(Opcode::Push)) * (mem_val - a) +
                     sel(Opcode::Call) * (mem_val - p1));
    e.add_constraint(ts - prev_ts - one - e.main(kTsDiff0, 0) - constant<F>(256) * e.main(kTsDiff1, 0) -
                     two16 * e.main(kTsDiff2, 0));

    // acc'.
    e.add_constraint(acc_n - (sel(Opcode::LoadI) * operand + load_value * mem_val +
                              add * (a + v - two16 * k) + (sub + cmp) * (a - v - two16 * k) +
                              mul * (a * v - two16 * k) + bitwise * acc_n + (one - sets_acc) * a));
    e.add_constraint(mul * (acc_n - (k - constant<F>(16384)) * e.main(kMulHelper, 0)));
    // acc' is an i16: bytes of its u16 form and its sign.
    e.add_constraint(acc_n - acc_lo - constant<F>(256) * acc_hi + two16 * acc_sign);
    e.add_constraint(acc_sign * (acc_sign - one));
    // k in [-16383, 16384]; nz = (k != 0).
    e.add_constraint(k + constant<F>(16383) - e.main(kWrapLo, 0) - constant<F>(256) * e.main(kWrapHi, 0));
    e.add_constraint(nz - k * e.main(kWrapInverse, 0));
    e.add_constraint(k * (one - nz));
    // Flags.
    e.add_constraint(acc_n * zero_n);
    e.add_constraint(zero_n - one + acc_n * e.main(kZeroInverse, 0));
    const F half = AirConstants<F>::half();
    e.add_constraint(carry_n - ((add + sub + mul) * nz +
                                cmp * (acc_sign * (one - nz) + nz * (one - k) * half) +
                                (one - sets_acc) * carry));
    // pc, sp, halted.
    e.add_constraint(pc_n - (jumps_to_operand * operand + jz * (p1 + zero * (operand - p1)) +
                             jnz * (operand + zero * (p1 - operand)) + ret * mem_val +
                             (halt + pad) * pc + falls_through * p1));
    e.add_constraint(sp_n - (sp - push_like + pop_like));
    e.add_constraint(halted_n - (halt + pad * halted));
    e.add_constraint(is_real * halted);

    // AND/OR/XOR: u16 nibbles of a, v and acc'.
    auto nibbles = [&](uint32_t first) {
      return e.main(first, 0) + constant<F>(16) * e.main(first + 1, 0) +
             constant<F>(256) * e.main(first + 2, 0) + constant<F>(4096) * e.main(first + 3, 0);
    };
    const F sign_a = e.main(kSignA, 0), sign_v = e.main(kSignV, 0);
    e.add_constraint(sign_a * (sign_a - one));
    e.add_constraint(sign_v * (sign_v - one));
    e.add_constraint(bitwise * (a + two16 * sign_a - nibbles(kNibbleA0)));
    e.add_constraint(bitwise * (v + two16 * sign_v - nibbles(kNibbleV0)));
    e.add_constraint(bitwise * (acc_lo - e.main(kNibbleR0, 0) - constant<F>(16) * e.main(kNibbleR1, 0)));
    e.add_constraint(bitwise * (acc_hi - e.main(kNibbleR2, 0) - constant<F>(16) * e.main(kNibbleR3, 0)));

    // Continuity: the next row starts where this one ended (not across the cyclic wrap); is_real
    // and ts pinned to (row < steps) and row + 1 (header comment), after the older constraints so
    // that their indices stay. The AIR's only next-row reads and the only reads of these
    // preprocessed columns: a fraction pass skips them (no lookup reads them).
    if constexpr (air::evaluates_constraints<E>()) {
      const F not_last = e.preprocessed(kNotLast, 0);
      for (uint32_t c = 0; c < kStateWidth; ++c)
        e.add_constraint(not_last * (e.main(kPc + c, 1) - e.main(kPcNext + c, 0)));
      e.add_constraint(e.preprocessed(kIsFirst, 0) * (ts - one));
      e.add_constraint(not_last * (e.main(kTimestamp, 1) - ts - one));
      e.add_constraint(not_last * e.main(kIsReal, 1) * (one - is_real));
      e.add_constraint(e.preprocessed(kAtLastReal, 0) * (is_real - constant<F>(steps > 0 ? 1 : 0)));
      e.add_constraint(e.preprocessed(kAtFirstPadding, 0) *
                       (is_real - constant<F>(steps == (uint64_t{1} << log_rows) ? 1 : 0)));
    }

    // Lookups.
    e.add_fraction(kRomRelation, is_real, {pc, opcode, operand, p1});
    e.add_fraction(kMemoryRelation, accesses, {addr, mem_prev, prev_ts});
    e.add_fraction(kMemoryRelation, constant<F>(0) - accesses, {addr, mem_val, ts});
    e.add_fraction(kByteRelation, one, {acc_lo});
    e.add_fraction(kByteRelation, one, {acc_hi});
    e.add_fraction(kByteRelation, one, {constant<F>(2) * (acc_hi - constant<F>(128) * acc_sign)});
    e.add_fraction(kByteRelation, one, {e.main(kWrapLo, 0)});
    e.add_fraction(kByteRelation, one, {e.main(kWrapHi, 0)});
    e.add_fraction(kByteRelation, one, {constant<F>(2) * e.main(kWrapHi, 0)});
    e.add_fraction(kByteRelation, one, {e.main(kTsDiff0, 0)});
    e.add_fraction(kByteRelation, one, {e.main(kTsDiff1, 0)});
    e.add_fraction(kByteRelation, one, {e.main(kTsDiff2, 0)});
    const F bit_op = op_or + constant<F>(2) * op_xor;
    for (uint32_t i = 0; i < 4; ++i)
      e.add_fraction(kBitwiseRelation, bitwise,
                     {bit_op, e.main(kNibbleA0 + i, 0), e.main(kNibbleV0 + i, 0), e.main(kNibbleR0 + i, 0)});
  }
};

// The program ROM: preprocessed (pc, opcode, operand, p1), main multiplicity.
struct RomAir {
  uint32_t log_rows = 2;
  std::vector<vm::Instruction> instructions;

  air::ComponentInfo info() const {
    air::ComponentInfo i;
    i.name = "vm_rom";
    i.log_rows = log_rows;
    i.n_main_columns = 1;
    i.n_preprocessed_columns = 4;
    i.max_constraint_degree = 1;
    return i;
  }
  std::vector<std::vector<M31>> preprocessed_columns() const {
    const size_t n = size_t{1} << log_rows;
    std::vector<std::vector<M31>> cols(4, std::vector<M31>(n));
    for (size_t r = 0; r < n; ++r) {
      cols[0][r] = M31::from_u64(r);
      if (r < instructions.size()) {
        cols[1][r] = M31::from_u32(static_cast<uint32_t>(instructions[r].op));
        cols[2][r] = M31::from_i64(instructions[r].operand);
      } else {
        cols[1][r] = M31::from_u32(kRomPaddingOpcode);
      }
      cols[3][r] = M31::from_u64((r + 1) % 256);
    }
    return cols;
  }
  // What the device evaluates: nothing of the ROM itself (it enters through the preprocessed
  // columns), so a trivially copyable empty view.
  struct DeviceEval {
    template <class E>
    PTVM_HD void evaluate(E& e) const {
      using F = typename E::F;
      e.add_fraction(kRomRelation, constant<F>(0) - e.main(0, 0),
                     {e.preprocessed(0, 0), e.preprocessed(1, 0), e.preprocessed(2, 0), e.preprocessed(3, 0)});
    }
  };
  DeviceEval device_eval() const { return {}; }
  template <class E>
  PTVM_HD void evaluate(E& e) const {
    DeviceEval{}.evaluate(e);
  }
};

// Initial and final memory: preprocessed (address, initial, final, is_cell), main last-access ts.
struct MemoryAir {
  uint32_t log_rows = 2;
  std::vector<int16_t> initial_memory;
  std::vector<int16_t> final_memory;

  air::ComponentInfo info() const {
    air::ComponentInfo i;
    i.name = "vm_memory";
    i.log_rows = log_rows;
    i.n_main_columns = 1;
    i.n_preprocessed_columns = 4;
    i.max_constraint_degree = 1;
    return i;
  }
  std::vector<std::vector<M31>> preprocessed_columns() const {
    const size_t n = size_t{1} << log_rows;
    std::vector<std::vector<M31>> cols(4, std::vector<M31>(n));
    for (size_t r = 0; r < n; ++r) {
      cols[0][r] = M31::from_u64(r);
      if (r < initial_memory.size()) {
        cols[1][r] = M31::from_i64(initial_memory[r]);
        cols[2][r] = M31::from_i64(r < final_memory.size() ? final_memory[r] : 0);
        cols[3][r] = M31::one();
      }
    }
    return cols;
  }
  // What the device evaluates: the memory contents enter through the preprocessed columns.
  struct DeviceEval {
    template <class E>
    PTVM_HD void evaluate(E& e) const {
      using F = typename E::F;
      const F addr = e.preprocessed(0, 0), is_cell = e.preprocessed(3, 0);
      e.add_fraction(kMemoryRelation, constant<F>(0) - is_cell, {addr, e.preprocessed(1, 0), constant<F>(0)});
      e.add_fraction(kMemoryRelation, is_cell, {addr, e.preprocessed(2, 0), e.main(0, 0)});
    }
  };
  DeviceEval device_eval() const { return {}; }
  template <class E>
  PTVM_HD void evaluate(E& e) const {
    DeviceEval{}.evaluate(e);
  }
};

// Byte range table and 4-bit bitwise table (256 rows): preprocessed x, x & 15, x >> 4, and, or,
// xor of the two nibbles; main multiplicities (byte, and, or, xor).
struct TablesAir {
  air::ComponentInfo info() const {
    air::ComponentInfo i;
    i.name = "vm_tables";
    i.log_rows = 8;
    i.n_main_columns = 4;
    i.n_preprocessed_columns = 6;
    i.max_constraint_degree = 1;
    return i;
  }
  std::vector<std::vector<M31>> preprocessed_columns() const {
    std::vector<std::vector<M31>> cols(6, std::vector<M31>(256));
    for (uint32_t x = 0; x < 256; ++x) {
      uint32_t lo = x & 15, hi = x >> 4;
      cols[0][x] = M31::from_u32(x);
      cols[1][x] = M31::from_u32(lo);
      cols[2][x] = M31::from_u32(hi);
      cols[3][x] = M31::from_u32(lo & hi);
      cols[4][x] = M31::from_u32(lo | hi);
      cols[5][x] = M31::from_u32(lo ^ hi);
    }
    return cols;
  }
  template <class E>
  PTVM_HD void evaluate(E& e) const {
    using F = typename E::F;
    const F zero = constant<F>(0);
    e.add_fraction(kByteRelation, zero - e.main(0, 0), {e.preprocessed(0, 0)});
    for (uint32_t op = 0; op < 3; ++op)
      e.add_fraction(kBitwiseRelation, zero - e.main(1 + op, 0),
                     {constant<F>(op), e.preprocessed(1, 0), e.preprocessed(2, 0), e.preprocessed(3 + op, 0)});
  }
};

// What a VM proof is about (the parts of the claim the AIR sees).
struct VmStatement {
  vm::Program program;                // instructions and initial memory
  uint64_t max_steps = vm::kDefaultMaxSteps;
  uint64_t steps = 0;
  vm::MachineState final_state;
  std::vector<int16_t> final_memory;
};

// The statement a recorded run establishes.
VmStatement statement_from_trace(const vm::ExecutionTrace& trace);

// Consistency the verifier checks before building the AIR (sizes, ranges, halted or at
// max_steps); returns the reason or nullopt.
std::optional<std::string> check_statement(const VmStatement& statement);

// The four components of a statement's AIR, as their AIR types (build_air type-erases them; the
// aggregate AIR, ptvm/vmair/aggregate.hpp, relabels them). Throws ptvm::Error(Usage) if
// check_statement fails.
struct VmComponents {
  StepAir steps;
  RomAir rom;
  MemoryAir memory;
  TablesAir tables;
};
VmComponents vm_components(const VmStatement& statement);

// The AIR (components vm_steps, vm_rom, vm_memory, vm_tables; relations ROM, MEM, BYTE, BIT).
// Throws ptvm::Error(Usage) if check_statement fails.
air::Air build_air(const VmStatement& statement);

// Initial state, final state and the 16 digest words (each < 2^16).
std::vector<M31> public_inputs(const VmStatement& statement, std::span<const uint16_t> digest_words);

// Main traces of the four components from a recorded run (witness generation). The trace is taken
// as given: a trace that is not a real run yields columns that break a constraint or a LogUp
// balance (used by the soundness tests), never an exception, as long as its rows are well formed.
std::vector<std::vector<std::vector<M31>>> build_witness(const VmStatement& statement,
                                                         const vm::ExecutionTrace& trace);

}  // namespace ptvm::vmair
