// The result of a run in the shape of ISA.md "CLI output of run": the same keys in the same order,
// as `key: value` lines or as one JSON object.
#pragma once
#include <nlohmann/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "ptvm/vm/runner.hpp"
#include "ptvm/vmair/claim.hpp"

namespace tvm_cli {

struct RunReport {
  std::string program;  // the path as given
  ptvm::vm::RunOptions options;
  ptvm::vm::RunResult result;
};

nlohmann::ordered_json report_json(const RunReport& report, bool with_trace);
// The final machine state in ISA.md's key order (halted, pc, sp, acc, zero_flag, carry_flag,
// memory), appended to j: the same keys for `run`, the circle claim and the statement-v1 claim.
void add_final_state(nlohmann::ordered_json& j, const ptvm::vm::MachineState& state,
                     const std::vector<int16_t>& memory);
std::string report_text(const RunReport& report, bool with_trace);
// A circle claim's key facts in a fixed order (memory as a list, as `tvm run --json` gives it):
// prove, verify and prove-batch print them.
nlohmann::ordered_json claim_facts(const ptvm::vmair::Claim& claim);

}  // namespace tvm_cli
