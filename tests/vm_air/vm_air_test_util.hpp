// Shared helpers of the VM AIR tests: running programs and proving their traces.
#pragma once
#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>
#include <vector>

#include "ptvm/backend.hpp"
#include "ptvm/stark/profile.hpp"
#include "ptvm/stark/prover.hpp"
#include "ptvm/stark/verifier.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/runner.hpp"
#include "ptvm/vmair/vm_air.hpp"

namespace ptvm::vmair::testing {

inline const stark::Profile& fast_profile() {
  static const stark::Profile p = stark::profile_by_name("fast-test-insecure");
  return p;
}

inline vm::ExecutionTrace run_native(const vm::Program& program, uint64_t max_steps) {
  vm::RunOptions o;
  o.engine = vm::EngineKind::Native;
  o.max_steps = max_steps;
  return vm::run(program, o).trace;
}

inline vm::ExecutionTrace run_source(const std::string& source, uint64_t max_steps = 512) {
  return run_native(vm::assemble_source(source, "<test>"), max_steps);
}

inline std::array<uint16_t, kDigestWords> test_digest() {
  std::array<uint16_t, kDigestWords> d{};
  for (uint32_t i = 0; i < kDigestWords; ++i) d[i] = static_cast<uint16_t>(0x1234 + 977 * i);
  return d;
}

// Evaluates a component's own constraints (not LogUp, not boundary) on every row of a trace; the
// first violation as "component row r constraint j" (j counts the AIR's own constraints only), or
// empty. The soundness tests use it to say which AIR constraint a cheat breaks; `violated`, where
// given, collects every violated constraint index.
struct RowCheckEval {
  using F = M31;
  using EF = QM31;
  const std::vector<std::vector<M31>>* pre_cols;
  const std::vector<std::vector<M31>>* main_cols;
  size_t row, n;
  std::set<uint32_t>* violated = nullptr;
  uint32_t next_constraint = 0;
  int64_t first_bad = -1;
  F main(uint32_t c, int offset) const { return (*main_cols)[c][(row + offset) % n]; }
  F preprocessed(uint32_t c, int offset) const { return (*pre_cols)[c][(row + offset) % n]; }
  void add_constraint(const M31& c) {
    if (!c.is_zero()) {
      if (first_bad < 0) first_bad = next_constraint;
      if (violated) violated->insert(next_constraint);
    }
    ++next_constraint;
  }
  template <class Mult, size_t K>
  void add_fraction(uint32_t, const Mult&, const F (&)[K]) {}
};

template <class AirT>
std::string check_rows(const AirT& air_def, const std::vector<std::vector<M31>>& main) {
  auto pre = [&] {
    if constexpr (air::HasPreprocessedColumns<AirT>) return air_def.preprocessed_columns();
    else return std::vector<std::vector<M31>>{};
  }();
  const size_t n = size_t{1} << air_def.info().log_rows;
  for (size_t r = 0; r < n; ++r) {
    RowCheckEval e{&pre, &main, r, n};
    air_def.evaluate(e);
    if (e.first_bad >= 0)
      return air_def.info().name + " row " + std::to_string(r) + " constraint " + std::to_string(e.first_bad);
  }
  return "";
}

struct Outcome {
  bool constraints_hold = false;  // stark::check_constraints found nothing
  std::string constraint_violation;
  bool accepted = false;
  bool prover_refused = false;
  std::string reason;
};

// Proves `trace` against `statement` (fast profile) and verifies the proof.
inline Outcome prove_and_verify(const VmStatement& statement, const vm::ExecutionTrace& trace,
                                const stark::Profile& profile = fast_profile()) {
  Outcome out;
  air::Air a = build_air(statement);
  auto digest = test_digest();
  auto pub = public_inputs(statement, digest);
  auto witness = build_witness(statement, trace);
  {
    const auto& steps = dynamic_cast<const air::ComponentAdapter<StepAir>&>(*a.components[0]).air();
    out.constraint_violation = check_rows(steps, witness[0]);
    out.constraints_hold = out.constraint_violation.empty();
  }
  auto backend = make_cpu_backend();
  try {
    stark::StarkProof proof = stark::prove(a, pub, witness, profile, *backend);
    stark::Verdict v = stark::verify(a, pub, proof, profile);
    out.accepted = v.accepted;
    out.reason = v.reason;
  } catch (const Error& e) {
    out.prover_refused = true;
    out.reason = e.what();
  }
  return out;
}

}  // namespace ptvm::vmair::testing
