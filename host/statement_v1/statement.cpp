// statement-v1 claims, proving, verification and the proof file (ptvm/statement_v1/statement.hpp).
#include "ptvm/statement_v1/statement.hpp"

#include <chrono>
#include <set>

#include "ptvm/common/error.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/hash/blake2b.hpp"
#include "ptvm/stark128/vm.hpp"
#include "ptvm/version.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/runner.hpp"

namespace ptvm::statement_v1 {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

[[noreturn]] void fail(const std::string& field, const std::string& why) {
  throw Error(ErrorCategory::Parse, "statement-v1 claim: " + field + ": " + why);
}
const json& member(const json& obj, const std::string& path, const char* key) {
  if (!obj.is_object()) fail(path.empty() ? "claim" : path, "expected an object");
  auto it = obj.find(key);
  if (it == obj.end()) fail(path + key, "missing");
  return *it;
}
void expect_keys(const json& obj, const std::string& path, std::initializer_list<const char*> keys) {
  if (!obj.is_object()) fail(path.empty() ? "claim" : path, "expected an object");
  std::set<std::string> allowed(keys.begin(), keys.end());
  for (const auto& [k, v] : obj.items())
    if (!allowed.count(k)) fail(path + printable_bytes(k), "unknown field");
}
uint64_t get_uint(const json& obj, const std::string& path, const char* key, uint64_t hi) {
  const json& v = member(obj, path, key);
  if (!v.is_number_unsigned()) fail(path + key, "expected a non-negative integer");
  const uint64_t x = v.get<uint64_t>();
  if (x > hi) fail(path + key, std::to_string(x) + " above " + std::to_string(hi));
  return x;
}
std::string get_string(const json& obj, const std::string& path, const char* key, size_t max_len = 256) {
  const json& v = member(obj, path, key);
  if (!v.is_string()) fail(path + key, "expected a string");
  std::string s = v.get<std::string>();
  if (s.size() > max_len) fail(path + key, "longer than " + std::to_string(max_len) + " bytes");
  return s;
}
std::string get_hex64(const json& obj, const std::string& path, const char* key) {
  std::string s = get_string(obj, path, key);
  bool ok = s.size() == 64;
  for (char c : s) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!ok) fail(path + key, "expected 64 lowercase hex digits");
  return s;
}

json transformer_config_json(const vm::TransformerConfig& c) {
  return json{{"d_model", c.d_model},       {"num_heads", c.num_heads},   {"num_layers", c.num_layers},
              {"ff_dim", c.ff_dim},         {"vocab_size", c.vocab_size}, {"max_seq_len", c.max_seq_len}};
}

uint32_t log_lde_of(const vmair::VmStatement& s, const stark128::Options& o) {
  uint32_t log_n = 8;  // the tables component
  while ((uint64_t{1} << log_n) < s.steps) ++log_n;
  uint32_t log_b = 0;
  while ((1u << log_b) < o.expansion_factor) ++log_b;
  return log_n + log_b;
}

std::vector<uint16_t> words_of(const Claim& c) { return vmair::digest_words(claim_digest(c)); }

}  // namespace

json stark_options_json(const stark128::Options& o) {
  return json{{"proof_system", std::string(kProofSystem)},
              {"field", std::string(kFieldModulus)},
              {"profile", o.name},
              {"expansion_factor", o.expansion_factor},
              {"num_colinearity_checks", o.num_colinearity_checks},
              {"security_level", o.security_level},
              {"pow_bits", o.pow_bits}};
}
std::string stark_options_hash(const stark128::Options& o) {
  return hash::blake2b_256(vmair::canonical_json(stark_options_json(o))).hex();
}
// The proof system, not the backend: cpu, host-sim, cuda and dual proofs are byte-identical.
std::string prover_build_string() { return std::string("ptvm ") + version_string() + " stark128"; }
std::string prover_build_hash(std::string_view build) { return hash::blake2b_256(build).hex(); }

