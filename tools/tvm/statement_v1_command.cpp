// tvm prove --statement statement-v1 / tvm verify of statement-v1 files (statement_v1_command.hpp).
#include "statement_v1_command.hpp"

#include <iostream>

#include "backend_select.hpp"
#include "cli_common.hpp"
#include "run_output.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/statement_v1/statement.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/format.hpp"

namespace tvm_cli {
namespace {

using nlohmann::ordered_json;
using ptvm::Error;
using ptvm::ErrorCategory;
namespace sv1 = ptvm::statement_v1;
namespace stark128 = ptvm::stark128;

ordered_json facts(const sv1::Claim& c) {
  const auto& s = c.statement;
  ordered_json j;
  j["statement_version"] = c.statement_version;
  j["semantic_scope"] = c.semantic_scope;
  j["steps"] = s.steps;
  j["max_steps"] = s.max_steps;
  add_final_state(j, s.final_state, s.final_memory);
  j["attention_mode"] = ptvm::vm::format_attention_mode(c.attention);
  j["program_hash"] = c.identities.program_hash;
  j["transformer_config_hash"] = c.identities.transformer_config_hash;
  j["deterministic_model_hash"] = c.identities.deterministic_model_hash;
  j["stark_options_hash"] = c.stark_options_hash;
  j["stark_profile"] = c.options.name;
  j["expansion_factor"] = c.options.expansion_factor;
  j["num_colinearity_checks"] = c.options.num_colinearity_checks;
  j["security_level"] = c.options.security_level;
  j["pow_bits"] = c.options.pow_bits;
  j["conjectured_security_bits"] = c.conjectured_security_bits;
  j["equivalence_checked_steps"] = c.equivalence.checked_steps;
  j["transformer_fingerprint"] = c.equivalence.transformer_fingerprint;
  j["native_fingerprint"] = c.equivalence.native_fingerprint;
  j["prover_build"] = c.prover_build;
  return j;
}

}  // namespace

int prove_statement_v1(const StatementV1Prove& a) {
  sv1::ProveOptions o;
  o.options = stark128::profile_by_name(a.profile == "auto" ? std::string(sv1::kDefaultProfile) : a.profile);
  const bool custom = a.expansion_factor || a.num_colinearity_checks || a.security_level || a.pow_bits;
  if (a.expansion_factor) o.options.expansion_factor = *a.expansion_factor;
  if (a.num_colinearity_checks) o.options.num_colinearity_checks = *a.num_colinearity_checks;
  if (a.security_level) o.options.security_level = *a.security_level;
  if (a.pow_bits) o.options.pow_bits = *a.pow_bits;
  if (custom && !stark128::find_profile(o.options.name).value_or(stark128::Options{}).operator==(o.options))
    o.options.name = "custom";
  if (auto why = stark128::validate_options(o.options)) throw Error(ErrorCategory::Usage, "STARK options: " + *why);
  o.max_steps = a.max_steps;
  o.layers = a.layers;
  const SelectedBackend128 backend = select_stark128_backend(a.backend);
  o.backend = backend.backend.get();
  const ptvm::vm::Program program = ptvm::vm::assemble_file(a.program);
  const sv1::ProvedRun run = sv1::prove_program(program, o);
  if (run.claim.conjectured_security_bits < sv1::kDefaultMinSecurityBits)
    std::cerr << "warning: " << run.claim.conjectured_security_bits << " conjectured bits (profile '"
              << run.claim.options.name << "'): `tvm verify` rejects it unless --min-conjectured-security "
              << run.claim.conjectured_security_bits << " or lower (or --verification-profile production-v1) is given\n";
  const std::string output = a.output.empty() ? a.program + ".statement-v1.proof.json" : a.output;
  const std::string file = sv1::proof_file_json(run.claim, run.proof);
  write_output_file(output, file);
  ordered_json j;
  j["program"] = a.program;
  const ordered_json f = facts(run.claim);
  for (const auto& [k, v] : f.items()) j[k] = v;
  j["backend"] = backend.name;
  j["proof_file"] = output;
  j["proof_bytes"] = stark128::proof_to_binary(run.proof).size();
  j["proof_file_bytes"] = file.size();
  j["execute_ms"] = run.execute_ms;
  j["prove_ms"] = run.prove_ms;
  if (a.json)
    j["stages_ms"] = ordered_json{{"commit", run.timings.commit_ms},
                                  {"interaction", run.timings.interaction_ms},
                                  {"composition_oods", run.timings.composition_ms},
                                  {"deep_fri_pow_queries", run.timings.fri_ms}};
  print_facts(j, a.json);
  return 0;
}

int verify_statement_v1(const StatementV1Verify& a) {
  sv1::VerifyOptions o;
  o.reexecute = true;
  o.max_log_lde_size = a.max_lde_log_size;
  if (!a.verification_profile.empty()) {
    if (a.verification_profile != "production-v1")
      throw Error(ErrorCategory::Usage, "--verification-profile: unknown profile '" + a.verification_profile +
                                            "' (known: production-v1)");
    o.min_security_bits = sv1::kProductionV1MinSecurityBits;
  } else if (a.strict) {
    o.min_security_bits = sv1::kStrictMinSecurityBits;
  }
  if (a.min_security) o.min_security_bits = *a.min_security;
  if (!a.expected_program_hash.empty()) o.expected_program_hash = a.expected_program_hash;
  ordered_json j;
  j["proof_file"] = a.proof_path;
  std::optional<sv1::ProofFile> file;
  std::string reason;
  try {
    file = sv1::read_proof_file(a.text);
  } catch (const Error& e) {
    if (e.category() != ErrorCategory::Parse) throw;
    reason = std::string("malformed proof file: ") + e.what();
  }
  sv1::Report rep;
  if (file) {
    rep = sv1::verify(file->claim, file->proof, o);
    reason = rep.reason;
  }
  j["verdict"] = rep.accepted ? "accepted" : "rejected";
  if (!rep.accepted) j["reason"] = reason;
  if (file) {
    const ordered_json f = facts(file->claim);
    for (const auto& [k, v] : f.items()) j[k] = v;
    j["proof_bytes"] = stark128::proof_to_binary(file->proof).size();
  }
  j["proof_file_bytes"] = a.text.size();
  j["min_conjectured_security"] = o.min_security_bits;
  j["reexecuted"] = rep.accepted && !rep.scope.reexecuted.empty();
  j["proven"] = rep.scope.proven;
  j["reexecuted_parts"] = rep.scope.reexecuted;
  j["attested"] = rep.scope.attested;
  j["verify_ms"] = rep.verify_ms;
  j["reexecute_ms"] = rep.reexecute_ms;
  print_facts(j, a.json);
  if (!rep.accepted && !a.json) std::cerr << "error: proof rejected: " << reason << "\n";
  return rep.accepted ? 0 : 3;
}

ordered_json circle_claim_scope(bool accepted, bool reexecuted) {
  std::vector<std::string> proven, re, attested;
  if (accepted) {
    proven.push_back("native ISA execution (tvm-isa/1, the claim's semantic_scope): program, steps, final state and "
                     "memory, by the circle STARK over M31; every claim field bound into the channel");
    if (reexecuted)
      re.push_back("transformer and native in lockstep from the claim: steps, final state, memory and both "
                   "fingerprints agree");
    else
      attested.push_back("transformer/native equivalence (equivalence.checked_steps and both fingerprints): the "
                         "prover's word unless --reexecute");
    attested.push_back("prover_build");
  }
  ordered_json j;
  j["proven"] = proven;
  j["reexecuted_parts"] = re;
  j["attested"] = attested;
  return j;
}

}  // namespace tvm_cli
