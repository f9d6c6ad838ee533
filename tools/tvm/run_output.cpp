#include "run_output.hpp"

#include <cstdio>

#include "ptvm/vm/format.hpp"
#include "ptvm/vmair/claim.hpp"

namespace tvm_cli {

using ptvm::vm::MemoryAccess;

namespace {

double throughput(const ptvm::vm::RunResult& r) {
  return r.elapsed_seconds > 0 ? static_cast<double>(r.steps) / r.elapsed_seconds : 0.0;
}

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

const char* boolean(bool v) { return v ? "true" : "false"; }

nlohmann::ordered_json row_json(const ptvm::vm::TraceRow& row) {
  nlohmann::ordered_json j;
  j["step"] = row.step;
  j["pc"] = row.pc;
  j["instruction"] = ptvm::vm::format_instruction(row.instruction);
  j["after"] = {{"pc", row.after.pc},
                {"acc", row.after.acc},
                {"sp", row.after.sp},
                {"zero_flag", row.after.zero_flag},
                {"carry_flag", row.after.carry_flag},
                {"halted", row.after.halted}};
  const MemoryAccess& m = row.access;
  if (m.kind != MemoryAccess::Kind::None) {
    j["access"] = {{"kind", m.kind == MemoryAccess::Kind::Read ? "read" : "write"},
                   {"address", m.address},
                   {"value", m.value},
                   {"previous", m.previous}};
  }
  return j;
}

}  // namespace

void add_final_state(nlohmann::ordered_json& j, const ptvm::vm::MachineState& s, const std::vector<int16_t>& memory) {
  j["halted"] = s.halted;
  j["pc"] = s.pc;
  j["sp"] = s.sp;
  j["acc"] = s.acc;
  j["zero_flag"] = s.zero_flag;
  j["carry_flag"] = s.carry_flag;
  j["memory"] = memory;
}

nlohmann::ordered_json report_json(const RunReport& report, bool with_trace) {
  const auto& r = report.result;
  const auto& s = r.trace.final_state;
  nlohmann::ordered_json j;
  j["program"] = report.program;
  j["engine"] = ptvm::vm::engine_name(report.options.engine);
  if (report.options.tensor_device != "cpu") j["tensor_device"] = report.options.tensor_device;
  j["steps"] = r.steps;
  add_final_state(j, s, r.trace.final_memory);
  j["layers"] = report.options.layers;
  j["attention_mode"] = ptvm::vm::format_attention_mode(report.options.attention);
  j["elapsed_ms"] = r.elapsed_seconds * 1e3;
  j["throughput_steps_per_sec"] = throughput(r);
  if (with_trace) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const auto& row : r.trace.rows) rows.push_back(row_json(row));
    j["trace"] = std::move(rows);
  }
  return j;
}

std::string report_text(const RunReport& report, bool with_trace) {
  const auto& r = report.result;
  const auto& s = r.trace.final_state;
  std::string out;
  if (with_trace) {
    for (const auto& row : r.trace.rows) out += ptvm::vm::format_trace_row(row) + "\n";
  }
  auto line = [&out](const char* key, const std::string& value) {
    out += key;
    out += ": ";
    out += value;
    out += '\n';
  };
  line("program", report.program);
  line("engine", ptvm::vm::engine_name(report.options.engine));
  if (report.options.tensor_device != "cpu") line("tensor_device", report.options.tensor_device);
  line("steps", std::to_string(r.steps));
  line("halted", boolean(s.halted));
  line("pc", std::to_string(s.pc));
  line("sp", std::to_string(s.sp));
  line("acc", std::to_string(s.acc));
  line("zero_flag", boolean(s.zero_flag));
  line("carry_flag", boolean(s.carry_flag));
  line("memory", ptvm::vm::format_memory(r.trace.final_memory));
  line("layers", std::to_string(report.options.layers));
  line("attention_mode", ptvm::vm::format_attention_mode(report.options.attention));
  line("elapsed_ms", fixed(r.elapsed_seconds * 1e3, 3));
  line("throughput_steps_per_sec", fixed(throughput(r), 0));
  return out;
}

// The claim's key facts, in a fixed order (memory as a list, as `tvm run --json` gives it).
nlohmann::ordered_json claim_facts(const ptvm::vmair::Claim& c) {
  const auto& s = c.statement;
  nlohmann::ordered_json j;
  j["statement_version"] = c.statement_version;
  j["steps"] = s.steps;
  j["max_steps"] = s.max_steps;
  add_final_state(j, s.final_state, s.final_memory);
  j["attention_mode"] = ptvm::vm::format_attention_mode(c.attention);
  j["program_hash"] = c.identities.program_hash;
  j["transformer_config_hash"] = c.identities.transformer_config_hash;
  j["deterministic_model_hash"] = c.identities.deterministic_model_hash;
  j["profile"] = c.profile.name;
  j["security_bits"] = c.security_bits;
  j["equivalence_checked_steps"] = c.equivalence.checked_steps;
  j["transformer_fingerprint"] = c.equivalence.transformer_fingerprint;
  j["native_fingerprint"] = c.equivalence.native_fingerprint;
  j["prover_build"] = c.prover_build;
  return j;
}

}  // namespace tvm_cli
