// statement-v1: the original's stable statement, proven with the F128 STARK (ptvm/stark128).
//
// What a statement-v1 proof file establishes, and how (Scope below, printed by `tvm verify`):
//   * PROVEN by the STARK: the native ISA execution of the claim's program from its initial state
//     for `steps` steps (halted, or stopped at max_steps) ends in the claim's final state and
//     memory; the claim itself (every field, as canonical JSON hashed with BLAKE2b-256) is bound
//     into the channel as 16 public inputs.
//   * RE-EXECUTED by the verifier (the default for statement-v1, as in the original): the
//     transformer and the native interpreter run in lockstep from the claim; their outputs and
//     fingerprints must equal the claim's.
//   * ATTESTED by the prover only (unless re-executed): the transformer/native equivalence
//     metadata (equivalence_checked_steps and the two fingerprints) and the prover build.
//
// The claim's JSON fields and the verifier's constants are frozen by spec/statement-v1.json
// (tests/statement_v1 fails when they drift apart).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ptvm/stark128/stark128.hpp"
#include "ptvm/vm/engine.hpp"
#include "ptvm/vm/isa.hpp"
#include "ptvm/vm/trace.hpp"
#include "ptvm/vmair/claim.hpp"
#include "ptvm/vmair/vm_air.hpp"

namespace ptvm::statement_v1 {

inline constexpr std::string_view kStatementVersion = "statement-v1";
inline constexpr std::string_view kSemanticScope = "native_isa_execution_with_transformer_native_equivalence_check";
inline constexpr std::string_view kProofSystem = "stark-f128/blake2b-merkle/fri/logup";
inline constexpr std::string_view kFieldModulus = "407 * 2^119 + 1";
inline constexpr std::string_view kProofFileFormat = "ptvm-statement-v1-proof/1";
inline constexpr std::string_view kFingerprintTag = vmair::kFingerprintTag;
inline constexpr std::string_view kDefaultProfile = "production-v1";
// The verifier's floors (conjectured bits): by default 96 for every statement; --strict 80 with
// re-execution; --verification-profile production-v1 32 with re-execution.
inline constexpr uint32_t kDefaultMinSecurityBits = 96;
inline constexpr uint32_t kStrictMinSecurityBits = 80;
inline constexpr uint32_t kProductionV1MinSecurityBits = 32;

// The engines' agreement and its fingerprints: the circle claim's (ptvm/vmair/claim.hpp).
using vmair::Equivalence;

struct Claim {
  std::string statement_version{kStatementVersion};
  std::string semantic_scope{kSemanticScope};
  vmair::VmStatement statement;  // program, max_steps, steps, final state and memory
  vm::AttentionMode attention;
  vm::TransformerConfig transformer_config;
  stark128::Options options;
  uint32_t conjectured_security_bits = 0;
  Equivalence equivalence;
  vmair::ClaimIdentities identities;  // program, transformer config, deterministic model hashes
  std::string stark_options_hash;
  std::string prover_build;
  std::string prover_build_hash;
};

using vmair::run_fingerprint;  // the run fingerprint (ptvm/vmair/claim.hpp)
// Canonical JSON of the STARK options ({"profile", "expansion_factor", "num_colinearity_checks",
// "security_level", "pow_bits", "proof_system", "field"}), its BLAKE2b-256 hex; the same for the
// prover build string.
nlohmann::json stark_options_json(const stark128::Options& o);
std::string stark_options_hash(const stark128::Options& o);
std::string prover_build_string();
std::string prover_build_hash(std::string_view build);

nlohmann::json claim_to_json(const Claim& claim);
// Strict: every field present with its type and range, unknown fields rejected; ptvm::Error(Parse)
// naming the field.
Claim claim_from_json(const nlohmann::json& value);
hash::Blake2b256Hash claim_digest(const Claim& claim);

struct ProveOptions {
  uint64_t max_steps = vm::kDefaultMaxSteps;
  stark128::Options options = stark128::profile_by_name(kDefaultProfile);
  int layers = 1;
  // Where the F128 STARK's column work runs (ptvm/stark128/backend.hpp; the CUDA one is
  // ptvm/gpu/stark128_backend.hpp); nullptr: the CPU reference. The proof does not depend on it.
  stark128::Backend128* backend = nullptr;
};
struct ProvedRun {
  Claim claim;
  stark128::Proof proof;
  stark128::Timings timings;
  double execute_ms = 0, prove_ms = 0;
};
// Runs transformer + native in lockstep (ptvm::Error Divergence on the first difference) and the
// native interpreter alone (for its fingerprint), then proves the run.
ProvedRun prove_program(const vm::Program& program, const ProveOptions& options);
// The claim and proof for an already recorded lockstep run and its two fingerprints (tests).
ProvedRun prove_trace(const vm::ExecutionTrace& trace, const Equivalence& equivalence, const ProveOptions& options);

struct VerifyOptions {
  uint32_t min_security_bits = kDefaultMinSecurityBits;
  bool reexecute = true;
  uint32_t max_log_lde_size = 22;
  std::optional<std::string> expected_program_hash;
};
// Which parts of the claim the verification established, and how.
struct Scope {
  std::vector<std::string> proven, reexecuted, attested;
};
struct Report {
  bool accepted = false;
  std::string reason;
  Scope scope;
  double verify_ms = 0, reexecute_ms = 0;
};
// Never throws.
Report verify(const Claim& claim, const stark128::Proof& proof, const VerifyOptions& options = {});

// Proof file: {"format": kProofFileFormat, "claim": {...}, "proof": "<hex of the binary proof>"}.
std::string proof_file_json(const Claim& claim, const stark128::Proof& proof);
struct ProofFile {
  Claim claim;
  stark128::Proof proof;
};
ProofFile read_proof_file(std::string_view text);
// True when the JSON text's "format" is kProofFileFormat (tvm verify tells the statements apart).
bool is_statement_v1_file(std::string_view text);

}  // namespace ptvm::statement_v1