json claim_to_json(const Claim& c) {
  const auto& s = c.statement;
  json st = stark_options_json(c.options);
  st["conjectured_security_bits"] = c.conjectured_security_bits;
  return json{{"statement_version", c.statement_version},
              {"semantic_scope", c.semantic_scope},
              {"program", vmair::original_program_json(s.program)},
              {"attention_mode", vm::format_attention_mode(c.attention)},
              {"transformer_config", transformer_config_json(c.transformer_config)},
              {"max_steps", s.max_steps},
              {"steps", s.steps},
              {"final_state", json{{"pc", s.final_state.pc},
                                   {"acc", s.final_state.acc},
                                   {"sp", s.final_state.sp},
                                   {"zero_flag", s.final_state.zero_flag},
                                   {"carry_flag", s.final_state.carry_flag},
                                   {"halted", s.final_state.halted},
                                   {"memory", s.final_memory}}},
              {"equivalence", json{{"equivalence_checked_steps", c.equivalence.checked_steps},
                                   {"transformer_fingerprint", c.equivalence.transformer_fingerprint},
                                   {"native_fingerprint", c.equivalence.native_fingerprint}}},
              {"stark", st},
              {"commitments", json{{"program_hash", c.identities.program_hash},
                                   {"transformer_config_hash", c.identities.transformer_config_hash},
                                   {"deterministic_model_hash", c.identities.deterministic_model_hash},
                                   {"stark_options_hash", c.stark_options_hash},
                                   {"prover_build", c.prover_build},
                                   {"prover_build_hash", c.prover_build_hash}}}};
}

Claim claim_from_json(const json& j) {
  expect_keys(j, "", {"statement_version", "semantic_scope", "program", "attention_mode", "transformer_config",
                      "max_steps", "steps", "final_state", "equivalence", "stark", "commitments"});
  Claim c;
  c.statement_version = get_string(j, "", "statement_version");
  c.semantic_scope = get_string(j, "", "semantic_scope");
  // The statement part has the circle-STARK claim's encoding: its strict reader parses it.
  {
    json sub{{"statement_version", c.statement_version},
             {"semantic_scope", c.semantic_scope},
             {"program", member(j, "", "program")},
             {"attention_mode", member(j, "", "attention_mode")},
             {"transformer_config", member(j, "", "transformer_config")},
             {"max_steps", member(j, "", "max_steps")},
             {"steps", member(j, "", "steps")},
             {"final_state", member(j, "", "final_state")},
             {"proof_system", json{{"name", std::string(vmair::kProofSystem)}, {"profile", ""}, {"log_blowup", 0},
                                   {"n_queries", 0}, {"pow_bits", 0}, {"log_last_layer_degree_bound", 0},
                                   {"conjectured_security_bits", 0}}},
             {"identities", json{{"program_hash", ""}, {"transformer_config_hash", ""}, {"deterministic_model_hash", ""}}},
             {"equivalence", json{{"checked_steps", 0}, {"transformer_fingerprint", ""}, {"native_fingerprint", ""}}},
             {"prover_build", ""}};
    vmair::Claim parsed;
    try {
      parsed = vmair::claim_from_json(sub);
    } catch (const Error& e) {
      fail("statement", e.what());
    }
    c.statement = parsed.statement;
    c.attention = parsed.attention;
    c.transformer_config = parsed.transformer_config;
  }
  const json& eq = member(j, "", "equivalence");
  expect_keys(eq, "equivalence.", {"equivalence_checked_steps", "transformer_fingerprint", "native_fingerprint"});
  c.equivalence.checked_steps = get_uint(eq, "equivalence.", "equivalence_checked_steps", uint64_t{1} << 40);
  c.equivalence.transformer_fingerprint = get_hex64(eq, "equivalence.", "transformer_fingerprint");
  c.equivalence.native_fingerprint = get_hex64(eq, "equivalence.", "native_fingerprint");
  const json& st = member(j, "", "stark");
  expect_keys(st, "stark.", {"proof_system", "field", "profile", "expansion_factor", "num_colinearity_checks",
                             "security_level", "pow_bits", "conjectured_security_bits"});
  if (get_string(st, "stark.", "proof_system") != kProofSystem) fail("stark.proof_system", "unknown proof system");
  if (get_string(st, "stark.", "field") != kFieldModulus) fail("stark.field", "unknown field");
  c.options.name = get_string(st, "stark.", "profile", 64);
  c.options.expansion_factor = static_cast<uint32_t>(get_uint(st, "stark.", "expansion_factor", 1u << 20));
  c.options.num_colinearity_checks = static_cast<uint32_t>(get_uint(st, "stark.", "num_colinearity_checks", 1u << 20));
  c.options.security_level = static_cast<uint32_t>(get_uint(st, "stark.", "security_level", 1024));
  c.options.pow_bits = static_cast<uint32_t>(get_uint(st, "stark.", "pow_bits", 1024));
  c.conjectured_security_bits = static_cast<uint32_t>(get_uint(st, "stark.", "conjectured_security_bits", 1024));
  const json& cm = member(j, "", "commitments");
  expect_keys(cm, "commitments.", {"program_hash", "transformer_config_hash", "deterministic_model_hash",
                                   "stark_options_hash", "prover_build", "prover_build_hash"});
  c.identities.program_hash = get_hex64(cm, "commitments.", "program_hash");
  c.identities.transformer_config_hash = get_hex64(cm, "commitments.", "transformer_config_hash");
  c.identities.deterministic_model_hash = get_hex64(cm, "commitments.", "deterministic_model_hash");
  c.stark_options_hash = get_hex64(cm, "commitments.", "stark_options_hash");
  c.prover_build = get_string(cm, "commitments.", "prover_build");
  c.prover_build_hash = get_hex64(cm, "commitments.", "prover_build_hash");
  return c;
}

