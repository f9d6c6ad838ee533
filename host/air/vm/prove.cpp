// Proving and verifying TVM runs (see ptvm/vmair/prove.hpp).
#include "ptvm/vmair/prove.hpp"

#include <algorithm>
#include <chrono>

#include <unistd.h>

#include "ptvm/common/error.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/version.hpp"
#include "ptvm/vm/runner.hpp"
#include "ptvm/vmair/profiles.hpp"

namespace ptvm::vmair {
namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string prover_build_string() { return std::string("ptvm ") + version_string(); }

bool is_hex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The equivalence record's own consistency (its truth is attested; --reexecute checks it).
std::optional<std::string> equivalence_rejection(const Claim& claim) {
  const Equivalence& e = claim.equivalence;
  if (!is_hex64(e.native_fingerprint)) return std::string("claim: equivalence.native_fingerprint is not 64 lowercase hex digits");
  if (e.transformer_fingerprint.empty()) {
    if (e.checked_steps != 0)
      return std::string("claim: equivalence.checked_steps is ") + std::to_string(e.checked_steps) +
             " without a transformer fingerprint";
    return std::nullopt;
  }
  if (!is_hex64(e.transformer_fingerprint))
    return std::string("claim: equivalence.transformer_fingerprint is not 64 lowercase hex digits");
  if (e.checked_steps != claim.statement.steps)
    return std::string("claim: equivalence.checked_steps ") + std::to_string(e.checked_steps) + ", but the run has " +
           std::to_string(claim.statement.steps) + " steps";
  if (e.transformer_fingerprint != e.native_fingerprint)
    return std::string("claim: equivalence: the transformer and native fingerprints differ");
  return std::nullopt;
}

}  // namespace

Equivalence equivalence_for_trace(const vm::ExecutionTrace& trace, bool lockstep) {
  Equivalence eq;
  if (!lockstep) {
    eq.native_fingerprint = run_fingerprint(trace);
    return eq;
  }
  // The native interpreter alone, for its own fingerprint (the lockstep run compared the engines
  // step by step; this records what the native engine did by itself).
  vm::RunOptions run;
  run.engine = vm::EngineKind::Native;
  run.max_steps = trace.max_steps;
  run.record_trace = true;
  const vm::RunResult native = vm::run(trace.program, run);
  eq.checked_steps = trace.steps();
  eq.transformer_fingerprint = run_fingerprint(trace);
  eq.native_fingerprint = run_fingerprint(native.trace);
  if (eq.transformer_fingerprint != eq.native_fingerprint)
    throw Error(ErrorCategory::Divergence, "the transformer's run and the native interpreter's have different fingerprints");
  return eq;
}

stark::StarkProof prove_on(const air::Air& air, std::span<const M31> public_inputs,
                           const std::vector<std::vector<std::vector<M31>>>& main_traces, const stark::Profile& profile,
                           Backend* backend, stark::StageTimings* timings, const stark::ProgressFn& progress) {
  std::unique_ptr<Backend> own;
  if (!backend) {
    own = make_cpu_backend();
    backend = own.get();
  }
  return stark::prove(air, public_inputs, main_traces, profile, *backend, timings, progress ? &progress : nullptr);
}

Claim claim_for_trace(const vm::ExecutionTrace& trace, const vm::TransformerConfig& config,
                      const stark::Profile& profile, const Equivalence& equivalence) {
  Claim c;
  c.statement = statement_from_trace(trace);
  c.statement.program.source_name = "<claim>";
  c.attention = trace.attention;
  c.transformer_config = config;
  c.profile = profile;
  c.security_bits = claim_security_bits(c.statement, profile);
  c.identities = compute_identities(c.statement.program, config, trace.attention);
  c.equivalence = equivalence;
  c.prover_build = prover_build_string();
  return c;
}

