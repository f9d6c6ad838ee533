// The result of a run in the shape of ISA.md "CLI output of run": the same keys in the same order,
// as `key: value` lines or as one JSON object.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "ptvm/vm/runner.hpp"

namespace tvm_cli {

struct RunReport {
  std::string program;  // the path as given
  ptvm::vm::RunOptions options;
  ptvm::vm::RunResult result;
};

nlohmann::ordered_json report_json(const RunReport& report, bool with_trace);
std::string report_text(const RunReport& report, bool with_trace);

}  // namespace tvm_cli