hash::Blake2b256Hash claim_digest(const Claim& claim) {
  return hash::blake2b_256(vmair::canonical_json(claim_to_json(claim)));
}

ProvedRun prove_trace(const vm::ExecutionTrace& trace, const Equivalence& equivalence, const ProveOptions& o) {
  if (auto why = stark128::validate_options(o.options)) throw Error(ErrorCategory::Usage, "STARK options: " + *why);
  ProvedRun run;
  Claim& c = run.claim;
  c.statement = vmair::statement_from_trace(trace);
  c.attention = trace.attention;
  c.transformer_config = vmair::provable_transformer_config(o.layers);
  c.options = o.options;
  c.conjectured_security_bits = stark128::conjectured_security_bits(o.options, log_lde_of(c.statement, o.options));
  c.equivalence = equivalence;
  c.identities = vmair::compute_identities(c.statement.program, c.transformer_config, c.attention);
  c.stark_options_hash = stark_options_hash(o.options);
  c.prover_build = prover_build_string();
  c.prover_build_hash = prover_build_hash(c.prover_build);
  const auto t0 = Clock::now();
  const stark128::Air128 air = stark128::build_vm_air(c.statement);
  const std::vector<uint16_t> words = words_of(c);
  const std::vector<F128> pub = stark128::vm_public_inputs(c.statement, words);
  run.proof = stark128::prove(air, stark128::vm_witness(c.statement, trace), pub, o.options, &run.timings, o.backend);
  run.prove_ms = ms_since(t0);
  return run;
}

namespace {
struct LockstepRun {
  vm::ExecutionTrace transformer;
  vm::ExecutionTrace native;
};
LockstepRun run_both(const vm::Program& program, uint64_t max_steps, int layers) {
  vm::RunOptions r;
  r.max_steps = max_steps;
  r.layers = layers;
  r.engine = vm::EngineKind::Transformer;
  r.verify_native = true;  // Divergence on the first differing step
  LockstepRun out;
  out.transformer = vm::run(program, r).trace;
  r.engine = vm::EngineKind::Native;
  r.verify_native = false;
  out.native = vm::run(program, r).trace;
  return out;
}
}  // namespace

ProvedRun prove_program(const vm::Program& program, const ProveOptions& o) {
  if (o.max_steps >= vmair::kMaxProvableSteps)
    throw Error(ErrorCategory::Usage, "max_steps " + std::to_string(o.max_steps) +
                                          " is above the largest provable run (2^24 - 1 steps)");
  const auto t0 = Clock::now();
  const LockstepRun both = run_both(program, o.max_steps, o.layers);
  const double execute_ms = ms_since(t0);
  Equivalence eq;
  eq.checked_steps = both.transformer.steps();
  eq.transformer_fingerprint = run_fingerprint(both.transformer);
  eq.native_fingerprint = run_fingerprint(both.native);
  if (eq.transformer_fingerprint != eq.native_fingerprint)
    throw Error(ErrorCategory::Divergence, "the transformer and native runs have different fingerprints");
  ProvedRun run = prove_trace(both.transformer, eq, o);
  run.execute_ms = execute_ms;
  return run;
}