ProvedRun prove_trace(const vm::ExecutionTrace& trace, const ProveOptions& options, double execute_ms) {
  if (trace.attention.kind != vm::AttentionMode::Kind::AverageHard)
    throw Error(ErrorCategory::Usage, "only average-hard attention is provable");
  const stark::Profile profile = options.profile ? *options.profile : automatic_profile(trace.steps());
  if (auto why = stark::validate_profile(profile)) throw Error(ErrorCategory::Usage, "profile: " + *why);
  ProvedRun out;
  out.execute_ms = execute_ms;
  if (auto why = check_transformer_config(provable_transformer_config(options.layers)))
    throw Error(ErrorCategory::Usage, *why);
  out.claim = claim_for_trace(trace, provable_transformer_config(options.layers), profile,
                              equivalence_for_trace(trace, options.lockstep));
  if (auto why = check_statement(out.claim.statement)) throw Error(ErrorCategory::Usage, "cannot prove this run: " + *why);
  {
    const uint64_t need = estimated_prover_bytes(out.claim.statement, profile);
    const uint64_t have = options.max_memory_bytes ? options.max_memory_bytes : physical_memory_bytes();
    if (have && need > have)
      throw Error(ErrorCategory::Usage,
                  "cannot prove this run: " + std::to_string(out.claim.statement.steps) + " steps need about " +
                      std::to_string(need >> 20) + " MiB of memory to prove, above the " + std::to_string(have >> 20) +
                      " MiB available (a smaller --max-steps, or a machine with more memory)");
  }

  auto t0 = std::chrono::steady_clock::now();
  const air::Air a = build_air(out.claim.statement);
  const auto words = digest_words(claim_digest(out.claim));
  const auto pub = public_inputs(out.claim.statement, words);
  const auto witness = build_witness(out.claim.statement, trace);
  out.witness_ms = ms_since(t0);

  auto t1 = std::chrono::steady_clock::now();
  out.proof = prove_on(a, pub, witness, profile, options.backend, &out.timings, options.progress);
  out.prove_ms = ms_since(t1);
  return out;
}

uint64_t estimated_prover_bytes(const VmStatement& statement, const stark::Profile& profile) {
  const uint32_t log_rows = claim_log_lde_size(statement, profile) - profile.log_blowup;
  const uint64_t per_row = uint64_t{3300} << (profile.log_blowup > 0 ? profile.log_blowup - 1 : 0);
  return (uint64_t{1} << log_rows) * per_row + (uint64_t{64} << 20);  // plus the fixed part
}

uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
}

RecordedRun record_run(const vm::Program& program, const ProveOptions& options) {
  if (options.max_steps >= kMaxProvableSteps)
    throw Error(ErrorCategory::Usage, "max_steps " + std::to_string(options.max_steps) +
                                          " is above the largest provable run (2^24 - 1 steps)");
  vm::RunOptions run;
  run.max_steps = options.max_steps;
  run.layers = options.layers;
  run.record_trace = true;
  if (options.lockstep) {
    run.engine = vm::EngineKind::Transformer;
    run.verify_native = true;  // Divergence on the first step where the engines differ
  }
  auto t0 = std::chrono::steady_clock::now();
  vm::RunResult result = vm::run(program, run);
  return {std::move(result.trace), ms_since(t0)};
}

ProvedRun prove_program(const vm::Program& program, const ProveOptions& options) {
  const RecordedRun recorded = record_run(program, options);
  return prove_trace(recorded.trace, options, recorded.execute_ms);
}

