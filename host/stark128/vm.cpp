// The VM AIR over F128 (ptvm/stark128/vm.hpp).
#include "ptvm/stark128/vm.hpp"

#include "ptvm/common/error.hpp"
#include "ptvm/field/batch_inverse.hpp"

namespace ptvm::stark128 {
namespace {

uint32_t log2_ceil_at_least(uint64_t n, uint32_t minimum) {
  uint32_t k = minimum;
  while ((uint64_t{1} << k) < n) ++k;
  return k;
}

}  // namespace

Air128 build_vm_air(const vmair::VmStatement& s) {
  if (auto why = vmair::check_statement(s)) throw Error(ErrorCategory::Usage, "VM statement: " + *why);
  Air128 a;
  a.relation_tuple_sizes = {4, 3, 1, 4};
  a.n_public_inputs = vmair::kNumPublicInputs;
  a.components.push_back(make_component128(vmair::StepAir{log2_ceil_at_least(s.steps, 2), s.steps}));
  a.components.push_back(make_component128(
      vmair::RomAir{log2_ceil_at_least(s.program.instructions.size(), 2), s.program.instructions}));
  a.components.push_back(make_component128(vmair::MemoryAir{
      log2_ceil_at_least(s.program.initial_memory.size(), 2), s.program.initial_memory, s.final_memory}));
  a.components.push_back(make_component128(vmair::TablesAir{}));
  return a;
}

std::vector<F128> vm_public_inputs(const vmair::VmStatement& s, std::span<const uint16_t> digest_words) {
  return lift_column(vmair::public_inputs(s, digest_words));
}

Witness vm_witness(const vmair::VmStatement& s, const vm::ExecutionTrace& trace) {
  const auto m31 = vmair::build_witness(s, trace);
  Witness w;
  for (const auto& comp : m31) {
    std::vector<std::vector<F128>> cols;
    for (const auto& c : comp) cols.push_back(lift_column(c));
    w.push_back(std::move(cols));
  }
  auto& step = w[0];
  const size_t n = step[vmair::kAcc].size();
  const F128 k16384 = F128::from_u64(16384);
  // 1/acc', 1/k and, on MUL rows, 1/(k - 16384): inverted together (0 stays 0).
  std::vector<F128> den(3 * n), inv(3 * n);
  std::vector<bool> mul(n);
  for (size_t r = 0; r < n; ++r) {
    mul[r] = !step[vmair::kSelector0 + static_cast<uint32_t>(vm::Opcode::MulI)][r].is_zero() ||
             !step[vmair::kSelector0 + static_cast<uint32_t>(vm::Opcode::MulM)][r].is_zero();
    den[3 * r] = step[vmair::kAccNext][r];
    den[3 * r + 1] = step[vmair::kWrap][r];
    den[3 * r + 2] = mul[r] ? step[vmair::kWrap][r] - k16384 : F128::zero();
  }
  batch_inverse_raw(den.data(), inv.data(), inv.data(), den.size());
  for (size_t r = 0; r < n; ++r) {
    step[vmair::kZeroInverse][r] = inv[3 * r];
    step[vmair::kWrapInverse][r] = inv[3 * r + 1];
    step[vmair::kMulHelper][r] = mul[r] ? step[vmair::kAccNext][r] * inv[3 * r + 2] : F128::zero();
  }
  return w;
}

}  // namespace ptvm::stark128