Report verify(const Claim& c, const stark128::Proof& proof, const VerifyOptions& o) {
  Report rep;
  auto reject = [&](std::string why) {
    rep.accepted = false;
    rep.reason = std::move(why);
    return rep;
  };
  try {
    if (o.expected_program_hash && c.identities.program_hash != *o.expected_program_hash)
      return reject("claim: the proof is about program_hash " + c.identities.program_hash + ", not the expected " +
                    printable_bytes(*o.expected_program_hash));
    if (c.statement_version != kStatementVersion)
      return reject("claim: statement_version '" + printable_bytes(c.statement_version) + "' is not statement-v1");
    if (c.semantic_scope != kSemanticScope) return reject("claim: semantic_scope is not the one statement-v1 verifies");
    if (c.attention.kind != vm::AttentionMode::Kind::AverageHard)
      return reject("claim: only average-hard attention is provable");
    if (auto why = vmair::check_transformer_config(c.transformer_config)) return reject("claim: " + *why);
    if (auto why = vmair::check_statement(c.statement)) return reject("claim: " + *why);
    if (c.statement.final_state.sp > c.statement.program.initial_memory.size())
      return reject("claim: final sp above the memory size");
    if (auto why = stark128::validate_options(c.options)) return reject("claim: stark: " + *why);
    const auto named = stark128::find_profile(c.options.name);
    if (named && !(*named == c.options))
      return reject("claim: stark.profile '" + c.options.name + "' with parameters that differ from the named one");
    if (!named && c.options.name != "custom")
      return reject("claim: stark.profile '" + printable_bytes(c.options.name) + "' is neither a named profile nor \"custom\"");
    const uint32_t log_lde = log_lde_of(c.statement, c.options);
    const uint32_t bits = stark128::conjectured_security_bits(c.options, log_lde);
    if (bits != c.conjectured_security_bits)
      return reject("claim: stark.conjectured_security_bits is " + std::to_string(c.conjectured_security_bits) +
                    ", the options give " + std::to_string(bits));
    if (bits < o.min_security_bits)
      return reject("claim: " + std::to_string(bits) + " conjectured security bits (profile '" + c.options.name +
                    "') are below the verifier's floor of " + std::to_string(o.min_security_bits) +
                    " bits; --min-conjectured-security BITS lowers the floor");
    if (log_lde > o.max_log_lde_size)
      return reject("claim: the proof's LDE domain 2^" + std::to_string(log_lde) + " is above the verifier's limit 2^" +
                    std::to_string(o.max_log_lde_size));
    const vmair::ClaimIdentities ids = vmair::compute_identities(c.statement.program, c.transformer_config, c.attention);
    if (ids.program_hash != c.identities.program_hash) return reject("claim: commitments.program_hash mismatch");
    if (ids.transformer_config_hash != c.identities.transformer_config_hash)
      return reject("claim: commitments.transformer_config_hash mismatch");
    if (ids.deterministic_model_hash != c.identities.deterministic_model_hash)
      return reject("claim: commitments.deterministic_model_hash mismatch");
    if (stark_options_hash(c.options) != c.stark_options_hash) return reject("claim: commitments.stark_options_hash mismatch");
    if (prover_build_hash(c.prover_build) != c.prover_build_hash) return reject("claim: commitments.prover_build_hash mismatch");
    if (c.equivalence.checked_steps != c.statement.steps)
      return reject("claim: equivalence.equivalence_checked_steps differs from steps");
    if (c.equivalence.transformer_fingerprint != c.equivalence.native_fingerprint)
      return reject("claim: equivalence: the transformer and native fingerprints differ");

    const auto t0 = Clock::now();
    const stark128::Air128 air = stark128::build_vm_air(c.statement);
    const std::vector<F128> pub = stark128::vm_public_inputs(c.statement, words_of(c));
    const stark128::Verdict v = stark128::verify(air, pub, c.options, proof);
    rep.verify_ms = ms_since(t0);
    if (!v.accepted) return reject("stark: " + v.reason);
    rep.scope.proven = {"native ISA execution: program, steps, final_state (pc, acc, sp, flags, halted) and final memory",
                        "the claim's every field, bound into the channel (BLAKE2b-256 digest as public inputs)"};
    if (o.reexecute) {
      const auto t1 = Clock::now();
      LockstepRun both;
      try {
        both = run_both(c.statement.program, c.statement.max_steps, c.transformer_config.num_layers);
      } catch (const Error& e) {
        return reject(std::string("re-execution: ") + e.what());
      }
      rep.reexecute_ms = ms_since(t1);
      const auto& t = both.transformer;
      if (t.steps() != c.statement.steps) return reject("re-execution: the run has a different number of steps");
      if (!(t.final_state == c.statement.final_state) || t.final_memory != c.statement.final_memory)
        return reject("re-execution: the run ends in a different final state or memory");
      if (run_fingerprint(t) != c.equivalence.transformer_fingerprint)
        return reject("re-execution: equivalence.transformer_fingerprint differs from the transformer's run");
      if (run_fingerprint(both.native) != c.equivalence.native_fingerprint)
        return reject("re-execution: equivalence.native_fingerprint differs from the native run");
      rep.scope.reexecuted = {"transformer and native in lockstep from the claim: outputs and both fingerprints agree"};
    } else {
      rep.scope.attested = {"transformer/native equivalence (equivalence_checked_steps, both fingerprints): the prover's word"};
    }
    rep.scope.attested.push_back("prover_build (its hash is checked, not the build)");
    rep.accepted = true;
    return rep;
  } catch (const std::exception& e) {
    return reject(std::string("verifier error: ") + e.what());
  }
}