std::optional<std::string> claim_rejection(const Claim& claim, const stark::Profile& proof_profile,
                                           const VerifyOptions& options) {
  if (options.expected_program_hash &&
      claim.identities.program_hash != *options.expected_program_hash)
    return std::string("claim: the proof is about program_hash " +
                       printable_bytes(claim.identities.program_hash) + ", not the expected " +
                       printable_bytes(*options.expected_program_hash));
  if (claim.statement_version != kStatementVersion)
    return std::string("claim: unsupported statement_version '" + claim.statement_version + "'");
  if (claim.semantic_scope != kSemanticScope)
    return std::string("claim: semantic_scope is not the one this verifier checks");
  if (claim.attention.kind != vm::AttentionMode::Kind::AverageHard)
    return std::string("claim: only average-hard attention is provable");
  if (auto why = check_transformer_config(claim.transformer_config))
    return std::string("claim: " + *why);
  if (auto why = check_statement(claim.statement))
    return std::string("claim: " + *why);
  if (claim.statement.final_state.sp > claim.statement.program.initial_memory.size())
    return std::string("claim: final sp above the memory size");
  if (auto why = equivalence_rejection(claim)) return why;
  const ClaimIdentities ids =
      compute_identities(claim.statement.program, claim.transformer_config, claim.attention);
  if (ids.program_hash != claim.identities.program_hash)
    return std::string("claim: program_hash mismatch");
  if (ids.transformer_config_hash != claim.identities.transformer_config_hash)
    return std::string("claim: transformer_config_hash mismatch");
  if (ids.deterministic_model_hash != claim.identities.deterministic_model_hash)
    return std::string("claim: deterministic_model_hash mismatch");
  if (auto why = stark::validate_profile(claim.profile))
    return std::string("claim: profile: " + *why);
  const auto named = find_profile(claim.profile.name);
  if (named && !(*named == claim.profile))
    return std::string("claim: profile '" + printable_bytes(claim.profile.name) +
                       "' with parameters that differ from the named one");
  if (!named && !options.allow_custom_profiles)
    return std::string(
        "claim: profile '" + printable_bytes(claim.profile.name) +
        "' is not a named profile (custom profiles are accepted only when allowed explicitly: "
        "--allow-custom-profile)");
  if (!(proof_profile == claim.profile))
    return std::string("proof: made with another profile than the claim states");
  const uint32_t bits = claim_security_bits(claim.statement, claim.profile);
  if (bits != claim.security_bits)
    return std::string("claim: conjectured_security_bits " + std::to_string(claim.security_bits) +
                       " but the profile gives " + std::to_string(bits));
  if (bits < options.min_security_bits)
    return std::string("claim: " + std::to_string(bits) +
                       " conjectured security bits, below the required " +
                       std::to_string(options.min_security_bits) +
                       " (--min-conjectured-security BITS lowers the floor)");

  const uint32_t log_lde = claim_log_lde_size(claim.statement, claim.profile);
  if (log_lde > options.max_log_lde_size)
    return std::string("claim: the proof's largest LDE domain is 2^" + std::to_string(log_lde) +
                       " rows, above this verifier's limit 2^" +
                       std::to_string(options.max_log_lde_size) +
                       " (raise it with --max-lde-log-size)");

  return std::nullopt;
}

std::optional<std::string> reexecution_rejection(const Claim& claim) {
  vm::RunOptions run;
  run.max_steps = claim.statement.max_steps;
  run.layers = claim.transformer_config.num_layers;
  run.record_trace = true;  // for the fingerprints
  run.engine = vm::EngineKind::Transformer;
  run.verify_native = true;
  vm::RunResult r = vm::run(claim.statement.program, run);
  if (r.steps != claim.statement.steps)
    return std::string("re-execution: " + std::to_string(r.steps) + " steps, claim says " +
                       std::to_string(claim.statement.steps));
  if (!(r.trace.final_state == claim.statement.final_state))
    return std::string("re-execution: final state differs from the claim");
  if (r.trace.final_memory != claim.statement.final_memory)
    return std::string("re-execution: final memory differs from the claim");
  const Equivalence again = equivalence_for_trace(r.trace, true);
  if (!claim.equivalence.transformer_fingerprint.empty() &&
      again.transformer_fingerprint != claim.equivalence.transformer_fingerprint)
    return std::string("re-execution: equivalence.transformer_fingerprint differs from the transformer's run");
  if (again.native_fingerprint != claim.equivalence.native_fingerprint)
    return std::string("re-execution: equivalence.native_fingerprint differs from the native run");
  return std::nullopt;
}

stark::Verdict verify_proof(const Claim& claim, const stark::StarkProof& proof,
                            const VerifyOptions& options) {
  auto reject = [](std::string why) { return stark::Verdict{false, std::move(why)}; };
  try {
    if (auto why = claim_rejection(claim, proof.profile, options)) return reject(std::move(*why));
    const air::Air a = build_air(claim.statement);
    const auto pub = public_inputs(claim.statement, digest_words(claim_digest(claim)));
    stark::Verdict v = stark::verify(a, pub, proof, claim.profile);
    if (!v.accepted) return v;
    if (options.reexecute)
      if (auto why = reexecution_rejection(claim)) return reject(std::move(*why));
    return v;
  } catch (const std::exception& e) {
    return reject(std::string("rejected: ") + e.what());
  }
}

