// The VM AIR (ptvm/vmair/vm_air.hpp) over F128: the same four components and relations, their
// evaluate() templates run with F = EF = F128.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "ptvm/stark128/stark128.hpp"
#include "ptvm/vm/trace.hpp"
#include "ptvm/vmair/vm_air.hpp"

namespace ptvm::stark128 {

// Throws ptvm::Error(Usage) when vmair::check_statement fails.
Air128 build_vm_air(const vmair::VmStatement& statement);
// vmair::public_inputs lifted to F128 (small signed integers).
std::vector<F128> vm_public_inputs(const vmair::VmStatement& statement, std::span<const uint16_t> digest_words);
// vmair::build_witness lifted to F128, with the columns that hold field inverses (1/acc', 1/k,
// the MUL helper acc'/(k - 16384)) recomputed in F128.
Witness vm_witness(const vmair::VmStatement& statement, const vm::ExecutionTrace& trace);

}  // namespace ptvm::stark128