std::string proof_file_json(const Claim& claim, const stark128::Proof& proof) {
  const std::vector<uint8_t> bin = stark128::proof_to_binary(proof);
  static const char* hexd = "0123456789abcdef";
  std::string hex;
  hex.reserve(bin.size() * 2);
  for (uint8_t b : bin) {
    hex.push_back(hexd[b >> 4]);
    hex.push_back(hexd[b & 15]);
  }
  return json{{"format", std::string(kProofFileFormat)}, {"claim", claim_to_json(claim)}, {"proof", hex}}.dump() + "\n";
}

// The file's JSON under the project's strict reader (size, nesting depth, duplicate keys).
static json parse_proof_file_json(std::string_view text) {
  JsonLimits limits;
  limits.max_bytes = 2 * stark128::kMaxProofBytes + (size_t{1} << 20);  // the proof in hex, and the claim
  return parse_json_strict(text, "statement-v1 proof file", limits);
}

bool is_statement_v1_file(std::string_view text) {
  json j;
  try {
    j = parse_proof_file_json(text);
  } catch (const Error&) {
    return false;
  }
  return j.is_object() && j.contains("format") && j["format"].is_string() &&
         j["format"].get<std::string>() == kProofFileFormat;
}

ProofFile read_proof_file(std::string_view text) {
  const json j = parse_proof_file_json(text);
  if (!j.is_object()) throw Error(ErrorCategory::Parse, "statement-v1 proof file: expected an object");
  for (const auto& [k, v] : j.items())
    if (k != "format" && k != "claim" && k != "proof")
      throw Error(ErrorCategory::Parse, "statement-v1 proof file: unknown field " + printable_bytes(k));
  if (!j.contains("format") || !j["format"].is_string() || j["format"].get<std::string>() != kProofFileFormat)
    throw Error(ErrorCategory::Parse, "statement-v1 proof file: format is not " + std::string(kProofFileFormat));
  if (!j.contains("claim")) throw Error(ErrorCategory::Parse, "statement-v1 proof file: claim missing");
  if (!j.contains("proof") || !j["proof"].is_string())
    throw Error(ErrorCategory::Parse, "statement-v1 proof file: proof: expected a hex string");
  ProofFile f;
  f.claim = claim_from_json(j["claim"]);
  const std::string& hex = j["proof"].get_ref<const std::string&>();
  if (hex.size() % 2 != 0) throw Error(ErrorCategory::Parse, "statement-v1 proof file: proof: odd number of hex digits");
  std::vector<uint8_t> bin(hex.size() / 2);
  auto nib = [&](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    throw Error(ErrorCategory::Parse, "statement-v1 proof file: proof: not lowercase hex");
  };
  for (size_t i = 0; i < bin.size(); ++i) bin[i] = static_cast<uint8_t>(nib(hex[2 * i]) * 16 + nib(hex[2 * i + 1]));
  f.proof = stark128::proof_from_binary(bin);
  return f;
}

}  // namespace ptvm::statement_v1