std::string proof_file_json(const Claim& claim, const stark::StarkProof& proof) {
  nlohmann::ordered_json out;
  out["format"] = std::string(kProofFileFormat);
  out["claim"] = claim_to_json(claim);
  out["proof"] = nlohmann::ordered_json::parse(stark::proof_to_json(proof));
  return out.dump();
}

ProofFile read_proof_file_json(std::string_view text) {
  // Parsed once, strictly (size, depth, duplicate keys); the claim and the proof are read from the
  // parsed value, never re-serialised.
  const nlohmann::json j = parse_json_strict(text, "proof file", JsonLimits{stark::kMaxProofBytes});
  if (!j.is_object()) throw Error(ErrorCategory::Parse, "proof file: expected a JSON object");
  for (const auto& [k, v] : j.items())
    if (k != "format" && k != "claim" && k != "proof")
      throw Error(ErrorCategory::Parse, "proof file: unknown field '" + printable_bytes(k) + "'");
  auto f = j.find("format");
  if (f == j.end() || !f->is_string() || f->get<std::string>() != kProofFileFormat)
    throw Error(ErrorCategory::Parse, "proof file: format must be \"" + std::string(kProofFileFormat) + "\"");
  auto c = j.find("claim");
  if (c == j.end()) throw Error(ErrorCategory::Parse, "proof file: claim: missing");
  auto p = j.find("proof");
  if (p == j.end() || !p->is_object()) throw Error(ErrorCategory::Parse, "proof file: proof: missing or not an object");
  ProofFile out;
  out.claim = claim_from_json(*c);
  out.proof = stark::proof_from_json_value(*p);
  return out;
}

std::vector<uint8_t> proof_file_binary(const Claim& claim, const stark::StarkProof& proof) {
  const std::string claim_text = canonical_json(claim_to_json(claim));
  const std::vector<uint8_t> stark_bytes = stark::proof_to_binary(proof);
  std::vector<uint8_t> out(std::begin(kProofFileBinaryMagic), std::end(kProofFileBinaryMagic));
  const auto n = static_cast<uint32_t>(claim_text.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(n >> (8 * i)));
  out.insert(out.end(), claim_text.begin(), claim_text.end());
  out.insert(out.end(), stark_bytes.begin(), stark_bytes.end());
  return out;
}

bool is_binary_proof_file(std::span<const uint8_t> bytes) {
  return bytes.size() >= 8 && std::equal(std::begin(kProofFileBinaryMagic), std::end(kProofFileBinaryMagic), bytes.begin(),
                                         [](char a, uint8_t b) { return static_cast<uint8_t>(a) == b; });
}

ProofFile read_proof_file_binary(std::span<const uint8_t> bytes) {
  auto fail = [](const std::string& why) { return Error(ErrorCategory::Parse, "binary proof file: " + why); };
  if (bytes.size() > stark::kMaxProofBytes) throw fail("oversized (" + std::to_string(bytes.size()) + " bytes)");
  if (!is_binary_proof_file(bytes)) throw fail("missing the PTVMTVMB magic");
  if (bytes.size() < 12) throw fail("truncated (no claim length)");
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= static_cast<uint32_t>(bytes[8 + i]) << (8 * i);
  if (n > kMaxClaimBytes) throw fail("claim of " + std::to_string(n) + " bytes, at most " + std::to_string(kMaxClaimBytes));
  if (bytes.size() - 12 < n) throw fail("truncated (claim of " + std::to_string(n) + " bytes, " +
                                        std::to_string(bytes.size() - 12) + " left)");
  const std::string_view claim_text(reinterpret_cast<const char*>(bytes.data() + 12), n);
  ProofFile out;
  out.claim = claim_from_json(parse_json_strict(claim_text, "binary proof file: claim", JsonLimits{kMaxClaimBytes}));
  out.proof = stark::proof_from_binary(bytes.subspan(12 + n));
  return out;
}

ProofFile read_proof_file(std::span<const uint8_t> bytes) {
  if (is_binary_proof_file(bytes)) return read_proof_file_binary(bytes);
  return read_proof_file_json(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace ptvm::vmair
